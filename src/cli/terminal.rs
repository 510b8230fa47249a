//! What stderr can show, decided once from the environment, and read by the log and the
//! progress display alike: a terminal or not, one that redraws in place or a dumb one,
//! colour or not, symbols or words.

use dcs_wait::Env;
use indicatif::MultiProgress;
use std::io::IsTerminal;
use std::sync::OnceLock;

/// How the waits are shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A terminal that redraws in place: a live line a wait, and each finished wait printed
    /// once, with its mark; the log does not say again what these lines say.
    Live,
    /// A terminal that cannot redraw (`TERM=dumb`): no cursor codes; each finished wait is
    /// printed once, with its mark, and the log says the rest.
    Lines,
    /// Not a terminal (a CI log), or `-q`: the log says everything, with a heartbeat.
    Log,
}

/// What stderr is and can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Whether stderr is a terminal at all (the log's form for a person: local time, repeats
    /// said once).
    pub is_terminal: bool,
    /// How the waits are shown.
    pub display: Display,
    /// Colour in the log and the marks: a terminal, not dumb, and no `NO_COLOR`.
    pub colour: bool,
    /// `✔ ✘ ⏱` rather than `ok FAIL TIME`: colour is allowed and the locale is UTF-8.
    pub symbols: bool,
}

impl Terminal {
    /// What this process's stderr is, at `verbosity` (`-v` count minus `-q` count).
    pub fn of_stderr(env: &Env, verbosity: i8) -> Terminal {
        Terminal::new(std::io::stderr().is_terminal(), env, verbosity)
    }

    fn new(is_terminal: bool, env: &Env, verbosity: i8) -> Terminal {
        let var = |name: &str| env.get(name).unwrap_or_default();
        let dumb = var("TERM") == "dumb";
        let colour = is_terminal && !dumb && var("NO_COLOR").is_empty();
        let locale = [var("LC_ALL"), var("LC_CTYPE"), var("LANG")]
            .into_iter()
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        let display = match (is_terminal && verbosity >= 0, dumb) {
            (false, _) => Display::Log,
            (true, true) => Display::Lines,
            (true, false) => Display::Live,
        };
        Terminal {
            is_terminal,
            display,
            colour,
            symbols: colour && utf8,
        }
    }

    /// The log directives that take off the log what the display already says: a status
    /// and a busy start in the live line, how a wait ended in its finished line. At `-v`
    /// and above the log says everything.
    pub fn quiet_targets(self, verbosity: i8) -> &'static [&'static str] {
        match self.display {
            _ if verbosity > 0 => &[],
            Display::Live => &[NARRATION, OUTCOME],
            Display::Lines => &[OUTCOME],
            Display::Log => &[],
        }
    }
}

/// The library's log targets (its crate documentation, "Logging"): lines that narrate a
/// wait (a status, a busy start), and the line that says how it ended.
const NARRATION: &str = "dcs_wait::narration";
const OUTCOME: &str = "dcs_wait::outcome";

/// The live display while it is shown, so that log lines can be printed above it.
pub static LIVE: OnceLock<MultiProgress> = OnceLock::new();

/// Writes a log line above the live display when there is one, else straight to stderr.
pub fn write_log(line: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let write = || std::io::stderr().lock().write_all(line);
    match LIVE.get() {
        Some(multi) => multi.suspend(write),
        None => write(),
    }
}

/// How wide stdout's terminal is, when stdout is one: measured when the report is printed,
/// as a window may have changed size during a long wait.
pub fn stdout_columns() -> Option<usize> {
    std::io::stdout()
        .is_terminal()
        .then(|| usize::from(console::Term::stdout().size().1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal(is_terminal: bool, vars: &[(&str, &str)], verbosity: i8) -> Terminal {
        Terminal::new(
            is_terminal,
            &Env::from_pairs(vars.iter().copied()),
            verbosity,
        )
    }

    #[test]
    fn each_environment_gets_what_it_can_show() {
        let utf8 = [("TERM", "xterm-256color"), ("LANG", "C.UTF-8")];
        let live = terminal(true, &utf8, 0);
        assert_eq!(
            live,
            Terminal {
                is_terminal: true,
                display: Display::Live,
                colour: true,
                symbols: true
            }
        );
        let dumb = terminal(true, &[("TERM", "dumb"), ("LANG", "C.UTF-8")], 0);
        assert_eq!(
            dumb,
            Terminal {
                is_terminal: true,
                display: Display::Lines,
                colour: false,
                symbols: false
            }
        );
        let no_colour = terminal(true, &[utf8[0], utf8[1], ("NO_COLOR", "1")], 0);
        assert_eq!(
            (no_colour.display, no_colour.colour, no_colour.symbols),
            (Display::Live, false, false)
        );
        assert!(
            !terminal(true, &[("TERM", "xterm")], 0).symbols,
            "no UTF-8 locale"
        );
        assert_eq!(terminal(false, &utf8, 0).display, Display::Log);
        assert!(!terminal(false, &utf8, 0).colour);
        assert_eq!(terminal(true, &utf8, -1).display, Display::Log);
        assert!(live.quiet_targets(1).is_empty());
        assert_eq!(dumb.quiet_targets(0), &[OUTCOME]);
    }
}
