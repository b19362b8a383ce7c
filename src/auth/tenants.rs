//! Creating tenants: the CLI's `tenant create` and `POST /admin/v1/tenants`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{bearer, secrets};
use crate::error::{ApiError, Result};
use crate::state::AppState;

/// The credentials of a new tenant, shown once: only hashes are kept.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewTenant {
    pub tenant_id: Uuid,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTenant {
    /// A display name, 1 to 200 characters.
    pub name: String,
}

/// Client ids carry their tenant (`cx_<tenant>_<random>`), so the token
/// endpoint can find the credential by the tenant-first primary key.
pub fn client_id_for(tenant_id: Uuid) -> String {
    let suffix: String = secrets::generate()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect();
    format!("cx_{}_{}", tenant_id.simple(), suffix)
}

/// The tenant named by a client id, if it is one of ours.
pub fn tenant_of_client_id(client_id: &str) -> Option<Uuid> {
    let rest = client_id.strip_prefix("cx_")?;
    let (tenant, _) = rest.split_once('_')?;
    Uuid::parse_str(tenant).ok()
}

/// Creates a tenant with one client credential and its settings row.
pub async fn create(pool: &PgPool, webhook_key: &str, name: &str) -> anyhow::Result<NewTenant> {
    let tenant_id = Uuid::new_v4();
    let client_id = client_id_for(tenant_id);
    let client_secret = secrets::generate();
    let secret_hash = secrets::hash(&client_secret)?;
    let mut tx = pool.begin().await?;
    sqlx::query("insert into tenants (tenant_id, name) values ($1, $2)")
        .bind(tenant_id)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into client_credentials (tenant_id, client_id, secret_hash) values ($1, $2, $3)",
    )
    .bind(tenant_id)
    .bind(&client_id)
    .bind(&secret_hash)
    .execute(&mut *tx)
    .await?;
    let version: i32 = sqlx::query_scalar(
        "insert into tenant_settings (tenant_id) values ($1) returning webhook_secret_version",
    )
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NewTenant {
        tenant_id,
        client_id,
        client_secret,
        webhook_secret: secrets::webhook_secret(webhook_key, tenant_id, version),
    })
}

/// The current webhook secret of a tenant, or `None` when it does not exist.
pub async fn webhook_secret(state: &AppState, tenant_id: Uuid) -> Result<Option<String>> {
    let version: Option<i32> = sqlx::query_scalar(
        "select webhook_secret_version from tenant_settings where tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(&state.pool)
    .await?;
    Ok(version.map(|v| secrets::webhook_secret(&state.config.webhook_key, tenant_id, v)))
}

/// Create a tenant (operator only).
///
/// Guarded by the operator token in `CX_ADMIN_TOKEN` (as a bearer token).
/// Answers the new tenant's client id and secret and its webhook secret,
/// once: only their hashes are stored.
#[utoipa::path(
    post, path = "/admin/v1/tenants", tag = "admin",
    request_body = CreateTenant,
    responses(
        (status = 201, body = NewTenant, description = "The tenant and its secrets, shown once"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("operator" = []))
)]
pub async fn create_route(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<NewTenant>)> {
    let expected = state.config.admin_token.as_deref().ok_or_else(|| {
        ApiError::Unauthorized(
            "Tenant administration is disabled (CX_ADMIN_TOKEN is unset).".into(),
        )
    })?;
    let given = bearer(&headers).unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(ApiError::Unauthorized(
            "The operator token is missing or wrong.".into(),
        ));
    }
    let request: CreateTenant = crate::report::request::parse_json(&body, "")?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "name",
            "must be 1 to 200 characters",
        ));
    }
    let tenant = create(&state.pool, &state.config.webhook_key, name).await?;
    tracing::info!(tenant = %tenant.tenant_id, "tenant created");
    Ok((StatusCode::CREATED, Json(tenant)))
}
