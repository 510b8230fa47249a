//! The formats a run's reports are rendered in, one file each: [`text`] and [`json`] on
//! stdout, [`junit`] for test-report viewers, [`github`] for GitHub Actions.

pub mod github;
pub mod json;
pub mod junit;
pub mod text;

use dcs_wait::JobDuration;
use dcs_wait::JobReport;
use std::time::Duration;

/// A duration for people, the one form of every output: `2.869s` (`exact`: to the
/// millisecond, as a report's) or `12s` (a countdown's), `4m 05s`, `1h 02m 05s`.
pub fn human_duration(d: Duration, exact: bool) -> String {
    let secs = d.as_secs();
    match secs {
        0..=59 if exact => format!("{secs}.{:03}s", d.subsec_millis()),
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m {:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// The columns of every table of reports (the text report, the step summary), in order:
/// INSTANCE when some report is about an instance, DETAIL last.
pub fn columns(reports: &[JobReport]) -> Vec<&'static str> {
    let instances = reports.iter().any(|r| r.instance_id.is_some());
    let all = [
        "INSTANCE", "JOB", "TYPE", "STATUS", "OUTCOME", "DURATION", "POLLS", "DETAIL",
    ];
    all.into_iter()
        .filter(|c| instances || *c != "INSTANCE")
        .collect()
}

/// One report's cells under `columns`: `None` where nothing is known, for each format to
/// mark in its own way.
pub fn cells(report: &JobReport, columns: &[&str]) -> Vec<Option<String>> {
    columns
        .iter()
        .map(|column| match *column {
            "INSTANCE" => report.instance_id.as_ref().map(ToString::to_string),
            "JOB" => report.operation_id().map(str::to_string),
            "TYPE" => report.job_type.clone(),
            "STATUS" => report.status.clone(),
            "OUTCOME" => Some(report.outcome.as_str().to_string()),
            "DURATION" => match report.duration() {
                JobDuration::Millis(ms) => Some(report_duration(ms)),
                _ => None,
            },
            "POLLS" => Some(report.polls.to_string()),
            _ => Some(crate::hints::detail(report)).filter(|d| !d.is_empty()),
        })
        .collect()
}

/// A report's duration: [`human_duration`] to the millisecond.
pub fn report_duration(ms: u64) -> String {
    human_duration(Duration::from_millis(ms), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(report_duration(2869), "2.869s");
        assert_eq!(report_duration(245_000), "4m 05s");
        assert_eq!(report_duration(3_725_000), "1h 02m 05s");
        assert_eq!(human_duration(Duration::from_millis(12_900), false), "12s");
        assert_eq!(
            human_duration(Duration::from_secs(3_725), false),
            "1h 02m 05s"
        );
    }
}
