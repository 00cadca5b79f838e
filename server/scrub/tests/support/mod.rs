//! Test support: makes JPEGs, plants names in them, and asks exiftool what it sees.
//!
//! Everything here is built independently of the crate under test (its own segment walk,
//! its own EXIF/ICC/XMP builders), so the tests do not grade the scrubber with its own
//! parser.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Surnames and serials planted in test files. None may appear in any output.
pub const TOKENS: &[&str] = &[
    "Quackenbush",
    "Fothergill",
    "Pemberton",
    "Wigglesworth",
    "Ravensdale",
    "Thistlewood",
    "Ollerenshaw",
    "Featherstonehaugh",
    "Cholmondeley",
    "Bottomley",
    "Pickersgill",
    "Drinkwater",
    "Huckabee",
    "Snodgrass",
    "Merriweather",
    "Sowerbutts",
    "QSERIAL7731",
    "QLENS4402",
    "QUNIQUE9090",
];

/// A full name for planting: a given name and one of the surnames above.
pub fn name(i: usize) -> String {
    let given = [
        "Amara", "Bilal", "Chloe", "Dmitri", "Efua", "Finn", "Grace", "Hamza",
    ];
    format!("{} {}", given[i % given.len()], TOKENS[i % 16])
}

/// Finds a planted token in `text`, case-insensitively.
pub fn find_token(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    TOKENS
        .iter()
        .copied()
        .find(|t| lower.contains(&t.to_lowercase()))
}

/// Finds a planted token in raw bytes, as ASCII or UTF-16 (either byte order).
pub fn find_token_in_bytes(bytes: &[u8]) -> Option<&'static str> {
    TOKENS.iter().copied().find(|t| {
        let ascii = t.as_bytes().to_vec();
        let le: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = t.encode_utf16().flat_map(u16::to_be_bytes).collect();
        [ascii, le, be]
            .iter()
            .any(|needle| bytes.windows(needle.len()).any(|w| w == needle.as_slice()))
    })
}

/// A smooth test picture with some edges, `channels` bytes per pixel.
pub fn pattern(width: u16, height: u16, channels: usize, seed: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(usize::from(width) * usize::from(height) * channels);
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            for c in 0..channels as u32 {
                let checker = if ((x / 8) + (y / 8) + seed).is_multiple_of(2) {
                    40
                } else {
                    0
                };
                let value = (x * 3 + y * 2 + c * 50 + seed * 17 + checker) % 256;
                v.push(value as u8);
            }
        }
    }
    v
}

/// The eight base pictures of the corpus: different encoders, colour types, sampling,
/// progressive and restart intervals.
pub fn base_images() -> Vec<Vec<u8>> {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    let mut bases = Vec::new();
    let mut encode = |w: u16,
                      h: u16,
                      colour: ColorType,
                      channels: usize,
                      progressive: bool,
                      sampling: SamplingFactor,
                      restart: Option<u16>| {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out, 85);
        enc.set_progressive(progressive);
        enc.set_sampling_factor(sampling);
        if let Some(r) = restart {
            enc.set_restart_interval(r);
        }
        let seed = bases.len() as u32;
        enc.encode(&pattern(w, h, channels, seed), w, h, colour)
            .expect("test picture encodes");
        bases.push(out);
    };
    encode(
        64,
        48,
        ColorType::Rgb,
        3,
        false,
        SamplingFactor::R_4_2_0,
        None,
    );
    encode(
        80,
        56,
        ColorType::Rgb,
        3,
        true,
        SamplingFactor::R_4_2_0,
        None,
    );
    encode(
        48,
        48,
        ColorType::Luma,
        1,
        false,
        SamplingFactor::R_4_4_4,
        None,
    );
    encode(
        72,
        40,
        ColorType::Rgb,
        3,
        false,
        SamplingFactor::R_4_4_4,
        Some(2),
    );
    encode(
        40,
        40,
        ColorType::Cmyk,
        4,
        false,
        SamplingFactor::R_4_4_4,
        None,
    );
    encode(
        96,
        64,
        ColorType::Rgb,
        3,
        true,
        SamplingFactor::R_4_2_2,
        Some(3),
    );
    encode(
        56,
        32,
        ColorType::CmykAsYcck,
        4,
        true,
        SamplingFactor::R_4_2_0,
        None,
    );
    // The `image` crate's own encoder (writes JFIF), for a second encoder's layout.
    let mut out = Vec::new();
    let rgb = image::RgbImage::from_raw(64, 64, pattern(64, 64, 3, 7)).expect("size matches");
    image::DynamicImage::ImageRgb8(rgb)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 90,
        ))
        .expect("test picture encodes");
    bases.push(out);
    bases
}

