//! `dcs-wait`: parse, check, run the library, exit with its code.
//!
//! The command line: raw arguments ([`args`]) checked once into options ([`options`]), then
//! run as their [`Mode`] says. The wait itself is the library's; this wing adds the
//! terminal ([`terminal`], [`progress`], [`logging`]), the signals ([`signals`]), the output formats
//! ([`export`]) and the output guard on all of them (`defuse`), how a run's reports go out
//! ([`publish`]), and the [`demo`].
//!
//! Who calls whom, with no way back: `main` → `jobs`, `demo` → `publish` → `progress`,
//! `signals`, `export`; everything → `logging`.

mod args;
#[path = "../common/mod.rs"]
mod common;
mod defuse;
mod demo;
mod export;
#[cfg(test)]
mod fuzz;
mod hints;
mod jobs;
mod logging;
mod options;
mod progress;
mod publish;
#[cfg(test)]
mod sample;
mod signals;
mod stdin;
mod suggest;
mod terminal;

use args::Args;
use dcs_wait::{Env, ExitStatus};
use logging::say;
use options::{Mode, Options};
use std::io::{Read, Write};
use std::process::ExitCode;

/// Runs what the checked options ask for.
async fn run(mode: Mode) -> ExitStatus {
    match mode {
        Mode::Completions(shell) => print_or_fail(Ok(Args::completion_script(shell))),
        Mode::ManPage(page) => print_or_fail(Args::man_page(page)),
        Mode::Demo(run) => demo::run(*run).await,
        Mode::Wait(wait) => jobs::run(*wait).await,
    }
}

fn print_or_fail(text: std::io::Result<Vec<u8>>) -> ExitStatus {
    let mut stdout = std::io::stdout().lock();
    match text.and_then(|t| stdout.write_all(&t)) {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            ExitStatus::Usage
        }
    }
}
fn main() -> ExitCode {
    let args = match Args::parse_from_args(std::env::args_os()) {
        Ok(args) => args,
        Err(e) => {
            // Help and version print on stdout and exit 0; mistakes on stderr, exit 2, said
            // through `say`: they quote the arguments, which in CI may come from anyone.
            if e.use_stderr() {
                say(e.render().to_string().trim_end());
            } else {
                let _ = e.print();
            }
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let read_stdin = || {
        let mut input = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut input)
            .map(|_| input)
    };
    let options = match Options::check(args, &Env::process(), read_stdin) {
        Ok(options) => options,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            return ExitCode::from(ExitStatus::Usage.code());
        }
    };
    logging::init(options.verbosity, options.log_format, options.terminal);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            say(&format!("dcs-wait: cannot start: {e}"));
            return ExitCode::from(ExitStatus::Usage.code());
        }
    };
    let status = runtime.block_on(run(options.mode));
    // Do not wait for stray blocking work (a hung DNS lookup): the deadline is a promise.
    runtime.shutdown_background();
    ExitCode::from(status.code())
}
