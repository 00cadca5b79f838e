//! The guides, followed as written. Each test takes the shell blocks a guide marks with
//! `<!-- guide-test: NAME -->` and runs them, in order and unchanged, on a throwaway copy
//! of this machine: a mount and network namespace (`unshare`) where `/etc`, `/usr`, `/var`
//! and the other top-level folders are copy-on-write layers over the real ones (overlayfs),
//! `/mnt`, `/media` and `/run` are empty, and only loopback exists. Nothing reaches the real
//! system.
//!
//! What a namespace cannot do is stood in for by small commands first on `PATH`: `sudo`
//! runs the command as it is (there is one user inside), `systemctl` starts the server the
//! unit would start and runs a oneshot unit's script, `nano` makes the edit the test says
//! the person makes, `mount` of an `/etc/fstab` line binds the folder onto itself (a mount
//! point, as a drive would be), and `chown`, `useradd` and friends only record what they
//! were asked. A block fails the test when a command in it fails, and each `# "..."`
//! comment in it is text its output must show (`...` between the parts it shows in order).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A shell block of a guide.
#[derive(Debug, Clone)]
struct Block {
    name: String,
    code: String,
}

/// The blocks of `guide` (a path from the repository's root) marked for testing, by name.
fn blocks(guide: &str) -> BTreeMap<String, Block> {
    let text = std::fs::read_to_string(repo().join(guide)).expect("the guide");
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .trim()
            .strip_prefix("<!-- guide-test:")
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.trim_start().starts_with("```sh"),
            "{guide}: the block marked {name} must start right under its marker, with ```sh"
        );
        // A block in a list item is indented as its fence is.
        let indent = fence.len() - fence.trim_start().len();
        let mut code = String::new();
        for line in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            code.push_str(line.get(indent..).unwrap_or(line.trim_start()));
            code.push('\n');
        }
        let name = name.trim().to_owned();
        out.insert(name.clone(), Block { name, code });
    }
    out
}

/// The output a block's `# "..."` comments promise (a comment that starts with a quote),
/// each as its parts in order.
fn promised(code: &str) -> Vec<Vec<String>> {
    code.lines()
        .filter_map(|line| {
            let comment = match line.trim_start().strip_prefix('#') {
                Some(whole_line) => whole_line,
                None => line.split_once(" #").map(|(_, c)| c)?,
            };
            let quoted = comment.trim_start().strip_prefix('"')?;
            let end = quoted.rfind('"')?;
            Some(
                quoted[..end]
                    .split("...")
                    .map(|p| p.trim().trim_matches('"').trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
            )
        })
        .collect()
}

/// Whether `output` shows `parts` in order.
fn shows(output: &str, parts: &[String]) -> bool {
    let mut rest = output;
    for part in parts {
        match rest.find(part.as_str()) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// The stand-ins, written into the namespace's `PATH`.
const SHIMS: &[(&str, &str)] = &[
    (
        "sudo",
        r#"#!/bin/bash
# One user inside: run the command as it is, without sudo's options.
while [ $# -gt 0 ]; do
    case "$1" in
        -u|-g) shift 2 ;;
        -n|-E|-H) shift ;;
        *) break ;;
    esac
done
# A password a person types for `user add` / `set-password`: the next one the test gave.
if [[ "$*" == *" user add "* || "$*" == *" user set-password "* ]]; then
    next=$(ls "$GUIDE/typed" 2>/dev/null | head -n 1)
    if [ -n "$next" ]; then
        file="$GUIDE/typed/$next"
        exec "$@" < <(cat "$file"; rm -f "$file")
    fi
fi
exec "$@"
"#,
    ),
    (
        "systemctl",
        r#"#!/bin/bash
# systemd, as far as the guides use it.
echo "systemctl $*" >>"$GUIDE/systemctl.log"
verb="$1"; shift
now=false
units=()
for a in "$@"; do
    case "$a" in
        --now) now=true ;;
        -*) ;;
        *) units+=("${a%.service}") ;;
    esac
