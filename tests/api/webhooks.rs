//! Webhooks with a real HTTP receiver: what is posted and how it is signed, the order and the
//! stable delivery IDs across an endpoint that is down, then failing, then back, replays, and
//! the management paths.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Mutex;

use crate::helpers::{TempDir, TestApp, TestDb, assert_error, personal, text_message};
use crate::process::{confab, post, serve_with, stop};

/// A sealing key for the tests (PostgreSQL has no key file).
pub(crate) const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) delivery: String,
    pub(crate) event: String,
    pub(crate) signature: String,
    pub(crate) body: String,
    pub(crate) answered: u16,
}

/// An HTTP receiver on loopback that records every request and answers 200, or 500 while
/// `failing`.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) got: Arc<Mutex<Vec<Got>>>,
    pub(crate) failing: Arc<AtomicBool>,
}

impl Receiver {
    pub(crate) async fn listen_on(&self, listener: tokio::net::TcpListener) {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move {
                    let answered = if me.failing.load(Ordering::SeqCst) {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    };
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    me.got.lock().await.push(Got {
                        delivery: header("x-confab-delivery"),
                        event: header("x-confab-event"),
                        signature: header("x-confab-signature"),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                        answered: answered.as_u16(),
                    });
                    answered
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }

    /// The text messages acknowledged so far, in the order they arrived: (delivery, body).
    pub(crate) async fn acknowledged_texts(&self) -> Vec<(String, String)> {
        self.got
            .lock()
            .await
            .iter()
            .filter(|g| g.answered == 200)
            .filter_map(|g| {
                let payload: Value = serde_json::from_str(&g.body).ok()?;
                let body = payload["body"].as_str()?.to_owned();
                (payload["typeName"] == "text").then(|| (g.delivery.clone(), body))
            })
            .collect()
    }

    pub(crate) async fn wait_for_texts(&self, count: usize) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let texts = self.acknowledged_texts().await;
            if texts.len() >= count || Instant::now() > deadline {
                return texts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| {
        c.webhooks.allow_private = true;
        c.webhooks.key = Some(KEY.into());
    })
    .await
}

async fn send(app: &TestApp, room: &str, text: &str) {
    app.ok(
        "/v1/server/message/send",
        json!({"senderXCUserID": "ann", "xcRoomID": room, "type": 1001, "body": text}),
    )
    .await;
}

fn verifies(secret: &str, signature: &str, body: &str) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let fresh = t
        .parse::<i64>()
        .is_ok_and(|t| (confab::domain::now_ms() / 1000 - t).abs() < 300);
    expected == v1 && fresh
}

#[tokio::test]
async fn an_endpoint_hears_each_message_signed_in_order_with_its_plaintext() {
    let app = spawn().await;
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    receiver.listen_on(listener).await;
    let added = app
        .ok("/v1/server/webhook/create", json!({"url": url}))
        .await;
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(added["url"], url);
    app.user("ann", "Ann").await;
    app.user("bob", "Bob").await;
    app.room("hooked", &["ann", "bob"]).await;
    for text in ["one", "two — ✓", "three"] {
        send(&app, "hooked", text).await;
    }
    let texts = receiver.wait_for_texts(3).await;
    let bodies: Vec<&str> = texts.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(bodies, ["one", "two — ✓", "three"]);
    let got = receiver.got.lock().await.clone();
    for g in &got {
        assert!(
            verifies(&secret, &g.signature, &g.body),
            "signature of {g:?}"
        );
        assert!(!verifies("whsec_other", &g.signature, &g.body));
    }
    let payload: Value = serde_json::from_str(
        &got.iter()
            .find(|g| g.body.contains("\"one\""))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(payload["type"], 1001);
    assert_eq!(payload["room"]["xcRoomID"], "hooked");
    assert_eq!(payload["user"]["xcUserID"], "ann");
    assert!(payload["messageID"].as_str().is_some());
    // The room's creation is reported too, as a system message.
    assert!(
        got.iter()
            .any(|g| g.body.contains("\"typeName\":\"system\""))
    );
    assert!(got.iter().all(|g| g.event == "message.new"));
    let mut ids: Vec<&String> = got.iter().map(|g| &g.delivery).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "one delivery ID per event");
    // The status says so, and never shows the secret.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = app.ok("/v1/server/webhook/list", json!({})).await;
        if listed["webhooks"][0]["backlog"] == 0 || Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let status = &listed["webhooks"][0];
    assert_eq!(status["backlog"], 0);
    assert!(status["lastSuccess"].as_i64().unwrap() > 0);
    assert!(status.get("secret").is_none());
}

