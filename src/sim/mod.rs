//! `dcs-sim`, the local DCS endpoint: the job API over real HTTP, with scripted job
//! timelines, signature checks and injected faults. Tests, the demo and anyone without a
//! cloud account run dcs-wait against it.
//!
//! - [`scenario`]: the jobs and faults it serves, read from JSON;
//! - [`verify`]: the credential checks of API Gateway;
//! - [`server`]: the HTTP server and its counters;
//! - [`in_process`]: the same job API without the socket, for the wait loop in virtual time;
//! - [`tls`]: HTTPS with a self-signed certificate.

pub mod in_process;
pub mod scenario;
pub mod server;
pub mod tls;
pub mod verify;

pub use in_process::InProcess;
pub use scenario::{Fault, FaultRule, Scenario, SimAuth, SimJob, SimMetadata, SimProject};
pub use server::{SimServer, Stats};
pub use tls::TlsIdentity;

use std::path::Path;

/// Why a scenario file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("scenario file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
}

/// Reads a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let shown = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| ScenarioError::Read {
        path: shown.clone(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| ScenarioError::Parse {
        path: shown,
        source,
    })
}
