//! Benchmark: HEIC analysis (EXIF, 320 px thumbnail, 1600 px preview, through libheif)
//! side by side with `heif-convert` + `exiftool -json` on the same 12 MP HEIC files, which
//! this program generates with libheif's encoder (nothing is downloaded or committed).
//!
//! ```text
//! cargo run --release -p consentcam-media --example bench_heic -- [--files N] [--keep DIR]
//!     [--content noise|photo]
//! ```
//!
//! `noise` (the default) is a test pattern with noise in every pixel, which HEVC stores in
//! about 7 MiB: the decoder's worst case. `photo` is the built-in group photo enlarged to
//! 12 MP (greyscale, smooth), about the size a phone's photo is stored in; the decoder
//! then takes less of the time and the rest of the work shows more.
//!
//! Needs `heif-convert` (libheif-examples) and `exiftool` on the PATH. Prints a Markdown
//! table. Our peak memory is read in a child process (this program with a sub-command);
//! the peer's with GNU time's maximum resident set size, where /usr/bin/time exists.
//!
//! Ours runs twice in the same run: decoding in the analysing process itself, and, as the
//! server does, in a sandboxed worker (this program again, locked down); the table gives
//! the sandbox's cost as the ratio of the two, and the worker's own peak memory.

#[path = "../tests/common/photos.rs"]
mod photos;

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use consentcam_media::{AnalysisOptions, ExifSummary, analyse_file, exif};
use support::{arg, median, peak_rss_kib};

/// An iPhone's 12 MP photo.
const WIDTH: u32 = 4032;
const HEIGHT: u32 = 3024;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("analyse") => child_analyse(Path::new(&args[1]), args.get(2).is_some()),
        Some("worker") => {
            let _ = consentcam_media::untrusted::serve_worker();
            Ok(())
        }
        _ => run(&args),
    }
}

fn heics(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "HEIC"));
    v.sort();
    v
}

/// The decoders: in this process, or in sandboxed workers (this program, `worker`).
fn decoders(sandboxed: bool) -> anyhow::Result<consentcam_media::Decoders> {
    use consentcam_media::sandbox::{Confinement, Settings};
    Ok(if sandboxed {
        consentcam_media::Decoders::sandboxed(
            Settings {
                program: std::env::current_exe()?,
                args: vec!["worker".into()],
                confinement: Confinement {
                    memory_bytes: 1536 << 20,
                    cpu_seconds: 600,
                },
                start_timeout: std::time::Duration::from_secs(10),
                requests_per_worker: 50,
                max_answer_bytes: 64_000_000 * 3 + (1 << 20),
            },
            std::time::Duration::from_secs(60),
        )
    } else {
        consentcam_media::Decoders::in_process()
    })
}

/// The peak resident memory of this process's children (the workers still alive), in KiB.
fn children_peak_rss_kib() -> u64 {
    let own = std::process::id().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|status| {
            status
                .lines()
                .any(|l| l.strip_prefix("PPid:").is_some_and(|p| p.trim() == own))
        })
        .filter_map(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
        })
        .sum()
}

/// Child: analyse every HEIC in `dir`, one after another; print wall ms, its peak RSS and
/// its workers'.
fn child_analyse(dir: &Path, sandboxed: bool) -> anyhow::Result<()> {
    let options = AnalysisOptions::default();
    let decoders = decoders(sandboxed)?;
    let started = Instant::now();
    for path in heics(dir) {
        let a = analyse_file(&path, &options, &decoders, None);
        anyhow::ensure!(
            a.problems.is_empty() && a.preview.is_some() && a.exif.is_some(),
            "{} did not analyse cleanly: {:?}",
            path.display(),
            a.problems
        );
    }
    println!(
        "{} {} {}",
        started.elapsed().as_secs_f64() * 1000.0,
        peak_rss_kib(),
        children_peak_rss_kib()
    );
    Ok(())
}

/// Runs `cmd`, returning its wall time in ms and, when run under GNU time, its peak RSS.
fn timed(cmd: &mut Command) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let out = cmd.output()?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rss = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok((ms, rss))
}

/// The group photo stretched to 12 MP (nearest pixel), shifted `i` pixels so that no two
/// files are the same.
fn enlarged_group_photo(i: u64) -> anyhow::Result<Vec<u8>> {
    let limits = consentcam_media::Limits::default();
    let small = consentcam_media::decode_still(
        consentcam_media::sample::GROUP_PHOTO_PNG,
        &limits,
        &consentcam_media::Decoders::in_process(),
    )
    .map_err(|p| anyhow::anyhow!("{p}"))?;
    let (w, h) = (small.width as u64, small.height as u64);
    let mut out = Vec::with_capacity(WIDTH as usize * HEIGHT as usize * 3);
    for y in 0..u64::from(HEIGHT) {
        for x in 0..u64::from(WIDTH) {
            let sx = ((x + i) * w / u64::from(WIDTH)).min(w - 1);
            let sy = (y * h / u64::from(HEIGHT)).min(h - 1);
            let at = usize::try_from((sy * w + sx) * 3)?;
            out.extend_from_slice(&small.pixels[at..at + 3]);
        }
    }
    Ok(out)
}

