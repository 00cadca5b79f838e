//! The display as an embedded-graphics `DrawTarget`, the in-memory [`Frame`] every screen
//! can be drawn into, and the simulated display built on it.
//!
//! A frame is the 128x64 one-bit picture an SSD1306 shows. It can be written as PNG (for
//! snapshots, the demo web page and `--sim --png`) and as text (for a terminal).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Size};

/// Width of the SSD1306 panel in pixels.
pub const WIDTH: u32 = 128;
/// Height of the SSD1306 panel in pixels.
pub const HEIGHT: u32 = 64;

/// A display the kiosk draws on: draw into it, then `flush` shows the result.
pub trait KioskDisplay: DrawTarget<Color = BinaryColor> + OriginDimensions {
    /// Sends what was drawn to the panel.
    fn flush(&mut self) -> Result<(), DisplayError>;
}

/// The display could not be reached or updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayError {
    #[error(
        "the display did not answer on I2C: check its wiring and that I2C is enabled \
         (raspi-config, dtparam=i2c_arm=on): {0}"
    )]
    Bus(String),
    #[error("cannot open the display: {0}")]
    Open(String),
    #[error("not a {WIDTH}x{HEIGHT} frame image: {0}")]
    BadImage(String),
}

/// A 128x64 one-bit picture.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    lit: Vec<bool>,
}

impl Default for Frame {
    fn default() -> Self {
        Self {
            lit: vec![false; (WIDTH * HEIGHT) as usize],
        }
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({} lit)", self.lit.iter().filter(|&&p| p).count())
    }
}

/// PNG colours: a lit pixel and a dark one, like a white OLED.
const LIT: u8 = 0xF0;
const DARK: u8 = 0x10;

impl Frame {
    pub fn is_lit(&self, x: u32, y: u32) -> bool {
        x < WIDTH && y < HEIGHT && self.lit[(y * WIDTH + x) as usize]
    }

    pub fn lit_count(&self) -> usize {
        self.lit.iter().filter(|&&p| p).count()
    }

    /// The frame as an 8-bit greyscale PNG, each pixel `scale` x `scale` (scale >= 1).
    pub fn to_png(&self, scale: u32) -> Vec<u8> {
        let scale = scale.max(1);
        let (w, h) = (WIDTH * scale, HEIGHT * scale);
        let mut data = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                data.push(if self.is_lit(x / scale, y / scale) {
                    LIT
                } else {
                    DARK
                });
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing into a Vec cannot fail for a well-formed header and matching data.
        let written = encoder.write_header().is_ok_and(|mut writer| {
            writer.write_image_data(&data).is_ok() && writer.finish().is_ok()
        });
        if written { out } else { Vec::new() }
    }

    /// Reads back a PNG written by [`Frame::to_png`] at any scale.
    pub fn from_png(bytes: &[u8]) -> Result<Self, DisplayError> {
        let bad = |e: &dyn std::fmt::Display| DisplayError::BadImage(e.to_string());
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().map_err(|e| bad(&e))?;
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
        if info.color_type != png::ColorType::Grayscale || info.bit_depth != png::BitDepth::Eight {
            return Err(bad(&"expected 8-bit greyscale"));
        }
        let scale = info.width / WIDTH;
        if scale == 0 || info.width != WIDTH * scale || info.height != HEIGHT * scale {
            return Err(bad(&format!("{}x{}", info.width, info.height)));
        }
        let mut frame = Frame::default();
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let v = buf[((y * scale) * info.width + x * scale) as usize];
                frame.lit[(y * WIDTH + x) as usize] = v >= 0x80;
            }
        }
        Ok(frame)
    }

    /// The frame as text for a terminal: each character cell holds two pixel rows
    /// (upper/lower half blocks), inside a frame line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push('┌');
        out.extend(std::iter::repeat_n('─', WIDTH as usize));
        out.push_str("┐\n");
        for y in (0..HEIGHT).step_by(2) {
            out.push('│');
            for x in 0..WIDTH {
                out.push(match (self.is_lit(x, y), self.is_lit(x, y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push_str("│\n");
        }
        out.push('└');
        out.extend(std::iter::repeat_n('─', WIDTH as usize));
        out.push_str("┘\n");
        out
    }
}

impl OriginDimensions for Frame {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for Frame {
    type Color = BinaryColor;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(point, color) in pixels {
            if let (Ok(x), Ok(y)) = (u32::try_from(point.x), u32::try_from(point.y))
                && x < WIDTH
                && y < HEIGHT
            {
                self.lit[(y * WIDTH + x) as usize] = color.is_on();
            }
        }
        Ok(())
    }
}

/// A display in memory. Drawing goes to a back frame; `flush` publishes it to every
/// [`SimDisplayView`], which other threads (the demo web page) can read.
#[derive(Debug, Default)]
pub struct SimDisplay {
    back: Frame,
    shown: Arc<Mutex<Frame>>,
    flushes: u64,
}

/// A read-only view of what a [`SimDisplay`] last showed.
#[derive(Debug, Clone, Default)]
pub struct SimDisplayView {
    shown: Arc<Mutex<Frame>>,
}

impl SimDisplay {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn view(&self) -> SimDisplayView {
        SimDisplayView {
            shown: self.shown.clone(),
        }
    }

    /// How many times the display was flushed.
    pub fn flushes(&self) -> u64 {
        self.flushes
    }
}

impl SimDisplayView {
    /// The frame last flushed.
    pub fn frame(&self) -> Frame {
        self.shown.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl OriginDimensions for SimDisplay {
    fn size(&self) -> Size {
        self.back.size()
    }
}

impl DrawTarget for SimDisplay {
    type Color = BinaryColor;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        self.back.draw_iter(pixels)
    }
}

impl KioskDisplay for SimDisplay {
    fn flush(&mut self) -> Result<(), DisplayError> {
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = self.back.clone();
        self.flushes += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::prelude::*;
    use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};

    #[test]
    fn a_frame_survives_a_png_round_trip_at_any_scale() {
        let mut frame = Frame::default();
        Rectangle::new(Point::new(3, 5), Size::new(10, 4))
            .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
            .draw(&mut frame)
            .unwrap();
        assert_eq!(frame.lit_count(), 40);
        for scale in [1, 3] {
            let back = Frame::from_png(&frame.to_png(scale)).unwrap();
            assert_eq!(back, frame);
        }
        assert!(Frame::from_png(b"not a png").is_err());
    }

    #[test]
    fn sim_display_shows_only_what_was_flushed() {
        let mut display = SimDisplay::new();
        let view = display.view();
        Pixel(Point::new(0, 0), BinaryColor::On)
            .draw(&mut display)
            .unwrap();
        assert_eq!(view.frame().lit_count(), 0);
        display.flush().unwrap();
        assert!(view.frame().is_lit(0, 0));
        assert_eq!(display.flushes(), 1);
    }

    #[test]
    fn drawing_off_the_panel_is_clipped_not_a_panic() {
        let mut frame = Frame::default();
        Pixel(Point::new(-1, 200), BinaryColor::On)
            .draw(&mut frame)
            .unwrap();
        Pixel(Point::new(128, 0), BinaryColor::On)
            .draw(&mut frame)
            .unwrap();
        assert_eq!(frame.lit_count(), 0);
        assert_eq!(frame.to_text().lines().count(), 34);
    }
}
