//! The `consentcam` command.

fn main() {}
