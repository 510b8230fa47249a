//! Why no connection opened, said so that a user can act on it: to which `host:port`,
//! through which proxy (never with its credentials), and what the network said.

use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The proxies reqwest uses, read from the same environment by the same matcher, to say
/// which one a request went through.
pub(crate) struct Proxies(Matcher);

impl Proxies {
    pub(crate) fn from_system() -> Proxies {
        Proxies(Matcher::from_system())
    }

    /// The proxy for `url`.
    fn for_url(&self, url: &url::Url) -> Option<Intercept> {
        if !super::http::may_use_proxy(url) {
            return None;
        }
        self.0.intercept(&url.as_str().parse().ok()?)
    }
}

/// The proxy's settings may hold a password: never shown.
impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Proxies(..)")
    }
}

/// What a failed connection was, for the message; `refused_tunnel` when a proxy refused
/// it, which trying again will not change.
pub(crate) struct NotConnected {
    pub(crate) message: String,
    pub(crate) refused_tunnel: bool,
}

/// Why `error` (a connection that did not open) happened, in words.
pub(crate) async fn not_connected(error: &reqwest::Error, proxies: &Proxies) -> NotConnected {
    let Some(url) = error.url() else {
        return NotConnected {
            message: "could not connect".into(),
            refused_tunnel: false,
        };
    };
    let host = url.host_str().unwrap_or("?");
    let target = format!("{host}:{}", url.port_or_known_default().unwrap_or(443));
    let proxy = proxies.for_url(url);
    let via = proxy
        .as_ref()
        .and_then(host_port)
        .map(|proxy| format!(" through the proxy {proxy}"))
        .unwrap_or_default();
    let cause = Cause::of(error);
    let refused_tunnel = matches!(cause, Cause::ProxyAuth | Cause::TunnelRefused);
    let why = match cause {
        Cause::ProxyAuth => "the proxy answered 407 Proxy Authentication Required: check \
                             the user and password in HTTPS_PROXY (or HTTP_PROXY, ALL_PROXY)"
            .into(),
        Cause::TunnelRefused => {
            let status = match &proxy {
                Some(proxy) => connect_status(proxy, &target).await,
                None => None,
            };
            match status {
                Some(status @ (401 | 403 | 407)) => format!(
                    "the proxy answered {status} to CONNECT: check the user and password in \
                     HTTPS_PROXY (or HTTP_PROXY, ALL_PROXY), and that the proxy lets this \
                     host through"
                ),
                Some(status) => format!(
                    "the proxy answered {status} to CONNECT: it could not, or would not, \
                     reach {target}"
                ),
                None => "the proxy refused the tunnel (CONNECT): check the user and \
                         password in HTTPS_PROXY, and that the proxy lets this host through"
                    .into(),
            }
        }
        Cause::Dns => format!("the name {host} does not resolve: check the endpoint or region"),
        Cause::Refused if via.is_empty() => {
            "the connection was refused: nothing listens there".into()
        }
        Cause::Refused => "the proxy refused the connection: is it running?".into(),
        Cause::Reset => "the connection was reset before a request went out".into(),
        Cause::Tls => "the TLS handshake failed".into(),
        Cause::Other => "no connection could be opened".into(),
    };
    NotConnected {
        message: format!("could not connect to {target}{via}: {why}"),
        refused_tunnel,
    }
}

/// A proxy as `host:port`: never its user or password.
fn host_port(proxy: &Intercept) -> Option<String> {
    let uri = proxy.uri();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    Some(format!("{}:{port}", uri.host()?))
}

/// The status a plain-HTTP proxy answers a `CONNECT` to `target` with, asked once more:
/// hyper-util tells 407 apart and drops the others, and a user needs them too (401 or 403:
/// the password; 5xx: the proxy could not go on). `None` when it cannot be had in a few
/// seconds, or the proxy speaks TLS.
async fn connect_status(proxy: &Intercept, target: &str) -> Option<u16> {
    if proxy.uri().scheme_str() != Some("http") {
        return None;
    }
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(host_port(proxy)?)
            .await
            .ok()?;
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(auth) = proxy.basic_auth().and_then(|v| v.to_str().ok()) {
            head.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut line = [0u8; 32];
        let n = stream.read(&mut line).await.ok()?;
        // "HTTP/1.1 401 Unauthorized"
        let status = std::str::from_utf8(&line[..n])
            .ok()?
            .split_whitespace()
            .nth(1)?;
        status.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(3), ask)
        .await
        .ok()
        .flatten()
}

/// What lies under a connection that did not open.
enum Cause {
    ProxyAuth,
    TunnelRefused,
    Dns,
    Refused,
    Reset,
    Tls,
    Other,
}

impl Cause {
    /// Read from the chain of sources (an `io::Error`'s own included). hyper-util's tunnel
    /// and DNS errors are private types: they are known by their words.
    fn of(error: &reqwest::Error) -> Cause {
        for cause in crate::common::causes::causes(error) {
            let text = cause.to_string();
            if text.starts_with("tunnel error: proxy authorization required") {
                return Cause::ProxyAuth;
            }
            if text.starts_with("tunnel error: unsuccessful") {
                return Cause::TunnelRefused;
            }
            if text.starts_with("dns error") {
                return Cause::Dns;
            }
            if cause.downcast_ref::<rustls::Error>().is_some() {
                return Cause::Tls;
            }
            match cause.downcast_ref::<std::io::Error>().map(|io| io.kind()) {
                Some(std::io::ErrorKind::ConnectionRefused) => return Cause::Refused,
                Some(std::io::ErrorKind::ConnectionReset) => return Cause::Reset,
                _ => {}
            }
        }
        Cause::Other
    }
}
