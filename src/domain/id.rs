//! The four IDs that travel together — app, user, room, message — each a type of its own.
//!
//! They are all 64-bit integers underneath, and a rule such as "set this user's read position
//! in this room to this message" takes three of them side by side; as plain integers a swap
//! compiles and corrupts data quietly. As distinct types it does not compile.
//!
//! Each serializes as its bare integer (`serde(transparent)`), which is the form nodes send
//! each other over the bus; the wire form clients see is rendered by [`crate::wire`]. The
//! stores bind and read them through their drivers' traits, implemented beside each backend.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            /// Parses the decimal form, as IDs arrive in request parameters.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type! {
    /// An app (tenant). Every user, room and message belongs to exactly one.
    AppId
}

id_type! {
    /// A user's platform ID. The wire form is its decimal string, which must fit a signed
    /// 32-bit integer because the Android SDK parses it with `Integer.parseInt`.
    UserId
}

id_type! {
    /// A room's internal ID; the wire `roomID` of a shared room is `"g<id>"`.
    RoomId
}

id_type! {
    /// A message's ID, unique across the deployment; the wire `messageID` is its decimal string.
    MessageId
}

impl UserId {
    /// No user: the viewer of a Server API answer, and the sender of a message the Server API
    /// originates. Platform IDs start at 1, so it never names a real user.
    pub const NONE: UserId = UserId(0);
}
