//! Users' own states of rooms (muted, pinned, marked unread) on SQLite.

use rusqlite::{Connection, params};

use super::messages::MY_ROOMS;
use crate::domain::{
    AppId, Hidden, Message, RoomId, RoomRef, RoomState, RoomStateChange, User, UserId,
};
use crate::store::StoreError;

/// The user's set states of rooms they take part in.
pub(super) fn list(
    conn: &Connection,
    app: AppId,
    user: &User,
) -> Result<Vec<RoomState>, StoreError> {
    let sql = format!(
        "{MY_ROOMS} SELECT s.room_id, r.personal_a, r.personal_b, s.muted_until, s.pinned_at, \
             s.marked_unread, s.cleared_at \
         FROM room_states s JOIN rooms r ON r.id = s.room_id \
         WHERE s.user_id = ?1 AND r.deleted = 0 \
             AND (s.muted_until IS NOT NULL OR s.pinned_at IS NOT NULL OR s.marked_unread \
                 OR s.cleared_at > 0) \
             AND (r.personal_a IS NOT NULL OR s.room_id IN (SELECT room_id FROM mine))"
    );
    let states = conn
        .prepare_cached(&sql)?
        .query_map(params![user.id, app, user.role_code], |row| {
            let room = match (row.get(1)?, row.get(2)?) {
                (Some(a), Some(b)) => RoomRef::Personal { a, b },
                _ => RoomRef::Shared(row.get(0)?),
            };
            Ok(RoomState {
                room,
                muted_until: row.get(3)?,
                pinned_at: row.get(4)?,
                marked_unread: row.get(5)?,
                cleared_at: row.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(states)
}

/// Applies `change` to the user's state of `rooms`; the rooms it changed.
pub(super) fn change(
    conn: &Connection,
    user: UserId,
    rooms: &[RoomId],
    change: RoomStateChange,
) -> Result<Vec<RoomId>, StoreError> {
    // Each statement returns the room only when it inserted or updated its row.
    let (sql, value) = match change {
        RoomStateChange::Mute { until } => (
            "INSERT INTO room_states (user_id, room_id, muted_until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, room_id) DO UPDATE SET muted_until = excluded.muted_until \
             WHERE room_states.muted_until IS NOT excluded.muted_until RETURNING room_id",
            Some(until),
        ),
        RoomStateChange::Pin { at } => (
            "INSERT INTO room_states (user_id, room_id, pinned_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, room_id) DO UPDATE SET pinned_at = excluded.pinned_at \
             WHERE room_states.pinned_at IS NULL RETURNING room_id",
            Some(at),
        ),
        RoomStateChange::MarkUnread => (
            "INSERT INTO room_states (user_id, room_id, marked_unread) VALUES (?1, ?2, 1) \
             ON CONFLICT (user_id, room_id) DO UPDATE SET marked_unread = 1 \
             WHERE NOT room_states.marked_unread RETURNING room_id",
            None,
        ),
        RoomStateChange::Unmute => (
            "UPDATE room_states SET muted_until = NULL \
             WHERE user_id = ?1 AND room_id = ?2 AND muted_until IS NOT NULL RETURNING room_id",
            None,
        ),
        RoomStateChange::Unpin => (
            "UPDATE room_states SET pinned_at = NULL \
             WHERE user_id = ?1 AND room_id = ?2 AND pinned_at IS NOT NULL RETURNING room_id",
            None,
        ),
        RoomStateChange::MarkRead => (
            "UPDATE room_states SET marked_unread = 0 \
             WHERE user_id = ?1 AND room_id = ?2 AND marked_unread RETURNING room_id",
            None,
        ),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut changed = Vec::new();
    for &room in rooms {
        let mut found = match value {
            Some(value) => stmt.query(params![user, room, value])?,
            None => stmt.query(params![user, room])?,
        };
        if let Some(row) = found.next()? {
            changed.push(row.get(0)?);
        }
    }
    Ok(changed)
}

/// What the user no longer sees, of one room or of all.
pub(super) fn hidden(
    conn: &Connection,
    user: UserId,
    room: Option<RoomId>,
) -> Result<Hidden, StoreError> {
    let mut hidden = Hidden::default();
    let mut cleared = conn.prepare_cached(
        "SELECT room_id, cleared_seq FROM room_states \
         WHERE user_id = ?1 AND cleared_seq > 0 AND (?2 IS NULL OR room_id = ?2)",
    )?;
    for row in cleared.query_map(params![user, room], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (room, seq) = row?;
        hidden.cleared.insert(room, seq);
    }
    let mut messages = conn.prepare_cached(
        "SELECT message_id FROM hidden_messages WHERE user_id = ?1 AND (?2 IS NULL OR room_id = ?2)",
    )?;
    for id in messages.query_map(params![user, room], |r| r.get(0))? {
        hidden.messages.insert(id?);
    }
    Ok(hidden)
}

/// Clears the room's history for the user up to `seq`, unpinning it and dropping its mark.
pub(super) fn clear(
    conn: &Connection,
    user: UserId,
    room: RoomId,
    seq: i64,
    at: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO room_states (user_id, room_id, cleared_seq, cleared_at) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, room_id) DO UPDATE SET \
         cleared_seq = max(cleared_seq, excluded.cleared_seq), cleared_at = excluded.cleared_at, \
         pinned_at = NULL, marked_unread = 0",
    )?
    .execute(params![user, room, seq, at])?;
    Ok(())
}

/// Hides a message from the user; whether it was visible before.
pub(super) fn hide(conn: &Connection, user: UserId, message: &Message) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT INTO hidden_messages (user_id, message_id, room_id) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![user, message.id, message.room.id])?;
    Ok(added == 1)
}
