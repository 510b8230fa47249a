//! From what was given to a ready [`Client`]: the endpoint, the HTTP client, the credentials
//! (the chain of [`super::auth::provider`], or fixed ones) and the project id (given, from the
//! profile, or asked of IAM). The command line builds its client here too.

use super::auth::credentials::Names;
use super::auth::metadata::Metadata;
use super::auth::{provider, Credentials, CredentialsError, Provider, Source};
use super::client::Client;
use super::endpoint::{self, EndpointError};
use super::env::Env;
use super::error::ApiError;
use super::http::{self, HttpError};
use super::iam::{self, IamError};
use super::ids::{InvalidId, ProjectId};
use super::transport::Transport;
use std::path::PathBuf;
use std::sync::Arc;

/// The DCS endpoint URL, as `--endpoint`. This and the three below are what
/// [`ClientBuilder::from_env`] reads.
pub const ENV_ENDPOINT: &str = "DCS_WAIT_ENDPOINT";
/// The region, as `--region`.
pub const ENV_REGION: &str = "HUAWEICLOUD_SDK_REGION";
/// The project id, as `--project-id`.
pub const ENV_PROJECT_ID: &str = "HUAWEICLOUD_SDK_PROJECT_ID";
/// Extra trusted CA certificates (PEM), as `--ca-bundle`.
pub const ENV_CA_BUNDLE: &str = "SSL_CERT_FILE";

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// No usable endpoint (configuration).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// A project id that is not one (configuration).
    #[error(transparent)]
    ProjectId(#[from] InvalidId),
    /// The HTTP client could not be set up: an unusable CA bundle (configuration).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// No credentials, or unusable ones (configuration).
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// No project id given, none in the profile, and no region to ask IAM with.
    #[error(
        "no project id: give one (HUAWEICLOUD_SDK_PROJECT_ID), or a region so that it can be \
         looked up at IAM"
    )]
    NoProjectId,
    /// IAM did not give the project id: see [`IamError`].
    #[error(transparent)]
    Iam(#[from] IamError),
}

impl ConnectError {
    /// The failed request, when IAM could not be read: a fault of the service or the
    /// account's rights, not of the configuration. `None` for every configuration mistake.
    pub fn unreadable(&self) -> Option<&ApiError> {
        match self {
            ConnectError::Iam(IamError::Unreadable { error, .. }) => Some(error),
            _ => None,
        }
    }
}

impl Client {
    /// A client set up as the `dcs-wait` command line sets up its own with no flags: the
    /// endpoint from `DCS_WAIT_ENDPOINT` or the region in `HUAWEICLOUD_SDK_REGION`, the
    /// project id from `HUAWEICLOUD_SDK_PROJECT_ID`, the profile file or IAM, credentials
    /// from the chain (token, AK/SK, profile file, instance metadata), extra trusted CAs from
    /// `SSL_CERT_FILE`. [`Client::builder`] sets any of these in code.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), dcs_wait::ConnectError> {
    /// let client = dcs_wait::Client::from_env().await?;
    /// println!("project {}", client.project_id());
    /// # Ok(()) }
    /// ```
    pub async fn from_env() -> Result<Client, ConnectError> {
        ClientBuilder::from_env(Env::process()).connect().await
    }

    /// A builder that starts from nothing given (see its `# Default`).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), dcs_wait::ConnectError> {
    /// let client = dcs_wait::Client::builder()
    ///     .region("cn-north-4")
    ///     .project_id("0a2b4c6d8e0f1a2b3c4d5e6f7a8b9c0d".parse()?)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// How to build a [`Client`].
///
/// # Default
///
/// - endpoint: none, derived from the region (`https://dcs.{region}.myhuaweicloud.com`, or
///   `HUAWEICLOUD_SDK_REGION_DCS_{REGION}`); one of the two must be given
/// - region: none
/// - project id: none: the profile file's, else looked up at IAM for the region
/// - CA bundle: none: the platform's trust roots only
/// - credentials: the chain, read from the environment: `DCS_WAIT_AUTH_TOKEN`,
///   `HUAWEICLOUD_SDK_AK`/`_SK`, the profile file, ECS instance metadata
/// - environment: the process's ([`Env::process`])
///
/// [`ClientBuilder::from_env`] starts from the variables the command line reads instead.
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    endpoint: Option<String>,
    region: Option<String>,
    project_id: Option<ProjectId>,
    ca_bundle: Option<PathBuf>,
    credentials: Option<Credentials>,
    /// A variable that did not parse, reported by `connect` with the other mistakes.
    invalid: Option<InvalidId>,
    env: Option<Env>,
}

