//! The storage contract, checked through the `Store` trait itself on the selected backend
//! (`CONFAB_TEST_BACKEND`): what every implementation must guarantee whatever its locking. Use
//! cases whose rule lives in the service (run by the store in one transaction) are driven
//! through the service over the same store.

use std::collections::HashMap;
use std::sync::Arc;

use confab::config::DatabaseArgs;
use confab::domain::model::{ForwardFrom, Quote, ReplyTo};
use confab::domain::secret::KeyKind;
use confab::domain::{AppId, NewMessage, RoomType, Target, User};
use confab::realtime::Fanout;
use confab::service::{ClientSession, Destination, Origin, Service, ServiceConfig, ServiceError};
use confab::store::{FeedItem, FeedKind, RoomUpsert, Store, UserProfile};
use tokio::sync::mpsc;

use crate::helpers::TestDb;

struct Opened {
    store: Arc<dyn Store>,
    service: Service,
    feed: mpsc::Receiver<FeedItem>,
    app: AppId,
    _db: TestDb,
}

async fn open() -> Opened {
    let db = TestDb::new().await;
    let (tx, feed) = mpsc::channel(100_000);
    let store = confab::app::open_store(&DatabaseArgs::new(db.url()), Some(tx))
        .await
        .unwrap();
    let key = store
        .create_api_key("contract", KeyKind::Server, "k1", [7; 32])
        .await
        .unwrap();
    Opened {
        service: Service::new(store.clone(), Fanout::default(), ServiceConfig::default()),
        store,
        feed,
        app: key.app_id,
        _db: db,
    }
}

async fn user(store: &Arc<dyn Store>, app: AppId, xc: &str) -> User {
    store
        .upsert_user(
            app,
            UserProfile {
                xc_user_id: xc.into(),
                fullname: xc.to_uppercase(),
                ..UserProfile::default()
            },
        )
        .await
        .unwrap()
}

fn upsert(xc_room_id: &str, participants: &[&str]) -> RoomUpsert {
    RoomUpsert {
        xc_room_id: xc_room_id.into(),
        room_type: RoomType::Group,
        name: "Room".into(),
        photo_thumbnail: None,
        photo_fullsize: None,
        tags: None,
        participant_xc_user_ids: participants.iter().map(|p| (*p).to_owned()).collect(),
        participant_roles: None,
    }
}

fn text(sender: &User, local_id: &str) -> NewMessage {
    NewMessage {
        sender: Some(sender.id),
        local_id: local_id.into(),
        kind: 1001,
        body: local_id.into(),
        data: String::new(),
        filter_id: String::new(),
        is_hidden: false,
        quote: Quote::default(),
        reply_to: ReplyTo::default(),
        forward_from: ForwardFrom::default(),
        action: String::new(),
        target: Target::default(),
    }
}

#[tokio::test]
async fn concurrent_creates_of_one_room_make_one_room() {
    let o = open().await;
    user(&o.store, o.app, "ann").await;
    let creates = (0..12).map(|_| {
        o.service
            .create_or_update_room(o.app, upsert("R", &["ann"]))
    });
    let changes = futures_util::future::join_all(creates).await;
    let ids: std::collections::HashSet<_> = changes
        .into_iter()
        .map(|c| c.unwrap().bundle.room.id)
        .collect();
    assert_eq!(ids.len(), 1);
    let bundle = o.store.room_by_xc_id(o.app, "R").await.unwrap();
    assert_eq!(bundle.participants.len(), 1);
}

