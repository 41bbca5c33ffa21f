//! [`MemoryTx`]'s [`ChatTx`] implementation, apart from the fixtures because it is long: each
//! primitive does to the rows in memory what the SQL of `store/sqlite` and `store/postgres`
//! does to their tables, and decides nothing itself, so that every decision a test sees is
//! the rule's.

use async_trait::async_trait;

use super::{Member, MemoryTx, RoomRow};
use crate::domain::message::Placement;
use crate::domain::webhook;
use crate::domain::{
    AppId, Audience, FeedItem, Hidden, Message, MessageId, NewMessage, NewReport, Receipt, Report,
    Room, RoomBundle, RoomId, RoomKind, RoomRef, RoomState, RoomStateChange, RoomType, Scheduled,
    ScheduledContent, StoredFile, User, UserId, UserPhoto, Viewed, now_ms,
};
use crate::store::{ChatRead, ChatTx, Joining, NewRoom, RoomUpsert, RowLock, StoreError};

impl MemoryTx {
    /// A room's messages, newest first, as `viewer` sees them (with their read position).
    fn viewed<'a>(&'a self, room: &Room, viewer: &User) -> impl Iterator<Item = Viewed> + 'a {
        let read_seq = self
            .read_positions
            .get(&(viewer.id, room.id))
            .map_or(0, |(seq, _)| *seq);
        let room = room.id;
        self.messages
            .iter()
            .rev()
            .filter(move |m| m.room.id == room)
            .map(move |m| Viewed::new(m.clone(), read_seq))
    }

    /// One message appended, as `append_one` in `store/sqlite/append.rs`.
    fn append_one(&mut self, room: &Room, new: NewMessage) -> Result<Message, StoreError> {
        let counts = new.counts_as_unread();
        let id = MessageId(self.next_id());
        let row = self
            .rooms
            .iter_mut()
            .find(|r| r.room.id == room.id)
            .ok_or_else(|| StoreError::Other("append to a room without a row".into()))?;
        row.last_seq += 1;
        row.chat_count += i64::from(counts);
        row.last_activity = now_ms().max(row.last_activity + 1);
        let (seq, chat_count, created) = (row.last_seq, row.chat_count, row.last_activity);
        let sender = match new.sender {
            Some(sender) => {
                if new.moves_senders_position() {
                    self.read_up_to(sender, room.id, seq, chat_count);
                }
                Some(
                    self.user_by_id(sender)
                        .cloned()
                        .ok_or(StoreError::UserNotFound)?,
                )
            }
            None => None,
        };
        let message = new.appended(Placement { id, seq, created }, room, sender);
        self.messages.push(message.clone());
        self.ordinals.insert(id, chat_count);
        Ok(message)
    }
}

#[async_trait]
impl ChatRead for MemoryTx {
    async fn room_by_xc_id(
        &mut self,
        app: AppId,
        xc_room_id: &str,
        lock: RowLock,
    ) -> Result<Option<Room>, StoreError> {
        let room = self
            .rooms
            .iter()
            .find(|r| {
                r.app == app
                    && matches!(&r.room.kind,
                        RoomKind::Shared { xc_room_id: Some(id) } if id == xc_room_id)
            })
            .map(|r| r.room.clone());
        if let (Some(room), RowLock::Update) = (&room, lock) {
            self.locked.push(room.id);
        }
        Ok(room)
    }

    async fn room_by_id(
        &mut self,
        app: AppId,
        id: RoomId,
        lock: RowLock,
    ) -> Result<Room, StoreError> {
        let room = self
            .rooms
            .iter()
            .find(|r| r.app == app && r.room.id == id && r.room.deleted == 0)
            .map(|r| r.room.clone())
            .ok_or(StoreError::RoomNotFound)?;
        if lock == RowLock::Update {
            self.locked.push(room.id);
        }
        Ok(room)
    }

