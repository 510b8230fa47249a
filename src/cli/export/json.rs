//! JSON Lines: one object per job, exactly the fields of [`JobReport`], each line at most
//! [`MAX_LINE_BYTES`] long.

use crate::common::text::capped;
use crate::defuse::{defused, Syntax};
use dcs_wait::JobReport;
use serde_json::Value;

/// The longest line, in bytes, as written (escapes included): what a log viewer, a line
/// reader's buffer or a CI step shows whole. A thousand-key task details object is megabytes.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// A task's details, in characters of JSON, kept as an object when a line must be cut.
const DETAILS_CHARS: usize = 1_000;

/// A string's length, in characters, once every field has to be cut to fit.
const SHORT_CHARS: usize = 200;

pub fn render(reports: &[JobReport]) -> String {
    let mut out = String::new();
    for report in reports {
        // A report holds only strings, numbers and options: serialising cannot fail.
        if let Ok(value) = serde_json::to_value(report) {
            out.push_str(&bounded(value).to_string());
            out.push('\n');
        }
    }
    out
}

/// `report` within [`MAX_LINE_BYTES`], cut in the order that loses least: each task's
/// details past [`DETAILS_CHARS`] characters becomes its first characters as a string,
/// marked; then every string is cut to [`SHORT_CHARS`], marked; then the last tasks are left
/// out, their number in `tasks_cut`. A report that fits is left exactly as it is.
fn bounded(mut report: Value) -> Value {
    let fits = |v: &Value| defused(&v.to_string(), Syntax::Json).len() < MAX_LINE_BYTES;
    if fits(&report) {
        return report;
    }
    for task in tasks(&mut report).into_iter().flatten() {
        if let Some(details) = task.get_mut("details").filter(|d| !d.is_null()) {
            let text = details.to_string();
            if text.chars().count() > DETAILS_CHARS {
                *details = Value::String(capped(text, DETAILS_CHARS));
            }
        }
    }
    if fits(&report) {
        return report;
    }
    cut_strings(&mut report);
    if fits(&report) {
        return report;
    }
    let Some(all) = tasks(&mut report).map(std::mem::take) else {
        return report;
    };
    // The most tasks that fit, found by halving: each try serialises the whole report.
    let keep = |report: &mut Value, n: usize| {
        report["tasks"] = Value::Array(all[..n].to_vec());
        report["tasks_cut"] = (all.len() - n).into();
    };
    let (mut lo, mut hi) = (0, all.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        keep(&mut report, mid);
        if fits(&report) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    keep(&mut report, lo);
    report
}

fn tasks(report: &mut Value) -> Option<&mut Vec<Value>> {
    report.get_mut("tasks").and_then(Value::as_array_mut)
}

fn cut_strings(value: &mut Value) {
    match value {
        Value::String(text) if text.chars().count() > SHORT_CHARS => {
            *text = capped(std::mem::take(text), SHORT_CHARS);
        }
        Value::Array(items) => items.iter_mut().for_each(cut_strings),
        Value::Object(fields) => fields.values_mut().for_each(cut_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;
    use dcs_wait::ApiError;
    use dcs_wait::{Outcome, Subject};

    #[test]
    fn exactly_the_contract_fields_in_order() {
        assert_eq!(
            render(&[sample(Outcome::Failed)]),
            "{\"job_id\":\"j1\",\"instance_id\":null,\"job_type\":\"masterStandbySwapJob\",\"status\":\"FAIL\",\
             \"outcome\":\"failed\",\"begin_time\":1684191545379,\"end_time\":1684191548248,\
             \"duration_ms\":2869,\"fail_reason\":\"disk full\",\"tasks\":null,\"polls\":3,\"error\":null}\n"
        );
        let r = JobReport::not_begun(
            &Subject::Job("j2".parse().unwrap()),
            ApiError::from_response(
                403,
                br#"{"error_code":"111401003","error_msg":"no"}"#,
                Some("rid".into()),
            ),
        );
        let v: serde_json::Value = serde_json::from_str(render(&[r]).trim()).unwrap();
        assert_eq!(
            v["error"],
            serde_json::json!({"code":"111401003","message":"no","http_status":403,"request_id":"rid"})
        );
        assert_eq!(v["status"], serde_json::Value::Null);
    }

    fn task(details: Value) -> dcs_wait::TaskSeen {
        crate::sample::task("EXTEND", "FAILED", 1, 2, Some(details))
    }

    #[test]
    fn a_line_is_at_most_16_kib_cut_where_it_loses_least() {
        // A thousand keys of a thousand characters: a megabyte and more.
        let huge: serde_json::Map<String, Value> = (0..1000)
            .map(|n| (format!("k{n}"), Value::String("##".repeat(500))))
            .collect();
        let mut r = sample(Outcome::Failed);
        r.tasks = Some(vec![
            task(Value::Object(huge)),
            task(serde_json::json!({"a": 1})),
        ]);
        let line = render(&[r.clone()]);
        assert!(
            defused(&line, Syntax::Json).len() <= MAX_LINE_BYTES,
            "{}",
            line.len()
        );
        let v: Value = serde_json::from_str(line.trim()).unwrap();
        let details = v["tasks"][0]["details"].as_str().unwrap();
        assert!(details.starts_with("{\"k0\":\"####"), "{details}");
        assert!(details.ends_with(" more characters)"), "{details}");
        assert_eq!(
            v["tasks"][1]["details"],
            serde_json::json!({"a": 1}),
            "kept as it was"
        );
        assert_eq!(v["fail_reason"], "disk full");
        assert_eq!(v.get("tasks_cut"), None);

        // Thousands of tasks: the last ones are left out, and counted.
        r.tasks = Some(
            (0..2000)
                .map(|n| task(serde_json::json!({"n": n})))
                .collect(),
        );
        r.fail_reason = Some("x".repeat(1000));
        let line = render(&[r]);
        assert!(line.len() <= MAX_LINE_BYTES, "{}", line.len());
        let v: Value = serde_json::from_str(line.trim()).unwrap();
        let kept = v["tasks"].as_array().unwrap().len();
        assert!(kept > 10, "{kept}");
        assert_eq!(v["tasks_cut"], 2000 - kept);
        assert!(v["fail_reason"]
            .as_str()
            .unwrap()
            .ends_with("(800 more characters)"));
    }
}
