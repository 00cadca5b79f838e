//! The one error type handlers return, and how it becomes an HTTP answer.
//!
//! Clients get a status, a stable code and a sentence; internals (SQL, paths) are logged
//! and never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::ops::consent_csv::ImportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("log in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    Unprocessable { message: String, details: Value },
    /// The password was right; the account's second factor is missing or wrong.
    #[error("{0}")]
    SecondFactor(String),
    /// The account's role needs a second factor and it has none yet.
    #[error(
        "a {0} account needs a second factor before anything else: set it up at /account/second-factor"
    )]
    SecondFactorSetup(crate::domain::AccountRole),
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: u64 },
    /// Busy for a moment (another import holds the photo store): try again shortly.
    #[error("{0}")]
    Busy(String),
    /// A body larger than the route takes.
    #[error("{0}")]
    TooLarge(String),
    /// Taking the upload would leave the disk that holds the records too full.
    #[error("{0}")]
    InsufficientStorage(String),
    /// The photo storage cannot be reached for now (the detail is logged, never sent):
    /// 503 with `Retry-After`, so a kiosk sends the file again.
    #[error("the photo storage cannot be reached just now; try again in a minute")]
    Unavailable(String),
    #[error("something went wrong on the server; it has been logged")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::SecondFactor(_) => (StatusCode::UNAUTHORIZED, "second_factor"),
            ApiError::SecondFactorSetup(_) => {
                (StatusCode::FORBIDDEN, "second_factor_setup_required")
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::InsufficientStorage(_) => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            message: message.into(),
            details: Value::Null,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        if let ApiError::Unavailable(detail) = &self {
            tracing::error!(%detail, "the photo storage cannot be reached");
        }
        let mut body = json!({ "error": code, "message": self.to_string() });
        if let ApiError::Unprocessable { details, .. } = &self
            && !details.is_null()
        {
            body["details"] = details.clone();
        }
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts { retry_after } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if matches!(self, ApiError::Unavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

/// What a write that met a full disk answers (507): nothing of it was kept.
const DISK_FULL: &str =
    "the server's disk is full: nothing was saved (try again once space is freed)";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::invalid(m),
            StoreError::Unavailable(detail) => ApiError::Unavailable(detail),
            _ if e.is_disk_full() => {
                tracing::error!(error = %e, "a write refused: the disk is full");
                ApiError::InsufficientStorage(DISK_FULL.into())
            }
            StoreError::Sqlite(_) | StoreError::Migration(_) | StoreError::Corrupt(_) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<crate::ops::publish::PublishError> for ApiError {
    fn from(e: crate::ops::publish::PublishError) -> Self {
        use crate::ops::publish::PublishError;
        match e {
            PublishError::Refused { .. }
            | PublishError::Changed
            | PublishError::CoverNotPainted { .. } => ApiError::Conflict(e.to_string()),
            PublishError::Scrub(_) | PublishError::Decode(_) | PublishError::NotAStill(_) => {
                ApiError::invalid(e.to_string())
            }
            PublishError::Original(..) => ApiError::Conflict(format!(
                "{e}: this photo's original is not in the photo store, so there is nothing to publish"
            )),
            PublishError::Store(s) => s.into(),
            PublishError::Outbox(ref io) if io.kind() == std::io::ErrorKind::StorageFull => {
                tracing::error!(error = %e, "a publication refused: the disk is full");
                ApiError::InsufficientStorage(DISK_FULL.into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Rows(rows) => ApiError::Unprocessable {
                message: format!("{} bad row(s); nothing was imported", rows.len()),
                details: json!({ "rows": rows }),
            },
            ImportError::Store(s) => s.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        // A body over the limit is 413 whichever extractor met it (a proxy in front may
        // answer the same).
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::TooLarge(format!("the request body is too large: {}", e.body_text()));
        }
        ApiError::BadRequest(format!(
            "the request body is not what this route expects: {}",
            e.body_text()
        ))
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::BadRequest(format!("bad id in the address: {}", e.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::BadRequest(format!("bad query parameters: {}", e.body_text()))
    }
}

impl From<crate::domain::ParseError> for ApiError {
    fn from(e: crate::domain::ParseError) -> Self {
        ApiError::invalid(e.0)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}
