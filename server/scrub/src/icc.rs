//! The embedded ICC colour profile: reassembled from its APP2 chunks, checked, and
//! rebuilt with only the tags that describe colour.
//!
//! A profile is allowed metadata (colours are wrong without it), but it is also a
//! container: its description, copyright, device manufacturer/model text and creation
//! date can hold anything, names included. So the profile is never copied as it came:
//! a new profile is written with the colour-defining header fields, the numeric colour
//! tags (matrices, curves, lookup tables), and a fixed description. Everything else,
//! text tags included, is left behind.

use crate::error::ScrubError;

pub(crate) const CHUNK_SIGNATURE: &[u8] = b"ICC_PROFILE\0";
/// Largest profile piece per APP2 segment: 65535 - length field - signature - seq/count.
const MAX_CHUNK: usize = 65535 - 2 - 12 - 2;
const HEADER: usize = 128;
/// The description every rebuilt profile carries (ICC requires one).
pub(crate) const DESCRIPTION: &str = "Colour profile";

/// A profile after cleaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CleanProfile {
    pub bytes: Vec<u8>,
    /// The profile's data colour space, e.g. `RGB ` or `CMYK`.
    pub colour_space: [u8; 4],
    /// How many tags of the original were not kept.
    pub tags_dropped: usize,
}

/// Joins APP2 ICC chunks (payloads without the signature) given in file order.
pub(crate) fn reassemble(chunks: &[&[u8]]) -> Result<Vec<u8>, ScrubError> {
    let bad = |what| ScrubError::BadColourProfile { what };
    let Some(first) = chunks.first() else {
        return Ok(Vec::new());
    };
    let total = *first.get(1).ok_or(bad("profile chunk cut short"))?;
    if total == 0 || usize::from(total) != chunks.len() {
        return Err(bad("number of profile chunks does not match their count"));
    }
    let mut ordered: Vec<Option<&[u8]>> = vec![None; usize::from(total)];
    for chunk in chunks {
        let (seq, count) = match chunk.get(..2) {
            Some(&[seq, count]) => (seq, count),
            _ => return Err(bad("profile chunk cut short")),
        };
        if count != total || seq == 0 || seq > total {
            return Err(bad("profile chunk numbering is inconsistent"));
        }
        let slot = &mut ordered[usize::from(seq - 1)];
        if slot.is_some() {
            return Err(bad("a profile chunk appears twice"));
        }
        *slot = Some(&chunk[2..]);
    }
    let mut profile = Vec::new();
    for piece in ordered {
        profile.extend_from_slice(piece.ok_or(bad("a profile chunk is missing"))?);
    }
    Ok(profile)
}

/// Splits a profile into APP2 payloads (signature, sequence number, count, data).
pub(crate) fn chunk_payloads(profile: &[u8]) -> Result<Vec<Vec<u8>>, ScrubError> {
    let pieces: Vec<&[u8]> = profile.chunks(MAX_CHUNK).collect();
    let total = u8::try_from(pieces.len()).map_err(|_| ScrubError::BadColourProfile {
        what: "profile too large to embed",
    })?;
    Ok(pieces
        .iter()
        .zip(1u8..)
        .map(|(piece, seq)| {
            let mut payload = Vec::with_capacity(14 + piece.len());
            payload.extend_from_slice(CHUNK_SIGNATURE);
            payload.push(seq);
            payload.push(total);
            payload.extend_from_slice(piece);
            payload
        })
        .collect())
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn sig(bytes: &[u8], at: usize) -> Option<[u8; 4]> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some([b[0], b[1], b[2], b[3]])
}

/// Tag signatures kept, each with the element types it may have. All of these types are
/// numeric (XYZ numbers, curves, matrices, lookup tables).
fn allowed_types(tag: &[u8; 4]) -> &'static [&'static [u8; 4]] {
    match tag {
        b"rXYZ" | b"gXYZ" | b"bXYZ" | b"wtpt" | b"bkpt" | b"lumi" => &[b"XYZ "],
        b"rTRC" | b"gTRC" | b"bTRC" | b"kTRC" => &[b"curv", b"para"],
        b"chad" => &[b"sf32"],
        b"chrm" => &[b"chrm"],
        b"cicp" => &[b"cicp"],
        b"A2B0" | b"A2B1" | b"A2B2" | b"B2A0" | b"B2A1" | b"B2A2" | b"gamt" => {
            &[b"mft1", b"mft2", b"mAB ", b"mBA "]
        }
        _ => &[],
    }
}

