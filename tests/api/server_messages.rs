//! `POST /v1/server/message/send`.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, body_of};

#[tokio::test]
async fn a_server_message_is_encoded_and_delivered_to_a_personal_room() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let mut socket = app.socket(&ann).await;
    app.user("shop", "The Shop").await;
    let sent = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "shop", "recipientXCUserID": "ann", "type": 1002,
                   "body": "Your photo 📷", "data": "[{\"url\": \"http://x/1.jpg\", \"size\": 10}]"}),
        )
        .await;
    let message = &sent["messages"][0];
    assert_eq!(body_of(message), "Your photo 📷");
    let got = socket
        .expect("chat/sendMessage", |m| m["type"] == 1002)
        .await;
    assert_eq!(body_of(&got), "Your photo 📷");
    let data = confab::codec::decode(
        got["data"].as_str().unwrap(),
        got["localID"].as_str().unwrap(),
    )
    .unwrap();
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        data["items"][0]["url"], "http://x/1.jpg",
        "arrays are wrapped as items"
    );
    assert!(got["room"]["roomID"].as_str().unwrap().contains('-'));
    assert_eq!(got["room"]["name"], "The Shop");
}

#[tokio::test]
async fn long_bodies_are_split_and_only_the_last_part_shows_with_a_filter() {
    let app = TestApp::spawn().await;
    app.user("a", "A").await;
    app.user("b", "B").await;
    let body = "é".repeat(4000) + &"z".repeat(10);
    let sent = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "a", "recipientXCUserID": "b", "type": 1001, "body": body, "filterID": "f1"}),
        )
        .await;
    let parts = sent["messages"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(body_of(&parts[0]).chars().count(), 4000);
    assert_eq!(body_of(&parts[1]), "z".repeat(10));
    assert_eq!(
        (parts[0]["isHidden"].clone(), parts[1]["isHidden"].clone()),
        (json!(true), json!(false))
    );
    let without = app
        .ok("/v1/server/message/send", json!({"senderXCUserID": "a", "recipientXCUserID": "b", "type": 1001, "body": "x".repeat(4001)}))
        .await;
    let parts = without["messages"].as_array().unwrap();
    assert!(parts.iter().all(|p| p["isHidden"] == false));
    // Hidden parts never count as unread.
    let listed = app
        .ok("/v1/server/room/get_list_by_user", json!({"xcUserID": "b"}))
        .await;
    assert_eq!(listed["rooms"][0]["unreadCount"], 3);
}

#[tokio::test]
async fn a_retry_with_the_same_local_id_sends_nothing_new() {
    let app = TestApp::spawn().await;
    app.user("a", "A").await;
    app.user("b", "B").await;
    let request = json!({"senderXCUserID": "a", "recipientXCUserID": "b", "type": 3001, "body": "once", "localID": "order42paid"});
    let first = app.ok("/v1/server/message/send", request.clone()).await;
    let second = app.ok("/v1/server/message/send", request).await;
    assert_eq!(first["duplicate"], false);
    assert_eq!(second["duplicate"], true);
    assert_eq!(
        first["messages"][0]["messageID"],
        second["messages"][0]["messageID"]
    );
    let listed = app
        .ok("/v1/server/room/get_list_by_user", json!({"xcUserID": "b"}))
        .await;
    assert_eq!(listed["rooms"][0]["unreadCount"], 1);
}

#[tokio::test]
async fn bad_sends_are_refused_by_field() {
    let app = TestApp::spawn().await;
    app.user("a", "A").await;
    app.user("b", "B").await;
    app.room("R", &["b"]).await;
    let base = json!({"senderXCUserID": "a", "recipientXCUserID": "b", "type": 1001, "body": "x"});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (with("senderXCUserID", json!("")), "101"),
        (with("senderXCUserID", json!("ghost")), "101"),
        (with("recipientXCUserID", json!("ghost")), "102"),
        (with("xcRoomID", json!("R")), "102"),
        (with("type", json!(9001)), "104"),
        (with("type", json!("1001")), "104"),
        (with("body", json!("")), "105"),
        (with("data", json!(5)), "106"),
        (with("isHidden", json!("maybe")), "108"),
        (with("localID", json!("not-allowed!")), "109"),
    ];
    for (body, field) in cases {
        assert_error(
            &app.post("/v1/server/message/send", body.clone()).await,
            400,
            "40002",
            field,
        );
    }
    // The sender must be in the room.
    let not_member = json!({"senderXCUserID": "a", "xcRoomID": "R", "type": 1001, "body": "x"});
    assert_error(
        &app.post("/v1/server/message/send", not_member).await,
        400,
        "40002",
        "101",
    );
    let missing_room =
        json!({"senderXCUserID": "a", "xcRoomID": "nope", "type": 1001, "body": "x"});
    assert_error(
        &app.post("/v1/server/message/send", missing_room).await,
        404,
        "40401",
        "",
    );
    let listed = app
        .ok("/v1/server/room/get_list_by_user", json!({"xcUserID": "a"}))
        .await;
    assert_eq!(listed["rooms"], json!([]), "nothing was stored");
}
