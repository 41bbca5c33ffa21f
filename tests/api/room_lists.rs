//! `get_list_by_user`: which rooms, in which order, with which last message.

use confab::codec;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_same_shape};

/// The seed's `get_list_by_user` response entry (made valid JSON).
fn seed_entry() -> Value {
    json!({
        "lastMessage": {
            "messageID": "1854919", "localID": "UW3nQh7XNwC9q2WVj9h7_xW4fIPEyqxa", "type": 1001,
            "body": "2UKeB3vSZJ0xkpSXzBpoEUrA==", "data": "", "filterID": "", "isHidden": false,
            "quote": {"title": "", "content": "", "imageURL": "", "fileID": "", "fileType": ""},
            "replyTo": {"userID": "0", "xcUserID": "", "fullname": "", "messageID": "0",
                        "localID": "", "messageType": 0},
            "forwardFrom": {"userID": "0", "xcUserID": "", "fullname": "", "messageID": "0",
                            "localID": ""},
            "room": {
                "roomID": "g456", "xcRoomID": "6A02C41D", "name": "Order #6A02C41D", "type": 2,
                "imageURL": {"thumbnail": "http://www.example.com/photo/thumb/6a02c41d6.jpg",
                             "fullsize": "http://www.example.com/photo/full/6a02c41d6.jpg"},
                "color": "", "isLocked": false, "lockedTime": 0, "deleted": 0, "isDeleted": false
            },
            "user": {
                "userID": "6", "xcUserID": "6", "fullname": "Jony Lim", "email": "jony@taptalk.io",
                "isEmailVerified": false, "countryID": 0, "countryCallingCode": "",
                "phone": "628123456789", "phoneWithCode": "", "isPhoneVerified": false,
                "username": "jony",
                "imageURL": {"thumbnail": "https://x/t.jpg", "fullsize": "https://x/f.jpg"},
                "userRole": {"code": "developer", "name": "", "iconURL": ""},
                "lastLogin": 1592720960000_i64, "lastActivity": 1593016069000_i64,
                "isOnline": false, "created": 1537965673709_i64, "updated": 1592717884647_i64
            },
            "recipientID": "0", "action": "",
            "target": {"targetType": "", "targetID": "0", "targetXCID": "", "targetName": ""},
            "isSending": false, "isDelivered": false, "isRead": false, "isDeleted": false,
            "created": 1593062073595_i64, "updated": 1593062073595_i64
        },
        "unreadCount": 3
    })
}

async fn rooms_of(app: &TestApp, body: Value) -> Vec<Value> {
    let data = app.ok("/v1/server/room/get_list_by_user", body).await;
    data["rooms"].as_array().unwrap().clone()
}

/// The newest room-list entry of user "6".
async fn newest(app: &TestApp) -> Value {
    rooms_of(app, json!({"xcUserID": "6"})).await[0].clone()
}

fn action_of(entry: &Value) -> &str {
    entry["lastMessage"]["action"].as_str().unwrap()
}

