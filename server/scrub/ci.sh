#!/usr/bin/env bash
# CI steps for consentcam-scrub: the test suite (judged by exiftool) and a short fuzz
# run of the scrubber on stable Rust. Call from the repository's CI script:
#   bash server/scrub/ci.sh            (FUZZ_SECONDS=60 by default)
set -euo pipefail

crate=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$crate/../.." && pwd)

if ! command -v exiftool >/dev/null; then
    apt-get update -qq && apt-get install -y -qq libimage-exiftool-perl >/dev/null
fi
(cd "$root" && cargo test -p consentcam-scrub)

if ! command -v cargo-fuzz >/dev/null; then
    cargo install --locked cargo-fuzz
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$crate"
# New inputs go to a scratch directory; the committed seeds are only read.
cargo fuzz run -s none scrub "$work" fuzz/corpus/scrub -- \
    -dict="$crate/fuzz/scrub.dict" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=5