    async fn personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
    ) -> Result<Option<Room>, StoreError> {
        Ok(self
            .rooms
            .iter()
            .find(|r| r.app == app && r.room.kind == RoomKind::Personal { a, b })
            .map(|row| row.room.clone()))
    }

    async fn bundle(&mut self, room: Room) -> Result<RoomBundle, StoreError> {
        let mut members: Vec<&Member> = self.members.iter().filter(|m| m.room == room.id).collect();
        members.sort_unstable_by_key(|m| (m.joined, m.user));
        // A join with the users table: a member without a user row is not listed.
        let members: Vec<(User, bool)> = members
            .into_iter()
            .filter_map(|m| self.user_by_id(m.user).map(|u| (u.clone(), m.admin)))
            .collect();
        Ok(RoomBundle {
            room,
            admin_ids: members
                .iter()
                .filter(|(_, admin)| *admin)
                .map(|(u, _)| u.id)
                .collect(),
            participants: members.into_iter().map(|(u, _)| u).collect(),
        })
    }

    async fn is_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .members
            .iter()
            .any(|m| m.room == room && m.user == user))
    }

    async fn is_admin(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .members
            .iter()
            .any(|m| m.room == room && m.user == user && m.admin))
    }

    async fn user_by_xc_id(
        &mut self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .iter()
            .find(|(a, u)| *a == app && u.xc_user_id == xc_user_id)
            .map(|(_, u)| u.clone()))
    }

    async fn users_by_xc_ids(
        &mut self,
        app: AppId,
        xc_user_ids: &[String],
    ) -> Result<Vec<User>, StoreError> {
        let mut users = Vec::with_capacity(xc_user_ids.len());
        for xc in xc_user_ids {
            let user = self.user_by_xc_id(app, xc).await?;
            users.push(user.ok_or_else(|| StoreError::UnknownUser(xc.clone()))?);
        }
        Ok(users)
    }

    async fn user_in_app(&mut self, app: AppId, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .iter()
            .find(|(a, u)| *a == app && u.id == id)
            .map(|(_, u)| u.clone()))
    }

    async fn message_by_id(
        &mut self,
        app: AppId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError> {
        Ok(self.stored_message(app, id))
    }

    async fn file_by_id(&mut self, app: AppId, id: &str) -> Result<Option<StoredFile>, StoreError> {
        Ok(self
            .files
            .iter()
            .find(|f| f.id == id && f.app == app)
            .cloned())
    }

    async fn public_file(&mut self, id: &str) -> Result<Option<StoredFile>, StoreError> {
        Ok(self.files.iter().find(|f| f.id == id && f.public).cloned())
    }

    async fn user_photos(&mut self, user: UserId) -> Result<Vec<UserPhoto>, StoreError> {
        Ok(self
            .photos
            .iter()
            .filter(|(owner, _)| *owner == user)
            .map(|(_, photo)| photo.clone())
            .collect())
    }

    async fn user_bios(&mut self, users: &[UserId]) -> Result<Vec<String>, StoreError> {
        Ok(users
            .iter()
            .map(|user| self.bios.get(user).cloned().unwrap_or_default())
            .collect())
    }

    async fn rooms_of_file(&mut self, id: &str) -> Result<Vec<RoomId>, StoreError> {
        Ok(self
            .file_rooms
            .iter()
            .filter(|(file, _)| file == id)
            .map(|(_, room)| *room)
            .collect())
    }

    async fn shared_content(
        &mut self,
        room: RoomId,
        min_created: i64,
        max_created: i64,
        ascending: bool,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let mut found: Vec<Message> = self
            .messages
            .iter()
            .filter(|m| m.room.id == room && [1002, 1003, 1004, 1010].contains(&m.kind))
            .filter(|m| (min_created..max_created).contains(&m.created))
            .filter(|m| !m.is_deleted && !m.is_hidden)
            .cloned()
            .collect();
        if !ascending {
            found.reverse();
        }
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(found)
    }

    async fn room_states(&mut self, app: AppId, user: &User) -> Result<Vec<RoomState>, StoreError> {
        let mut states = Vec::new();
        for (&(owner, room), &(muted_until, pinned_at, marked_unread)) in &self.room_states {
            let row = self.row(room);
            let cleared_at = self.cleared.get(&(owner, room)).map_or(0, |c| c.1);
            let set =
                muted_until.is_some() || pinned_at.is_some() || marked_unread || cleared_at > 0;
            if owner != user.id || row.app != app || row.room.deleted != 0 || !set {
                continue;
            }
            let room = match row.room.kind {
                RoomKind::Personal { a, b } => RoomRef::Personal { a, b },
                RoomKind::Shared { .. } => {
                    let explicit = self
                        .members
                        .iter()
                        .any(|m| m.room == room && m.user == user.id);
                    let by_role = !user.role_code.is_empty()
                        && row.room.participant_roles.contains(&user.role_code);
                    if !explicit && !by_role {
                        continue;
                    }
                    RoomRef::Shared(room)
                }
            };
            states.push(RoomState {
                room,
                muted_until,
                pinned_at,
                marked_unread,
                cleared_at,
            });
        }
        Ok(states)
    }

    async fn starred_ids(
        &mut self,
        user: UserId,
        room: RoomId,
    ) -> Result<Vec<MessageId>, StoreError> {
        let mut stars: Vec<_> = self
            .stars
            .iter()
            .filter(|s| s.0 == user && s.2 == room)
            .collect();
        stars.sort_by_key(|s| std::cmp::Reverse((s.3, s.1)));
        Ok(stars.into_iter().map(|s| s.1).collect())
    }

    async fn pinned_ids(&mut self, room: RoomId) -> Result<Vec<MessageId>, StoreError> {
        let mut pins: Vec<MessageId> = self
            .pins
            .iter()
            .filter(|p| p.0 == room)
            .map(|p| p.1)
            .collect();
        pins.sort_by_key(|id| std::cmp::Reverse(*id));
        Ok(pins)
    }

    async fn groups_in_common(
        &mut self,
        app: AppId,
        a: &User,
        b: &User,
        limit: i64,
    ) -> Result<Vec<Room>, StoreError> {
        let takes_part = |tx: &Self, row: &RoomRow, user: &User| {
            tx.members
                .iter()
                .any(|m| m.room == row.room.id && m.user == user.id)
                || (!user.role_code.is_empty()
                    && row.room.participant_roles.contains(&user.role_code))
        };
        let mut found: Vec<Room> = self
            .rooms
            .iter()
            .filter(|row| row.app == app && row.room.deleted == 0)
            .filter(|row| matches!(row.room.kind, RoomKind::Shared { .. }))
            .filter(|row| takes_part(self, row, a) && takes_part(self, row, b))
            .map(|row| row.room.clone())
            .collect();
        found.sort_by_key(|room| std::cmp::Reverse(room.id));
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(found)
    }

    async fn blocks_between(
        &mut self,
        user: UserId,
        others: &[UserId],
    ) -> Result<Vec<UserId>, StoreError> {
        Ok(others
            .iter()
            .copied()
            .filter(|&other| {
                self.blocks.contains(&(user, other)) || self.blocks.contains(&(other, user))
            })
            .collect())
    }

    async fn hidden(&mut self, user: UserId, room: Option<RoomId>) -> Result<Hidden, StoreError> {
        let mut hidden = Hidden::default();
        for (&(owner, cleared), &(seq, _)) in &self.cleared {
            if owner == user && seq > 0 && room.is_none_or(|r| r == cleared) {
                hidden.cleared.insert(cleared, seq);
            }
        }
        for &(owner, message, in_room) in &self.hidden {
            if owner == user && room.is_none_or(|r| r == in_room) {
                hidden.messages.insert(message);
            }
        }
        Ok(hidden)
    }

    async fn receipts(&mut self, message: MessageId) -> Result<Vec<Receipt>, StoreError> {
        let mut found: Vec<Receipt> = self
            .receipts
            .iter()
            .filter(|r| r.0 == message)
            .map(|r| r.1)
            .collect();
        found.sort_by_key(|r| (r.delivered_at, r.user));
        Ok(found)
    }

    async fn readers(&mut self, room: RoomId, seq: i64) -> Result<Vec<UserId>, StoreError> {
        Ok(self
            .read_positions
            .iter()
            .filter(|((_, r), (read_seq, _))| *r == room && *read_seq >= seq)
            .map(|((user, _), _)| *user)
            .collect())
    }

    async fn first_read_after(
        &mut self,
        room: RoomId,
        user: UserId,
        seq: i64,
    ) -> Result<Option<i64>, StoreError> {
        let receipt = self
            .receipts
            .iter()
            .filter(|r| r.2 == room && r.1.user == user && r.3 >= seq && r.1.read_at.is_some())
            .min_by_key(|r| r.3)
            .and_then(|r| r.1.read_at);
        let sent = self
            .messages
            .iter()
            .filter(|m| m.room.id == room && m.seq > seq)
            .filter(|m| m.sender.as_ref().is_some_and(|s| s.id == user))
            .min_by_key(|m| m.seq)
            .map(|m| m.created);
        Ok(receipt.into_iter().chain(sent).min())
    }

    async fn next_scheduled_time(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(self.scheduled.iter().map(|s| s.scheduled_time).min())
    }

    async fn scheduled_in_room(
        &mut self,
        sender: UserId,
        room: RoomId,
    ) -> Result<Vec<Scheduled>, StoreError> {
        let mut found: Vec<Scheduled> = self
            .scheduled
            .iter()
            .filter(|s| s.sender == sender && s.room == room)
            .cloned()
            .collect();
        found.sort_by_key(|s| (s.scheduled_time, s.id));
        Ok(found)
    }

    async fn users_by_phones(
        &mut self,
        app: AppId,
        phones: &[String],
    ) -> Result<Vec<User>, StoreError> {
        Ok(self
            .users
            .iter()
            .filter(|(a, u)| *a == app && !u.phone.is_empty() && phones.contains(&u.phone))
            .map(|(_, u)| u.clone())
            .collect())
    }

    async fn blocked_users(&mut self, blocker: UserId) -> Result<Vec<User>, StoreError> {
        Ok(self
            .blocks
            .iter()
            .rev()
            .filter(|b| b.0 == blocker)
            .filter_map(|b| self.user_by_id(b.1).cloned())
            .collect())
    }

    async fn reports(
        &mut self,
        app: AppId,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Report>, StoreError> {
        Ok(self
            .reports
            .iter()
            .rev()
            .filter(|r| r.report.app == app && r.id < before)
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect())
    }

    async fn message_ordinal(&mut self, id: MessageId) -> Result<i64, StoreError> {
        self.ordinals
            .get(&id)
            .copied()
            .ok_or_else(|| StoreError::Other("no message with this ID".into()))
    }

    async fn own_messages_by_local_ids(
        &mut self,
        sender: UserId,
        local_ids: &[String],
    ) -> Result<Vec<Message>, StoreError> {
        let mut found: Vec<(MessageId, AppId)> = self
            .messages
            .iter()
            .filter(|m| {
                local_ids.contains(&m.local_id) && m.sender.as_ref().is_some_and(|s| s.id == sender)
            })
            .map(|m| (m.id, self.row(m.room.id).app))
            .collect();
        found.sort_unstable();
        Ok(found
            .into_iter()
            .filter_map(|(id, app)| self.stored_message(app, id))
            .collect())
    }

    async fn read_seq(&mut self, user: UserId, room: RoomId) -> Result<i64, StoreError> {
        Ok(self.read_positions.get(&(user, room)).map_or(0, |p| p.0))
    }

    async fn audience(
        &mut self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
    ) -> Result<Audience, StoreError> {
        let positions = &self.read_positions;
        Ok(self.audience_of(app, room, extra, |user| {
            positions.get(&(user, room.id)).map_or(0, |p| p.0)
        }))
    }

    async fn history_before(
        &mut self,
        room: &Room,
        viewer: &User,
        max_created: i64,
        limit: i64,
    ) -> Result<(Vec<Viewed>, bool), StoreError> {
        let bound = if max_created <= 0 {
            i64::MAX
        } else {
            max_created
        };
        let mut found: Vec<Viewed> = self
            .viewed(room, viewer)
            .filter(|v| v.message.created < bound)
            .collect();
        let has_more = found.len() as i64 > limit;
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((found, has_more))
    }

    async fn history_after(
        &mut self,
        room: &Room,
        viewer: &User,
        min_created: i64,
        last_updated: i64,
    ) -> Result<Vec<Viewed>, StoreError> {
        Ok(self
            .viewed(room, viewer)
            .filter(|v| v.message.created >= min_created && v.message.updated > last_updated)
            .collect())
    }
}

#[async_trait]
impl ChatTx for MemoryTx {
    async fn insert_file(
        &mut self,
        file: &StoredFile,
        room: Option<RoomId>,
    ) -> Result<(), StoreError> {
        self.files.push(file.clone());
        match room {
            Some(room) => self.link_file(&file.id, room).await,
            None => Ok(()),
        }
    }

    async fn delete_file(&mut self, id: &str) -> Result<(), StoreError> {
        self.files.retain(|f| f.id != id);
        self.file_rooms.retain(|(file, _)| file != id);
        Ok(())
    }

    async fn insert_user_photo(
        &mut self,
        user: UserId,
        file_id: &str,
        url: &str,
        created: i64,
    ) -> Result<i64, StoreError> {
        let id = self.next_id();
        let (file_id, url) = (file_id.to_owned(), url.to_owned());
        let photo = UserPhoto {
            id,
            file_id,
            url,
            created,
        };
        self.photos.push((user, photo));
        Ok(id)
    }

    async fn delete_user_photo(
        &mut self,
        user: UserId,
        id: i64,
    ) -> Result<Option<UserPhoto>, StoreError> {
        let at = self
            .photos
            .iter()
            .position(|(owner, photo)| *owner == user && photo.id == id);
        Ok(at.map(|at| self.photos.remove(at).1))
    }

    async fn set_user_photo(
        &mut self,
        user: UserId,
        url: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some((_, u)) = self.users.iter_mut().find(|(_, u)| u.id == user) {
            u.photo_thumbnail = url.into();
            u.photo_fullsize = url.into();
            u.updated = now.max(u.updated + 1);
        }
        Ok(())
    }

    async fn set_user_bio(&mut self, user: UserId, bio: &str, now: i64) -> Result<(), StoreError> {
        self.bios.insert(user, bio.into());
        if let Some((_, u)) = self.users.iter_mut().find(|(_, u)| u.id == user) {
            u.updated = now.max(u.updated + 1);
        }
        Ok(())
    }

    async fn set_room_photo(
        &mut self,
        room: RoomId,
        url: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            row.room.photo_thumbnail = url.into();
            row.room.photo_fullsize = url.into();
            row.updated = now;
        }
        Ok(())
    }

    async fn link_file(&mut self, id: &str, room: RoomId) -> Result<(), StoreError> {
        let link = (id.to_owned(), room);
        if !self.file_rooms.contains(&link) {
            self.file_rooms.push(link);
        }
        Ok(())
    }

    async fn insert_shared_room(
        &mut self,
        app: AppId,
        room: &NewRoom<'_>,
    ) -> Result<RoomId, StoreError> {
        if let Some(xc) = room.xc_room_id
            && self.rooms.iter().any(|r| {
                r.app == app
                    && matches!(&r.room.kind, RoomKind::Shared { xc_room_id: Some(id) } if id == xc)
            })
        {
            return Err(StoreError::Other(
                "UNIQUE constraint failed: rooms.xc_room_id".into(),
            ));
        }
        let id = RoomId(self.next_id());
        let now = now_ms();
        self.rooms.push(RoomRow {
            app,
            room: room.room(id),
            locked_by: None,
            last_seq: 0,
            chat_count: 0,
            last_activity: now,
            updated: now,
        });
        Ok(id)
    }

    async fn update_shared_room(
        &mut self,
        _app: AppId,
        room: RoomId,
        upsert: &RoomUpsert,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            let room = &mut row.room;
            room.name.clone_from(&upsert.name);
            if let Some(thumbnail) = &upsert.photo_thumbnail {
                room.photo_thumbnail.clone_from(thumbnail);
            }
            if let Some(fullsize) = &upsert.photo_fullsize {
                room.photo_fullsize.clone_from(fullsize);
            }
            if let Some(tags) = &upsert.tags {
                room.tags.clone_from(tags);
            }
            if let Some(roles) = &upsert.participant_roles {
                room.participant_roles.clone_from(roles);
            }
            row.updated = now;
        }
        Ok(())
    }

    async fn delete_room(&mut self, room: RoomId, now: i64) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            row.room.deleted = now;
            row.updated = now;
        }
        Ok(())
    }

    async fn rename_room(&mut self, room: RoomId, name: &str, now: i64) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            row.room.name = name.into();
            row.updated = now;
        }
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
        if self
            .members
            .iter()
            .any(|m| m.room == room && m.user == user)
        {
            return Ok(false);
        }
        self.members.push(Member {
            room,
            user,
            admin,
            joined: now,
        });
        // A room with history: the newcomer's position starts at its present. A new room has
        // none, and a missing position reads as its start.
        if joining == Joining::ExistingRoom
            && let Some(row) = self.rooms.iter().find(|r| r.room.id == room)
        {
            let (seq, count) = (row.last_seq, row.chat_count);
            self.read_up_to(user, room, seq, count);
        }
        Ok(true)
    }

    async fn remove_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError> {
        let before = self.members.len();
        self.members.retain(|m| !(m.room == room && m.user == user));
        Ok(self.members.len() < before)
    }

    async fn set_admin(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
    ) -> Result<bool, StoreError> {
        match self
            .members
            .iter_mut()
            .find(|m| m.room == room && m.user == user && m.admin != admin)
        {
            Some(member) => {
                member.admin = admin;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn set_room_lock(
        &mut self,
        room: RoomId,
        locked_time: i64,
        locked_by: Option<UserId>,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            row.room.locked_time = locked_time;
            row.locked_by = locked_by;
            row.updated = now;
        }
        Ok(())
    }

    /// What `store/sqlite/append.rs` does: for each message the next ID, the room's next
    /// `seq`, a `created` strictly after the room's previous message, the unread counter and
    /// the sender's read position; then one feed item per message, all for one audience: the
    /// room's members (read positions 0) and `extra`.
    async fn append_messages(
        &mut self,
        app: AppId,
        room: &Room,
        messages: Vec<NewMessage>,
        extra: &[UserId],
    ) -> Result<Vec<Message>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut appended = Vec::with_capacity(messages.len());
        for new in messages {
            appended.push(self.append_one(room, new)?);
        }
        let audience = self.audience_of(app, room, extra, |_| 0);
        self.feed.extend(FeedItem::appended(&appended, audience));
        Ok(appended)
    }

    async fn set_read_position(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        count: i64,
    ) -> Result<(), StoreError> {
        self.read_up_to(user, room, seq, count);
        Ok(())
    }

    async fn set_receipt(
        &mut self,
        app: AppId,
        id: MessageId,
        read: bool,
    ) -> Result<Option<Message>, StoreError> {
        // Changed only if it was not delivered yet, or is read now and was not before.
        let Some(message) = self
            .messages
            .iter_mut()
            .find(|m| m.id == id && (!m.is_delivered || (read && !m.is_read)))
        else {
            return Ok(None);
        };
        message.is_delivered = true;
        message.is_read |= read;
        Ok(self.touched(app, id))
    }

    async fn delete_message(
        &mut self,
        app: AppId,
        id: MessageId,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        let Some(message) = self
            .messages
            .iter_mut()
            .find(|m| m.id == id && !m.is_deleted)
        else {
            return Ok(None);
        };
        message.is_deleted = true;
        message.deleted = now;
        Ok(self.touched(app, id))
    }

    async fn add_contact(
        &mut self,
        owner: UserId,
        contact: UserId,
        _now: i64,
    ) -> Result<bool, StoreError> {
        if self.contacts.contains(&(owner, contact)) {
            return Ok(false);
        }
        self.contacts.push((owner, contact));
        Ok(true)
    }

    async fn remove_contact(&mut self, owner: UserId, contact: UserId) -> Result<bool, StoreError> {
        let before = self.contacts.len();
        self.contacts.retain(|pair| *pair != (owner, contact));
        Ok(self.contacts.len() < before)
    }

    async fn set_last_activity(&mut self, user: UserId, at: i64) -> Result<(), StoreError> {
        if let Some((_, user)) = self.users.iter_mut().find(|(_, u)| u.id == user) {
            user.last_activity = at;
        }
        Ok(())
    }

    async fn change_room_states(
        &mut self,
        user: UserId,
        rooms: &[RoomId],
        change: RoomStateChange,
    ) -> Result<Vec<RoomId>, StoreError> {
        let mut changed = Vec::new();
        for &room in rooms {
            let exists = self.room_states.contains_key(&(user, room));
            let creates = matches!(
                change,
                RoomStateChange::Mute { .. }
                    | RoomStateChange::Pin { .. }
                    | RoomStateChange::MarkUnread
            );
            if !exists && !creates {
                continue;
            }
            let state = self.room_states.entry((user, room)).or_default();
            let before = *state;
            match change {
                RoomStateChange::Mute { until } => state.0 = Some(until),
                RoomStateChange::Unmute => state.0 = None,
                RoomStateChange::Pin { at } => state.1 = state.1.or(Some(at)),
                RoomStateChange::Unpin => state.1 = None,
                RoomStateChange::MarkUnread => state.2 = true,
                RoomStateChange::MarkRead => state.2 = false,
            }
            if *state != before || !exists {
                changed.push(room);
            }
        }
        Ok(changed)
    }

    async fn set_star(
        &mut self,
        user: UserId,
        room: RoomId,
        message: MessageId,
        starred: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let at = self
            .stars
            .iter()
            .position(|s| s.0 == user && s.1 == message);
        match (at, starred) {
            (None, true) => self.stars.push((user, message, room, now)),
            (Some(at), false) => drop(self.stars.remove(at)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    async fn set_pin(
        &mut self,
        room: RoomId,
        message: MessageId,
        pinned: bool,
        _by: UserId,
        _now: i64,
    ) -> Result<bool, StoreError> {
        let at = self.pins.iter().position(|p| *p == (room, message));
        match (at, pinned) {
            (None, true) => self.pins.push((room, message)),
            (Some(at), false) => drop(self.pins.remove(at)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    async fn edit_message_content(
        &mut self,
        app: AppId,
        id: MessageId,
        body: &str,
        data: &str,
    ) -> Result<Option<Message>, StoreError> {
        // The check and the change are one step, as in the one UPDATE of the stores.
        let Some(message) = self
            .messages
            .iter_mut()
            .find(|m| m.id == id && !m.is_deleted)
        else {
            return Ok(None);
        };
        message.body = body.into();
        message.data = data.into();
        message.is_edited = true;
        Ok(self.touched(app, id))
    }

    async fn clear_room(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        let cleared = self.cleared.entry((user, room)).or_default();
        *cleared = (cleared.0.max(seq), at);
        let state = self.room_states.entry((user, room)).or_default();
        state.1 = None;
        state.2 = false;
        Ok(())
    }

    async fn hide_message(&mut self, user: UserId, message: &Message) -> Result<bool, StoreError> {
        if self.hidden.iter().any(|h| h.0 == user && h.1 == message.id) {
            return Ok(false);
        }
        self.hidden.push((user, message.id, message.room.id));
        Ok(true)
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
        let id = self.next_id();
        self.scheduled.push(Scheduled {
            id,
            app,
            sender,
            room,
            content: content.clone(),
            scheduled_time,
            created: now,
            updated: now,
        });
        Ok(id)
    }

    async fn scheduled_for_update(
        &mut self,
        sender: UserId,
        ids: &[i64],
    ) -> Result<Vec<Scheduled>, StoreError> {
        let mut found: Vec<Scheduled> = self
            .scheduled
            .iter()
            .filter(|s| s.sender == sender && ids.contains(&s.id))
            .cloned()
            .collect();
        found.sort_by_key(|s| (s.scheduled_time, s.id));
        Ok(found)
    }

    async fn due_scheduled(&mut self, now: i64, limit: i64) -> Result<Vec<Scheduled>, StoreError> {
        let mut found: Vec<Scheduled> = self
            .scheduled
            .iter()
            .filter(|s| s.scheduled_time <= now)
            .cloned()
            .collect();
        found.sort_by_key(|s| (s.scheduled_time, s.id));
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(found)
    }

    async fn update_scheduled(
        &mut self,
        id: i64,
        scheduled_time: i64,
        content: &ScheduledContent,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(found) = self.scheduled.iter_mut().find(|s| s.id == id) {
            found.scheduled_time = scheduled_time;
            found.content = content.clone();
            found.updated = now;
        }
        Ok(())
    }

    async fn delete_scheduled(&mut self, id: i64) -> Result<bool, StoreError> {
        let before = self.scheduled.len();
        self.scheduled.retain(|s| s.id != id);
        Ok(self.scheduled.len() < before)
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
        match self
            .receipts
            .iter_mut()
            .find(|r| r.0 == message && r.1.user == user)
        {
            Some(found) => {
                if read && found.1.read_at.is_none() {
                    found.1.read_at = Some(now);
                }
            }
            None => self.receipts.push((
                message,
                Receipt {
                    user,
                    delivered_at: now,
                    read_at: read.then_some(now),
                },
                room,
                seq,
            )),
        }
        Ok(())
    }

    async fn set_block(
        &mut self,
        blocker: UserId,
        blocked: UserId,
        blocking: bool,
        _now: i64,
    ) -> Result<bool, StoreError> {
        let at = self.blocks.iter().position(|b| *b == (blocker, blocked));
        match (at, blocking) {
            (None, true) => self.blocks.push((blocker, blocked)),
            (Some(at), false) => drop(self.blocks.remove(at)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    async fn insert_report(&mut self, report: &NewReport) -> Result<i64, StoreError> {
        let id = self.next_id();
        self.reports.push(Report {
            id,
            report: report.clone(),
            resolved: None,
        });
        Ok(id)
    }

    async fn resolve_report(&mut self, app: AppId, id: i64, now: i64) -> Result<bool, StoreError> {
        let open = self
            .reports
            .iter_mut()
            .find(|r| r.report.app == app && r.id == id && r.resolved.is_none());
        Ok(open.map(|r| r.resolved = Some(now)).is_some())
    }

    fn emit(&mut self, item: FeedItem) {
        self.feed.push(item);
    }

    fn feed(&self) -> &[FeedItem] {
        &self.feed
    }

    async fn insert_webhook_event(
        &mut self,
        event: &webhook::NewEvent,
        endpoints: &[i64],
    ) -> Result<(), StoreError> {
        self.webhook_events
            .push((event.clone(), endpoints.to_vec()));
        Ok(())
    }

    async fn insert_personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
        now: i64,
    ) -> Result<Room, StoreError> {
        let peers = match (self.user_by_id(a), self.user_by_id(b)) {
            (Some(a), Some(b)) => Some(Box::new((a.clone(), b.clone()))),
            _ => None,
        };
        let mut room = NewRoom::client_group("", RoomType::Personal).room(RoomId(self.next_id()));
        room.kind = RoomKind::Personal { a, b };
        room.peers = peers;
        self.rooms.push(RoomRow {
            app,
            room: room.clone(),
            locked_by: None,
            last_seq: 0,
            chat_count: 0,
            last_activity: now,
            updated: now,
        });
        for member in [a, b] {
            self.add_member(room.id, member, false, now, Joining::NewRoom)
                .await?;
        }
        Ok(room)
    }
}
