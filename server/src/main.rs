//! The `consentcam` command: the server, its demo, and the record-keeping CLI.

mod cli;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use consentcam::domain::AccountRole;
use consentcam::infra::clock::{self, Clock};

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
    /// Decode HEIF photos and video frames for the server, locked down (the server starts
    /// it; not for people).
    #[command(hide = true)]
    DecodeWorker,
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
    /// Import signed consent forms from a CSV file (all-or-nothing); `-` reads it from
    /// standard input.
    ImportConsents { file: PathBuf },
    /// Send one test message to ADDRESS through `[mail]` at once (not through the
    /// outbox) and print the mail server's exact answer.
    MailTest { address: String },
    /// Check the connection to a channel's web endpoint (`[deliver.CHANNEL]`, e.g.
    /// `website`): for a WordPress site, that the user's application password works and
    /// it may upload and delete media. Exits non-zero when it does not.
    DeliverTest { channel: String },
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
    /// Print the config's `[backup] offsite_dir` (nothing when it is not set): where the
    /// nightly backup script writes the encrypted off-site copy.
    OffsiteDir,
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
    /// List the kiosks: id, name, and whether its token was revoked.
    KioskList,
    /// Register a device (a camera or tablet) with the UID of the tag stuck on it, so a tap
    /// at the kiosk signs it out.
    DeviceAdd {
        /// What staff call it ("Camera 1").
        label: String,
        /// The UID of its tag, in hex (as the kiosk shows an unknown tag).
        #[arg(long, value_name = "UID")]
        tag: String,
        /// Its maker ("Canon"), model ("EOS 250D") and serial number, as the audit log and
        /// the device page show them.
        #[arg(long)]
        make: String,
        #[arg(long)]
        model: String,
        #[arg(long)]
        serial: String,
        /// How long a sign-out may last before it is overdue.
        #[arg(long, default_value_t = 480)]
        loan_minutes: u32,
    },
    /// List the devices: id, label, tag UID, loan minutes.
    DeviceList,
    /// Enrol a person's badge (its UID in hex) so their tap at the kiosk is known.
    BadgeAdd {
        uid: String,
        /// The person's reference.
        #[arg(long, value_name = "REF")]
        person: String,
        /// Also let this person sign devices out (staff who take the camera).
        #[arg(long)]
        may_sign_out: bool,
    },
    /// List the badges: id, UID, the person's reference, active or not.
    BadgeList,
    /// Make a group (a class, a trip) and, with `--person`, put people in it.
    GroupAdd {
        name: String,
        /// Its members, by reference (`--person L100,L101`, or the option again).
        #[arg(long = "person", value_name = "REF", value_delimiter = ',')]
        people: Vec<String>,
    },
    /// List the groups: id, name, members.
    GroupList,
    /// Register a partner organisation (a school or organisation photos may be shared with).
    PartnerAdd { name: String },
    /// Add a site (a centre of a trust served by this server). Once records belong to
    /// sites, an account of one site sees only that site's people, photos, groups and
    /// devices; an account of none sees every site's.
    SiteAdd { name: String },
    /// List the sites.
    SiteList,
    /// Put records in a site (`--site NAME`), or in none (`--none`).
    SiteAssign(SiteAssign),
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

