//! What nodes tell each other over the bus, in a versioned format of its own.
//!
//! Nodes of two releases share the bus during a rolling upgrade. When the domain types
//! themselves were serialized, renaming a field of `Message` or `Room` silently changed what
//! a node sent, and nodes of the other release dropped every notice they could not parse.
//! Here the bus has its own data-transfer types ([`v1`]), whose every field name is written
//! out by hand, converted from and to the domain types: the domain is free to change, and
//! the format changes only deliberately, as a new version.
//!
//! An envelope is `{"v": 1, "origin": "<node>", "notice": {"kind": …}}`. `v` and `origin` are
//! the same in every version: a receiver reads them first, skips its own notices (the bus
//! echoes them back), and parses `notice` by the version `v` names. An envelope without `v`
//! comes from a release before versioning, whose shapes version 1 kept exactly, so it is read
//! as version 1; and such nodes read version 1, ignoring `v`.
//!
//! A notice of a version this node does not know is an error ([`DecodeError::UnknownVersion`]),
//! never a panic: the listener logs it at warn level once per version and ignores it and every
//! later notice of that version. Clients of this node then miss those live events until they
//! resync from the database, which they do whenever they reconnect.
//!
//! Changing the format: never edit a version in place (no renamed, retyped or removed field,
//! no new required one). A new *kind* of notice may join a version: a node that does not know
//! it reads it as malformed, logs it and ignores it, which is all a node of the release before
//! could do with it anyway (`role` and `committedRun` joined version 1 so). Add `v2` beside `v1`, with its own types and conversions, and a match
//! arm in [`decode`]. The release that adds it reads both and still sends v1, so nodes of the
//! release before, which know only v1, miss nothing while it rolls out; the next release sends
//! v2 (read by every node still running) and reads v1 for the nodes it replaces; the release
//! after that removes v1.

mod v1;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{AppId, Audience, FeedItem, UserId};

/// The version this node sends.
const SENT_VERSION: u64 = 1;

/// What one node tells the others, in domain terms; only its conversions know the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Notice {
    /// Committed message changes, in commit order, for their room's connected audience;
    /// consecutive ones share their audience (one `Arc`).
    Committed {
        /// The changes.
        items: Vec<FeedItem>,
    },
    /// A frame for these users' sockets (presence).
    Users {
        /// Recipients.
        users: Vec<UserId>,
        /// The socket frame, as text.
        frame: String,
    },
    /// A frame for a room's connected audience except one user (typing).
    Room {
        /// The room's audience.
        audience: Audience,
        /// The user who does not get the frame (the one typing).
        except: UserId,
        /// The socket frame, as text.
        frame: String,
    },
    /// Sessions revoked: their sockets close.
    Revoked {
        /// Session IDs.
        sessions: Vec<i64>,
    },
    /// A user's role changed: delivery by role follows it at once, and their sockets read
    /// their sessions again.
    Role {
        /// The user's app.
        app: AppId,
        /// The user.
        user: UserId,
        /// The new role code, `""` for none.
        role: String,
    },
}

/// Why a payload from the bus yields no notice.
#[derive(Debug)]
pub(super) enum DecodeError {
    /// Not JSON, or not the shape its version prescribes.
    Malformed(serde_json::Error),
    /// A version this node cannot read: from a newer node, or one this release retired.
    UnknownVersion(u64),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed(err) => write!(f, "malformed bus notice: {err}"),
            DecodeError::UnknownVersion(v) => write!(f, "bus notice of unknown version {v}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Malformed(err) => Some(err),
            DecodeError::UnknownVersion(_) => None,
        }
    }
}

/// The envelope as sent: version first, then the sender, then the versioned notice.
#[derive(Serialize)]
struct Outgoing<'a, N> {
    #[serde(rename = "v")]
    v: u64,
    #[serde(rename = "origin")]
    origin: &'a str,
    #[serde(rename = "notice")]
    notice: N,
}

/// The fields every version shares, read before the notice (which is skipped here).
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "v", default = "unversioned")]
    v: u64,
    #[serde(rename = "origin")]
    origin: String,
}

/// Envelopes from releases before versioning have no `v`; their shapes are version 1.
fn unversioned() -> u64 {
    1
}

