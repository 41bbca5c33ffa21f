//! Value types and rules of the chat model, free of HTTP, SQL and async runtimes.
//!
//! Everything that crosses a layer boundary is one of these types: the HTTP edge parses raw JSON
//! into them (with the parameter's numeric field code on failure), the store persists them, and
//! the wire module renders them back.

pub mod codec;
pub mod feed;
pub mod file;
pub mod id;
pub mod message;
pub mod model;
pub mod param;
pub mod report;
pub mod room_state;
pub mod scheduled;
pub mod secret;
pub mod token;
pub mod webhook;

pub use feed::{Audience, FeedItem, FeedKind};
pub use file::{SharedKind, Sniffed, StoredFile, UserPhoto};
pub use id::{AppId, MessageId, RoomId, UserId};
pub use message::{NewMessage, SystemAction};
pub use model::{
    Message, Participation, Receipt, Renders, Room, RoomBundle, RoomKind, RoomListEntry, RoomRef,
    RoomType, Target, User, Viewed, unique_users,
};
pub use param::ParamError;
pub use report::{NewReport, Report, ReportTarget};
pub use room_state::{Hidden, RoomState, RoomStateChange};
pub use scheduled::{Scheduled, ScheduledContent};

/// The current time in Unix milliseconds, the unit of every timestamp on the wire.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
