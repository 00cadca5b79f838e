//! Photo import: content-addressed store and analysis (see the crate description).
