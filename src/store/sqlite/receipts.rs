//! Each recipient's receipts of messages, for message info, on SQLite.

use rusqlite::{Connection, params};

use crate::domain::{MessageId, Receipt, RoomId, UserId};
use crate::store::StoreError;

pub(super) fn receipts(conn: &Connection, message: MessageId) -> Result<Vec<Receipt>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, delivered_at, read_at FROM message_receipts WHERE message_id = ?1 \
         ORDER BY delivered_at, user_id",
    )?;
    let found = stmt
        .query_map([message], |r| {
            Ok(Receipt {
                user: r.get(0)?,
                delivered_at: r.get(1)?,
                read_at: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn readers(
    conn: &Connection,
    room: RoomId,
    seq: i64,
) -> Result<Vec<UserId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM read_positions WHERE room_id = ?1 AND read_seq >= ?2",
    )?;
    let found = stmt
        .query_map(params![room, seq], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn first_read_after(
    conn: &Connection,
    room: RoomId,
    user: UserId,
    seq: i64,
) -> Result<Option<i64>, StoreError> {
    let sql = "SELECT MIN(t) FROM ( \
         SELECT (SELECT read_at FROM message_receipts WHERE room_id = ?1 AND user_id = ?2 \
                 AND seq >= ?3 AND read_at IS NOT NULL ORDER BY seq LIMIT 1) AS t \
         UNION ALL \
         SELECT (SELECT created FROM messages WHERE room_id = ?1 AND seq > ?3 \
                 AND sender_id = ?2 ORDER BY seq LIMIT 1) \
         ) AS times";
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![room, user, seq], |r| r.get(0))?)
}

pub(super) fn record(
    conn: &Connection,
    message: MessageId,
    room: RoomId,
    seq: i64,
    user: UserId,
    read: bool,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO message_receipts (message_id, user_id, room_id, seq, delivered_at, read_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN ?5 END) \
         ON CONFLICT (message_id, user_id) DO UPDATE SET read_at = excluded.read_at \
         WHERE message_receipts.read_at IS NULL AND excluded.read_at IS NOT NULL",
    )?
    .execute(params![message, user, room, seq, now, read])?;
    Ok(())
}
