//! What the 128x64 OLED shows: each screen as plain data ([`Screen`]) and one function that
//! draws it ([`draw`]) on any embedded-graphics target. No state, no clock: the data
//! carries the times to show, already in the kiosk's time zone.

use consentcam_wire::{CautionKind, KindCounts};
use embedded_graphics::mono_font::ascii::{FONT_5X8, FONT_6X10, FONT_7X13_BOLD};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};
use jiff::civil::DateTime;

/// One row of the idle list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceLine {
    In {
        device: String,
    },
    Out {
        device: String,
        holder: String,
        since: DateTime,
        overdue: bool,
    },
}

/// One row of the overdue list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueLine {
    pub device: String,
    pub holder: String,
    pub due: DateTime,
}

/// Why a tap was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// K1: a badge the kiosk does not know.
    UnknownCard,
    /// K1: a learner's badge.
    StaffOnly,
    /// K1: staff without permission to sign devices out.
    NotAuthorised,
    /// One holder at a time (K2).
    AlreadyOut {
        device: String,
        holder: String,
        since: DateTime,
    },
    /// A half-finished sign-out waited too long.
    TimedOut,
    /// A card appeared without a return first.
    ReturnFirst,
}

/// Everything the kiosk can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Idle {
        now: DateTime,
        offline: bool,
        devices: Vec<DeviceLine>,
    },
    Overdue {
        items: Vec<OverdueLine>,
    },
    AwaitDevice {
        holder: String,
        /// The one device this person holds, which OK would return.
        returnable: Option<String>,
    },
    AwaitBadge {
        device: String,
    },
    SignedOut {
        device: String,
        holder: String,
        due_back: DateTime,
    },
    Refused(Refusal),
    Returned {
        device: String,
        holder: String,
    },
    Importing {
        device: String,
        done: u32,
        total: u32,
        failed: u32,
    },
    ImportSummary {
        device: String,
        imported: u32,
        failed: u32,
        /// What came in, said when it was not all JPEG.
        kinds: KindCounts,
    },
    ServerUnreachable {
        synced_at: Option<DateTime>,
        queued: usize,
    },
    /// The import stopped part way; `done` of `total` files are safe.
    ImportStopped {
        device: String,
        done: u32,
        total: u32,
    },
    /// The badge reader does not answer: taps cannot be read.
    ReaderFault,
    /// The server refuses this kiosk's token: it must be registered again.
    TokenRefused,
    /// After a sign-out booked for a group (K2): the group and how many of its people the
    /// holder must be careful with.
    GroupBrief {
        group: String,
        members: u32,
        no_photos: u32,
        not_public: u32,
    },
    /// One page of the people of a booked group with the same caution.
    Cautions {
        caution: CautionKind,
        names: Vec<String>,
        page: u32,
        pages: u32,
    },
}

/// How many names one [`Screen::Cautions`] page holds.
pub const NAMES_PER_PAGE: usize = 4;

const W: i32 = 128;

fn hm(t: DateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn day_hm(t: DateTime) -> String {
    format!("{} {}", t.strftime("%a"), hm(t))
}

/// Cuts `text` to `max` characters, marking the cut with '.'.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('.');
    out
}

/// Word-wraps `text` into at most `lines` lines of `width` characters.
fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = fit(word, width);
        if line.is_empty() {
            line = word;
        } else if line.chars().count() + 1 + word.chars().count() <= width {
            line.push(' ');
            line.push_str(&word);
        } else {
            out.push(std::mem::take(&mut line));
            line = word;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    if out.len() > lines {
        out.truncate(lines);
        if let Some(last) = out.last_mut() {
            *last = fit(&format!("{last}..."), width);
        }
    }
    out
}

struct Painter<'a, D> {
    target: &'a mut D,
}

