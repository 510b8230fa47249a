//! Checked, typed options from the command line and the environment.
//!
//! Everything a user can get wrong on the command line is caught here, before any request: a
//! bad job id, region or project id, an endpoint that would send credentials in clear text.
//! Every message says what to do. What needs the environment's files and services (the
//! credentials, the project id) is [`crate::setup`]'s.

use crate::cli::Cli;
use crate::env::Env;
use crate::wait::WaitOptions;
use std::net::IpAddr;
use std::path::PathBuf;
use url::Url;

/// What a run needs, all of it valid.
#[derive(Debug, Clone)]
pub struct Options {
    pub job_ids: Vec<String>,
    pub endpoint: Url,
    pub region: Option<String>,
    /// Given by flag or environment; else [`crate::setup`] finds it.
    pub project_id: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    pub wait: WaitOptions,
}

/// A mistake in the command line or the environment (exit code 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsageError {
    #[error(
        "'{0}' is not a DCS job id: a job id is 1 to 64 letters, digits, '-' or '_' \
         (give the job_id the DCS operation returned)"
    )]
    BadJobId(String),
    #[error("{0}")]
    Stdin(#[from] crate::job_ids::InputError),
    #[error("cannot read job ids from stdin: {0}")]
    StdinUnreadable(String),
    #[error(
        "no endpoint: give --region REGION (or set HUAWEICLOUD_SDK_REGION), or --endpoint URL"
    )]
    NoEndpoint,
    #[error("'{0}' is not a region name: use one such as cn-north-4 or ap-southeast-1")]
    BadRegion(String),
    #[error("endpoint '{url}' is not usable: {why}")]
    BadEndpoint { url: String, why: String },
    #[error(
        "endpoint '{0}' would send credentials unencrypted: use https://, \
         or http:// only for a loopback address (127.0.0.1, [::1], localhost)"
    )]
    InsecureEndpoint(String),
    #[error("cannot write the JUnit report to {0}: its directory does not exist")]
    JunitDirectory(String),
    #[error("'{0}' is not a project id: a project id is 1 to 64 letters, digits, '-' or '_'")]
    BadProjectId(String),
}

impl Options {
    /// Checks `cli`, reading endpoint overrides from `env`. `stdin` is what standard input
    /// held, read when a job id is `-`.
    pub fn from_cli(cli: &Cli, env: &Env, stdin: Option<&[u8]>) -> Result<Options, UsageError> {
        let mut given: Vec<String> = Vec::with_capacity(cli.job_ids.len());
        for id in &cli.job_ids {
            if id != "-" && !is_identifier(id) {
                return Err(UsageError::BadJobId(id.clone()));
            }
            if id == "-" {
                let input = stdin.ok_or_else(|| {
                    UsageError::StdinUnreadable("standard input was not read".into())
                })?;
                given.extend(crate::job_ids::parse(input)?);
            } else {
                given.push(id.clone());
            }
        }
        let mut job_ids: Vec<String> = Vec::with_capacity(given.len());
        let mut seen = std::collections::HashSet::new();
        for id in given {
            if seen.insert(id.clone()) {
                job_ids.push(id);
            }
        }
        let region = cli.region.clone();
        if let Some(region) = &region {
            check_region(region)?;
        }
        let endpoint = endpoint(cli.endpoint.as_deref(), region.as_deref(), env)?;
        if let Some(project_id) = &cli.project_id {
            if !is_identifier(project_id) {
                return Err(UsageError::BadProjectId(project_id.clone()));
            }
        }
        if let Some(path) = &cli.junit {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if dir.is_some_and(|d| !d.is_dir()) {
                return Err(UsageError::JunitDirectory(path.display().to_string()));
            }
        }
        Ok(Options {
            job_ids,
            endpoint,
            region,
            project_id: cli.project_id.clone(),
            ca_bundle: cli.ca_bundle.clone(),
            wait: cli.wait_options(),
        })
    }
}

/// Job and project ids: `[A-Za-z0-9_-]{1,64}`. They go into a URL path, so nothing else.
pub fn is_identifier(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `--endpoint` wins; else `HUAWEICLOUD_SDK_REGION_DCS_{REGION}`; else the public endpoint.
fn endpoint(explicit: Option<&str>, region: Option<&str>, env: &Env) -> Result<Url, UsageError> {
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
        (None, None) => return Err(UsageError::NoEndpoint),
    };
    check_endpoint(text.trim())
}

fn check_region(region: &str) -> Result<(), UsageError> {
    let valid = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(UsageError::BadRegion(region.to_string()))
    }
}

