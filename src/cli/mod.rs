//! The command line: raw arguments ([`args`]) checked once into options ([`options`]), then
//! run as their [`Mode`] says. The wait itself is the library's; this wing adds the
//! terminal ([`terminal`], [`progress`], [`logging`]), the signals ([`signals`]), the output formats
//! ([`export`]) and the output guard on all of them (`defuse`), how a run's reports go out
//! ([`publish`]), and the [`demo`].
//!
//! Who calls whom, with no way back: `mod` → `jobs`, `demo` → `publish` → `progress`,
//! `signals`, `export`; everything → `logging`.

pub mod args;
mod defuse;
pub mod demo;
pub mod export;
pub mod jobs;
pub mod logging;
pub mod options;
pub mod progress;
pub mod publish;
pub mod signals;
pub mod stdin;
mod suggest;
pub mod terminal;

pub use logging::say;

use crate::wait::ExitStatus;
use args::Args;
use options::Mode;
use std::io::Write;

/// Runs what the checked options ask for.
pub async fn run(mode: Mode) -> ExitStatus {
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
