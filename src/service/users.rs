//! Users, auth tickets and contacts.

use super::{Service, ServiceError};
use crate::domain::secret::{hash_secret, random_token};
use crate::domain::{AppId, SystemAction, User, UserId, now_ms};
use crate::store::{ChatTx, ContactCounts, ContactOp, StoreError, UserProfile, WriteSize};

impl Service {
    /// Creates or updates a user by `xcUserID`. A request that sets the role makes the
    /// user's open sockets, on every node, read their sessions again: a role decides which
    /// rooms they take part in.
    pub async fn upsert_user(
        &self,
        app: AppId,
        profile: UserProfile,
    ) -> Result<User, ServiceError> {
        let sets_role = profile.role_code.is_some();
        let before = self.store.user_by_xc_id(app, &profile.xc_user_id).await?;
        let user = self.store.upsert_user(app, profile).await?;
        if sets_role {
            self.fanout
                .role_changed(app, user.id, user.role_code.clone());
        }
        self.tell_profile_change(app, before.as_ref(), &user)
            .await?;
        Ok(user)
    }

    /// Upserts the user and issues a one-time auth ticket; returns the ticket and the user.
    pub async fn issue_auth_ticket(
        &self,
        app: AppId,
        profile: UserProfile,
    ) -> Result<(String, User), ServiceError> {
        let ticket = random_token::<32>();
        let sets_role = profile.role_code.is_some();
        let before = self.store.user_by_xc_id(app, &profile.xc_user_id).await?;
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
        if sets_role {
            self.fanout
                .role_changed(app, user.id, user.role_code.clone());
        }
        self.tell_profile_change(app, before.as_ref(), &user)
            .await?;
        Ok((ticket, user))
    }

    /// Applies a contact sync: additions, then deletions; an unknown user changes nothing.
    pub async fn sync_contacts(
        &self,
        app: AppId,
        ops: Vec<ContactOp>,
    ) -> Result<ContactCounts, ServiceError> {
        Ok(self
            .sized_transaction(WriteSize::of(ops.len()), move |tx| {
                Box::pin(sync_contacts(tx, app, ops.clone()))
            })
            .await?)
    }
}

impl Service {
    /// When a user's name, username or photo changed, appends a hidden `user/update` system
    /// message from them into each of their personal rooms: the web SDK takes the room (named
    /// and pictured after the other user) from it into its room list, and Android its contact
    /// data (and, for the user themself, their own profile). Hidden, it is nobody's last or
    /// unread message.
    pub(super) async fn tell_profile_change(
        &self,
        app: AppId,
        before: Option<&User>,
        after: &User,
    ) -> Result<(), ServiceError> {
        let Some(before) = before else {
            return Ok(());
        };
        let shown = |u: &User| {
            (
                u.fullname.clone(),
                u.username.clone(),
                u.photo_thumbnail.clone(),
                u.photo_fullsize.clone(),
            )
        };
        if shown(before) == shown(after) {
            return Ok(());
        }
        let partners = self
            .store
            .personal_partners(after.id, MAX_PROFILE_ROOMS)
            .await?;
        if partners.is_empty() {
            return Ok(());
        }
        let user = after.id;
        self.sized_transaction(WriteSize::of(partners.len()), move |tx| {
            let partners = partners.clone();
            Box::pin(async move {
                for partner in partners {
                    let (a, b) = if user < partner {
                        (user, partner)
                    } else {
                        (partner, user)
                    };
                    let Some(room) = tx.personal_room(app, a, b).await? else {
                        continue;
                    };
                    let mut note = SystemAction::UserUpdate.message(Some(user), None);
                    note.is_hidden = true;
                    tx.append_message(app, &room, note, &[]).await?;
                }
                Ok(())
            })
        })
        .await?;
        Ok(())
    }
}

/// Most personal rooms one profile change is told in.
const MAX_PROFILE_ROOMS: i64 = 100_000;

/// The contact sync rule: contacts are one-way; every user named is resolved first, so one
/// unknown user changes nothing; additions run before deletions, so a pair both added and
/// deleted in one call ends up deleted (and counts once in each figure).
pub(super) async fn sync_contacts(
    tx: &mut dyn ChatTx,
    app: AppId,
    ops: Vec<ContactOp>,
) -> Result<ContactCounts, StoreError> {
    let mut resolved = Vec::with_capacity(ops.len());
    for op in &ops {
        let mut ids = [UserId::NONE; 2];
        for (slot, xc) in ids
            .iter_mut()
            .zip([&op.owner_xc_user_id, &op.contact_xc_user_id])
        {
            let user = tx.user_by_xc_id(app, xc).await?;
            *slot = user.ok_or_else(|| StoreError::UnknownUser(xc.clone()))?.id;
        }
        resolved.push((ids[0], ids[1], op.deleted));
    }
    let now = now_ms();
    let mut counts = ContactCounts::default();
    for &(owner, contact, _) in resolved.iter().filter(|(_, _, deleted)| !deleted) {
        counts.inserted += u64::from(tx.add_contact(owner, contact, now).await?);
    }
    for &(owner, contact, _) in resolved.iter().filter(|(_, _, deleted)| *deleted) {
        counts.deleted += u64::from(tx.remove_contact(owner, contact).await?);
    }
    Ok(counts)
}
