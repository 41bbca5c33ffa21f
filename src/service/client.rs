//! Client API use cases besides messages: users, contacts, push tokens and rooms.

use super::access::find_room;
use super::{ClientRoomChange, ClientSession, RoomChange, Service, ServiceError, membership};
use crate::domain::{Room, RoomBundle, RoomRef, User, UserId};
use crate::store::{StoreError, WriteSize};

/// Most rooms `groups_in_common` lists.
pub const GROUPS_IN_COMMON: i64 = 1000;

impl Service {
    /// A user of the caller's app by platform ID.
    pub async fn user_by_id(
        &self,
        session: &ClientSession,
        id: UserId,
    ) -> Result<User, ServiceError> {
        self.store
            .user_by_id(session.app, id)
            .await?
            .ok_or(ServiceError::UserNotFound)
    }

    /// Users of the caller's app by platform IDs; unknown IDs are skipped.
    pub async fn users_by_ids(
        &self,
        session: &ClientSession,
        ids: &[UserId],
    ) -> Result<Vec<User>, ServiceError> {
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = self.store.user_by_id(session.app, *id).await? {
                users.push(user);
            }
        }
        Ok(users)
    }

    /// A user of the caller's app by customer ID.
    pub async fn user_by_xc_id(
        &self,
        session: &ClientSession,
        xc: &str,
    ) -> Result<User, ServiceError> {
        self.store
            .user_by_xc_id(session.app, xc)
            .await?
            .ok_or(ServiceError::UserNotFound)
    }

    /// A user of the caller's app by username.
    pub async fn user_by_username(
        &self,
        session: &ClientSession,
        username: &str,
        ignore_case: bool,
    ) -> Result<User, ServiceError> {
        self.store
            .user_by_username(session.app, username, ignore_case)
            .await?
            .ok_or(ServiceError::UserNotFound)
    }

    /// Whether a user is connected right now.
    pub fn is_online(&self, user: UserId) -> bool {
        self.hub().is_online(user)
    }

    /// The caller's contact list.
    pub async fn contacts(&self, session: &ClientSession) -> Result<Vec<User>, ServiceError> {
        Ok(self.store.contacts_of(session.user.id).await?)
    }

    /// Stores the push tokens of the caller's device.
    pub async fn set_push_tokens(
        &self,
        session: &ClientSession,
        device: &str,
        fcm: &str,
        apn: &str,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .set_push_tokens(session.user.id, device, fcm, apn)
            .await?)
    }

    /// A room the caller is in.
    pub async fn client_room(
        &self,
        session: &ClientSession,
        room: RoomRef,
    ) -> Result<RoomBundle, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .store
            .reading(move |tx| {
                let user = user.clone();
                Box::pin(async move {
                    let room = find_room(tx, app, &user, room)
                        .await?
                        .ok_or(StoreError::RoomNotFound)?;
                    tx.bundle(room).await
                })
            })
            .await?)
    }

    /// The groups, channels and transaction rooms the caller shares with `other` (a user of
    /// the caller's app), newest first, at most [`GROUPS_IN_COMMON`].
    pub async fn groups_in_common(
        &self,
        session: &ClientSession,
        other: UserId,
    ) -> Result<Vec<Room>, ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(async move {
                let other = tx
                    .user_in_app(app, other)
                    .await?
                    .ok_or(StoreError::UserNotFound)?;
                tx.groups_in_common(app, user, &other, GROUPS_IN_COMMON)
                    .await
            })
        })
        .await
    }

    /// A room the caller is in, by its customer ID.
    pub async fn client_room_by_xc_id(
        &self,
        session: &ClientSession,
        xc_room_id: &str,
    ) -> Result<RoomBundle, ServiceError> {
        let bundle = self.store.room_by_xc_id(session.app, xc_room_id).await?;
        if !bundle.includes(&session.user) {
            return Err(ServiceError::Forbidden(
                "not a participant of this room".into(),
            ));
        }
        Ok(bundle)
    }

    /// Applies a room operation for the caller.
    pub async fn change_room(
        &self,
        session: &ClientSession,
        change: ClientRoomChange,
    ) -> Result<RoomChange, ServiceError> {
        let (app, actor) = (session.app, session.user.clone());
        self.sized_transaction(WriteSize::of(change.users()), move |tx| {
            Box::pin(membership::client_change(
                tx,
                app,
                actor.clone(),
                change.clone(),
            ))
        })
        .await
        .map_err(ServiceError::from)
    }
}
