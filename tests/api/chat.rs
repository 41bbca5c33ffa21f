//! Messages through sockets and the client API: delivery, access, receipts, unread counts,
//! history and sync.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, body_of, personal, text_message};

#[tokio::test]
async fn a_personal_message_is_stored_echoed_and_delivered_to_every_device() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let bob_again = app.login("bob", "Bob").await;
    let mut ann_socket = app.socket(&ann).await;
    let mut bob_socket = app.web_socket(&bob).await;
    let mut bob_phone = app.socket(&bob_again).await;
    let room = personal(&ann, &bob);
    let echo = ann_socket.send_text(&room, "L1", "héllo ✓").await;
    assert_ne!(echo["messageID"], "0");
    assert_eq!(echo["isSending"], false);
    assert_eq!(
        echo["user"]["userID"],
        ann.user_id.as_str(),
        "the server sets the sender"
    );
    assert_eq!(
        echo["room"]["name"], "Bob",
        "the sender sees the room named after Bob"
    );
    assert_eq!(echo["recipientID"], bob.user_id.as_str());
    for socket in [&mut bob_socket, &mut bob_phone] {
        let got = socket
            .expect("chat/sendMessage", |m| m["localID"] == "L1")
            .await;
        assert_eq!(body_of(&got), "héllo ✓");
        assert_eq!(got["room"]["name"], "Ann");
        assert_eq!(got["messageID"], echo["messageID"]);
    }
}

#[tokio::test]
async fn a_resent_local_id_is_echoed_again_but_stored_once() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let mut socket = app.socket(&ann).await;
    let room = personal(&ann, &bob);
    let first = socket.send_text(&room, "L1", "once").await;
    let second = socket.send_text(&room, "L1", "once").await;
    assert_eq!(first["messageID"], second["messageID"]);
    let page = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &bob.access,
            json!({"roomID": room, "maxCreated": 0, "limit": 50}),
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn nobody_reads_or_writes_a_room_they_are_not_in() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let eve = app.login("eve", "Eve").await;
    app.room("R", &["ann"]).await;
    let group = app
        .client_ok(
            "/v1/client/room/get_by_xc_room_id",
            &ann.access,
            json!({"xcRoomID": "R"}),
        )
        .await;
    let group_id = group["room"]["roomID"].as_str().unwrap().to_owned();
    let room = personal(&ann, &bob);

    for room_id in [&room, &group_id] {
        let history = app
            .client(
                "/v1/chat/message/list_by_room/before",
                &eve.access,
                json!({"roomID": room_id, "maxCreated": 0, "limit": 10}),
            )
            .await;
        assert_error(&history, 403, "40301", "");
        let got = app
            .client(
                "/v1/client/room/get",
                &eve.access,
                json!({"roomID": room_id}),
            )
            .await;
        assert_error(&got, 403, "40301", "");
    }
    let by_xc = app
        .client(
            "/v1/client/room/get_by_xc_room_id",
            &eve.access,
            json!({"xcRoomID": "R"}),
        )
        .await;
    assert_error(&by_xc, 403, "40301", "");

    let mut eve_socket = app.socket(&eve).await;
    for room_id in [&room, &group_id] {
        eve_socket
            .send("chat/sendMessage", text_message(room_id, "E1", "intrusion"))
            .await;
        let refusal = eve_socket.expect("error", |e| e["localID"] == "E1").await;
        assert_eq!(refusal["code"], "40301");
    }
    let unknown = app
        .client(
            "/v1/client/room/get",
            &ann.access,
            json!({"roomID": "g999999"}),
        )
        .await;
    assert_error(&unknown, 404, "40401", "");
    let malformed = app
        .client("/v1/client/room/get", &ann.access, json!({"roomID": "2-1"}))
        .await;
    assert_error(&malformed, 400, "40002", "roomID");
    // Nothing Eve sent was stored.
    let listed = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "ann"}),
        )
        .await;
    assert_eq!(
        listed["rooms"].as_array().unwrap().len(),
        1,
        "only R, no personal room with Eve"
    );
}

