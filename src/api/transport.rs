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

/// The answer to one request, on its way.
pub(crate) type Sent<'a> = Pin<Box<dyn Future<Output = Result<Reply, PollError>> + Send + 'a>>;

/// Where a [`Client`](super::Client)'s requests go: over HTTP ([`Transport`]), or to
/// dcs-sim's handlers in-process. Whatever answers, the client reads the answer the same way.
pub(crate) trait Exchange: Send + Sync + std::fmt::Debug {
    /// One body-less request to `url`, with `X-Project-Id` when given.
    fn request<'a>(&'a self, method: Method, url: &'a Url, project_id: Option<&'a str>)
        -> Sent<'a>;

    /// The server's time, as near as this side knows it.
    fn server_now(&self) -> jiff::Timestamp;
}

impl Exchange for Transport {
    fn request<'a>(
        &'a self,
        method: Method,
        url: &'a Url,
        project_id: Option<&'a str>,
    ) -> Sent<'a> {
        Box::pin(Transport::request(self, method, url, project_id))
    }

    fn server_now(&self) -> jiff::Timestamp {
        Transport::server_now(self)
    }
}

/// Requests in flight at once, for all jobs together. Loopback or not, a few dozen
/// connections carry thousands of polls a second; ten thousand jobs polled at once would
/// otherwise open ten thousand connections, each with its buffers and its handshake.
pub const MAX_IN_FLIGHT: usize = 64;

/// How far our clock may be from the server's before a refused signature is blamed on it.
/// API Gateway allows 15 minutes; honest clocks are within seconds.
pub const SKEW_THRESHOLD: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

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

    /// One body-less request. When API Gateway refuses a signature and its `Date` is far from
    /// our clock, the clock is corrected by the difference and the request made once more, as
    /// the AWS SDKs do; the correction stays for every later request. That second try is safe
    /// for a call that changes something too: a refused signature reached nothing behind
    /// the gateway.
    ///
    /// Several jobs refused at once all try again: one of them learns the correction, the
    /// others see that their request was signed before it.
    pub(crate) async fn request(
        &self,
        method: Method,
        url: &Url,
        project_id: Option<&str>,
    ) -> Result<Reply, PollError> {
        let failed = match self.answer(&method, url, project_id).await {
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
    async fn answer(
        &self,
        method: &Method,
        url: &Url,
        project_id: Option<&str>,
    ) -> Result<Reply, Failed> {
        let (reply, signed_with) = self.send(method, url, project_id).await?;
        if let (401, Some(skew)) = (reply.status, signed_with) {
            if self.learn_skew(&reply) || self.skew() != skew {
                return Ok(self.send(method, url, project_id).await?.0);
            }
        }
        Ok(reply)
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
    async fn send(
        &self,
        method: &Method,
        url: &Url,
        project_id: Option<&str>,
    ) -> Result<(Reply, Option<jiff::SignedDuration>), Failed> {
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
            corrected(skew),
        );
        let signed_with = matches!(*credentials, Credentials::AkSk { .. }).then_some(skew);
        let mut request = self.http.for_url(url).request(method.clone(), url.clone());
        for (name, value) in headers {
            request = request.header(name, value);
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

    /// Takes the server's clock from a refused reply; true when that changed ours enough to
    /// be worth another try.
    fn learn_skew(&self, reply: &Reply) -> bool {
        let Some(server) = reply
            .headers
            .date
            .as_deref()
            .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
            .map(|z| z.timestamp())
        else {
            return false;
        };
        let skew = server.duration_since(jiff::Timestamp::now());
        if (skew - self.skew()).abs() < SKEW_THRESHOLD {
            return false;
        }
        tracing::debug!(
            "the server refused our signature and its clock is {:.0} s from ours: \
             signing with its time from now on and trying once more",
            skew.as_secs_f64()
        );
        self.skew_ms.store(
            skew.as_millis().clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            Ordering::Relaxed,
        );
        true
    }
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
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        if is_untrusted_certificate(cause) {
            let error = ApiError::new(
                ErrorKind::Tls,
                "the server's certificate is not trusted: if a corporate CA signed it, add \
                 that CA (a PEM file) to the trusted certificates",
            );
            return PollError::Final(error.with_source(e));
        }
        source = cause.source();
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

/// Whether `cause` is rustls refusing the server's certificate. hyper wraps it in an
/// `io::Error` inside another, and `io::Error::source` skips the wrapped error itself, so the
/// layers are opened by hand.
fn is_untrusted_certificate(mut cause: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => cause = inner,
            None => return false,
        }
    }
}
