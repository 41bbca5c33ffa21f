//! Messages in SQLite: sends, receipts, edits, deletions, history pages and the sync queries
//! of the client API. Appending itself (per-room sequence and unread arithmetic) lives in
//! `append`, which room changes share.

use std::sync::{Arc, LazyLock};

use rusqlite::{Connection, OptionalExtension, params};

use super::newest::NewestCache;
use super::rows::{self, MESSAGE_COLUMNS, MESSAGE_WIDTH, ROOM_COLUMNS, ROOM_WIDTH, USER_COLUMNS};
use crate::domain::{
    AppId, Message, MessageId, Renders, Room, RoomId, User, UserId, Viewed, now_ms,
};
use crate::store::StoreError;

/// `SELECT` of a message with its room (and personal peers) and sender; add `WHERE …`.
static MESSAGE_SELECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {MESSAGE_COLUMNS}, {ROOM_COLUMNS}, {USER_COLUMNS} FROM messages m \
         JOIN rooms r ON r.id = m.room_id \
         LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
         LEFT JOIN users u ON u.id = m.sender_id "
    )
});

/// Reads a row of [`MESSAGE_SELECT`].
fn message_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let room = rows::room_at(row, MESSAGE_WIDTH)?;
    let sender = rows::user_at(row, MESSAGE_WIDTH + ROOM_WIDTH)?;
    rows::message_at(row, 0, room, sender)
}

fn next_version(conn: &Connection) -> Result<i64, StoreError> {
    super::pool::with_counters(conn, |c| {
        c.version += 1;
        c.version
    })
}

fn read_seq(conn: &Connection, user: UserId, room: RoomId) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT read_seq FROM read_positions WHERE user_id = ?1 AND room_id = ?2")?
        .query_row(params![user, room], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// A message of this app by ID.
pub(super) fn message_by_id(
    conn: &Connection,
    app: AppId,
    id: MessageId,
) -> Result<Option<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{} WHERE m.id = ?1 AND r.app_id = ?2",
        *MESSAGE_SELECT
    ))?;
    Ok(stmt.query_row(params![id, app], message_row).optional()?)
}

