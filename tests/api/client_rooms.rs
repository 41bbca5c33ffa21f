//! Room management through the client API.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, text_message};

#[tokio::test]
async fn groups_are_managed_by_their_admins() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let created = app
        .client_ok(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "Team", "type": 2, "userIDs": [bob.user_id]}),
        )
        .await;
    let room_id = created["room"]["roomID"].as_str().unwrap().to_owned();
    assert!(!room_id.contains('-'));
    assert_eq!(created["adminUserIDs"], json!([ann.user_id]));
    assert_eq!(created["participants"].as_array().unwrap().len(), 2);

    let by_bob = app
        .client(
            "/v1/client/room/participants/add",
            &bob.access,
            json!({"roomID": room_id, "userIDs": [cat.user_id]}),
        )
        .await;
    assert_error(&by_bob, 403, "40301", "");
    let added = app
        .client_ok(
            "/v1/client/room/participants/add",
            &ann.access,
            json!({"roomID": room_id, "userIDs": [cat.user_id]}),
        )
        .await;
    assert_eq!(added["participants"].as_array().unwrap().len(), 3);
    let promoted = app
        .client_ok(
            "/v1/client/room/admins/promote",
            &ann.access,
            json!({"roomID": room_id, "userIDs": [bob.user_id]}),
        )
        .await;
    assert_eq!(promoted["adminUserIDs"].as_array().unwrap().len(), 2);
    let renamed = app
        .client_ok(
            "/v1/client/room/update",
            &bob.access,
            json!({"roomID": room_id, "name": "Team 2"}),
        )
        .await;
    assert_eq!(renamed["room"]["name"], "Team 2");
    let demoted = app
        .client_ok(
            "/v1/client/room/admins/demote",
            &ann.access,
            json!({"roomID": room_id, "userIDs": [bob.user_id]}),
        )
        .await;
    assert_eq!(demoted["adminUserIDs"], json!([ann.user_id]));
    let removed = app
        .client_ok(
            "/v1/client/room/participants/remove",
            &ann.access,
            json!({"roomID": room_id, "userIDs": [cat.user_id]}),
        )
        .await;
    assert_eq!(removed["participants"].as_array().unwrap().len(), 2);
    let left = app
        .client_ok(
            "/v1/client/room/leave",
            &bob.access,
            json!({"roomID": room_id}),
        )
        .await;
    assert_eq!(left["success"], true);
    assert!(left["message"].as_str().is_some_and(|m| !m.is_empty()));
    let after = app
        .client_ok(
            "/v1/client/room/get",
            &ann.access,
            json!({"roomID": room_id}),
        )
        .await;
    assert_eq!(after["participants"].as_array().unwrap().len(), 1);
    let gone = app
        .client(
            "/v1/client/room/get",
            &bob.access,
            json!({"roomID": room_id}),
        )
        .await;
    assert_error(&gone, 403, "40301", "");
    let unknown = app
        .client(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "X", "userIDs": ["987654"]}),
        )
        .await;
    assert_error(&unknown, 400, "40002", "");
}

#[tokio::test]
async fn users_and_contacts_can_be_looked_up_within_the_app() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "bob", "fullName": "Bob", "username": "Bobby"}),
    )
    .await;
    let bob = app
        .client_ok(
            "/v1/client/user/get_by_xcuserid",
            &ann.access,
            json!({"xcUserID": "bob"}),
        )
        .await;
    let bob_id = bob["user"]["userID"].as_str().unwrap().to_owned();
    let by_id = app
        .client_ok(
            "/v1/client/user/get_by_id",
            &ann.access,
            json!({"id": bob_id}),
        )
        .await;
    assert_eq!(by_id["user"]["fullname"], "Bob");
    let exact = app
        .client(
            "/v1/client/user/get_by_username",
            &ann.access,
            json!({"username": "bobby"}),
        )
        .await;
    assert_error(&exact, 404, "40401", "");
    let relaxed = app
        .client_ok(
            "/v1/client/user/get_by_username",
            &ann.access,
            json!({"username": "bobby", "ignoreCase": true}),
        )
        .await;
    assert_eq!(relaxed["user"]["userID"], bob_id.as_str());
    let all = app
        .client_ok(
            "/v1/client/user/get_all_by_ids",
            &ann.access,
            json!({"ids": [bob_id, ann.user_id, "999999"]}),
        )
        .await;
    assert_eq!(all["users"].as_array().unwrap().len(), 2);
    assert_error(
        &app.client(
            "/v1/client/user/get_by_id",
            &ann.access,
            json!({"id": "999999"}),
        )
        .await,
        404,
        "40401",
        "",
    );

    app.ok(
        "/v1/server/contact/sync",
        json!({"contacts": [{"ownerXCUserID": "ann", "contactXCUserID": "bob"}]}),
    )
    .await;
    let contacts = app
        .client_ok("/v1/client/contact/list", &ann.access, json!(""))
        .await;
    assert_eq!(contacts["contacts"][0]["user"]["xcUserID"], "bob");
    assert_eq!(contacts["contacts"][0]["isRequestAccepted"], true);
    let push = app
        .client_ok(
            "/v1/client/push_notification/update",
            &ann.access,
            json!({"fcmToken": "f", "apnToken": ""}),
        )
        .await;
    assert_eq!(push["success"], true);
}

