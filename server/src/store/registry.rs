//! Accounts, kiosks, badges and devices: who and what the system knows.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError, found};
use crate::domain::{AccountId, AccountRole, DeviceId, PersonId};

/// A web UI account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: AccountRole,
    pub person_id: Option<PersonId>,
    pub disabled: bool,
    /// Moves on whenever the password, the role or the disabled flag changes: sessions
    /// opened before no longer count.
    #[serde(skip)]
    pub sessions_epoch: i64,
    /// Whether logging in also takes a code from an authenticator app (or a recovery code).
    pub second_factor: bool,
    /// The site whose records the account sees; `None`: every site's (and the word
    /// appears nowhere in a single-site install).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    /// Where the account's reminders go; `None`: it gets none.
    pub email: Option<String>,
}

pub(crate) fn conflict(e: rusqlite::Error, message: impl FnOnce() -> String) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == 787 => {
            StoreError::Invalid("it refers to a record that does not exist".into())
        }
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(message())
        }
        e => e.into(),
    }
}

const ACCOUNT_COLS: &str = "id, username, password_hash, role, person_id, disabled, sessions_epoch, \
     totp_secret IS NOT NULL, site_id, email";

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(r.get(0)?),
        username: r.get(1)?,
        password_hash: r.get(2)?,
        role: r.get(3)?,
        person_id: r.get::<_, Option<i64>>(4)?.map(PersonId),
        disabled: r.get(5)?,
        sessions_epoch: r.get(6)?,
        second_factor: r.get(7)?,
        site_id: r.get(8)?,
        email: r.get(9)?,
    })
}

/// A username: 3 to 64 characters of letters, digits, `.`, `-`, `_`, `@`.
pub fn check_username(username: &str) -> Result<()> {
    let ok = (3..=64).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a username is 3 to 64 letters, digits, '.', '-', '_' or '@'".into(),
        ))
    }
}

pub fn insert_account(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    role: AccountRole,
    person_id: Option<PersonId>,
    now: Timestamp,
) -> Result<AccountId> {
    check_username(username)?;
    conn.execute(
        "INSERT INTO accounts (username, password_hash, role, person_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            username,
            password_hash,
            role.as_str(),
            person_id.map(|p| p.0),
            now
        ],
    )
    .map_err(|e| conflict(e, || format!("the username {username:?} is taken")))?;
    Ok(AccountId(conn.last_insert_rowid()))
}

pub fn account(conn: &Connection, id: AccountId) -> Result<Account> {
    found(
        conn.query_row(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"),
            [id.0],
            account_row,
        ),
        "account",
        id.0,
    )
}

pub fn account_by_username(conn: &Connection, username: &str) -> Result<Option<Account>> {
    Ok(conn
        .query_row(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE username = ?1"),
            [username],
            account_row,
        )
        .optional()?)
}

pub fn accounts(conn: &Connection) -> Result<Vec<Account>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ACCOUNT_COLS} FROM accounts ORDER BY username COLLATE NOCASE"
    ))?;
    let rows = stmt
        .query_map([], account_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn update_account(
    conn: &Connection,
    id: AccountId,
    role: AccountRole,
    disabled: bool,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE accounts SET sessions_epoch = sessions_epoch + \
         (role IS NOT ?2 OR disabled IS NOT ?3), role = ?2, disabled = ?3 WHERE id = ?1",
        params![id.0, role.as_str(), disabled],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "account",
            id: id.0,
        });
    }
    Ok(())
}

/// A mail address an account's reminders can go to: one `@` with something either side,
/// no spaces, at most 254 characters (the mail library checks the rest when it sends).
pub fn check_email(address: &str) -> Result<()> {
    let ok = address.len() <= 254
        && address.split('@').count() == 2
        && !address.starts_with('@')
        && !address.ends_with('@')
        && !address.contains(|c: char| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{address:?} is not a mail address (name@school.example)"
        )))
    }
}

/// Sets (or with `None` clears) where an account's reminders go.
pub fn set_email(conn: &Connection, id: AccountId, email: Option<&str>) -> Result<()> {
    if let Some(address) = email {
        check_email(address)?;
    }
    let changed = conn.execute(
        "UPDATE accounts SET email = ?2 WHERE id = ?1",
        params![id.0, email],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "account",
            id: id.0,
        });
    }
    Ok(())
}

