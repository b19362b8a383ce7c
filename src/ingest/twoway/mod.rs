//! `POST /ingest/v1/webhooks/twoway` (API.md §5.3): one signed two-way
//! event per request, in the seed's snake_case properties. It is stored as
//! is (identity `(ccid, event_type, event_subtype, event_time)`, so a
//! re-delivery stores nothing new) and, in the same transaction, the §3
//! event it feeds is stored through the ordinary batch path
//! ([`crate::ingest::store::store_in`]) under an id derived from that
//! identity.

pub mod event;
pub mod store;

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde_json::Value;

pub use self::event::{validate, TwoWayEvent, COLUMNS, KINDS, LENGTHS, SENDER_TYPES};
pub use self::store::{feed, store_event};
use super::{read_body, IngestResponse};
use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::state::AppState;

/// Receive one two-way activity event (signed webhook).
///
/// One JSON object whose keys are the seed's snake_case properties:
/// `agent_email, agent_first_name, agent_last_name, agent_roles,
/// agent_control_group, ccid, customer_first_name, customer_last_name,
/// product_group_id, event_type, event_subtype, event_time, control_tag,
/// twoway_channel_sid, conversation_id, closed_reason,
/// closed_additional_information, after_hours_flag, sender_type,
/// conversation_status`. Required: `ccid`, `event_type`, `event_subtype`,
/// `event_time` (ISO 8601 with an offset). Each string is at most the
/// seed's length (100; `agent_roles` and `closed_additional_information`
/// 1024; `ccid` and `product_group_id` 255; `conversation_id` and
/// `closed_reason` 256; `sender_type` and `conversation_status` 50), else
/// 422 naming it. The kind (`event_type`.`event_subtype`) is one of
/// `twoway.agent_ping`, `twoway.agent_invite`, `twoway.channel_closed`,
/// `twoway_webhook.customer_message_sent`, `…agent_message_sent`,
/// `…system_message_sent`, `…member_added`, `…member_removed`,
/// `…channel_added` (else 422 listing them); `sender_type` is `agent`,
/// `customer` or `system`. Other keys are ignored.
///
/// Signed as `/ingest/v1/events`: `X-Tenant-Id` and `X-Signature-256:
/// sha256=<hex HMAC-SHA256 of the raw body with the tenant's webhook
/// secret>`; a missing or wrong signature, or a body other than the signed
/// one, is 401 and stores nothing (a bearer token with `Ingest` is also
/// accepted). Identity: (`ccid`, `event_type`, `event_subtype`,
/// `event_time` as an instant): a re-delivery stores nothing new and is
/// counted in `duplicates`. A missing `after_hours_flag` is computed from
/// the tenant's `afterHours` in force now, at `event_time`, and stored.
///
/// Feeding §3 (in the same transaction, channel `SMS`, `conversationId` and
/// `interactionId` = `conversation_id`; nothing when `conversation_id` is
/// absent, empty or over 128 characters): `channel_added` →
/// `conversation.started`; `customer_message_sent` → `message.created`
/// Inbound; `agent_message_sent` → `message.created` Outbound whose `userId`
/// is the directory user with email `agent_email` (case-insensitive, as
/// the directory holds it at ingestion; none when unknown);
/// `system_message_sent` → `message.created` Outbound, `automated`;
/// `member_added` → `conversation.operator_connected` with that directory
/// user (nothing when unknown); `channel_closed` → `conversation.ended`,
/// `endedBy` `Agent`/`EndUser`/`System` for `sender_type`
/// `agent`/`customer`/`system` (else none); `agent_ping`, `agent_invite`,
/// `member_removed` feed nothing. The fed event's id is
/// `twoway:<sha256 of the identity>`.
#[utoipa::path(
    post, path = "/ingest/v1/webhooks/twoway", tag = "ingest",
    request_body(content = Object, description = "One two-way event (snake_case keys)", content_type = "application/json"),
    params(
        ("X-Tenant-Id" = Option<String>, Header, description = "Tenant"),
        ("X-Signature-256" = Option<String>, Header, description = "sha256=<hex HMAC-SHA256 of the body>"),
    ),
    responses(
        (status = 200, body = IngestResponse),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not one JSON object"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json", description = "Missing or wrong signature; nothing stored"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "A bearer token without the Ingest role"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "A property past its length, an unknown kind or sender_type, a bad event_time; nothing stored"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("webhookSignature" = []), ("bearer" = []))
)]
pub async fn webhook(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> Result<Json<IngestResponse>> {
    let bytes = read_body(body, state.config.body_idle_timeout).await?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("", format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "",
            "the body must be one JSON object (a two-way event)",
        ));
    }
    let event = validate(&value).map_err(|errors| ApiError::Unprocessable {
        detail: format!(
            "The two-way event is invalid ({}); nothing was stored.",
            errors
                .iter()
                .map(|e| e.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        errors,
    })?;
    let tenant_id = principal.tenant_id;
    let after_hours = match event.after_hours_flag {
        Some(flag) => flag,
        None => crate::settings::load(&state.pool, tenant_id)
            .await?
            .after_hours
            .is_some_and(|hours| hours.contains(event.event_time)),
    };
    let inserted = store_event(&state.pool, tenant_id, &event, after_hours).await?;
    if inserted {
        state.cache.invalidate_tenant(tenant_id);
        state.metrics.events_ingested(1);
    }
    Ok(Json(IngestResponse {
        received: 1,
        inserted: u64::from(inserted),
        duplicates: u64::from(!inserted),
    }))
}
