//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{secrets, tenants, Claims};
use crate::domain::Role;
use crate::error::{ApiError, Result};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials` (absent or another value: 400).
    #[schema(required = true, value_type = String, pattern = "^client_credentials$")]
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// Exchange client credentials for an access token.
///
/// Form-encoded body (`grant_type=client_credentials`, `client_id`,
/// `client_secret`), or the credentials in HTTP Basic with only `grant_type`
/// in the body. A client application holds every role.
#[utoipa::path(
    post, path = "/oauth/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<TokenResponse>> {
    let form: TokenRequest = serde_urlencoded::from_bytes(&body).map_err(|_| {
        ApiError::bad_request("", "the body must be application/x-www-form-urlencoded")
    })?;
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => return Err(ApiError::bad_request("grant_type", "is required")),
        Some(_) => {
            return Err(ApiError::bad_request(
                "grant_type",
                "unsupported grant type; expected `client_credentials`",
            ))
        }
    }
    let (client_id, client_secret) = match basic_credentials(&headers) {
        Some(pair) => pair,
        None => (
            form.client_id
                .ok_or_else(|| ApiError::bad_request("client_id", "is required"))?,
            form.client_secret
                .ok_or_else(|| ApiError::bad_request("client_secret", "is required"))?,
        ),
    };
    let invalid = || ApiError::Unauthorized("Unknown client or wrong secret.".into());
    let tenant_id = tenants::tenant_of_client_id(&client_id);
    let hash: Option<String> = match tenant_id {
        Some(tenant_id) => sqlx::query_scalar(
            "select secret_hash from client_credentials where tenant_id = $1 and client_id = $2",
        )
        .bind(tenant_id)
        .bind(&client_id)
        .fetch_optional(&state.pool)
        .await?,
        None => None,
    };
    // An unknown id is verified against a dummy hash of the same cost, so
    // that it answers no faster than a wrong secret. argon2 is deliberately
    // slow: keep it off the async workers.
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| secrets::DUMMY_HASH.to_owned());
    let secret = client_secret.clone();
    let matches = tokio::task::spawn_blocking(move || secrets::verify(&secret, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let (Some(tenant_id), true, true) = (tenant_id, known, matches) else {
        return Err(invalid());
    };
    let ttl = state.config.token_ttl.as_secs();
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: client_id,
        tid: tenant_id,
        roles: Role::ALL.iter().map(|r| r.as_str().to_owned()).collect(),
        exp: now + ttl as i64,
        iat: Some(now),
    };
    Ok(Json(TokenResponse {
        access_token: super::mint(&state.config.jwt_secret, &claims)?,
        token_type: "Bearer".into(),
        expires_in: ttl,
    }))
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((decode(id)?, decode(secret)?))
}