pub fn set_password_hash(conn: &Connection, id: AccountId, hash: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE accounts SET password_hash = ?2, sessions_epoch = sessions_epoch + 1 \
         WHERE id = ?1",
        params![id.0, hash],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "account",
            id: id.0,
        });
    }
    Ok(())
}

/// An account's TOTP secret (base32) and the last time step a code was accepted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSecret {
    pub secret: String,
    pub last_step: u64,
}

pub fn totp_secret(conn: &Connection, id: AccountId) -> Result<Option<TotpSecret>> {
    Ok(conn
        .query_row(
            "SELECT totp_secret, totp_last_step FROM accounts WHERE id = ?1 AND totp_secret IS NOT NULL",
            [id.0],
            |r| {
                Ok(TotpSecret {
                    secret: r.get(0)?,
                    last_step: r.get::<_, i64>(1)?.try_into().unwrap_or(0),
                })
            },
        )
        .optional()?)
}

/// Turns the second factor on with `secret`, replacing any recovery codes by
/// `recovery_hashes`.
/// Turns the second factor on; every session of the account ends (the one that enrolled
/// is given the new epoch by its caller).
pub fn enrol_second_factor(
    conn: &Connection,
    id: AccountId,
    secret: &str,
    first_step: u64,
    recovery_hashes: &[String],
    now: Timestamp,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE accounts SET totp_secret = ?2, totp_since = ?3, totp_last_step = ?4, \
         sessions_epoch = sessions_epoch + 1 WHERE id = ?1",
        params![
            id.0,
            secret,
            now,
            i64::try_from(first_step).unwrap_or(i64::MAX)
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "account",
            id: id.0,
        });
    }
    replace_recovery_codes(conn, id, recovery_hashes)
}

pub fn replace_recovery_codes(conn: &Connection, id: AccountId, hashes: &[String]) -> Result<()> {
    conn.execute("DELETE FROM recovery_codes WHERE account_id = ?1", [id.0])?;
    let mut insert =
        conn.prepare("INSERT INTO recovery_codes (account_id, code_hash) VALUES (?1, ?2)")?;
    for hash in hashes {
        insert.execute(params![id.0, hash])?;
    }
    Ok(())
}

/// Takes the code of time step `step`: true only if no code of that step or a later one
/// was taken before (a code works once).
pub fn take_totp_step(conn: &Connection, id: AccountId, step: u64) -> Result<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    Ok(conn.execute(
        "UPDATE accounts SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
        params![id.0, step],
    )? == 1)
}

/// Uses up the recovery code with this hash: true if it was the account's and unused.
pub fn take_recovery_code(
    conn: &Connection,
    id: AccountId,
    hash: &str,
    now: Timestamp,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE recovery_codes SET used_at = ?3 \
         WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
        params![id.0, hash, now],
    )? == 1)
}

pub fn recovery_codes_left(conn: &Connection, id: AccountId) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT count(*) FROM recovery_codes WHERE account_id = ?1 AND used_at IS NULL",
        [id.0],
        |r| r.get(0),
    )?)
}

/// Turns the second factor off (a lost phone): the secret and the recovery codes go, and
/// the account's sessions end.
pub fn reset_second_factor(conn: &Connection, id: AccountId) -> Result<()> {
    let changed = conn.execute(
        "UPDATE accounts SET totp_secret = NULL, totp_since = NULL, totp_last_step = 0, \
         sessions_epoch = sessions_epoch + 1 WHERE id = ?1",
        [id.0],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "account",
            id: id.0,
        });
    }
    replace_recovery_codes(conn, id, &[])
}

/// A kiosk allowed to call the kiosk API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kiosk {
    pub id: i64,
    pub name: String,
    /// The SHA-256 of its token: the key of its roster's tag hashes.
    #[serde(skip)]
    pub token_hash: String,
}

pub fn insert_kiosk(
    conn: &Connection,
    name: &str,
    token_hash: &str,
    now: Timestamp,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO kiosks (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, token_hash, now],
    )
    .map_err(|e| conflict(e, || format!("a kiosk named {name:?} exists")))?;
    Ok(conn.last_insert_rowid())
}

