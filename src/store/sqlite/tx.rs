//! [`ChatRead`] and [`ChatTx`] on SQLite: a rule's primitives inside the writer thread's job,
//! or (reads only) on a reader connection.
//!
//! The rule runs in the job's savepoint on the writer thread; every primitive does its work at
//! once (SQLite is synchronous), so the rule's future completes in a single poll and never
//! leaves the thread whose message-ID and version counters it uses.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    append, marks, messages, moderation, receipts, room_states, rooms, scheduled, users, webhooks,
};
use crate::domain::AppId;
use crate::domain::webhook;
use crate::domain::{
    Audience, FeedItem, Hidden, Message, MessageId, NewMessage, NewReport, Receipt, Report, Room,
    RoomBundle, RoomId, RoomState, RoomStateChange, Scheduled, ScheduledContent, StoredFile, User,
    UserId, UserPhoto, Viewed,
};
use crate::store::{ChatRead, ChatTx, Joining, NewRoom, RoomUpsert, RowLock, StoreError};

/// The writer's connection and the job's feed, lent to one rule.
pub(super) struct SqliteTx<'a> {
    pub(super) conn: &'a mut Connection,
    /// The job's feed; `None` for a read-only rule, which cannot emit.
    pub(super) feed: Option<&'a mut Vec<FeedItem>>,
}

/// Polls a rule's future once on this thread. Every SQLite primitive is ready at once, so a
/// rule that is still pending waited on something that is not SQLite: an error, not a hang.
pub(super) fn run_now<T>(
    future: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Other(
            "a write rule waited on something other than SQLite".into(),
        )),
    }
}

/// The columns of a [`StoredFile`], for [`file_row`]; add `WHERE …`.
const FILE_SELECT: &str =
    "SELECT id, app_id, uploader_id, media_type, size, width, height, created, public FROM files";

fn file_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFile> {
    Ok(StoredFile {
        id: r.get(0)?,
        app: r.get(1)?,
        uploader: r.get(2)?,
        media_type: r.get(3)?,
        size: r.get(4)?,
        width: r.get(5)?,
        height: r.get(6)?,
        created: r.get(7)?,
        public: r.get(8)?,
    })
}

fn photo_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserPhoto> {
    Ok(UserPhoto {
        id: r.get(0)?,
        file_id: r.get(1)?,
        url: r.get(2)?,
        created: r.get(3)?,
    })
}

impl SqliteTx<'_> {
    /// After a conditional change to a message: `None` if it changed no row; otherwise the
    /// change gets its version and the message is read back as it now is.
    fn touched(
        &self,
        app: AppId,
        id: MessageId,
        changed: usize,
    ) -> Result<Option<Message>, StoreError> {
        if changed == 0 {
            return Ok(None);
        }
        messages::touch(self.conn, id)?;
        messages::message_by_id(self.conn, app, id)
    }
}

