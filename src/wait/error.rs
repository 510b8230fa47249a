//! Why a wait ended in an error: a request that failed (the API wing's [`ApiError`]), or what
//! the wait itself concluded. Two wings, two types: a request knows nothing of starts, dry
//! runs or fail-fast.

use crate::api::ApiError;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::fmt;

/// What went wrong in a wait, as its report's `error` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// A request failed for good, or was the last to fail before the deadline: refused
    /// (auth, permission, not found past the grace period, a bad request) or never answered.
    Request(ApiError),
    /// A start (a swap's, a backup's, a restore's) got an answer that proves nothing, and no
    /// task or record showed that it started; or the wait was interrupted while the start was
    /// on its way. The message says what to look at before starting it again.
    StartUnknown(String),
    /// A swap's dry run found the instance in a state where DCS refuses a swap.
    NotRunning(String),
    /// A backup's or restore's dry run found what DCS would refuse: an instance that cannot
    /// be backed up, a backup that did not succeed or cannot be restored.
    NotPossible(String),
    /// Stopped because another wait failed, with fail-fast on.
    FailFast(String),
    /// A bug: a wait that could not run.
    Internal(String),
}

impl WaitError {
    /// The JSON report's `error.code`: a failed request's ([`ApiError::wire_code`]), else
    /// the conclusion's word (`start_unknown`, `not_running`, `not_possible`, `fail_fast`,
    /// `internal`).
    pub fn code(&self) -> Option<&str> {
        Some(match self {
            WaitError::Request(error) => return error.wire_code(),
            WaitError::StartUnknown(_) => "start_unknown",
            WaitError::NotRunning(_) => "not_running",
            WaitError::NotPossible(_) => "not_possible",
            WaitError::FailFast(_) => "fail_fast",
            WaitError::Internal(_) => "internal",
        })
    }

    /// The failed request, when a request is what failed.
    pub fn request(&self) -> Option<&ApiError> {
        match self {
            WaitError::Request(error) => Some(error),
            _ => None,
        }
    }

    /// What it says, all of it: a failed request's message with its causes.
    pub fn message(&self) -> String {
        match self {
            WaitError::Request(error) => error.message_and_causes(),
            WaitError::StartUnknown(message)
            | WaitError::NotRunning(message)
            | WaitError::NotPossible(message)
            | WaitError::FailFast(message)
            | WaitError::Internal(message) => message.clone(),
        }
    }
}

impl From<ApiError> for WaitError {
    fn from(error: ApiError) -> WaitError {
        WaitError::Request(error)
    }
}

/// A failed request as [`ApiError`] displays (its causes are its sources); a conclusion as
/// `code: message`.
impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Request(error) => error.fmt(f),
            other => write!(
                f,
                "{}: {}",
                other.code().unwrap_or_default(),
                other.message()
            ),
        }
    }
}

impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.request().and_then(std::error::Error::source)
    }
}

/// As the JSON report has it: `{code, message, http_status, request_id}`.
impl Serialize for WaitError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let WaitError::Request(error) = self {
            return error.serialize(serializer);
        }
        let mut s = serializer.serialize_struct("WaitError", 4)?;
        s.serialize_field("code", &self.code())?;
        s.serialize_field("message", &self.message())?;
        s.serialize_field("http_status", &None::<u16>)?;
        s.serialize_field("request_id", &None::<String>)?;
        s.end()
    }
}
