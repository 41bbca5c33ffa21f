//! Starred messages (the user's own) and pinned messages (the room's, told to every member).

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, body_of, personal};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn stars_are_the_users_own_and_page_newest_first() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let room = personal(&ann, &bob);
    let mut anns = app.socket(&ann).await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        let m = anns
            .send_text(&room, &format!("l{n}"), &format!("m{n}"))
            .await;
        sent.push(m["messageID"].as_str().unwrap().to_owned());
    }
    let elsewhere = anns
        .send_text(&personal(&ann, &cat), "x1", "other room")
        .await;

    let starred = app
        .client_ok(
            "/v1/chat/message/star",
            &bob.access,
            json!({"roomID": room, "messageIDs": [sent[0], sent[2], elsewhere["messageID"], "999999"]}),
        )
        .await;
    assert_eq!(
        ids(&starred["starredMessageIDs"]),
        [sent[0].clone(), sent[2].clone()]
    );
    let listed = app
        .client_ok(
            "/v1/chat/message/get_starred_ids",
            &bob.access,
            json!({"roomID": room}),
        )
        .await;
    assert_eq!(
        ids(&listed["messageIDs"]),
        [sent[2].clone(), sent[0].clone()]
    );
    let anns_stars = app
        .client_ok(
            "/v1/chat/message/get_starred_ids",
            &ann.access,
            json!({"roomID": room}),
        )
        .await;
    assert_eq!(anns_stars, json!({"messageIDs": []}));

    let first = app
        .client_ok(
            "/v1/chat/message/get_starred_list",
            &bob.access,
            json!({"roomID": room, "pageNumber": 1, "pageSize": 1}),
        )
        .await;
    assert_eq!(first["hasMore"], true);
    assert_eq!(first["messages"][0]["messageID"], sent[2].as_str());
    assert_eq!(body_of(&first["messages"][0]), "m3");
    let second = app
        .client_ok(
            "/v1/chat/message/get_starred_list",
            &bob.access,
            json!({"roomID": room, "pageNumber": 2, "pageSize": 1}),
        )
        .await;
    assert_eq!(second["hasMore"], false);
    assert_eq!(second["messages"][0]["messageID"], sent[0].as_str());
    // The web SDK asks for 99,999 at a time.
    let all = app
        .client_ok(
            "/v1/chat/message/get_starred_list",
            &bob.access,
            json!({"roomID": room, "pageNumber": 1, "pageSize": 99999}),
        )
        .await;
    assert_eq!(all["messages"].as_array().unwrap().len(), 2);

    let unstarred = app
        .client_ok(
            "/v1/chat/message/unstar",
            &bob.access,
            json!({"roomID": room, "messageIDs": [sent[2]]}),
        )
        .await;
    assert_eq!(
        ids(&unstarred["unstarredMessageIDs"]),
        vec![sent[2].clone()]
    );
    let listed = app
        .client_ok(
            "/v1/chat/message/get_starred_ids",
            &bob.access,
            json!({"roomID": room}),
        )
        .await;
    assert_eq!(ids(&listed["messageIDs"]), vec![sent[0].clone()]);

    // Only a participant reads or stars a room's messages.
    let refused = app
        .client(
            "/v1/chat/message/star",
            &cat.access,
            json!({"roomID": room, "messageIDs": [sent[0]]}),
        )
        .await;
    assert_error(&refused, 403, "40301", "");
    let refused = app
        .client(
            "/v1/chat/message/get_starred_list",
            &bob.access,
            json!({"roomID": room, "pageNumber": 0}),
        )
        .await;
    assert_error(&refused, 400, "40002", "pageNumber");
}

#[tokio::test]
async fn pins_are_the_rooms_told_live_and_set_by_admins_of_client_groups() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let created = app
        .client_ok(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "Team", "type": 2, "userIDs": [bob.user_id, cat.user_id]}),
        )
        .await;
    let team = created["room"]["roomID"].as_str().unwrap().to_owned();
    let mut anns = app.socket(&ann).await;
    let mut cats = app.socket(&cat).await;
    let message = anns.send_text(&team, "p1", "remember this").await;
    let id = message["messageID"].as_str().unwrap().to_owned();

    let refused = app
        .client(
            "/v1/chat/message/pin",
            &bob.access,
            json!({"roomID": team, "messageIDs": [id]}),
        )
        .await;
    assert_error(&refused, 403, "40301", "");
    let pinned = app
        .client_ok(
            "/v1/chat/message/pin",
            &ann.access,
            json!({"roomID": team, "messageIDs": [id]}),
        )
        .await;
    assert_eq!(ids(&pinned["pinnedMessageIDs"]), vec![id.clone()]);
    let note = cats
        .expect("chat/sendMessage", |m| m["action"] == "message/pin")
        .await;
    assert_eq!(note["type"], 9001);
    assert_eq!(note["user"]["userID"], ann.user_id.as_str());
    let about: Value = serde_json::from_str(
        &confab::codec::decode(
            note["data"].as_str().unwrap(),
            note["localID"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(about["messageID"], id.as_str());
    assert_eq!(about["localID"], "p1");
    assert_eq!(about["createdTime"], message["created"]);
    assert_eq!(
        confab::codec::decode(about["body"].as_str().unwrap(), "p1").unwrap(),
        "remember this"
    );
    for who in [&bob, &cat] {
        let listed = app
            .client_ok(
                "/v1/chat/message/get_pinned_ids",
                &who.access,
                json!({"roomID": team}),
            )
            .await;
        assert_eq!(ids(&listed["pinnedMessageIDs"]), vec![id.clone()]);
    }
    let page = app
        .client_ok(
            "/v1/chat/message/get_pinned_list",
            &cat.access,
            json!({"roomID": team, "pageNumber": 1, "pageSize": 99999}),
        )
        .await;
    assert_eq!(page["hasMore"], false);
    assert_eq!(page["messages"][0]["messageID"], id.as_str());

    // Pinning again changes nothing and tells nobody; unpinning tells everyone.
    app.client_ok(
        "/v1/chat/message/pin",
        &ann.access,
        json!({"roomID": team, "messageIDs": [id]}),
    )
    .await;
    app.client_ok(
        "/v1/chat/message/unpin",
        &ann.access,
        json!({"roomID": team, "messageIDs": [id]}),
    )
    .await;
    let next = cats.expect("chat/sendMessage", |m| m["type"] == 9001).await;
    assert_eq!(
        next["action"], "message/unpin",
        "no second message/pin: {next}"
    );
    let listed = app
        .client_ok(
            "/v1/chat/message/get_pinned_ids",
            &bob.access,
            json!({"roomID": team}),
        )
        .await;
    assert_eq!(listed, json!({"pinnedMessageIDs": []}));

    // In a Server API room (no admins) any participant pins.
    app.room("ops", &["ann", "bob"]).await;
    let ops = app
        .client_ok(
            "/v1/client/room/get_by_xc_room_id",
            &bob.access,
            json!({"xcRoomID": "ops"}),
        )
        .await["room"]["roomID"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = anns.send_text(&ops, "o1", "status").await;
    let pinned = app
        .client_ok(
            "/v1/chat/message/pin",
            &bob.access,
            json!({"roomID": ops, "messageIDs": [m["messageID"]]}),
        )
        .await;
    assert_eq!(pinned["pinnedMessageIDs"], json!([m["messageID"]]));
}
