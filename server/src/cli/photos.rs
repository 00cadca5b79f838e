//! Commands about photos: a returned card, face detection, scrubbing a file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use consentcam::infra::config::Config;
use jiff::Timestamp;

use super::open_db;

/// `detect-faces [--redo-all]`.
pub(crate) fn detect_faces(config: &Config, redo_all: bool, now: Timestamp) -> Result<()> {
    if redo_all {
        return detect_faces_redo_all(config, now);
    }
    let mut conn = open_db(config)?;
    let done = consentcam::ops::ingest::detect_faces(&mut conn, config, now)
        .context("face detection did not finish; run it again to complete it")?;
    println!(
        "face detection ran on {} photo(s) and found {} face(s); {} could not be decoded",
        done.photos, done.faces, done.failed
    );
    Ok(())
}

fn detect_faces_redo_all(config: &Config, now: Timestamp) -> Result<()> {
    let mut conn = open_db(config)?;
    let mut print = |photo: &consentcam::ops::ingest::SearchedAgain| match photo.merged {
        Some(m) => println!(
            "photo {}: {} face(s) found, {} already known, {} new{}{}",
            photo.photo,
            m.found,
            m.found_again,
            m.added,
            if m.not_found_again > 0 {
                format!(
                    ", {} known face(s) not found again (kept)",
                    m.not_found_again
                )
            } else {
                String::new()
            },
            if photo.takedowns > 0 {
                format!("; published: {} takedown task(s)", photo.takedowns)
            } else {
                String::new()
            }
        ),
        None => println!(
            "photo {}: could not be read; its faces are as they were",
            photo.photo
        ),
    };
    let (first, again) =
        consentcam::ops::ingest::detect_faces_redo_all_in(&mut conn, config, now, &mut print)
            .context("face detection did not finish; run it again to complete it")?;
    let added: usize = again.iter().filter_map(|p| p.merged).map(|m| m.added).sum();
    let gained = again
        .iter()
        .filter(|p| p.merged.is_some_and(|m| m.added > 0))
        .count();
    let unread = again.iter().filter(|p| p.merged.is_none()).count();
    let takedowns: usize = again.iter().map(|p| p.takedowns).sum();
    println!(
        "searched {} photo(s) again: {added} new face(s) in {gained} photo(s) to resolve; \
         {unread} could not be read; {takedowns} takedown task(s)",
        again.len()
    );
    if first != consentcam::ops::ingest::Redetected::default() {
        println!(
            "searched {} photo(s) for the first time, {} face(s); {} could not be decoded",
            first.photos, first.faces, first.failed
        );
    }
    Ok(())
}

pub(crate) fn import_card(
    config: &Config,
    mount: &Path,
    progress_file: Option<&Path>,
    device: Option<consentcam::domain::DeviceId>,
    wipe: bool,
    faces: bool,
    now: jiff::Timestamp,
) -> Result<()> {
    let mut conn = open_db(config)?;
    let job = consentcam::ops::ingest::CardJob {
        mount,
        device,
        wipe,
        faces,
        progress_file,
    };
    let mut print = |event: &consentcam_media::ImportEvent| {
        if let Ok(line) = serde_json::to_string(event) {
            println!("{line}");
        }
    };
    let done = consentcam::ops::ingest::import_card(&mut conn, config, &job, &mut print, now)?;
    if done.session.is_none() {
        eprintln!("no sign-out found for this card: photos are imported without attribution");
    }
    eprintln!(
        "card stored: {} new, {} already stored, {} refused; {} photo(s) analysed",
        done.stored, done.duplicates, done.refused, done.analysed
    );
    Ok(())
}

pub(crate) fn send_card(
    url: &str,
    token_file: Option<&Path>,
    mount: &Path,
    device: Option<i64>,
    wipe: bool,
    progress_file: Option<&Path>,
) -> Result<()> {
    let token_file = token_file.context("--server needs --token-file")?;
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("cannot read the token file {}", token_file.display()))?;
    let mut progress = progress_file
        .map(consentcam::ops::ingest::ProgressFile::create)
        .transpose()
        .context("cannot write the progress file")?;
    let mut on_event = |event: &consentcam_media::ImportEvent| {
        if let Ok(line) = serde_json::to_string(event) {
            println!("{line}");
        }
        if let Some(file) = &mut progress
            && let Err(e) = file.record(event)
        {
            eprintln!("warning: cannot write the progress file: {e}");
        }
    };
    let sent = consentcam::ops::ingest::send::send_card(
        mount,
        url,
        token.trim(),
        device.map(consentcam::domain::DeviceId),
        &mut on_event,
    );
    match sent {
        Ok(sent) => {
            eprintln!(
                "card sent to {url}: {} new, {} already there, {} refused; the server analyses them",
                sent.stored, sent.duplicates, sent.refused
            );
            if wipe {
                let wiped = consentcam::ops::ingest::send::wipe_sent(mount, url, token.trim())?;
                eprintln!(
                    "card wiped: {} files the server has were deleted, {} kept",
                    wiped.deleted.len(),
                    wiped.kept.len()
                );
                for kept in &wiped.kept {
                    eprintln!("KEPT on the card: {kept}");
                }
            }
            Ok(())
        }
        Err(e) => {
            on_event(&consentcam_media::ImportEvent::Failed {
                message: e.to_string(),
            });
            Err(e.into())
        }
    }
}

pub(crate) fn scrub(input: &Path, output: &Path) -> Result<()> {
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let clean = consentcam_scrub::scrub(&bytes).with_context(|| {
        format!(
            "{} was refused: it cannot be proved clean, so it must not be published",
            input.display()
        )
    })?;
    if output.exists() {
        bail!(
            "{} already exists; choose a new file name",
            output.display()
        );
    }
    let temp = output.with_extension("scrub-part");
    std::fs::write(&temp, &clean.jpeg)
        .with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, output).with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "{}: {} metadata segment(s) and {} trailing byte(s) removed; image data unchanged",
        output.display(),
        clean.report.removed.len(),
        clean.report.trailing_bytes_cut
    );
    Ok(())
}
