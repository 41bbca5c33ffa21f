//! Webhook endpoints, their outbox and deliveries on SQLite (the rules are in
//! `service::webhooks`; ordering per room is the claim's: see [`claim`]).

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::AppId;
use crate::domain::webhook::{
    Due, Endpoint, EventKind, EventRef, Filter, NewEvent, Settled, Status, Target, WAITING,
};
use crate::store::StoreError;

pub(super) fn targets(conn: &Connection) -> Result<Vec<Target>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, app_id, message_types, room_types FROM webhook_endpoints")?;
    let found = stmt
        .query_map([], |r| {
            Ok(Target {
                id: r.get(0)?,
                app: r.get(1)?,
                filter: Filter {
                    message_types: Filter::parse_list(&r.get::<_, String>(2)?),
                    room_types: Filter::parse_list(&r.get::<_, String>(3)?),
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn insert_event(
    conn: &Connection,
    event: &NewEvent,
    endpoints: &[i64],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO webhook_events \
         (app_id, room_id, room_type, message_type, kind, created, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        event.app,
        event.room,
        event.room_type,
        event.message_type,
        event.kind.code(),
        event.created,
        event.body
    ])?;
    let id = conn.last_insert_rowid();
    let mut queue = conn.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, room_id, first_at, next_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    for endpoint in endpoints {
        queue.execute(params![endpoint, id, event.room, event.created])?;
    }
    Ok(())
}

pub(super) fn add_endpoint(
    conn: &Connection,
    app: AppId,
    url: &str,
    sealed_secret: &[u8],
    filter: &Filter,
    now: i64,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO webhook_endpoints (app_id, url, secret, message_types, room_types, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        app,
        url,
        sealed_secret,
        Filter::store_list(&filter.message_types),
        Filter::store_list(&filter.room_types),
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Every endpoint of `app` (of every app for `None`), oldest first, with its status.
pub(super) fn endpoints(
    conn: &Connection,
    app: Option<AppId>,
) -> Result<Vec<Endpoint>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.id, w.app_id, a.name, w.url, w.secret, w.message_types, w.room_types, \
             w.created, w.last_success, w.last_error, w.last_error_at, \
             (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.failed = 0), \
             (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.failed = 1) \
         FROM webhook_endpoints w JOIN apps a ON a.id = w.app_id \
         WHERE ?1 IS NULL OR w.app_id = ?1 ORDER BY w.id",
    )?;
    let found = stmt
        .query_map([app], |r| {
            Ok(Endpoint {
                id: r.get(0)?,
                app: r.get(1)?,
                app_name: r.get(2)?,
                url: r.get(3)?,
                sealed_secret: r.get(4)?,
                filter: Filter {
                    message_types: Filter::parse_list(&r.get::<_, String>(5)?),
                    room_types: Filter::parse_list(&r.get::<_, String>(6)?),
                },
                created: r.get(7)?,
                status: Status {
                    last_success: r.get(8)?,
                    last_error: r.get(9)?,
                    last_error_at: r.get(10)?,
                    backlog: r.get(11)?,
                    failed: r.get(12)?,
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn remove_endpoint(
    conn: &Connection,
    app: Option<AppId>,
    id: i64,
) -> Result<bool, StoreError> {
    let removed = conn
        .prepare_cached(
            "DELETE FROM webhook_endpoints WHERE id = ?1 AND (?2 IS NULL OR app_id = ?2)",
        )?
        .execute(params![id, app])?;
    Ok(removed > 0)
}

pub(super) fn events_since(
    conn: &Connection,
    app: AppId,
    since: i64,
) -> Result<Vec<EventRef>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, room_id, room_type, message_type FROM webhook_events \
         WHERE app_id = ?1 AND created >= ?2 ORDER BY id",
    )?;
    let found = stmt
        .query_map(params![app, since], |r| {
            Ok(EventRef {
                id: r.get(0)?,
                room: r.get(1)?,
                room_type: r.get(2)?,
                message_type: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// Queues `events` for `endpoint` again, due now; one it already had is started over (a
/// failed one becomes pending again). How many were queued.
pub(super) fn enqueue(
    conn: &Connection,
    endpoint: i64,
    events: &[EventRef],
    now: i64,
) -> Result<usize, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM webhook_endpoints WHERE id = ?1")?
        .query_row([endpoint], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        return Ok(0);
    }
    let mut queue = conn.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, room_id, first_at, next_at) \
         VALUES (?1, ?2, ?3, ?4, ?4) \
         ON CONFLICT (endpoint_id, event_id) DO UPDATE SET \
             attempts = 0, first_at = ?4, next_at = ?4, failed = 0",
    )?;
    for event in events {
        queue.execute(params![endpoint, event.id, event.room, now])?;
    }
    Ok(events.len())
}

/// Claims up to `limit` deliveries due at `now` until `lease_until`. A delivery is appended
/// due; the first claim that finds an earlier pending delivery of its room sets it waiting
/// ([`WAITING`]), so that only the first pending event of each endpoint's room is ever due,
/// and a backlog costs a claim nothing but the rows that became due since the last one. A
/// room's next event becomes due when the one ahead of it is settled for good ([`settle`]).
pub(super) fn claim(
    conn: &Connection,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Due>, StoreError> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries AS d SET next_at = ?2 \
         WHERE d.failed = 0 AND d.next_at <= ?1 \
           AND EXISTS (SELECT 1 FROM webhook_deliveries o \
               WHERE o.endpoint_id = d.endpoint_id AND o.room_id = d.room_id \
                 AND o.failed = 0 AND o.event_id < d.event_id)",
    )?
    .execute(params![now, WAITING])?;
    let mut stmt = conn.prepare_cached(
        "SELECT d.endpoint_id, w.url, w.secret, d.event_id, d.room_id, e.kind, e.body, \
             d.attempts, d.first_at \
         FROM webhook_deliveries d \
         JOIN webhook_endpoints w ON w.id = d.endpoint_id \
         JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.failed = 0 AND d.next_at <= ?1 AND d.lease_until <= ?1 \
         ORDER BY d.next_at, d.event_id LIMIT ?2",
    )?;
    let due: Vec<Due> = stmt
        .query_map(params![now, limit], |r| {
            Ok(Due {
                endpoint: r.get(0)?,
                url: r.get(1)?,
                sealed_secret: r.get(2)?,
                event: r.get(3)?,
                room: r.get(4)?,
                kind: EventKind::from_code(r.get(5)?).unwrap_or(EventKind::New),
                body: r.get(6)?,
                attempts: r.get(7)?,
                first_at: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut lease = conn.prepare_cached(
        "UPDATE webhook_deliveries SET lease_until = ?3 WHERE endpoint_id = ?1 AND event_id = ?2",
    )?;
    for d in &due {
        lease.execute(params![d.endpoint, d.event, lease_until])?;
    }
    Ok(due)
}

pub(super) fn any_due(conn: &Connection, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM webhook_deliveries \
             WHERE failed = 0 AND next_at <= ?1 AND lease_until <= ?1 LIMIT 1",
        )?
        .query_row([now], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Records what became of claimed deliveries: an acknowledged one goes, a failed one waits
/// for its next attempt or is given up; either way for good, the next pending event of its
/// room becomes due.
pub(super) fn settle(conn: &Connection, settled: &[Settled]) -> Result<(), StoreError> {
    let mut done = conn.prepare_cached(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1 AND event_id = ?2",
    )?;
    let mut success =
        conn.prepare_cached("UPDATE webhook_endpoints SET last_success = ?2 WHERE id = ?1")?;
    let mut retry = conn.prepare_cached(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = ?3, lease_until = 0, \
             failed = ?4 \
         WHERE endpoint_id = ?1 AND event_id = ?2",
    )?;
    let mut error = conn.prepare_cached(
        "UPDATE webhook_endpoints SET last_error = ?2, last_error_at = ?3 WHERE id = ?1",
    )?;
    let mut next = conn.prepare_cached(
        "UPDATE webhook_deliveries SET next_at = ?3 \
         WHERE endpoint_id = ?1 AND failed = 0 AND event_id = \
             (SELECT min(event_id) FROM webhook_deliveries \
              WHERE endpoint_id = ?1 AND room_id = ?2 AND failed = 0)",
    )?;
    for s in settled {
        match s {
            Settled::Delivered {
                endpoint,
                event,
                room,
                at,
            } => {
                done.execute(params![endpoint, event])?;
                success.execute(params![endpoint, at])?;
                next.execute(params![endpoint, room, at])?;
            }
            Settled::Failed {
                endpoint,
                event,
                room,
                at,
                error: why,
                next_at,
            } => {
                retry.execute(params![
                    endpoint,
                    event,
                    next_at.unwrap_or(*at),
                    i64::from(next_at.is_none())
                ])?;
                error.execute(params![endpoint, why, at])?;
                if next_at.is_none() {
                    next.execute(params![endpoint, room, at])?;
                }
            }
        }
    }
    Ok(())
}

/// Removes up to `limit` events recorded before `before` that no endpoint still has to
/// deliver; how many.
pub(super) fn prune(conn: &Connection, before: i64, limit: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM webhook_events WHERE id IN (SELECT e.id FROM webhook_events e \
                 WHERE e.created < ?1 AND NOT EXISTS \
                     (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) \
                 ORDER BY e.id LIMIT ?2)",
        )?
        .execute(params![before, limit])?)
}
