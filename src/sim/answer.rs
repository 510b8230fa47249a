//! How dcs-sim answers: a response with its request id, JSON and error bodies in the
//! documented shapes, and the faults a socket can show (a dropped connection, a body that
//! trickles).

use super::scenario::Fault;
use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// The connection is closed without an answer.
#[derive(Debug)]
pub(super) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

pub(super) type Answer = Result<Response<Body>, DropConnection>;

/// Every answer's body: whole, or trickled.
pub(super) type Body = UnsyncBoxBody<Bytes, std::convert::Infallible>;

fn whole(bytes: Bytes) -> Body {
    Full::new(bytes).boxed_unsync()
}

/// A body sent one byte at a time, `every` apart: a server that has sent its headers and
/// then all but stops.
pub(super) struct Trickle {
    bytes: Bytes,
    every: Duration,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Trickle {
    pub(super) fn body(bytes: Bytes, every: Duration) -> Body {
        let sleep = Box::pin(tokio::time::sleep(every));
        Trickle {
            bytes,
            every,
            sleep,
        }
        .boxed_unsync()
    }
}

impl hyper::body::Body for Trickle {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.bytes.is_empty() {
            return std::task::Poll::Ready(None);
        }
        std::task::ready!(std::future::Future::poll(self.sleep.as_mut(), cx));
        let next = Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        let byte = self.bytes.split_to(1);
        std::task::Poll::Ready(Some(Ok(Frame::data(byte))))
    }
}

pub(super) fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response<Body> {
    let body = serde_json::json!({
        "error_code": code,
        "error_msg": message,
        "error_ext_msg": null,
    });
    json(status, &body, request_id)
}

pub(super) fn json<T: Serialize>(status: StatusCode, body: &T, request_id: &str) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    response(status, "application/json", bytes.into(), request_id)
}

pub(super) fn response(
    status: StatusCode,
    content_type: &str,
    body: Bytes,
    request_id: &str,
) -> Response<Body> {
    let mut response = Response::new(whole(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = request_id.parse() {
        headers.insert("x-request-id", v);
    }
    response
}

/// The answer a fault gives instead of the real one, for the faults that are not about a
/// job's body; `None` when the real answer follows (after a stall).
pub(super) async fn fault_answer(fault: &Fault, request_id: &str) -> Option<Answer> {
    let answer = match fault {
        Fault::Error {
            http_status,
            error_code,
            error_msg,
            retry_after,
            request_id: sent_id,
        } => {
            let status =
                StatusCode::from_u16(*http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error(
                status,
                error_code.as_deref().unwrap_or("DCS.5000"),
                error_msg.as_deref().unwrap_or("Internal server error."),
                sent_id.as_deref().unwrap_or(request_id),
            );
            if let Some(value) = retry_after.as_deref().and_then(|v| v.parse().ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Fault::Html { http_status, title } => {
            let status = StatusCode::from_u16(*http_status).unwrap_or(StatusCode::BAD_GATEWAY);
            let title = title.clone().unwrap_or_else(|| status.to_string());
            let body = format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            Ok(response(status, "text/html", body.into(), request_id))
        }
        Fault::Stall { ms: Some(ms) } => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            return None;
        }
        Fault::Stall { ms: None } => std::future::pending().await,
        Fault::Drop => Err(DropConnection),
        Fault::Malformed => Ok(response(
            StatusCode::OK,
            "application/json",
            Bytes::from_static(br#"{"job_id": "ff80"#),
            request_id,
        )),
        Fault::Empty => Ok(response(
            StatusCode::OK,
            "application/json",
            Bytes::new(),
            request_id,
        )),
        Fault::Redirect { location } => {
            let mut answer = response(StatusCode::FOUND, "text/plain", Bytes::new(), request_id);
            if let Ok(value) = location.parse() {
                answer.headers_mut().insert(header::LOCATION, value);
            }
            Ok(answer)
        }
        // About a job's body: the job API answers those itself; elsewhere, a plain 200.
        Fault::Status { .. }
        | Fault::Oversized { .. }
        | Fault::Trickle { .. }
        | Fault::OtherJob => return None,
    };
    Some(answer)
}
