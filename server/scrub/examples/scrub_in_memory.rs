//! Times the library alone, with no file I/O: `scrub_in_memory FILE [ROUNDS]`.
//!
//! This is the publish path's cost (it holds the photo's bytes already). Prints the
//! fastest and the median round, per file.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: scrub_in_memory FILE [ROUNDS]")?;
    let rounds: usize = args.next().map_or(Ok(50), |r| r.parse())?;
    let bytes = std::fs::read(&path)?;
    let mut out = Vec::new();
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        consentcam_scrub::scrub_into(&bytes, &mut out)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:.1} MB in, {:.1} MB out: fastest {:.3} ms, median {:.3} ms per scrub ({} rounds)",
        bytes.len() as f64 / 1e6,
        out.len() as f64 / 1e6,
        times[0],
        times[times.len() / 2],
        times.len()
    );
    Ok(())
}
