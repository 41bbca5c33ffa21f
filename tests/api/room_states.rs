//! A user's own room states: mute, pin, mark as unread. Per user, stored, told to the user's
//! other devices, cleared by reading (the unread mark), and all or nothing.

use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, assert_error, personal};

/// The caller's room states, each list sorted (pins keep their order).
async fn states(app: &TestApp, who: &Login) -> Value {
    let mut data = app
        .client_ok(
            "/v1/client/room/get_room_ids_with_state",
            &who.access,
            json!({}),
        )
        .await;
    for key in ["mutedRooms", "unreadRoomIDs"] {
        let list = data[key].as_array_mut().unwrap();
        list.sort_by_key(|v| v.to_string());
    }
    data
}

async fn group(app: &TestApp, owner: &Login, members: &[&Login]) -> String {
    let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
    let created = app
        .client_ok(
            "/v1/client/room/create",
            &owner.access,
            json!({"name": "Team", "type": 2, "userIDs": ids}),
        )
        .await;
    created["room"]["roomID"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn room_states_are_the_users_own_and_reach_their_other_devices() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let team = group(&app, &ann, &[&bob]).await;
    let pair = personal(&ann, &bob);
    let mut anns_phone = app.socket(&ann).await;
    let later = confab::domain::now_ms() + 3_600_000;

    let muted = app
        .client_ok(
            "/v1/client/room/mute",
            &ann.access,
            json!({"roomIDs": [team], "expiredAt": 0}),
        )
        .await;
    assert_eq!(muted, json!({"mutedRoomIDs": [team]}));
    let event = anns_phone.expect("room/mute", |_| true).await;
    assert_eq!(event["room"]["roomID"], team);
    assert_eq!(event["expiredAt"], 0);
    app.client_ok(
        "/v1/client/room/mute",
        &ann.access,
        json!({"roomIDs": [pair], "expiredAt": later}),
    )
    .await;
    let event = anns_phone.expect("room/mute", |_| true).await;
    assert_eq!(event["room"]["roomID"], pair);
    assert_eq!(event["expiredAt"], later);

    // Pins list newest first; the personal room (created by pinning it) is pinned second.
    app.client_ok(
        "/v1/client/room/pin",
        &ann.access,
        json!({"roomIDs": [team]}),
    )
    .await;
    anns_phone
        .expect("room/pin", |d| d["room"]["roomID"] == team)
        .await;
    // Pins are ordered by their time in milliseconds.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    app.client_ok(
        "/v1/client/room/pin",
        &ann.access,
        json!({"roomIDs": [pair]}),
    )
    .await;
    anns_phone
        .expect("room/pin", |d| d["room"]["roomID"] == pair)
        .await;
    let marked = app
        .client_ok(
            "/v1/client/room/mark_as_unread",
            &ann.access,
            json!({"roomIDs": [team]}),
        )
        .await;
    assert_eq!(marked, json!({"unreadRoomIDs": [team]}));
    anns_phone
        .expect("room/markAsUnread", |d| d["room"]["roomID"] == team)
        .await;

    let mut expected_muted = vec![
        json!({"roomID": team, "expiredAt": 0}),
        json!({"roomID": pair, "expiredAt": later}),
    ];
    expected_muted.sort_by_key(|v| v.to_string());
    assert_eq!(
        states(&app, &ann).await,
        json!({"clearedRooms": [], "pinnedRoomIDs": [pair, team],
               "mutedRooms": expected_muted, "unreadRoomIDs": [team]})
    );
    assert_eq!(
        app.client_ok(
            "/v1/client/room/get_pinned_room_ids",
            &ann.access,
            json!({})
        )
        .await,
        json!({"pinnedRoomIDs": [pair, team]})
    );
    assert_eq!(
        app.client_ok(
            "/v1/client/room/get_unread_room_ids",
            &ann.access,
            json!({})
        )
        .await,
        json!({"unreadRoomIDs": [team]})
    );
    // The other member sees none of it.
    assert_eq!(
        states(&app, &bob).await,
        json!({"clearedRooms": [], "pinnedRoomIDs": [], "mutedRooms": [], "unreadRoomIDs": []})
    );

    // Reading the room clears the unread mark, and the other devices hear of it.
    let mut bobs = app.socket(&bob).await;
    let sent = bobs.send_text(&team, "l1", "hello").await;
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &ann.access,
        json!({"messageIDs": [sent["messageID"]]}),
    )
    .await;
    anns_phone
        .expect("room/markAsRead", |d| d["room"]["roomID"] == team)
        .await;
    assert_eq!(
        app.client_ok(
            "/v1/client/room/get_unread_room_ids",
            &ann.access,
            json!({})
        )
        .await,
        json!({"unreadRoomIDs": []})
    );

    // Unmuting: the event has no expiredAt, which Android reads as an unmute.
    let unmuted = app
        .client_ok(
            "/v1/client/room/unmute",
            &ann.access,
            json!({"roomIDs": [team]}),
        )
        .await;
    assert_eq!(unmuted, json!({"unmutedRoomIDs": [team]}));
    let event = anns_phone.expect("room/unmute", |_| true).await;
    assert_eq!(event["room"]["roomID"], team);
    assert!(event.get("expiredAt").is_none(), "{event}");
    app.client_ok(
        "/v1/client/room/unpin",
        &ann.access,
        json!({"roomIDs": [pair]}),
    )
    .await;
    anns_phone
        .expect("room/unpin", |d| d["room"]["roomID"] == pair)
        .await;

    // A mute past its expiry is over.
    app.client_ok(
        "/v1/client/room/mute",
        &ann.access,
        json!({"roomIDs": [team], "expiredAt": 1000}),
    )
    .await;
    assert_eq!(
        app.client_ok("/v1/client/room/get_muted_room_ids", &ann.access, json!({}))
            .await,
        json!({"mutedRooms": [{"roomID": pair, "expiredAt": later}]})
    );

    // Stored: a restarted server still knows.
    let app = app.restart().await;
    assert_eq!(
        states(&app, &ann).await,
        json!({"clearedRooms": [], "pinnedRoomIDs": [team],
               "mutedRooms": [{"roomID": pair, "expiredAt": later}], "unreadRoomIDs": []})
    );
}

