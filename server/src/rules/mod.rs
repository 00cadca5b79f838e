//! The rules: pure functions of the facts they are given, with no I/O, no SQL and no
//! clock. Table-tested; the operations gather the facts and act on the answers.
//!
//! - [`consent`]: may this photo be used on this channel, today, and why (C1-C14).
//! - [`faces`]: face boxes overlapping, found again, and read in order.
//! - [`kiosk`]: whether a kiosk's event may change custody.
//! - [`mail`]: when a message that could not be sent is tried again.
//! - [`parents`]: who answers online for whom, personal links, renewal requests.
//! - [`retention`]: how long photos and forms are kept.
//! - [`geometry`]: face boxes between the upright picture and the stored pixels.

pub mod consent;
pub mod faces;
pub mod geometry;
pub mod health;
pub mod kiosk;
pub mod mail;
pub mod parents;
pub mod reminders;
pub mod retention;
