//! A server never reached is an error that says where and why — at the unreachable grace,
//! not as a job "still running" at the deadline — and a proxy that refuses the tunnel is
//! final at once. The real binary against closed loopback ports and a refusing proxy.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// A loopback port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `--endpoint`, the test project and JSON output, then `extra`.
fn args_to(endpoint: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--endpoint",
        endpoint,
        "--project-id",
        PROJECT,
        "--output",
        "json",
    ];
    args.extend(extra);
    args.into_iter().map(String::from).collect()
}

/// Keys for an endpoint that never checks them.
fn keys() -> Vec<(&'static str, String)> {
    vec![
        ("HUAWEICLOUD_SDK_AK", "AK".to_string()),
        ("HUAWEICLOUD_SDK_SK", "SK".to_string()),
    ]
}

fn message(run: &Run) -> String {
    let report = run.report();
    assert_eq!(report["error"]["code"], "connect", "{run:#?}");
    report["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_endpoint_is_an_error_at_the_grace_naming_it() {
    let port = closed_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    for command in [
        &["job-1"][..],
        &["swap", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6"],
    ] {
        let args = args_to(
            &endpoint,
            &[&["--unreachable-grace", "2s"], command].concat(),
        );
        let started = Instant::now();
        let run = dcs_wait(&args, &keys()).await;
        assert_eq!(run.code, 4, "{run:#?}");
        assert_eq!(run.report()["outcome"], "error");
        let said = message(&run);
        assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
        assert!(said.contains("refused"), "{said}");
        assert!(!said.contains("proxy"), "{said}");
        // At the grace (2 s), far from the deadline (30 min).
        assert!(started.elapsed() >= Duration::from_secs(2));
        assert_ended_by(&run, Duration::from_secs(2));
    }
}

/// `https://` to a server that speaks plain HTTP: no TLS session ever opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_tls_handshake_is_never_reaching_the_server() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let endpoint = sim.url().replace("http://", "https://");
    let args = args_to(&endpoint, &["--unreachable-grace", "1s", "swap-1"]);
    let run = dcs_wait(&args, &aksk(&sim)).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let said = message(&run);
    assert!(said.contains("the TLS handshake failed"), "{said}");
    assert_eq!(sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_is_down_is_named_without_its_password() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let proxy = format!("http://user:{SECRET_MARK}@127.0.0.1:{}", closed_port());
    let mut env = aksk(&sim);
    env.extend([("HTTPS_PROXY", proxy), trace()]);
    // https://: plain HTTP to a loopback endpoint never goes through a proxy.
    let endpoint = sim.url().replace("http://", "https://");
    let args = args_to(&endpoint, &["--unreachable-grace", "1s", "swap-1"]);
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let said = message(&run);
    let host = endpoint.trim_start_matches("https://").to_string();
    assert!(
        said.contains(&format!(
            "could not connect to {host} through the proxy 127.0.0.1:"
        )),
        "{said}"
    );
    assert_no_secret(&run);
    assert_eq!(sim.stats().requests, 0);
}

/// A proxy that answers `CONNECT` with 407: refused at once, not tried until the grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_refusing_the_tunnel_is_final_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut head = [0u8; 4096];
            let _ = client.read(&mut head).await;
            let _ = client
                .write_all(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
        }
    });
    let mut env = keys();
    env.push(("HTTPS_PROXY", format!("http://user:{SECRET_MARK}@{proxy}")));
    for command in [
        &["job-1"][..],
        &["swap", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6"],
    ] {
        let args = args_to(
            "https://127.0.0.1:9",
            &[&["--unreachable-grace", "5m"], command].concat(),
        );
        let run = dcs_wait(&args, &env).await;
        assert_eq!(run.code, 4, "{run:#?}");
        let said = message(&run);
        let named = format!("through the proxy {proxy}: the proxy answered 407");
        assert!(said.contains(&named), "{said}");
        assert!(said.contains("HTTPS_PROXY"), "{said}");
        assert_eq!(run.report()["polls"], 1, "{run:#?}");
        assert_no_secret(&run);
        assert_ended_by(&run, Duration::ZERO);
    }
}

/// Debian's tinyproxy with `BasicAuth`, as users meet it: no password (407), a wrong one
/// (401), the right one to a target that is down (500). Each is final at once and named
/// with the proxy and its status, never the password. `.ci/run` installs tinyproxy; on a
/// machine without it the test says so and passes, unless `CI` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_proxy_refusing_is_final_at_once_with_its_status() {
    let Some(proxy) = Tinyproxy::start("user", &format!("right-{SECRET_MARK}")) else {
        return;
    };
    let target = format!("127.0.0.1:{}", closed_port());
    let endpoint = format!("https://{target}");
    let args = args_to(&endpoint, &["job-1"]);
    for (credentials, says) in [
        (
            String::new(),
            "the proxy answered 407 Proxy Authentication Required",
        ),
        (
            format!("user:wrong-{SECRET_MARK}@"),
            "the proxy answered 401 to CONNECT: check the user and password",
        ),
        (
            format!("user:right-{SECRET_MARK}@"),
            "the proxy answered 500 to CONNECT: it could not, or would not, reach",
        ),
    ] {
        let mut env = keys();
        env.push(("HTTPS_PROXY", format!("http://{credentials}{}", proxy.addr)));
        let run = dcs_wait(&args, &env).await;
        assert_eq!(run.code, 4, "{run:#?}");
        let said = message(&run);
        let named = format!(
            "could not connect to {target} through the proxy {}",
            proxy.addr
        );
        assert!(said.contains(&named) && said.contains(says), "{said}");
        assert_eq!(run.report()["polls"], 1, "{run:#?}");
        assert_no_secret(&run);
        assert_ended_by(&run, Duration::ZERO);
    }
}

/// A tinyproxy on a loopback port, stopped when dropped.
struct Tinyproxy {
    addr: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    fn start(user: &str, password: &str) -> Option<Tinyproxy> {
        if !installed(
            "tinyproxy",
            "-v",
            "a real proxy refusing a password is not tried here",
        ) {
            return None;
        }
        // tinyproxy takes no port 0: a port the system gave, let go just before.
        let port = closed_port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("tinyproxy.conf");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 10\nMaxClients 20\nLogLevel Critical\n\
                 BasicAuth {user} {password}\n"
            ),
        )
        .unwrap();
        let child = std::process::Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "tinyproxy did not start on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Tinyproxy {
            addr,
            child,
            _dir: dir,
        })
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
