//! The HTTP side of `dcs-sim`: hyper directly rather than a framework, because injecting
//! faults needs what frameworks hide: closing a connection without an answer, holding an
//! answer forever, sending a body that is not what the headers promise.

use super::router::handle;
use super::scenario::Scenario;
use super::state::{State, Stats};
use super::tls::TlsIdentity;
use crate::api::{Client, ConnectError, Env, ProjectId};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// A running endpoint; dropping it stops the server and every connection.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    https: bool,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimServer {
    /// Binds `addr` (port 0 for any free port) and serves `scenario` over HTTP.
    pub async fn start(scenario: Scenario, addr: SocketAddr) -> std::io::Result<SimServer> {
        SimServer::start_with_tls(scenario, addr, None).await
    }

    /// The same, over HTTPS with `tls` when given.
    pub async fn start_with_tls(
        scenario: Scenario,
        addr: SocketAddr,
        tls: Option<&TlsIdentity>,
    ) -> std::io::Result<SimServer> {
        let acceptor = tls
            .map(TlsIdentity::acceptor)
            .transpose()
            .map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(scenario));
        let https = acceptor.is_some();
        let task = tokio::spawn(serve(listener, acceptor, state.clone()));
        Ok(SimServer {
            addr,
            https,
            state,
            task,
        })
    }

    /// `http://{addr}` (or `https://`), the value for `--endpoint`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// What it has seen so far.
    pub fn stats(&self) -> Stats {
        self.state.stats().clone()
    }

    /// What it serves.
    pub fn scenario(&self) -> &Scenario {
        &self.state.scenario
    }

    /// A [`Client`] for this endpoint, with the scenario's credentials and project (`sim`
    /// when it names none), built as an embedding program builds one: nothing is read from
    /// the process environment.
    pub async fn client(&self) -> Result<Client, ConnectError> {
        let scenario = self.scenario();
        let auth = &scenario.auth;
        let project_id: ProjectId = scenario.project_id.as_deref().unwrap_or("sim").parse()?;
        Client::builder()
            .endpoint(self.url())
            .project_id(project_id)
            .access_key(
                &auth.access_key,
                &auth.secret_key,
                auth.security_token.clone(),
            )
            .env(Env::from_pairs::<&str, &str>([]))
            .connect()
            .await
    }
}

async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, state: Arc<State>) {
    // Connections live in this set, so aborting the server task ends them all, stalled
    // answers included.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    let tls = tls.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(state.clone(), request));
                        let http = http1::Builder::new();
                        match tls {
                            None => {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                            // A client that refuses our certificate ends the handshake: fine.
                            Some(tls) => {
                                if let Ok(stream) = tls.accept(stream).await {
                                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                                }
                            }
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!("dcs-sim: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
