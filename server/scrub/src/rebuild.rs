//! The allow-list: decides what of a read JPEG survives and writes the clean file.
//!
//! Nothing is copied from a metadata segment. The output is SOI, then the allow-listed
//! metadata written fresh (JFIF density, a one-tag orientation EXIF, a cleaned colour
//! profile, the Adobe colour transform), then the frame, tables and scans exactly as they
//! were (so the image data is byte-identical), then EOI. Everything else, wherever it sat,
//! and everything after EOI, is left behind and counted in the report.

use crate::error::ScrubError;
use crate::icc;
use crate::orientation::{self, Orientation};
use crate::report::{Kept, MetadataKind, RemovedSegment, ScrubReport};
use crate::structure::{self, APP0, APP1, APP2, APP14, COM, DHT, DQT, DRI, Part, SOS, Structure};

/// The allow-listed facts taken from an input, ready to be written fresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Keep {
    pub jfif: Option<Jfif>,
    pub orientation: Option<Orientation>,
    pub profile: Option<icc::CleanProfile>,
    pub adobe_transform: Option<u8>,
}

/// The JFIF fields worth keeping: pixel density, which affects print size only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Jfif {
    minor: u8,
    units: u8,
    x_density: u16,
    y_density: u16,
}

impl Jfif {
    fn read(payload: &[u8]) -> Option<Self> {
        if payload.len() < 14 || !payload.starts_with(b"JFIF\0") {
            return None;
        }
        let density = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]).max(1);
        Some(Jfif {
            minor: payload[6].min(2),
            units: if payload[7] <= 2 { payload[7] } else { 0 },
            x_density: density(8),
            y_density: density(10),
        })
    }

    fn payload(self) -> [u8; 14] {
        let mut p = [0u8; 14];
        p[..5].copy_from_slice(b"JFIF\0");
        p[5] = 1;
        p[6] = self.minor;
        p[7] = self.units;
        p[8..10].copy_from_slice(&self.x_density.to_be_bytes());
        p[10..12].copy_from_slice(&self.y_density.to_be_bytes());
        // p[12], p[13]: thumbnail width and height 0: no thumbnail.
        p
    }
}

pub(crate) const ADOBE_SIGNATURE: &[u8] = b"Adobe";

/// A fresh Adobe APP14 payload: version 100, no flags, the given transform.
pub(crate) fn adobe_payload(transform: u8) -> [u8; 12] {
    [b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, transform]
}

/// Names the metadata family of an APPn or COM segment by its signature.
pub(crate) fn kind_of(marker: u8, payload: &[u8]) -> MetadataKind {
    match marker {
        COM => MetadataKind::Comment,
        APP0 if payload.starts_with(b"JFIF\0") => MetadataKind::Jfif,
        APP0 if payload.starts_with(b"JFXX\0") => MetadataKind::JfifThumbnail,
        APP1 if payload.starts_with(orientation::EXIF_SIGNATURE) => MetadataKind::Exif,
        APP1 if payload.starts_with(b"http://ns.adobe.com/xap/1.0/\0") => MetadataKind::Xmp,
        APP1 if payload.starts_with(b"http://ns.adobe.com/xmp/extension/\0") => {
            MetadataKind::ExtendedXmp
        }
        APP2 if payload.starts_with(icc::CHUNK_SIGNATURE) => MetadataKind::IccProfile,
        APP2 if payload.starts_with(b"MPF\0") => MetadataKind::MultiPicture,
        APP2 if payload.starts_with(b"FPXR\0") => MetadataKind::FlashPix,
        0xED if payload.starts_with(b"Photoshop 3.0\0") => MetadataKind::Photoshop,
        APP14 if payload.starts_with(ADOBE_SIGNATURE) => MetadataKind::Adobe,
        _ => MetadataKind::OtherApplication,
    }
}

fn is_metadata(marker: u8) -> bool {
    marker == COM || (0xE0..=0xEF).contains(&marker)
}