#[async_trait]
impl ChatRead for SqliteTx<'_> {
    async fn file_by_id(&mut self, app: AppId, id: &str) -> Result<Option<StoredFile>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!("{FILE_SELECT} WHERE id = ?1 AND app_id = ?2"))?
            .query_row(params![id, app], file_row)
            .optional()?)
    }

    async fn public_file(&mut self, id: &str) -> Result<Option<StoredFile>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!("{FILE_SELECT} WHERE id = ?1 AND public"))?
            .query_row(params![id], file_row)
            .optional()?)
    }

    async fn user_photos(&mut self, user: UserId) -> Result<Vec<UserPhoto>, StoreError> {
        let photos = self
            .conn
            .prepare_cached(
                "SELECT id, file_id, url, created FROM user_photos WHERE user_id = ?1 ORDER BY id",
            )?
            .query_map([user], photo_row)?
            .collect::<Result<_, _>>()?;
        Ok(photos)
    }

    async fn user_bios(&mut self, users: &[UserId]) -> Result<Vec<String>, StoreError> {
        // Point look-ups in the process cost less than building a set for one query.
        let mut stmt = self
            .conn
            .prepare_cached("SELECT bio FROM users WHERE id = ?1")?;
        let mut bios = Vec::with_capacity(users.len());
        for &user in users {
            let bio = stmt.query_row([user], |r| r.get(0)).optional()?;
            bios.push(bio.unwrap_or_default());
        }
        Ok(bios)
    }

    async fn rooms_of_file(&mut self, id: &str) -> Result<Vec<RoomId>, StoreError> {
        let rooms = self
            .conn
            .prepare_cached("SELECT room_id FROM file_rooms WHERE file_id = ?1")?
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rooms)
    }

    async fn shared_content(
        &mut self,
        room: RoomId,
        min_created: i64,
        max_created: i64,
        ascending: bool,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        messages::shared_content(self.conn, room, min_created, max_created, ascending, limit)
    }

    async fn room_states(&mut self, app: AppId, user: &User) -> Result<Vec<RoomState>, StoreError> {
        room_states::list(self.conn, app, user)
    }

    async fn starred_ids(
        &mut self,
        user: UserId,
        room: RoomId,
    ) -> Result<Vec<MessageId>, StoreError> {
        marks::starred_ids(self.conn, user, room)
    }

    async fn pinned_ids(&mut self, room: RoomId) -> Result<Vec<MessageId>, StoreError> {
        marks::pinned_ids(self.conn, room)
    }

    async fn groups_in_common(
        &mut self,
        app: AppId,
        a: &User,
        b: &User,
        limit: i64,
    ) -> Result<Vec<Room>, StoreError> {
        rooms::groups_in_common(self.conn, app, a, b, limit)
    }

    async fn blocks_between(
        &mut self,
        user: UserId,
        others: &[UserId],
    ) -> Result<Vec<UserId>, StoreError> {
        moderation::blocks_between(self.conn, user, others)
    }

    async fn hidden(&mut self, user: UserId, room: Option<RoomId>) -> Result<Hidden, StoreError> {
        room_states::hidden(self.conn, user, room)
    }

    async fn receipts(&mut self, message: MessageId) -> Result<Vec<Receipt>, StoreError> {
        receipts::receipts(self.conn, message)
    }

    async fn readers(&mut self, room: RoomId, seq: i64) -> Result<Vec<UserId>, StoreError> {
        receipts::readers(self.conn, room, seq)
    }

    async fn first_read_after(
        &mut self,
        room: RoomId,
        user: UserId,
        seq: i64,
    ) -> Result<Option<i64>, StoreError> {
        receipts::first_read_after(self.conn, room, user, seq)
    }

    async fn next_scheduled_time(&mut self) -> Result<Option<i64>, StoreError> {
        scheduled::next_time(self.conn)
    }

    async fn scheduled_in_room(
        &mut self,
        sender: UserId,
        room: RoomId,
    ) -> Result<Vec<Scheduled>, StoreError> {
        scheduled::in_room(self.conn, sender, room)
    }

    async fn users_by_phones(
        &mut self,
        app: AppId,
        phones: &[String],
    ) -> Result<Vec<User>, StoreError> {
        users::users_by_phones(self.conn, app, phones)
    }

    async fn blocked_users(&mut self, blocker: UserId) -> Result<Vec<User>, StoreError> {
        moderation::blocked_users(self.conn, blocker)
    }

    async fn reports(
        &mut self,
        app: AppId,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Report>, StoreError> {
        moderation::reports(self.conn, app, before, limit)
    }

    async fn room_by_xc_id(
        &mut self,
        app: AppId,
        xc_room_id: &str,
        _lock: RowLock,
    ) -> Result<Option<Room>, StoreError> {
        // The single writer already holds every row until the batch commits.
        rooms::room_by_xc_id(self.conn, app, xc_room_id)
    }

    async fn room_by_id(
        &mut self,
        app: AppId,
        id: RoomId,
        _lock: RowLock,
    ) -> Result<Room, StoreError> {
        rooms::room_by_id(self.conn, app, id)
    }

    async fn personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
    ) -> Result<Option<Room>, StoreError> {
        rooms::personal_room(self.conn, app, a, b)
    }

    async fn bundle(&mut self, room: Room) -> Result<RoomBundle, StoreError> {
        rooms::bundle(self.conn, room)
    }

    async fn is_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
            .query_row(params![room, user], |_| Ok(()))
            .optional()?
            .is_some())
    }

    async fn is_admin(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT is_admin FROM room_members WHERE room_id = ?1 AND user_id = ?2",
            )?
            .query_row(params![room, user], |r| r.get::<_, bool>(0))
            .optional()?
            .unwrap_or(false))
    }

    async fn user_by_xc_id(
        &mut self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        users::user_by_xc_id(self.conn, app, xc_user_id)
    }

    async fn users_by_xc_ids(
        &mut self,
        app: AppId,
        xc_user_ids: &[String],
    ) -> Result<Vec<User>, StoreError> {
        users::users_by_xc_ids(self.conn, app, xc_user_ids)
    }

    async fn user_in_app(&mut self, app: AppId, id: UserId) -> Result<Option<User>, StoreError> {
        users::user_in_app(self.conn, app, id)
    }

    async fn message_by_id(
        &mut self,
        app: AppId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError> {
        messages::message_by_id(self.conn, app, id)
    }

    async fn message_ordinal(&mut self, id: MessageId) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT ordinal FROM messages WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?)
    }

    async fn own_messages_by_local_ids(
        &mut self,
        sender: UserId,
        local_ids: &[String],
    ) -> Result<Vec<Message>, StoreError> {
        messages::messages_by_local_ids(self.conn, sender, local_ids)
    }

    async fn read_seq(&mut self, user: UserId, room: RoomId) -> Result<i64, StoreError> {
        append::read_seq(self.conn, user, room)
    }

    async fn audience(
        &mut self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
    ) -> Result<Audience, StoreError> {
        append::audience(self.conn, app, room, extra)
    }

    async fn history_before(
        &mut self,
        room: &Room,
        viewer: &User,
        max_created: i64,
        limit: i64,
    ) -> Result<(Vec<Viewed>, bool), StoreError> {
        messages::before(self.conn, room, viewer, max_created, limit)
    }

    async fn history_after(
        &mut self,
        room: &Room,
        viewer: &User,
        min_created: i64,
        last_updated: i64,
    ) -> Result<Vec<Viewed>, StoreError> {
        messages::after(self.conn, room, viewer, min_created, last_updated)
    }
}

