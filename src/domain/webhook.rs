//! Webhooks: the endpoints an app's backend registers, the events recorded for them with the
//! change they report, and the pure rules of delivering them (which events an endpoint hears,
//! when a failed delivery is tried again, when it is given up).

use crate::domain::{AppId, FeedKind};

/// What happened to a message, as a webhook event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A message (or system message) was appended.
    New,
    /// Its sender edited it.
    Edited,
    /// It was deleted for everyone.
    Deleted,
}

impl EventKind {
    /// The event a committed change reports, if any: receipts are not events (a message read
    /// by a thousand members would be a thousand posts saying little).
    pub fn of(kind: FeedKind) -> Option<Self> {
        match kind {
            FeedKind::New => Some(Self::New),
            FeedKind::Updated => Some(Self::Edited),
            FeedKind::Deleted => Some(Self::Deleted),
            FeedKind::Receipt => None,
        }
    }

    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            Self::New => 1,
            Self::Edited => 2,
            Self::Deleted => 3,
        }
    }

    /// The kind a stored code names.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::New),
            2 => Some(Self::Edited),
            3 => Some(Self::Deleted),
            _ => None,
        }
    }

    /// The `X-Confab-Event` header's value.
    pub fn name(self) -> &'static str {
        match self {
            Self::New => "message.new",
            Self::Edited => "message.edited",
            Self::Deleted => "message.deleted",
        }
    }
}

/// Which events an endpoint hears: the message types and room types it asked for, every one
/// when a list is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Message types (`1001`, `9001`, …); empty for all.
    pub message_types: Vec<i64>,
    /// Room types (`1` personal … `4` transaction); empty for all.
    pub room_types: Vec<i64>,
}

impl Filter {
    /// Whether an event about a message of `message_type` in a room of `room_type` passes.
    pub fn accepts(&self, message_type: i64, room_type: i64) -> bool {
        (self.message_types.is_empty() || self.message_types.contains(&message_type))
            && (self.room_types.is_empty() || self.room_types.contains(&room_type))
    }

    /// A filter list as stored: comma-separated, `""` for all.
    pub fn store_list(list: &[i64]) -> String {
        list.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A stored list read back (what does not parse is dropped: only lists this module
    /// wrote are stored).
    pub fn parse_list(stored: &str) -> Vec<i64> {
        stored
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    }
}

/// An endpoint as a write checks it: its ID and filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The endpoint.
    pub id: i64,
    /// Its app.
    pub app: AppId,
    /// What it hears.
    pub filter: Filter,
}

/// An endpoint with what the operator sees of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its ID.
    pub id: i64,
    /// The app whose events it hears.
    pub app: AppId,
    /// The app's name.
    pub app_name: String,
    /// Where events are posted.
    pub url: String,
    /// The signing secret, sealed (see `service::webhooks`).
    pub sealed_secret: Vec<u8>,
    /// What it hears.
    pub filter: Filter,
    /// When it was added, Unix ms.
    pub created: i64,
    /// Its delivery status.
    pub status: Status,
}

/// How an endpoint's deliveries are going.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Events still to deliver.
    pub backlog: i64,
    /// Events given up on (replayable).
    pub failed: i64,
    /// The last acknowledged delivery, Unix ms; `0` for never.
    pub last_success: i64,
    /// What went wrong last, `""` if nothing has.
    pub last_error: String,
    /// When, Unix ms; `0` for never.
    pub last_error_at: i64,
}

/// A webhook event about to be recorded with the change it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The app.
    pub app: AppId,
    /// The message's room.
    pub room: i64,
    /// The room's type code.
    pub room_type: i64,
    /// The message's type.
    pub message_type: i64,
    /// What happened.
    pub kind: EventKind,
    /// When, Unix ms.
    pub created: i64,
    /// The payload, as it will be posted.
    pub body: String,
}

/// A recorded event, as a replay chooses among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef {
    /// The event.
    pub id: i64,
    /// Its room.
    pub room: i64,
    /// The room's type code.
    pub room_type: i64,
    /// The message's type.
    pub message_type: i64,
}

/// A delivery claimed for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The endpoint.
    pub endpoint: i64,
    /// Where to post.
    pub url: String,
    /// The endpoint's sealed secret.
    pub sealed_secret: Vec<u8>,
    /// The event (its ID is the delivery's ID).
    pub event: i64,
    /// The event's room.
    pub room: i64,
    /// What happened.
    pub kind: EventKind,
    /// The payload.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// When the delivery first became due, Unix ms.
    pub first_at: i64,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Acknowledged: the delivery is done.
    Delivered {
        /// The endpoint.
        endpoint: i64,
        /// The event.
        event: i64,
        /// The event's room (whose next event becomes due).
        room: i64,
        /// When, Unix ms.
        at: i64,
    },
    /// Not acknowledged: tried again at `next_at`, or given up when `next_at` is `None`.
    Failed {
        /// The endpoint.
        endpoint: i64,
        /// The event.
        event: i64,
        /// The event's room (whose next event becomes due if this one is given up).
        room: i64,
        /// When, Unix ms.
        at: i64,
        /// Why.
        error: String,
        /// When to try again; `None` to give up.
        next_at: Option<i64>,
    },
}

/// The `next_at` of a delivery waiting behind an earlier one of its room: never due by
/// itself; it becomes due when the one ahead of it is settled for good.
pub const WAITING: i64 = i64::MAX;

/// The longest wait between two attempts.
pub const MAX_BACKOFF_MS: i64 = 10 * 60 * 1_000;

/// When to try again after attempt number `attempts` (1 for the first) failed at `now`, or
/// `None` once the delivery has been failing for longer than `give_up_after_ms` since it
/// first became due (`first_at`). The wait doubles from one second up to ten minutes, times
/// `jitter` (in `[0.5, 1.0]`), so endpoints coming back are not hit by every node at once;
/// the first retry comes within a second.
pub fn retry_at(
    attempts: i64,
    first_at: i64,
    now: i64,
    give_up_after_ms: i64,
    jitter: f64,
) -> Option<i64> {
    if now - first_at >= give_up_after_ms {
        return None;
    }
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let wait = (1_000i64 << exponent).min(MAX_BACKOFF_MS);
    let jittered = (wait as f64 * jitter.clamp(0.5, 1.0)) as i64;
    Some(now + jittered.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_to_a_cap_then_stop_after_the_window() {
        let day = 24 * 3_600_000;
        assert_eq!(retry_at(1, 0, 0, day, 1.0), Some(1_000));
        assert_eq!(retry_at(1, 0, 0, day, 0.5), Some(500));
        assert_eq!(retry_at(3, 0, 0, day, 1.0), Some(4_000));
        assert_eq!(retry_at(15, 0, 0, day, 1.0), Some(MAX_BACKOFF_MS));
        assert_eq!(retry_at(4, 0, day, day, 1.0), None);
    }

    #[test]
    fn a_filter_passes_what_it_names_and_everything_when_empty() {
        let all = Filter::default();
        assert!(all.accepts(1001, 1));
        let texts_in_groups = Filter {
            message_types: vec![1001],
            room_types: vec![2],
        };
        assert!(texts_in_groups.accepts(1001, 2));
        assert!(!texts_in_groups.accepts(1002, 2));
        assert!(!texts_in_groups.accepts(1001, 1));
        assert_eq!(
            Filter::parse_list(&Filter::store_list(&[1001, 9001])),
            [1001, 9001]
        );
        assert!(Filter::parse_list("").is_empty());
    }
}