/// An endpoint must be `https://`, or `http://` on loopback: credentials never travel in the
/// clear. Used for the DCS and the IAM endpoints alike.
pub fn check_endpoint(text: &str) -> Result<Url, UsageError> {
    let bad = |why: &str| UsageError::BadEndpoint {
        url: text.to_string(),
        why: why.to_string(),
    };
    let url = Url::parse(text).map_err(|e| {
        bad(&format!(
            "{e}; give a URL such as https://dcs.cn-north-4.myhuaweicloud.com"
        ))
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
        "http" => Err(UsageError::InsecureEndpoint(text.to_string())),
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

    const KEYS: &[(&str, &str)] = &[("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")];

    fn options(args: &[&str], vars: &[(&str, &str)]) -> Result<Options, UsageError> {
        let mut all = vec!["dcs-wait"];
        all.extend_from_slice(args);
        Options::from_cli(
            &Cli::parse_from_args(all).unwrap(),
            &Env::from_pairs(vars.iter().copied()),
            None,
        )
    }

    #[test]
    fn region_gives_the_public_endpoint_unless_overridden() {
        let o = options(&["--region", "cn-north-4", "--project-id", "p", "j"], KEYS).unwrap();
        assert_eq!(
            o.endpoint.as_str(),
            "https://dcs.cn-north-4.myhuaweicloud.com/"
        );
        let mut vars = KEYS.to_vec();
        vars.push((
            "HUAWEICLOUD_SDK_REGION_DCS_CN_NORTH_4",
            "https://dcs.internal.example",
        ));
        let o = options(&["--region", "cn-north-4", "--project-id", "p", "j"], &vars).unwrap();
        assert_eq!(o.endpoint.host_str(), Some("dcs.internal.example"));
        let o = options(
            &[
                "--region",
                "cn-north-4",
                "--endpoint",
                "http://127.0.0.1:9",
                "--project-id",
                "p",
                "j",
            ],
            &vars,
        )
        .unwrap();
        assert_eq!(o.endpoint.as_str(), "http://127.0.0.1:9/");
    }

    #[test]
    fn job_ids_are_checked_and_deduplicated() {
        let o = options(
            &["--region", "r1", "--project-id", "p", "a", "b", "a"],
            KEYS,
        )
        .unwrap();
        assert_eq!(o.job_ids, ["a", "b"]);
        let long = "x".repeat(65);
        for bad in ["a/b", "../x", "a b", "é", long.as_str(), ""] {
            let err =
                options(&["--region", "r1", "--project-id", "p", "--", bad], KEYS).unwrap_err();
            assert_eq!(err, UsageError::BadJobId(bad.to_string()));
            assert!(err
                .to_string()
                .contains("job_id the DCS operation returned"));
        }
        let cli = Cli::parse_from_args(["dcs-wait", "--region", "r1", "a", "-", "b"]).unwrap();
        let env = Env::from_pairs::<&str, &str>([]);
        let o = Options::from_cli(&cli, &env, Some(b"x a\ny")).unwrap();
        assert_eq!(o.job_ids, ["a", "x", "y", "b"]);
        assert!(matches!(
            Options::from_cli(&cli, &env, Some(b"ok\nnot/ok")),
            Err(UsageError::Stdin(e)) if e.line == 2
        ));
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
            assert!(
                options(&["--endpoint", ok, "--project-id", "p", "j"], KEYS).is_ok(),
                "{ok}"
            );
        }
        assert!(matches!(
            options(
                &["--endpoint", "http://10.0.0.1", "--project-id", "p", "j"],
                KEYS
            ),
            Err(UsageError::InsecureEndpoint(_))
        ));
        for bad in [
            "ftp://x",
            "not a url",
            "https://u:p@x.com",
            "https://x.com/?a=b",
            "file:///etc",
        ] {
            let err = options(&["--endpoint", bad, "--project-id", "p", "j"], KEYS).unwrap_err();
            assert!(
                matches!(err, UsageError::BadEndpoint { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn missing_pieces_say_what_to_give() {
        assert_eq!(
            options(&["--project-id", "p", "j"], KEYS).unwrap_err(),
            UsageError::NoEndpoint
        );
        assert_eq!(
            options(&["--region", "r", "j"], KEYS).unwrap().project_id,
            None
        );
        assert_eq!(
            options(&["--region", "R_1", "--project-id", "p", "j"], KEYS).unwrap_err(),
            UsageError::BadRegion("R_1".into())
        );
        assert_eq!(
            options(&["--region", "r", "--project-id", "p/q", "j"], KEYS).unwrap_err(),
            UsageError::BadProjectId("p/q".into())
        );
    }
}
