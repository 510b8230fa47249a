//! HTTPS for dcs-sim: a self-signed certificate made at start, so that certificate checks
//! (refused by default, accepted with `--ca-bundle`) are tested over loopback.

use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A certificate and its key. The certificate, in PEM, is what a client must trust.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The certificate, PEM: what a client must trust.
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A self-signed certificate for `names` (host names or IP addresses); an error names
    /// what could not be made of them.
    pub fn self_signed(names: &[&str]) -> Result<TlsIdentity, std::io::Error> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let certified = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        Ok(TlsIdentity {
            cert_pem: certified.cert.pem(),
            cert_der: certified.cert.der().clone(),
            key_der: certified.signing_key.serialize_der(),
        })
    }

    pub(super) fn acceptor(&self) -> Result<TlsAcceptor, tokio_rustls::rustls::Error> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
