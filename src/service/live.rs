//! Socket lifecycle and ephemeral events: presence and typing.

use serde_json::json;

use super::access::{find_room, unborn_room_audience};
use super::{ClientSession, Service, ServiceError};
use crate::domain::{RoomRef, now_ms};
use crate::realtime::Registration;
use crate::wire;

/// Most users told about one user's presence change.
const PRESENCE_FANOUT: i64 = 10_000;

// Presence goes to the user's personal-room partners only: the SDKs show "online" and "last
// seen" in a personal room's header, while a group room shows its member count and reads
// `isOnline` with its participants. Telling every member of every shared group instead made a
// reconnect storm quadratic (10,000 users in 100 rooms of 1,000: up to 10⁸ frames).

impl Service {
    /// Registers a socket; the user's first socket brings them online.
    pub async fn connect(&self, session: &ClientSession) -> Registration {
        let user = &session.user;
        let registration =
            self.hub()
                .register(session.app, user.id, &user.role_code, session.session);
        if registration.first {
            self.presence(session, true).await;
        }
        registration
    }

    /// Unregisters a socket; the user's last socket takes them offline.
    pub async fn disconnect(&self, session: &ClientSession, registration: Registration) {
        drop(registration);
        if !self.hub().is_online(session.user.id) {
            self.presence(session, false).await;
        }
    }

    /// Tells the user's personal-room partners that they came or went, and records the time
    /// as the user's last activity.
    async fn presence(&self, session: &ClientSession, online: bool) {
        let now = now_ms();
        if let Err(err) = self.store.touch_user(session.user.id, now).await {
            tracing::warn!(error = %err, "cannot record user activity");
        }
        let sharers = match self
            .store
            .personal_partners(session.user.id, PRESENCE_FANOUT)
            .await
        {
            Ok(sharers) => sharers,
            Err(err) => {
                tracing::warn!(error = %err, "cannot find a user's personal-room partners");
                return;
            }
        };
        let mut user = session.user.clone();
        user.last_activity = now;
        let frame = wire::event(
            "user/status",
            &json!({"user": wire::user_online(&user, online), "isOnline": online, "lastActive": now}),
        );
        self.fanout.to_users(sharers, frame);
    }

    /// Relays `chat/startTyping` / `chat/stopTyping` to the room's other connected users, with
    /// the sender's stored profile in place of whatever the client claimed.
    pub async fn relay_typing(
        &self,
        session: &ClientSession,
        room: RoomRef,
        started: bool,
    ) -> Result<(), ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        // A personal room before its first message is heard by its two users.
        let audience = self
            .store
            .reading(move |tx| {
                let user = user.clone();
                Box::pin(async move {
                    match find_room(tx, app, &user, room).await? {
                        Some(found) => tx.audience(app, &found, &[]).await,
                        None => unborn_room_audience(app, room),
                    }
                })
            })
            .await?;
        let name = if started {
            "chat/startTyping"
        } else {
            "chat/stopTyping"
        };
        let frame = wire::event(
            name,
            &json!({"roomID": room.wire_id(), "user": wire::user(&session.user)}),
        );
        self.fanout.to_room(audience, session.user.id, frame);
        Ok(())
    }
}
