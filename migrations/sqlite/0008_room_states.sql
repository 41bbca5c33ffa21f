-- A user's own state of a room: muted, pinned, marked as unread. Only the user sees it; it is
-- kept so that it survives reconnects and reaches their other devices. A row stays when every
-- state is cleared (a few bytes), so that a change is one statement.
CREATE TABLE room_states (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    room_id       INTEGER NOT NULL REFERENCES rooms (id),
    muted_until   INTEGER,                    -- Unix ms; 0 until unmuted; NULL not muted
    pinned_at     INTEGER,                    -- NULL not pinned
    marked_unread INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;
