//! Why a file is not publishable: stable machine codes with a sentence a director understands.
//!
//! Every problem blocks publication; the file is still kept. This module only names the
//! problems; finding them is the job of the card scan, the format sniff and the analysis.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::format::{MediaKind, kind_for_extension};

/// One reason a file is held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// A symbolic link on the card; never followed (it may point anywhere).
    SymlinkNotFollowed,
    /// A device node, pipe or socket on the card.
    NotARegularFile,
    /// The name has `..`, control characters or bytes that are not UTF-8.
    SuspiciousName,
    /// The file changed or vanished while it was being read.
    ChangedDuringImport,
    /// Reading the file on the card failed.
    Unreadable { detail: String },
    /// Zero bytes.
    Empty,
    /// The extension says one format and the content another.
    ExtensionMismatch {
        extension: String,
        content: MediaKind,
    },
    /// Stored and tracked, but only JPEG can be published for now.
    FormatNotPublishable { kind: MediaKind },
    /// Larger than the analysis will read.
    TooLargeToAnalyse { bytes: u64, limit: u64 },
    /// The header declares more pixels than the analysis will decode.
    DimensionsTooLarge { width: u32, height: u32 },
    /// A grid image assembled from more tiles than any camera writes.
    TooManyTiles { tiles: usize, limit: usize },
    /// Decoding the image would take more memory than the analysis allows.
    DecodingNeedsTooMuchMemory { bytes: u64, limit: u64 },
    /// The file ends before the image does.
    Truncated,
    /// The image data does not decode.
    Corrupt { detail: String },
    /// More progressive scans than any camera writes (a decoder denial of service).
    TooManyScans { scans: u32, limit: u32 },
    /// More metadata (EXIF, ICC, XMP) than any camera writes.
    MetadataTooLarge { bytes: u64, limit: u64 },
    /// EXIF structure with offsets out of range or loops.
    ExifInvalid { detail: String },
    /// Metadata segments after the image data started, where a strip could miss them.
    SegmentAfterImageData,
    /// Bytes after the end-of-image marker that no index accounts for.
    DataAfterEnd { bytes: u64 },
    /// Four-channel (CMYK/YCCK) JPEG, which browsers and the scrubber do not handle.
    Cmyk,
    /// The camera's embedded preview shows another picture than the photo itself (an
    /// edited or crafted file): faces were looked for in the photo, not the preview.
    PreviewMismatch,
    /// The decoder (a sandboxed worker running C or C++ code) died on this file.
    DecoderCrashed { detail: String },
    /// The decoder tried something its sandbox forbids (a file, a socket, a program) on
    /// this file, and was killed: the file is likely an attack.
    SandboxViolation,
    /// Decoding this file took longer than allowed; the decoder was stopped.
    DecodeTimeout { seconds: u64 },
    /// No sandboxed decoder could be started, so this file was not decoded.
    SandboxUnavailable { detail: String },
}

