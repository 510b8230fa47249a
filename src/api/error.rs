//! What went wrong with one request, in the words the API used.
//!
//! Huawei Cloud answers errors in three shapes: DCS's `{"error_code", "error_msg"}`, some
//! services' `{"error": {"code", "message"}}`, and API Gateway's own `APIG.xxxx` /
//! `APIGW.xxxx` codes in the first shape. Proxies in between answer HTML. Whatever came, the
//! report keeps the code, the message, the HTTP status and the `X-Request-Id` that support
//! asks for.

use super::untrusted::printable;
use crate::common::causes::said_with_causes;
use serde::{Deserialize, Serialize};
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// What went wrong with a request, as a library user matches on it (what a wait concluded
/// is a [`WaitError`](crate::WaitError)). The JSON report's `error.code` is the
/// API's own code when it sent one, else the word [`ErrorKind::code`] gives (none for an
/// error answer without a code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with an error status (4xx, 5xx): the API refused, or failed.
    Http,
    /// 404, or 400 `DCS.4070` ("invalid task id"): the job or instance does not exist (past
    /// the grace period, for a job).
    NotFound,
    /// A redirect, which is never followed (it would carry the signed headers away).
    Redirect,
    /// A connection could not be opened (nothing was sent).
    Connect,
    /// No answer within the request timeout.
    RequestTimeout,
    /// The connection failed after the request went out.
    Transport,
    /// The body of the answer could not be read.
    Body,
    /// The body of the answer was larger than 1 MiB: cut off unread.
    BodyTooLarge,
    /// A 200 whose body is not what the API documents.
    MalformedBody,
    /// The answer was about another job than the one asked for.
    JobIdMismatch,
    /// No credentials could be had for the request.
    Credentials,
    /// The server's certificate is not trusted.
    Tls,
    /// API Gateway refused our signature with a clock further from ours than dcs-wait will
    /// correct: the machine's clock is wrong, or the answer is not the real gateway's.
    ClockSkew,
}

impl ErrorKind {
    fn of_status(http_status: u16) -> ErrorKind {
        match http_status {
            404 => ErrorKind::NotFound,
            300..=399 => ErrorKind::Redirect,
            _ => ErrorKind::Http,
        }
    }

    /// The word the JSON report's `error.code` gives it when the API sent no code of its
    /// own; none for an error answer ([`Http`](ErrorKind::Http), [`NotFound`](ErrorKind::NotFound)).
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::Http | ErrorKind::NotFound => return None,
            ErrorKind::Redirect => "redirect",
            ErrorKind::Connect => "connect",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::Body => "body",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::MalformedBody => "malformed_body",
            ErrorKind::JobIdMismatch => "job_id_mismatch",
            ErrorKind::Credentials => "credentials",
            ErrorKind::Tls => "tls",
            ErrorKind::ClockSkew => "clock_skew",
        })
    }
}

/// One failed request, as reported in `error` of the JSON report. Two are equal when they
/// say the same: the error underneath (the HTTP stack's own value) is not compared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The API's own `error_code` (`111400070`, `APIG.0308`, …), when it sent one.
    pub code: Option<String>,
    /// What happened, in the API's words or ours; printable.
    pub message: String,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// The answer's `X-Request-Id`, which support asks for.
    pub request_id: Option<String>,
    /// The error underneath, for [`Error::source`].
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl PartialEq for ApiError {
    fn eq(&self, other: &ApiError) -> bool {
        (
            self.kind,
            &self.code,
            &self.message,
            self.http_status,
            &self.request_id,
        ) == (
            other.kind,
            &other.code,
            &other.message,
            other.http_status,
            &other.request_id,
        )
    }
}

impl Eq for ApiError {}

/// As the JSON report has it: `{code, message, http_status, request_id}`.
impl Serialize for ApiError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("ApiError", 4)?;
        s.serialize_field("code", &self.wire_code())?;
        s.serialize_field("message", &self.message_and_causes())?;
        s.serialize_field("http_status", &self.http_status)?;
        s.serialize_field("request_id", &self.request_id)?;
        s.end()
    }
}

/// The longest stretch of a non-JSON error body kept in a message.
const SNIPPET_CHARS: usize = 160;