/// One segment of a JPEG header: marker and the byte range of the whole segment.
#[derive(Debug, Clone, Copy)]
pub struct Seg {
    pub marker: u8,
    pub start: usize,
    pub end: usize,
}

/// Walks the header segments of a well-formed JPEG up to (not including) the first SOS.
pub fn header_segments(jpeg: &[u8]) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        segs.push(Seg {
            marker,
            start: pos,
            end: pos + 2 + len,
        });
        pos += 2 + len;
    }
    segs
}

/// Position of the first SOS marker (test-side walk).
pub fn first_sos(jpeg: &[u8]) -> usize {
    header_segments(jpeg).last().map_or(2, |s| s.end)
}

/// Position just after the last EOI marker of the main image: the test pictures'
/// entropy data has no 0xFFD9, so the first EOI after the first SOS is it.
pub fn eoi_end(jpeg: &[u8]) -> usize {
    let start = first_sos(jpeg);
    jpeg[start..]
        .windows(2)
        .position(|w| w == [0xFF, 0xD9])
        .map_or(jpeg.len(), |p| start + p + 2)
}

/// A whole segment (marker, length, payload).
pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, marker];
    v.extend(
        u16::try_from(payload.len() + 2)
            .expect("segment fits")
            .to_be_bytes(),
    );
    v.extend(payload);
    v
}

/// A small TIFF/EXIF block with names in IFD0, ExifIFD (incl. a maker note), GPS, and
/// an IFD1 thumbnail. `orientation` goes into IFD0.
pub fn exif_block(orientation: u16, who: &str, thumbnail: &[u8]) -> Vec<u8> {
    // Big-endian TIFF built in one pass with fixed offsets.
    struct Ifd(Vec<(u16, u16, u32, Vec<u8>)>);
    fn ascii(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }
    fn layout(ifds: &[Ifd], start: u32) -> (Vec<u8>, Vec<u32>) {
        // Returns the bytes of all IFDs (each followed by its out-of-line data) and
        // each IFD's offset. Next-IFD links: IFD0 -> the last IFD (IFD1) only.
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        for ifd in ifds {
            let at = start + out.len() as u32;
            offsets.push(at);
            let table_len = 2 + 12 * ifd.0.len() + 4;
            let mut data_at = at + table_len as u32;
            let mut table = (ifd.0.len() as u16).to_be_bytes().to_vec();
            let mut data = Vec::new();
            for (tag, kind, count, value) in &ifd.0 {
                table.extend(tag.to_be_bytes());
                table.extend(kind.to_be_bytes());
                table.extend(count.to_be_bytes());
                if value.len() <= 4 {
                    let mut v = value.clone();
                    v.resize(4, 0);
                    table.extend(v);
                } else {
                    table.extend(data_at.to_be_bytes());
                    data.extend(value);
                    if data.len() % 2 == 1 {
                        data.push(0);
                    }
                    data_at = at + table_len as u32 + data.len() as u32;
                }
            }
            table.extend(0u32.to_be_bytes());
            out.extend(table);
            out.extend(data);
        }
        (out, offsets)
    }
    let long = |n: u32| n.to_be_bytes().to_vec();
    let short = |n: u16| n.to_be_bytes().to_vec();
    let mut maker = b"Nikon\0\x02\x10\0\0".to_vec();
    maker.extend(format!("OWNER={who};SERIAL=QSERIAL7731").as_bytes());
    let mut comment = b"ASCII\0\0\0".to_vec();
    comment.extend(who.as_bytes());
    // Two passes: the first learns the offsets, the second writes them.
    let build = |exif_at: u32, gps_at: u32, thumb_at: u32| {
        let ifd0 = Ifd(vec![
            (0x010F, 2, 6, ascii("Nikon")),
            (0x0110, 2, 9, ascii("D7500 QX")),
            (0x0112, 3, 1, short(orientation)),
            (0x013B, 2, who.len() as u32 + 1, ascii(who)),
            (0x8769, 4, 1, long(exif_at)),
            (0x8825, 4, 1, long(gps_at)),
        ]);
        let exif = Ifd(vec![
            (0x927C, 7, maker.len() as u32, maker.clone()),
            (0x9286, 7, comment.len() as u32, comment.clone()),
            (0xA430, 2, who.len() as u32 + 1, ascii(who)),
            (0xA431, 2, 12, ascii("QSERIAL7731")),
        ]);
        let gps = Ifd(vec![
            (0x0001, 2, 2, ascii("N")),
            (0x001C, 7, who.len() as u32, who.as_bytes().to_vec()),
        ]);
        let ifd1 = Ifd(vec![
            (0x0103, 3, 1, short(6)),
            (0x0201, 4, 1, long(thumb_at)),
            (0x0202, 4, 1, long(thumbnail.len() as u32)),
        ]);
        let (bytes, offsets) = layout(&[ifd0, exif, gps, ifd1], 8);
        (bytes, offsets)
    };
    let (first, offsets) = build(0, 0, 0);
    let thumb_at = 8 + first.len() as u32;
    let (mut ifds, offsets2) = build(offsets[1], offsets[2], thumb_at);
    debug_assert_eq!(offsets, offsets2);
    // Link IFD0 -> IFD1 (the next-IFD field ends IFD0's entry table).
    let next_at = 2 + 12 * 6;
    ifds[next_at..next_at + 4].copy_from_slice(&offsets[3].to_be_bytes());
    let mut block = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    block.extend(ifds);
    block.extend(thumbnail);
    block
}

