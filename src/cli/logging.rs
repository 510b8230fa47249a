//! Logs go to stderr through tracing, so stdout carries only reports.
//!
//! Three ways to write them. At a terminal, for a person: the local time to the second, and a
//! line that repeats the one before (digits aside: a retry's delay, an attempt's number) is
//! counted rather than printed, then said once as `… 5 more like this in 12s`. Off a terminal
//! (a CI log, kept and searched later): full UTC timestamps, every line. `--log-format json`:
//! one JSON object a line, for machines. Whatever the way, a line is defused before it is
//! written (`defused`, in `defuse`): no server text in it becomes a CI runner's command.

use crate::defuse::{defused, Syntax};
use crate::terminal::Terminal;
use clap::ValueEnum;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

/// The log format on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Sets up logging once; `verbosity` is `-v` count minus `-q` count. `RUST_LOG`, when set,
/// wins. Colour as `shown` allows (a terminal, not dumb, no `NO_COLOR`); what its display
/// says already is not logged again.
pub fn init(verbosity: i8, format: LogFormat, shown: Terminal) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => {
            let mut directives = default_directives(verbosity).to_string();
            for target in shown.quiet_targets(verbosity) {
                directives.push_str(&format!(",{target}=off"));
            }
            EnvFilter::new(directives)
        }
    };
    let ansi = shown.colour;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_target(false);
    // Each fails only when a subscriber is already set (a test harness, say): keep that one.
    let _ = match (format, shown.is_terminal) {
        (LogFormat::Json, _) => builder.json().try_init(),
        (LogFormat::Text, true) => {
            COLLAPSE.store(true, Ordering::Relaxed);
            builder.with_ansi(ansi).with_timer(LocalSeconds).try_init()
        }
        (LogFormat::Text, false) => builder.with_ansi(false).try_init(),
    };
}

/// `14:03:07`, in the machine's time zone: at a terminal the date and the zone go without
/// saying.
struct LocalSeconds;

impl FormatTime for LocalSeconds {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", jiff::ZonedDateTime::now().strftime("%H:%M:%S"))
    }
}

/// Whether repeated lines are collapsed (text at a terminal).
static COLLAPSE: AtomicBool = AtomicBool::new(false);

/// The line last written, and how often it came again since.
struct Repeats {
    key: String,
    more: u32,
    first: Instant,
    last: Instant,
}

static LAST: Mutex<Option<Repeats>> = Mutex::new(None);

/// A line without its time and with each run of digits blanked: what two lines "like this"
/// share.
fn likeness(line: &str) -> String {
    let after_time = line.split_once(' ').map_or(line, |(_, rest)| rest);
    let mut key = String::with_capacity(after_time.len());
    for c in after_time.chars() {
        match (c.is_ascii_digit(), key.ends_with('#')) {
            (true, true) => {}
            (true, false) => key.push('#'),
            (false, _) => key.push(c),
        }
    }
    key
}

fn last() -> std::sync::MutexGuard<'static, Option<Repeats>> {
    LAST.lock().unwrap_or_else(|e| e.into_inner())
}

/// Says how often the last line came again, if it did: at the end of a run.
pub fn flush() {
    say_repeats(last().take());
}

/// `… 5 more like this in 12s`, when the line of `repeats` came again.
fn say_repeats(repeats: Option<Repeats>) {
    if let Some(r) = repeats.filter(|r| r.more > 0) {
        let secs = r.last.duration_since(r.first).as_secs_f64();
        let _ = crate::terminal::write_log(
            format!("         … {} more like this in {secs:.0}s\n", r.more).as_bytes(),
        );
    }
}

/// stderr, above the live progress display when one is shown. tracing hands over each event
/// whole, in one write, so a line is collapsed and defused whole.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if COLLAPSE.load(Ordering::Relaxed) {
            let key = likeness(&text);
            let now = Instant::now();
            let previous = {
                let mut last = last();
                if let Some(repeats) = last.as_mut().filter(|r| r.key == key) {
                    repeats.more += 1;
                    repeats.last = now;
                    return Ok(buf.len());
                }
                last.replace(Repeats {
                    key,
                    more: 0,
                    first: now,
                    last: now,
                })
            };
            say_repeats(previous);
        }
        crate::terminal::write_log(defused(&text, Syntax::Json).as_bytes())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_alike_differ_only_in_time_and_digits() {
        let a = likeness("14:03:07  WARN swap-1: HTTP 503: busy; retrying in 1.2s\n");
        let b = likeness("14:03:09  WARN swap-1: HTTP 503: busy; retrying in 12.4s\n");
        assert_eq!(a, b);
        assert_ne!(
            a,
            likeness("14:03:09  WARN swap-2x: HTTP 503: busy; retrying in 2.4s\n")
        );
    }
}
