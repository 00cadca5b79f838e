//! Edits of a HEIC's boxes, as a hostile or unusual file would have them. Only what
//! libheif's own writer produces is handled: `ftyp`, `meta` (with `iloc`, `iprp`...),
//! then `mdat`, item locations as file offsets.

/// A box: its type and body.
#[derive(Clone)]
struct Bx {
    kind: [u8; 4],
    body: Vec<u8>,
}

fn read(mut data: &[u8]) -> Vec<Bx> {
    let mut out = Vec::new();
    while data.len() >= 8 {
        let size = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        let size = if size == 0 { data.len() } else { size };
        out.push(Bx {
            kind: data[4..8].try_into().unwrap(),
            body: data[8..size].to_vec(),
        });
        data = &data[size..];
    }
    out
}

fn write(boxes: &[Bx]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in boxes {
        out.extend_from_slice(&u32::try_from(b.body.len() + 8).unwrap().to_be_bytes());
        out.extend_from_slice(&b.kind);
        out.extend_from_slice(&b.body);
    }
    out
}

/// Applies `edit` to the children of `meta` and moves the item locations by however
/// much `meta` grew.
fn edit_meta(file: &[u8], edit: impl FnOnce(&mut Vec<Bx>)) -> Vec<u8> {
    let mut top = read(file);
    let at = top.iter().position(|b| &b.kind == b"meta").expect("meta");
    let old_len = top[at].body.len();
    let mut children = read(&top[at].body[4..]);
    edit(&mut children);
    let mut body = top[at].body[..4].to_vec();
    body.extend(write(&children));
    let grew = body.len() as i64 - old_len as i64;
    top[at].body = body;
    let mut children = read(&top[at].body[4..]);
    for child in &mut children {
        if &child.kind == b"iloc" {
            move_locations(&mut child.body, grew);
        }
    }
    let mut body = top[at].body[..4].to_vec();
    body.extend(write(&children));
    top[at].body = body;
    write(&top)
}

fn move_locations(iloc: &mut [u8], by: i64) {
    let version = iloc[0];
    let (offset_size, length_size) = (usize::from(iloc[4] >> 4), usize::from(iloc[4] & 15));
    let (base_size, index_size) = (usize::from(iloc[5] >> 4), usize::from(iloc[5] & 15));
    let mut at = 6;
    let count = if version < 2 {
        at += 2;
        usize::from(u16::from_be_bytes([iloc[6], iloc[7]]))
    } else {
        at += 4;
        u32::from_be_bytes(iloc[6..10].try_into().unwrap()) as usize
    };
    let shift = |iloc: &mut [u8], at: usize, size: usize| {
        if size == 0 {
            return;
        }
        let field = &mut iloc[at..at + size];
        let value = field.iter().fold(0i64, |v, b| v << 8 | i64::from(*b)) + by;
        for (i, byte) in field.iter_mut().enumerate() {
            *byte = (value >> (8 * (size - 1 - i))) as u8;
        }
    };
    for _ in 0..count {
        at += if version < 2 { 2 } else { 4 };
        let method = if version >= 1 {
            let m = iloc[at + 1] & 15;
            at += 2;
            m
        } else {
            0
        };
        at += 2; // data reference index
        if method == 0 {
            shift(iloc, at, base_size);
        }
        at += base_size;
        let extents = usize::from(u16::from_be_bytes([iloc[at], iloc[at + 1]]));
        at += 2;
        for _ in 0..extents {
            if version >= 1 {
                at += index_size;
            }
            if method == 0 && base_size == 0 {
                shift(iloc, at, offset_size);
            }
            at += offset_size + length_size;
        }
    }
}

/// Applies `edit` to the item properties (the children of `ipco`) and their associations
/// (the `ipma` box's body), inside `meta`'s `iprp`.
fn edit_properties(file: &[u8], edit: impl FnOnce(&mut Vec<Bx>, &mut Vec<u8>)) -> Vec<u8> {
    edit_meta(file, |meta| {
        let iprp = meta.iter_mut().find(|b| &b.kind == b"iprp").expect("iprp");
        let mut inside = read(&iprp.body);
        let ipco = inside
            .iter()
            .position(|b| &b.kind == b"ipco")
            .expect("ipco");
        let ipma = inside
            .iter()
            .position(|b| &b.kind == b"ipma")
            .expect("ipma");
        let mut properties = read(&inside[ipco].body);
        edit(&mut properties, &mut inside[ipma].body);
        inside[ipco].body = write(&properties);
        iprp.body = write(&inside);
    })
}

/// Adds an `irot` property (`quarters` anticlockwise turns) to every image item.
pub fn with_rotation(file: &[u8], quarters: u8) -> Vec<u8> {
    edit_properties(file, |properties, ipma| {
        properties.push(Bx {
            kind: *b"irot",
            body: vec![quarters & 3],
        });
        let index = u8::try_from(properties.len()).unwrap();
        assert_eq!(ipma[0], 0, "ipma version 0");
        assert_eq!(ipma[3] & 1, 0, "one-byte associations");
        let entries = u32::from_be_bytes(ipma[4..8].try_into().unwrap());
        let mut out = ipma[..8].to_vec();
        let mut at = 8;
        for _ in 0..entries {
            let count = usize::from(ipma[at + 2]);
            out.extend_from_slice(&ipma[at..at + 2]);
            out.push(u8::try_from(count + 1).unwrap());
            out.extend_from_slice(&ipma[at + 3..at + 3 + count]);
            // A transformation is essential: a reader that ignores it must refuse.
            out.push(0x80 | index);
            at += 3 + count;
        }
        *ipma = out;
    })
}

/// Overwrites the declared size (`ispe`) of every image item.
pub fn with_declared_size(file: &[u8], width: u32, height: u32) -> Vec<u8> {
    edit_properties(file, |properties, _| {
        for p in properties.iter_mut().filter(|p| &p.kind == b"ispe") {
            p.body[4..8].copy_from_slice(&width.to_be_bytes());
            p.body[8..12].copy_from_slice(&height.to_be_bytes());
        }
    })
}

/// Makes the primary image a grid derived from `tiles` tiles (all the same item).
pub fn as_grid_of(file: &[u8], tiles: u16) -> Vec<u8> {
    edit_meta(file, |meta| {
        let pitm = meta.iter().find(|b| &b.kind == b"pitm").expect("pitm");
        let primary = [pitm.body[4], pitm.body[5]];
        let mut dimg = primary.to_vec();
        dimg.extend_from_slice(&tiles.to_be_bytes());
        for _ in 0..tiles {
            dimg.extend_from_slice(&primary);
        }
        let mut iref = vec![0, 0, 0, 0];
        iref.extend(write(&[Bx {
            kind: *b"dimg",
            body: dimg,
        }]));
        meta.retain(|b| &b.kind != b"iref");
        meta.push(Bx {
            kind: *b"iref",
            body: iref,
        });
    })
}

/// Rewrites the 4-byte offset in front of the EXIF block (where its TIFF header is).
pub fn with_exif_offset(file: &[u8], offset: u32) -> Vec<u8> {
    let mut out = file.to_vec();
    let at = out
        .windows(10)
        .position(|w| w == b"\0\0\0\x06Exif\0\0")
        .expect("an EXIF block");
    out[at..at + 4].copy_from_slice(&offset.to_be_bytes());
    out
}
