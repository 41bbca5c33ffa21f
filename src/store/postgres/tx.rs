//! [`ChatTx`] on PostgreSQL: a write rule's primitives inside one transaction.
//!
//! The rule may run more than once: when the transaction loses a race (a unique violation, a
//! deadlock, a serialization failure), the primitive reports [`StoreError::Retry`] and the
//! whole transaction, rule included, runs again from the start.

use async_trait::async_trait;

use super::{
    Fail, Res, Tx, append, exec, marks, messages, moderation, one, opt, receipts, room_states,
    rooms, rows as all, scheduled, users, webhooks,
};
use crate::domain::webhook;
use crate::domain::{
    AppId, Audience, FeedItem, Hidden, Message, MessageId, NewMessage, NewReport, Receipt, Report,
    Room, RoomBundle, RoomId, RoomState, RoomStateChange, Scheduled, ScheduledContent, StoredFile,
    User, UserId, UserPhoto, Viewed,
};
use crate::store::{ChatRead, ChatTx, Joining, NewRoom, RoomUpsert, RowLock, StoreError};

/// The columns of a [`StoredFile`], for [`file_row`]; add `WHERE …`.
const FILE_SELECT: &str =
    "SELECT id, app_id, uploader_id, media_type, size, width, height, created, public FROM files";

fn file_row(row: &tokio_postgres::Row) -> Result<StoredFile, StoreError> {
    let read = || {
        Ok::<_, tokio_postgres::Error>(StoredFile {
            id: row.try_get(0)?,
            app: row.try_get(1)?,
            uploader: row.try_get(2)?,
            media_type: row.try_get(3)?,
            size: row.try_get(4)?,
            width: row.try_get(5)?,
            height: row.try_get(6)?,
            created: row.try_get(7)?,
            public: row.try_get(8)?,
        })
    };
    read().map_err(|e| Fail::Db(e).into_store_error())
}

fn photo_row(row: &tokio_postgres::Row) -> Result<UserPhoto, StoreError> {
    let read = || {
        Ok::<_, tokio_postgres::Error>(UserPhoto {
            id: row.try_get(0)?,
            file_id: row.try_get(1)?,
            url: row.try_get(2)?,
            created: row.try_get(3)?,
        })
    };
    read().map_err(|e| Fail::Db(e).into_store_error())
}

/// An open transaction and the attempt's feed, lent to one rule.
pub(super) struct PgTx<'t, 'c> {
    pub(super) tx: &'t Tx<'c>,
    pub(super) feed: &'t mut Vec<FeedItem>,
}

/// A primitive's outcome in the rule's terms, keeping "run again" for lost races.
fn rule<T>(result: Res<T>) -> Result<T, StoreError> {
    result.map_err(Fail::into_store_error)
}

impl PgTx<'_, '_> {
    /// After a conditional change to a message: `None` if it changed no row; otherwise the
    /// change gets its version and the message is read back as it now is.
    async fn touched(
        &self,
        app: AppId,
        id: MessageId,
        changed: u64,
    ) -> Result<Option<Message>, StoreError> {
        if changed == 0 {
            return Ok(None);
        }
        rule(messages::touch(self.tx, id).await)?;
        rule(messages::message_by_id(self.tx, app, id).await)
    }
}

#[async_trait]
impl ChatRead for PgTx<'_, '_> {
    async fn file_by_id(&mut self, app: AppId, id: &str) -> Result<Option<StoredFile>, StoreError> {
        let sql = format!("{FILE_SELECT} WHERE id = $1 AND app_id = $2");
        let row = rule(opt(self.tx, &sql, &[&id, &app]).await)?;
        row.as_ref().map(file_row).transpose()
    }

    async fn public_file(&mut self, id: &str) -> Result<Option<StoredFile>, StoreError> {
        let sql = format!("{FILE_SELECT} WHERE id = $1 AND public");
        let row = rule(opt(self.tx, &sql, &[&id]).await)?;
        row.as_ref().map(file_row).transpose()
    }

