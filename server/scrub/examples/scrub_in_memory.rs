//! Times the library alone, with no file I/O:
//! `scrub_in_memory FILE [ROUNDS] [--cover | --verify]`.
//!
//! This is the publish path's cost (it holds the photo's bytes already). Prints the
//! fastest and the median round, per file. `--cover` times the re-encoding path instead:
//! one 400x400 cover and a downscale to a 2048-pixel long edge. `--verify` times
//! `verify_image_data` on the scrubbed photo and prints its verdict.

use std::time::Instant;

#[derive(PartialEq)]
enum Mode {
    Scrub,
    Cover,
    Verify,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: scrub_in_memory FILE [ROUNDS] [--cover | --verify]")?;
    let rest: Vec<String> = args.collect();
    let mode = if rest.iter().any(|a| a == "--cover") {
        Mode::Cover
    } else if rest.iter().any(|a| a == "--verify") {
        Mode::Verify
    } else {
        Mode::Scrub
    };
    let rounds: usize = rest
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(if mode == Mode::Scrub { 50 } else { 5 }), |r| r.parse())?;
    let bytes = std::fs::read(&path)?;
    let scrubbed = consentcam_scrub::scrub(&bytes)?.jpeg;
    let mut out = Vec::new();
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        match mode {
            Mode::Scrub => {
                consentcam_scrub::scrub_into(&bytes, &mut out)?;
            }
            Mode::Cover => {
                let covers = [consentcam_scrub::Cover {
                    x: 1000,
                    y: 1000,
                    width: 400,
                    height: 400,
                }];
                let options = consentcam_scrub::Reencode {
                    max_long_edge: Some(2048),
                    quality: 85,
                };
                out = consentcam_scrub::cover_and_scrub(&bytes, &covers, &options)?.jpeg;
            }
            Mode::Verify => {
                let verdict = consentcam_scrub::verify_image_data(&scrubbed);
                if times.is_empty() {
                    println!("{verdict:?}");
                }
                out.clone_from(&scrubbed);
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let what = match mode {
        Mode::Scrub => "scrub",
        Mode::Cover => "cover and re-encode",
        Mode::Verify => "image data walk",
    };
    println!(
        "{:.1} MB in, {:.1} MB out: fastest {:.3} ms, median {:.3} ms per {what} ({} rounds)",
        bytes.len() as f64 / 1e6,
        out.len() as f64 / 1e6,
        times[0],
        times[times.len() / 2],
        times.len()
    );
    Ok(())
}
