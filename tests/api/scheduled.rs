//! Scheduled messages: kept until their time, the sender's alone until then, sent once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, body_of, personal, text_message};

fn now_ms() -> i64 {
    confab::domain::now_ms()
}

async fn schedule(app: &TestApp, who: &Login, room: &str, local: &str, text: &str, at: i64) -> i64 {
    let made = app
        .client_ok(
            "/v1/chat/scheduled_message/create",
            &who.access,
            json!({"message": text_message(room, local, text), "scheduledTime": at}),
        )
        .await;
    assert_eq!(made["success"], true);
    assert_eq!(made["createdItem"]["scheduledTime"], at);
    made["createdItem"]["id"].as_i64().unwrap()
}

async fn listed(app: &TestApp, who: &Login, room: &str) -> Vec<Value> {
    app.client_ok(
        "/v1/chat/scheduled_message/get_scheduled_list",
        &who.access,
        json!({"roomID": room}),
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn scheduled_messages_are_listed_edited_deleted_and_sent_now_by_their_sender() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut anns = app.socket(&ann).await;
    let mut bobs = app.socket(&bob).await;
    let later = now_ms() + 3_600_000;
    let first = schedule(&app, &ann, &room, "s1", "see you tomorrow", later).await;
    let told = anns.expect("room/scheduleMessage", |_| true).await;
    assert_eq!(told["room"]["roomID"], room.as_str());
    assert_eq!(told["timestamp"], later);
    let second = schedule(&app, &ann, &room, "s2", "and again", later + 1).await;

    let items = listed(&app, &ann, &room).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], first);
    assert_eq!(body_of(&items[0]["message"]), "see you tomorrow");
    assert_eq!(items[0]["message"]["created"], later);
    assert!(
        listed(&app, &bob, &room).await.is_empty(),
        "only the sender sees them"
    );
    assert!(
        app.newest_bodies(&bob, &room).await.0.is_empty(),
        "nothing is sent yet"
    );

    app.client_ok(
        "/v1/chat/scheduled_message/edit_scheduled_time",
        &ann.access,
        json!({"id": first, "scheduledTime": later + 5}),
    )
    .await;
    app.client_ok(
        "/v1/chat/scheduled_message/edit_content",
        &ann.access,
        json!({"id": first, "message": text_message(&room, "s1", "see you the day after")}),
    )
    .await;
    let items = listed(&app, &ann, &room).await;
    assert_eq!(items[0]["id"], second, "the first now comes later");
    assert_eq!(items[1]["scheduledTime"], later + 5);
    assert_eq!(body_of(&items[1]["message"]), "see you the day after");
    // Bob cannot touch Ann's.
    let refused = app
        .client(
            "/v1/chat/scheduled_message/edit_scheduled_time",
            &bob.access,
            json!({"id": first, "scheduledTime": later}),
        )
        .await;
    crate::helpers::assert_error(&refused, 403, "40301", "");
    let past = app
        .client(
            "/v1/chat/scheduled_message/create",
            &ann.access,
            json!({"message": text_message(&room, "s3", "too late"), "scheduledTime": now_ms() - 1000}),
        )
        .await;
    crate::helpers::assert_error(&past, 400, "40002", "scheduledTime");

    let not_bobs = app
        .client_ok(
            "/v1/chat/scheduled_message/send_now",
            &bob.access,
            json!({"ids": [first], "roomID": room}),
        )
        .await;
    assert_eq!(not_bobs, json!({"ids": []}));
    let sent = app
        .client_ok(
            "/v1/chat/scheduled_message/send_now",
            &ann.access,
            json!({"ids": [first], "roomID": room}),
        )
        .await;
    assert_eq!(sent, json!({"ids": [first]}));
    let got = bobs
        .expect("chat/sendMessage", |m| m["localID"] == "s1")
        .await;
    assert_eq!(body_of(&got), "see you the day after");
    let deleted = app
        .client_ok(
            "/v1/chat/scheduled_message/delete",
            &ann.access,
            json!({"ids": [second, first], "roomID": room}),
        )
        .await;
    assert_eq!(deleted, json!({"ids": [second]}));
    assert!(listed(&app, &ann, &room).await.is_empty());
    assert_eq!(
        app.newest_bodies(&bob, &room).await.0,
        ["see you the day after"]
    );
}

#[tokio::test]
async fn a_scheduled_message_is_sent_at_its_time_once_even_across_a_restart() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let soon = now_ms() + 400;
    schedule(&app, &ann, &room, "t1", "right on time", soon).await;
    let mut bobs = app.socket(&bob).await;
    let got = bobs
        .expect("chat/sendMessage", |m| m["localID"] == "t1")
        .await;
    assert!(got["created"].as_i64().unwrap() >= soon);
    assert_eq!(got["user"]["userID"], ann.user_id.as_str());
    assert!(listed(&app, &ann, &room).await.is_empty());

    // Due while the server is down: sent when it is back, once.
    let after_restart = now_ms() + 1_500;
    schedule(&app, &ann, &room, "t2", "after the restart", after_restart).await;
    let app = app.restart().await;
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(after_restart + 1_000 - now_ms()).unwrap_or(0),
    ))
    .await;
    assert_eq!(
        app.newest_bodies(&bob, &room).await.0,
        ["after the restart", "right on time"]
    );
    assert!(listed(&app, &ann, &room).await.is_empty());
}

#[tokio::test]
async fn many_due_at_once_are_each_sent_once() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let at = now_ms() + 5_000;
    let requests = (0..200).map(|n| {
        let (app, ann, room) = (&app, &ann, &room);
        async move { schedule(app, ann, room, &format!("b{n}"), &format!("n{n}"), at).await }
    });
    futures_util::future::join_all(requests).await;
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(at + 2_000 - now_ms()).unwrap_or(0),
    ))
    .await;
    let page = app.newest(&bob, &room, 200).await;
    let mut locals: Vec<String> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["localID"].as_str().unwrap().to_owned())
        .collect();
    locals.sort();
    locals.dedup();
    assert_eq!(locals.len(), 200, "each sent once");
    assert_eq!(page["hasMore"], false);
}
