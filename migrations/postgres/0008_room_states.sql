-- A user's own state of a room: muted, pinned, marked as unread. Only the user sees it; it is
-- kept so that it survives reconnects and reaches their other devices. A row stays when every
-- state is cleared (a few bytes), so that a change is one statement.
CREATE TABLE room_states (
    user_id       BIGINT NOT NULL REFERENCES users (id),
    room_id       BIGINT NOT NULL REFERENCES rooms (id),
    muted_until   BIGINT,                     -- Unix ms; 0 until unmuted; NULL not muted
    pinned_at     BIGINT,                     -- NULL not pinned
    marked_unread BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, room_id)
);
