//! How long earlier jobs of each type took, so that the schedule can wait for a backup where
//! backups usually end instead of ramping up from zero every time.
//!
//! A small JSON file in the user's cache directory (`$XDG_CACHE_HOME/dcs-wait/history.json`,
//! else `~/.cache/dcs-wait/history.json`; `DCS_WAIT_HISTORY_FILE` names another), at most
//! [`KEEP`] durations for each of at most [`MAX_TYPES`] job types. Written atomically after a
//! run. A file that is missing, unreadable or corrupt is ignored with a warning, and one that
//! cannot be written is too: the history only ever makes a wait cheaper, it never fails one.

use super::schedule::{prior, Window};
use crate::api::Env;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The history file's path, instead of the one in the user's cache directory.
pub const ENV_HISTORY_FILE: &str = "DCS_WAIT_HISTORY_FILE";
/// Durations kept per job type: the latest.
pub const KEEP: usize = 32;
/// Job types kept; a new type beyond these is not recorded.
pub const MAX_TYPES: usize = 64;
/// Fewer durations than this say too little to plan by.
pub const MIN_SAMPLES: usize = 5;

/// The durations of jobs that succeeded, by type: the schedule plans by them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Durations in milliseconds, oldest first, by job type.
    types: BTreeMap<String, VecDeque<u64>>,
}

impl History {
    /// Where the history lives, unless the environment gives no home at all.
    pub fn path(env: &Env) -> Option<PathBuf> {
        if let Some(path) = env.get(ENV_HISTORY_FILE) {
            return Some(PathBuf::from(path));
        }
        let cache = env
            .get("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("HOME").map(|home| Path::new(&home).join(".cache")))?;
        Some(cache.join("dcs-wait").join("history.json"))
    }

    /// The history at `path`; empty, with a warning, when it cannot be read.
    pub fn load(path: &Path) -> History {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return History::default(),
            Err(e) => {
                tracing::warn!(
                    "history {} not read ({e}); waiting without it",
                    path.display()
                );
                return History::default();
            }
        };
        match serde_json::from_slice::<History>(&text) {
            Ok(mut history) => {
                history.bound();
                history
            }
            Err(e) => {
                tracing::warn!(
                    "history {} is corrupt ({e}); waiting without it",
                    path.display()
                );
                History::default()
            }
        }
    }

    /// Writes the history atomically, creating its directory.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::common::file::write_atomically(path, &json)
    }

    /// One more finished job of `job_type`.
    pub fn record(&mut self, job_type: &str, duration: Duration) {
        if !self.types.contains_key(job_type) && self.types.len() >= MAX_TYPES {
            return;
        }
        let durations = self.types.entry(job_type.to_string()).or_default();
        durations.push_back(duration.as_millis().min(u64::MAX as u128) as u64);
        self.bound();
    }

    /// A file written by hand (or by a future version) may hold more than we keep.
    fn bound(&mut self) {
        while self.types.len() > MAX_TYPES {
            self.types.pop_last();
        }
        for durations in self.types.values_mut() {
            while durations.len() > KEEP {
                durations.pop_front();
            }
        }
    }

    /// Where jobs of `job_type` usually end: from a log-normal fit of their durations once
    /// enough are known, else the built-in [`prior`].
    pub fn window(&self, job_type: &str) -> Option<Window> {
        self.fitted(job_type).or_else(|| prior(job_type))
    }

    fn fitted(&self, job_type: &str) -> Option<Window> {
        let durations = self.types.get(job_type)?;
        if durations.len() < MIN_SAMPLES {
            return None;
        }
        let logs: Vec<f64> = durations
            .iter()
            .map(|&ms| (ms.max(1) as f64).ln())
            .collect();
        let n = logs.len() as f64;
        let mean = logs.iter().sum::<f64>() / n;
        let variance = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // A run of identical durations would give a window of zero width: assume some spread.
        let sigma = variance.sqrt().max(0.1);
        let median = Duration::from_secs_f64(mean.exp() / 1000.0);
        Some(Window::log_normal(median, sigma))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_from_enough_durations() {
        let mut history = History::default();
        for s in [100, 110, 90, 105] {
            history.record("backupDCSInstance", Duration::from_secs(s));
        }
        assert_eq!(history.window("backupDCSInstance"), None);
        history.record("backupDCSInstance", Duration::from_secs(95));
        let window = history.window("backupDCSInstance").unwrap();
        assert!(window.opens < Duration::from_secs(95) && window.opens > Duration::from_secs(80));
        assert!(
            window.closes > Duration::from_secs(110) && window.closes < Duration::from_secs(160)
        );
        // Without enough of its own, a type has the built-in prior, if any.
        assert_eq!(
            history.window("masterStandbySwapJob"),
            prior("masterStandbySwapJob")
        );
        assert_eq!(history.window("restoreDCSInstance"), None);
    }

    #[test]
    fn bounded_by_type_and_by_count() {
        let mut history = History::default();
        for i in 0..100 {
            history.record("t", Duration::from_millis(i));
        }
        assert_eq!(history.types["t"].len(), KEEP);
        assert_eq!(history.types["t"][0], 100 - KEEP as u64);
        for i in 0..100 {
            history.record(&format!("type-{i:03}"), Duration::from_secs(1));
        }
        assert_eq!(history.types.len(), MAX_TYPES);
    }

    #[test]
    fn saved_atomically_and_read_back_or_ignored_when_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("history.json");
        assert_eq!(History::load(&path), History::default());
        let mut history = History::default();
        history.record("masterStandbySwapJob", Duration::from_millis(2869));
        history.save(&path).unwrap();
        assert_eq!(History::load(&path), history);
        std::fs::write(&path, b"{ not json").unwrap();
        assert_eq!(History::load(&path), History::default());
        assert!(history
            .save(Path::new("/proc/dcs-wait/history.json"))
            .is_err());
    }

    #[test]
    fn the_path_from_the_environment() {
        let env = Env::from_pairs([(ENV_HISTORY_FILE, "/x/h.json"), ("HOME", "/home/u")]);
        assert_eq!(History::path(&env), Some(PathBuf::from("/x/h.json")));
        let env = Env::from_pairs([("XDG_CACHE_HOME", "/c"), ("HOME", "/home/u")]);
        assert_eq!(
            History::path(&env),
            Some(PathBuf::from("/c/dcs-wait/history.json"))
        );
        let env = Env::from_pairs([("HOME", "/home/u")]);
        assert_eq!(
            History::path(&env),
            Some(PathBuf::from("/home/u/.cache/dcs-wait/history.json"))
        );
    }
}
