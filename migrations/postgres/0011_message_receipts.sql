-- Each recipient's own receipt of a message, for message info: when one of their devices
-- reported it delivered, and when read. A message counts as read by everyone whose read
-- position has passed it (as unread counts do); the receipts give the times.
CREATE TABLE message_receipts (
    message_id   BIGINT NOT NULL REFERENCES messages (id),
    user_id      BIGINT NOT NULL REFERENCES users (id),
    room_id      BIGINT NOT NULL REFERENCES rooms (id),
    seq          BIGINT NOT NULL,
    delivered_at BIGINT NOT NULL,
    read_at      BIGINT,
    PRIMARY KEY (message_id, user_id)
);
-- A reader's time for a message they read by reading a later one: their first read receipt
-- at or after it.
CREATE INDEX message_receipts_by_reader ON message_receipts (room_id, user_id, seq);
-- Who has read a room up to a message. A position's move changes no indexed column, so the
-- write path keeps its cost (SQLite updates no index, PostgreSQL stays a HOT update).
CREATE INDEX read_positions_by_room ON read_positions (room_id);
