//! Decoding through C and C++ code (libheif with libde265 for HEIF, OpenH264 for a video's
//! key frame), never in the server: each request goes to a sandboxed worker
//! (`consentcam decode-worker`, see `consentcam-sandbox`), whose answer is checked before
//! it is believed. A worker that crashes, overruns its time, makes a forbidden call or
//! cannot be locked down gives the file a [`Problem`]; the file is never decoded without
//! the sandbox.
//!
//! Pure-Rust decoding (JPEG, PNG, the MP4 container, EXIF) and the face detector stay in
//! the server.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use consentcam_sandbox::supervisor::{Failure, Pool, Settings};
use serde::{Deserialize, Serialize};

use crate::jpeg::Limits;
use crate::problem::Problem;
use crate::render::Rgb;

/// A request to the worker; its payload is the file (HEIF) or the key frame (H.264).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Request {
    /// A HEIF still's header (size, EXIF) and, if `pixels`, its picture as RGB.
    Heif { pixels: bool, limits: Limits },
    /// One H.264 access unit (parameter sets and a key frame) to RGB.
    H264 { limits: Limits },
}

/// The worker's answer; its payload is the RGB picture, if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Heif {
        width: u32,
        height: u32,
        exif: Option<Result<Vec<u8>, String>>,
        /// The size of the picture in the payload, when one was asked for.
        decoded: Option<(u32, u32)>,
    },
    Frame {
        width: u32,
        height: u32,
    },
    Problem(Problem),
}

/// A HEIF's header and, if asked for, its picture (upright).
pub(crate) struct HeifStill {
    pub header: crate::heif_image::Header,
    pub pixels: Option<Rgb>,
}

enum Inner {
    Sandboxed {
        pool: Pool,
        timeout: Duration,
    },
    #[cfg(feature = "unsandboxed")]
    InProcess,
}

/// The way to the C and C++ decoders: shared, cheap to clone.
#[derive(Clone)]
pub struct Decoders {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Decoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.inner {
            Inner::Sandboxed { pool, timeout } => f
                .debug_struct("Decoders")
                .field("program", &pool.settings().program)
                .field("timeout", timeout)
                .finish(),
            #[cfg(feature = "unsandboxed")]
            Inner::InProcess => f.write_str("Decoders(in process)"),
        }
    }
}

/// What a worker failure is for the file.
fn problem_of(failure: Failure) -> Problem {
    match failure {
        Failure::Violation => Problem::SandboxViolation,
        Failure::Timeout(limit) => Problem::DecodeTimeout {
            seconds: limit.as_secs().max(1),
        },
        Failure::Crashed(detail) => Problem::DecoderCrashed { detail },
        Failure::Protocol(detail) => Problem::DecoderCrashed {
            detail: format!("its answer did not read: {detail}"),
        },
        Failure::Unavailable(detail) => Problem::SandboxUnavailable { detail },
    }
}

/// Checks a picture the worker sent: the size it states, within the limits, and exactly
/// that many bytes.
fn picture(width: u32, height: u32, pixels: Vec<u8>, limits: &Limits) -> Result<Rgb, Problem> {
    let count = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 || count > limits.max_pixels || pixels.len() as u64 != count * 3 {
        return Err(Problem::DecoderCrashed {
            detail: format!(
                "it answered a {width} x {height} picture of {} bytes",
                pixels.len()
            ),
        });
    }
    Ok(Rgb {
        width,
        height,
        pixels,
    })
}

