//! What the waits are doing, while they do it.
//!
//! The [`Board`] is the command line's [`Observer`]: the wait loop tells it of every look and
//! every end, and the board says them as stderr allows ([`Display`]). On a terminal it is a
//! live display (indicatif), drawn as cargo draws its status: a line per running wait with
//! its status, its operation's age and why it waits (the next poll; a fault ridden out, a
//! "not found" believed for a while, a busy instance: each with its countdown); a wait that
//! ends is printed once, above the display, with a mark of its outcome (green ✔, red ✘),
//! its duration and, for a failure, the whole reason and what to check — and that line
//! never changes again, nor does the log say it again. Log lines are printed above the
//! display, never through it, and what is still running is cleared before the final report
//! (after Ctrl-C as well). At a dumb terminal the finished lines are printed with word
//! marks and the rest is logged; off a terminal (a CI log) the log says everything, and the
//! board adds a heartbeat line at a steady interval, so that CI systems that kill silent
//! steps do not kill a long wait.

use super::terminal::{write_log, Display, Terminal};
use crate::defuse::{defused, Syntax};
use dcs_wait::{ApiError, JobDuration};
use dcs_wait::{JobReport, Observer, Outcome, Seen, Subject, WaitEvent, Waiting};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

#[derive(Debug, Clone, Default)]
struct Entry {
    status: Option<String>,
    /// When the operation began (epoch ms, the server's clock), once seen.
    begin_time: Option<i64>,
    next_poll: Option<Instant>,
    /// Why it waits, when not for the operation itself.
    why: Option<Why>,
    finished: bool,
}

/// [`Waiting`], kept for the redraws that count its time down.
#[derive(Debug, Clone)]
enum Why {
    Busy(String),
    NotFoundYet(String, Instant),
    Unreachable(String, Instant),
    Retrying(String, bool),
}

impl Why {
    fn of(waiting: &Waiting<'_>) -> Option<Why> {
        Some(match *waiting {
            Waiting::Busy(error) => Why::Busy(short(error)),
            Waiting::NotFoundYet { error, gives_up_in } => {
                Why::NotFoundYet(short(error), Instant::now() + gives_up_in)
            }
            Waiting::Unreachable {
                error, gives_up_in, ..
            } => Why::Unreachable(short(error), Instant::now() + gives_up_in),
            Waiting::Retrying { error, start } => Why::Retrying(short(error), start),
            _ => return None,
        })
    }

    /// `not found yet (HTTP 404), giving up in 21s`, counted down to `now`.
    fn words(&self, next_poll: Instant, now: Instant) -> String {
        let next = clock(next_poll.saturating_duration_since(now));
        match self {
            Why::Busy(what) => format!("busy ({what}), sending it again in {next}"),
            Why::NotFoundYet(what, until) => format!(
                "not found yet ({what}), giving up in {}",
                clock(until.saturating_duration_since(now))
            ),
            Why::Unreachable(what, until) => format!(
                "no answer yet ({what}), giving up in {}",
                clock(until.saturating_duration_since(now))
            ),
            Why::Retrying(what, false) => format!("{what}, trying again in {next}"),
            Why::Retrying(what, true) => format!("{what}: not started, sending it again in {next}"),
        }
    }
}

/// An error in a few words for a live line: `HTTP 503 DCS.5003`, `connect`.
fn short(error: &ApiError) -> String {
    match (error.http_status, error.wire_code()) {
        (Some(status), Some(code)) => format!("HTTP {status} {code}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, code) => code.unwrap_or("error").to_string(),
    }
}

/// How an outcome is marked: a coloured symbol, or a word where the terminal cannot show
/// them or the user asked for plain output (`NO_COLOR`, `TERM=dumb`, a locale that is not
/// UTF-8). Words are padded to one width, so that names line up.
fn mark(terminal: Terminal, outcome: Outcome) -> String {
    use console::Color;
    let (symbol, word, colour) = match outcome {
        Outcome::Success => ("✔", "ok   ", Some(Color::Green)),
        Outcome::Timeout => ("⏱", "TIME ", Some(Color::Yellow)),
        Outcome::Interrupted => ("■", "STOP ", None),
        Outcome::Failed => ("✘", "FAIL ", Some(Color::Red)),
        // Error, and any outcome the library adds.
        _ => ("✘", "ERROR", Some(Color::Red)),
    };
    let text = if terminal.symbols { symbol } else { word };
    match colour.filter(|_| terminal.colour) {
        Some(colour) => console::Style::new()
            .fg(colour)
            .force_styling(true)
            .apply_to(text)
            .to_string(),
        None => text.to_string(),
    }
}

fn spinner(terminal: Terminal) -> &'static str {
    if terminal.symbols {
        "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "
    } else {
        "-\\|/ "
    }
}