#[tokio::test]
async fn groups_in_common_lists_shared_rooms_newest_first_without_personal_ones() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let team = app
        .client_ok(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "Team", "type": 2, "userIDs": [bob.user_id, cat.user_id]}),
        )
        .await["room"]["roomID"]
        .clone();
    app.room("ops", &["ann", "bob"]).await;
    let mut anns = app.socket(&ann).await;
    anns.send_text(&crate::helpers::personal(&ann, &bob), "p1", "hi")
        .await;

    let common = app
        .client_ok(
            "/v1/client/room/groups_in_common",
            &ann.access,
            json!({"userID": bob.user_id}),
        )
        .await;
    let rooms = common["rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 2, "{common}");
    assert_eq!(rooms[0]["xcRoomID"], "ops");
    assert_eq!(rooms[1]["roomID"], team);
    let with_cat = app
        .client_ok(
            "/v1/client/room/groups_in_common",
            &bob.access,
            json!({"userID": cat.user_id}),
        )
        .await;
    assert_eq!(with_cat["rooms"].as_array().unwrap().len(), 1);
    assert_eq!(with_cat["rooms"][0]["roomID"], team);
    let unknown = app
        .client(
            "/v1/client/room/groups_in_common",
            &ann.access,
            json!({"userID": "987654"}),
        )
        .await;
    assert_error(&unknown, 404, "40401", "");
}

#[tokio::test]
async fn an_admin_deletes_a_group_every_member_hears_it_and_it_is_gone() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let created = app
        .client_ok(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "Short-lived", "type": 2, "userIDs": [bob.user_id]}),
        )
        .await;
    let room = created["room"]["roomID"].as_str().unwrap().to_owned();
    let mut bobs = app.socket(&bob).await;
    bobs.send_text(&room, "d1", "hello").await;

    let refused = app
        .client(
            "/v1/client/room/delete",
            &bob.access,
            json!({"roomID": room, "checksum": "x"}),
        )
        .await;
    assert_error(&refused, 403, "40301", "");
    let deleted = app
        .client_ok(
            "/v1/client/room/delete",
            &ann.access,
            json!({"roomID": room, "checksum": "x"}),
        )
        .await;
    assert_eq!(deleted["success"], true);
    let note = bobs
        .expect("chat/sendMessage", |m| m["action"] == "room/delete")
        .await;
    assert_eq!(note["type"], 9001);
    assert_eq!(note["user"]["userID"], ann.user_id.as_str());

    // Gone: not found, no sends, not listed.
    let gone = app
        .client("/v1/client/room/get", &bob.access, json!({"roomID": room}))
        .await;
    assert_error(&gone, 404, "40401", "");
    bobs.send("chat/sendMessage", text_message(&room, "d2", "anyone?"))
        .await;
    let refused = bobs.expect("error", |e| e["localID"] == "d2").await;
    assert_eq!(refused["code"], "40401");
    let list = app
        .client_ok(
            "/v1/chat/message/room_list_and_unread",
            &bob.access,
            json!(""),
        )
        .await;
    assert!(
        !list["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["room"]["roomID"] == room),
        "{list}"
    );
    let again = app
        .client(
            "/v1/client/room/delete",
            &ann.access,
            json!({"roomID": room}),
        )
        .await;
    assert_error(&again, 404, "40401", "");
}
