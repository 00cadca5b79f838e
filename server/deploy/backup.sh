#!/usr/bin/env bash
# Nightly backup to a second device (run by consentcam-backup.service as the consentcam
# user; installed as /usr/local/sbin/consentcam-backup). See server/deploy/README.md.
#
#   records: an online SQLite backup (`consentcam backup`), one dated file per run, the
#            newest $KEEP kept;
#   photos:  the content-addressed store copied with rsync. Files there never change and
#            nothing is deleted from the backup, so a photo removed by mistake survives.
set -euo pipefail

dest="${CONSENTCAM_BACKUP_DIR:-/mnt/consentcam-backup}"
config="${CONSENTCAM_CONFIG:-/etc/consentcam/config.toml}"
data_dir="${CONSENTCAM_DATA_DIR:-/var/lib/consentcam}"
keep="${KEEP:-30}"

if ! mountpoint -q "$dest" && [ -z "${CONSENTCAM_BACKUP_ANY_DIR:-}" ]; then
    echo "consentcam-backup: $dest is not a mounted device; not backing up onto the SD card" >&2
    exit 1
fi
mkdir -p "$dest/records" "$dest/photos"

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
consentcam --config "$config" backup "$dest/records/records-$stamp.db"

if [ -d "$data_dir/photos" ]; then
    rsync -a --checksum "$data_dir/photos/" "$dest/photos/"
fi
sync -f "$dest"

# Keep the newest $keep record backups.
ls -1 "$dest/records"/records-*.db | sort | head -n "-$keep" | while read -r old; do
    rm -f -- "$old"
done
echo "consentcam-backup: records-$stamp.db and photos written to $dest"