impl<D: DrawTarget<Color = BinaryColor>> Painter<'_, D> {
    fn text(
        &mut self,
        text: &str,
        font: &MonoFont<'_>,
        x: i32,
        y: i32,
        align: Alignment,
    ) -> Result<(), D::Error> {
        let style = MonoTextStyle::new(font, BinaryColor::On);
        let layout = TextStyleBuilder::new()
            .baseline(Baseline::Top)
            .alignment(align)
            .build();
        Text::with_text_style(text, Point::new(x, y), style, layout).draw(self.target)?;
        Ok(())
    }

    /// A title in a lit bar across the top, text dark.
    fn title_bar(&mut self, text: &str) -> Result<(), D::Error> {
        Rectangle::new(Point::zero(), Size::new(W as u32, 15))
            .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
            .draw(self.target)?;
        let style = MonoTextStyle::new(&FONT_7X13_BOLD, BinaryColor::Off);
        let layout = TextStyleBuilder::new()
            .baseline(Baseline::Top)
            .alignment(Alignment::Center)
            .build();
        Text::with_text_style(&fit(text, 18), Point::new(W / 2, 1), style, layout)
            .draw(self.target)?;
        Ok(())
    }

    /// A title in lit text, underlined.
    fn title(&mut self, text: &str) -> Result<(), D::Error> {
        self.text(&fit(text, 18), &FONT_7X13_BOLD, W / 2, 0, Alignment::Center)?;
        Rectangle::new(Point::new(0, 14), Size::new(W as u32, 1))
            .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
            .draw(self.target)?;
        Ok(())
    }

    /// Body text in FONT_6X10, wrapped, from `y` down (at most `lines` lines).
    /// A '\n' starts a new line.
    fn body(&mut self, text: &str, y: i32, lines: usize) -> Result<i32, D::Error> {
        let mut y = y;
        let wrapped: Vec<String> = text.split('\n').flat_map(|p| wrap(p, 21, lines)).collect();
        for line in wrapped.into_iter().take(lines) {
            self.text(&line, &FONT_6X10, W / 2, y, Alignment::Center)?;
            y += 11;
        }
        Ok(y)
    }

    fn progress(&mut self, done: u32, total: u32, y: i32) -> Result<(), D::Error> {
        let outer = Rectangle::new(Point::new(4, y), Size::new(120, 12));
        outer
            .into_styled(PrimitiveStyle::with_stroke(BinaryColor::On, 1))
            .draw(self.target)?;
        let inner = 116u64;
        let filled = if total == 0 {
            inner
        } else {
            inner * u64::from(done.min(total)) / u64::from(total)
        };
        if filled > 0 {
            Rectangle::new(Point::new(6, y + 2), Size::new(filled as u32, 8))
                .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
                .draw(self.target)?;
        }
        Ok(())
    }
}

