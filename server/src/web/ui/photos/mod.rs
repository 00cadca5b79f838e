//! Imports, the gallery, the photo page (tagging, caption, decisions, asking for
//! publication) and the director's approval queue.

pub mod approvals;
pub mod bulk;
pub mod gallery;
pub mod photo;
pub mod widgets;

pub use widgets::{Badge, DecisionRow, decision_row, local, resolve_person, status_badge};
