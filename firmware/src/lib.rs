//! The consentcam kiosk: a Raspberry Pi with a badge reader and a small OLED that signs the
//! organisation's devices out and in (rules K1-K6 of the design).
//!
//! - [`machine`]: the rules as a pure `step(state, event) -> (state, effects)`.
//! - [`screen`]: each screen as data and its drawing for a 128x64 display.
//! - [`journal`]: events on disk until the server has them (K6).
//! - [`client`]: the server's kiosk API over HTTP with the kiosk's bearer token.
//! - [`link`]: replays the journal and fetches the roster, on its own thread.
//! - [`kiosk`]: the shell that polls the hardware, steps the machine, carries out effects.
//! - [`sim`]: a whole kiosk on simulated hardware, embeddable ([`sim::SimKiosk`]).
//! - [`config`]: the config file, including the pin table.
//! - [`clock`]: the only reader of the wall clock.
//! - [`demo`]: a fixed roster and its UIDs for `--sim`, tests and the server's demo page.
//!
//! The server's `demo` command embeds a kiosk with [`sim::SimKiosk::start`]; see [`sim`].

pub mod card;
pub mod client;
pub mod clock;
pub mod config;
pub mod demo;
pub mod journal;
pub mod kiosk;
pub mod link;
pub mod machine;
pub mod roster;
pub mod screen;
pub mod sim;
