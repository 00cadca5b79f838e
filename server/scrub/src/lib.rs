//! Lossless JPEG metadata scrubber (see the crate description).