    async fn user_photos(&mut self, user: UserId) -> Result<Vec<UserPhoto>, StoreError> {
        let sql =
            "SELECT id, file_id, url, created FROM user_photos WHERE user_id = $1 ORDER BY id";
        rule(all(self.tx, sql, &[&user]).await)?
            .iter()
            .map(photo_row)
            .collect()
    }

    async fn user_bios(&mut self, users: &[UserId]) -> Result<Vec<String>, StoreError> {
        // One round trip for the whole listing.
        let sql = "SELECT id, bio FROM users WHERE id = ANY($1)";
        let mut found = std::collections::HashMap::new();
        for row in rule(all(self.tx, sql, &[&users]).await)? {
            let id: UserId = row.try_get(0).map_err(|e| Fail::Db(e).into_store_error())?;
            let bio: String = row.try_get(1).map_err(|e| Fail::Db(e).into_store_error())?;
            found.insert(id, bio);
        }
        Ok(users
            .iter()
            .map(|user| found.get(user).cloned().unwrap_or_default())
            .collect())
    }

    async fn rooms_of_file(&mut self, id: &str) -> Result<Vec<RoomId>, StoreError> {
        let sql = "SELECT room_id FROM file_rooms WHERE file_id = $1";
        rule(all(self.tx, sql, &[&id]).await)?
            .iter()
            .map(|row| row.try_get(0).map_err(|e| Fail::Db(e).into_store_error()))
            .collect()
    }

    async fn shared_content(
        &mut self,
        room: RoomId,
        min_created: i64,
        max_created: i64,
        ascending: bool,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        rule(
            messages::shared_content(self.tx, room, min_created, max_created, ascending, limit)
                .await,
        )
    }

    async fn room_states(&mut self, app: AppId, user: &User) -> Result<Vec<RoomState>, StoreError> {
        rule(room_states::list(self.tx, app, user).await)
    }

    async fn starred_ids(
        &mut self,
        user: UserId,
        room: RoomId,
    ) -> Result<Vec<MessageId>, StoreError> {
        rule(marks::starred_ids(self.tx, user, room).await)
    }

    async fn pinned_ids(&mut self, room: RoomId) -> Result<Vec<MessageId>, StoreError> {
        rule(marks::pinned_ids(self.tx, room).await)
    }

    async fn groups_in_common(
        &mut self,
        app: AppId,
        a: &User,
        b: &User,
        limit: i64,
    ) -> Result<Vec<Room>, StoreError> {
        rule(rooms::groups_in_common(self.tx, app, a, b, limit).await)
    }

    async fn blocks_between(
        &mut self,
        user: UserId,
        others: &[UserId],
    ) -> Result<Vec<UserId>, StoreError> {
        rule(moderation::blocks_between(self.tx, user, others).await)
    }

    async fn hidden(&mut self, user: UserId, room: Option<RoomId>) -> Result<Hidden, StoreError> {
        rule(room_states::hidden(self.tx, user, room).await)
    }

    async fn receipts(&mut self, message: MessageId) -> Result<Vec<Receipt>, StoreError> {
        rule(receipts::receipts(self.tx, message).await)
    }

    async fn readers(&mut self, room: RoomId, seq: i64) -> Result<Vec<UserId>, StoreError> {
        rule(receipts::readers(self.tx, room, seq).await)
    }

    async fn first_read_after(
        &mut self,
        room: RoomId,
        user: UserId,
        seq: i64,
    ) -> Result<Option<i64>, StoreError> {
        rule(receipts::first_read_after(self.tx, room, user, seq).await)
    }

    async fn next_scheduled_time(&mut self) -> Result<Option<i64>, StoreError> {
        rule(scheduled::next_time(self.tx).await)
    }

    async fn scheduled_in_room(
        &mut self,
        sender: UserId,
        room: RoomId,
    ) -> Result<Vec<Scheduled>, StoreError> {
        rule(scheduled::in_room(self.tx, sender, room).await)
    }

