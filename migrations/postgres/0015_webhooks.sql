-- Webhook endpoints, the outbox of events they hear, and what each still has to deliver.

-- An app's endpoints. `secret` is sealed with the webhook key (never stored as printed);
-- `message_types` and `room_types` are comma-separated filters, '' for all.
CREATE TABLE webhook_endpoints (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id        BIGINT NOT NULL REFERENCES apps (id),
    url           TEXT NOT NULL,
    secret        BYTEA NOT NULL,
    message_types TEXT NOT NULL DEFAULT '',
    room_types    TEXT NOT NULL DEFAULT '',
    created       BIGINT NOT NULL,
    last_success  BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    last_error_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_endpoints_app ON webhook_endpoints (app_id);

-- One row per message event, written in the transaction of the change it reports (an
-- outbox). `body` is the payload as posted; kept for replays until pruned.
CREATE TABLE webhook_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id       BIGINT NOT NULL,
    room_id      BIGINT NOT NULL,
    room_type    BIGINT NOT NULL,
    message_type BIGINT NOT NULL,
    kind         BIGINT NOT NULL,   -- 1 new, 2 edited, 3 deleted
    created      BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX webhook_events_app_created ON webhook_events (app_id, created);
-- What pruning removes first.
CREATE INDEX webhook_events_created ON webhook_events (created);

-- An event one endpoint still has to hear (or gave up on: failed = 1, kept for replay).
-- A room's events go out in event order: only the lowest pending one of an endpoint's room
-- is ever attempted.
CREATE TABLE webhook_deliveries (
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    BIGINT NOT NULL,
    room_id     BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    first_at    BIGINT NOT NULL,
    next_at     BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_room ON webhook_deliveries (endpoint_id, room_id, event_id)
    WHERE failed = 0;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE failed = 0;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
