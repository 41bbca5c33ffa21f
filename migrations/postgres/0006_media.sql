-- Media: files uploaded into rooms (chat/file/upload), with the rooms whose participants may
-- download them. The bytes live in the media store (the data folder or an S3 bucket) under
-- `<app>/<id>`; the ID is random, so a client never names a path.
CREATE TABLE files (
    id          TEXT PRIMARY KEY,
    app_id      BIGINT NOT NULL REFERENCES apps (id),
    uploader_id BIGINT NOT NULL REFERENCES users (id),
    media_type  TEXT NOT NULL,                -- sniffed from the bytes
    size        BIGINT NOT NULL,
    width       BIGINT NOT NULL,             -- pixels, for images; 0 otherwise
    height      BIGINT NOT NULL,
    created     BIGINT NOT NULL
);
-- A file belongs to the room it was uploaded into, and to every room a message carrying it
-- was sent into by someone who could read it (a forwarded image).
CREATE TABLE file_rooms (
    file_id TEXT NOT NULL REFERENCES files (id),
    room_id BIGINT NOT NULL REFERENCES rooms (id),
    PRIMARY KEY (file_id, room_id)
);
-- A room's shared media, files and links by time (get_shared_content), without reading its
-- other messages; only messages of those types write a page of it.
CREATE INDEX messages_shared ON messages (room_id, created) WHERE type IN (1002, 1003, 1004, 1010);
