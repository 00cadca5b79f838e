//! Accounts, partner organisations, devices, badges and kiosks.

use jiff::Timestamp;
use rusqlite::Connection;

use crate::domain::{AccountId, AccountRole, DeviceId, PartnerId, PersonId};
use crate::records::log;
use crate::store::audit::Action;
use crate::store::partners;
use crate::store::{Result, StoreError, people, registry};
use consentcam_wire::TagUid;

/// Registers a partner organisation.
pub fn add_partner(
    conn: &mut Connection,
    name: &str,
    actor: &str,
    now: Timestamp,
) -> Result<PartnerId> {
    let tx = conn.transaction()?;
    let id = partners::insert_partner(&tx, name, now)?;
    log(
        &tx,
        actor,
        Action::PartnerCreate,
        format!("partner:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Registers a device (camera, tablet) with its tag.
pub fn add_device(
    conn: &mut Connection,
    device: &registry::NewDevice,
    actor: &str,
    now: Timestamp,
) -> Result<DeviceId> {
    let tx = conn.transaction()?;
    let id = registry::insert_device(&tx, device, now)?;
    log(
        &tx,
        actor,
        Action::DeviceCreate,
        format!("device:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Enrols a badge for a person (who must exist and not be erased).
pub fn enrol_badge(
    conn: &mut Connection,
    uid: &TagUid,
    person: PersonId,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    let tx = conn.transaction()?;
    people::living(&tx, person)?;
    let id = registry::enrol_badge(&tx, uid, person, now)?;
    log(
        &tx,
        actor,
        Action::BadgeEnrol,
        format!("badge:{id}"),
        serde_json::json!({ "person": person }),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Turns a badge on or off.
pub fn set_badge_active(
    conn: &mut Connection,
    id: i64,
    active: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    registry::set_badge_active(&tx, id, active)?;
    log(
        &tx,
        actor,
        Action::BadgeSetActive,
        format!("badge:{id}"),
        serde_json::json!({ "active": active }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Creates a login account with an already hashed password (hash outside any database
/// lock: it is slow on purpose).
pub fn add_account(
    conn: &mut Connection,
    username: &str,
    password_hash: &str,
    role: AccountRole,
    person: Option<PersonId>,
    actor: &str,
    now: Timestamp,
) -> Result<AccountId> {
    let tx = conn.transaction()?;
    let id = registry::insert_account(&tx, username.trim(), password_hash, role, person, now)?;
    log(
        &tx,
        actor,
        Action::AccountCreate,
        format!("account:{id}"),
        serde_json::json!({ "role": role }),
        now,
    )?;
    tx.commit()?;
    Ok(id)
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
    let tx = conn.transaction()?;
    registry::update_account(&tx, id, role, disabled)?;
    log(
        &tx,
        actor,
        Action::AccountUpdate,
        format!("account:{id}"),
        serde_json::json!({ "role": role, "disabled": disabled }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Sets an account's password (already hashed); its sessions end.
pub fn set_password(
    conn: &mut Connection,
    id: AccountId,
    password_hash: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    registry::set_password_hash(&tx, id, password_hash)?;
    log(
        &tx,
        actor,
        Action::AccountSetPassword,
        format!("account:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Turns an account's second factor off (a lost phone); its sessions end.
pub fn reset_second_factor(
    conn: &mut Connection,
    id: AccountId,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    if !registry::account(&tx, id)?.second_factor {
        return Err(StoreError::Conflict(
            "this account has no second factor".into(),
        ));
    }
    registry::reset_second_factor(&tx, id)?;
    log(
        &tx,
        actor,
        Action::AccountSecondFactorOff,
        format!("account:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Registers a kiosk with the hash of its new token, audited. Returns its id.
pub fn add_kiosk(
    conn: &mut Connection,
    name: &str,
    token_hash: &str,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(StoreError::Invalid(
            "a kiosk name is 1 to 64 characters".into(),
        ));
    }
    let tx = conn.transaction()?;
    let id = crate::store::registry::insert_kiosk(&tx, name, token_hash, now)?;
    log(
        &tx,
        actor,
        Action::KioskCreate,
        format!("kiosk:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(id)
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
    let tx = conn.transaction()?;
    crate::store::registry::rotate_kiosk_token(&tx, id, token_hash)?;
    log(
        &tx,
        actor,
        Action::KioskRotate,
        format!("kiosk:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Revokes a kiosk's token at once, audited.
pub fn revoke_kiosk(conn: &mut Connection, id: i64, actor: &str, now: Timestamp) -> Result<()> {
    let tx = conn.transaction()?;
    crate::store::registry::revoke_kiosk(&tx, id, now)?;
    log(
        &tx,
        actor,
        Action::KioskRevoke,
        format!("kiosk:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}
