-- Each app's own user, with an empty xcUserID (which no Server API or client call can name) and
-- the app's name: the sender of the system messages of changes made through the Server API, so
-- that the SDKs can name who "created this room". New apps get theirs when they are created.
INSERT INTO users (app_id, xc_user_id, fullname, created, updated)
SELECT id, '', name, created, created FROM apps WHERE true
ON CONFLICT (app_id, xc_user_id) DO NOTHING;
