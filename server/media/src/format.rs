//! What a file is, judged from its first bytes (never from its name alone).
//!
//! Owns format sniffing and the extension cross-check. Must not decode anything.

use serde::{Deserialize, Serialize};

/// The kind of content, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// HEIF/HEIC/AVIF still images.
    Heif,
    /// Camera raw or TIFF.
    Raw,
    /// Video (MP4, MOV, AVI, MPEG transport stream).
    Video,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
    /// Zero bytes.
    Empty,
    /// Anything else (camera database files, documents, junk).
    Other,
}

impl MediaKind {
    /// Human words for the kind, for reasons shown to staff.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Jpeg => "a JPEG photo",
            Self::Png => "a PNG image",
            Self::Heif => "a HEIF/HEIC image",
            Self::Raw => "a camera raw (or TIFF) image",
            Self::Video => "a video",
            Self::Gif => "a GIF image",
            Self::Webp => "a WebP image",
            Self::Empty => "empty",
            Self::Other => "not a photo",
        }
    }

    /// The still photos that can be published (rules I1, C11): a JPEG goes through the
    /// scrubber; a PNG or HEIF is decoded and published as a new JPEG made from its pixels.
    #[must_use]
    pub fn is_publishable_format(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Heif)
    }
}

/// Bytes needed from the start of a file to sniff it.
pub const SNIFF_LEN: usize = 32;

/// Judge the kind from the first bytes (give at least [`SNIFF_LEN`] where the file has them).
#[must_use]
pub fn sniff(head: &[u8]) -> MediaKind {
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    if head.is_empty() {
        return MediaKind::Empty;
    }
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return MediaKind::Jpeg;
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return MediaKind::Png;
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return MediaKind::Gif;
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return MediaKind::Webp;
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return MediaKind::Video;
    }
    if at(0, b"II*\0")
        || at(0, b"MM\0*")
        || at(0, b"IIRO")
        || at(0, b"IIRS")
        || at(0, b"IIU\0")
        || at(0, b"FUJIFILMCCD-RAW")
    {
        return MediaKind::Raw;
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        return match brand {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1"
            | b"avif" => MediaKind::Heif,
            b"crx " => MediaKind::Raw,
            _ => MediaKind::Video,
        };
    }
    // MPEG transport stream as cameras write it (.MTS): 4-byte timecode then sync byte.
    if head.len() >= 5 && head[4] == 0x47 && (head.len() < 197 || head[196] == 0x47) && head[0] == 0
    {
        return MediaKind::Video;
    }
    MediaKind::Other
}

/// The kind a file extension promises, if it is a media extension we know.
#[must_use]
pub fn kind_for_extension(ext: &str) -> Option<MediaKind> {
    let ext = ext.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" => MediaKind::Jpeg,
        "png" => MediaKind::Png,
        "heic" | "heif" | "hif" | "avif" => MediaKind::Heif,
        "cr2" | "cr3" | "nef" | "nrw" | "arw" | "srf" | "sr2" | "dng" | "orf" | "rw2" | "raf"
        | "pef" | "srw" | "x3f" | "3fr" | "iiq" | "tif" | "tiff" => MediaKind::Raw,
        "mp4" | "mov" | "m4v" | "avi" | "mts" | "m2ts" | "3gp" => MediaKind::Video,
        "gif" => MediaKind::Gif,
        "webp" => MediaKind::Webp,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_camera_formats_by_magic() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0]), MediaKind::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), MediaKind::Png);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), MediaKind::Heif);
        assert_eq!(sniff(b"\0\0\0\x18ftypcrx \0\0\0\0"), MediaKind::Raw);
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), MediaKind::Video);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), MediaKind::Raw);
        assert_eq!(sniff(b""), MediaKind::Empty);
        assert_eq!(sniff(b"hello, world"), MediaKind::Other);
    }
}
