//! Access that is taken away is gone from open sockets at once: a new role, a removal, a lock,
//! a revoked app key. Each test proves the socket was receiving before the change, then that
//! after it a later event (a marker in another room) arrives while the room's does not.

use serde_json::{Value, json};

use crate::helpers::{Socket, TestApp, text_message};

/// The Server API sends `body` from `sender` into room `xc_room_id`.
pub(crate) async fn say(app: &TestApp, sender: &str, xc_room_id: &str, body: &str) {
    app.ok(
        "/v1/server/message/send",
        json!({"senderXCUserID": sender, "xcRoomID": xc_room_id, "type": 1001, "body": body}),
    )
    .await;
}

/// Events up to the marker `body` in room `MARKER`, which must come.
pub(crate) async fn events_until_marker(socket: &mut Socket, body: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let event = socket.next().await.expect("the socket closed");
        let done = event["data"]["room"]["xcRoomID"] == "MARKER"
            && crate::helpers::body_of(&event["data"]) == body;
        seen.push(event);
        if done {
            return seen;
        }
    }
}

pub(crate) fn in_room<'a>(events: &'a [Value], xc_room_id: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["data"]["room"]["xcRoomID"] == xc_room_id)
        .collect()
}

/// The code of the `error` event that answers a post into `room_id` from `socket`.
async fn refused_post(socket: &mut Socket, room_id: &str, local_id: &str) -> String {
    socket
        .send(
            "chat/sendMessage",
            text_message(room_id, local_id, "still here?"),
        )
        .await;
    let error = socket.expect("error", |e| e["localID"] == local_id).await;
    error["code"].as_str().unwrap().to_owned()
}

/// Ann (role `agent`) and a customer; room `T` is the customer's and the agents', room
/// `MARKER` is Ann's and the customer's. Ann's socket is open on `node` (`app`'s own, or
/// another node of its cluster) and has heard from `T`.
pub(crate) async fn agent_on_a_ticket(app: &TestApp, node: &TestApp) -> (Socket, String) {
    let ann = node.login("ann", "Ann").await;
    app.login("cus", "Customer").await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "ann", "fullName": "Ann", "userRoleCode": "agent"}),
    )
    .await;
    let ticket = app
        .ok(
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": "T", "type": 4, "name": "Ticket",
                   "participantXCUserIDs": ["cus"], "participantUserRoles": ["agent"]}),
        )
        .await;
    app.room("MARKER", &["ann", "cus"]).await;
    let mut socket = node.socket(&ann).await;
    say(app, "cus", "T", "hello agents").await;
    socket
        .expect("chat/sendMessage", |m| {
            m["room"]["xcRoomID"] == "T" && crate::helpers::body_of(m) == "hello agents"
        })
        .await;
    (
        socket,
        ticket["room"]["roomID"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_new_role_takes_a_room_from_an_open_socket() {
    let app = TestApp::spawn().await;
    let (mut socket, ticket) = agent_on_a_ticket(&app, &app).await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "ann", "fullName": "Ann", "userRoleCode": "sales"}),
    )
    .await;
    say(&app, "cus", "T", "anyone?").await;
    say(&app, "cus", "MARKER", "marker").await;
    let seen = events_until_marker(&mut socket, "marker").await;
    assert!(in_room(&seen, "T").is_empty(), "{seen:?}");
    assert_eq!(refused_post(&mut socket, &ticket, "late1").await, "40301");

    // Given the role back, the socket hears the room again.
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "ann", "fullName": "Ann", "userRoleCode": "agent"}),
    )
    .await;
    say(&app, "cus", "MARKER", "marker 2").await;
    events_until_marker(&mut socket, "marker 2").await;
    say(&app, "cus", "T", "back?").await;
    socket
        .expect("chat/sendMessage", |m| {
            crate::helpers::body_of(m) == "back?"
        })
        .await;
}

#[tokio::test]
async fn a_removed_participant_hears_nothing_more_and_cannot_post() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    app.login("bob", "Bob").await;
    let room = app.room("R", &["ann", "bob"]).await;
    let room_id = room["room"]["roomID"].as_str().unwrap().to_owned();
    app.room("MARKER", &["ann", "bob"]).await;
    let mut socket = app.socket(&ann).await;
    say(&app, "bob", "R", "before").await;
    socket
        .expect("chat/sendMessage", |m| {
            crate::helpers::body_of(m) == "before"
        })
        .await;
    app.ok(
        "/v1/server/room/participants/remove",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["ann"]}),
    )
    .await;
    say(&app, "bob", "R", "after").await;
    say(&app, "bob", "MARKER", "marker").await;
    let seen = events_until_marker(&mut socket, "marker").await;
    let in_r: Vec<&str> = in_room(&seen, "R")
        .iter()
        .map(|e| e["data"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        in_r,
        ["room/removeParticipant"],
        "only the news of the removal"
    );
    assert_eq!(refused_post(&mut socket, &room_id, "late2").await, "40301");
}

#[tokio::test]
async fn a_lock_refuses_posts_from_open_sockets() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    app.login("bob", "Bob").await;
    let room = app.room("R", &["ann", "bob"]).await;
    let room_id = room["room"]["roomID"].as_str().unwrap().to_owned();
    let mut socket = app.socket(&ann).await;
    socket.send_text(&room_id, "open1", "before the lock").await;
    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "R", "xcUserID": "bob"}),
    )
    .await;
    assert_eq!(
        refused_post(&mut socket, &room_id, "locked1").await,
        "40301"
    );
}

#[tokio::test]
async fn a_revoked_app_key_closes_the_sockets_it_opened() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let mut socket = app.socket(&ann).await;
    // Revoked by another process, as the CLI does.
    let admin = app.admin().await;
    let key_id = admin
        .list_keys(confab::domain::secret::KeyKind::App)
        .await
        .unwrap()[0]
        .key_id
        .clone();
    assert!(
        admin
            .revoke_key(confab::domain::secret::KeyKind::App, &key_id)
            .await
            .unwrap()
    );
    admin.store().close().await;
    assert_eq!(socket.closed_with().await, 4001);
}
