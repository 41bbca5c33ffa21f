//! Who is in a room and who runs it: participants added and removed (by the Server API and by
//! a group's admins), admins promoted and demoted, groups created, renamed and left. Each rule
//! is written here once and runs inside one write transaction of either store.

use crate::domain::{AppId, Room, RoomRef, RoomType, StoredFile, SystemAction, User, UserId};
use crate::domain::{now_ms, unique_users};
use crate::store::{ChatTx, Joining, NewRoom, RoomChange, RowLock, StoreError};

/// A room operation of the client API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientRoomChange {
    /// Create a group (or channel) with the actor as admin.
    Create {
        /// Name.
        name: String,
        /// Type (group or channel).
        room_type: RoomType,
        /// The other participants.
        user_ids: Vec<UserId>,
    },
    /// Rename (admins only).
    Rename {
        /// The room.
        room: RoomRef,
        /// New name.
        name: String,
    },
    /// Set the room's picture to an uploaded image at `url` (admins only).
    Photo {
        /// The room.
        room: RoomRef,
        /// The uploaded image (public: the SDKs show pictures without credentials).
        file: StoredFile,
        /// Its URL.
        url: String,
    },
    /// Leave.
    Leave(RoomRef),
    /// Delete the room for everyone (admins only).
    Delete(RoomRef),
    /// Add (`add`) or remove participants (admins only).
    Participants {
        /// The room.
        room: RoomRef,
        /// Who.
        user_ids: Vec<UserId>,
        /// Add or remove.
        add: bool,
    },
    /// Promote (`promote`) or demote admins (admins only).
    Admins {
        /// The room.
        room: RoomRef,
        /// Who.
        user_ids: Vec<UserId>,
        /// Promote or demote.
        promote: bool,
    },
}

impl ClientRoomChange {
    /// How many users the change names (what its write's size follows).
    pub fn users(&self) -> usize {
        match self {
            Self::Create { user_ids, .. }
            | Self::Participants { user_ids, .. }
            | Self::Admins { user_ids, .. } => user_ids.len(),
            Self::Rename { .. } | Self::Photo { .. } | Self::Leave(_) | Self::Delete(_) => 1,
        }
    }
}

/// Who makes a participant change.
#[derive(Debug, Clone, Copy)]
enum Actor {
    /// A user through the client API, bound by blocks.
    Client(UserId),
    /// The customer's backend, not bound by blocks; its messages come from the app's own
    /// user, if the app has one.
    ServerApi(Option<UserId>),
}

/// Adds (`add`) or removes users, each named user once; every actual change appends one
/// `room/addParticipant` or `room/removeParticipant` message sent by `actor` (for the
/// Server API, the app's own user) with the user as its target. The room's members after the change and every
/// user it removed hear all of its messages (so a removed user hears the message that says
/// so). Users already in (or already out) change nothing and append nothing. A client actor
/// may not add a user when either of the two blocked the other. The work is
/// linear in the number of users: the messages are appended together, for one audience.
async fn change_members(
    tx: &mut dyn ChatTx,
    app: AppId,
    room: Room,
    actor: Actor,
    users: Vec<User>,
    add: bool,
) -> Result<RoomChange, StoreError> {
    let now = now_ms();
    let action = if add {
        SystemAction::AddParticipant
    } else {
        SystemAction::RemoveParticipant
    };
    if let (Actor::Client(actor), true) = (actor, add) {
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        super::contacts::refuse_blocked(tx, actor, &ids).await?;
    }
    let sender = match actor {
        Actor::Client(user) => Some(user),
        Actor::ServerApi(app_user) => app_user,
    };
    let mut changes = Vec::new();
    let mut removed = Vec::new();
    for user in unique_users(users) {
        let changed = if add {
            tx.add_member(room.id, user.id, false, now, Joining::ExistingRoom)
                .await?
        } else {
            tx.remove_member(room.id, user.id).await?
        };
        if changed {
            if !add {
                removed.push(user.id);
            }
            changes.push(action.message(sender, Some(&user)));
        }
    }
    let messages = tx.append_messages(app, &room, changes, &removed).await?;
    Ok(RoomChange {
        bundle: tx.bundle(room).await?,
        messages,
    })
}

