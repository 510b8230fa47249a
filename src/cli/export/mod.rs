//! The formats a run's reports are rendered in, one file each: [`text`] and [`json`] on
//! stdout, [`junit`] for test-report viewers, [`github`] for GitHub Actions.

pub mod github;
pub mod json;
pub mod junit;
pub mod text;

/// `2.869s`, `4m 05s`, `1h 02m 05s`.
pub fn human_duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..=59 => format!("{}.{:03}s", secs, ms % 1000),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m {:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(2869), "2.869s");
        assert_eq!(human_duration(245_000), "4m 05s");
        assert_eq!(human_duration(3_725_000), "1h 02m 05s");
    }
}
