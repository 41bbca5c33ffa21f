//! The NATS client against a real `nats-server`: each test starts its own on a free loopback
//! port. The binary is found through `CONFAB_TEST_NATS_BIN` or on the PATH; without it these
//! tests fail (they never skip), because a missing server would otherwise hide a broken bus.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use confab::bus::nats::Nats;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

fn nats_server_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("CONFAB_TEST_NATS_BIN") {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "CONFAB_TEST_NATS_BIN={} is not a file; point it at a nats-server binary",
            bin.display()
        );
        return bin;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/usr/local/bin".into()]);
    for dir in dirs {
        let candidate = dir.join("nats-server");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "nats-server not found: these tests need the real NATS server; install it \
         (e.g. `apt-get install nats-server`) or set CONFAB_TEST_NATS_BIN to its path"
    );
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A `nats-server` process, killed when dropped; the cluster tests start theirs with it too.
pub(crate) struct NatsServer {
    child: Child,
    /// The loopback port it listens on, kept to restart a server in the same place.
    pub(crate) port: u16,
}

impl NatsServer {
    /// Starts a server on a free port with `extra` arguments; returns once it accepts connections.
    pub(crate) async fn start(extra: &[&str]) -> Self {
        Self::start_on(free_port(), extra).await
    }

    /// Starts a server on `port` (to stand in for one that was stopped).
    pub(crate) async fn start_on(port: u16, extra: &[&str]) -> Self {
        let mut child = Command::new(nats_server_bin())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start nats-server");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("nats-server exited before listening on port {port}: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "nats-server never listened on {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        NatsServer { child, port }
    }

    /// The `nats://` URL clients connect to.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits until it has exited, so its port is free again.
    pub(crate) async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

async fn connect(url: &str) -> Nats {
    timeout(WAIT, Nats::connect(url, "confab-test"))
        .await
        .expect("connect timed out")
        .unwrap()
}

async fn next(rx: &mut mpsc::Receiver<Bytes>) -> Bytes {
    timeout(WAIT, rx.recv())
        .await
        .expect("no message within 10 s")
        .expect("subscription closed")
}

#[tokio::test]
async fn a_thousand_messages_from_one_node_reach_another_in_order() {
    let server = NatsServer::start(&[]).await;
    let publisher = connect(&server.url()).await;
    let subscriber = connect(&server.url()).await;
    let mut rx = subscriber.subscribe("confab.test.order").await;

    for i in 0..1000 {
        publisher.publish("confab.test.order", Bytes::from(i.to_string()));
    }
    for i in 0..1000 {
        assert_eq!(next(&mut rx).await, i.to_string());
    }
    publisher.close().await;
    subscriber.close().await;
}

#[tokio::test]
async fn close_delivers_what_was_queued_before_it() {
    let server = NatsServer::start(&[]).await;
    let publisher = connect(&server.url()).await;
    let subscriber = connect(&server.url()).await;
    let mut rx = subscriber.subscribe("confab.test.close").await;

    for i in 0..500 {
        publisher.publish("confab.test.close", Bytes::from(i.to_string()));
    }
    publisher.close().await;
    for i in 0..500 {
        assert_eq!(next(&mut rx).await, i.to_string());
    }
    subscriber.close().await;
}

#[tokio::test]
async fn connecting_to_a_closed_port_fails_fast_naming_the_server() {
    let port = free_port();
    let started = Instant::now();
    let err = timeout(
        WAIT,
        Nats::connect(&format!("nats://127.0.0.1:{port}"), "t"),
    )
    .await
    .expect("connect did not fail fast")
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains(&format!("nats://127.0.0.1:{port}")), "{err}");
    assert!(err.contains("connection refused"), "{err}");
}