/// The notice of an envelope whose version is known.
#[derive(Deserialize)]
struct Body<N> {
    #[serde(rename = "notice")]
    notice: N,
}

/// Encodes `notice` from node `origin` in the version this node sends.
pub(super) fn encode(origin: &str, notice: Notice) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Outgoing {
        v: SENT_VERSION,
        origin,
        notice: v1::Notice::from(notice),
    })
}

/// Decodes a payload from the bus; `Ok(None)` when node `own` sent it itself.
pub(super) fn decode(payload: &[u8], own: &str) -> Result<Option<Notice>, DecodeError> {
    let header: Header = serde_json::from_slice(payload).map_err(DecodeError::Malformed)?;
    if header.origin == own {
        return Ok(None);
    }
    match header.v {
        1 => {
            let body: Body<v1::Notice> =
                serde_json::from_slice(payload).map_err(DecodeError::Malformed)?;
            Ok(Some(body.notice.into()))
        }
        v => Err(DecodeError::UnknownVersion(v)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
    use crate::domain::{
        AppId, FeedKind, Message, MessageId, Room, RoomId, RoomKind, RoomType, Target, User, UserId,
    };

    fn user(id: UserId, name: &str) -> User {
        User {
            id,
            xc_user_id: format!("xc-{id}"),
            fullname: name.into(),
            email: format!("{name}@example.com"),
            phone: "628123".into(),
            username: name.to_lowercase(),
            photo_thumbnail: "https://t/1.png".into(),
            photo_fullsize: "https://f/1.png".into(),
            role_code: "agent".into(),
            last_login: 11,
            last_activity: 12,
            created: 13,
            updated: 14,
            deleted: 0,
        }
    }

    /// A change with every part set: a personal room with its peers, a sender, quote, reply,
    /// forward, target, and an audience with read positions and roles.
    pub(crate) fn full_item() -> FeedItem {
        let (ann, bob) = (user(UserId(7), "Ann"), user(UserId(9), "Bob"));
        FeedItem {
            kind: FeedKind::Updated,
            message: Message {
                id: MessageId(1001),
                seq: 5,
                room: Room {
                    id: RoomId(42),
                    kind: RoomKind::Personal {
                        a: UserId(7),
                        b: UserId(9),
                    },
                    room_type: RoomType::Personal,
                    name: String::new(),
                    photo_thumbnail: String::new(),
                    photo_fullsize: String::new(),
                    color: "#ff0000".into(),
                    tags: vec!["vip".into()],
                    participant_roles: vec!["agent".into()],
                    locked_time: 0,
                    deleted: 0,
                    peers: Some(Box::new((ann.clone(), bob))),
                },
                sender: Some(ann),
                local_id: "L1".into(),
                kind: 1001,
                body: "b0dy".into(),
                data: "d4ta".into(),
                filter_id: "f".into(),
                is_hidden: false,
                quote: Quote {
                    title: "T".into(),
                    content: "C".into(),
                    image_url: "https://i".into(),
                    file_id: "F1".into(),
                    file_type: "image".into(),
                },
                reply_to: ReplyTo {
                    user_id: "9".into(),
                    xc_user_id: "xc-9".into(),
                    fullname: "Bob".into(),
                    message_id: "1000".into(),
                    local_id: "L0".into(),
                    message_type: 1001,
                },
                forward_from: ForwardFrom {
                    user_id: "3".into(),
                    xc_user_id: "xc-3".into(),
                    fullname: "Cy".into(),
                    message_id: "77".into(),
                    local_id: "L77".into(),
                    room_id: "g5".into(),
                },
                action: "room/addParticipant".into(),
                target: Target {
                    target_type: "user".into(),
                    target_id: "9".into(),
                    target_xcid: "xc-9".into(),
                    target_name: "Bob".into(),
                },
                is_delivered: true,
                is_read: false,
                is_deleted: false,
                is_edited: true,
                created: 100,
                updated: 200,
                deleted: 0,
                renders: Default::default(),
            },
            audience: std::sync::Arc::new(Audience {
                app: AppId(1),
                members: vec![(UserId(7), 5), (UserId(9), 3)],
                roles: vec!["agent".into(), "supervisor".into()],
            }),
        }
    }

    /// What the release before versioning sent for `full_item` (its serde derives, captured
    /// before they were removed): version 1 must keep reading it.
    const UNVERSIONED_COMMITTED: &str = r##"{"origin":"abc","notice":{"kind":"committed","item":{"kind":"Updated","message":{"id":1001,"seq":5,"room":{"id":42,"kind":{"Personal":{"a":7,"b":9}},"room_type":"Personal","name":"","photo_thumbnail":"","photo_fullsize":"","color":"#ff0000","tags":["vip"],"participant_roles":["agent"],"locked_time":0,"deleted":0,"peers":[{"id":7,"xc_user_id":"xc-7","fullname":"Ann","email":"Ann@example.com","phone":"628123","username":"ann","photo_thumbnail":"https://t/1.png","photo_fullsize":"https://f/1.png","role_code":"agent","last_login":11,"last_activity":12,"created":13,"updated":14,"deleted":0},{"id":9,"xc_user_id":"xc-9","fullname":"Bob","email":"Bob@example.com","phone":"628123","username":"bob","photo_thumbnail":"https://t/1.png","photo_fullsize":"https://f/1.png","role_code":"agent","last_login":11,"last_activity":12,"created":13,"updated":14,"deleted":0}]},"sender":{"id":7,"xc_user_id":"xc-7","fullname":"Ann","email":"Ann@example.com","phone":"628123","username":"ann","photo_thumbnail":"https://t/1.png","photo_fullsize":"https://f/1.png","role_code":"agent","last_login":11,"last_activity":12,"created":13,"updated":14,"deleted":0},"local_id":"L1","kind":1001,"body":"b0dy","data":"d4ta","filter_id":"f","is_hidden":false,"quote":{"title":"T","content":"C","imageURL":"https://i","fileID":"F1","fileType":"image"},"reply_to":{"userID":"9","xcUserID":"xc-9","fullname":"Bob","messageID":"1000","localID":"L0","messageType":1001},"forward_from":{"userID":"3","xcUserID":"xc-3","fullname":"Cy","messageID":"77","localID":"L77","roomID":"g5"},"action":"room/addParticipant","target":{"targetType":"user","targetID":"9","targetXCID":"xc-9","targetName":"Bob"},"is_delivered":true,"is_read":false,"is_deleted":false,"is_edited":true,"created":100,"updated":200,"deleted":0},"audience":{"app":1,"members":[[7,5],[9,3]],"roles":["agent","supervisor"]}}}}"##;

    fn round_trip(notice: Notice) -> Notice {
        let payload = encode("node-a", notice).unwrap();
        decode(&payload, "node-b")
            .unwrap()
            .expect("from another node")
    }

    #[test]
    fn a_full_feed_item_comes_back_equal() {
        let item = full_item();
        let back = round_trip(Notice::Committed {
            items: vec![item.clone()],
        });
        assert_eq!(back, Notice::Committed { items: vec![item] });
    }

    #[test]
    fn a_run_of_changes_carries_its_audience_once_and_comes_back_sharing_it() {
        let first = full_item();
        let mut second = full_item();
        second.kind = FeedKind::New;
        second.message.id = MessageId(1002);
        second.message.seq = 6;
        second.audience = std::sync::Arc::clone(&first.audience);
        let run = Notice::Committed {
            items: vec![first, second],
        };
        let payload = String::from_utf8(encode("node-a", run.clone()).unwrap()).unwrap();
        assert!(payload.contains(r#""kind":"committedRun""#), "{payload}");
        assert_eq!(payload.matches(r#""members""#).count(), 1, "{payload}");
        let back = round_trip(run.clone());
        assert_eq!(back, run);
        let Notice::Committed { items } = back else {
            panic!("a run comes back as committed changes")
        };
        assert!(std::sync::Arc::ptr_eq(
            &items[0].audience,
            &items[1].audience
        ));
    }

    #[test]
    fn a_shared_room_without_sender_or_peers_comes_back_equal() {
        let mut item = full_item();
        item.kind = FeedKind::New;
        item.message.sender = None;
        item.message.room.kind = RoomKind::Shared {
            xc_room_id: Some("ord-1".into()),
        };
        item.message.room.room_type = RoomType::Transaction;
        item.message.room.peers = None;
        let committed = Notice::Committed { items: vec![item] };
        assert_eq!(round_trip(committed.clone()), committed);
    }

    #[test]
    fn presence_typing_and_revocations_come_back_equal() {
        for notice in [
            Notice::Users {
                users: vec![UserId(7), UserId(9)],
                frame: r#"{"x":1}"#.into(),
            },
            Notice::Room {
                audience: Audience {
                    app: AppId(1),
                    members: vec![(UserId(7), 2)],
                    roles: vec!["agent".into()],
                },
                except: UserId(7),
                frame: "{}".into(),
            },
            Notice::Revoked {
                sessions: vec![3, 4],
            },
            Notice::Role {
                app: AppId(1),
                user: UserId(7),
                role: "agent".into(),
            },
        ] {
            assert_eq!(round_trip(notice.clone()), notice);
        }
    }

    #[test]
    fn version_1_is_pinned_byte_for_byte() {
        let typing = Notice::Room {
            audience: Audience {
                app: AppId(1),
                members: vec![(UserId(7), 2)],
                roles: vec!["agent".into()],
            },
            except: UserId(7),
            frame: "{}".into(),
        };
        assert_eq!(
            String::from_utf8(encode("abc", typing).unwrap()).unwrap(),
            r#"{"v":1,"origin":"abc","notice":{"kind":"room","audience":{"app":1,"members":[[7,2]],"roles":["agent"]},"except":7,"frame":"{}"}}"#
        );
        let revoked = Notice::Revoked {
            sessions: vec![3, 4],
        };
        assert_eq!(
            String::from_utf8(encode("abc", revoked).unwrap()).unwrap(),
            r#"{"v":1,"origin":"abc","notice":{"kind":"revoked","sessions":[3,4]}}"#
        );
        let role = Notice::Role {
            app: AppId(1),
            user: UserId(7),
            role: "agent".into(),
        };
        assert_eq!(
            String::from_utf8(encode("abc", role).unwrap()).unwrap(),
            r#"{"v":1,"origin":"abc","notice":{"kind":"role","app":1,"user":7,"role":"agent"}}"#
        );
    }

    #[test]
    fn version_1_is_what_unversioned_nodes_sent_plus_v() {
        let committed = Notice::Committed {
            items: vec![full_item()],
        };
        assert_eq!(
            decode(UNVERSIONED_COMMITTED.as_bytes(), "me").unwrap(),
            Some(committed.clone())
        );
        let sent = String::from_utf8(encode("abc", committed).unwrap()).unwrap();
        assert_eq!(sent, format!(r#"{{"v":1,{}"#, &UNVERSIONED_COMMITTED[1..]));
    }

    #[test]
    fn an_unknown_version_is_an_error_not_a_panic() {
        let payload = br#"{"v":2,"origin":"abc","notice":{"kind":"teleport","to":"mars"}}"#;
        assert!(matches!(
            decode(payload, "me"),
            Err(DecodeError::UnknownVersion(2))
        ));
        // Even one whose notice would parse as version 1.
        let payload = br#"{"v":99,"origin":"abc","notice":{"kind":"revoked","sessions":[1]}}"#;
        assert!(matches!(
            decode(payload, "me"),
            Err(DecodeError::UnknownVersion(99))
        ));
    }

    #[test]
    fn own_notices_are_skipped_and_garbage_is_malformed() {
        let payload = encode("me", Notice::Revoked { sessions: vec![1] }).unwrap();
        assert_eq!(decode(&payload, "me").unwrap(), None);
        for garbage in [
            &b"not json"[..],
            br#"{"v":1}"#,
            br#"{"v":"1","origin":"abc","notice":{"kind":"revoked","sessions":[1]}}"#,
            br#"{"v":1,"origin":"abc","notice":{"kind":"revoked","sessions":"all"}}"#,
            br#"{"v":1,"origin":"abc","notice":{"kind":"teleport"}}"#,
        ] {
            assert!(matches!(
                decode(garbage, "me"),
                Err(DecodeError::Malformed(_))
            ));
        }
    }
}
