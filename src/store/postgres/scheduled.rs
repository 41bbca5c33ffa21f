//! Scheduled messages on PostgreSQL. Claiming due messages locks their rows and skips rows
//! another transaction holds, so several nodes send due messages at once and none twice.

use tokio_postgres::Row;

use super::{Fail, Res, Tx, exec, one, rows};
use crate::domain::{AppId, RoomId, Scheduled, ScheduledContent, UserId};

const COLUMNS: &str = "id, app_id, sender_id, room_id, content, scheduled_time, created, updated";

fn scheduled(r: &Row) -> Res<Scheduled> {
    let content: String = r.try_get(4)?;
    Ok(Scheduled {
        id: r.try_get(0)?,
        app: r.try_get(1)?,
        sender: r.try_get(2)?,
        room: r.try_get(3)?,
        content: serde_json::from_str(&content).map_err(json_failure)?,
        scheduled_time: r.try_get(5)?,
        created: r.try_get(6)?,
        updated: r.try_get(7)?,
    })
}

fn json_failure(err: serde_json::Error) -> Fail {
    crate::store::StoreError::Other(format!("a scheduled message's content: {err}")).into()
}

fn json(content: &ScheduledContent) -> Res<String> {
    serde_json::to_string(content).map_err(json_failure)
}

pub(super) async fn next_time(tx: &Tx<'_>) -> Res<Option<i64>> {
    let row = one(
        tx,
        "SELECT min(scheduled_time) FROM scheduled_messages",
        &[],
    )
    .await?;
    Ok(row.try_get(0)?)
}

pub(super) async fn in_room(tx: &Tx<'_>, sender: UserId, room: RoomId) -> Res<Vec<Scheduled>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM scheduled_messages WHERE sender_id = $1 AND room_id = $2 \
         ORDER BY scheduled_time, id"
    );
    rows(tx, &sql, &[&sender, &room])
        .await?
        .iter()
        .map(scheduled)
        .collect()
}

pub(super) async fn insert(
    tx: &Tx<'_>,
    app: AppId,
    sender: UserId,
    room: RoomId,
    content: &ScheduledContent,
    scheduled_time: i64,
    now: i64,
) -> Res<i64> {
    let sql = "INSERT INTO scheduled_messages \
               (app_id, sender_id, room_id, content, scheduled_time, created, updated) \
               VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
    let content = json(content)?;
    let row = one(
        tx,
        sql,
        &[&app, &sender, &room, &content, &scheduled_time, &now],
    )
    .await?;
    Ok(row.try_get(0)?)
}

pub(super) async fn of_sender(tx: &Tx<'_>, sender: UserId, ids: &[i64]) -> Res<Vec<Scheduled>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM scheduled_messages WHERE id = ANY($1) AND sender_id = $2 \
         ORDER BY scheduled_time, id FOR UPDATE"
    );
    rows(tx, &sql, &[&ids, &sender])
        .await?
        .iter()
        .map(scheduled)
        .collect()
}

pub(super) async fn due(tx: &Tx<'_>, now: i64, limit: i64) -> Res<Vec<Scheduled>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM scheduled_messages WHERE scheduled_time <= $1 \
         ORDER BY scheduled_time, id LIMIT $2 FOR UPDATE SKIP LOCKED"
    );
    rows(tx, &sql, &[&now, &limit])
        .await?
        .iter()
        .map(scheduled)
        .collect()
}

pub(super) async fn update(
    tx: &Tx<'_>,
    id: i64,
    scheduled_time: i64,
    content: &ScheduledContent,
    now: i64,
) -> Res<()> {
    let sql = "UPDATE scheduled_messages SET scheduled_time = $2, content = $3, updated = $4 \
               WHERE id = $1";
    exec(tx, sql, &[&id, &scheduled_time, &json(content)?, &now]).await?;
    Ok(())
}

pub(super) async fn delete(tx: &Tx<'_>, id: i64) -> Res<bool> {
    Ok(exec(tx, "DELETE FROM scheduled_messages WHERE id = $1", &[&id]).await? == 1)
}
