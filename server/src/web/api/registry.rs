//! Partners, devices, badges, accounts, kiosks, and who has what.

use axum::extract::State;
use axum::http::StatusCode;
use consentcam_wire::TagUid;
use serde::{Deserialize, Serialize};

use super::Json;
use crate::domain::{AccountId, AccountRole, DeviceId, PersonId};
use crate::infra::password;
use crate::ops::registry as ops;
use crate::store::partners;
use crate::store::sites;
use crate::store::{custody, people, registry};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

#[derive(Serialize)]
pub struct Created {
    id: i64,
}

pub async fn partners(
    State(state): State<AppState>,
    _: Caller,
) -> Result<Json<Vec<partners::Partner>>, ApiError> {
    Ok(Json(state.read(|c| Ok(partners::partners(c)?)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerBody {
    name: String,
}

pub async fn add_partner(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PartnerBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let id = state
        .db(move |c| Ok(ops::add_partner(c, &body.name, &caller.actor(), now)?))
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

/// Devices; the tag UID (enough to clone the tag) only for admins, who enrol tags.
pub async fn devices(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let admin = caller.account.role == crate::domain::AccountRole::Admin;
    let site = caller.account.site_id;
    let devices = state
        .read(move |c| {
            Ok(sites::retain_visible(
                c,
                site,
                registry::devices(c)?,
                |d| (sites::Kind::Device, d.id.0),
            )?)
        })
        .await?;
    Ok(Json(
        devices
            .into_iter()
            .map(|d| {
                let mut value = serde_json::to_value(&d).unwrap_or_default();
                if !admin && let Some(fields) = value.as_object_mut() {
                    fields.remove("tag_uid");
                }
                value
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    label: String,
    make: String,
    model: String,
    serial: String,
    tag_uid: TagUid,
    #[serde(default = "default_loan")]
    loan_minutes: u32,
}

fn default_loan() -> u32 {
    480
}

pub async fn add_device(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DeviceBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let device = registry::NewDevice {
        label: body.label,
        make: body.make,
        model: body.model,
        serial: body.serial,
        tag_uid: body.tag_uid,
        loan_minutes: body.loan_minutes,
    };
    let id = state
        .db(move |c| {
            Ok(ops::add_device(
                c,
                &device,
                &caller.actor(),
                caller.account.site_id,
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

pub async fn device_custody(
    State(state): State<AppState>,
    _: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<custody::Session>>, ApiError> {
    Ok(Json(
        state
            .read(move |c| {
                registry::device(c, DeviceId(id))?;
                Ok(custody::sessions_of_device(c, DeviceId(id))?)
            })
            .await?,
    ))
}

pub async fn person_custody(
    State(state): State<AppState>,
    _: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<custody::Session>>, ApiError> {
    Ok(Json(
        state
            .read(move |c| {
                people::person(c, PersonId(id))?;
                Ok(custody::sessions_of_person(c, PersonId(id))?)
            })
            .await?,
    ))
}

#[derive(Serialize)]
pub struct OutNow {
    #[serde(flatten)]
    session: custody::Session,
    device_label: String,
    holder: String,
    overdue: bool,
}

#[derive(Serialize)]
pub struct CustodyOverview {
    out: Vec<OutNow>,
    overdue: usize,
}

/// Who has which device since when; overdue ones flagged (K4).
pub async fn custody(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CustodyOverview>, ApiError> {
    let now = state.now();
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                let open = sites::retain_visible(c, site, custody::open_sessions(c)?, |s| {
                    (sites::Kind::Device, s.device_id.0)
                })?;
                let out = open
                    .into_iter()
                    .map(|session| {
                        let device = registry::device(c, session.device_id)?;
                        let holder = people::person(c, session.person_id)?;
                        Ok(OutNow {
                            overdue: session.is_overdue(now),
                            session,
                            device_label: device.label,
                            holder: format!("{} {}", holder.given_name, holder.family_name),
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                let overdue = out.iter().filter(|o| o.overdue).count();
                Ok(CustodyOverview { out, overdue })
            })
            .await?,
    ))
}

pub async fn badges(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<registry::Badge>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                Ok(sites::retain_visible(c, site, registry::badges(c)?, |b| {
                    (sites::Kind::Person, b.person_id.0)
                })?)
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadgeBody {
    uid: TagUid,
    person_id: i64,
}

pub async fn enrol_badge(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<BadgeBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let id = state
        .db(move |c| {
            sites::ensure_visible(
                c,
                caller.account.site_id,
                &[(sites::Kind::Person, body.person_id)],
            )?;
            Ok(ops::enrol_badge(
                c,
                &body.uid,
                PersonId(body.person_id),
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    active: bool,
}

pub async fn set_badge_active(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ActiveBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            Ok(ops::set_badge_active(
                c,
                id,
                body.active,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<registry::Account>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                Ok(sites::retain_visible(
                    c,
                    site,
                    registry::accounts(c)?,
                    |a| (sites::Kind::Account, a.id.0),
                )?)
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    username: String,
    password: String,
    role: AccountRole,
    person_id: Option<i64>,
}

pub async fn add_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AccountBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let hash = tokio::task::spawn_blocking(move || password::hash(&body.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let id = state
        .db(move |c| {
            let named: Vec<_> = body
                .person_id
                .map(|p| (sites::Kind::Person, p))
                .into_iter()
                .collect();
            sites::ensure_visible(c, caller.account.site_id, &named)?;
            let account = ops::NewAccount {
                username: &body.username,
                password_hash: &hash,
                role: body.role,
                person: body.person_id.map(PersonId),
            };
            Ok(ops::add_account(
                c,
                &account,
                &caller.actor(),
                caller.account.site_id,
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    role: AccountRole,
    disabled: bool,
}

pub async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<AccountUpdate>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            Ok(ops::update_account(
                c,
                AccountId(id),
                body.role,
                body.disabled,
                Some(caller.account.id),
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskBody {
    name: String,
}

#[derive(Serialize)]
pub struct KioskCreated {
    id: i64,
    /// Shown once; only its hash is kept.
    token: String,
}

pub async fn kiosks(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<registry::KioskRecord>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                Ok(sites::retain_visible(c, site, registry::kiosks(c)?, |k| {
                    (sites::Kind::Kiosk, k.id)
                })?)
            })
            .await?,
    ))
}

/// Revokes a kiosk's token at once.
pub async fn revoke_kiosk(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            Ok(crate::ops::registry::revoke_kiosk(
                c,
                id,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a kiosk a new token, shown once; the old one is refused from now on.
pub async fn rotate_kiosk(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<KioskCreated>, ApiError> {
    let now = state.now();
    let token = password::random_token();
    let hash = password::token_hash(&token);
    state
        .db(move |c| {
            Ok(crate::ops::registry::rotate_kiosk(
                c,
                id,
                &hash,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(Json(KioskCreated { id, token }))
}

pub async fn add_kiosk(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<KioskBody>,
) -> Result<(StatusCode, Json<KioskCreated>), ApiError> {
    let now = state.now();
    let token = password::random_token();
    let hash = password::token_hash(&token);
    let id = state
        .db(move |c| {
            Ok(crate::ops::registry::add_kiosk(
                c,
                &body.name,
                &hash,
                &caller.actor(),
                caller.account.site_id,
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(KioskCreated { id, token })))
}