#[tokio::test]
async fn a_list_of_urls_is_tried_in_order() {
    let server = NatsServer::start(&[]).await;
    let closed = free_port();
    let urls = format!("nats://127.0.0.1:{closed}, {}", server.url());
    let nats = connect(&urls).await;
    let mut rx = nats.subscribe("confab.test.list").await;
    nats.publish("confab.test.list", Bytes::from_static(b"via the second"));
    assert_eq!(next(&mut rx).await, "via the second");
    nats.close().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_with_an_authorization_error() {
    let server = NatsServer::start(&["--auth", "secret"]).await;
    let url = |token: &str| format!("nats://{token}@127.0.0.1:{}", server.port);

    let err = timeout(WAIT, Nats::connect(&url("wrong"), "t"))
        .await
        .expect("connect with a wrong token hung")
        .unwrap_err();
    assert!(err.to_lowercase().contains("authorization"), "{err}");
    assert!(
        !err.contains("wrong"),
        "the token leaked into the error: {err}"
    );

    let nats = connect(&url("secret")).await;
    nats.close().await;
}

#[tokio::test]
async fn after_a_server_restart_the_client_reconnects_and_resubscribes() {
    let server = NatsServer::start(&[]).await;
    let port = server.port;
    let publisher = connect(&server.url()).await;
    let subscriber = connect(&server.url()).await;
    let mut publisher_reconnects = publisher.reconnects();
    let mut subscriber_reconnects = subscriber.reconnects();
    let mut rx = subscriber.subscribe("confab.test.restart").await;
    publisher.publish("confab.test.restart", Bytes::from_static(b"before"));
    assert_eq!(next(&mut rx).await, "before");

    server.stop().await;
    // Publishing during the outage must not block; the message is simply lost.
    publisher.publish("confab.test.restart", Bytes::from_static(b"lost"));
    let server = NatsServer::start_on(port, &[]).await;

    for reconnects in [&mut publisher_reconnects, &mut subscriber_reconnects] {
        timeout(Duration::from_secs(15), reconnects.changed())
            .await
            .expect("no reconnect within 15 s")
            .unwrap();
        assert_eq!(*reconnects.borrow(), 1);
    }
    publisher.publish("confab.test.restart", Bytes::from_static(b"after"));
    assert_eq!(next(&mut rx).await, "after");

    publisher.close().await;
    subscriber.close().await;
    server.stop().await;
}

#[tokio::test]
async fn payloads_over_the_servers_max_payload_are_dropped_not_sent() {
    let config = ConfigFile::new("max_payload: 1024\n");
    let server = NatsServer::start(&["-c", config.path()]).await;
    let nats = connect(&server.url()).await;
    let mut rx = nats.subscribe("confab.test.big").await;

    nats.publish("confab.test.big", Bytes::from(vec![b'x'; 2048]));
    nats.publish("confab.test.big", Bytes::from_static(b"small"));
    assert_eq!(next(&mut rx).await, "small");
    // Sending it would have made the server close the connection.
    assert_eq!(*nats.reconnects().borrow(), 0);
    nats.close().await;
}

#[tokio::test]
async fn a_message_with_headers_arrives_as_its_payload() {
    let server = NatsServer::start(&[]).await;
    let nats = connect(&server.url()).await;
    let mut rx = nats.subscribe("confab.test.headers").await;

    // confab never sends headers, but other tools on the same bus may.
    let headers = "NATS/1.0\r\nX-Origin: elsewhere\r\n\r\n";
    let payload = "hello";
    let hpub = format!(
        "CONNECT {{\"verbose\":false,\"headers\":true}}\r\nHPUB confab.test.headers {} {}\r\n\
         {headers}{payload}\r\nPING\r\n",
        headers.len(),
        headers.len() + payload.len()
    );
    let port = server.port;
    tokio::task::spawn_blocking(move || raw_exchange(port, &hpub))
        .await
        .unwrap();

    assert_eq!(next(&mut rx).await, payload);
    nats.close().await;
}

/// Sends `text` from a bare socket and waits for the PONG that proves the server read it.
fn raw_exchange(port: u16, text: &str) {
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.write_all(text.as_bytes()).unwrap();
    let mut seen = String::new();
    let mut chunk = [0u8; 4096];
    while !seen.contains("PONG") {
        let n = socket.read(&mut chunk).expect("no PONG from nats-server");
        assert!(n > 0, "nats-server closed the raw connection: {seen}");
        seen.push_str(&String::from_utf8_lossy(&chunk[..n]));
        assert!(!seen.contains("-ERR"), "nats-server refused: {seen}");
    }
}

/// A nats-server configuration file, removed when dropped.
struct ConfigFile(PathBuf);

impl ConfigFile {
    fn new(text: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "confab-nats-{}-{}.conf",
            std::process::id(),
            free_port()
        ));
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }

    fn path(&self) -> &str {
        Path::to_str(&self.0).unwrap()
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
