//! HEIF/HEIC stills (iPhones and iPads save them by default) through libheif: the size and
//! the EXIF of the primary image, and its pixels as RGB within the same limits as a JPEG.
//!
//! libheif applies the file's own rotation and mirror (`irot`, `imir`) and crop (`clap`)
//! when it decodes, so the pixels come out upright. The EXIF orientation in such a file
//! describes the same turn again (Apple writes both); it is never applied on top: what the
//! analysis reports as the orientation of a HEIF is always "upright".
//!
//! Before any pixel is decoded the declared size is checked against the pixel cap, the
//! memory decoding needs against the decoder cap, and the number of tiles a grid image is
//! assembled from against [`MAX_TILES`] (each tile is a separate HEVC stream to decode).

use std::panic::{AssertUnwindSafe, catch_unwind};

use libheif_rs::{
    ColorSpace, HeifContext, HeifErrorCode, HeifErrorSubCode, ImageHandle, LibHeif, RgbChroma,
};

use crate::jpeg::Limits;
use crate::problem::Problem;
use crate::render::Rgb;

/// Most tiles a grid image may be assembled from. A 12 MP iPhone photo has 48 tiles of
/// 512 x 512 pixels and a 48 MP one 192; thousands of tiles are only ever an attack.
pub const MAX_TILES: usize = 1024;

/// Memory decoding needs, in half bytes per pixel: the decoded YCbCr 4:2:0 planes (1.5
/// bytes) and the RGB picture made from them (3).
const DECODE_HALF_BYTES_PER_PIXEL: u64 = 9;

/// What the file says, before any pixel is decoded.
pub(crate) struct Header {
    /// Width of the primary image as it displays (after its rotation).
    pub width: u32,
    /// Height of the primary image as it displays.
    pub height: u32,
    /// The TIFF structure of the primary image's EXIF block, if it has one.
    pub exif: Option<Result<Vec<u8>, String>>,
}

fn problem(e: &libheif_rs::HeifError) -> Problem {
    if matches!(e.sub_code, HeifErrorSubCode::EndOfData) {
        return Problem::Truncated;
    }
    let detail = match e.code {
        HeifErrorCode::UnsupportedFeature | HeifErrorCode::UnsupportedFileType => {
            format!("HEIF: not supported here ({})", e.message)
        }
        _ => format!("HEIF: {}", e.message),
    };
    Problem::Corrupt { detail }
}

fn guarded<T>(run: impl FnOnce() -> Result<T, Problem>) -> Result<T, Problem> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(Problem::Corrupt {
            detail: "the HEIF decoder failed".into(),
        })
    })
}

/// The file as libheif reads it, once the tiles are counted: thousands of tiles are
/// refused before libheif reads a box of them.
fn open(data: &[u8]) -> Result<HeifContext<'_>, Problem> {
    let tiles = tile_count(data);
    if tiles > MAX_TILES {
        return Err(Problem::TooManyTiles {
            tiles,
            limit: MAX_TILES,
        });
    }
    HeifContext::read_from_bytes(data).map_err(|e| problem(&e))
}

/// The checks made before decoding, on the primary image's handle.
fn check_size(handle: &ImageHandle, limits: &Limits) -> Result<(u32, u32), Problem> {
    let (width, height) = (handle.width(), handle.height());
    // The size before the rotation (`ispe`) too: a grid's tiles are decoded at that size.
    let ispe = (
        u32::try_from(handle.ispe_width()).unwrap_or(0),
        u32::try_from(handle.ispe_height()).unwrap_or(0),
    );
    for (w, h) in [(width, height), ispe] {
        if u64::from(w) * u64::from(h) > limits.max_pixels {
            return Err(Problem::DimensionsTooLarge {
                width: w,
                height: h,
            });
        }
    }
    if width == 0 || height == 0 {
        return Err(Problem::Corrupt {
            detail: "HEIF: the primary image has no size".into(),
        });
    }
    let needs = u64::from(width) * u64::from(height) * DECODE_HALF_BYTES_PER_PIXEL / 2;
    if needs > limits.max_decoder_bytes {
        return Err(Problem::DecodingNeedsTooMuchMemory {
            bytes: needs,
            limit: limits.max_decoder_bytes,
        });
    }
    Ok((width, height))
}

/// The primary image's EXIF: libheif gives the block with a 4-byte offset to the TIFF
/// header in front (usually 6, past `Exif\0\0`).
fn exif_of(handle: &ImageHandle) -> Option<Result<Vec<u8>, String>> {
    let mut ids = [0; 4];
    let count = handle.metadata_block_ids(&mut ids, b"Exif");
    let id = *ids.get(..count)?.first()?;
    let block = match handle.metadata(id) {
        Ok(block) => block,
        Err(e) => return Some(Err(e.message)),
    };
    let Some(offset) = block.get(..4) else {
        return Some(Err("the EXIF block is shorter than its header".into()));
    };
    let offset = u32::from_be_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    Some(
        4usize
            .checked_add(offset)
            .and_then(|start| block.get(start..))
            .filter(|tiff| !tiff.is_empty())
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("the EXIF block's offset {offset} points past its end")),
    )
}

/// Reads the structure of the file and the primary image's size and EXIF, refusing a
/// declared size over the caps.
pub(crate) fn header(data: &[u8], limits: &Limits) -> Result<Header, Problem> {
    guarded(|| {
        let context = open(data)?;
        let handle = context.primary_image_handle().map_err(|e| problem(&e))?;
        let (width, height) = check_size(&handle, limits)?;
        Ok(Header {
            width,
            height,
            exif: exif_of(&handle),
        })
    })
}

