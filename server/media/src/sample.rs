//! A real group photo to try the whole path on: the face detector's own test picture
//! (the 1927 Solvay conference, 1666 x 1136 greyscale PNG, public domain, 29 faces; the
//! crate that ships it drew a thin red box around each face). Built in only with the
//! `sample` feature: the demo and the end-to-end tests use it, production does not.

/// The PNG file's bytes.
pub static GROUP_PHOTO_PNG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/group-photo.png"));

/// How many faces are in it.
pub const GROUP_PHOTO_FACES: usize = 29;