#[tokio::test]
async fn concurrent_senders_get_gapless_sequences_published_once_each() {
    let mut o = open().await;
    let mut senders = Vec::new();
    for i in 0..4 {
        senders.push(user(&o.store, o.app, &format!("u{i}")).await);
    }
    let ids: Vec<String> = senders.iter().map(|u| u.xc_user_id.clone()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    o.service
        .create_or_update_room(o.app, upsert("R", &ids))
        .await
        .unwrap();
    let mut sends = Vec::new();
    for round in 0..10 {
        for sender in &senders {
            let service = o.service.clone();
            let (app, sender) = (o.app, sender.clone());
            sends.push(tokio::spawn(async move {
                let local_id = format!("{}-{round}", sender.xc_user_id);
                service
                    .send_parts(
                        app,
                        sender.clone(),
                        Destination::XcRoom("R".into()),
                        vec![text(&sender, &local_id)],
                        Origin::Client,
                    )
                    .await
            }));
        }
    }
    let mut seqs = Vec::new();
    for send in sends {
        let (messages, duplicate) = send.await.unwrap().unwrap();
        assert!(!duplicate);
        seqs.push(messages[0].seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=41).collect::<Vec<_>>(), "after room/create at 1");

    let mut published: HashMap<i64, usize> = HashMap::new();
    while let Ok(item) = o.feed.try_recv() {
        if item.kind == FeedKind::New {
            *published.entry(item.message.seq).or_default() += 1;
        }
    }
    assert_eq!(published.len(), 41, "every append published");
    assert!(published.values().all(|n| *n == 1), "once each");
}

#[tokio::test]
async fn a_repeated_local_id_stores_nothing_even_when_concurrent() {
    let o = open().await;
    let ann = user(&o.store, o.app, "ann").await;
    o.service
        .create_or_update_room(o.app, upsert("R", &["ann"]))
        .await
        .unwrap();
    let sends = (0..6).map(|_| {
        o.service.send_parts(
            o.app,
            ann.clone(),
            Destination::XcRoom("R".into()),
            vec![text(&ann, "same")],
            Origin::Client,
        )
    });
    let results = futures_util::future::join_all(sends).await;
    let stored: std::collections::HashSet<_> = results
        .iter()
        .map(|r| r.as_ref().unwrap().0[0].id)
        .collect();
    assert_eq!(stored.len(), 1, "one message");
    assert_eq!(
        results.iter().filter(|r| !r.as_ref().unwrap().1).count(),
        1,
        "exactly one send stored it"
    );
}

#[tokio::test]
async fn concurrent_participant_changes_lose_no_update() {
    let o = open().await;
    let mut names = Vec::new();
    for i in 0..20 {
        names.push(user(&o.store, o.app, &format!("p{i}")).await.xc_user_id);
    }
    o.service
        .create_or_update_room(o.app, upsert("R", &[]))
        .await
        .unwrap();
    let adds = names
        .iter()
        .map(|name| o.service.add_participants(o.app, "R", vec![name.clone()]));
    for added in futures_util::future::join_all(adds).await {
        added.unwrap();
    }
    let bundle = o.store.room_by_xc_id(o.app, "R").await.unwrap();
    assert_eq!(bundle.participants.len(), 20);
    let removes = names.iter().take(10).map(|name| {
        o.service
            .remove_participants(o.app, "R", vec![name.clone()])
    });
    for removed in futures_util::future::join_all(removes).await {
        removed.unwrap();
    }
    let bundle = o.store.room_by_xc_id(o.app, "R").await.unwrap();
    assert_eq!(bundle.participants.len(), 10);
}

#[tokio::test]
async fn a_large_write_commits_or_changes_nothing_beside_small_ones() {
    use confab::store::{Joining, RowLock, StoreError, WriteSize};
    let o = open().await;
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(user(&o.store, o.app, &format!("l{i}")).await.id);
    }
    let small = user(&o.store, o.app, "small").await;
    o.service
        .create_or_update_room(o.app, upsert("R", &[]))
        .await
        .unwrap();
    let app = o.app;
    // Adds every user, then fails (`fail`) or not: the large write runs in a transaction of
    // its own, and a failure there rolls back all of it, while small writes go on beside it.
    let large = |fail: bool| {
        let ids = ids.clone();
        o.store.sized_transaction(WriteSize::Large, move |tx| {
            let ids = ids.clone();
            Box::pin(async move {
                let room = tx.room_by_xc_id(app, "R", RowLock::Update).await?.unwrap();
                for id in ids {
                    tx.add_member(room.id, id, false, 1, Joining::ExistingRoom)
                        .await?;
                }
                if fail {
                    return Err(StoreError::Forbidden("refused after the changes".into()));
                }
                Ok(())
            })
        })
    };
    let (failed, added) = tokio::join!(
        large(true),
        o.service
            .add_participants(o.app, "R", vec![small.xc_user_id.clone()])
    );
    assert!(
        matches!(failed, Err(StoreError::Forbidden(_))),
        "{failed:?}"
    );
    added.unwrap();
    let bundle = o.store.room_by_xc_id(o.app, "R").await.unwrap();
    assert_eq!(
        bundle.participants.len(),
        1,
        "only the small write's participant"
    );
    large(false).await.unwrap();
    let bundle = o.store.room_by_xc_id(o.app, "R").await.unwrap();
    assert_eq!(bundle.participants.len(), 101);
}

#[tokio::test]
async fn read_positions_only_move_forward_and_refusals_change_nothing() {
    let o = open().await;
    let ann = user(&o.store, o.app, "ann").await;
    let bob = user(&o.store, o.app, "bob").await;
    o.service
        .create_or_update_room(o.app, upsert("R", &["ann", "bob"]))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let (sent, _) = o
            .service
            .send_parts(
                o.app,
                ann.clone(),
                Destination::XcRoom("R".into()),
                vec![text(&ann, &format!("m{i}"))],
                Origin::Client,
            )
            .await
            .unwrap();
        ids.push(sent[0].id);
    }
    // Read the newest, then an older one: the position stays at the newest.
    let bob_session = ClientSession {
        app: o.app,
        session: 0,
        device: "d".into(),
        user: bob.clone(),
    };
    o.service
        .mark_messages(&bob_session, vec![ids[4]], true)
        .await
        .unwrap();
    o.service
        .mark_messages(&bob_session, vec![ids[1]], true)
        .await
        .unwrap();
    let (_, rooms) = o.store.rooms_of_user(o.app, "bob", None).await.unwrap();
    assert_eq!(rooms[0].unread_count, 0);

    let refused = o
        .service
        .add_participants(o.app, "R", vec!["nobody".into()])
        .await;
    assert_eq!(refused, Err(ServiceError::UnknownUser("nobody".into())));
    let bundle = o.store.room_by_xc_id(o.app, "R").await.unwrap();
    assert_eq!(bundle.participants.len(), 2);
}
