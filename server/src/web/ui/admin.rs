//! Admin pages: people, accounts and roles, badges (naming a badge tapped at the kiosk),
//! devices, partner organisations, and the consent CSV import with its errors.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::Response;
use consentcam_wire::TagUid;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use super::people::PersonForm;
use super::photos::resolve_person;
use crate::domain::{AccountId, AccountRole, Role};
use crate::infra::password;
use crate::ops::consent_csv::{ImportError, ImportReport, RowError};
use crate::ops::registry as ops;
use crate::store::audit;
use crate::store::audit::Action;
use crate::store::partners;
use crate::store::{people, registry};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

#[derive(Template)]
#[template(path = "admin_people.html")]
struct PeoplePage {
    c: Chrome,
    people: Vec<people::Person>,
    roles: &'static [Role],
}

pub async fn people(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let site = caller.account.site_id;
    let people = state
        .read(move |c| Ok(people::search_in(c, site, "", u32::MAX)?))
        .await?;
    render(&PeoplePage {
        c,
        people,
        roles: Role::ALL,
    })
}

pub async fn add_person(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<PersonForm>,
) -> Result<Response, PageError> {
    let (now, today) = (state.now(), state.today());
    let result = match form.parse(today) {
        Ok(person) => {
            state
                .db(move |c| {
                    let id = crate::ops::people::add_person(
                        c,
                        &person,
                        &caller.actor(),
                        caller.account.site_id,
                        now,
                    )?;
                    Ok(id)
                })
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => {
            finish(
                &session,
                Ok("Person registered.".into()),
                &format!("/people/{id}"),
            )
            .await
        }
        Err(e) => finish(&session, Err(e), "/admin/people").await,
    }
}

/// An account, with the person it belongs to.
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub role: AccountRole,
    pub disabled: bool,
    pub is_me: bool,
    pub email: String,
    /// The mail server's answer when it refused the address for good.
    pub refused: String,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    c: Chrome,
    accounts: Vec<AccountRow>,
    roles: &'static [AccountRole],
}

pub async fn accounts(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let me = caller.account.id;
    let site = caller.account.site_id;
    let accounts = state
        .read(move |c| {
            Ok(
                crate::store::sites::retain_visible(c, site, registry::accounts(c)?, |a| {
                    (crate::store::sites::Kind::Account, a.id.0)
                })?
                .into_iter()
                .map(|a| {
                    let refused = match &a.email {
                        Some(address) => crate::store::mail::refusal_of(c, address)?,
                        None => None,
                    };
                    Ok(AccountRow {
                        id: a.id.0,
                        is_me: a.id == me,
                        username: a.username,
                        role: a.role,
                        disabled: a.disabled,
                        email: a.email.unwrap_or_default(),
                        refused: refused.unwrap_or_default(),
                    })
                })
                .collect::<crate::store::Result<Vec<_>>>()?,
            )
        })
        .await?;
    render(&AccountsPage {
        c,
        accounts,
        roles: AccountRole::ALL,
    })
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    username: String,
    password: String,
    role: String,
}

pub async fn add_account(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<NewAccountForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = async {
        let role: AccountRole = form.role.parse()?;
        let pass = form.password;
        let hash = tokio::task::spawn_blocking(move || password::hash(&pass))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        let username = form.username.trim().to_owned();
        state
            .db(move |c| {
                let account = ops::NewAccount {
                    username: &username,
                    password_hash: &hash,
                    role,
                    person: None,
                };
                ops::add_account(c, &account, &caller.actor(), caller.account.site_id, now)?;
                Ok("Account created.".to_owned())
            })
            .await
    }
    .await;
    finish(&session, result, "/admin/accounts").await
}

#[derive(Deserialize)]
pub struct AccountForm {
    role: String,
    disabled: Option<String>,
}

pub async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<AccountForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let disabled = form.disabled.is_some();
    let result = async {
        let role: AccountRole = form.role.parse()?;
        state
            .db(move |c| {
                ops::update_account(
                    c,
                    AccountId(id),
                    role,
                    disabled,
                    Some(caller.account.id),
                    &caller.actor(),
                    now,
                )?;
                Ok("Account saved.".to_owned())
            })
            .await
    }
    .await;
    finish(&session, result, "/admin/accounts").await
}

pub struct BadgeRow {
    pub id: i64,
    pub uid: String,
    pub person_id: i64,
    pub person: String,
    pub active: bool,
}

/// A badge tapped at the kiosk that nobody has named yet.
pub struct UnknownTap {
    pub uid: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "admin_badges.html")]
struct BadgesPage {
    c: Chrome,
    badges: Vec<BadgeRow>,
    unknown: Vec<UnknownTap>,
    offers: Vec<String>,
}

/// Recent taps of badges the kiosks (of `site`, or every kiosk) did not know, newest
/// first, one per UID, leaving out badges enrolled since (anywhere).
fn unknown_taps(
    c: &rusqlite::Connection,
    enrolled: &[registry::Badge],
    site: Option<i64>,
) -> Result<Vec<UnknownTap>, ApiError> {
    let taps = audit::list(
        c,
        &audit::Filter {
            action_prefix: Some(Action::KioskTap.as_str().into()),
            limit: Some(500),
            site,
            ..audit::Filter::default()
        },
    )?;
    let mut out: Vec<UnknownTap> = Vec::new();
    for tap in taps {
        if tap.details["outcome"] != "unknown_card" {
            continue;
        }
        let Some(uid) = tap.details["uid"].as_str() else {
            continue;
        };
        if out.iter().any(|u| u.uid == uid) || enrolled.iter().any(|b| b.uid == uid) {
            continue;
        }
        out.push(UnknownTap {
            uid: uid.to_owned(),
            at: tap.at,
        });
    }
    Ok(out)
}

