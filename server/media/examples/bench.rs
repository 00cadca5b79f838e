//! Benchmarks for the import and the analysis, side by side with the usual tools, on
//! camera-like 24 MP JPEGs this program generates (nothing is downloaded or committed).
//!
//! ```text
//! cargo run --release -p consentcam-media --example bench -- [--files N] [--keep DIR]
//! ```
//!
//! Needs `vipsthumbnail` (libvips-tools), `exiftool`, `cp`, `sha256sum` and `sync` on the
//! PATH. Prints a Markdown table. Peak memory is measured in child processes (this same
//! program with a sub-command) so that generating the photos does not count.

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::SqliteCatalogue;
use common::photos::{self, PhotoSpec};
use consentcam_media::{
    AnalysisOptions, ExifSummary, FaceDetector, ImportOptions, OsStorage, Store, analyse_file,
    import_card,
};
use support::{arg, median, peak_rss_kib};

const WIDTH: u32 = 6000;
const HEIGHT: u32 = 4000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("analyse") => child_analyse(Path::new(&args[1]), args[2].parse()?),
        Some("import") => child_import(Path::new(&args[1]), Path::new(&args[2])),
        _ => run(&args),
    }
}

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "JPG"));
    v.sort();
    v
}

/// Child: analyse every JPEG in `dir` on `threads` threads; print wall ms and peak RSS.
fn child_analyse(dir: &Path, threads: usize) -> anyhow::Result<()> {
    let files = jpegs(dir);
    let next = AtomicUsize::new(0);
    let options = AnalysisOptions::default();
    let started = Instant::now();
    let problems = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let a = analyse_file(
                        path,
                        &options,
                        &consentcam_media::Decoders::in_process(),
                        None,
                    );
                    if !a.problems.is_empty() || a.preview.is_none() {
                        *problems.lock().expect("lock") += 1;
                    }
                }
            });
        }
    });
    let wall = started.elapsed();
    println!(
        "{} {} {}",
        wall.as_secs_f64() * 1000.0,
        peak_rss_kib(),
        problems.into_inner().expect("lock")
    );
    Ok(())
}

/// Child: import the card at `card` into a fresh store at `store`; print wall ms and peak RSS.
fn child_import(card: &Path, store_root: &Path) -> anyhow::Result<()> {
    let store = Store::open(store_root, Arc::new(OsStorage))?;
    let mut cat = SqliteCatalogue::open(&store_root.join("catalogue.sqlite"))?;
    let started = Instant::now();
    let report = import_card(
        card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    )?;
    let wall = started.elapsed();
    anyhow::ensure!(report.files.len() == jpegs(card).len(), "import incomplete");
    println!("{} {} 0", wall.as_secs_f64() * 1000.0, peak_rss_kib());
    Ok(())
}

fn child(args: &[&str]) -> anyhow::Result<(f64, u64)> {
    let out = Command::new(std::env::current_exe()?).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let mut parts = text.split_whitespace();
    let ms: f64 = parts.next().unwrap_or("0").parse()?;
    let rss: u64 = parts.next().unwrap_or("0").parse()?;
    let failed: usize = parts.next().unwrap_or("0").parse()?;
    anyhow::ensure!(failed == 0, "{failed} photos did not analyse cleanly");
    Ok((ms, rss))
}

fn time(cmd: &mut Command) -> anyhow::Result<f64> {
    let started = Instant::now();
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "{cmd:?} failed");
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

fn camera_exif(i: u64) -> ExifSummary {
    ExifSummary {
        taken_at: Some(jiff::civil::date(2026, 3, 14).at(
            10,
            30,
            i8::try_from(i % 60).unwrap_or(0),
            0,
        )),
        utc_offset_seconds: Some(0),
        make: Some("Canon".into()),
        model: Some("Canon EOS 250D".into()),
        body_serial: Some("083021001234".into()),
        orientation: Some(1),
        gps_present: true,
    }
}

