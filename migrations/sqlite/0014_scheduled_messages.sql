-- Messages users scheduled, until they are sent (then the row goes, in the transaction that
-- appends the message, so a message is sent once: never twice, never lost).
CREATE TABLE scheduled_messages (
    id             INTEGER PRIMARY KEY,            -- the SDKs read an int
    app_id         INTEGER NOT NULL REFERENCES apps (id),
    sender_id      INTEGER NOT NULL REFERENCES users (id),
    room_id        INTEGER NOT NULL REFERENCES rooms (id),
    content        TEXT NOT NULL,                  -- JSON: the message as the client built it
    scheduled_time INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL
);
-- What is due, in time order.
CREATE INDEX scheduled_messages_due ON scheduled_messages (scheduled_time, id);
-- A user's scheduled messages in a room.
CREATE INDEX scheduled_messages_by_room ON scheduled_messages (sender_id, room_id);
