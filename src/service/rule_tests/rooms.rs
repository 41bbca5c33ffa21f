//! The rules of `service/rooms.rs`, the Server API's own room writes: a room's lock
//! (`set_lock`, through the [`lock`] fixture) and the room upsert (`upsert_room`), which
//! creates a room or updates the one with its `xcRoomID`.

use super::{APP, MemoryTx, Team, actions, hearers, ids, lock, run_now, team};
use crate::domain::message::SYSTEM_MESSAGE_TYPE;
use crate::domain::{FeedKind, RoomType, UserId};
use crate::service::rooms::upsert_room;
use crate::store::{RoomChange, RoomUpsert, StoreError};

// Locking (rooms::set_lock).

#[test]
fn locking_twice_changes_nothing_and_appends_nothing_the_second_time() {
    let Team {
        mut tx,
        room,
        admin,
        ..
    } = team();

    let first = lock(&mut tx, "team", "alice", true).unwrap();
    assert!(first.changed);
    assert_eq!(actions(&first.messages), ["room/lock"]);
    let before = tx.clone();

    let second = lock(&mut tx, "team", "alice", true).unwrap();
    assert!(!second.changed);
    assert!(second.messages.is_empty());
    assert!(tx.unchanged_since(&before));
    assert_ne!(tx.row(room.id).room.locked_time, 0);
    assert_eq!(tx.row(room.id).locked_by, Some(admin.id));
}

#[test]
fn unlocking_a_room_that_is_not_locked_changes_nothing() {
    let Team { mut tx, .. } = team();
    let before = tx.clone();

    let change = lock(&mut tx, "team", "bob", false).unwrap();
    assert!(!change.changed);
    assert!(change.messages.is_empty());
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_lock_is_stored_with_who_set_it_and_the_whole_room_hears_it_from_them() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = lock(&mut tx, "team", "bob", true).unwrap();
    let lock = &change.messages[0];
    assert_eq!(lock.sender.as_ref().map(|s| s.id), Some(member.id));
    assert_eq!(lock.kind, SYSTEM_MESSAGE_TYPE);
    assert_eq!(tx.row(room.id).locked_by, Some(member.id));
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::New);
    assert_eq!(item.message.id, lock.id);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

#[test]
fn unlocking_a_locked_room_clears_the_lock_and_says_so() {
    let Team { mut tx, room, .. } = team();
    lock(&mut tx, "team", "alice", true).unwrap();

    let change = lock(&mut tx, "team", "bob", false).unwrap();
    assert!(change.changed);
    assert_eq!(actions(&change.messages), ["room/unlock"]);
    assert_eq!(tx.row(room.id).room.locked_time, 0);
    assert_eq!(tx.row(room.id).locked_by, None);
}

#[test]
fn a_missing_room_is_reported_before_an_unknown_user() {
    let Team { mut tx, .. } = team();
    let before = tx.clone();

    let missing = lock(&mut tx, "no-such-room", "nobody", true);
    assert_eq!(missing.unwrap_err(), StoreError::RoomNotFound);
    let unknown = lock(&mut tx, "team", "nobody", true);
    assert_eq!(
        unknown.unwrap_err(),
        StoreError::UnknownUser("nobody".into())
    );
    assert!(tx.unchanged_since(&before));
}

// The Server API's room upsert (rooms::upsert_room).

fn upsert(xc_room_id: &str, room_type: RoomType, name: &str, users: &[&str]) -> RoomUpsert {
    RoomUpsert {
        xc_room_id: xc_room_id.into(),
        room_type,
        name: name.into(),
        photo_thumbnail: None,
        photo_fullsize: None,
        tags: None,
        participant_xc_user_ids: users.iter().map(|&u| u.to_owned()).collect(),
        participant_roles: None,
    }
}

/// Runs the upsert rule on `tx`.
fn run_upsert(tx: &mut MemoryTx, up: RoomUpsert) -> Result<RoomChange, StoreError> {
    run_now(upsert_room(tx, APP, up))
}

#[test]
fn a_new_room_lists_each_named_user_once_with_no_admin_and_the_server_announces_it() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();

    let new = upsert(
        "order-7",
        RoomType::Transaction,
        "Order 7",
        &["bob", "alice", "bob"],
    );
    let change = run_upsert(&mut tx, new).unwrap();
    let participants: Vec<UserId> = change.bundle.participants.iter().map(|u| u.id).collect();
    assert_eq!(participants, ids(&[&admin, &member]));
    assert!(change.bundle.admin_ids.is_empty());
    assert_eq!(actions(&change.messages), ["room/create"]);
    assert!(change.messages[0].sender.is_none());
    assert_eq!(
        tx.members_of(change.bundle.room.id),
        [(admin.id, false), (member.id, false)]
    );
}

#[test]
fn an_existing_room_cannot_change_its_type_and_nothing_changes() {
    let Team { mut tx, room, .. } = team();
    let before = tx.clone();

    let retyped = upsert("team", RoomType::Channel, "Renamed", &[]);
    let result = run_upsert(&mut tx, retyped);
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(tx.unchanged_since(&before));
    assert_eq!(tx.row(room.id).room.name, "Team");
}

#[test]
fn an_existing_room_takes_the_given_fields_keeps_the_others_and_appends_room_update() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    tx.rooms[0].room.tags = vec!["kept".into()];

    let mut update = upsert("team", RoomType::Group, "Renamed", &["carol"]);
    update.photo_thumbnail = Some("thumb.png".into());
    let change = run_upsert(&mut tx, update).unwrap();
    assert_eq!(actions(&change.messages), ["room/update"]);
    assert!(change.messages[0].sender.is_none());
    let updated = &change.bundle.room;
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.photo_thumbnail, "thumb.png");
    assert_eq!(updated.tags, ["kept"]);
    // The participants of an upsert are for new rooms only.
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, true), (member.id, false)]
    );
}
