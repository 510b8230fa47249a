//! Where requests go: the DCS endpoint from an explicit URL or a region, and the one rule for
//! every endpoint (DCS and IAM alike) — credentials never travel in the clear.

use super::env::Env;
use std::net::IpAddr;
use url::Url;

/// Why no usable endpoint came out of what was given. Every message says what to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Neither an endpoint nor a region.
    #[error("no endpoint: give a region (HUAWEICLOUD_SDK_REGION) or an endpoint URL")]
    NoEndpoint,
    /// A region name with characters no region has.
    #[error("'{0}' is not a region name: use one such as cn-north-4 or ap-southeast-1")]
    BadRegion(String),
    /// Not a URL at all.
    #[error(
        "endpoint '{url}' is not usable: {why}; give a URL such as \
         https://dcs.cn-north-4.myhuaweicloud.com"
    )]
    NotUrl {
        /// The text given.
        url: String,
        /// What the URL parser said.
        why: String,
    },
    /// A URL, but not one to send signed requests to.
    #[error("endpoint '{url}' is not usable: {why}")]
    BadEndpoint {
        /// The text given.
        url: String,
        /// What is wrong and what to do.
        why: &'static str,
    },
    /// `http://` to a host that is not loopback.
    #[error(
        "endpoint '{0}' would send credentials unencrypted: use https://, \
         or http:// only for a loopback address (127.0.0.1, [::1], localhost)"
    )]
    InsecureEndpoint(String),
}

/// The DCS endpoint: `explicit` wins; else `HUAWEICLOUD_SDK_REGION_DCS_{REGION}` from `env`;
/// else the public endpoint of `region`.
pub fn dcs(explicit: Option<&str>, region: Option<&str>, env: &Env) -> Result<Url, EndpointError> {
    if let Some(region) = region {
        check_region(region)?;
    }
    let text = match (explicit, region) {
        (Some(url), _) => url.to_string(),
        (None, Some(region)) => {
            let variable = format!(
                "HUAWEICLOUD_SDK_REGION_DCS_{}",
                region.to_ascii_uppercase().replace('-', "_")
            );
            env.get(&variable)
                .unwrap_or_else(|| format!("https://dcs.{region}.myhuaweicloud.com"))
        }
        (None, None) => return Err(EndpointError::NoEndpoint),
    };
    check(text.trim())
}

/// A region name: lower-case letters, digits and `-`, at most 64.
pub fn check_region(region: &str) -> Result<(), EndpointError> {
    let valid = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(EndpointError::BadRegion(region.to_string()))
    }
}

/// An endpoint must be `https://`, or `http://` on loopback: credentials never travel in the
/// clear. Used for the DCS and the IAM endpoints alike.
pub fn check(text: &str) -> Result<Url, EndpointError> {
    let bad = |why: &'static str| EndpointError::BadEndpoint {
        url: text.to_string(),
        why,
    };
    let url = Url::parse(text).map_err(|e| EndpointError::NotUrl {
        url: text.to_string(),
        why: e.to_string(),
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "remove the user name and password: credentials come from the environment",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("remove the query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(EndpointError::InsecureEndpoint(text.to_string())),
        _ => Err(bad("the scheme must be https://")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env() -> Env {
        Env::from_pairs::<&str, &str>([])
    }

    #[test]
    fn region_gives_the_public_endpoint_unless_overridden() {
        let url = dcs(None, Some("cn-north-4"), &no_env()).unwrap();
        assert_eq!(url.as_str(), "https://dcs.cn-north-4.myhuaweicloud.com/");
        let env = Env::from_pairs([(
            "HUAWEICLOUD_SDK_REGION_DCS_CN_NORTH_4",
            "https://dcs.internal.example",
        )]);
        let url = dcs(None, Some("cn-north-4"), &env).unwrap();
        assert_eq!(url.host_str(), Some("dcs.internal.example"));
        let url = dcs(Some("http://127.0.0.1:9"), Some("cn-north-4"), &env).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/");
        assert_eq!(dcs(None, None, &env), Err(EndpointError::NoEndpoint));
        assert_eq!(
            dcs(None, Some("R_1"), &env),
            Err(EndpointError::BadRegion("R_1".into()))
        );
    }

    #[test]
    fn endpoints_must_be_https_or_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:1",
            "http://localhost:3",
            "https://dcs.example.com/base",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        assert!(matches!(
            check("http://10.0.0.1"),
            Err(EndpointError::InsecureEndpoint(_))
        ));
        for bad in [
            "ftp://x",
            "not a url",
            "https://u:p@x.com",
            "https://x.com/?a=b",
            "file:///etc",
        ] {
            let err = check(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    EndpointError::BadEndpoint { .. } | EndpointError::NotUrl { .. }
                ),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains("is not usable"), "{err}");
        }
    }
}
