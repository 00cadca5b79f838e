//! The renewal list: forms that lapse soon and learners who turn 18 with only a parent's
//! form, as a page and a CSV for the office to send new forms out.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, render};
use crate::ops::decisions::{self, RenewalRow};
use crate::rules::consent::Renewal;
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::error::ApiError;

/// One line of the list.
pub struct Row {
    pub person_id: i64,
    pub ext_ref: String,
    pub name: String,
    pub on: String,
    pub what: &'static str,
}

fn row(r: RenewalRow) -> Row {
    let (on, what) = match r.renewal {
        Renewal::FormExpires { on } => (on, "form lapses"),
        Renewal::NeedsOwnForm { on } => (on, "turns 18: needs their own form"),
    };
    Row {
        person_id: r.person.id.0,
        ext_ref: r.person.ext_ref,
        name: format!("{} {}", r.person.given_name, r.person.family_name),
        on: on.to_string(),
        what,
    }
}

/// The list as of today, within `renewal_notice_days`, of the people of `site` (`None`:
/// everyone's).
pub async fn due(state: &AppState, site: Option<i64>) -> Result<Vec<Row>, ApiError> {
    let (today, policy, days) = (
        state.today(),
        state.policy(),
        state.config().renewal_notice_days,
    );
    let rows = state
        .read(move |c| {
            let all = decisions::renewals(c, today, days, &policy)?;
            Ok(crate::store::sites::retain_visible(c, site, all, |r| {
                (crate::store::sites::Kind::Person, r.person.id.0)
            })?)
        })
        .await?;
    Ok(rows.into_iter().map(row).collect())
}

#[derive(Template)]
#[template(path = "renewals.html")]
struct RenewalsPage {
    c: Chrome,
    rows: Vec<Row>,
    days: i32,
    parents_on: bool,
    most: u32,
    /// Person, name, where their latest request stands (admins only).
    requests: Vec<(i64, String, String)>,
}

pub async fn renewals(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let rows = due(&state, caller.account.site_id).await?;
    let requests = if caller.account.role == crate::domain::AccountRole::Admin {
        let statuses =
            crate::web::api::parents::request_statuses(&state, caller.account.site_id).await?;
        let st = state.clone();
        state
            .read(move |c| {
                statuses
                    .iter()
                    .map(|r| {
                        let p = crate::store::people::person(c, r.person_id)?;
                        Ok((
                            r.person_id.0,
                            format!("{} {}", p.given_name, p.family_name),
                            super::parents::request_words(&st, r),
                        ))
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await?
    } else {
        Vec::new()
    };
    render(&RenewalsPage {
        c,
        rows,
        days: state.config().renewal_notice_days,
        parents_on: state.config().parents.is_some(),
        most: state
            .config()
            .parents
            .as_ref()
            .map_or(0, |p| p.renewal_requests),
        requests,
    })
}

pub async fn renewals_csv(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, PageError> {
    let rows = due(&state, caller.account.site_id).await?;
    super::csv_download(
        "renewals.csv",
        &["ref", "name", "date", "what"],
        rows.iter()
            .map(|r| vec![r.ext_ref.as_str(), &r.name, &r.on, r.what]),
    )
}
