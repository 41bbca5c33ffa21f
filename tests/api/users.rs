//! `auth_ticket/request`, `user/update`, `contact/sync`.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, assert_success};

#[tokio::test]
async fn an_auth_ticket_upserts_the_user_and_returns_ticket_and_user_id() {
    let app = TestApp::spawn().await;
    let request = json!({
        "userIPAddress": "182.253.177.234", "userAgent": "AdvancedRestClient/12.1.14",
        "userPlatform": "web", "userDeviceID": "dev-1",
        "xcUserID": "6", "fullName": "Jony", "email": "jony@email.com",
        "phone": "08991234567", "username": "jony",
        "photoThumbnailURL": "http://www.example.com/photo/thumb/6.jpg",
        "photoFullsizeURL": "http://www.example.com/photo/full/6.jpg", "userRoleCode": "user"
    });
    let first = app
        .ok("/v1/server/auth_ticket/request", request.clone())
        .await;
    let second = app.ok("/v1/server/auth_ticket/request", request).await;
    let ticket = first["ticket"].as_str().unwrap();
    assert!(ticket.len() >= 32, "a ticket carries at least 128 bits");
    assert_ne!(
        first["ticket"], second["ticket"],
        "tickets are one per request"
    );
    assert_eq!(
        first["userID"], second["userID"],
        "the same xcUserID is the same user"
    );
    let id: i32 = first["userID"].as_str().unwrap().parse().unwrap();
    assert!(id > 0);
}

#[tokio::test]
async fn user_ids_are_positive_decimal_strings_that_fit_32_bits() {
    let app = TestApp::spawn().await;
    let a = app.user("a", "A").await;
    let b = app.user("b", "B").await;
    for id in [&a, &b] {
        let n: i32 = id.parse().unwrap();
        assert!(n > 0 && n.to_string() == *id);
    }
    assert_ne!(a, b);
    assert_eq!(app.user("a", "A again").await, a);
}

#[tokio::test]
async fn user_update_keeps_stored_fields_that_the_request_leaves_out() {
    let app = TestApp::spawn().await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "6", "fullName": "Jony", "email": "jony@email.com",
               "username": "jony", "userRoleCode": "agent:1",
               "photoThumbnailURL": "http://t", "photoFullsizeURL": "http://f"}),
    )
    .await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "6", "fullName": "Jony Lim"}),
    )
    .await;
    let room = app.room("R1", &["6"]).await;
    let user = &room["participants"][0];
    assert_eq!(user["fullname"], "Jony Lim");
    assert_eq!(user["email"], "jony@email.com");
    assert_eq!(user["username"], "jony");
    assert_eq!(user["userRole"]["code"], "agent:1");
    assert_eq!(
        user["imageURL"],
        json!({"thumbnail": "http://t", "fullsize": "http://f"})
    );
}

#[tokio::test]
async fn user_update_reports_each_bad_field_by_its_code() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"fullName": "x"}),
            "105",
            "Param 'xcUserID' is required",
        ),
        (
            json!({"xcUserID": "", "fullName": "x"}),
            "105",
            "Param 'xcUserID' is required",
        ),
        (
            json!({"xcUserID": "x".repeat(51), "fullName": "x"}),
            "105",
            "",
        ),
        (json!({"xcUserID": 6, "fullName": "x"}), "105", ""),
        (
            json!({"xcUserID": "6"}),
            "106",
            "Param 'fullName' is required",
        ),
        (
            json!({"xcUserID": "6", "fullName": "x", "email": 1}),
            "107",
            "",
        ),
        (
            json!({"xcUserID": "6", "fullName": "x", "phone": []}),
            "108",
            "",
        ),
        (
            json!({"xcUserID": "6", "fullName": "x", "username": true}),
            "109",
            "",
        ),
        (
            json!({"xcUserID": "6", "fullName": "x", "photoThumbnailURL": {}}),
            "110",
            "",
        ),
        (
            json!({"xcUserID": "6", "fullName": "x", "photoFullsizeURL": 2}),
            "111",
            "",
        ),
        (
            json!({"xcUserID": "6", "fullName": "x", "userRoleCode": 3}),
            "112",
            "",
        ),
    ];
    for (body, field, message) in cases {
        for path in ["/v1/server/user/update", "/v1/server/auth_ticket/request"] {
            let envelope = app.post(path, body.clone()).await;
            assert_error(&envelope, 400, "40002", field);
            if !message.is_empty() {
                assert_eq!(envelope["error"]["message"], message);
            }
        }
    }
    // Nothing was created by the failed calls.
    let listed = app
        .post("/v1/server/room/get_list_by_user", json!({"xcUserID": "6"}))
        .await;
    assert_error(&listed, 404, "40401", "");
}