/// Takes the allow-listed facts out of `s` and lists every metadata segment.
pub(crate) fn gather(s: &Structure<'_>) -> Result<(Keep, Vec<RemovedSegment>), ScrubError> {
    let mut keep = Keep::default();
    let mut removed = Vec::new();
    let mut exif_seen = false;
    let mut icc_chunks: Vec<&[u8]> = Vec::new();
    for part in &s.parts {
        let Part::Segment {
            marker,
            payload,
            offset,
            after_first_scan,
        } = *part
        else {
            continue;
        };
        if !is_metadata(marker) {
            continue;
        }
        let kind = kind_of(marker, payload);
        removed.push(RemovedSegment {
            kind,
            marker,
            bytes: payload.len(),
            after_image_data: after_first_scan,
        });
        if after_first_scan {
            // Decoders read colour and orientation from the header only.
            continue;
        }
        match kind {
            MetadataKind::Jfif if keep.jfif.is_none() => keep.jfif = Jfif::read(payload),
            MetadataKind::Exif if !exif_seen => {
                // The first EXIF block is the one viewers honour.
                exif_seen = true;
                keep.orientation = orientation::read(payload, offset)?;
            }
            MetadataKind::IccProfile => icc_chunks.push(&payload[icc::CHUNK_SIGNATURE.len()..]),
            MetadataKind::Adobe => {
                let transform = match payload.get(5..12) {
                    Some(&[_, _, _, _, _, _, t]) if t <= 2 => t,
                    _ => return Err(ScrubError::BadAdobeSegment { offset }),
                };
                match keep.adobe_transform {
                    Some(previous) if previous != transform => {
                        return Err(ScrubError::BadAdobeSegment { offset });
                    }
                    _ => keep.adobe_transform = Some(transform),
                }
            }
            _ => {}
        }
    }
    if !icc_chunks.is_empty() {
        let profile = icc::reassemble(&icc_chunks)?;
        keep.profile = Some(icc::clean(&profile)?);
    }
    Ok((keep, removed))
}

fn push_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) -> Result<(), ScrubError> {
    let len = u16::try_from(payload.len() + 2).map_err(|_| ScrubError::SelfCheck {
        what: "segment too long to write",
    })?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// Writes the clean file: fresh allow-listed metadata, then the image parts of `s`.
pub(crate) fn write(s: &Structure<'_>, keep: &Keep) -> Result<Vec<u8>, ScrubError> {
    let mut out = Vec::new();
    write_into(s, keep, &mut out)?;
    Ok(out)
}

/// [`write`] appending to `out`.
pub(crate) fn write_into(
    s: &Structure<'_>,
    keep: &Keep,
    out: &mut Vec<u8>,
) -> Result<(), ScrubError> {
    let image_bytes: usize = s
        .parts
        .iter()
        .map(|p| match p {
            Part::Segment { payload, .. } => payload.len() + 4,
            Part::Scan { header, data, .. } => header.len() + data.len() + 4,
        })
        .sum();
    let profile_bytes = keep.profile.as_ref().map_or(0, |p| p.bytes.len() + 64);
    out.reserve(image_bytes + profile_bytes + 128);
    out.extend_from_slice(&[0xFF, structure::SOI]);
    if let Some(jfif) = keep.jfif {
        push_segment(out, APP0, &jfif.payload())?;
    }
    if let Some(o) = keep.orientation.filter(|o| o.value() != 1) {
        push_segment(out, APP1, &orientation::minimal_exif(o))?;
    }
    if let Some(profile) = &keep.profile {
        for payload in icc::chunk_payloads(&profile.bytes)? {
            push_segment(out, APP2, &payload)?;
        }
    }
    if let Some(t) = keep.adobe_transform {
        push_segment(out, APP14, &adobe_payload(t))?;
    }
    for part in &s.parts {
        match *part {
            Part::Segment {
                marker, payload, ..
            } => {
                if matches!(marker, DQT | DHT | DRI | 0xC0..=0xC2) {
                    push_segment(out, marker, payload)?;
                }
            }
            Part::Scan { header, data, .. } => {
                push_segment(out, SOS, header)?;
                out.extend_from_slice(data);
            }
        }
    }
    out.extend_from_slice(&[0xFF, structure::EOI]);
    Ok(())
}

/// The report for a scrub of `s` that kept `keep`.
pub(crate) fn report(s: &Structure<'_>, keep: &Keep, removed: Vec<RemovedSegment>) -> ScrubReport {
    ScrubReport {
        removed,
        trailing_bytes_cut: s.trailing.len(),
        kept: Kept {
            orientation: keep.orientation.filter(|o| o.value() != 1),
            jfif: keep.jfif.is_some(),
            colour_profile_bytes: keep.profile.as_ref().map(|p| p.bytes.len()),
            colour_profile_tags_dropped: keep.profile.as_ref().map_or(0, |p| p.tags_dropped),
            adobe_transform: keep.adobe_transform,
        },
        reencoded: false,
    }
}
