//! Rooms, participants, locks, room lists and message appends in SQLite.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{self, MESSAGE_COLUMNS, ROOM_COLUMNS, ROOM_WIDTH, USER_COLUMNS, USER_WIDTH};
use super::users::{user_by_id, user_by_xc_id, users_by_xc_ids};
use crate::domain::{
    AppId, Message, NewMessage, Room, RoomBundle, RoomListEntry, SystemAction, User, UserId, now_ms,
};
use crate::store::{LockChange, RoomChange, RoomUpsert, StoreError};

/// The room with this `xcRoomID` in this app.
pub(super) fn room_by_xc_id(
    conn: &Connection,
    app: AppId,
    xc_room_id: &str,
) -> Result<Option<Room>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.app_id = ?1 AND r.xc_room_id = ?2"
    ))?;
    Ok(stmt
        .query_row(params![app, xc_room_id], |row| rows::room_at(row, 0))
        .optional()?)
}

fn room_by_id(conn: &Connection, id: i64) -> Result<Room, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = ?1"
    ))?;
    stmt.query_row([id], |row| rows::room_at(row, 0))
        .optional()?
        .ok_or(StoreError::RoomNotFound)
}

fn existing_room(conn: &Connection, app: AppId, xc_room_id: &str) -> Result<Room, StoreError> {
    room_by_xc_id(conn, app, xc_room_id)?.ok_or(StoreError::RoomNotFound)
}

/// The room with its explicit participants (in joining order) and admins.
pub(super) fn bundle(conn: &Connection, room: Room) -> Result<RoomBundle, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, rm.is_admin FROM room_members rm \
         JOIN users u ON u.id = rm.user_id WHERE rm.room_id = ?1 ORDER BY rm.joined, rm.user_id"
    ))?;
    let mut participants = Vec::new();
    let mut admin_ids = Vec::new();
    let mut found = stmt.query([room.id])?;
    while let Some(row) = found.next()? {
        let user = rows::user(row)?;
        if row.get::<_, bool>(USER_WIDTH)? {
            admin_ids.push(user.id);
        }
        participants.push(user);
    }
    Ok(RoomBundle {
        room,
        participants,
        admin_ids,
    })
}

/// Appends a message to a room: next sequence number, room activity, and (for a user's own
/// message) the sender's read position, since sending implies having read the room.
pub(super) fn append_message(
    conn: &Connection,
    room: &Room,
    new: NewMessage,
) -> Result<Message, StoreError> {
    let now = now_ms();
    let counts = i64::from(new.counts_as_unread());
    let (seq, chat_count): (i64, i64) = conn
        .prepare_cached(
            "UPDATE rooms SET last_seq = last_seq + 1, chat_count = chat_count + ?2, \
             last_activity = ?3 WHERE id = ?1 RETURNING last_seq, chat_count",
        )?
        .query_row(params![room.id, counts, now], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO messages (room_id, seq, sender_id, local_id, type, body, data, \
                 filter_id, is_hidden, quote, reply_to, forward_from, action, target, \
                 created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15) \
             RETURNING id",
        )?
        .query_row(
            params![
                room.id,
                seq,
                new.sender,
                new.local_id,
                new.kind,
                new.body,
                new.data,
                new.filter_id,
                new.is_hidden,
                rows::json_unless_default(&new.quote),
                rows::json_unless_default(&new.reply_to),
                rows::json_unless_default(&new.forward_from),
                new.action,
                rows::json_unless_default(&new.target),
                now
            ],
            |r| r.get(0),
        )?;
    conn.prepare_cached("UPDATE rooms SET last_message_id = ?2 WHERE id = ?1")?
        .execute(params![room.id, id])?;
    let sender = match new.sender {
        Some(sender) => {
            set_read_position(conn, sender, room.id, seq, chat_count)?;
            Some(user_by_id(conn, sender)?)
        }
        None => None,
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?1"
    ))?;
    Ok(stmt.query_row([id], |row| rows::message_at(row, 0, room.clone(), sender))?)
}

