//! Message info: who a message reached and who read it, for explicit and role participants,
//! consistent with read positions (and so with unread counts).

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

fn people(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["xcUserID"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn message_info_lists_readers_and_recipients_with_their_times() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let dan = app.login("dan", "Dan").await;
    let eve = app.login("eve", "Eve").await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "dan", "fullName": "Dan", "userRoleCode": "agent"}),
    )
    .await;
    let bundle = app
        .ok(
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": "desk", "type": 2, "name": "Desk",
                   "participantXCUserIDs": ["ann", "bob", "cat"], "participantUserRoles": ["agent"]}),
        )
        .await;
    let room = bundle["room"]["roomID"].as_str().unwrap().to_owned();
    let mut anns = app.socket(&ann).await;
    let first = anns.send_text(&room, "i1", "first").await;
    let second = anns.send_text(&room, "i2", "second").await;
    let (m1, m2) = (
        first["messageID"].as_str().unwrap().to_owned(),
        second["messageID"].as_str().unwrap().to_owned(),
    );
    let details = |id: &str| {
        let (app, token, id) = (&app, ann.access.clone(), id.to_owned());
        async move {
            app.client_ok(
                "/v1/chat/message/get_details",
                &token,
                json!({"messageID": id}),
            )
            .await
        }
    };

    let none = details(&m1).await;
    assert_eq!(none["message"]["messageID"], m1.as_str());
    assert_eq!(none["readBy"], json!([]));
    assert_eq!(none["deliveredTo"], json!([]));

    app.client_ok(
        "/v1/chat/message/feedback/delivered",
        &bob.access,
        json!({"messageIDs": [m1]}),
    )
    .await;
    let delivered = details(&m1).await;
    assert_eq!(people(&delivered["deliveredTo"]), ["bob"]);
    assert!(
        delivered["deliveredTo"][0]["deliveredTime"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(delivered["deliveredTo"][0]["readTime"], Value::Null);
    assert_eq!(delivered["deliveredTo"][0]["userID"], bob.user_id.as_str());

    // Reading the second message reads the first too; the role participant reads the first.
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &bob.access,
        json!({"messageIDs": [m2]}),
    )
    .await;
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &dan.access,
        json!({"messageIDs": [m1]}),
    )
    .await;
    // Replying reads what came before.
    let mut cats = app.socket(&cat).await;
    let reply = cats.send_text(&room, "c1", "on it").await;

    let read = details(&m1).await;
    let mut readers = people(&read["readBy"]);
    readers.sort();
    assert_eq!(readers, ["bob", "cat", "dan"]);
    assert_eq!(read["deliveredTo"], json!([]));
    let by = |who: &str| {
        read["readBy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["xcUserID"] == who)
            .unwrap()
            .clone()
    };
    assert_eq!(by("cat")["readTime"], reply["created"]);
    assert!(
        by("bob")["readTime"].as_i64().unwrap() >= by("bob")["deliveredTime"].as_i64().unwrap()
    );
    assert!(by("dan")["readTime"].as_i64().unwrap() > 0);
    let mut second_readers = people(&details(&m2).await["readBy"]);
    second_readers.sort();
    assert_eq!(second_readers, ["bob", "cat"]);

    for (id, count) in [(&m1, 3), (&m2, 2)] {
        let total = app
            .client_ok(
                "/v1/chat/message/get_total_read",
                &bob.access,
                json!({"messageID": id}),
            )
            .await;
        assert_eq!(total, json!({"count": count}));
    }
    // Consistent with unread counts: Bob and Dan have nothing unread from Ann.
    let list = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "bob", "xcRoomIDs": ["desk"]}),
        )
        .await;
    assert_eq!(
        list["rooms"][0]["unreadCount"], 1,
        "cat's reply is unread: {list}"
    );

    let outsider = app
        .client(
            "/v1/chat/message/get_details",
            &eve.access,
            json!({"messageID": m1}),
        )
        .await;
    assert_error(&outsider, 403, "40301", "");
    let unknown = app
        .client(
            "/v1/chat/message/get_total_read",
            &ann.access,
            json!({"messageID": "999999"}),
        )
        .await;
    assert_error(&unknown, 403, "40301", "");
    let bad = app
        .client(
            "/v1/chat/message/get_details",
            &ann.access,
            json!({"messageID": "x"}),
        )
        .await;
    assert_error(&bad, 400, "40002", "messageID");
}
