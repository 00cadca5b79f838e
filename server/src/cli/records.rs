//! Commands that keep the records safe: backups, restores, the audit chain, moving the
//! photo archive.

use std::path::Path;

use anyhow::{Context, Result, bail};
use consentcam::infra::config::Config;
use consentcam::ops::backup;
use consentcam::store::{self, audit};
use consentcam_media::Bucket;
use jiff::Timestamp;

use super::open_db;

/// `prune-backup DEST [--keep-days N]`.
pub(crate) fn prune_backup(
    config: &Config,
    dest: &Path,
    keep_days: Option<u32>,
    now: Timestamp,
) -> Result<()> {
    let days = keep_days.unwrap_or(config.backup.keep_days);
    let report = backup::prune(dest, days, now)
        .with_context(|| format!("pruning {} did not finish", dest.display()))?;
    println!(
        "kept {} run(s) of the last {days} days in {}; removed {} older run(s) and {} file(s) ({} bytes)",
        report.manifests_kept,
        dest.display(),
        report.manifests_removed,
        report.objects_removed,
        report.bytes_freed
    );
    Ok(())
}

pub(crate) fn backup(
    config: &Config,
    dest: &Path,
    encrypt: bool,
    now: jiff::Timestamp,
) -> Result<()> {
    if dest.is_file() {
        bail!(
            "{} is a file; a backup goes into a folder (files are kept there by their hash)",
            dest.display()
        );
    }
    let recipient = if encrypt {
        let text = config.backup.age_recipient.as_deref().context(
            "--encrypt needs [backup] age_recipient in the config (an age1... public key)",
        )?;
        Some(backup::recipient(text)?)
    } else {
        None
    };
    let conn = open_db(config)?;
    let archive = consentcam::infra::archive::Archive::open(config)?;
    let report = backup::backup(&conn, &archive, dest, recipient.as_ref(), now)
        .with_context(|| format!("the backup into {} did not complete", dest.display()))?;
    println!(
        "backed up the records and {} files into {} ({} new, {} bytes written); manifest {}",
        report.files,
        dest.display(),
        report.copied,
        report.bytes_copied,
        report.manifest.display()
    );
    for gone in &report.outbox_gone {
        eprintln!("note: outbox copy {gone} is no longer in the outbox (taken by its consumer?)");
    }
    if report.in_object_storage > 0 {
        eprintln!(
            "note: {} originals, renditions, scans and published copies are in object storage ({}): they are backed up by the bucket's versioning or replication, not here",
            report.in_object_storage,
            archive.describe()
        );
    }
    if !report.missing.is_empty() {
        for missing in &report.missing {
            eprintln!("MISSING: {missing}");
        }
        bail!(
            "{} file(s) the records point to are missing or unreadable: the backup is not whole",
            report.missing.len()
        );
    }
    Ok(())
}

