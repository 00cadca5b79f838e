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

/// Encodes `rgb` (8-bit, row by row, `width` x `height`, both even) as an MP4 video of
/// `frames` pictures with OpenH264's encoder, the way a phone or camera stores one: an H.264
/// track, its samples first and its index (`moov`) after them. The picture drifts one
/// pixel to the right a frame, so the frames after the first are not copies. For the demo
/// and for tests; never used to publish.
///
/// # Errors
/// The encoder or the MP4 writer refuses, or the buffer does not match the size.
pub fn mp4_of(rgb: &[u8], width: u32, height: u32, frames: u32) -> Result<Vec<u8>, String> {
    use openh264::encoder::Encoder;
    use openh264::formats::{RgbSliceU8, YUVBuffer};
    let (w, h) = even_rgb(rgb, width, height)?;
    let mut encoder = Encoder::new().map_err(|e| e.to_string())?;
    let (mut sps, mut pps) = (None, None);
    let mut samples = Vec::new();
    let mut shifted = rgb.to_vec();
    for frame in 0..frames {
        if frame > 0 {
            for row in shifted.chunks_mut(w * 3) {
                row.rotate_right(3);
            }
        }
        let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(&shifted, (w, h)));
        let stream = encoder.encode(&yuv).map_err(|e| e.to_string())?;
        // MP4 keeps the parameter sets in the track's configuration and each picture's
        // NAL units with a 4-byte length before each, not the start codes the encoder
        // writes.
        let mut sample = Vec::new();
        let mut key = false;
        for layer in (0..stream.num_layers()).filter_map(|l| stream.layer(l)) {
            for unit in (0..layer.nal_count()).filter_map(|n| layer.nal_unit(n)) {
                let start = if unit.starts_with(&[0, 0, 0, 1]) {
                    4
                } else {
                    3
                };
                let unit = &unit[start..];
                match unit.first().map(|b| b & 0x1f) {
                    Some(7) => sps = Some(unit.to_vec()),
                    Some(8) => pps = Some(unit.to_vec()),
                    Some(kind) => {
                        key |= kind == 5;
                        let len = u32::try_from(unit.len()).map_err(|e| e.to_string())?;
                        sample.extend_from_slice(&len.to_be_bytes());
                        sample.extend_from_slice(unit);
                    }
                    None => {}
                }
            }
        }
        samples.push((sample, key));
    }
    let (Some(sps), Some(pps)) = (sps, pps) else {
        return Err("the encoder wrote no parameter sets".into());
    };
    let brand = |b: &str| b.parse::<mp4::FourCC>().map_err(|e| e.to_string());
    let config = mp4::Mp4Config {
        major_brand: brand("isom")?,
        minor_version: 512,
        compatible_brands: vec![brand("isom")?, brand("avc1")?, brand("mp41")?],
        timescale: 1000,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = mp4::Mp4Writer::write_start(&mut out, &config).map_err(|e| e.to_string())?;
    let track = mp4::TrackConfig {
        track_type: mp4::TrackType::Video,
        timescale: 1000,
        language: "und".into(),
        media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
            width: u16::try_from(width).map_err(|e| e.to_string())?,
            height: u16::try_from(height).map_err(|e| e.to_string())?,
            seq_param_set: sps,
            pic_param_set: pps,
        }),
    };
    writer.add_track(&track).map_err(|e| e.to_string())?;
    for (n, (bytes, is_sync)) in samples.into_iter().enumerate() {
        let sample = mp4::Mp4Sample {
            start_time: n as u64 * 40,
            duration: 40,
            rendering_offset: 0,
            is_sync,
            bytes: bytes.into(),
        };
        writer.write_sample(1, &sample).map_err(|e| e.to_string())?;
    }
    writer.write_end().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// The sides of `rgb` as H.264 takes them (8-bit RGB of even width and height).
fn even_rgb(rgb: &[u8], width: u32, height: u32) -> Result<(usize, usize), String> {
    let (w, h) = (width as usize, height as usize);
    if rgb.len() != w * h * 3 || w % 2 == 1 || h % 2 == 1 {
        return Err(format!(
            "{} bytes are not {width} x {height} RGB of even sides",
            rgb.len()
        ));
    }
    Ok((w, h))
}

/// One picture as an H.264 key frame with its parameter sets, in start-code (Annex B) form:
/// what a video's first key frame is once read out of its track.
///
/// # Errors
/// The encoder refuses, or the buffer does not match the size.
pub fn h264_key_frame(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    use openh264::encoder::Encoder;
    use openh264::formats::{RgbSliceU8, YUVBuffer};
    let (w, h) = even_rgb(rgb, width, height)?;
    let mut encoder = Encoder::new().map_err(|e| e.to_string())?;
    let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(rgb, (w, h)));
    Ok(encoder.encode(&yuv).map_err(|e| e.to_string())?.to_vec())
}
