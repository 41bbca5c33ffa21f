//! The access rules (`service/access.rs`): a client's `roomID` resolved for a user, and who
//! takes part in a room.

use super::{APP, MemoryTx, forbidden, run_now, team};
use crate::domain::{AppId, RoomId, RoomRef};
use crate::service::access::{find_room, resolve_room};
use crate::store::StoreError;

#[test]
fn a_personal_room_of_two_other_users_is_refused() {
    let mut tx = MemoryTx::default();
    let (ann, bob, eve) = (
        tx.user(APP, "ann"),
        tx.user(APP, "bob"),
        tx.user(APP, "eve"),
    );
    let room = RoomRef::Personal {
        a: ann.id.min(bob.id),
        b: ann.id.max(bob.id),
    };
    assert!(forbidden(run_now(find_room(&mut tx, APP, &eve, room))));
}

#[test]
fn a_personal_room_before_its_first_message_is_nothing_yet_and_is_created_once() {
    let mut tx = MemoryTx::default();
    let (ann, bob) = (tx.user(APP, "ann"), tx.user(APP, "bob"));
    let room = RoomRef::Personal {
        a: ann.id.min(bob.id),
        b: ann.id.max(bob.id),
    };
    assert_eq!(run_now(find_room(&mut tx, APP, &ann, room)), Ok(None));
    assert_eq!(
        run_now(resolve_room(&mut tx, APP, &ann, room, false)),
        Ok(None)
    );
    assert!(tx.rooms.is_empty(), "looking creates nothing");
    let created = run_now(resolve_room(&mut tx, APP, &ann, room, true)).unwrap();
    let again = run_now(resolve_room(&mut tx, APP, &bob, room, true)).unwrap();
    assert_eq!(created.map(|r| r.id), again.map(|r| r.id));
    assert_eq!(tx.rooms.len(), 1);
}

#[test]
fn a_personal_room_with_a_user_of_another_app_is_not_found() {
    let mut tx = MemoryTx::default();
    let ann = tx.user(APP, "ann");
    let stranger = tx.user(AppId(APP.0 + 1), "stranger");
    let room = RoomRef::Personal {
        a: ann.id.min(stranger.id),
        b: ann.id.max(stranger.id),
    };
    assert_eq!(
        run_now(resolve_room(&mut tx, APP, &ann, room, true)),
        Err(StoreError::RoomNotFound)
    );
    assert!(tx.rooms.is_empty());
}

#[test]
fn a_shared_room_admits_its_participants_and_refuses_the_others() {
    let mut t = team();
    let room = RoomRef::Shared(t.room.id);
    let found = run_now(find_room(&mut t.tx, APP, &t.member, room)).unwrap();
    assert_eq!(found.map(|r| r.id), Some(t.room.id));
    assert!(forbidden(run_now(find_room(
        &mut t.tx,
        APP,
        &t.outsider,
        room
    ))));
    assert_eq!(
        run_now(find_room(
            &mut t.tx,
            APP,
            &t.member,
            RoomRef::Shared(RoomId(t.room.id.0 + 1000))
        )),
        Err(StoreError::RoomNotFound)
    );
}
