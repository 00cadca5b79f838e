//! Kiosk hardware behind traits (see the crate description).
