//! Writes camera-sized test photos for the benchmark: `bench_photos OUT_DIR COUNT`.
//!
//! 6000x4000 (24 MP) baseline JPEGs at quality 92 with 4:2:0 sampling, with gradients,
//! texture and sensor-like noise so that they compress like camera files (about 7 MB).
//! Metadata is planted afterwards by `benches/compare.sh` with exiftool.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = PathBuf::from(args.next().ok_or("usage: bench_photos OUT_DIR COUNT")?);
    let count: u32 = args
        .next()
        .ok_or("usage: bench_photos OUT_DIR COUNT")?
        .parse()?;
    std::fs::create_dir_all(&out_dir)?;
    let (w, h) = (6000u32, 4000u32);
    for n in 0..count {
        let mut state = 0x9E37_79B9u32 ^ (n + 1).wrapping_mul(0x85EB_CA6B);
        let mut noise = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 23) as i32 - 11
        };
        let mut pixels = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let fx = x as f32 / w as f32;
                let fy = y as f32 / h as f32;
                let texture =
                    ((x as f32 * 0.05 + n as f32).sin() * (y as f32 * 0.031).cos() * 40.0) as i32;
                let base = [
                    (60.0 + 150.0 * fx) as i32,
                    (90.0 + 100.0 * fy) as i32,
                    (180.0 - 120.0 * fx * fy) as i32,
                ];
                for b in base {
                    pixels.push((b + texture + noise()).clamp(0, 255) as u8);
                }
            }
        }
        let path = out_dir.join(format!("photo-{n:02}.jpg"));
        let mut enc = jpeg_encoder::Encoder::new_file(&path, 92)?;
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
        enc.encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)?;
        println!("{}", path.display());
    }
    // A small picture for exiftool to plant as the EXIF thumbnail.
    let thumb: Vec<u8> = (0..160 * 120 * 3).map(|i| (i % 251) as u8).collect();
    jpeg_encoder::Encoder::new_file(out_dir.join("thumb.jpg"), 80)?.encode(
        &thumb,
        160,
        120,
        jpeg_encoder::ColorType::Rgb,
    )?;
    Ok(())
}
