//! Who may read and write a room, and a client's `roomID` resolved for them: the
//! participation rule ([`Room::participation`]) applied wherever a rule meets a room.

use crate::domain::{AppId, Audience, Participation, Room, RoomRef, User, now_ms};
use crate::store::{ChatRead, ChatTx, RowLock, StoreError};

/// Whether `user` takes part in `room`: the room's own rule, then its membership row.
pub(super) async fn is_participant(
    tx: &mut dyn ChatRead,
    room: &Room,
    user: &User,
) -> Result<bool, StoreError> {
    match room.participation(user) {
        Participation::Yes => Ok(true),
        Participation::No => Ok(false),
        Participation::IfMember => tx.is_member(room.id, user.id).await,
    }
}

fn not_a_participant<T>() -> Result<T, StoreError> {
    Err(StoreError::Forbidden(
        "not a participant of this room".into(),
    ))
}

/// A client's `roomID` as `user` may use it: a personal room must be theirs and its other user
/// in the app (`None` while it has no first message yet); a shared room must exist in the app
/// and admit them.
pub(super) async fn find_room(
    tx: &mut dyn ChatRead,
    app: AppId,
    user: &User,
    room: RoomRef,
) -> Result<Option<Room>, StoreError> {
    match room {
        RoomRef::Personal { a, b } => {
            if user.id != a && user.id != b {
                return not_a_participant();
            }
            if let Some(room) = tx.personal_room(app, a, b).await? {
                return Ok(Some(room));
            }
            let other = if user.id == a { b } else { a };
            if tx.user_in_app(app, other).await?.is_none() {
                return Err(StoreError::RoomNotFound);
            }
            Ok(None)
        }
        RoomRef::Shared(id) => {
            let room = tx.room_by_id(app, id, RowLock::None).await?;
            if !is_participant(tx, &room, user).await? {
                return not_a_participant();
            }
            Ok(Some(room))
        }
    }
}

/// [`find_room`], creating a personal room on its first use when `create` is set.
pub(super) async fn resolve_room(
    tx: &mut dyn ChatTx,
    app: AppId,
    user: &User,
    room: RoomRef,
    create: bool,
) -> Result<Option<Room>, StoreError> {
    let found = find_room(tx, app, user, room).await?;
    match (found, room) {
        (None, RoomRef::Personal { a, b }) if create => {
            Ok(Some(tx.insert_personal_room(app, a, b, now_ms()).await?))
        }
        (found, _) => Ok(found),
    }
}

/// Who hears about a room that resolves to nothing yet: a personal room before its first
/// message is its two users; a shared room that does not exist is not found.
pub(super) fn unborn_room_audience(app: AppId, room: RoomRef) -> Result<Audience, StoreError> {
    match room {
        RoomRef::Personal { a, b } => Ok(Audience {
            app,
            members: vec![(a, 0), (b, 0)],
            roles: Vec::new(),
        }),
        RoomRef::Shared(_) => Err(StoreError::RoomNotFound),
    }
}
