//! Room management through the client API: groups created by users, their admins, renames
//! and leaving. Admin rights are checked here; Server API rooms have no admins.

use rusqlite::{Connection, OptionalExtension, params};

use super::append::append_message;
use super::rooms::{
    NewRoom, add_first_member, bundle, change_members, insert_shared_room, remove_member,
    room_by_id, unique_users,
};
use super::users::user_in_app;
use crate::domain::{AppId, Room, RoomRef, RoomType, SystemAction, User, UserId, now_ms};
use crate::store::{FeedItem, RoomChange, StoreError};

/// Client API: creates a group with the creator as its admin.
pub(super) fn create_group(
    conn: &Connection,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    creator: &User,
    name: &str,
    room_type: RoomType,
    user_ids: &[UserId],
) -> Result<RoomChange, StoreError> {
    let others = users_in_app(conn, app, user_ids)?;
    let new_room = NewRoom::client_group(name, room_type);
    let id = insert_shared_room(conn, app, &new_room)?;
    let now = now_ms();
    add_first_member(conn, id, creator.id, true, now)?;
    for user in &others {
        add_first_member(conn, id, user.id, false, now)?;
    }
    let room = room_by_id(conn, app, id)?;
    let message = append_message(
        conn,
        feed,
        app,
        &room,
        SystemAction::RoomCreate.message(Some(creator.id), None),
        &[],
    )?;
    Ok(RoomChange {
        bundle: bundle(conn, room)?,
        messages: vec![message],
    })
}

/// Users by platform ID, all of them in `app`; an unknown ID fails the whole call.
pub(super) fn users_in_app(
    conn: &Connection,
    app: AppId,
    ids: &[UserId],
) -> Result<Vec<User>, StoreError> {
    ids.iter()
        .map(|id| {
            user_in_app(conn, app, *id)?.ok_or_else(|| StoreError::UnknownUser(id.to_string()))
        })
        .collect()
}

fn is_admin(conn: &Connection, room: i64, user: UserId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT is_admin FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
        .query_row(params![room, user], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

fn shared_room_as_admin(
    conn: &Connection,
    app: AppId,
    actor: &User,
    room: RoomRef,
) -> Result<Room, StoreError> {
    let RoomRef::Shared(id) = room else {
        return Err(StoreError::Forbidden(
            "personal rooms have no participants to manage".into(),
        ));
    };
    let room = room_by_id(conn, app, id)?;
    if !is_admin(conn, room.id, actor.id)? {
        return Err(StoreError::Forbidden(
            "only the room's admins may do this".into(),
        ));
    }
    Ok(room)
}

/// Client API: an admin adds or removes participants by user ID.
pub(super) fn client_change_participants(
    conn: &Connection,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    actor: &User,
    room: RoomRef,
    user_ids: &[UserId],
    add: bool,
) -> Result<RoomChange, StoreError> {
    let room = shared_room_as_admin(conn, app, actor, room)?;
    let users = users_in_app(conn, app, user_ids)?;
    change_members(conn, feed, app, room, Some(actor.id), users, add)
}

/// Client API: an admin promotes or demotes participants.
pub(super) fn change_admins(
    conn: &Connection,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    actor: &User,
    room: RoomRef,
    user_ids: &[UserId],
    promote: bool,
) -> Result<RoomChange, StoreError> {
    let room = shared_room_as_admin(conn, app, actor, room)?;
    let users = users_in_app(conn, app, user_ids)?;
    let action = if promote {
        SystemAction::PromoteAdmin
    } else {
        SystemAction::DemoteAdmin
    };
    let mut messages = Vec::new();
    for user in unique_users(users) {
        let changed = conn
            .prepare_cached(
                "UPDATE room_members SET is_admin = ?3 \
                 WHERE room_id = ?1 AND user_id = ?2 AND is_admin <> ?3",
            )?
            .execute(params![room.id, user.id, promote])?;
        if changed == 1 {
            let new = action.message(Some(actor.id), Some(&user));
            messages.push(append_message(conn, feed, app, &room, new, &[])?);
        }
    }
    Ok(RoomChange {
        bundle: bundle(conn, room)?,
        messages,
    })
}

/// Client API: an admin renames a room.
pub(super) fn rename(
    conn: &Connection,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    actor: &User,
    room: RoomRef,
    name: &str,
) -> Result<RoomChange, StoreError> {
    let room = shared_room_as_admin(conn, app, actor, room)?;
    conn.prepare_cached("UPDATE rooms SET name = ?2, updated = ?3 WHERE id = ?1")?
        .execute(params![room.id, name, now_ms()])?;
    let room = room_by_id(conn, app, room.id)?;
    let new = SystemAction::RoomUpdate.message(Some(actor.id), None);
    let message = append_message(conn, feed, app, &room, new, &[])?;
    Ok(RoomChange {
        bundle: bundle(conn, room)?,
        messages: vec![message],
    })
}

/// Client API: a participant leaves a group.
pub(super) fn leave(
    conn: &Connection,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    user: &User,
    room: RoomRef,
) -> Result<RoomChange, StoreError> {
    let RoomRef::Shared(id) = room else {
        return Err(StoreError::Forbidden(
            "a personal room cannot be left".into(),
        ));
    };
    let room = room_by_id(conn, app, id)?;
    if !remove_member(conn, room.id, user.id)? {
        return Err(StoreError::Forbidden(
            "not a participant of this room".into(),
        ));
    }
    let new = SystemAction::Leave.message(Some(user.id), None);
    let message = append_message(conn, feed, app, &room, new, &[user.id])?;
    Ok(RoomChange {
        bundle: bundle(conn, room)?,
        messages: vec![message],
    })
}
