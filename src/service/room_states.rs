//! A user's own states of rooms: mute (with an expiry), pin, mark as unread. Each change is
//! all or nothing (a room the user cannot see fails the request and changes no room), is
//! stored, and is told to every socket of the user (the Android SDK's `room/mute`,
//! `room/pin`… events), so that their other devices follow; the room's other members see
//! nothing. Reading a room clears its unread mark (see [`super::messages::mark`]).

use serde_json::json;

use super::access::resolve_room;
use super::{ClientSession, Service, ServiceError};
use crate::domain::{Room, RoomId, RoomRef, RoomState, RoomStateChange, UserId};
use crate::store::{StoreError, WriteSize};
use crate::wire;

impl Service {
    /// Applies `change` to the caller's state of `rooms`. A personal room not created yet is
    /// created (its state needs a row to belong to).
    pub async fn change_room_states(
        &self,
        session: &ClientSession,
        rooms: Vec<RoomRef>,
        change: RoomStateChange,
    ) -> Result<(), ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        let size = WriteSize::of(rooms.len());
        let changed = self
            .sized_transaction(size, move |tx| {
                let (user, rooms) = (user.clone(), rooms.clone());
                Box::pin(async move {
                    let mut found: Vec<Room> = Vec::with_capacity(rooms.len());
                    for room in rooms {
                        let room = resolve_room(tx, app, &user, room, true)
                            .await?
                            .ok_or(StoreError::RoomNotFound)?;
                        if !found.iter().any(|r| r.id == room.id) {
                            found.push(room);
                        }
                    }
                    let ids: Vec<RoomId> = found.iter().map(|r| r.id).collect();
                    let changed = tx.change_room_states(user.id, &ids, change).await?;
                    found.retain(|r| changed.contains(&r.id));
                    Ok(found)
                })
            })
            .await?;
        self.tell_room_states(session.user.id, &changed, change);
        Ok(())
    }

    /// The caller's states of their rooms; a mute past its expiry is left out.
    pub async fn room_states(
        &self,
        session: &ClientSession,
        now: i64,
    ) -> Result<Vec<RoomState>, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        let mut states = self
            .store
            .reading(move |tx| {
                let user = user.clone();
                Box::pin(async move { tx.room_states(app, &user).await })
            })
            .await?;
        for state in &mut states {
            if !state.is_muted(now) {
                state.muted_until = None;
            }
        }
        Ok(states)
    }

    /// Tells every socket of `user` that their state of `rooms` changed.
    pub(super) fn tell_room_states(&self, user: UserId, rooms: &[Room], change: RoomStateChange) {
        for room in rooms {
            let view = wire::room(room, user);
            let frame = match change {
                RoomStateChange::Mute { until } => {
                    wire::event(change.event(), &json!({"room": view, "expiredAt": until}))
                }
                // Android reads a `room/mute` or `room/unmute` without `expiredAt` as an unmute.
                _ => wire::event(change.event(), &json!({"room": view})),
            };
            self.fanout.to_users(vec![user], frame);
        }
    }
}
