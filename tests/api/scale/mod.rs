//! Running as several nodes: the NATS client, and confab nodes sharing PostgreSQL and a bus.

mod cluster;
mod media;
mod nats;
mod schema;
mod webhooks;
