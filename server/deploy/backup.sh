#!/usr/bin/env bash
# Nightly backup to a second device (run by consentcam-backup.service as the consentcam
# user; installed as /usr/local/sbin/consentcam-backup). See server/deploy/README.md.
#
# `consentcam backup` writes the records and every file they point to (photo originals
# and renditions, scanned forms, outbox copies still published) into the folder, each
# file once by its hash, with a manifest; `consentcam verify-backup` then checks every
# file of it. Which files to copy comes from the records, never from this script.
# With the config's [backup] offsite_dir set (or CONSENTCAM_OFFSITE_DIR), a second copy
# encrypted to [backup] age_recipient is written there (a drive kept elsewhere); it must
# be a mounted device too.
# Before each run, the live audit log must still hold the head (newest entry) recorded by
# the previous backup: a log rewritten since, hashes and all, stops the backup so the last
# good copy is not pushed out of reach.
# After a verified run, runs older than [backup] keep_days are pruned.
# Any missing or unreadable file, or a failed check, makes this exit non-zero, and the
# journal says which.
set -euo pipefail

dest="${CONSENTCAM_BACKUP_DIR:-/mnt/consentcam-backup}"
config="${CONSENTCAM_CONFIG:-/etc/consentcam/config.toml}"

offsite="${CONSENTCAM_OFFSITE_DIR:-$(consentcam --config "$config" offsite-dir)}"

for dir in "$dest" ${offsite:+"$offsite"}; do
    if ! mountpoint -q "$dir" && [ -z "${CONSENTCAM_BACKUP_ANY_DIR:-}" ]; then
        echo "consentcam-backup: $dir is not a mounted device; not backing up onto the SD card" >&2
        exit 1
    fi
done

fail() {
    echo "consentcam-backup: FAILED: $1" >&2
    exit 1
}

if [ -f "$dest/LATEST" ]; then
    consentcam --config "$config" check-audit --expect-head "$dest" \
        || fail "the audit log no longer holds the entries of the last backup in $dest"
fi
consentcam --config "$config" backup "$dest" || fail "the backup into $dest is not whole"
consentcam --config "$config" verify-backup "$dest" || fail "the backup in $dest does not verify"
if [ -n "$offsite" ]; then
    consentcam --config "$config" backup --encrypt "$offsite" \
        || fail "the encrypted copy into $offsite is not whole"
    consentcam --config "$config" verify-backup "$offsite" \
        || fail "the encrypted copy in $offsite does not verify"
    consentcam --config "$config" prune-backup "$offsite" \
        || fail "old runs in $offsite could not be pruned"
    sync -f "$offsite"
fi
# Runs older than [backup] keep_days go, with every file only they held: deleted and
# erased data leaves the backups too.
consentcam --config "$config" prune-backup "$dest" || fail "old runs in $dest could not be pruned"
sync -f "$dest"
echo "consentcam-backup: backup in $dest written and verified${offsite:+; encrypted copy in $offsite}"
