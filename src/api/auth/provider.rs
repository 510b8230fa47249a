//! Where credentials come from, in the official SDKs' order, and keeping expiring ones fresh.
//!
//! The order: an explicit IAM token (`DCS_WAIT_AUTH_TOKEN`); the environment; the profile file;
//! ECS instance metadata. The first source that has credentials is used for the whole run.
//! Metadata credentials expire: they are refreshed, while a wait runs, once less than
//! [`REFRESH_MARGIN`] remains, so a two-hour wait outlives the first ones.

use super::credentials::Names;
use super::metadata::{Expiring, Metadata, MetadataError};
use super::profile::{self, Profile};
use super::{Credentials, CredentialsError};
use crate::api::Env;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Refresh once less than this remains, as the official SDKs do.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(40 * 60);

/// At most one refresh attempt this often, so that a metadata service that does not answer
/// costs one timeout now and then, not one per poll.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Where the credentials in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Handed over in code (the demo, an embedding program).
    Explicit,
    /// `DCS_WAIT_AUTH_TOKEN`.
    AuthToken,
    /// `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK`.
    Environment,
    /// The profile file at this path.
    Profile(PathBuf),
    /// Instance metadata at this URL.
    Metadata(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Explicit => f.write_str("the calling program"),
            Source::AuthToken => f.write_str("the environment (DCS_WAIT_AUTH_TOKEN)"),
            Source::Environment => f.write_str("the environment (HUAWEICLOUD_SDK_AK)"),
            Source::Profile(path) => write!(f, "the profile file {}", path.display()),
            Source::Metadata(url) => write!(f, "instance metadata at {url}"),
        }
    }
}

/// Fresh credentials from somewhere that issues expiring ones.
pub trait FetchCredentials: Send + Sync + 'static {
    /// Asks for fresh credentials.
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Expiring, MetadataError>> + Send + '_>>;
}

impl FetchCredentials for Metadata {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Expiring, MetadataError>> + Send + '_>> {
        Box::pin(Metadata::fetch(self))
    }
}

/// Wall-clock time read off the monotonic clock: immune to clock steps during a wait, and
/// virtual under `tokio::time::pause`, so that expiry can be tested over hours in no time.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    wall: jiff::Timestamp,
    at: Instant,
}

impl WallClock {
    /// Reads the wall clock once; later readings run on from it.
    pub fn start() -> WallClock {
        WallClock {
            wall: jiff::Timestamp::now(),
            at: Instant::now(),
        }
    }

    /// The wall-clock time now.
    pub fn now(&self) -> jiff::Timestamp {
        self.wall
            .checked_add(self.at.elapsed())
            .unwrap_or(self.wall)
    }
}

/// Gives the credentials to use for the next request.
pub struct Provider {
    source: Source,
    kind: Kind,
}

enum Kind {
    Fixed(Arc<Credentials>),
    Refreshing(Refresher),
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Credentials that never change.
    pub fn fixed(source: Source, credentials: Credentials) -> Provider {
        Provider {
            source,
            kind: Kind::Fixed(Arc::new(credentials)),
        }
    }

    /// Expiring credentials from `fetch`; fetched once now, so that a source with nothing to
    /// give is known before the first request.
    pub async fn refreshing(
        source: Source,
        fetch: impl FetchCredentials,
    ) -> Result<Provider, MetadataError> {
        let first = fetch.fetch().await?;
        Ok(Provider {
            source,
            kind: Kind::Refreshing(Refresher {
                fetch: Box::new(fetch),
                clock: WallClock::start(),
                state: tokio::sync::Mutex::new(RefreshState {
                    current: first,
                    last_attempt: Instant::now(),
                }),
            }),
        })
    }

    /// Where the credentials come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The credentials for a request made now.
    pub async fn credentials(&self) -> Result<Arc<Credentials>, CredentialsError> {
        match &self.kind {
            Kind::Fixed(credentials) => Ok(credentials.clone()),
            Kind::Refreshing(refresher) => refresher.get().await,
        }
    }
}

struct Refresher {
    fetch: Box<dyn FetchCredentials>,
    clock: WallClock,
    state: tokio::sync::Mutex<RefreshState>,
}

