//! The kiosk program.

fn main() {}