    async fn users_by_phones(
        &mut self,
        app: AppId,
        phones: &[String],
    ) -> Result<Vec<User>, StoreError> {
        rule(users::users_by_phones(self.tx, app, phones).await)
    }

    async fn blocked_users(&mut self, blocker: UserId) -> Result<Vec<User>, StoreError> {
        rule(moderation::blocked_users(self.tx, blocker).await)
    }

    async fn reports(
        &mut self,
        app: AppId,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Report>, StoreError> {
        rule(moderation::reports(self.tx, app, before, limit).await)
    }

    async fn room_by_xc_id(
        &mut self,
        app: AppId,
        xc_room_id: &str,
        lock: RowLock,
    ) -> Result<Option<Room>, StoreError> {
        rule(rooms::room_by_xc_id(self.tx, app, xc_room_id, lock == RowLock::Update).await)
    }

    async fn room_by_id(
        &mut self,
        app: AppId,
        id: RoomId,
        lock: RowLock,
    ) -> Result<Room, StoreError> {
        match lock {
            RowLock::Update => rule(rooms::lock_room(self.tx, app, id).await),
            RowLock::None => rule(rooms::room_by_id(self.tx, app, id).await),
        }
    }

    async fn personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
    ) -> Result<Option<Room>, StoreError> {
        rule(rooms::personal_room(self.tx, app, a, b).await)
    }

    async fn bundle(&mut self, room: Room) -> Result<RoomBundle, StoreError> {
        rule(rooms::bundle(self.tx, room).await)
    }

    async fn is_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2";
        rule(opt(self.tx, sql, &[&room, &user]).await).map(|row| row.is_some())
    }

    async fn is_admin(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        let sql = "SELECT is_admin FROM room_members WHERE room_id = $1 AND user_id = $2";
        match rule(opt(self.tx, sql, &[&room, &user]).await)? {
            Some(row) => row.try_get(0).map_err(|e| Fail::Db(e).into_store_error()),
            None => Ok(false),
        }
    }

    async fn user_by_xc_id(
        &mut self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        rule(users::user_by_xc_id(self.tx, app, xc_user_id).await)
    }

    async fn users_by_xc_ids(
        &mut self,
        app: AppId,
        xc_user_ids: &[String],
    ) -> Result<Vec<User>, StoreError> {
        rule(users::users_by_xc_ids(self.tx, app, xc_user_ids).await)
    }

    async fn user_in_app(&mut self, app: AppId, id: UserId) -> Result<Option<User>, StoreError> {
        rule(users::user_in_app(self.tx, app, id).await)
    }

    async fn message_by_id(
        &mut self,
        app: AppId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError> {
        rule(messages::message_by_id(self.tx, app, id).await)
    }

    async fn message_ordinal(&mut self, id: MessageId) -> Result<i64, StoreError> {
        let sql = "SELECT ordinal FROM messages WHERE id = $1";
        let row = rule(one(self.tx, sql, &[&id]).await)?;
        row.try_get(0).map_err(|e| Fail::Db(e).into_store_error())
    }

    async fn own_messages_by_local_ids(
        &mut self,
        sender: UserId,
        local_ids: &[String],
    ) -> Result<Vec<Message>, StoreError> {
        rule(messages::messages_by_local_ids(self.tx, sender, local_ids).await)
    }

    async fn read_seq(&mut self, user: UserId, room: RoomId) -> Result<i64, StoreError> {
        rule(append::read_seq(self.tx, user, room).await)
    }

    async fn audience(
        &mut self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
    ) -> Result<Audience, StoreError> {
        rule(append::audience(self.tx, app, room, extra).await)
    }

    async fn history_before(
        &mut self,
        room: &Room,
        viewer: &User,
        max_created: i64,
        limit: i64,
    ) -> Result<(Vec<Viewed>, bool), StoreError> {
        rule(messages::before(self.tx, room, viewer, max_created, limit).await)
    }

    async fn history_after(
        &mut self,
        room: &Room,
        viewer: &User,
        min_created: i64,
        last_updated: i64,
    ) -> Result<Vec<Viewed>, StoreError> {
        rule(messages::after(self.tx, room, viewer, min_created, last_updated).await)
    }
}

