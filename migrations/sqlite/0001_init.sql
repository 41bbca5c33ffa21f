-- confab schema, SQLite dialect. Every table that holds customer data is scoped by app_id,
-- directly or through its room or user.

-- Tenants. Keys, users, rooms and messages each belong to one app.
CREATE TABLE apps (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL
);

-- Server-Key and App-Key credentials. Only the SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,              -- header authentication looks keys up by ID
    app_id      INTEGER NOT NULL REFERENCES apps (id),
    kind        TEXT NOT NULL CHECK (kind IN ('server', 'app')),
    secret_hash BLOB NOT NULL,
    created     INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0     -- Unix ms of revocation; 0 while active
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,       -- the wire userID; kept below 2^31
    app_id          INTEGER NOT NULL REFERENCES apps (id),
    xc_user_id      TEXT NOT NULL,
    fullname        TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    username        TEXT NOT NULL DEFAULT '',
    photo_thumbnail TEXT NOT NULL DEFAULT '',
    photo_fullsize  TEXT NOT NULL DEFAULT '',
    role_code       TEXT NOT NULL DEFAULT '',
    last_login      INTEGER NOT NULL DEFAULT 0,
    last_activity   INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0
);
-- Every Server API call names users by xcUserID.
CREATE UNIQUE INDEX users_by_xc_id ON users (app_id, xc_user_id);

