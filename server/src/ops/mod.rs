//! The operations: the only way anything is written. Each takes the actor and the time,
//! owns its transaction and writes its typed audit entry ([`crate::store::audit::Action`])
//! in it; API handlers, page handlers and CLI commands parse, call one, and render.
//!
//! - [`registry`]: accounts, partner organisations, devices, badges, kiosks.
//!
//! The other areas' operations are in `records` (people and consents, photos, tagging,
//! approvals), `groups` (groups and bookings), `publish` (publication and takedowns),
//! `retention` and `erasure`.

pub mod registry;
