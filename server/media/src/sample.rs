//! A real group photo to try the whole path on: the face detector's own test picture
//! (the 1927 Solvay conference, 1666 x 1136 greyscale PNG, public domain, 29 faces; the
//! crate that ships it drew a thin red box around each face). Built in only with the
//! `sample` feature: the demo and the end-to-end tests use it, production does not.

/// The PNG file's bytes.
pub static GROUP_PHOTO_PNG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/group-photo.png"));

/// How many faces are in it.
pub const GROUP_PHOTO_FACES: usize = 29;

/// Encodes `rgb` (8-bit, row by row, `width` x `height`) as a HEIC with libheif's HEVC
/// encoder, the way a phone stores a photo: one primary image and, when given, `exif` (a
/// TIFF structure) in its EXIF block. For the demo's iPad and for tests; never used to
/// publish.
///
/// # Errors
/// libheif has no HEVC encoder, or the buffer does not match the size.
pub fn heic_of(
    rgb: &[u8],
    width: u32,
    height: u32,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    use libheif_rs::{
        Channel, ColorSpace, CompressionFormat, EncoderQuality, HeifContext, Image, LibHeif,
        RgbChroma,
    };
    let fail = |e: libheif_rs::HeifError| e.message;
    let row = width as usize * 3;
    if rgb.len() != row * height as usize {
        return Err(format!(
            "{} bytes are not {width} x {height} RGB",
            rgb.len()
        ));
    }
    let mut image = Image::new(width, height, ColorSpace::Rgb(RgbChroma::Rgb)).map_err(fail)?;
    image
        .create_plane(Channel::Interleaved, width, height, 8)
        .map_err(fail)?;
    {
        let plane = image
            .planes_mut()
            .interleaved
            .ok_or("libheif made no RGB plane")?;
        let stride = plane.stride;
        for (line, source) in plane.data.chunks_mut(stride).zip(rgb.chunks(row)) {
            line[..row].copy_from_slice(source);
        }
    }
    let lib = LibHeif::new();
    let mut encoder = lib
        .encoder_for_format(CompressionFormat::Hevc)
        .map_err(fail)?;
    encoder
        .set_quality(EncoderQuality::Lossy(90))
        .map_err(fail)?;
    // The fastest x265 preset: test files are many, and their quality is not the point.
    let _ = encoder.set_parameter_value(
        "preset",
        libheif_rs::EncoderParameterValue::String("ultrafast".into()),
    );
    let mut context = HeifContext::new().map_err(fail)?;
    let handle = context
        .encode_image(&image, &mut encoder, None)
        .map_err(fail)?;
    if let Some(tiff) = exif {
        let mut block = b"Exif\0\0".to_vec();
        block.extend_from_slice(tiff);
        context.add_exif_metadata(&handle, &block).map_err(fail)?;
    }
    context.write_to_bytes().map_err(fail)
}
