//! Fuzzing, bounded so CI can run it: everything a server or a pipe can hand us goes through
//! the real parsers — any text in a job's answer (through a real wait on dcs-sim in-process),
//! the error body, the stdin job-id reader — and on into every report format. None may
//! panic, and what they accept must make sense. (What a report makes of any job body, bytes
//! and all, is fuzzed in the library, beside the report.) `PROPTEST_CASES` raises the number of cases (default
//! below); a case that ever fails is kept in `proptest-regressions/cli/fuzz.txt` and replayed
//! first on every run.

use crate::export::{github, json, junit, text};
use crate::sample;
use crate::stdin;
use dcs_wait::sim::{Fault, FaultRule};
use dcs_wait::{ApiError, ExitStatus, JobReport, Outcome, Subject, WaitOptions};
use proptest::prelude::*;

/// The id rule, written out here independently of the library's own check.
fn is_identifier(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Every report format, on `report` with each outcome in turn.
fn render_everything(report: &JobReport) {
    let outcomes = [
        Outcome::Success,
        Outcome::Failed,
        Outcome::Timeout,
        Outcome::Error,
        Outcome::Interrupted,
    ];
    let reports: Vec<JobReport> = outcomes
        .iter()
        .map(|&outcome| {
            let mut report = report.clone();
            report.outcome = outcome;
            report
        })
        .collect();
    let status = ExitStatus::of_all(&reports);
    // Whatever the server sent, nothing printed can hold a control character (an escape
    // sequence, a forged log line) or a bidirectional override.
    let printable = |text: &str| {
        !text
            .chars()
            .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c))
    };
    for report in &reports {
        let shown = [
            crate::hints::detail(report),
            report.status.clone().unwrap_or_default(),
            report.job_type.clone().unwrap_or_default(),
        ];
        for text in shown {
            assert!(printable(&text), "{text:?}");
        }
    }
    let lines = json::render(&reports);
    for line in lines.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("each JSON report line parses");
    }
    let _ = text::render(&reports, None);
    let _ = text::render(&reports, Some(60));
    let xml = junit::render(&reports).expect("JUnit renders");
    roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let _ = github::summary(&reports, status);
    let _ = github::outputs(&reports, status);
}

/// What a server may say in a job's answer, in any text: its type, its status, its reason,
/// and an error answer's code, message and request id. Status and error may be none.
fn server_text() -> impl Strategy<Value = serde_json::Value> {
    let error = (
        400u16..600,
        ".{0,20}",
        ".{0,60}",
        proptest::option::of(".{0,40}"),
    );
    (
        ".{0,40}",
        prop_oneof![
            Just("SUCCESS".to_string()),
            Just("FAIL".to_string()),
            ".{0,12}"
        ],
        proptest::option::of(".{0,80}"),
        proptest::option::of(error),
    )
        .prop_map(|(job_type, status, reason, error)| {
            let faults = match error {
                Some((http_status, code, message, request_id)) => vec![FaultRule::on(
                    &[1, 2],
                    Fault::Error {
                        http_status,
                        error_code: Some(code),
                        error_msg: Some(message),
                        retry_after: None,
                        request_id,
                    },
                )],
                None => vec![FaultRule::until(
                    60_000,
                    Fault::Status {
                        status: status.clone(),
                    },
                )],
            };
            serde_json::json!({"jobs": [{
                "job_id": "job-1", "job_type": job_type, "run_ms": 1000,
                "final_status": status, "fail_reason": reason, "faults": faults,
            }]})
        })
}

/// The report of a wait on `scenario`'s job, in virtual time, within 30 s.
fn waited(scenario: serde_json::Value) -> JobReport {
    let sim = sample::in_process(scenario);
    sample::waited(move || async move {
        let options = WaitOptions::default().with_timeout(std::time::Duration::from_secs(30));
        let job_id = "job-1".parse().unwrap_or_else(|e| panic!("{e}"));
        dcs_wait::wait_one(sim.client(), &job_id, &options).await
    })
}

proptest! {
    #![proptest_config(crate::common::proptest_config(2_000))]

    /// Any text in a job's answer — read by the real client from dcs-sim, classified,
    /// made printable — reported in every format.
    #[test]
    fn any_server_text_in_every_format(scenario in server_text()) {
        render_everything(&waited(scenario));
    }

    /// Any error answer — any status, any body (error bodies in any shape), any request id —
    /// read as the client reads it and reported in every format. (How the client classifies
    /// an answer, `Retry-After` and `Date` included, is fuzzed beside `classify`.)
    #[test]
    fn any_error_answer_is_reported(
        status in prop_oneof![any::<u16>(), 100u16..600],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            // A job's body where an error was expected.
            ".{0,40}".prop_map(|status| {
                serde_json::to_vec(&serde_json::json!({"job_id": "job-1", "status": status}))
                    .unwrap_or_default()
            }),
            (".{0,20}", ".{0,40}").prop_map(|(code, msg)| {
                serde_json::to_vec(&serde_json::json!({"error_code": code, "error_msg": msg}))
                    .unwrap_or_default()
            }),
            (".{0,20}", ".{0,40}").prop_map(|(code, msg)| {
                serde_json::to_vec(&serde_json::json!({"error": {"code": code, "message": msg}}))
                    .unwrap_or_default()
            }),
        ],
        request_id in proptest::option::of(".{0,40}"),
    ) {
        let error = ApiError::from_response(status, &body, request_id);
        let _ = error.to_string();
        render_everything(&JobReport::not_begun(&Subject::Job("job-1".parse().unwrap()), error));
    }

    #[test]
    fn any_bytes_on_stdin(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(ids) = stdin::parse::<dcs_wait::JobId>(&input) {
            for id in ids {
                prop_assert!(is_identifier(id.as_str()), "{id:?}");
            }
        }
    }

    /// Stdin near what a pipeline sends: ids, JSON of any depth, lines, noise.
    #[test]
    fn job_id_lists_of_any_shape(
        parts in proptest::collection::vec(
            prop_oneof![
                "[a-z0-9-]{1,12}",
                Just("{\"job_id\": \"a-1\"}".to_string()),
                Just("[\"b-2\", {\"job_id\": \"c-3\"}]".to_string()),
                Just("{\"jobs\": [{\"job_id\": \"d-4\"}]}".to_string()),
                Just("\n".to_string()),
                Just(" ".to_string()),
                Just("\"".to_string()),
                Just("{".to_string()),
                Just("]".to_string()),
                ".{0,8}",
            ],
            0..12,
        ),
    ) {
        let input = parts.concat();
        if let Ok(ids) = stdin::parse::<dcs_wait::JobId>(input.as_bytes()) {
            for id in ids {
                prop_assert!(is_identifier(id.as_str()), "{id:?} from {input:?}");
            }
        }
    }
}

/// The case the classification property found: a request id holding U+FFFE, which XML does
/// not allow, reached the JUnit report as it was.
#[test]
fn a_noncharacter_from_the_server_keeps_every_report_well_formed() {
    let error = ApiError::from_response(0, b"", Some("\u{fffe}".into()));
    render_everything(&JobReport::not_begun(
        &Subject::Job("job-1".parse().unwrap()),
        error,
    ));
}
