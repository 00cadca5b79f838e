//! Times the library alone, with no file I/O: `scrub_in_memory FILE [ROUNDS] [--cover]`.
//!
//! This is the publish path's cost (it holds the photo's bytes already). Prints the
//! fastest and the median round, per file. `--cover` times the re-encoding path instead:
//! one 400x400 cover and a downscale to a 2048-pixel long edge.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: scrub_in_memory FILE [ROUNDS]")?;
    let rest: Vec<String> = args.collect();
    let cover = rest.iter().any(|a| a == "--cover");
    let rounds: usize = rest
        .iter()
        .find(|a| *a != "--cover")
        .map_or(Ok(if cover { 5 } else { 50 }), |r| r.parse())?;
    let bytes = std::fs::read(&path)?;
    let mut out = Vec::new();
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        if cover {
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
        } else {
            consentcam_scrub::scrub_into(&bytes, &mut out)?;
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:.1} MB in, {:.1} MB out: fastest {:.3} ms, median {:.3} ms per {} ({} rounds)",
        bytes.len() as f64 / 1e6,
        out.len() as f64 / 1e6,
        times[0],
        times[times.len() / 2],
        if cover {
            "cover and re-encode"
        } else {
            "scrub"
        },
        times.len()
    );
    Ok(())
}
