//! Scheduled messages on SQLite. The single writer holds every row, so claiming due messages
//! needs no lock of its own.

use rusqlite::{Connection, Row, params};

use crate::domain::{AppId, RoomId, Scheduled, ScheduledContent, UserId};
use crate::store::StoreError;

const COLUMNS: &str = "id, app_id, sender_id, room_id, content, scheduled_time, created, updated";

fn scheduled(r: &Row<'_>) -> rusqlite::Result<Scheduled> {
    let content: String = r.get(4)?;
    let content = serde_json::from_str(&content).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Scheduled {
        id: r.get(0)?,
        app: r.get(1)?,
        sender: r.get(2)?,
        room: r.get(3)?,
        content,
        scheduled_time: r.get(5)?,
        created: r.get(6)?,
        updated: r.get(7)?,
    })
}

fn json(content: &ScheduledContent) -> Result<String, StoreError> {
    serde_json::to_string(content).map_err(|e| StoreError::Other(e.to_string()))
}

pub(super) fn next_time(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT min(scheduled_time) FROM scheduled_messages")?
        .query_row([], |r| r.get(0))?)
}

pub(super) fn in_room(
    conn: &Connection,
    sender: UserId,
    room: RoomId,
) -> Result<Vec<Scheduled>, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM scheduled_messages WHERE sender_id = ?1 AND room_id = ?2 \
             ORDER BY scheduled_time, id"
        ))?
        .query_map(params![sender, room], scheduled)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn insert(
    conn: &Connection,
    app: AppId,
    sender: UserId,
    room: RoomId,
    content: &ScheduledContent,
    scheduled_time: i64,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO scheduled_messages \
             (app_id, sender_id, room_id, content, scheduled_time, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
        )?
        .query_row(
            params![app, sender, room, json(content)?, scheduled_time, now],
            |r| r.get(0),
        )?)
}

pub(super) fn of_sender(
    conn: &Connection,
    sender: UserId,
    ids: &[i64],
) -> Result<Vec<Scheduled>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM scheduled_messages WHERE id = ?1 AND sender_id = ?2"
    ))?;
    let mut found = Vec::new();
    for id in ids {
        if let Some(row) = stmt.query_map(params![id, sender], scheduled)?.next() {
            found.push(row?);
        }
    }
    found.sort_by_key(|s| (s.scheduled_time, s.id));
    found.dedup_by_key(|s| s.id);
    Ok(found)
}

pub(super) fn due(conn: &Connection, now: i64, limit: i64) -> Result<Vec<Scheduled>, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM scheduled_messages WHERE scheduled_time <= ?1 \
             ORDER BY scheduled_time, id LIMIT ?2"
        ))?
        .query_map(params![now, limit], scheduled)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn update(
    conn: &Connection,
    id: i64,
    scheduled_time: i64,
    content: &ScheduledContent,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE scheduled_messages SET scheduled_time = ?2, content = ?3, updated = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![id, scheduled_time, json(content)?, now])?;
    Ok(())
}

pub(super) fn delete(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM scheduled_messages WHERE id = ?1")?
        .execute([id])?
        == 1)
}
