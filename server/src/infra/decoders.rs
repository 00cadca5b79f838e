//! The decoders of this process for C and C++ formats (HEIF, video frames): sandboxed
//! workers running this program as `consentcam decode-worker`, one pool per distinct
//! `[sandbox]` setting, kept for the life of the process so workers are reused.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use consentcam_media::Decoders;
use consentcam_media::sandbox::{Confinement, Settings};

use super::config::SandboxSettings;

const MIB: u64 = 1024 * 1024;

/// The subcommand that makes this program a worker.
pub const WORKER_COMMAND: &str = "decode-worker";

/// The decoders for `settings`.
#[must_use]
pub fn of(settings: &SandboxSettings) -> Decoders {
    static POOLS: OnceLock<Mutex<HashMap<SandboxSettings, Decoders>>> = OnceLock::new();
    let pools = POOLS.get_or_init(Mutex::default);
    let mut pools = match pools.lock() {
        Ok(pools) => pools,
        Err(poisoned) => poisoned.into_inner(),
    };
    pools
        .entry(settings.clone())
        .or_insert_with(|| {
            let program = settings
                .worker_program
                .clone()
                .or_else(|| std::env::current_exe().ok())
                .unwrap_or_else(|| "consentcam".into());
            let limits = consentcam_media::AnalysisOptions::default().limits;
            Decoders::sandboxed(
                Settings {
                    program,
                    args: vec![WORKER_COMMAND.into()],
                    confinement: Confinement {
                        memory_bytes: settings.memory_mib.saturating_mul(MIB),
                        cpu_seconds: settings.cpu_seconds,
                    },
                    start_timeout: Duration::from_secs(10),
                    requests_per_worker: settings.files_per_worker,
                    max_answer_bytes: limits.max_pixels.saturating_mul(3) + MIB,
                },
                Duration::from_secs(settings.decode_seconds),
            )
        })
        .clone()
}
