#!/usr/bin/env bash
# The restore drill, timed: N camera photos (6000x4000 JPEGs with camera EXIF, made from
# the media benchmark's generated pictures) imported with `import-card`, then a full
# backup, a second (incremental) backup, verify-backup and a restore into an empty data
# directory, side by side with `cp -a` of the same data directory (a copy that neither
# hashes nor checks anything). Prints seconds and sizes.
#
#   cargo build --release -p consentcam
#   server/deploy/backup-drill.sh 1000 /path/with/space
set -euo pipefail
n="${1:-1000}"
work="${2:-$(mktemp -d)}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$here/target/release/consentcam"
[ -x "$bin" ] || { echo "build it first: cargo build --release -p consentcam" >&2; exit 1; }

echo "generating 20 base pictures..." >&2
(cd "$here" && cargo run -q --release -p consentcam-media --example bench -- --files 20 --keep "$work/gen" >/dev/null 2>&1)
mkdir -p "$work/card/DCIM/100CANON"
python3 - "$work/gen/card-plain" "$work/card/DCIM/100CANON" "$n" <<'PY'
import os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
bases = sorted(os.path.join(src, f) for f in os.listdir(src) if f.lower().endswith(".jpg"))
data = [open(b, "rb").read() for b in bases]
for i in range(n):
    base = data[i % len(data)]
    # A comment segment right after the start-of-image marker: a distinct, valid JPEG.
    text = f"frame {i}".encode()
    com = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    open(os.path.join(dst, f"IMG_{i:04d}.JPG"), "wb").write(base[:2] + com + base[2:])
PY

data="$work/data"
TIMEFORMAT=%R
secs() { { time "$@" >/dev/null 2>&1; } 2>&1; }
echo "importing $n photos (no face detection)..." >&2
RUST_LOG=warn "$bin" --data-dir "$data" import-card --no-faces --mount "$work/card" >/dev/null
sync
full=$(secs "$bin" --data-dir "$data" backup "$work/backup")
again=$(secs "$bin" --data-dir "$data" backup "$work/backup")
verify=$(secs "$bin" --data-dir "$data" verify-backup "$work/backup")
restore=$(secs "$bin" --data-dir "$work/restored" restore "$work/backup")
peer=$(secs cp -a "$data" "$work/peer-copy")
echo "photos: $n, data directory $(du -sh "$data" | cut -f1), backup $(du -sh "$work/backup" | cut -f1)"
echo "full backup ${full}s, second backup ${again}s, verify-backup ${verify}s, restore ${restore}s; cp -a of the data directory ${peer}s"
