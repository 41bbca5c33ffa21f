//! `new_and_updated`: what a device hears about after its last sync, on every backend.

use serde_json::{Value, json};

use crate::helpers::{Login, Socket, TestApp, body_of, personal};

/// Marks messages read by `reader`.
async fn read(app: &TestApp, reader: &Login, ids: &[&Value]) {
    app.client_ok(
        "/v1/chat/message/feedback/read",
        &reader.access,
        json!({ "messageIDs": ids }),
    )
    .await;
}

/// Sends `m<n>` for each `n`, collecting the message IDs.
async fn send(socket: &mut Socket, room: &str, ns: std::ops::Range<u32>, ids: &mut Vec<Value>) {
    for n in ns {
        let sent = socket
            .send_text(room, &format!("L{n}"), &format!("m{n}"))
            .await;
        ids.push(sent["messageID"].clone());
    }
}

/// The bodies a sync returns, in its order.
async fn sync(app: &TestApp, who: &Login) -> (Vec<String>, Value) {
    let synced = app
        .client_ok("/v1/chat/message/new_and_updated", &who.access, json!(""))
        .await;
    let bodies = synced["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(body_of)
        .collect();
    (bodies, synced)
}

#[tokio::test]
async fn a_sync_returns_each_message_appended_or_changed_since_the_last_once_newest_change_first() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    // Both devices sync before anything happens.
    for who in [&ann, &bob] {
        app.client_ok(
            "/v1/chat/message/room_list_and_unread",
            &who.access,
            json!(""),
        )
        .await;
    }
    let mut socket = app.socket(&ann).await;
    let mut ids = Vec::new();
    send(&mut socket, &room, 0..4, &mut ids).await;
    // m0 changes before the sync, so the sync covers it.
    read(&app, &bob, &[&ids[0]]).await;
    let (first, _) = sync(&app, &bob).await;
    assert_eq!(first, vec!["m0", "m3", "m2", "m1"], "newest change first");

    // After the sync: two old messages change (one of them the newest before the sync, which
    // a walk back from the newest message passes), two are appended, one of those changes too.
    read(&app, &bob, &[&ids[1]]).await;
    read(&app, &bob, &[&ids[3]]).await;
    send(&mut socket, &room, 4..6, &mut ids).await;
    read(&app, &bob, &[&ids[5]]).await;

    // On SQLite, every message becomes one from before migration 0003, which has no `born`:
    // m4 must still count as appended after the sync.
    if let Some(path) = app.database_url().strip_prefix("sqlite://") {
        let db = rusqlite::Connection::open(path).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        assert_eq!(
            db.execute("UPDATE messages SET born = NULL", []).unwrap(),
            6
        );
    }
    let (bodies, synced) = sync(&app, &bob).await;
    assert_eq!(
        bodies,
        vec!["m5", "m4", "m3", "m1"],
        "each once, newest change first"
    );
    let m5 = &synced["messages"][0];
    assert_eq!(m5["isRead"], true, "m5 as it is now, not as appended");
    assert_eq!(sync(&app, &bob).await.0, Vec::<String>::new());

    // The sender's device hears of the receipts and of its own messages since its last sync.
    let (for_ann, _) = sync(&app, &ann).await;
    assert_eq!(for_ann.len(), 6, "every message since ann's first sync");
    read(&app, &bob, &[&ids[2]]).await;
    assert_eq!(sync(&app, &ann).await.0, vec!["m2"]);
}
