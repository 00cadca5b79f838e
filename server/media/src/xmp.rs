//! The camera facts an XMP packet may carry (make, model, serial number, when the picture
//! was taken, whether it records a position), for provenance only: a file whose EXIF
//! lacks them (a PNG's text chunks) still says which device made it and when. Nothing else
//! is read from the packet, and none of it is ever published.
//!
//! XMP writes a property either as an attribute (`tiff:Make="Apple"`) or as an element
//! (`<tiff:Make>Apple</tiff:Make>`); both are read. Properties are matched by their usual
//! prefixes, which is how every camera and phone writes them.

use jiff::civil::DateTime;
use jiff::tz::Offset;
use quick_xml::events::Event;

use crate::exif::ExifSummary;

/// Longest value kept (as for EXIF text).
const MAX_TEXT: usize = 256;

/// Which fact a property gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    Make,
    Model,
    /// A serial number; the body's own outranks a generic one.
    Serial {
        body: bool,
    },
    /// When the picture was taken; a lower rank wins (the shutter before the file).
    Taken {
        rank: u8,
    },
    Position,
}

fn fact(name: &[u8]) -> Option<Fact> {
    Some(match name {
        b"tiff:Make" => Fact::Make,
        b"tiff:Model" => Fact::Model,
        b"exifEX:BodySerialNumber" => Fact::Serial { body: true },
        b"aux:SerialNumber" => Fact::Serial { body: false },
        b"exif:DateTimeOriginal" => Fact::Taken { rank: 0 },
        b"xmp:CreateDate" => Fact::Taken { rank: 1 },
        b"photoshop:DateCreated" => Fact::Taken { rank: 2 },
        b"exif:GPSLatitude" | b"exif:GPSLongitude" => Fact::Position,
        _ => return None,
    })
}

/// An XMP date (ISO 8601: a date and time, seconds and fractions optional, with or
/// without an offset): the camera's clock reading and its UTC offset where given.
pub(crate) fn date(text: &str) -> Option<(DateTime, Option<i32>)> {
    let text = text.trim();
    // The offset, if any, follows the time: "Z", "+hh:mm" or "-hh:mm".
    let (civil, offset) = if let Some(civil) = text.strip_suffix('Z') {
        (civil, Some(0))
    } else {
        match text.get(text.len().saturating_sub(6)..) {
            Some(tail)
                if (tail.starts_with('+') || tail.starts_with('-'))
                    && tail.as_bytes().get(3) == Some(&b':')
                    && text.contains('T') =>
            {
                let hours: i32 = tail[1..3].parse().ok()?;
                let minutes: i32 = tail[4..6].parse().ok()?;
                let sign = if tail.starts_with('-') { -1 } else { 1 };
                (
                    &text[..text.len() - 6],
                    Some(sign * (hours * 3600 + minutes * 60)),
                )
            }
            _ => (text, None),
        }
    };
    let civil: DateTime = civil.parse().ok()?;
    if let Some(seconds) = offset {
        Offset::from_seconds(seconds).ok()?;
    }
    Some((civil, offset))
}

/// The properties an element carries as attributes.
fn properties(
    element: &quick_xml::events::BytesStart<'_>,
    decoder: quick_xml::encoding::Decoder,
) -> Vec<(Fact, String)> {
    element
        .attributes()
        .flatten()
        .filter_map(|attribute| {
            let f = fact(attribute.key.as_ref())?;
            let value = attribute.decode_and_unescape_value(decoder).ok()?;
            Some((f, value.into_owned()))
        })
        .collect()
}

