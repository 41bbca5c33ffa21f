//! Room management through the client API in PostgreSQL: groups created by users, their
//! admins, renames and leaving. Each change holds the room's row lock from its admin check to
//! commit.

use super::append::append_message;
use super::rooms::{
    NewRoom, add_member, bundle, change_members, insert_shared_room, lock_room, remove_member,
    room_by_id, unique_users,
};
use super::users::user_in_app;
use super::{Res, Tx, exec, opt};
use crate::domain::{AppId, Room, RoomRef, RoomType, SystemAction, User, UserId, now_ms};
use crate::store::{FeedItem, RoomChange, StoreError};

/// Client API: creates a group with the creator as its admin.
pub(super) async fn create_group(
    tx: &Tx<'_>,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    creator: &User,
    name: &str,
    room_type: RoomType,
    user_ids: &[UserId],
) -> Res<RoomChange> {
    let others = users_in_app(tx, app, user_ids).await?;
    let new_room = NewRoom::client_group(name, room_type);
    let id = insert_shared_room(tx, app, &new_room).await?;
    let now = now_ms();
    add_member(tx, id, creator.id, true, now).await?;
    for user in &others {
        add_member(tx, id, user.id, false, now).await?;
    }
    let room = room_by_id(tx, app, id).await?;
    let new = SystemAction::RoomCreate.message(Some(creator.id), None);
    let message = append_message(tx, feed, app, &room, new, &[]).await?;
    Ok(RoomChange {
        bundle: bundle(tx, room).await?,
        messages: vec![message],
    })
}

/// Users by platform ID, all of them in `app`; an unknown ID fails the whole call.
async fn users_in_app(tx: &Tx<'_>, app: AppId, ids: &[UserId]) -> Res<Vec<User>> {
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        match user_in_app(tx, app, *id).await? {
            Some(user) => users.push(user),
            None => return Err(StoreError::UnknownUser(id.to_string()).into()),
        }
    }
    Ok(users)
}

async fn is_admin(tx: &Tx<'_>, room: i64, user: UserId) -> Res<bool> {
    match opt(
        tx,
        "SELECT is_admin FROM room_members WHERE room_id = $1 AND user_id = $2",
        &[&room, &user],
    )
    .await?
    {
        Some(row) => Ok(row.try_get(0)?),
        None => Ok(false),
    }
}

async fn shared_room_as_admin(tx: &Tx<'_>, app: AppId, actor: &User, room: RoomRef) -> Res<Room> {
    let RoomRef::Shared(id) = room else {
        return Err(
            StoreError::Forbidden("personal rooms have no participants to manage".into()).into(),
        );
    };
    let room = lock_room(tx, app, id).await?;
    if !is_admin(tx, room.id, actor.id).await? {
        return Err(StoreError::Forbidden("only the room's admins may do this".into()).into());
    }
    Ok(room)
}

/// Client API: an admin adds or removes participants by user ID.
pub(super) async fn client_change_participants(
    tx: &Tx<'_>,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    actor: &User,
    room: RoomRef,
    user_ids: &[UserId],
    add: bool,
) -> Res<RoomChange> {
    let room = shared_room_as_admin(tx, app, actor, room).await?;
    let users = users_in_app(tx, app, user_ids).await?;
    change_members(tx, feed, app, room, Some(actor.id), users, add).await
}

/// Client API: an admin promotes or demotes participants.
pub(super) async fn change_admins(
    tx: &Tx<'_>,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    actor: &User,
    room: RoomRef,
    user_ids: &[UserId],
    promote: bool,
) -> Res<RoomChange> {
    let room = shared_room_as_admin(tx, app, actor, room).await?;
    let users = users_in_app(tx, app, user_ids).await?;
    let action = if promote {
        SystemAction::PromoteAdmin
    } else {
        SystemAction::DemoteAdmin
    };
    let mut messages = Vec::new();
    for user in unique_users(users) {
        let changed = exec(
            tx,
            "UPDATE room_members SET is_admin = $3 \
             WHERE room_id = $1 AND user_id = $2 AND is_admin <> $3",
            &[&room.id, &user.id, &promote],
        )
        .await?;
        if changed == 1 {
            let new = action.message(Some(actor.id), Some(&user));
            messages.push(append_message(tx, feed, app, &room, new, &[]).await?);
        }
    }
    Ok(RoomChange {
        bundle: bundle(tx, room).await?,
        messages,
    })
}

/// Client API: an admin renames a room.
pub(super) async fn rename(
    tx: &Tx<'_>,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    actor: &User,
    room: RoomRef,
    name: &str,
) -> Res<RoomChange> {
    let room = shared_room_as_admin(tx, app, actor, room).await?;
    exec(
        tx,
        "UPDATE rooms SET name = $2, updated = $3 WHERE id = $1",
        &[&room.id, &name, &now_ms()],
    )
    .await?;
    let room = room_by_id(tx, app, room.id).await?;
    let new = SystemAction::RoomUpdate.message(Some(actor.id), None);
    let message = append_message(tx, feed, app, &room, new, &[]).await?;
    Ok(RoomChange {
        bundle: bundle(tx, room).await?,
        messages: vec![message],
    })
}

/// Client API: a participant leaves a group.
pub(super) async fn leave(
    tx: &Tx<'_>,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    user: &User,
    room: RoomRef,
) -> Res<RoomChange> {
    let RoomRef::Shared(id) = room else {
        return Err(StoreError::Forbidden("a personal room cannot be left".into()).into());
    };
    let room = lock_room(tx, app, id).await?;
    if !remove_member(tx, room.id, user.id).await? {
        return Err(StoreError::Forbidden("not a participant of this room".into()).into());
    }
    let new = SystemAction::Leave.message(Some(user.id), None);
    let message = append_message(tx, feed, app, &room, new, &[user.id]).await?;
    Ok(RoomChange {
        bundle: bundle(tx, room).await?,
        messages: vec![message],
    })
}