/// An XMP packet with a person, an MWG face region and a Microsoft region.
pub fn xmp_packet(who: &str) -> Vec<u8> {
    let packet = format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"><dc:creator><rdf:Seq><rdf:li>{who}</rdf:li></rdf:Seq></dc:creator><dc:subject><rdf:Bag><rdf:li>{who}</rdf:li></rdf:Bag></dc:subject><Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>{who}</rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImage><mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>{who}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.2" stArea:h="0.2" stArea:unit="normalized"/></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions><MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag><rdf:li MPReg:PersonDisplayName="{who}" MPReg:Rectangle="0.1, 0.1, 0.2, 0.2"/></rdf:Bag></MPRI:Regions></MP:RegionInfo></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    );
    let mut v = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    v.extend(packet.as_bytes());
    v
}

/// Extended-XMP APP1 payloads carrying `who`, split in `pieces` chunks.
pub fn extended_xmp(who: &str, pieces: usize) -> Vec<Vec<u8>> {
    let body = format!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>{}</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"#,
        who.repeat(40)
    );
    let body = body.as_bytes();
    let guid = b"0123456789ABCDEF0123456789ABCDEF";
    let chunk = body.len().div_ceil(pieces);
    body.chunks(chunk)
        .enumerate()
        .map(|(i, piece)| {
            let mut v = b"http://ns.adobe.com/xmp/extension/\0".to_vec();
            v.extend(guid);
            v.extend((body.len() as u32).to_be_bytes());
            v.extend(((i * chunk) as u32).to_be_bytes());
            v.extend(piece);
            v
        })
        .collect()
}