struct RefreshState {
    current: Expiring,
    last_attempt: Instant,
}

impl Refresher {
    async fn get(&self) -> Result<Arc<Credentials>, CredentialsError> {
        // One refresh at a time: the jobs that need credentials meanwhile wait for its result
        // instead of asking the metadata service once each.
        let mut state = self.state.lock().await;
        let remaining = state.current.expires_at.duration_since(self.clock.now());
        let due = remaining < jiff::SignedDuration::try_from(REFRESH_MARGIN).unwrap_or_default();
        if due && state.last_attempt.elapsed() >= MIN_REFRESH_INTERVAL {
            state.last_attempt = Instant::now();
            match self.fetch.fetch().await {
                Ok(fresh) => {
                    tracing::debug!("credentials refreshed; valid until {}", fresh.expires_at);
                    state.current = fresh;
                }
                Err(e) => tracing::warn!(
                    "could not refresh credentials ({e}); the current ones expire at {}",
                    state.current.expires_at
                ),
            }
        }
        if state.current.expires_at > self.clock.now() {
            Ok(state.current.credentials.clone())
        } else {
            Err(CredentialsError::Expired(
                state.current.expires_at.to_string(),
            ))
        }
    }
}

/// The credentials to use, and the profile when they came from it (its project id and IAM
/// endpoint belong with its credentials, not with another account's).
#[derive(Debug)]
pub struct Resolved {
    /// The credentials, kept fresh.
    pub provider: Provider,
    /// The profile, when they came from it.
    pub profile: Option<Profile>,
}

