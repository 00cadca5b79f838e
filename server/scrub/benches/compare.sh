#!/usr/bin/env bash
# Benchmark: consentcam-scrub against `exiftool -all=` and `mat2`, on the same 24 MP
# camera-sized JPEGs with planted metadata, per file and for a batch of 100.
#
# Needs: exiftool, mat2, hyperfine, python3 (apt: libimage-exiftool-perl mat2 hyperfine).
# Usage: server/scrub/benches/compare.sh   (env: BENCH_DIR, DISTINCT=5, BATCH=100,
#        MAT2_RUNS=1; SKIP_MAT2_BATCH=1 skips the ~2 minute mat2 batch)
set -euo pipefail

crate=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$crate/../.." && pwd)
# tmpfs by default, so that both tools are timed on the same memory-backed files rather
# than on the disk's write-back.
if [ -d /dev/shm ]; then default_dir=/dev/shm/consentcam-scrub-bench; else default_dir=/tmp/consentcam-scrub-bench; fi
work=${BENCH_DIR:-$default_dir}
distinct=${DISTINCT:-5}
batch=${BATCH:-100}
mat2_runs=${MAT2_RUNS:-1}

(cd "$root" && cargo build --release -q -p consentcam-scrub --examples)
bin="$root/target/release/examples"

mkdir -p "$work/src"
if [ ! -f "$work/src/planted" ]; then
    echo "== generating $distinct 24 MP photos in $work/src"
    "$bin/bench_photos" "$work/src" "$distinct" >/dev/null
    icc=()
    if [ -f /usr/share/color/icc/ghostscript/srgb.icc ]; then
        icc=("-ICC_Profile<=/usr/share/color/icc/ghostscript/srgb.icc")
    fi
    exiftool -q -overwrite_original \
        -EXIF:Make=Nikon -EXIF:Model=D7500 -EXIF:SerialNumber=QSERIAL7731 \
        -EXIF:LensSerialNumber=QLENS4402 -EXIF:Orientation#=6 \
        -EXIF:Artist="Amara Quackenbush" -EXIF:UserComment="Amara Quackenbush, Year 9" \
        -EXIF:ImageDescription="Amara Quackenbush at sports day" -EXIF:OwnerName="B Fothergill" \
        -EXIF:DateTimeOriginal="2026:06:12 10:14:00" \
        -GPSLatitude=51.501 -GPSLatitudeRef=N -GPSLongitude=0.142 -GPSLongitudeRef=W \
        "-ThumbnailImage<=$work/src/thumb.jpg" "${icc[@]}" \
        -XMP-dc:Creator="B Fothergill" -XMP-dc:Subject="Amara Quackenbush" \
        -XMP-iptcExt:PersonInImage="Amara Quackenbush" \
        "-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=6000,H=4000,Unit=pixel},RegionList=[{Area={X=0.5,Y=0.5,W=0.1,H=0.15,Unit=normalized},Name=Amara Quackenbush,Type=Face}]}" \
        -IPTC:By-line="B Fothergill" -IPTC:Keywords="Amara Quackenbush" \
        -Comment="Amara Quackenbush" \
        "$work/src"/photo-*.jpg
    touch "$work/src/planted"
fi
one="$work/src/photo-00.jpg"
ls -l "$work/src"/photo-*.jpg | awk '{s+=$5} END {printf "== %d photos, mean %.1f MB\n", NR, s/NR/1e6}'

rm -rf "$work/batch" && mkdir -p "$work/batch"
for i in $(seq 0 $((batch - 1))); do
    ln "$work/src/photo-$(printf %02d $((i % distinct))).jpg" "$work/batch/img-$(printf %03d "$i").jpg"
done

echo "== what is left: our output vs exiftool -all= vs mat2 (tags other than System:*)"
rm -rf "$work/check" && mkdir -p "$work/check/ours" "$work/check/mat2"
"$bin/scrub_files" "$work/check/ours" "$one"
exiftool -q -q -all= -o "$work/check/exiftool.jpg" "$one"
cp "$one" "$work/check/mat2/photo-00.jpg" && mat2 "$work/check/mat2/photo-00.jpg" >/dev/null
exiftool -a -G1 -u -j "$one" "$work/check/ours/photo-00.jpg" "$work/check/exiftool.jpg" \
    "$work/check/mat2/photo-00.cleaned.jpg" > "$work/check/tags.json"
python3 - "$work/check/tags.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
names = ["input", "ours", "exiftool -all=", "mat2"]
keys = [set(k for k in r if not k.startswith("System:") and k != "SourceFile") for r in rows]
for n, k in zip(names, keys):
    print(f"{n:>15}: {len(k):3d} tags")
extra = sorted(keys[1] - keys[2])
print("kept by us, removed by exiftool -all= (the allow-list):", extra)
missing = sorted((keys[0] - keys[2]) & keys[1] - set(extra))
leak = [k for k in keys[1] if not (k.startswith(("File:", "JFIF:", "ICC", "Composite:", "ExifTool:", "Adobe:")) or k == "IFD0:Orientation")]
text = json.dumps(rows[1]).lower()
print("disallowed tags in ours:", leak, "| planted names in ours:", "quackenbush" in text or "fothergill" in text)
PY

echo "== the library alone, in memory (no file I/O), on one photo"
"$bin/scrub_in_memory" "$one" 100
echo "== where a batch run spends its time (1 thread, then 2)"
rm -rf "$work/ot" && mkdir "$work/ot" && "$bin/scrub_files" --time "$work/ot" "$work/batch"/*.jpg
rm -rf "$work/ot" && mkdir "$work/ot" && "$bin/scrub_files" -j 2 --time "$work/ot" "$work/batch"/*.jpg
rm -rf "$work/ot"

echo "== per file (one process per file)"
hyperfine -w 3 -r 20 --export-markdown "$work/per-file.md" \
    --prepare "rm -rf $work/o1 && mkdir $work/o1" \
    -n "consentcam-scrub" "$bin/scrub_files $work/o1 $one" \
    -n "exiftool -all=" "exiftool -q -q -all= -o $work/o1/x.jpg $one"
hyperfine -w 1 -r 5 --export-markdown "$work/per-file-mat2.md" \
    --prepare "bash -c 'rm -rf $work/o1m && mkdir $work/o1m && cp $one $work/o1m/p.jpg'" \
    -n "mat2" "mat2 $work/o1m/p.jpg"

echo "== batch of $batch (one process for the batch)"
hyperfine -w 1 -r 10 --export-markdown "$work/batch.md" \
    --prepare "rm -rf $work/ob && mkdir $work/ob" \
    -n "consentcam-scrub, 1 thread" "$bin/scrub_files $work/ob $work/batch/*.jpg" \
    -n "consentcam-scrub, 2 threads" "$bin/scrub_files -j 2 $work/ob $work/batch/*.jpg" \
    -n "exiftool -all=" "exiftool -q -q -all= -o $work/ob/ $work/batch/"
if [ -z "${SKIP_MAT2_BATCH:-}" ]; then
    hyperfine -w 0 -r "$mat2_runs" --export-markdown "$work/batch-mat2.md" \
        --prepare "rm -rf $work/mb && cp -r $work/batch $work/mb" \
        -n "mat2" "mat2 $work/mb/*.jpg"
fi
echo "== markdown tables in $work/*.md"
