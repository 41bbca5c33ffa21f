//! Messages in PostgreSQL: sends, receipts, edits, deletions, history pages and the sync
//! queries of the client API. Appending itself (per-room sequence and unread arithmetic)
//! lives in `append`, which room changes share.

use std::sync::LazyLock;

use tokio_postgres::Row;

use super::append::next_version;
use super::rooms::MY_ROOMS;
use super::rows::{
    self, MESSAGE_COLUMNS, MESSAGE_WIDTH, ROOM_COLUMNS, ROOM_WIDTH, USER_COLUMNS, USER_WIDTH,
};
use super::{Params, Res, Tx, exec, one, opt, rows as all};
use crate::domain::{AppId, Message, MessageId, Room, RoomId, User, UserId, Viewed, now_ms};

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
fn message_row(row: &Row) -> Res<Message> {
    let room = rows::room_at(row, MESSAGE_WIDTH)?;
    let sender = rows::user_at(row, MESSAGE_WIDTH + ROOM_WIDTH)?;
    rows::message_at(row, 0, room, sender)
}

async fn read_seq(tx: &Tx<'_>, user: UserId, room: RoomId) -> Res<i64> {
    Ok(
        match opt(
            tx,
            "SELECT read_seq FROM read_positions WHERE user_id = $1 AND room_id = $2",
            &[&user, &room],
        )
        .await?
        {
            Some(row) => row.try_get(0)?,
            None => 0,
        },
    )
}

/// A message of this app by ID.
pub(super) async fn message_by_id(tx: &Tx<'_>, app: AppId, id: MessageId) -> Res<Option<Message>> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("{} WHERE m.id = $1 AND r.app_id = $2", *MESSAGE_SELECT));
    opt(tx, &SQL, &[&id, &app])
        .await?
        .as_ref()
        .map(message_row)
        .transpose()
}

/// The messages a sender already stored under these local IDs, in sequence order.
pub(super) async fn messages_by_local_ids(
    tx: &Tx<'_>,
    sender: UserId,
    local_ids: &[String],
) -> Res<Vec<Message>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{} WHERE m.sender_id = $1 AND m.local_id = ANY($2::text[]) ORDER BY m.id",
            *MESSAGE_SELECT
        )
    });
    let ids: Vec<String> = local_ids.to_vec();
    all(tx, &SQL, &[&sender, &ids])
        .await?
        .iter()
        .map(message_row)
        .collect()
}

/// Records a change to a message: a new change version and a later `updated`.
pub(super) async fn touch(tx: &Tx<'_>, id: MessageId) -> Res<()> {
    let version = next_version(tx).await?;
    exec(
        tx,
        "UPDATE messages SET updated = GREATEST($2, updated + 1), version = $3 WHERE id = $1",
        &[&id, &now_ms(), &version],
    )
    .await?;
    Ok(())
}

/// Up to `limit` messages created before `max_created` (`0`: the newest), newest first, and
/// whether older ones exist.
pub(super) async fn before(
    tx: &Tx<'_>,
    room: &Room,
    user: &User,
    max_created: i64,
    limit: i64,
) -> Res<(Vec<Viewed>, bool)> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{} WHERE m.room_id = $1 AND m.created < $2 ORDER BY m.created DESC LIMIT $3",
            *MESSAGE_SELECT
        )
    });
    let bound = if max_created <= 0 {
        i64::MAX
    } else {
        max_created
    };
    let mut found: Vec<Message> = all(tx, &SQL, &[&room.id, &bound, &(limit + 1)])
        .await?
        .iter()
        .map(message_row)
        .collect::<Res<_>>()?;
    let has_more = found.len() as i64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(0));
    let seq = read_seq(tx, user.id, room.id).await?;
    Ok((
        found.into_iter().map(|m| Viewed::new(m, seq)).collect(),
        has_more,
    ))
}

/// Messages created at or after `min_created` and changed after `last_updated`, newest first.
pub(super) async fn after(
    tx: &Tx<'_>,
    room: &Room,
    user: &User,
    min_created: i64,
    last_updated: i64,
) -> Res<Vec<Viewed>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{} WHERE m.room_id = $1 AND m.created >= $2 AND m.updated > $3 \
             ORDER BY m.created DESC",
            *MESSAGE_SELECT
        )
    });
    let found: Vec<Message> = all(tx, &SQL, &[&room.id, &min_created, &last_updated])
        .await?
        .iter()
        .map(message_row)
        .collect::<Res<_>>()?;
    let seq = read_seq(tx, user.id, room.id).await?;
    Ok(found.into_iter().map(|m| Viewed::new(m, seq)).collect())
}

