//! Scrubs files to a directory: `scrub_files [-j THREADS] [--time] OUT_DIR IN...`.
//!
//! The batch driver used by `benches/compare.sh` (and a stand-in for the
//! `consentcam scrub` command). Each output keeps its input's file name. A refused file
//! is reported on stderr and makes the exit status 1; the others are still written.
//! Each thread reuses its read and write buffers. `--time` prints where the time went.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Spent {
    read: Duration,
    scrub: Duration,
    write: Duration,
    bytes: u64,
    failures: usize,
}

fn scrub_one(
    input: &Path,
    out_dir: &Path,
    buf: &mut Vec<u8>,
    out: &mut Vec<u8>,
    spent: &mut Spent,
) -> Result<(), String> {
    let t0 = Instant::now();
    buf.clear();
    std::fs::File::open(input)
        .and_then(|mut f| f.read_to_end(buf))
        .map_err(|e| format!("{}: {e}", input.display()))?;
    let t1 = Instant::now();
    consentcam_scrub::scrub_into(buf, out).map_err(|e| format!("{}: {e}", input.display()))?;
    let t2 = Instant::now();
    let name = input
        .file_name()
        .ok_or_else(|| format!("{}: no file name", input.display()))?;
    std::fs::File::create(out_dir.join(name))
        .and_then(|mut f| f.write_all(out))
        .map_err(|e| format!("{}: {e}", input.display()))?;
    let t3 = Instant::now();
    spent.read += t1 - t0;
    spent.scrub += t2 - t1;
    spent.write += t3 - t2;
    spent.bytes += buf.len() as u64;
    Ok(())
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = 1usize;
    let mut time = false;
    loop {
        match args.first().map(String::as_str) {
            Some("-j") if args.len() > 1 => {
                threads = args[1].parse().unwrap_or(1).max(1);
                args.drain(..2);
            }
            Some("--time") => {
                time = true;
                args.remove(0);
            }
            _ => break,
        }
    }
    let Some((out_dir, inputs)) = args.split_first() else {
        eprintln!("usage: scrub_files [-j THREADS] [--time] OUT_DIR IN...");
        return ExitCode::from(2);
    };
    let out_dir = PathBuf::from(out_dir);
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    let chunk = inputs.len().div_ceil(threads).max(1);
    let started = Instant::now();
    let spent: Vec<Spent> = std::thread::scope(|s| {
        let workers: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                let out_dir = &out_dir;
                s.spawn(move || {
                    let (mut buf, mut out, mut spent) = (Vec::new(), Vec::new(), Spent::default());
                    for input in part {
                        if let Err(e) = scrub_one(input, out_dir, &mut buf, &mut out, &mut spent) {
                            eprintln!("refused: {e}");
                            spent.failures += 1;
                        }
                    }
                    spent
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or(Spent {
                    failures: 1,
                    ..Spent::default()
                })
            })
            .collect()
    });
    let failures: usize = spent.iter().map(|s| s.failures).sum();
    if time {
        let n = inputs.len().max(1) as f64;
        let ms = |d: Duration| d.as_secs_f64() * 1e3 / n;
        let sum = |f: fn(&Spent) -> Duration| spent.iter().map(f).sum::<Duration>();
        let mb = spent.iter().map(|s| s.bytes).sum::<u64>() as f64 / 1e6 / n;
        eprintln!(
            "{} files, {mb:.1} MB each: read {:.2} ms, scrub {:.2} ms, write {:.2} ms per file (thread time); wall {:.2} ms per file",
            inputs.len(),
            ms(sum(|s| s.read)),
            ms(sum(|s| s.scrub)),
            ms(sum(|s| s.write)),
            ms(started.elapsed()),
        );
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