#[tokio::test]
async fn a_room_state_change_is_all_or_nothing_and_only_for_rooms_the_user_sees() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let anns = group(&app, &ann, &[&bob]).await;
    let cats = group(&app, &cat, &[]).await;

    let refused = app
        .client(
            "/v1/client/room/pin",
            &ann.access,
            json!({"roomIDs": [anns, cats]}),
        )
        .await;
    assert_error(&refused, 403, "40301", "");
    for (body, field) in [
        (json!({"roomIDs": ["x"]}), "roomIDs"),
        (json!({"roomIDs": []}), "roomIDs"),
        (json!({}), "roomIDs"),
        (json!({"roomIDs": [anns], "expiredAt": -1}), "expiredAt"),
    ] {
        let refused = app.client("/v1/client/room/mute", &ann.access, body).await;
        assert_error(&refused, 400, "40002", field);
    }
    let unknown = app
        .client(
            "/v1/client/room/mute",
            &ann.access,
            json!({"roomIDs": ["g999999"]}),
        )
        .await;
    assert_error(&unknown, 404, "40401", "");
    assert_eq!(
        states(&app, &ann).await,
        json!({"clearedRooms": [], "pinnedRoomIDs": [], "mutedRooms": [], "unreadRoomIDs": []})
    );

    // A room the user left keeps its state's row but is no longer listed.
    app.client_ok(
        "/v1/client/room/pin",
        &bob.access,
        json!({"roomIDs": [anns]}),
    )
    .await;
    assert_eq!(states(&app, &bob).await["pinnedRoomIDs"], json!([anns]));
    app.client_ok(
        "/v1/client/room/leave",
        &bob.access,
        json!({"roomID": anns}),
    )
    .await;
    assert_eq!(states(&app, &bob).await["pinnedRoomIDs"], json!([]));
}