#[async_trait]
impl ChatTx for PgTx<'_, '_> {
    async fn insert_file(
        &mut self,
        file: &StoredFile,
        room: Option<RoomId>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO files (id, app_id, uploader_id, media_type, size, width, height, \
                   created, public) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        rule(
            exec(
                self.tx,
                sql,
                &[
                    &file.id,
                    &file.app,
                    &file.uploader,
                    &file.media_type,
                    &file.size,
                    &file.width,
                    &file.height,
                    &file.created,
                    &file.public,
                ],
            )
            .await,
        )?;
        match room {
            Some(room) => self.link_file(&file.id, room).await,
            None => Ok(()),
        }
    }

    async fn delete_file(&mut self, id: &str) -> Result<(), StoreError> {
        rule(exec(self.tx, "DELETE FROM file_rooms WHERE file_id = $1", &[&id]).await)?;
        rule(exec(self.tx, "DELETE FROM files WHERE id = $1", &[&id]).await).map(drop)
    }

    async fn insert_user_photo(
        &mut self,
        user: UserId,
        file_id: &str,
        url: &str,
        created: i64,
    ) -> Result<i64, StoreError> {
        let sql = "INSERT INTO user_photos (user_id, file_id, url, created) \
                   VALUES ($1, $2, $3, $4) RETURNING id";
        let row = rule(one(self.tx, sql, &[&user, &file_id, &url, &created]).await)?;
        row.try_get(0).map_err(|e| Fail::Db(e).into_store_error())
    }

    async fn delete_user_photo(
        &mut self,
        user: UserId,
        id: i64,
    ) -> Result<Option<UserPhoto>, StoreError> {
        let sql = "DELETE FROM user_photos WHERE id = $1 AND user_id = $2 \
                   RETURNING id, file_id, url, created";
        let row = rule(opt(self.tx, sql, &[&id, &user]).await)?;
        row.as_ref().map(photo_row).transpose()
    }

    async fn set_user_photo(
        &mut self,
        user: UserId,
        url: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE users SET photo_thumbnail = $2, photo_fullsize = $2, \
                   updated = GREATEST($3, updated + 1) WHERE id = $1";
        rule(exec(self.tx, sql, &[&user, &url, &now]).await).map(drop)
    }

    async fn set_user_bio(&mut self, user: UserId, bio: &str, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE users SET bio = $2, updated = GREATEST($3, updated + 1) WHERE id = $1";
        rule(exec(self.tx, sql, &[&user, &bio, &now]).await).map(drop)
    }

    async fn set_room_photo(
        &mut self,
        room: RoomId,
        url: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE rooms SET photo_thumbnail = $2, photo_fullsize = $2, updated = $3 \
                   WHERE id = $1";
        rule(exec(self.tx, sql, &[&room, &url, &now]).await).map(drop)
    }

    async fn link_file(&mut self, id: &str, room: RoomId) -> Result<(), StoreError> {
        let sql = "INSERT INTO file_rooms (file_id, room_id) VALUES ($1, $2) \
                   ON CONFLICT DO NOTHING";
        rule(exec(self.tx, sql, &[&id, &room]).await).map(|_| ())
    }

    async fn insert_shared_room(
        &mut self,
        app: AppId,
        room: &NewRoom<'_>,
    ) -> Result<RoomId, StoreError> {
        rule(rooms::insert_shared_room(self.tx, app, room).await)
    }

    async fn update_shared_room(
        &mut self,
        app: AppId,
        room: RoomId,
        upsert: &RoomUpsert,
        now: i64,
    ) -> Result<(), StoreError> {
        rule(rooms::update_shared_room(self.tx, app, room, upsert, now).await)
    }

