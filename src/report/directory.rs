//! `POST /reporting/v1.2/directory`: the tenant's queues, users and
//! accounts with their names, as the `directory.*` events last described
//! them, so that a client (the dashboard's queue and advisor filters) can
//! offer names instead of ids. An extension of API.md, recorded in the
//! OpenAPI document; it has no CSV twin (it is no report).

use axum::body::Body;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::request::parse_json;
use super::{read_body, JSON_PREFIX};
use crate::auth::Principal;
use crate::error::Result;
use crate::state::AppState;

/// At most this many entries of each list (`truncated` says when more exist).
pub const MAX_ENTRIES: i64 = 10_000;

/// The request: an empty object (unknown fields are 400).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryBody {}

/// A named entry of the directory.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: Uuid,
    /// A queue's or account's name; a user's `firstName lastName`.
    pub name: String,
    /// Users: the e-mail address. Accounts: the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer: each list ordered by name (C collation), then id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub queues: Vec<Entry>,
    pub users: Vec<Entry>,
    pub accounts: Vec<Entry>,
    /// Whether a list was cut at 10,000 entries.
    pub truncated: bool,
}

const QUEUES: &str =
    "select queue_id, name, null::text from directory_queues where tenant_id = $1 \
                      order by name collate \"C\", queue_id limit $2";
const USERS: &str = "select user_id, first_name || ' ' || last_name, email from directory_users \
                     where tenant_id = $1 \
                     order by (first_name || ' ' || last_name) collate \"C\", user_id limit $2";
const ACCOUNTS: &str = "select account_id, name, channel from directory_accounts \
                        where tenant_id = $1 order by name collate \"C\", account_id limit $2";

async fn list(pool: &PgPool, sql: &str, tenant_id: Uuid) -> Result<(Vec<Entry>, bool)> {
    let rows: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(sql)
        .bind(tenant_id)
        .bind(MAX_ENTRIES + 1)
        .fetch_all(pool)
        .await?;
    let truncated = rows.len() as i64 > MAX_ENTRIES;
    let entries = rows
        .into_iter()
        .take(MAX_ENTRIES as usize)
        .map(|(id, name, detail)| Entry { id, name, detail })
        .collect();
    Ok((entries, truncated))
}

/// The tenant's directory.
#[utoipa::path(
    post,
    path = "/reporting/v1.2/directory",
    tag = "directory",
    request_body(content = DirectoryBody, description = "An empty object"),
    responses(
        (status = 200, body = Directory, description = "Queues, users and accounts with their names, each ordered by name (C collation), then id; at most 10,000 of each. An extension of API.md for clients that offer names (the dashboard's filters); no CSV twin."),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn directory(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> Result<Json<Directory>> {
    let body = read_body(body, state.config.body_idle_timeout).await?;
    let _: DirectoryBody = parse_json(&body, "")?;
    let tenant = principal.tenant_id;
    let (queues, q_cut) = list(&state.pool, QUEUES, tenant).await?;
    let (users, u_cut) = list(&state.pool, USERS, tenant).await?;
    let (accounts, a_cut) = list(&state.pool, ACCOUNTS, tenant).await?;
    Ok(Json(Directory {
        queues,
        users,
        accounts,
        truncated: q_cut || u_cut || a_cut,
    }))
}

/// The route, for [`super::json_routes`].
pub fn routes() -> Router<AppState> {
    Router::new().route(&format!("{JSON_PREFIX}/directory"), post(directory))
}
