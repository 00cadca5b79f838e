//! The corpus test: 200 JPEGs with names planted in every metadata family (by exiftool
//! and by hand, in the places metadata hides), scrubbed, then judged by exiftool rather
//! than by our own parser.
//!
//! Needs `exiftool` on PATH. The corpus is built once per test run and shared by the
//! tests below; each test checks one property over all 200 files.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use consentcam_scrub::{ImageDataCheck, Scrubbed, scrub, verify_image_data};
use serde_json::{Map, Value};
use support::*;

type Json = Map<String, Value>;

/// How names get into a file: exiftool arguments, then a hand edit of the bytes.
struct Recipe {
    label: &'static str,
    exiftool: fn(&Planting) -> Vec<String>,
    hand: fn(Vec<u8>, &Planting) -> Vec<u8>,
}

/// What a recipe may use for one file.
struct Planting {
    who: String,
    orientation: u16,
    thumb: PathBuf,
    icc: PathBuf,
    thumb_bytes: Vec<u8>,
}

fn none(_: &Planting) -> Vec<String> {
    Vec::new()
}

fn keep(bytes: Vec<u8>, _: &Planting) -> Vec<u8> {
    bytes
}

fn args(list: &[String]) -> Vec<String> {
    list.to_vec()
}

fn exif_people(p: &Planting) -> Vec<String> {
    let w = &p.who;
    let mut v: Vec<String> = [
        "Artist",
        "ImageDescription",
        "UserComment",
        "Copyright",
        "XPAuthor",
        "XPComment",
        "XPKeywords",
        "XPSubject",
        "XPTitle",
        "DocumentName",
        "OwnerName",
        "Software",
        "HostComputer",
    ]
    .iter()
    .map(|t| format!("-EXIF:{t}={w}"))
    .collect();
    v.extend(args(&[
        "-EXIF:Make=Nikon".into(),
        "-EXIF:Model=D7500".into(),
        "-EXIF:SerialNumber=QSERIAL7731".into(),
        "-EXIF:LensSerialNumber=QLENS4402".into(),
        "-EXIF:ImageUniqueID=QUNIQUE9090".into(),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]));
    v
}