const CLASSES: [&[u8; 4]; 7] = [
    b"scnr", b"mntr", b"prtr", b"link", b"spac", b"abst", b"nmcl",
];
const PCS: [&[u8; 4]; 2] = [b"XYZ ", b"Lab "];

fn known_colour_space(cs: &[u8; 4]) -> bool {
    matches!(
        cs,
        b"XYZ "
            | b"Lab "
            | b"Luv "
            | b"YCbr"
            | b"Yxy "
            | b"RGB "
            | b"GRAY"
            | b"HSV "
            | b"HLS "
            | b"CMYK"
            | b"CMY "
    ) || (cs[1..] == *b"CLR" && matches!(cs[0], b'2'..=b'9' | b'A'..=b'F'))
}

/// Checks a reassembled profile and writes its clean form.
pub(crate) fn clean(profile: &[u8]) -> Result<CleanProfile, ScrubError> {
    let bad = |what| ScrubError::BadColourProfile { what };
    let declared = be32(profile, 0).ok_or(bad("profile shorter than its header"))?;
    let declared = usize::try_from(declared).map_err(|_| bad("profile size too large"))?;
    if declared < HEADER + 4 || declared > profile.len() {
        return Err(bad("profile size field does not match its data"));
    }
    let profile = &profile[..declared];
    if sig(profile, 36) != Some(*b"acsp") {
        return Err(bad("missing the 'acsp' profile signature"));
    }
    let major = profile[8];
    if !(2..=4).contains(&major) {
        return Err(bad("profile version not 2 to 4"));
    }
    let class = sig(profile, 12).ok_or(bad("header cut short"))?;
    let colour_space = sig(profile, 16).ok_or(bad("header cut short"))?;
    let pcs = sig(profile, 20).ok_or(bad("header cut short"))?;
    if !CLASSES.contains(&&class) || !known_colour_space(&colour_space) || !PCS.contains(&&pcs) {
        return Err(bad("unknown profile class or colour space"));
    }
    let count = be32(profile, HEADER).ok_or(bad("tag table cut short"))?;
    let count = usize::try_from(count).map_err(|_| bad("tag table too large"))?;
    let table_end = count
        .checked_mul(12)
        .and_then(|n| n.checked_add(HEADER + 4))
        .ok_or(bad("tag table too large"))?;
    if table_end > declared {
        return Err(bad("tag table runs past the profile"));
    }

    let mut kept: Vec<([u8; 4], &[u8])> = Vec::new();
    let mut tags_dropped = 0;
    for i in 0..count {
        let entry = HEADER + 4 + 12 * i;
        let tag = sig(profile, entry).ok_or(bad("tag table cut short"))?;
        let start = be32(profile, entry + 4).ok_or(bad("tag table cut short"))?;
        let size = be32(profile, entry + 8).ok_or(bad("tag table cut short"))?;
        let (start, size) = (start as usize, size as usize);
        let data = start
            .checked_add(size)
            .and_then(|end| profile.get(start..end))
            .filter(|_| start >= table_end)
            .ok_or(bad("a tag's data lies outside the profile"))?;
        let types = allowed_types(&tag);
        let kind = sig(data, 0);
        let numeric_ok = match kind {
            Some(k) => types.iter().any(|t| **t == k),
            None => false,
        };
        if !numeric_ok || data.len() < 12 || kept.iter().any(|(t, _)| *t == tag) {
            tags_dropped += 1;
            continue;
        }
        // Exactly the bytes the element needs: slack after it could hold anything.
        let size = element_size(data).ok_or(bad("a colour tag is cut short or malformed"))?;
        kept.push((tag, &data[..size]));
    }
    let description = description_tag(major);
    let mut tags: Vec<([u8; 4], &[u8])> = vec![(*b"desc", description.as_slice())];
    tags.extend(kept);

    // Header: only the colour-defining fields, each rewritten from its known values.
    let mut out = vec![0u8; HEADER];
    out[8..10].copy_from_slice(&profile[8..10]); // version (bytes 10-11 are reserved)
    out[12..24].copy_from_slice(&profile[12..24]); // class, colour space, PCS (checked)
    out[36..40].copy_from_slice(b"acsp");
    out[67] = profile[67] & 0x03; // rendering intent 0-3
    out[68..80].copy_from_slice(&D50); // the PCS illuminant is always D50
    let n = u32::try_from(tags.len()).map_err(|_| bad("tag table too large"))?;
    out.extend_from_slice(&n.to_be_bytes());
    let mut data_at = HEADER + 4 + 12 * tags.len();
    let mut data = Vec::new();
    for (tag, body) in &tags {
        out.extend_from_slice(tag);
        out.extend_from_slice(&to_u32(data_at)?.to_be_bytes());
        out.extend_from_slice(&to_u32(body.len())?.to_be_bytes());
        let at = data.len();
        data.extend_from_slice(body);
        // Bytes 4-7 of every tag element are reserved (zero).
        if let Some(reserved) = data.get_mut(at + 4..at + 8) {
            reserved.fill(0);
        }
        while data.len() % 4 != 0 {
            data.push(0);
        }
        data_at = HEADER + 4 + 12 * tags.len() + data.len();
    }
    out.extend_from_slice(&data);
    let size = to_u32(out.len())?;
    out[0..4].copy_from_slice(&size.to_be_bytes());
    Ok(CleanProfile {
        bytes: out,
        colour_space,
        tags_dropped,
    })
}

