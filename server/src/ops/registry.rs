//! Accounts, partner organisations, devices, badges and kiosks.

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::json;

use super::audited;
use crate::domain::{AccountId, AccountRole, DeviceId, PartnerId, PersonId};
use crate::store::audit::Action;
use crate::store::sites::Kind;
use crate::store::{Result, StoreError, partners, people, registry};
use consentcam_wire::TagUid;

/// Registers a partner organisation.
pub fn add_partner(
    conn: &mut Connection,
    name: &str,
    actor: &str,
    now: Timestamp,
) -> Result<PartnerId> {
    audited(conn, actor, Action::PartnerCreate, now, |tx| {
        let id = partners::insert_partner(tx, name, now)?;
        Ok((id, format!("partner:{id}"), json!({})))
    })
}

/// Registers a device (camera, tablet) with its tag, in the site of the account that
/// registers it.
pub fn add_device(
    conn: &mut Connection,
    device: &registry::NewDevice,
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
) -> Result<DeviceId> {
    audited(conn, actor, Action::DeviceCreate, now, |tx| {
        let id = registry::insert_device(tx, device, now)?;
        super::sites::place_new(tx, Kind::Device, id.0, site)?;
        Ok((id, format!("device:{id}"), json!({})))
    })
}

/// Enrols a badge for a person (who must exist and not be erased).
pub fn enrol_badge(
    conn: &mut Connection,
    uid: &TagUid,
    person: PersonId,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    audited(conn, actor, Action::BadgeEnrol, now, |tx| {
        people::living(tx, person)?;
        let id = registry::enrol_badge(tx, uid, person, now)?;
        Ok((id, format!("badge:{id}"), json!({ "person": person })))
    })
}

/// Turns a badge on or off.
pub fn set_badge_active(
    conn: &mut Connection,
    id: i64,
    active: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::BadgeSetActive, now, |tx| {
        registry::set_badge_active(tx, id, active)?;
        Ok(((), format!("badge:{id}"), json!({ "active": active })))
    })
}

/// A login account to create.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    /// Hashed already (see [`crate::infra::password`]).
    pub password_hash: &'a str,
    pub role: AccountRole,
    /// The person the account belongs to, if they are on the register.
    pub person: Option<PersonId>,
}

/// Creates a login account with an already hashed password (hash outside any database
/// lock: it is slow on purpose), in the site of the account that creates it.
pub fn add_account(
    conn: &mut Connection,
    account: &NewAccount<'_>,
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
) -> Result<AccountId> {
    let NewAccount {
        username,
        password_hash,
        role,
        person,
    } = *account;
    audited(conn, actor, Action::AccountCreate, now, |tx| {
        let id = registry::insert_account(tx, username.trim(), password_hash, role, person, now)?;
        super::sites::place_new(tx, Kind::Account, id.0, site)?;
        Ok((id, format!("account:{id}"), json!({ "role": role })))
    })
}

/// Changes an account's role or disables it (its sessions end). `by` (the caller's own
/// account, if any) cannot disable itself or give up its admin role.
pub fn update_account(
    conn: &mut Connection,
    id: AccountId,
    role: AccountRole,
    disabled: bool,
    by: Option<AccountId>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    if by == Some(id) && (disabled || role != AccountRole::Admin) {
        return Err(StoreError::Conflict(
            "you cannot disable your own account or take away your own admin role".into(),
        ));
    }
    audited(conn, actor, Action::AccountUpdate, now, |tx| {
        registry::update_account(tx, id, role, disabled)?;
        let details = json!({ "role": role, "disabled": disabled });
        Ok(((), format!("account:{id}"), details))
    })
}

/// Sets (or with `None` clears) where an account's reminders go. A new address is not
/// flagged even if the old one was refused.
pub fn set_email(
    conn: &mut Connection,
    id: AccountId,
    email: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    audited(conn, actor, Action::AccountSetEmail, now, |tx| {
        registry::set_email(tx, id, email)?;
        // The address itself is personal: the log says only whether there is one.
        Ok((
            (),
            format!("account:{id}"),
            json!({ "has_email": email.is_some() }),
        ))
    })
}

/// Turns reminders on or off for an account: `(kind, on)` for each kind it decides.
pub fn set_mail_choices(
    conn: &mut Connection,
    id: AccountId,
    choices: &[(crate::rules::reminders::Kind, bool)],
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::AccountMailChoices, now, |tx| {
        let account = registry::account(tx, id)?;
        let mut details = serde_json::Map::new();
        for &(kind, on) in choices {
            if on && !kind.open_to(account.role) {
                return Err(StoreError::Invalid(format!(
                    "the {} reminder is not open to a {} account",
                    kind.code(),
                    account.role.as_str()
                )));
            }
            crate::store::mail::set_preference(tx, id.0, kind.code(), on)?;
            details.insert(kind.code().to_owned(), on.into());
        }
        Ok((
            (),
            format!("account:{id}"),
            serde_json::Value::Object(details),
        ))
    })
}

/// Sets an account's password (already hashed); its sessions end.
pub fn set_password(
    conn: &mut Connection,
    id: AccountId,
    password_hash: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::AccountSetPassword, now, |tx| {
        registry::set_password_hash(tx, id, password_hash)?;
        Ok(((), format!("account:{id}"), json!({})))
    })
}

/// Turns an account's second factor off (a lost phone); its sessions end.
pub fn reset_second_factor(
    conn: &mut Connection,
    id: AccountId,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::AccountSecondFactorOff, now, |tx| {
        if !registry::account(tx, id)?.second_factor {
            return Err(StoreError::Conflict(
                "this account has no second factor".into(),
            ));
        }
        registry::reset_second_factor(tx, id)?;
        Ok(((), format!("account:{id}"), json!({})))
    })
}

/// Registers a kiosk with the hash of its new token, audited, in the site of the account
/// that registers it. Returns its id.
pub fn add_kiosk(
    conn: &mut Connection,
    name: &str,
    token_hash: &str,
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(StoreError::Invalid(
            "a kiosk name is 1 to 64 characters".into(),
        ));
    }
    audited(conn, actor, Action::KioskCreate, now, |tx| {
        let id = registry::insert_kiosk(tx, name, token_hash, now)?;
        super::sites::place_new(tx, Kind::Kiosk, id, site)?;
        Ok((id, format!("kiosk:{id}"), json!({})))
    })
}

/// Gives a kiosk a new token (the old one stops at once; a revoked kiosk comes back),
/// audited.
pub fn rotate_kiosk(
    conn: &mut Connection,
    id: i64,
    token_hash: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::KioskRotate, now, |tx| {
        registry::rotate_kiosk_token(tx, id, token_hash)?;
        Ok(((), format!("kiosk:{id}"), json!({})))
    })
}

/// Revokes a kiosk's token at once, audited.
pub fn revoke_kiosk(conn: &mut Connection, id: i64, actor: &str, now: Timestamp) -> Result<()> {
    audited(conn, actor, Action::KioskRevoke, now, |tx| {
        registry::revoke_kiosk(tx, id, now)?;
        Ok(((), format!("kiosk:{id}"), json!({})))
    })
}