#[tokio::test]
async fn a_locked_room_refuses_client_sends_but_not_the_server_api() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    app.room("R", &["ann"]).await;
    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "R", "xcUserID": "ann"}),
    )
    .await;
    let group = app
        .client_ok(
            "/v1/client/room/get_by_xc_room_id",
            &ann.access,
            json!({"xcRoomID": "R"}),
        )
        .await;
    let room_id = group["room"]["roomID"].as_str().unwrap().to_owned();
    let mut socket = app.socket(&ann).await;
    socket
        .send("chat/sendMessage", text_message(&room_id, "L1", "nope"))
        .await;
    let refusal = socket.expect("error", |e| e["localID"] == "L1").await;
    assert_eq!(refusal["code"], "40301");
    assert_eq!(refusal["message"], "The room is locked");
    let sent = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "ann", "xcRoomID": "R", "type": 1001, "body": "server may"}),
        )
        .await;
    assert_eq!(body_of(&sent["messages"][0]), "server may");
    let page = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &ann.access,
            json!({"roomID": room_id, "maxCreated": 0, "limit": 50}),
        )
        .await;
    let bodies: Vec<String> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == 1001)
        .map(body_of)
        .collect();
    assert_eq!(
        bodies,
        vec!["server may"],
        "the refused message was not stored"
    );
}

async fn unread(app: &TestApp, xc_user_id: &str) -> Vec<i64> {
    let listed = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": xc_user_id}),
        )
        .await;
    listed["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unreadCount"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn receipts_reach_the_sender_and_unread_counts_are_exact() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let mut ann_socket = app.socket(&ann).await;
    let room = personal(&ann, &bob);
    let mut ids = Vec::new();
    for n in 0..3 {
        let local = format!("L{n}");
        let echo = ann_socket.send_text(&room, &local, &format!("m{n}")).await;
        ids.push(echo["messageID"].as_str().unwrap().to_owned());
    }
    assert_eq!(unread(&app, "bob").await, vec![3]);
    assert_eq!(
        unread(&app, "ann").await,
        vec![0],
        "own messages are never unread"
    );

    // The sender's own receipts are ignored; an empty list is fine.
    let own = app
        .client_ok(
            "/v1/chat/message/feedback/read",
            &ann.access,
            json!({"messageIDs": ids}),
        )
        .await;
    assert_eq!(own["updatedMessageIDs"], json!([]));
    let none = app
        .client_ok(
            "/v1/chat/message/feedback/delivered",
            &bob.access,
            json!({"messageIDs": []}),
        )
        .await;
    assert_eq!(none["updatedMessageIDs"], json!([]));

    let delivered = app
        .client_ok(
            "/v1/chat/message/feedback/delivered",
            &bob.access,
            json!({"messageIDs": ids}),
        )
        .await;
    assert_eq!(delivered["updatedMessageIDs"], json!(ids));
    let update = ann_socket
        .expect("chat/updateMessage", |m| m["localID"] == "L0")
        .await;
    assert_eq!(
        (update["isDelivered"].clone(), update["isRead"].clone()),
        (json!(true), json!(false))
    );
    let again = app
        .client_ok(
            "/v1/chat/message/feedback/delivered",
            &bob.access,
            json!({"messageIDs": ids}),
        )
        .await;
    assert_eq!(
        again["updatedMessageIDs"],
        json!([]),
        "only changes are reported"
    );

    let read = app
        .client_ok(
            "/v1/chat/message/feedback/read",
            &bob.access,
            json!({"messageIDs": [ids[1]]}),
        )
        .await;
    assert_eq!(read["updatedMessageIDs"], json!([ids[1]]));
    let update = ann_socket
        .expect("chat/updateMessage", |m| {
            m["localID"] == "L1" && m["isRead"] == true
        })
        .await;
    assert_eq!(update["messageID"], ids[1].as_str());
    assert_eq!(
        unread(&app, "bob").await,
        vec![1],
        "reading a message reads what came before it"
    );

    // Bob's reply marks the room read for him.
    let mut bob_socket = app.socket(&bob).await;
    bob_socket.send_text(&room, "B1", "ok").await;
    assert_eq!(unread(&app, "bob").await, vec![0]);
    assert_eq!(unread(&app, "ann").await, vec![1]);
}

