//! A user's own profile: photos (uploaded, listed, chosen, deleted) and bio. The main photo is
//! the user's picture (`imageURL`); uploading one makes it the main one, and deleting the main
//! one makes the newest remaining photo main (or leaves no picture).

use crate::domain::{AppId, StoredFile, User, UserId, UserPhoto, now_ms};
use crate::store::{ChatTx, StoreError};

use super::{ClientSession, Service, ServiceError};

/// The user as stored now, with their bio.
async fn reread(
    tx: &mut dyn ChatTx,
    app: AppId,
    user: UserId,
) -> Result<(User, String), StoreError> {
    let found = tx
        .user_in_app(app, user)
        .await?
        .ok_or(StoreError::UserNotFound)?;
    let bio = tx.user_bios(&[user]).await?.pop().unwrap_or_default();
    Ok((found, bio))
}

/// Photos as the SDKs list them: the main one first, then the newest first.
fn listed(user: &User, mut photos: Vec<UserPhoto>) -> Vec<UserPhoto> {
    photos.reverse();
    if let Some(main) = photos.iter().position(|p| p.url == user.photo_fullsize) {
        let photo = photos.remove(main);
        photos.insert(0, photo);
    }
    photos
}

impl Service {
    /// Records an uploaded image as the caller's newest photo and makes it their picture.
    pub async fn add_user_photo(
        &self,
        session: &ClientSession,
        file: StoredFile,
        url: String,
    ) -> Result<(User, String), ServiceError> {
        let (app, user) = (session.app, session.user.id);
        Ok(self
            .transaction(move |tx| {
                let (file, url) = (file.clone(), url.clone());
                Box::pin(async move {
                    tx.insert_file(&file, None).await?;
                    tx.insert_user_photo(user, &file.id, &url, file.created)
                        .await?;
                    tx.set_user_photo(user, &url, now_ms()).await?;
                    reread(tx, app, user).await
                })
            })
            .await?)
    }

    /// A user's photos, the main one first; any user of the caller's app.
    pub async fn user_photos(
        &self,
        session: &ClientSession,
        user: UserId,
    ) -> Result<Vec<UserPhoto>, ServiceError> {
        let app = session.app;
        Ok(self
            .store
            .reading(move |tx| {
                Box::pin(async move {
                    let found = tx
                        .user_in_app(app, user)
                        .await?
                        .ok_or(StoreError::UserNotFound)?;
                    Ok(listed(&found, tx.user_photos(user).await?))
                })
            })
            .await?)
    }

    /// Makes one of the caller's photos their picture.
    pub async fn set_main_photo(
        &self,
        session: &ClientSession,
        id: i64,
    ) -> Result<(User, String), ServiceError> {
        let (app, user) = (session.app, session.user.id);
        Ok(self
            .transaction(move |tx| {
                Box::pin(async move {
                    let photos = tx.user_photos(user).await?;
                    let photo = photos
                        .iter()
                        .find(|p| p.id == id)
                        .ok_or(StoreError::FileNotFound)?;
                    tx.set_user_photo(user, &photo.url, now_ms()).await?;
                    reread(tx, app, user).await
                })
            })
            .await?)
    }

    /// Deletes one of the caller's photos (`created`, when given, must be its upload time);
    /// returns the user and the deleted photo, whose file the caller removes from the media
    /// store once this has committed.
    pub async fn delete_photo(
        &self,
        session: &ClientSession,
        id: i64,
        created: Option<i64>,
    ) -> Result<(User, String, UserPhoto), ServiceError> {
        let (app, user) = (session.app, session.user.id);
        let result = self
            .transaction(move |tx| {
                Box::pin(async move {
                    let photos = tx.user_photos(user).await?;
                    let photo = photos
                        .iter()
                        .find(|p| p.id == id)
                        .ok_or(StoreError::FileNotFound)?;
                    if created.is_some_and(|c| c != photo.created) {
                        return Err(StoreError::Conflict(
                            "createdTime is not the photo's".into(),
                        ));
                    }
                    let (before, _) = reread(tx, app, user).await?;
                    let deleted = tx
                        .delete_user_photo(user, id)
                        .await?
                        .ok_or(StoreError::FileNotFound)?;
                    tx.delete_file(&deleted.file_id).await?;
                    if before.photo_fullsize == deleted.url {
                        let next = photos.iter().rev().find(|p| p.id != id);
                        let url = next.map_or("", |p| p.url.as_str());
                        tx.set_user_photo(user, url, now_ms()).await?;
                    }
                    let (after, bio) = reread(tx, app, user).await?;
                    Ok((after, bio, deleted))
                })
            })
            .await?;
        Ok(result)
    }

    /// The bios of `users`, in their order (`""` for a user without one). User objects in
    /// the answers about particular users carry it; lists of users and messages do not.
    pub async fn bios(&self, users: &[UserId]) -> Result<Vec<String>, ServiceError> {
        let users = users.to_vec();
        Ok(self
            .store
            .reading(move |tx| {
                let users = users.clone();
                Box::pin(async move { tx.user_bios(&users).await })
            })
            .await?)
    }

    /// Sets the caller's bio.
    pub async fn set_bio(
        &self,
        session: &ClientSession,
        bio: String,
    ) -> Result<(User, String), ServiceError> {
        let (app, user) = (session.app, session.user.id);
        Ok(self
            .transaction(move |tx| {
                let bio = bio.clone();
                Box::pin(async move {
                    tx.set_user_bio(user, &bio, now_ms()).await?;
                    reread(tx, app, user).await
                })
            })
            .await?)
    }

    /// A public file (a photo) by ID.
    pub async fn public_file(&self, id: String) -> Result<StoredFile, ServiceError> {
        Ok(self
            .store
            .reading(move |tx| {
                let id = id.clone();
                Box::pin(async move { tx.public_file(&id).await?.ok_or(StoreError::FileNotFound) })
            })
            .await?)
    }
}
