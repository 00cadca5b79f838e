//! What a scrub removed and what it wrote back, for the publication register.
//!
//! It names kinds of metadata, sizes and positions, never values: a value may be a
//! learner's name.

use crate::orientation::Orientation;

/// The families of metadata the scrubber recognises by their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MetadataKind {
    /// APP1 `Exif`: camera EXIF (GPS, serials, maker notes, thumbnail, names...).
    Exif,
    /// APP1 XMP packet (face regions, people, keywords, creator...).
    Xmp,
    /// APP1 extended XMP (the overflow of a large XMP packet).
    ExtendedXmp,
    /// APP13 Photoshop image resources, where IPTC lives.
    Photoshop,
    /// APP2 ICC colour profile chunks (a cleaned profile is written back).
    IccProfile,
    /// APP2 MPF (multi-picture: the index of previews stored after the image).
    MultiPicture,
    /// APP2 FlashPix extension data.
    FlashPix,
    /// APP0 JFIF header (a fresh one, without thumbnail, is written back).
    Jfif,
    /// APP0 JFXX extension: a JFIF thumbnail.
    JfifThumbnail,
    /// APP14 Adobe colour-transform segment (a fresh one is written back).
    Adobe,
    /// COM comment segment.
    Comment,
    /// Any other APPn segment (maker data, C2PA/JUMBF, Ducky, ...).
    OtherApplication,
}

/// One segment of the input that was not copied to the output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemovedSegment {
    pub kind: MetadataKind,
    /// The JPEG marker byte, e.g. 0xE1 for APP1.
    pub marker: u8,
    /// Size of the segment's payload in bytes.
    pub bytes: usize,
    /// True when it sat between or after the image scans rather than before them.
    pub after_image_data: bool,
}

/// The allow-listed metadata written into the output, all of it built fresh.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Kept {
    /// The orientation written as a one-tag EXIF (`None`: none written; the stored
    /// pixels display upright).
    pub orientation: Option<Orientation>,
    /// A JFIF header (density only, no thumbnail).
    pub jfif: bool,
    /// Size of the cleaned colour profile, if one was kept.
    pub colour_profile_bytes: Option<usize>,
    /// Tags of the original colour profile that were not kept (text, dates, devices).
    pub colour_profile_tags_dropped: usize,
    /// The Adobe colour transform (0: none/RGB or CMYK, 1: YCbCr, 2: YCCK), if kept.
    pub adobe_transform: Option<u8>,
}

/// The whole account of one scrub.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScrubReport {
    pub removed: Vec<RemovedSegment>,
    /// Bytes found after the end-of-image marker and cut (previews, videos, text).
    pub trailing_bytes_cut: usize,
    pub kept: Kept,
    /// True when the output was re-encoded (face covers or downscale), so the image data
    /// is not the camera's.
    pub reencoded: bool,
}

impl ScrubReport {
    /// How many removed segments were of `kind`.
    pub fn removed_count(&self, kind: MetadataKind) -> usize {
        self.removed.iter().filter(|r| r.kind == kind).count()
    }
}
