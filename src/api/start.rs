//! Starting an operation — a master/standby swap, a backup, a restore — and what the answer
//! to one start proves.
//!
//! None of the three is idempotent, and no DCS request takes an idempotency key: a swap
//! repeated after its answer was lost swaps the roles back, a backup repeated makes another
//! backup, a restore repeated throws away what was written in between. So the answer is
//! sorted by what it proves about the one thing that matters — whether the operation
//! started — and only an answer proving that nothing started may lead to another call.

use super::answer::{classify_as, PollError, Reply};
use super::error::{dcs_form, ApiError, ErrorKind};
use super::ids::JobId;
use std::time::{Duration, SystemTime};

/// The codes with which DCS refuses a start for now because of what the instance is doing
/// (restarting, resizing, backing up…): nothing started, and it will be accepted later.
/// Each with what it means. The API also spells each in its legacy numeric form
/// (`111400017` for `DCS.4017`): [`busy_with`] knows both.
pub const BUSY_CODES: &[(&str, &str)] = &[
    ("DCS.4049", "the instance is not running"),
    ("DCS.4026", "not allowed in the instance's current state"),
    ("DCS.4017", "a job is still running"),
    ("DCS.4096", "backing up"),
    ("DCS.4097", "restoring"),
    ("DCS.4111", "restarting"),
    ("DCS.4113", "extending"),
    ("DCS.4114", "configuring"),
    ("DCS.4115", "changing the password"),
    ("DCS.4116", "upgrading"),
    ("DCS.4117", "rolling back"),
    ("DCS.4118", "creating"),
    ("DCS.4120", "freezing"),
    // Retried by Huawei Cloud's Terraform provider too.
    ("DCS.4121", "resetting the password"),
    ("DCS.4975", "creating or restarting"),
];

/// What the instance is busy with, by a refusal's code in either spelling; `None` when the
/// code is not one of [`BUSY_CODES`].
pub fn busy_with(code: &str) -> Option<&'static str> {
    let code = dcs_form(code);
    BUSY_CODES
        .iter()
        .find(|(busy, _)| *busy == code)
        .map(|(_, meaning)| *meaning)
}

