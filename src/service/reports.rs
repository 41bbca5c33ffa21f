//! Reports about a user or a message, submitted by users and read by the operator.
//!
//! A user may report another user of their app, or a message of a room they can see; the
//! report is stored with reporter, target, category and reason and nobody else is told. The
//! operator lists the app's reports through the Server API (`chat_report/list`) and resolves
//! them (`chat_report/resolve`).

use super::access::find_room;
use super::{ClientSession, Service, ServiceError};
use crate::domain::{
    AppId, Message, MessageId, NewReport, Report, ReportTarget, RoomRef, User, UserId, now_ms,
};
use crate::store::StoreError;

/// A stored report with what it names, for the operator.
#[derive(Debug, Clone)]
pub struct ListedReport {
    /// The report.
    pub report: Report,
    /// Who reported.
    pub reporter: Option<User>,
    /// The reported user, for a report about a user.
    pub user: Option<User>,
    /// The reported message, for a report about a message.
    pub message: Option<Message>,
}

/// What a user reports, as the client names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAbout {
    /// Another user.
    User(UserId),
    /// A message of a room the reporter can see.
    Message(RoomRef, MessageId),
}

/// The reporter's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportText {
    /// The category chosen.
    pub category: String,
    /// Whether the category is the reporter's own words.
    pub is_other_category: bool,
    /// Why.
    pub reason: String,
}

impl Service {
    /// Stores a report from the caller; answers its ID.
    pub async fn submit_report(
        &self,
        session: &ClientSession,
        about: ReportAbout,
        text: ReportText,
    ) -> Result<i64, ServiceError> {
        let (app, reporter) = (session.app, session.user.clone());
        let id = self
            .transaction(move |tx| {
                let (reporter, text) = (reporter.clone(), text.clone());
                Box::pin(async move {
                    let target = match about {
                        ReportAbout::User(user) => {
                            if user == reporter.id {
                                return Err(StoreError::Forbidden(
                                    "you cannot report yourself".into(),
                                ));
                            }
                            let user = tx.user_in_app(app, user).await?;
                            ReportTarget::User(user.ok_or(StoreError::UserNotFound)?.id)
                        }
                        ReportAbout::Message(room, message) => {
                            let room = find_room(tx, app, &reporter, room)
                                .await?
                                .ok_or(StoreError::RoomNotFound)?;
                            let found = tx.message_by_id(app, message).await?;
                            if found.is_none_or(|m| m.room.id != room.id) {
                                return Err(StoreError::Forbidden(
                                    "no such message in this room".into(),
                                ));
                            }
                            ReportTarget::Message {
                                room: room.id,
                                message,
                            }
                        }
                    };
                    let report = NewReport {
                        app,
                        reporter: reporter.id,
                        target,
                        category: text.category,
                        is_other_category: text.is_other_category,
                        reason: text.reason,
                        created: now_ms(),
                    };
                    tx.insert_report(&report).await
                })
            })
            .await?;
        Ok(id)
    }

    /// The app's reports with an ID below `before`, newest first, at most `limit`, each with
    /// the users and the message it names, as they are now (`None`: gone since).
    pub async fn reports(
        &self,
        app: AppId,
        before: i64,
        limit: i64,
    ) -> Result<Vec<ListedReport>, ServiceError> {
        Ok(self
            .store
            .reading(move |tx| {
                Box::pin(async move {
                    let mut listed = Vec::new();
                    for report in tx.reports(app, before, limit).await? {
                        let reporter = tx.user_in_app(app, report.report.reporter).await?;
                        let (user, message) = match report.report.target {
                            ReportTarget::User(user) => (tx.user_in_app(app, user).await?, None),
                            ReportTarget::Message { message, .. } => {
                                (None, tx.message_by_id(app, message).await?)
                            }
                        };
                        listed.push(ListedReport {
                            report,
                            reporter,
                            user,
                            message,
                        });
                    }
                    Ok(listed)
                })
            })
            .await?)
    }

    /// Resolves the app's open report `id`; `false` when there is no such open report.
    pub async fn resolve_report(&self, app: AppId, id: i64) -> Result<bool, ServiceError> {
        Ok(self
            .transaction(move |tx| {
                Box::pin(async move { tx.resolve_report(app, id, now_ms()).await })
            })
            .await?)
    }
}
