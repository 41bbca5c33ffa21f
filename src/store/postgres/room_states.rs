//! Users' own states of rooms (muted, pinned, marked unread) on PostgreSQL.

use super::rooms::MY_ROOMS;
use super::{Res, Tx, exec, opt, rows};
use crate::domain::{
    AppId, Hidden, Message, RoomId, RoomRef, RoomState, RoomStateChange, User, UserId,
};

/// The user's set states of rooms they take part in.
pub(super) async fn list(tx: &Tx<'_>, app: AppId, user: &User) -> Res<Vec<RoomState>> {
    let sql = format!(
        "{MY_ROOMS} SELECT s.room_id, r.personal_a, r.personal_b, s.muted_until, s.pinned_at, \
             s.marked_unread, s.cleared_at \
         FROM room_states s JOIN rooms r ON r.id = s.room_id \
         WHERE s.user_id = $1 AND r.deleted = 0 \
             AND (s.muted_until IS NOT NULL OR s.pinned_at IS NOT NULL OR s.marked_unread \
                 OR s.cleared_at > 0) \
             AND (r.personal_a IS NOT NULL OR s.room_id IN (SELECT room_id FROM mine))"
    );
    let found = rows(tx, &sql, &[&user.id, &app, &user.role_code]).await?;
    found
        .iter()
        .map(|row| {
            let room = match (row.try_get(1)?, row.try_get(2)?) {
                (Some(a), Some(b)) => RoomRef::Personal { a, b },
                _ => RoomRef::Shared(row.try_get(0)?),
            };
            Ok(RoomState {
                room,
                muted_until: row.try_get(3)?,
                pinned_at: row.try_get(4)?,
                marked_unread: row.try_get(5)?,
                cleared_at: row.try_get(6)?,
            })
        })
        .collect()
}

/// Applies `change` to the user's state of `rooms`; the rooms it changed.
pub(super) async fn change(
    tx: &Tx<'_>,
    user: UserId,
    rooms: &[RoomId],
    change: RoomStateChange,
) -> Res<Vec<RoomId>> {
    // Each statement returns the room only when it inserted or updated its row.
    let (sql, value) = match change {
        RoomStateChange::Mute { until } => (
            "INSERT INTO room_states (user_id, room_id, muted_until) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, room_id) DO UPDATE SET muted_until = excluded.muted_until \
             WHERE room_states.muted_until IS DISTINCT FROM excluded.muted_until \
             RETURNING room_id",
            Some(until),
        ),
        RoomStateChange::Pin { at } => (
            "INSERT INTO room_states (user_id, room_id, pinned_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, room_id) DO UPDATE SET pinned_at = excluded.pinned_at \
             WHERE room_states.pinned_at IS NULL RETURNING room_id",
            Some(at),
        ),
        RoomStateChange::MarkUnread => (
            "INSERT INTO room_states (user_id, room_id, marked_unread) VALUES ($1, $2, TRUE) \
             ON CONFLICT (user_id, room_id) DO UPDATE SET marked_unread = TRUE \
             WHERE NOT room_states.marked_unread RETURNING room_id",
            None,
        ),
        RoomStateChange::Unmute => (
            "UPDATE room_states SET muted_until = NULL \
             WHERE user_id = $1 AND room_id = $2 AND muted_until IS NOT NULL RETURNING room_id",
            None,
        ),
        RoomStateChange::Unpin => (
            "UPDATE room_states SET pinned_at = NULL \
             WHERE user_id = $1 AND room_id = $2 AND pinned_at IS NOT NULL RETURNING room_id",
            None,
        ),
        RoomStateChange::MarkRead => (
            "UPDATE room_states SET marked_unread = FALSE \
             WHERE user_id = $1 AND room_id = $2 AND marked_unread RETURNING room_id",
            None,
        ),
    };
    let mut changed = Vec::new();
    for room in rooms {
        let found = match &value {
            Some(value) => opt(tx, sql, &[&user, room, value]).await?,
            None => opt(tx, sql, &[&user, room]).await?,
        };
        if let Some(row) = found {
            changed.push(row.try_get(0)?);
        }
    }
    Ok(changed)
}

/// What the user no longer sees, of one room or of all.
pub(super) async fn hidden(tx: &Tx<'_>, user: UserId, room: Option<RoomId>) -> Res<Hidden> {
    let mut hidden = Hidden::default();
    let sql = "SELECT room_id, cleared_seq FROM room_states \
               WHERE user_id = $1 AND cleared_seq > 0 AND ($2::bigint IS NULL OR room_id = $2)";
    for row in rows(tx, sql, &[&user, &room]).await? {
        hidden.cleared.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let sql = "SELECT message_id FROM hidden_messages \
               WHERE user_id = $1 AND ($2::bigint IS NULL OR room_id = $2)";
    for row in rows(tx, sql, &[&user, &room]).await? {
        hidden.messages.insert(row.try_get(0)?);
    }
    Ok(hidden)
}

/// Clears the room's history for the user up to `seq`, unpinning it and dropping its mark.
pub(super) async fn clear(tx: &Tx<'_>, user: UserId, room: RoomId, seq: i64, at: i64) -> Res<()> {
    let sql = "INSERT INTO room_states (user_id, room_id, cleared_seq, cleared_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, room_id) DO UPDATE SET \
               cleared_seq = greatest(room_states.cleared_seq, excluded.cleared_seq), \
               cleared_at = excluded.cleared_at, pinned_at = NULL, marked_unread = false";
    exec(tx, sql, &[&user, &room, &seq, &at]).await?;
    Ok(())
}

/// Hides a message from the user; whether it was visible before.
pub(super) async fn hide(tx: &Tx<'_>, user: UserId, message: &Message) -> Res<bool> {
    let sql = "INSERT INTO hidden_messages (user_id, message_id, room_id) VALUES ($1, $2, $3) \
               ON CONFLICT DO NOTHING";
    Ok(exec(tx, sql, &[&user, &message.id, &message.room.id]).await? == 1)
}