/// Walks the chain. `metadata` is `None` when that source is off.
pub async fn resolve(env: &Env, metadata: Option<Metadata>) -> Result<Resolved, CredentialsError> {
    if let Some(credentials) = Credentials::from_env(env)? {
        credentials.check_sendable(&Names::env())?;
        let source = match credentials {
            Credentials::Token(_) => Source::AuthToken,
            Credentials::AkSk { .. } => Source::Environment,
        };
        return Ok(Resolved {
            provider: Provider::fixed(source, credentials),
            profile: None,
        });
    }
    let profile_path = profile::path(env);
    if let Some(path) = &profile_path {
        if let Some(profile) = profile::load(path)? {
            let names = Names::keys(
                "ak",
                "sk",
                "security_token",
                "auth_token",
                &format!("in {}", path.display()),
            );
            profile.credentials.check_sendable(&names)?;
            return Ok(Resolved {
                provider: Provider::fixed(
                    Source::Profile(profile.path.clone()),
                    profile.credentials.clone(),
                ),
                profile: Some(profile),
            });
        }
    }
    let shown_path = profile_path.map_or_else(
        || "~/.huaweicloud/credentials".to_string(),
        |p| p.display().to_string(),
    );
    let Some(metadata) = metadata else {
        return Err(CredentialsError::Missing {
            profile: shown_path,
            metadata: None,
        });
    };
    let source = Source::Metadata(metadata.endpoint().to_string());
    match Provider::refreshing(source, metadata).await {
        Ok(provider) => Ok(Resolved {
            provider,
            profile: None,
        }),
        Err(e) => Err(CredentialsError::Missing {
            profile: shown_path,
            metadata: Some(Box::new(e)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    /// Issues credentials valid for `lifetime` of (virtual) wall time, numbered by issue.
    struct Issuer {
        clock: WallClock,
        lifetime: Duration,
        issued: AtomicU32,
        failing: Mutex<bool>,
    }

    impl FetchCredentials for Arc<Issuer> {
        fn fetch(
            &self,
        ) -> Pin<Box<dyn Future<Output = Result<Expiring, MetadataError>> + Send + '_>> {
            Box::pin(async move {
                if *self.failing.lock().unwrap() {
                    return Err(MetadataError::Refused("security key", 503));
                }
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Expiring {
                    credentials: Arc::new(Credentials::AkSk {
                        access_key: format!("TMP{n}"),
                        secret_key: SecretString::from("s"),
                        security_token: None,
                    }),
                    expires_at: self.clock.now().checked_add(self.lifetime).unwrap(),
                })
            })
        }
    }

    fn issuer(lifetime_minutes: u64) -> Arc<Issuer> {
        Arc::new(Issuer {
            clock: WallClock::start(),
            lifetime: Duration::from_secs(lifetime_minutes * 60),
            issued: AtomicU32::new(0),
            failing: Mutex::new(false),
        })
    }

    fn access_key(credentials: &Credentials) -> String {
        match credentials {
            Credentials::AkSk { access_key, .. } => access_key.clone(),
            Credentials::Token(_) => unreachable!(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_two_hour_wait_outlives_one_hour_credentials() {
        let issuer = issuer(60);
        let provider = Provider::refreshing(Source::Metadata("test".into()), issuer.clone())
            .await
            .unwrap();
        let mut used = Vec::new();
        for _ in 0..(2 * 3600 / 10) {
            let credentials = provider.credentials().await.unwrap();
            used.push(access_key(&credentials));
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        // Each credential lasts an hour and is replaced at the first call once less than 40
        // minutes remain: at 20:10, 40:20, 60:30, 80:40 and 100:50 — five refreshes after the
        // first fetch, and never an expired credential (that would have been an error).
        assert_eq!(issuer.issued.load(Ordering::SeqCst), 6);
        assert_eq!(used.first().map(String::as_str), Some("TMP1"));
        assert_eq!(used.last().map(String::as_str), Some("TMP6"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_refresh_keeps_the_current_credentials_and_is_not_retried_each_call() {
        let issuer = issuer(45);
        let provider = Provider::refreshing(Source::Metadata("test".into()), issuer.clone())
            .await
            .unwrap();
        *issuer.failing.lock().unwrap() = true;
        tokio::time::sleep(Duration::from_secs(6 * 60)).await; // 39 minutes left: refresh due
        for _ in 0..100 {
            assert_eq!(access_key(&provider.credentials().await.unwrap()), "TMP1");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // 10 s of calls, at most one attempt per MIN_REFRESH_INTERVAL: three attempts, all
        // failed, none issued.
        assert_eq!(issuer.issued.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(40 * 60)).await; // now expired
        assert!(matches!(
            provider.credentials().await,
            Err(CredentialsError::Expired(_))
        ));
        *issuer.failing.lock().unwrap() = false;
        tokio::time::sleep(MIN_REFRESH_INTERVAL).await;
        assert_eq!(access_key(&provider.credentials().await.unwrap()), "TMP2");
    }

    #[tokio::test]
    async fn the_chain_order_env_then_profile_then_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let profile_path = dir.path().join("credentials");
        std::fs::write(
            &profile_path,
            "[basic]\nak=PROFILEAK\nsk=PROFILESK\nproject_id=pp\n",
        )
        .unwrap();
        let file = profile_path.display().to_string();
        let metadata_off = "off".to_string();
        let env = |pairs: &[(&str, &str)]| {
            let mut all: Vec<(String, String)> = vec![
                (profile::ENV_CREDENTIALS_FILE.into(), file.clone()),
                (
                    super::super::metadata::ENV_METADATA_ENDPOINT.into(),
                    metadata_off.clone(),
                ),
            ];
            all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            Env::from_pairs(all)
        };
        let resolved = resolve(
            &env(&[("HUAWEICLOUD_SDK_AK", "A"), ("HUAWEICLOUD_SDK_SK", "S")]),
            None,
        )
        .await
        .unwrap();
        assert_eq!(resolved.provider.source(), &Source::Environment);
        assert!(resolved.profile.is_none());
        let resolved = resolve(&env(&[("DCS_WAIT_AUTH_TOKEN", "T")]), None)
            .await
            .unwrap();
        assert_eq!(resolved.provider.source(), &Source::AuthToken);
        let resolved = resolve(&env(&[]), None).await.unwrap();
        assert_eq!(
            resolved.provider.source(),
            &Source::Profile(profile_path.clone())
        );
        assert_eq!(resolved.profile.unwrap().project_id.as_deref(), Some("pp"));
        std::fs::remove_file(&profile_path).unwrap();
        let err = resolve(&env(&[]), None).await.unwrap_err();
        assert!(err.to_string().contains(&file), "{err}");
    }
}
