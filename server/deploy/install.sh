#!/usr/bin/env bash
# Installs consentcam. The Pi role (the default) on Raspberry Pi OS (Bookworm, 64-bit): the
# cross-built binaries, the systemd units, the udev rule for returned camera cards, the
# service users, the config files, and SPI + I2C switched on (server/deploy/README.md).
# The server role on a Debian VM: the server alone, its units, backups, a config using
# object storage and the TLS proxy's file (server/deploy/SERVER.md). The site role on a
# site's Pi of a trust: the kiosk and the card import, which sends each card to the
# central server; no server, health check or backup runs there (SERVER.md, step 7).
#
#   sudo server/deploy/install.sh --bin-dir target/aarch64-unknown-linux-gnu/release
#   sudo server/deploy/install.sh --role server --bin-dir target/release
#   sudo server/deploy/install.sh --role site --bin-dir target/aarch64-unknown-linux-gnu/release
#   server/deploy/install.sh --root /tmp/pi-root --bin-dir DIR     # lay it out elsewhere
#
# Idempotent: a second run changes nothing (files are only written when their content or
# mode differs) and never overwrites a config file someone has edited.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: install.sh --bin-dir DIR [--role pi|server|site] [--root DIR] [--kiosk-config FILE]

  --role pi|server|site
                       pi (default): server and kiosk on a Raspberry Pi; server: the
                       central server of several sites on a Debian machine (no kiosk);
                       site: a site's Pi, its kiosk and card import working with the
                       central server (no server of its own)
  --bin-dir DIR        holds the binaries: consentcam and, for a Pi, consentcam-kiosk
                       (aarch64)
  --root DIR           install under DIR instead of / (users and services are then only
                       described, not created or started)
  --kiosk-config FILE  the kiosk's first config (default: firmware/config/kiosk.toml)
EOF
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root=/
role=pi
bin_dir=""
kiosk_config="$here/../../firmware/config/kiosk.toml"

while [ $# -gt 0 ]; do
    case "$1" in
        --root) root="${2:?--root needs a directory}"; shift 2 ;;
        --bin-dir) bin_dir="${2:?--bin-dir needs a directory}"; shift 2 ;;
        --role) role="${2:?--role needs pi, server or site}"; shift 2 ;;
        --kiosk-config) kiosk_config="${2:?--kiosk-config needs a file}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

if [ -z "$bin_dir" ]; then
    echo "install.sh: --bin-dir is required" >&2
    usage >&2
    exit 2
fi
case "$role" in
    pi|site) binaries=(consentcam consentcam-kiosk); build="cargo build --release --target aarch64-unknown-linux-gnu" ;;
    server) binaries=(consentcam); build="cargo build --release -p consentcam" ;;
    *) echo "install.sh: --role must be pi, server or site, not $role" >&2; exit 2 ;;
esac
for bin in "${binaries[@]}"; do
    if [ ! -f "$bin_dir/$bin" ]; then
        echo "install.sh: $bin_dir/$bin not found ($build)" >&2
        exit 1
    fi
done
if [ "$role" != server ] && [ ! -f "$kiosk_config" ]; then
    echo "install.sh: kiosk config $kiosk_config not found" >&2
    exit 1
fi
if [ ! -d "$root" ]; then
    echo "install.sh: --root $root is not a directory" >&2
    exit 1
fi
root="$(cd "$root" && pwd)"
live=false
if [ "$root" = / ]; then
    live=true
    if [ "$(id -u)" != 0 ]; then
        echo "install.sh: installing on this system needs root (sudo)" >&2
        exit 1
    fi
fi
# "$root$path" for an absolute path, without a double slash when root is /.
at() { if $live; then printf '%s' "$1"; else printf '%s%s' "$root" "$1"; fi; }

changed=0

