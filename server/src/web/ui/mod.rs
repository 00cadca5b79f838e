//! The web UI: server-rendered pages for staff, directors and admins.
//!
//! Its routes are classified in [`ROUTES`] beside the API's, and go through the same access
//! middleware. Forms carry the CSRF token in a `_csrf` field.

use axum::Router;

use super::AppState;
use super::access::Access;

/// Every page route: method, path pattern, access.
pub const ROUTES: &[(&str, &str, Access)] = &[];

pub fn routes() -> Router<AppState> {
    Router::new()
}