impl Decoders {
    /// Decoders in sandboxed workers started with `settings`, each request answered within
    /// `timeout`.
    #[must_use]
    pub fn sandboxed(settings: Settings, timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner::Sandboxed {
                pool: Pool::new(settings),
                timeout,
            }),
        }
    }

    /// Decoders in this process, unprotected: for the media crate's own tests and
    /// benchmarks only (the feature is never enabled by the server).
    #[cfg(feature = "unsandboxed")]
    #[must_use]
    pub fn in_process() -> Self {
        Self {
            inner: Arc::new(Inner::InProcess),
        }
    }

    fn ask(&self, request: &Request, payload: &[u8]) -> Result<(Answer, Vec<u8>), Problem> {
        match &*self.inner {
            Inner::Sandboxed { pool, timeout } => pool
                // A decoder that met a damaged file is replaced before the next.
                .call(request, payload, *timeout, |a: &Answer| {
                    !matches!(a, Answer::Problem(_))
                })
                .map_err(problem_of),
            #[cfg(feature = "unsandboxed")]
            Inner::InProcess => Ok(handle(request.clone(), payload)),
        }
    }

    /// A HEIF still's header and, if `pixels`, its picture.
    pub(crate) fn heif(
        &self,
        data: &[u8],
        limits: &Limits,
        pixels: bool,
    ) -> Result<HeifStill, Problem> {
        let request = Request::Heif {
            pixels,
            limits: *limits,
        };
        match self.ask(&request, data)? {
            (
                Answer::Heif {
                    width,
                    height,
                    exif,
                    decoded,
                },
                payload,
            ) => {
                let pixels = match decoded {
                    Some((w, h)) if pixels && (w, h) == (width, height) => {
                        Some(picture(w, h, payload, limits)?)
                    }
                    None if !pixels => None,
                    other => {
                        return Err(Problem::DecoderCrashed {
                            detail: format!(
                                "it answered a picture of {other:?} for a {width} x {height} image"
                            ),
                        });
                    }
                };
                if u64::from(width) * u64::from(height) > limits.max_pixels {
                    return Err(Problem::DimensionsTooLarge { width, height });
                }
                Ok(HeifStill {
                    header: crate::heif_image::Header {
                        width,
                        height,
                        exif,
                    },
                    pixels,
                })
            }
            (Answer::Problem(problem), _) => Err(problem),
            (Answer::Frame { .. }, _) => Err(Problem::DecoderCrashed {
                detail: "it answered a video frame for a still".into(),
            }),
        }
    }

    /// An H.264 access unit's picture.
    pub(crate) fn h264(&self, stream: &[u8], limits: &Limits) -> Result<Rgb, Problem> {
        match self.ask(&Request::H264 { limits: *limits }, stream)? {
            (Answer::Frame { width, height }, payload) => picture(width, height, payload, limits),
            (Answer::Problem(problem), _) => Err(problem),
            (Answer::Heif { .. }, _) => Err(Problem::DecoderCrashed {
                detail: "it answered a still for a video frame".into(),
            }),
        }
    }
}

/// Decodes one request in this process (the worker's side).
fn handle(request: Request, payload: &[u8]) -> (Answer, Vec<u8>) {
    #[cfg(feature = "hostile-worker")]
    hostile::act(payload);
    match request {
        Request::Heif { pixels, limits } => {
            let header = match crate::heif_image::header(payload, &limits) {
                Ok(header) => header,
                Err(problem) => return (Answer::Problem(problem), Vec::new()),
            };
            let (decoded, bytes) = if pixels {
                match crate::heif_image::decode(payload, &limits) {
                    Ok(rgb) => (Some((rgb.width, rgb.height)), rgb.pixels),
                    Err(problem) => return (Answer::Problem(problem), Vec::new()),
                }
            } else {
                (None, Vec::new())
            };
            (
                Answer::Heif {
                    width: header.width,
                    height: header.height,
                    exif: header.exif,
                    decoded,
                },
                bytes,
            )
        }
        Request::H264 { limits } => {
            match std::panic::catch_unwind(|| crate::h264::decode(payload, &limits))
                .unwrap_or_else(|_| Err("the H.264 decoder failed".into()))
            {
                Ok(rgb) => (
                    Answer::Frame {
                        width: rgb.width,
                        height: rgb.height,
                    },
                    rgb.pixels,
                ),
                Err(why) => (
                    Answer::Problem(Problem::Corrupt {
                        detail: format!("video: {why}"),
                    }),
                    Vec::new(),
                ),
            }
        }
    }
}

/// The largest request a worker reads (a file is never sent past the analysis's own cap).
const MAX_REQUEST_BYTES: u64 = 1 << 31;

/// Decodes a tiny HEIF and a tiny H.264 frame, so that everything the libraries set up
/// on first use (and whatever they open to do it) happens before the lockdown.
fn warm_up() {
    // libheif looks for its plugins (a folder it opens) whenever its use count rises from
    // zero: one use held for the worker's life keeps every later decode from looking.
    std::mem::forget(libheif_rs::LibHeif::new());
    let limits = Limits::default();
    let heif = handle(
        Request::Heif {
            pixels: true,
            limits,
        },
        WARM_UP_HEIF,
    );
    let frame = handle(Request::H264 { limits }, WARM_UP_H264);
    for (what, answer) in [("HEIF", heif.0), ("H.264", frame.0)] {
        if let Answer::Problem(problem) = answer {
            tracing::warn!(what, %problem, "the decoder's warm-up did not decode");
        }
    }
}

/// A 64 x 64 HEIC and a 64 x 64 H.264 key frame, made by the sample encoders.
const WARM_UP_HEIF: &[u8] = include_bytes!("warm_up/tiny.heic");
const WARM_UP_H264: &[u8] = include_bytes!("warm_up/tiny.h264");

