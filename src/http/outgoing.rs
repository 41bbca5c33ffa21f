//! A message as a client builds it (the SDKs' message object, in a `chat/sendMessage` frame or
//! in a scheduled message's `message`), parsed into an [`OutgoingMessage`]: one parser for
//! every way a client sends.

use serde_json::Value;

use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::{ParamError, RoomRef};
use crate::service::OutgoingMessage;

pub(super) fn string(data: &Value, key: &str) -> String {
    data.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn room_of(data: &Value) -> Result<RoomRef, ParamError> {
    let id = data
        .pointer("/room/roomID")
        .or_else(|| data.get("roomID"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    RoomRef::parse(id)
        .ok_or_else(|| ParamError::invalid_because("roomID", "roomID", "not a room ID"))
}

pub(super) fn local_id(data: &Value) -> Result<String, ParamError> {
    let id = string(data, "localID");
    if id.is_empty() || id.len() > 64 || !id.is_ascii() {
        return Err(ParamError::invalid_because(
            "localID",
            "localID",
            "must be 1 to 64 ASCII characters",
        ));
    }
    Ok(id)
}

/// A nested object of a frame (`quote`, `replyTo`, `forwardFrom`). A `null` field counts as
/// absent (Android sends `"fileID": null` in the quote of a message with data but no file), so
/// one such field does not lose the whole object.
fn part<T: serde::de::DeserializeOwned + Default>(data: &Value, key: &str) -> T {
    let Some(Value::Object(fields)) = data.get(key) else {
        return T::default();
    };
    let present: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(present)).unwrap_or_default()
}

pub(super) fn outgoing(data: &Value) -> Result<OutgoingMessage, ParamError> {
    let kind = data
        .get("type")
        .and_then(Value::as_i64)
        .filter(|t| (1000..9000).contains(t))
        .ok_or_else(|| {
            ParamError::invalid_because("type", "type", "not a message type clients may send")
        })?;
    let body = encoded(data, "body")?;
    let encoded_data = encoded(data, "data")?;
    Ok(OutgoingMessage {
        room: room_of(data)?,
        local_id: local_id(data)?,
        kind,
        body,
        data: encoded_data,
        filter_id: string(data, "filterID"),
        is_hidden: data
            .get("isHidden")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        quote: part::<Quote>(data, "quote"),
        reply_to: part::<ReplyTo>(data, "replyTo"),
        forward_from: part::<ForwardFrom>(data, "forwardFrom"),
    })
}

/// An encoded text field (`body`, `data`): a string of at most a frame's size; absent or
/// `null` is empty.
fn encoded(data: &Value, key: &'static str) -> Result<String, ParamError> {
    match data.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= super::socket::MAX_FRAME => Ok(s.clone()),
        Some(Value::String(_)) => Err(ParamError::invalid(key, key)),
        Some(_) => Err(ParamError::invalid_because(key, key, "must be a string")),
    }
}
