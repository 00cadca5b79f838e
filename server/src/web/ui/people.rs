//! Consent lookup, a person's page (consent per channel today, forms, evidence, photos,
//! publications, custody) and the consent records: add, withdraw, attach the signed form,
//! edit the person.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use super::dashboard::{CustodyRow, custody_rows};
use super::media::save_evidence;
use super::photos::{Badge, DecisionRow, status_badge};
use crate::domain::{ConsentId, ExternalRef, Name, PartnerId, PersonId, Role, Scopes, SignerKind};
use crate::ops::{self, decisions};
use crate::store::consents;
use crate::store::partners;
use crate::store::publications;
use crate::store::{custody, people, photos};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::api::photos::status;
use crate::web::error::ApiError;
use consentcam_media::Bucket;

fn decision_rows(
    standing: Vec<decisions::ChannelDecision>,
    role: crate::domain::AccountRole,
) -> Vec<DecisionRow> {
    decisions::for_role(standing, role)
        .into_iter()
        .map(|d| super::photos::decision_row(d.channel, d.channel_name, &d.decision))
        .collect()
}

/// A match in the consent lookup.
pub struct Hit {
    pub id: i64,
    pub ext_ref: String,
    pub name: String,
    pub role: Role,
    pub vulnerable: bool,
    pub today: Vec<DecisionRow>,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    c: Chrome,
    searched: bool,
    hits: Vec<Hit>,
}

pub async fn lookup_page(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    render(&LookupPage {
        c,
        searched: false,
        hits: Vec::new(),
    })
}

/// Search text is posted, never put in the URL: names stay out of logs and history.
#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    q: String,
}

pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<LookupForm>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let (today, policy) = (state.today(), state.policy());
    let role = caller.account.role;
    let q = form.q.trim().to_owned();
    let site = caller.account.site_id;
    let hits = if q.is_empty() {
        Vec::new()
    } else {
        state
            .read(move |conn| {
                people::search_in(conn, site, &q, 20)?
                    .into_iter()
                    .map(|p| {
                        Ok(Hit {
                            today: decision_rows(
                                decisions::standing(conn, p.id, today, &policy)?,
                                role,
                            ),
                            id: p.id.0,
                            name: format!("{} {}", p.given_name, p.family_name),
                            ext_ref: p.ext_ref,
                            role: p.role,
                            vulnerable: p.vulnerable,
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await?
    };
    render(&LookupPage {
        c,
        searched: true,
        hits,
    })
}

/// A consent form, ready to show.
pub struct FormRow {
    pub id: i64,
    pub signer: String,
    pub signer_name: String,
    /// As stored, for the correction form.
    pub stored_signer_name: String,
    pub stored_expires_on: String,
    pub signed_on: String,
    pub expires_on: String,
    pub withdrawn_on: Option<String>,
    pub grants: String,
    pub evidence: bool,
    pub source: String,
    /// Given or changed online: its reference, the wording's version and hash, who typed
    /// what, when.
    pub online: Option<String>,
}

/// One of the person's photos.
pub struct PhotoRow {
    pub id: i64,
    pub badge: Badge,
}

/// One of the person's publications.
pub struct PublicationRow {
    pub photo_id: i64,
    pub channel: String,
    pub published_at: String,
    pub takedown: String,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    c: Chrome,
    person: people::Person,
    today: Vec<DecisionRow>,
    forms: Vec<FormRow>,
    photos: Vec<PhotoRow>,
    publications: Vec<PublicationRow>,
    custody: Vec<CustodyRow>,
    partners: Vec<partners::Partner>,
    roles: &'static [Role],
    signers: &'static [SignerKind],
    date_today: String,
    /// Who answers for the person (admins only).
    contacts: Vec<crate::store::parents::Contact>,
    /// Where the latest consent request stands (admins only).
    request: Option<String>,
    /// `[parents]` is set: requests can be sent.
    parents_on: bool,
}

fn grants(scopes: &Scopes, partners: &[partners::Partner]) -> String {
    let mut out = Vec::new();
    if scopes.internal {
        out.push("internal".to_owned());
    }
    for id in &scopes.partners {
        out.push(
            partners
                .iter()
                .find(|p| p.id == *id)
                .map_or_else(|| format!("partner {id}"), |p| p.name.clone()),
        );
    }
    if scopes.website {
        out.push("website".into());
    }
    if scopes.social {
        out.push("social media".into());
    }
    if out.is_empty() {
        "nothing".into()
    } else {
        out.join(", ")
    }
}

pub async fn person(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let (today, policy) = (state.today(), state.policy());
    let role = caller.account.role;
    let validity = policy.validity_days;
    let st = state.clone();
    let viewer = caller.clone();
    let now = state.now();
    let page = state
        .db(move |conn| {
            let pid = PersonId(id);
            let person = people::person(conn, pid)?;
            crate::web::api::people::log_sensitive_read(conn, &viewer, &person, now)?;
            let partners = partners::partners(conn)?;
            let channel_names = decisions::channels(conn)?;
            let online = crate::store::parents::online_of(conn, pid)?;
            let forms = consents::consents_of(conn, pid)?
                .into_iter()
                .rev()
                .map(|f| FormRow {
                    id: f.id.0,
                    signer: f.signer.as_str().to_owned(),
                    signer_name: if f.signer == SignerKind::Myself {
                        "the person themself".into()
                    } else {
                        f.signer_name.clone()
                    },
                    stored_signer_name: f.signer_name.clone(),
                    stored_expires_on: f.expires_on.map(|d| d.to_string()).unwrap_or_default(),
                    signed_on: f.signed_on.to_string(),
                    expires_on: match f.expires_on {
                        Some(d) => d.to_string(),
                        None => f
                            .signed_on
                            .checked_add(jiff::Span::new().days(i64::from(validity)))
                            .map_or_else(|_| "-".into(), |d| format!("{d} (default validity)")),
                    },
                    withdrawn_on: f.withdrawn_on.map(|d| d.to_string()),
                    grants: grants(&f.scopes, &partners),
                    evidence: f.evidence_path.is_some(),
                    online: online.iter().find(|o| o.consent_id == f.id).map(|o| {
                        format!(
                            "{} online, reference {}: typed \"{}\" as {} on {}; wording #{} (SHA-256 {}...)",
                            if o.purpose == "withdraw" { "withdrawal" } else { "answer" },
                            o.reference,
                            o.typed_name,
                            o.relationship.as_str(),
                            super::photos::local(&st, o.submitted_at),
                            o.wording_id,
                            &o.wording_sha256[..o.wording_sha256.len().min(12)],
                        )
                    }),
                    source: if f.source.starts_with("csv:") {
                        "CSV import".into()
                    } else if f.source.starts_with("online:") {
                        "given online".into()
                    } else {
                        f.source.clone()
                    },
                })
                .collect();
            let photos = photos::photos_of_person(conn, pid)?
                .iter()
                .map(|p| {
                    Ok(PhotoRow {
                        id: p.id.0,
                        badge: status_badge(status(conn, p)?),
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let publications = publications::publications_of_person(conn, pid)?
                .into_iter()
                .map(|p| PublicationRow {
                    photo_id: p.photo_id.0,
                    channel: channel_names
                        .iter()
                        .find(|(ch, _)| *ch == p.channel)
                        .map_or_else(|| p.channel.code(), |(_, n)| n.clone()),
                    published_at: super::photos::local(&st, p.published_at),
                    takedown: match (p.takedown_since, p.takedown_done_at) {
                        (_, Some(done)) => {
                            format!("taken down {}", super::photos::local(&st, done))
                        }
                        (Some(since), None) => {
                            format!("to take down (since {})", super::photos::local(&st, since))
                        }
                        (None, None) => "live".into(),
                    },
                })
                .collect();
            let mut sessions = custody::sessions_of_person(conn, pid)?;
            sessions.reverse();
            let admin = role == crate::domain::AccountRole::Admin;
            let contacts = if admin {
                crate::store::parents::contacts_of(conn, pid)?
            } else {
                Vec::new()
            };
            let request = if admin {
                crate::store::parents::request_statuses(conn)?
                    .into_iter()
                    .find(|r| r.person_id == pid)
                    .map(|r| super::parents::request_words(&st, &r))
            } else {
                None
            };
            Ok(PersonPage {
                c,
                today: decision_rows(decisions::standing(conn, pid, today, &policy)?, role),
                forms,
                photos,
                publications,
                custody: custody_rows(&st, conn, sessions)?,
                partners,
                roles: Role::ALL,
                signers: SignerKind::ALL,
                date_today: today.to_string(),
                contacts,
                request,
                parents_on: st.config().parents.is_some(),
                person,
            })
        })
        .await?;
    render(&page)
}

#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(rename = "ref")]
    ext_ref: String,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    role: String,
    vulnerable: Option<String>,
    may_sign_out: Option<String>,
    /// Why the vulnerable flag is removed, when it is.
    #[serde(default)]
    pub reason: String,
}

impl PersonForm {
    /// Parses the fields; `today` bounds the date of birth.
    pub fn parse(&self, today: Date) -> Result<people::NewPerson, ApiError> {
        let date_of_birth: Date = self
            .date_of_birth
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid("the date of birth must be a date (YYYY-MM-DD)"))?;
        if date_of_birth > today {
            return Err(ApiError::invalid("the date of birth is in the future"));
        }
        Ok(people::NewPerson {
            ext_ref: ExternalRef::parse(&self.ext_ref)?,
            given_name: Name::parse(&self.given_name)?,
            family_name: Name::parse(&self.family_name)?,
            date_of_birth,
            role: self.role.parse()?,
            vulnerable: self.vulnerable.is_some(),
            may_sign_out: self.may_sign_out.is_some(),
        })
    }
}

fn person_url(id: i64) -> String {
    format!("/people/{id}")
}

pub async fn edit_person(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let result = match form.parse(today) {
        Ok(person) => {
            let reason = form.reason.clone();
            state
                .db(move |c| {
                    ops::people::update_person(
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
                    )?;
                    Ok("Details saved.".to_owned())
                })
                .await
        }
        Err(e) => Err(e),
    };
    finish(&session, result, &person_url(id)).await
}

/// The fields of the "record a signed form" form, read from a multipart body.
#[derive(Default)]
struct ConsentFields {
    signer: String,
    signer_name: String,
    signed_on: String,
    expires_on: String,
    internal: bool,
    website: bool,
    social: bool,
    partners: Vec<PartnerId>,
    evidence: Option<Vec<u8>>,
}

async fn read_multipart(mut multipart: Multipart, limit: usize) -> Result<ConsentFields, ApiError> {
    let mut fields = ConsentFields::default();
    let too_large = || {
        ApiError::invalid(format!(
            "the upload is too large (at most {} MB)",
            limit / (1024 * 1024)
        ))
    };
    while let Some(field) = multipart.next_field().await.map_err(|_| too_large())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "evidence" {
            let bytes = field.bytes().await.map_err(|_| too_large())?;
            if bytes.len() > limit {
                return Err(too_large());
            }
            if !bytes.is_empty() {
                fields.evidence = Some(bytes.to_vec());
            }
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|_| ApiError::BadRequest("a form field could not be read".into()))?;
        match name.as_str() {
            "signer" => fields.signer = text,
            "signer_name" => fields.signer_name = text,
            "signed_on" => fields.signed_on = text,
            "expires_on" => fields.expires_on = text,
            "internal" => fields.internal = true,
            "website" => fields.website = true,
            "social" => fields.social = true,
            "partner" => {
                let id = text
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::BadRequest("bad partner id".into()))?;
                fields.partners.push(PartnerId(id));
            }
            _ => {}
        }
    }
    Ok(fields)
}

fn date_field(text: &str, what: &str) -> Result<Option<Date>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| ApiError::invalid(format!("{what} must be a date (YYYY-MM-DD)")))
}

pub async fn add_consent(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let limit = state.config().max_upload_bytes;
    let archive = state.archive().clone();
    let parsed = async {
        let fields = read_multipart(multipart, limit).await?;
        let signer: SignerKind = fields.signer.parse()?;
        let signed_on = date_field(&fields.signed_on, "the signing date")?
            .ok_or_else(|| ApiError::invalid("the signing date is required"))?;
        if signed_on > today {
            return Err(ApiError::invalid("the signing date is in the future"));
        }
        if signer.is_on_behalf() && fields.signer_name.trim().is_empty() {
            return Err(ApiError::invalid(
                "the signer's name is required when a parent, guardian or carer signed",
            ));
        }
        let evidence_path = match &fields.evidence {
            Some(bytes) => Some(save_evidence(&archive, bytes.clone()).await?),
            None => None,
        };
        Ok(consents::NewConsent {
            person_id: PersonId(id),
            signer,
            signer_name: fields.signer_name.trim().to_owned(),
            signed_on,
            expires_on: date_field(&fields.expires_on, "the expiry date")?,
            withdrawn_on: None,
            scopes: Scopes {
                internal: fields.internal,
                partners: fields.partners,
                website: fields.website,
                social: fields.social,
            },
            evidence_path,
            source: "web".into(),
        })
    }
    .await;
    let result = match parsed {
        Ok(consent) => {
            let evidence = consent.evidence_path.clone();
            let recorded = state
                .db(move |c| {
                    people::person(c, consent.person_id)?;
                    let as_of = ops::people::AsOf {
                        today,
                        policy: &policy,
                    };
                    ops::people::add_consent(c, &consent, &caller.actor(), now, &as_of)?;
                    Ok("Consent form recorded.".to_owned())
                })
                .await;
            // A scan saved for a form that was then refused would belong to nothing.
            if let (Err(_), Some(key)) = (&recorded, evidence) {
                let archive = state.archive().clone();
                let _ = tokio::task::spawn_blocking(move || archive.delete(&key)).await;
            }
            recorded
        }
        Err(e) => Err(e),
    };
    finish(&session, result, &person_url(id)).await
}

#[derive(Deserialize)]
pub struct CorrectionForm {
    #[serde(default)]
    signer_name: String,
    #[serde(default)]
    expires_on: String,
}

/// Corrects a form's signer name or expiry date (what it grants cannot be edited: a new
/// answer is a new form or a withdrawal).
pub async fn correct(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<CorrectionForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let person = state
        .db(move |c| Ok(consents::consent(c, ConsentId(id))?.person_id))
        .await?;
    let result = match date_field(&form.expires_on, "the expiry date") {
        Ok(expires_on) => {
            state
                .db(move |c| {
                    ops::people::correct_consent(
                        c,
                        ConsentId(id),
                        &form.signer_name,
                        expires_on,
                        &caller.actor(),
                        now,
                    )?;
                    Ok("Form corrected.".to_owned())
                })
                .await
        }
        Err(e) => Err(e),
    };
    finish(&session, result, &person_url(person.0)).await
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    on: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, PageError> {
    let (now, today) = (state.now(), state.today());
    let person = state
        .db(move |c| Ok(consents::consent(c, ConsentId(id))?.person_id))
        .await?;
    let result = match date_field(&form.on, "the withdrawal date") {
        Ok(on) => {
            let on = on.unwrap_or(today);
            if on > today {
                Err(ApiError::invalid(
                    "a withdrawal cannot be dated in the future",
                ))
            } else {
                state
                    .db(move |c| {
                        let w = ops::people::withdraw_consent(c, ConsentId(id), on, &caller.actor(), now)?;
                        Ok(format!(
                            "Consent withdrawn. {} takedown task(s) created, {} approval(s) voided.",
                            w.takedown_tasks, w.approvals_voided
                        ))
                    })
                    .await
            }
        }
        Err(e) => Err(e),
    };
    if result.is_ok() {
        state.forward_now();
    }
    finish(&session, result, &person_url(person.0)).await
}

pub async fn upload_evidence(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let now = state.now();
    let limit = state.config().max_upload_bytes;
    let person = state
        .db(move |c| Ok(consents::consent(c, ConsentId(id))?.person_id))
        .await?;
    let archive = state.archive().clone();
    let saved = async {
        let fields = read_multipart(multipart, limit).await?;
        let bytes = fields
            .evidence
            .ok_or_else(|| ApiError::invalid("choose the scanned form to upload"))?;
        save_evidence(&archive, bytes).await
    }
    .await;
    let result = match saved {
        Ok(path) => {
            state
                .db(move |c| {
                    ops::people::attach_evidence(c, ConsentId(id), &path, &caller.actor(), now)?;
                    Ok("Signed form attached.".to_owned())
                })
                .await
        }
        Err(e) => Err(e),
    };
    finish(&session, result, &person_url(person.0)).await
}

#[derive(Deserialize)]
pub struct RestrictionForm {
    restricted: String,
}

/// Restricts a person (Article 18) or lifts it, from their page.
pub async fn restriction(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<RestrictionForm>,
) -> Result<Response, PageError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let restricted = form.restricted == "yes";
    let result = state
        .db(move |c| {
            let as_of = ops::people::AsOf {
                today,
                policy: &policy,
            };
            let tasks = ops::people::set_restriction(
                c,
                PersonId(id),
                restricted,
                &caller.actor(),
                now,
                &as_of,
            )?;
            Ok(match (restricted, tasks) {
                (true, 0) => "Restricted: no photo of this person is used anywhere.".to_owned(),
                (true, n) => format!(
                    "Restricted: no photo of this person is used anywhere; {n} publication(s) to take down."
                ),
                (false, _) => "Restriction lifted.".to_owned(),
            })
        })
        .await;
    finish(&session, result, &format!("/people/{id}")).await
}

#[derive(Deserialize)]
pub struct LeftForm {
    left_on: String,
}

/// Records the day a person left, or (empty) clears it, from their page.
pub async fn left(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<LeftForm>,
) -> Result<Response, PageError> {
    let (now, today) = (state.now(), state.today());
    let result = match date_field(&form.left_on, "the day they left") {
        Ok(left_on) => {
            state
                .db(move |c| {
                    ops::people::set_left(c, PersonId(id), left_on, today, &caller.actor(), now)?;
                    Ok(match left_on {
                        Some(day) => format!("Recorded as left on {day}."),
                        None => "No longer recorded as left.".to_owned(),
                    })
                })
                .await
        }
        Err(e) => Err(e),
    };
    finish(&session, result, &format!("/people/{id}")).await
}

#[derive(Deserialize)]
pub struct EraseForm {
    confirm_ref: String,
}

/// Erases a person from their page, once their reference is typed again.
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<EraseForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let archive = state.archive().clone();
    let result = state
        .db(move |c| {
            let report = crate::ops::erasure::erase_confirmed(
                c,
                &archive,
                PersonId(id),
                &form.confirm_ref,
                &caller.actor(),
                now,
            )?;
            Ok(format!(
                "Erased: {} form(s), {} scan(s) and {} photo(s) removed; covered in {} photo(s) with others; {} publication(s) to take down.",
                report.forms,
                report.scans,
                report.photos_removed,
                report.photos_covered,
                report.takedown_tasks,
            ))
        })
        .await;
    finish(&session, result, &format!("/people/{id}")).await
}

/// Everything held about the person as one zip (subject access), audited.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let gathered = state
        .db(move |c| {
            crate::ops::subject_access::gather_for_export(c, PersonId(id), &caller.actor(), now)
                .map_err(|e| match e {
                    crate::ops::subject_access::ExportError::Store(s) => ApiError::from(s),
                    other => ApiError::Internal(other.to_string()),
                })
        })
        .await?;
    let (archive, sandbox) = (state.archive().clone(), state.config().sandbox.clone());
    let zip = tokio::task::spawn_blocking(move || {
        crate::ops::subject_access::build(gathered, &archive, &sandbox)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/zip"),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_str(&format!(
                    "attachment; filename=\"subject-access-{id}.zip\""
                ))
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
            (axum::http::header::CACHE_CONTROL, super::NO_STORE),
        ],
        zip,
    )
        .into_response())
}