fn generate(dir: &Path, n: usize, embedded: bool) -> anyhow::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut bytes = 0;
    for i in 0..n as u64 {
        let spec = PhotoSpec {
            exif: Some(camera_exif(i)),
            quality: 92,
            embedded_preview: embedded.then_some(1920),
            ..PhotoSpec::default()
        };
        let jpeg = photos::photo(WIDTH, HEIGHT, 1000 + i, &spec);
        bytes += jpeg.len() as u64;
        std::fs::write(dir.join(format!("IMG_{:04}.JPG", i + 1)), jpeg)?;
    }
    Ok(bytes)
}

fn run(args: &[String]) -> anyhow::Result<()> {
    let n: usize = arg(args, "--files").map_or(Ok(20), |s| s.parse())?;
    let rounds = 3;
    let keep = arg(args, "--keep").map(PathBuf::from);
    let tmp = tempfile::tempdir()?;
    let base = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let with_preview = base.join("card-mpf");
    let without = base.join("card-plain");
    eprintln!("generating {n} + {n} photos of {WIDTH}x{HEIGHT}...");
    let bytes_mpf = generate(&with_preview, n, true)?;
    let bytes_plain = generate(&without, n, false)?;
    #[allow(clippy::cast_precision_loss)]
    let mib = |b: u64| b as f64 / n as f64 / (1024.0 * 1024.0);
    println!(
        "photos: {n} x {WIDTH}x{HEIGHT}, {:.1} MiB each with an MPF preview, {:.1} MiB without\n",
        mib(bytes_mpf),
        mib(bytes_plain)
    );
    #[allow(clippy::cast_precision_loss)]
    let per = |ms: f64| ms / n as f64;

    // Analysis: ours (2 threads) against vipsthumbnail + exiftool -json in batch.
    let out = base.join("vips-out");
    std::fs::create_dir_all(&out)?;
    let mut rows = Vec::new();
    for (label, dir) in [
        ("with camera preview (MPF)", &with_preview),
        ("without embedded preview", &without),
    ] {
        let files: Vec<PathBuf> = jpegs(dir);
        let d = dir.to_string_lossy().into_owned();
        let (mut ours, mut ours1, mut vips, mut vips2, mut exif) =
            (vec![], vec![], vec![], vec![], vec![]);
        let mut peak = 0;
        for _ in 0..rounds {
            let (ms, rss) = child(&["analyse", &d, "2"])?;
            ours.push(ms);
            peak = peak.max(rss);
            let (ms, rss) = child(&["analyse", &d, "1"])?;
            ours1.push(ms);
            peak = peak.max(rss);
            let fmt = format!("{}/%s_1600.jpg[strip,Q=82]", out.display());
            vips.push(time(
                Command::new("vipsthumbnail")
                    .arg("--size=1600")
                    .arg("-o")
                    .arg(&fmt)
                    .args(&files),
            )?);
            let fmt320 = format!("{}/%s_320.jpg[strip,Q=82]", out.display());
            vips2.push(time(
                Command::new("vipsthumbnail")
                    .arg("--size=320")
                    .arg("-o")
                    .arg(&fmt320)
                    .args(&files),
            )?);
            exif.push(time(
                Command::new("exiftool")
                    .arg("-json")
                    .arg("-q")
                    .args(&files)
                    .stdout(std::process::Stdio::null()),
            )?);
        }
        let (o, o1, v, v2, e) = (
            median(ours),
            median(ours1),
            median(vips),
            median(vips2),
            median(exif),
        );
        rows.push(format!(
            "| {label} | {:.0} ms ({:.0} ms on 1 thread) | {:.0} ms (+{:.0} ms for the 320 px) | {:.0} ms | {:.1}x ({:.1}x counting both vips sizes) | {:.0} MiB |",
            per(o), per(o1), per(v), per(v2), per(e), (v + e) / o, (v + v2 + e) / o, peak as f64 / 1024.0
        ));
    }
    println!(
        "## Analysis per photo (EXIF + 320 px thumbnail + 1600 px preview), batch of {n}, median of {rounds}\n"
    );
    println!(
        "| photos | ours (2 threads) | vipsthumbnail 1600 px | exiftool -json | ours vs vips + exiftool | our peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }

    // Import: ours (copy + BLAKE3 + fsync + rename + fsync dir + SQLite commit) against
    // cp + sha256sum + sync of the copies.
    let (mut ours, mut peak, mut theirs) = (vec![], 0, vec![]);
    for r in 0..rounds {
        let store = base.join(format!("store-{r}"));
        let (ms, rss) = child(&[
            "import",
            &without.to_string_lossy(),
            &store.to_string_lossy(),
        ])?;
        ours.push(ms);
        peak = peak.max(rss);
        let dest = base.join(format!("cp-{r}"));
        std::fs::create_dir_all(&dest)?;
        let script = format!(
            "cp {src}/*.JPG {dst}/ && sha256sum {dst}/*.JPG > /dev/null && sync {dst}/*.JPG {dst}",
            src = without.display(),
            dst = dest.display()
        );
        theirs.push(time(Command::new("sh").arg("-c").arg(&script))?);
        std::fs::remove_dir_all(&store)?;
        std::fs::remove_dir_all(&dest)?;
    }
    let (o, t) = (median(ours), median(theirs));
    println!(
        "\n## Import of {n} photos ({:.0} MiB), median of {rounds}\n",
        mib(bytes_plain) * n as f64
    );
    println!(
        "| ours: copy + BLAKE3 + fsync + rename + fsync dir + SQLite commit | cp + sha256sum + sync | ratio | our peak RSS |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {:.0} ms ({:.1} ms per photo) | {:.0} ms ({:.1} ms per photo) | {:.2}x | {:.0} MiB |",
        o,
        per(o),
        t,
        per(t),
        o / t,
        peak as f64 / 1024.0
    );

    // Faces: time per photo on the 1600 px preview, and recall on a photo with known faces.
    let options = AnalysisOptions::default();
    let mut detector = FaceDetector::new()?;
    let mut times = Vec::new();
    for path in jpegs(&with_preview).iter().take(5) {
        let started = Instant::now();
        let without_faces = analyse_file(
            path,
            &options,
            &consentcam_media::Decoders::in_process(),
            None,
        );
        let plain_ms = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let with_faces = analyse_file(
            path,
            &options,
            &consentcam_media::Decoders::in_process(),
            Some(&mut detector),
        );
        times.push(started.elapsed().as_secs_f64() * 1000.0 - plain_ms);
        anyhow::ensure!(without_faces.faces.is_none() && with_faces.faces.is_some());
    }
    let (rgb, w, h) = group_photo()?;
    let started = Instant::now();
    let faces = detector.detect(&consentcam_media::render::Rgb {
        width: w,
        height: h,
        pixels: rgb,
    })?;
    let group_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("\n## Faces (CenterFace, built-in model, 1 thread)\n");
    println!("| detection per photo, at up to 2400 px | group photo 1666x1136, 29 known faces |");
    println!("|---|---|");
    println!(
        "| {:.0} ms per photo | {} found ({:.0}% recall) in {:.0} ms |",
        median(times),
        faces.len(),
        faces.len() as f64 * 100.0 / 29.0,
        group_ms
    );
    Ok(())
}

fn group_photo() -> anyhow::Result<(Vec<u8>, u32, u32)> {
    let path = concat!(env!("CONSENTCAM_RUSTFACE_DIR"), "/test.png");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path)?));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf)?;
    let rgb = match info.color_type {
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        _ => buf[..info.buffer_size()].to_vec(),
    };
    Ok((rgb, info.width, info.height))
}