/// The messages a sender already stored under these local IDs, in sequence order.
pub(super) fn messages_by_local_ids(
    conn: &Connection,
    sender: UserId,
    local_ids: &[String],
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{} WHERE m.sender_id = ?1 AND m.local_id IN (SELECT value FROM json_each(?2)) \
         ORDER BY m.id",
        *MESSAGE_SELECT
    ))?;
    let list = serde_json::to_string(local_ids).expect("strings serialize");
    let found = stmt
        .query_map(params![sender, list], message_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// Records a change to a message: a new change version and a later `updated`, and the
/// version on its room, so that [`changed_since`] visits the room.
pub(super) fn touch(conn: &Connection, id: MessageId) -> Result<(), StoreError> {
    let version = next_version(conn)?;
    let room: RoomId = conn
        .prepare_cached(
            "UPDATE messages SET updated = max(?2, updated + 1), version = ?3 WHERE id = ?1 \
             RETURNING room_id",
        )?
        .query_row(params![id, now_ms(), version], |r| r.get(0))?;
    conn.prepare_cached("UPDATE rooms SET changed = ?2 WHERE id = ?1")?
        .execute(params![room, version])?;
    Ok(())
}

/// The sequence number of the room's first message created at or after `time` (one past the
/// last if there is none). `created` rises strictly with `seq` within a room (see
/// [`append_message`]), so a binary search over the `(room_id, seq)` index finds it in a few
/// probes, and history pages by time need no index of their own that every append would write.
fn first_seq_created_at(conn: &Connection, room: RoomId, time: i64) -> Result<i64, StoreError> {
    let last: i64 = conn
        .prepare_cached("SELECT last_seq FROM rooms WHERE id = ?1")?
        .query_row([room], |r| r.get(0))?;
    let mut probe = conn.prepare_cached(
        "SELECT seq, created FROM messages WHERE room_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT 1",
    )?;
    // Every message before `low` was created before `time`; every one from `high` on was not.
    let (mut low, mut high) = (1, last + 1);
    while low < high {
        let mid = low + (high - low) / 2;
        let found: Option<(i64, i64)> = probe
            .query_row(params![room, mid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match found {
            Some((seq, created)) if created < time => low = seq + 1,
            _ => high = mid,
        }
    }
    Ok(low)
}

/// Up to `limit` messages created before `max_created` (`0`: the newest), newest first, and
/// whether older ones exist.
pub(super) fn before(
    conn: &Connection,
    room: &Room,
    user: &User,
    max_created: i64,
    limit: i64,
) -> Result<(Vec<Viewed>, bool), StoreError> {
    let end = if max_created <= 0 {
        i64::MAX
    } else {
        first_seq_created_at(conn, room.id, max_created)?
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{} WHERE m.room_id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3",
        *MESSAGE_SELECT
    ))?;
    let mut found: Vec<Message> = stmt
        .query_map(params![room.id, end, limit + 1], message_row)?
        .collect::<Result<_, _>>()?;
    let has_more = found.len() as i64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(0));
    let seq = read_seq(conn, user.id, room.id)?;
    Ok((
        found.into_iter().map(|m| Viewed::new(m, seq)).collect(),
        has_more,
    ))
}

/// Messages created at or after `min_created` and changed after `last_updated`, newest first.
pub(super) fn after(
    conn: &Connection,
    room: &Room,
    user: &User,
    min_created: i64,
    last_updated: i64,
) -> Result<Vec<Viewed>, StoreError> {
    let start = first_seq_created_at(conn, room.id, min_created)?;
    let mut stmt = conn.prepare_cached(&format!(
        "{} WHERE m.room_id = ?1 AND m.seq >= ?2 AND m.updated > ?3 ORDER BY m.seq DESC",
        *MESSAGE_SELECT
    ))?;
    let found: Vec<Message> = stmt
        .query_map(params![room.id, start, last_updated], message_row)?
        .collect::<Result<_, _>>()?;
    let seq = read_seq(conn, user.id, room.id)?;
    Ok(found.into_iter().map(|m| Viewed::new(m, seq)).collect())
}

/// The user's rooms, explicit or by role, as a `WITH mine (room_id)` clause over `?1` user,
/// `?2` app, `?3` role code.
pub(super) const MY_ROOMS: &str = "WITH mine (room_id) AS ( \
     SELECT room_id FROM room_members WHERE user_id = ?1 \
     UNION SELECT room_id FROM room_roles WHERE app_id = ?2 AND role_code = ?3 AND ?3 <> '') ";

/// The newest message of each of the user's rooms plus every message still unread by them,
/// newest first: what clients build their room list and unread counts from.
///
/// The user's rooms and read positions come from SQLite; each room's newest message (with
/// its room, peers and sender) from `cache` where it is kept, else from SQLite, and is then
/// kept. `tick` is the cache's tick taken before the read's snapshot began (see
/// [`NewestCache`]). Only rooms with unread messages besides the newest are visited again,
/// for those messages alone. A room reached both explicitly and by role comes twice and is
/// kept once, which costs less than having SQLite de-duplicate the room IDs in a temporary
/// B-tree.
pub(super) fn room_list(
    conn: &Connection,
    app: AppId,
    user: &User,
    cache: &NewestCache,
    tick: u64,
) -> Result<Vec<Viewed>, StoreError> {
    static NEWEST: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {MESSAGE_COLUMNS}, {ROOM_COLUMNS}, {USER_COLUMNS} \
             FROM rooms r \
             LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
             JOIN messages m ON m.id = r.last_message_id \
             LEFT JOIN users u ON u.id = m.sender_id WHERE r.id = ?1"
        )
    });
    static UNREAD: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {MESSAGE_COLUMNS}, {USER_COLUMNS} \
             FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
             WHERE m.room_id = ?1 AND m.seq > ?2 AND m.seq < ?3 AND m.type <> 9001 \
                 AND m.is_hidden = 0 AND m.sender_id IS NOT ?4"
        )
    });
    let mut mine: Vec<(i64, i64)> = conn
        .prepare_cached(
            "WITH mine (room_id) AS ( \
                 SELECT room_id FROM room_members WHERE user_id = ?1 \
                 UNION ALL SELECT room_id FROM room_roles \
                     WHERE app_id = ?2 AND role_code = ?3 AND ?3 <> '') \
             SELECT mine.room_id, coalesce(p.read_seq, 0) FROM mine \
             LEFT JOIN read_positions p ON p.user_id = ?1 AND p.room_id = mine.room_id",
        )?
        .query_map(params![user.id, app, user.role_code], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut seen = std::collections::HashSet::with_capacity(mine.len());
    mine.retain(|(room, _)| seen.insert(*room));
    let rooms: Vec<i64> = mine.iter().map(|(room, _)| *room).collect();
    let kept = cache.get(&rooms);
    let mut newest_stmt = conn.prepare_cached(&NEWEST)?;
    let mut unread_stmt = conn.prepare_cached(&UNREAD)?;
    let mut list = Vec::with_capacity(mine.len());
    for ((room, read_seq), kept) in mine.into_iter().zip(kept) {
        let newest = match kept {
            Some(newest) => newest,
            None => {
                // Listed to every member again and again: its renders are kept with it.
                let found = newest_stmt
                    .query_row([room], message_row)
                    .optional()?
                    .map(|message| {
                        Arc::new(Message {
                            renders: Renders::kept(),
                            ..message
                        })
                    });
                cache.put(tick, room, found.clone());
                found
            }
        };
        let Some(newest) = newest else { continue };
        let last = Viewed::shared(newest, read_seq);
        if read_seq + 1 < last.message.seq {
            let room = &last.message.room;
            let rows = unread_stmt.query_map(
                params![room.id, read_seq, last.message.seq, user.id],
                |row| {
                    let sender = rows::user_at(row, MESSAGE_WIDTH)?;
                    rows::message_at(row, 0, room.clone(), sender)
                },
            )?;
            for message in rows {
                list.push(Viewed::new(message?, read_seq));
            }
        }
        list.push(last);
    }
    // Sorted here rather than by SQLite, whose sorter copies every one of the rows' 77
    // columns into a temporary b-tree and back (a tenth of the query).
    list.sort_unstable_by_key(|viewed| std::cmp::Reverse(viewed.message.created));
    Ok(list)
}

