//! `dcs-sim`, the local DCS endpoint: the job API over real HTTP, with scripted job
//! timelines, signature checks and injected faults. Tests, the demo and anyone without a
//! cloud account run dcs-wait against it.
//!
//! - `scenario`: the jobs and faults it serves ([`Scenario`]), read from JSON;
//! - `state`: what it knows and remembers (its clock, the counters, issued credentials);
//! - `verify`: the credential checks of API Gateway;
//! - `router`: which handler answers a request; `jobs`, `instances` (reads, swaps, tasks),
//!   `metadata` and `iam` answer;
//! - `answer`: responses, error bodies and the faults of a socket;
//! - `server`: the HTTP server ([`SimServer`]);
//! - `in_process`: the same job API without the socket ([`InProcess`]), for the wait loop
//!   in virtual time;
//! - `tls`: HTTPS with a self-signed certificate ([`TlsIdentity`]);
//! - `banner`: what it says at start, so that a newcomer can use it at once ([`Scenario::banner`]).

mod answer;
mod banner;
mod iam;
mod in_process;
mod instances;
mod jobs;
mod metadata;
mod records;
mod router;
mod scenario;
mod server;
mod state;
mod tls;
mod verify;

pub use in_process::InProcess;
pub use scenario::{
    Fault, FaultRule, Scenario, SimAuth, SimInstance, SimJob, SimMetadata, SimPlan, SimProject,
    SimRecord, SimTask, StartFault, StatusSpan,
};
pub use server::SimServer;
pub use state::{RecordStats, Stats, SwapStats};
pub use tls::TlsIdentity;

use std::path::Path;

/// The path of the counters ([`Stats`] as JSON), which is not counted itself.
pub const STATS_PATH: &str = "/_sim/stats";

/// Why a scenario file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a scenario.
    #[error("scenario file {path} is not valid: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Where and why (the JSON parser's error).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Scenario {
    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| ScenarioError::Read {
            path: shown.clone(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|e| ScenarioError::Parse {
            path: shown,
            source: Box::new(e),
        })
    }
}