#[tokio::test]
async fn unread_counts_in_groups_are_per_member_and_skip_system_messages() {
    let app = TestApp::spawn().await;
    let _ann = app.login("ann", "Ann").await;
    let _bob = app.login("bob", "Bob").await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "agent", "fullName": "Agent", "userRoleCode": "agent"}),
    )
    .await;
    app.ok(
        "/v1/server/room/create_or_update",
        json!({"xcRoomID": "G", "type": 2, "name": "G", "participantXCUserIDs": ["ann", "bob"], "participantUserRoles": ["agent"]}),
    )
    .await;
    for n in 0..4 {
        app.ok("/v1/server/message/send", json!({"senderXCUserID": "ann", "xcRoomID": "G", "type": 1001, "body": format!("m{n}")})).await;
    }
    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "G", "xcUserID": "ann"}),
    )
    .await;
    assert_eq!(unread(&app, "bob").await, vec![4]);
    assert_eq!(
        unread(&app, "agent").await,
        vec![4],
        "role members count too"
    );
    assert_eq!(unread(&app, "ann").await, vec![0]);
    let listed = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "ann"}),
        )
        .await;
    let room_id = listed["rooms"][0]["lastMessage"]["room"]["roomID"].clone();
    let bob_login = app.login("bob", "Bob").await;
    let page = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &bob_login.access,
            json!({"roomID": room_id, "maxCreated": 0, "limit": 50}),
        )
        .await;
    let chat: Vec<Value> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == 1001)
        .cloned()
        .collect();
    let oldest_two: Vec<&str> = chat[2..]
        .iter()
        .map(|m| m["messageID"].as_str().unwrap())
        .collect();
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &bob_login.access,
        json!({"messageIDs": oldest_two}),
    )
    .await;
    assert_eq!(unread(&app, "bob").await, vec![2]);
    assert_eq!(
        unread(&app, "agent").await,
        vec![4],
        "one member's reading is not another's"
    );
    // Bob's room list carries exactly his unread messages, marked unread for him.
    let list = app
        .client_ok(
            "/v1/chat/message/room_list_and_unread",
            &bob_login.access,
            json!(""),
        )
        .await;
    let unread_for_bob = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["isRead"] == false)
        .count();
    assert_eq!(unread_for_bob, 2);
}

#[tokio::test]
async fn history_pages_by_time_start_and_end_at_every_boundary() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut socket = app.socket(&ann).await;
    for n in 0..37 {
        socket
            .send_text(&room, &format!("L{n}"), &format!("m{n}"))
            .await;
    }
    let page = |body: Value, path: &'static str| {
        let app = &app;
        let access = bob.access.clone();
        async move {
            let got = app.client_ok(path, &access, body).await;
            let messages: Vec<(i64, String)> = got["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["created"].as_i64().unwrap(), body_of(m)))
                .collect();
            (messages, got["hasMore"].clone())
        }
    };
    const BEFORE: &str = "/v1/chat/message/list_by_room/before";
    const AFTER: &str = "/v1/chat/message/list_by_room/after";
    let (all, _) = page(
        json!({"roomID": room, "maxCreated": 0, "limit": 100}),
        BEFORE,
    )
    .await;
    let expected: Vec<String> = (0..37).rev().map(|n| format!("m{n}")).collect();
    let bodies: Vec<String> = all.iter().map(|(_, b)| b.clone()).collect();
    assert_eq!(bodies, expected, "newest first");

    let mut times: Vec<i64> = all.iter().flat_map(|(c, _)| [c - 1, *c, c + 1]).collect();
    times.push(i64::MAX / 2);
    for time in times {
        let older: Vec<(i64, String)> = all.iter().filter(|(c, _)| *c < time).cloned().collect();
        let (got, more) = page(
            json!({"roomID": room, "maxCreated": time, "limit": 5}),
            BEFORE,
        )
        .await;
        assert_eq!(got, older[..older.len().min(5)], "before {time}");
        assert_eq!(more, older.len() > 5, "hasMore before {time}");
        let newer: Vec<(i64, String)> = all.iter().filter(|(c, _)| *c >= time).cloned().collect();
        let (got, _) = page(
            json!({"roomID": room, "minCreated": time, "lastUpdated": 0}),
            AFTER,
        )
        .await;
        assert_eq!(got, newer, "after {time}");
    }
}

