//! Webhook endpoints, their outbox and deliveries on PostgreSQL (the rules are in
//! `service::webhooks`). Several nodes claim deliveries at once: a claim locks the rows it
//! takes and skips rows another node's claim holds (`SKIP LOCKED`), then leases them, so each
//! delivery is attempted by one node at a time and a dead node's leases run out.

use tokio_postgres::Row;

use super::{Res, Tx, exec, one, opt, rows};
use crate::domain::AppId;
use crate::domain::webhook::{
    Due, Endpoint, EventKind, EventRef, Filter, NewEvent, Settled, Status, Target, WAITING,
};

pub(super) async fn targets(tx: &Tx<'_>) -> Res<Vec<Target>> {
    let found = rows(
        tx,
        "SELECT id, app_id, message_types, room_types FROM webhook_endpoints",
        &[],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(Target {
                id: r.try_get(0)?,
                app: r.try_get(1)?,
                filter: Filter {
                    message_types: Filter::parse_list(r.try_get(2)?),
                    room_types: Filter::parse_list(r.try_get(3)?),
                },
            })
        })
        .collect()
}

pub(super) async fn insert_event(tx: &Tx<'_>, event: &NewEvent, endpoints: &[i64]) -> Res<()> {
    let id: i64 = one(
        tx,
        "INSERT INTO webhook_events \
         (app_id, room_id, room_type, message_type, kind, created, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        &[
            &event.app,
            &event.room,
            &event.room_type,
            &event.message_type,
            &event.kind.code(),
            &event.created,
            &event.body,
        ],
    )
    .await?
    .try_get(0)?;
    exec(
        tx,
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, room_id, first_at, next_at) \
         SELECT unnest($1::bigint[]), $2, $3, $4, $4",
        &[&endpoints, &id, &event.room, &event.created],
    )
    .await?;
    Ok(())
}

pub(super) async fn add_endpoint(
    tx: &Tx<'_>,
    app: AppId,
    url: &str,
    sealed_secret: &[u8],
    filter: &Filter,
    now: i64,
) -> Res<i64> {
    Ok(one(
        tx,
        "INSERT INTO webhook_endpoints (app_id, url, secret, message_types, room_types, created) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &[
            &app,
            &url,
            &sealed_secret,
            &Filter::store_list(&filter.message_types),
            &Filter::store_list(&filter.room_types),
            &now,
        ],
    )
    .await?
    .try_get(0)?)
}

fn endpoint(r: &Row) -> Res<Endpoint> {
    Ok(Endpoint {
        id: r.try_get(0)?,
        app: r.try_get(1)?,
        app_name: r.try_get(2)?,
        url: r.try_get(3)?,
        sealed_secret: r.try_get(4)?,
        filter: Filter {
            message_types: Filter::parse_list(r.try_get(5)?),
            room_types: Filter::parse_list(r.try_get(6)?),
        },
        created: r.try_get(7)?,
        status: Status {
            last_success: r.try_get(8)?,
            last_error: r.try_get(9)?,
            last_error_at: r.try_get(10)?,
            backlog: r.try_get(11)?,
            failed: r.try_get(12)?,
        },
    })
}

pub(super) async fn endpoints(tx: &Tx<'_>, app: Option<AppId>) -> Res<Vec<Endpoint>> {
    let found = rows(
        tx,
        "SELECT w.id, w.app_id, a.name, w.url, w.secret, w.message_types, w.room_types, \
             w.created, w.last_success, w.last_error, w.last_error_at, \
             (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.failed = 0), \
             (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.failed = 1) \
         FROM webhook_endpoints w JOIN apps a ON a.id = w.app_id \
         WHERE $1::bigint IS NULL OR w.app_id = $1 ORDER BY w.id",
        &[&app],
    )
    .await?;
    found.iter().map(endpoint).collect()
}

pub(super) async fn remove_endpoint(tx: &Tx<'_>, app: Option<AppId>, id: i64) -> Res<bool> {
    Ok(exec(
        tx,
        "DELETE FROM webhook_endpoints WHERE id = $1 AND ($2::bigint IS NULL OR app_id = $2)",
        &[&id, &app],
    )
    .await?
        > 0)
}

pub(super) async fn events_since(tx: &Tx<'_>, app: AppId, since: i64) -> Res<Vec<EventRef>> {
    let found = rows(
        tx,
        "SELECT id, room_id, room_type, message_type FROM webhook_events \
         WHERE app_id = $1 AND created >= $2 ORDER BY id",
        &[&app, &since],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(EventRef {
                id: r.try_get(0)?,
                room: r.try_get(1)?,
                room_type: r.try_get(2)?,
                message_type: r.try_get(3)?,
            })
        })
        .collect()
}

pub(super) async fn enqueue(
    tx: &Tx<'_>,
    endpoint: i64,
    events: &[EventRef],
    now: i64,
) -> Res<usize> {
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let rooms: Vec<i64> = events.iter().map(|e| e.room).collect();
    let queued = exec(
        tx,
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, room_id, first_at, next_at) \
         SELECT w.id, e.event_id, e.room_id, $4, $4 \
         FROM webhook_endpoints w, unnest($2::bigint[], $3::bigint[]) AS e (event_id, room_id) \
         WHERE w.id = $1 \
         ON CONFLICT (endpoint_id, event_id) DO UPDATE SET \
             attempts = 0, first_at = $4, next_at = $4, failed = 0",
        &[&endpoint, &ids, &rooms, &now],
    )
    .await?;
    Ok(usize::try_from(queued).unwrap_or(0))
}

