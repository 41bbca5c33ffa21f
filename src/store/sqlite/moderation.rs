//! Blocks between users and reports to the operator, on SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::rows::{self, USER_COLUMNS};
use crate::domain::{AppId, NewReport, Report, ReportTarget, User, UserId};
use crate::store::StoreError;

pub(super) fn blocks_between(
    conn: &Connection,
    user: UserId,
    others: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM user_blocks WHERE (blocker_id = ?1 AND blocked_id = ?2) \
         OR (blocker_id = ?2 AND blocked_id = ?1) LIMIT 1",
    )?;
    // Two primary-key probes per user, in the process: cheaper than building a set for one
    // query (PostgreSQL, a round trip away, takes them all in one).
    let mut found = Vec::new();
    for &other in others {
        if stmt
            .query_row(params![user, other], |_| Ok(()))
            .optional()?
            .is_some()
        {
            found.push(other);
        }
    }
    Ok(found)
}

pub(super) fn blocked_users(conn: &Connection, blocker: UserId) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM user_blocks b JOIN users u ON u.id = b.blocked_id \
         WHERE b.blocker_id = ?1 ORDER BY b.created DESC, u.id DESC"
    ))?;
    let users = stmt
        .query_map([blocker], rows::user)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

pub(super) fn set_block(
    conn: &Connection,
    blocker: UserId,
    blocked: UserId,
    blocking: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = if blocking {
        conn.prepare_cached(
            "INSERT INTO user_blocks (blocker_id, blocked_id, created) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![blocker, blocked, now])?
    } else {
        conn.prepare_cached("DELETE FROM user_blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
            .execute(params![blocker, blocked])?
    };
    Ok(changed == 1)
}

pub(super) fn insert_report(conn: &Connection, report: &NewReport) -> Result<i64, StoreError> {
    let (user, room, message) = report.target.columns();
    conn.prepare_cached(
        "INSERT INTO chat_reports (app_id, reporter_id, user_id, room_id, message_id, category, \
         is_other_category, reason, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        report.app,
        report.reporter,
        user,
        room,
        message,
        report.category,
        report.is_other_category,
        report.reason,
        report.created
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn resolve_report(
    conn: &Connection,
    app: AppId,
    id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE chat_reports SET resolved = ?3 \
             WHERE app_id = ?1 AND id = ?2 AND resolved IS NULL",
        )?
        .execute(params![app, id, now])?;
    Ok(changed == 1)
}

pub(super) fn reports(
    conn: &Connection,
    app: AppId,
    before: i64,
    limit: i64,
) -> Result<Vec<Report>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, app_id, reporter_id, user_id, room_id, message_id, category, \
         is_other_category, reason, created, resolved FROM chat_reports \
         WHERE app_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let reports = stmt
        .query_map(params![app, before, limit], report)?
        .collect::<Result<_, _>>()?;
    Ok(reports)
}

fn report(r: &Row<'_>) -> rusqlite::Result<Report> {
    let target = ReportTarget::from_columns(r.get(3)?, r.get(4)?, r.get(5)?).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(3, "user_id".into(), rusqlite::types::Type::Null)
    })?;
    Ok(Report {
        id: r.get(0)?,
        report: NewReport {
            app: r.get(1)?,
            reporter: r.get(2)?,
            target,
            category: r.get(6)?,
            is_other_category: r.get(7)?,
            reason: r.get(8)?,
            created: r.get(9)?,
        },
        resolved: r.get(10)?,
    })
}
