//! Videos (MP4 and QuickTime MOV from phones, tablets and cameras): never published, but
//! read for provenance and shown. The container's metadata (when it was made, the make and
//! model of the device, whether it records a position) through `nom-exif`; the first key
//! frame of an H.264 track as a poster picture through `mp4parse` (Firefox's MP4 parser,
//! built for hostile files: the tracks and sample tables) and OpenH264 (the decoder). Other codecs (HEVC, which iPhones record by default) keep their
//! metadata and have no poster.
//!
//! The file is read by seeking, never whole: the index (`moov`) is found and capped before
//! any library reads it, and only it and the first key frame (capped too) are read. Both libraries run inside
//! `catch_unwind`: a bug on a hostile file becomes a reason, not a crash.

use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};

use jiff::Timestamp;
use jiff::tz::Offset;

use crate::exif::ExifSummary;
use crate::jpeg::Limits;
use crate::problem::Problem;
use crate::render::Rgb;
use crate::untrusted::Decoders;

/// The largest index (`moov` box) read: a two-hour recording's is a few megabytes.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// The largest key frame read for the poster: an 8K intra frame at a camera's top bitrate
/// fits several times over.
pub const MAX_KEY_FRAME_BYTES: u32 = 32 * 1024 * 1024;

/// Times before this are a clock that was never set (QuickTime counts from 1904, and an
/// unset clock writes zero).
const EARLIEST_PLAUSIBLE_YEAR: i16 = 1990;

/// What a video's container says, and its first picture.
#[derive(Debug)]
pub(crate) struct Video {
    /// The picture's coded size (before the track's rotation).
    pub size: Option<(u32, u32)>,
    /// The EXIF orientation that shows the picture upright, from the track's matrix.
    pub orientation: Option<u8>,
    /// Time, make, model and position from the container's metadata.
    pub facts: Option<ExifSummary>,
    /// The first key frame, or why there is none.
    pub poster: Result<Rgb, String>,
    /// How the decoder failed on the key frame, if it did (it refused the frame, crashed,
    /// made a forbidden call, ran out of time, or had no sandbox): a problem of the file's.
    pub decoder_failure: Option<Problem>,
}

/// Where a top-level box is: its offset and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    at: u64,
    size: u64,
}

/// The file type and index boxes (`ftyp`, `moov`), found by walking the top-level boxes
/// without reading their bodies: `Err` with the reason when the index is missing, too
/// large, or a box does not fit.
fn find_index<R: Read + Seek>(
    reader: &mut R,
    file_size: u64,
) -> Result<(Option<Placed>, Placed), String> {
    let mut at = 0u64;
    let mut file_type = None;
    while at + 8 <= file_size {
        reader
            .seek(SeekFrom::Start(at))
            .map_err(|e| e.to_string())?;
        let mut head = [0u8; 16];
        reader
            .read_exact(&mut head[..8])
            .map_err(|e| e.to_string())?;
        let declared = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let size = match declared {
            0 => file_size - at,
            1 => {
                reader
                    .read_exact(&mut head[8..])
                    .map_err(|e| e.to_string())?;
                u64::from_be_bytes([
                    head[8], head[9], head[10], head[11], head[12], head[13], head[14], head[15],
                ])
            }
            n => n,
        };
        if size < 8 || size > file_size - at {
            return Err("a box at the top of the file does not fit in it".into());
        }
        let placed = Placed { at, size };
        match &head[4..8] {
            b"ftyp" if size <= 4096 => file_type = Some(placed),
            b"moov" if size > MAX_INDEX_BYTES => {
                return Err(format!(
                    "its index is {size} bytes, more than the {MAX_INDEX_BYTES} read"
                ));
            }
            b"moov" => return Ok((file_type, placed)),
            _ => {}
        }
        at += size;
    }
    Err("it has no index (moov box)".into())
}

