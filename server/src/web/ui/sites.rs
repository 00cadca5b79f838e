//! The sites page: for an admin of every site, the centres the server serves, with what
//! belongs to each, adding one, and moving a record into a site (or out of every one).
//! An admin of one site cannot see it: moving records between sites is the trust's.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use crate::store::sites::{self, Kind, SiteSummary};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::error::ApiError;

/// What a record is moved by: the form's word, its kind, and what names it.
const KINDS: [(&str, Kind, &str); 5] = [
    ("person", Kind::Person, "reference"),
    ("account", Kind::Account, "user name"),
    ("device", Kind::Device, "label"),
    ("kiosk", Kind::Kiosk, "name"),
    ("group", Kind::Group, "name"),
];

#[derive(Template)]
#[template(path = "admin_sites.html")]
struct SitesPage {
    c: Chrome,
    sites: Vec<SiteSummary>,
    kinds: Vec<(&'static str, &'static str)>,
}

/// Only an admin of every site manages sites (and the trust's publishing); to an admin of
/// one, the page is not there.
pub(super) fn of_every_site(caller: &Caller) -> Result<(), ApiError> {
    if caller.of_every_site() {
        Ok(())
    } else {
        Err(ApiError::NotFound("no such page".into()))
    }
}

pub async fn sites(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    of_every_site(&caller)?;
    let c = Chrome::new(&state, &caller, &session).await;
    let sites = state.read(|c| Ok(sites::summaries(c)?)).await?;
    render(&SitesPage {
        c,
        sites,
        kinds: KINDS.iter().map(|(word, _, by)| (*word, *by)).collect(),
    })
}

#[derive(Deserialize)]
pub struct NewSiteForm {
    name: String,
}

pub async fn add_site(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<NewSiteForm>,
) -> Result<Response, PageError> {
    of_every_site(&caller)?;
    let now = state.now();
    let result = state
        .db(move |c| {
            crate::ops::sites::add_site(c, &form.name, &caller.actor(), now)?;
            Ok(format!("Site {} added.", form.name.trim()))
        })
        .await;
    finish(&session, result, "/admin/sites").await
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// `person`, `account`, `device`, `kiosk` or `group`.
    kind: String,
    /// What names the record (see [`KINDS`]).
    record: String,
    /// A site's name, or empty for none (seen by accounts of every site only).
    #[serde(default)]
    site: String,
}

pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<AssignForm>,
) -> Result<Response, PageError> {
    of_every_site(&caller)?;
    let now = state.now();
    let result = state
        .db(move |c| {
            let (word, kind, by) = KINDS
                .iter()
                .find(|(word, _, _)| *word == form.kind)
                .ok_or_else(|| ApiError::invalid("choose what to move"))?;
            let id = sites::record_named(c, *kind, &form.record)?.ok_or_else(|| {
                ApiError::invalid(format!(
                    "there is no {word} with the {by} “{}”",
                    form.record.trim()
                ))
            })?;
            let site = Some(form.site.trim()).filter(|s| !s.is_empty());
            crate::ops::sites::assign(c, *kind, id, site, &caller.actor(), now)?;
            Ok(match site {
                Some(site) => format!("The {word} {} is now in {site}.", form.record.trim()),
                None => format!(
                    "The {word} {} belongs to no site: only accounts of every site see it.",
                    form.record.trim()
                ),
            })
        })
        .await;
    finish(&session, result, "/admin/sites").await
}
