//! The project id, when the user gave none: IAM's `GET /v3/projects?name={region}`, signed
//! like any request but without `X-Project-Id`.

use super::answer::PollError;
use super::env::Env;
use super::error::{ApiError, ErrorKind};
use super::ids::{InvalidId, ProjectId};
use super::transport::{Call, Transport};
use backon::{ExponentialBuilder, Retryable};
use serde::Deserialize;
use std::time::Duration;
use url::Url;

pub const ENV_IAM_ENDPOINT: &str = "HUAWEICLOUD_SDK_IAM_ENDPOINT";

/// Why no project id came back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IamError {
    /// IAM could not be read: a request error (exit 4).
    #[error("could not look up the project id of region {region} at IAM")]
    Unreadable {
        /// The region looked up.
        region: String,
        /// The failed request.
        #[source]
        error: ApiError,
    },
    /// IAM answered, but not with exactly one project (exit 2).
    #[error("IAM knows {count} projects named {region}, not exactly one: give the project id")]
    NotOne {
        /// The region, which is the project's name.
        region: String,
        /// How many projects IAM knows by that name.
        count: usize,
    },
}

#[derive(Deserialize)]
struct Projects {
    projects: Vec<Project>,
}

#[derive(Deserialize)]
struct Project {
    id: String,
    name: String,
}

/// `HUAWEICLOUD_SDK_IAM_ENDPOINT`, else the profile's `iam_endpoint`, else the public one.
pub fn endpoint(env: &Env, from_profile: Option<&str>, region: &str) -> String {
    env.get(ENV_IAM_ENDPOINT)
        .or_else(|| from_profile.map(str::to_string))
        .unwrap_or_else(|| format!("https://iam.{region}.myhuaweicloud.com"))
}

/// The id of the one project named `region`. Transient faults are retried a few times (IAM
/// is asked once per run, before any wait); anything else is final.
pub async fn project_id(api: &Transport, iam: &Url, region: &str) -> Result<ProjectId, IamError> {
    let mut url = iam.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["v3", "projects"]);
    }
    url.query_pairs_mut().append_pair("name", region);
    let unreadable = |error: ApiError| IamError::Unreadable {
        region: region.to_string(),
        error,
    };
    let reply = (|| api.request(Call::get(&url, None)))
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(500))
                .with_max_times(3)
                .with_jitter(),
        )
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, PollError::Transient { .. }))
        .await
        .map_err(|e| unreadable(e.api_error().clone()))?;
    if reply.status != 200 {
        return Err(unreadable(ApiError::from_response(
            reply.status,
            &reply.body,
            reply.headers.request_id,
        )));
    }
    let projects: Projects = serde_json::from_slice(&reply.body).map_err(|e| {
        unreadable(
            ApiError::new(ErrorKind::MalformedBody, "the project list is not valid").with_source(e),
        )
    })?;
    let mut ids: Vec<String> = projects
        .projects
        .into_iter()
        .filter(|p| p.name == region)
        .map(|p| p.id)
        .collect();
    match ids.len() {
        1 => ids.remove(0).parse().map_err(|e: InvalidId| {
            unreadable(
                ApiError::new(ErrorKind::MalformedBody, "IAM's project id is not usable")
                    .with_source(e),
            )
        }),
        count => Err(IamError::NotOne {
            region: region.to_string(),
            count,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_precedence() {
        let env = Env::from_pairs([(ENV_IAM_ENDPOINT, "https://iam.env")]);
        assert_eq!(
            endpoint(&env, Some("https://iam.profile"), "r1"),
            "https://iam.env"
        );
        let none = Env::from_pairs::<&str, &str>([]);
        assert_eq!(
            endpoint(&none, Some("https://iam.profile"), "r1"),
            "https://iam.profile"
        );
        assert_eq!(
            endpoint(&none, None, "cn-north-4"),
            "https://iam.cn-north-4.myhuaweicloud.com"
        );
    }
}
