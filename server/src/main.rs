//! The `consentcam` command: the server, its demo, and the record-keeping CLI.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use consentcam_media::Bucket;

use consentcam::clock::{self, Clock};
use consentcam::config::Config;
#[cfg(feature = "demo")]
use consentcam::demo;
use consentcam::domain::AccountRole;
use consentcam::store::{self, audit, registry};
use consentcam::web::{self, AppState, password};
use consentcam::{backup, ops};
#[cfg(feature = "demo")]
use consentcam_kiosk::sim::{ServerLink, SimKiosk, SimKioskConfig};

#[derive(Parser)]
#[command(
    name = "consentcam",
    version,
    about = "Camera custody and photo consent"
)]
struct Cli {
    /// TOML config file (see README: Configuration).
    #[arg(long, global = true, env = "CONSENTCAM_CONFIG")]
    config: Option<PathBuf>,
    /// Overrides the config's data_dir.
    #[arg(long, global = true, env = "CONSENTCAM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// A ready-to-try instance on a temporary data directory with seeded demo data and a
    /// simulated kiosk (in a build with the `demo` feature).
    #[cfg(feature = "demo")]
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
    },
    /// Import signed consent forms from a CSV file (all-or-nothing).
    ImportConsents { file: PathBuf },
    /// Verify the audit log's hash chain and its protecting triggers; exits non-zero if
    /// anything was tampered with. Prints the head (newest row's id and hash) to keep
    /// elsewhere.
    CheckAudit {
        /// Also check that the log still holds a head written down earlier: `ID:HASH` as
        /// printed here, or a backup folder (its newest backup's head). This catches a log
        /// rewritten, hashes and all, since then.
        #[arg(long, value_name = "ID:HASH|BACKUP_DIR")]
        expect_head: Option<String>,
    },
    /// Back up everything needed to restore into the folder DEST: the records (an online
    /// SQLite backup) and every file they point to (photo originals and renditions,
    /// scanned forms, outbox copies still published), each file stored once by its hash,
    /// with a manifest. Exits non-zero if any file the records name is missing.
    Backup {
        dest: PathBuf,
        /// Encrypt every file to the config's `[backup] age_recipient` (for a copy kept
        /// elsewhere; the private key stays off the Pi).
        #[arg(long)]
        encrypt: bool,
    },
    /// Remove from the backup folder DEST the runs older than `[backup] keep_days` (35 by
    /// default; the newest run is always kept) and every file no remaining run needs, so
    /// that deleted and erased data leaves the backups too. Run it after a backup, never
    /// during one.
    PruneBackup {
        dest: PathBuf,
        /// Overrides `[backup] keep_days`.
        #[arg(long)]
        keep_days: Option<u32>,
    },
    /// Check the newest backup in DEST: every file present with its hash, the records'
    /// integrity and audit hash chain. Exits non-zero on any problem.
    VerifyBackup {
        dest: PathBuf,
        /// The age private key of an encrypted backup (to check the records inside it).
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Restore the newest backup in the folder SRC (made by `backup`) into a data
    /// directory that has no records (move a damaged records.db aside first): every file
    /// checked against its hash, the records' integrity and audit chain checked, missing
    /// renditions rebuilt. SRC may also be a single records file made by an older version.
    Restore {
        src: PathBuf,
        /// The age private key, for an encrypted backup.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Manage web UI accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Register a kiosk and print its bearer token (shown once).
    KioskAdd { name: String },
    /// Revoke a kiosk's token at once (a lost or replaced kiosk); its events are kept.
    KioskRevoke { name: String },
    /// Give a kiosk a new token (shown once); the old one stops working at once.
    KioskRotate { name: String },
    /// Register a partner organisation (a school or organisation photos may be shared with).
    PartnerAdd { name: String },
    /// Add a site (a centre of a trust served by this server). Once records belong to
    /// sites, an account of one site sees only that site's people, photos, groups and
    /// devices; an account of none sees every site's.
    SiteAdd { name: String },
    /// List the sites.
    SiteList,
    /// Put records in a site (`--site NAME`), or in none (`--none`).
    SiteAssign {
        #[arg(long, conflicts_with = "none", required_unless_present = "none")]
        site: Option<String>,
        #[arg(long)]
        none: bool,
        /// People, by their reference.
        #[arg(long = "person", value_name = "REF")]
        people: Vec<String>,
        /// Accounts, by user name.
        #[arg(long = "account", value_name = "USERNAME")]
        accounts: Vec<String>,
        /// Kiosks, by name.
        #[arg(long = "kiosk", value_name = "NAME")]
        kiosks: Vec<String>,
        /// Devices, by id.
        #[arg(long = "device", value_name = "ID")]
        devices: Vec<i64>,
        /// Groups, by id.
        #[arg(long = "group", value_name = "ID")]
        groups: Vec<i64>,
    },
    /// Import a returned device's card: every file stored safely (crash-safe, each content
    /// once), attributed to the device's latest sign-out, then analysed (EXIF, previews,
    /// faces, provenance). Progress is printed as one JSON object per line.
    ImportCard {
        /// Where the card is mounted (read-only).
        #[arg(long)]
        mount: PathBuf,
        /// The returned device's id (default: the most recently returned device).
        #[arg(long)]
        device: Option<i64>,
        /// Delete from the card the files whose copy is committed (never anything else;
        /// with --server, the files the server confirms it has by their hash).
        #[arg(long)]
        wipe: bool,
        /// Skip face detection (faster; faces can be tagged by hand).
        #[arg(long)]
        no_faces: bool,
        /// Also write the progress as JSON lines to this file, which the kiosk follows to
        /// show the progress bar and the summary (replaced by each import).
        #[arg(long)]
        progress: Option<PathBuf>,
        /// Send the card to the central server at this address (a site's kiosk machine)
        /// rather than import it here; the server stores, attributes and analyses it.
        #[arg(long, requires = "token_file", value_name = "URL")]
        server: Option<String>,
        /// The kiosk's token, for `--server` (the file the kiosk uses).
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Run the face detector on every photo imported without it (`--no-faces`) and on
    /// photos whose stored face boxes are known to be wrong; `serve` also does this when it
    /// starts. Until then such photos need review on every channel.
    DetectFaces {
        /// Search every stored photo again (after an upgrade brought a better detector):
        /// what staff said about each face found again is kept, faces nobody had seen are
        /// added unresolved, and a photo that gains one while published gets a takedown
        /// task. Prints what changed, photo by photo.
        #[arg(long)]
        redo_all: bool,
    },
    /// Decide every live publication again as of today and make each that is no longer
    /// allowed (a form expired, a learner turned 18 with only a parent's form) a takedown
    /// task; `serve` does this at start and every hour.
    Sweep,
    /// Write everything held about one person (REF is their reference) into a zip for a
    /// subject access request: an HTML index a parent can read, the same as JSON, their
    /// forms' scans, and every photo of them with everyone else's face covered.
    ExportPerson {
        reference: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete what is past its time under the config's `[retention]`: photos not
    /// published for `unpublished_photo_days`, photos nobody may use (someone without
    /// consent or unknown) for `blocked_photo_days`, forms and scans of people who left
    /// `former_person_years` ago; and photos whose only person was erased, once no longer
    /// published. Never a published photo. One audit entry with the counts. `serve` runs
    /// it daily.
    Purge {
        /// Print what would be deleted and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Erase everything held about one person (REF is their reference): forms, scans,
    /// photos where they are the only person; in photos with others their face becomes a
    /// covered "erased person"; their publications become takedown tasks. Cannot be undone.
    ErasePerson {
        reference: String,
        /// Confirm: without it, nothing is changed.
        #[arg(long)]
        yes: bool,
    },
    /// Write a copy of the JPEG IN to OUT with every name and identifying tag removed
    /// (only orientation and colour profile kept; image data untouched).
    Scrub { input: PathBuf, output: PathBuf },
    /// Move the photo originals, renditions and scanned forms into the object storage the config's
    /// `[store]` names (`--to s3`), or back into the data directory (`--to local`). Each
    /// file is copied, read back and compared by hash before it is removed from where it
    /// was; run it again to finish a run that was cut short. Moving to s3: set
    /// `kind = "s3"` first, so the server reads the bucket and, for a file not moved yet,
    /// the data directory. Moving back: set `kind = "local"` once it has finished.
    StoreMigrate {
        #[arg(long, value_parser = ["s3", "local"])]
        to: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: AccountRole,
    },
    /// List accounts.
    List,
    /// Set an account's password, read from standard input.
    SetPassword { username: String },
    /// Disable an account (it can no longer log in).
    Disable { username: String },
    /// Turn an account's second factor off (a lost phone and lost recovery codes): its
    /// sessions end, and it sets a new one up at its next login.
    ResetSecondFactor { username: String },
}

fn parse_role(text: &str) -> Result<AccountRole, String> {
    text.parse()
        .map_err(|e: consentcam::domain::ParseError| e.0)
}

fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &cli.data_dir {
        config.data_dir = dir.clone();
    }
    Ok(config)
}

fn open_db(config: &Config) -> Result<rusqlite::Connection> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {} (set data_dir in the config or --data-dir)",
            config.data_dir.display()
        )
    })?;
    store::open(&config.db_path()).with_context(|| {
        format!(
            "cannot open the records database {}",
            config.db_path().display()
        )
    })
}

fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password (at least {} characters): ",
            password::MIN_PASSWORD_CHARS
        );
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_tracing();
    let config = load_config(&cli)?;
    let clock = Clock::System;
    let now = clock.now();
    let today = clock.today(&clock::time_zone(&config.time_zone));
    match cli.command {
        Command::Serve { bind } => {
            let mut config = config;
            if let Some(bind) = bind {
                config.bind = bind;
            }
            let conn = open_db(&config)?;
            // Uploads a stopped server was receiving (sites send them again).
            let incoming = config.data_dir.join("store").join("incoming");
            if incoming.is_dir() {
                std::fs::remove_dir_all(&incoming).with_context(|| {
                    format!("cannot clear unfinished uploads in {}", incoming.display())
                })?;
            }
            detect_faces_in_background(&config, clock.clone());
            sweep_every_hour(&config, clock.clone());
            purge_every_day(&config, clock.clone());
            let bind = config.bind;
            run_server(bind, None, move |_| {
                let state = AppState::new(conn, config, clock);
                // A copy placed in the outbox by a run that died before recording it;
                // checked before the server takes a request, so before anything publishes.
                let withdrawn = {
                    let db = state.db_handle();
                    let conn = db
                        .lock()
                        .map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
                    consentcam::publish::reconcile_outbox(&conn, state.archive(), state.now())
                        .context("cannot check the outbox against the register")?
                };
                if !withdrawn.is_empty() {
                    tracing::warn!(
                        count = withdrawn.len(),
                        "outbox copies with no publication recorded were withdrawn"
                    );
                }
                // Photos received before a stop and not analysed yet.
                state.analyse_in_background();
                Ok(state)
            })
        }
        #[cfg(feature = "demo")]
        Command::Demo { bind } => {
            let dir = tempfile::Builder::new()
                .prefix("consentcam-demo-")
                .tempdir()
                .context("cannot create a temporary data directory")?;
            let mut config = config;
            config.data_dir = dir.path().to_path_buf();
            config.bind = bind;
            let mut conn = open_db(&config)?;
            eprintln!("Seeding the demo: importing its camera card (faces are looked for)...");
            let seeded = demo::seed_with_photos(&mut conn, &config, now, today)
                .context("cannot seed the demo data")?;
            let banner = demo::banner(&seeded, dir.path());
            let kiosk_dir = dir.path().join("kiosk");
            run_server(config.bind, Some(banner), move |addr| {
                let mut kiosk = SimKioskConfig::new(kiosk_dir);
                kiosk.reader_name = "demo-kiosk".into();
                kiosk.card_progress = Some(demo::card::progress_file(&config.data_dir));
                kiosk.server = Some(ServerLink {
                    url: format!("http://{addr}"),
                    token: seeded.kiosk_token.clone(),
                });
                let kiosk = SimKiosk::start(kiosk).context("cannot start the simulated kiosk")?;
                Ok(AppState::new(conn, config, clock).with_sim_kiosk(kiosk))
            })
        }
        Command::ImportConsents { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut conn = open_db(&config)?;
            let policy = config.policy();
            let as_of = ops::people::AsOf {
                today,
                policy: &policy,
            };
            match ops::people::import_consents(&mut conn, &bytes, "cli", None, now, &as_of) {
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
        Command::CheckAudit { expect_head } => check_audit(&config, expect_head.as_deref()),
        Command::Backup { dest, encrypt } => backup(&config, &dest, encrypt, now),
        Command::StoreMigrate { to } => store_migrate(&config, &to),
        Command::VerifyBackup { dest, identity } => {
            verify_backup(&config, &dest, identity.as_deref())
        }
        Command::PruneBackup { dest, keep_days } => {
            let days = keep_days.unwrap_or(config.backup.keep_days);
            let report = backup::prune(&dest, days, now)
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
        Command::Restore { src, identity } if src.is_dir() => {
            restore_backup(&config, &src, identity.as_deref())
        }
        Command::Restore { src, .. } => restore(&config, &src),
        Command::User(command) => user(&config, command, now),
        Command::KioskAdd { name } => {
            let mut conn = open_db(&config)?;
            let token = password::random_token();
            let id = consentcam::ops::registry::add_kiosk(
                &mut conn,
                &name,
                &password::token_hash(&token),
                "cli",
                None,
                now,
            )?;
            println!("kiosk {id} ({name}) registered; its token (shown once):\n{token}");
            Ok(())
        }
        Command::KioskRevoke { name } => {
            let mut conn = open_db(&config)?;
            let kiosk = registry::kiosk_by_name(&conn, &name)?
                .with_context(|| format!("no kiosk named {name:?}"))?;
            consentcam::ops::registry::revoke_kiosk(&mut conn, kiosk.id, "cli", now)?;
            println!(
                "kiosk {} ({name}) revoked: its token no longer opens anything",
                kiosk.id
            );
            Ok(())
        }
        Command::KioskRotate { name } => {
            let mut conn = open_db(&config)?;
            let kiosk = registry::kiosk_by_name(&conn, &name)?
                .with_context(|| format!("no kiosk named {name:?}"))?;
            let token = password::random_token();
            consentcam::ops::registry::rotate_kiosk(
                &mut conn,
                kiosk.id,
                &password::token_hash(&token),
                "cli",
                now,
            )?;
            println!(
                "kiosk {} ({name}) has a new token (shown once; put it in the kiosk's config):\n{token}",
                kiosk.id
            );
            Ok(())
        }
        Command::Scrub { input, output } => scrub(&input, &output),
        Command::ExportPerson { reference, out } => {
            let mut conn = open_db(&config)?;
            let person = consentcam::store::people::person_by_ref(&conn, &reference)?
                .with_context(|| format!("nobody has the reference {reference:?}"))?;
            let gathered =
                consentcam::subject_access::gather_for_export(&mut conn, person.id, "cli", now)?;
            let (photos, forms) = (gathered.photos.len(), gathered.forms.len());
            let zip = consentcam::subject_access::build(
                gathered,
                &consentcam::archive::Archive::open(&config)?,
            )?;
            consentcam::subject_access::write_new(&out, &zip).with_context(|| {
                format!("cannot write {} (it must not exist yet)", out.display())
            })?;
            println!(
                "wrote {} ({photos} photo(s), {forms} form(s), {} bytes)",
                out.display(),
                zip.len()
            );
            Ok(())
        }
        Command::Purge { dry_run } => {
            let mut conn = open_db(&config)?;
            let Some(rules) = config.retention else {
                return Err(consentcam::retention::not_configured().into());
            };
            let policy = config.policy();
            if dry_run {
                let plan = consentcam::retention::plan(&conn, Some(&rules), today, &policy, now)?;
                println!(
                    "purge as of {today} (dry run, nothing changed): {} photo(s) unpublished for {} days, {} blocked for {} days, {} erased person's, forms of {} person(s) who left {} years ago",
                    plan.count(consentcam::retention::Cause::Unpublished),
                    rules.unpublished_photo_days,
                    plan.count(consentcam::retention::Cause::Blocked),
                    rules.blocked_photo_days,
                    plan.count(consentcam::retention::Cause::Erased),
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
            let report = consentcam::retention::purge(
                &mut conn,
                &consentcam::archive::Archive::open(&config)?,
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
        Command::ErasePerson { reference, yes } => {
            let mut conn = open_db(&config)?;
            let person = consentcam::store::retention::person_id_by_ref(&conn, &reference)?
                .with_context(|| format!("nobody has the reference {reference:?}"))?;
            if !yes {
                bail!(
                    "erasing {reference} cannot be undone: run again with --yes to erase (nothing was changed)"
                );
            }
            let report = consentcam::erasure::erase_person(
                &mut conn,
                &consentcam::archive::Archive::open(&config)?,
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
        Command::Sweep => {
            let mut conn = open_db(&config)?;
            let tasks = ops::approvals::sweep(&mut conn, today, &config.policy(), "system", now)?;
            println!("takedown sweep as of {today}: {tasks} new takedown task(s)");
            Ok(())
        }
        Command::DetectFaces { redo_all: true } => {
            let mut conn = open_db(&config)?;
            let mut print = |photo: &consentcam::ingest::SearchedAgain| match photo.merged {
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
                consentcam::ingest::detect_faces_redo_all_in(&mut conn, &config, now, &mut print)
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
            if first != consentcam::ingest::Redetected::default() {
                println!(
                    "searched {} photo(s) for the first time, {} face(s); {} could not be decoded",
                    first.photos, first.faces, first.failed
                );
            }
            Ok(())
        }
        Command::DetectFaces { redo_all: false } => {
            let mut conn = open_db(&config)?;
            let done = consentcam::ingest::detect_faces(&mut conn, &config, now)
                .context("face detection did not finish; run it again to complete it")?;
            println!(
                "face detection ran on {} photo(s) and found {} face(s); {} could not be decoded",
                done.photos, done.faces, done.failed
            );
            Ok(())
        }
        Command::ImportCard {
            server: Some(url),
            token_file,
            mount,
            device,
            wipe,
            progress,
            no_faces: _,
        } => send_card(
            &url,
            token_file.as_deref(),
            &mount,
            device,
            wipe,
            progress.as_deref(),
        ),
        Command::ImportCard {
            mount,
            device,
            wipe,
            no_faces,
            progress,
            ..
        } => import_card(
            &config,
            &mount,
            progress.as_deref(),
            device.map(consentcam::domain::DeviceId),
            wipe,
            !no_faces,
            now,
        ),
        Command::PartnerAdd { name } => {
            let mut conn = open_db(&config)?;
            let id = consentcam::ops::registry::add_partner(&mut conn, &name, "cli", now)?;
            println!("partner organisation {id} registered");
            Ok(())
        }
        Command::SiteAdd { name } => {
            let mut conn = open_db(&config)?;
            let id = consentcam::ops::sites::add_site(&mut conn, &name, "cli", now)?;
            println!("site {id} added: {}", name.trim());
            Ok(())
        }
        Command::SiteList => {
            let conn = open_db(&config)?;
            for site in store::sites::sites(&conn)? {
                println!("{}\t{}", site.id, site.name);
            }
            Ok(())
        }
        Command::SiteAssign {
            site,
            none: _,
            people,
            accounts,
            kiosks,
            devices,
            groups,
        } => {
            use consentcam::store::sites::Kind;
            let mut conn = open_db(&config)?;
            let mut records: Vec<(Kind, i64, String)> = Vec::new();
            for r in &people {
                let p = store::people::person_by_ref(&conn, r)?
                    .with_context(|| format!("no person with the reference {r:?}"))?;
                records.push((Kind::Person, p.id.0, format!("person {r}")));
            }
            for name in &accounts {
                let a = registry::account_by_username(&conn, name)?
                    .with_context(|| format!("no account named {name:?}"))?;
                records.push((Kind::Account, a.id.0, format!("account {name}")));
            }
            for name in &kiosks {
                let k = registry::kiosk_by_name(&conn, name)?
                    .with_context(|| format!("no kiosk named {name:?}"))?;
                records.push((Kind::Kiosk, k.id, format!("kiosk {name}")));
            }
            records.extend(
                devices
                    .iter()
                    .map(|&d| (Kind::Device, d, format!("device {d}"))),
            );
            records.extend(
                groups
                    .iter()
                    .map(|&g| (Kind::Group, g, format!("group {g}"))),
            );
            if records.is_empty() {
                bail!(
                    "name what to put in the site: --person, --account, --kiosk, --device or --group"
                );
            }
            for (kind, id, what) in records {
                consentcam::ops::sites::assign(&mut conn, kind, id, site.as_deref(), "cli", now)
                    .with_context(|| format!("{what} was not moved"))?;
                println!("{what}: {}", site.as_deref().unwrap_or("no site"));
            }
            Ok(())
        }
    }
}

/// Looks for the faces of photos that still need it (see `detect-faces`) on a thread of
/// its own with its own database connection, so the server answers meanwhile.
fn detect_faces_in_background(config: &Config, clock: Clock) {
    let config = config.clone();
    std::thread::spawn(move || {
        let run = || -> Result<consentcam::ingest::Redetected> {
            let mut conn = open_db(&config)?;
            Ok(consentcam::ingest::detect_faces(
                &mut conn,
                &config,
                clock.now(),
            )?)
        };
        match run() {
            Ok(done) if done == consentcam::ingest::Redetected::default() => {}
            Ok(done) => tracing::info!(?done, "faces looked for in photos that needed it"),
            Err(e) => tracing::error!(error = %e, "face detection at start did not finish"),
        }
    });
}

/// The takedown sweep (see `sweep`) at start and then every hour, on a thread of its own
/// with its own database connection.
fn sweep_every_hour(config: &Config, clock: Clock) {
    let config = config.clone();
    std::thread::spawn(move || {
        loop {
            let run = || -> Result<usize> {
                let mut conn = open_db(&config)?;
                let today = clock.today(&clock::time_zone(&config.time_zone));
                Ok(ops::approvals::sweep(
                    &mut conn,
                    today,
                    &config.policy(),
                    "system",
                    clock.now(),
                )?)
            };
            match run() {
                Ok(0) => {}
                Ok(tasks) => tracing::warn!(tasks, "new takedown tasks: see /takedowns"),
                Err(e) => tracing::error!(error = %e, "the takedown sweep did not finish"),
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    });
}

/// The purge (see `purge`) at start and then every day, on a thread of its own with its
/// own database connection. Without `[retention]` only what an erasure left waiting is
/// purged (photos whose only person was erased, once their takedowns are done).
fn purge_every_day(config: &Config, clock: Clock) {
    let config = config.clone();
    std::thread::spawn(move || {
        loop {
            let run = || -> Result<consentcam::retention::PurgeReport> {
                let mut conn = open_db(&config)?;
                let today = clock.today(&clock::time_zone(&config.time_zone));
                Ok(consentcam::retention::purge(
                    &mut conn,
                    &consentcam::archive::Archive::open(&config)?,
                    config.retention.as_ref(),
                    today,
                    &config.policy(),
                    "system",
                    clock.now(),
                )?)
            };
            match run() {
                Ok(report) => tracing::info!(?report, "daily purge"),
                Err(e) => tracing::error!(error = %e, "the daily purge did not finish"),
            }
            std::thread::sleep(std::time::Duration::from_secs(24 * 3600));
        }
    });
}

/// Binds `bind`, builds the state (which may need the bound address), and serves until
/// Ctrl-C or SIGTERM.
fn run_server(
    bind: std::net::SocketAddr,
    banner: Option<String>,
    state: impl FnOnce(std::net::SocketAddr) -> Result<AppState>,
) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
            format!("cannot listen on {bind} (is another server running there? use --bind)")
        })?;
        let addr = listener.local_addr()?;
        let state = state(addr)?;
        match banner {
            Some(banner) => println!("{}", banner.replace("{url}", &format!("http://{addr}"))),
            None => tracing::info!(%addr, "consentcam listening"),
        }
        web::serve(listener, state, shutdown_signal()).await?;
        Ok(())
    })
}

fn import_card(
    config: &Config,
    mount: &Path,
    progress_file: Option<&Path>,
    device: Option<consentcam::domain::DeviceId>,
    wipe: bool,
    faces: bool,
    now: jiff::Timestamp,
) -> Result<()> {
    let mut conn = open_db(config)?;
    let job = consentcam::ingest::CardJob {
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
    let done = consentcam::ingest::import_card(&mut conn, config, &job, &mut print, now)?;
    if done.session.is_none() {
        eprintln!("no sign-out found for this card: photos are imported without attribution");
    }
    eprintln!(
        "card stored: {} new, {} already stored, {} refused; {} photo(s) analysed",
        done.stored, done.duplicates, done.refused, done.analysed
    );
    Ok(())
}

fn send_card(
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
        .map(consentcam::ingest::ProgressFile::create)
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
    let sent = consentcam::ingest::send::send_card(
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
                let wiped = consentcam::ingest::send::wipe_sent(mount, url, token.trim())?;
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

fn scrub(input: &Path, output: &Path) -> Result<()> {
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

fn backup(config: &Config, dest: &Path, encrypt: bool, now: jiff::Timestamp) -> Result<()> {
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
    let archive = consentcam::archive::Archive::open(config)?;
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

fn store_migrate(config: &Config, to: &str) -> Result<()> {
    use consentcam::archive::{self, Archive, Direction};
    // Whatever `kind` says, the bucket is what a move needs.
    let mut with_bucket = config.clone();
    with_bucket.store.kind = consentcam::config::StoreKind::S3;
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

fn verify_backup(config: &Config, dest: &Path, identity: Option<&Path>) -> Result<()> {
    let identity = identity.map(backup::identity).transpose()?;
    let report = backup::verify(dest, identity.as_ref(), &config.data_dir)?;
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

fn restore_backup(config: &Config, src: &Path, identity: Option<&Path>) -> Result<()> {
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

fn restore(config: &Config, src: &Path) -> Result<()> {
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

fn check_audit(config: &Config, expect_head: Option<&str>) -> Result<()> {
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

fn user(config: &Config, command: UserCommand, now: jiff::Timestamp) -> Result<()> {
    use consentcam::ops::registry as ops;
    let mut conn = open_db(config)?;
    let find = |conn: &rusqlite::Connection, username: &str| -> Result<registry::Account> {
        registry::account_by_username(conn, username)?
            .with_context(|| format!("no account named {username:?}"))
    };
    match command {
        UserCommand::Add { username, role } => {
            registry::check_username(&username)?;
            let hash = password::hash(&read_password()?)?;
            let id = ops::add_account(&mut conn, &username, &hash, role, None, "cli", None, now)?;
            println!("account {id} ({username}, {role}) created");
        }
        UserCommand::List => {
            for a in registry::accounts(&conn)? {
                println!(
                    "{}\t{}\t{}{}",
                    a.id,
                    a.username,
                    a.role,
                    if a.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::SetPassword { username } => {
            let account = find(&conn, &username)?;
            let hash = password::hash(&read_password()?)?;
            ops::set_password(&mut conn, account.id, &hash, "cli", now)?;
            println!("password changed");
        }
        UserCommand::Disable { username } => {
            let account = find(&conn, &username)?;
            ops::update_account(&mut conn, account.id, account.role, true, None, "cli", now)?;
            println!("account {username} disabled");
        }
        UserCommand::ResetSecondFactor { username } => {
            let account = find(&conn, &username)?;
            if !account.second_factor {
                bail!("account {username} has no second factor");
            }
            ops::reset_second_factor(&mut conn, account.id, "cli", now)?;
            println!(
                "second factor of {username} turned off; its sessions have ended and it sets a new one up at /account/second-factor"
            );
        }
    }
    Ok(())
}