pub(crate) fn store_migrate(config: &Config, to: &str) -> Result<()> {
    use consentcam::infra::archive::{self, Archive, Direction};
    // Whatever `kind` says, the bucket is what a move needs.
    let mut with_bucket = config.clone();
    with_bucket.store.kind = consentcam::infra::config::StoreKind::S3;
    let archive = Archive::open(&with_bucket).context(
        "store-migrate needs the object storage in [store] (bucket, credentials_file, endpoint)",
    )?;
    let direction = if to == "s3" {
        Direction::ToRemote
    } else {
        Direction::ToLocal
    };
    let started = std::time::Instant::now();
    // Read afresh for each file: the server may delete records while the move runs.
    let records = rusqlite::Connection::open_with_flags(
        config.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .with_context(|| format!("cannot read the records at {}", config.db_path().display()))?;
    let wanted = |key: &str| {
        consentcam::store::files::still_wanted(&records, key).map_err(|e| e.to_string())
    };
    let report = archive::migrate(&archive, direction, &wanted, &mut |done, total| {
        if done % 100 == 0 || done == total {
            eprintln!("{done} of {total} files");
        }
    })?;
    println!(
        "moved {} files ({} bytes) to {}; {} were there already (verified); {} kept where they were; {:.1} s",
        report.moved,
        report.bytes,
        if to == "s3" {
            archive.remote().map(Bucket::describe).unwrap_or_default()
        } else {
            config.data_dir.display().to_string()
        },
        report.already_there,
        report.kept.len() + report.not_tried,
        started.elapsed().as_secs_f64()
    );
    if report.dropped > 0 {
        eprintln!(
            "{} file(s) were deleted while they were moved (a takedown, an erasure, a purge): their copies were removed too",
            report.dropped
        );
    }
    if report.unwanted > 0 {
        eprintln!(
            "{} file(s) no record points to were left where they are, not copied",
            report.unwanted
        );
    }
    for kept in &report.kept {
        eprintln!("KEPT: {kept}");
    }
    if report.not_tried > 0 {
        eprintln!(
            "stopped after {} failures in a row: {} more files not tried",
            archive::FAILURES_IN_A_ROW,
            report.not_tried
        );
    }
    if !report.kept.is_empty() {
        bail!(
            "{} file(s) were not moved; mend what is said above and run it again",
            report.kept.len()
        );
    }
    Ok(())
}

pub(crate) fn verify_backup(
    config: &Config,
    dest: &Path,
    identity: Option<&Path>,
    now: jiff::Timestamp,
) -> Result<()> {
    let identity = identity.map(backup::identity).transpose()?;
    let report = backup::verify(dest, identity.as_ref(), &config.data_dir)?;
    // Noted in the records for /health, when there are records: checking a backup before
    // restoring it onto an empty machine must not make an empty records file.
    if report.problems.is_empty() && config.db_path().exists() {
        let mut conn = open_db(config)?;
        backup::record_verified(&mut conn, dest, &report, "cli", now)
            .context("the backup is whole, but that could not be written into the records")?;
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    if !report.problems.is_empty() {
        bail!(
            "the backup in {} has {} problem(s)",
            dest.display(),
            report.problems.len()
        );
    }
    println!(
        "backup {} verified: {} files present with their hashes{}",
        report.manifest.display(),
        report.files,
        if report.records_checked {
            format!(
                "; records integrity ok, {} audit entries, hash chain verified",
                report.audit_entries
            )
        } else {
            "; the records are encrypted (give --identity to check inside them)".to_owned()
        }
    );
    Ok(())
}

pub(crate) fn restore_backup(config: &Config, src: &Path, identity: Option<&Path>) -> Result<()> {
    let identity = identity.map(backup::identity).transpose()?;
    let report = backup::restore(src, &config.data_dir, identity.as_ref())
        .with_context(|| format!("cannot restore from {}", src.display()))?;
    println!(
        "restored into {}: {} files, records integrity ok, {} audit entries, hash chain \
         verified; {} photos' renditions rebuilt",
        config.data_dir.display(),
        report.files,
        report.audit_entries,
        report.renditions_rebuilt
    );
    Ok(())
}

pub(crate) fn restore(config: &Config, src: &Path) -> Result<()> {
    let dest = config.db_path();
    for existing in [dest.clone(), dest.with_extension("db-wal")] {
        if existing.exists() {
            bail!(
                "{} already exists; a restore never overwrites records: move it aside first",
                existing.display()
            );
        }
    }
    let source =
        rusqlite::Connection::open_with_flags(src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open the backup {}", src.display()))?;
    store::integrity_check(&source)
        .with_context(|| format!("the backup {} fails its integrity check", src.display()))?;
    let before = audit::verify(&source)?;
    if !before.problems.is_empty() {
        bail!(
            "the backup's audit log has been tampered with ({} problem(s)); not restoring it",
            before.problems.len()
        );
    }
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    // Copy beside the target, flush, then rename: a crash leaves no half-restored records.db.
    let partial = dest.with_extension("db-restoring");
    let _ = std::fs::remove_file(&partial);
    let mut out = rusqlite::Connection::open(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let copy = rusqlite::backup::Backup::new(&source, &mut out)?;
    copy.run_to_completion(256, std::time::Duration::from_millis(10), None)
        .context("the restore did not complete")?;
    drop(copy);
    out.close().map_err(|(_, e)| e)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, &dest)?;
    std::fs::File::open(&config.data_dir)?.sync_all()?;

    let conn = open_db(config)?;
    store::integrity_check(&conn).context("the restored records fail their integrity check")?;
    let after = audit::verify(&conn)?;
    if !after.problems.is_empty() || after.rows != before.rows {
        bail!("the restored audit log does not verify; keep the backup and investigate");
    }
    println!(
        "records restored to {}: integrity ok, {} audit entries, hash chain verified",
        dest.display(),
        after.rows
    );
    Ok(())
}

pub(crate) fn check_audit(config: &Config, expect_head: Option<&str>) -> Result<()> {
    let expected = match expect_head {
        None => None,
        Some(text) if Path::new(text).is_dir() => {
            let head = backup::latest_audit_head(Path::new(text))
                .with_context(|| format!("cannot read the newest backup in {text}"))?;
            if head.is_none() {
                eprintln!(
                    "the newest backup in {text} records no audit head (an older version made it, or the log was empty): only the chain is checked"
                );
            }
            head
        }
        Some(text) => Some(text.parse::<audit::Head>().map_err(anyhow::Error::msg)?),
    };
    let conn = open_db(config)?;
    let mut report = audit::verify(&conn)?;
    if let Some(expected) = &expected
        && let Some(problem) = audit::verify_head(&conn, expected)?
    {
        report.problems.push(problem);
    }
    if report.problems.is_empty() {
        println!(
            "audit log intact: {} entries, hash chain verified{}",
            report.rows,
            match &expected {
                Some(head) => format!(", holds head {}", head.id),
                None => String::new(),
            }
        );
        if let Some(head) = audit::head(&conn)? {
            println!("head: {head}");
        }
        Ok(())
    } else {
        for problem in &report.problems {
            eprintln!("audit log problem: {problem}");
        }
        bail!(
            "the audit log has been tampered with ({} problem(s))",
            report.problems.len()
        )
    }
}

/// `deliver-test CHANNEL`: the connection check of a channel's web endpoint.
pub(crate) fn deliver_test(config: &Config, channel: &str) -> Result<()> {
    match consentcam::ops::publish::forward::check(config, channel) {
        Ok(said) => {
            println!("{said}");
            Ok(())
        }
        Err(why) => bail!("[deliver.{channel}]: {why}"),
    }
}

/// `mail-test ADDRESS`: one message through `[mail]` at once, the server's answer printed
/// whole (an exit status of 1 when it was not taken).
pub(crate) fn mail_test(config: &Config, address: &str, now: Timestamp) -> Result<()> {
    let Some(settings) = &config.mail else {
        bail!("no [mail] in the config: nothing can be sent (see the README's Mail section)");
    };
    consentcam::store::registry::check_email(address)?;
    let sender = consentcam::infra::mail::SmtpSender::new(settings)?;
    let message_id = consentcam::ops::mail::new_message_id(&settings.from)?;
    let (subject, text, html) = consentcam::ops::mail::test_message(settings);
    let answer = sender.send_now(
        &consentcam::infra::mail::Outgoing {
            message_id: &message_id,
            to: address,
            subject,
            body_text: &text,
            body_html: &html,
        },
        now,
    );
    match answer {
        Ok(answer) => {
            println!("sent {message_id}: the server answered {answer}");
            Ok(())
        }
        Err(answer) => bail!("not sent: {answer}"),
    }
}
