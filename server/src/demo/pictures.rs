//! Pictures for the demo's camera cards and the end-to-end tests: parts of a real group
//! photo (`consentcam_media::sample`, 29 real faces), enlarged to a camera's size, stored
//! turned for an EXIF orientation, with the EXIF a camera writes. They go through the
//! real import, face detection included, like any card.

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};
use image::{ImageEncoder, RgbImage};
use jiff::civil::DateTime;

/// What a camera writes about itself and the moment.
#[derive(Debug, Clone)]
pub struct CameraTags<'a> {
    pub make: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    /// By the camera's clock (local time, as cameras keep it).
    pub taken: DateTime,
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
    encode(&stored, camera_exif(camera, orientation))
}

/// `crop` of the group photo as a HEIC (as iPhones, iPads and some cameras save photos),
/// upright, with the camera's EXIF, encoded by libheif.
pub fn group_photo_heic(crop: Option<Crop>, scale: u32, camera: &CameraTags<'_>) -> Vec<u8> {
    let upright = group_photo_upright(crop, scale);
    consentcam_media::sample::heic_of(
        upright.as_raw(),
        upright.width(),
        upright.height(),
        Some(&camera_exif(camera, 1)),
    )
    .expect("libheif encodes HEIC")
}

fn encode(img: &RgbImage, exif: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    encoder
        .set_exif_metadata(exif)
        .expect("the JPEG encoder takes EXIF");
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
