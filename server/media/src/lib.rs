//! Photo import for consentcam: a crash-safe, content-addressed photo store fed from a
//! returned camera's card, and the per-photo analysis (EXIF, thumbnail, preview, faces,
//! custody session) that runs after it in the background.
//!
//! This crate does not know the server's database: the server implements [`Catalogue`]
//! on its own tables. See `README.md` for the order of calls and the deployment units.

pub mod analysis;
pub mod background;
pub mod bucket;
pub mod card;
pub mod catalogue;
pub mod centerface;
pub mod clock;
pub mod exif;
pub mod faces;
pub mod format;
pub(crate) mod h264;
pub mod hash;
pub(crate) mod heif_image;
pub mod import;
pub mod jpeg;
#[cfg(feature = "sample")]
pub mod labelled;
pub(crate) mod png_image;
pub mod problem;
pub mod provenance;
pub mod render;
#[cfg(feature = "sample")]
pub mod sample;
pub mod storage;
pub mod store;
pub mod untrusted;
pub(crate) mod video;
pub(crate) mod xmp;

pub use analysis::{
    Analysis, AnalysisOptions, PreviewSource, analyse_bytes, analyse_file, analyse_stored,
    decode_still,
};
pub use background::{BackgroundOptions, spawn_analysis};
pub use bucket::{Bucket, BucketError, Listed, LocalBucket, Prefixed, S3Bucket, S3Settings};
pub use card::CardPath;
pub use catalogue::{Catalogue, CatalogueError, FileRecord};
/// The sandbox the decoders run in (its settings are the server's to give).
pub use consentcam_sandbox as sandbox;
pub use exif::ExifSummary;
pub use faces::{FaceBox, FaceDetector, PixelBox};
pub use format::MediaKind;
pub use hash::ContentHash;
pub use import::{
    ImportError, ImportEvent, ImportOptions, ImportReport, ImportedFile, Outcome, WipeReport,
    import_card, wipe_card,
};
pub use jpeg::Limits;
pub use problem::Problem;
pub use provenance::{
    Attribution, ClockPolicy, CustodyWindow, RegisteredDevice, Unattributed, attribute,
};
pub use render::{Rendition, Rgb};
pub use storage::{OsStorage, Storage};
pub use store::{Original, Store, StoreError};
pub use untrusted::Decoders;
