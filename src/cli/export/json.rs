//! JSON Lines: one object per job, exactly the fields of [`JobReport`].

use crate::wait::JobReport;

pub fn render(reports: &[JobReport]) -> String {
    let mut out = String::new();
    for report in reports {
        // A report holds only strings, numbers and options: serialising cannot fail.
        if let Ok(line) = serde_json::to_string(report) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::wait::{sample, Outcome, Subject};

    #[test]
    fn exactly_the_contract_fields_in_order() {
        assert_eq!(
            render(&[sample(Outcome::Failed)]),
            "{\"job_id\":\"j1\",\"instance_id\":null,\"job_type\":\"masterStandbySwapJob\",\"status\":\"FAIL\",\
             \"outcome\":\"failed\",\"begin_time\":1684191545379,\"end_time\":1684191548248,\
             \"duration_ms\":2869,\"fail_reason\":\"disk full\",\"tasks\":null,\"polls\":3,\"error\":null}\n"
        );
        let mut r = JobReport::new(
            &Subject::Job("j2".parse().unwrap()),
            Outcome::Error,
            None,
            1,
            None,
        );
        r.error = Some(ApiError::from_response(
            403,
            br#"{"error_code":"111401003","error_msg":"no"}"#,
            Some("rid".into()),
        ));
        let v: serde_json::Value = serde_json::from_str(render(&[r]).trim()).unwrap();
        assert_eq!(
            v["error"],
            serde_json::json!({"code":"111401003","message":"no","http_status":403,"request_id":"rid"})
        );
        assert_eq!(v["status"], serde_json::Value::Null);
    }
}
