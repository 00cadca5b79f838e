//! The operations: the only way anything is written. Each takes the actor and the time,
//! owns its transaction and writes its typed audit entry ([`crate::store::audit::Action`])
//! in it; API handlers, page handlers and CLI commands parse, call one, and render.
//!
//! - [`photos`]: tagging a photo (faces, tags, covers, caption, confirmation), provenance
//!   acknowledgements, requests for publication.
//! - [`registry`]: accounts, partner organisations, devices, badges, kiosks.
//!
//! The other areas' operations are in `records` (people and consents, photos, tagging,
//! approvals), `groups` (groups and bookings), `publish` (publication and takedowns),
//! `retention` and `erasure`.

pub mod photos;
pub mod registry;
