-- Appending a message no longer writes a page of a version index: every participant change,
-- lock, new room and send paid for one. The index behind new_and_updated now holds only
-- messages changed after being appended (a change always moves `updated` past `created`), and
-- the messages appended after a version are found by `born`, the version a message was
-- appended with, which rises with `seq` within a room (see `changed_since`). Messages appended
-- before this migration have no `born`; their `version` stands in for it.
ALTER TABLE messages ADD COLUMN born INTEGER;
DROP INDEX messages_by_version;
-- What changed in a room since a device's last sync (new_and_updated), among messages changed
-- after being appended. The plan of `updated > created` does not depend on bound values.
CREATE INDEX messages_changed ON messages (room_id, version) WHERE updated > created;
