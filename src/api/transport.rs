//! One signed request to a Huawei Cloud API: the credentials of the moment, the signature,
//! a correction for a skewed clock, and the answer read whole (within its cap). DCS and IAM
//! both go through it.

use super::answer::{body_too_large, AnswerHeaders, PollError, Reply};
use super::auth::{self, Credentials, Provider};
use super::error::{ApiError, ErrorKind};
use super::http::{self, BodyError};
use super::unreached::{not_connected, Proxies};
use ::http::Method;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use url::Url;

/// One request: what, where, for which project, with which JSON body (none for a GET).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a Method,
    pub(crate) url: &'a Url,
    pub(crate) project_id: Option<&'a str>,
    pub(crate) body: Option<&'a [u8]>,
}

impl<'a> Call<'a> {
    /// A GET of `url` for `project_id`.
    pub(crate) fn get(url: &'a Url, project_id: Option<&'a str>) -> Call<'a> {
        Call {
            method: &Method::GET,
            url,
            project_id,
            body: None,
        }
    }
}

/// The answer to one request, on its way.
pub(crate) type Sent<'a> = Pin<Box<dyn Future<Output = Result<Reply, PollError>> + Send + 'a>>;

/// Where a [`Client`](super::Client)'s requests go: over HTTP ([`Transport`]), or to
/// dcs-sim's handlers in-process. Whatever answers, the client reads the answer the same way.
pub(crate) trait Exchange: Send + Sync + std::fmt::Debug {
    /// One request to `url`, with `X-Project-Id` when given, and a JSON `body` when given.
    fn request<'a>(&'a self, call: Call<'a>) -> Sent<'a>;

    /// The server's time, as near as this side knows it.
    fn server_now(&self) -> jiff::Timestamp;
}

impl Exchange for Transport {
    fn request<'a>(&'a self, call: Call<'a>) -> Sent<'a> {
        Box::pin(Transport::request(self, call))
    }

    fn server_now(&self) -> jiff::Timestamp {
        Transport::server_now(self)
    }
}

/// Requests in flight at once, for all jobs together. Loopback or not, a few dozen
/// connections carry thousands of polls a second; ten thousand jobs polled at once would
/// otherwise open ten thousand connections, each with its buffers and its handshake.
pub const MAX_IN_FLIGHT: usize = 64;

/// How far the server's clock must be from ours (as corrected so far) before a refused
/// signature is blamed on it and signed again with the server's time. Honest clocks are
/// within seconds, and a `Date` header has a resolution of one.
pub const SKEW_THRESHOLD: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// The largest clock difference learnt from a server. Past it the server is not believed:
/// a man in the middle could otherwise have us sign a swap for tomorrow and replay it then.
/// The user sets the machine's clock right instead (exit 4, `clock_skew`).
pub const MAX_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// The codes API Gateway refuses a signature with, a signing date too far from its clock
/// among the reasons ("Incorrect IAM authentication information"); a 401 of the service
/// behind it (a token DCS refused) says nothing of clocks.
const SIGNATURE_REFUSED: &[&str] = &["APIG.0301", "APIGW.0301"];

/// Signed GETs to Huawei Cloud APIs over one reused HTTP client (one connection pool for
/// every job), with the credentials of the moment and a correction for a skewed clock.
#[derive(Debug)]
pub(crate) struct Transport {
    http: http::ApiHttp,
    proxies: Proxies,
    provider: Arc<Provider>,
    in_flight: tokio::sync::Semaphore,
    /// Server time minus our time, learnt from a refused request; added to `X-Sdk-Date`.
    skew_ms: AtomicI64,
}

impl Transport {
    pub(crate) fn new(http: http::ApiHttp, provider: Arc<Provider>) -> Transport {
        Transport {
            http,
            proxies: Proxies::from_system(),
            provider,
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            skew_ms: AtomicI64::new(0),
        }
    }