# put SRC DEST MODE: write DEST when its content or mode differs from SRC.
put() {
    local src="$1" dest dest_rel="$2" mode="$3"
    dest="$(at "$dest_rel")"
    if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
        return 0
    fi
    install -D -m "$mode" "$src" "$dest"
    echo "installed $dest_rel"
    changed=$((changed + 1))
}

# keep SRC DEST MODE: write DEST only if it does not exist yet (config someone may edit).
keep() {
    local src="$1" dest dest_rel="$2" mode="$3"
    dest="$(at "$dest_rel")"
    if [ -e "$dest" ]; then
        if ! cmp -s "$src" "$dest"; then
            echo "kept $dest_rel (edited; the shipped version is $src)"
        fi
        return 0
    fi
    install -D -m "$mode" "$src" "$dest"
    echo "installed $dest_rel"
    changed=$((changed + 1))
}

# link TARGET LINK: a symlink, like `systemctl enable` makes.
link() {
    local target="$1" link link_rel="$2"
    link="$(at "$link_rel")"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$link")"
    ln -sfn "$target" "$link"
    echo "enabled $link_rel"
    changed=$((changed + 1))
}

# gone PATH: remove a file or link left by another role (an enable link, a drop-in).
gone() {
    local path path_rel="$1"
    path="$(at "$path_rel")"
    if [ -e "$path" ] || [ -L "$path" ]; then
        rm -f "$path"
        echo "removed $path_rel"
        changed=$((changed + 1))
    fi
}

