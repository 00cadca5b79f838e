//! Camera-like JPEGs made on the spot (no image files are committed): gradient and
//! texture pixels, real EXIF, optionally an MPF-embedded preview as cameras write.

#![allow(dead_code)]

use consentcam_media::ExifSummary;
use consentcam_media::exif;
use consentcam_media::jpeg::build_mpf;

/// What to put in the file.
#[derive(Debug, Clone, Default)]
pub struct PhotoSpec {
    pub exif: Option<ExifSummary>,
    pub progressive: bool,
    pub quality: u8,
    /// Long edge of an embedded (MPF) preview, if any.
    pub embedded_preview: Option<u32>,
    pub grey: bool,
}

/// Pixels with gradients, edges and some noise, so files have camera-like sizes.
pub fn pixels(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    let mut s = seed | 1;
    for y in 0..height {
        for x in 0..width {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = (s % 12) as u32;
            let block = ((x / 97 + y / 89) % 5) * 30;
            let r = (x * 255 / width.max(1) + noise) as u8;
            let g = (y * 255 / height.max(1) + block) as u8;
            let b = ((x ^ y) & 0xFF) as u8 / 2 + noise as u8;
            out.extend([r, g, b]);
        }
    }
    out
}

fn downscale(rgb: &[u8], w: u32, h: u32, long_edge: u32) -> (Vec<u8>, u32, u32) {
    let long = w.max(h);
    let (nw, nh) = (w * long_edge / long, h * long_edge / long);
    let mut out = Vec::with_capacity(nw as usize * nh as usize * 3);
    for y in 0..nh {
        for x in 0..nw {
            let (sx, sy) = (x * w / nw, y * h / nh);
            let i = (sy as usize * w as usize + sx as usize) * 3;
            out.extend_from_slice(&rgb[i..i + 3]);
        }
    }
    (out, nw, nh)
}

fn encode_rgb(rgb: &[u8], w: u32, h: u32, spec: &PhotoSpec, apps: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc =
        jpeg_encoder::Encoder::new(&mut out, if spec.quality == 0 { 90 } else { spec.quality });
    enc.set_progressive(spec.progressive);
    for (n, data) in apps {
        enc.add_app_segment(*n, data).expect("app segment fits");
    }
    let (w, h) = (
        u16::try_from(w).expect("width"),
        u16::try_from(h).expect("height"),
    );
    if spec.grey {
        let grey: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
        enc.encode(&grey, w, h, jpeg_encoder::ColorType::Luma)
    } else {
        enc.encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
    }
    .expect("encode");
    out
}

/// A JPEG of the given size and content.
pub fn photo(width: u32, height: u32, seed: u64, spec: &PhotoSpec) -> Vec<u8> {
    let rgb = pixels(width, height, seed);
    photo_from_pixels(&rgb, width, height, spec)
}

/// A JPEG from given pixels.
pub fn photo_from_pixels(rgb: &[u8], width: u32, height: u32, spec: &PhotoSpec) -> Vec<u8> {
    photo_with_preview_of(rgb, rgb, width, height, spec)
}

/// A JPEG of `rgb` whose embedded preview (if `spec` asks for one) is made from
/// `preview_of`, a picture of the same size: a crafted file when the two differ.
pub fn photo_with_preview_of(
    rgb: &[u8],
    preview_of: &[u8],
    width: u32,
    height: u32,
    spec: &PhotoSpec,
) -> Vec<u8> {
    let mut apps = Vec::new();
    if let Some(e) = &spec.exif {
        let mut block = b"Exif\0\0".to_vec();
        block.extend(exif::build(e));
        apps.push((1u8, block));
    }
    let Some(edge) = spec.embedded_preview else {
        return encode_rgb(rgb, width, height, spec, &apps);
    };
    let (small, sw, sh) = downscale(preview_of, width, height, edge);
    let preview = encode_rgb(
        &small,
        sw,
        sh,
        &PhotoSpec {
            quality: 85,
            ..PhotoSpec::default()
        },
        &[],
    );
    let placeholder = build_mpf(0, 0, 0);
    let mut mpf = b"MPF\0".to_vec();
    mpf.extend(&placeholder);
    apps.push((2u8, mpf));
    let mut main = encode_rgb(rgb, width, height, spec, &apps);
    let tag = main
        .windows(4)
        .position(|w| w == b"MPF\0")
        .expect("MPF segment written");
    let header = tag + 4;
    let len = u32::try_from(main.len()).expect("size");
    let offset = u32::try_from(main.len() - header).expect("offset");
    let real = build_mpf(len, offset, u32::try_from(preview.len()).expect("size"));
    main[header..header + real.len()].copy_from_slice(&real);
    main.extend(preview);
    main
}

/// Typical camera EXIF for tests.
pub fn camera_exif(serial: &str, orientation: u8) -> ExifSummary {
    ExifSummary {
        taken_at: Some(jiff::civil::date(2026, 3, 14).at(10, 30, 5, 0)),
        utc_offset_seconds: Some(0),
        make: Some("Canon".into()),
        model: Some("Canon EOS 250D".into()),
        body_serial: Some(serial.into()),
        orientation: Some(orientation),
        gps_present: false,
    }
}

/// The segments of a JPEG up to the first scan, as (marker, payload).
pub fn segments_before_scan(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        out.push((
            marker,
            jpeg[at + 4..(at + 2 + len).min(jpeg.len())].to_vec(),
        ));
        at += 2 + len;
    }
    out
}

/// A PNG of `rgb`, with `exif` (a TIFF structure) in an `eXIf` chunk before the pixels.
pub fn png_of(rgb: &[u8], width: u32, height: u32, exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("header");
        if let Some(tiff) = exif {
            writer
                .write_chunk(png::chunk::eXIf, tiff)
                .expect("eXIf chunk");
        }
        writer.write_image_data(rgb).expect("pixels");
    }
    out
}

/// Mean absolute difference of two RGB buffers (for lossy codecs).
pub fn difference(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

/// Writes tags into `path` in place with exiftool, as another device or tool would.
pub fn exiftool_writes(path: &std::path::Path, tags: &[&str]) {
    let out = std::process::Command::new("exiftool")
        .args(["-q", "-overwrite_original"])
        .args(tags)
        .arg(path)
        .output()
        .expect("exiftool runs (apt: libimage-exiftool-perl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
