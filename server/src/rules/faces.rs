//! Face boxes as geometry, pure: how they overlap, which stored face a new search found
//! again, and the order people read a group photo in.

use serde::Serialize;

/// A face box in pixels of the upright picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FaceRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The order people read a group photo in: rows top to bottom, each row left to right.
/// Faces sorted by the height of their centres fall into one row until a gap of half a
/// face opens between one centre and the next, so a staggered back row (people on steps,
/// heads at several heights) stays one row and the row in front of it is another.
/// Returns indices into `rects`. Pure.
#[must_use]
pub fn reading_order(rects: &[FaceRect]) -> Vec<usize> {
    let centre_y = |r: &FaceRect| f64::from(r.y) + f64::from(r.h) / 2.0;
    let centre_x = |r: &FaceRect| f64::from(r.x) + f64::from(r.w) / 2.0;
    let mut by_height: Vec<usize> = (0..rects.len()).collect();
    by_height.sort_by(|&a, &b| {
        centre_y(&rects[a])
            .total_cmp(&centre_y(&rects[b]))
            .then(centre_x(&rects[a]).total_cmp(&centre_x(&rects[b])))
    });
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut previous: Option<usize> = None;
    for i in by_height {
        let same_row = previous.is_some_and(|p| {
            let gap = centre_y(&rects[i]) - centre_y(&rects[p]);
            gap < f64::from(rects[p].h.max(rects[i].h)) / 2.0
        });
        match rows.last_mut() {
            Some(row) if same_row => row.push(i),
            _ => rows.push(vec![i]),
        }
        previous = Some(i);
    }
    rows.into_iter()
        .flat_map(|mut row| {
            row.sort_by(|&a, &b| centre_x(&rects[a]).total_cmp(&centre_x(&rects[b])));
            row
        })
        .collect()
}

/// Boxes overlapping at least this much (intersection over union) are the same face
/// found again. Lower than a detector's own merging: two detectors frame a face
/// differently (one square on the eyes and mouth, another the whole head).
pub const SAME_FACE_IOU: f64 = 0.3;

impl FaceRect {
    /// Intersection over union with `other` (0 when either is empty).
    #[must_use]
    pub fn iou(&self, other: &FaceRect) -> f64 {
        let span =
            |a0: u32, a1: u32, b0: u32, b1: u32| f64::from(a1.min(b1).saturating_sub(a0.max(b0)));
        let inter = span(self.x, self.x + self.w, other.x, other.x + other.w)
            * span(self.y, self.y + self.h, other.y, other.y + other.h);
        let area = |r: &FaceRect| f64::from(r.w) * f64::from(r.h);
        let union = area(self) + area(other) - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }
}

/// How a new search's boxes line up with a photo's stored faces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacesFoundAgain {
    /// Stored faces the search found again, with the box it found each in.
    pub again: Vec<(i64, FaceRect)>,
    /// Boxes matching no stored face: faces nobody has seen yet.
    pub new: Vec<FaceRect>,
}

