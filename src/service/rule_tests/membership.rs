//! The rules of `service/membership.rs`, who is in a room and who runs it: the Server API's
//! participant changes (`server_change_participants`) and the client API's room operations
//! (`client_change`: create, rename, leave, participants, admins).

use super::{APP, MemoryTx, Team, actions, forbidden, hearers, ids, run_now, team};
use crate::domain::{RoomRef, RoomType, User, UserId};
use crate::service::membership::{self, ClientRoomChange};
use crate::store::{RoomChange, StoreError};

/// `actor`'s client room operation, run as the client API runs it.
fn client_change(
    tx: &mut MemoryTx,
    actor: &User,
    change: ClientRoomChange,
) -> Result<RoomChange, StoreError> {
    run_now(membership::client_change(tx, APP, actor.clone(), change))
}

/// A Server API participant change of room `team`.
fn server_change(
    tx: &mut MemoryTx,
    xc_user_ids: &[&str],
    add: bool,
) -> Result<RoomChange, StoreError> {
    let ids = xc_user_ids.iter().map(|&id| id.to_owned()).collect();
    run_now(membership::server_change_participants(
        tx,
        APP,
        "team".into(),
        ids,
        add,
    ))
}

// Server API participant changes (membership::server_change_participants).

#[test]
fn adding_an_existing_participant_appends_nothing() {
    let Team { mut tx, room, .. } = team();
    let before = tx.clone();

    let change = server_change(&mut tx, &["bob"], true).unwrap();
    assert!(change.messages.is_empty());
    assert_eq!(change.bundle.participants.len(), 2);
    assert!(tx.unchanged_since(&before));
    assert_eq!(tx.row(room.id).last_seq, 0);
}

#[test]
fn removing_a_user_who_is_not_a_participant_appends_nothing() {
    let Team { mut tx, .. } = team();
    let before = tx.clone();

    let change = server_change(&mut tx, &["carol"], false).unwrap();
    assert!(change.messages.is_empty());
    assert!(tx.unchanged_since(&before));
}

#[test]
fn each_user_added_gets_a_message_of_their_own_sent_by_the_server() {
    let Team {
        mut tx,
        room,
        outsider,
        ..
    } = team();
    let dave = tx.user(APP, "dave");

    let change = server_change(&mut tx, &["carol", "dave"], true).unwrap();
    assert_eq!(
        actions(&change.messages),
        ["room/addParticipant", "room/addParticipant"]
    );
    let targets: Vec<&str> = change
        .messages
        .iter()
        .map(|m| m.target.target_id.as_str())
        .collect();
    assert_eq!(targets, [outsider.id.to_string(), dave.id.to_string()]);
    assert!(change.messages.iter().all(|m| m.sender.is_none()));
    assert_eq!(
        change.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(change.bundle.participants.len(), 4);
    assert_eq!(tx.members_of(room.id).len(), 4);
    // One audience, read once after the change, shared by both messages.
    let [first, second] = &tx.feed[..] else {
        panic!("one feed item per message")
    };
    assert!(std::sync::Arc::ptr_eq(&first.audience, &second.audience));
    assert_eq!(first.audience.members.len(), 4);
}

#[test]
fn a_user_named_twice_is_changed_once() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        outsider,
    } = team();

    let added = server_change(&mut tx, &["carol", "carol"], true).unwrap();
    assert_eq!(actions(&added.messages), ["room/addParticipant"]);
    let removed = server_change(&mut tx, &["carol", "carol"], false).unwrap();
    assert_eq!(actions(&removed.messages), ["room/removeParticipant"]);
    let promoted = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Admins {
            room: RoomRef::Shared(room.id),
            user_ids: vec![member.id, member.id],
            promote: true,
        },
    )
    .unwrap();
    assert_eq!(actions(&promoted.messages), ["room/promoteAdmin"]);
    assert!(
        !tx.members_of(room.id)
            .iter()
            .any(|(id, _)| *id == outsider.id)
    );
}

#[test]
fn a_removed_participant_is_in_the_audience_of_the_message_that_removes_them() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = server_change(&mut tx, &["bob"], false).unwrap();
    assert_eq!(actions(&change.messages), ["room/removeParticipant"]);
    assert_eq!(change.messages[0].target.target_id, member.id.to_string());
    assert!(change.bundle.participants.iter().all(|p| p.id != member.id));
    assert_eq!(tx.members_of(room.id), [(admin.id, true)]);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.message.id, change.messages[0].id);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

