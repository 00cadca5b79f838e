//! People, consent forms, the consent lookup and the CSV import.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Json, Query};
use crate::domain::{ConsentId, ExternalRef, Name, PartnerId, PersonId, Role, Scopes, SignerKind};
use crate::ops::consent_csv::ImportReport;
use crate::ops::decisions::{self, ChannelDecision};
use crate::ops::{self, people::Withdrawal};
use crate::store::consents;
use crate::store::publications;
use crate::store::{people, photos};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

/// A person in a list. Staff see who someone is, never their date of birth or whether
/// they are vulnerable (least privilege: the consent decisions say what staff need);
/// directors and admins see the whole record.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Listed {
    Whole(people::Person),
    Named {
        id: PersonId,
        ext_ref: String,
        given_name: String,
        family_name: String,
        role: Role,
    },
}

fn listed_one(caller: &Caller, p: people::Person) -> Listed {
    if caller.account.role == crate::domain::AccountRole::Staff {
        Listed::Named {
            id: p.id,
            ext_ref: p.ext_ref,
            given_name: p.given_name,
            family_name: p.family_name,
            role: p.role,
        }
    } else {
        Listed::Whole(p)
    }
}

fn listed(caller: &Caller, found: Vec<people::Person>) -> Vec<Listed> {
    found.into_iter().map(|p| listed_one(caller, p)).collect()
}

/// A consent form as the API shows it: whether a scan is on file, never where (admins
/// download it from `/consents/{id}/evidence`).
#[derive(Serialize)]
pub struct FormView {
    #[serde(flatten)]
    form: consents::Consent,
    scan: bool,
}