fn gps(p: &Planting) -> Vec<String> {
    let w = &p.who;
    vec![
        "-GPSLatitude=51.501".into(),
        "-GPSLatitudeRef=N".into(),
        "-GPSLongitude=0.142".into(),
        "-GPSLongitudeRef=W".into(),
        "-GPSAltitude=12".into(),
        format!("-GPSAreaInformation={w}"),
        format!("-GPSProcessingMethod={w}"),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn xmp_people(p: &Planting) -> Vec<String> {
    let w = &p.who;
    let mut v: Vec<String> = [
        "XMP-dc:Creator",
        "XMP-dc:Subject",
        "XMP-dc:Description",
        "XMP-dc:Title",
        "XMP-dc:Rights",
        "XMP-iptcExt:PersonInImage",
        "XMP-photoshop:Credit",
        "XMP-photoshop:City",
        "XMP-xmpRights:Owner",
        "XMP-lr:HierarchicalSubject",
        "XMP-microsoft:LastKeywordXMP",
    ]
    .iter()
    .map(|t| format!("-{t}={w}"))
    .collect();
    v.push(format!("-EXIF:Orientation#={}", p.orientation));
    v
}

fn mwg_regions(p: &Planting) -> Vec<String> {
    let w = &p.who;
    vec![
        format!(
            "-XMP-mwg-rs:RegionInfo={{AppliedToDimensions={{W=64,H=48,Unit=pixel}},RegionList=[{{Area={{X=0.5,Y=0.5,W=0.2,H=0.2,Unit=normalized}},Name={w},Type=Face,Description={w}}}]}}"
        ),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn ms_regions(p: &Planting) -> Vec<String> {
    let w = &p.who;
    vec![
        format!(
            "-XMP-MP:RegionInfoMP={{Regions=[{{PersonDisplayName={w},PersonEmailDigest={w}}}]}}"
        ),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn iptc(p: &Planting) -> Vec<String> {
    let w = &p.who;
    let mut v: Vec<String> = [
        "By-line",
        "Caption-Abstract",
        "Keywords",
        "ObjectName",
        "Writer-Editor",
        "Contact",
        "Sub-location",
        "SpecialInstructions",
        "Credit",
        "CopyrightNotice",
    ]
    .iter()
    .map(|t| format!("-IPTC:{t}={w}"))
    .collect();
    v.push(format!("-EXIF:Orientation#={}", p.orientation));
    v
}

fn comment(p: &Planting) -> Vec<String> {
    vec![
        format!("-Comment={}", p.who),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn thumbnail(p: &Planting) -> Vec<String> {
    vec![
        format!("-ThumbnailImage<={}", p.thumb.display()),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn icc(p: &Planting) -> Vec<String> {
    vec![
        format!("-ICC_Profile<={}", p.icc.display()),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn extended(p: &Planting) -> Vec<String> {
    // Past 64 kB, exiftool moves XMP into extended-XMP segments.
    vec![
        format!("-XMP-dc:Description={}", format!("{} ", p.who).repeat(6000)),
        format!("-XMP-iptcExt:PersonInImage={}", p.who),
        format!("-EXIF:Orientation#={}", p.orientation),
    ]
}

fn everything(p: &Planting) -> Vec<String> {
    let mut v = Vec::new();
    for f in [
        exif_people,
        gps,
        xmp_people,
        mwg_regions,
        iptc,
        comment,
        thumbnail,
        icc,
    ] {
        v.extend(f(p));
    }
    v
}

fn everything_extended(p: &Planting) -> Vec<String> {
    let mut v = everything(p);
    v.extend(extended(p));
    v
}

/// Inserts `insert` at `at`.
fn splice(mut bytes: Vec<u8>, at: usize, insert: &[u8]) -> Vec<u8> {
    bytes.splice(at..at, insert.iter().copied());
    bytes
}

/// Just after SOI.
const AFTER_SOI: usize = 2;

fn header_exif(p: &Planting) -> Vec<u8> {
    segment(0xE1, &exif_block(p.orientation, &p.who, &p.thumb_bytes))
}

fn exif_hidden_after_tables(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let sof = header_segments(&bytes)
        .iter()
        .find(|s| (0xC0..=0xC2).contains(&s.marker))
        .map_or(2, |s| s.end);
    let bytes = splice(bytes, sof, &segment(0xE1, &xmp_packet(&p.who)));
    let sos = first_sos(&bytes);
    let mut hidden = header_exif(p);
    hidden.extend(segment(0xFE, p.who.as_bytes()));
    splice(bytes, sos, &hidden)
}

fn two_exif_blocks(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let mut insert = segment(0xE1, &xmp_packet(&p.who));
    insert.extend(header_exif(p));
    let other = if p.orientation == 1 { 3 } else { 1 };
    insert.extend(segment(0xE1, &exif_block(other, &name(3), &p.thumb_bytes)));
    splice(bytes, AFTER_SOI, &insert)
}

/// Position of the second scan, or of EOI when there is one scan.
fn after_first_scan(bytes: &[u8]) -> usize {
    let sos = first_sos(bytes);
    bytes[sos + 2..]
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .map_or(eoi_end(bytes) - 2, |p| sos + 2 + p)
}

fn between_scans_segments(who: &str) -> Vec<u8> {
    let mut v = segment(0xE1, &xmp_packet(who));
    v.extend(segment(0xE1, &exif_block(6, who, b"")));
    v.extend(segment(0xFE, who.as_bytes()));
    let mut ps = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    let iptc_rec = [
        &[0x1C, 0x02, 0x50][..],
        &(who.len() as u16).to_be_bytes(),
        who.as_bytes(),
    ]
    .concat();
    ps.extend((iptc_rec.len() as u32).to_be_bytes());
    ps.extend(&iptc_rec);
    v.extend(segment(0xED, &ps));
    v
}

fn metadata_between_scans(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let bytes = splice(bytes, AFTER_SOI, &header_exif(p));
    let at = after_first_scan(&bytes);
    splice(bytes, at, &between_scans_segments(&p.who))
}

fn trailer(who: &str, thumb: &[u8]) -> Vec<u8> {
    let mut t = thumb.to_vec();
    t.extend(b"SEFT");
    t.extend(&exif_block(1, who, b""));
    t.extend(format!("MotionPhoto_Data person={who}").as_bytes());
    t
}

fn trailer_after_eoi(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let mut mpf = b"MPF\0MM\0*\0\0\0\x08".to_vec();
    mpf.extend(p.who.as_bytes());
    let mut insert = header_exif(p);
    insert.extend(segment(0xE2, &mpf));
    let mut bytes = splice(bytes, AFTER_SOI, &insert);
    bytes.extend(trailer(&p.who, &p.thumb_bytes));
    bytes
}

fn exotic_segments(who: &str) -> Vec<u8> {
    let w = who.as_bytes();
    let mut v = Vec::new();
    let mut jumbf = b"JP\0\x01\0\0\0\x01\0\0\0\x30jumb\0\0\0\x28jumdc2pa".to_vec();
    jumbf.extend(w);
    for (marker, prefix) in [
        (0xE3u8, &b"META\0\0"[..]),
        (0xE4, b"SCALADO\0"),
        (0xE5, b"RMETA\0"),
        (0xE6, b"NITF\0"),
        (0xE7, b"Qualcomm Camera Attributes"),
        (0xE8, b"SPIFF\0"),
        (0xE9, b"Media Jukebox\0<MJMD><People>"),
        (0xEA, b"AROT\0\0"),
        (0xEB, &jumbf),
        (0xEC, b"Ducky\0\x02\0\0\0\x20\0\0\0\x0f\0"),
        (0xEC, b"[picture info]\r\nAuthor="),
        (0xEF, b"Q\0"),
        (0xEE, b"NotAdobe "),
    ] {
        let mut payload = prefix.to_vec();
        payload.extend(w);
        v.extend(segment(marker, &payload));
    }
    v
}

fn exotic_app_segments(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let mut insert = header_exif(p);
    insert.extend(exotic_segments(&p.who));
    splice(bytes, AFTER_SOI, &insert)
}

fn jfif_thumbnail(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    // JFIF with a 4x2 RGB thumbnail whose "pixels" spell the name.
    let mut jfif = b"JFIF\0\x01\x02\x01\0\x48\0\x48\x04\x02".to_vec();
    let mut pixels = p.who.as_bytes().to_vec();
    pixels.resize(24, b' ');
    jfif.extend(&pixels);
    let mut jfxx = b"JFXX\0\x10".to_vec();
    jfxx.extend(&p.thumb_bytes);
    let mut insert = segment(0xE0, &jfif);
    insert.extend(segment(0xE0, &jfxx));
    insert.extend(header_exif(p));
    splice(bytes, AFTER_SOI, &insert)
}

fn extended_xmp_by_hand(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let bytes = splice(bytes, AFTER_SOI, &header_exif(p));
    let sos = first_sos(&bytes);
    let mut insert = segment(0xE1, &xmp_packet(&p.who));
    for chunk in extended_xmp(&p.who, 3) {
        insert.extend(segment(0xE1, &chunk));
    }
    splice(bytes, sos, &insert)
}

fn fill_bytes_and_flashpix(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let mut fpxr = b"FPXR\0\0\x01".to_vec();
    fpxr.extend(p.who.as_bytes());
    let mut insert = header_exif(p);
    insert.extend(segment(0xE2, &fpxr));
    for _ in 0..3 {
        insert.extend(segment(0xFE, p.who.as_bytes()));
    }
    let bytes = splice(bytes, AFTER_SOI, &insert);
    // Fill bytes before the frame header and before the first scan.
    let sof = header_segments(&bytes)
        .iter()
        .find(|s| (0xC0..=0xC2).contains(&s.marker))
        .map(|s| s.start)
        .expect("frame header");
    let sos = first_sos(&bytes);
    let bytes = splice(bytes, sos, &[0xFF]);
    splice(bytes, sof, &[0xFF, 0xFF])
}

fn icc_in_chunks(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let mut insert = header_exif(p);
    let chunks = icc_chunks(&icc_profile(&p.who), 3);
    for chunk in chunks.iter().rev() {
        insert.extend(segment(0xE2, chunk));
    }
    splice(bytes, AFTER_SOI, &insert)
}

fn photoshop_resources(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let w = p.who.as_bytes();
    let mut ps = b"Photoshop 3.0\0".to_vec();
    let iptc_rec = [&[0x1C, 0x02, 0x50][..], &(w.len() as u16).to_be_bytes(), w].concat();
    for (id, data) in [
        (0x0404u16, iptc_rec),
        (0x0BB7, w.to_vec()),
        (0x0421, w.to_vec()),
    ] {
        ps.extend(b"8BIM");
        ps.extend(id.to_be_bytes());
        ps.extend([0, 0]);
        ps.extend((data.len() as u32).to_be_bytes());
        ps.extend(&data);
        if data.len() % 2 == 1 {
            ps.push(0);
        }
    }
    let mut insert = header_exif(p);
    insert.extend(segment(0xED, &ps));
    splice(bytes, AFTER_SOI, &insert)
}

fn move_metadata_after_tables(bytes: Vec<u8>, _: &Planting) -> Vec<u8> {
    let segs = header_segments(&bytes);
    let sos = first_sos(&bytes);
    let mut moved = Vec::new();
    let mut rest = bytes[..2].to_vec();
    for s in &segs {
        let seg = &bytes[s.start..s.end];
        if matches!(s.marker, 0xE1 | 0xED | 0xFE) {
            moved.extend_from_slice(seg);
        } else {
            rest.extend_from_slice(seg);
        }
    }
    rest.extend(moved);
    rest.extend_from_slice(&bytes[sos..]);
    rest
}

fn scan_metadata_and_trailer(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let at = after_first_scan(&bytes);
    let mut bytes = splice(bytes, at, &between_scans_segments(&p.who));
    bytes.extend(trailer(&p.who, &p.thumb_bytes));
    bytes
}

fn plus_exotic(bytes: Vec<u8>, p: &Planting) -> Vec<u8> {
    let sos = first_sos(&bytes);
    splice(bytes, sos, &exotic_segments(&p.who))
}

fn recipes() -> Vec<Recipe> {
    let r = |label, exiftool, hand| Recipe {
        label,
        exiftool,
        hand,
    };
    vec![
        r("exif-people", exif_people, keep),
        r("gps", gps, keep),
        r("xmp-people", xmp_people, keep),
        r("mwg-face-regions", mwg_regions, keep),
        r("microsoft-face-regions", ms_regions, keep),
        r("iptc", iptc, keep),
        r("comment", comment, keep),
        r("exif-thumbnail", thumbnail, keep),
        r("icc-profile", icc, keep),
        r("extended-xmp", extended, keep),
        r("everything", everything, keep),
        r("everything-extended", everything_extended, keep),
        r("exif-hidden-after-tables", none, exif_hidden_after_tables),
        r("two-exif-blocks", none, two_exif_blocks),
        r("metadata-between-scans", none, metadata_between_scans),
        r("trailer-after-eoi", none, trailer_after_eoi),
        r("exotic-app-segments", none, exotic_app_segments),
        r("jfif-thumbnails", none, jfif_thumbnail),
        r("extended-xmp-by-hand", none, extended_xmp_by_hand),
        r("fill-bytes-and-flashpix", none, fill_bytes_and_flashpix),
        r("icc-in-chunks", none, icc_in_chunks),
        r("photoshop-resources", none, photoshop_resources),
        r(
            "everything-moved-after-tables",
            everything,
            move_metadata_after_tables,
        ),
        r(
            "everything-plus-scan-metadata-and-trailer",
            everything,
            scan_metadata_and_trailer,
        ),
        r("everything-plus-exotic", everything, plus_exotic),
    ]
}

struct Case {
    label: String,
    base: usize,
    orientation: u16,
    input: PathBuf,
    output: PathBuf,
    /// The base picture from its first SOS to its EOI: the image data.
    image_data: Vec<u8>,
    scrubbed: Scrubbed,
}

struct Corpus {
    _dir: tempfile::TempDir,
    cases: Vec<Case>,
    inputs: Vec<Json>,
    outputs: Vec<Json>,
    exiftool_stripped: Vec<Json>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(build_corpus)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write test file");
}

fn build_corpus() -> Corpus {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let bases = base_images();
    // A thumbnail that itself carries a name in a comment.
    let mut thumb_bytes = bases[0].clone();
    thumb_bytes.splice(2..2, segment(0xFE, name(5).as_bytes()));
    let thumb = d.join("thumb.jpg");
    write(&thumb, &thumb_bytes);
    let icc_path = d.join("profile.icc");
    write(&icc_path, &icc_profile(&name(6)));

    let recipes = recipes();
    let mut plans = Vec::new();
    let mut commands = Vec::new();
    for (ri, recipe) in recipes.iter().enumerate() {
        for (bi, base) in bases.iter().enumerate() {
            let n = ri * bases.len() + bi;
            let planting = Planting {
                who: name(n),
                orientation: (n % 8) as u16 + 1,
                thumb: thumb.clone(),
                icc: icc_path.clone(),
                thumb_bytes: thumb_bytes.clone(),
            };
            let base_path = d.join(format!("base-{n:03}.jpg"));
            let planted = d.join(format!("planted-{n:03}.jpg"));
            write(&base_path, base);
            let tags = (recipe.exiftool)(&planting);
            if tags.is_empty() {
                write(&planted, base);
            } else {
                let mut cmd = vec!["-o".to_string(), planted.display().to_string()];
                cmd.extend(tags);
                cmd.push(base_path.display().to_string());
                commands.push(cmd);
            }
            plans.push((recipe, planting, bi, planted, n));
        }
    }
    exiftool_batch(d, &commands);

    let mut cases = Vec::new();
    for (recipe, planting, bi, planted, n) in plans {
        let bytes = std::fs::read(&planted).expect("exiftool wrote the planted file");
        let bytes = (recipe.hand)(bytes, &planting);
        let input = d.join(format!("in-{n:03}.jpg"));
        write(&input, &bytes);
        let scrubbed = scrub(&bytes)
            .unwrap_or_else(|e| panic!("{} on base {bi} was refused: {e}", recipe.label));
        let output = d.join(format!("out-{n:03}.jpg"));
        write(&output, &scrubbed.jpeg);
        let base = &bases[bi];
        cases.push(Case {
            label: format!("{} (base {bi})", recipe.label),
            base: bi,
            orientation: planting.orientation,
            input,
            output,
            image_data: base[first_sos(base)..eoi_end(base)].to_vec(),
            scrubbed,
        });
    }

    // `CONSENTCAM_SCRUB_WRITE_SEEDS=fuzz/corpus/scrub` refreshes the fuzz seed corpus
    // from the small inputs (see README).
    if let Some(seeds) = std::env::var_os("CONSENTCAM_SCRUB_WRITE_SEEDS") {
        let seeds = PathBuf::from(seeds);
        std::fs::create_dir_all(&seeds).expect("seed dir");
        for (i, case) in cases.iter().enumerate() {
            let bytes = std::fs::read(&case.input).expect("read input");
            if bytes.len() <= 12_000 && i % 2 == 0 {
                write(&seeds.join(format!("seed-{i:03}.jpg")), &bytes);
            }
        }
    }

    // What `exiftool -all=` leaves of the same inputs, for comparison.
    let stripped_dir = d.join("stripped");
    std::fs::create_dir(&stripped_dir).expect("mkdir");
    let strip: Vec<Vec<String>> = cases
        .iter()
        .map(|c| {
            let name = c.input.file_name().expect("file name");
            vec![
                "-all=".to_string(),
                "-o".to_string(),
                stripped_dir.join(name).display().to_string(),
                c.input.display().to_string(),
            ]
        })
        .collect();
    exiftool_batch(d, &strip);
    let stripped: Vec<PathBuf> = cases
        .iter()
        .map(|c| stripped_dir.join(c.input.file_name().expect("file name")))
        .collect();

    let inputs = exiftool_json(&cases.iter().map(|c| c.input.clone()).collect::<Vec<_>>());
    let outputs = exiftool_json(&cases.iter().map(|c| c.output.clone()).collect::<Vec<_>>());
    let exiftool_stripped = exiftool_json(&stripped);
    Corpus {
        _dir: dir,
        cases,
        inputs,
        outputs,
        exiftool_stripped,
    }
}

/// Tags exiftool may report on a clean file: file facts, the image's geometry, and the
/// allow-listed metadata (JFIF density, orientation, colour profile, Adobe transform).
fn allowed(key: &str) -> bool {
    matches!(
        key,
        "SourceFile"
            | "ExifTool:ExifToolVersion"
            | "File:FileType"
            | "File:FileTypeExtension"
            | "File:MIMEType"
            | "File:ExifByteOrder"
            | "File:ImageWidth"
            | "File:ImageHeight"
            | "File:EncodingProcess"
            | "File:BitsPerSample"
            | "File:ColorComponents"
            | "File:YCbCrSubSampling"
            | "JFIF:JFIFVersion"
            | "JFIF:ResolutionUnit"
            | "JFIF:XResolution"
            | "JFIF:YResolution"
            | "IFD0:Orientation"
            | "Adobe:DCTEncodeVersion"
            | "Adobe:APP14Flags0"
            | "Adobe:APP14Flags1"
            | "Adobe:ColorTransform"
            | "Composite:ImageSize"
            | "Composite:Megapixels"
    ) || key.starts_with("System:")
        || key.starts_with("ICC-header:")
        || key.starts_with("ICC_Profile:")
}

fn orientation_name(value: u16) -> &'static str {
    match value {
        1 => "Horizontal (normal)",
        2 => "Mirror horizontal",
        3 => "Rotate 180",
        4 => "Mirror vertical",
        5 => "Mirror horizontal and rotate 270 CW",
        6 => "Rotate 90 CW",
        7 => "Mirror horizontal and rotate 90 CW",
        _ => "Rotate 270 CW",
    }
}

#[test]
fn corpus_has_at_least_200_files_and_every_input_carries_planted_names() {
    let c = corpus();
    assert!(c.cases.len() >= 200, "only {} files", c.cases.len());
    let mut names_seen_by_exiftool = 0;
    for (case, json) in c.cases.iter().zip(&c.inputs) {
        // Negative control: without these the other tests would prove nothing.
        let bytes = std::fs::read(&case.input).expect("read input");
        assert!(
            find_token_in_bytes(&bytes).is_some(),
            "{}: no planted name in the input",
            case.label
        );
        assert!(
            json.keys().any(|k| !allowed(k)),
            "{}: exiftool sees no disallowed tag in the input",
            case.label
        );
        if find_token(&Value::Object(json.clone()).to_string()).is_some() {
            names_seen_by_exiftool += 1;
        }
    }
    // Some families (thumbnail contents, trailers) hold names exiftool does not print.
    assert!(
        names_seen_by_exiftool >= 180,
        "exiftool sees planted names in only {names_seen_by_exiftool} inputs"
    );
}

#[test]
fn exiftool_finds_only_allow_listed_tags_in_every_output() {
    let c = corpus();
    for (case, json) in c.cases.iter().zip(&c.outputs) {
        let extra: Vec<&String> = json.keys().filter(|k| !allowed(k)).collect();
        assert!(extra.is_empty(), "{}: exiftool sees {extra:?}", case.label);
    }
}

#[test]
fn no_planted_name_survives_in_any_output() {
    let c = corpus();
    for (case, json) in c.cases.iter().zip(&c.outputs) {
        let text = Value::Object(json.clone()).to_string();
        assert_eq!(
            find_token(&text),
            None,
            "{}: exiftool shows a name",
            case.label
        );
        let bytes = std::fs::read(&case.output).expect("read output");
        assert_eq!(
            find_token_in_bytes(&bytes),
            None,
            "{}: a name is in the output bytes",
            case.label
        );
    }
}

#[test]
fn image_data_is_byte_identical_and_nothing_follows_eoi() {
    for case in &corpus().cases {
        let out = &case.scrubbed.jpeg;
        assert_eq!(
            &out[first_sos(out)..],
            case.image_data.as_slice(),
            "{}: image data changed",
            case.label
        );
        assert!(out.ends_with(&[0xFF, 0xD9]), "{}", case.label);
    }
}

#[test]
fn decoded_pixels_are_unchanged() {
    for case in &corpus().cases {
        let input = std::fs::read(&case.input).expect("read input");
        let before = image::load_from_memory(&input).expect("input decodes");
        let after = image::load_from_memory(&case.scrubbed.jpeg).expect("output decodes");
        assert_eq!(before.as_bytes(), after.as_bytes(), "{}", case.label);
    }
}

#[test]
fn orientation_is_preserved_as_the_only_exif_tag() {
    let c = corpus();
    for (case, json) in c.cases.iter().zip(&c.outputs) {
        let shown = json.get("IFD0:Orientation").and_then(Value::as_str);
        let expected = (case.orientation != 1).then(|| orientation_name(case.orientation));
        assert_eq!(shown, expected, "{}", case.label);
        assert_eq!(
            case.scrubbed
                .report
                .kept
                .orientation
                .map(|o| u16::from(o.value())),
            (case.orientation != 1).then_some(case.orientation),
            "{}",
            case.label
        );
    }
}

#[test]
fn removes_at_least_what_exiftool_all_removes() {
    let c = corpus();
    let mut ours_total = 0;
    let mut theirs_total = 0;
    for ((case, ours), theirs) in c.cases.iter().zip(&c.outputs).zip(&c.exiftool_stripped) {
        // Tags we keep on purpose that `-all=` drops: orientation and colour.
        let kept_on_purpose = |k: &str| {
            k == "IFD0:Orientation"
                || k == "File:ExifByteOrder"
                || k.starts_with("ICC")
                || k.starts_with("JFIF:")
                || k.starts_with("Adobe:")
        };
        let beyond: Vec<&String> = ours
            .keys()
            .filter(|k| !k.starts_with("System:") && !kept_on_purpose(k))
            .filter(|k| !theirs.contains_key(*k))
            .collect();
        assert!(
            beyond.is_empty(),
            "{}: we keep {beyond:?} that exiftool -all= removes",
            case.label
        );
        ours_total += ours.len();
        theirs_total += theirs.len();
    }
    assert!(ours_total > 0 && theirs_total > 0);
    // For the README: what `-all=` leaves in the bytes (metadata between scans, after
    // EOI) that exiftool itself does not list.
    let leaky: Vec<&str> = c
        .cases
        .iter()
        .filter(|case| {
            let stripped = case.input.with_file_name(format!(
                "stripped/{}",
                case.input
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            ));
            std::fs::read(stripped).is_ok_and(|b| find_token_in_bytes(&b).is_some())
        })
        .map(|case| case.label.as_str())
        .collect();
    eprintln!(
        "exiftool -all= left planted names in the bytes of {} of {} files: {leaky:?}",
        leaky.len(),
        c.cases.len()
    );
}

#[test]
fn report_lists_removed_metadata_without_values() {
    let c = corpus();
    for case in &c.cases {
        let report = &case.scrubbed.report;
        assert!(
            !report.removed.is_empty(),
            "{}: nothing reported",
            case.label
        );
        let json = serde_json::to_string(report).expect("report serialises");
        assert_eq!(
            find_token(&json),
            None,
            "{}: report leaks a value",
            case.label
        );
    }
    let trailer = c
        .cases
        .iter()
        .find(|c| c.label.starts_with("trailer-after-eoi"))
        .expect("trailer case");
    assert!(trailer.scrubbed.report.trailing_bytes_cut > 0);
}

#[test]
fn scrubbing_an_output_again_changes_nothing() {
    for case in &corpus().cases {
        let again = scrub(&case.scrubbed.jpeg).expect("output is accepted");
        assert_eq!(again.jpeg, case.scrubbed.jpeg, "{}", case.label);
        consentcam_scrub::check_clean(&case.scrubbed.jpeg).expect("output checks clean");
    }
}

#[test]
fn scans_of_sequential_outputs_hold_nothing_but_image_data() {
    for case in &corpus().cases {
        // Base pictures 1, 5 and 6 are progressive.
        let expected = if [1, 5, 6].contains(&case.base) {
            ImageDataCheck::ProgressiveNotWalked
        } else {
            ImageDataCheck::Verified
        };
        assert_eq!(
            verify_image_data(&case.scrubbed.jpeg),
            Ok(expected),
            "{}",
            case.label
        );
    }
}
