-- The step of SQLite's 0002, where it applies to PostgreSQL.

-- Messages the server sends itself (no sender) are never looked up by local ID. Leaving them
-- out keeps the index to client sends; a race of two nodes on one localID is still decided by
-- this unique index. `sender_id = $1` implies `sender_id IS NOT NULL` (the operator is strict),
-- so every plan that used the full index can use this one.
DROP INDEX messages_by_local_id;
CREATE UNIQUE INDEX messages_by_local_id ON messages (sender_id, local_id)
    WHERE sender_id IS NOT NULL;

-- Kept, unlike SQLite: messages_by_created. History pages by time (list_by_room/before) read
-- it. SQLite finds the page's boundary instead by binary search over (room_id, seq) on the
-- calling thread, a few page reads in memory; on PostgreSQL each probe would be a round trip.