/// Server API: adds or removes participants by `xcUserID`. The room's row is locked first; one
/// unknown user fails the whole request.
pub(super) async fn server_change_participants(
    tx: &mut dyn ChatTx,
    app: AppId,
    xc_room_id: String,
    xc_user_ids: Vec<String>,
    add: bool,
) -> Result<RoomChange, StoreError> {
    let room = tx
        .room_by_xc_id(app, &xc_room_id, RowLock::Update)
        .await?
        .ok_or(StoreError::RoomNotFound)?;
    let users = tx.users_by_xc_ids(app, &xc_user_ids).await?;
    let sender = super::rooms::app_sender(tx, app).await?;
    change_members(tx, app, room, Actor::ServerApi(sender), users, add).await
}

/// Client API: applies a room operation for `actor`.
pub(super) async fn client_change(
    tx: &mut dyn ChatTx,
    app: AppId,
    actor: User,
    change: ClientRoomChange,
) -> Result<RoomChange, StoreError> {
    match change {
        ClientRoomChange::Create {
            name,
            room_type,
            user_ids,
        } => create_group(tx, app, &actor, &name, room_type, &user_ids).await,
        ClientRoomChange::Rename { room, name } => {
            let mut room = shared_room_as_admin(tx, app, &actor, room).await?;
            tx.rename_room(room.id, &name, now_ms()).await?;
            room.name = name;
            let message = SystemAction::RoomUpdate.message(Some(actor.id), None);
            let message = tx.append_message(app, &room, message, &[]).await?;
            Ok(RoomChange {
                bundle: tx.bundle(room).await?,
                messages: vec![message],
            })
        }
        ClientRoomChange::Photo { room, file, url } => {
            let mut room = shared_room_as_admin(tx, app, &actor, room).await?;
            tx.insert_file(&file, Some(room.id)).await?;
            tx.set_room_photo(room.id, &url, now_ms()).await?;
            room.photo_thumbnail.clone_from(&url);
            room.photo_fullsize = url;
            let message = SystemAction::RoomUpdate.message(Some(actor.id), None);
            let message = tx.append_message(app, &room, message, &[]).await?;
            Ok(RoomChange {
                bundle: tx.bundle(room).await?,
                messages: vec![message],
            })
        }
        ClientRoomChange::Leave(room) => leave(tx, app, &actor, room).await,
        ClientRoomChange::Delete(room) => {
            // Every member hears the message before the room is gone.
            let room = shared_room_as_admin(tx, app, &actor, room).await?;
            let message = SystemAction::RoomDelete.message(Some(actor.id), None);
            let message = tx.append_message(app, &room, message, &[]).await?;
            let bundle = tx.bundle(room.clone()).await?;
            tx.delete_room(room.id, now_ms()).await?;
            Ok(RoomChange {
                bundle,
                messages: vec![message],
            })
        }
        ClientRoomChange::Participants {
            room,
            user_ids,
            add,
        } => {
            let room = shared_room_as_admin(tx, app, &actor, room).await?;
            let users = users_in_app(tx, app, &user_ids).await?;
            change_members(tx, app, room, Actor::Client(actor.id), users, add).await
        }
        ClientRoomChange::Admins {
            room,
            user_ids,
            promote,
        } => change_admins(tx, app, &actor, room, &user_ids, promote).await,
    }
}

