//! dcs-wait waits for Huawei Cloud DCS (managed Redis) jobs to finish and reports how they
//! ended, with exit codes a pipeline can branch on.
//!
//! The layout follows the life of a wait:
//!
//! - [`cli`] parses the command line, [`options`] checks it into typed [`options::Options`];
//! - [`auth`] finds credentials and signs requests (SDK-HMAC-SHA256);
//! - [`client`] makes one GET of the job API and classifies the answer ([`job`] parses a job,
//!   [`api_error`] an error);
//! - [`schedule`] says when to poll next; [`wait`] is the loop that puts schedule, client and
//!   deadline together, generic over the job source;
//! - [`report`] holds the outcome of each job and the exit code; [`export`] renders them
//!   (text, JSON Lines, JUnit, GitHub Actions);
//! - [`app`] runs it all for the binary, [`demo`] against [`sim`], the local DCS endpoint.

pub mod api_error;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod demo;
pub mod env;
pub mod export;
pub mod history;
pub mod http;
pub mod iam;
pub mod job;
pub mod job_ids;
pub mod limiter;
pub mod logging;
pub mod options;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod setup;
pub mod signals;
pub mod sim;
pub mod untrusted;
pub mod wait;
