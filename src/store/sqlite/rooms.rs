//! Rooms, participants, admins, locks and room lists in SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::append::read_position_at_present;
use super::messages::MY_ROOMS;
use super::rows::{
    self, MESSAGE_COLUMNS, ROOM_COLUMNS, ROOM_FROM, ROOM_WIDTH, USER_COLUMNS, USER_WIDTH,
};
use super::users::user_by_xc_id;
use crate::domain::{AppId, Room, RoomBundle, RoomId, RoomListEntry, User, UserId, now_ms};
pub(super) use crate::store::shared::NewRoom;
use crate::store::shared::json;
use crate::store::{RoomUpsert, StoreError};

/// The room with this `xcRoomID` in this app.
pub(super) fn room_by_xc_id(
    conn: &Connection,
    app: AppId,
    xc_room_id: &str,
) -> Result<Option<Room>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} WHERE r.app_id = ?1 AND r.xc_room_id = ?2"
    ))?;
    Ok(stmt
        .query_row(params![app, xc_room_id], |row| rows::room_at(row, 0))
        .optional()?)
}

/// The room with this internal ID in this app.
pub(super) fn room_by_id(conn: &Connection, app: AppId, id: RoomId) -> Result<Room, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} WHERE r.id = ?1 AND r.app_id = ?2 AND r.deleted = 0"
    ))?;
    stmt.query_row(params![id, app], |row| rows::room_at(row, 0))
        .optional()?
        .ok_or(StoreError::RoomNotFound)
}

/// The personal room of users `a` and `b` (lower ID first), if it exists yet.
pub(super) fn personal_room(
    conn: &Connection,
    app: AppId,
    a: UserId,
    b: UserId,
) -> Result<Option<Room>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} \
         WHERE r.app_id = ?1 AND r.personal_a = ?2 AND r.personal_b = ?3"
    ))?;
    Ok(stmt
        .query_row(params![app, a, b], |row| rows::room_at(row, 0))
        .optional()?)
}

/// Creates the personal room of `a` and `b` with its two participants (a new room: no read
/// positions).
pub(super) fn insert_personal_room(
    conn: &Connection,
    app: AppId,
    a: UserId,
    b: UserId,
    now: i64,
) -> Result<Room, StoreError> {
    let id: RoomId = conn
        .prepare_cached(
            "INSERT INTO rooms (app_id, personal_a, personal_b, type, name, \
                 last_activity, created, updated) \
             VALUES (?1, ?2, ?3, 1, '', ?4, ?4, ?4) RETURNING id",
        )?
        .query_row(params![app, a, b, now], |r| r.get(0))?;
    add_first_member(conn, id, a, false, now)?;
    add_first_member(conn, id, b, false, now)?;
    room_by_id(conn, app, id)
}

