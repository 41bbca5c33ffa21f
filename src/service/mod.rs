//! The use cases, shared by every API that needs them. Handlers parse requests into the types
//! re-exported here, call one method, and render the result.

mod keys;
mod rooms;
mod users;

use std::sync::Arc;
use std::time::Duration;

pub use crate::store::{ContactCounts, ContactOp, LockChange, RoomChange, RoomUpsert, UserProfile};
pub use keys::KeyError;

use crate::domain::ParamError;
use crate::store::{Store, StoreError};

/// Why a use case failed, in the terms the APIs report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    /// A request parameter is wrong (`40002`).
    Param(ParamError),
    /// The room does not exist in the caller's app (`40401`).
    RoomNotFound,
    /// The user does not exist in the caller's app (`40401`).
    UserNotFound,
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
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// Service-level settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long an auth ticket can be exchanged.
    pub ticket_ttl: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            ticket_ttl: Duration::from_secs(3600),
        }
    }
}

/// The use cases over one store. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    config: ServiceConfig,
}

impl Service {
    /// Builds the service layer over a store.
    pub fn new(store: Arc<dyn Store>, config: ServiceConfig) -> Self {
        Self { store, config }
    }

    /// The underlying store (for shutdown and tooling).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