/// Clears `target` and draws `screen` on it.
pub fn draw<D: DrawTarget<Color = BinaryColor>>(
    screen: &Screen,
    target: &mut D,
) -> Result<(), D::Error> {
    target.clear(BinaryColor::Off)?;
    let mut p = Painter { target };
    match screen {
        Screen::Idle {
            now,
            offline,
            devices,
        } => {
            p.text("Devices", &FONT_6X10, 0, 0, Alignment::Left)?;
            if *offline {
                Rectangle::new(Point::new(52, 0), Size::new(43, 10))
                    .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
                    .draw(p.target)?;
                let style = MonoTextStyle::new(&FONT_6X10, BinaryColor::Off);
                let layout = TextStyleBuilder::new().baseline(Baseline::Top).build();
                Text::with_text_style("OFFLINE", Point::new(53, 0), style, layout)
                    .draw(p.target)?;
            }
            p.text(&hm(*now), &FONT_6X10, W, 0, Alignment::Right)?;
            Rectangle::new(Point::new(0, 11), Size::new(W as u32, 1))
                .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
                .draw(p.target)?;
            let shown = if devices.len() > 6 { 5 } else { devices.len() };
            let mut y = 14;
            for line in &devices[..shown] {
                let row = match line {
                    DeviceLine::In { device } => format!("{:<10} in", fit(device, 10)),
                    DeviceLine::Out {
                        device,
                        holder,
                        since,
                        overdue,
                    } => format!(
                        "{:<10}{}{:<8} {}",
                        fit(device, 10),
                        if *overdue { '!' } else { ' ' },
                        fit(holder, 8),
                        hm(*since)
                    ),
                };
                p.text(&row, &FONT_5X8, 0, y, Alignment::Left)?;
                y += 8;
            }
            if devices.len() > shown {
                p.text(
                    &format!("+{} more", devices.len() - shown),
                    &FONT_5X8,
                    0,
                    y,
                    Alignment::Left,
                )?;
            } else if devices.is_empty() {
                p.body("No devices registered", 30, 2)?;
            }
        }
        Screen::Overdue { items } => {
            p.title_bar("OVERDUE")?;
            let mut y = 17;
            for item in items.iter().take(3) {
                p.text(
                    &fit(&format!("{} - {}", item.device, item.holder), 25),
                    &FONT_5X8,
                    0,
                    y,
                    Alignment::Left,
                )?;
                p.text(
                    &format!("  due {}", day_hm(item.due)),
                    &FONT_5X8,
                    0,
                    y + 8,
                    Alignment::Left,
                )?;
                y += 16;
            }
            if items.len() > 3 {
                p.text(
                    &format!("+{} more", items.len() - 3),
                    &FONT_5X8,
                    W,
                    56,
                    Alignment::Right,
                )?;
            }
        }
        Screen::AwaitDevice { holder, returnable } => {
            p.title(&format!("Hello {holder}"))?;
            let y = p.body("Tap the device tag to sign it out", 18, 2)?;
            if let Some(device) = returnable {
                p.body(&format!("or OK to return {device}"), y + 2, 2)?;
            }
        }
        Screen::AwaitBadge { device } => {
            p.title(device)?;
            p.body("Tap your staff badge to sign it out", 20, 3)?;
        }
        Screen::SignedOut {
            device,
            holder,
            due_back,
        } => {
            p.title_bar("Signed out")?;
            p.body(&fit(device, 21), 18, 1)?;
            p.body(&format!("to {}", fit(holder, 18)), 29, 1)?;
            p.text(
                &format!("Due {}", day_hm(*due_back)),
                &FONT_7X13_BOLD,
                W / 2,
                48,
                Alignment::Center,
            )?;
        }
        Screen::Refused(refusal) => {
            let (title, detail) = match refusal {
                Refusal::UnknownCard => ("Card not", "recognised".to_owned()),
                Refusal::StaffOnly => (
                    "Staff only",
                    "Learner badges cannot sign devices out".to_owned(),
                ),
                Refusal::NotAuthorised => (
                    "Not authorised",
                    "Ask an admin for device permission".to_owned(),
                ),
                Refusal::AlreadyOut {
                    device,
                    holder,
                    since,
                } => (
                    "Already out",
                    format!(
                        "{} is out\nwith {}\nsince {}",
                        fit(device, 14),
                        fit(holder, 16),
                        hm(*since)
                    ),
                ),
                Refusal::TimedOut => ("Timed out", "Tap your badge to start again".to_owned()),
                Refusal::ReturnFirst => (
                    "Return first",
                    "Tap the device tag, then insert the card".to_owned(),
                ),
            };
            p.title_bar(title)?;
            if matches!(refusal, Refusal::UnknownCard) {
                p.text("recognised", &FONT_7X13_BOLD, W / 2, 16, Alignment::Center)?;
                p.body("Not a registered badge", 38, 2)?;
            } else {
                p.body(&detail, 20, 4)?;
            }
        }
        Screen::Returned { device, holder } => {
            p.title_bar("Returned")?;
            p.body(
                &format!("{}\nfrom {}", fit(device, 21), fit(holder, 16)),
                18,
                2,
            )?;
            p.body("Insert its card to import the photos", 41, 2)?;
        }
        Screen::Importing {
            device,
            done,
            total,
            failed,
        } => {
            p.title(&format!("Importing {device}"))?;
            p.progress(*done, *total, 20)?;
            p.body(&format!("{done} of {total} files"), 36, 1)?;
            if *failed > 0 {
                p.body(&format!("{failed} unreadable"), 48, 1)?;
            } else {
                p.body("Do not remove card", 48, 1)?;
            }
        }
        Screen::ImportSummary {
            device,
            imported,
            failed,
            kinds,
        } => {
            p.title_bar("Import done")?;
            p.body(device, 18, 1)?;
            p.body(&format!("{imported} files imported"), 30, 1)?;
            if *failed > 0 {
                p.body(&format!("{failed} could not be read"), 41, 1)?;
            } else {
                p.body("Card may be removed", 41, 1)?;
            }
            if let Some(kinds) = kinds.summary() {
                // The small font: "36 JPEG, 2 HEIC, 1 video" needs 24 characters.
                p.text(&fit(&kinds, 25), &FONT_5X8, W / 2, 54, Alignment::Center)?;
            }
        }
        Screen::ImportStopped {
            device,
            done,
            total,
        } => {
            p.title_bar("Import stopped")?;
            p.body(device, 18, 1)?;
            p.body(&format!("{done} of {total} files safe"), 31, 1)?;
            p.body("Insert the card again", 44, 1)?;
        }
        Screen::ReaderFault => {
            p.title_bar("Reader fault")?;
            p.body("The badge reader is not answering", 18, 2)?;
            p.body("Check its cable, or call IT", 41, 2)?;
        }
        Screen::TokenRefused => {
            p.title_bar("Kiosk not allowed")?;
            p.body("The server refused this kiosk's token", 18, 2)?;
            p.body("Working offline; ask IT to register it", 41, 2)?;
        }
        Screen::GroupBrief {
            group,
            members,
            no_photos,
            not_public,
        } => {
            p.title_bar(group)?;
            if no_photos + not_public == 0 {
                p.body(&format!("{members} people"), 18, 1)?;
                p.body("Everyone may be photographed", 31, 2)?;
            } else {
                p.text(
                    &format!("{no_photos} NO PHOTOS"),
                    &FONT_7X13_BOLD,
                    W / 2,
                    17,
                    Alignment::Center,
                )?;
                p.body(&format!("{not_public} not web/social"), 32, 1)?;
                p.body(&format!("of {members}. OK: names"), 48, 1)?;
            }
        }
        Screen::Cautions {
            caution,
            names,
            page,
            pages,
        } => {
            let heading = match caution {
                CautionKind::NoPhotos => "NO PHOTOS",
                CautionKind::NotPublic => "Not web/social",
            };
            let title = if *pages > 1 {
                format!("{heading} {page}/{pages}")
            } else {
                heading.to_owned()
            };
            p.title_bar(&title)?;
            let mut y = 17;
            for name in names.iter().take(NAMES_PER_PAGE) {
                p.text(&fit(name, 21), &FONT_6X10, 2, y, Alignment::Left)?;
                y += 11;
            }
        }
        Screen::ServerUnreachable { synced_at, queued } => {
            p.title_bar("Server unreachable")?;
            p.body("Working offline", 18, 1)?;
            let synced = match synced_at {
                Some(t) => format!("List from {}", day_hm(*t)),
                None => "No list synced yet".to_owned(),
            };
            p.body(&synced, 31, 1)?;
            p.body(&format!("{queued} events to send"), 44, 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole_and_marks_cut_text() {
        assert_eq!(
            wrap("Tap your staff badge to sign it out", 21, 3),
            vec!["Tap your staff badge", "to sign it out"]
        );
        assert_eq!(wrap("aaa bbb ccc", 3, 2), vec!["aaa", "bb."]);
        assert_eq!(fit("Camera number twelve", 10), "Camera nu.");
    }
}