#[tokio::test]
async fn a_receiver_down_then_failing_then_back_gets_everything_in_order_with_stable_ids() {
    let app = spawn().await;
    // A port nothing listens on yet.
    let addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let url = format!("http://{addr}/hook");
    app.ok(
        "/v1/server/webhook/create",
        json!({"url": url, "messageTypes": [1001]}),
    )
    .await;
    app.user("ann", "Ann").await;
    app.room("flaky", &["ann"]).await;
    app.room("other", &["ann"]).await;
    for i in 0..5 {
        send(&app, "flaky", &format!("m{i}")).await;
    }
    // Down: every attempt is refused.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let listed = app.ok("/v1/server/webhook/list", json!({})).await;
    assert_eq!(
        listed["webhooks"][0]["backlog"], 5,
        "nothing is lost: {listed}"
    );
    assert_ne!(listed["webhooks"][0]["lastError"], "");
    // Up, but failing.
    let receiver = Receiver::default();
    receiver.failing.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    receiver.listen_on(listener).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.got.lock().await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = receiver.got.lock().await.clone();
    assert!(!failed.is_empty(), "the endpoint was tried again");
    // While a room's first event fails, nothing after it in that room goes out.
    assert!(
        failed.iter().all(|g| g.body.contains("\"m0\"")),
        "{failed:?}"
    );
    // Back.
    receiver.failing.store(false, Ordering::SeqCst);
    let texts = receiver.wait_for_texts(5).await;
    let bodies: Vec<&str> = texts.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    let m0 = &texts[0].0;
    assert!(
        failed.iter().all(|g| &g.delivery == m0),
        "a retried event keeps its delivery ID"
    );
    // The filter: the room's system messages were not posted.
    assert!(
        receiver
            .got
            .lock()
            .await
            .iter()
            .all(|g| !g.body.contains("\"typeName\":\"system\""))
    );

    // A replay delivers the same events again, in order, with the same IDs.
    let replayed = app
        .ok(
            "/v1/server/webhook/replay",
            json!({"webhookID": listed["webhooks"][0]["webhookID"], "since": 0}),
        )
        .await;
    assert_eq!(replayed["queued"], 5);
    let again = receiver.wait_for_texts(10).await;
    assert_eq!(again[5..], texts[..]);
}

#[tokio::test]
async fn endpoints_are_managed_per_app_and_private_addresses_are_refused() {
    let app = TestApp::spawn_with(|c| c.webhooks.key = Some(KEY.into())).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://10.0.0.1/",
        "http://localhost:8080/",
    ] {
        let refused = app
            .post("/v1/server/webhook/create", json!({"url": url}))
            .await;
        assert_error(&refused, 400, "40002", "url");
    }
    for url in ["ftp://example.com/", "not a url"] {
        let refused = app
            .post("/v1/server/webhook/create", json!({"url": url}))
            .await;
        assert_error(&refused, 400, "40002", "url");
    }
    let refused = app
        .post(
            "/v1/server/webhook/create",
            json!({"url": "http://93.184.215.14/", "roomTypes": [7]}),
        )
        .await;
    assert_error(&refused, 400, "40002", "roomTypes");
    let added = app
        .ok(
            "/v1/server/webhook/create",
            json!({"url": "http://93.184.215.14/hook", "roomTypes": [2]}),
        )
        .await;
    assert_eq!(added["roomTypes"], json!([2]));
    let id = added["webhookID"].clone();
    // Another app sees none of it.
    let other = app.server_key_for_app("other").await;
    let theirs = app
        .post_raw(
            "/v1/server/webhook/list",
            Some(&other),
            json!({}).to_string(),
        )
        .await;
    assert_eq!(theirs["data"]["webhooks"], json!([]));
    let not_theirs = app
        .post_raw(
            "/v1/server/webhook/delete",
            Some(&other),
            json!({"webhookID": id}).to_string(),
        )
        .await;
    assert_error(&not_theirs, 400, "40002", "webhookID");
    app.ok("/v1/server/webhook/delete", json!({"webhookID": id}))
        .await;
    let gone = app
        .post("/v1/server/webhook/delete", json!({"webhookID": id}))
        .await;
    assert_error(&gone, 400, "40002", "webhookID");
    assert_eq!(
        app.ok("/v1/server/webhook/list", json!({})).await["webhooks"],
        json!([])
    );
}

