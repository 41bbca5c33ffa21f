//! A user's own contacts and blocks through the client API.
//!
//! Contacts are one-way, as in the Server API's contact sync. A block is one user's decision
//! about another; while it stands neither of the two may send into their personal room nor
//! add the other to a group through the client API (the rule is [`refuse_blocked`], applied by
//! the send rule and by every client participant change). The Server API acts for the
//! operator and is not bound by blocks. Blocking also takes the user out of the blocker's
//! contacts, as both SDKs do in their own lists. The blocker's other devices hear of each
//! block and unblock (`user/block`, `user/unblock`); the blocked user is not told, but their
//! sends are refused with a reason.

use serde_json::json;

use super::{ClientSession, Service, ServiceError};
use crate::domain::{User, UserId, now_ms};
use crate::store::{ChatTx, StoreError, WriteSize};
use crate::wire;

/// Most phone numbers one `add_by_phones` request may name.
pub const MAX_PHONES: usize = 1000;

impl Service {
    /// Puts `contact` in the caller's contact list; answers the contact.
    pub async fn add_contact(
        &self,
        session: &ClientSession,
        contact: UserId,
    ) -> Result<User, ServiceError> {
        let (app, owner) = (session.app, session.user.id);
        let user = self
            .transaction(move |tx| {
                Box::pin(async move {
                    let user = other_user(tx, app, owner, contact).await?;
                    tx.add_contact(owner, user.id, now_ms()).await?;
                    Ok(user)
                })
            })
            .await?;
        Ok(user)
    }

    /// Puts every user of the app whose phone number is one of `phones` in the caller's
    /// contact list; answers them (numbers nobody has are skipped).
    pub async fn add_contacts_by_phones(
        &self,
        session: &ClientSession,
        phones: Vec<String>,
    ) -> Result<Vec<User>, ServiceError> {
        let (app, owner) = (session.app, session.user.id);
        let users = self
            .sized_transaction(WriteSize::of(phones.len()), move |tx| {
                let phones = phones.clone();
                Box::pin(async move {
                    let mut users = tx.users_by_phones(app, &phones).await?;
                    users.retain(|u| u.id != owner);
                    let now = now_ms();
                    for user in &users {
                        tx.add_contact(owner, user.id, now).await?;
                    }
                    Ok(users)
                })
            })
            .await?;
        Ok(users)
    }

    /// Takes `contact` out of the caller's contact list (not being in it is no error).
    pub async fn remove_contact(
        &self,
        session: &ClientSession,
        contact: UserId,
    ) -> Result<(), ServiceError> {
        let (app, owner) = (session.app, session.user.id);
        self.transaction(move |tx| {
            Box::pin(async move {
                let user = other_user(tx, app, owner, contact).await?;
                tx.remove_contact(owner, user.id).await?;
                Ok(())
            })
        })
        .await?;
        Ok(())
    }

    /// Blocks (`blocking`) or unblocks `other` for the caller; answers the user. The caller's
    /// sockets hear of a change (`user/block` or `user/unblock`); a repeat changes nothing and
    /// tells nobody.
    pub async fn set_block(
        &self,
        session: &ClientSession,
        other: UserId,
        blocking: bool,
    ) -> Result<User, ServiceError> {
        let (app, blocker) = (session.app, session.user.id);
        let (user, changed) = self
            .transaction(move |tx| {
                Box::pin(async move {
                    let user = other_user(tx, app, blocker, other).await?;
                    let now = now_ms();
                    let changed = tx.set_block(blocker, user.id, blocking, now).await?;
                    if blocking {
                        tx.remove_contact(blocker, user.id).await?;
                    }
                    Ok((user, changed))
                })
            })
            .await?;
        if changed {
            let event = if blocking {
                "user/block"
            } else {
                "user/unblock"
            };
            let frame = wire::event(event, &json!({"user": wire::user(&user)}));
            self.fanout.to_users(vec![blocker], frame);
        }
        Ok(user)
    }

    /// The users the caller blocked, the latest first.
    pub async fn blocked_users(&self, session: &ClientSession) -> Result<Vec<User>, ServiceError> {
        let blocker = session.user.id;
        Ok(self
            .store
            .reading(move |tx| Box::pin(async move { tx.blocked_users(blocker).await }))
            .await?)
    }
}

/// Another user of the app, by ID: unknown users are `40401`, the caller themself a refusal.
async fn other_user(
    tx: &mut dyn ChatTx,
    app: crate::domain::AppId,
    caller: UserId,
    id: UserId,
) -> Result<User, StoreError> {
    if id == caller {
        return Err(StoreError::Forbidden("not possible with yourself".into()));
    }
    tx.user_in_app(app, id)
        .await?
        .ok_or(StoreError::UserNotFound)
}

/// The block rule: `actor` may not, through the client API, reach any of `others` when either
/// of the two blocked the other (send into their personal room, add them to a group).
pub(super) async fn refuse_blocked(
    tx: &mut dyn ChatTx,
    actor: UserId,
    others: &[UserId],
) -> Result<(), StoreError> {
    if others.is_empty() {
        return Ok(());
    }
    match tx.blocks_between(actor, others).await?.first() {
        None => Ok(()),
        Some(other) => Err(StoreError::Forbidden(format!(
            "user {other} and you have a block between you"
        ))),
    }
}
