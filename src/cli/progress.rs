//! What the waits are doing, while they do it.
//!
//! The [`Board`] is the command line's [`Observer`]: the wait loop tells it of every poll and
//! every end. On a terminal the board is a
//! live display (indicatif): a line per job with its status, the time waited and when the
//! next poll comes; log lines are printed above it, never through it, and it is cleared
//! before the final report. Off a terminal (a CI log) the loop's own log lines say each change
//! of status, and the board adds a heartbeat line at a steady interval, so that CI systems
//! that kill silent steps do not kill a long wait.

use crate::api::untrusted::{defused, Syntax};
use crate::wait::{JobReport, Observer, Subject, WaitEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
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
    next_poll: Option<Instant>,
    outcome: Option<&'static str>,
}

/// The state of every wait, and how it is shown.
pub struct Board {
    start: Instant,
    order: Vec<String>,
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
        let bars = live.then(|| {
            let multi =
                LIVE.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
            let style = ProgressStyle::with_template("{spinner} {prefix}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let width = names.iter().map(String::len).max().unwrap_or(0);
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

    /// A request for `name` is done: its status now, and when the next one comes.
    pub fn polled(&self, name: &str, status: Option<&str>, next_poll: Instant) {
        if let Some(entry) = self.entries().get_mut(name) {
            if let Some(status) = status {
                entry.status = Some(status.to_string());
            }
            entry.next_poll = Some(next_poll);
        }
        self.redraw(name);
    }

    /// The wait for `report` is over.
    pub fn finished(&self, report: &JobReport) {
        if let Some(entry) = self.entries().get_mut(report.name()) {
            entry.status = report.status.clone().or(entry.status.take());
            entry.outcome = Some(report.outcome.as_str());
            entry.next_poll = None;
        }
        self.redraw(report.name());
    }

    fn line(&self, entry: &Entry) -> String {
        let mut line = entry.status.clone().unwrap_or_else(|| "-".into());
        let _ = write!(line, "  {}", clock(self.start.elapsed()));
        match (entry.outcome, entry.next_poll) {
            (Some(outcome), _) => {
                let _ = write!(line, "  {outcome}");
            }
            (None, Some(next)) => {
                let _ = write!(
                    line,
                    "  next poll in {}",
                    clock(next.saturating_duration_since(Instant::now()))
                );
            }
            (None, None) => {}
        }
        line
    }

    fn redraw(&self, name: &str) {
        let Some(bar) = self.bars.as_ref().and_then(|bars| bars.get(name)) else {
            return;
        };
        let entry = self.entries().get(name).cloned().unwrap_or_default();
        if entry.outcome.is_some() {
            bar.disable_steady_tick();
        }
        // indicatif writes to stderr itself, so its lines are defused here, not in `say`.
        bar.set_message(defused(&self.line(&entry), Syntax::Json).into_owned());
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
        self.entries().values().all(|e| e.outcome.is_some())
    }

    /// `still waiting for 2 of 3 jobs after 4m 05s: RUNNING 1, INIT 1`
    pub fn summary(&self) -> String {
        let entries = self.entries();
        let open: Vec<&Entry> = entries.values().filter(|e| e.outcome.is_none()).collect();
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
            } => self.polled(subject.name(), job.map(|j| j.status.as_str()), *next_poll),
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
        board.polled("j2", Some("RUNNING"), Instant::now());
        board.polled("j3", Some("RUNNING"), Instant::now());
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