/// The room with its explicit participants (in joining order) and admins.
pub(super) fn bundle(conn: &Connection, room: Room) -> Result<RoomBundle, StoreError> {
    // Sorted here rather than by ORDER BY: SQLite's sorter copies every row, and this runs on
    // the single writer for every participant change.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, rm.is_admin, rm.joined FROM room_members rm \
         JOIN users u ON u.id = rm.user_id WHERE rm.room_id = ?1"
    ))?;
    let mut members: Vec<(i64, User, bool)> = stmt
        .query_map([room.id], |row| {
            Ok((
                row.get(USER_WIDTH + 1)?,
                rows::user(row)?,
                row.get(USER_WIDTH)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    members.sort_unstable_by_key(|(joined, user, _)| (*joined, user.id));
    let admin_ids = members
        .iter()
        .filter(|(_, _, admin)| *admin)
        .map(|(_, user, _)| user.id)
        .collect();
    Ok(RoomBundle {
        room,
        participants: members.into_iter().map(|(_, user, _)| user).collect(),
        admin_ids,
    })
}

/// Makes `user` an explicit participant of an existing room; `false` if they already were. A
/// new participant's read position starts at the room's present, so earlier history is not
/// unread for them.
pub(super) fn add_member(
    conn: &Connection,
    room: RoomId,
    user: UserId,
    admin: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let added = add_first_member(conn, room, user, admin, now)?;
    if added {
        read_position_at_present(conn, user, room)?;
    }
    Ok(added)
}

/// Makes `user` a participant of a room created in this transaction; `false` if they already
/// were. Such a room has no history yet, and a missing read position reads as the start of
/// the room, so none is written: that was one insert on a random page per participant of
/// every new room.
pub(super) fn add_first_member(
    conn: &Connection,
    room: RoomId,
    user: UserId,
    admin: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT INTO room_members (room_id, user_id, is_admin, joined) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![room, user, admin, now])?;
    Ok(added == 1)
}

pub(super) fn remove_member(
    conn: &Connection,
    room: RoomId,
    user: UserId,
) -> Result<bool, StoreError> {
    let removed = conn
        .prepare_cached("DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
        .execute(params![room, user])?;
    Ok(removed == 1)
}

fn replace_roles(
    conn: &Connection,
    app: AppId,
    room: RoomId,
    roles: &[String],
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM room_roles WHERE room_id = ?1")?
        .execute([room])?;
    insert_roles(conn, app, room, roles)
}

fn insert_roles(
    conn: &Connection,
    app: AppId,
    room: RoomId,
    roles: &[String],
) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO room_roles (app_id, role_code, room_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
    )?;
    for role in roles {
        insert.execute(params![app, role, room])?;
    }
    Ok(())
}

pub(super) fn insert_shared_room(
    conn: &Connection,
    app: AppId,
    room: &NewRoom<'_>,
) -> Result<RoomId, StoreError> {
    let now = now_ms();
    let id: RoomId = conn
        .prepare_cached(
            "INSERT INTO rooms (app_id, xc_room_id, type, name, photo_thumbnail, \
                 photo_fullsize, tags, roles, last_activity, created, updated) \
             VALUES (?1, ?2, ?3, ?4, COALESCE(?5, ''), COALESCE(?6, ''), ?7, ?8, ?9, ?9, ?9) \
             RETURNING id",
        )?
        .query_row(
            params![
                app,
                room.xc_room_id,
                room.room_type.code(),
                room.name,
                room.photo_thumbnail,
                room.photo_fullsize,
                json(room.tags),
                json(room.roles),
                now
            ],
            |r| r.get(0),
        )?;
    insert_roles(conn, app, id, room.roles)?;
    Ok(id)
}

/// Applies a Server API upsert to an existing shared room (`None` fields keep their value).
pub(super) fn update_shared_room(
    conn: &Connection,
    app: AppId,
    room: RoomId,
    up: &RoomUpsert,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE rooms SET name = ?2, photo_thumbnail = COALESCE(?3, photo_thumbnail), \
             photo_fullsize = COALESCE(?4, photo_fullsize), tags = COALESCE(?5, tags), \
             roles = COALESCE(?6, roles), updated = ?7 WHERE id = ?1",
    )?
    .execute(params![
        room,
        up.name,
        up.photo_thumbnail,
        up.photo_fullsize,
        up.tags.as_deref().map(json),
        up.participant_roles.as_deref().map(json),
        now
    ])?;
    if let Some(roles) = &up.participant_roles {
        replace_roles(conn, app, room, roles)?;
    }
    Ok(())
}

/// A user's rooms with last message and unread count, in one query whatever their number.
pub(super) fn rooms_of_user(
    conn: &Connection,
    app: AppId,
    xc_user_id: &str,
    only: Option<&[String]>,
) -> Result<(User, Vec<RoomListEntry>), StoreError> {
    let user = user_by_xc_id(conn, app, xc_user_id)?.ok_or(StoreError::UserNotFound)?;
    // The user's rooms, explicit and by role, as for `MY_ROOMS` but without its de-duplication
    // (a temporary B-tree for every room): a room reached both ways comes twice and is
    // dropped below, after the sort has put the two next to each other.
    let mut stmt = conn.prepare_cached(&format!(
        "WITH mine (room_id) AS ( \
             SELECT room_id FROM room_members WHERE user_id = ?1 \
             UNION ALL SELECT room_id FROM room_roles \
                 WHERE app_id = ?2 AND role_code = ?3 AND ?3 <> '') \
         SELECT {ROOM_COLUMNS}, {USER_COLUMNS}, \
             max(0, r.chat_count - coalesce(p.read_count, 0)), coalesce(p.read_seq, 0), \
             {MESSAGE_COLUMNS} \
         FROM mine JOIN rooms r ON r.id = mine.room_id \
         LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
         JOIN messages m ON m.id = r.last_message_id \
         LEFT JOIN users u ON u.id = m.sender_id \
         LEFT JOIN read_positions p ON p.user_id = ?1 AND p.room_id = r.id \
         WHERE ?4 IS NULL OR r.xc_room_id IN (SELECT value FROM json_each(?4))"
    ))?;
    let filter = only.map(json);
    let mut entries: Vec<RoomListEntry> = stmt
        .query_map(params![user.id, app, user.role_code, filter], |row| {
            let room = rows::room_at(row, 0)?;
            let sender = rows::user_at(row, ROOM_WIDTH)?;
            let unread_count = row.get(ROOM_WIDTH + USER_WIDTH)?;
            let read_seq = row.get(ROOM_WIDTH + USER_WIDTH + 1)?;
            let last_message = rows::message_at(row, ROOM_WIDTH + USER_WIDTH + 2, room, sender)?;
            Ok(RoomListEntry {
                last_message,
                unread_count,
                read_seq,
            })
        })?
        .collect::<Result<_, _>>()?;
    // Newest activity first. Sorted here rather than by SQL's ORDER BY, which would copy every
    // row's eighty columns through SQLite's sorter; message IDs follow commit order. The keys
    // are sorted beside their positions and each entry moves once: an entry is about a
    // kilobyte, and a comparison sort would move it a dozen times.
    entries.sort_by_cached_key(|e| std::cmp::Reverse(e.last_message.id));
    // Equal last messages mean the same room.
    entries.dedup_by_key(|e| e.last_message.id);
    Ok((user, entries))
}

/// The other users of `user`'s personal rooms, at most `limit`: one index range of the
/// user's memberships and one room row each, however large their group rooms are.
pub(super) fn personal_partners(
    conn: &Connection,
    user: UserId,
    limit: i64,
) -> Result<Vec<UserId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT CASE WHEN r.personal_a = ?1 THEN r.personal_b ELSE r.personal_a END \
         FROM room_members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.user_id = ?1 AND r.personal_a IS NOT NULL AND r.deleted = 0 LIMIT ?2",
    )?;
    let ids = stmt
        .query_map(params![user, limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The groups, channels and transaction rooms both users take part in (explicitly or by
/// role), newest first, at most `limit`.
pub(super) fn groups_in_common(
    conn: &Connection,
    app: AppId,
    a: &User,
    b: &User,
    limit: i64,
) -> Result<Vec<Room>, StoreError> {
    let sql = format!(
        "{MY_ROOMS}, theirs (room_id) AS ( \
             SELECT room_id FROM room_members WHERE user_id = ?4 \
             UNION SELECT room_id FROM room_roles WHERE app_id = ?2 AND role_code = ?5 AND ?5 <> '') \
         SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} \
         WHERE r.id IN (SELECT room_id FROM mine INTERSECT SELECT room_id FROM theirs) \
             AND r.app_id = ?2 AND r.personal_a IS NULL AND r.deleted = 0 \
         ORDER BY r.id DESC LIMIT ?6"
    );
    let rooms = conn
        .prepare_cached(&sql)?
        .query_map(
            params![a.id, app, a.role_code, b.id, b.role_code, limit],
            |row| rows::room_at(row, 0),
        )?
        .collect::<Result<_, _>>()?;
    Ok(rooms)
}
