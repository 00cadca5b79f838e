//! Logging in, second factors and ending sessions: what each attempt leaves in the audit
//! log, and the one-time use of codes. The password itself is checked by the caller with
//! no connection held (it is slow on purpose).

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::json;

use super::audited;
use crate::domain::AccountId;
use crate::infra::second_factor::{self, Code};
use crate::store::audit::Action;
use crate::store::{Result, StoreError, registry};

fn account_subject(id: AccountId) -> String {
    format!("account:{id}")
}

/// A login refused (unknown name, wrong password or disabled account: never which).
pub fn login_failed(conn: &mut Connection, now: Timestamp) -> Result<()> {
    audited(conn, "anonymous", Action::AccountLoginFailed, now, |_| {
        Ok(((), "account:?".to_owned(), json!({})))
    })
}

/// A login completed (password, and the second factor where the account has one).
pub fn logged_in(conn: &mut Connection, account: AccountId, now: Timestamp) -> Result<()> {
    let who = account_subject(account);
    audited(conn, &who, Action::AccountLogin, now, |_| {
        Ok(((), who.clone(), json!({})))
    })
}

/// What a second-factor code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// A current code from the authenticator app, not used before.
    Accepted,
    /// A recovery code, now used up; this many are left.
    RecoveryUsed { left: u32 },
    /// Refused, with the reason to show.
    Refused(&'static str),
}

/// Checks a code typed at login (`None`: it was neither 6 digits nor a recovery code):
/// an app code is taken once (a replay inside its window is refused), a recovery code
/// used once. Every attempt is in the audit log, refused ones included.
pub fn check_code(
    conn: &mut Connection,
    account: AccountId,
    code: Option<Code>,
    now: Timestamp,
) -> Result<CodeCheck> {
    let unix = u64::try_from(now.as_second()).unwrap_or(0);
    let tx = conn.transaction()?;
    let Some(secret) = registry::totp_secret(&tx, account)? else {
        return Ok(CodeCheck::Refused("this account has no second factor"));
    };
    let outcome = match code {
        Some(Code::Totp(digits)) => match second_factor::check(&secret.secret, &digits, unix) {
            Some(step) if registry::take_totp_step(&tx, account, step)? => CodeCheck::Accepted,
            Some(_) => CodeCheck::Refused("that code was used already; wait for the next one"),
            None => CodeCheck::Refused("wrong code"),
        },
        Some(Code::Recovery(text)) => {
            let hash = second_factor::recovery_hash(&text);
            if registry::take_recovery_code(&tx, account, &hash, now)? {
                CodeCheck::RecoveryUsed {
                    left: registry::recovery_codes_left(&tx, account)?,
                }
            } else {
                CodeCheck::Refused("wrong or used recovery code")
            }
        }
        None => {
            CodeCheck::Refused("a code is 6 digits from the authenticator app, or a recovery code")
        }
    };
    let (action, details) = match outcome {
        CodeCheck::Accepted => (Action::AccountSecondFactor, json!({})),
        CodeCheck::RecoveryUsed { left } => {
            (Action::AccountRecoveryCodeUsed, json!({ "left": left }))
        }
        CodeCheck::Refused(_) => (Action::AccountSecondFactorFailed, json!({})),
    };
    let who = account_subject(account);
    crate::ops::log(&tx, &who, action, who.clone(), details, now)?;
    tx.commit()?;
    Ok(outcome)
}

/// Turns on the second factor for an account: the app's secret, the step of the code that
/// confirmed it (so that code cannot be used again to log in) and the recovery codes'
/// hashes. Refused if the account has one already. Every session of the account ends:
/// returns the new sessions epoch, which only the session that enrolled is given.
pub fn enrol_second_factor(
    conn: &mut Connection,
    account: AccountId,
    secret: &str,
    confirmed_step: u64,
    recovery_hashes: &[String],
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    audited(conn, actor, Action::AccountSecondFactorOn, now, |tx| {
        if registry::totp_secret(tx, account)?.is_some() {
            return Err(StoreError::Conflict(
                "a second factor is set up already".into(),
            ));
        }
        registry::enrol_second_factor(tx, account, secret, confirmed_step, recovery_hashes, now)?;
        let epoch = registry::account(tx, account)?.sessions_epoch;
        Ok((epoch, account_subject(account), json!({})))
    })
}

/// Replaces an account's recovery codes (the old ones stop working), given a current code
/// from the app, which is taken. Returns `false`, changing nothing, when the code does not
/// work or the account has no second factor.
pub fn new_recovery_codes(
    conn: &mut Connection,
    account: AccountId,
    code: Option<Code>,
    recovery_hashes: &[String],
    actor: &str,
    now: Timestamp,
) -> Result<bool> {
    let unix = u64::try_from(now.as_second()).unwrap_or(0);
    let tx = conn.transaction()?;
    let Some(secret) = registry::totp_secret(&tx, account)? else {
        return Ok(false);
    };
    let step = match code {
        Some(Code::Totp(digits)) => second_factor::check(&secret.secret, &digits, unix),
        _ => None,
    };
    let Some(step) = step else {
        return Ok(false);
    };
    if !registry::take_totp_step(&tx, account, step)? {
        return Ok(false);
    }
    registry::replace_recovery_codes(&tx, account, recovery_hashes)?;
    crate::ops::log(
        &tx,
        actor,
        Action::AccountRecoveryCodesNew,
        account_subject(account),
        json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(true)
}

/// Ends one of the account's own sessions: the one `find` names (the web layer knows how
/// its session records say whose they are), looked up in the same transaction. Returns
/// whether there was one (another account's sessions are never found, and nothing is
/// logged then).
pub fn end_own_session(
    conn: &mut Connection,
    account: AccountId,
    now: Timestamp,
    find: impl FnOnce(&Connection) -> Result<Option<String>>,
) -> Result<bool> {
    let who = account_subject(account);
    let tx = conn.transaction()?;
    let Some(id) = find(&tx)? else {
        return Ok(false);
    };
    crate::store::sessions::delete(&tx, &id)?;
    crate::ops::log(
        &tx,
        &who,
        Action::AccountSessionEnd,
        who.clone(),
        json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(true)
}
