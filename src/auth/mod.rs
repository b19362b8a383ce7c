//! Authentication: access tokens, the principal they yield, role checks.

pub mod secrets;
pub mod tenants;
pub mod token;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Role;
use crate::error::{ApiError, Result};
use crate::state::AppState;

/// The claims of every access token, ours or a user's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// A user UUID, or the client id for client-credential tokens.
    pub sub: String,
    /// The tenant id.
    pub tid: Uuid,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// Who is calling: produced only by authentication, so a handler that takes
/// a `Principal` cannot reach tenant data without one.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: Uuid,
    /// The token subject; rate limits are kept per subject.
    pub subject: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The rate-limit and log key: tenant and subject together.
    pub fn client_key(&self) -> String {
        format!("{}/{}", self.tenant_id, self.subject)
    }
}

/// Signs an HS256 token.
pub fn mint(secret: &str, claims: &Claims) -> anyhow::Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Verifies a bearer token (HS256 with our secret, or RS256 with the
/// configured public key) and yields its principal.
pub fn verify(state: &AppState, token: &str) -> Result<Principal> {
    let invalid = || ApiError::Unauthorized("The access token is invalid or expired.".into());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
    let key = match header.alg {
        Algorithm::HS256 => DecodingKey::from_secret(state.config.jwt_secret.as_bytes()),
        Algorithm::RS256 => match &state.config.jwt_public_key_pem {
            Some(pem) => DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| invalid())?,
            None => return Err(invalid()),
        },
        _ => return Err(invalid()),
    };
    let mut validation = Validation::new(header.alg);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = 5;
    // A token that is not valid yet (`nbf` in the future) is refused too;
    // jsonwebtoken checks `nbf` only when asked.
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|_| invalid())?;
    let claims = data.claims;
    // Unknown role names are ignored rather than rejected: a token may carry
    // roles of other products.
    let roles = claims
        .roles
        .iter()
        .filter_map(|r| Role::ALL.iter().copied().find(|k| k.as_str() == r))
        .collect();
    Ok(Principal {
        tenant_id: claims.tid,
        subject: claims.sub,
        roles,
    })
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Middleware: requires a valid bearer token holding `role`, and leaves the
/// principal in the request for the extractor, the rate limiter and the cache.
pub async fn require_role(
    State((state, role)): State<(AppState, Role)>,
    mut request: Request,
    next: Next,
) -> Result<Response> {
    let token = bearer(request.headers())
        .ok_or_else(|| ApiError::Unauthorized("A bearer access token is required.".into()))?;
    let principal = verify(&state, token)?;
    authorize(&principal, role)?;
    request.extensions_mut().insert(principal.clone());
    let mut response = crate::tenancy::scope(principal.tenant_id, next.run(request)).await;
    response.extensions_mut().insert(principal);
    Ok(response)
}

/// 403 unless the principal holds the role.
pub fn authorize(principal: &Principal, role: Role) -> Result<()> {
    if principal.has(role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "This token does not hold the {role} role."
        )))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("A bearer access token is required.".into()))
    }
}
