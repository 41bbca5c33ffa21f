//! The use cases, shared by every API that needs them. Handlers parse requests into the types
//! re-exported here, call one method, and render the result.

mod access;
mod client;
mod contacts;
mod hiding;
mod keys;
mod live;
mod marks;
mod media;
mod membership;
mod message_info;
mod messages;
mod profile;
mod reports;
mod room_states;
mod rooms;
#[cfg(test)]
mod rule_tests;
mod scheduled;
mod sessions;
mod users;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

/// Service-level settings; defined with the rest of the configuration (so that `config`
/// depends on no other module), and nameable here where the service takes them.
pub use crate::config::ServiceConfig;
/// Why the server closes a socket; re-exported so the HTTP edge need not reach into realtime.
pub use crate::realtime::CloseReason;
pub use crate::store::{ContactCounts, ContactOp, LockChange, RoomChange, RoomUpsert, UserProfile};
pub use contacts::MAX_PHONES;
pub use keys::{KEY_REVOCATION_SEEN, KeyError};
pub use marks::{Marked, Page};
pub use membership::ClientRoomChange;
pub use message_info::{MessageInfo, Recipient};
pub use messages::{Destination, Origin, OutgoingMessage, ServerDestination, ServerMessage};
pub use reports::{ListedReport, ReportAbout, ReportText};
pub use scheduled::ScheduledView;
pub use sessions::{AuthError, ClientSession, TokenBundle, bearer};
pub use webhooks::{
    AddedWebhook, WEBHOOKS_SEEN, new_key as new_webhook_key, parse_key as parse_webhook_key,
};

use futures_util::future::BoxFuture;

use crate::domain::{AppId, ParamError, User};
use crate::realtime::{Fanout, Hub};
use crate::store::{ChatRead, ChatTx, Store, StoreError, TokenProblem, WriteSize};

/// Why a use case failed, in the terms the APIs report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    /// A request parameter is wrong (`40002`).
    Param(ParamError),
    /// The room does not exist in the caller's app (`40401`).
    RoomNotFound,
    /// The user does not exist in the caller's app (`40401`).
    UserNotFound,
    /// The file does not exist in the caller's app (`40401`).
    FileNotFound,
    /// A user the request names (by `xcUserID` or by user ID) is not in the caller's app. The
    /// HTTP edge reports it on the parameter that named them.
    UnknownUser(String),
    /// The request contradicts what is stored (a room's type cannot change). The HTTP edge
    /// reports it on the parameter concerned.
    Conflict(String),
    /// The caller may not do this (`40301`).
    Forbidden(String),
    /// A client tried to send into a locked room (`40301`).
    Locked,
    /// A ticket or token was refused (`401xx`).
    Auth(AuthError),
    /// Something broke inside confab; the text is for the log only.
    Internal(String),
}

impl From<ParamError> for ServiceError {
    fn from(err: ParamError) -> Self {
        ServiceError::Param(err)
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::RoomNotFound => ServiceError::RoomNotFound,
            StoreError::UserNotFound => ServiceError::UserNotFound,
            StoreError::FileNotFound => ServiceError::FileNotFound,
            StoreError::UnknownUser(id) => ServiceError::UnknownUser(id),
            StoreError::Conflict(why) => ServiceError::Conflict(why),
            StoreError::Forbidden(why) => ServiceError::Forbidden(why),
            StoreError::Locked => ServiceError::Locked,
            StoreError::Token(TokenProblem::Invalid) => ServiceError::Auth(AuthError::Invalid),
            StoreError::Token(TokenProblem::Expired) => ServiceError::Auth(AuthError::Expired),
            StoreError::Token(TokenProblem::OtherApp) => ServiceError::Auth(AuthError::OtherApp),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// The use cases over one store and one realtime hub. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    fanout: Fanout,
    config: ServiceConfig,
    keys: Arc<keys::KeyCache>,
    webhooks: Arc<webhooks::Targets>,
}

impl Service {
    /// Builds the service layer over a store and the fan-out its live events go through.
    pub fn new(store: Arc<dyn Store>, fanout: Fanout, config: ServiceConfig) -> Self {
        Self {
            store,
            fanout,
            config,
            keys: Arc::default(),
            webhooks: Arc::default(),
        }
    }

    /// The underlying store (for shutdown and tooling).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// This node's connection registry.
    pub fn hub(&self) -> &Hub {
        self.fanout.hub()
    }

    /// Live events to this node's sockets and, with a bus, every other node's.
    pub fn fanout(&self) -> &Fanout {
        &self.fanout
    }

    /// Runs `work` on one consistent view of the data, as the caller: the read every client
    /// look-up makes, with the caller's app and user handed in.
    pub(super) async fn read_as<R, F>(
        &self,
        session: &ClientSession,
        work: F,
    ) -> Result<R, ServiceError>
    where
        R: Send + 'static,
        F: for<'t> Fn(
                &'t mut dyn ChatRead,
                AppId,
                &'t User,
            ) -> BoxFuture<'t, Result<R, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let (app, user) = (session.app, session.user.clone());
        let work = Arc::new(work);
        Ok(self
            .store
            .reading(move |tx| {
                let (user, work) = (user.clone(), Arc::clone(&work));
                Box::pin(async move { work(tx, app, &user).await })
            })
            .await?)
    }
}

impl Service {
    /// Runs a rule's writes in one transaction, ending with the webhook events of what it
    /// changed (see [`webhooks`]): every write of a rule goes through here.
    pub(super) async fn transaction<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'t> Fn(&'t mut dyn ChatTx) -> BoxFuture<'t, Result<R, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        self.sized_transaction(WriteSize::Small, work).await
    }

    /// [`Self::transaction`] for a write of the given size.
    pub(super) async fn sized_transaction<R, F>(
        &self,
        size: WriteSize,
        work: F,
    ) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'t> Fn(&'t mut dyn ChatTx) -> BoxFuture<'t, Result<R, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let work = Arc::new(work);
        let targets = self.webhooks.current();
        self.store
            .sized_transaction(size, move |tx| {
                let (work, targets) = (Arc::clone(&work), Arc::clone(&targets));
                Box::pin(async move {
                    let result = work(&mut *tx).await?;
                    webhooks::record(tx, &targets).await?;
                    Ok(result)
                })
            })
            .await
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
