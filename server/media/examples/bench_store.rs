//! The card import into the photo store kept in a folder against the same import into
//! S3-compatible object storage (`s3s-fs` on loopback, on the same disk), in one run.
//!
//! ```text
//! cargo run --release -p consentcam-media --example bench_store -- [--files N] [--mb M] [--rounds R]
//! ```
//!
//! Each round imports the whole card into an empty store of each kind, alternating, so
//! that drift in the machine touches both alike. Prints the median of each and the ratio.
//! The import is what a returning camera waits for (copy, hash, store, commit); analysis
//! follows it in the background and reads the same way from both.

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::s3::S3Server;
use common::{Rng, SqliteCatalogue};
use consentcam_media::{Bucket, ImportOptions, OsStorage, S3Bucket, Store, import_card};
use support::{arg, median};

fn import_once(card: &Path, store: &Store, root: &Path) -> anyhow::Result<Duration> {
    let mut catalogue = SqliteCatalogue::open(&root.join("catalogue.sqlite"))?;
    let started = Instant::now();
    let report = import_card(
        card,
        store,
        &mut catalogue,
        &ImportOptions::default(),
        &mut |_| {},
    )?;
    let took = started.elapsed();
    anyhow::ensure!(report.files.iter().all(|f| f.problems.is_empty()));
    Ok(took)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: usize = arg(&args, "--files").map_or(Ok(40), |v| v.parse())?;
    let mb: usize = arg(&args, "--mb").map_or(Ok(6), |v| v.parse())?;
    let rounds: usize = arg(&args, "--rounds").map_or(Ok(5), |v| v.parse())?;
    let work = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let card = work.path().join("card");
    let mut rng = Rng::new(0xB0C5);
    let distinct = common::write_card(&card, files, &mut rng, |_, _| mb * 1024 * 1024);
    let bytes: u64 = distinct.values().sum();
    let server = S3Server::start(&work.path().join("s3"), "bench");
    let settings = server.settings("bench", Duration::from_secs(30));

    let (mut local, mut remote) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let root = work.path().join(format!("local-{round}"));
        let store = Store::open(&root, Arc::new(OsStorage))?;
        local.push(import_once(&card, &store, &root)?.as_secs_f64());

        let root = work.path().join(format!("s3-{round}"));
        let originals = Arc::new(S3Bucket::connect(&settings, &format!("r{round}/"))?);
        let store = Store::with_originals(&root, Arc::new(OsStorage), originals.clone())?;
        remote.push(import_once(&card, &store, &root)?.as_secs_f64());
        anyhow::ensure!(originals.list("")?.len() == distinct.len());
    }
    let (l, r) = (median(local), median(remote));
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!("| store | card | median of {rounds} | MiB/s | files/s |");
    println!("|---|---|---|---|---|");
    for (name, s) in [("folder (fsync, rename)", l), ("S3 (s3s-fs, loopback)", r)] {
        println!(
            "| {name} | {files} files, {mib:.0} MiB | {:.0} ms | {:.0} | {:.0} |",
            s * 1000.0,
            mib / s,
            files as f64 / s
        );
    }
    println!("\nS3 / folder time ratio: {:.2}", r / l);
    Ok(())
}
