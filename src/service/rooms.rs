//! Server API room management and room lists.

use super::{Service, ServiceError, membership};
use crate::domain::{
    AppId, RoomBundle, RoomListEntry, SystemAction, User, UserId, now_ms, unique_users,
};
use crate::store::{
    ChatTx, Joining, LockChange, NewRoom, RoomChange, RoomUpsert, RowLock, StoreError, WriteSize,
};

impl Service {
    /// Creates the room, or updates it when the `xcRoomID` exists.
    pub async fn create_or_update_room(
        &self,
        app: AppId,
        upsert: RoomUpsert,
    ) -> Result<RoomChange, ServiceError> {
        let size = WriteSize::of(upsert.participant_xc_user_ids.len());
        Ok(self
            .sized_transaction(size, move |tx| {
                Box::pin(upsert_room(tx, app, upsert.clone()))
            })
            .await?)
    }

    /// The room with its participants.
    pub async fn room(&self, app: AppId, xc_room_id: &str) -> Result<RoomBundle, ServiceError> {
        Ok(self.store.room_by_xc_id(app, xc_room_id).await?)
    }

    /// Adds participants; existing ones are left as they are.
    pub async fn add_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, ServiceError> {
        self.change_participants(app, xc_room_id, xc_user_ids, true)
            .await
    }

    /// Removes participants; users who are not participants are skipped.
    pub async fn remove_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, ServiceError> {
        self.change_participants(app, xc_room_id, xc_user_ids, false)
            .await
    }

    async fn change_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
        add: bool,
    ) -> Result<RoomChange, ServiceError> {
        let xc_room_id = xc_room_id.to_owned();
        Ok(self
            .sized_transaction(WriteSize::of(xc_user_ids.len()), move |tx| {
                Box::pin(membership::server_change_participants(
                    tx,
                    app,
                    xc_room_id.clone(),
                    xc_user_ids.clone(),
                    add,
                ))
            })
            .await?)
    }

    /// Locks or unlocks a room on behalf of `xc_user_id`.
    pub async fn set_room_lock(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_id: &str,
        locked: bool,
    ) -> Result<LockChange, ServiceError> {
        let (xc_room_id, xc_user_id) = (xc_room_id.to_owned(), xc_user_id.to_owned());
        self.transaction(move |tx| {
            Box::pin(set_lock(
                tx,
                app,
                xc_room_id.clone(),
                xc_user_id.clone(),
                locked,
            ))
        })
        .await
        .map_err(ServiceError::from)
    }

    /// Every room of a user, newest activity first.
    pub async fn rooms_of_user(
        &self,
        app: AppId,
        xc_user_id: &str,
        only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<(User, Vec<RoomListEntry>), ServiceError> {
        Ok(self
            .store
            .rooms_of_user(app, xc_user_id, only_xc_room_ids)
            .await?)
    }
}

/// The lock rule: the room's row is locked before anything is decided on it; a missing room is
/// reported before an unknown user; a room already in the requested state changes nothing and
/// appends nothing; otherwise the state is stored with who set it, and the `room/lock` or
/// `room/unlock` message, sent by that user, goes to the whole room.
pub(super) async fn set_lock(
    tx: &mut dyn ChatTx,
    app: AppId,
    xc_room_id: String,
    xc_user_id: String,
    locked: bool,
) -> Result<LockChange, StoreError> {
    let mut room = tx
        .room_by_xc_id(app, &xc_room_id, RowLock::Update)
        .await?
        .ok_or(StoreError::RoomNotFound)?;
    let user = tx
        .user_by_xc_id(app, &xc_user_id)
        .await?
        .ok_or(StoreError::UnknownUser(xc_user_id))?;
    let Some(action) = SystemAction::for_lock(&room, locked) else {
        return Ok(LockChange {
            changed: false,
            messages: Vec::new(),
        });
    };
    let now = now_ms();
    room.locked_time = if locked { now } else { 0 };
    tx.set_room_lock(room.id, room.locked_time, locked.then_some(user.id), now)
        .await?;
    let message = tx
        .append_message(app, &room, action.message(Some(user.id), None), &[])
        .await?;
    Ok(LockChange {
        changed: true,
        messages: vec![message],
    })
}

/// The Server API's room upsert: a new `xcRoomID` creates the room with its participants
/// (each once; one unknown user fails it all) and appends `room/create`; an existing one keeps
/// its type (a different one is a conflict), takes the fields the request gives and appends
/// `room/update`. Both messages are sent by the Server API (no sender). The row of an existing
/// room is locked first; two requests creating one `xcRoomID` at once are decided by its unique
/// index (PostgreSQL runs the loser again, which then finds the room).
pub(super) async fn upsert_room(
    tx: &mut dyn ChatTx,
    app: AppId,
    up: RoomUpsert,
) -> Result<RoomChange, StoreError> {
    let now = now_ms();
    let existing = tx
        .room_by_xc_id(app, &up.xc_room_id, RowLock::Update)
        .await?;
    let (room, action, joined) = match existing {
        None => {
            let users = tx.users_by_xc_ids(app, &up.participant_xc_user_ids).await?;
            let mut users = unique_users(users);
            let new_room = NewRoom::from_upsert(&up);
            let id = tx.insert_shared_room(app, &new_room).await?;
            for user in &users {
                tx.add_member(id, user.id, false, now, Joining::NewRoom)
                    .await?;
            }
            // They joined together, so the room lists them by user ID; none is an admin.
            users.sort_unstable_by_key(|u| u.id);
            (new_room.room(id), SystemAction::RoomCreate, Some(users))
        }
        Some(existing) => {
            if existing.room_type != up.room_type {
                return Err(StoreError::Conflict("the room type cannot change".into()));
            }
            tx.update_shared_room(app, existing.id, &up, now).await?;
            let room = tx.room_by_id(app, existing.id, RowLock::None).await?;
            (room, SystemAction::RoomUpdate, None)
        }
    };
    let sender = app_sender(tx, app).await?;
    let message = tx
        .append_message(app, &room, action.message(sender, None), &[])
        .await?;
    let bundle = match joined {
        Some(participants) => RoomBundle {
            room,
            participants,
            admin_ids: Vec::new(),
        },
        None => tx.bundle(room).await?,
    };
    Ok(RoomChange {
        bundle,
        messages: vec![message],
    })
}

/// Who the system messages of a Server API change come from: the app's own user (an empty
/// `xcUserID`, the app's name), so that the SDKs can name who "created this room"; nobody
/// for an app that has none.
pub(super) async fn app_sender(
    tx: &mut dyn ChatTx,
    app: AppId,
) -> Result<Option<UserId>, StoreError> {
    Ok(tx.user_by_xc_id(app, "").await?.map(|u| u.id))
}
