//! SIGINT and SIGTERM end every wait at once: each job is then reported `interrupted` with the
//! last status seen, and the process exits 130 or 143 as a shell expects.

use dcs_wait::ExitStatus;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Listens for the first SIGINT or SIGTERM while it lives.
#[derive(Debug)]
pub struct SignalWatch {
    received: Arc<OnceLock<ExitStatus>>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SignalWatch {
    /// Starts listening. Must be called inside a tokio runtime.
    pub fn start() -> SignalWatch {
        let received = Arc::new(OnceLock::new());
        let stop = CancellationToken::new();
        let cancel = stop.clone();
        let task = tokio::spawn({
            let received = received.clone();
            async move {
                if let Some(status) = first_signal().await {
                    tracing::warn!("{}: stopping", signal_name(status));
                    let _ = received.set(status);
                    cancel.cancel();
                }
            }
        });
        SignalWatch {
            received,
            stop,
            task,
        }
    }

    /// Completes at the first signal: what the waits stop on.
    pub fn first(&self) -> impl Future<Output = ()> + Send + 'static {
        self.stop.clone().cancelled_owned()
    }

    /// The exit status the signal asks for, once one came.
    pub fn received(&self) -> Option<ExitStatus> {
        self.received.get().copied()
    }
}

fn signal_name(status: ExitStatus) -> &'static str {
    if status == ExitStatus::Terminated {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

#[cfg(unix)]
async fn first_signal() -> Option<ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut interrupt, mut terminate) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(
                "cannot listen for signals ({e}); Ctrl-C will end the process without reports"
            );
            return None;
        }
    };
    tokio::select! {
        _ = interrupt.recv() => Some(ExitStatus::Interrupted),
        _ = terminate.recv() => Some(ExitStatus::Terminated),
    }
}

#[cfg(not(unix))]
async fn first_signal() -> Option<ExitStatus> {
    tokio::signal::ctrl_c()
        .await
        .ok()
        .map(|_| ExitStatus::Interrupted)
}