async fn viewed_rows(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Res<Vec<Viewed>> {
    all(tx, sql, params)
        .await?
        .iter()
        .map(|row| {
            let message = message_row(row)?;
            let seq: i64 = row.try_get(MESSAGE_WIDTH + ROOM_WIDTH + USER_WIDTH)?;
            Ok(Viewed::new(message, seq))
        })
        .collect()
}

/// The newest message of each of the user's rooms plus every message still unread by them,
/// newest first: what clients build their room list and unread counts from.
pub(super) async fn room_list(tx: &Tx<'_>, app: AppId, user: &User) -> Res<Vec<Viewed>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let select = format!(
            "SELECT {MESSAGE_COLUMNS}, {ROOM_COLUMNS}, {USER_COLUMNS}, coalesce(p.read_seq, 0) \
             FROM mine JOIN rooms r ON r.id = mine.room_id \
             LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
             LEFT JOIN read_positions p ON p.user_id = $1 AND p.room_id = r.id "
        );
        format!(
            "{MY_ROOMS} \
             {select} JOIN messages m ON m.id = r.last_message_id \
                 LEFT JOIN users u ON u.id = m.sender_id \
             UNION ALL \
             {select} JOIN messages m ON m.room_id = r.id AND m.seq > coalesce(p.read_seq, 0) \
                 AND m.id <> r.last_message_id AND m.type <> 9001 AND NOT m.is_hidden \
                 AND m.sender_id IS DISTINCT FROM $1 \
                 LEFT JOIN users u ON u.id = m.sender_id \
             ORDER BY 18 DESC"
        )
    });
    viewed_rows(tx, &SQL, &[&user.id, &app, &user.role_code]).await
}

/// Every message of the user's rooms changed since version `since`, newest change first.
pub(super) async fn changed_since(
    tx: &Tx<'_>,
    app: AppId,
    user: &User,
    since: i64,
) -> Res<Vec<Viewed>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{MY_ROOMS} SELECT {MESSAGE_COLUMNS}, {ROOM_COLUMNS}, {USER_COLUMNS}, \
                 coalesce(p.read_seq, 0) \
             FROM mine JOIN messages m ON m.room_id = mine.room_id AND m.version > $4 \
             JOIN rooms r ON r.id = m.room_id \
             LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
             LEFT JOIN users u ON u.id = m.sender_id \
             LEFT JOIN read_positions p ON p.user_id = $1 AND p.room_id = r.id \
             ORDER BY m.version DESC"
        )
    });
    viewed_rows(tx, &SQL, &[&user.id, &app, &user.role_code, &since]).await
}

/// Where a device last synced; `None` if it never did.
pub(super) async fn device_sync(tx: &Tx<'_>, user: UserId, device: &str) -> Res<Option<i64>> {
    opt(
        tx,
        "SELECT version FROM device_syncs WHERE user_id = $1 AND device_id = $2",
        &[&user, &device],
    )
    .await?
    .map(|row| Ok(row.try_get(0)?))
    .transpose()
}

/// The last change version this transaction's snapshot sees: every version at or below it
/// has committed (versions commit in order), so a list read on the snapshot holds them all.
pub(super) async fn snapshot_version(tx: &Tx<'_>) -> Res<i64> {
    Ok(
        one(tx, "SELECT value FROM counters WHERE name = 'version'", &[])
            .await?
            .try_get(0)?,
    )
}

/// Moves a device's sync point forward to `version` (never back). In a write of its own,
/// after the read: syncs racing for one device then wait on its row instead of failing their
/// snapshot.
pub(super) async fn move_device_sync(
    tx: &Tx<'_>,
    user: UserId,
    device: &str,
    version: i64,
) -> Res<()> {
    exec(
        tx,
        "INSERT INTO device_syncs (user_id, device_id, version) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, device_id) \
         DO UPDATE SET version = GREATEST(device_syncs.version, excluded.version)",
        &[&user, &device, &version],
    )
    .await?;
    Ok(())
}

/// The room's images, videos, files and links created in `[min_created, max_created)`, in
/// `created` order (newest first unless `ascending`), at most `limit`.
pub(super) async fn shared_content(
    tx: &Tx<'_>,
    room: RoomId,
    min_created: i64,
    max_created: i64,
    ascending: bool,
    limit: i64,
) -> Res<Vec<Message>> {
    let sql = format!(
        "{} WHERE m.room_id = $1 AND m.type IN (1002, 1003, 1004, 1010) AND m.created >= $2 \
         AND m.created < $3 AND NOT m.is_deleted AND NOT m.is_hidden \
         ORDER BY m.created {} LIMIT $4",
        *MESSAGE_SELECT,
        if ascending { "ASC" } else { "DESC" }
    );
    all(tx, &sql, &[&room, &min_created, &max_created, &limit])
        .await?
        .iter()
        .map(message_row)
        .collect()
}
