//! Webhooks from two nodes sharing PostgreSQL: each event is delivered once in the normal
//! path, whichever node committed it and whichever claims it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, TestDb};
use crate::webhooks::{KEY, Receiver};

#[tokio::test]
async fn two_nodes_deliver_each_event_once() {
    let configure = |c: &mut confab::config::Config| {
        c.webhooks.allow_private = true;
        c.webhooks.key = Some(KEY.into());
    };
    let a = TestApp::spawn_on(TestDb::postgres().await, configure).await;
    let b = a.another_node(|_| {}).await;
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    receiver.listen_on(listener).await;
    a.ok(
        "/v1/server/webhook/create",
        json!({"url": url, "messageTypes": [1001]}),
    )
    .await;
    a.user("ann", "Ann").await;
    for r in 0..4 {
        a.room(&format!("r{r}"), &["ann"]).await;
    }
    let mut sent = Vec::new();
    for i in 0..80 {
        let node = if i % 2 == 0 { &a } else { &b };
        let body = format!("m{i}");
        node.ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "ann", "xcRoomID": format!("r{}", i % 4), "type": 1001,
                   "body": body}),
        )
        .await;
        sent.push(body);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.acknowledged_texts().await.len() < sent.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both nodes had their chance to claim anything twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts = receiver.acknowledged_texts().await;
    let mut times: HashMap<&str, usize> = HashMap::new();
    for (_, body) in &texts {
        *times.entry(body.as_str()).or_default() += 1;
    }
    for body in &sent {
        assert_eq!(
            times.get(body.as_str()),
            Some(&1),
            "{body} delivered once: {texts:?}"
        );
    }
    // Per room, in the order sent.
    for r in 0..4 {
        let room: Vec<&str> = texts
            .iter()
            .map(|(_, b)| b.as_str())
            .filter(|b| b[1..].parse::<usize>().unwrap() % 4 == r)
            .collect();
        let want: Vec<String> = (0..80)
            .filter(|i| i % 4 == r)
            .map(|i| format!("m{i}"))
            .collect();
        assert_eq!(room, want);
    }
}