    async fn delete_room(&mut self, room: RoomId, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE rooms SET deleted = $2, updated = $2 WHERE id = $1";
        rule(exec(self.tx, sql, &[&room, &now]).await).map(drop)
    }

    async fn rename_room(&mut self, room: RoomId, name: &str, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE rooms SET name = $2, updated = $3 WHERE id = $1";
        rule(exec(self.tx, sql, &[&room, &name, &now]).await).map(drop)
    }

    async fn add_member(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
        now: i64,
        _joining: Joining,
    ) -> Result<bool, StoreError> {
        // A position at the present of a room without history reads the same as none.
        rule(rooms::add_member(self.tx, room, user, admin, now).await)
    }

    async fn remove_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        rule(rooms::remove_member(self.tx, room, user).await)
    }

    async fn set_admin(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE room_members SET is_admin = $3 \
                   WHERE room_id = $1 AND user_id = $2 AND is_admin <> $3";
        rule(exec(self.tx, sql, &[&room, &user, &admin]).await).map(|changed| changed == 1)
    }

    async fn set_room_lock(
        &mut self,
        room: RoomId,
        locked_time: i64,
        locked_by: Option<UserId>,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE rooms SET locked_time = $2, locked_by = $3, updated = $4 WHERE id = $1";
        rule(exec(self.tx, sql, &[&room, &locked_time, &locked_by, &now]).await).map(drop)
    }

    async fn append_messages(
        &mut self,
        app: AppId,
        room: &Room,
        messages: Vec<NewMessage>,
        extra: &[UserId],
    ) -> Result<Vec<Message>, StoreError> {
        rule(append::append_messages(self.tx, self.feed, app, room, messages, extra).await)
    }

    async fn set_read_position(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        count: i64,
    ) -> Result<(), StoreError> {
        rule(append::set_read_position(self.tx, user, room, seq, count).await)
    }

    async fn set_receipt(
        &mut self,
        app: AppId,
        id: MessageId,
        read: bool,
    ) -> Result<Option<Message>, StoreError> {
        // The row lock and the condition make a second node's `UPDATE` change nothing.
        let sql = "UPDATE messages SET is_delivered = TRUE, is_read = is_read OR $2 \
                   WHERE id = $1 AND (NOT is_delivered OR (NOT is_read AND $2))";
        let changed = rule(exec(self.tx, sql, &[&id, &read]).await)?;
        self.touched(app, id, changed).await
    }

    async fn delete_message(
        &mut self,
        app: AppId,
        id: MessageId,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        let sql =
            "UPDATE messages SET is_deleted = TRUE, deleted = $2 WHERE id = $1 AND NOT is_deleted";
        let changed = rule(exec(self.tx, sql, &[&id, &now]).await)?;
        self.touched(app, id, changed).await
    }

    async fn add_contact(
        &mut self,
        owner: UserId,
        contact: UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO contacts (owner_id, contact_id, created) VALUES ($1, $2, $3) \
                   ON CONFLICT DO NOTHING";
        rule(exec(self.tx, sql, &[&owner, &contact, &now]).await).map(|added| added == 1)
    }

    async fn remove_contact(&mut self, owner: UserId, contact: UserId) -> Result<bool, StoreError> {
        let sql = "DELETE FROM contacts WHERE owner_id = $1 AND contact_id = $2";
        rule(exec(self.tx, sql, &[&owner, &contact]).await).map(|removed| removed == 1)
    }

    async fn set_last_activity(&mut self, user: UserId, at: i64) -> Result<(), StoreError> {
        let sql = "UPDATE users SET last_activity = $2 WHERE id = $1";
        rule(exec(self.tx, sql, &[&user, &at]).await).map(drop)
    }

    async fn change_room_states(
        &mut self,
        user: UserId,
        rooms: &[RoomId],
        change: RoomStateChange,
    ) -> Result<Vec<RoomId>, StoreError> {
        rule(room_states::change(self.tx, user, rooms, change).await)
    }

    async fn set_star(
        &mut self,
        user: UserId,
        room: RoomId,
        message: MessageId,
        starred: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        rule(marks::set_star(self.tx, user, room, message, starred, now).await)
    }

    async fn set_pin(
        &mut self,
        room: RoomId,
        message: MessageId,
        pinned: bool,
        by: UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        rule(marks::set_pin(self.tx, room, message, pinned, by, now).await)
    }

    async fn edit_message_content(
        &mut self,
        app: AppId,
        id: MessageId,
        body: &str,
        data: &str,
    ) -> Result<Option<Message>, StoreError> {
        let sql = "UPDATE messages SET body = $2, data = $3, is_edited = TRUE \
                   WHERE id = $1 AND NOT is_deleted";
        let changed = rule(exec(self.tx, sql, &[&id, &body, &data]).await)?;
        self.touched(app, id, changed).await
    }

    async fn clear_room(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        rule(room_states::clear(self.tx, user, room, seq, at).await)
    }

    async fn hide_message(&mut self, user: UserId, message: &Message) -> Result<bool, StoreError> {
        rule(room_states::hide(self.tx, user, message).await)
    }

    async fn insert_scheduled(
        &mut self,
        app: AppId,
        sender: UserId,
        room: RoomId,
        content: &ScheduledContent,
        scheduled_time: i64,
        now: i64,
    ) -> Result<i64, StoreError> {
        rule(scheduled::insert(self.tx, app, sender, room, content, scheduled_time, now).await)
    }

    async fn scheduled_for_update(
        &mut self,
        sender: UserId,
        ids: &[i64],
    ) -> Result<Vec<Scheduled>, StoreError> {
        rule(scheduled::of_sender(self.tx, sender, ids).await)
    }

    async fn due_scheduled(&mut self, now: i64, limit: i64) -> Result<Vec<Scheduled>, StoreError> {
        rule(scheduled::due(self.tx, now, limit).await)
    }

    async fn update_scheduled(
        &mut self,
        id: i64,
        scheduled_time: i64,
        content: &ScheduledContent,
        now: i64,
    ) -> Result<(), StoreError> {
        rule(scheduled::update(self.tx, id, scheduled_time, content, now).await)
    }

    async fn delete_scheduled(&mut self, id: i64) -> Result<bool, StoreError> {
        rule(scheduled::delete(self.tx, id).await)
    }

    async fn record_receipt(
        &mut self,
        message: MessageId,
        room: RoomId,
        seq: i64,
        user: UserId,
        read: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        rule(receipts::record(self.tx, message, room, seq, user, read, now).await)
    }

    async fn set_block(
        &mut self,
        blocker: UserId,
        blocked: UserId,
        blocking: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        rule(moderation::set_block(self.tx, blocker, blocked, blocking, now).await)
    }

    async fn insert_report(&mut self, report: &NewReport) -> Result<i64, StoreError> {
        rule(moderation::insert_report(self.tx, report).await)
    }

    async fn resolve_report(&mut self, app: AppId, id: i64, now: i64) -> Result<bool, StoreError> {
        rule(moderation::resolve_report(self.tx, app, id, now).await)
    }

    fn emit(&mut self, item: FeedItem) {
        self.feed.push(item);
    }

    fn feed(&self) -> &[FeedItem] {
        self.feed
    }

    async fn insert_webhook_event(
        &mut self,
        event: &webhook::NewEvent,
        endpoints: &[i64],
    ) -> Result<(), StoreError> {
        rule(webhooks::insert_event(self.tx, event, endpoints).await)
    }

    async fn insert_personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
        now: i64,
    ) -> Result<Room, StoreError> {
        rule(rooms::insert_personal_room(self.tx, app, a, b, now).await)
    }
}
