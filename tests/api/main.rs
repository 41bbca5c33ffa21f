//! confab's integration tests: one binary, each test against a real server on 127.0.0.1:0
//! with a fresh database.

mod browser;
mod chat;
mod client_rooms;
mod envelope;
mod helpers;
mod process;
mod room_lists;
mod rooms;
mod server_messages;
mod sessions;
mod socket;
mod users;