/// The bytes of the given boxes, one after the other.
fn read_boxes<R: Read + Seek>(reader: &mut R, boxes: &[Placed]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for b in boxes {
        reader
            .seek(SeekFrom::Start(b.at))
            .map_err(|e| e.to_string())?;
        let len = usize::try_from(b.size).map_err(|e| e.to_string())?;
        let start = out.len();
        out.resize(start + len, 0);
        reader
            .read_exact(&mut out[start..])
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The time, make, model and position the container records.
/// Read from the index already in memory (`ftyp` and `moov`); from the file only when
/// those bytes alone are not enough (no `ftyp` to say what the file is).
fn metadata<R: Read + Seek>(index: &[u8], reader: R) -> Option<ExifSummary> {
    let parse = || {
        let mut parser = nom_exif::MediaParser::new();
        let in_memory = nom_exif::MediaSource::from_memory(index.to_vec())
            .ok()
            .and_then(|source| parser.parse_track(source).ok());
        in_memory.or_else(|| {
            let source = nom_exif::MediaSource::seekable(reader).ok()?;
            parser.parse_track(source).ok()
        })
    };
    let track = catch_unwind(AssertUnwindSafe(parse)).ok().flatten()?;
    let text = |tag| {
        track
            .get(tag)
            .and_then(nom_exif::EntryValue::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(256).collect::<String>())
    };
    let mut facts = ExifSummary {
        make: text(nom_exif::TrackInfoTag::Make),
        model: text(nom_exif::TrackInfoTag::Model),
        gps_present: track.gps_info().is_some(),
        ..ExifSummary::default()
    };
    if let Some(time) = track
        .get(nom_exif::TrackInfoTag::CreateDate)
        .and_then(nom_exif::EntryValue::as_datetime)
        .and_then(|t| t.aware())
    {
        let offset = time.offset().local_minus_utc();
        let civil = Timestamp::from_second(time.timestamp())
            .ok()
            .zip(Offset::from_seconds(offset).ok())
            .map(|(instant, offset)| offset.to_datetime(instant));
        if let Some(civil) = civil.filter(|c| c.year() >= EARLIEST_PLAUSIBLE_YEAR) {
            facts.taken_at = Some(civil);
            facts.utc_offset_seconds = Some(offset);
        }
    }
    let empty = ExifSummary::default();
    (facts != empty).then_some(facts)
}

/// The EXIF orientation a track's display matrix (its `a b c d`, 16.16 fixed point)
/// amounts to: rotations only; a matrix that also scales or mirrors is shown as stored.
fn orientation(abcd: (i32, i32, i32, i32)) -> Option<u8> {
    const ONE: i32 = 0x1_0000;
    match abcd {
        (ONE, 0, 0, ONE) => Some(1),
        (0, ONE, n, 0) if n == -ONE => Some(6),
        (a, 0, 0, d) if a == -ONE && d == -ONE => Some(3),
        (0, b, ONE, 0) if b == -ONE => Some(8),
        _ => None,
    }
}

/// Length-prefixed NAL units as MP4 stores them, to the start-code form the decoder reads.
fn annex_b(sample: &[u8], length_size: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut rest = sample;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_at_checked(length_size)
            .ok_or("a NAL unit's length is cut off")?;
        let len = len.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        let (nal, tail) = tail
            .split_at_checked(len)
            .ok_or("a NAL unit runs past its sample")?;
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
        rest = tail;
    }
    Ok(())
}

/// An `avcC` record (ISO 14496-15): the parameter sets in start-code form, and how many
/// bytes each NAL unit's length takes in the samples.
fn parameter_sets(avcc: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let bad = || "its H.264 configuration does not read".to_owned();
    let length_size = usize::from(avcc.get(4).ok_or_else(bad)? & 3) + 1;
    let mut stream = Vec::new();
    let mut at = 5;
    // The sequence parameter sets (count in the low five bits), then the picture ones.
    for mask in [0x1f, 0xff] {
        let count = avcc.get(at).ok_or_else(bad)? & mask;
        at += 1;
        for _ in 0..count {
            let len = avcc.get(at..at + 2).ok_or_else(bad)?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let set = avcc.get(at + 2..at + 2 + len).ok_or_else(bad)?;
            stream.extend_from_slice(&[0, 0, 0, 1]);
            stream.extend_from_slice(set);
            at += 2 + len;
        }
    }
    Ok((stream, length_size))
}

/// What the index says of the first video track, and its first key frame (start
/// codes, parameter sets first).
struct Track {
    size: Option<(u32, u32)>,
    orientation: Option<u8>,
    key_frame: Result<Vec<u8>, String>,
}

/// Reads the index (`ftyp` and `moov`, already in memory) with Firefox's MP4 parser and
/// the first key frame of its first H.264 track from the file.
fn first_track<R: Read + Seek>(index: &[u8], reader: &mut R) -> Result<Track, String> {
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(index))
        .map_err(|e| format!("its index does not read: {e:?}"))?;
    let track = context
        .tracks
        .iter()
        .find(|t| t.track_type == mp4parse::TrackType::Video)
        .ok_or("it has no video track")?;
    let mut found = Track {
        size: None,
        orientation: None,
        key_frame: Err(String::new()),
    };
    if let Some(header) = &track.tkhd {
        let m = &header.matrix;
        found.orientation = orientation((m.a, m.b, m.c, m.d));
        // 16.16 fixed point.
        let size = (header.width >> 16, header.height >> 16);
        found.size = (size.0 > 0 && size.1 > 0).then_some(size);
    }
    let entry = track
        .stsd
        .as_ref()
        .and_then(|d| d.descriptions.first())
        .and_then(|e| match e {
            mp4parse::SampleEntry::Video(v) => Some(v),
            _ => None,
        });
    let Some(entry) = entry else {
        found.key_frame = Err("its pictures are of a kind not decoded here (HEVC?)".into());
        return Ok(found);
    };
    if found.size.is_none() && entry.width > 0 && entry.height > 0 {
        found.size = Some((u32::from(entry.width), u32::from(entry.height)));
    }
    let mp4parse::VideoCodecSpecific::AVCConfig(avcc) = &entry.codec_specific else {
        found.key_frame = Err(format!(
            "its pictures are {:?}, not decoded here",
            entry.codec_type
        ));
        return Ok(found);
    };
    found.key_frame = key_frame(track, avcc, reader);
    Ok(found)
}

