//! What the photo pages share: badges, times in the local zone, decision rows, and
//! reading a typed person or channel.

use rusqlite::Connection;

use crate::domain::{Channel, PersonId};
use crate::rules::consent::{Decision, Severity, Verdict};
use crate::store::{people, photos, sites};
use crate::web::AppState;
use crate::web::api::photos::PhotoStatus;
use crate::web::error::ApiError;

/// A status badge: its words and its style.
pub struct Badge {
    pub text: &'static str,
    pub class: &'static str,
}

pub fn status_badge(status: PhotoStatus) -> Badge {
    let (text, class) = match status {
        PhotoStatus::NeedsTagging => ("needs tagging", "needs-tagging"),
        PhotoStatus::Ready => ("ready", "ready"),
        PhotoStatus::Approved => ("approved", "approved"),
        PhotoStatus::Published => ("published", "published"),
        PhotoStatus::Blocked => ("blocked", "blocked"),
    };
    Badge { text, class }
}

pub fn verdict_badge(verdict: Verdict) -> Badge {
    let (text, class) = match verdict {
        Verdict::Allowed => ("allowed", "allowed"),
        Verdict::NeedsReview => ("needs review", "needs-review"),
        Verdict::Blocked => ("blocked", "blocked"),
    };
    Badge { text, class }
}

pub fn full_name(p: &people::Person) -> String {
    format!("{} {}", p.given_name, p.family_name)
}

/// A stored RFC 3339 time as local time (as stored if it does not parse).
pub fn local(state: &AppState, at: jiff::Timestamp) -> String {
    state.local_time(at)
}

/// A time kept as text (in the audit log's details, say) in the local zone; text that is
/// not a time is shown as it is.
pub fn local_text(state: &AppState, stored: &str) -> String {
    stored
        .parse::<jiff::Timestamp>()
        .map_or_else(|_| stored.to_owned(), |t| state.local_time(t))
}

pub fn taken(state: &AppState, photo: &photos::Photo) -> String {
    photo
        .taken_at
        .map_or_else(|| "time unknown".into(), |t| state.local_time(t))
}

/// One reason, ready to show.
pub struct ReasonRow {
    pub class: &'static str,
    pub code: String,
    pub message: String,
}

/// The decision for one channel.
pub struct DecisionRow {
    pub code: String,
    pub name: String,
    pub badge: Badge,
    pub needs_approval: bool,
    pub ready: bool,
    /// Nothing stands in the way: a director may publish it there now.
    pub allowed: bool,
    pub reasons: Vec<ReasonRow>,
}

pub fn decision_row(channel: Channel, name: String, decision: &Decision) -> DecisionRow {
    DecisionRow {
        code: channel.code(),
        name,
        badge: verdict_badge(decision.verdict),
        needs_approval: channel.needs_approval(),
        ready: decision.ready_for_approval(),
        allowed: decision.verdict == Verdict::Allowed,
        reasons: decision
            .reasons
            .iter()
            .map(|r| ReasonRow {
                class: match r.severity {
                    Severity::Info => "info",
                    Severity::NeedsReview => "needs-review",
                    Severity::Blocks => "blocked",
                },
                code: r.code.as_str().to_owned(),
                message: r.message.clone(),
            })
            .collect(),
    }
}

/// Finds the person a type-ahead field names: `REF · Name` as offered, a bare ref, or
/// words that match exactly one person's name; for an account of a site (`site`), only
/// among that site's people.
pub fn resolve_person(
    conn: &Connection,
    site: Option<i64>,
    typed: &str,
) -> Result<PersonId, ApiError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(ApiError::invalid("type a name or a ref to choose a person"));
    }
    let ext_ref = typed.split('·').next().unwrap_or(typed).trim();
    let seen = |p: &people::Person| {
        sites::ensure_visible(conn, site, &[(sites::Kind::Person, p.id.0)]).is_ok()
    };
    for candidate in [ext_ref.to_owned(), ext_ref.to_uppercase()] {
        if let Some(p) = people::person_by_ref(conn, &candidate)?
            && seen(&p)
        {
            return Ok(p.id);
        }
    }
    let matches = people::search_in(conn, site, typed, 6)?;
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] => Err(ApiError::invalid(format!(
            "nobody on the register matches “{typed}”; pick someone from the list"
        ))),
        several => {
            let shown: Vec<String> = several
                .iter()
                .take(5)
                .map(|p| format!("{} · {}", p.ext_ref, full_name(p)))
                .collect();
            Err(ApiError::invalid(format!(
                "several people match “{typed}”: {}{}; type their ref",
                shown.join(", "),
                if several.len() > 5 { ", …" } else { "" }
            )))
        }
    }
}

pub fn photo_url(id: i64) -> String {
    format!("/photos/{id}")
}

pub fn parse_channel(text: &str) -> Result<Channel, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest("unknown channel".into()))
}