fn run(args: &[String]) -> anyhow::Result<()> {
    let n: usize = arg(args, "--files").map_or(Ok(8), |s| s.parse())?;
    let content = arg(args, "--content").unwrap_or_else(|| "noise".into());
    anyhow::ensure!(
        content == "noise" || content == "photo",
        "--content is noise or photo, not {content}"
    );
    let rounds = 3;
    let tmp = tempfile::tempdir()?;
    let base = arg(args, "--keep").map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    let card = base.join("card");
    std::fs::create_dir_all(&card)?;
    if heics(&card).len() != n {
        eprintln!("generating {n} HEIC photos of {WIDTH}x{HEIGHT}...");
        for i in 0..n as u64 {
            let tiff = exif::build(&ExifSummary {
                taken_at: Some(jiff::civil::date(2026, 3, 14).at(10, 30, 0, 0)),
                utc_offset_seconds: Some(0),
                make: Some("Apple".into()),
                model: Some("iPad (10th generation)".into()),
                body_serial: Some("DMPXK0001".into()),
                orientation: Some(1),
                gps_present: false,
            });
            let pixels = if content.as_str() == "photo" {
                enlarged_group_photo(i)?
            } else {
                photos::pixels(WIDTH, HEIGHT, 2000 + i)
            };
            let heic = consentcam_media::sample::heic_of(&pixels, WIDTH, HEIGHT, Some(&tiff))
                .map_err(anyhow::Error::msg)?;
            std::fs::write(card.join(format!("IMG_{:04}.HEIC", i + 1)), heic)?;
        }
    }
    let files = heics(&card);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let mib = bytes as f64 / n as f64 / (1024.0 * 1024.0);
    println!("photos: {n} HEIC of {WIDTH}x{HEIGHT} ({content}), {mib:.1} MiB each\n");

    let out = base.join("converted");
    std::fs::create_dir_all(&out)?;
    let gnu_time = Path::new("/usr/bin/time").exists();
    let (mut ours, mut convert, mut exiftool) = (vec![], vec![], vec![]);
    let (mut our_peak, mut their_peak) = (0, 0);
    let (mut boxed, mut boxed_peak, mut worker_peak) = (vec![], 0, 0);
    let child = |sandboxed: bool| -> anyhow::Result<(f64, u64, u64)> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(["analyse", &card.to_string_lossy()]);
        if sandboxed {
            cmd.arg("sandboxed");
        }
        let out = cmd.output()?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout)?;
        let mut parts = text.split_whitespace();
        Ok((
            parts.next().unwrap_or("0").parse()?,
            parts.next().unwrap_or("0").parse()?,
            parts.next().unwrap_or("0").parse()?,
        ))
    };
    for _ in 0..rounds {
        let (ms, rss, _) = child(false)?;
        ours.push(ms);
        our_peak = our_peak.max(rss);
        let (ms, rss, workers) = child(true)?;
        boxed.push(ms);
        boxed_peak = boxed_peak.max(rss);
        worker_peak = worker_peak.max(workers);
        let mut total = 0.0;
        for file in &files {
            let target = out.join(file.with_extension("jpg").file_name().unwrap_or_default());
            let mut cmd = if gnu_time {
                let mut c = Command::new("/usr/bin/time");
                c.arg("-v").arg("heif-convert");
                c
            } else {
                Command::new("heif-convert")
            };
            let (ms, rss) = timed(cmd.args(["-q", "82"]).arg(file).arg(&target))?;
            total += ms;
            their_peak = their_peak.max(rss);
        }
        convert.push(total);
        exiftool.push(timed(Command::new("exiftool").arg("-json").arg("-q").args(&files))?.0);
    }
    #[allow(clippy::cast_precision_loss)]
    let per = |ms: f64| ms / n as f64;
    let (o, c, e) = (median(ours), median(convert), median(exiftool));
    let b = median(boxed);
    println!(
        "## HEIC analysis per photo (EXIF + 320 px thumbnail + 1600 px preview), {n} photos, median of {rounds}\n"
    );
    println!(
        "| ours (1 thread, in one process) | heif-convert (one process per photo) | exiftool -json (batch) | peer / ours | our peak RSS | heif-convert's peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    #[allow(clippy::cast_precision_loss)]
    let mb = |kib: u64| kib as f64 / 1024.0;
    println!(
        "| {:.0} ms | {:.0} ms | {:.0} ms | {:.2}x | {:.0} MiB | {} |",
        per(o),
        per(c),
        per(e),
        (c + e) / o,
        mb(our_peak),
        if their_peak > 0 {
            format!("{:.0} MiB", mb(their_peak))
        } else {
            "not measured".into()
        }
    );
    println!("\n## The sandbox's cost: decoding in a locked-down worker, same photos, same run\n");
    println!(
        "| in process | in a sandboxed worker | sandboxed / in process | analysing process's peak RSS (sandboxed) | worker's peak RSS |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {:.0} ms | {:.0} ms | {:.2}x | {:.0} MiB | {:.0} MiB |",
        per(o),
        per(b),
        b / o,
        mb(boxed_peak),
        mb(worker_peak)
    );
    Ok(())
}
