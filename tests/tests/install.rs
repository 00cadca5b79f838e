//! `server/deploy/install.sh` run against a temporary root: it lays down every file with
//! the right mode and content, a second run changes nothing, and an edited config is kept.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/deploy")
}

fn install(root: &Path, bin_dir: &Path) -> Output {
    Command::new("bash")
        .arg(deploy().join("install.sh"))
        .arg("--root")
        .arg(root)
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A Pi's root as far as the installer cares: a boot config with a model section last.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
}

const BOOT_CONFIG: &str =
    "dtparam=audio=on\n[all]\narm_64bit=1\n[cm5]\ndtoverlay=dwc2,dr_mode=host";

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(root.join("boot/firmware")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(root.join("boot/firmware/config.txt"), BOOT_CONFIG).unwrap();
    std::fs::write(bin.join("consentcam"), "#!/bin/sh\necho server\n").unwrap();
    std::fs::write(bin.join("consentcam-kiosk"), "#!/bin/sh\necho kiosk\n").unwrap();
    Fixture {
        _dir: dir,
        root,
        bin,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File {
        mode: u32,
        content: Vec<u8>,
        modified: std::time::SystemTime,
    },
    Link(PathBuf),
}

/// Every file and symlink under `root`, by path relative to it.
fn tree(root: &Path) -> BTreeMap<String, Entry> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Entry>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = format!("/{}", path.strip_prefix(root).unwrap().display());
            if meta.file_type().is_symlink() {
                out.insert(rel, Entry::Link(std::fs::read_link(&path).unwrap()));
            } else if meta.is_dir() {
                walk(&path, root, out);
            } else {
                out.insert(
                    rel,
                    Entry::File {
                        mode: meta.permissions().mode() & 0o7777,
                        content: std::fs::read(&path).unwrap(),
                        modified: meta.modified().unwrap(),
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn file(tree: &BTreeMap<String, Entry>, path: &str) -> (u32, Vec<u8>) {
    match tree.get(path) {
        Some(Entry::File { mode, content, .. }) => (*mode, content.clone()),
        other => panic!("{path}: expected a file, found {other:?}"),
    }
}

#[test]
fn lays_down_every_file_with_its_mode_and_content() {
    let f = fixture();
    let out = install(&f.root, &f.bin);
    assert!(out.status.success(), "{}", text(&out));
    let tree = tree(&f.root);
    let deploy = deploy();
    let read = |p: &str| std::fs::read(deploy.join(p)).unwrap();

    let expected_files: Vec<(&str, u32, Vec<u8>)> = vec![
        (
            "/usr/local/bin/consentcam",
            0o755,
            std::fs::read(f.bin.join("consentcam")).unwrap(),
        ),
        (
            "/usr/local/bin/consentcam-kiosk",
            0o755,
            std::fs::read(f.bin.join("consentcam-kiosk")).unwrap(),
        ),
        (
            "/usr/lib/sysusers.d/consentcam.conf",
            0o644,
            read("systemd/consentcam.sysusers"),
        ),
        (
            "/etc/systemd/system/consentcam.service",
            0o644,
            read("systemd/consentcam.service"),
        ),
        (
            "/etc/systemd/system/consentcam-kiosk.service",
            0o644,
            read("systemd/consentcam-kiosk.service"),
        ),
        (
            "/etc/systemd/system/consentcam-import-card.service",
            0o644,
            read("systemd/consentcam-import-card.service"),
        ),
        (
            "/etc/systemd/system/media-consentcam\\x2dcard.mount",
            0o644,
            read("systemd/consentcam-card.mount"),
        ),
        (
            "/etc/systemd/system/consentcam-health.service",
            0o644,
            read("systemd/consentcam-health.service"),
        ),
        (
            "/etc/systemd/system/consentcam-health.timer",
            0o644,
            read("systemd/consentcam-health.timer"),
        ),
        (
            "/etc/systemd/system/consentcam-backup.service",
            0o644,
            read("systemd/consentcam-backup.service"),
        ),
        (
            "/etc/systemd/system/consentcam-backup.timer",
            0o644,
            read("systemd/consentcam-backup.timer"),
        ),
        (
            "/etc/systemd/journald.conf.d/consentcam.conf",
            0o644,
            read("systemd/consentcam-journald.conf"),
        ),
        (
            "/usr/local/sbin/consentcam-backup",
            0o755,
            read("backup.sh"),
        ),
        (
            "/etc/systemd/system.conf.d/consentcam-watchdog.conf",
            0o644,
            read("systemd/consentcam-watchdog.conf"),
        ),
        (
            "/etc/udev/rules.d/99-consentcam-card.rules",
            0o644,
            read("udev/99-consentcam-card.rules"),
        ),
        (
            "/etc/modules-load.d/consentcam.conf",
            0o644,
            b"i2c-dev\n".to_vec(),
        ),
        (
            "/etc/consentcam/config.toml",
            0o640,
            read("config/config.toml"),
        ),
        (
            "/etc/consentcam/kiosk.toml",
            0o640,
            std::fs::read(deploy.join("../../firmware/config/kiosk.toml")).unwrap(),
        ),
    ];
    for (path, mode, content) in &expected_files {
        let (got_mode, got) = file(&tree, path);
        assert_eq!(got_mode, *mode, "{path}: mode {got_mode:o}");
        assert!(got == *content, "{path}: content differs from its source");
    }

    let links = [
        (
            "/etc/systemd/system/multi-user.target.wants/consentcam.service",
            "/etc/systemd/system/consentcam.service",
        ),
        (
            "/etc/systemd/system/multi-user.target.wants/consentcam-kiosk.service",
            "/etc/systemd/system/consentcam-kiosk.service",
        ),
        (
            "/etc/systemd/system/timers.target.wants/consentcam-health.timer",
            "/etc/systemd/system/consentcam-health.timer",
        ),
    ];
    for (link, target) in links {
        assert_eq!(
            tree.get(link),
            Some(&Entry::Link(PathBuf::from(target))),
            "{link}"
        );
    }

    // SPI and I2C switched on, under [all] because the file ended in a [cm5] section.
    let (_, boot) = file(&tree, "/boot/firmware/config.txt");
    assert_eq!(
        String::from_utf8(boot).unwrap(),
        format!("{BOOT_CONFIG}\n[all]\ndtparam=spi=on\ndtparam=i2c_arm=on\n")
    );

    // Nothing else: every file is accounted for.
    let mut expected: Vec<&str> = expected_files.iter().map(|(p, ..)| *p).collect();
    expected.extend(links.iter().map(|(l, _)| *l));
    expected.push("/boot/firmware/config.txt");
    expected.sort_unstable();
    let got: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_second_run_changes_nothing_and_keeps_an_edited_config() {
    let f = fixture();
    let first = install(&f.root, &f.bin);
    assert!(first.status.success(), "{}", text(&first));
    let config = f.root.join("etc/consentcam/config.toml");
    let edited = "data_dir = \"/srv/consentcam\"\n";
    std::fs::write(&config, edited).unwrap();
    let before = tree(&f.root);

    let second = install(&f.root, &f.bin);
    assert!(second.status.success(), "{}", text(&second));
    assert_eq!(
        tree(&f.root),
        before,
        "the second run changed something:\n{}",
        text(&second)
    );
    assert!(
        text(&second).contains("done: 0 change(s)"),
        "{}",
        text(&second)
    );
    assert!(
        text(&second).contains("kept /etc/consentcam/config.toml"),
        "{}",
        text(&second)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
}

#[test]
fn a_new_binary_replaces_the_old_one_and_a_wrong_mode_is_repaired() {
    let f = fixture();
    assert!(install(&f.root, &f.bin).status.success());
    std::fs::write(f.bin.join("consentcam"), "#!/bin/sh\necho newer\n").unwrap();
    let unit = f.root.join("etc/systemd/system/consentcam.service");
    std::fs::set_permissions(&unit, std::fs::Permissions::from_mode(0o666)).unwrap();

    let out = install(&f.root, &f.bin);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("done: 2 change(s)"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(f.root.join("usr/local/bin/consentcam")).unwrap(),
        "#!/bin/sh\necho newer\n"
    );
    let mode = std::fs::metadata(&unit).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o644);
}

#[test]
fn refuses_without_binaries_and_writes_nothing() {
    let f = fixture();
    std::fs::remove_file(f.bin.join("consentcam-kiosk")).unwrap();
    let out = install(&f.root, &f.bin);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("consentcam-kiosk not found"),
        "{}",
        text(&out)
    );
    let tree = tree(&f.root);
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        ["/boot/firmware/config.txt"]
    );

    let usage = Command::new("bash")
        .arg(deploy().join("install.sh"))
        .args(["--root", f.root.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage).contains("--bin-dir is required"));
}

#[test]
fn the_units_point_at_what_the_installer_lays_down() {
    // The card pipeline hangs together: the rule names the device and the service, the
    // service mounts the card where the command reads it, and the mount is read-only.
    let read = |p: &str| std::fs::read_to_string(deploy().join(p)).unwrap();
    let rule = read("udev/99-consentcam-card.rules");
    assert!(rule.contains("SYMLINK+=\"consentcam-card\""));
    assert!(rule.contains("ENV{SYSTEMD_WANTS}+=\"consentcam-import-card.service\""));
    let mount = read("systemd/consentcam-card.mount");
    assert!(mount.contains("What=/dev/consentcam-card"));
    assert!(mount.contains("Where=/media/consentcam-card"));
    let options = mount
        .lines()
        .find_map(|l| l.strip_prefix("Options="))
        .unwrap();
    for required in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(options.split(',').any(|o| o == required), "{options}");
    }
    let import = read("systemd/consentcam-import-card.service");
    assert!(import.contains("RequiresMountsFor=/media/consentcam-card"));
    assert!(import.contains("import-card --mount /media/consentcam-card"));

    for (unit, user) in [
        ("systemd/consentcam.service", "consentcam"),
        ("systemd/consentcam-kiosk.service", "consentcam-kiosk"),
        ("systemd/consentcam-import-card.service", "consentcam"),
    ] {
        let text = read(unit);
        assert!(text.contains(&format!("\nUser={user}\n")), "{unit}");
        assert!(
            read("systemd/consentcam.sysusers").contains(&format!("u     {user} ")),
            "{user} is not in the sysusers file"
        );
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .unwrap();
        assert!(exec.starts_with("/usr/local/bin/consentcam"), "{unit}");
        assert!(exec.contains("--config /etc/consentcam/"), "{unit}");
    }
    assert!(read("systemd/consentcam.service").contains("Restart=on-failure"));
    assert!(read("systemd/consentcam-kiosk.service").contains("Restart=always"));
}

/// Runs `backup.sh` with a stand-in for `consentcam` on PATH that logs its arguments and
/// fails when they contain `$FAIL_ON`.
fn run_backup(dir: &Path, dest: &Path, extra_env: &[(&str, &str)]) -> Output {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("consentcam");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$*\" >>{}\ncase \"$*\" in *\"${{FAIL_ON:-never}}\"*) exit 1;; esac\n\
             case \"$*\" in *offsite-dir) echo \"$FAKE_OFFSITE\";; esac\n",
            dir.join("calls.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = Command::new("bash");
    command
        .arg(deploy().join("backup.sh"))
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("CONSENTCAM_BACKUP_DIR", dest)
        .env("CONSENTCAM_CONFIG", "/etc/consentcam/config.toml");
    for (k, v) in extra_env {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn the_backup_script_refuses_a_folder_that_is_not_a_mounted_device() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("not-mounted");
    std::fs::create_dir_all(&dest).unwrap();
    let out = run_backup(dir.path(), &dest, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not a mounted device"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[test]
fn the_off_site_folder_from_the_config_is_used_and_must_be_a_mounted_device_too() {
    let dir = tempfile::tempdir().unwrap();
    let offsite = dir.path().join("offsite-not-mounted");
    std::fs::create_dir_all(&offsite).unwrap();
    // The main folder is a mount point (/proc always is); the off-site one is not: refused
    // before anything is written anywhere.
    let out = run_backup(
        dir.path(),
        Path::new("/proc"),
        &[("FAKE_OFFSITE", offsite.to_str().unwrap())],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("{} is not a mounted device", offsite.display())),
        "{}",
        text(&out)
    );
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["--config /etc/consentcam/config.toml offsite-dir"],
        "only the config was asked"
    );
    assert_eq!(std::fs::read_dir(&offsite).unwrap().count(), 0);

    // With both in place, the config's folder gets the encrypted copy.
    std::fs::remove_file(dir.path().join("calls.log")).unwrap();
    let dest = dir.path().join("usb");
    std::fs::create_dir_all(&dest).unwrap();
    let out = run_backup(
        dir.path(),
        &dest,
        &[
            ("CONSENTCAM_BACKUP_ANY_DIR", "1"),
            ("FAKE_OFFSITE", offsite.to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert!(
        calls.contains(&format!("backup --encrypt {}", offsite.display())),
        "{calls}"
    );
}

#[test]
fn the_backup_script_backs_up_and_verifies_through_consentcam_and_fails_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("usb");
    std::fs::create_dir_all(&dest).unwrap();
    let offsite = dir.path().join("offsite");
    std::fs::create_dir_all(&offsite).unwrap();
    let out = run_backup(
        dir.path(),
        &dest,
        &[
            ("CONSENTCAM_BACKUP_ANY_DIR", "1"),
            ("CONSENTCAM_OFFSITE_DIR", offsite.to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    let config = "--config /etc/consentcam/config.toml";
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            format!("{config} backup {}", dest.display()),
            format!("{config} verify-backup {}", dest.display()),
            format!("{config} backup --encrypt {}", offsite.display()),
            format!("{config} verify-backup {}", offsite.display()),
            format!("{config} prune-backup {}", offsite.display()),
            format!("{config} prune-backup {}", dest.display()),
        ]
    );
    // What the program reports missing fails the night, loudly.
    let out = run_backup(
        dir.path(),
        &dest,
        &[
            ("CONSENTCAM_BACKUP_ANY_DIR", "1"),
            ("FAIL_ON", "verify-backup"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("FAILED: the backup in"),
        "{}",
        text(&out)
    );
    // So does a prune that fails (erased data would stay in the backups).
    let out = run_backup(
        dir.path(),
        &dest,
        &[
            ("CONSENTCAM_BACKUP_ANY_DIR", "1"),
            ("FAIL_ON", "prune-backup"),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("could not be pruned"), "{}", text(&out));
}

fn install_server(root: &Path, bin_dir: &Path) -> Output {
    Command::new("bash")
        .arg(deploy().join("install.sh"))
        .args(["--role", "server", "--root"])
        .arg(root)
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .unwrap()
}

#[test]
fn the_server_role_lays_down_the_central_server_and_nothing_of_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let (root, bin) = (dir.path().join("root"), dir.path().join("bin"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    // Only the server's binary: a VM has no kiosk.
    std::fs::write(bin.join("consentcam"), "#!/bin/sh\necho server\n").unwrap();
    let out = install_server(&root, &bin);
    assert!(out.status.success(), "{}", text(&out));
    let deploy = deploy();
    let read = |p: &str| std::fs::read(deploy.join(p)).unwrap();
    let expected: Vec<(&str, u32, Vec<u8>)> = vec![
        (
            "/usr/local/bin/consentcam",
            0o755,
            b"#!/bin/sh\necho server\n".to_vec(),
        ),
        (
            "/usr/lib/sysusers.d/consentcam.conf",
            0o644,
            read("systemd/consentcam-server.sysusers"),
        ),
        (
            "/etc/systemd/system/consentcam.service",
            0o644,
            read("systemd/consentcam.service"),
        ),
        (
            "/etc/systemd/system/consentcam-health.service",
            0o644,
            read("systemd/consentcam-health.service"),
        ),
        (
            "/etc/systemd/system/consentcam-health.timer",
            0o644,
            read("systemd/consentcam-health.timer"),
        ),
        (
            "/etc/systemd/system/consentcam-backup.service",
            0o644,
            read("systemd/consentcam-backup.service"),
        ),
        (
            "/etc/systemd/system/consentcam-backup.timer",
            0o644,
            read("systemd/consentcam-backup.timer"),
        ),
        (
            "/etc/systemd/journald.conf.d/consentcam.conf",
            0o644,
            read("systemd/consentcam-journald.conf"),
        ),
        (
            "/usr/local/sbin/consentcam-backup",
            0o755,
            read("backup.sh"),
        ),
        (
            "/etc/consentcam/config.toml",
            0o640,
            read("config/server.toml"),
        ),
        (
            "/etc/consentcam/s3-credentials.example",
            0o640,
            read("config/s3-credentials.example"),
        ),
        ("/etc/consentcam/Caddyfile", 0o644, read("proxy/Caddyfile")),
    ];
    let laid = tree(&root);
    for (path, mode, content) in &expected {
        assert_eq!(file(&laid, path), (*mode, content.clone()), "{path}");
    }
    let links = [
        (
            "/etc/systemd/system/multi-user.target.wants/consentcam.service",
            "consentcam.service",
        ),
        (
            "/etc/systemd/system/timers.target.wants/consentcam-health.timer",
            "consentcam-health.timer",
        ),
    ];
    for (link, unit) in links {
        assert_eq!(
            laid.get(link),
            Some(&Entry::Link(PathBuf::from(format!(
                "/etc/systemd/system/{unit}"
            )))),
            "{link}"
        );
    }
    // Nothing else: no kiosk, no card import, no udev rule, no boot config.
    assert_eq!(
        laid.len(),
        expected.len() + links.len(),
        "{:#?}",
        laid.keys()
    );

    // A second run changes nothing; an edited config is kept.
    std::fs::write(
        root.join("etc/consentcam/config.toml"),
        "bind = \"127.0.0.1:9000\"\n",
    )
    .unwrap();
    let before = tree(&root);
    let again = install_server(&root, &bin);
    assert!(
        text(&again).contains("done: 0 change(s)"),
        "{}",
        text(&again)
    );
    assert!(
        text(&again).contains("kept /etc/consentcam/config.toml"),
        "{}",
        text(&again)
    );
    assert_eq!(tree(&root), before, "a second run touched a file");
}

#[test]
fn an_unknown_role_is_refused_and_writes_nothing() {
    let f = fixture();
    let out = Command::new("bash")
        .arg(deploy().join("install.sh"))
        .args(["--role", "kiosk", "--root"])
        .arg(&f.root)
        .arg("--bin-dir")
        .arg(&f.bin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--role must be pi, server or site"),
        "{}",
        text(&out)
    );
    assert!(!f.root.join("usr").exists());
}

fn install_as(role: &str, root: &Path, bin_dir: &Path) -> Output {
    Command::new("bash")
        .arg(deploy().join("install.sh"))
        .args(["--role", role, "--root"])
        .arg(root)
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .unwrap()
}

const SERVER_WANTS: [&str; 2] = [
    "/etc/systemd/system/multi-user.target.wants/consentcam.service",
    "/etc/systemd/system/timers.target.wants/consentcam-health.timer",
];
const SITE_DROPIN: &str = "/etc/systemd/system/consentcam-import-card.service.d/site.conf";

#[test]
fn the_site_role_lays_down_the_kiosk_and_an_import_that_sends_to_the_server() {
    let f = fixture();
    let out = install_as("site", &f.root, &f.bin);
    assert!(out.status.success(), "{}", text(&out));
    let laid = tree(&f.root);
    let read = |p: &str| std::fs::read(deploy().join(p)).unwrap();
    for (path, mode, content) in [
        (
            "/etc/systemd/system/consentcam-kiosk.service",
            0o644,
            read("systemd/consentcam-kiosk.service"),
        ),
        (
            "/etc/systemd/system/consentcam-import-card.service",
            0o644,
            read("systemd/consentcam-import-card.service"),
        ),
        (
            SITE_DROPIN,
            0o644,
            read("systemd/consentcam-import-card-site.conf"),
        ),
        ("/etc/consentcam/site.env", 0o640, read("config/site.env")),
        // Empty until the token is pasted; the import (its group) reads it too.
        ("/etc/consentcam/kiosk.token", 0o640, Vec::new()),
    ] {
        assert_eq!(file(&laid, path), (mode, content), "{path}");
    }
    // No server, health check or backup of its own.
    for absent in [
        "/etc/systemd/system/consentcam.service",
        "/etc/systemd/system/consentcam-health.timer",
        "/etc/systemd/system/consentcam-backup.service",
        "/usr/local/sbin/consentcam-backup",
        SERVER_WANTS[0],
        SERVER_WANTS[1],
    ] {
        assert!(!laid.contains_key(absent), "{absent} was laid down");
    }
    assert_eq!(
        laid.get("/etc/systemd/system/multi-user.target.wants/consentcam-kiosk.service"),
        Some(&Entry::Link(PathBuf::from(
            "/etc/systemd/system/consentcam-kiosk.service"
        )))
    );
    // The drop-in runs the unit's own import, only sending to the server.
    let unit = String::from_utf8(read("systemd/consentcam-import-card.service")).unwrap();
    let dropin = String::from_utf8(read("systemd/consentcam-import-card-site.conf")).unwrap();
    let exec = |text: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix("ExecStart="))
            .rfind(|l| !l.is_empty())
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        exec(&dropin).replace(
            " --server ${CONSENTCAM_SERVER} --token-file /etc/consentcam/kiosk.token",
            ""
        ),
        exec(&unit)
    );
    assert!(dropin.contains("PrivateNetwork=no"));

    // A second run changes nothing, and a pasted token is kept.
    std::fs::write(f.root.join("etc/consentcam/kiosk.token"), "a-token\n").unwrap();
    let before = tree(&f.root);
    let again = install_as("site", &f.root, &f.bin);
    assert!(
        text(&again).contains("done: 0 change(s)"),
        "{}",
        text(&again)
    );
    assert_eq!(tree(&f.root), before, "a second run touched a file");
}

#[test]
fn a_pi_turned_into_a_site_stops_enabling_its_server_and_back_again() {
    let f = fixture();
    assert!(install(&f.root, &f.bin).status.success());
    let laid = tree(&f.root);
    for wanted in SERVER_WANTS {
        assert!(laid.contains_key(wanted), "{wanted}");
    }
    // An upgrade as a site (the guide's own words once were: disable them by hand).
    let out = install_as("site", &f.root, &f.bin);
    assert!(out.status.success(), "{}", text(&out));
    let laid = tree(&f.root);
    for wanted in SERVER_WANTS {
        assert!(!laid.contains_key(wanted), "{wanted} still enabled");
        assert!(
            text(&out).contains(&format!("removed {wanted}")),
            "{}",
            text(&out)
        );
    }
    assert!(laid.contains_key(SITE_DROPIN));
    // The records a Pi kept stay where they are (nothing under /var is touched).
    assert!(!text(&out).contains("/var/"), "{}", text(&out));
    // Back to a Pi of its own: the server is enabled and the import stores here again.
    let out = install(&f.root, &f.bin);
    assert!(out.status.success(), "{}", text(&out));
    let laid = tree(&f.root);
    for wanted in SERVER_WANTS {
        assert!(laid.contains_key(wanted), "{wanted}");
    }
    assert!(
        !laid.contains_key(SITE_DROPIN),
        "the site's drop-in is still there"
    );
}