done
state_directory() {
    local dir
    dir=$(sed -n 's/^StateDirectory=//p' "/etc/systemd/system/$1.service" | tail -n 1)
    [ -z "$dir" ] || mkdir -p "/var/lib/$dir"
}
# start_daemon NAME READY COMMAND...: runs COMMAND as unit NAME would, its output in
# /run/guide-NAME.log, and waits until READY (a shell test) passes or it dies.
start_daemon() {
    local name="$1" ready="$2"; shift 2
    setsid "$@" >>"/run/guide-$name.log" 2>&1 </dev/null &
    echo $! >"/run/guide-$name.pid"
    for _ in $(seq 1 300); do
        if eval "$ready"; then return 0; fi
        if ! kill -0 "$(cat "/run/guide-$name.pid")" 2>/dev/null; then
            echo "$name.service failed to start:" >&2
            tail -n 20 "/run/guide-$name.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "$name.service did not answer in 30 s" >&2
    return 1
}
# stop_daemon NAME: stops what start_daemon NAME started, if it runs.
stop_daemon() {
    local pid; pid=$(cat "/run/guide-$1.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "/run/guide-$1.pid"
}
start_server() {
    state_directory consentcam
    local pid; pid=$(cat /run/guide-consentcam.pid 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then return 0; fi
    start_daemon consentcam 'curl -s -o /dev/null --max-time 1 http://127.0.0.1:8080/health' \
        /usr/local/bin/consentcam --config /etc/consentcam/config.toml serve
}
# A unit's setting: its file's lines, then its drop-ins' (a later one wins; an empty
# `ExecStart=` in a drop-in clears the unit's).
setting() {
    cat "/etc/systemd/system/$1.service" /etc/systemd/system/"$1".service.d/*.conf 2>/dev/null |
        sed -n "s/^$2=//p"
}
run_oneshot() {
    local unit="$1" exec file
    state_directory "$unit"
    for dir in $(setting "$unit" RuntimeDirectory); do mkdir -p "/run/$dir"; done
    exec=$(setting "$unit" ExecStart | sed '/^$/d' | tail -n 1)
    (
        for file in $(setting "$unit" EnvironmentFile); do set -a; . "$file"; set +a; done
        env $(setting "$unit" Environment) bash -c "$exec"
    ) >>"/run/guide-$unit.log" 2>&1
}
# Caddy as Debian's caddy.service runs it: /etc/caddy/Caddyfile, its data under the caddy
# user's home. Started once it listens on 443.
start_caddy() {
    stop_daemon caddy
    # Caddy's data (its certificate authority) as on a fresh install: the caddy user's
    # home, empty and writable by it.
    mountpoint -q /var/lib/caddy || /bin/mount -t tmpfs guide-caddy /var/lib/caddy
    start_daemon caddy '(exec 3<>/dev/tcp/127.0.0.1/443) 2>/dev/null' \
        env HOME=/var/lib/caddy caddy run --environ --config /etc/caddy/Caddyfile
}
case "$verb" in
    start|restart|enable|disable|stop)
        for unit in "${units[@]}"; do
            case "$verb:$unit:$now" in
                start:consentcam:*|enable:consentcam:true) start_server || exit 1 ;;
                restart:consentcam:*) stop_daemon consentcam; start_server || exit 1 ;;
                stop:consentcam:*|disable:consentcam:true) stop_daemon consentcam ;;
                start:consentcam-backup:*) run_oneshot consentcam-backup || exit 1 ;;
                start:consentcam-import-card:*) run_oneshot consentcam-import-card || exit 1 ;;
                start:caddy:*|restart:caddy:*|enable:caddy:true) start_caddy || exit 1 ;;
                stop:caddy:*) stop_daemon caddy ;;
                *) ;;
            esac
        done ;;
    *) ;;
esac
"#,
    ),
    (
        "apt",
        r#"#!/bin/bash
# The packages a guide installs: the test machine must have them already.
[ "$1" = install ] || exit 0
shift
for package in "$@"; do
    case "$package" in -*) continue ;; esac
    if ! dpkg -s "$package" >/dev/null 2>&1; then
        echo "apt install $package: not installed on the test machine (.ci/run installs it)" >&2
        exit 1
    fi
done
"#,
    ),
    (
        "journalctl",
        r#"#!/bin/bash
# The journal of a unit: what the stand-in for systemctl kept of it.
unit=""; lines=10
while [ $# -gt 0 ]; do
    case "$1" in
        -u) unit="${2%.service}"; shift 2 ;;
        -n) lines="$2"; shift 2 ;;
        *) shift ;;
    esac
done
tail -n "$lines" "/run/guide-$unit.log" 2>/dev/null
"#,
    ),
    (
        "nano",
        r#"#!/bin/bash
# The edit the person makes, as the test describes it for this file's name.
edit="$GUIDE/edits/$(basename "$1")"
if [ ! -f "$edit" ]; then
    echo "nano $1: the test says nothing of what to type here" >&2
    exit 1
fi
bash "$edit" "$1"
"#,
    ),
    (
        "mount",
        r#"#!/bin/bash
# `mount /mnt/x` of an /etc/fstab line: the folder becomes a mount point, as the drive.
if [ $# -eq 1 ] && grep -qE "[[:space:]]$1[[:space:]]" /etc/fstab; then
    exec /bin/mount --bind "$1" "$1"
fi
exec /bin/mount "$@"
"#,
    ),
    (
        "install",
        r#"#!/bin/bash
# One user inside: the owner and group are recorded, not set.
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o|-g) echo "install $1 $2" >>"$GUIDE/owners.log"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
exec /usr/bin/install "${args[@]}"
"#,
    ),
    (
        "chown",
        "#!/bin/sh\necho \"chown $*\" >>\"$GUIDE/owners.log\"\n",
    ),
    (
        "chgrp",
        "#!/bin/sh\necho \"chgrp $*\" >>\"$GUIDE/owners.log\"\n",
    ),
    (
        "useradd",
        "#!/bin/sh\necho \"useradd $*\" >>\"$GUIDE/owners.log\"\n",
    ),
    (
        "usermod",
        "#!/bin/sh\necho \"usermod $*\" >>\"$GUIDE/owners.log\"\n",
    ),
    (
        "systemd-sysusers",
        "#!/bin/sh\necho \"systemd-sysusers $*\" >>\"$GUIDE/owners.log\"\n",
    ),
    ("udevadm", "#!/bin/sh\nexit 0\n"),
    (
        "mkfs.ext4",
        "#!/bin/sh\necho \"mkfs.ext4 $*\" >>\"$GUIDE/owners.log\"\n",
    ),
];

/// A throwaway machine: the namespace's driver, its stand-ins and what the person types.
struct Machine {
    dir: tempfile::TempDir,
    steps: Vec<(Block, String)>,
}

/// What one block did.
#[derive(Debug)]
struct Ran {
    name: String,
    code: String,
    output: String,
    status: Option<i32>,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path();
        for sub in ["shims", "typed", "edits", "blocks", "out", "home"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for (name, text) in SHIMS {
            let path = root.join("shims").join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Machine {
            dir,
            steps: Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The person's home folder (`~`).
    fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// A password typed at the next `user add` / `set-password`.
    fn types_password(&self, password: &str) {
        let n = std::fs::read_dir(self.path().join("typed"))
            .unwrap()
            .count();
        std::fs::write(
            self.path().join("typed").join(format!("{n:06}")),
            format!("{password}\n"),
        )
        .unwrap();
    }

    /// What the person does in `nano FILE`: `script` runs with the file as `$1` (and the
    /// output of the blocks so far under `$GUIDE/out`).
    fn edits(&self, file_name: &str, script: &str) {
        std::fs::write(self.path().join("edits").join(file_name), script).unwrap();
    }

    /// A guide's block, run as written.
    fn follow(&mut self, block: &Block) {
        self.steps.push((block.clone(), block.code.clone()));
    }

    /// A check of the test's own, run after the blocks before it (not from a guide).
    fn check(&mut self, name: &str, code: &str) {
        self.steps.push((
            Block {
                name: format!("check: {name}"),
                code: code.to_owned(),
            },
            code.to_owned(),
        ));
    }

    /// Runs every step in one namespace, in order, stopping at the first that fails.
    fn run(&self) -> Vec<Ran> {
        let root = self.path();
        for (n, (_, code)) in self.steps.iter().enumerate() {
            // A line the person ends with Ctrl-C (a server they looked at): stopped after a
            // few seconds, as they would.
            let code: String = code
                .lines()
                .map(|line| match line.split_once(" #") {
                    Some((command, comment)) if comment.contains("Ctrl-C") => {
                        format!("timeout -s INT 5 {command} || [ $? = 124 ]\n")
                    }
                    _ => format!("{line}\n"),
                })
                .collect();
            // One terminal throughout: the functions a block defined (`cc`) are there in
            // the blocks after it.
            let code = format!(
                ". \"$GUIDE/functions.sh\" 2>/dev/null || true\ntrap 'declare -f >\"$GUIDE/functions.sh\"' EXIT\n{code}"
            );
            std::fs::write(root.join("blocks").join(format!("{n:03}.sh")), code).unwrap();
        }
        let driver = format!(
            r#"set -u
GUIDE={root}
export GUIDE
# Copy-on-write layers over the real folders; empty ones where drives and run-time go.
/bin/mount -t tmpfs guide-layers "$GUIDE/layers" 2>/dev/null || {{ mkdir -p "$GUIDE/layers"; /bin/mount -t tmpfs guide-layers "$GUIDE/layers"; }}
for d in etc usr var opt srv home root boot; do
    [ -d "/$d" ] || continue
    mkdir -p "$GUIDE/layers/$d/upper" "$GUIDE/layers/$d/work"
    /bin/mount -t overlay overlay -o "lowerdir=/$d,upperdir=$GUIDE/layers/$d/upper,workdir=$GUIDE/layers/$d/work" "/$d" \
        || {{ echo "cannot lay a copy-on-write layer over /$d (overlayfs in a user namespace)" >&2; exit 97; }}
done
for d in mnt media run; do /bin/mount -t tmpfs "guide-$d" "/$d"; done
ip link set lo up
export HOME="$GUIDE/home" PATH="$GUIDE/shims:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
cd "$HOME"
for block in "$GUIDE"/blocks/*.sh; do
    n=$(basename "$block" .sh)
    bash -e -o pipefail "$block" >"$GUIDE/out/$n.log" 2>&1 </dev/null
    echo $? >"$GUIDE/out/$n.rc"
    [ "$(cat "$GUIDE/out/$n.rc")" = 0 ] || break
done
for pid in /run/guide-*.pid; do kill "$(cat "$pid")" 2>/dev/null; done
exit 0
"#,
            root = root.display()
        );
        std::fs::create_dir_all(root.join("layers")).unwrap();
        std::fs::write(root.join("driver.sh"), driver).unwrap();
        let out = Command::new("unshare")
            .args(["-rmn", "--propagation", "private", "bash"])
            .arg(root.join("driver.sh"))
            .output()
            .expect("unshare (util-linux)");
        assert!(
            out.status.success(),
            "the throwaway machine did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.steps
            .iter()
            .enumerate()
            .map(|(n, (block, code))| {
                let read = |ext: &str| {
                    std::fs::read_to_string(root.join("out").join(format!("{n:03}.{ext}"))).ok()
                };
                Ran {
                    name: block.name.clone(),
                    code: code.clone(),
                    output: read("log").unwrap_or_default(),
                    status: read("rc").and_then(|rc| rc.trim().parse().ok()),
                }
            })
            .collect()
    }
}

/// Every block ran, exited 0 and showed what its comments promise.
fn assert_followed(ran: &[Ran]) {
    // GUIDES_SHOW=1 prints what each block printed, as the person would have seen it.
    if std::env::var_os("GUIDES_SHOW").is_some() {
        for step in ran {
            eprintln!("=== {} ({:?})\n{}", step.name, step.status, step.output);
        }
    }
    for step in ran {
        assert_eq!(
            step.status,
            Some(0),
            "{}: {}\n--- the block ---\n{}--- what it printed ---\n{}",
            step.name,
            match step.status {
                None => "never ran (a block before it failed)".to_owned(),
                Some(code) => format!("exited {code}"),
            },
            step.code,
            step.output
        );
        for parts in promised(&step.code) {
            assert!(
                shows(&step.output, &parts),
                "{}: the guide says it shows {parts:?}\n--- what it printed ---\n{}",
                step.name,
                step.output
            );
        }
    }
}

/// The repository's files the Pi guide copies to the Pi (step 3), and the binaries.
fn copy_to_the_pi(machine: &Machine) {
    let home = machine.home();
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_consentcam"), bin.join("consentcam")).unwrap();
    // The kiosk needs the Pi's hardware: a stand-in that says what it is.
    std::fs::write(
        bin.join("consentcam-kiosk"),
        "#!/bin/sh\necho consentcam-kiosk\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        bin.join("consentcam-kiosk"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::create_dir_all(home.join("consentcam")).unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg("--parents")
        .args(["server/deploy", "firmware/config"])
        .arg(home.join("consentcam"))
        .current_dir(repo())
        .status();
    assert!(status.unwrap().success(), "copying the deploy folder");
}

/// A check: `/health` counts a backup found whole.
const HEALTH_KNOWS_THE_BACKUP: &str = r#"health=$(curl -s http://127.0.0.1:8080/health); echo "$health"
echo "$health" | grep -q '"backup":"ok"'"#;

const FORMS: &str = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\n\
S200,Isla,Moss,1990-02-01,staff,no,self,,2026-09-01,yes,,yes,no,,\n\
L100,Amira,Hassan,2011-04-01,learner,no,parent,Samira Hassan,2026-09-01,yes,,yes,yes,,\n";

/// A Pi with the repository's files and the binaries copied over (guide step 3), the
/// forms CSV in the home folder, the two passwords step 6 asks for, and what the person
/// types into the token file (the token printed last) and the kiosk's config.
fn a_pi_with_its_forms() -> Machine {
    let pi = Machine::new();
    copy_to_the_pi(&pi);
    std::fs::write(pi.home().join("signed-forms.csv"), FORMS).unwrap();
    pi.types_password("a long director password");
    pi.types_password("a long admin password");
    pi.edits(
        "kiosk.token",
        r#"token=$(cat "$GUIDE"/out/*.log | grep -A1 "(shown once" | tail -n 1)
printf '%s\n' "$token" >"$1""#,
    );
    pi.edits(
        "kiosk.toml",
        r#"sed -i 's|^server_url *=.*|server_url = "http://127.0.0.1:8080"|' "$1""#,
    );
    pi
}

/// The Pi guide from the install (step 4) through configuring and starting (step 6), the
/// backup drive and the first backup (step 11), the restore drill, and restoring for real
/// onto an emptied card with a new kiosk token, exactly as the guide's blocks say.
#[test]
fn the_pi_guide_from_install_to_a_restore_as_written() {
    let guide = blocks("server/deploy/README.md");
    let block = |name: &str| {
        guide
            .get(name)
            .unwrap_or_else(|| panic!("the Pi guide has no block marked {name}"))
            .clone()
    };
    let mut pi = a_pi_with_its_forms();
    pi.follow(&block("pi-install"));
    pi.follow(&block("pi-configure"));
    pi.check(
        "the kiosk's token is accepted",
        r#"code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat /etc/consentcam/kiosk.token)" http://127.0.0.1:8080/api/v1/kiosk/roster)
echo "roster: $code"; [ "$code" = 200 ]
cp /etc/consentcam/kiosk.token "$GUIDE/old.token""#,
    );
    pi.follow(&block("pi-backup-drive"));
    pi.check("health knows of the backup", HEALTH_KNOWS_THE_BACKUP);
    // The off-site drive and its key: the public half typed into the config.
    let key = age::x25519::Identity::generate();
    pi.edits(
        "config.toml",
        &format!(
            r#"sed -i -e 's|^# age_recipient = .*|age_recipient = "{}"|' -e 's|^# offsite_dir = |offsite_dir = |' "$1""#,
            key.to_public()
        ),
    );
    pi.follow(&block("pi-offsite"));
    pi.check(
        "the off-site copy holds nothing readable",
        r#"! grep -rq "director" /mnt/consentcam-offsite/objects
ls /mnt/consentcam-offsite/manifests | grep -q json"#,
    );
    pi.follow(&block("pi-restore-drill"));
    pi.follow(&block("pi-restore"));
    pi.check(
        "after the restore: the records are back and only the new token works",
        r#"sudo -u consentcam consentcam --config /etc/consentcam/config.toml user list | grep -q director
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat /etc/consentcam/kiosk.token)" http://127.0.0.1:8080/api/v1/kiosk/roster)
echo "new token: $code"; [ "$code" = 200 ]
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$GUIDE/old.token")" http://127.0.0.1:8080/api/v1/kiosk/roster)
echo "old token: $code"; [ "$code" = 401 ]"#,
    );
    assert_followed(&pi.run());
}

/// The README's first day: the Pi guide's install and configuration, then the camera and
/// a staff badge registered from the command line, which the kiosk's roster then carries;
/// then the first backup, which `/health` then knows of.
#[test]
fn the_first_day_as_written() {
    let pi_guide = blocks("server/deploy/README.md");
    let readme = blocks("README.md");
    let block = |blocks: &BTreeMap<String, Block>, name: &str| {
        blocks
            .get(name)
            .unwrap_or_else(|| panic!("no block marked {name}"))
            .clone()
    };
    let mut pi = a_pi_with_its_forms();
    pi.follow(&block(&pi_guide, "pi-install"));
    pi.follow(&block(&pi_guide, "pi-configure"));
    pi.follow(&block(&readme, "first-day-register"));
    pi.check(
        "the kiosk's roster knows the camera and the badge that may take it",
        r#"roster=$(curl -s -H "Authorization: Bearer $(cat /etc/consentcam/kiosk.token)" http://127.0.0.1:8080/api/v1/kiosk/roster)
echo "$roster" | grep -q '"label":"Camera 1"'
echo "$roster" | grep -q '"may_sign_out":true'
# Keyed hashes only: the UIDs themselves never leave the server.
! echo "$roster" | grep -q -e 04A1B2C3 -e 0A1B2C3D"#,
    );
    pi.follow(&block(&pi_guide, "pi-backup-drive"));
    pi.check("health knows of the first backup", HEALTH_KNOWS_THE_BACKUP);
    assert_followed(&pi.run());
}

/// The shipped Caddyfile, run by Caddy in front of a real server (only its site name made
/// a loopback address, and Caddy's admin port off): a site's 20 MB card file passes
/// through whole to the server (which reads all of it), and a 20 MB body to another route
/// is refused.
#[test]
fn the_shipped_caddyfile_lets_card_files_through_and_caps_every_other_body() {
    assert!(
        Command::new("caddy").arg("version").output().is_ok(),
        "this test needs Caddy (apt install caddy; .ci/run installs it)"
    );
    let mut machine = Machine::new();
    let bin = env!("CARGO_BIN_EXE_consentcam");
    let caddyfile = repo().join("server/deploy/proxy/Caddyfile");
    machine.check(
        "caddy in front of the server",
        &format!(
            r#"data="$GUIDE/data"; mkdir -p "$data"
token=$({bin} --data-dir "$data" kiosk-add site-a | tail -n 1)
setsid {bin} --data-dir "$data" serve --bind 127.0.0.1:8080 >"$GUIDE/server.log" 2>&1 &
printf '{{\n\tadmin off\n}}\n' >"$GUIDE/Caddyfile"
sed 's|^photos.example.org {{|http://127.0.0.1:8443 {{|' {caddyfile} >>"$GUIDE/Caddyfile"
setsid caddy run --config "$GUIDE/Caddyfile" --adapter caddyfile >"$GUIDE/caddy.log" 2>&1 &
for _ in $(seq 1 100); do
    curl -s -o /dev/null http://127.0.0.1:8443/health && curl -s -o /dev/null http://127.0.0.1:8080/health && break
    sleep 0.1
done
head -c 20000000 /dev/urandom >"$GUIDE/video.bin"
code=$(curl -s -o "$GUIDE/put.out" -w '%{{http_code}}' -X PUT --data-binary @"$GUIDE/video.bin" \
    -H "Authorization: Bearer $token" -H "X-Card-Path: DCIM/100CANON/MVI_0001.MP4" \
    "http://127.0.0.1:8443/api/v1/kiosk/card-files/$(printf 'ab%.0s' $(seq 1 32))")
echo "card file: $code $(cat "$GUIDE/put.out")"
# The server read all of it (and found it is not the hash it was sent under).
grep -q "does not match its hash" "$GUIDE/put.out"
# Any other route: 20 MB is refused (by the server's own limit or Caddy's, whichever
# stops reading first).
code=$(curl -s -o "$GUIDE/post.out" -w '%{{http_code}}' -X POST --data-binary @"$GUIDE/video.bin" \
    -H "Content-Type: application/json" http://127.0.0.1:8443/api/v1/login)
echo "20 MB elsewhere: $code $(cat "$GUIDE/post.out")"
[ "$code" = 413 ] || [ "$code" = 502 ]
pkill -f "caddy run --config $GUIDE/Caddyfile" || true"#,
            caddyfile = caddyfile.display()
        ),
    );
    assert_followed(&machine.run());
}

/// The Pi guide's web UI for the office PCs: Caddy with the shipped `Caddyfile.pi` in
/// front of the Pi's server, its own certificate authority's root copied out as the guide
/// says. An office PC that trusts that root (curl with only it as its authority) opens the
/// login page over HTTPS without a warning, gets a cookie that travels over HTTPS only,
/// logs in as the director and is taken on to the second-factor set-up; plain HTTP
/// redirects to HTTPS.
#[test]
fn the_office_pcs_reach_the_pi_over_https_as_written() {
    let guide = blocks("server/deploy/README.md");
    let mut pi = a_pi_with_its_forms();
    pi.edits(
        "config.toml",
        r#"sed -i -e 's|^secure_cookies = false|secure_cookies = true|' -e 's|^# trusted_proxies = |trusted_proxies = |' "$1""#,
    );
    for name in ["pi-install", "pi-configure", "pi-proxy"] {
        pi.follow(&guide[name]);
    }
    pi.check(
        "an office PC trusting the root logs in over HTTPS",
        r#"pc() { curl -sS --cacert "$HOME/consentcam-root.crt" --resolve consentcam.local:443:127.0.0.1 -H 'Accept: text/html' -b "$GUIDE/jar" -c "$GUIDE/jar" "$@"; }
headers=$(pc -D - -o "$GUIDE/login.html" https://consentcam.local/login)
echo "$headers" | grep -i '^set-cookie:' | grep -qi '; secure'
csrf=$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$GUIDE/login.html" | tail -n 1)
[ -n "$csrf" ]
to=$(pc -L -o /dev/null -w '%{url_effective}' -H 'Origin: https://consentcam.local' \
    --data-urlencode "_csrf=$csrf" --data-urlencode username=director \
    --data-urlencode 'password=a long director password' https://consentcam.local/login)
echo "after login: $to"
case "$to" in *second-factor*) ;; *) exit 1 ;; esac
pc -s -o /dev/null -w '%{http_code}' https://consentcam.local/account/second-factor | grep -qx 200
# Without the root, a PC is warned (curl refuses the certificate).
! curl -sS -o /dev/null --resolve consentcam.local:443:127.0.0.1 https://consentcam.local/login
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --resolve consentcam.local:80:127.0.0.1 http://consentcam.local/login)
echo "plain HTTP: $code"
case "$code" in 30[18]\ https://consentcam.local/login) ;; *) exit 1 ;; esac"#,
    );
    assert_followed(&pi.run());
}

/// SERVER.md's site Pi: installed with `--role site` next to a central server (here on
/// loopback, started by the test with the site and its kiosk), the token and the server's
/// address typed where the guide says; then a returned card with a real photo is imported
/// by the unit the udev rule starts, and the central server has the photo, in that site.
#[cfg(feature = "demo")]
#[test]
fn a_sites_pi_sends_its_cards_to_the_central_server_as_written() {
    let guide = blocks("server/deploy/SERVER.md");
    let mut pi = Machine::new();
    copy_to_the_pi(&pi);
    let bin = env!("CARGO_BIN_EXE_consentcam");
    pi.check(
        "the central server, its site and the site's kiosk",
        &format!(
            r#"central="$GUIDE/central"; mkdir -p "$central"
{bin} --data-dir "$central" site-add "North Campus"
{bin} --data-dir "$central" kiosk-add north-site
{bin} --data-dir "$central" site-assign --site "North Campus" --kiosk north-site
setsid {bin} --data-dir "$central" serve --bind 127.0.0.1:9080 >"$GUIDE/central.log" 2>&1 &
echo $! >/run/guide-central.pid
for _ in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:9080/health && break; sleep 0.1; done"#
        ),
    );
    pi.edits(
        "kiosk.token",
        r#"token=$(cat "$GUIDE"/out/*.log | grep -A1 "(shown once" | tail -n 1)
printf '%s\n' "$token" >"$1""#,
    );
    pi.edits(
        "kiosk.toml",
        r#"sed -i 's|^server_url *=.*|server_url = "http://127.0.0.1:9080"|' "$1""#,
    );
    pi.edits(
        "site.env",
        r#"sed -i 's|^CONSENTCAM_SERVER=.*|CONSENTCAM_SERVER=http://127.0.0.1:9080|' "$1""#,
    );
    pi.follow(&guide["site-pi"]);
    // A real photo, as the camera wrote it.
    let camera = consentcam::demo::pictures::CameraTags {
        make: "Canon",
        model: "Canon EOS 250D",
        serial: "083021001234",
        taken: "2026-11-25T08:30:00".parse().unwrap(),
    };
    let photo = pi.path().join("IMG_0001.JPG");
    std::fs::write(
        &photo,
        consentcam::demo::pictures::group_photo(None, 1, 1, &camera),
    )
    .unwrap();
    pi.check(
        "a returned card: the udev rule starts the import, which sends it",
        &format!(
            r#"[ ! -e /etc/systemd/system/consentcam.service ]
mkdir -p /media/consentcam-card/DCIM/100CANON
cp {photo} /media/consentcam-card/DCIM/100CANON/IMG_0001.JPG
sudo systemctl start consentcam-import-card
cat /run/guide-consentcam-import-card.log
sites=$({bin} --data-dir "$GUIDE/central" site-list); echo "$sites"
echo "$sites" | grep "North Campus" | grep -q "1 photo,"
# Sent, not kept: the Pi stores no photo of its own.
[ ! -d /var/lib/consentcam/store/objects ] || [ -z "$(ls -A /var/lib/consentcam/store/objects)" ]"#,
            photo = photo.display()
        ),
    );
    assert_followed(&pi.run());
}

/// SERVER.md from the install to the sites, as written, on a "VM" whose bucket is a real
/// S3-compatible server on loopback (`s3s-fs`, standing in for the provider): the server
/// role installed, the key and the bucket typed into the config, the server started and
/// healthy with its storage reachable, the accounts, forms and a site's kiosk made, and
/// the site's records moved in (all or nothing). A site's card then sent to it is stored
/// in the bucket, not on the VM.
#[test]
fn the_central_server_from_install_to_its_sites_as_written() {
    let s3s_fs = std::env::var("CONSENTCAM_S3S_FS").unwrap_or_else(|_| {
        let found = Command::new("sh")
            .args(["-c", "command -v s3s-fs"])
            .output()
            .expect("sh");
        String::from_utf8_lossy(&found.stdout).trim().to_owned()
    });
    assert!(
        !s3s_fs.is_empty(),
        "this test needs s3s-fs (cargo install --locked s3s-fs@0.14.1 --features binary)"
    );
    let guide = blocks("server/deploy/SERVER.md");
    let mut vm = Machine::new();
    copy_to_the_pi(&vm);
    std::fs::write(
        vm.home().join("signed-forms.csv"),
        format!(
            "{FORMS}L0412,Ben,Carter,2012-05-01,learner,no,parent,Jo Carter,2026-09-01,yes,,no,no,,\n\
             L0413,Cara,Diaz,2012-06-01,learner,no,parent,Ana Diaz,2026-09-01,yes,,yes,no,,\n"
        ),
    )
    .unwrap();
    vm.types_password("a long director password");
    vm.types_password("a long admin password");
    vm.types_password("a long staff password");
    vm.check(
        "the provider's bucket",
        &format!(
            r#"mkdir -p "$GUIDE/s3/consentcam-photos"
setsid {s3s_fs} --host 127.0.0.1 --port 9000 --access-key AKIAGUIDE --secret-key guide-secret "$GUIDE/s3" >"$GUIDE/s3.log" 2>&1 &
echo $! >/run/guide-s3.pid
for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null && break; sleep 0.05; done"#
        ),
    );
    vm.edits(
        "s3-credentials",
        r#"sed -i -e 's|^access_key_id = .*|access_key_id = "AKIAGUIDE"|' -e 's|^secret_access_key = .*|secret_access_key = "guide-secret"|' "$1""#,
    );
    vm.edits(
        "config.toml",
        r#"sed -i -e 's|^# endpoint = .*|endpoint = "http://127.0.0.1:9000"\nallow_http = true|' "$1""#,
    );
    for name in ["server-install", "server-configure", "server-start"] {
        vm.follow(&guide[name]);
    }
    vm.check(
        "the records a site's set-up names: a staff account, its camera, its class",
        r#"cc user add jsmith --role staff
cc device-add "Camera 1" --tag 04A1B2C3 --make Canon --model "EOS 250D" --serial 012345678901
cc group-add "Year 10" --person L0412"#,
    );
    vm.follow(&guide["server-sites"]);
    let bin = env!("CARGO_BIN_EXE_consentcam");
    vm.check(
        "a site's card goes to the bucket",
        &format!(
            r#"cc site-list | grep "North Campus" | grep -q "2 people, 0 photos, 1 account, 1 device, 1 kiosk, 1 group"
token=$(cat "$GUIDE"/out/*.log | grep -A1 "(shown once" | tail -n 1)
printf '%s\n' "$token" >"$GUIDE/site.token"
mkdir -p "$GUIDE/card/DCIM/100CANON"
head -c 300000 /dev/urandom >"$GUIDE/card/DCIM/100CANON/MVI_0001.MP4"
{bin} import-card --server http://127.0.0.1:8080 --token-file "$GUIDE/site.token" --mount "$GUIDE/card"
cc site-list | grep "North Campus" | grep -q "1 photo,"
find "$GUIDE/s3/consentcam-photos" -type f -path '*store/objects*' | grep -q .
[ -z "$(find /var/lib/consentcam -path '*objects*' -type f)" ]"#
        ),
    );
    assert_followed(&vm.run());
}
