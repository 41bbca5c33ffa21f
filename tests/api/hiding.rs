//! Clearing a chat and deleting for oneself: hidden from that user alone, everywhere they
//! read messages, on all their devices.

use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, body_of, personal};

async fn listed(app: &TestApp, who: &Login, room: &str) -> Vec<String> {
    let list = app
        .client_ok(
            "/v1/chat/message/room_list_and_unread",
            &who.access,
            json!(""),
        )
        .await;
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["room"]["roomID"] == room)
        .map(body_of)
        .collect()
}

#[tokio::test]
async fn clearing_a_chat_hides_its_history_from_that_user_alone() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut bobs = app.socket(&bob).await;
    let first = bobs.send_text(&room, "b1", "one").await;
    bobs.send_text(&room, "b2", "two").await;
    app.client_ok(
        "/v1/chat/message/star",
        &ann.access,
        json!({"roomID": room, "messageIDs": [first["messageID"]]}),
    )
    .await;
    app.client_ok(
        "/v1/client/room/pin",
        &ann.access,
        json!({"roomIDs": [room]}),
    )
    .await;
    let mut anns_other_device = app.socket(&ann).await;

    let cleared = app
        .client_ok(
            "/v1/client/room/clear_chat",
            &ann.access,
            json!({"roomIDs": [room]}),
        )
        .await;
    assert_eq!(cleared, json!({"clearedRoomIDs": [room]}));
    let told = anns_other_device.expect("room/clearChat", |_| true).await;
    assert_eq!(told["room"]["roomID"], room.as_str());

    assert_eq!(app.newest_bodies(&ann, &room).await, (vec![], false));
    assert!(listed(&app, &ann, &room).await.is_empty());
    let synced = app
        .client_ok("/v1/chat/message/new_and_updated", &ann.access, json!(""))
        .await;
    assert!(
        !synced["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["room"]["roomID"] == room),
        "{synced}"
    );
    let states = app
        .client_ok(
            "/v1/client/room/get_room_ids_with_state",
            &ann.access,
            json!(""),
        )
        .await;
    assert_eq!(states["clearedRooms"][0]["roomID"], room.as_str());
    assert!(states["clearedRooms"][0]["expiredAt"].as_i64().unwrap() > 0);
    assert_eq!(states["pinnedRoomIDs"], json!([]));
    let stars = app
        .client_ok(
            "/v1/chat/message/get_starred_ids",
            &ann.access,
            json!({"roomID": room}),
        )
        .await;
    assert_eq!(stars["messageIDs"], json!([]));
    let unread = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "ann", "xcRoomIDs": []}),
        )
        .await;
    let entry = unread["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lastMessage"]["room"]["roomID"] == room)
        .cloned()
        .unwrap_or(Value::Null);
    assert!(entry.is_null() || entry["unreadCount"] == 0, "{unread}");

    // Bob sees nothing change.
    assert_eq!(
        app.newest_bodies(&bob, &room).await,
        (vec!["two".to_owned(), "one".to_owned()], false)
    );

    // What comes after the clear is seen as usual, and is unread.
    bobs.send_text(&room, "b3", "three").await;
    assert_eq!(
        app.newest_bodies(&ann, &room).await,
        (vec!["three".to_owned()], false)
    );
    assert_eq!(listed(&app, &ann, &room).await, ["three"]);
}

#[tokio::test]
async fn deleting_for_oneself_hides_a_message_from_that_user_on_every_device() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut anns = app.socket(&ann).await;
    let mut bobs = app.socket(&bob).await;
    anns.send_text(&room, "a1", "mine").await;
    let theirs = bobs.send_text(&room, "b1", "theirs").await;
    let id = theirs["messageID"].clone();

    let deleted = app
        .client_ok(
            "/v1/chat/message/delete",
            &ann.access,
            json!({"roomID": room, "messageIDs": [id], "forEveryone": false}),
        )
        .await;
    assert_eq!(deleted, json!({"deletedMessageIDs": [id]}));
    let told = anns
        .expect("chat/deleteMessage", |m| m["messageID"] == id)
        .await;
    assert_eq!(told["isDeleted"], true);
    assert_eq!(
        app.newest_bodies(&ann, &room).await,
        (vec!["mine".to_owned()], false)
    );
    // The room list falls back to the newest message Ann still sees.
    assert_eq!(listed(&app, &ann, &room).await, ["mine"]);
    let again = app
        .client_ok(
            "/v1/chat/message/delete",
            &ann.access,
            json!({"roomID": room, "messageIDs": [id], "forEveryone": false}),
        )
        .await;
    assert_eq!(again, json!({"deletedMessageIDs": []}));

    // Bob still has it, not deleted.
    assert_eq!(
        app.newest_bodies(&bob, &room).await,
        (vec!["theirs".to_owned(), "mine".to_owned()], false)
    );
    assert_eq!(listed(&app, &bob, &room).await, ["theirs"]);
}