impl Problem {
    /// The stable machine code (what the JSON `code` field holds).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::SymlinkNotFollowed => "symlink_not_followed",
            Self::NotARegularFile => "not_a_regular_file",
            Self::SuspiciousName => "suspicious_name",
            Self::ChangedDuringImport => "changed_during_import",
            Self::Unreadable { .. } => "unreadable",
            Self::Empty => "empty",
            Self::ExtensionMismatch { .. } => "extension_mismatch",
            Self::FormatNotPublishable { .. } => "format_not_publishable",
            Self::TooLargeToAnalyse { .. } => "too_large_to_analyse",
            Self::DimensionsTooLarge { .. } => "dimensions_too_large",
            Self::TooManyTiles { .. } => "too_many_tiles",
            Self::DecodingNeedsTooMuchMemory { .. } => "decoding_needs_too_much_memory",
            Self::Truncated => "truncated",
            Self::Corrupt { .. } => "corrupt",
            Self::TooManyScans { .. } => "too_many_scans",
            Self::MetadataTooLarge { .. } => "metadata_too_large",
            Self::ExifInvalid { .. } => "exif_invalid",
            Self::SegmentAfterImageData => "segment_after_image_data",
            Self::DataAfterEnd { .. } => "data_after_end",
            Self::Cmyk => "cmyk",
            Self::PreviewMismatch => "preview_mismatch",
            Self::DecoderCrashed { .. } => "decoder_crashed",
            Self::SandboxViolation => "sandbox_violation",
            Self::DecodeTimeout { .. } => "decode_timeout",
            Self::SandboxUnavailable { .. } => "sandbox_unavailable",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SymlinkNotFollowed => {
                f.write_str("The card holds a link to another file; links are never followed.")
            }
            Self::NotARegularFile => f.write_str("The card holds something that is not a file."),
            Self::SuspiciousName => f.write_str(
                "The file name contains '..', control characters or invalid text; a camera never writes such names.",
            ),
            Self::ChangedDuringImport => {
                f.write_str("The file changed while it was being copied; import it again.")
            }
            Self::Unreadable { detail } => write!(f, "The file could not be read from the card ({detail})."),
            Self::Empty => f.write_str("The file is empty."),
            Self::ExtensionMismatch { extension, content } => write!(
                f,
                "The name ends in .{extension} but the content is {}.",
                content.describe()
            ),
            Self::FormatNotPublishable { kind } => write!(
                f,
                "{} files are kept but cannot be published yet; only JPEG can.",
                kind.describe()
            ),
            Self::TooLargeToAnalyse { bytes, limit } => write!(
                f,
                "The file is {bytes} bytes, more than the {limit} bytes the analysis reads."
            ),
            Self::DimensionsTooLarge { width, height } => write!(
                f,
                "The image claims to be {width} x {height} pixels, too large to open safely."
            ),
            Self::TooManyTiles { tiles, limit } => write!(
                f,
                "The image is assembled from {tiles} tiles (the limit is {limit}); no camera does this."
            ),
            Self::DecodingNeedsTooMuchMemory { bytes, limit } => write!(
                f,
                "Opening the image would take {} MB of memory, more than the {} MB allowed.",
                bytes / 1_000_000,
                limit / 1_000_000
            ),
            Self::Truncated => f.write_str("The file is cut short: the image is incomplete."),
            Self::Corrupt { detail } => write!(f, "The image data is damaged ({detail})."),
            Self::TooManyScans { scans, limit } => write!(
                f,
                "The image is stored in {scans} passes (the limit is {limit}); no camera does this."
            ),
            Self::MetadataTooLarge { bytes, limit } => write!(
                f,
                "The file carries {bytes} bytes of metadata (the limit is {limit})."
            ),
            Self::ExifInvalid { detail } => write!(f, "The camera data (EXIF) is malformed ({detail})."),
            Self::SegmentAfterImageData => f.write_str(
                "Metadata is hidden after the start of the image data, where it could escape removal.",
            ),
            Self::DataAfterEnd { bytes } => write!(
                f,
                "{bytes} unexplained bytes follow the end of the image."
            ),
            Self::Cmyk => f.write_str("The image is in print colours (CMYK), which cannot be published."),
            Self::PreviewMismatch => f.write_str(
                "The preview embedded in the file shows another picture than the photo itself; the file was edited or crafted.",
            ),
            Self::DecoderCrashed { detail } => write!(
                f,
                "The decoder crashed on this file ({detail}); it is kept but cannot be shown or published."
            ),
            Self::SandboxViolation => f.write_str(
                "Decoding this file made the decoder try something it may never do (open a file, a connection or a program): treat the file as an attack.",
            ),
            Self::DecodeTimeout { seconds } => write!(
                f,
                "Decoding this file took more than {seconds} s and was stopped."
            ),
            Self::SandboxUnavailable { detail } => write!(
                f,
                "The file was not decoded: the protected decoder could not start ({detail})."
            ),
        }
    }
}

/// A problem if the file's extension promises a different kind of media than its bytes.
#[must_use]
pub fn check_extension(extension: Option<&str>, content: MediaKind) -> Option<Problem> {
    let ext = extension?;
    let promised = kind_for_extension(ext)?;
    if promised == content || content == MediaKind::Empty {
        return None;
    }
    Some(Problem::ExtensionMismatch {
        extension: ext.to_ascii_lowercase(),
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_an_extension_that_lies_about_the_content() {
        assert_eq!(check_extension(Some("JPG"), MediaKind::Jpeg), None);
        assert_eq!(check_extension(Some("thm"), MediaKind::Jpeg), None);
        assert_eq!(
            check_extension(Some("jpg"), MediaKind::Other),
            Some(Problem::ExtensionMismatch {
                extension: "jpg".into(),
                content: MediaKind::Other
            })
        );
        assert!(check_extension(Some("png"), MediaKind::Jpeg).is_some());
    }
}