#[tokio::test]
async fn contact_sync_counts_insertions_and_applies_deletions_last() {
    let app = TestApp::spawn().await;
    for id in ["1", "2", "3", "4"] {
        app.user(id, id).await;
    }
    let data = app
        .ok(
            "/v1/server/contact/sync",
            json!({"contacts": [
                {"ownerXCUserID": "1", "contactXCUserID": "2"},
                {"ownerXCUserID": "1", "contactXCUserID": "3"},
                {"ownerXCUserID": "2", "contactXCUserID": "1", "isDeleted": false},
                {"ownerXCUserID": "1", "contactXCUserID": "3", "isDeleted": true}
            ]}),
        )
        .await;
    assert_eq!(data, json!({"countInserted": 3, "countDeleted": 1}));
    let again = app
        .ok(
            "/v1/server/contact/sync",
            json!({"contacts": [
                {"ownerXCUserID": "1", "contactXCUserID": "2"},
                {"ownerXCUserID": "1", "contactXCUserID": "4", "isDeleted": "true"},
                {"ownerXCUserID": "2", "contactXCUserID": "1", "isDeleted": "true"}
            ]}),
        )
        .await;
    assert_eq!(
        again,
        json!({"countInserted": 0, "countDeleted": 1}),
        "existing pairs are not re-inserted"
    );
}

#[tokio::test]
async fn contact_sync_refuses_bad_input_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.user("1", "One").await;
    app.user("2", "Two").await;
    let empty = app
        .post("/v1/server/contact/sync", json!({"contacts": []}))
        .await;
    assert_error(&empty, 400, "40002", "101");
    assert_eq!(
        empty["error"]["message"],
        "Param 'contacts' cannot be empty"
    );
    let missing = app.post("/v1/server/contact/sync", json!({})).await;
    assert_error(&missing, 400, "40002", "101");
    let cases = [
        (json!({"contacts": "1"}), "101"),
        (json!({"contacts": [1]}), "101"),
        (json!({"contacts": [{"contactXCUserID": "2"}]}), "102"),
        (json!({"contacts": [{"ownerXCUserID": "1"}]}), "103"),
        (
            json!({"contacts": [{"ownerXCUserID": "1", "contactXCUserID": "2", "isDeleted": "maybe"}]}),
            "104",
        ),
        (
            json!({"contacts": [{"ownerXCUserID": "1", "contactXCUserID": "2"},
                             {"ownerXCUserID": "ghost", "contactXCUserID": "2"}]}),
            "102",
        ),
        (
            json!({"contacts": [{"ownerXCUserID": "1", "contactXCUserID": "2"},
                             {"ownerXCUserID": "1", "contactXCUserID": "ghost"}]}),
            "103",
        ),
    ];
    for (body, field) in cases {
        let envelope = app.post("/v1/server/contact/sync", body).await;
        assert_error(&envelope, 400, "40002", field);
    }
    let unknown = app
        .post(
            "/v1/server/contact/sync",
            json!({"contacts": [{"ownerXCUserID": "1", "contactXCUserID": "ghost"}]}),
        )
        .await;
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    // The first, valid pair of the refused syncs was not stored: inserting it now counts.
    let data = app
        .ok(
            "/v1/server/contact/sync",
            json!({"contacts": [{"ownerXCUserID": "1", "contactXCUserID": "2"}]}),
        )
        .await;
    assert_eq!(data["countInserted"], 1);
    assert_success(
        &app.post(
            "/v1/server/contact/sync",
            json!({"contacts": [{"ownerXCUserID": "2", "contactXCUserID": "1"}]}),
        )
        .await,
    );
}

#[tokio::test]
async fn a_profile_change_is_told_in_the_users_personal_rooms_hidden() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = crate::helpers::personal(&ann, &bob);
    let mut bobs = app.socket(&bob).await;
    bobs.send_text(&room, "u1", "hi").await;
    let mut anns = app.socket(&ann).await;

    // Unchanged: nothing is told.
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "bob", "fullName": "Bob"}),
    )
    .await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "bob", "fullName": "Robert", "photoThumbnailURL": "https://cdn.example/r.png"}),
    )
    .await;
    let note = anns
        .expect("chat/sendMessage", |m| m["action"] == "user/update")
        .await;
    assert_eq!(note["type"], 9001);
    assert_eq!(note["isHidden"], true);
    assert_eq!(note["user"]["fullname"], "Robert");
    assert_eq!(note["room"]["name"], "Robert", "the room as Ann sees it");
    assert_eq!(
        note["room"]["imageURL"]["thumbnail"],
        "https://cdn.example/r.png"
    );
    // Hidden: the room list still shows the last message people see, with nothing unread.
    let list = app
        .client_ok(
            "/v1/chat/message/room_list_and_unread",
            &ann.access,
            json!(""),
        )
        .await;
    let bodies: Vec<String> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["room"]["roomID"] == room && m["isHidden"] == false)
        .map(crate::helpers::body_of)
        .collect();
    assert_eq!(bodies, ["hi"]);
    let unchanged = app
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &ann.access,
            json!({"roomID": room, "maxCreated": 0, "limit": 10}),
        )
        .await;
    let actions: Vec<&str> = unchanged["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user/update", ""], "one note, for the one change");
}
