//! confab's integration tests: one binary, each test against a real server on 127.0.0.1:0
//! with a fresh database on the backend `CONFAB_TEST_BACKEND` selects (`sqlite`, the default,
//! or `postgres` with `CONFAB_TEST_POSTGRES`). The `scale` tests need PostgreSQL and
//! `nats-server` whatever the backend; `.config/nextest.toml` runs them in the `scale` profile.

mod access;
mod android;
mod browser;
mod chat;
mod client_rooms;
mod contacts;
mod coverage;
mod envelope;
mod helpers;
mod hiding;
mod limits;
mod logs;
mod marks;
mod media;
mod message_info;
mod metrics;
mod openapi;
mod process;
mod room_lists;
mod room_states;
mod rooms;
mod scale;
mod scheduled;
mod schema;
mod server_messages;
mod sessions;
mod socket;
mod startup;
mod store_contract;
mod sync;
mod users;
mod webhooks;