    /// One request. When API Gateway refuses a signature and its `Date` is far from
    /// our clock, the clock is corrected by the difference and the request made once more, as
    /// the AWS SDKs do; the correction stays for every later request. That second try is safe
    /// for a call that changes something too: a refused signature reached nothing behind
    /// the gateway.
    ///
    /// Several jobs refused at once all try again: one of them learns the correction, the
    /// others see that their request was signed before it.
    pub(crate) async fn request(&self, call: Call<'_>) -> Result<Reply, PollError> {
        let failed = match self.answer(call).await {
            Ok(reply) => return Ok(reply),
            Err(Failed::Poll(error)) => return Err(error),
            Err(Failed::Transport(e)) => e,
        };
        // Said here, where nothing else is held (awaited inside `send`, or in a `match` on
        // the answer, it would make every request's future larger, and ten thousand can be
        // in flight at once); its own future lives on the heap, for the failures alone.
        Err(Box::pin(transport_error(failed, &self.proxies)).await)
    }

    /// The request, sent again once with the server's clock if that was what refused it.
    async fn answer(&self, call: Call<'_>) -> Result<Reply, Failed> {
        let (reply, signed_with) = self.send(call).await?;
        let Some(signed_with) = signed_with.filter(|_| reply.status == 401) else {
            return Ok(reply);
        };
        match judge_clock(&reply, jiff::Timestamp::now(), self.skew()) {
            Clock::Learn(skew) => self.learn(skew),
            Clock::TooFar(skew) => {
                return Err(Failed::Poll(PollError::Final(too_far(skew, reply))))
            }
            // Another request learnt the server's clock since this one was signed.
            Clock::Unrelated if self.skew() != signed_with => {}
            Clock::Unrelated => return Ok(reply),
        }
        Ok(self.send(call).await?.0)
    }

    /// Our clock corrected by what refused signatures taught: the server's time, as near as
    /// we know it.
    pub(crate) fn server_now(&self) -> jiff::Timestamp {
        corrected(self.skew())
    }

    fn skew(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_millis(self.skew_ms.load(Ordering::Relaxed))
    }