/// Runs this process as a decode worker until the server closes its input.
#[must_use]
pub fn serve_worker() -> ExitCode {
    consentcam_sandbox::worker::serve::<Request, Answer>(
        MAX_REQUEST_BYTES,
        warm_up,
        |request, payload| handle(request, &payload),
    )
}

/// A worker that misbehaves on purpose when a file asks it to, for the tests of what the
/// server does then. Never in a production build: the feature is enabled only by the
/// server's `demo` feature, and `tests/run-all` checks the production build has neither.
#[cfg(feature = "hostile-worker")]
mod hostile {
    const MARK: &[u8] = b"CONSENTCAM-HOSTILE-";

    /// Does what the file says after the mark, if it has one.
    pub(super) fn act(payload: &[u8]) {
        let Some(at) = payload.windows(MARK.len()).position(|w| w == MARK) else {
            return;
        };
        let word: Vec<u8> = payload[at + MARK.len()..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .copied()
            .collect();
        match word.as_slice() {
            b"OPEN" => {
                let _ = std::fs::read("/etc/passwd");
            }
            b"SOCKET" => {
                let _ = std::net::TcpStream::connect("127.0.0.1:9");
            }
            b"SEGV" => {
                // Rust's handler lets the first SIGSEGV that is not a fault pass (putting
                // the default back): the second ends the worker, as a decoder's fault would.
                let own = rustix::process::getpid();
                for _ in 0..2 {
                    let _ = rustix::process::kill_process(own, rustix::process::Signal::SEGV);
                }
            }
            b"SPIN" => loop {
                std::hint::spin_loop();
            },
            _ => {}
        }
    }
}

#[cfg(all(test, feature = "sample"))]
mod tests {
    use super::*;

    /// The warm-up files are a 64 x 64 HEIC and H.264 key frame of a gradient, made by the
    /// sample encoders; `CONSENTCAM_WRITE_WARM_UP=1` writes them anew (then build again).
    #[test]
    fn the_warm_up_files_decode_to_their_size() {
        if std::env::var_os("CONSENTCAM_WRITE_WARM_UP").is_some() {
            let rgb: Vec<u8> = (0..64 * 64)
                .flat_map(|i: u32| [(i % 64 * 4) as u8, (i / 64 * 4) as u8, 128])
                .collect();
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/warm_up");
            let heic = crate::sample::heic_of(&rgb, 64, 64, None).unwrap();
            std::fs::write(dir.join("tiny.heic"), heic).unwrap();
            let frame = crate::sample::h264_key_frame(&rgb, 64, 64).unwrap();
            std::fs::write(dir.join("tiny.h264"), frame).unwrap();
        }
        let limits = Limits::default();
        let request = Request::Heif {
            pixels: true,
            limits,
        };
        match handle(request, WARM_UP_HEIF) {
            (
                Answer::Heif {
                    width: 64,
                    height: 64,
                    decoded: Some((64, 64)),
                    ..
                },
                pixels,
            ) => assert_eq!(pixels.len(), 64 * 64 * 3),
            (other, _) => panic!("{other:?}"),
        }
        match handle(Request::H264 { limits }, WARM_UP_H264) {
            (
                Answer::Frame {
                    width: 64,
                    height: 64,
                },
                pixels,
            ) => {
                assert_eq!(pixels.len(), 64 * 64 * 3);
            }
            (other, _) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_worker_failure_becomes_the_files_problem() {
        let cases = [
            (Failure::Violation, "sandbox_violation"),
            (Failure::Timeout(Duration::from_secs(30)), "decode_timeout"),
            (
                Failure::Crashed("killed by SIGSEGV".into()),
                "decoder_crashed",
            ),
            (Failure::Protocol("header".into()), "decoder_crashed"),
            (
                Failure::Unavailable("no seccomp".into()),
                "sandbox_unavailable",
            ),
        ];
        for (failure, code) in cases {
            assert_eq!(problem_of(failure).code(), code);
        }
    }

    #[test]
    fn a_picture_that_does_not_match_its_size_is_not_believed() {
        let limits = Limits::default();
        assert!(picture(2, 2, vec![0; 12], &limits).is_ok());
        for (w, h, len) in [(2, 2, 11), (2, 2, 13), (0, 5, 0), (100_000, 100_000, 3)] {
            assert!(
                matches!(
                    picture(w, h, vec![0; len], &limits),
                    Err(Problem::DecoderCrashed { .. })
                ),
                "{w} x {h}, {len} bytes"
            );
        }
    }
}
