//! The `consentcam` command as an operator runs it.

use std::process::{Command, Output};

fn consentcam(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const HEADER: &str = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on";

#[test]
fn import_consents_reports_bad_lines_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forms.csv");
    std::fs::write(&file, format!("{HEADER}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,P,2024-09-01,yes,,yes,no,,\nL2,Sam,Ng,2011-04-01,pupil,no,parent,P,2024-09-01,yes,,yes,no,,\n")).unwrap();
    let out = consentcam(
        dir.path(),
        &["import-consents", file.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("line 3: unknown role \"pupil\""),
        "{}",
        text(&out)
    );

    std::fs::write(
        &file,
        format!(
            "{HEADER}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,P,2024-09-01,yes,,yes,no,,\n"
        ),
    )
    .unwrap();
    let out = consentcam(
        dir.path(),
        &["import-consents", file.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 forms added"), "{}", text(&out));
    let again = consentcam(
        dir.path(),
        &["import-consents", file.to_str().unwrap()],
        None,
    );
    assert!(
        text(&again).contains("0 forms added") && text(&again).contains("1 unchanged"),
        "{}",
        text(&again)
    );
}

#[test]
fn check_audit_passes_on_an_untouched_log_and_fails_after_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let out = consentcam(
        dir.path(),
        &["user", "add", "dsl", "--role", "admin"],
        Some("a-long-password\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    consentcam(dir.path(), &["partner-add", "Hillside School"], None);
    let ok = consentcam(dir.path(), &["check-audit"], None);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("2 entries"), "{}", text(&ok));

    let conn = rusqlite::Connection::open(dir.path().join("records.db")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update; \
         UPDATE audit_log SET actor = 'account:99' WHERE id = 1;",
    )
    .unwrap();
    drop(conn);
    let bad = consentcam(dir.path(), &["check-audit"], None);
    assert!(!bad.status.success());
    let report = text(&bad);
    assert!(report.contains("row 1 was changed"), "{report}");
    assert!(report.contains("audit_log_no_update"), "{report}");
}

#[test]
fn a_short_password_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = consentcam(
        dir.path(),
        &["user", "add", "kim", "--role", "staff"],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 10 characters"),
        "{}",
        text(&out)
    );
    let list = consentcam(dir.path(), &["user", "list"], None);
    assert!(!text(&list).contains("kim"));
}

#[test]
fn a_backup_is_a_complete_consistent_copy_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    consentcam(dir.path(), &["partner-add", "Hillside School"], None);
    let dest = dir.path().join("backup");
    let out = consentcam(dir.path(), &["backup", dest.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = consentcam(dir.path(), &["verify-backup", dest.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 audit entries"), "{}", text(&out));
    // The records in the backup, found through its manifest.
    let latest = std::fs::read_to_string(dest.join("LATEST")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifests").join(latest.trim())).unwrap())
            .unwrap();
    let hash = manifest["records"]["hash"].as_str().unwrap();
    let copy =
        rusqlite::Connection::open(dest.join("objects").join(&hash[..2]).join(hash)).unwrap();
    let partners: i64 = copy
        .query_row("SELECT count(*) FROM partner_orgs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(partners, 1);
    // A file where a backup folder should be is refused, untouched.
    let file = dir.path().join("backup.db");
    std::fs::write(&file, "keep me").unwrap();
    let out = consentcam(dir.path(), &["backup", file.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("is a file"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn an_unknown_config_key_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "data_dri = \"/tmp/x\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .args(["--config", config.to_str().unwrap(), "check-audit"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("data_dri"), "{}", text(&out));
}

#[test]
fn scrub_writes_a_clean_copy_and_refuses_what_it_cannot_prove_clean() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jpg");
    image::RgbImage::from_pixel(32, 24, image::Rgb([10, 200, 30]))
        .save(&input)
        .unwrap();
    let planted = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Artist=Robin Okafor",
            "-XMP-dc:Subject=Okafor",
        ])
        .arg(&input)
        .status()
        .expect("exiftool is installed");
    assert!(planted.success());
    let output = dir.path().join("out.jpg");
    let out = consentcam(
        dir.path(),
        &["scrub", input.to_str().unwrap(), output.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let seen = Command::new("exiftool")
        .args(["-a", "-G1", "-u", "-j"])
        .arg(&output)
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&seen.stdout);
    assert!(!seen.contains("Okafor"), "{seen}");

    let not_jpeg = dir.path().join("notes.jpg");
    std::fs::write(&not_jpeg, b"Robin Okafor's notes").unwrap();
    let refused = consentcam(
        dir.path(),
        &[
            "scrub",
            not_jpeg.to_str().unwrap(),
            dir.path().join("x.jpg").to_str().unwrap(),
        ],
        None,
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("refused"), "{}", text(&refused));
    assert!(!dir.path().join("x.jpg").exists());
}

/// Recomputes every row's hash after editing row 1, the way someone with write access to
/// the file would cover their tracks (the formula is public in the source).
fn rewrite_chain(db: &std::path::Path) {
    use sha2::Digest;
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
         UPDATE audit_log SET actor = 'account:99' WHERE id = 1;",
    )
    .unwrap();
    let rows: Vec<(i64, String, String, String, String, String)> = conn
        .prepare("SELECT id, at, actor, action, subject, details FROM audit_log ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = "0".repeat(64);
    for (id, at, actor, action, subject, details) in rows {
        let canonical =
            serde_json::json!([prev, id, at, actor, action, subject, details]).to_string();
        let hash: String = sha2::Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            rusqlite::params![id, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
    conn.execute_batch(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;",
    )
    .unwrap();
}

#[test]
fn a_log_rewritten_with_fresh_hashes_is_caught_by_the_head_kept_in_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    consentcam(dir.path(), &["partner-add", "Hillside School"], None);
    consentcam(dir.path(), &["partner-add", "Riverside Academy"], None);
    let dest = dir.path().join("backup");
    let out = consentcam(dir.path(), &["backup", dest.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    let dest = dest.to_str().unwrap();
    let ok = consentcam(dir.path(), &["check-audit", "--expect-head", dest], None);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("holds head 2"), "{}", text(&ok));
    let head = text(&ok)
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .unwrap()
        .to_owned();
    let ok = consentcam(dir.path(), &["check-audit", "--expect-head", &head], None);
    assert!(ok.status.success(), "{}", text(&ok));

    rewrite_chain(&dir.path().join("records.db"));
    // The chain and the triggers alone look intact ...
    let alone = consentcam(dir.path(), &["check-audit"], None);
    assert!(alone.status.success(), "{}", text(&alone));
    // ... the head kept with the backup, or written down, says otherwise.
    for expected in [dest, head.as_str()] {
        let bad = consentcam(
            dir.path(),
            &["check-audit", "--expect-head", expected],
            None,
        );
        assert!(!bad.status.success());
        assert!(text(&bad).contains("was rewritten"), "{}", text(&bad));
    }
    let nonsense = consentcam(
        dir.path(),
        &["check-audit", "--expect-head", "12:xyz"],
        None,
    );
    assert!(!nonsense.status.success());
    assert!(
        text(&nonsense).contains("<id>:<64 hex digits>"),
        "{}",
        text(&nonsense)
    );
}

#[test]
fn sweep_reports_how_many_takedown_tasks_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let out = consentcam(dir.path(), &["sweep"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("0 new takedown task(s)"),
        "{}",
        text(&out)
    );
}

#[test]
fn export_person_writes_a_zip_once_and_never_over_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forms.csv");
    std::fs::write(
        &file,
        format!(
            "{HEADER}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,P,2024-09-01,yes,,yes,no,,\n"
        ),
    )
    .unwrap();
    let out = consentcam(
        dir.path(),
        &["import-consents", file.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let zip = dir.path().join("robin.zip");
    let out = consentcam(
        dir.path(),
        &["export-person", "L1", "--out", zip.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 form(s)"), "{}", text(&out));
    let bytes = std::fs::read(&zip).unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip");
    let again = consentcam(
        dir.path(),
        &["export-person", "L1", "--out", zip.to_str().unwrap()],
        None,
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("must not exist"), "{}", text(&again));
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        bytes,
        "the first export is untouched"
    );
    let nobody = consentcam(dir.path(), &["export-person", "X9", "--out", "x.zip"], None);
    assert!(
        text(&nobody).contains("nobody has the reference"),
        "{}",
        text(&nobody)
    );
}

#[test]
fn erase_person_needs_yes_and_leaves_no_trace_of_the_name_in_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forms.csv");
    std::fs::write(
        &file,
        format!(
            "{HEADER}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,Grace Okafor,2024-09-01,yes,,yes,no,,\n\
             L2,Zebedee,Quillfeather,2011-04-01,learner,no,parent,P,2024-09-01,yes,,yes,no,,\n"
        ),
    )
    .unwrap();
    let out = consentcam(
        dir.path(),
        &["import-consents", file.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    std::fs::remove_file(&file).unwrap();
    let unsure = consentcam(dir.path(), &["erase-person", "L1"], None);
    assert!(!unsure.status.success());
    assert!(text(&unsure).contains("--yes"), "{}", text(&unsure));
    let db = std::fs::read(dir.path().join("records.db")).unwrap_or_default();
    let wal = std::fs::read(dir.path().join("records.db-wal")).unwrap_or_default();
    let holds = |bytes: &[u8], name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    assert!(
        holds(&db, "Okafor") || holds(&wal, "Okafor"),
        "the name is there before"
    );

    let out = consentcam(dir.path(), &["erase-person", "L1", "--yes"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 form(s)"), "{}", text(&out));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for name in ["Robin", "Okafor", "Grace"] {
            assert!(
                !holds(&bytes, name),
                "{name} is still in the data directory"
            );
        }
    }
    let again = consentcam(dir.path(), &["erase-person", "L1", "--yes"], None);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("nobody has the reference"),
        "{}",
        text(&again)
    );
    let checked = consentcam(dir.path(), &["check-audit"], None);
    assert!(checked.status.success(), "{}", text(&checked));
    // The other learner is untouched.
    let conn = consentcam::store::open(&dir.path().join("records.db")).unwrap();
    let other = consentcam::store::people::person_by_ref(&conn, "L2")
        .unwrap()
        .unwrap();
    assert_eq!(other.family_name, "Quillfeather");
    assert_eq!(
        consentcam::store::consents::consents_of(&conn, other.id)
            .unwrap()
            .len(),
        1
    );
}
