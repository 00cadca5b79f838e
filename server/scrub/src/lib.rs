//! Makes JPEG photos safe to publish: keeps an allow-list of metadata, drops the rest,
//! and refuses what it cannot prove clean.
//!
//! Photos of learners must never leave carrying a name or anything that identifies
//! them. Rather than deleting the metadata we know about (a deny-list, which misses the
//! tag nobody thought of), the scrubber rebuilds the file from the image data and writes
//! back only what the picture needs to display right:
//!
//! - a JFIF header (pixel density only, no thumbnail),
//! - the orientation, as a new EXIF block holding that one tag,
//! - the colour profile, rebuilt with only its colour-defining tags,
//! - the Adobe colour-transform flag (needed for CMYK and RGB-coded JPEGs).
//!
//! Everything else is left behind wherever it sits: EXIF (GPS, serials, maker notes,
//! thumbnails), XMP and extended XMP (face regions, people), IPTC, comments, every other
//! APPn, segments between or after the scans, and all bytes after the end-of-image
//! marker. The frame, tables and scans are copied as they are, so [`scrub`] is lossless.
//!
//! The crate is pure: bytes in, bytes out, no I/O, no clock. Every output passes
//! [`check_clean`], an independent walk of the result, before it is returned.
//!
//! ```no_run
//! let photo = std::fs::read("IMG_0001.JPG")?;
//! let clean = consentcam_scrub::scrub(&photo)?;
//! std::fs::write("outbox/3f9c.jpg", &clean.jpeg)?;
//! println!("{} metadata segments removed", clean.report.removed.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bytescan;
mod check;
mod cover;
mod entropy;
mod error;
mod icc;
mod orientation;
mod rebuild;
mod report;
mod structure;

pub use check::check_clean;
pub use cover::{Cover, Pixels, Reencode, cover_and_encode, cover_and_scrub, uncovered};
pub use entropy::{ImageDataCheck, verify_image_data};
pub use error::ScrubError;
pub use orientation::Orientation;
pub use report::{Kept, MetadataKind, RemovedSegment, ScrubReport};

/// A clean JPEG and the account of what was removed to make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    pub jpeg: Vec<u8>,
    pub report: ScrubReport,
}

/// Scrubs `jpeg` losslessly: same image data, allow-listed metadata only.
///
/// Refuses (with a [`ScrubError`] an operator can act on) any file whose structure it
/// cannot fully account for: not a baseline, extended or progressive JPEG, damaged or
/// truncated segments, unknown markers, a damaged colour profile, or an EXIF block too
/// damaged to read the orientation from.
pub fn scrub(jpeg: &[u8]) -> Result<Scrubbed, ScrubError> {
    let mut out = Vec::new();
    let report = scrub_into(jpeg, &mut out)?;
    Ok(Scrubbed { jpeg: out, report })
}

/// [`scrub`] into a caller's buffer, which is cleared first and reused (saves the
/// allocation when scrubbing many files). On error `out` is left empty.
pub fn scrub_into(jpeg: &[u8], out: &mut Vec<u8>) -> Result<ScrubReport, ScrubError> {
    out.clear();
    let result = (|| {
        let structure = structure::read(jpeg)?;
        let (keep, removed) = rebuild::gather(&structure)?;
        rebuild::write_into(&structure, &keep, out)?;
        check::check_clean(out)?;
        Ok(rebuild::report(&structure, &keep, removed))
    })();
    if result.is_err() {
        out.clear();
    }
    result
}
