-- Profile and room photos, and a user's bio. A photo is a file like any other, marked public:
-- the SDKs show photos with plain image requests that carry no credentials, so a photo's
-- random ID in its URL (`GET /media/<id>`) is what grants access to it, and only to it.
ALTER TABLE files ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '';
-- A user's photos (photo/get_list), newest last; the main one is the user's own picture.
CREATE TABLE user_photos (
    id      INTEGER PRIMARY KEY,           -- the wire photo ID (the Android SDK reads an int)
    user_id INTEGER NOT NULL REFERENCES users (id),
    file_id TEXT NOT NULL REFERENCES files (id),
    url     TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX user_photos_by_user ON user_photos (user_id, id);