fn set_read_position(
    conn: &Connection,
    user: UserId,
    room: i64,
    seq: i64,
    count: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO read_positions (user_id, room_id, read_seq, read_count) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, room_id) DO UPDATE SET \
         read_seq = max(read_seq, excluded.read_seq), read_count = max(read_count, excluded.read_count)",
    )?
    .execute(params![user, room, seq, count])?;
    Ok(())
}

/// Makes `user` an explicit participant; `false` if they already were. A new participant's
/// read position starts at the room's present, so earlier history is not unread for them.
fn add_member(conn: &Connection, room: i64, user: UserId, now: i64) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT INTO room_members (room_id, user_id, joined) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![room, user, now])?;
    if added == 1 {
        let (seq, count): (i64, i64) = conn
            .prepare_cached("SELECT last_seq, chat_count FROM rooms WHERE id = ?1")?
            .query_row([room], |r| Ok((r.get(0)?, r.get(1)?)))?;
        set_read_position(conn, user, room, seq, count)?;
    }
    Ok(added == 1)
}

fn replace_roles(
    conn: &Connection,
    app: AppId,
    room: i64,
    roles: &[String],
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM room_roles WHERE room_id = ?1")?
        .execute([room])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO room_roles (app_id, role_code, room_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
    )?;
    for role in roles {
        insert.execute(params![app, role, room])?;
    }
    Ok(())
}

fn unique_users(users: Vec<User>) -> Vec<User> {
    let mut seen = HashSet::new();
    users.into_iter().filter(|u| seen.insert(u.id)).collect()
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("string lists serialize")
}

pub(super) fn create_or_update(
    conn: &Connection,
    app: AppId,
    up: &RoomUpsert,
) -> Result<RoomChange, StoreError> {
    let now = now_ms();
    let (room, action) = match room_by_xc_id(conn, app, &up.xc_room_id)? {
        None => {
            let users = unique_users(users_by_xc_ids(conn, app, &up.participant_xc_user_ids)?);
            let roles = up.participant_roles.clone().unwrap_or_default();
            let id: i64 = conn
                .prepare_cached(
                    "INSERT INTO rooms (app_id, xc_room_id, type, name, photo_thumbnail, \
                         photo_fullsize, tags, roles, last_activity, created, updated) \
                     VALUES (?1, ?2, ?3, ?4, COALESCE(?5, ''), COALESCE(?6, ''), ?7, ?8, ?9, ?9, ?9) \
                     RETURNING id",
                )?
                .query_row(
                    params![
                        app,
                        up.xc_room_id,
                        up.room_type.code(),
                        up.name,
                        up.photo_thumbnail,
                        up.photo_fullsize,
                        json(up.tags.as_deref().unwrap_or_default()),
                        json(&roles),
                        now
                    ],
                    |r| r.get(0),
                )?;
            for user in &users {
                add_member(conn, id, user.id, now)?;
            }
            replace_roles(conn, app, id, &roles)?;
            (room_by_id(conn, id)?, SystemAction::RoomCreate)
        }
        Some(existing) => {
            if existing.room_type != up.room_type {
                return Err(StoreError::Conflict("the room type cannot change".into()));
            }
            conn.prepare_cached(
                "UPDATE rooms SET name = ?2, photo_thumbnail = COALESCE(?3, photo_thumbnail), \
                     photo_fullsize = COALESCE(?4, photo_fullsize), tags = COALESCE(?5, tags), \
                     roles = COALESCE(?6, roles), updated = ?7 WHERE id = ?1",
            )?
            .execute(params![
                existing.id,
                up.name,
                up.photo_thumbnail,
                up.photo_fullsize,
                up.tags.as_deref().map(json),
                up.participant_roles.as_deref().map(json),
                now
            ])?;
            if let Some(roles) = &up.participant_roles {
                replace_roles(conn, app, existing.id, roles)?;
            }
            (room_by_id(conn, existing.id)?, SystemAction::RoomUpdate)
        }
    };
    let message = append_message(conn, &room, action.message(None, None))?;
    Ok(RoomChange {
        bundle: bundle(conn, room)?,
        messages: vec![message],
    })
}

