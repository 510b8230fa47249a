//! JUnit XML (`--junit FILE`): one test case per job, so that CI test-report views show
//! the jobs beside the tests. A FAIL is a failure carrying `fail_reason`; a timeout is a
//! failure too (the job did not finish in time); an unreadable job is an error; an
//! interrupted wait is skipped. The job's duration is the case's time.

use crate::defuse::{defused, Syntax};
use dcs_wait::{JobReport, Outcome};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;
use std::time::Duration;

/// Why the JUnit file was not written.
#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    /// The XML could not be made.
    #[error(transparent)]
    Render(#[from] quick_junit::SerializeError),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] std::io::Error),
}

/// Renders `reports` and writes them to `path` atomically.
pub fn write(path: &Path, reports: &[JobReport]) -> Result<(), JunitError> {
    let xml = render(reports)?;
    crate::common::file::write_atomically(path, xml.as_bytes())?;
    Ok(())
}

/// The JUnit XML of `reports`.
pub fn render(reports: &[JobReport]) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new("dcs-wait");
    for report in reports {
        let mut status = match report.outcome {
            Outcome::Success => TestCaseStatus::success(),
            Outcome::Failed | Outcome::Timeout => {
                TestCaseStatus::non_success(NonSuccessKind::Failure)
            }
            Outcome::Interrupted => TestCaseStatus::skipped(),
            // Error, and any outcome the library adds.
            _ => TestCaseStatus::non_success(NonSuccessKind::Error),
        };
        if report.outcome != Outcome::Success {
            let detail = crate::hints::detail(report);
            status.set_message(if detail.is_empty() {
                format!(
                    "{} ({})",
                    report.outcome.as_str(),
                    report.status.as_deref().unwrap_or("no status")
                )
            } else {
                detail
            });
            status.set_type(report.outcome.as_str());
        }
        let about = match (&report.instance_id, &report.job_id) {
            (Some(instance), Some(job)) => format!("{instance} (job {job})"),
            _ => report.name().to_string(),
        };
        let name = match &report.job_type {
            Some(job_type) => format!("{job_type} {about}"),
            None => about,
        };
        let mut case = TestCase::new(name, status);
        case.set_classname("dcs-wait");
        if let Some(ms) = report.duration_ms {
            case.set_time(Duration::from_millis(ms));
        }
        suite.add_test_case(case);
    }
    let mut junit = Report::new("dcs-wait");
    junit.add_test_suite(suite);
    // Test-report actions print messages into the log; a reader still gets the exact text.
    junit
        .to_string()
        .map(|xml| defused(&xml, Syntax::Xml).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;

    #[test]
    fn one_case_per_job_with_failures_and_times() {
        let mut ok = sample(Outcome::Success);
        ok.fail_reason = None;
        let xml = render(&[ok, sample(Outcome::Failed), sample(Outcome::Timeout)]).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].attribute("time"), Some("2.869"));
        assert_eq!(cases[0].attribute("name"), Some("masterStandbySwapJob j1"));
        let failure = cases[1]
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(failure.attribute("message"), Some("disk full"));
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("failures"), Some("2"));
    }

    #[test]
    fn a_runner_command_in_a_reason_is_escaped_and_reads_back_exact() {
        let mut failed = sample(Outcome::Failed);
        failed.fail_reason = Some("##[error file=a.rs]approved".into());
        let xml = render(&[failed]).unwrap();
        assert!(!xml.contains("##["), "{xml}");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("##[error file=a.rs]approved")
        );
    }
}