/// Pairs each new box with the stored face it overlaps most (at least
/// [`SAME_FACE_IOU`]), best overlaps first, each face and box used once. Pure.
#[must_use]
pub fn found_again(stored: &[(i64, FaceRect)], boxes: &[FaceRect]) -> FacesFoundAgain {
    let mut pairs: Vec<(f64, usize, usize)> = stored
        .iter()
        .enumerate()
        .flat_map(|(f, face)| {
            boxes
                .iter()
                .enumerate()
                .map(move |(b, rect)| (face.1.iou(rect), f, b))
        })
        .filter(|(iou, _, _)| *iou >= SAME_FACE_IOU)
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut face_used, mut box_used) = (vec![false; stored.len()], vec![false; boxes.len()]);
    let mut again = Vec::new();
    for (_, f, b) in pairs {
        if !face_used[f] && !box_used[b] {
            face_used[f] = true;
            box_used[b] = true;
            again.push((stored[f].0, boxes[b]));
        }
    }
    again.sort_by_key(|(id, _)| *id);
    let new = boxes
        .iter()
        .zip(&box_used)
        .filter(|(_, used)| !**used)
        .map(|(rect, _)| *rect)
        .collect();
    FacesFoundAgain { again, new }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: u32, y: u32, w: u32, h: u32) -> FaceRect {
        FaceRect { x, y, w, h }
    }

    /// A stored face (its id and box); what staff said about it plays no part.
    fn face(id: i64, r: FaceRect) -> (i64, FaceRect) {
        (id, r)
    }

    /// (what it shows, stored faces, new boxes, expected found again, expected new)
    type Case = (
        &'static str,
        Vec<(i64, FaceRect)>,
        Vec<FaceRect>,
        Vec<(i64, FaceRect)>,
        Vec<FaceRect>,
    );

    #[test]
    fn faces_are_found_again_by_overlap() {
        let ann = face(1, rect(100, 100, 50, 50));
        let ghost = face(2, rect(400, 100, 50, 50));
        // (stored, boxes, expected found again, expected new)
        let cases: Vec<Case> = vec![
            (
                "nothing stored: all new",
                vec![],
                vec![rect(0, 0, 10, 10)],
                vec![],
                vec![rect(0, 0, 10, 10)],
            ),
            (
                "a taller box on the same face is the same face",
                vec![ann],
                vec![rect(98, 90, 54, 66)],
                vec![(1, rect(98, 90, 54, 66))],
                vec![],
            ),
            (
                "a face beside it is new",
                vec![ann],
                vec![rect(160, 100, 50, 50)],
                vec![],
                vec![rect(160, 100, 50, 50)],
            ),
            (
                "one box cannot be two faces; the better overlap wins",
                vec![ann, face(3, rect(110, 100, 50, 50))],
                vec![rect(108, 100, 50, 50)],
                vec![(3, rect(108, 100, 50, 50))],
                vec![],
            ),
            (
                "faces not found again are simply not matched",
                vec![ann, ghost],
                vec![rect(100, 100, 50, 50), rect(1000, 50, 30, 30)],
                vec![(1, rect(100, 100, 50, 50))],
                vec![rect(1000, 50, 30, 30)],
            ),
            (
                "an empty box overlaps nothing",
                vec![ann],
                vec![rect(100, 100, 0, 0)],
                vec![],
                vec![rect(100, 100, 0, 0)],
            ),
        ];
        for (name, stored, boxes, again, new) in cases {
            let got = found_again(&stored, &boxes);
            assert_eq!(got, FacesFoundAgain { again, new }, "{name}");
        }
    }

    #[test]
    fn faces_are_numbered_in_reading_order() {
        let cases: Vec<(&str, Vec<FaceRect>, Vec<usize>)> = vec![
            ("none", vec![], vec![]),
            (
                "one row, found right to left",
                vec![
                    rect(300, 100, 40, 50),
                    rect(200, 104, 40, 50),
                    rect(100, 98, 40, 50),
                ],
                vec![2, 1, 0],
            ),
            (
                "two rows: the back row first, each left to right",
                vec![
                    rect(100, 300, 40, 50),
                    rect(150, 100, 40, 50),
                    rect(50, 310, 40, 50),
                    rect(60, 110, 40, 50),
                ],
                vec![3, 1, 2, 0],
            ),
            (
                "a staggered row stays one row",
                vec![
                    rect(0, 100, 40, 50),
                    rect(50, 120, 40, 50),
                    rect(100, 100, 40, 50),
                ],
                vec![0, 1, 2],
            ),
            (
                "heads on steps, each a little higher, are one row",
                vec![
                    rect(300, 40, 40, 50),
                    rect(200, 60, 40, 50),
                    rect(100, 80, 40, 50),
                    rect(0, 100, 40, 50),
                ],
                vec![3, 2, 1, 0],
            ),
            (
                "half a face between one centre and the next starts the next row",
                vec![rect(100, 100, 40, 50), rect(0, 125, 40, 50)],
                vec![0, 1],
            ),
        ];
        for (name, rects, expected) in cases {
            assert_eq!(reading_order(&rects), expected, "{name}");
        }
    }

    #[test]
    fn iou_is_symmetric_and_bounded() {
        let a = rect(0, 0, 10, 10);
        assert!((a.iou(&a) - 1.0).abs() < 1e-9);
        assert!((a.iou(&rect(5, 0, 10, 10)) - 50.0 / 150.0).abs() < 1e-9);
        assert_eq!(a.iou(&rect(5, 0, 10, 10)), rect(5, 0, 10, 10).iou(&a));
        assert_eq!(a.iou(&rect(20, 20, 5, 5)), 0.0);
    }
}
