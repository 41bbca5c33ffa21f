//! Message info: who a message reached and who read it, and when.
//!
//! A message counts as read by every user whose read position in its room has passed it,
//! explicit and role participants alike: the same positions unread counts come from, so the
//! two always agree. The times come from each recipient's own receipts (recorded by the
//! receipt rule, [`super::messages::mark`]); a message read by reading a later one takes that
//! later read's time, and one read by sending a reply the reply's. Delivered without being
//! read is what a recipient's receipt says and their read position does not. The sender is
//! not a recipient.

use super::access::is_participant;
use super::{ClientSession, Service, ServiceError};
use crate::domain::{AppId, Message, MessageId, User};
use crate::store::{ChatRead, StoreError};

/// One recipient of a message, with their times.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// Who.
    pub user: User,
    /// When one of their devices reported it delivered (their read time when they read it
    /// without a delivery receipt).
    pub delivered_at: Option<i64>,
    /// When they read it; `None` for a recipient it reached but who has not read it, or who
    /// read it with no receipt to time it.
    pub read_at: Option<i64>,
}

/// A message with its readers and the recipients it reached but who have not read it.
#[derive(Debug, Clone)]
pub struct MessageInfo {
    /// The message.
    pub message: Message,
    /// Who read it, the earliest first.
    pub read_by: Vec<Recipient>,
    /// Who it reached but has not read it, the earliest first.
    pub delivered_to: Vec<Recipient>,
    /// The caller's read position in the message's room, to render the message for them.
    pub viewer_read_seq: i64,
}

impl Service {
    /// Who a message of a room the caller takes part in reached and who read it.
    pub async fn message_info(
        &self,
        session: &ClientSession,
        id: MessageId,
    ) -> Result<MessageInfo, ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(info(tx, app, user, id))
        })
        .await
    }

    /// How many users read a message of a room the caller takes part in.
    pub async fn total_read(
        &self,
        session: &ClientSession,
        id: MessageId,
    ) -> Result<usize, ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(async move {
                let message = visible_message(tx, app, user, id).await?;
                Ok(readers(tx, &message).await?.len())
            })
        })
        .await
    }
}

/// A message of `app` in a room `user` takes part in.
async fn visible_message(
    tx: &mut dyn ChatRead,
    app: AppId,
    user: &User,
    id: MessageId,
) -> Result<Message, StoreError> {
    let refused = || StoreError::Forbidden("no such message in a room you take part in".into());
    let message = tx.message_by_id(app, id).await?.ok_or_else(refused)?;
    if !is_participant(tx, &message.room, user).await? {
        return Err(refused());
    }
    Ok(message)
}

/// The users whose read position has passed `message`, its sender left out.
async fn readers(
    tx: &mut dyn ChatRead,
    message: &Message,
) -> Result<Vec<crate::domain::UserId>, StoreError> {
    let sender = message.sender.as_ref().map(|s| s.id);
    let mut readers = tx.readers(message.room.id, message.seq).await?;
    readers.retain(|reader| Some(*reader) != sender);
    Ok(readers)
}

async fn info(
    tx: &mut dyn ChatRead,
    app: AppId,
    caller: &User,
    id: MessageId,
) -> Result<MessageInfo, StoreError> {
    let message = visible_message(tx, app, caller, id).await?;
    let receipts = tx.receipts(id).await?;
    let mut read_by = Vec::new();
    for reader in readers(tx, &message).await? {
        let Some(user) = tx.user_in_app(app, reader).await? else {
            continue;
        };
        let own = receipts.iter().find(|r| r.user == reader);
        let read_at = match own.and_then(|r| r.read_at) {
            Some(at) => Some(at),
            None => {
                tx.first_read_after(message.room.id, reader, message.seq)
                    .await?
            }
        };
        read_by.push(Recipient {
            user,
            delivered_at: own.map(|r| r.delivered_at).or(read_at),
            read_at,
        });
    }
    let mut delivered_to = Vec::new();
    for receipt in &receipts {
        if read_by.iter().any(|r| r.user.id == receipt.user) {
            continue;
        }
        if let Some(user) = tx.user_in_app(app, receipt.user).await? {
            delivered_to.push(Recipient {
                user,
                delivered_at: Some(receipt.delivered_at),
                read_at: None,
            });
        }
    }
    read_by.sort_by_key(|r| (r.read_at.unwrap_or(i64::MAX), r.user.id));
    let viewer_read_seq = tx.read_seq(caller.id, message.room.id).await?;
    Ok(MessageInfo {
        message,
        read_by,
        delivered_to,
        viewer_read_seq,
    })
}
