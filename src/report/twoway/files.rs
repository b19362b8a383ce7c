//! The scheduled two-way files, listed and served (API.md §5.3).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::report::csv::csv_response;
use crate::settings::FileSchedule;
use crate::state::AppState;

/// One written file.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileEntry {
    /// Its id, for `GET …/files/{id}`.
    pub id: Uuid,
    pub schedule: FileSchedule,
    /// The period `[from, to)`, UTC.
    #[schema(example = "2026-08-01T00:00:00Z")]
    pub from: String,
    #[schema(example = "2026-09-01T00:00:00Z")]
    pub to: String,
    /// Data lines (the header is not counted).
    pub rows: i64,
    /// Size of the CSV in bytes.
    pub bytes: i64,
    /// When it was written, UTC.
    pub created_at: String,
}

/// `{"files": [...]}`, newest period first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileList {
    pub files: Vec<FileEntry>,
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// List the scheduled two-way files.
///
/// Every flat file written for the tenant, newest period first: one per
/// finished period of its `twoWayFileSchedule` (UTC days; Monday–Sunday
/// weeks; calendar months, written on the first Saturday of the next month
/// or as soon after as the service runs), from the first whole period
/// after the tenant was created (after a change of schedule: from the first
/// whole period of the new schedule after the latest file). Each period is
/// written exactly once, across restarts and processes, and never
/// rewritten: an event arriving after its period's file was written is in
/// the listing and the export, not in the file.
#[utoipa::path(
    get, path = "/reporting/v1.2/twoway/activity/files", tag = "twoway",
    responses(
        (status = 200, body = FileList),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The token lacks the Analytics role"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(State(state): State<AppState>, principal: Principal) -> Result<Json<FileList>> {
    type Row = (
        Uuid,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
        i64,
        i64,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select file_id, schedule, period_from, period_to, rows, bytes, created_at \
         from twoway_files where tenant_id = $1 order by period_from desc, period_to desc",
    )
    .bind(principal.tenant_id)
    .fetch_all(&state.pool)
    .await?;
    let files = rows
        .into_iter()
        .map(
            |(id, schedule, from, to, rows, bytes, created_at)| FileEntry {
                id,
                schedule: match schedule.as_str() {
                    "Weekly" => FileSchedule::Weekly,
                    "Monthly" => FileSchedule::Monthly,
                    _ => FileSchedule::Daily,
                },
                from: utc(from),
                to: utc(to),
                rows,
                bytes,
                created_at: utc(created_at),
            },
        )
        .collect();
    Ok(Json(FileList { files }))
}

/// Download one scheduled two-way file.
///
/// The CSV as it was written: the header row of the twenty names, then one
/// line per event of its period. An id that is not one of the tenant's
/// files (another tenant's included) is 404.
#[utoipa::path(
    get, path = "/reporting/v1.2/twoway/activity/files/{id}", tag = "twoway",
    params(("id" = String, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file", content_type = "text/csv; charset=utf-8"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The token lacks the Analytics role"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such file of this tenant"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<axum::response::Response> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let file: Option<(Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
        "select csv, schedule, period_from from twoway_files where tenant_id = $1 and file_id = $2",
    )
    .bind(principal.tenant_id)
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let (csv, schedule, from) = file.ok_or(ApiError::NotFound)?;
    let name = format!(
        "twoway-activity-{}-{}",
        schedule.to_ascii_lowercase(),
        from.format("%Y-%m-%d")
    );
    Ok(csv_response(Body::from(csv), &name))
}
