//! The column lists and the JSON encoding of list and struct columns that both SQL backends
//! share: the schemas are the same, so a user, room or message is selected, stored and decoded
//! the same way in SQLite and in PostgreSQL. Each backend's `rows` module decodes rows over
//! these lists with its own driver.

/// The user columns under a table alias.
macro_rules! user_columns {
    ($a:literal) => {
        concat!(
            $a,
            ".id, ",
            $a,
            ".xc_user_id, ",
            $a,
            ".fullname, ",
            $a,
            ".email, ",
            $a,
            ".phone, ",
            $a,
            ".username, ",
            $a,
            ".photo_thumbnail, ",
            $a,
            ".photo_fullsize, ",
            $a,
            ".role_code, ",
            $a,
            ".last_login, ",
            $a,
            ".last_activity, ",
            $a,
            ".created, ",
            $a,
            ".updated, ",
            $a,
            ".deleted"
        )
    };
}

/// User columns, for `SELECT` lists with the alias `u`.
pub(crate) const USER_COLUMNS: &str = user_columns!("u");
/// Number of columns in [`USER_COLUMNS`].
pub(crate) const USER_WIDTH: usize = 14;

/// Room columns, alias `r`, followed by the two users of a personal room (`pa`, `pb`);
/// select them `FROM` [`ROOM_FROM`].
pub(crate) const ROOM_COLUMNS: &str = concat!(
    "r.id, r.xc_room_id, r.personal_a, r.personal_b, r.type, r.name, r.photo_thumbnail, \
     r.photo_fullsize, r.color, r.tags, r.roles, r.locked_time, r.deleted, ",
    user_columns!("pa"),
    ", ",
    user_columns!("pb")
);
/// The rooms table with the users of personal rooms joined in, for [`ROOM_COLUMNS`].
pub(crate) const ROOM_FROM: &str = "rooms r LEFT JOIN users pa ON pa.id = r.personal_a \
    LEFT JOIN users pb ON pb.id = r.personal_b";
/// Number of columns in [`ROOM_COLUMNS`].
pub(crate) const ROOM_WIDTH: usize = 13 + 2 * USER_WIDTH;

/// Message columns, alias `m`.
pub(crate) const MESSAGE_COLUMNS: &str = "m.id, m.seq, m.local_id, m.type, m.body, m.data, \
    m.filter_id, m.is_hidden, m.quote, m.reply_to, m.forward_from, m.action, m.target, \
    m.is_delivered, m.is_read, m.is_deleted, m.is_edited, m.created, m.updated, m.deleted, \
    m.sender_id";
/// Number of columns in [`MESSAGE_COLUMNS`].
pub(crate) const MESSAGE_WIDTH: usize = 21;

pub(crate) fn json_list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

pub(crate) fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Serializes a message part for storage: `NULL` when it is the empty placeholder.
pub(crate) fn json_unless_default<T: serde::Serialize + Default + PartialEq>(
    value: &T,
) -> Option<String> {
    (*value != T::default()).then(|| serde_json::to_string(value).expect("plain structs serialize"))
}
