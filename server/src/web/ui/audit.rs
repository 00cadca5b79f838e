//! The audit log: filters, a table and a CSV export. The log holds ids, never names, so
//! its filters can travel in the URL.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, render};
use crate::store::audit;
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::api::Query;
use crate::web::error::ApiError;

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub subject: String,
    /// First day, inclusive (YYYY-MM-DD).
    #[serde(default)]
    pub since: String,
    /// Last day, inclusive (YYYY-MM-DD).
    #[serde(default)]
    pub until: String,
    /// The next page: entries older than this id.
    pub before: Option<i64>,
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn day(text: &str, what: &str) -> Result<Option<Date>, ApiError> {
    non_empty(text)
        .map(|t| {
            t.parse::<Date>()
                .map_err(|_| ApiError::BadRequest(format!("{what} must be a date (YYYY-MM-DD)")))
        })
        .transpose()
}

impl AuditQuery {
    fn filter(&self, limit: u32, site: Option<i64>) -> Result<audit::Filter, ApiError> {
        let since = day(&self.since, "since")?;
        let until = day(&self.until, "until")?
            .map(|d| d.tomorrow())
            .transpose()
            .map_err(|_| ApiError::BadRequest("until is out of range".into()))?;
        Ok(audit::Filter {
            action_prefix: non_empty(&self.action),
            actor: non_empty(&self.actor),
            subject: non_empty(&self.subject),
            since: since.map(|d| d.to_string()),
            until: until.map(|d| d.to_string()),
            limit: Some(limit),
            before: self.before,
            site,
        })
    }

    /// The same filters as a query string, for the CSV link.
    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("action", &self.action)
            .append_pair("actor", &self.actor)
            .append_pair("subject", &self.subject)
            .append_pair("since", &self.since)
            .append_pair("until", &self.until)
            .finish()
    }
}

pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    query: AuditQuery,
    csv_link: String,
    rows: Vec<AuditRow>,
    limit: u32,
    /// The link to the older entries, if there are more.
    older: Option<String>,
}

const PAGE_ROWS: u32 = 500;

/// The entries `query` asks for that an account of `site` may read (`None`: every one).
async fn rows(
    state: &AppState,
    query: &AuditQuery,
    limit: u32,
    site: Option<i64>,
) -> Result<Vec<AuditRow>, ApiError> {
    let filter = query.filter(limit, site)?;
    state
        .read(move |c| {
            Ok(audit::list(c, &filter)?
                .into_iter()
                .map(|r| AuditRow {
                    id: r.id,
                    at: r.at,
                    actor: r.actor,
                    action: r.action,
                    subject: r.subject,
                    details: r.details.to_string(),
                })
                .collect())
        })
        .await
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let rows = rows(&state, &query, PAGE_ROWS, caller.account.site_id).await?;
    let older = (rows.len() == PAGE_ROWS as usize)
        .then(|| rows.last())
        .flatten()
        .map(|last| format!("/audit?{}&before={}", query.query_string(), last.id));
    render(&AuditPage {
        c,
        csv_link: format!("/audit.csv?{}", query.query_string()),
        query,
        rows,
        limit: PAGE_ROWS,
        older,
    })
}

pub async fn audit_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    // Every matching row, whatever page the link was taken from.
    let query = AuditQuery {
        before: None,
        ..query
    };
    let rows = rows(&state, &query, u32::MAX, caller.account.site_id).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    super::csv_download(
        "audit-log.csv",
        &["id", "at", "actor", "action", "subject", "details"],
        rows.iter().zip(&ids).map(|(r, id)| {
            vec![
                id.as_str(),
                &r.at,
                &r.actor,
                &r.action,
                &r.subject,
                &r.details,
            ]
        }),
    )
}
