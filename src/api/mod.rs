//! The DCS API: one signed request (`auth` signs it), what its answer means, the job, the
//! identifiers a URL takes, the error bodies, IAM's project look-up, and the [`Client`] that
//! puts them together for one project.
//!
//! - `ids`: [`JobId`], [`InstanceId`], [`ProjectId`], checked once;
//! - `endpoint`: where requests go, and why never in the clear;
//! - `connect`: the [`ClientBuilder`], the same set-up the command line uses;
//! - `client`: the [`Client`] and the URLs it builds;
//! - `transport`: one signed request, with a clock-skew correction, for DCS and IAM;
//! - `answer`: what an answer means for a wait ([`PollError`]);
//! - `job`, `error`: the job body ([`Job`]) and the error bodies ([`ApiError`]);
//! - `instance`: an [`Instance`] and its background tasks ([`TaskList`]);
//! - `start`: what the answer to a start — a swap's, a backup's, a restore's — proves
//!   ([`Start`]);
//! - `backup`: backup and restore records ([`BackupRecord`], [`RestoreRecord`]);
//! - `untrusted`: server text made safe to print;
//! - `http`: the HTTP clients and the cap on an answer's size;
//! - `iam`: the project id of a region;
//! - `env`: the environment as a value ([`Env`]).

pub(crate) mod answer;
pub(crate) mod auth;
mod backup;
mod client;
mod connect;
pub(crate) mod endpoint;
mod env;
mod error;
pub(crate) mod http;
mod iam;
mod ids;
mod instance;
mod job;
mod start;
pub(crate) mod transport;
mod unreached;
pub(crate) mod untrusted;

pub use answer::PollError;
pub use auth::CredentialsError;
pub use backup::{BackupRecord, BackupRequest, Page, RecordPage, RecordStatus, RestoreRecord};
pub use client::Client;
pub use connect::{ClientBuilder, ConnectError};
#[cfg(feature = "sim")]
pub use connect::{ENV_CA_BUNDLE, ENV_ENDPOINT, ENV_PROJECT_ID};
pub use endpoint::EndpointError;
pub use env::Env;
pub use error::{ApiError, ErrorKind, WithCauses};
pub use http::HttpError;
pub use iam::IamError;
pub use ids::{BackupId, InstanceId, InvalidId, JobId, ProjectId, RestoreId};
pub use instance::{Details, Instance, Task, TaskList, TaskStatus, SWAP_TASK};
pub use job::{Job, JobDuration, Status};
pub use start::{Start, SwapStart};