/// What the answer to one start proves; `T` is what a started one is known by (a job id,
/// a backup id, a restore id).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Start<T> {
    /// It started, as this.
    Started(T),
    /// Nothing started, and another call may go through soon: 429 (with its `Retry-After`),
    /// a connection that never opened, credentials not at hand.
    NotStarted {
        /// What happened.
        error: ApiError,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Nothing started: the instance is busy with something else (DCS's `DCS.4049` and its
    /// kin: the codes that say so, in both spellings).
    Busy(ApiError),
    /// Refused for good: the operation is not supported (`DCS.4855`, `DCS.4086`), a restore
    /// from a backup that did not succeed (`DCS.4087`), the credentials or rights are wrong,
    /// the instance does not exist, or another 4xx.
    Refused(ApiError),
    /// It may have started: the request went out and no answer says what came of it (a
    /// timeout, a connection dropped after sending, a 5xx, an unreadable 200). Never call
    /// again: look for its task or record instead.
    Ambiguous(ApiError),
}

/// What a swap's start proves: a swap starts a job.
pub type SwapStart = Start<JobId>;

/// Why a 200 answer to a start holds no usable id.
#[derive(Debug, thiserror::Error)]
#[error("the answer to the start holds no usable {0}")]
pub struct NoId(&'static str);

/// The `field` of a start's 200 body, `{"field": "…"}`, or the plain text `field:<id>` some
/// DCS operations answer with.
pub fn parse_id<T: std::str::FromStr>(body: &[u8], field: &'static str) -> Result<T, NoId> {
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) {
        let id = fields.get(field).and_then(serde_json::Value::as_str);
        return id.and_then(|id| id.parse().ok()).ok_or(NoId(field));
    }
    let text = std::str::from_utf8(body).map_err(|_| NoId(field))?.trim();
    let id = text
        .strip_prefix(field)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or(NoId(field))?;
    id.trim().parse().map_err(|_| NoId(field))
}

/// The job id of a swap's 200 body.
pub fn parse_job_id(body: &[u8]) -> Result<JobId, NoId> {
    parse_id(body, "job_id")
}

/// What the outcome of one start request proves: `sent` is what the transport gave back,
/// `parse` reads a 200's body for what the started operation is known by.
pub fn classify_start<T, E>(
    sent: Result<Reply, PollError>,
    now: SystemTime,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Start<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let reply = match sent {
        Ok(reply) => reply,
        Err(PollError::Transient { error, .. })
            if matches!(error.kind, ErrorKind::Connect | ErrorKind::Credentials) =>
        {
            return Start::NotStarted {
                error,
                retry_after: None,
            }
        }
        // An untrusted certificate ends the handshake before anything is sent.
        Err(PollError::Final(error)) => return Start::Refused(error),
        Err(other) => return Start::Ambiguous(other.api_error().clone()),
    };
    let status = reply.status;
    match classify_as(reply, now, |body, _| parse(body)) {
        Ok(id) => Start::Started(id),
        Err(PollError::Transient { error, retry_after }) if status == 429 => {
            Start::NotStarted { error, retry_after }
        }
        Err(PollError::Final(error))
            if status == 400 && error.code.as_deref().and_then(busy_with).is_some() =>
        {
            Start::Busy(error)
        }
        Err(PollError::Final(error) | PollError::NotFound(error)) => Start::Refused(error),
        Err(PollError::Transient { error, .. }) => Start::Ambiguous(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::answer::AnswerHeaders;

    fn answer(status: u16, body: &str) -> SwapStart {
        let headers = AnswerHeaders {
            retry_after: Some("3".into()),
            ..AnswerHeaders::default()
        };
        let reply = Reply {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        };
        classify_start(Ok(reply), SystemTime::UNIX_EPOCH, parse_job_id)
    }

    fn dcs(code: &str) -> String {
        format!(r#"{{"error_code": "{code}", "error_msg": "no"}}"#)
    }

    #[test]
    fn a_job_id_in_either_form_is_a_start() {
        let id: JobId = "ff80".parse().unwrap();
        assert_eq!(
            answer(200, r#"{"job_id": "ff80"}"#),
            SwapStart::Started(id.clone())
        );
        assert_eq!(answer(200, " job_id:ff80\n"), SwapStart::Started(id));
    }

    #[test]
    fn only_proof_that_nothing_started_allows_another_call() {
        assert!(matches!(
            answer(429, &dcs("APIG.0308")),
            SwapStart::NotStarted { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        // Every busy code, in both of the API's spellings.
        for (code, _) in BUSY_CODES {
            let numeric = code.replace("DCS.4", "111400");
            for code in [code.to_string(), numeric] {
                let start = answer(400, &dcs(&code));
                assert!(matches!(start, SwapStart::Busy(_)), "{code}: {start:?}");
            }
        }
        for (code, meaning) in [
            ("111400017", "a job is still running"),
            ("DCS.4121", "resetting the password"),
        ] {
            assert_eq!(busy_with(code), Some(meaning));
        }
        assert_eq!(busy_with("111400086"), None);
        assert_eq!(busy_with("1114000171"), None);
        for (status, body) in [
            (400, dcs("DCS.4855")),
            (400, dcs("DCS.4086")),
            (400, dcs("111400086")),
            (401, dcs("APIGW.0301")),
            (403, dcs("111401004")),
            (404, dcs("111404022")),
            (409, dcs("DCS.4049")),
            (302, String::new()),
        ] {
            let start = answer(status, &body);
            assert!(
                matches!(start, SwapStart::Refused(_)),
                "{status}: {start:?}"
            );
        }
        for (status, body) in [
            (500, dcs("DCS.5000")),
            (502, "<html>bad gateway</html>".to_string()),
            (504, String::new()),
            (408, String::new()),
            (200, "{}".to_string()),
            (200, r#"{"job_id": "a/b"}"#.to_string()),
            (200, "job_id:".to_string()),
        ] {
            let start = answer(status, &body);
            assert!(
                matches!(start, SwapStart::Ambiguous(_)),
                "{status}: {start:?}"
            );
        }
    }

    #[test]
    fn without_an_answer_it_depends_on_whether_anything_was_sent() {
        let transient = |kind: ErrorKind| {
            classify_start(
                Err(PollError::transient(ApiError::new(kind, "x"))),
                SystemTime::UNIX_EPOCH,
                parse_job_id,
            )
        };
        assert!(matches!(
            transient(ErrorKind::Connect),
            SwapStart::NotStarted { .. }
        ));
        assert!(matches!(
            transient(ErrorKind::Credentials),
            SwapStart::NotStarted { .. }
        ));
        for kind in [
            ErrorKind::RequestTimeout,
            ErrorKind::Transport,
            ErrorKind::Body,
            ErrorKind::BodyTooLarge,
        ] {
            assert!(
                matches!(transient(kind), SwapStart::Ambiguous(_)),
                "{kind:?}"
            );
        }
        let tls = classify_start(
            Err(PollError::Final(ApiError::new(ErrorKind::Tls, "untrusted"))),
            SystemTime::UNIX_EPOCH,
            parse_job_id,
        );
        assert!(matches!(tls, SwapStart::Refused(_)));
    }
}