#[async_trait]
impl ChatTx for SqliteTx<'_> {
    async fn insert_file(
        &mut self,
        file: &StoredFile,
        room: Option<RoomId>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO files (id, app_id, uploader_id, media_type, size, width, height, \
                 created, public) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                file.id,
                file.app,
                file.uploader,
                file.media_type,
                file.size,
                file.width,
                file.height,
                file.created,
                file.public
            ])?;
        match room {
            Some(room) => self.link_file(&file.id, room).await,
            None => Ok(()),
        }
    }

    async fn delete_file(&mut self, id: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM file_rooms WHERE file_id = ?1")?
            .execute([id])?;
        self.conn
            .prepare_cached("DELETE FROM files WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    async fn insert_user_photo(
        &mut self,
        user: UserId,
        file_id: &str,
        url: &str,
        created: i64,
    ) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO user_photos (user_id, file_id, url, created) \
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?
            .query_row(params![user, file_id, url, created], |r| r.get(0))?)
    }

    async fn delete_user_photo(
        &mut self,
        user: UserId,
        id: i64,
    ) -> Result<Option<UserPhoto>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "DELETE FROM user_photos WHERE id = ?1 AND user_id = ?2 \
                 RETURNING id, file_id, url, created",
            )?
            .query_row(params![id, user], photo_row)
            .optional()?)
    }

    async fn set_user_photo(
        &mut self,
        user: UserId,
        url: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE users SET photo_thumbnail = ?2, photo_fullsize = ?2, \
                 updated = max(?3, updated + 1) WHERE id = ?1",
            )?
            .execute(params![user, url, now])?;
        Ok(())
    }

    async fn set_user_bio(&mut self, user: UserId, bio: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE users SET bio = ?2, updated = max(?3, updated + 1) WHERE id = ?1",
            )?
            .execute(params![user, bio, now])?;
        Ok(())
    }

    async fn set_room_photo(
        &mut self,
        room: RoomId,
        url: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE rooms SET photo_thumbnail = ?2, photo_fullsize = ?2, updated = ?3 \
                 WHERE id = ?1",
            )?
            .execute(params![room, url, now])?;
        Ok(())
    }

    async fn link_file(&mut self, id: &str, room: RoomId) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO file_rooms (file_id, room_id) VALUES (?1, ?2)")?
            .execute(params![id, room])?;
        Ok(())
    }

    async fn insert_shared_room(
        &mut self,
        app: AppId,
        room: &NewRoom<'_>,
    ) -> Result<RoomId, StoreError> {
        rooms::insert_shared_room(self.conn, app, room)
    }

    async fn update_shared_room(
        &mut self,
        app: AppId,
        room: RoomId,
        upsert: &RoomUpsert,
        now: i64,
    ) -> Result<(), StoreError> {
        rooms::update_shared_room(self.conn, app, room, upsert, now)
    }

    async fn delete_room(&mut self, room: RoomId, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE rooms SET deleted = ?2, updated = ?2 WHERE id = ?1")?
            .execute(params![room, now])?;
        Ok(())
    }

    async fn rename_room(&mut self, room: RoomId, name: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE rooms SET name = ?2, updated = ?3 WHERE id = ?1")?
            .execute(params![room, name, now])?;
        Ok(())
    }

    async fn add_member(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
        now: i64,
        joining: Joining,
    ) -> Result<bool, StoreError> {
        match joining {
            Joining::ExistingRoom => rooms::add_member(self.conn, room, user, admin, now),
            Joining::NewRoom => rooms::add_first_member(self.conn, room, user, admin, now),
        }
    }

    async fn remove_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        rooms::remove_member(self.conn, room, user)
    }

    async fn set_admin(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
    ) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE room_members SET is_admin = ?3 \
                 WHERE room_id = ?1 AND user_id = ?2 AND is_admin <> ?3",
            )?
            .execute(params![room, user, admin])?;
        Ok(changed == 1)
    }

    async fn set_room_lock(
        &mut self,
        room: RoomId,
        locked_time: i64,
        locked_by: Option<UserId>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE rooms SET locked_time = ?2, locked_by = ?3, updated = ?4 WHERE id = ?1",
            )?
            .execute(params![room, locked_time, locked_by, now])?;
        Ok(())
    }

    async fn append_messages(
        &mut self,
        app: AppId,
        room: &Room,
        messages: Vec<NewMessage>,
        extra: &[UserId],
    ) -> Result<Vec<Message>, StoreError> {
        let feed = self
            .feed
            .as_deref_mut()
            .ok_or_else(|| StoreError::Other("a read-only rule cannot append".into()))?;
        append::append_messages(self.conn, feed, app, room, messages, extra)
    }

    async fn set_read_position(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        count: i64,
    ) -> Result<(), StoreError> {
        append::set_read_position(self.conn, user, room, seq, count)
    }

    async fn set_receipt(
        &mut self,
        app: AppId,
        id: MessageId,
        read: bool,
    ) -> Result<Option<Message>, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET is_delivered = 1, is_read = max(is_read, ?2) \
                 WHERE id = ?1 AND (NOT is_delivered OR (NOT is_read AND ?2))",
            )?
            .execute(params![id, read])?;
        self.touched(app, id, changed)
    }

    async fn delete_message(
        &mut self,
        app: AppId,
        id: MessageId,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET is_deleted = 1, deleted = ?2 WHERE id = ?1 AND NOT is_deleted",
            )?
            .execute(params![id, now])?;
        self.touched(app, id, changed)
    }

    async fn add_contact(
        &mut self,
        owner: UserId,
        contact: UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let added = self
            .conn
            .prepare_cached(
                "INSERT INTO contacts (owner_id, contact_id, created) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![owner, contact, now])?;
        Ok(added == 1)
    }

    async fn remove_contact(&mut self, owner: UserId, contact: UserId) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM contacts WHERE owner_id = ?1 AND contact_id = ?2")?
            .execute(params![owner, contact])?;
        Ok(removed == 1)
    }

    async fn set_last_activity(&mut self, user: UserId, at: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE users SET last_activity = ?2 WHERE id = ?1")?
            .execute(params![user, at])?;
        Ok(())
    }

    async fn change_room_states(
        &mut self,
        user: UserId,
        rooms: &[RoomId],
        change: RoomStateChange,
    ) -> Result<Vec<RoomId>, StoreError> {
        room_states::change(self.conn, user, rooms, change)
    }

    async fn set_star(
        &mut self,
        user: UserId,
        room: RoomId,
        message: MessageId,
        starred: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        marks::set_star(self.conn, user, room, message, starred, now)
    }

    async fn set_pin(
        &mut self,
        room: RoomId,
        message: MessageId,
        pinned: bool,
        by: UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        marks::set_pin(self.conn, room, message, pinned, by, now)
    }

    async fn edit_message_content(
        &mut self,
        app: AppId,
        id: MessageId,
        body: &str,
        data: &str,
    ) -> Result<Option<Message>, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET body = ?2, data = ?3, is_edited = 1 \
                 WHERE id = ?1 AND NOT is_deleted",
            )?
            .execute(params![id, body, data])?;
        self.touched(app, id, changed)
    }

    async fn clear_room(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        room_states::clear(self.conn, user, room, seq, at)
    }

    async fn hide_message(&mut self, user: UserId, message: &Message) -> Result<bool, StoreError> {
        room_states::hide(self.conn, user, message)
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
        scheduled::insert(self.conn, app, sender, room, content, scheduled_time, now)
    }

    async fn scheduled_for_update(
        &mut self,
        sender: UserId,
        ids: &[i64],
    ) -> Result<Vec<Scheduled>, StoreError> {
        scheduled::of_sender(self.conn, sender, ids)
    }

    async fn due_scheduled(&mut self, now: i64, limit: i64) -> Result<Vec<Scheduled>, StoreError> {
        scheduled::due(self.conn, now, limit)
    }

    async fn update_scheduled(
        &mut self,
        id: i64,
        scheduled_time: i64,
        content: &ScheduledContent,
        now: i64,
    ) -> Result<(), StoreError> {
        scheduled::update(self.conn, id, scheduled_time, content, now)
    }

    async fn delete_scheduled(&mut self, id: i64) -> Result<bool, StoreError> {
        scheduled::delete(self.conn, id)
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
        receipts::record(self.conn, message, room, seq, user, read, now)
    }

    async fn set_block(
        &mut self,
        blocker: UserId,
        blocked: UserId,
        blocking: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        moderation::set_block(self.conn, blocker, blocked, blocking, now)
    }

    async fn insert_report(&mut self, report: &NewReport) -> Result<i64, StoreError> {
        moderation::insert_report(self.conn, report)
    }

    async fn resolve_report(&mut self, app: AppId, id: i64, now: i64) -> Result<bool, StoreError> {
        moderation::resolve_report(self.conn, app, id, now)
    }

    fn emit(&mut self, item: FeedItem) {
        if let Some(feed) = self.feed.as_deref_mut() {
            feed.push(item);
        }
    }

    fn feed(&self) -> &[FeedItem] {
        self.feed.as_deref().map_or(&[], Vec::as_slice)
    }

    async fn insert_webhook_event(
        &mut self,
        event: &webhook::NewEvent,
        endpoints: &[i64],
    ) -> Result<(), StoreError> {
        webhooks::insert_event(self.conn, event, endpoints)
    }

    async fn insert_personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
        now: i64,
    ) -> Result<Room, StoreError> {
        rooms::insert_personal_room(self.conn, app, a, b, now)
    }
}
