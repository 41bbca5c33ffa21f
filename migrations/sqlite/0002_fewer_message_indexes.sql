-- Every appended message writes one page of each index on messages, so each index is paid for
-- by every participant change, lock, new room and send.

-- History pages by time use messages_by_room instead: `created` rises strictly with `seq`
-- within a room, so the sequence boundary of a time is found by binary search over that index.
DROP INDEX messages_by_created;

-- Messages the server sends itself (no sender) are never looked up by local ID. Leaving them
-- out keeps the index to idempotent client sends. The plan of `sender_id = ?` does not depend
-- on the bound value (any comparison implies IS NOT NULL), so plans stay parameter-independent.
DROP INDEX messages_by_local_id;
CREATE UNIQUE INDEX messages_by_local_id ON messages (sender_id, local_id)
    WHERE sender_id IS NOT NULL;
