//! How dcs-sim answers: a response with its request id, JSON and error bodies in the
//! documented shapes, and the faults a socket can show (a dropped connection, a body that
//! trickles).

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