/// A registered kiosk, as the admin pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KioskRecord {
    pub id: i64,
    pub name: String,
    pub created_at: jiff::Timestamp,
    pub revoked_at: Option<jiff::Timestamp>,
    /// While its clock and the server's disagree: by how many seconds (its minus the
    /// server's) and since when. Its events wait on the kiosk meanwhile.
    pub clock_off_seconds: Option<i64>,
    pub clock_off_since: Option<jiff::Timestamp>,
}

impl KioskRecord {
    /// "1 h 0 min ahead of the server's since …", while the clocks disagree.
    pub fn clock_note(&self) -> Option<String> {
        let (off, since) = self.clock_off_seconds.zip(self.clock_off_since)?;
        Some(format!(
            "its clock is {} the server's (since {since})",
            crate::rules::kiosk::describe_offset(jiff::SignedDuration::from_secs(off))
        ))
    }
}

pub fn kiosks(conn: &Connection) -> Result<Vec<KioskRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, created_at, revoked_at, clock_off_seconds, clock_off_since \
         FROM kiosks ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(KioskRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                revoked_at: r.get(3)?,
                clock_off_seconds: r.get(4)?,
                clock_off_since: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Revokes a kiosk's token at once (a lost or replaced kiosk): its requests are refused
/// from now on. Kept, never deleted: its events stay attributed.
pub fn revoke_kiosk(conn: &Connection, id: i64, now: Timestamp) -> Result<()> {
    let changed = conn.execute(
        "UPDATE kiosks SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
    if changed == 0 {
        let exists: i64 =
            conn.query_row("SELECT count(*) FROM kiosks WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        return Err(if exists == 0 {
            StoreError::NotFound { what: "kiosk", id }
        } else {
            StoreError::Conflict("this kiosk's token is already revoked".into())
        });
    }
    Ok(())
}

/// Gives a kiosk a new token (its old one stops working at once); a revoked kiosk is
/// brought back with it.
pub fn rotate_kiosk_token(conn: &Connection, id: i64, token_hash: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE kiosks SET token_hash = ?2, revoked_at = NULL WHERE id = ?1",
        params![id, token_hash],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound { what: "kiosk", id });
    }
    Ok(())
}

pub fn kiosk_by_name(conn: &Connection, name: &str) -> Result<Option<KioskRecord>> {
    Ok(kiosks(conn)?.into_iter().find(|k| k.name == name))
}

pub fn kiosk_by_token_hash(conn: &Connection, token_hash: &str) -> Result<Option<Kiosk>> {
    Ok(conn
        .query_row(
            "SELECT id, name, token_hash FROM kiosks WHERE token_hash = ?1 AND revoked_at IS NULL",
            [token_hash],
            |r| {
                Ok(Kiosk {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    token_hash: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: DeviceId,
    pub label: String,
    pub make: String,
    pub model: String,
    pub serial: String,
    pub tag_uid: String,
    pub loan_minutes: u32,
}

/// A device to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub label: String,
    pub make: String,
    pub model: String,
    pub serial: String,
    pub tag_uid: consentcam_wire::TagUid,
    pub loan_minutes: u32,
}

const DEVICE_COLS: &str = "id, label, make, model, serial, tag_uid, loan_minutes";

fn device_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: DeviceId(r.get(0)?),
        label: r.get(1)?,
        make: r.get(2)?,
        model: r.get(3)?,
        serial: r.get(4)?,
        tag_uid: r.get(5)?,
        loan_minutes: r.get(6)?,
    })
}

pub fn insert_device(conn: &Connection, device: &NewDevice, now: Timestamp) -> Result<DeviceId> {
    for (field, value) in [
        ("label", &device.label),
        ("make", &device.make),
        ("model", &device.model),
        ("serial", &device.serial),
    ] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            return Err(StoreError::Invalid(format!(
                "device {field} must be 1 to 100 characters"
            )));
        }
    }
    if device.loan_minutes == 0 || device.loan_minutes > 60 * 24 * 14 {
        return Err(StoreError::Invalid(
            "loan_minutes must be between 1 and 20160 (14 days)".into(),
        ));
    }
    if tag_in_use(conn, device.tag_uid.as_str())? {
        return Err(StoreError::Conflict(
            "that tag is already enrolled as a badge or another device".into(),
        ));
    }
    conn.execute(
        "INSERT INTO devices (label, make, model, serial, tag_uid, loan_minutes, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            device.label.trim(),
            device.make.trim(),
            device.model.trim(),
            device.serial.trim(),
            device.tag_uid.as_str(),
            device.loan_minutes,
            now
        ],
    )
    .map_err(|e| {
        conflict(e, || {
            "a device with that label or make/model/serial exists".into()
        })
    })?;
    Ok(DeviceId(conn.last_insert_rowid()))
}

