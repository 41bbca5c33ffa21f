//! The server's log, read as an operator would after a full run at `debug`: every request is
//! there, and none of the keys, tickets, tokens or database passwords the run used.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use crate::helpers::{TempDir, TestDb};
use crate::process::{confab, stop};

async fn call(addr: &str, path: &str, headers: &[(&str, &str)], body: Value) -> Value {
    let mut request = crate::helpers::http_client()
        .post(format!("http://{addr}{path}"))
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().json().await.unwrap()
}

fn created_key(dir: &TempDir, database: &str, kind: &str) -> (String, String) {
    let out = confab(dir, Some(database), &[kind, "create"]);
    assert!(out.status.success(), "{out:?}");
    let key: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = key
        .as_object()
        .unwrap()
        .iter()
        .find(|(name, _)| name.ends_with("Secret"))
        .unwrap()
        .1
        .as_str()
        .unwrap()
        .to_owned();
    (secret, key["header"].as_str().unwrap().to_owned())
}

/// For a PostgreSQL database, a URL with a login of its own whose password is random (the test
/// cluster's shared password is a word that also names things in the log) and that password.
async fn with_own_login(url: &str) -> (String, Option<(String, String)>) {
    let Some(rest) = url.strip_prefix("postgres://") else {
        return (url.to_owned(), None);
    };
    let (_, host_and_db) = rest.split_once('@').unwrap();
    let name = host_and_db
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let password = format!(
        "pw{}",
        confab::domain::secret::random_token::<12>().replace(['-', '_'], "x")
    );
    let role = format!("{name}_owner");
    let admin = crate::helpers::admin_client(&crate::helpers::postgres_admin_url()).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{password}'; ALTER DATABASE {name} OWNER TO {role}"
        ))
        .await
        .unwrap();
    (
        format!("postgres://{role}:{password}@{host_and_db}"),
        Some((role, password)),
    )
}

#[tokio::test]
async fn no_key_token_or_password_reaches_the_log() {
    let dir = TempDir::new();
    let db = TestDb::new().await;
    let (database, own_login) = with_own_login(db.url()).await;
    let (server_secret, server_key) = created_key(&dir, &database, "server-key");
    let (app_secret, app_key) = created_key(&dir, &database, "app-key");

    let log_path = dir.0.join("confab.log");
    let mut server = Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&dir.0)
        .env("CONFAB_DATABASE", &database)
        .env("CONFAB_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(rest) = log.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the server did not start:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // A full run: the Server API, a login, a refresh, client calls, a socket opened the way
    // the web SDK opens it (credentials in the query string), and refused credentials.
    let with_key = [("Server-Key", server_key.as_str())];
    call(
        &addr,
        "/v1/server/user/update",
        &with_key,
        json!({"xcUserID": "bob", "fullName": "Bob"}),
    )
    .await;
    let ticket = call(
        &addr,
        "/v1/server/auth_ticket/request",
        &with_key,
        json!({"xcUserID": "ann", "fullName": "Ann"}),
    )
    .await["data"]["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = |token: &str| format!("Bearer {token}");
    let with_ticket = bearer(&ticket);
    let login = call(
        &addr,
        "/v1/auth/access_token/request",
        &[
            ("App-Key", &app_key),
            ("Authorization", &with_ticket),
            ("Device-Identifier", "d"),
        ],
        json!(""),
    )
    .await;
    let refresh = login["data"]["refreshToken"].as_str().unwrap().to_owned();
    let with_refresh = bearer(&refresh);
    let refreshed = call(
        &addr,
        "/v1/auth/access_token/refresh",
        &[
            ("App-Key", &app_key),
            ("Authorization", &with_refresh),
            ("Device-Identifier", "d"),
        ],
        json!(""),
    )
    .await;
    let access = refreshed["data"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_refresh = refreshed["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_access = bearer(&access);
    let client = [
        ("App-Key", app_key.as_str()),
        ("Authorization", with_access.as_str()),
        ("Device-Identifier", "d"),
    ];
    let contacts = call(&addr, "/v1/client/contact/list", &client, json!("")).await;
    assert_eq!(contacts["status"], 200, "{contacts}");
    let wrong_secret = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:not-the-secret",
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&server_key)
                .unwrap()
        )
        .unwrap()
        .split(':')
        .next()
        .unwrap()
    ));
    call(
        &addr,
        "/v1/server/room/get",
        &[("Server-Key", &wrong_secret)],
        json!({"xcRoomID": "x"}),
    )
    .await;
    let query_key = app_key
        .replace('=', "%3D")
        .replace('+', "%2B")
        .replace('/', "%2F");
    let url = format!(
        "ws://{addr}/connect?app_key={query_key}&authorization=Bearer%20{access}&device_identifier=d"
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            json!({"eventName": "chat/startTyping", "data": {"roomID": "1-2"}}).to_string(),
        ))
        .await
        .unwrap();
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}

    stop(&mut server);
    let mut log = String::new();
    std::fs::File::open(&log_path)
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("path=/v1/auth/access_token/refresh") && log.contains("answered"),
        "every request is logged:\n{log}"
    );
    let mut secrets = vec![
        ("the server key's secret", server_secret),
        ("the Server-Key header", server_key),
        ("the app key's secret", app_secret),
        ("the App-Key header", app_key),
        ("the auth ticket", ticket),
        ("an access token", access),
        ("a refresh token", refresh),
        ("the new refresh token", new_refresh),
    ];
    if let Some((_, password)) = &own_login {
        secrets.push(("the database password", password.clone()));
    }
    for (what, secret) in secrets {
        assert!(!log.contains(&secret), "{what} is in the log:\n{log}");
    }
    if let Some((role, _)) = own_login {
        drop(db);
        crate::helpers::admin_client(&crate::helpers::postgres_admin_url())
            .await
            .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
            .await
            .unwrap();
    }
}
