-- Webhook endpoints, the outbox of events they hear, and what each still has to deliver.

-- An app's endpoints. `secret` is sealed with the webhook key (never stored as printed);
-- `message_types` and `room_types` are comma-separated filters, '' for all.
CREATE TABLE webhook_endpoints (
    id            INTEGER PRIMARY KEY,
    app_id        INTEGER NOT NULL REFERENCES apps (id),
    url           TEXT NOT NULL,
    secret        BLOB NOT NULL,
    message_types TEXT NOT NULL DEFAULT '',
    room_types    TEXT NOT NULL DEFAULT '',
    created       INTEGER NOT NULL,
    last_success  INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    last_error_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_endpoints_app ON webhook_endpoints (app_id);

-- One row per message event, written in the transaction of the change it reports (an
-- outbox). `body` is the payload as posted; kept for replays until pruned.
CREATE TABLE webhook_events (
    id           INTEGER PRIMARY KEY,
    app_id       INTEGER NOT NULL,
    room_id      INTEGER NOT NULL,
    room_type    INTEGER NOT NULL,
    message_type INTEGER NOT NULL,
    kind         INTEGER NOT NULL,   -- 1 new, 2 edited, 3 deleted
    created      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX webhook_events_app_created ON webhook_events (app_id, created);
-- What pruning removes first.
CREATE INDEX webhook_events_created ON webhook_events (created);

-- An event one endpoint still has to hear (or gave up on: failed = 1, kept for replay).
-- A room's events go out in event order: only the lowest pending one of an endpoint's room
-- is ever attempted.
CREATE TABLE webhook_deliveries (
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL,
    room_id     INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    first_at    INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, event_id)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_room ON webhook_deliveries (endpoint_id, room_id, event_id)
    WHERE failed = 0;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE failed = 0;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
