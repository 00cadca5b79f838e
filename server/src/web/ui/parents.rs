//! Consent online on the admins' pages: a person's contacts, consent requests (one
//! person, a group, everyone missing or lapsing).

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{PageError, finish};
use crate::domain::{PersonId, SignerKind};
use crate::ops::parents::{self, Requested};
use crate::store::parents::NewContact;
use crate::web::AppState;
use crate::web::access::{Caller, Path};
use crate::web::api::parents::{Whom, ask};
use crate::web::error::ApiError;

#[derive(Deserialize)]
pub struct ContactForm {
    name: String,
    relationship: String,
    email: String,
}

pub async fn add_contact(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<ContactForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = match form.relationship.parse::<SignerKind>() {
        Err(e) => Err(ApiError::invalid(e.0)),
        Ok(relationship) => {
            let contact = NewContact {
                name: form.name,
                relationship,
                email: form.email,
            };
            state
                .db(move |c| {
                    parents::add_contact(c, PersonId(id), &contact, &caller.actor(), now)?;
                    Ok("Contact added.".to_owned())
                })
                .await
        }
    };
    finish(&session, result, &format!("/people/{id}#contacts")).await
}

pub async fn remove_contact(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path((id, contact)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            parents::remove_contact(c, PersonId(id), contact, &caller.actor(), now)?;
            Ok("Contact removed: their links no longer work.".to_owned())
        })
        .await;
    finish(&session, result, &format!("/people/{id}#contacts")).await
}

fn said(done: &Requested) -> String {
    let mut words = format!(
        "{} link(s) mailed to the contacts of {} person(s).",
        done.links, done.people
    );
    if !done.without_address.is_empty() {
        words.push_str(&format!(
            " {} had no contact who may answer for them (a parent's address for a child, \
             their own for an adult).",
            done.without_address.len()
        ));
    }
    if !done.not_asked.is_empty() {
        words.push_str(&format!(
            " {} not asked: left, restricted or erased.",
            done.not_asked.len()
        ));
    }
    words
}

pub async fn request_person(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let result = ask(&state, &caller, Whom::Person(id))
        .await
        .map(|d| said(&d));
    finish(&session, result, &format!("/people/{id}#contacts")).await
}

pub async fn request_group(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let result = ask(&state, &caller, Whom::Group(id))
        .await
        .map(|d| said(&d));
    finish(&session, result, &format!("/groups/{id}")).await
}

pub async fn request_everyone(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let result = ask(&state, &caller, Whom::MissingOrLapsing)
        .await
        .map(|d| said(&d));
    finish(&session, result, "/renewals").await
}

/// Where a request stands, in a line.
pub fn request_words(state: &AppState, r: &crate::store::parents::RequestStatus) -> String {
    let mut words = vec![format!(
        "requested {}",
        super::photos::local(state, r.requested_at)
    )];
    if r.mail_failed {
        words.push("the mail failed".into());
    }
    if let Some(at) = r.opened_at {
        words.push(format!("link opened {}", super::photos::local(state, at)));
    }
    if let Some(at) = r.answered_at {
        words.push(format!("answered {}", super::photos::local(state, at)));
    }
    if let Some(at) = r.withdrawn_at {
        words.push(format!(
            "withdrawn online {}",
            super::photos::local(state, at)
        ));
    }
    if r.locked {
        words.push("link locked after wrong dates of birth".into());
    }
    words.join("; ")
}

#[derive(askama::Template)]
#[template(path = "admin_wording.html")]
struct WordingPage {
    c: super::chrome::Chrome,
    current: parents::WordingVersion,
    /// An admin of one site reads the words; the trust's admins change them.
    may_change: bool,
    parents_on: bool,
}

/// `/admin/consent-wording`: what parents are told each channel means.
pub async fn wording_page(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = super::chrome::Chrome::new(&state, &caller, &session).await;
    let current = state.read(|c| Ok(parents::wording_version(c)?)).await?;
    super::chrome::render(&WordingPage {
        c,
        current,
        may_change: caller.of_every_site(),
        parents_on: state.config().parents.is_some(),
    })
}

/// The wording as the page posts it (beside its CSRF field).
#[derive(Deserialize)]
pub struct WordingForm {
    organisation: String,
    introduction: String,
    internal: String,
    partner: String,
    website: String,
    social: String,
    declaration: String,
}

/// Saves the form's words as a new version (the trust's admins only).
pub async fn save_wording(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    axum::Form(form): axum::Form<WordingForm>,
) -> Result<Response, PageError> {
    let wording = crate::rules::parents::Wording {
        organisation: form.organisation,
        introduction: form.introduction,
        internal: form.internal,
        partner: form.partner,
        website: form.website,
        social: form.social,
        declaration: form.declaration,
    };
    let result = if caller.of_every_site() {
        let now = state.now();
        state
            .db(move |c| {
                let id = parents::set_wording(c, &wording, &caller.actor(), now)?;
                Ok(format!(
                    "Wording version {id} saved: parents see it from now on; answers given \
                     before keep the version they were shown."
                ))
            })
            .await
    } else {
        Err(ApiError::Forbidden(
            "the form's wording is the trust's: an admin of every site sets it".into(),
        ))
    };
    finish(&session, result, "/admin/consent-wording").await
}
