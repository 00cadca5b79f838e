//! The one error type of the crate. Every variant is a reason to refuse a file: the
//! scrubber never passes through what it could not prove clean. Messages are written for
//! the operator who has to decide what to do with the photo; they never quote file
//! contents, which may contain names.

/// Why a file was refused. Offsets are byte positions in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScrubError {
    #[error("not a JPEG file (it does not start with the JPEG start-of-image marker)")]
    NotJpeg,

    #[error(
        "the JPEG file is cut short at byte {offset}: it may have been truncated while copying; copy it again from the camera card"
    )]
    Truncated { offset: usize },

    #[error(
        "the JPEG structure is damaged at byte {offset} ({what}); open and re-save the photo in an editor, or leave it unpublished"
    )]
    Malformed { offset: usize, what: &'static str },

    #[error(
        "unknown JPEG marker 0x{marker:02X} at byte {offset}: the scrubber only passes what it understands"
    )]
    UnknownMarker { offset: usize, marker: u8 },

    #[error(
        "unsupported JPEG coding ({process}) at byte {offset}: only baseline, extended and progressive JPEGs can be published"
    )]
    UnsupportedCoding {
        offset: usize,
        process: &'static str,
    },

    #[error(
        "the camera's EXIF block at byte {offset} is damaged ({what}), so the scrubber cannot tell which way up the photo goes"
    )]
    UnreadableOrientation { offset: usize, what: &'static str },

    #[error(
        "the embedded colour profile is damaged ({what}); re-save the photo with a standard profile such as sRGB"
    )]
    BadColourProfile { what: &'static str },

    #[error(
        "the Adobe colour-transform segment at byte {offset} is not understood, so the colours cannot be kept right"
    )]
    BadAdobeSegment { offset: usize },

    #[error(
        "the image data at byte {offset} holds more than the picture ({what}); something may be hidden in it: publish a re-encoded copy instead"
    )]
    ImageDataNotClean { offset: usize, what: &'static str },

    #[error("the photo could not be decoded for re-encoding: {0}")]
    Decode(String),

    #[error("the re-encoded photo could not be written: {0}")]
    Encode(String),

    #[error(
        "face cover {index} ({x},{y} {width}x{height}) does not overlap the {image_width}x{image_height} photo; the cover coordinates must be in the photo's stored pixels"
    )]
    CoverOutsideImage {
        index: usize,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        image_width: u32,
        image_height: u32,
    },

    #[error("invalid re-encode option: {0}")]
    InvalidOption(&'static str),

    /// The final self-check found something outside the allow-list in our own output.
    /// This is a bug in the scrubber, never a property of the photo; the file is refused.
    #[error(
        "internal check failed ({what}); the photo was not published. Please report this as a scrubber bug"
    )]
    SelfCheck { what: &'static str },
}
