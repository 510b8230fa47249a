//! Logs go to stderr through tracing, so stdout carries only reports.

use crate::api::untrusted::{defused, Syntax};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Sets up logging once; `verbosity` is `-v` count minus `-q` count. `RUST_LOG`, when set,
/// wins. Colour only on a terminal, and never with `NO_COLOR`.
pub fn init(verbosity: i8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => EnvFilter::new(default_directives(verbosity)),
    };
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Fails only when a subscriber is already set (a test harness, say): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// stderr, above the live progress display when one is shown. tracing hands over each event
/// whole, in one write, so a line is defused whole.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        super::progress::write_log(defused(&text, Syntax::Json).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Our own messages by verbosity; other crates' only when something is wrong, or at `-vv`.
fn default_directives(verbosity: i8) -> &'static str {
    match verbosity {
        i8::MIN..=-2 => "off",
        -1 => "error",
        0 => "warn,dcs_wait=info",
        1 => "warn,dcs_wait=debug",
        _ => "debug,dcs_wait=trace",
    }
}

/// A line on stderr that must not panic when stderr is closed (`eprintln!` would), and that
/// no text in it (a server's, an argument's) can make a CI runner act on.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", defused(line, Syntax::Json));
}
