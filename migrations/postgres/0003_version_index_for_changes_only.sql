-- SQLite's 0003 does not apply to PostgreSQL, and this step changes nothing.
--
-- On SQLite, messages appended since a sync are found by `born` (the version a message was
-- appended with), so that appending writes no page of a version index: a cost measured on
-- SQLite's single writer thread. PostgreSQL syncs a device with one range scan per room over
-- messages_by_version on one snapshot, and its version order comes from the counter row held
-- until commit; it keeps the full version index and has no `born` column.
SELECT 1;