/// A small RGB ICC profile whose description, copyright, device and header fields
/// carry `who` (a well-formed profile, as a camera or editor might embed).
pub fn icc_profile(who: &str) -> Vec<u8> {
    let xyz = |x: i32, y: i32, z: i32| {
        let mut v = b"XYZ \0\0\0\0".to_vec();
        for n in [x, y, z] {
            v.extend(n.to_be_bytes());
        }
        v
    };
    let mut gamma = b"curv\0\0\0\0".to_vec();
    gamma.extend(1u32.to_be_bytes());
    gamma.extend(0x0233u16.to_be_bytes());
    gamma.extend([0, 0]);
    let mut text = b"text\0\0\0\0".to_vec();
    text.extend(format!("Copyright {who}").as_bytes());
    text.push(0);
    let mut desc = b"desc\0\0\0\0".to_vec();
    desc.extend((who.len() as u32 + 1).to_be_bytes());
    desc.extend(who.as_bytes());
    desc.extend([0u8; 1 + 4 + 4 + 2 + 1 + 67]);
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", desc.clone()),
        (b"cprt", text),
        (b"dmnd", desc.clone()),
        (b"dmdd", desc),
        (b"wtpt", xyz(63190, 65536, 54061)),
        (b"rXYZ", xyz(28564, 14598, 912)),
        (b"gXYZ", xyz(25337, 47152, 6338)),
        (b"bXYZ", xyz(9434, 3786, 46812)),
        (b"rTRC", gamma.clone()),
        (b"gTRC", gamma.clone()),
        (b"bTRC", gamma),
    ];
    let mut profile = vec![0u8; 128];
    profile[4..8].copy_from_slice(b"lcms");
    profile[8] = 2;
    profile[9] = 0x10;
    profile[12..16].copy_from_slice(b"mntr");
    profile[16..20].copy_from_slice(b"RGB ");
    profile[20..24].copy_from_slice(b"XYZ ");
    profile[24..36].copy_from_slice(&[0x07, 0xE9, 0, 3, 0, 14, 0, 9, 0, 30, 0, 0]);
    profile[36..40].copy_from_slice(b"acsp");
    profile[48..52].copy_from_slice(&who.as_bytes()[who.len() - 4..]);
    profile[52..56].copy_from_slice(&who.as_bytes()[..4]);
    profile[68..80].copy_from_slice(&[0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D]);
    profile[80..84].copy_from_slice(b"QUAC");
    profile.extend((tags.len() as u32).to_be_bytes());
    let base = 128 + 4 + 12 * tags.len();
    let mut data = Vec::new();
    for (tag, body) in &tags {
        profile.extend(*tag);
        profile.extend(((base + data.len()) as u32).to_be_bytes());
        profile.extend((body.len() as u32).to_be_bytes());
        data.extend(body);
        while data.len() % 4 != 0 {
            data.push(0);
        }
    }
    profile.extend(data);
    let size = profile.len() as u32;
    profile[0..4].copy_from_slice(&size.to_be_bytes());
    profile
}

/// APP2 payloads for `profile` split into `pieces` chunks.
pub fn icc_chunks(profile: &[u8], pieces: usize) -> Vec<Vec<u8>> {
    let size = profile.len().div_ceil(pieces);
    let parts: Vec<&[u8]> = profile.chunks(size).collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut v = b"ICC_PROFILE\0".to_vec();
            v.push(i as u8 + 1);
            v.push(parts.len() as u8);
            v.extend(*p);
            v
        })
        .collect()
}

/// Runs exiftool once over `files` with `-a -G1 -u -j` and returns one JSON object per
/// file, in the order given.
pub fn exiftool_json(files: &[PathBuf]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("files.txt");
    let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    std::fs::write(&list, text).expect("write list");
    let out = Command::new("exiftool")
        .args(["-a", "-G1", "-u", "-j", "-charset", "filename=utf8", "-@"])
        .arg(&list)
        .output()
        .expect("exiftool must be on PATH (apt install libimage-exiftool-perl)");
    let parsed: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("exiftool prints JSON");
    let mut by_file = std::collections::HashMap::new();
    for v in parsed {
        let obj = v.as_object().cloned().expect("JSON object per file");
        let file = obj
            .get("SourceFile")
            .and_then(|s| s.as_str())
            .expect("SourceFile")
            .to_string();
        by_file.insert(file, obj);
    }
    files
        .iter()
        .map(|f| {
            by_file
                .remove(&f.display().to_string())
                .unwrap_or_else(|| panic!("exiftool said nothing about {}", f.display()))
        })
        .collect()
}

/// Runs one exiftool process over an argument file of `-execute`-separated commands.
pub fn exiftool_batch(dir: &Path, commands: &[Vec<String>]) {
    let mut text = String::new();
    for cmd in commands {
        for arg in cmd {
            text.push_str(arg);
            text.push('\n');
        }
        text.push_str("-execute\n");
    }
    let args = dir.join("plant-args.txt");
    std::fs::write(&args, text).expect("write args");
    let out = Command::new("exiftool")
        .args(["-q", "-q", "-m", "-@"])
        .arg(&args)
        .output()
        .expect("exiftool must be on PATH (apt install libimage-exiftool-perl)");
    assert!(
        out.status.success(),
        "exiftool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
