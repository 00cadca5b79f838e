//! Pictures for the demo's photos: simple drawn scenes (people in hi-vis at a workshop
//! bench) with a head where each seeded face box is, stored like an imported photo with
//! its thumbnail and preview, so the demo's photo pages, galleries and publication work
//! on real files. [`camera_picture`] adds the EXIF a camera writes, for the demo's
//! simulated card.

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};
use image::{ImageEncoder, Rgb, RgbImage};
use jiff::civil::DateTime;

/// Every demo picture's size, and the coordinates of the face boxes.
pub const WIDTH: u32 = 1500;
pub const HEIGHT: u32 = 1000;

/// Where face `n` of a demo photo is: x, y, width, height.
pub fn face_box(n: usize) -> (u32, u32, u32, u32) {
    (200 + 420 * n as u32, 300, 150, 175)
}

const SKIN: [[u8; 3]; 4] = [
    [241, 194, 125],
    [198, 134, 66],
    [141, 85, 36],
    [224, 172, 105],
];
const SHIRTS: [[u8; 3]; 3] = [[255, 140, 0], [230, 230, 40], [40, 120, 200]];

fn inside_ellipse(x: u32, y: u32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let dx = (x as f32 - cx) / rx;
    let dy = (y as f32 - cy) / ry;
    dx * dx + dy * dy <= 1.0
}

/// The picture of demo photo `seed` with `faces` people, as a JPEG.
pub fn picture(seed: usize, faces: usize) -> Vec<u8> {
    encode(&scene(seed, faces), None)
}

/// What a camera writes about itself and the moment.
#[derive(Debug, Clone)]
pub struct CameraTags<'a> {
    pub make: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    /// By the camera's clock (local time, as cameras keep it).
    pub taken: DateTime,
}

/// Like [`picture`], with the camera's EXIF (make, model, body serial, time taken).
pub fn camera_picture(seed: usize, faces: usize, camera: &CameraTags<'_>) -> Vec<u8> {
    encode(&scene(seed, faces), Some(camera_exif(camera, 1)))
}

/// The EXIF block a camera writes: make, model, body serial, time taken, orientation.
fn camera_exif(camera: &CameraTags<'_>, orientation: u16) -> Vec<u8> {
    let ascii = |tag, text: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.as_bytes().to_vec()]),
    };
    let fields = [
        ascii(Tag::Make, camera.make),
        ascii(Tag::Model, camera.model),
        ascii(Tag::BodySerialNumber, camera.serial),
        ascii(
            Tag::DateTimeOriginal,
            &camera.taken.strftime("%Y:%m:%d %H:%M:%S").to_string(),
        ),
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![orientation]),
        },
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer
        .write(&mut tiff, false)
        .expect("writing EXIF to memory cannot fail");
    tiff.into_inner()
}

/// A part of a picture, in its pixels: x, y, width, height.
pub type Crop = (u32, u32, u32, u32);

/// The built-in real group photo (see `consentcam_media::sample`) as upright RGB pixels:
/// `crop` of it (all of it if `None`), enlarged `scale` times.
pub fn group_photo_upright(crop: Option<Crop>, scale: u32) -> RgbImage {
    let photo = image::load_from_memory_with_format(
        consentcam_media::sample::GROUP_PHOTO_PNG,
        image::ImageFormat::Png,
    )
    .expect("the built-in group photo decodes")
    .to_rgb8();
    let (x, y, w, h) = crop.unwrap_or((0, 0, photo.width(), photo.height()));
    let part = image::imageops::crop_imm(&photo, x, y, w, h).to_image();
    if scale <= 1 {
        return part;
    }
    image::imageops::resize(
        &part,
        w * scale,
        h * scale,
        image::imageops::FilterType::Triangle,
    )
}

