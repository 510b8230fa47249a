//! What the waits are doing, while they do it.
//!
//! The [`Board`] is the command line's [`Observer`]: the wait loop tells it of every poll and
//! every end. On a terminal the board is a live display (indicatif), drawn as cargo draws
//! its status: a line per running wait with its status, its own job's age and when the next
//! poll comes; a wait that ends is printed once, above the display, with a mark of its
//! outcome, its own duration and, for a failure, the reason cut to the terminal's width —
//! and that line never changes again. Log lines are printed above the display too, never
//! through it, and what is still running is cleared before the final report (after Ctrl-C
//! as well). Off a terminal (a CI log) the loop's own log lines say each change of status,
//! and the board adds a heartbeat line at a steady interval, so that CI systems that kill
//! silent steps do not kill a long wait.

use crate::api::untrusted::{defused, Syntax};
use crate::api::JobDuration;
use crate::wait::{JobReport, Observer, Outcome, Subject, WaitEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// The live display while it is shown, so that log lines can be printed above it.
static LIVE: OnceLock<MultiProgress> = OnceLock::new();

/// Writes a log line above the live display when there is one, else straight to stderr.
pub fn write_log(line: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let write = || std::io::stderr().lock().write_all(line);
    match LIVE.get() {
        Some(multi) => multi.suspend(write),
        None => write(),
    }
}

#[derive(Debug, Clone, Default)]
struct Entry {
    status: Option<String>,
    /// The job's `begin_time` (epoch ms, the server's clock), once seen.
    begin_time: Option<i64>,
    next_poll: Option<Instant>,
    finished: bool,
}

/// How an outcome is marked: symbols, or words where the terminal cannot show them or
/// the user asked for plain output (`NO_COLOR`, `TERM=dumb`, a locale that is not UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marks {
    Symbols,
    Words,
}

impl Marks {
    fn from_env() -> Marks {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let locale = [var("LC_ALL"), var("LC_CTYPE"), var("LANG")]
            .into_iter()
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        if !var("NO_COLOR").is_empty() || var("TERM") == "dumb" || !utf8 {
            Marks::Words
        } else {
            Marks::Symbols
        }
    }

    fn of(self, outcome: Outcome) -> &'static str {
        match (self, outcome) {
            (Marks::Symbols, Outcome::Success) => "✔",
            (Marks::Symbols, Outcome::Timeout) => "⏱",
            (Marks::Symbols, Outcome::Interrupted) => "■",
            (Marks::Symbols, Outcome::Failed | Outcome::Error) => "✘",
            (Marks::Words, Outcome::Success) => "ok   ",
            (Marks::Words, Outcome::Failed) => "FAIL ",
            (Marks::Words, Outcome::Timeout) => "TIME ",
            (Marks::Words, Outcome::Error) => "ERROR",
            (Marks::Words, Outcome::Interrupted) => "STOP ",
        }
    }

    fn spinner(self) -> &'static str {
        match self {
            Marks::Symbols => "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ",
            Marks::Words => "-\\|/ ",
        }
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
    marks: Marks,
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
    /// A board for `subjects`; `live` shows it on stderr (only on a terminal, the caller's
    /// choice), else it only feeds the heartbeat.
    pub fn new(subjects: &[Subject], live: bool) -> Arc<Board> {
        let names: Vec<String> = subjects.iter().map(|s| s.name().to_string()).collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        let marks = Marks::from_env();
        let bars = live.then(|| {
            let multi =
                LIVE.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
            let style = ProgressStyle::with_template("{spinner} {prefix}  {msg}")
                .map(|style| style.tick_chars(marks.spinner()))
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
            marks,
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

    /// A request for `name` is done: its status now, its job's begin time when known, and
    /// when the next request comes.
    pub fn polled(
        &self,
        name: &str,
        status: Option<&str>,
        begin_time: Option<i64>,
        next_poll: Instant,
    ) {
        if let Some(entry) = self.entries().get_mut(name) {
            if let Some(status) = status {
                entry.status = Some(status.to_string());
            }
            entry.begin_time = begin_time.or(entry.begin_time);
            entry.next_poll = Some(next_poll);
        }
        self.redraw(name);
    }

    /// The wait for `report` is over: its line is printed once, above the display, and its
    /// place in the display is given up.
    pub fn finished(&self, report: &JobReport) {
        let name = report.name();
        if let Some(entry) = self.entries().get_mut(name) {
            entry.status = report.status.clone().or(entry.status.take());
            entry.next_poll = None;
            entry.finished = true;
        }
        if let Some(bar) = self.bars.as_ref().and_then(|bars| bars.get(name)) {
            let line = self.finished_line(report);
            // indicatif writes to stderr itself, so its lines are defused here, not in `say`.
            bar.println(defused(&line, Syntax::Json));
            bar.finish_and_clear();
        }
    }

    /// `✔ job-1  SUCCESS  3.012s`, `✘ job-2  FAIL  1.600s  the reason, cut to the width`.
    fn finished_line(&self, report: &JobReport) -> String {
        let mut line = format!(
            "{} {:<width$}  {}",
            self.marks.of(report.outcome),
            report.name(),
            report.status.as_deref().unwrap_or(report.outcome.as_str()),
            width = self.width
        );
        if let JobDuration::Millis(ms) = report.duration() {
            let _ = write!(line, "  {}", super::export::human_duration(ms));
        }
        let detail = report.detail();
        if report.outcome != Outcome::Success && !detail.is_empty() {
            let _ = write!(line, "  {detail}");
        }
        fit(&line, 0)
    }

    /// `RUNNING  12s  next poll in 3s`: the age is the job's own, from its begin time, or
    /// the wait's while the job has not said when it began.
    fn line(&self, entry: &Entry) -> String {
        let mut line = entry.status.clone().unwrap_or_else(|| "-".into());
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
        let _ = write!(line, "  {}", clock(age));
        if let Some(next) = entry.next_poll {
            let _ = write!(
                line,
                "  next poll in {}",
                clock(next.saturating_duration_since(Instant::now()))
            );
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
            if let Some(multi) = LIVE.get() {
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
                job,
                next_poll,
                ..
            } => self.polled(
                subject.name(),
                job.map(|j| j.status.as_str()),
                job.and_then(|j| j.begin_time),
                *next_poll,
            ),
            WaitEvent::Finished(report) => self.finished(report),
        }
    }
}

/// `12s`, `4m 05s`, `1h 02m`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::{sample, Outcome};

    #[tokio::test(start_paused = true)]
    async fn the_heartbeat_counts_what_is_still_open() {
        let ids: Vec<Subject> = ["j1", "j2", "j3"]
            .map(|id| Subject::Job(id.parse().unwrap()))
            .to_vec();
        let board = Board::new(&ids, false);
        board.polled("j2", Some("RUNNING"), None, Instant::now());
        board.polled("j3", Some("RUNNING"), None, Instant::now());
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
