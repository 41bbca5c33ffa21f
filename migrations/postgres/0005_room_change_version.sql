-- SQLite's 0005 does not apply to PostgreSQL, and this step changes nothing.
--
-- On SQLite, each room keeps the version of its last message change, so that a sync runs its
-- two statements only for the rooms that changed since: statements there are stepped one by
-- one on a reader thread. PostgreSQL syncs a device with one statement, an index range scan
-- of messages_by_version per room of the user, and keeps no per-room version.
SELECT 1;
