//! Starred messages (per user) and pinned messages (per room) on PostgreSQL.

use super::{Res, Tx, exec, rows};
use crate::domain::{MessageId, RoomId, UserId};

pub(super) async fn starred_ids(tx: &Tx<'_>, user: UserId, room: RoomId) -> Res<Vec<MessageId>> {
    let sql = "SELECT message_id FROM message_stars WHERE user_id = $1 AND room_id = $2 \
               ORDER BY created DESC, message_id DESC";
    let found = rows(tx, sql, &[&user, &room]).await?;
    Ok(found
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

pub(super) async fn pinned_ids(tx: &Tx<'_>, room: RoomId) -> Res<Vec<MessageId>> {
    let sql = "SELECT message_id FROM message_pins WHERE room_id = $1 ORDER BY message_id DESC";
    let found = rows(tx, sql, &[&room]).await?;
    Ok(found
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

pub(super) async fn set_star(
    tx: &Tx<'_>,
    user: UserId,
    room: RoomId,
    message: MessageId,
    starred: bool,
    now: i64,
) -> Res<bool> {
    let changed = if starred {
        let sql = "INSERT INTO message_stars (user_id, message_id, room_id, created) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
        exec(tx, sql, &[&user, &message, &room, &now]).await?
    } else {
        let sql = "DELETE FROM message_stars WHERE user_id = $1 AND message_id = $2";
        exec(tx, sql, &[&user, &message]).await?
    };
    Ok(changed == 1)
}

pub(super) async fn set_pin(
    tx: &Tx<'_>,
    room: RoomId,
    message: MessageId,
    pinned: bool,
    by: UserId,
    now: i64,
) -> Res<bool> {
    let changed = if pinned {
        let sql = "INSERT INTO message_pins (room_id, message_id, pinned_by, created) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
        exec(tx, sql, &[&room, &message, &by, &now]).await?
    } else {
        let sql = "DELETE FROM message_pins WHERE room_id = $1 AND message_id = $2";
        exec(tx, sql, &[&room, &message]).await?
    };
    Ok(changed == 1)
}