pub async fn badges(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let st = state.clone();
    let site = caller.account.site_id;
    let (badges, unknown, offers) = state
        .read(move |c| {
            let all = registry::badges(c)?;
            let unknown = unknown_taps(c, &all, site)?
                .into_iter()
                .map(|u| UnknownTap {
                    at: super::photos::widgets::local_text(&st, &u.at),
                    uid: u.uid,
                })
                .collect::<Vec<_>>();
            let enrolled = crate::store::sites::retain_visible(c, site, all, |b| {
                (crate::store::sites::Kind::Person, b.person_id.0)
            })?;
            let badges = enrolled
                .into_iter()
                .map(|b| {
                    let p = people::person(c, b.person_id)?;
                    Ok(BadgeRow {
                        id: b.id,
                        uid: b.uid,
                        person_id: p.id.0,
                        person: format!("{} {}", p.given_name, p.family_name),
                        active: b.active,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let offers = people::search_in(c, site, "", u32::MAX)?
                .into_iter()
                .map(|p| format!("{} · {} {}", p.ext_ref, p.given_name, p.family_name))
                .collect();
            Ok((badges, unknown, offers))
        })
        .await?;
    render(&BadgesPage {
        c,
        badges,
        unknown,
        offers,
    })
}

#[derive(Deserialize)]
pub struct BadgeForm {
    uid: String,
    person: String,
}

pub async fn enrol_badge(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<BadgeForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let uid = TagUid::parse(form.uid.trim())
                .map_err(|e| ApiError::invalid(format!("badge UID: {e}")))?;
            let person = resolve_person(c, caller.account.site_id, &form.person)?;
            ops::enrol_badge(c, &uid, person, &caller.actor(), now)?;
            Ok("Badge enrolled.".to_owned())
        })
        .await;
    finish(&session, result, "/admin/badges").await
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn badge_active(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let active = form.active == "yes";
    let result = state
        .db(move |c| {
            ops::set_badge_active(c, id, active, &caller.actor(), now)?;
            Ok(if active {
                "Badge activated."
            } else {
                "Badge deactivated."
            }
            .to_owned())
        })
        .await;
    finish(&session, result, "/admin/badges").await
}

#[derive(Template)]
#[template(path = "admin_devices.html")]
struct DevicesPage {
    c: Chrome,
    devices: Vec<registry::Device>,
}

pub async fn devices(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let site = caller.account.site_id;
    let devices = state
        .read(move |c| {
            Ok(crate::store::sites::retain_visible(
                c,
                site,
                registry::devices(c)?,
                |d| (crate::store::sites::Kind::Device, d.id.0),
            )?)
        })
        .await?;
    render(&DevicesPage { c, devices })
}

#[derive(Deserialize)]
pub struct DeviceForm {
    label: String,
    make: String,
    model: String,
    serial: String,
    tag_uid: String,
    loan_minutes: String,
}

pub async fn add_device(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<DeviceForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let tag_uid = TagUid::parse(form.tag_uid.trim())
                .map_err(|e| ApiError::invalid(format!("device tag UID: {e}")))?;
            let loan_minutes: u32 = form
                .loan_minutes
                .trim()
                .parse()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| ApiError::invalid("the loan length is a number of minutes"))?;
            let device = registry::NewDevice {
                label: form.label.trim().to_owned(),
                make: form.make.trim().to_owned(),
                model: form.model.trim().to_owned(),
                serial: form.serial.trim().to_owned(),
                tag_uid,
                loan_minutes,
            };
            ops::add_device(c, &device, &caller.actor(), caller.account.site_id, now)?;
            Ok("Device registered.".to_owned())
        })
        .await;
    finish(&session, result, "/admin/devices").await
}

#[derive(Template)]
#[template(path = "admin_partners.html")]
struct PartnersPage {
    c: Chrome,
    partners: Vec<partners::Partner>,
}

pub async fn partners(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let partners = state.read(|c| Ok(partners::partners(c)?)).await?;
    render(&PartnersPage { c, partners })
}

#[derive(Deserialize)]
pub struct PartnerForm {
    name: String,
}

pub async fn add_partner(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<PartnerForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            ops::add_partner(c, &form.name, &caller.actor(), now)?;
            Ok("Partner organisation added.".to_owned())
        })
        .await;
    finish(&session, result, "/admin/partners").await
}

#[derive(Template)]
#[template(path = "admin_import.html")]
struct ImportPage {
    c: Chrome,
    report: Option<ImportReport>,
    errors: Vec<RowError>,
}

pub async fn import_page(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    render(&ImportPage {
        c,
        report: None,
        errors: Vec::new(),
    })
}

pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let (now, today) = (state.now(), state.today());
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| ApiError::invalid("the upload is too large or damaged"))?
    {
        if field.name() == Some("file") {
            file = Some(
                field
                    .bytes()
                    .await
                    .map_err(|_| ApiError::invalid("the upload is too large or damaged"))?,
            );
        }
    }
    let bytes = file
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::invalid("choose the CSV file to import"))?;
    let (actor, site) = (caller.actor(), caller.account.site_id);
    let policy = state.policy();
    let outcome = state
        .db(move |conn| {
            let as_of = crate::ops::people::AsOf {
                today,
                policy: &policy,
            };
            Ok(crate::ops::consent_csv::import_consents(
                conn, &bytes, &actor, site, now, &as_of,
            ))
        })
        .await?;
    let mut page = ImportPage {
        c,
        report: None,
        errors: Vec::new(),
    };
    let status = match outcome {
        Ok(report) => {
            page.report = Some(report);
            axum::http::StatusCode::OK
        }
        Err(ImportError::Rows(rows)) => {
            page.errors = rows;
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(ImportError::Store(e)) => return Err(ApiError::from(e).into()),
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}
