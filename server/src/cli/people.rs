//! Commands about people and their records: the consent CSV, subject access, erasure,
//! the retention purge and the takedown sweep.

use std::path::Path;

use anyhow::{Context, Result, bail};
use consentcam::infra::config::Config;
use consentcam::ops;
use jiff::Timestamp;
use jiff::civil::Date;

use super::open_db;

/// `import-consents FILE`.
pub(crate) fn import_consents(
    config: &Config,
    file: &Path,
    now: Timestamp,
    today: Date,
) -> Result<()> {
    // `-`: standard input, so `sudo -u consentcam consentcam import-consents - < ~/forms.csv`
    // reads a file in the admin's own folder, which the service user may not open.
    let bytes = if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .context("cannot read the CSV from standard input")?;
        bytes
    } else {
        std::fs::read(file).with_context(|| match std::fs::metadata(file) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => format!(
                "cannot read {}: permission denied (this user may not open it; give it on \
                 standard input instead: import-consents - < {})",
                file.display(),
                file.display()
            ),
            _ => format!("cannot read {}", file.display()),
        })?
    };
    let mut conn = open_db(config)?;
    let policy = config.policy();
    let as_of = ops::people::AsOf {
        today,
        policy: &policy,
    };
    match ops::consent_csv::import_consents(&mut conn, &bytes, "cli", None, now, &as_of) {
        Ok(report) => {
            println!(
                "imported {} rows: {} people created, {} updated, {} forms added, {} withdrawn, {} unchanged",
                report.rows,
                report.people_created,
                report.people_updated,
                report.forms_added,
                report.forms_withdrawn,
                report.forms_unchanged
            );
            Ok(())
        }
        Err(e) => bail!("{}: {e}", file.display()),
    }
}

/// `export-person REF --out FILE`.
pub(crate) fn export_person(
    config: &Config,
    reference: &str,
    out: &Path,
    now: Timestamp,
) -> Result<()> {
    let mut conn = open_db(config)?;
    let person = consentcam::store::people::person_by_ref(&conn, reference)?
        .with_context(|| format!("nobody has the reference {reference:?}"))?;
    let gathered =
        consentcam::ops::subject_access::gather_for_export(&mut conn, person.id, "cli", now)?;
    let (photos, forms) = (gathered.photos.len(), gathered.forms.len());
    let zip = consentcam::ops::subject_access::build(
        gathered,
        &consentcam::infra::archive::Archive::open(config)?,
        &config.sandbox,
    )?;
    consentcam::ops::subject_access::write_new(out, &zip)
        .with_context(|| format!("cannot write {} (it must not exist yet)", out.display()))?;
    println!(
        "wrote {} ({photos} photo(s), {forms} form(s), {} bytes)",
        out.display(),
        zip.len()
    );
    Ok(())
}

/// `erase-person REF --yes`.
pub(crate) fn erase_person(
    config: &Config,
    reference: &str,
    yes: bool,
    now: Timestamp,
) -> Result<()> {
    let mut conn = open_db(config)?;
    let person = consentcam::store::retention::person_id_by_ref(&conn, reference)?
        .with_context(|| format!("nobody has the reference {reference:?}"))?;
    if !yes {
        bail!(
            "erasing {reference} cannot be undone: run again with --yes to erase (nothing was changed)"
        );
    }
    let report = consentcam::ops::erasure::erase_person(
        &mut conn,
        &consentcam::infra::archive::Archive::open(config)?,
        person,
        "cli",
        now,
    )?;
    println!(
        "erased person {}: {} form(s), {} scan(s), {} photo(s) removed, {} covered in photos with others, {} waiting for their takedown, {} takedown task(s), {} account(s) disabled",
        report.person,
        report.forms,
        report.scans,
        report.photos_removed,
        report.photos_covered,
        report.photos_awaiting_takedown,
        report.takedown_tasks,
        report.accounts_retired,
    );
    Ok(())
}

/// `purge [--dry-run]`.
pub(crate) fn purge(config: &Config, dry_run: bool, now: Timestamp, today: Date) -> Result<()> {
    let mut conn = open_db(config)?;
    let Some(rules) = config.retention else {
        return Err(consentcam::ops::retention::not_configured().into());
    };
    let policy = config.policy();
    if dry_run {
        let plan = consentcam::ops::retention::plan(&conn, Some(&rules), today, &policy, now)?;
        println!(
            "purge as of {today} (dry run, nothing changed): {} photo(s) unpublished for {} days, {} blocked for {} days, {} erased person's, forms of {} person(s) who left {} years ago",
            plan.count(consentcam::rules::retention::Cause::Unpublished),
            rules.unpublished_photo_days,
            plan.count(consentcam::rules::retention::Cause::Blocked),
            rules.blocked_photo_days,
            plan.count(consentcam::rules::retention::Cause::Erased),
            plan.forms_of.len(),
            rules.former_person_years,
        );
        for (photo, cause) in &plan.photos {
            println!(
                "photo {photo}: {}",
                serde_json::to_value(cause)?.as_str().unwrap_or("")
            );
        }
        for person in &plan.forms_of {
            println!("forms of person {person}");
        }
        return Ok(());
    }
    let report = consentcam::ops::retention::purge(
        &mut conn,
        &consentcam::infra::archive::Archive::open(config)?,
        Some(&rules),
        today,
        &policy,
        "cli",
        now,
    )
    .context("the purge did not finish; run it again to complete it")?;
    println!(
        "purge as of {today}: {} photo(s) unpublished too long, {} blocked too long, {} of erased people; {} form(s) and {} scan(s) of people who left; {} file(s) removed",
        report.photos_unpublished,
        report.photos_blocked,
        report.photos_erased,
        report.forms,
        report.scans,
        report.files_removed,
    );
    if report.files_left > 0 {
        bail!(
            "{} file(s) could not be removed (see the log); they stay queued for the next run",
            report.files_left
        );
    }
    Ok(())
}

/// `sweep`.
pub(crate) fn sweep(config: &Config, now: Timestamp, today: Date) -> Result<()> {
    let mut conn = open_db(config)?;
    let tasks = ops::approvals::sweep(&mut conn, today, &config.policy(), "system", now)?;
    println!("takedown sweep as of {today}: {tasks} new takedown task(s)");
    Ok(())
}
