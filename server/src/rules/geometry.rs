//! Face boxes are kept in the upright picture (as people see it and tag it); covers are
//! painted in the stored pixel grid, before the EXIF orientation is applied. This maps one
//! to the other.

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Maps `upright` (a box in the displayed picture) to the stored pixel grid of an image
/// stored `width` x `height` with EXIF `orientation` (1-8; anything else is taken as 1).
pub fn upright_to_stored(upright: Rect, orientation: u16, width: u32, height: u32) -> Rect {
    let Rect { x: u, y: v, w, h } = upright;
    let flip_x = |x: u32, span: u32| width.saturating_sub(x.saturating_add(span));
    let flip_y = |y: u32, span: u32| height.saturating_sub(y.saturating_add(span));
    match orientation {
        // Mirrored left to right.
        2 => Rect {
            x: flip_x(u, w),
            y: v,
            w,
            h,
        },
        // Turned 180 degrees.
        3 => Rect {
            x: flip_x(u, w),
            y: flip_y(v, h),
            w,
            h,
        },
        // Mirrored top to bottom.
        4 => Rect {
            x: u,
            y: flip_y(v, h),
            w,
            h,
        },
        // Transposed (mirrored across the main diagonal).
        5 => Rect {
            x: v,
            y: u,
            w: h,
            h: w,
        },
        // Displayed turned 90 degrees clockwise.
        6 => Rect {
            x: v,
            y: flip_y(u, w),
            w: h,
            h: w,
        },
        // Transverse (mirrored across the other diagonal).
        7 => Rect {
            x: flip_x(v, h),
            y: flip_y(u, w),
            w: h,
            h: w,
        },
        // Displayed turned 90 degrees anticlockwise.
        8 => Rect {
            x: flip_x(v, h),
            y: u,
            w: h,
            h: w,
        },
        _ => upright,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies an orientation to a stored point the way a viewer does, giving the upright
    /// point: the independent reference for the table below.
    fn display(x: u32, y: u32, orientation: u16, width: u32, height: u32) -> (u32, u32) {
        let (xm, ym) = (width - 1 - x, height - 1 - y);
        match orientation {
            2 => (xm, y),
            3 => (xm, ym),
            4 => (x, ym),
            5 => (y, x),
            6 => (ym, x),
            7 => (ym, xm),
            8 => (y, xm),
            _ => (x, y),
        }
    }

    #[test]
    fn every_orientation_maps_a_box_back_onto_the_same_pixels() {
        let (width, height) = (60, 40);
        for orientation in 1..=8 {
            let stored = Rect {
                x: 7,
                y: 5,
                w: 10,
                h: 4,
            };
            // Where the stored box lands in the upright picture.
            let corners = [
                display(stored.x, stored.y, orientation, width, height),
                display(
                    stored.x + stored.w - 1,
                    stored.y + stored.h - 1,
                    orientation,
                    width,
                    height,
                ),
            ];
            let upright = Rect {
                x: corners[0].0.min(corners[1].0),
                y: corners[0].1.min(corners[1].1),
                w: corners[0].0.abs_diff(corners[1].0) + 1,
                h: corners[0].1.abs_diff(corners[1].1) + 1,
            };
            assert_eq!(
                upright_to_stored(upright, orientation, width, height),
                stored,
                "orientation {orientation}"
            );
        }
    }
}
