-- Messages users scheduled, until they are sent (then the row goes, in the transaction that
-- appends the message, so a message is sent once: never twice, never lost).
CREATE TABLE scheduled_messages (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the SDKs read an int
    app_id         BIGINT NOT NULL REFERENCES apps (id),
    sender_id      BIGINT NOT NULL REFERENCES users (id),
    room_id        BIGINT NOT NULL REFERENCES rooms (id),
    content        TEXT NOT NULL,                  -- JSON: the message as the client built it
    scheduled_time BIGINT NOT NULL,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);
-- What is due, in time order.
CREATE INDEX scheduled_messages_due ON scheduled_messages (scheduled_time, id);
-- A user's scheduled messages in a room.
CREATE INDEX scheduled_messages_by_room ON scheduled_messages (sender_id, room_id);