/// The PCS illuminant every ICC profile must carry: D50 as s15Fixed16 XYZ.
const D50: [u8; 12] = [0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D];

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// The exact size of a kept tag element, from its own fields; `None` when the element
/// is shorter than it says. Lookup-table types (`mAB `, `mBA `) keep their stated size.
fn element_size(data: &[u8]) -> Option<usize> {
    let kind = sig(data, 0)?;
    let size = match &kind {
        b"XYZ " => 20,
        b"curv" => 12 + 2 * usize::try_from(be32(data, 8)?).ok()?,
        b"para" => {
            let params = match be16(data, 8)? {
                0 => 1,
                1 => 3,
                2 => 4,
                3 => 5,
                4 => 7,
                _ => return None,
            };
            12 + 4 * params
        }
        b"sf32" => 44,
        b"chrm" => 12 + 8 * be16(data, 8)?,
        b"cicp" => 12,
        b"mft1" | b"mft2" => {
            let (inputs, outputs, grid) = (
                usize::from(*data.get(8)?),
                usize::from(*data.get(9)?),
                usize::from(*data.get(10)?),
            );
            let clut = grid
                .checked_pow(u32::try_from(inputs).ok()?)?
                .checked_mul(outputs)?;
            if &kind == b"mft1" {
                48 + 256 * inputs + clut + 256 * outputs
            } else {
                let (n, m) = (be16(data, 48)?, be16(data, 50)?);
                52 + 2 * (n * inputs + clut + m * outputs)
            }
        }
        _ => data.len(),
    };
    (size <= data.len()).then_some(size)
}

fn to_u32(n: usize) -> Result<u32, ScrubError> {
    u32::try_from(n).map_err(|_| ScrubError::BadColourProfile {
        what: "profile too large",
    })
}

