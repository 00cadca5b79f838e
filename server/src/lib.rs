//! consentcam: camera custody and photo consent.
//!
//! Dependencies point one way: `web` and `cli` -> `import` / `publish` -> `store` and
//! `consent` -> `domain`.

pub mod archive;
pub mod backup;
pub mod clock;
pub mod config;
pub mod consent;
pub mod decisions;
pub mod demo;
pub mod domain;
pub mod erasure;
pub mod files;
pub mod groups;
pub mod import;
pub mod ingest;
pub mod kiosk_checks;
pub mod ops;
pub mod publish;
pub mod retention;
pub mod store;
pub mod subject_access;
pub mod web;
