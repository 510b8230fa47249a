//! `dcs-wait`: parse, check, run the library, exit with its code.

use dcs_wait::cli::{self, args::Args, options::Options};
use dcs_wait::{Env, ExitStatus};
use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match Args::parse_from_args(std::env::args_os()) {
        Ok(args) => args,
        Err(e) => {
            // Help and version print on stdout and exit 0; mistakes on stderr, exit 2, said
            // through `say`: they quote the arguments, which in CI may come from anyone.
            if e.use_stderr() {
                cli::say(e.render().to_string().trim_end());
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
            cli::say(&format!("dcs-wait: {e}"));
            return ExitCode::from(ExitStatus::Usage.code());
        }
    };
    cli::logging::init(options.verbosity, options.log_format, options.terminal);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            cli::say(&format!("dcs-wait: cannot start: {e}"));
            return ExitCode::from(ExitStatus::Usage.code());
        }
    };
    let status = runtime.block_on(cli::run(options.mode));
    // Do not wait for stray blocking work (a hung DNS lookup): the deadline is a promise.
    runtime.shutdown_background();
    ExitCode::from(status.code())
}
