//! Scrubs files to a directory: `scrub_files [-j THREADS] OUT_DIR IN...`.
//!
//! The batch driver used by `benches/compare.sh` (and a stand-in for the
//! `consentcam scrub` command). Each output keeps its input's file name. A refused file
//! is reported on stderr and makes the exit status 1; the others are still written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn scrub_one(input: &Path, out_dir: &Path) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let clean = consentcam_scrub::scrub(&bytes).map_err(|e| format!("{}: {e}", input.display()))?;
    let name = input
        .file_name()
        .ok_or_else(|| format!("{}: no file name", input.display()))?;
    std::fs::write(out_dir.join(name), &clean.jpeg).map_err(|e| format!("{}: {e}", input.display()))
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = 1usize;
    if args.first().map(String::as_str) == Some("-j") && args.len() > 1 {
        threads = args[1].parse().unwrap_or(1).max(1);
        args.drain(..2);
    }
    let Some((out_dir, inputs)) = args.split_first() else {
        eprintln!("usage: scrub_files [-j THREADS] OUT_DIR IN...");
        return ExitCode::from(2);
    };
    let out_dir = PathBuf::from(out_dir);
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    let chunk = inputs.len().div_ceil(threads).max(1);
    let failures: usize = std::thread::scope(|s| {
        let workers: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                let out_dir = &out_dir;
                s.spawn(move || {
                    part.iter()
                        .filter(|input| match scrub_one(input, out_dir) {
                            Ok(()) => false,
                            Err(e) => {
                                eprintln!("refused: {e}");
                                true
                            }
                        })
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(1)).sum()
    });
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
