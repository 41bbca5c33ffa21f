//! Each recipient's receipts of messages, for message info, on PostgreSQL.

use super::{Res, Tx, exec, one, rows};
use crate::domain::{MessageId, Receipt, RoomId, UserId};

pub(super) async fn receipts(tx: &Tx<'_>, message: MessageId) -> Res<Vec<Receipt>> {
    let sql = "SELECT user_id, delivered_at, read_at FROM message_receipts WHERE message_id = $1 \
               ORDER BY delivered_at, user_id";
    rows(tx, sql, &[&message])
        .await?
        .iter()
        .map(|r| {
            Ok(Receipt {
                user: r.try_get(0)?,
                delivered_at: r.try_get(1)?,
                read_at: r.try_get(2)?,
            })
        })
        .collect()
}

pub(super) async fn readers(tx: &Tx<'_>, room: RoomId, seq: i64) -> Res<Vec<UserId>> {
    let sql = "SELECT user_id FROM read_positions WHERE room_id = $1 AND read_seq >= $2";
    Ok(rows(tx, sql, &[&room, &seq])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

pub(super) async fn first_read_after(
    tx: &Tx<'_>,
    room: RoomId,
    user: UserId,
    seq: i64,
) -> Res<Option<i64>> {
    let sql = "SELECT MIN(t) FROM ( \
         SELECT (SELECT read_at FROM message_receipts WHERE room_id = $1 AND user_id = $2 \
                 AND seq >= $3 AND read_at IS NOT NULL ORDER BY seq LIMIT 1) AS t \
         UNION ALL \
         SELECT (SELECT created FROM messages WHERE room_id = $1 AND seq > $3 \
                 AND sender_id = $2 ORDER BY seq LIMIT 1) \
         ) AS times";
    Ok(one(tx, sql, &[&room, &user, &seq]).await?.try_get(0)?)
}

pub(super) async fn record(
    tx: &Tx<'_>,
    message: MessageId,
    room: RoomId,
    seq: i64,
    user: UserId,
    read: bool,
    now: i64,
) -> Res<()> {
    let sql = "INSERT INTO message_receipts \
               (message_id, user_id, room_id, seq, delivered_at, read_at) \
               VALUES ($1, $2, $3, $4, $5::bigint, CASE WHEN $6::boolean THEN $5::bigint END) \
               ON CONFLICT (message_id, user_id) DO UPDATE SET read_at = excluded.read_at \
               WHERE message_receipts.read_at IS NULL AND excluded.read_at IS NOT NULL";
    exec(tx, sql, &[&message, &user, &room, &seq, &now, &read]).await?;
    Ok(())
}
