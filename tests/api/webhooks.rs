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

use crate::helpers::{TestApp, assert_error};

/// A sealing key for the tests (PostgreSQL has no key file).
const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Got {
    delivery: String,
    event: String,
    signature: String,
    body: String,
    answered: u16,
}

/// An HTTP receiver on loopback that records every request and answers 200, or 500 while
/// `failing`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    failing: Arc<AtomicBool>,
}

impl Receiver {
    async fn listen_on(&self, listener: tokio::net::TcpListener) {
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
    async fn acknowledged_texts(&self) -> Vec<(String, String)> {
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

    async fn wait_for_texts(&self, count: usize) -> Vec<(String, String)> {
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
