//! Face detection with the built-in model, on rustface's own group photo (29 faces).

use consentcam_media::FaceDetector;
use consentcam_media::render::Rgb;

const KNOWN_FACES: usize = 29;

fn group_photo() -> (Vec<u8>, u32, u32) {
    let path = concat!(env!("CONSENTCAM_RUSTFACE_DIR"), "/test.png");
    let file = std::fs::File::open(path).expect("rustface ships its test photo");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let rgb: Vec<u8> = match info.color_type {
        png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        other => panic!("unexpected colour type {other:?}"),
    };
    (rgb, info.width, info.height)
}

#[test]
fn finds_nearly_every_face_in_the_group_photo() {
    let (rgb, w, h) = group_photo();
    let mut detector = FaceDetector::new().expect("model");
    let faces = detector
        .detect(&Rgb {
            width: w,
            height: h,
            pixels: rgb,
        })
        .expect("detection runs");
    println!("found {} of {KNOWN_FACES} faces", faces.len());
    assert!(
        faces.len() >= 28,
        "found only {} of {KNOWN_FACES}",
        faces.len()
    );
    assert!(
        faces.len() <= KNOWN_FACES + 3,
        "{} boxes: false positives",
        faces.len()
    );
    for f in &faces {
        assert!(f.x >= 0.0 && f.y >= 0.0 && f.x + f.width <= 1.0001 && f.y + f.height <= 1.0001);
    }
}

#[test]
fn finds_no_face_in_a_flat_image_and_survives_tiny_ones() {
    let mut detector = FaceDetector::new().expect("model");
    let flat = |width: u32, height: u32| Rgb {
        width,
        height,
        pixels: vec![128; (width * height * 3) as usize],
    };
    assert!(detector.detect(&flat(200, 150)).unwrap().is_empty());
    assert!(detector.detect(&flat(5, 2)).unwrap().is_empty());
    assert!(detector.detect(&flat(0, 0)).unwrap().is_empty());
}
