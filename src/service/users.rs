//! Users, auth tickets and contacts.

use super::{Service, ServiceError};
use crate::domain::secret::{hash_secret, random_token};
use crate::domain::{AppId, User, now_ms};
use crate::store::{ContactCounts, ContactOp, UserProfile};

impl Service {
    /// Creates or updates a user by `xcUserID`.
    pub async fn upsert_user(
        &self,
        app: AppId,
        profile: UserProfile,
    ) -> Result<User, ServiceError> {
        Ok(self.store.upsert_user(app, profile).await?)
    }

    /// Upserts the user and issues a one-time auth ticket; returns the ticket and the user.
    pub async fn issue_auth_ticket(
        &self,
        app: AppId,
        profile: UserProfile,
    ) -> Result<(String, User), ServiceError> {
        let ticket = random_token::<32>();
        let ttl = i64::try_from(self.config.ticket_ttl.as_millis()).unwrap_or(i64::MAX);
        let user = self
            .store
            .issue_auth_ticket(
                app,
                profile,
                hash_secret(&ticket),
                now_ms().saturating_add(ttl),
            )
            .await?;
        Ok((ticket, user))
    }

    /// Applies a contact sync: additions, then deletions; an unknown user changes nothing.
    pub async fn sync_contacts(
        &self,
        app: AppId,
        ops: Vec<ContactOp>,
    ) -> Result<ContactCounts, ServiceError> {
        Ok(self.store.sync_contacts(app, ops).await?)
    }
}