/// What the packet says; fields it does not have are left as they are.
pub(crate) fn facts(xml: &str) -> ExifSummary {
    let mut found = ExifSummary::default();
    let mut taken_rank = u8::MAX;
    let mut body_serial = false;
    let mut apply = |fact: Fact, value: &str, found: &mut ExifSummary| {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let text = || value.chars().take(MAX_TEXT).collect::<String>();
        match fact {
            Fact::Make => found.make = Some(text()),
            Fact::Model => found.model = Some(text()),
            Fact::Serial { body } if body || !body_serial => {
                found.body_serial = Some(text());
                body_serial |= body;
            }
            Fact::Serial { .. } => {}
            Fact::Taken { rank } if rank < taken_rank => {
                if let Some((civil, offset)) = date(value) {
                    found.taken_at = Some(civil);
                    found.utc_offset_seconds = offset;
                    taken_rank = rank;
                }
            }
            Fact::Taken { .. } => {}
            Fact::Position => found.gps_present = true,
        }
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    // The property whose text is being read, if any.
    let mut open: Option<Fact> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(element)) => {
                open = fact(element.name().as_ref());
                for (f, value) in properties(&element, reader.decoder()) {
                    apply(f, &value, &mut found);
                }
            }
            Ok(Event::Empty(element)) => {
                // No text to come.
                open = None;
                for (f, value) in properties(&element, reader.decoder()) {
                    apply(f, &value, &mut found);
                }
            }
            Ok(Event::Text(text)) => {
                if let (Some(f), Ok(value)) = (open, text.decode()) {
                    apply(f, &value, &mut found);
                }
            }
            Ok(Event::End(_)) => open = None,
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_forms_xmp_writes() {
        let at = |s: &str| date(s).map(|(d, o)| (d.to_string(), o));
        assert_eq!(
            at("2026-11-20T10:15:00+01:00"),
            Some(("2026-11-20T10:15:00".into(), Some(3600)))
        );
        assert_eq!(
            at("2026-11-20T10:15:00.25-05:30"),
            Some(("2026-11-20T10:15:00.25".into(), Some(-19800)))
        );
        assert_eq!(
            at("2026-11-20T10:15:00Z"),
            Some(("2026-11-20T10:15:00".into(), Some(0)))
        );
        assert_eq!(
            at("2026-11-20T10:15"),
            Some(("2026-11-20T10:15:00".into(), None))
        );
        assert_eq!(at("yesterday"), None);
        assert_eq!(at("2026-13-40T10:15:00"), None);
        assert_eq!(at("2026-11-20T10:15:00+99:00"), None);
    }

    #[test]
    fn attributes_and_elements_alike_and_the_shutter_time_first() {
        let xml = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description tiff:Make="Apple" xmp:CreateDate="2026-11-21T08:00:00"
                xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
              <tiff:Model>iPad (9th generation)</tiff:Model>
              <exif:DateTimeOriginal>2026-11-20T10:15:00+01:00</exif:DateTimeOriginal>
              <aux:SerialNumber>AUX-1</aux:SerialNumber>
              <exifEX:BodySerialNumber>BODY-1</exifEX:BodySerialNumber>
              <exif:GPSLatitude>51,30.0N</exif:GPSLatitude>
              <dc:creator><rdf:Seq><rdf:li>Isla Morgan</rdf:li></rdf:Seq></dc:creator>
            </rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let f = facts(xml);
        assert_eq!(f.make.as_deref(), Some("Apple"));
        assert_eq!(f.model.as_deref(), Some("iPad (9th generation)"));
        assert_eq!(f.body_serial.as_deref(), Some("BODY-1"));
        assert_eq!(
            f.taken_at.map(|t| t.to_string()).as_deref(),
            Some("2026-11-20T10:15:00")
        );
        assert_eq!(f.utc_offset_seconds, Some(3600));
        assert!(f.gps_present);
        assert_eq!(f.orientation, None);
    }

    #[test]
    fn broken_or_foreign_xml_gives_what_it_can_and_never_panics() {
        assert_eq!(facts(""), ExifSummary::default());
        assert_eq!(facts("<<<>>>&&&"), ExifSummary::default());
        let cut = facts(r#"<rdf:Description tiff:Make="Canon"><tiff:Model>EOS"#);
        assert_eq!(cut.make.as_deref(), Some("Canon"));
        let long = format!(r#"<a tiff:Make="{}"/>"#, "x".repeat(10_000));
        assert_eq!(facts(&long).make.map(|m| m.len()), Some(MAX_TEXT));
        // A generic serial does not replace the body's.
        let both = facts(
            r#"<a exifEX:BodySerialNumber="BODY"><aux:SerialNumber>AUX</aux:SerialNumber></a>"#,
        );
        assert_eq!(both.body_serial.as_deref(), Some("BODY"));
    }
}