/// [`group_photo_upright`] as a camera's JPEG: the pixels stored turned so that a viewer
/// applying EXIF `orientation` (1, 3, 6 or 8) shows them upright, with the camera's EXIF.
pub fn group_photo(
    crop: Option<Crop>,
    scale: u32,
    orientation: u16,
    camera: &CameraTags<'_>,
) -> Vec<u8> {
    let upright = group_photo_upright(crop, scale);
    let stored = match orientation {
        // Shown turned a half: stored turned a half.
        3 => image::imageops::rotate180(&upright),
        // Shown turned clockwise: stored turned anticlockwise.
        6 => image::imageops::rotate270(&upright),
        // Shown turned anticlockwise: stored turned clockwise.
        8 => image::imageops::rotate90(&upright),
        _ => upright,
    };
    encode(&stored, Some(camera_exif(camera, orientation)))
}

fn encode(img: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    if let Some(exif) = exif {
        encoder
            .set_exif_metadata(exif)
            .expect("the JPEG encoder takes EXIF");
    }
    encoder
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding a picture in memory cannot fail");
    out
}

fn scene(seed: usize, faces: usize) -> RgbImage {
    let mut img = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        if y > 700 {
            // The workshop floor.
            Rgb([120, 110, 100])
        } else {
            // A wall, lighter towards the window side; each photo a little different.
            let shade = 200u32.saturating_sub(y / 12) + (x / 60) % 8 + (seed as u32 * 7) % 20;
            Rgb([
                shade.min(255) as u8,
                (shade + 10).min(255) as u8,
                (shade + 25).min(255) as u8,
            ])
        }
    });
    // A bench across the front.
    for y in 760..830 {
        for x in 80..WIDTH - 80 {
            img.put_pixel(x, y, Rgb([150, 100, 60]));
        }
    }
    for n in 0..faces {
        let (fx, fy, fw, fh) = face_box(n);
        let (cx, cy) = (fx as f32 + fw as f32 / 2.0, fy as f32 + fh as f32 / 2.0);
        let skin = SKIN[(n + seed) % SKIN.len()];
        let shirt = SHIRTS[(n + seed) % SHIRTS.len()];
        // Body: an ellipse under the head, cut by the bench.
        for y in fy + fh..760 {
            for x in (cx - 140.0).max(0.0) as u32..((cx + 140.0) as u32).min(WIDTH) {
                if inside_ellipse(x, y, cx, fy as f32 + fh as f32 + 230.0, 140.0, 240.0) {
                    img.put_pixel(x, y, Rgb(shirt));
                }
            }
        }
        // Head, filling its face box.
        for y in fy..fy + fh {
            for x in fx..fx + fw {
                if inside_ellipse(x, y, cx, cy, fw as f32 / 2.0, fh as f32 / 2.0) {
                    img.put_pixel(x, y, Rgb(skin));
                }
            }
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_jpegs_of_the_stated_size_and_differ_per_photo() {
        let a = picture(0, 1);
        let b = picture(1, 3);
        assert_eq!(&a[..2], &[0xFF, 0xD8]);
        assert_ne!(a, b);
        let decoded = image::load_from_memory(&b).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (WIDTH, HEIGHT));
        // The middle of face 2 is skin, not wall.
        let (x, y, w, h) = face_box(2);
        let px = decoded.to_rgb8().get_pixel(x + w / 2, y + h / 2).0;
        assert!(
            SKIN.iter()
                .any(|s| s.iter().zip(px).all(|(a, b)| a.abs_diff(b) < 12)),
            "{px:?}"
        );
    }

    #[test]
    fn a_camera_picture_carries_what_the_import_reads_for_provenance() {
        let bytes = camera_picture(
            3,
            2,
            &CameraTags {
                make: "Canon",
                model: "Canon EOS 250D",
                serial: "012345678901",
                taken: "2026-11-25T09:30:00".parse().unwrap(),
            },
        );
        let analysis = consentcam_media::analyse_bytes(
            &bytes,
            &consentcam_media::AnalysisOptions::default(),
            None,
        );
        let exif = analysis.exif.expect("EXIF read back");
        assert_eq!(exif.make.as_deref(), Some("Canon"));
        assert_eq!(exif.model.as_deref(), Some("Canon EOS 250D"));
        assert_eq!(exif.body_serial.as_deref(), Some("012345678901"));
        let taken = consentcam_media::provenance::taken_at(&exif, &jiff::tz::TimeZone::UTC);
        assert_eq!(taken, Some("2026-11-25T09:30:00Z".parse().unwrap()));
        assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
    }
}
