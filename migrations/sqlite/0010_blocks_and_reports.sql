-- Blocks: a user's own list of users they blocked. A block stops client sends into the
-- personal room of the two and client adds of either to a group by the other.
CREATE TABLE user_blocks (
    blocker_id INTEGER NOT NULL REFERENCES users (id),
    blocked_id INTEGER NOT NULL REFERENCES users (id),
    created    INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
-- The check before a send looks both ways: who blocked the sender.
CREATE INDEX user_blocks_by_blocked ON user_blocks (blocked_id, blocker_id);

-- Reports users submit about a user or a message, for the operator to list and resolve.
CREATE TABLE chat_reports (
    id                INTEGER PRIMARY KEY,
    app_id            INTEGER NOT NULL REFERENCES apps (id),
    reporter_id       INTEGER NOT NULL REFERENCES users (id),
    user_id           INTEGER REFERENCES users (id),     -- the reported user
    room_id           INTEGER REFERENCES rooms (id),     -- with message_id: the reported message
    message_id        INTEGER REFERENCES messages (id),
    category          TEXT NOT NULL,
    is_other_category INTEGER NOT NULL,
    reason            TEXT NOT NULL,
    created           INTEGER NOT NULL,
    resolved          INTEGER                            -- Unix ms; NULL while open
);
CREATE INDEX chat_reports_by_app ON chat_reports (app_id, id);

-- contact/add_by_phones: users by phone number, as the customer's backend stored it.
CREATE INDEX users_by_phone ON users (app_id, phone) WHERE phone <> '';
