//! Faults switched on by the fault campaign's negative control (`server/tests/faults.rs`),
//! by `CONSENTCAM_FAULT` in a build with the `fault-injection` feature (the demo's). The
//! production build has neither; `tests/run-all` checks that.

use std::sync::OnceLock;

/// `CONSENTCAM_FAULT=answer-before-commit`: kiosk events are answered as if written and
/// written a moment later (wrong on purpose: a kill in between loses what was answered).
pub fn answer_before_commit() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("CONSENTCAM_FAULT").is_ok_and(|v| v == "answer-before-commit"))
}