fn forms(found: Vec<consents::Consent>) -> Vec<FormView> {
    found
        .into_iter()
        .map(|mut form| {
            let scan = form.evidence_path.take().is_some();
            FormView { form, scan }
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    /// The next page: the people after this id (the last of the previous page).
    after: Option<i64>,
}

/// The register by name, a page at a time (`limit`, default 500, at most 1,000; pass the
/// last id as `after` for the next page).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Listed>>, ApiError> {
    let site = caller.account.site_id;
    let limit = query.limit.unwrap_or(500).clamp(1, 1000);
    let after = query.after.map(PersonId);
    let found = state
        .read(move |c| Ok(people::page_in(c, site, after, limit)?))
        .await?;
    Ok(Json(listed(&caller, found)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    #[serde(rename = "ref")]
    ext_ref: ExternalRef,
    given_name: Name,
    family_name: Name,
    date_of_birth: Date,
    role: Role,
    #[serde(default)]
    vulnerable: bool,
    #[serde(default)]
    may_sign_out: bool,
    /// Why the vulnerable flag is removed (required to remove it; kept in the audit log).
    #[serde(default)]
    reason: String,
}

impl PersonBody {
    fn into_new(self) -> people::NewPerson {
        people::NewPerson {
            ext_ref: self.ext_ref,
            given_name: self.given_name,
            family_name: self.family_name,
            date_of_birth: self.date_of_birth,
            role: self.role,
            vulnerable: self.vulnerable,
            may_sign_out: self.may_sign_out,
        }
    }
}

#[derive(Serialize)]
pub struct Created {
    id: i64,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PersonBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    if body.date_of_birth > state.today() {
        return Err(ApiError::invalid("date_of_birth is in the future"));
    }
    let person = body.into_new();
    let id = state
        .db(move |c| {
            Ok(ops::people::add_person(
                c,
                &person,
                &caller.actor(),
                caller.account.site_id,
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<PersonBody>,
) -> Result<StatusCode, ApiError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let reason = body.reason.clone();
    let person = body.into_new();
    state
        .db(move |c| {
            Ok(ops::people::update_person(
                c,
                PersonId(id),
                &person,
                &reason,
                &caller.actor(),
                now,
                &ops::people::AsOf {
                    today,
                    policy: &policy,
                },
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search text travels in the body, never the URL: names stay out of logs and history.
#[derive(Deserialize)]
pub struct SearchBody {
    q: String,
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SearchBody>,
) -> Result<Json<Vec<Listed>>, ApiError> {
    let site = caller.account.site_id;
    let found = state
        .read(move |c| Ok(people::search_in(c, site, &body.q, 50)?))
        .await?;
    Ok(Json(listed(&caller, found)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictionBody {
    restricted: bool,
}

/// Restricts a person (Article 18) or lifts it; answers how many publications became
/// takedown tasks.
pub async fn restriction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RestrictionBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let tasks = state
        .db(move |c| {
            let as_of = ops::people::AsOf {
                today,
                policy: &policy,
            };
            Ok(ops::people::set_restriction(
                c,
                PersonId(id),
                body.restricted,
                &caller.actor(),
                now,
                &as_of,
            )?)
        })
        .await?;
    Ok(Json(
        serde_json::json!({ "restricted": body.restricted, "takedown_tasks": tasks }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeftBody {
    /// The day the person left; null if they have not left after all.
    left_on: Option<Date>,
}

/// Records the day a person left (their forms are then kept for `[retention]
/// former_person_years`), or clears it.
pub async fn left(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<LeftBody>,
) -> Result<StatusCode, ApiError> {
    let (now, today) = (state.now(), state.today());
    state
        .db(move |c| {
            Ok(ops::people::set_left(
                c,
                PersonId(id),
                body.left_on,
                today,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    /// The person's reference, typed again to confirm.
    confirm_ref: String,
}

/// Erases a person (Article 17); answers what was done.
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<EraseBody>,
) -> Result<Json<crate::ops::erasure::ErasureReport>, ApiError> {
    let now = state.now();
    let archive = state.archive().clone();
    Ok(Json(
        state
            .db(move |c| {
                Ok(crate::ops::erasure::erase_confirmed(
                    c,
                    &archive,
                    PersonId(id),
                    &body.confirm_ref,
                    &caller.actor(),
                    now,
                )?)
            })
            .await?,
    ))
}

#[derive(Serialize)]
pub struct PersonPage {
    /// Staff get the name and role only (no date of birth, no vulnerable flag: the
    /// answer per channel already carries what a photo may do).
    person: Listed,
    consents: Vec<FormView>,
    /// Per channel, what a photo of this person alone could do today, and why.
    today: Vec<ChannelDecision>,
    photos: Vec<i64>,
    publications: Vec<publications::Publication>,
    /// Notes about the person (why the vulnerable flag was lowered), which the audit
    /// entries refer to by id: directors and admins only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<Note>,
}

#[derive(Serialize)]
pub struct Note {
    id: i64,
    kind: String,
    text: String,
    written_at: String,
}

/// A vulnerable or restricted person's record is sensitive: every reading of it is in
/// the audit log (who, whom, when; ids only).
pub fn log_sensitive_read(
    conn: &rusqlite::Connection,
    caller: &Caller,
    person: &people::Person,
    now: jiff::Timestamp,
) -> Result<(), ApiError> {
    Ok(ops::people::view_person(
        conn,
        person,
        &caller.actor(),
        now,
    )?)
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PersonPage>, ApiError> {
    let (today, policy, now) = (state.today(), state.policy(), state.now());
    Ok(Json(
        state
            .db(move |c| {
                let id = PersonId(id);
                let person = people::person(c, id)?;
                log_sensitive_read(c, &caller, &person, now)?;
                Ok(PersonPage {
                    person: listed_one(&caller, person),
                    consents: forms(consents::consents_of(c, id)?),
                    today: decisions::for_role(
                        decisions::standing(c, id, today, &policy)?,
                        caller.account.role,
                    ),
                    photos: photos::photos_of_person(c, id)?
                        .iter()
                        .map(|p| p.id.0)
                        .collect(),
                    publications: publications::publications_of_person(c, id)?,
                    notes: if caller.account.role == crate::domain::AccountRole::Staff {
                        Vec::new()
                    } else {
                        crate::store::retention::person_notes(c, id)?
                            .into_iter()
                            .map(|(id, kind, text, written_at)| Note {
                                id,
                                kind,
                                text,
                                written_at,
                            })
                            .collect()
                    },
                })
            })
            .await?,
    ))
}

pub async fn consents(
    State(state): State<AppState>,
    _: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<FormView>>, ApiError> {
    Ok(Json(
        state
            .read(move |c| {
                people::person(c, PersonId(id))?;
                Ok(forms(consents::consents_of(c, PersonId(id))?))
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    signer: SignerKind,
    #[serde(default)]
    signer_name: String,
    signed_on: Date,
    expires_on: Option<Date>,
    withdrawn_on: Option<Date>,
    internal: bool,
    #[serde(default)]
    partners: Vec<PartnerId>,
    website: bool,
    social: bool,
}

pub async fn add_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ConsentBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    if body.signed_on > today {
        return Err(ApiError::invalid("signed_on is in the future"));
    }
    if body.signer.is_on_behalf() && body.signer_name.trim().is_empty() {
        return Err(ApiError::invalid(
            "signer_name is required when a parent, guardian or carer signed",
        ));
    }
    let consent = consents::NewConsent {
        person_id: PersonId(id),
        signer: body.signer,
        signer_name: body.signer_name.trim().to_owned(),
        signed_on: body.signed_on,
        expires_on: body.expires_on,
        withdrawn_on: body.withdrawn_on,
        scopes: Scopes {
            internal: body.internal,
            partners: body.partners,
            website: body.website,
            social: body.social,
        },
        evidence_path: None,
        source: "api".into(),
    };
    let id = state
        .db(move |c| {
            people::person(c, consent.person_id)?;
            let as_of = ops::people::AsOf {
                today,
                policy: &policy,
            };
            Ok(ops::people::add_consent(
                c,
                &consent,
                &caller.actor(),
                now,
                &as_of,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    /// Defaults to today.
    on: Option<Date>,
}

pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<WithdrawBody>,
) -> Result<Json<Withdrawal>, ApiError> {
    let (now, today) = (state.now(), state.today());
    let on = body.on.unwrap_or(today);
    if on > today {
        return Err(ApiError::invalid(
            "a withdrawal cannot be dated in the future",
        ));
    }
    let withdrawal = state
        .db(move |c| {
            Ok(ops::people::withdraw_consent(
                c,
                ConsentId(id),
                on,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    // A web endpoint that removes copies on its own (a WordPress site) starts now.
    state.forward_now();
    Ok(Json(withdrawal))
}

pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "send the CSV file as the request body".into(),
        ));
    }
    Ok(Json(
        state
            .db(move |c| {
                Ok(ops::consent_csv::import_consents(
                    c,
                    &body,
                    &caller.actor(),
                    caller.account.site_id,
                    now,
                    &ops::people::AsOf {
                        today,
                        policy: &policy,
                    },
                )?)
            })
            .await?,
    ))
}

#[derive(Serialize)]
pub struct LookupHit {
    person: Listed,
    today: Vec<ChannelDecision>,
}

/// Consent lookup: by name or ref, with each match's per-channel answer today.
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SearchBody>,
) -> Result<Json<Vec<LookupHit>>, ApiError> {
    if body.q.trim().is_empty() {
        return Err(ApiError::invalid("type a name or a ref to look up"));
    }
    let (today, policy) = (state.today(), state.policy());
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                people::search_in(c, site, &body.q, 20)?
                    .into_iter()
                    .map(|person| {
                        let standing = decisions::standing(c, person.id, today, &policy)?;
                        Ok(LookupHit {
                            person: listed_one(&caller, person),
                            today: decisions::for_role(standing, caller.account.role),
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await?,
    ))
}
