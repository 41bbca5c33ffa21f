//! Messaging between confab nodes.

pub mod nats;
