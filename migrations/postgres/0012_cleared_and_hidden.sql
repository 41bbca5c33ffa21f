-- Clearing a chat hides, from that user alone, the room's history up to a message (its seq,
-- and when the user cleared it).
ALTER TABLE room_states ADD COLUMN cleared_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE room_states ADD COLUMN cleared_at BIGINT NOT NULL DEFAULT 0;

-- Messages a user deleted for themself only.
CREATE TABLE hidden_messages (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    message_id BIGINT NOT NULL REFERENCES messages (id),
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    PRIMARY KEY (user_id, message_id)
);
-- A room's history as one user sees it.
CREATE INDEX hidden_messages_by_room ON hidden_messages (user_id, room_id);
