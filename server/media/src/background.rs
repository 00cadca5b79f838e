//! Background analysis: the work that follows an import without holding the kiosk.
//!
//! A thread pool over the stored files of one import; each worker has its own face
//! detector (it is not thread-safe). Results go to a callback as they come; the caller
//! stores them. Owns no state beyond the threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crate::analysis::{Analysis, AnalysisOptions, analyse_stored};
use crate::faces::FaceDetector;
use crate::hash::ContentHash;
use crate::store::Store;
use crate::untrusted::Decoders;

/// How to run the background analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackgroundOptions {
    /// Per-file analysis options.
    pub analysis: AnalysisOptions,
    /// Worker threads (at least one). On a Pi Zero 2 W keep one core for the kiosk.
    pub threads: usize,
    /// Run face detection (the expensive part).
    pub faces: bool,
}

impl Default for BackgroundOptions {
    fn default() -> Self {
        Self {
            analysis: AnalysisOptions::default(),
            threads: 1,
            faces: true,
        }
    }
}

/// Analyse `hashes` from `store` on background threads, calling `on_result` for each as it
/// finishes. Returns at once; join the handle to wait for the whole batch.
pub fn spawn_analysis<F>(
    store: Store,
    hashes: Vec<ContentHash>,
    options: BackgroundOptions,
    decoders: Decoders,
    on_result: F,
) -> JoinHandle<()>
where
    F: Fn(ContentHash, Analysis) + Send + Sync + 'static,
{
    std::thread::spawn(move || {
        let next = AtomicUsize::new(0);
        let on_result = Arc::new(on_result);
        std::thread::scope(|scope| {
            for _ in 0..options.threads.max(1) {
                let on_result = Arc::clone(&on_result);
                let (store, hashes, next, decoders) = (&store, &hashes, &next, &decoders);
                scope.spawn(move || {
                    let mut detector = if options.faces {
                        match FaceDetector::new() {
                            Ok(d) => Some(d),
                            Err(e) => {
                                tracing::error!(error = %e, "face detection unavailable");
                                None
                            }
                        }
                    } else {
                        None
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(hash) = hashes.get(i) else { break };
                        let analysis = analyse_stored(
                            store,
                            hash,
                            &options.analysis,
                            decoders,
                            detector.as_mut(),
                        );
                        tracing::debug!(%hash, problems = analysis.problems.len(), "analysed");
                        on_result(*hash, analysis);
                    }
                });
            }
        });
    })
}
