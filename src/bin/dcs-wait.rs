//! `dcs-wait`: parse, run the library, exit with its code.

use dcs_wait::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::parse_from_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version print on stdout and exit 0; mistakes on stderr, exit 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    dcs_wait::logging::init(cli.verbosity());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            dcs_wait::app::say(&format!("dcs-wait: cannot start: {e}"));
            return ExitCode::from(dcs_wait::report::ExitStatus::Usage.code());
        }
    };
    let status = runtime.block_on(dcs_wait::app::run(cli));
    // Do not wait for stray blocking work (a hung DNS lookup): the deadline is a promise.
    runtime.shutdown_background();
    ExitCode::from(status.code())
}
