//! Hostile and slow clients against the `confab` binary: connections that send nothing or
//! dribble their headers, half-sent requests at shutdown, a second server on one SQLite file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TempDir, backend};
use crate::process::{confab, post, serve_with, stop, terminate, wait_at_most};

/// Holds `count` connections to `addr` from a separate process (so this test needs no
/// descriptors of its own for them): even ones send nothing, odd ones dribble a request's
/// headers a byte every 100 ms. It prints `ready` once all are open, and when its stdin closes
/// prints how many the server closed.
const HOSTILE_CLIENT: &str = r#"
import socket, sys, threading, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conns = [socket.create_connection((host, port)) for _ in range(count)]
print("ready", flush=True)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
head = b"POST /v1/server/user/get_by_xc_user_id HTTP/1.1\r\nX-Slow: " + b"a" * 100000
sent = 0
while not stop.is_set():
    for i in range(1, count, 2):
        try:
            conns[i].send(head[sent:sent + 1])
        except OSError:
            pass
    sent += 1
    time.sleep(0.1)
closed = 0
for c in conns:
    c.setblocking(False)
    try:
        closed += c.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print("closed", closed, flush=True)
"#;

fn sqlite_only() -> bool {
    // These tests run the binary on its own SQLite file; the PostgreSQL run has the same
    // listener and would only repeat them.
    backend() == Backend::Sqlite
}

fn server_key(dir: &TempDir, database: &str) -> String {
    let created = confab(dir, Some(database), &["server-key", "create"]);
    assert!(created.status.success(), "{created:?}");
    let key: Value = serde_json::from_slice(&created.stdout).unwrap();
    key["header"].as_str().unwrap().to_owned()
}

/// A fresh folder and the SQLite database in it.
fn fresh() -> (TempDir, String) {
    let dir = TempDir::new();
    let database = format!("sqlite://{}/confab.db", dir.0.display());
    (dir, database)
}

