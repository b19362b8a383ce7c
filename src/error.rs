//! One error type for every handler, rendered as RFC 9457 problem+json.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// `Retry-After` (seconds) of a 503 whose cause should pass: a busy or
/// unreachable database, a request that ran out of time.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Handler results default to [`ApiError`].
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// One field to blame for an error: `field` is a dotted path such as
/// `filters.to`, or `[3].occurredAt` for the fourth event of a batch.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The problem+json body (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present whenever a field of the request is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request does not fit the schema (400).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The request fits the schema but cannot be answered (422).
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("rate limit exceeded")]
    TooManyRequests { retry_after_seconds: u64 },
    /// A transient outage (503 with `Retry-After`).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// The client sent no byte of its body for this long (408).
    #[error("The request body stalled: no bytes arrived for {} s.", .0.as_secs_f64())]
    BodyTimeout(Duration),
    /// The request ran past the request timeout (503 with `Retry-After`).
    #[error("The request took longer than {} s; retry later, or narrow the range or filters.", .0.as_secs_f64())]
    RequestTimeout(Duration),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::BadRequest {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::Unprocessable {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable(_) | Self::RequestTimeout(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Database(_) | Self::Internal(_) => match self.database_failure() {
                Some(_) => StatusCode::SERVICE_UNAVAILABLE,
                None => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    /// What a database error underneath means for the client, if it is one
    /// of the failures that are not a bug.
    fn database_failure(&self) -> Option<DatabaseFailure> {
        let error = match self {
            Self::Database(e) => e,
            Self::Internal(e) => e.chain().find_map(|c| c.downcast_ref::<sqlx::Error>())?,
            _ => return None,
        };
        DatabaseFailure::of(error)
    }

    /// Seconds the client should wait before trying again, when waiting helps.
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            Self::ServiceUnavailable(_) | Self::RequestTimeout(_) => Some(RETRY_AFTER_SECONDS),
            _ if self.database_failure() == Some(DatabaseFailure::Unavailable) => {
                Some(RETRY_AFTER_SECONDS)
            }
            _ => None,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "invalid-request",
            Self::Unprocessable { .. } => "unprocessable-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not-found",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::BodyTimeout(_) => "body-timeout",
            Self::TooManyRequests { .. } => "rate-limited",
            Self::ServiceUnavailable(_) => "unavailable",
            Self::RequestTimeout(_) => "request-timeout",
            Self::Database(_) | Self::Internal(_) => match self.database_failure() {
                Some(DatabaseFailure::StatementTimeout) => "statement-timeout",
                Some(DatabaseFailure::Unavailable) => "database-unavailable",
                None => "internal",
            },
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status_code();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors } | Self::Unprocessable { detail, errors } => {
                (detail.clone(), Some(errors.clone()))
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => (
                format!("Too many requests; retry in {retry_after_seconds} s."),
                None,
            ),
            // Internals are logged, never sent.
            Self::Database(_) | Self::Internal(_) => {
                let detail = match self.database_failure() {
                    Some(DatabaseFailure::StatementTimeout) => {
                        "The request took longer than the statement timeout; retry later, or \
                         narrow a report's range or filters, or send smaller batches."
                    }
                    Some(DatabaseFailure::Unavailable) => {
                        "The database is unreachable or has no free connection; retry shortly."
                    }
                    None => "An internal error occurred.",
                };
                (detail.to_owned(), None)
            }
            other => (other.to_string(), None),
        };
        Problem {
            errors,
            ..Problem::new(status, self.slug(), detail)
        }
    }
}

impl Problem {
    /// A problem of `status` whose type ends in `slug`.
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://cx-reporting.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
        }
    }
}

/// Database failures that are not bugs: the client is told what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatabaseFailure {
    /// The query ran past `statement_timeout`: narrowing the request helps.
    StatementTimeout,
    /// No connection to be had (pool exhausted, database down or restarting,
    /// connection lost): waiting helps.
    Unavailable,
}

impl DatabaseFailure {
    fn of(error: &sqlx::Error) -> Option<Self> {
        match error {
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // query_canceled, raised by statement_timeout.
                Some("57014") => Some(Self::StatementTimeout),
                // Class 08 is connection exceptions; 57P01-57P03 a server
                // shutting down, crashed or starting; 53300 too many
                // connections.
                Some(code)
                    if code.starts_with("08")
                        || matches!(code, "57P01" | "57P02" | "57P03" | "53300") =>
                {
                    Some(Self::Unavailable)
                }
                _ => None,
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Some(Self::Unavailable),
            _ => None,
        }
    }
}

/// Renders a problem body with the given status, for errors raised outside
/// handlers (middleware, fallbacks).
pub fn problem_response(problem: &Problem, status: StatusCode) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        // A timed-out request is logged (at warn) where it is cut short.
        if status.is_server_error() && !matches!(self, Self::RequestTimeout(_)) {
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = problem_response(&self.problem(), status);
        if let Self::Unauthorized(_) = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A 413 naming the limit, as `1 MiB (1048576 bytes)`.
pub fn body_too_large(limit: usize) -> ApiError {
    const MIB: usize = 1024 * 1024;
    let readable = if limit % MIB == 0 {
        format!("{} MiB ({limit} bytes)", limit / MIB)
    } else if limit % 1024 == 0 {
        format!("{} KiB ({limit} bytes)", limit / 1024)
    } else {
        format!("{limit} bytes")
    };
    ApiError::PayloadTooLarge(format!("The request body may be at most {readable}."))
}

/// Whether a response already carries a problem body.
pub fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

/// Turns a serde error with its path into a 400 naming the field.
pub fn from_path_error(
    prefix: &str,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> FieldError {
    let mut path = err.path().to_string();
    let inner = err.into_inner();
    let message = strip_position(&inner.to_string());
    // A missing field is reported at its parent: name the field itself.
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        path = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
    }
    let path = if path == "." { String::new() } else { path };
    let field = match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path,
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    };
    FieldError::new(field, message)
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(error: ApiError) -> (StatusCode, Option<String>) {
        let response = error.into_response();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status(), retry)
    }

    #[test]
    fn a_database_without_connections_is_503_with_retry_after_however_it_is_wrapped() {
        let five = Some(RETRY_AFTER_SECONDS.to_string());
        for error in [
            ApiError::Database(sqlx::Error::PoolTimedOut),
            ApiError::Database(sqlx::Error::PoolClosed),
            ApiError::Database(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
            ApiError::Internal(anyhow::Error::from(sqlx::Error::PoolTimedOut).context("storing")),
        ] {
            assert_eq!(
                retry_after(error),
                (StatusCode::SERVICE_UNAVAILABLE, five.clone())
            );
        }
    }

    #[test]
    fn other_database_errors_stay_500_and_say_nothing() {
        let error = ApiError::Database(sqlx::Error::Protocol("secret internals".into()));
        assert_eq!(error.problem().detail, "An internal error occurred.");
        assert_eq!(
            retry_after(error),
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        );
    }

    #[test]
    fn the_limit_is_named_in_readable_units() {
        let detail = |n| body_too_large(n).to_string();
        assert_eq!(
            detail(1024 * 1024),
            "The request body may be at most 1 MiB (1048576 bytes)."
        );
        assert_eq!(
            detail(64 * 1024),
            "The request body may be at most 64 KiB (65536 bytes)."
        );
        assert_eq!(detail(1000), "The request body may be at most 1000 bytes.");
    }
}