fn decoded_body(entry: &Value) -> String {
    let m = &entry["lastMessage"];
    codec::decode(m["body"].as_str().unwrap(), m["localID"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn entries_have_the_seed_example_shape() {
    let app = TestApp::spawn().await;
    app.user("6", "Jony Lim").await;
    app.room("6A02C41D", &["6"]).await;
    let rooms = rooms_of(&app, json!({"xcUserID": "6"})).await;
    assert_eq!(rooms.len(), 1);
    assert_same_shape(&rooms[0], &seed_entry(), "rooms[0]");
    let m = &rooms[0]["lastMessage"];
    assert_eq!(m["room"]["xcRoomID"], "6A02C41D");
    assert_eq!(m["type"], 9001);
    assert_eq!(m["action"], "room/create");
    assert_eq!(m["localID"].as_str().unwrap().len(), 32);
    assert_eq!(rooms[0]["unreadCount"], 0, "system messages are not unread");
}

#[tokio::test]
async fn every_room_change_appends_a_system_message_the_sdks_can_decode() {
    let app = TestApp::spawn().await;
    app.user("6", "Jony").await;
    app.user("7", "Seven").await;
    app.room("R", &["6"]).await;
    let entry = newest(&app).await;
    assert_eq!(
        (action_of(&entry), decoded_body(&entry).as_str()),
        ("room/create", "{{sender}} created this room")
    );
    // The Server API's changes come from the app's own user, named after the app, so that the
    // SDKs can say who "created this room".
    let sender = &entry["lastMessage"]["user"];
    assert_eq!(sender["xcUserID"], "");
    assert_eq!(sender["fullname"], "default");
    assert_ne!(sender["userID"], "0");

    app.ok(
        "/v1/server/room/create_or_update",
        json!({"xcRoomID": "R", "type": 2, "name": "R2"}),
    )
    .await;
    let entry = newest(&app).await;
    assert_eq!(action_of(&entry), "room/update");
    assert_eq!(entry["lastMessage"]["room"]["name"], "R2");

    app.ok(
        "/v1/server/room/participants/add",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["7"]}),
    )
    .await;
    let entry = newest(&app).await;
    assert_eq!(action_of(&entry), "room/addParticipant");
    assert_eq!(entry["lastMessage"]["target"]["targetType"], "user");
    assert_eq!(entry["lastMessage"]["target"]["targetXCID"], "7");
    assert_eq!(entry["lastMessage"]["target"]["targetName"], "Seven");

    app.ok(
        "/v1/server/room/participants/remove",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["7"]}),
    )
    .await;
    assert_eq!(action_of(&newest(&app).await), "room/removeParticipant");

    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "R", "xcUserID": "7"}),
    )
    .await;
    let entry = newest(&app).await;
    assert_eq!(action_of(&entry), "room/lock");
    assert_eq!(
        entry["lastMessage"]["user"]["xcUserID"], "7",
        "the locking user"
    );
    assert_eq!(entry["lastMessage"]["room"]["isLocked"], true);

    app.ok(
        "/v1/server/room/unlock",
        json!({"xcRoomID": "R", "xcUserID": "6"}),
    )
    .await;
    let entry = newest(&app).await;
    assert_eq!(action_of(&entry), "room/unlock");
    assert_eq!(entry["unreadCount"], 0);

    // Repeating a lock or adding an existing participant changes nothing and says nothing.
    app.ok(
        "/v1/server/room/unlock",
        json!({"xcRoomID": "R", "xcUserID": "6"}),
    )
    .await;
    app.ok(
        "/v1/server/room/participants/add",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["6"]}),
    )
    .await;
    assert_eq!(newest(&app).await, entry);
}

#[tokio::test]
async fn lists_hold_explicit_and_role_rooms_newest_activity_first() {
    let app = TestApp::spawn().await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "agent", "fullName": "Agent", "userRoleCode": "agent:1"}),
    )
    .await;
    app.user("6", "Jony").await;
    app.room("A", &["agent"]).await;
    app.ok(
        "/v1/server/room/create_or_update",
        json!({"xcRoomID": "B", "type": 4, "name": "B", "participantUserRoles": ["agent:1", "other"]}),
    )
    .await;
    app.room("C", &["6"]).await;
    app.room("D", &["agent"]).await;
    // A participant both by name and by role is listed once.
    app.ok(
        "/v1/server/room/create_or_update",
        json!({"xcRoomID": "E", "type": 2, "name": "E", "participantXCUserIDs": ["agent"],
               "participantUserRoles": ["agent:1"]}),
    )
    .await;
    // Activity in A makes it the newest.
    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "A", "xcUserID": "6"}),
    )
    .await;

    let rooms = rooms_of(&app, json!({"xcUserID": "agent"})).await;
    let order: Vec<_> = rooms
        .iter()
        .map(|r| r["lastMessage"]["room"]["xcRoomID"].clone())
        .collect();
    assert_eq!(order, vec![json!("A"), json!("E"), json!("D"), json!("B")]);
    assert_eq!(rooms[3]["lastMessage"]["room"]["type"], 4);

    // Role membership gives access to the room without listing the user as a participant.
    let b = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "B"}))
        .await;
    assert_eq!(b["participants"], json!([]));

    let only = rooms_of(
        &app,
        json!({"xcUserID": "agent", "xcRoomIDs": ["B", "C", "nope"]}),
    )
    .await;
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["lastMessage"]["room"]["xcRoomID"], "B");
    assert_eq!(
        rooms_of(&app, json!({"xcUserID": "agent", "xcRoomIDs": []})).await,
        Vec::<Value>::new()
    );
    assert_eq!(rooms_of(&app, json!({"xcUserID": "6"})).await.len(), 1);
}

