//! The WebSocket protocol itself: frames, malformed input, typing and presence.

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, body_of, personal, text_message};

#[tokio::test]
async fn malformed_frames_are_answered_and_the_socket_lives_on() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let mut socket = app.socket(&ann).await;
    for junk in [
        "{",
        "[1]",
        r#"{"eventName": 5, "data": {}}"#,
        r#"{"eventName": "chat/sendMessage", "data": 3}"#,
    ] {
        socket.ws.send(Message::text(junk)).await.unwrap();
        let error = socket.expect("error", |_| true).await;
        assert_eq!(error["code"], "40002", "{junk}");
    }
    let mut bad_room = text_message("1-x", "L0", "x");
    bad_room["room"]["roomID"] = json!("2-1");
    socket.send("chat/sendMessage", bad_room).await;
    assert_eq!(
        socket.expect("error", |e| e["localID"] == "L0").await["code"],
        "40002"
    );
    // Unknown events are ignored; a binary client frame works like a text one.
    socket.send("chat/openRoom", json!({"roomID": "x"})).await;
    let frame = json!({"eventName": "chat/sendMessage", "data": text_message(&personal(&ann, &bob), "L1", "still alive")});
    socket
        .ws
        .send(Message::binary(frame.to_string().into_bytes()))
        .await
        .unwrap();
    let echo = socket
        .expect("chat/sendMessage", |m| m["localID"] == "L1")
        .await;
    assert_eq!(body_of(&echo), "still alive");
}

#[tokio::test]
async fn an_oversize_frame_closes_the_socket() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let mut socket = app.socket(&ann).await;
    let huge = "x".repeat(confab_max_frame() + 1);
    let _ = socket.ws.send(Message::text(huge)).await;
    let code = socket.closed_with().await;
    assert!(code == 1009 || code == 1006, "closed with {code}");
}

fn confab_max_frame() -> usize {
    256 * 1024
}

#[tokio::test]
async fn typing_is_relayed_to_the_others_with_the_real_sender() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let mut ann_socket = app.socket(&ann).await;
    let mut bob_socket = app.socket(&bob).await;
    let room = personal(&ann, &bob);
    ann_socket
        .send(
            "chat/startTyping",
            json!({"roomID": room, "user": {"userID": "999", "fullname": "Mallory"}}),
        )
        .await;
    let typing = bob_socket.expect("chat/startTyping", |_| true).await;
    assert_eq!(typing["roomID"], room.as_str());
    assert_eq!(typing["user"]["userID"], ann.user_id.as_str());
    assert_eq!(typing["user"]["fullname"], "Ann");
    ann_socket
        .send("chat/stopTyping", json!({"roomID": room}))
        .await;
    bob_socket.expect("chat/stopTyping", |_| true).await;
}

#[tokio::test]
async fn presence_goes_to_personal_room_partners_only() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cid = app.login("cid", "Cid").await;
    let group = app.room("R", &["ann", "bob", "cid"]).await;
    let group = group["room"]["roomID"].as_str().unwrap();
    let mut ann_socket = app.socket(&ann).await;
    ann_socket
        .send_text(&personal(&ann, &bob), "p1", "hello Bob")
        .await;
    let mut cid_socket = app.socket(&cid).await;
    let bob_socket = app.socket(&bob).await;
    let online = ann_socket
        .expect("user/status", |s| s["isOnline"] == true)
        .await;
    assert_eq!(online["user"]["userID"], bob.user_id.as_str());
    assert!(online["lastActive"].as_i64().unwrap() > 0);
    let user = app
        .client_ok(
            "/v1/client/user/get_by_id",
            &ann.access,
            json!({"id": bob.user_id}),
        )
        .await;
    assert_eq!(user["user"]["isOnline"], true);
    drop(bob_socket);
    let offline = ann_socket
        .expect("user/status", |s| s["isOnline"] == false)
        .await;
    assert_eq!(offline["user"]["userID"], bob.user_id.as_str());
    // Cid shares only the group with Bob: the next thing Cid hears is a message sent after
    // Bob came and went, not Bob's presence.
    let marker = ann_socket.send_text(group, "m1", "after").await;
    let next = cid_socket.next().await.expect("open");
    assert_eq!(next["eventName"], "chat/sendMessage", "{next}");
    assert_eq!(next["data"]["localID"], marker["localID"]);
}

#[tokio::test]
async fn server_api_room_changes_arrive_live_as_system_messages() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let _bob = app.login("bob", "Bob").await;
    let mut socket = app.socket(&ann).await;
    app.room("R", &["ann"]).await;
    let created = socket
        .expect("chat/sendMessage", |m| m["action"] == "room/create")
        .await;
    assert_eq!(created["room"]["xcRoomID"], "R");
    app.ok(
        "/v1/server/room/participants/add",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["bob"]}),
    )
    .await;
    let added = socket
        .expect("chat/sendMessage", |m| m["action"] == "room/addParticipant")
        .await;
    assert_eq!(added["target"]["targetXCID"], "bob");
    app.ok(
        "/v1/server/room/participants/remove",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["ann"]}),
    )
    .await;
    let removed = socket
        .expect("chat/sendMessage", |m| {
            m["action"] == "room/removeParticipant"
        })
        .await;
    assert_eq!(
        removed["target"]["targetXCID"], "ann",
        "the removed user hears of it too"
    );
}

#[tokio::test]
async fn events_the_sdks_define_but_a_server_need_not_act_on_are_taken_quietly() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut socket = app.socket(&ann).await;
    for event in [
        "chat/openRoom",
        "chat/closeRoom",
        "chat/openMessage",
        "user/authentication",
        "user/updated",
    ] {
        socket.send(event, json!({"roomID": room})).await;
    }
    socket
        .send("chat/sendMessage", text_message(&room, "q1", "still here"))
        .await;
    loop {
        let frame = socket.next().await.expect("the socket stays open");
        assert_ne!(frame["eventName"], "error", "{frame}");
        if frame["eventName"] == "chat/sendMessage" && frame["data"]["localID"] == "q1" {
            break;
        }
    }
}
