//! confab: a self-hosted chat backend that speaks the PowerTalk (TapTalk.io) protocol.
//!
//! A tour, from the edge inwards (imports flow only this way):
//! - [`http`] — the only module that knows axum: the envelope, parameter parsing with field
//!   codes, CORS, request logging, and one file per API area.
//! - [`service`] — the use cases (upsert a user, create a room, list a user's rooms), shared by
//!   every API that needs them.
//! - [`store`] — persistence behind the [`store::Store`] trait; SQLite is the embedded default.
//! - [`domain`] — value types and rules, with no I/O.
//! - [`wire`] — the protocol's JSON objects (users, rooms, messages, socket events).
//!   [`json`] writes them (and every response) faster than `serde_json`, byte for byte the same.
//! - [`codec`] — the message-body cipher of the SDKs.
//!
//! [`app`] wires these together from a [`config::Config`]; [`cli`] is the command line.

pub mod app;
pub mod bus;
pub mod cli;
pub mod codec;
pub mod config;
pub mod domain;
pub mod http;
pub mod json;
pub mod realtime;
pub mod service;
pub mod store;
pub mod wire;