#[derive(Deserialize)]
struct FlatBody {
    error_code: Option<serde_json::Value>,
    error_msg: Option<String>,
    request_id: Option<String>,
    error: Option<NestedBody>,
}

#[derive(Deserialize)]
struct NestedBody {
    code: Option<serde_json::Value>,
    message: Option<String>,
}

impl ApiError {
    /// An error of `kind` with no answer of the API behind it.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            code: None,
            message: message.into(),
            http_status: None,
            request_id: None,
            source: None,
        }
    }

    /// The same error, with `source` as the error underneath it.
    pub fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> ApiError {
        self.source = Some(Arc::new(source));
        self
    }

    /// The message, then the error underneath and each of its own sources: all that is
    /// known, once each (a layer that repeats the one under it is said once).
    pub fn message_and_causes(&self) -> String {
        said_with_causes(self.message.clone(), self)
    }

    /// Displays as the error does, with its causes: for a log or a report, where nothing
    /// walks the sources.
    pub fn with_causes(&self) -> WithCauses<'_> {
        WithCauses {
            error: self,
            request_id: true,
        }
    }

    /// The code the report gives: the API's own, else the kind's word.
    pub fn wire_code(&self) -> Option<&str> {
        self.code.as_deref().or(self.kind.code())
    }

    /// Reads an error answer in any of the shapes above; never fails. Every text in it comes
    /// from the server, so it is made printable: control and bidi characters escaped, length capped.
    pub fn from_response(http_status: u16, body: &[u8], request_id: Option<String>) -> ApiError {
        let mut error = ApiError::parse(http_status, body, request_id);
        error.code = error.code.map(|c| printable(&c));
        error.message = printable(&error.message);
        error.request_id = error.request_id.map(|id| printable(&id));
        error
    }

    fn parse(http_status: u16, body: &[u8], request_id: Option<String>) -> ApiError {
        let text = |v: serde_json::Value| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        if let Ok(parsed) = serde_json::from_slice::<FlatBody>(body) {
            let (code, message) = match parsed.error {
                Some(nested) if parsed.error_code.is_none() => (nested.code, nested.message),
                _ => (parsed.error_code, parsed.error_msg),
            };
            if code.is_some() || message.is_some() {
                return ApiError {
                    kind: ErrorKind::of_status(http_status),
                    code: code.map(text).filter(|c| !c.is_empty()),
                    message: message.unwrap_or_else(|| reason(http_status)),
                    http_status: Some(http_status),
                    request_id: request_id.or(parsed.request_id),
                    source: None,
                };
            }
        }
        ApiError {
            kind: ErrorKind::of_status(http_status),
            code: None,
            message: match snippet(body) {
                Some(snippet) => format!("{}: {snippet}", reason(http_status)),
                None => reason(http_status),
            },
            http_status: Some(http_status),
            request_id,
            source: None,
        }
    }

    /// The API's code in one spelling to match on: a legacy numeric DCS code (`111400070`)
    /// as its `DCS.4070` twin, any other as it came.
    pub fn dcs_code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.as_deref().map(dcs_form)
    }
}

/// A DCS code in its `DCS.4xxx` spelling: the API also sends each as its legacy numeric twin
/// `111400xxx` (`111400017` is `DCS.4017`). Any other code as it is.
pub(crate) fn dcs_form(code: &str) -> std::borrow::Cow<'_, str> {
    match code.strip_prefix("111400") {
        Some(n) if n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("DCS.4{n}").into()
        }
        _ => code.into(),
    }
}

impl Error for ApiError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| &**source as &(dyn Error + 'static))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(f, &self.message, true)
    }
}

impl ApiError {
    fn show(&self, f: &mut fmt::Formatter<'_>, message: &str, request_id: bool) -> fmt::Result {
        if let Some(status) = self.http_status {
            write!(f, "HTTP {status}: ")?;
        }
        if let Some(code) = self.wire_code() {
            write!(f, "{code}: ")?;
        }
        f.write_str(message)?;
        match &self.request_id {
            Some(id) if request_id => write!(f, " (request id {id})"),
            _ => Ok(()),
        }
    }
}

