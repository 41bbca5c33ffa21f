-- confab schema, PostgreSQL dialect: the same tables as the SQLite schema, with BIGINT
-- integers, BOOLEAN flags and BYTEA hashes. Every table that holds customer data is scoped by
-- app_id, directly or through its room or user.

-- Tenants. Keys, users, rooms and messages each belong to one app.
CREATE TABLE apps (
    id      BIGSERIAL PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL
);

-- Server-Key and App-Key credentials. Only the SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,              -- header authentication looks keys up by ID
    app_id      BIGINT NOT NULL REFERENCES apps (id),
    kind        TEXT NOT NULL CHECK (kind IN ('server', 'app')),
    secret_hash BYTEA NOT NULL,
    created     BIGINT NOT NULL,
    revoked     BIGINT NOT NULL DEFAULT 0      -- Unix ms of revocation; 0 while active
);

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,     -- the wire userID; kept below 2^31
    app_id          BIGINT NOT NULL REFERENCES apps (id),
    xc_user_id      TEXT NOT NULL,
    fullname        TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    username        TEXT NOT NULL DEFAULT '',
    photo_thumbnail TEXT NOT NULL DEFAULT '',
    photo_fullsize  TEXT NOT NULL DEFAULT '',
    role_code       TEXT NOT NULL DEFAULT '',
    last_login      BIGINT NOT NULL DEFAULT 0,
    last_activity   BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    deleted         BIGINT NOT NULL DEFAULT 0
);
-- Every Server API call names users by xcUserID; also makes concurrent upserts collide.
CREATE UNIQUE INDEX users_by_xc_id ON users (app_id, xc_user_id);

-- One-time tickets a client exchanges for tokens; stored hashed.
CREATE TABLE auth_tickets (
    ticket_hash BYTEA PRIMARY KEY,
    app_id      BIGINT NOT NULL REFERENCES apps (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    expires     BIGINT NOT NULL
);
-- Purging expired tickets.
CREATE INDEX auth_tickets_by_expiry ON auth_tickets (expires);

-- One-way contact lists (contact/sync, contact/list).
CREATE TABLE contacts (
    owner_id   BIGINT NOT NULL REFERENCES users (id),
    contact_id BIGINT NOT NULL REFERENCES users (id),
    created    BIGINT NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);

CREATE TABLE rooms (
    id              BIGSERIAL PRIMARY KEY,     -- wire roomID "g<id>" for shared rooms
    app_id          BIGINT NOT NULL REFERENCES apps (id),
    xc_room_id      TEXT,                      -- set for Server API rooms
    personal_a      BIGINT,                    -- personal rooms: the two user IDs, a < b
    personal_b      BIGINT,
    type            BIGINT NOT NULL,
    name            TEXT NOT NULL,
    photo_thumbnail TEXT NOT NULL DEFAULT '',
    photo_fullsize  TEXT NOT NULL DEFAULT '',
    color           TEXT NOT NULL DEFAULT '',
    tags            TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    roles           TEXT NOT NULL DEFAULT '[]', -- JSON copy of room_roles, read with the room
    locked_time     BIGINT NOT NULL DEFAULT 0,  -- 0 while unlocked
    locked_by       BIGINT REFERENCES users (id),
    deleted         BIGINT NOT NULL DEFAULT 0,
    last_seq        BIGINT NOT NULL DEFAULT 0,  -- sequence of the newest message
    chat_count      BIGINT NOT NULL DEFAULT 0,  -- messages that count as unread, ever
    last_message_id BIGINT,
    last_activity   BIGINT NOT NULL,           -- created of the newest message
    created         BIGINT NOT NULL,
    updated         BIGINT NOT NULL
);
-- Server API room lookups by xcRoomID; also makes concurrent creates collide.
CREATE UNIQUE INDEX rooms_by_xc_id ON rooms (app_id, xc_room_id);
-- Personal room lookups by their two users; concurrent first messages collide here.
CREATE UNIQUE INDEX rooms_personal ON rooms (app_id, personal_a, personal_b);

-- Explicit participants.
CREATE TABLE room_members (
    room_id  BIGINT NOT NULL REFERENCES rooms (id),
    user_id  BIGINT NOT NULL REFERENCES users (id),
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    joined   BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)             -- a room's participants (room/get)
);
-- A user's rooms (get_list_by_user, room_list_and_unread).
CREATE INDEX room_members_by_user ON room_members (user_id, room_id);

-- Role codes whose holders are participants of a room.
CREATE TABLE room_roles (
    app_id    BIGINT NOT NULL,
    role_code TEXT NOT NULL,
    room_id   BIGINT NOT NULL REFERENCES rooms (id),
    PRIMARY KEY (app_id, role_code, room_id)   -- a role's rooms (get_list_by_user by role)
);
-- Replacing a room's roles on update.
CREATE INDEX room_roles_by_room ON room_roles (room_id);

