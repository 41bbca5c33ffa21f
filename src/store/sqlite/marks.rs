//! Starred messages (per user) and pinned messages (per room) on SQLite.

use rusqlite::{Connection, params};

use crate::domain::{MessageId, RoomId, UserId};
use crate::store::StoreError;

pub(super) fn starred_ids(
    conn: &Connection,
    user: UserId,
    room: RoomId,
) -> Result<Vec<MessageId>, StoreError> {
    let ids = conn
        .prepare_cached(
            "SELECT message_id FROM message_stars WHERE user_id = ?1 AND room_id = ?2 \
             ORDER BY created DESC, message_id DESC",
        )?
        .query_map(params![user, room], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

pub(super) fn pinned_ids(conn: &Connection, room: RoomId) -> Result<Vec<MessageId>, StoreError> {
    let ids = conn
        .prepare_cached(
            "SELECT message_id FROM message_pins WHERE room_id = ?1 ORDER BY message_id DESC",
        )?
        .query_map(params![room], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

pub(super) fn set_star(
    conn: &Connection,
    user: UserId,
    room: RoomId,
    message: MessageId,
    starred: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = if starred {
        conn.prepare_cached(
            "INSERT INTO message_stars (user_id, message_id, room_id, created) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![user, message, room, now])?
    } else {
        conn.prepare_cached("DELETE FROM message_stars WHERE user_id = ?1 AND message_id = ?2")?
            .execute(params![user, message])?
    };
    Ok(changed == 1)
}

pub(super) fn set_pin(
    conn: &Connection,
    room: RoomId,
    message: MessageId,
    pinned: bool,
    by: UserId,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = if pinned {
        conn.prepare_cached(
            "INSERT INTO message_pins (room_id, message_id, pinned_by, created) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![room, message, by, now])?
    } else {
        conn.prepare_cached("DELETE FROM message_pins WHERE room_id = ?1 AND message_id = ?2")?
            .execute(params![room, message])?
    };
    Ok(changed == 1)
}