#[tokio::test]
async fn edits_and_deletes_are_events_and_receipts_are_not() {
    let app = spawn().await;
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    receiver.listen_on(listener).await;
    app.ok("/v1/server/webhook/create", json!({"url": url}))
        .await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut ann_socket = app.socket(&ann).await;
    let mut bob_socket = app.socket(&bob).await;
    ann_socket
        .send("chat/sendMessage", text_message(&room, "L1", "typo"))
        .await;
    let sent = bob_socket
        .expect("chat/sendMessage", |m| m["localID"] == "L1")
        .await;
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &bob.access,
        json!({"messageIDs": [sent["messageID"]]}),
    )
    .await;
    let mut edit = text_message(&room, "L1", "fixed");
    edit["isMessageEdited"] = json!(true);
    ann_socket.send("chat/updateMessage", edit).await;
    bob_socket
        .expect("chat/updateMessage", |m| m["isMessageEdited"] == true)
        .await;
    app.client_ok(
        "/v1/chat/message/delete",
        &ann.access,
        json!({"roomID": room, "messageIDs": [sent["messageID"]], "forEveryone": true}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let got = receiver.got.lock().await.clone();
        if got.iter().any(|g| g.event == "message.deleted") || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let about_it: Vec<(String, Value)> = got
        .iter()
        .map(|g| {
            (
                g.event.clone(),
                serde_json::from_str::<Value>(&g.body).unwrap(),
            )
        })
        .filter(|(_, p)| p["messageID"] == sent["messageID"])
        .collect();
    let events: Vec<&str> = about_it.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        events,
        ["message.new", "message.edited", "message.deleted"],
        "one event per change, none for the read receipt"
    );
    assert_eq!(about_it[0].1["body"], "typo");
    assert_eq!(about_it[1].1["body"], "fixed");
    assert_eq!(about_it[1].1["isMessageEdited"], true);
    assert_eq!(about_it[2].1["isDeleted"], true);
    let ids: Vec<&String> = got.iter().map(|g| &g.delivery).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "each change is its own event");
}

