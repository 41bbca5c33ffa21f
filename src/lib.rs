//! confab: a self-hosted chat backend that speaks the PowerTalk (TapTalk.io) protocol.
//!
//! A tour, from the edge inwards. Each module imports only modules listed after it, never one
//! listed before it, so there are no import cycles between them:
//! - [`http`] — the only module that knows axum and hyper: the accept loop with its timeouts
//!   and connection cap, the envelope, parameter parsing with field codes, CORS, request
//!   logging, rate limits, `/metrics`, and one file per API area. It reaches the layers below
//!   through [`service`], which re-exports the store and realtime types it needs.
//! - [`service`] — the use cases (upsert a user, create a room, list a user's rooms), shared by
//!   every API that needs them.
//! - [`store`] — persistence behind the [`store::Store`] trait; SQLite is the embedded default,
//!   PostgreSQL serves several nodes. The two backends share column lists and row helpers
//!   through `store` itself, never through each other.
//! - [`media`] — the bytes of uploaded files, streamed to and from a folder or an S3-compatible
//!   bucket; the HTTP edge moves them around the service's access checks.
//! - [`realtime`] — live delivery: who is connected, and getting each committed change to
//!   their sockets, on this node and (through [`bus`]) on the others.
//! - [`wire`] — the protocol's JSON objects (users, rooms, messages, socket events).
//! - [`domain`] — value types and rules, with no I/O: the chat model, the feed of committed
//!   changes that stores publish and realtime delivers, and [`codec`], the message-body cipher
//!   of the SDKs (also reachable at the crate root).
//! - [`config`], [`metrics`] and [`bus`] — leaves: they import no other confab module.
//!
//! [`app`] wires these together from a [`config::Config`]; [`cli`] is the command line. Nothing
//! but them imports [`app`], [`cli`] or [`http`].
//!
//! Inside a module, sibling files never import each other in a cycle either. The one
//! exception is the usual Rust one: a submodule uses its parent's shared types and helpers
//! (`StoreError`, the realtime `Hub`, the PostgreSQL store's transaction helpers) while the
//! parent declares and calls it.

pub mod app;
pub mod bus;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod media;
pub mod metrics;
pub mod realtime;
pub mod service;
pub mod store;
pub mod wire;

/// The SDKs' message-body cipher, kept at its old path; it lives in [`domain`] (pure, no I/O).
pub use domain::codec;
