//! Fuzzing, bounded so CI can run it: everything a server or a pipe can hand us goes through
//! the real parsers — the job body, the error body (with the whole classification of an
//! answer), the stdin job-id reader — and on into every report format. None may panic, and
//! what they accept must make sense. `PROPTEST_CASES` raises the number of cases (default
//! below); a case that ever fails is kept in `fuzz.proptest-regressions` beside this file and replayed
//! first on every run.

use crate::export::{github, json, junit, text};
use crate::stdin;
use dcs_wait::{ApiError, Job};
use dcs_wait::{ExitStatus, JobReport, Outcome, Subject};
use proptest::prelude::*;

/// The id rule, written out here independently of the library's own check.
fn is_identifier(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2_000),
        ..ProptestConfig::default()
    }
}

/// Every report format, on a report made from `job` (or none) and `error`.
fn render_everything(job: Option<&Job>, error: Option<ApiError>) {
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
            JobReport::new(
                &Subject::Job("job-1".parse().unwrap()),
                outcome,
                job,
                3,
                error.clone().map(Into::into),
            )
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

/// Strings a server might put where a number or a date belongs.
fn field_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(|n| Value::String(n.to_string())),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::String("9223372036854775808".into())),
        Just(Value::String("-9223372036854775808".into())),
        Just(Value::String("1.5e3".into())),
        Just(Value::String(String::new())),
        any::<bool>().prop_map(Value::Bool),
        ".{0,40}".prop_map(Value::String),
        Just(serde_json::json!({"nested": [1, 2]})),
    ]
}

/// Job bodies near the documented shape: every field present or not, of any type.
fn job_body() -> impl Strategy<Value = Vec<u8>> {
    let status = prop_oneof![
        Just("SUCCESS".to_string()),
        Just("FAIL".to_string()),
        Just("FAILED".to_string()),
        Just("RUNNING".to_string()),
        Just("INIT".to_string()),
        ".{0,12}",
    ];
    (
        proptest::option::of(status),
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("job_id"),
                    Just("job_type"),
                    Just("begin_time"),
                    Just("end_time"),
                    Just("fail_reason"),
                    Just("extra"),
                ],
                field_value(),
            ),
            0..6,
        ),
    )
        .prop_map(|(status, fields)| {
            let mut body = serde_json::Map::new();
            if let Some(status) = status {
                body.insert("status".into(), status.into());
            }
            for (name, value) in fields {
                body.insert(name.into(), value);
            }
            serde_json::to_vec(&body).unwrap_or_default()
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_as_a_job_body(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(job) = Job::parse(&body) {
            let _ = (job.duration(), job.age(), job.duration_ms());
            render_everything(Some(&job), None);
        }
    }

    #[test]
    fn job_bodies_of_any_field_type(body in job_body(), answered_at in any::<Option<i64>>()) {
        if let Ok(job) = Job::parse(&body) {
            let job = Job { answered_at, ..job };
            let _ = job.age();
            // A duration is only ever end − begin, never negative.
            if let Some(ms) = job.duration_ms() {
                let (begin, end) = (job.begin_time.unwrap(), job.end_time.unwrap());
                prop_assert!(end >= begin);
                prop_assert_eq!(ms as i128, end as i128 - begin as i128);
            }
            render_everything(Some(&job), None);
        }
    }

    /// Any error answer — any status, any body (error bodies in any shape), any request id —
    /// read as the client reads it and reported in every format. (How the client classifies
    /// an answer, `Retry-After` and `Date` included, is fuzzed beside `classify`.)
    #[test]
    fn any_error_answer_is_reported(
        status in prop_oneof![any::<u16>(), 100u16..600],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            job_body(),
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
        render_everything(None, Some(error));
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
    render_everything(None, Some(error));
}