    /// The reply, and the clock correction it was signed with (none for a token).
    async fn send(&self, call: Call<'_>) -> Result<(Reply, Option<jiff::SignedDuration>), Failed> {
        let Call {
            method,
            url,
            project_id,
            body,
        } = call;
        // Never closed, so acquiring cannot fail; a permit is held until the body is read.
        let _permit = self.in_flight.acquire().await.ok();
        let credentials = self.provider.credentials().await.map_err(|e| {
            Failed::Poll(PollError::transient(
                ApiError::new(ErrorKind::Credentials, "no credentials for the request")
                    .with_source(e),
            ))
        })?;
        let skew = self.skew();
        let headers = auth::headers(
            &credentials,
            method.as_str(),
            url,
            project_id,
            body.unwrap_or_default(),
            corrected(skew),
        );
        let signed_with = matches!(*credentials, Credentials::AkSk { .. }).then_some(skew);
        let mut request = self.http.for_url(url).request(method.clone(), url.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request
                .header(::http::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let mut response = request.send().await.map_err(Failed::Transport)?;
        let status = response.status().as_u16();
        let headers = AnswerHeaders::read(response.headers());
        let body = match http::read_body(&mut response).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return Err(Failed::Transport(e)),
            Err(BodyError::TooLarge) => {
                return Err(Failed::Poll(body_too_large(status, headers.request_id)))
            }
        };
        Ok((
            Reply {
                status,
                headers,
                body,
            },
            signed_with,
        ))
    }

    fn learn(&self, skew: jiff::SignedDuration) {
        tracing::debug!(
            "the server refused our signature and its clock is {:.0} s from ours: \
             signing with its time from now on and trying once more",
            skew.as_secs_f64()
        );
        self.skew_ms
            .store(skew.as_millis() as i64, Ordering::Relaxed);
    }
}

/// What a 401 to a signed request says of our clock.
#[derive(Debug, PartialEq)]
enum Clock {
    /// Nothing: not API Gateway refusing a signature, no usable `Date`, or a server clock
    /// no further from ours than what is already corrected.
    Unrelated,
    /// The server's clock is this far from ours (server minus ours), within [`MAX_SKEW`].
    Learn(jiff::SignedDuration),
    /// This far, past [`MAX_SKEW`]: not believed.
    TooFar(jiff::SignedDuration),
}

/// Judges a refused reply by its error code and its `Date`, at our time `now`, with `known`
/// the correction in use. Only a refused signature teaches: any other answer's `Date` (a
/// 5xx, a 200) may say what it likes.
fn judge_clock(reply: &Reply, now: jiff::Timestamp, known: jiff::SignedDuration) -> Clock {
    if reply.status != 401 {
        return Clock::Unrelated;
    }
    let refused = ApiError::from_response(reply.status, &reply.body, None);
    if !refused
        .code
        .as_deref()
        .is_some_and(|code| SIGNATURE_REFUSED.contains(&code))
    {
        return Clock::Unrelated;
    }
    let Some(server) = reply
        .headers
        .date
        .as_deref()
        .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
        .map(|z| z.timestamp())
    else {
        return Clock::Unrelated;
    };
    let skew = server.duration_since(now);
    if (skew - known).abs() < SKEW_THRESHOLD {
        Clock::Unrelated
    } else if skew.abs() > MAX_SKEW {
        Clock::TooFar(skew)
    } else {
        Clock::Learn(skew)
    }
}

/// The final error for a server clock past [`MAX_SKEW`]: what was refused, by how much, and
/// what to do.
fn too_far(skew: jiff::SignedDuration, reply: Reply) -> ApiError {
    let seconds = skew.as_secs();
    let side = if seconds > 0 { "ahead of" } else { "behind" };
    let hours = seconds.unsigned_abs() as f64 / 3600.0;
    // The answer's request id (made printable there), with our words and our code.
    let mut error = ApiError::from_response(reply.status, &reply.body, reply.headers.request_id);
    error.kind = ErrorKind::ClockSkew;
    error.code = None;
    error.message = format!(
        "the server refused our signature, and its Date is {} s ({hours:.1} h) {side} \
             this machine's clock: more than the {} h dcs-wait will correct, so nothing was \
             signed with it (a request signed for another time could be replayed then). Set \
             this machine's clock right (NTP), or check that the endpoint is the real one",
        seconds.unsigned_abs(),
        MAX_SKEW.as_hours(),
    );
    error
}

/// Why a request has no reply: said already, or a failure of the HTTP stack to be said.
enum Failed {
    Poll(PollError),
    Transport(reqwest::Error),
}

/// Our clock, corrected by `skew`.
fn corrected(skew: jiff::SignedDuration) -> jiff::Timestamp {
    jiff::Timestamp::now()
        .checked_add(skew)
        .unwrap_or_else(|_| jiff::Timestamp::now())
}

/// No answer at all: connect refused, reset, a timeout inside the HTTP stack, a cut body —
/// worth another try. Except a certificate we do not trust, or a proxy that refuses the
/// tunnel: no retry will change those.
async fn transport_error(e: reqwest::Error, proxies: &Proxies) -> PollError {
    let kind = if e.is_timeout() {
        ErrorKind::RequestTimeout
    } else if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_body() || e.is_decode() {
        ErrorKind::Body
    } else {
        ErrorKind::Transport
    };
    // The words are ours; what happened is in the source: reqwest's error names the URL
    // (no secret in it), and its own sources say the rest.
    if crate::common::causes::causes(&e).any(is_untrusted_certificate) {
        let error = ApiError::new(
            ErrorKind::Tls,
            "the server's certificate is not trusted: if a corporate CA signed it, add that \
             CA (a PEM file) to the trusted certificates",
        );
        return PollError::Final(error.with_source(e));
    }
    if kind == ErrorKind::Connect {
        let not = not_connected(&e, proxies).await;
        let error = ApiError::new(kind, not.message).with_source(e);
        return if not.refused_tunnel {
            PollError::Final(error)
        } else {
            PollError::transient(error)
        };
    }
    let message = match kind {
        ErrorKind::RequestTimeout => "no answer in time",
        ErrorKind::Body => "the answer's body could not be read",
        _ => "the request failed",
    };
    PollError::transient(ApiError::new(kind, message).with_source(e))
}

/// Whether `cause` is rustls refusing the server's certificate (hyper wraps it in an
/// `io::Error` inside another: [`causes`](crate::common::causes::causes) opens those).
fn is_untrusted_certificate(cause: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        cause.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply of `status` with `body`, dated `offset` from `now`.
    fn reply(status: u16, body: &str, now: jiff::Timestamp, offset: jiff::SignedDuration) -> Reply {
        let date = (now + offset)
            .strftime("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        Reply {
            status,
            headers: AnswerHeaders {
                date: Some(date),
                ..AnswerHeaders::default()
            },
            body: body.as_bytes().to_vec(),
        }
    }

    const REFUSED: &str = r#"{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information: x-sdk-date expired"}"#;

    #[test]
    fn only_a_refused_signature_teaches_and_only_up_to_the_bound() {
        let now: jiff::Timestamp = "2026-12-04T08:00:00Z".parse().unwrap();
        let none = jiff::SignedDuration::ZERO;
        let mins = jiff::SignedDuration::from_mins;
        let judge = |r: &Reply, known| judge_clock(r, now, known);

        // Three minutes: corrected.
        assert_eq!(
            judge(&reply(401, REFUSED, now, mins(3)), none),
            Clock::Learn(mins(3))
        );
        assert_eq!(
            judge(&reply(401, REFUSED, now, -mins(3)), none),
            Clock::Learn(-mins(3))
        );
        let gateway = REFUSED.replace("APIG.", "APIGW.");
        assert_eq!(
            judge(&reply(401, &gateway, now, mins(30)), none),
            Clock::Learn(mins(30))
        );
        // A day, five years: refused.
        for far in [mins(24 * 60), -mins(24 * 60), mins(5 * 365 * 24 * 60)] {
            assert_eq!(
                judge(&reply(401, REFUSED, now, far), none),
                Clock::TooFar(far)
            );
        }
        // Just past the bound, and at it.
        assert_eq!(
            judge(&reply(401, REFUSED, now, mins(61)), none),
            Clock::TooFar(mins(61))
        );
        assert_eq!(
            judge(&reply(401, REFUSED, now, mins(60)), none),
            Clock::Learn(mins(60))
        );
        // Already known, or too close to matter.
        assert_eq!(
            judge(&reply(401, REFUSED, now, mins(30)), mins(30)),
            Clock::Unrelated
        );
        assert_eq!(
            judge(
                &reply(401, REFUSED, now, jiff::SignedDuration::from_secs(20)),
                none
            ),
            Clock::Unrelated
        );
        // Any other answer's Date says nothing: a 5xx, a 200, a 403, DCS's own 401.
        for status in [500, 502, 503, 200, 403] {
            let odd = reply(status, REFUSED, now, mins(24 * 60));
            assert_eq!(judge(&odd, none), Clock::Unrelated, "{status}");
        }
        let token = r#"{"error_code":"DCS.4001","error_msg":"token expired"}"#;
        assert_eq!(
            judge(&reply(401, token, now, mins(30)), none),
            Clock::Unrelated
        );
        assert_eq!(
            judge(&reply(401, "<html>", now, mins(30)), none),
            Clock::Unrelated
        );
        let mut undated = reply(401, REFUSED, now, mins(30));
        undated.headers.date = Some("yesterday".into());
        assert_eq!(judge(&undated, none), Clock::Unrelated);
    }

    #[test]
    fn a_clock_too_far_is_named_with_what_to_do() {
        let now: jiff::Timestamp = "2026-12-04T08:00:00Z".parse().unwrap();
        let mut refused = reply(401, REFUSED, now, jiff::SignedDuration::from_hours(24));
        refused.headers.request_id = Some("req-1".into());
        let error = too_far(jiff::SignedDuration::from_hours(24), refused);
        assert_eq!(error.kind, ErrorKind::ClockSkew);
        assert_eq!(error.kind.code(), Some("clock_skew"));
        assert_eq!(error.code, None);
        assert_eq!(error.http_status, Some(401));
        assert_eq!(error.request_id.as_deref(), Some("req-1"));
        assert!(
            error.message.contains("86400 s (24.0 h) ahead of"),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("Set this machine's clock right"),
            "{}",
            error.message
        );
    }
}