/// Decodes the primary image to 8-bit RGB, upright (the file's rotation, mirror and crop
/// applied once, by libheif).
pub(crate) fn decode(data: &[u8], limits: &Limits) -> Result<Rgb, Problem> {
    guarded(|| {
        let context = open(data)?;
        let handle = context.primary_image_handle().map_err(|e| problem(&e))?;
        let (width, height) = check_size(&handle, limits)?;
        // libheif's default options: with options of its own making libheif 1.15 leaves
        // out the file's rotation (a 10-bit picture then comes out in 8 bits all the same:
        // interleaved RGB is 8-bit, and anything else is caught below).
        let image = LibHeif::new()
            .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
            .map_err(|e| problem(&e))?;
        let plane = image.planes().interleaved.ok_or(Problem::Corrupt {
            detail: "HEIF: the decoder gave no RGB picture".into(),
        })?;
        if (plane.width, plane.height) != (width, height) || plane.bits_per_pixel != 8 {
            return Err(Problem::Corrupt {
                detail: format!(
                    "HEIF: the picture decoded at {} x {} ({} bits), not the {width} x {height} declared",
                    plane.width, plane.height, plane.bits_per_pixel
                ),
            });
        }
        let row = width as usize * 3;
        let mut pixels = Vec::with_capacity(row * height as usize);
        for line in plane.data.chunks(plane.stride).take(height as usize) {
            let line = line.get(..row).ok_or(Problem::Truncated)?;
            pixels.extend_from_slice(line);
        }
        if pixels.len() != row * height as usize {
            return Err(Problem::Truncated);
        }
        Ok(Rgb {
            width,
            height,
            pixels,
        })
    })
}

/// How many images the primary image is derived from (`dimg` references in `iref`): the
/// tiles of a grid. Zero for a plain image or a file whose boxes do not read.
fn tile_count(data: &[u8]) -> usize {
    let Some(meta) = boxes(data).find(|b| &b.kind == b"meta") else {
        return 0;
    };
    // `meta` is a full box: version and flags before its children.
    let Some(children) = meta.body.get(4..) else {
        return 0;
    };
    let mut primary = None;
    let mut iref = None;
    for child in boxes(children) {
        match &child.kind {
            b"pitm" => primary = item_id(child.body, 4, child.body.first() == Some(&0)),
            b"iref" => iref = Some(child.body),
            _ => {}
        }
    }
    let (Some(primary), Some(iref)) = (primary, iref) else {
        return 0;
    };
    let short = iref.first() == Some(&0);
    let width = if short { 2 } else { 4 };
    let Some(references) = iref.get(4..) else {
        return 0;
    };
    boxes(references)
        .filter(|r| &r.kind == b"dimg" && item_id(r.body, 0, short) == Some(primary))
        .map(|r| {
            r.body
                .get(width..width + 2)
                .map_or(0, |n| usize::from(u16::from_be_bytes([n[0], n[1]])))
        })
        .sum()
}

fn item_id(body: &[u8], at: usize, short: bool) -> Option<u32> {
    if short {
        let b = body.get(at..at + 2)?;
        Some(u32::from(u16::from_be_bytes([b[0], b[1]])))
    } else {
        let b = body.get(at..at + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// One ISO base media file format box.
struct Bmff<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes one after another in `data`, stopping at the first that does not fit.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = Bmff<'_>> {
    std::iter::from_fn(move || {
        let head = data.get(..8)?;
        let size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = [head[4], head[5], head[6], head[7]];
        let (header, size) = match size {
            0 => (8, data.len() as u64),
            1 => {
                let large = data.get(8..16)?;
                (16, u64::from_be_bytes(large.try_into().ok()?))
            }
            n => (8, n),
        };
        let size = usize::try_from(size).ok()?;
        if size < header || size > data.len() {
            data = &[];
            return None;
        }
        let body = &data[header..size];
        data = &data[size..];
        Some(Bmff { kind, body })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(body.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn grid_file(references: &[(u16, u16)]) -> Vec<u8> {
        let mut refs = vec![0, 0, 0, 0];
        for &(from, count) in references {
            let mut body = from.to_be_bytes().to_vec();
            body.extend_from_slice(&count.to_be_bytes());
            for id in 0..count {
                body.extend_from_slice(&(id + 2).to_be_bytes());
            }
            refs.extend(bx(b"dimg", &body));
        }
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(bx(b"pitm", &[0, 0, 0, 0, 0, 1]));
        meta.extend(bx(b"iref", &refs));
        let mut file = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        file.extend(bx(b"meta", &meta));
        file
    }

    #[test]
    fn counts_the_tiles_of_the_primary_image_only() {
        assert_eq!(tile_count(&grid_file(&[(1, 48)])), 48);
        assert_eq!(tile_count(&grid_file(&[(1, 3000)])), 3000);
        // Another item's references (a thumbnail's grid) are not the primary image's.
        assert_eq!(tile_count(&grid_file(&[(7, 3000), (1, 4)])), 4);
        assert_eq!(tile_count(&grid_file(&[])), 0);
    }

    #[test]
    fn boxes_that_do_not_fit_end_the_walk_without_a_panic() {
        let mut file = grid_file(&[(1, 48)]);
        file.truncate(file.len() - 10);
        assert_eq!(tile_count(&file), 0);
        assert_eq!(tile_count(b"\0\0\0\x01meta"), 0);
        assert_eq!(tile_count(b"\xff\xff\xff\xffmeta"), 0);
        assert_eq!(tile_count(&[]), 0);
    }
}
