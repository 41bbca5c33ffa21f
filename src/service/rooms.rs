//! Server API room management and room lists.

use super::{Service, ServiceError};
use crate::domain::{AppId, ParamError, RoomBundle, RoomListEntry, User};
use crate::store::{LockChange, RoomChange, RoomUpsert, StoreError};

fn unknown_participant(err: StoreError) -> ServiceError {
    match err {
        StoreError::UnknownUser(id) => ParamError::invalid_because(
            "participantXCUserIDs",
            "107",
            format!("unknown xcUserID '{id}'"),
        )
        .into(),
        other => other.into(),
    }
}

impl Service {
    /// Creates the room, or updates it when the `xcRoomID` exists.
    pub async fn create_or_update_room(
        &self,
        app: AppId,
        upsert: RoomUpsert,
    ) -> Result<RoomChange, ServiceError> {
        self.store
            .create_or_update_room(app, upsert)
            .await
            .map_err(|err| match err {
                StoreError::Conflict(why) => ParamError::invalid_because("type", "102", why).into(),
                other => unknown_participant(other),
            })
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
        self.store
            .add_participants(app, xc_room_id, xc_user_ids)
            .await
            .map_err(unknown_participant)
    }

    /// Removes participants; users who are not participants are skipped.
    pub async fn remove_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, ServiceError> {
        self.store
            .remove_participants(app, xc_room_id, xc_user_ids)
            .await
            .map_err(unknown_participant)
    }

    /// Locks or unlocks a room on behalf of `xc_user_id`.
    pub async fn set_room_lock(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_id: &str,
        locked: bool,
    ) -> Result<LockChange, ServiceError> {
        self.store
            .set_room_lock(app, xc_room_id, xc_user_id, locked)
            .await
            .map_err(|err| match err {
                StoreError::UnknownUser(id) => ParamError::invalid_because(
                    "xcUserID",
                    "109",
                    format!("unknown xcUserID '{id}'"),
                )
                .into(),
                other => other.into(),
            })
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