#[test]
fn one_unknown_user_fails_the_whole_server_request_and_changes_nothing() {
    let Team { mut tx, .. } = team();
    let before = tx.clone();

    let result = server_change(&mut tx, &["carol", "ghost"], true);
    assert_eq!(result.unwrap_err(), StoreError::UnknownUser("ghost".into()));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_participant_added_to_a_room_with_history_starts_reading_at_its_present() {
    let Team {
        mut tx,
        room,
        admin,
        outsider,
        ..
    } = team();
    tx.post(&room, &admin, "m1", "hello");
    tx.post(&room, &admin, "m2", "again");

    server_change(&mut tx, &["carol"], true).unwrap();
    assert_eq!(
        tx.read_positions.get(&(outsider.id, room.id)),
        Some(&(2, 2))
    );
}

// Client room operations (membership::client_change).

#[test]
fn only_admins_manage_a_group() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        outsider,
    } = team();
    let shared = RoomRef::Shared(room.id);
    let before = tx.clone();

    for change in [
        ClientRoomChange::Rename {
            room: shared,
            name: "Mine".into(),
        },
        ClientRoomChange::Participants {
            room: shared,
            user_ids: vec![outsider.id],
            add: true,
        },
        ClientRoomChange::Participants {
            room: shared,
            user_ids: vec![admin.id],
            add: false,
        },
        ClientRoomChange::Admins {
            room: shared,
            user_ids: vec![member.id],
            promote: true,
        },
    ] {
        assert!(
            forbidden(client_change(&mut tx, &member, change.clone())),
            "{change:?}"
        );
        assert!(
            forbidden(client_change(&mut tx, &outsider, change.clone())),
            "{change:?}"
        );
        assert!(tx.unchanged_since(&before), "{change:?}");
    }

    let added = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Participants {
            room: shared,
            user_ids: vec![outsider.id],
            add: true,
        },
    )
    .unwrap();
    assert_eq!(actions(&added.messages), ["room/addParticipant"]);
    assert_eq!(
        added.messages[0].sender.as_ref().map(|s| s.id),
        Some(admin.id)
    );
}

#[test]
fn personal_rooms_have_nobody_to_manage() {
    let Team {
        mut tx,
        admin,
        member,
        outsider,
        ..
    } = team();
    let personal = RoomRef::Personal {
        a: admin.id.min(member.id),
        b: admin.id.max(member.id),
    };
    let before = tx.clone();

    for change in [
        ClientRoomChange::Rename {
            room: personal,
            name: "Us".into(),
        },
        ClientRoomChange::Participants {
            room: personal,
            user_ids: vec![outsider.id],
            add: true,
        },
        ClientRoomChange::Admins {
            room: personal,
            user_ids: vec![member.id],
            promote: true,
        },
    ] {
        assert!(
            forbidden(client_change(&mut tx, &admin, change.clone())),
            "{change:?}"
        );
    }
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_rule_locks_the_rooms_row_before_it_decides_on_it() {
    let Team {
        mut tx,
        room,
        member,
        ..
    } = team();

    let refused = client_change(
        &mut tx,
        &member,
        ClientRoomChange::Rename {
            room: RoomRef::Shared(room.id),
            name: "Mine".into(),
        },
    );
    assert!(forbidden(refused));
    assert_eq!(tx.locked, [room.id]);
    server_change(&mut tx, &["carol"], true).unwrap();
    assert_eq!(tx.locked, [room.id, room.id]);
}

#[test]
fn a_renamed_room_is_announced_under_its_new_name() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Rename {
            room: RoomRef::Shared(room.id),
            name: "Renamed".into(),
        },
    )
    .unwrap();
    assert_eq!(actions(&change.messages), ["room/update"]);
    assert_eq!(change.messages[0].room.name, "Renamed");
    assert_eq!(change.bundle.room.name, "Renamed");
    assert_eq!(tx.row(room.id).room.name, "Renamed");
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&admin, &member]));
}

