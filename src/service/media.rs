//! Media rules: who may upload into a room and download from it, which rooms a file belongs
//! to, and a room's shared media. The bytes themselves never pass through here: the HTTP edge
//! streams them to and from the media store, around these checks.

use crate::domain::file::file_id_of;
use crate::domain::{AppId, Message, Room, RoomId, RoomRef, StoredFile, User};
use crate::store::{ChatTx, RowLock, StoreError};

use super::access::{find_room, is_participant, resolve_room};
use super::messages::room_to_post_in;
use super::{ClientSession, ServerDestination, Service, ServiceError};

/// Whether a room the uploader takes part in takes uploads: a locked room takes no client
/// sends, so no uploads either.
fn check_upload(room: Option<&Room>) -> Result<(), StoreError> {
    match room {
        Some(room) if room.is_locked() => Err(StoreError::Locked),
        _ => Ok(()),
    }
}

impl Service {
    /// Checks, before any byte is stored, that the caller may upload into `room`.
    pub async fn check_upload(
        &self,
        session: &ClientSession,
        room: RoomRef,
    ) -> Result<(), ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .store
            .reading(move |tx| {
                let user = user.clone();
                Box::pin(
                    async move { check_upload(find_room(tx, app, &user, room).await?.as_ref()) },
                )
            })
            .await?)
    }

    /// Records a finished upload as belonging to `room`, checking access again: the caller
    /// may have lost the room while the bytes arrived. A personal room comes into being.
    pub async fn record_upload(
        &self,
        session: &ClientSession,
        room: RoomRef,
        file: StoredFile,
    ) -> Result<(), ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .transaction(move |tx| {
                let (user, file) = (user.clone(), file.clone());
                Box::pin(async move {
                    let room = resolve_room(tx, app, &user, room, true)
                        .await?
                        .ok_or(StoreError::RoomNotFound)?;
                    check_upload(Some(&room))?;
                    tx.insert_file(&file, Some(room.id)).await
                })
            })
            .await?)
    }

    /// Records a Server API upload from the user `sender_xc_user_id` into the room `to` names
    /// (a personal room comes into being); the sender must take part in it, as for a send.
    pub async fn record_server_upload(
        &self,
        app: AppId,
        sender_xc_user_id: &str,
        to: ServerDestination,
        file: StoredFile,
    ) -> Result<(), ServiceError> {
        let (sender, destination) = self.server_destination(app, sender_xc_user_id, &to).await?;
        let file = StoredFile {
            uploader: sender.id,
            ..file
        };
        Ok(self
            .transaction(move |tx| {
                let (sender, destination, file) =
                    (sender.clone(), destination.clone(), file.clone());
                Box::pin(async move {
                    let room = room_to_post_in(tx, app, &sender, destination).await?;
                    tx.insert_file(&file, Some(room.id)).await
                })
            })
            .await?)
    }

    /// The file `id` as the caller may download it from `room`: they take part in the room,
    /// and the file belongs to it.
    pub async fn file_for_download(
        &self,
        session: &ClientSession,
        room: RoomRef,
        id: String,
    ) -> Result<StoredFile, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .store
            .reading(move |tx| {
                let (user, id) = (user.clone(), id.clone());
                Box::pin(async move {
                    // A personal room with no message yet has no files.
                    let room = find_room(tx, app, &user, room).await?;
                    let file = tx
                        .file_by_id(app, &id)
                        .await?
                        .ok_or(StoreError::FileNotFound)?;
                    let rooms = tx.rooms_of_file(&file.id).await?;
                    if !room.is_some_and(|room| rooms.contains(&room.id)) {
                        return Err(StoreError::Forbidden(
                            "the file was not shared in this room".into(),
                        ));
                    }
                    Ok(file)
                })
            })
            .await?)
    }

    /// A room's images, videos, files and links in `[min_created, max_created)`.
    pub async fn shared_content(
        &self,
        session: &ClientSession,
        room: RoomRef,
        min_created: i64,
        max_created: i64,
        ascending: bool,
        limit: i64,
    ) -> Result<Vec<Message>, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .store
            .reading(move |tx| {
                let user = user.clone();
                Box::pin(async move {
                    match find_room(tx, app, &user, room).await? {
                        Some(room) => {
                            tx.shared_content(room.id, min_created, max_created, ascending, limit)
                                .await
                        }
                        None => Ok(Vec::new()),
                    }
                })
            })
            .await?)
    }
}

/// The file a message being sent carries, if any, as the rule of the send sees it: the file
/// joins `room` when its sender could read it (it was uploaded by them, or belongs to a room
/// they take part in: a forwarded image). An unknown ID or a file the sender cannot read is
/// left alone; the message is still sent, and its file cannot be downloaded from this room.
pub(super) async fn carry_file(
    tx: &mut dyn ChatTx,
    app: AppId,
    sender: &User,
    room: RoomId,
    kind: i64,
    data: &str,
    local_id: &str,
) -> Result<(), StoreError> {
    let Some(id) = file_id_of(kind, data, local_id) else {
        return Ok(());
    };
    let Some(file) = tx.file_by_id(app, &id).await? else {
        return Ok(());
    };
    let rooms = tx.rooms_of_file(&file.id).await?;
    if rooms.contains(&room) {
        return Ok(());
    }
    let mut readable = file.uploader == sender.id;
    for other in rooms {
        if readable {
            break;
        }
        let other = match tx.room_by_id(app, other, RowLock::None).await {
            Ok(other) => other,
            // A deleted room no longer lends its files.
            Err(StoreError::RoomNotFound) => continue,
            Err(err) => return Err(err),
        };
        readable = is_participant(tx, &other, sender).await?;
    }
    if readable {
        tx.link_file(&file.id, room).await?;
    }
    Ok(())
}