impl ClientBuilder {
    /// Starts from `env`'s `DCS_WAIT_ENDPOINT`, `HUAWEICLOUD_SDK_REGION`,
    /// `HUAWEICLOUD_SDK_PROJECT_ID` and `SSL_CERT_FILE`, as `dcs-wait` with no flags does. A
    /// project id variable that is not an id is refused by [`ClientBuilder::connect`].
    pub fn from_env(env: Env) -> ClientBuilder {
        let (project_id, invalid) = match env.get(ENV_PROJECT_ID).map(|t| t.parse()) {
            Some(Ok(id)) => (Some(id), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        ClientBuilder {
            endpoint: env.get(ENV_ENDPOINT),
            region: env.get(ENV_REGION),
            project_id,
            ca_bundle: env.get(ENV_CA_BUNDLE).map(PathBuf::from),
            credentials: None,
            invalid,
            env: Some(env),
        }
    }

    /// The DCS endpoint, `https://`, or `http://` on loopback only.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The region, e.g. `cn-north-4`: gives the endpoint when none is set, and the IAM
    /// endpoint to look the project id up at.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The project id; else the profile's, else IAM's for the region.
    pub fn project_id(mut self, project_id: ProjectId) -> Self {
        self.project_id = Some(project_id);
        self
    }

    /// Extra trusted CA certificates (a PEM file), added to the platform's.
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_bundle = Some(path.into());
        self
    }

    /// An access key and its secret (and a security token, for temporary ones) instead of
    /// the chain.
    pub fn access_key(
        self,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        security_token: Option<String>,
    ) -> Self {
        self.credentials(Credentials::AkSk {
            access_key: access_key.into(),
            secret_key: secret_key.into().into(),
            security_token: security_token.map(Into::into),
        })
    }

    /// An IAM token (sent as `X-Auth-Token`) instead of the chain.
    pub fn auth_token(self, token: impl Into<String>) -> Self {
        self.credentials(Credentials::Token(token.into().into()))
    }

    fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The environment to read credentials and endpoint overrides from, instead of the
    /// process's: tests and embedders need not change the process environment.
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// The endpoint [`ClientBuilder::connect`] would send to, checked now: a mistake in it
    /// (no endpoint or region, a region that is not one, `http://` off loopback) is found
    /// before any credential is looked for or anything is sent.
    pub fn check_endpoint(&self) -> Result<String, EndpointError> {
        let env = self.env.clone().unwrap_or_else(Env::process);
        endpoint::dcs(self.endpoint.as_deref(), self.region.as_deref(), &env).map(String::from)
    }

    /// Builds the client. The credentials are found now (instance metadata is asked, when
    /// the chain gets that far), and IAM is asked for the project id when none was given.
    pub async fn connect(self) -> Result<Client, ConnectError> {
        if let Some(invalid) = self.invalid {
            return Err(invalid.into());
        }
        let env = self.env.unwrap_or_else(Env::process);
        let endpoint = endpoint::dcs(self.endpoint.as_deref(), self.region.as_deref(), &env)?;
        // HTTPS is needed for an https:// endpoint, and for IAM, which may be asked for the
        // project id (its endpoint is only known once the credentials' profile is read).
        let tls = endpoint.scheme() == "https" || self.project_id.is_none();
        let http = http::api_client(self.ca_bundle.as_deref(), tls)?;
        let (provider, profile) = match self.credentials {
            Some(credentials) => {
                credentials.check_sendable(&Names::keys(
                    "the access key",
                    "the secret key",
                    "the security token",
                    "the IAM token",
                    "given to the client builder",
                ))?;
                (Provider::fixed(Source::Explicit, credentials), None)
            }
            None => {
                let metadata = match Metadata::endpoint_from_env(&env) {
                    Some(base) => Some(Metadata::new(base, http::metadata_client()?)),
                    None => None,
                };
                let resolved = provider::resolve(&env, metadata).await?;
                (resolved.provider, resolved.profile)
            }
        };
        if let Ok(credentials) = provider.credentials().await {
            tracing::debug!(
                "credentials: {}, from {}",
                credentials.describe(),
                provider.source()
            );
        }
        let transport = Arc::new(Transport::new(http, Arc::new(provider)));
        let from_profile = profile.as_ref().and_then(|p| p.project_id.clone());
        let project_id = match (self.project_id, from_profile) {
            (Some(given), _) => given,
            (None, Some(from_profile)) => from_profile.parse()?,
            (None, None) => {
                let Some(region) = &self.region else {
                    return Err(ConnectError::NoProjectId);
                };
                let iam_endpoint = iam::endpoint(
                    &env,
                    profile.as_ref().and_then(|p| p.iam_endpoint.as_deref()),
                    region,
                );
                let iam_endpoint = endpoint::check(&iam_endpoint)?;
                let id = iam::project_id(&transport, &iam_endpoint, region).await?;
                tracing::debug!("project id {id}, from IAM for region {region}");
                id
            }
        };
        Ok(Client::new(transport, endpoint, project_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Credentials {
        Credentials::Token(secrecy::SecretString::from("t"))
    }

    #[tokio::test]
    async fn from_env_reads_what_the_command_line_reads() {
        let env = Env::from_pairs([
            (ENV_ENDPOINT, "http://127.0.0.1:9"),
            (ENV_PROJECT_ID, "p1"),
            ("DCS_WAIT_AUTH_TOKEN", "t"),
        ]);
        let client = ClientBuilder::from_env(env).connect().await.unwrap();
        assert_eq!(client.endpoint(), "http://127.0.0.1:9/");
        assert_eq!(client.project_id().as_str(), "p1");
    }

    #[tokio::test]
    async fn mistakes_are_configuration_not_faults() {
        let env = Env::from_pairs([(ENV_REGION, "r1"), (ENV_PROJECT_ID, "p/1")]);
        let err = ClientBuilder::from_env(env).connect().await.unwrap_err();
        assert!(
            matches!(&err, ConnectError::ProjectId(e) if e.text() == "p/1"),
            "{err}"
        );
        assert!(err.unreadable().is_none());

        let none = Env::from_pairs::<&str, &str>([]);
        let err = Client::builder()
            .env(none.clone())
            .endpoint("http://127.0.0.1:9")
            .credentials(token())
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::NoProjectId), "{err}");

        let err = Client::builder().env(none).connect().await.unwrap_err();
        assert!(
            matches!(err, ConnectError::Endpoint(EndpointError::NoEndpoint)),
            "{err}"
        );
    }
}