/// An [`ApiError`] displayed with its causes ([`ApiError::with_causes`]).
#[derive(Debug)]
pub struct WithCauses<'a> {
    error: &'a ApiError,
    request_id: bool,
}

impl WithCauses<'_> {
    /// Without the request id: for a fault that is retried, where the id only matters to
    /// support once it is final.
    pub fn without_request_id(self) -> Self {
        WithCauses {
            request_id: false,
            ..self
        }
    }
}

impl fmt::Display for WithCauses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error
            .show(f, &self.error.message_and_causes(), self.request_id)
    }
}

fn reason(http_status: u16) -> String {
    match http::StatusCode::from_u16(http_status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{http_status} {reason}"),
        None => format!("HTTP status {http_status}"),
    }
}

/// The first words of a non-JSON body, white space folded; of an HTML page (a proxy's error
/// page, say) its title, or its text without tags.
fn snippet(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    if let (Some(open), Some(close)) = (lower.find("<title>"), lower.find("</title>")) {
        let title = text.get(open + "<title>".len()..close).unwrap_or_default();
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if !title.is_empty() {
            return Some(format!(
                "an HTML page titled \"{title}\", probably from a proxy"
            ));
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return None;
    }
    Some(match folded.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcs_error_body() {
        let e = ApiError::from_response(
            400,
            br#"{"error_code": "111400070", "error_msg": "Invalid job ID.", "error_ext_msg": null}"#,
            Some("req-1".into()),
        );
        assert_eq!(e.code.as_deref(), Some("111400070"));
        assert_eq!(e.message, "Invalid job ID.");
        assert_eq!(e.http_status, Some(400));
        assert_eq!(e.dcs_code().as_deref(), Some("DCS.4070"));
        assert_eq!(
            e.to_string(),
            "HTTP 400: 111400070: Invalid job ID. (request id req-1)"
        );
    }

    #[test]
    fn gateway_and_nested_bodies() {
        let e = ApiError::from_response(
            429,
            br#"{"error_code":"APIG.0308","error_msg":"The request is throttled.","request_id":"abc"}"#,
            None,
        );
        assert_eq!(e.code.as_deref(), Some("APIG.0308"));
        assert_eq!(e.request_id.as_deref(), Some("abc"));
        let e = ApiError::from_response(
            403,
            br#"{"error":{"code":"IAM.0002","message":"denied"}}"#,
            None,
        );
        assert_eq!(
            (e.code.as_deref(), e.message.as_str()),
            (Some("IAM.0002"), "denied")
        );
    }

    #[test]
    fn html_and_empty_bodies() {
        let e = ApiError::from_response(
            502,
            b"<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>",
            None,
        );
        assert_eq!(e.code, None);
        assert_eq!(
            e.message,
            "502 Bad Gateway: an HTML page titled \"502 Bad Gateway\", probably from a proxy"
        );
        let e = ApiError::from_response(502, b"<p>upstream\n  gone</p>", None);
        assert_eq!(e.message, "502 Bad Gateway: upstream gone");
        let e = ApiError::from_response(503, b"", Some("r".into()));
        assert_eq!(e.message, "503 Service Unavailable");
        let long = "x".repeat(1000);
        let e = ApiError::from_response(500, long.as_bytes(), None);
        assert!(e.message.chars().count() < 200);
    }

    #[test]
    fn the_error_underneath_is_a_source_not_a_difference() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let reset = || ApiError::new(ErrorKind::Connect, "connection reset");
        let error = reset().with_source(io);
        let source = Error::source(&error).expect("a source");
        assert_eq!(source.to_string(), "reset by peer");
        assert_eq!(error, reset());
        let poll = crate::api::PollError::transient(error.clone());
        assert_eq!(poll.to_string(), error.to_string());
        assert!(Error::source(&poll).is_some());
        // The cause is said once: not in the error's own words (a reporter that walks the
        // sources says it), and once in the report and the logs, which do not walk them.
        assert!(!error.to_string().contains("reset by peer"));
        assert_eq!(
            error.with_causes().to_string(),
            "connect: connection reset: reset by peer"
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["message"], "connection reset: reset by peer");
    }
}
