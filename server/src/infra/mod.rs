//! What every layer above the records stands on: the configuration, the photo archive
//! (local folders or object storage), private files on disk, and the clock.

pub mod archive;
pub mod clock;
pub mod config;
pub mod decoders;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod files;
pub mod mail;
pub mod mail_settings;
pub mod password;
pub mod second_factor;