/// stderr as indicatif draws on it, with the cursor left at the start of the row below the
/// display rather than where indicatif leaves it, on the last column of its last row. There a
/// character the terminal echoes — the `^C` of a Ctrl-C typed at the keyboard — would wrap
/// onto a new row, and the display's clear, counting rows up from the cursor, would leave its
/// first row (a spinner) behind. Below the display, the echo takes a row of its own.
#[derive(Debug)]
struct CursorBelow {
    term: console::Term,
    /// Something was written since the last flush: a draw to end with a new row.
    wrote: AtomicBool,
    /// The cursor is on the row below the display, where indicatif does not expect it.
    below: AtomicBool,
}

impl CursorBelow {
    fn stderr() -> CursorBelow {
        CursorBelow {
            // Buffered, and flushed at the end of each draw: a frame goes out in one write,
            // so that no reader sees half of one.
            term: console::Term::buffered_stderr(),
            wrote: AtomicBool::new(false),
            below: AtomicBool::new(false),
        }
    }

    /// Back to where indicatif expects the cursor, before it moves or writes.
    fn back(&self) -> std::io::Result<()> {
        if self.below.swap(false, Ordering::Relaxed) {
            self.term.move_cursor_up(1)?;
        }
        Ok(())
    }
}

impl TermLike for CursorBelow {
    fn width(&self) -> u16 {
        TermLike::width(&self.term)
    }
    fn height(&self) -> u16 {
        TermLike::height(&self.term)
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        let back = usize::from(self.below.swap(false, Ordering::Relaxed));
        TermLike::move_cursor_up(&self.term, n + back)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.back()?;
        TermLike::move_cursor_down(&self.term, n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.back()?;
        TermLike::move_cursor_right(&self.term, n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.back()?;
        TermLike::move_cursor_left(&self.term, n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.back()?;
        self.wrote.store(true, Ordering::Relaxed);
        TermLike::write_line(&self.term, s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.back()?;
        self.wrote.store(true, Ordering::Relaxed);
        TermLike::write_str(&self.term, s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.back()?;
        TermLike::clear_line(&self.term)
    }
    fn flush(&self) -> std::io::Result<()> {
        if self.wrote.swap(false, Ordering::Relaxed) {
            self.term.write_str("\r\n")?;
            self.below.store(true, Ordering::Relaxed);
        }
        TermLike::flush(&self.term)
    }
}

/// `line` cut with `…` to what is left of stderr's terminal row after `taken` columns,
/// measured as the terminal does (a CJK character or an emoji takes two).
fn fit(line: &str, taken: usize) -> String {
    let columns = console::Term::stderr().size().1 as usize;
    let room = columns.saturating_sub(taken + 1).max(20);
    console::truncate_str(line, room, "…").into_owned()
}

/// The state of every wait, and how it is shown.
pub struct Board {
    start: Instant,
    order: Vec<String>,
    width: usize,
    terminal: Terminal,
    entries: Mutex<HashMap<String, Entry>>,
    bars: Option<HashMap<String, ProgressBar>>,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("jobs", &self.order.len())
            .finish_non_exhaustive()
    }
}

impl Board {
    /// A board for `subjects`, shown as `terminal` allows: a live display only there.
    pub fn new(subjects: &[Subject], terminal: Terminal) -> Arc<Board> {
        let names: Vec<String> = subjects.iter().map(|s| s.name().to_string()).collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        let bars = (terminal.display == Display::Live).then(|| {
            let multi = crate::terminal::LIVE.get_or_init(|| {
                let stderr = Box::new(CursorBelow::stderr());
                // 20 Hz, as indicatif's own stderr target.
                MultiProgress::with_draw_target(ProgressDrawTarget::term_like_with_hz(stderr, 20))
            });
            let style = ProgressStyle::with_template("{spinner} {prefix}  {msg}")
                .map(|style| style.tick_chars(spinner(terminal)))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            names
                .iter()
                .map(|id| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.set_prefix(format!("{id:<width$}"));
                    bar.set_message("starting");
                    bar.enable_steady_tick(Duration::from_millis(120));
                    (id.clone(), bar)
                })
                .collect()
        });
        Arc::new(Board {
            start: Instant::now(),
            order: names.clone(),
            width,
            terminal,
            entries: Mutex::new(
                names
                    .iter()
                    .map(|id| (id.clone(), Entry::default()))
                    .collect(),
            ),
            bars,
        })
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A look at `name` is done: what it saw, why it waits, and when the next look comes.
    /// The log says why too: always where no live line says it, else at `-v`.
    pub fn polled(&self, name: &str, seen: Seen<'_>, waiting: &Waiting<'_>, next_poll: Instant) {
        if let Some(entry) = self.entries().get_mut(name) {
            if let Some(status) = seen.status {
                entry.status = Some(status.to_string());
            }
            entry.begin_time = seen.begin_time.or(entry.begin_time);
            entry.next_poll = Some(next_poll);
            entry.why = Why::of(waiting);
        }
        if self.bars.is_some() {
            self.redraw(name);
        }
        log_waiting(name, waiting, next_poll, self.bars.is_some());
    }

    /// The wait for `report` is over: its line is printed once (above the live display, or
    /// as a line at a dumb terminal), and its place in the display is given up.
    pub fn finished(&self, report: &JobReport) {
        let name = report.name();
        if let Some(entry) = self.entries().get_mut(name) {
            entry.status = report.status.clone().or(entry.status.take());
            entry.next_poll = None;
            entry.finished = true;
        }
        let line = || defused(&self.finished_line(report), Syntax::Json).into_owned();
        match (
            self.terminal.display,
            self.bars.as_ref().and_then(|b| b.get(name)),
        ) {
            (Display::Live, Some(bar)) => {
                // indicatif writes to stderr itself, so its lines are defused here, not in `say`.
                bar.println(line());
                bar.finish_and_clear();
            }
            (Display::Lines, _) => {
                let _ = write_log(format!("{}\n", line()).as_bytes());
            }
            _ => {}
        }
    }

    /// `✔ job-1  SUCCESS  3.012s`, `✘ job-2  FAIL  1.600s  the whole reason`.
    fn finished_line(&self, report: &JobReport) -> String {
        let mut line = format!(
            "{:<width$}  {}",
            report.name(),
            report.status.as_deref().unwrap_or(report.outcome.as_str()),
            width = self.width
        );
        if let JobDuration::Millis(ms) = report.duration() {
            let _ = write!(line, "  {}", super::export::report_duration(ms));
        }
        let detail = crate::hints::detail(report);
        if report.outcome != Outcome::Success && !detail.is_empty() {
            let _ = write!(line, "  {detail}");
        }
        // Whole, wrapped by the terminal if it must: the one place at a terminal where why a
        // wait failed, and what to check, is said (the table after it is cut to the width).
        format!("{} {line}", mark(self.terminal, report.outcome))
    }

    /// `RUNNING  12s  next poll in 3s`: the age is the operation's own, from its begin time,
    /// or the wait's while it has not said when it began; then why it waits.
    fn line(&self, entry: &Entry) -> String {
        let waited = self.start.elapsed();
        let age = entry
            .begin_time
            .and_then(|begin| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .ok()?
                    .as_millis();
                let age = now.checked_sub(u128::try_from(begin).ok()?)?;
                Some(Duration::from_millis(u64::try_from(age).ok()?))
            })
            .unwrap_or(waited);
        let mut line = match &entry.status {
            Some(status) => format!("{status}  {}", clock(age)),
            None => clock(age),
        };
        if let Some(next) = entry.next_poll {
            let now = Instant::now();
            let why = match &entry.why {
                Some(why) => why.words(next, now),
                None => format!(
                    "next poll in {}",
                    clock(next.saturating_duration_since(now))
                ),
            };
            let _ = write!(line, "  {why}");
        }
        line
    }

    fn redraw(&self, name: &str) {
        let Some(bar) = self.bars.as_ref().and_then(|bars| bars.get(name)) else {
            return;
        };
        let entry = self.entries().get(name).cloned().unwrap_or_default();
        if entry.finished {
            return;
        }
        // One row: a longer message wraps, and indicatif then clears too few rows and leaves
        // the rest of the old one behind. Ahead of it: the spinner, a space, the name, two.
        let line = fit(&self.line(&entry), self.width + 4);
        // indicatif writes to stderr itself, so its lines are defused here, not in `say`.
        bar.set_message(defused(&line, Syntax::Json).into_owned());
    }

    /// Keeps the countdowns of a live display moving; returns when every wait is over.
    pub async fn tick(self: Arc<Self>) {
        if self.bars.is_none() {
            return;
        }
        while !self.all_finished() {
            for id in &self.order {
                self.redraw(id);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A heartbeat line every `every` until every wait is over.
    pub async fn heartbeat(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if self.all_finished() {
                return;
            }
            tracing::info!("{}", self.summary());
        }
    }

    fn all_finished(&self) -> bool {
        self.entries().values().all(|e| e.finished)
    }

    /// `still waiting for 2 of 3 jobs after 4m 05s: RUNNING 1, INIT 1`
    pub fn summary(&self) -> String {
        let entries = self.entries();
        let open: Vec<&Entry> = entries.values().filter(|e| !e.finished).collect();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for entry in &open {
            let status = entry
                .status
                .clone()
                .unwrap_or_else(|| "not read yet".into());
            match counts.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                None => counts.push((status, 1)),
            }
        }
        counts.sort();
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
        format!(
            "still waiting for {} of {} jobs after {}: {}",
            open.len(),
            entries.len(),
            clock(self.start.elapsed()),
            counts.join(", ")
        )
    }

    /// Takes the live display off the screen, before the report is printed.
    pub fn clear(&self) {
        if let Some(bars) = &self.bars {
            for bar in bars.values() {
                bar.finish_and_clear();
            }
            if let Some(multi) = crate::terminal::LIVE.get() {
                let _ = multi.clear();
            }
        }
    }
}

impl Observer for Board {
    fn on_event(&self, event: &WaitEvent<'_>) {
        match event {
            WaitEvent::Polled {
                subject,
                seen,
                waiting,
                next_poll,
                ..
            } => self.polled(subject.name(), *seen, waiting, Instant::now() + *next_poll),
            WaitEvent::Finished(report) => self.finished(report),
            _ => {}
        }
    }
}

/// Why a wait goes on, in the log: where a live line says it already, only at `-v`
/// (`debug`). A busy start is the library's to log (once a refusal, not once a try).
fn log_waiting(name: &str, waiting: &Waiting<'_>, next_poll: Instant, live: bool) {
    let next = next_poll
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let (error, start) = match *waiting {
        Waiting::NotFoundYet { error, .. } if live => {
            tracing::debug!("{name}: not visible yet ({error}); trying again");
            return;
        }
        Waiting::NotFoundYet { error, .. } => {
            tracing::info!("{name}: not visible yet ({error}); trying again");
            return;
        }
        Waiting::Unreachable { error, start, .. } | Waiting::Retrying { error, start } => {
            (error, start)
        }
        _ => return,
    };
    let again = if start {
        "it did not start: sending it again"
    } else {
        "trying again"
    };
    let error = error.with_causes().without_request_id();
    if live {
        tracing::debug!("{name}: {error}; {again} in {next:.1}s");
    } else {
        tracing::warn!("{name}: {error}; {again} in {next:.1}s");
    }
}

/// `12s`, `4m 05s`, `1h 02m 05s`: a countdown or an age, to the second.
fn clock(d: Duration) -> String {
    super::export::human_duration(d, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;
    use dcs_wait::Outcome;

    #[tokio::test(start_paused = true)]
    async fn the_heartbeat_counts_what_is_still_open() {
        let ids: Vec<Subject> = ["j1", "j2", "j3"]
            .map(|id| Subject::Job(id.parse().unwrap()))
            .to_vec();
        let log = Terminal {
            is_terminal: false,
            display: Display::Log,
            colour: false,
            symbols: false,
        };
        let board = Board::new(&ids, log);
        let running = Seen::new(Some("RUNNING"), None);
        board.polled("j2", running, &Waiting::InProgress, Instant::now());
        board.polled("j3", running, &Waiting::InProgress, Instant::now());
        board.finished(&sample(Outcome::Failed)); // j1
        tokio::time::sleep(Duration::from_secs(245)).await;
        assert_eq!(
            board.summary(),
            "still waiting for 2 of 3 jobs after 4m 05s: RUNNING 2"
        );
        let mut done = sample(Outcome::Success);
        for id in ["j2", "j3"] {
            done.job_id = Some(id.parse().unwrap());
            board.finished(&done);
        }
        // Every wait is over: the heartbeat ends at its next beat.
        tokio::time::timeout(
            Duration::from_secs(61),
            board.heartbeat(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    }
}
