//! What to do about the errors a user can act on, in this command line's words (a dry run's
//! flag among them): the library reports what happened, the command line adds what to do.

use dcs_wait::{ApiError, JobReport, WaitError};

/// What a person reads after a report's status: its detail, then what to do about its error
/// when there is something to do.
pub fn detail(report: &JobReport) -> String {
    let detail = report.detail();
    match report
        .error
        .as_ref()
        .and_then(WaitError::request)
        .and_then(hint)
    {
        Some(hint) => format!("{detail} — {hint}"),
        None => detail,
    }
}

/// What to do about the errors a user can act on.
fn hint(error: &ApiError) -> Option<&'static str> {
    let code = error.dcs_code()?;
    Some(match &*code {
        "DCS.4070" => "the job id is not valid: check it is the job_id the operation returned",
        "DCS.4094" => "this job cannot be queried through the job API",
        "DCS.4087" => {
            "restoring is allowed only from a backup that succeeded: pick one whose status \
             is succeed (dcs-wait restore --dry-run checks it)"
        }
        "DCS.4086" => "only master/standby (and, for backups, cluster) instances support this",
        "111404022" => "the DCS instance does not exist in this project and region",
        "111401001" | "111401002" | "111401003" | "111401004" => {
            "check the credentials, the project id and the region"
        }
        "APIG.0308" | "APIGW.0308" => "the API is throttling requests",
        c if c.starts_with("APIG.03") || c.starts_with("APIGW.03") => {
            "check the credentials: AK/SK, security token or IAM token"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_in_either_spelling_gets_its_hint() {
        let body =
            |code: &str| format!(r#"{{"error_code": "{code}", "error_msg": "Invalid job ID."}}"#);
        for code in ["111400070", "DCS.4070"] {
            let error = ApiError::from_response(400, body(code).as_bytes(), None);
            assert_eq!(
                hint(&error),
                Some("the job id is not valid: check it is the job_id the operation returned")
            );
        }
        let unknown = ApiError::from_response(400, body("DCS.9999").as_bytes(), None);
        assert_eq!(hint(&unknown), None);
    }
}