/// The command line manages endpoints, and events outlive a server killed mid-stream: every
/// acknowledged send reaches the endpoint once it is back, in the room's order.
#[tokio::test]
async fn events_survive_kill_9_and_the_command_line_manages_endpoints() {
    let dir = TempDir::new();
    let db = TestDb::new().await;
    let database = Some(db.url());
    let created = confab(&dir, database, &["server-key", "create"]);
    let key: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = key["header"].as_str().unwrap().to_owned();
    let addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let url = format!("http://{addr}/hook");
    let refused = confab(
        &dir,
        database,
        &["webhook", "add", "--url", &url, "--webhook-key", KEY],
    );
    assert!(
        !refused.status.success(),
        "a loopback URL needs --webhook-allow-private"
    );
    let added = confab(
        &dir,
        database,
        &[
            "webhook",
            "add",
            "--url",
            &url,
            "--webhook-key",
            KEY,
            "--webhook-allow-private",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let added: Value = serde_json::from_slice(&added.stdout).unwrap();
    let id = added["webhookID"].as_str().unwrap().to_owned();
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert_eq!(added["url"], url);

    let args = ["--webhook-key", KEY, "--webhook-allow-private"];
    let (mut child, server) = serve_with(&dir, database, &args, None).unwrap();
    post(
        &server,
        &key,
        "/v1/server/user/update",
        json!({"xcUserID": "ann", "fullName": "Ann"}),
    )
    .await;
    post(
        &server,
        &key,
        "/v1/server/room/create_or_update",
        json!({"xcRoomID": "r", "type": 2, "name": "R", "participantXCUserIDs": ["ann"]}),
    )
    .await;
    // Eight senders; the server is killed while they send.
    let senders: Vec<_> = (0..8)
        .map(|w| {
            let (server, key) = (server.clone(), key.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0..1_000 {
                    let body = format!("w{w}-{i}");
                    let answer = crate::helpers::http_client()
                        .post(format!("http://{server}/v1/server/message/send"))
                        .header("Server-Key", &key)
                        .body(
                            json!({"senderXCUserID": "ann", "xcRoomID": "r", "type": 1001,
                                   "body": body})
                            .to_string(),
                        )
                        .send()
                        .await;
                    let Ok(answer) = answer else { break };
                    let Ok(envelope) = answer.json::<Value>().await else {
                        break;
                    };
                    if envelope["status"] == 200 {
                        let id: i64 = envelope["data"]["messages"][0]["messageID"]
                            .as_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        acknowledged.push((id, body));
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill().unwrap(); // SIGKILL: no shutdown path runs
    child.wait().unwrap();
    let mut acknowledged = Vec::new();
    for sender in senders {
        acknowledged.extend(sender.await.unwrap());
    }
    assert!(!acknowledged.is_empty());
    acknowledged.sort();

    let (mut child, _) = serve_with(&dir, database, &args, None).unwrap();
    let receiver = Receiver::default();
    receiver
        .listen_on(tokio::net::TcpListener::bind(addr).await.unwrap())
        .await;
    let want = acknowledged.len();
    let deadline = Instant::now() + Duration::from_secs(90);
    let delivered = loop {
        let texts = receiver.acknowledged_texts().await;
        let have: std::collections::HashSet<&String> = texts.iter().map(|(_, b)| b).collect();
        if acknowledged.iter().all(|(_, b)| have.contains(b)) || Instant::now() > deadline {
            break texts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut first_seen: Vec<String> = Vec::new();
    for (_, body) in &delivered {
        if !first_seen.contains(body) {
            first_seen.push(body.clone());
        }
    }
    for (_, body) in &acknowledged {
        assert!(
            first_seen.contains(body),
            "acknowledged {body} was never delivered"
        );
    }
    // In the room's order: the acknowledged messages come in message-ID order.
    let order: Vec<&String> = first_seen
        .iter()
        .filter(|b| acknowledged.iter().any(|(_, a)| a == *b))
        .collect();
    let expected: Vec<&String> = acknowledged.iter().map(|(_, b)| b).collect();
    assert_eq!(order, expected, "{want} acknowledged sends, in order");
    for g in receiver.got.lock().await.iter() {
        assert!(verifies(&secret, &g.signature, &g.body));
    }

    // The status, a replay and a removal from the command line.
    let deadline = Instant::now() + Duration::from_secs(30);
    let listed = loop {
        let listed = confab(&dir, database, &["webhook", "list"]);
        let line: Value = serde_json::from_slice(&listed.stdout).unwrap();
        if line["backlog"] == 0 || Instant::now() > deadline {
            break line;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(listed["webhookID"], id.as_str());
    assert_eq!(listed["backlog"], 0);
    assert!(listed["lastSuccess"].as_i64().unwrap() > 0);
    assert!(listed.get("secret").is_none());
    let replayed = confab(&dir, database, &["webhook", "replay", &id, "--since", "0"]);
    let replayed: Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert!(replayed["queued"].as_u64().unwrap() as usize >= want);
    let removed = confab(&dir, database, &["webhook", "remove", &id]);
    assert!(removed.status.success());
    assert!(
        confab(&dir, database, &["webhook", "list"])
            .stdout
            .is_empty()
    );
    let again = confab(&dir, database, &["webhook", "remove", &id]);
    assert!(!again.status.success());
    stop(&mut child);
}