#[test]
fn leaving_a_room_one_is_not_an_explicit_participant_of_is_refused_and_changes_nothing() {
    let mut tx = MemoryTx::default();
    let admin = tx.user(APP, "alice");
    let outsider = tx.user(APP, "carol");
    let mut agent = tx.user(APP, "agent");
    agent.role_code = "support".into();
    tx.users.last_mut().unwrap().1 = agent.clone();
    let room = tx.group("ticket", &["support".to_owned()]);
    tx.join(&room, &admin, true);
    let before = tx.clone();

    // Neither a user of the app who is not in the room nor one who is in it only by their
    // role is an explicit participant to remove.
    for user in [&outsider, &agent] {
        let result = client_change(
            &mut tx,
            user,
            ClientRoomChange::Leave(RoomRef::Shared(room.id)),
        );
        assert!(forbidden(result), "{}", user.xc_user_id);
    }
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_personal_room_cannot_be_left() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();
    let before = tx.clone();
    let personal = RoomRef::Personal {
        a: admin.id.min(member.id),
        b: admin.id.max(member.id),
    };

    assert!(forbidden(client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Leave(personal)
    )));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_leaver_hears_the_message_that_says_they_left() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &member,
        ClientRoomChange::Leave(RoomRef::Shared(room.id)),
    )
    .unwrap();
    assert_eq!(actions(&change.messages), ["room/leave"]);
    assert_eq!(
        change.messages[0].sender.as_ref().map(|s| s.id),
        Some(member.id)
    );
    assert_eq!(tx.members_of(room.id), [(admin.id, true)]);
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&admin, &member]));
}

#[test]
fn the_creator_of_a_group_is_its_admin_and_the_other_users_are_not() {
    let Team {
        mut tx,
        admin,
        member,
        outsider,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &outsider,
        ClientRoomChange::Create {
            name: "New".into(),
            room_type: RoomType::Group,
            user_ids: vec![admin.id, member.id],
        },
    )
    .unwrap();
    let room = &change.bundle.room;
    assert_eq!(change.bundle.admin_ids, [outsider.id]);
    let mut participants: Vec<UserId> = change.bundle.participants.iter().map(|u| u.id).collect();
    participants.sort_unstable();
    assert_eq!(participants, ids(&[&admin, &member, &outsider]));
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, false), (member.id, false), (outsider.id, true)]
    );
    assert_eq!(
        (room.name.as_str(), room.room_type),
        ("New", RoomType::Group)
    );
    assert_eq!(actions(&change.messages), ["room/create"]);
    assert_eq!(
        change.messages[0].sender.as_ref().map(|s| s.id),
        Some(outsider.id)
    );
    assert_eq!(
        hearers(tx.feed.last().unwrap()),
        ids(&[&admin, &member, &outsider])
    );
}

#[test]
fn creating_a_group_with_an_unknown_user_creates_nothing() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();
    let before = tx.clone();

    let result = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Create {
            name: "New".into(),
            room_type: RoomType::Group,
            user_ids: vec![member.id, UserId(9999)],
        },
    );
    assert_eq!(result.unwrap_err(), StoreError::UnknownUser("9999".into()));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_creator_who_names_themselves_or_a_user_twice_joins_once_and_stays_the_admin() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Create {
            name: "New".into(),
            room_type: RoomType::Group,
            user_ids: vec![member.id, admin.id, member.id],
        },
    )
    .unwrap();
    let room = change.bundle.room.id;
    assert_eq!(tx.members_of(room), [(admin.id, true), (member.id, false)]);
    assert_eq!(change.bundle.participants.len(), 2);
    assert_eq!(change.bundle.admin_ids, [admin.id]);
    assert_eq!(actions(&change.messages), ["room/create"]);
}

#[test]
fn promoting_an_admin_twice_appends_one_message() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    let promote = ClientRoomChange::Admins {
        room: RoomRef::Shared(room.id),
        user_ids: vec![member.id],
        promote: true,
    };

    let first = client_change(&mut tx, &admin, promote.clone()).unwrap();
    assert_eq!(actions(&first.messages), ["room/promoteAdmin"]);
    assert_eq!(first.messages[0].target.target_id, member.id.to_string());
    let second = client_change(&mut tx, &admin, promote).unwrap();
    assert!(second.messages.is_empty());
    let mut admins = second.bundle.admin_ids.clone();
    admins.sort_unstable();
    assert_eq!(admins, ids(&[&admin, &member]));
    assert_eq!(tx.row(room.id).last_seq, 1);
}

#[test]
fn promoting_a_user_who_is_not_a_participant_appends_nothing() {
    let Team {
        mut tx,
        room,
        admin,
        outsider,
        ..
    } = team();
    let before = tx.clone();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Admins {
            room: RoomRef::Shared(room.id),
            user_ids: vec![outsider.id],
            promote: true,
        },
    )
    .unwrap();
    assert!(change.messages.is_empty());
    assert!(tx.unchanged_since(&before));
}

#[test]
fn demoting_an_admin_appends_one_message_and_leaves_them_a_participant() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Admins {
            room: RoomRef::Shared(room.id),
            user_ids: vec![admin.id],
            promote: false,
        },
    )
    .unwrap();
    assert_eq!(actions(&change.messages), ["room/demoteAdmin"]);
    assert!(change.bundle.admin_ids.is_empty());
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, false), (member.id, false)]
    );
}