-- One-time tickets a client exchanges for tokens; stored hashed.
CREATE TABLE auth_tickets (
    ticket_hash BLOB PRIMARY KEY,
    app_id      INTEGER NOT NULL REFERENCES apps (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    expires     INTEGER NOT NULL
);

-- One-way contact lists (contact/sync, contact/list).
CREATE TABLE contacts (
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    contact_id INTEGER NOT NULL REFERENCES users (id),
    created    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
) WITHOUT ROWID;

CREATE TABLE rooms (
    id              INTEGER PRIMARY KEY,       -- wire roomID "g<id>" for shared rooms
    app_id          INTEGER NOT NULL REFERENCES apps (id),
    xc_room_id      TEXT,                      -- set for Server API rooms
    personal_a      INTEGER,                   -- personal rooms: the two user IDs, a < b
    personal_b      INTEGER,
    type            INTEGER NOT NULL,
    name            TEXT NOT NULL,
    photo_thumbnail TEXT NOT NULL DEFAULT '',
    photo_fullsize  TEXT NOT NULL DEFAULT '',
    color           TEXT NOT NULL DEFAULT '',
    tags            TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    roles           TEXT NOT NULL DEFAULT '[]', -- JSON copy of room_roles, read with the room
    locked_time     INTEGER NOT NULL DEFAULT 0, -- 0 while unlocked
    locked_by       INTEGER REFERENCES users (id),
    deleted         INTEGER NOT NULL DEFAULT 0,
    last_seq        INTEGER NOT NULL DEFAULT 0, -- sequence of the newest message
    chat_count      INTEGER NOT NULL DEFAULT 0, -- messages that count as unread, ever
    last_message_id INTEGER,
    last_activity   INTEGER NOT NULL,          -- created of the newest message
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL
);
-- (rooms_of_user orders a user's rooms by last_message_id: message IDs follow commit order.)
-- No index here is partial, so that every query's plan is independent of its parameters
-- (confab runs SQLite with the query planner stability guarantee). UNIQUE allows many NULLs.
-- Server API room lookups by xcRoomID; also makes concurrent creates collide.
CREATE UNIQUE INDEX rooms_by_xc_id ON rooms (app_id, xc_room_id);
-- Personal room lookups by their two users.
CREATE UNIQUE INDEX rooms_personal ON rooms (app_id, personal_a, personal_b);

-- Explicit participants.
CREATE TABLE room_members (
    room_id  INTEGER NOT NULL REFERENCES rooms (id),
    user_id  INTEGER NOT NULL REFERENCES users (id),
    is_admin INTEGER NOT NULL DEFAULT 0,
    joined   INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)             -- a room's participants (room/get)
) WITHOUT ROWID;
-- A user's rooms (get_list_by_user, room_list_and_unread).
CREATE INDEX room_members_by_user ON room_members (user_id, room_id);

-- Role codes whose holders are participants of a room.
CREATE TABLE room_roles (
    app_id    INTEGER NOT NULL,
    role_code TEXT NOT NULL,
    room_id   INTEGER NOT NULL REFERENCES rooms (id),
    PRIMARY KEY (app_id, role_code, room_id)   -- a role's rooms (get_list_by_user by role)
) WITHOUT ROWID;
-- Replacing a room's roles on update.
CREATE INDEX room_roles_by_room ON room_roles (room_id);

-- How far a user has read a room. Unread = rooms.chat_count - read_count, so a new message
-- costs one row whatever the room's size, and a count costs one row lookup.
CREATE TABLE read_positions (
    user_id    INTEGER NOT NULL,
    room_id    INTEGER NOT NULL,
    read_seq   INTEGER NOT NULL,
    read_count INTEGER NOT NULL,               -- rooms.chat_count when read_seq was read
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,          -- the wire messageID
    room_id      INTEGER NOT NULL REFERENCES rooms (id),
    seq          INTEGER NOT NULL,             -- gapless per room
    sender_id    INTEGER,                      -- NULL when the server itself sent it
    local_id     TEXT NOT NULL,
    type         INTEGER NOT NULL,
    body         TEXT NOT NULL,                -- encoded, as on the wire
    data         TEXT NOT NULL DEFAULT '',
    filter_id    TEXT NOT NULL DEFAULT '',
    is_hidden    INTEGER NOT NULL DEFAULT 0,
    quote        TEXT,                         -- JSON; NULL when empty, to keep rows small
    reply_to     TEXT,
    forward_from TEXT,
    action       TEXT NOT NULL DEFAULT '',
    target       TEXT,
    is_delivered INTEGER NOT NULL DEFAULT 0,
    is_read      INTEGER NOT NULL DEFAULT 0,
    is_deleted   INTEGER NOT NULL DEFAULT 0,
    is_edited    INTEGER NOT NULL DEFAULT 0,
    ordinal      INTEGER NOT NULL,             -- rooms.chat_count once this was appended
    version      INTEGER NOT NULL,             -- counters.version at its last change
    created      INTEGER NOT NULL,             -- strictly increasing within a room
    updated      INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0
);
-- A room's messages in order (history, last message).
CREATE UNIQUE INDEX messages_by_room ON messages (room_id, seq);
-- History pages by time (list_by_room/before, list_by_room/after).
CREATE INDEX messages_by_created ON messages (room_id, created);
-- What changed in a room since a device's last sync (new_and_updated).
CREATE INDEX messages_by_version ON messages (room_id, version);
-- Idempotent sends: one message per sender and localID.
CREATE UNIQUE INDEX messages_by_local_id ON messages (sender_id, local_id);

-- Monotonic counters; 'version' orders every message change for new_and_updated.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('version', 0);

-- Client logins; their tokens are in access_tokens and refresh_tokens, hashed.
CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    app_id          INTEGER NOT NULL REFERENCES apps (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    device_id       TEXT NOT NULL DEFAULT '',
    refresh_expires INTEGER NOT NULL,
    created         INTEGER NOT NULL,
    revoked         INTEGER NOT NULL DEFAULT 0  -- Unix ms; 0 while valid
);
-- Revoking all sessions of a user.
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Refresh tokens, hashed. A refresh supersedes the session's current token but leaves it
-- usable for a short grace period, so that concurrent refreshes by one client (the web SDK
-- refreshes from its page and from a worker) do not log it out.
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,               -- access_token/refresh looks tokens up by hash
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    superseded INTEGER NOT NULL DEFAULT 0      -- Unix ms when replaced; 0 while current
) WITHOUT ROWID;
-- Superseding a session's tokens.
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Access tokens, hashed. A refresh adds one; earlier ones keep their own expiry, so a request
-- already in flight with an older token is answered "expired" (40104, refresh and retry)
-- rather than "invalid" (which logs the web SDK out).
CREATE TABLE access_tokens (
    token_hash BLOB PRIMARY KEY,               -- every client call looks its token up by hash
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    expires    INTEGER NOT NULL
) WITHOUT ROWID;
-- Cleaning up a session's expired tokens.
CREATE INDEX access_tokens_by_session ON access_tokens (session_id);

-- Where each device of a user last synced (new_and_updated).
CREATE TABLE device_syncs (
    user_id   INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;

-- Push tokens per device (push_notification/update); delivery is not part of confab yet.
CREATE TABLE push_tokens (
    user_id   INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    fcm_token TEXT NOT NULL DEFAULT '',
    apn_token TEXT NOT NULL DEFAULT '',
    updated   INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;