#[tokio::test]
async fn history_pages_and_sync_return_what_the_sdk_asks_for() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let empty = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &ann.access,
            json!({"roomID": room, "maxCreated": 0, "limit": 10}),
        )
        .await;
    assert_eq!(
        empty,
        json!({"messages": [], "hasMore": false}),
        "a room not created yet is empty"
    );
    // The device syncs before anything happens.
    app.client_ok(
        "/v1/chat/message/room_list_and_unread",
        &bob.access,
        json!(""),
    )
    .await;

    let mut socket = app.socket(&ann).await;
    for n in 0..5 {
        let local = format!("L{n}");
        socket.send_text(&room, &local, &format!("m{n}")).await;
    }
    let page = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &bob.access,
            json!({"roomID": room, "maxCreated": 0, "limit": 2}),
        )
        .await;
    let bodies: Vec<String> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(body_of)
        .collect();
    assert_eq!(bodies, vec!["m4", "m3"]);
    assert_eq!(page["hasMore"], true);
    let oldest = page["messages"][1]["created"].clone();
    let rest = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &bob.access,
            json!({"roomID": room, "maxCreated": oldest, "limit": 10}),
        )
        .await;
    let bodies: Vec<String> = rest["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(body_of)
        .collect();
    assert_eq!(bodies, vec!["m2", "m1", "m0"]);
    assert_eq!(rest["hasMore"], false);

    let after = app
        .client_ok(
            "/v1/chat/message/list_by_room/after",
            &bob.access,
            json!({"roomID": room, "minCreated": oldest, "lastUpdated": 0}),
        )
        .await;
    let bodies: Vec<String> = after["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(body_of)
        .collect();
    assert_eq!(bodies, vec!["m4", "m3"]);

    let synced = app
        .client_ok("/v1/chat/message/new_and_updated", &bob.access, json!(""))
        .await;
    assert_eq!(
        synced["messages"].as_array().unwrap().len(),
        5,
        "everything since the last sync"
    );
    let nothing = app
        .client_ok("/v1/chat/message/new_and_updated", &bob.access, json!(""))
        .await;
    assert_eq!(nothing["messages"], json!([]));
    let id = page["messages"][0]["messageID"].clone();
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &bob.access,
        json!({"messageIDs": [id]}),
    )
    .await;
    let changed = app
        .client_ok("/v1/chat/message/new_and_updated", &ann.access, json!(""))
        .await;
    assert!(
        changed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["messageID"] == id && m["isRead"] == true)
    );
}

#[tokio::test]
async fn edits_and_deletions_are_the_senders_alone_and_reach_the_room() {
    let app = TestApp::spawn().await;
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

    let mut edit = text_message(&room, "L1", "fixed");
    edit["isMessageEdited"] = json!(true);
    bob_socket.send("chat/updateMessage", edit.clone()).await;
    let refused = bob_socket.expect("error", |e| e["localID"] == "L1").await;
    assert_eq!(refused["code"], "40301");
    ann_socket.send("chat/updateMessage", edit).await;
    let edited = bob_socket
        .expect("chat/updateMessage", |m| m["localID"] == "L1")
        .await;
    assert_eq!(body_of(&edited), "fixed");
    assert_eq!(edited["isMessageEdited"], true);

    let not_own = app
        .client_ok(
            "/v1/chat/message/delete",
            &bob.access,
            json!({"roomID": room, "messageIDs": [sent["messageID"]], "forEveryone": true}),
        )
        .await;
    assert_eq!(not_own["deletedMessageIDs"], json!([]));
    let deleted = app
        .client_ok(
            "/v1/chat/message/delete",
            &ann.access,
            json!({"roomID": room, "messageIDs": [sent["messageID"]], "forEveryone": true}),
        )
        .await;
    assert_eq!(deleted["deletedMessageIDs"], json!([sent["messageID"]]));
    let update = bob_socket
        .expect("chat/updateMessage", |m| m["isDeleted"] == true)
        .await;
    assert!(update["deleted"].as_i64().unwrap() > 0);

    let mut late = text_message(&room, "L1", "too late");
    late["isMessageEdited"] = json!(true);
    ann_socket.send("chat/updateMessage", late).await;
    let refused = ann_socket.expect("error", |e| e["localID"] == "L1").await;
    assert_eq!(
        refused["code"], "40301",
        "a deleted message cannot be edited"
    );
}