/// Every message of the user's rooms changed since version `since`, newest change first.
///
/// Only rooms whose `changed` version (that of their last message change) is past `since` are
/// visited; each of the user's other rooms costs the look-up of its row. Each visited room in
/// two parts, so that appending a message writes no page of a version index:
/// the messages appended after `since` are a suffix of the room (`born`, the version a message
/// was appended with, rises with `seq`), found by walking back from the newest message; the
/// messages changed after being appended come from `messages_changed`. A message appended
/// before migration 0003 has no `born`, and its `version` stands in: that can only count it
/// as appended after `since` when it has changed since, so it belongs in the answer anyway.
pub(super) fn changed_since(
    conn: &Connection,
    app: AppId,
    user: &User,
    since: i64,
) -> Result<Vec<Viewed>, StoreError> {
    static ROOM_SQL: LazyLock<String> = LazyLock::new(|| {
        let select = format!(
            "SELECT {MESSAGE_COLUMNS}, {ROOM_COLUMNS}, {USER_COLUMNS}, coalesce(p.read_seq, 0), \
                 m.version \
             FROM messages m JOIN rooms r ON r.id = m.room_id \
             LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
             LEFT JOIN users u ON u.id = m.sender_id \
             LEFT JOIN read_positions p ON p.user_id = ?1 AND p.room_id = r.id"
        );
        format!(
            "{select} WHERE m.room_id = ?2 AND m.seq >= ?3 \
             UNION ALL \
             {select} WHERE m.room_id = ?2 AND m.version > ?4 AND m.updated > m.created \
                 AND m.seq < ?3"
        )
    });
    static ROOMS_SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{MY_ROOMS} SELECT r.id FROM mine JOIN rooms r ON r.id = mine.room_id \
             WHERE r.changed > ?4"
        )
    });
    let rooms: Vec<i64> = conn
        .prepare_cached(&ROOMS_SQL)?
        .query_map(params![user.id, app, user.role_code, since], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut walk = conn.prepare_cached(
        "SELECT seq, coalesce(born, version) FROM messages WHERE room_id = ?1 ORDER BY seq DESC",
    )?;
    let mut changes = conn.prepare_cached(&ROOM_SQL)?;
    let mut found: Vec<(i64, Viewed)> = Vec::new();
    for room in rooms {
        let mut first_appended = i64::MAX;
        let mut newest = walk.query([room])?;
        while let Some(row) = newest.next()? {
            if row.get::<_, i64>(1)? <= since {
                break;
            }
            first_appended = row.get(0)?;
        }
        let rows = changes.query_map(params![user.id, room, first_appended, since], |row| {
            let message = message_row(row)?;
            let at = MESSAGE_WIDTH + ROOM_WIDTH + rows::USER_WIDTH;
            Ok((row.get(at + 1)?, Viewed::new(message, row.get(at)?)))
        })?;
        for row in rows {
            found.push(row?);
        }
    }
    found.sort_unstable_by_key(|(version, _)| std::cmp::Reverse(*version));
    Ok(found.into_iter().map(|(_, viewed)| viewed).collect())
}

/// Where a device last synced; `None` if it never did.
pub(super) fn device_sync(
    conn: &Connection,
    user: UserId,
    device: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT version FROM device_syncs WHERE user_id = ?1 AND device_id = ?2")?
        .query_row(params![user, device], |r| r.get(0))
        .optional()?)
}

/// The change version the connection's snapshot reflects: every change up to it is visible.
pub(super) fn version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM counters WHERE name = 'version'")?
        .query_row([], |r| r.get(0))?)
}

/// Records that a device has seen every change up to `version`; a sync point only moves
/// forward, so of two syncs of one device answered out of order the later one stays.
pub(super) fn mark_device_synced(
    conn: &Connection,
    user: UserId,
    device: &str,
    version: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO device_syncs (user_id, device_id, version) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_id, device_id) DO UPDATE SET version = max(version, excluded.version)",
    )?
    .execute(params![user, device, version])?;
    Ok(())
}

/// The room's images, videos, files and links created in `[min_created, max_created)`, in
/// `created` order (newest first unless `ascending`), at most `limit`.
pub(super) fn shared_content(
    conn: &Connection,
    room: RoomId,
    min_created: i64,
    max_created: i64,
    ascending: bool,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let sql = format!(
        "{} WHERE m.room_id = ?1 AND m.type IN (1002, 1003, 1004, 1010) AND m.created >= ?2 \
         AND m.created < ?3 AND m.is_deleted = 0 AND m.is_hidden = 0 \
         ORDER BY m.created {} LIMIT ?4",
        *MESSAGE_SELECT,
        if ascending { "ASC" } else { "DESC" }
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_map(params![room, min_created, max_created, limit], message_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}