/// A group created by a client: the creator is its admin; one unknown user, or one with a
/// block between them and the creator, fails it all.
async fn create_group(
    tx: &mut dyn ChatTx,
    app: AppId,
    creator: &User,
    name: &str,
    room_type: RoomType,
    user_ids: &[UserId],
) -> Result<RoomChange, StoreError> {
    let others = users_in_app(tx, app, user_ids).await?;
    super::contacts::refuse_blocked(tx, creator.id, user_ids).await?;
    let new_room = NewRoom::client_group(name, room_type);
    let id = tx.insert_shared_room(app, &new_room).await?;
    let now = now_ms();
    tx.add_member(id, creator.id, true, now, Joining::NewRoom)
        .await?;
    for user in &others {
        tx.add_member(id, user.id, false, now, Joining::NewRoom)
            .await?;
    }
    let room = new_room.room(id);
    let message = SystemAction::RoomCreate.message(Some(creator.id), None);
    let message = tx.append_message(app, &room, message, &[]).await?;
    Ok(RoomChange {
        bundle: tx.bundle(room).await?,
        messages: vec![message],
    })
}

/// Leaving: only explicit participants of a shared room leave (a personal room cannot be
/// left, a role holder is not a participant to remove); the leaver hears the message too.
async fn leave(
    tx: &mut dyn ChatTx,
    app: AppId,
    user: &User,
    room: RoomRef,
) -> Result<RoomChange, StoreError> {
    let RoomRef::Shared(id) = room else {
        return Err(StoreError::Forbidden(
            "a personal room cannot be left".into(),
        ));
    };
    let room = tx.room_by_id(app, id, RowLock::Update).await?;
    if !tx.remove_member(room.id, user.id).await? {
        return Err(StoreError::Forbidden(
            "not a participant of this room".into(),
        ));
    }
    let message = SystemAction::Leave.message(Some(user.id), None);
    let message = tx.append_message(app, &room, message, &[user.id]).await?;
    Ok(RoomChange {
        bundle: tx.bundle(room).await?,
        messages: vec![message],
    })
}

/// Promotes or demotes participants; a message for each whose role actually changed.
async fn change_admins(
    tx: &mut dyn ChatTx,
    app: AppId,
    actor: &User,
    room: RoomRef,
    user_ids: &[UserId],
    promote: bool,
) -> Result<RoomChange, StoreError> {
    let room = shared_room_as_admin(tx, app, actor, room).await?;
    let users = users_in_app(tx, app, user_ids).await?;
    let action = if promote {
        SystemAction::PromoteAdmin
    } else {
        SystemAction::DemoteAdmin
    };
    let mut changes = Vec::new();
    for user in unique_users(users) {
        if tx.set_admin(room.id, user.id, promote).await? {
            changes.push(action.message(Some(actor.id), Some(&user)));
        }
    }
    let messages = tx.append_messages(app, &room, changes, &[]).await?;
    Ok(RoomChange {
        bundle: tx.bundle(room).await?,
        messages,
    })
}

/// The admin gate of client room management: a shared room (personal rooms have nobody to
/// manage), its row locked before the check, and the actor one of its admins.
async fn shared_room_as_admin(
    tx: &mut dyn ChatTx,
    app: AppId,
    actor: &User,
    room: RoomRef,
) -> Result<Room, StoreError> {
    let RoomRef::Shared(id) = room else {
        return Err(StoreError::Forbidden(
            "personal rooms have no participants to manage".into(),
        ));
    };
    let room = tx.room_by_id(app, id, RowLock::Update).await?;
    if !tx.is_admin(room.id, actor.id).await? {
        return Err(StoreError::Forbidden(
            "only the room's admins may do this".into(),
        ));
    }
    Ok(room)
}

/// Users by platform ID, all of them in `app`; an unknown ID fails the whole request.
async fn users_in_app(
    tx: &mut dyn ChatTx,
    app: AppId,
    ids: &[UserId],
) -> Result<Vec<User>, StoreError> {
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        let user = tx.user_in_app(app, *id).await?;
        users.push(user.ok_or_else(|| StoreError::UnknownUser(id.to_string()))?);
    }
    Ok(users)
}