#[tokio::test]
async fn a_user_without_rooms_has_an_empty_list_and_bad_parameters_are_named() {
    let app = TestApp::spawn().await;
    app.user("6", "Jony").await;
    assert_eq!(
        rooms_of(&app, json!({"xcUserID": "6"})).await,
        Vec::<Value>::new()
    );
    let unknown = app
        .post(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "ghost"}),
        )
        .await;
    assert_error(&unknown, 404, "40401", "");
    assert_eq!(unknown["error"]["message"], "User is not found");
    let cases = [
        (json!({"xcUserID": 6}), "xcUserID"),
        (json!({"xcUserID": ""}), "xcUserID"),
        (json!({"xcUserID": "6", "xcRoomIDs": "R"}), "xcRoomIDs"),
        (json!({"xcUserID": "6", "xcRoomIDs": [7]}), "xcRoomIDs"),
    ];
    for (body, field) in cases {
        let envelope = app.post("/v1/server/room/get_list_by_user", body).await;
        assert_error(&envelope, 400, "40002", field);
    }
}

/// Ann's client room list: the newest message she sees in room `room`.
async fn listed_newest(app: &TestApp, ann: &crate::helpers::Login, room: &str) -> Value {
    let list = app
        .client_ok(
            "/v1/chat/message/room_list_and_unread",
            &ann.access,
            json!(""),
        )
        .await;
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["room"]["roomID"] == room && m["isHidden"] == false)
        .cloned()
        .expect("the room is listed")
}

/// The room list keeps each room's newest message between calls (SQLite); every change to
/// what it shows (the message, its room, its sender) is in the next list, appended or not.
#[tokio::test]
async fn a_client_room_list_shows_each_change_to_what_it_lists_at_once() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    app.room("G", &["ann", "bob"]).await;
    let sent = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "bob", "xcRoomID": "G", "type": 1001, "body": "one"}),
        )
        .await;
    let room = sent["messages"][0]["room"]["roomID"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = listed_newest(&app, &ann, &room).await;
    assert_eq!(crate::helpers::body_of(&first), "one");
    assert_eq!(first["room"]["isLocked"], false);

    // A change to the room's row.
    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "G", "xcUserID": "bob"}),
    )
    .await;
    let locked = listed_newest(&app, &ann, &room).await;
    assert_eq!(locked["room"]["isLocked"], true, "the lock is listed");
    app.ok(
        "/v1/server/room/unlock",
        json!({"xcRoomID": "G", "xcUserID": "bob"}),
    )
    .await;
    let unlocked = listed_newest(&app, &ann, &room).await;
    assert_eq!(unlocked["room"]["isLocked"], false, "the unlock is listed");

    // A change to the newest message's own row, which appends nothing.
    let newest = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "bob", "xcRoomID": "G", "type": 1001, "body": "oops"}),
        )
        .await;
    let newest = &newest["messages"][0];
    assert_eq!(
        listed_newest(&app, &ann, &room).await["messageID"],
        newest["messageID"]
    );
    app.client_ok(
        "/v1/chat/message/delete",
        &bob.access,
        json!({"roomID": room, "messageIDs": [newest["messageID"]], "forEveryone": true}),
    )
    .await;
    let deleted = listed_newest(&app, &ann, &room).await;
    assert_eq!(deleted["messageID"], newest["messageID"]);
    assert_eq!(deleted["isDeleted"], true, "the delete is listed");

    // A newer message replaces it.
    app.ok(
        "/v1/server/message/send",
        json!({"senderXCUserID": "bob", "xcRoomID": "G", "type": 1001, "body": "two"}),
    )
    .await;
    let second = listed_newest(&app, &ann, &room).await;
    assert_eq!(crate::helpers::body_of(&second), "two");
    assert_eq!(second["user"]["fullname"], "Bob");
}

/// Lists racing with sends: whatever lists ran meanwhile (and kept what they read), a list
/// that starts after a send was answered shows that message as the room's newest.
#[tokio::test]
async fn a_list_after_an_answered_send_shows_it_however_lists_race_with_sends() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    app.user("bob", "Bob").await;
    app.room("G", &["ann", "bob"]).await;
    let room = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "bob", "xcRoomID": "G", "type": 1001, "body": "m"}),
        )
        .await["messages"][0]["room"]["roomID"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = AtomicBool::new(false);
    let racer = || async {
        while !done.load(Ordering::Relaxed) {
            listed_newest(&app, &ann, &room).await;
        }
    };
    let checks = async {
        for i in 0..40 {
            let body = format!("m{i}");
            app.ok(
                "/v1/server/message/send",
                json!({"senderXCUserID": "bob", "xcRoomID": "G", "type": 1001, "body": body}),
            )
            .await;
            let newest = listed_newest(&app, &ann, &room).await;
            assert_eq!(crate::helpers::body_of(&newest), body);
        }
        done.store(true, Ordering::Relaxed);
    };
    futures_util::join!(checks, racer(), racer());
}