/// Claims and settles of every node take the endpoints' rows first, so that one claim's
/// setting a delivery waiting never crosses a settle's making it due (see [`claim`]); message
/// writes take none of these locks.
async fn lock_endpoints(tx: &Tx<'_>) -> Res<()> {
    rows(
        tx,
        "SELECT id FROM webhook_endpoints ORDER BY id FOR UPDATE",
        &[],
    )
    .await?;
    Ok(())
}

/// Claims up to `limit` deliveries due at `now` until `lease_until`: as on SQLite, a delivery
/// found behind an earlier pending one of its room is set waiting, so only the first pending
/// event of each endpoint's room is due; a leased delivery is skipped by other nodes until its
/// lease runs out.
pub(super) async fn claim(tx: &Tx<'_>, now: i64, lease_until: i64, limit: i64) -> Res<Vec<Due>> {
    lock_endpoints(tx).await?;
    exec(
        tx,
        "UPDATE webhook_deliveries d SET next_at = $2 \
         WHERE d.failed = 0 AND d.next_at <= $1 \
           AND EXISTS (SELECT 1 FROM webhook_deliveries o \
               WHERE o.endpoint_id = d.endpoint_id AND o.room_id = d.room_id \
                 AND o.failed = 0 AND o.event_id < d.event_id)",
        &[&now, &WAITING],
    )
    .await?;
    let found = rows(
        tx,
        "WITH leased AS ( \
             UPDATE webhook_deliveries d SET lease_until = $2 \
             WHERE (d.endpoint_id, d.event_id) IN ( \
                 SELECT endpoint_id, event_id FROM webhook_deliveries \
                 WHERE failed = 0 AND next_at <= $1 AND lease_until <= $1 \
                 ORDER BY next_at, event_id LIMIT $3) \
             RETURNING d.endpoint_id, d.event_id, d.room_id, d.attempts, d.first_at) \
         SELECT l.endpoint_id, w.url, w.secret, l.event_id, l.room_id, e.kind, e.body, \
             l.attempts, l.first_at \
         FROM leased l JOIN webhook_endpoints w ON w.id = l.endpoint_id \
         JOIN webhook_events e ON e.id = l.event_id",
        &[&now, &lease_until, &limit],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(Due {
                endpoint: r.try_get(0)?,
                url: r.try_get(1)?,
                sealed_secret: r.try_get(2)?,
                event: r.try_get(3)?,
                room: r.try_get(4)?,
                kind: EventKind::from_code(r.try_get(5)?).unwrap_or(EventKind::New),
                body: r.try_get(6)?,
                attempts: r.try_get(7)?,
                first_at: r.try_get(8)?,
            })
        })
        .collect()
}

pub(super) async fn any_due(tx: &Tx<'_>, now: i64) -> Res<bool> {
    Ok(opt(
        tx,
        "SELECT 1 FROM webhook_deliveries \
         WHERE failed = 0 AND next_at <= $1 AND lease_until <= $1 LIMIT 1",
        &[&now],
    )
    .await?
    .is_some())
}

/// The next pending event of an endpoint's room becomes due at `at`.
async fn next_due(tx: &Tx<'_>, endpoint: i64, room: i64, at: i64) -> Res<()> {
    exec(
        tx,
        "UPDATE webhook_deliveries SET next_at = $3 \
         WHERE endpoint_id = $1 AND failed = 0 AND event_id = \
             (SELECT min(event_id) FROM webhook_deliveries \
              WHERE endpoint_id = $1 AND room_id = $2 AND failed = 0)",
        &[&endpoint, &room, &at],
    )
    .await?;
    Ok(())
}

pub(super) async fn settle(tx: &Tx<'_>, settled: &[Settled]) -> Res<()> {
    lock_endpoints(tx).await?;
    for s in settled {
        match s {
            Settled::Delivered {
                endpoint,
                event,
                room,
                at,
            } => {
                exec(
                    tx,
                    "DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2",
                    &[endpoint, event],
                )
                .await?;
                exec(
                    tx,
                    "UPDATE webhook_endpoints SET last_success = greatest(last_success, $2) \
                     WHERE id = $1",
                    &[endpoint, at],
                )
                .await?;
                next_due(tx, *endpoint, *room, *at).await?;
            }
            Settled::Failed {
                endpoint,
                event,
                room,
                at,
                error,
                next_at,
            } => {
                exec(
                    tx,
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = $3, \
                         lease_until = 0, failed = $4 \
                     WHERE endpoint_id = $1 AND event_id = $2",
                    &[
                        endpoint,
                        event,
                        &next_at.unwrap_or(*at),
                        &i64::from(next_at.is_none()),
                    ],
                )
                .await?;
                exec(
                    tx,
                    "UPDATE webhook_endpoints SET last_error = $2, last_error_at = $3 \
                     WHERE id = $1",
                    &[endpoint, error, at],
                )
                .await?;
                if next_at.is_none() {
                    next_due(tx, *endpoint, *room, *at).await?;
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn prune(tx: &Tx<'_>, before: i64, limit: i64) -> Res<usize> {
    let removed = exec(
        tx,
        "DELETE FROM webhook_events WHERE id IN (SELECT e.id FROM webhook_events e \
             WHERE e.created < $1 AND NOT EXISTS \
                 (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) \
             ORDER BY e.id LIMIT $2)",
        &[&before, &limit],
    )
    .await?;
    Ok(usize::try_from(removed).unwrap_or(0))
}