# line FILE TEXT: append TEXT to FILE unless a line equals it already.
line() {
    local file file_rel="$1" text="$2"
    file="$(at "$file_rel")"
    if [ "$text" != "[all]" ] && grep -qxF -- "$text" "$file"; then
        return 0
    fi
    # A file without a final newline would glue the new line onto its last one.
    if [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" != '\n' ]; then
        printf '\n' >>"$file"
    fi
    printf '%s\n' "$text" >>"$file"
    echo "added '$text' to $file_rel"
    changed=$((changed + 1))
}

install_server() {
    # The server's binary: a Linux executable for this machine (x86-64 or aarch64).
    header="$(od -An -tx1 -N20 "$bin_dir/consentcam" | tr -d ' \n')"
    if [ "${header:0:8}" != 7f454c46 ] || { [ "${header:36:4}" != 3e00 ] && [ "${header:36:4}" != b700 ]; }; then
        echo "warning: $bin_dir/consentcam is not an x86-64 or aarch64 Linux binary" >&2
    fi
    put "$bin_dir/consentcam" /usr/local/bin/consentcam 0755
    put "$here/systemd/consentcam-server.sysusers" /usr/lib/sysusers.d/consentcam.conf 0644
    for unit in consentcam.service consentcam-health.service consentcam-health.timer \
        consentcam-backup.service consentcam-backup.timer; do
        put "$here/systemd/$unit" "/etc/systemd/system/$unit" 0644
    done
    put "$here/systemd/consentcam-journald.conf" /etc/systemd/journald.conf.d/consentcam.conf 0644
    put "$here/backup.sh" /usr/local/sbin/consentcam-backup 0755
    mkdir -p "$(at /etc/consentcam)"
    keep "$here/config/server.toml" /etc/consentcam/config.toml 0640
    keep "$here/config/s3-credentials.example" /etc/consentcam/s3-credentials.example 0640
    keep "$here/proxy/Caddyfile" /etc/consentcam/Caddyfile 0644
    link /etc/systemd/system/consentcam.service /etc/systemd/system/multi-user.target.wants/consentcam.service
    link /etc/systemd/system/consentcam-health.timer /etc/systemd/system/timers.target.wants/consentcam-health.timer
    if $live; then
        if command -v systemd-sysusers >/dev/null; then
            systemd-sysusers /usr/lib/sysusers.d/consentcam.conf
        else
            id consentcam >/dev/null 2>&1 ||
                useradd --system --user-group --home-dir /var/lib/consentcam --no-create-home \
                    --shell /usr/sbin/nologin consentcam
        fi
        chgrp consentcam /etc/consentcam/config.toml /etc/consentcam/s3-credentials.example
        systemctl daemon-reload
        echo "done: $changed change(s). Put the bucket's key in /etc/consentcam/s3-credentials"
        echo "(see the .example), set the bucket in /etc/consentcam/config.toml and the name in"
        echo "/etc/consentcam/Caddyfile, then: systemctl start consentcam consentcam-health.timer"
    else
        echo "done: $changed change(s) under $root (users and services not created: not the live system)"
    fi
}

if [ "$role" = server ]; then
    install_server
    exit 0
fi

# Binaries: warn (not fail) when one is not an aarch64 ELF file; the Pi could not run it.
for bin in consentcam consentcam-kiosk; do
    header="$(od -An -tx1 -N20 "$bin_dir/$bin" | tr -d ' \n')"
    # ELF magic, then e_machine (bytes 18-19) 0x00b7: AArch64.
    if [ "${header:0:8}" != 7f454c46 ] || [ "${header:36:4}" != b700 ]; then
        echo "warning: $bin_dir/$bin is not an aarch64 Linux binary" >&2
    fi
    put "$bin_dir/$bin" "/usr/local/bin/$bin" 0755
done

# Service users, described for systemd-sysusers (applied below on a live system).
put "$here/systemd/consentcam.sysusers" /usr/lib/sysusers.d/consentcam.conf 0644

units=(consentcam-kiosk.service consentcam-import-card.service)
if [ "$role" = pi ]; then
    units+=(
        consentcam.service
        consentcam-health.service
        consentcam-health.timer
        consentcam-backup.service
        consentcam-backup.timer
    )
fi
for unit in "${units[@]}"; do
    put "$here/systemd/$unit" "/etc/systemd/system/$unit" 0644
done
# A mount unit is named after its mount point, escaped (systemd-escape --path
# /media/consentcam-card); the repository keeps a plain name that every system can check out.
put "$here/systemd/consentcam-card.mount" '/etc/systemd/system/media-consentcam\x2dcard.mount' 0644
put "$here/systemd/consentcam-watchdog.conf" /etc/systemd/system.conf.d/consentcam-watchdog.conf 0644
put "$here/systemd/consentcam-journald.conf" /etc/systemd/journald.conf.d/consentcam.conf 0644
put "$here/udev/99-consentcam-card.rules" /etc/udev/rules.d/99-consentcam-card.rules 0644
# A site's card import sends to the central server; a Pi's stores here.
site_dropin=/etc/systemd/system/consentcam-import-card.service.d/site.conf
if [ "$role" = site ]; then
    put "$here/systemd/consentcam-import-card-site.conf" "$site_dropin" 0644
else
    put "$here/backup.sh" /usr/local/sbin/consentcam-backup 0755
    gone "$site_dropin"
fi

# /dev/i2c-1 needs the i2c-dev module (raspi-config does the same through /etc/modules).
put "$here/systemd/consentcam-modules.conf" /etc/modules-load.d/consentcam.conf 0644

# Config: installed once, never overwritten.
mkdir -p "$(at /etc/consentcam)"
keep "$here/config/config.toml" /etc/consentcam/config.toml 0640
keep "$kiosk_config" /etc/consentcam/kiosk.toml 0640
if [ "$role" = site ]; then
    keep "$here/config/site.env" /etc/consentcam/site.env 0640
    # The kiosk's token, read by the kiosk (its owner) and the card import (its group).
    if [ ! -e "$(at /etc/consentcam/kiosk.token)" ]; then
        install -m 0640 /dev/null "$(at /etc/consentcam/kiosk.token)"
        echo "installed /etc/consentcam/kiosk.token (empty: the token kiosk-add printed goes here)"
        changed=$((changed + 1))
    fi
fi

# Enabled at boot. The import service is started by the udev rule; the backup timer is
# enabled by hand once the backup device is set up.
link /etc/systemd/system/consentcam-kiosk.service /etc/systemd/system/multi-user.target.wants/consentcam-kiosk.service
stopped=()
if [ "$role" = pi ]; then
    link /etc/systemd/system/consentcam.service /etc/systemd/system/multi-user.target.wants/consentcam.service
    link /etc/systemd/system/consentcam-health.timer /etc/systemd/system/timers.target.wants/consentcam-health.timer
else
    # A site's Pi runs no server: a Pi turned into one (or an earlier set-up) keeps its
    # records, but neither the server, nor the health check that would restart it, nor a
    # backup of records it no longer keeps starts again.
    for wanted in multi-user.target.wants/consentcam.service \
        timers.target.wants/consentcam-health.timer timers.target.wants/consentcam-backup.timer; do
        if [ -e "$(at "/etc/systemd/system/$wanted")" ] || [ -L "$(at "/etc/systemd/system/$wanted")" ]; then
            gone "/etc/systemd/system/$wanted"
            stopped+=("${wanted#*/}")
        fi
    done
fi

# SPI0 (badge reader) and I2C1 (display) on; takes effect at the next boot.
boot_config=""
for candidate in /boot/firmware/config.txt /boot/config.txt; do
    if [ -f "$(at "$candidate")" ]; then
        boot_config="$candidate"
        break
    fi
done
if [ -n "$boot_config" ]; then
    # Lines after a [pi4] or [cm5] section apply to that model only: add ours under [all].
    for param in dtparam=spi=on dtparam=i2c_arm=on; do
        if ! grep -qxF -- "$param" "$(at "$boot_config")"; then
            last_section="$(grep -E '^\[' "$(at "$boot_config")" | tail -n 1 || true)"
            if [ -n "$last_section" ] && [ "$last_section" != "[all]" ]; then
                line "$boot_config" "[all]"
            fi
            line "$boot_config" "$param"
        fi
    done
else
    echo "note: no /boot/firmware/config.txt under $root; enable SPI and I2C with raspi-config"
fi

if $live; then
    if command -v systemd-sysusers >/dev/null; then
        systemd-sysusers /usr/lib/sysusers.d/consentcam.conf
    else
        for user in consentcam consentcam-kiosk; do
            id "$user" >/dev/null 2>&1 ||
                useradd --system --user-group --home-dir "/var/lib/$user" --no-create-home \
                    --shell /usr/sbin/nologin "$user"
        done
        for group in spi i2c gpio; do
            getent group "$group" >/dev/null && usermod -a -G "$group" consentcam-kiosk
        done
    fi
    chgrp consentcam /etc/consentcam/config.toml
    chgrp consentcam-kiosk /etc/consentcam/kiosk.toml
    systemctl daemon-reload
    udevadm control --reload
    if [ "$role" = site ]; then
        chgrp consentcam /etc/consentcam/site.env
        chown consentcam-kiosk:consentcam /etc/consentcam/kiosk.token
        chmod 0640 /etc/consentcam/kiosk.token
        if [ ${#stopped[@]} -gt 0 ]; then
            systemctl stop "${stopped[@]}" || true
        fi
        echo "done: $changed change(s). Put the token kiosk-add printed in /etc/consentcam/kiosk.token,"
        echo "the central server's address in /etc/consentcam/kiosk.toml (server_url) and"
        echo "/etc/consentcam/site.env, then reboot (SPI/I2C) or: systemctl start consentcam-kiosk"
    else
        echo "done: $changed change(s). Set server_url and token_file in /etc/consentcam/kiosk.toml,"
        echo "then reboot (SPI/I2C) or: systemctl start consentcam consentcam-kiosk consentcam-health.timer"
    fi
else
    echo "done: $changed change(s) under $root (users and services not created: not the live system)"
fi
