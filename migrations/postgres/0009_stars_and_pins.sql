-- Starred messages (each user's own) and pinned messages (a room's, seen by every member).
CREATE TABLE message_stars (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    message_id BIGINT NOT NULL REFERENCES messages (id),
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    created    BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
-- get_starred_ids / get_starred_list: a user's stars in one room, newest first.
CREATE INDEX message_stars_by_room ON message_stars (user_id, room_id, created);
CREATE TABLE message_pins (
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    message_id BIGINT NOT NULL REFERENCES messages (id),
    pinned_by  BIGINT NOT NULL REFERENCES users (id),
    created    BIGINT NOT NULL,
    PRIMARY KEY (room_id, message_id)
);