pub fn devices(conn: &Connection) -> Result<Vec<Device>> {
    let mut stmt = conn.prepare(&format!("SELECT {DEVICE_COLS} FROM devices ORDER BY label"))?;
    let rows = stmt
        .query_map([], device_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn device(conn: &Connection, id: DeviceId) -> Result<Device> {
    found(
        conn.query_row(
            &format!("SELECT {DEVICE_COLS} FROM devices WHERE id = ?1"),
            [id.0],
            device_row,
        ),
        "device",
        id.0,
    )
}

/// The registered device whose EXIF make, model and serial these are (C7).
pub fn device_by_camera(
    conn: &Connection,
    make: &str,
    model: &str,
    serial: &str,
) -> Result<Option<Device>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE make = ?1 COLLATE NOCASE AND \
                 model = ?2 COLLATE NOCASE AND serial = ?3"
            ),
            params![make.trim(), model.trim(), serial.trim()],
            device_row,
        )
        .optional()?)
}

fn tag_in_use(conn: &Connection, uid: &str) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM badges WHERE uid = ?1) + \
                (SELECT count(*) FROM devices WHERE tag_uid = ?1)",
        [uid],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// An enrolled badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Badge {
    pub id: i64,
    pub uid: String,
    pub person_id: PersonId,
    pub active: bool,
}

pub fn enrol_badge(
    conn: &Connection,
    uid: &consentcam_wire::TagUid,
    person: PersonId,
    now: Timestamp,
) -> Result<i64> {
    if tag_in_use(conn, uid.as_str())? {
        return Err(StoreError::Conflict(
            "that tag is already enrolled as a badge or a device".into(),
        ));
    }
    super::people::living(conn, person)?;
    conn.execute(
        "INSERT INTO badges (uid, person_id, enrolled_at) VALUES (?1, ?2, ?3)",
        params![uid.as_str(), person.0, now],
    )
    .map_err(|e| conflict(e, || "that badge is already enrolled".into()))?;
    Ok(conn.last_insert_rowid())
}

pub fn set_badge_active(conn: &Connection, id: i64, active: bool) -> Result<()> {
    let changed = conn.execute(
        "UPDATE badges SET active = ?2 WHERE id = ?1",
        params![id, active],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound { what: "badge", id });
    }
    Ok(())
}

pub fn badges(conn: &Connection) -> Result<Vec<Badge>> {
    let mut stmt = conn.prepare("SELECT id, uid, person_id, active FROM badges ORDER BY id")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Badge {
                id: r.get(0)?,
                uid: r.get(1)?,
                person_id: PersonId(r.get(2)?),
                active: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;
    use consentcam_wire::TagUid;

    fn now() -> Timestamp {
        Timestamp::from_second(1_764_000_000).unwrap()
    }

    #[test]
    fn a_tag_is_either_a_badge_or_a_device_never_both() {
        let conn = open_in_memory().unwrap();
        let uid = TagUid::parse("04A1B2C3").unwrap();
        insert_device(
            &conn,
            &NewDevice {
                label: "Camera 1".into(),
                make: "Canon".into(),
                model: "EOS 250D".into(),
                serial: "123".into(),
                tag_uid: uid.clone(),
                loan_minutes: 480,
            },
            now(),
        )
        .unwrap();
        let err = enrol_badge(&conn, &uid, PersonId(1), now()).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    }

    #[test]
    fn usernames_are_unique_regardless_of_case() {
        let conn = open_in_memory().unwrap();
        insert_account(&conn, "director", "h", AccountRole::Director, None, now()).unwrap();
        let err =
            insert_account(&conn, "Director", "h", AccountRole::Staff, None, now()).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
        assert!(insert_account(&conn, "a b", "h", AccountRole::Staff, None, now()).is_err());
    }
}
