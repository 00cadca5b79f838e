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

/// Runs a command that must succeed; returns what it printed.
fn succeeds(data_dir: &std::path::Path, args: &[&str]) -> String {
    let out = consentcam(data_dir, args, None);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    text(&out)
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

/// Runs `consentcam` in a pseudo-terminal (util-linux `script`), typing `typed`: what a
/// person at a terminal sees.
fn at_a_terminal(data_dir: &std::path::Path, args: &str, typed: &str) -> Output {
    use std::io::Write;
    let command = format!(
        "{} --data-dir {} {args}",
        env!("CARGO_BIN_EXE_consentcam"),
        data_dir.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs a command in a pseudo-terminal");
    let mut stdin = child.stdin.take().unwrap();
    for line in typed.lines() {
        // One line at a time, as typed, once the prompt has had time to appear.
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(format!("{line}\r").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn a_password_typed_at_a_terminal_is_not_shown_and_is_asked_twice() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "correct horse battery";
    let out = at_a_terminal(
        dir.path(),
        "user add head --role director",
        &format!("{secret}\n{secret} staple"),
    );
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("not shown"), "{shown}");
    assert!(shown.contains("The same password again"), "{shown}");
    assert!(
        shown.contains("the two passwords differ; nothing was changed"),
        "{shown}"
    );
    assert!(!shown.contains(secret), "the password was echoed: {shown}");
    let list = consentcam(dir.path(), &["user", "list"], None);
    assert!(!text(&list).contains("head"), "{}", text(&list));

    let out = at_a_terminal(
        dir.path(),
        "user add head --role director",
        &format!("{secret}\n{secret}"),
    );
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("(head, director) created"), "{shown}");
    assert!(!shown.contains(secret), "the password was echoed: {shown}");
}

#[test]
fn a_usb_stick_of_documents_is_not_a_camera_card_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let stick = tempfile::tempdir().unwrap();
    std::fs::write(stick.path().join("register.csv"), format!("{HEADER}\n")).unwrap();
    std::fs::write(stick.path().join("policy.pdf"), "%PDF-1.4\n").unwrap();
    let progress = dir.path().join("progress.jsonl");
    let out = consentcam(
        dir.path(),
        &[
            "import-card",
            "--mount",
            stick.path().to_str().unwrap(),
            "--no-faces",
            "--progress",
            progress.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a camera card: it has no DCIM folder"),
        "{}",
        text(&out)
    );
    // The kiosk, following the progress file, says why.
    let followed = std::fs::read_to_string(&progress).unwrap();
    assert!(followed.contains("not a camera card"), "{followed}");
    let conn = consentcam::store::open(&dir.path().join("records.db")).unwrap();
    let photos: i64 = conn
        .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(photos, 0);
    assert!(
        stick.path().join("register.csv").exists(),
        "the stick is untouched"
    );
}

/// The set-up a kiosk tap needs, from the command line: a device with its tag, a badge
/// for a person who may sign out, a group; each listed back.
#[test]
fn devices_badges_groups_and_kiosks_are_added_and_listed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let forms = dir.path().join("forms.csv");
    std::fs::write(
        &forms,
        format!(
            "{HEADER}\nS1,Isla,Moss,1990-02-01,staff,no,self,,2026-09-01,yes,,yes,no,,\n\
             L1,Robin,Okafor,2011-04-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n\
             L2,Sam,Ng,2011-04-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n"
        ),
    )
    .unwrap();
    let ok = |args: &[&str]| succeeds(dir.path(), args);
    ok(&["import-consents", forms.to_str().unwrap()]);
    assert!(
        ok(&[
            "device-add",
            "Camera 1",
            "--tag",
            "04:A1:B2:C3",
            "--make",
            "Canon",
            "--model",
            "EOS 250D",
            "--serial",
            "0123",
        ])
        .contains("(Camera 1) registered")
    );
    let out = consentcam(
        dir.path(),
        &[
            "device-add",
            "Camera 2",
            "--tag",
            "zz",
            "--make",
            "Canon",
            "--model",
            "EOS",
            "--serial",
            "9",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("--tag \"zz\""), "{}", text(&out));
    assert!(ok(&["device-list"]).contains("Camera 1\t04A1B2C3\t480 min"));
    assert!(
        ok(&["badge-add", "0A0B0C0D", "--person", "S1", "--may-sign-out"])
            .contains("S1 may now sign devices out")
    );
    let out = consentcam(
        dir.path(),
        &["badge-add", "0A0B0C0E", "--person", "X9"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("no person with the reference \"X9\""));
    assert!(ok(&["badge-list"]).contains("0A0B0C0D\tS1\tactive"));
    let conn = consentcam::store::open(&dir.path().join("records.db")).unwrap();
    let isla = consentcam::store::people::person_by_ref(&conn, "S1")
        .unwrap()
        .unwrap();
    assert!(isla.may_sign_out);
    assert!(ok(&["group-add", "Year 10", "--person", "L1,L2"]).contains("with 2 member(s)"));
    assert!(ok(&["group-list"]).contains("Year 10\t2 member(s)"));
    let out = consentcam(
        dir.path(),
        &["group-add", "Trip", "--person", "L1,L9"],
        None,
    );
    assert!(!out.status.success());
    assert!(!ok(&["group-list"]).contains("Trip"), "no group half made");
    ok(&["kiosk-add", "office"]);
    assert!(ok(&["kiosk-list"]).contains("office\tactive"));
}

#[test]
fn site_assign_moves_everything_named_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let forms = dir.path().join("forms.csv");
    std::fs::write(
        &forms,
        format!(
            "{HEADER}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n\
             L2,Sam,Ng,2011-04-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n"
        ),
    )
    .unwrap();
    let ok = |args: &[&str]| succeeds(dir.path(), args);
    ok(&["import-consents", forms.to_str().unwrap()]);
    ok(&["site-add", "North"]);
    ok(&["kiosk-add", "north-office"]);
    ok(&[
        "device-add",
        "Camera 1",
        "--tag",
        "04A1B2C3",
        "--make",
        "Canon",
        "--model",
        "EOS",
        "--serial",
        "1",
    ]);
    let site_of = |kind: &str, id: i64| -> Option<i64> {
        let conn = consentcam::store::open(&dir.path().join("records.db")).unwrap();
        conn.query_row(
            &format!("SELECT site_id FROM {kind} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    // A device that does not exist: nothing moves, not even the people named first.
    let out = consentcam(
        dir.path(),
        &[
            "site-assign",
            "--site",
            "North",
            "--person",
            "L1,L2",
            "--device",
            "Camera 9",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no device labelled \"Camera 9\""),
        "{}",
        text(&out)
    );
    assert_eq!(site_of("people", 1), None);
    // By label and with refs separated by commas.
    let moved = ok(&[
        "site-assign",
        "--site",
        "North",
        "--person",
        "L1,L2",
        "--device",
        "Camera 1",
    ]);
    assert!(moved.contains("3 record(s) moved"), "{moved}");
    assert_eq!(site_of("people", 2), Some(1));
    assert_eq!(site_of("devices", 1), Some(1));
    // --unassigned: what is left in no site (the kiosk), never an account.
    let out = consentcam(
        dir.path(),
        &["user", "add", "trust-admin", "--role", "admin"],
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let moved = ok(&["site-assign", "--site", "North", "--unassigned"]);
    assert!(moved.contains("kiosk 1: North"), "{moved}");
    assert!(moved.contains("1 record(s) moved"), "{moved}");
    assert_eq!(site_of("kiosks", 1), Some(1));
    assert_eq!(site_of("accounts", 1), None);
    let out = consentcam(
        dir.path(),
        &["site-assign", "--site", "North", "--unassigned"],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("nothing is in no site"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_backup_says_what_is_wrong_with_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-mounted");
    let out = consentcam(
        dir.path(),
        &["verify-backup", missing.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not a folder (is the backup drive mounted?)"),
        "{}",
        text(&out)
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = consentcam(
        dir.path(),
        &["verify-backup", empty.to_str().unwrap()],
        None,
    );
    assert!(
        text(&out).contains("no backup was ever completed there"),
        "{}",
        text(&out)
    );
    // A folder this user may not read is said to be so, not "never backed up".
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("LATEST"), "x.json\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let out = if is_root {
        // Root reads anything: ask as nobody, as an admin without sudo would.
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_consentcam"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("verify-backup")
            .arg(&locked)
            .output()
            .expect("setpriv (util-linux)")
    } else {
        consentcam(
            dir.path(),
            &["verify-backup", locked.to_str().unwrap()],
            None,
        )
    };
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("permission denied reading the backup folder"),
        "{}",
        text(&out)
    );
}