/// The fixed description, as a v2 `desc` or a v4 `mluc` element.
fn description_tag(major: u8) -> Vec<u8> {
    let text = DESCRIPTION.as_bytes();
    let mut v = Vec::new();
    if major < 4 {
        v.extend_from_slice(b"desc\0\0\0\0");
        v.extend_from_slice(&(text.len() as u32 + 1).to_be_bytes());
        v.extend_from_slice(text);
        v.push(0);
        v.extend_from_slice(&[0u8; 4 + 4 + 2 + 1 + 67]);
    } else {
        let utf16: Vec<u8> = DESCRIPTION
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        v.extend_from_slice(b"mluc\0\0\0\0");
        v.extend_from_slice(&1u32.to_be_bytes());
        v.extend_from_slice(&12u32.to_be_bytes());
        v.extend_from_slice(b"enUS");
        v.extend_from_slice(&(utf16.len() as u32).to_be_bytes());
        v.extend_from_slice(&28u32.to_be_bytes());
        v.extend_from_slice(&utf16);
    }
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small RGB matrix/TRC profile with text tags that carry `name`.
    pub(crate) fn profile_with_text(name: &str) -> Vec<u8> {
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
        text.extend(name.as_bytes());
        text.push(0);
        let mut desc = b"desc\0\0\0\0".to_vec();
        desc.extend((name.len() as u32 + 1).to_be_bytes());
        desc.extend(name.as_bytes());
        desc.extend([0u8; 1 + 4 + 4 + 2 + 1 + 67]);
        let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
            (b"desc", desc.clone()),
            (b"cprt", text.clone()),
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
        let mut header = vec![0u8; HEADER];
        header[4..8].copy_from_slice(b"lcms");
        header[8] = 2;
        header[9] = 0x10;
        header[12..16].copy_from_slice(b"mntr");
        header[16..20].copy_from_slice(b"RGB ");
        header[20..24].copy_from_slice(b"XYZ ");
        header[36..40].copy_from_slice(b"acsp");
        header[48..52].copy_from_slice(&name.as_bytes()[..4]);
        header[68..80].copy_from_slice(&[0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D]);
        header[80..84].copy_from_slice(&name.as_bytes()[..4]);
        let mut table = (tags.len() as u32).to_be_bytes().to_vec();
        let mut data = Vec::new();
        let base = HEADER + 4 + 12 * tags.len();
        for (tag, body) in &tags {
            table.extend(*tag);
            table.extend(((base + data.len()) as u32).to_be_bytes());
            table.extend((body.len() as u32).to_be_bytes());
            data.extend(body);
            while data.len() % 4 != 0 {
                data.push(0);
            }
        }
        let mut profile = header;
        profile.extend(table);
        profile.extend(data);
        let size = profile.len() as u32;
        profile[0..4].copy_from_slice(&size.to_be_bytes());
        profile
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn cleaning_drops_every_text_tag_and_header_identity() {
        let profile = profile_with_text("Quackenbush");
        let clean = clean(&profile).expect("valid profile");
        assert!(!contains(&clean.bytes, b"Quackenbush"));
        assert!(!contains(&clean.bytes, b"Quac"));
        assert!(!contains(&clean.bytes, b"lcms"));
        assert_eq!(clean.tags_dropped, 4);
        assert_eq!(clean.colour_space, *b"RGB ");
        assert!(contains(&clean.bytes, DESCRIPTION.as_bytes()));
    }

    #[test]
    fn cleaning_drops_text_hidden_in_slack_reserved_bytes_and_the_illuminant() {
        let mut profile = profile_with_text("Quackenbush");
        // rTRC (tag 8): grow its stated size over the following bytes, then write text
        // into that slack; put text in wtpt's reserved bytes and in the illuminant.
        let entry = HEADER + 4 + 12 * 8;
        let start = be32(&profile, entry + 4).expect("offset") as usize;
        let size = profile.len() - start;
        profile[entry + 8..entry + 12].copy_from_slice(&(size as u32).to_be_bytes());
        profile[start + 14..start + 25].copy_from_slice(b"Pemberton!!");
        let wtpt = be32(&profile, HEADER + 4 + 12 * 4 + 4).expect("offset") as usize;
        profile[wtpt + 4..wtpt + 8].copy_from_slice(b"Pemb");
        profile[68..80].copy_from_slice(b"Pemberton!!!");
        let clean = clean(&profile).expect("valid profile");
        assert!(!contains(&clean.bytes, b"Pemb"));
        assert!(!contains(&clean.bytes, b"Pemberton"));
    }

    #[test]
    fn refuses_a_curve_longer_than_its_tag() {
        let mut profile = profile_with_text("Quackenbush");
        let start = be32(&profile, HEADER + 4 + 12 * 8 + 4).expect("offset") as usize;
        profile[start + 8..start + 12].copy_from_slice(&1000u32.to_be_bytes());
        assert!(clean(&profile).is_err());
    }

    #[test]
    fn cleaning_is_idempotent() {
        let once = clean(&profile_with_text("Quackenbush"))
            .expect("valid")
            .bytes;
        let twice = clean(&once).expect("valid").bytes;
        assert_eq!(once, twice);
    }

    #[test]
    fn chunks_reassemble_to_the_same_profile() {
        let profile: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let payloads = chunk_payloads(&profile).expect("fits");
        assert_eq!(payloads.len(), 4);
        let pieces: Vec<&[u8]> = payloads.iter().map(|p| &p[12..]).collect();
        assert_eq!(reassemble(&pieces).expect("consistent"), profile);
    }

    #[test]
    fn refuses_missing_or_duplicated_chunks() {
        assert!(reassemble(&[&[1, 2, 0xAA]]).is_err());
        assert!(reassemble(&[&[1, 2, 0xAA], &[1, 2, 0xBB]]).is_err());
        assert!(reassemble(&[&[0, 1, 0xAA]]).is_err());
    }

    #[test]
    fn refuses_a_tag_pointing_outside_the_profile() {
        let mut profile = profile_with_text("Quackenbush");
        let entry = HEADER + 4 + 12 * 4; // wtpt
        profile[entry + 4..entry + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(clean(&profile).is_err());
    }
}
