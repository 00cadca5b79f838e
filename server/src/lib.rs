//! consentcam: camera custody and photo consent.
//!
//! Dependencies point one way: `web` and `cli` -> `import` / `publish` -> `store` and
//! `consent` -> `domain`.

pub mod consent;
pub mod domain;
pub mod import;
pub mod store;