#[tokio::test]
async fn requests_are_served_while_1100_silent_or_dribbling_connections_are_held() {
    if !sqlite_only() {
        return;
    }
    let (dir, database) = fresh();
    let key = server_key(&dir, &database);
    // A long header timeout, so that only the cap's shedding can make room.
    let (mut server, addr) = serve_with(
        &dir,
        Some(&database),
        &["--header-timeout-secs", "300"],
        Some(1024),
    )
    .unwrap();
    let (host, port) = addr.rsplit_once(':').unwrap();
    let mut hostile = Command::new("sh")
        .args(["-c", "ulimit -n 4096 && exec python3 -c \"$0\" \"$@\""])
        .args([HOSTILE_CLIENT, host, port, "1100"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(hostile.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "the hostile client could not connect");

    // Every request is answered, on a new connection each, while they are held.
    for i in 0..20 {
        let health = crate::helpers::http_client()
            .get(format!("http://{addr}/healthz"))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap_or_else(|e| panic!("health check {i} not answered: {e}"));
        assert!(health.status().is_success());
        let user = post(
            &addr,
            &key,
            "/v1/server/user/update",
            json!({"xcUserID": format!("u{i}"), "fullName": "U"}),
        )
        .await;
        assert_eq!(user["status"], 200, "{user}");
    }

    drop(hostile.stdin.take());
    line.clear();
    out.read_line(&mut line).unwrap();
    let closed: usize = line
        .trim()
        .strip_prefix("closed ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        closed >= 1100 - 1024,
        "the server shed {closed} of 1100 held connections, fewer than the excess over its limit"
    );
    let _ = hostile.wait();
    stop(&mut server);
}

#[tokio::test]
async fn sigterm_exits_within_the_grace_period_whatever_half_sent_requests_do() {
    if !sqlite_only() {
        return;
    }
    let (dir, database) = fresh();
    let key = server_key(&dir, &database);
    let (mut server, addr) = serve_with(
        &dir,
        Some(&database),
        &[
            "--header-timeout-secs",
            "300",
            "--body-timeout-secs",
            "300",
            "--shutdown-grace-secs",
            "2",
        ],
        None,
    )
    .unwrap();
    for (path, body) in [
        (
            "/v1/server/user/update",
            json!({"xcUserID": "before", "fullName": "B"}),
        ),
        (
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": "r1", "type": 2, "name": "R", "participantXCUserIDs": ["before"]}),
        ),
    ] {
        let answer = post(&addr, &key, path, body).await;
        assert_eq!(answer["status"], 200, "{answer}");
    }
    // Half of a request's headers, and a request whose body never finishes.
    let mut half_head = TcpStream::connect(&addr).unwrap();
    half_head
        .write_all(b"POST /v1/server/user/update HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut half_body = TcpStream::connect(&addr).unwrap();
    half_body
        .write_all(
            format!(
                "POST /v1/server/user/update HTTP/1.1\r\nHost: x\r\nServer-Key: {key}\r\n\
                 Content-Length: 100\r\n\r\n{{\"xcUserID\":"
            )
            .as_bytes(),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let asked = Instant::now();
    terminate(&mut server);
    let status = wait_at_most(&mut server, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "the server did not exit cleanly after SIGTERM: {status:?}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "exit took {:?} with a 2 s grace period",
        asked.elapsed()
    );
    // The half-sent requests were closed, not answered.
    for mut stream in [half_head, half_body] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        assert!(rest.is_empty() || !rest.starts_with(b"HTTP/1.1 200"));
    }

    // What was acknowledged before is there after a restart.
    let (mut server, addr) = serve_with(&dir, Some(&database), &[], None).unwrap();
    let room = post(
        &addr,
        &key,
        "/v1/server/room/get",
        json!({"xcRoomID": "r1"}),
    )
    .await;
    assert_eq!(
        room["data"]["participants"][0]["xcUserID"], "before",
        "{room}"
    );
    stop(&mut server);
}

#[tokio::test]
async fn a_second_server_on_one_sqlite_file_refuses_to_start_and_keys_still_work() {
    if !sqlite_only() {
        return;
    }
    let (dir, database) = fresh();
    let (mut first, _) = serve_with(&dir, Some(&database), &[], None).unwrap();
    let refused = serve_with(&dir, Some(&database), &[], None).map(|(mut c, _)| {
        let _ = c.kill();
    });
    let log = refused.expect_err("a second server started on the same file");
    assert!(
        log.contains("another confab server is already serving the SQLite database"),
        "{log}"
    );
    // The key commands work beside the running server.
    server_key(&dir, &database);
    stop(&mut first);
    // Once it has stopped, a server starts on the file again.
    let (mut again, _) = serve_with(&dir, Some(&database), &[], None).unwrap();
    stop(&mut again);
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_with_an_envelope() {
    if !sqlite_only() {
        return;
    }
    let (dir, database) = fresh();
    let key = server_key(&dir, &database);
    let (mut server, addr) =
        serve_with(&dir, Some(&database), &["--body-timeout-secs", "1"], None).unwrap();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/server/user/update HTTP/1.1\r\nHost: x\r\nServer-Key: {key}\r\n\
                 Content-Length: 100\r\n\r\n{{\"xcUserID\":"
            )
            .as_bytes(),
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = String::new();
    let mut chunk = [0; 4096];
    while !answer.ends_with('}') {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed without an answer: {answer}");
        answer.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    assert!(answer.contains("\"status\":400"), "{answer}");
    assert!(answer.contains("too slowly"), "{answer}");
    stop(&mut server);
}

/// Calls `call` `n` times at once and returns the answers' body statuses.
async fn statuses<F, Fut>(n: usize, call: F) -> Vec<u64>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    futures_util::future::join_all((0..n).map(call))
        .await
        .iter()
        .map(|answer| answer["status"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_server_key_over_its_rate_is_refused_with_42901_and_other_apps_are_not() {
    let app = crate::helpers::TestApp::spawn_with(|c| c.limits.rate_per_key = 5).await;
    let other = app.server_key_for_app("other").await;
    // A burst of twice the rate passes; what comes on top in the same instant is refused.
    let answers = statuses(30, |i| {
        app.post(
            "/v1/server/user/update",
            json!({"xcUserID": format!("u{i}"), "fullName": "U"}),
        )
    })
    .await;
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert!(refused >= 15, "{answers:?}");
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 429),
        "{answers:?}"
    );
    let limited = app
        .post(
            "/v1/server/user/update",
            json!({"xcUserID": "x", "fullName": "X"}),
        )
        .await;
    crate::helpers::assert_error(&limited, 429, "42901", "");
    let fine = app
        .post_raw(
            "/v1/server/user/update",
            Some(&other),
            json!({"xcUserID": "x", "fullName": "X"}).to_string(),
        )
        .await;
    assert_eq!(fine["status"], 200, "{fine}");
    let scraped = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scraped.contains("confab_rate_limited_total{limit=\"server_key\"}"));
}

#[tokio::test]
async fn a_user_over_their_rate_is_refused_on_rest_and_on_the_socket() {
    // One a second (a burst of two): a loaded machine that takes seconds over the requests
    // below still sends most of them faster than they are allowed.
    let app = crate::helpers::TestApp::spawn_with(|c| {
        c.limits.rate_per_user = 1;
        c.limits.rate_per_socket = 0;
    })
    .await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let answers = statuses(30, |_| {
        app.client("/v1/client/contact/list", &ann.access, json!(""))
    })
    .await;
    assert!(
        answers.iter().filter(|s| **s == 429).count() >= 20,
        "{answers:?}"
    );
    let mut limited = None;
    for _ in 0..10 {
        let answer = app
            .client("/v1/client/contact/list", &ann.access, json!(""))
            .await;
        if answer["status"] == 429 {
            limited = Some(answer);
            break;
        }
    }
    crate::helpers::assert_error(&limited.expect("refused"), 429, "42901", "");
    // Another user is not held back by Ann.
    crate::helpers::assert_success(
        &app.client("/v1/client/contact/list", &bob.access, json!(""))
            .await,
    );
    // Ann's socket frames count against her too, and are answered, not dropped silently.
    let mut socket = app.socket(&ann).await;
    let room = crate::helpers::personal(&ann, &bob);
    for i in 0..6 {
        socket
            .send(
                "chat/sendMessage",
                crate::helpers::text_message(&room, &format!("over{i}"), "too fast"),
            )
            .await;
    }
    let error = socket.expect("error", |e| e["code"] == "42901").await;
    assert!(error["localID"].as_str().unwrap().starts_with("over"));
}

#[tokio::test]
async fn a_socket_over_its_frame_rate_is_refused_and_stays_open() {
    let app = crate::helpers::TestApp::spawn_with(|c| c.limits.rate_per_socket = 2).await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = crate::helpers::personal(&ann, &bob);
    let mut socket = app.socket(&ann).await;
    for i in 0..10 {
        socket
            .send(
                "chat/sendMessage",
                crate::helpers::text_message(&room, &format!("f{i}"), "hi"),
            )
            .await;
    }
    socket.expect("error", |e| e["code"] == "42901").await;
    // Later, within its rate, the socket sends again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    socket.send_text(&room, "later", "hello again").await;
}