-- How far a user has read a room. Unread = rooms.chat_count - read_count.
CREATE TABLE read_positions (
    user_id    BIGINT NOT NULL,
    room_id    BIGINT NOT NULL,
    read_seq   BIGINT NOT NULL,
    read_count BIGINT NOT NULL,                -- rooms.chat_count when read_seq was read
    PRIMARY KEY (user_id, room_id)
);

-- Message IDs: handed out in the transaction that appends, so they follow commit order per
-- room (room lists order rooms by their last message ID).
CREATE SEQUENCE message_ids;

CREATE TABLE messages (
    id           BIGINT PRIMARY KEY,           -- the wire messageID
    room_id      BIGINT NOT NULL REFERENCES rooms (id),
    seq          BIGINT NOT NULL,              -- gapless per room
    sender_id    BIGINT,                       -- NULL when the server itself sent it
    local_id     TEXT NOT NULL,
    type         BIGINT NOT NULL,
    body         TEXT NOT NULL,                -- encoded, as on the wire
    data         TEXT NOT NULL DEFAULT '',
    filter_id    TEXT NOT NULL DEFAULT '',
    is_hidden    BOOLEAN NOT NULL DEFAULT FALSE,
    quote        TEXT,                         -- JSON; NULL when empty, to keep rows small
    reply_to     TEXT,
    forward_from TEXT,
    action       TEXT NOT NULL DEFAULT '',
    target       TEXT,
    is_delivered BOOLEAN NOT NULL DEFAULT FALSE,
    is_read      BOOLEAN NOT NULL DEFAULT FALSE,
    is_deleted   BOOLEAN NOT NULL DEFAULT FALSE,
    is_edited    BOOLEAN NOT NULL DEFAULT FALSE,
    ordinal      BIGINT NOT NULL,              -- rooms.chat_count once this was appended
    version      BIGINT NOT NULL,              -- counters.version at its last change
    created      BIGINT NOT NULL,              -- strictly increasing within a room
    updated      BIGINT NOT NULL,
    deleted      BIGINT NOT NULL DEFAULT 0
);
-- A room's messages in order (history, last message); also refuses a duplicate sequence.
CREATE UNIQUE INDEX messages_by_room ON messages (room_id, seq);
-- History pages by time (list_by_room/before, list_by_room/after).
CREATE INDEX messages_by_created ON messages (room_id, created);
-- What changed in a room since a device's last sync (new_and_updated).
CREATE INDEX messages_by_version ON messages (room_id, version);
-- Idempotent sends: one message per sender and localID, also across nodes.
CREATE UNIQUE INDEX messages_by_local_id ON messages (sender_id, local_id);

-- Monotonic counters; 'version' orders every message change for new_and_updated. The row is
-- locked from a change's version until its commit, so versions commit in order.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('version', 0);

-- Client logins; their tokens are in access_tokens and refresh_tokens, hashed.
CREATE TABLE sessions (
    id              BIGSERIAL PRIMARY KEY,
    app_id          BIGINT NOT NULL REFERENCES apps (id),
    user_id         BIGINT NOT NULL REFERENCES users (id),
    device_id       TEXT NOT NULL DEFAULT '',
    refresh_expires BIGINT NOT NULL,
    created         BIGINT NOT NULL,
    revoked         BIGINT NOT NULL DEFAULT 0  -- Unix ms; 0 while valid
);
-- Revoking all sessions of a user.
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Refresh tokens, hashed; a superseded one stays usable for a short grace period.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY,              -- access_token/refresh looks tokens up by hash
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    superseded BIGINT NOT NULL DEFAULT 0       -- Unix ms when replaced; 0 while current
);
-- Superseding a session's tokens.
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Access tokens, hashed; earlier ones keep their own expiry.
CREATE TABLE access_tokens (
    token_hash BYTEA PRIMARY KEY,              -- every client call looks its token up by hash
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    expires    BIGINT NOT NULL
);
-- Cleaning up a session's expired tokens.
CREATE INDEX access_tokens_by_session ON access_tokens (session_id);

-- Where each device of a user last synced (new_and_updated).
CREATE TABLE device_syncs (
    user_id   BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    version   BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Push tokens per device (push_notification/update); delivery is not part of confab yet.
CREATE TABLE push_tokens (
    user_id   BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    fcm_token TEXT NOT NULL DEFAULT '',
    apn_token TEXT NOT NULL DEFAULT '',
    updated   BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);