/// Adds (`add = true`) or removes participants, one system message per actual change.
pub(super) fn change_participants(
    conn: &Connection,
    app: AppId,
    xc_room_id: &str,
    xc_user_ids: &[String],
    add: bool,
) -> Result<RoomChange, StoreError> {
    let room = existing_room(conn, app, xc_room_id)?;
    let users = unique_users(users_by_xc_ids(conn, app, xc_user_ids)?);
    let now = now_ms();
    let mut messages = Vec::new();
    for user in &users {
        let (changed, action) = if add {
            (
                add_member(conn, room.id, user.id, now)?,
                SystemAction::AddParticipant,
            )
        } else {
            let removed = conn
                .prepare_cached("DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
                .execute(params![room.id, user.id])?;
            (removed == 1, SystemAction::RemoveParticipant)
        };
        if changed {
            messages.push(append_message(
                conn,
                &room,
                action.message(None, Some(user)),
            )?);
        }
    }
    Ok(RoomChange {
        bundle: bundle(conn, room)?,
        messages,
    })
}

pub(super) fn set_lock(
    conn: &Connection,
    app: AppId,
    xc_room_id: &str,
    xc_user_id: &str,
    locked: bool,
) -> Result<LockChange, StoreError> {
    let room = existing_room(conn, app, xc_room_id)?;
    let user = user_by_xc_id(conn, app, xc_user_id)?
        .ok_or_else(|| StoreError::UnknownUser(xc_user_id.to_owned()))?;
    if room.is_locked() == locked {
        return Ok(LockChange {
            changed: false,
            messages: Vec::new(),
        });
    }
    let now = now_ms();
    conn.prepare_cached(
        "UPDATE rooms SET locked_time = ?2, locked_by = ?3, updated = ?4 WHERE id = ?1",
    )?
    .execute(params![
        room.id,
        if locked { now } else { 0 },
        locked.then_some(user.id),
        now
    ])?;
    let room = room_by_id(conn, room.id)?;
    let action = if locked {
        SystemAction::Lock
    } else {
        SystemAction::Unlock
    };
    let message = append_message(conn, &room, action.message(Some(user.id), None))?;
    Ok(LockChange {
        changed: true,
        messages: vec![message],
    })
}

/// A user's rooms with last message and unread count, in one query whatever their number.
pub(super) fn rooms_of_user(
    conn: &Connection,
    app: AppId,
    xc_user_id: &str,
    only: Option<&[String]>,
) -> Result<Vec<RoomListEntry>, StoreError> {
    let user = user_by_xc_id(conn, app, xc_user_id)?.ok_or(StoreError::UserNotFound)?;
    let mut stmt = conn.prepare_cached(&format!(
        "WITH mine (room_id) AS ( \
             SELECT room_id FROM room_members WHERE user_id = ?1 \
             UNION SELECT room_id FROM room_roles \
                 WHERE app_id = ?2 AND role_code = ?3 AND ?3 <> '' \
         ) \
         SELECT {ROOM_COLUMNS}, {USER_COLUMNS}, \
             max(0, r.chat_count - coalesce(p.read_count, 0)), {MESSAGE_COLUMNS} \
         FROM mine JOIN rooms r ON r.id = mine.room_id \
         JOIN messages m ON m.id = r.last_message_id \
         LEFT JOIN users u ON u.id = m.sender_id \
         LEFT JOIN read_positions p ON p.user_id = ?1 AND p.room_id = r.id \
         WHERE ?4 IS NULL OR r.xc_room_id IN (SELECT value FROM json_each(?4)) \
         ORDER BY r.last_activity DESC, r.id DESC"
    ))?;
    let filter = only.map(json);
    let entries = stmt
        .query_map(params![user.id, app, user.role_code, filter], |row| {
            let room = rows::room_at(row, 0)?;
            let sender = rows::user_at(row, ROOM_WIDTH)?;
            let unread_count = row.get(ROOM_WIDTH + USER_WIDTH)?;
            let last_message = rows::message_at(row, ROOM_WIDTH + USER_WIDTH + 1, room, sender)?;
            Ok(RoomListEntry {
                last_message,
                unread_count,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(entries)
}
