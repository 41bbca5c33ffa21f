//! Blocks between users and reports to the operator, on PostgreSQL.

use tokio_postgres::Row;

use super::rows::{self, USER_COLUMNS};
use super::{Res, Tx, exec, one, rows as all};
use crate::domain::{AppId, NewReport, Report, ReportTarget, User, UserId};

pub(super) async fn blocks_between(
    tx: &Tx<'_>,
    user: UserId,
    others: &[UserId],
) -> Res<Vec<UserId>> {
    let sql = "SELECT CASE WHEN blocker_id = $1 THEN blocked_id ELSE blocker_id END \
               FROM user_blocks \
               WHERE (blocker_id = $1 AND blocked_id = ANY($2)) \
               OR (blocked_id = $1 AND blocker_id = ANY($2))";
    let found = all(tx, sql, &[&user, &others]).await?;
    let mut ids: Vec<UserId> = found
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable_by_key(|id| id.0);
    ids.dedup();
    Ok(ids)
}

pub(super) async fn blocked_users(tx: &Tx<'_>, blocker: UserId) -> Res<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM user_blocks b JOIN users u ON u.id = b.blocked_id \
         WHERE b.blocker_id = $1 ORDER BY b.created DESC, u.id DESC"
    );
    all(tx, &sql, &[&blocker])
        .await?
        .iter()
        .map(rows::user)
        .collect()
}

pub(super) async fn set_block(
    tx: &Tx<'_>,
    blocker: UserId,
    blocked: UserId,
    blocking: bool,
    now: i64,
) -> Res<bool> {
    let changed = if blocking {
        let sql = "INSERT INTO user_blocks (blocker_id, blocked_id, created) VALUES ($1, $2, $3) \
                   ON CONFLICT DO NOTHING";
        exec(tx, sql, &[&blocker, &blocked, &now]).await?
    } else {
        let sql = "DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2";
        exec(tx, sql, &[&blocker, &blocked]).await?
    };
    Ok(changed == 1)
}

pub(super) async fn insert_report(tx: &Tx<'_>, report: &NewReport) -> Res<i64> {
    let (user, room, message) = report.target.columns();
    let sql = "INSERT INTO chat_reports (app_id, reporter_id, user_id, room_id, message_id, \
               category, is_other_category, reason, created) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    let row = one(
        tx,
        sql,
        &[
            &report.app,
            &report.reporter,
            &user,
            &room,
            &message,
            &report.category,
            &report.is_other_category,
            &report.reason,
            &report.created,
        ],
    )
    .await?;
    Ok(row.try_get(0)?)
}

pub(super) async fn resolve_report(tx: &Tx<'_>, app: AppId, id: i64, now: i64) -> Res<bool> {
    let sql = "UPDATE chat_reports SET resolved = $3 \
               WHERE app_id = $1 AND id = $2 AND resolved IS NULL";
    Ok(exec(tx, sql, &[&app, &id, &now]).await? == 1)
}

pub(super) async fn reports(tx: &Tx<'_>, app: AppId, before: i64, limit: i64) -> Res<Vec<Report>> {
    let sql = "SELECT id, app_id, reporter_id, user_id, room_id, message_id, category, \
               is_other_category, reason, created, resolved FROM chat_reports \
               WHERE app_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3";
    all(tx, sql, &[&app, &before, &limit])
        .await?
        .iter()
        .map(report)
        .collect()
}

fn report(r: &Row) -> Res<Report> {
    let target = ReportTarget::from_columns(r.try_get(3)?, r.try_get(4)?, r.try_get(5)?)
        .ok_or_else(|| crate::store::StoreError::Other("a report names no target".into()))?;
    Ok(Report {
        id: r.try_get(0)?,
        report: NewReport {
            app: r.try_get(1)?,
            reporter: r.try_get(2)?,
            target,
            category: r.try_get(6)?,
            is_other_category: r.try_get(7)?,
            reason: r.try_get(8)?,
            created: r.try_get(9)?,
        },
        resolved: r.try_get(10)?,
    })
}
