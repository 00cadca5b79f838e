//! The imports and the gallery (one import's photos, or all of them), paged.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::widgets::{Badge, status_badge, taken};
use crate::domain::PhotoId;
use crate::store::{custody, overview, photos, registry};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::api::Query;
use crate::web::api::photos::PhotoStatus;
use crate::web::error::ApiError;
use crate::web::ui::chrome::{Chrome, PageError, render};
use crate::web::ui::dashboard::{CustodyRow, custody_rows};

pub(super) fn status_filter(text: &str) -> Option<PhotoStatus> {
    Some(match text {
        "needs_tagging" => PhotoStatus::NeedsTagging,
        "ready" => PhotoStatus::Ready,
        "approved" => PhotoStatus::Approved,
        "published" => PhotoStatus::Published,
        "blocked" => PhotoStatus::Blocked,
        _ => return None,
    })
}

/// The gallery's filters: (query value, words).
pub(super) const FILTERS: [(&str, &str); 6] = [
    ("", "all"),
    ("needs_tagging", "needs tagging"),
    ("ready", "ready"),
    ("approved", "approved"),
    ("published", "published"),
    ("blocked", "blocked"),
];

/// One import (a sign-out with its photos) on the imports page.
pub struct ImportRow {
    pub custody: CustodyRow,
    pub needs_tagging: usize,
}

#[derive(Template)]
#[template(path = "imports.html")]
pub(super) struct ImportsPage {
    c: Chrome,
    imports: Vec<ImportRow>,
}

pub async fn imports(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let st = state.clone();
    let site = caller.account.site_id;
    let imports = state
        .read(move |conn| {
            let mut sessions = Vec::new();
            let devices =
                crate::store::sites::retain_visible(conn, site, registry::devices(conn)?, |d| {
                    (crate::store::sites::Kind::Device, d.id.0)
                })?;
            for device in devices {
                sessions.extend(custody::sessions_of_device(conn, device.id)?);
            }
            sessions.sort_by_key(|s| std::cmp::Reverse(s.out_at));
            custody_rows(&st, conn, sessions)?
                .into_iter()
                .filter(|row| row.photos > 0)
                .map(|row| {
                    Ok(ImportRow {
                        needs_tagging: overview::needing_tags(conn, Some(row.session_id), None)?,
                        custody: row,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    render(&ImportsPage { c, imports })
}

/// A photo in the gallery.
pub struct Tile {
    pub id: i64,
    /// Whether the photo belongs to a sign-out.
    pub matched: bool,
    pub badge: Badge,
    pub taken: String,
    pub people: usize,
}

#[derive(Template)]
#[template(path = "gallery.html")]
pub(super) struct GalleryPage {
    c: Chrome,
    /// The sign-out shown, or `None` for every photo.
    import: Option<CustodyRow>,
    /// Where the filter links point.
    base: String,
    tiles: Vec<Tile>,
    filter: String,
    filters: [(&'static str, &'static str); 6],
    /// The link to the next page, if there is one.
    next: Option<String>,
    /// This is not the first page.
    paged: bool,
    page_size: u32,
    /// How many photos of the import need tagging, and the first of them.
    left_to_tag: usize,
    first_to_tag: Option<i64>,
    /// What can be done to the import's photos at once.
    bulk: Option<super::bulk::Bulk>,
}

#[derive(Deserialize)]
pub struct GalleryQuery {
    #[serde(default)]
    status: String,
    /// Show the photos after this one (the last of the previous page).
    after: Option<i64>,
}

/// Photos per gallery page.
pub(super) const GALLERY_PAGE: u32 = 120;

pub async fn gallery(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Query(query): Query<GalleryQuery>,
) -> Result<Response, PageError> {
    show_gallery(state, caller, session, Some(id), query).await
}

/// Every photo, newest first, with the same filters: also those matched to no sign-out.
pub async fn all_photos(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Query(query): Query<GalleryQuery>,
) -> Result<Response, PageError> {
    show_gallery(state, caller, session, None, query).await
}

async fn show_gallery(
    state: AppState,
    caller: Caller,
    session: Session,
    id: Option<i64>,
    query: GalleryQuery,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let wanted = status_filter(&query.status);
    let st = state.clone();
    let after = query.after;
    let site = caller.account.site_id;
    let (import, tiles, left_to_tag, first_to_tag, bulk) = state
        .read(move |conn| {
            let import = match id {
                Some(id) => {
                    let session = custody::session(conn, id)?;
                    custody_rows(&st, conn, vec![session])?.pop()
                }
                None => None,
            };
            // An import in the order its photos were taken; every photo newest first.
            let rows = photos::gallery(
                conn,
                &photos::GalleryPage {
                    session: id,
                    status: wanted,
                    after: after.map(PhotoId),
                    newest_first: id.is_none(),
                    limit: GALLERY_PAGE,
                    site,
                },
            )?;
            let tiles = rows
                .into_iter()
                .map(|row| Tile {
                    id: row.photo.id.0,
                    badge: status_badge(row.status),
                    taken: taken(&st, &row.photo),
                    people: row.people,
                    matched: row.photo.custody_session_id.is_some(),
                })
                .collect::<Vec<_>>();
            let (left, first) = match id {
                Some(id) => (
                    photos::left_to_tag(conn, Some(id))?,
                    photos::gallery(
                        conn,
                        &photos::GalleryPage {
                            session: Some(id),
                            status: Some(photos::PhotoStatus::NeedsTagging),
                            after: None,
                            newest_first: false,
                            limit: 1,
                            site,
                        },
                    )?
                    .first()
                    .map(|row| row.photo.id.0),
                ),
                None => (0, None),
            };
            let bulk = id.map(|id| super::bulk::bulk(conn, &st, id)).transpose()?;
            Ok((import, tiles, left, first, bulk))
        })
        .await?;
    let base = id.map_or_else(|| "/photos".to_owned(), |id| format!("/imports/{id}"));
    let filter = if wanted.is_some() {
        query.status
    } else {
        String::new()
    };
    let next = (tiles.len() == GALLERY_PAGE as usize)
        .then(|| tiles.last())
        .flatten()
        .map(|last| {
            let status = if filter.is_empty() {
                String::new()
            } else {
                format!("status={filter}&")
            };
            format!("{base}?{status}after={}", last.id)
        });
    render(&GalleryPage {
        c,
        base,
        import,
        tiles,
        filter,
        filters: FILTERS,
        next,
        paged: after.is_some(),
        page_size: GALLERY_PAGE,
        left_to_tag,
        first_to_tag,
        bulk,
    })
}
