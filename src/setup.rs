//! From checked options to a ready client: the HTTP clients, the credentials (the chain of
//! [`crate::auth::provider`]) and the project id (given, from the profile, or asked of IAM).

use crate::api_error::ApiError;
use crate::auth::metadata::Metadata;
use crate::auth::provider;
use crate::client::{ApiClient, DcsClient};
use crate::env::Env;
use crate::http;
use crate::iam::{self, IamError};
use crate::options::{check_endpoint, Options};
use std::sync::Arc;

/// Why the run cannot start.
#[derive(Debug)]
pub enum SetupError {
    /// Configuration: no credentials, an unusable profile or CA bundle, no project id
    /// (exit 2). The message says what to do.
    Usage(String),
    /// IAM could not be read for the project id (exit 4).
    Unreadable(ApiError),
}

/// Builds the client the waits will share.
pub async fn client(options: &Options, env: &Env) -> Result<DcsClient, SetupError> {
    let usage = |e: &dyn std::fmt::Display| SetupError::Usage(e.to_string());
    // HTTPS is needed for an https:// endpoint, and for IAM, which may be asked for the
    // project id (its endpoint is only known once the credentials' profile is read).
    let tls = options.endpoint.scheme() == "https" || options.project_id.is_none();
    let http = http::api_client(options.ca_bundle.as_deref(), tls).map_err(|e| usage(&e))?;
    let metadata = match Metadata::endpoint_from_env(env) {
        Some(base) => Some(Metadata::new(
            base,
            http::metadata_client().map_err(|e| usage(&e))?,
        )),
        None => None,
    };
    let resolved = provider::resolve(env, metadata)
        .await
        .map_err(|e| usage(&e))?;
    if let Ok(credentials) = resolved.provider.credentials().await {
        tracing::debug!(
            "credentials: {}, from {}",
            credentials.describe(),
            resolved.provider.source()
        );
    }
    let api = Arc::new(ApiClient::new(http, Arc::new(resolved.provider)));
    let profile = resolved.profile.as_ref();
    let project_id = match (
        &options.project_id,
        profile.and_then(|p| p.project_id.clone()),
    ) {
        (Some(given), _) => given.clone(),
        (None, Some(from_profile)) => from_profile,
        (None, None) => {
            let Some(region) = &options.region else {
                return Err(SetupError::Usage(
                    "no project id: give --project-id ID, set HUAWEICLOUD_SDK_PROJECT_ID, \
                     or give --region so that it can be looked up at IAM"
                        .into(),
                ));
            };
            let endpoint =
                iam::endpoint(env, profile.and_then(|p| p.iam_endpoint.as_deref()), region);
            let endpoint = check_endpoint(&endpoint).map_err(|e| usage(&e))?;
            match iam::project_id(&api, &endpoint, region).await {
                Ok(id) => {
                    tracing::debug!("project id {id}, from IAM for region {region}");
                    id
                }
                Err(e @ IamError::NotOne { .. }) => return Err(usage(&e)),
                Err(IamError::Unreadable { error, .. }) => {
                    return Err(SetupError::Unreadable(error))
                }
            }
        }
    };
    Ok(DcsClient::new(api, options.endpoint.clone(), project_id))
}
