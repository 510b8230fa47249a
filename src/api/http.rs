//! The HTTP clients. For the DCS and IAM APIs: rustls with the platform's trust roots plus
//! any `--ca-bundle`, proxies from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` for `https://`
//! only, no redirects. For instance metadata: never through a proxy, short timeouts.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why an HTTP client could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The CA bundle cannot be read.
    #[error("cannot read the CA bundle {path}: {source}")]
    CaBundleUnreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The CA bundle holds no certificate.
    #[error("the CA bundle {path} holds no PEM certificate: give a file of -----BEGIN CERTIFICATE----- blocks")]
    CaBundleEmpty {
        /// The file.
        path: String,
    },
    /// HTTPS is needed, and the system has no trusted certificates to verify it with (an
    /// empty container image, say).
    #[error(
        "no trusted certificates were found on this system to verify HTTPS with: give a CA \
         bundle (a PEM file such as /etc/ssl/certs/ca-certificates.crt), or install the \
         system's CA certificates"
    )]
    NoTrustRoots(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The HTTP client refused its settings.
    #[error("could not set up the HTTP client: {0}")]
    Build(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Bodies past this size are cut off unread: a job is a few hundred bytes, a security key
/// or a project list a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a body of at most [`MAX_BODY_BYTES`], chunk by chunk, so that a larger one is never
/// buffered whole.
pub async fn read_body(response: &mut reqwest::Response) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        append_capped(&mut body, &chunk)?;
    }
    Ok(body)
}

/// Adds one chunk to a body being read, unless that takes it past [`MAX_BODY_BYTES`]: the
/// rule every reader of an answer follows (the client's, and dcs-sim's in-process one).
pub fn append_capped(body: &mut Vec<u8>, chunk: &[u8]) -> Result<(), BodyError> {
    if body.len() + chunk.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    body.extend_from_slice(chunk);
    Ok(())
}

/// Metadata answers on the local link or not at all: waiting longer only delays the fallback.
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(3);

fn builder() -> reqwest::ClientBuilder {
    // reqwest is built without a default crypto provider so that we choose ring (smaller and
    // quicker to build than aws-lc). Installing it twice is harmless: the second call reports
    // the first and changes nothing.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("dcs-wait/", env!("CARGO_PKG_VERSION")))
        // A redirect would carry our signed headers to wherever it points.
        .redirect(reqwest::redirect::Policy::none())
}

/// The clients for DCS and IAM, one for each scheme.
///
/// A plain `http://` URL is a loopback one (the endpoint check allows no other), and it is
/// never reached through a proxy: the request would reach the proxy in the clear, with its
/// `X-Auth-Token`, `X-Security-Token` or signature, to be read or replayed there.
#[derive(Debug, Clone)]
pub struct ApiHttp {
    https: reqwest::Client,
    plain: reqwest::Client,
}

impl ApiHttp {
    /// The client for `url`.
    pub fn for_url(&self, url: &url::Url) -> &reqwest::Client {
        if may_use_proxy(url) {
            &self.https
        } else {
            &self.plain
        }
    }
}

/// Whether a request to `url` may go through the proxies the environment names: only over
/// TLS, which a proxy can carry but not read.
pub fn may_use_proxy(url: &url::Url) -> bool {
    url.scheme() != "http"
}

/// The clients for DCS and IAM. Without `tls`, no request will use HTTPS (every URL is a
/// loopback `http://` one), so the platform's trust roots — about a hundred and fifty
/// certificates read and parsed — are not loaded: the client then trusts no certificate.
pub fn api_client(ca_bundle: Option<&Path>, tls: bool) -> Result<ApiHttp, HttpError> {
    let plain = builder()
        .tls_certs_only(Vec::new())
        .no_proxy()
        .build()
        .map_err(|e| HttpError::Build(e.into()))?;
    if !tls {
        return Ok(ApiHttp {
            https: plain.clone(),
            plain,
        });
    }
    Ok(ApiHttp {
        https: https_client(ca_bundle)?,
        plain,
    })
}

fn https_client(ca_bundle: Option<&Path>) -> Result<reqwest::Client, HttpError> {
    let extra = match ca_bundle {
        Some(path) => read_ca_bundle(path)?,
        None => Vec::new(),
    };
    builder().tls_certs_merge(extra).build().map_err(|e| {
        // The platform verifier refuses to start with no roots at all; rustls says why.
        if is_rustls(&e) {
            HttpError::NoTrustRoots(e.into())
        } else {
            HttpError::Build(e.into())
        }
    })
}

/// The client for instance metadata: plain HTTP on the local link, so no trust roots are
/// loaded for it.
pub fn metadata_client() -> Result<reqwest::Client, HttpError> {
    builder()
        .tls_certs_only(Vec::new())
        .no_proxy()
        .connect_timeout(METADATA_CONNECT_TIMEOUT)
        .timeout(METADATA_TIMEOUT)
        .build()
        .map_err(|e| HttpError::Build(e.into()))
}

/// Whether rustls is what refused, somewhere under `error`.
fn is_rustls(error: &reqwest::Error) -> bool {
    crate::common::causes::causes(error).any(|e| e.downcast_ref::<rustls::Error>().is_some())
}

fn read_ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let shown = || PathBuf::from(path).display().to_string();
    let pem = std::fs::read(path).map_err(|source| HttpError::CaBundleUnreadable {
        path: shown(),
        source,
    })?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(HttpError::CaBundleEmpty { path: shown() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_bundle_must_exist_and_hold_certificates() {
        let err = api_client(Some(Path::new("/nonexistent/ca.pem")), true).unwrap_err();
        assert!(matches!(err, HttpError::CaBundleUnreadable { .. }), "{err}");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "not a certificate").unwrap();
        let err = api_client(Some(file.path()), true).unwrap_err();
        assert!(matches!(err, HttpError::CaBundleEmpty { .. }), "{err}");
        assert!(api_client(None, true).is_ok());
        assert!(api_client(None, false).is_ok());
        assert!(metadata_client().is_ok());
    }
}