/// The first sync sample of `track` read from the file, with the parameter sets before it.
fn key_frame<R: Read + Seek>(
    track: &mp4parse::Track,
    avcc: &[u8],
    reader: &mut R,
) -> Result<Vec<u8>, String> {
    let (mut stream, length_size) = parameter_sets(avcc)?;
    let samples = mp4parse::unstable::create_sample_table(track, 0.into())
        .ok_or("its sample tables do not add up")?;
    let first = samples
        .iter()
        .find(|s| s.sync)
        .ok_or("it has no key frame")?;
    let (start, end) = (first.start_offset.0, first.end_offset.0);
    let len = end
        .checked_sub(start)
        .filter(|n| *n <= u64::from(MAX_KEY_FRAME_BYTES))
        .ok_or_else(|| format!("its first key frame is {} bytes", end.wrapping_sub(start)))?;
    let mut sample = vec![0; usize::try_from(len).map_err(|e| e.to_string())?];
    reader
        .seek(SeekFrom::Start(start))
        .and_then(|_| reader.read_exact(&mut sample))
        .map_err(|e| format!("its first key frame does not read: {e}"))?;
    annex_b(&sample, length_size, &mut stream)?;
    Ok(stream)
}

/// Reads a video's metadata and first picture, by seeking in `reader` (`file_size` bytes).
/// Never fails: what cannot be read is absent, the poster's absence comes with its reason.
pub(crate) fn read<R: Read + Seek>(
    mut reader: R,
    file_size: u64,
    limits: &Limits,
    decoders: &Decoders,
) -> Video {
    let mut video = Video {
        size: None,
        orientation: None,
        facts: None,
        poster: Err(String::new()),
        decoder_failure: None,
    };
    let index = find_index(&mut reader, file_size).and_then(|(file_type, index)| {
        let boxes: Vec<Placed> = file_type.into_iter().chain([index]).collect();
        read_boxes(&mut reader, &boxes)
    });
    let index = match index {
        Ok(index) => index,
        Err(why) => {
            video.poster = Err(why);
            return video;
        }
    };
    if reader.seek(SeekFrom::Start(0)).is_ok() {
        video.facts = metadata(&index, &mut reader);
    }
    let run = || first_track(&index, &mut reader);
    let track = catch_unwind(AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err("the video reader failed".into()));
    match track {
        Ok(track) => {
            video.size = track.size;
            video.orientation = track.orientation;
            video.poster = match (track.size, track.key_frame) {
                (Some((w, h)), _) if u64::from(w) * u64::from(h) > limits.max_pixels => {
                    Err(format!("its pictures are {w} x {h}"))
                }
                // A key frame the decoder refuses (damaged, or more than its memory
                // allows) or that ends its worker is the file's problem, to review.
                (_, Ok(stream)) => decoders.h264(&stream, limits).map_err(|problem| {
                    let why = problem.to_string();
                    video.decoder_failure = Some(problem);
                    why
                }),
                (_, Err(why)) => Err(why),
            };
        }
        Err(why) => video.poster = Err(why),
    }
    video
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matrices_become_orientations() {
        let one = 0x1_0000;
        assert_eq!(orientation((one, 0, 0, one)), Some(1));
        assert_eq!(orientation((0, one, -one, 0)), Some(6));
        assert_eq!(orientation((-one, 0, 0, -one)), Some(3));
        assert_eq!(orientation((0, -one, one, 0)), Some(8));
        // Mirrored or scaled: shown as stored.
        assert_eq!(orientation((-one, 0, 0, one)), None);
        assert_eq!(orientation((2 * one, 0, 0, 2 * one)), None);
    }

    #[test]
    fn length_prefixed_units_become_start_codes_and_cut_ones_are_refused() {
        let mut out = Vec::new();
        annex_b(&[0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 1, 0x06], 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 0x88, 0, 0, 0, 1, 0x06]);
        let mut out = Vec::new();
        annex_b(&[0, 3, 1, 2, 3], 2, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 1, 2, 3]);
        assert!(annex_b(&[0, 0, 0, 9, 1], 4, &mut Vec::new()).is_err());
        assert!(annex_b(&[0, 0], 4, &mut Vec::new()).is_err());
    }

    #[test]
    fn a_missing_or_oversized_index_is_found_before_any_library_reads_it() {
        let boxed = |kind: &[u8; 4], size: u32| {
            let mut b = size.to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b.resize(8.max(size as usize).min(64), 0);
            b
        };
        let mut file = boxed(b"ftyp", 16);
        file.extend(boxed(b"mdat", 24));
        let len = file.len() as u64;
        assert!(find_index(&mut std::io::Cursor::new(&file), len).is_err());
        let mut big = file.clone();
        let mut moov = u32::MAX.to_be_bytes().to_vec();
        moov.extend_from_slice(b"moov");
        big.extend(moov);
        let len = big.len() as u64;
        let why = find_index(&mut std::io::Cursor::new(&big), len).unwrap_err();
        assert!(why.contains("does not fit"), "{why}");
        let mut ok = file;
        ok.extend(boxed(b"moov", 8));
        let len = ok.len() as u64;
        let (file_type, index) = find_index(&mut std::io::Cursor::new(&ok), len).unwrap();
        assert_eq!(file_type, Some(Placed { at: 0, size: 16 }));
        assert_eq!(index, Placed { at: 40, size: 8 });
    }
}
