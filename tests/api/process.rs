//! The `confab` binary itself: key management from the command line, and durability when the
//! server process is killed without warning.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TempDir, TestDb};

/// Runs the binary in `dir`; `database: None` leaves it on its default database.
pub(crate) fn confab(dir: &TempDir, database: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_confab"));
    command
        .args(args)
        .current_dir(&dir.0)
        .env_remove("CONFAB_DATABASE")
        .env_remove("CONFAB_LISTEN");
    if let Some(url) = database {
        command.env("CONFAB_DATABASE", url);
    }
    command.output().unwrap()
}

/// Starts `confab serve` on an ephemeral port and returns it with its address.
fn serve(dir: &TempDir, database: Option<&str>) -> (Child, String) {
    serve_with(dir, database, &[], None).expect("confab exited before serving")
}

/// Starts `confab serve` on an ephemeral port with extra `args`, under a descriptor limit of
/// `max_files` if given; its address, or its log when it exits before serving.
pub(crate) fn serve_with(
    dir: &TempDir,
    database: Option<&str>,
    args: &[&str],
    max_files: Option<u32>,
) -> Result<(Child, String), String> {
    let binary = env!("CARGO_BIN_EXE_confab");
    let mut command = match max_files {
        // `ulimit` is the shell's; `exec` keeps the server's PID the child's.
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.args([
                "-c",
                &format!("ulimit -n {n} && exec \"$0\" \"$@\""),
                binary,
            ]);
            sh
        }
        None => Command::new(binary),
    };
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(&dir.0)
        .env_remove("CONFAB_DATABASE");
    if let Some(url) = database {
        command.env("CONFAB_DATABASE", url);
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.wait();
            return Err(log);
        };
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        log.push_str(&line);
        log.push('\n');
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((child, addr))
}

/// Sends SIGTERM and expects a clean exit.
pub(crate) fn stop(server: &mut Child) {
    terminate(server);
    let status = wait_at_most(server, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "the server did not stop cleanly: {status:?}"
    );
}

/// Sends SIGTERM.
pub(crate) fn terminate(child: &mut Child) {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
}

/// Waits for `child` to exit, for at most `limit`; its exit status, or `None` if it is still
/// running (then it is killed).
pub(crate) fn wait_at_most(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

pub(crate) async fn post(addr: &str, key: &str, path: &str, body: Value) -> Value {
    crate::helpers::http_client()
        .post(format!("http://{addr}{path}"))
        .header("Server-Key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[test]
fn key_commands_create_list_and_revoke_with_the_default_database() {
    let dir = TempDir::new();
    let created = confab(&dir, None, &["server-key", "create", "--app", "shop"]);
    assert!(created.status.success(), "{created:?}");
    let key: Value = serde_json::from_slice(&created.stdout).unwrap();
    let keys: Vec<&str> = key
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{key}");
    for field in ["app", "serverKeyID", "serverKeySecret", "header"] {
        assert!(key[field].is_string(), "{field} in {key}");
    }
    assert_eq!(key["app"], "shop");
    assert!(
        dir.0.join("confab-data/confab.db").exists(),
        "the default database is created"
    );

    let listed = confab(&dir, None, &["server-key", "list"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains(key["serverKeyID"].as_str().unwrap()));
    assert!(
        !text.contains(key["serverKeySecret"].as_str().unwrap()),
        "secrets are never listed"
    );

    let id = key["serverKeyID"].as_str().unwrap();
    assert!(
        confab(&dir, None, &["server-key", "revoke", id])
            .status
            .success()
    );
    assert!(
        !confab(&dir, None, &["server-key", "revoke", id])
            .status
            .success(),
        "already revoked"
    );
    assert!(
        !confab(&dir, None, &["app-key", "revoke", id])
            .status
            .success(),
        "not an app key"
    );

    let app_key = confab(&dir, None, &["app-key", "create"]);
    let app_key: Value = serde_json::from_slice(&app_key.stdout).unwrap();
    assert_eq!(app_key["app"], "default");
    assert!(app_key["appKeyID"].is_string() && app_key["appKeySecret"].is_string());
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = TempDir::new();
    let db = TestDb::new().await;
    let database = Some(db.url());
    let created = confab(&dir, database, &["server-key", "create"]);
    let key: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = key["header"].as_str().unwrap().to_owned();

    let (mut child, addr) = serve(&dir, database);
    for i in 0..20 {
        let user = post(
            &addr,
            &key,
            "/v1/server/user/update",
            json!({"xcUserID": format!("u{i}"), "fullName": "U"}),
        )
        .await;
        assert_eq!(user["status"], 200, "{user}");
        let room = post(
            &addr,
            &key,
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": format!("r{i}"), "type": 2, "name": "R", "participantXCUserIDs": [format!("u{i}")]}),
        )
        .await;
        assert_eq!(room["status"], 200, "{room}");
    }
    child.kill().unwrap(); // SIGKILL: no shutdown path runs
    child.wait().unwrap();

    let (mut child, addr) = serve(&dir, database);
    for i in 0..20 {
        let room = post(
            &addr,
            &key,
            "/v1/server/room/get",
            json!({"xcRoomID": format!("r{i}")}),
        )
        .await;
        assert_eq!(
            room["data"]["participants"][0]["xcUserID"],
            format!("u{i}"),
            "{room}"
        );
    }
    // SIGTERM shuts down gracefully.
    stop(&mut child);
}
