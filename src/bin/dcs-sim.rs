//! `dcs-sim`: the local DCS endpoint. Prints the address it bound on stdout, then serves until
//! SIGINT or SIGTERM.

// The command line's terminal, log and signal watcher, compiled here too: dcs-sim logs and
// stops as dcs-wait does. dcs-wait uses all of them; dcs-sim, some.
#[allow(dead_code)]
#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../cli/defuse.rs"]
mod defuse;
#[allow(dead_code)]
#[path = "../cli/logging.rs"]
mod logging;
#[allow(dead_code)]
#[path = "../cli/signals.rs"]
mod signals;
#[allow(dead_code)]
#[path = "../cli/terminal.rs"]
mod terminal;

use clap::Parser;
use dcs_wait::sim::{Scenario, SimServer, TlsIdentity};
use logging::say;
use signals::SignalWatch;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A local Huawei Cloud DCS job endpoint with scripted jobs, signature checks and faults.
#[derive(Debug, Parser)]
#[command(name = "dcs-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Scenario file (JSON); the built-in demo scenario when absent.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Print the scenario (the built-in one unless --scenario) as JSON and exit.
    #[arg(long)]
    print_scenario: bool,
    /// Serve HTTPS with a self-signed certificate for 127.0.0.1 and localhost, written (PEM)
    /// to this file for clients to trust, e.g. with `dcs-wait --ca-bundle FILE`.
    #[arg(long, value_name = "FILE")]
    tls_cert_out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let terminal = terminal::Terminal::of_stderr(&dcs_wait::Env::process(), 0);
    logging::init(0, logging::LogFormat::Text, terminal);
    let scenario = match &args.scenario {
        Some(path) => match Scenario::load(path) {
            Ok(scenario) => scenario,
            Err(e) => {
                say(&format!("dcs-sim: {e}"));
                return ExitCode::from(2);
            }
        },
        None => Scenario::demo(),
    };
    if args.print_scenario {
        let text = serde_json::to_string_pretty(&scenario).unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{text}");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            say(&format!("dcs-sim: cannot start: {e}"));
            return ExitCode::from(2);
        }
    };
    let tls = match &args.tls_cert_out {
        None => None,
        Some(path) => {
            let identity = match TlsIdentity::self_signed(&["127.0.0.1", "localhost", "::1"]) {
                Ok(identity) => identity,
                Err(e) => {
                    say(&format!("dcs-sim: cannot make a certificate: {e}"));
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = std::fs::write(path, &identity.cert_pem) {
                say(&format!("dcs-sim: cannot write {}: {e}", path.display()));
                return ExitCode::from(2);
            }
            Some(identity)
        }
    };
    let code = runtime.block_on(async {
        let server = match SimServer::start_with_tls(scenario, args.listen, tls.as_ref()).await {
            Ok(server) => server,
            Err(e) => {
                say(&format!("dcs-sim: cannot listen on {}: {e}", args.listen));
                return ExitCode::from(2);
            }
        };
        // The first line is what scripts read: keep its form.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "dcs-sim listening on {}", server.url());
        let banner = server
            .scenario()
            .banner(&server.url(), args.tls_cert_out.as_deref());
        let _ = writeln!(stdout, "{banner}");
        let _ = stdout.flush();
        drop(stdout);
        // The command line's watcher: SIGINT or SIGTERM, logged as dcs-wait logs it.
        SignalWatch::start().first().await;
        ExitCode::SUCCESS
    });
    runtime.shutdown_background();
    code
}
