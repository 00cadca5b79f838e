//! One H.264 access unit (parameter sets and a key frame) to RGB through OpenH264 (C++):
//! run only inside a sandboxed decode worker ([`crate::untrusted`]).

use crate::jpeg::Limits;
use crate::render::Rgb;

/// One access unit (parameter sets and a key frame) to RGB, in this process: the
/// sandboxed worker's side ([`crate::untrusted`]).
pub(crate) fn decode(stream: &[u8], limits: &Limits) -> Result<Rgb, String> {
    let mut decoder = openh264::decoder::Decoder::new().map_err(|e| e.to_string())?;
    let picture = match decoder.decode(stream) {
        Ok(Some(picture)) => picture,
        Ok(None) => return Err("its first key frame gives no picture".into()),
        Err(e) => return Err(format!("its first key frame does not decode: {e}")),
    };
    use openh264::formats::YUVSource;
    let (w, h) = picture.dimensions();
    let (width, height) = (
        u32::try_from(w).map_err(|e| e.to_string())?,
        u32::try_from(h).map_err(|e| e.to_string())?,
    );
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(format!("its pictures are {width} x {height}"));
    }
    let mut pixels = vec![0; w * h * 3];
    picture.write_rgb8(&mut pixels);
    Ok(Rgb {
        width,
        height,
        pixels,
    })
}