/// What `site-assign` puts in a site. Each option may be given again, or take several
/// values separated by commas (`--person L100,L103`). All or nothing: one record that
/// does not exist moves none.
#[derive(clap::Args)]
pub(crate) struct SiteAssign {
    #[arg(long, conflicts_with = "none", required_unless_present = "none")]
    site: Option<String>,
    #[arg(long)]
    none: bool,
    /// People, by their reference.
    #[arg(long = "person", value_name = "REF", value_delimiter = ',')]
    people: Vec<String>,
    /// Accounts, by user name.
    #[arg(long = "account", value_name = "USERNAME", value_delimiter = ',')]
    accounts: Vec<String>,
    /// Kiosks, by name.
    #[arg(long = "kiosk", value_name = "NAME", value_delimiter = ',')]
    kiosks: Vec<String>,
    /// Devices, by label (or id, as `device-list` prints).
    #[arg(long = "device", value_name = "LABEL|ID", value_delimiter = ',')]
    devices: Vec<String>,
    /// Groups, by name (or id, as `group-list` prints).
    #[arg(long = "group", value_name = "NAME|ID", value_delimiter = ',')]
    groups: Vec<String>,
    /// Every person, photo, group, device and kiosk in no site (a Pi's records restored
    /// onto the central server); never an account.
    #[arg(long)]
    unassigned: bool,
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
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
    /// Set where an account's reminders go (no address: it gets none).
    SetEmail {
        username: String,
        address: Option<String>,
    },
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

fn main() -> Result<std::process::ExitCode> {
    let args = Cli::parse();
    init_tracing();
    if matches!(args.command, Command::DecodeWorker) {
        // Before any config or database is opened: the worker reads nothing of the server.
        return Ok(consentcam_media::untrusted::serve_worker());
    }
    let config = cli::load_config(&args)?;
    let clock = Clock::System;
    let now = clock.now();
    let today = clock.today(&clock::time_zone(&config.time_zone));
    let done = match args.command {
        Command::DecodeWorker => Ok(()),
        Command::Serve { bind } => cli::server::serve(config, bind, clock),
        #[cfg(feature = "demo")]
        Command::Demo { bind } => cli::server::demo(config, bind, clock, now, today),
        Command::ImportConsents { file } => {
            cli::people::import_consents(&config, &file, now, today)
        }
        Command::MailTest { address } => cli::records::mail_test(&config, &address, now),
        Command::DeliverTest { channel } => cli::records::deliver_test(&config, &channel),
        Command::CheckAudit { expect_head } => {
            cli::records::check_audit(&config, expect_head.as_deref())
        }
        Command::Backup { dest, encrypt } => cli::records::backup(&config, &dest, encrypt, now),
        Command::OffsiteDir => {
            if let Some(dir) = &config.backup.offsite_dir {
                println!("{}", dir.display());
            }
            Ok(())
        }
        Command::StoreMigrate { to } => cli::records::store_migrate(&config, &to),
        Command::VerifyBackup { dest, identity } => {
            cli::records::verify_backup(&config, &dest, identity.as_deref(), now)
        }
        Command::PruneBackup { dest, keep_days } => {
            cli::records::prune_backup(&config, &dest, keep_days, now)
        }
        Command::Restore { src, identity } if src.is_dir() => {
            cli::records::restore_backup(&config, &src, identity.as_deref())
        }
        Command::Restore { src, .. } => cli::records::restore(&config, &src),
        Command::User(command) => cli::registry::user(&config, command, now),
        Command::KioskAdd { name } => cli::registry::kiosk_add(&config, &name, now),
        Command::KioskRevoke { name } => cli::registry::kiosk_revoke(&config, &name, now),
        Command::KioskRotate { name } => cli::registry::kiosk_rotate(&config, &name, now),
        Command::KioskList => cli::registry::kiosk_list(&config),
        Command::DeviceAdd {
            label,
            tag,
            make,
            model,
            serial,
            loan_minutes,
        } => cli::registry::device_add(
            &config,
            consentcam::store::registry::NewDevice {
                label,
                make,
                model,
                serial,
                tag_uid: consentcam_wire::TagUid::parse(&tag)
                    .map_err(|e| anyhow::anyhow!("--tag {tag:?}: {e}"))?,
                loan_minutes,
            },
            now,
        ),
        Command::DeviceList => cli::registry::device_list(&config),
        Command::BadgeAdd {
            uid,
            person,
            may_sign_out,
        } => cli::registry::badge_add(&config, &uid, &person, may_sign_out, now),
        Command::BadgeList => cli::registry::badge_list(&config),
        Command::GroupAdd { name, people } => {
            cli::registry::group_add(&config, &name, &people, now)
        }
        Command::GroupList => cli::registry::group_list(&config),
        Command::Scrub { input, output } => cli::photos::scrub(&input, &output),
        Command::ExportPerson { reference, out } => {
            cli::people::export_person(&config, &reference, &out, now)
        }
        Command::Purge { dry_run } => cli::people::purge(&config, dry_run, now, today),
        Command::ErasePerson { reference, yes } => {
            cli::people::erase_person(&config, &reference, yes, now)
        }
        Command::Sweep => cli::people::sweep(&config, now, today),
        Command::DetectFaces { redo_all } => cli::photos::detect_faces(&config, redo_all, now),
        Command::ImportCard {
            server: Some(url),
            token_file,
            mount,
            device,
            wipe,
            progress,
            no_faces: _,
        } => cli::photos::send_card(
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
        } => cli::photos::import_card(
            &config,
            &mount,
            progress.as_deref(),
            device.map(consentcam::domain::DeviceId),
            wipe,
            !no_faces,
            now,
        ),
        Command::PartnerAdd { name } => cli::registry::partner_add(&config, &name, now),
        Command::SiteAdd { name } => cli::registry::site_add(&config, &name, now),
        Command::SiteList => cli::registry::site_list(&config),
        Command::SiteAssign(args) => cli::registry::site_assign(&config, args, now),
    };
    done.map(|()| std::process::ExitCode::SUCCESS)
}
