//! `POST /ingest/v1/webhooks/twoway` (API.md §5.3): one signed two-way
//! event per request, in the seed's snake_case properties. It is stored as
//! is (identity `(ccid, event_type, event_subtype, event_time)`, so a
//! re-delivery stores nothing new) and, in the same transaction, the §3
//! event it feeds is stored through the ordinary batch path
//! ([`super::store::store_in`]) under an id derived from that identity.

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::events::{self, ValidEvent};
use super::{read_body, store, IngestResponse};
use crate::auth::Principal;
use crate::error::{ApiError, FieldError, Result};
use crate::state::AppState;

/// The twenty properties, in the seed's order: the webhook's keys, the
/// listing's row keys and the flat file's columns.
pub const COLUMNS: [&str; 20] = [
    "agent_email",
    "agent_first_name",
    "agent_last_name",
    "agent_roles",
    "agent_control_group",
    "ccid",
    "customer_first_name",
    "customer_last_name",
    "product_group_id",
    "event_type",
    "event_subtype",
    "event_time",
    "control_tag",
    "twoway_channel_sid",
    "conversation_id",
    "closed_reason",
    "closed_additional_information",
    "after_hours_flag",
    "sender_type",
    "conversation_status",
];

/// The longest value of each string property (characters), as the seed says.
pub const LENGTHS: [(&str, usize); 18] = [
    ("agent_email", 100),
    ("agent_first_name", 100),
    ("agent_last_name", 100),
    ("agent_roles", 1024),
    ("agent_control_group", 100),
    ("ccid", 255),
    ("customer_first_name", 100),
    ("customer_last_name", 100),
    ("product_group_id", 255),
    ("event_type", 100),
    ("event_subtype", 100),
    ("control_tag", 100),
    ("twoway_channel_sid", 100),
    ("conversation_id", 256),
    ("closed_reason", 256),
    ("closed_additional_information", 1024),
    ("sender_type", 50),
    ("conversation_status", 50),
];

/// The nine kinds: `(event_type, event_subtype)`.
pub const KINDS: [(&str, &str); 9] = [
    ("twoway", "agent_ping"),
    ("twoway", "agent_invite"),
    ("twoway", "channel_closed"),
    ("twoway_webhook", "customer_message_sent"),
    ("twoway_webhook", "agent_message_sent"),
    ("twoway_webhook", "system_message_sent"),
    ("twoway_webhook", "member_added"),
    ("twoway_webhook", "member_removed"),
    ("twoway_webhook", "channel_added"),
];

/// The values of `sender_type`.
pub const SENDER_TYPES: [&str; 3] = ["agent", "customer", "system"];

/// A validated two-way event: its string properties by name (absent ones
/// left out), its instant, and the flag when the sender gave it.
#[derive(Debug, Clone)]
pub struct TwoWayEvent {
    texts: Map<String, Value>,
    pub event_time: DateTime<Utc>,
    pub after_hours_flag: Option<bool>,
}

impl TwoWayEvent {
    /// A string property, `None` when absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.get(name).and_then(Value::as_str)
    }

    /// The §3 id of the event this one feeds: derived from the identity,
    /// so a re-delivery maps to the same id.
    pub fn feed_id(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.text("ccid").unwrap_or_default(),
            self.text("event_type").unwrap_or_default(),
            self.text("event_subtype").unwrap_or_default(),
            &self.event_time.to_rfc3339_opts(SecondsFormat::Micros, true),
        ] {
            hash.update(part.as_bytes());
            hash.update([0x1f]);
        }
        format!("twoway:{}", hex::encode(hash.finalize()))
    }
}

fn kinds_list() -> String {
    KINDS
        .iter()
        .map(|(t, s)| format!("{t}.{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Validates one webhook body: every bad property is named (422).
pub fn validate(value: &Value) -> std::result::Result<TwoWayEvent, Vec<FieldError>> {
    let Some(object) = value.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "the body must be one JSON object",
        )]);
    };
    let mut errors = Vec::new();
    let mut texts = Map::new();
    for (name, max) in LENGTHS {
        match object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.contains('\0') => errors.push(FieldError::new(
                name,
                "must not contain the NUL character (U+0000)",
            )),
            Some(Value::String(s)) if s.chars().count() > max => {
                errors.push(FieldError::new(
                    name,
                    format!("must be at most {max} characters"),
                ));
            }
            Some(Value::String(s)) => {
                texts.insert(name.to_owned(), Value::String(s.clone()));
            }
            Some(_) => errors.push(FieldError::new(name, "must be a string")),
        }
    }
    for required in ["ccid", "event_type", "event_subtype"] {
        let named = errors.iter().any(|e| e.field == required);
        if !named
            && texts
                .get(required)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
        {
            errors.push(FieldError::new(
                required,
                "is required (a non-empty string)",
            ));
        }
    }
    let kind = (
        texts.get("event_type").and_then(Value::as_str),
        texts.get("event_subtype").and_then(Value::as_str),
    );
    if let (Some(t), Some(s)) = kind {
        if !KINDS.contains(&(t, s)) && !t.is_empty() && !s.is_empty() {
            let field = if KINDS.iter().any(|(known, _)| *known == t) {
                "event_subtype"
            } else {
                "event_type"
            };
            errors.push(FieldError::new(
                field,
                format!(
                    "`{t}.{s}` is not a two-way event; valid (event_type.event_subtype): {}",
                    kinds_list()
                ),
            ));
        }
    }
    if let Some(sender) = texts.get("sender_type").and_then(Value::as_str) {
        if !SENDER_TYPES.contains(&sender) {
            errors.push(FieldError::new(
                "sender_type",
                format!("must be one of {}", SENDER_TYPES.join(", ")),
            ));
        }
    }
    let event_time = match object.get("event_time") {
        Some(Value::String(s)) => DateTime::<FixedOffset>::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                errors.push(FieldError::new(
                    "event_time",
                    "must be an ISO 8601 instant with an offset, e.g. 2026-03-29T01:30:00Z",
                ))
            })
            .ok(),
        None | Some(Value::Null) => {
            errors.push(FieldError::new("event_time", "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("event_time", "must be a string"));
            None
        }
    };
    let after_hours_flag = match object.get("after_hours_flag") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new(
                "after_hours_flag",
                "must be a boolean (or absent)",
            ));
            None
        }
    };
    match event_time {
        Some(event_time) if errors.is_empty() => Ok(TwoWayEvent {
            texts,
            event_time,
            after_hours_flag,
        }),
        _ => Err(errors),
    }
}

/// The §3 event a two-way event feeds (API.md §5.3), given the directory
/// user whose email is `agent_email`; `None` when it feeds nothing.
pub fn feed(event: &TwoWayEvent, agent: Option<Uuid>) -> Option<Value> {
    let conversation = event
        .text("conversation_id")
        .filter(|c| !c.is_empty() && c.chars().count() <= 128)?;
    let mut fields = json!({
        "id": event.feed_id(),
        "occurredAt": event.event_time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        "conversationId": conversation,
    });
    let message = json!({"type": "message.created", "interactionId": conversation,
        "channel": "SMS"});
    let extra = match event.text("event_subtype")? {
        "channel_added" => json!({"type": "conversation.started",
            "interactionId": conversation, "channel": "SMS"}),
        "customer_message_sent" => merged(message, json!({"direction": "Inbound"})),
        "agent_message_sent" => merged(message, json!({"direction": "Outbound", "userId": agent})),
        "system_message_sent" => {
            merged(message, json!({"direction": "Outbound", "automated": true}))
        }
        "member_added" => json!({"type": "conversation.operator_connected",
            "userId": agent?}),
        "channel_closed" => {
            let ended_by = match event.text("sender_type") {
                Some("agent") => Some("Agent"),
                Some("customer") => Some("EndUser"),
                Some("system") => Some("System"),
                _ => None,
            };
            json!({"type": "conversation.ended", "endedBy": ended_by})
        }
        _ => return None,
    };
    fields = merged(fields, extra);
    Some(fields)
}

fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(map), Value::Object(extra)) = (base.as_object_mut(), extra) {
        map.extend(extra.into_iter().filter(|(_, v)| !v.is_null()));
    }
    base
}

/// The directory user whose email is `email` (case-insensitive; the most
/// recently described one when several share it).
async fn agent_by_email(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    email: Option<&str>,
) -> sqlx::Result<Option<Uuid>> {
    let Some(email) = email.filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    sqlx::query_scalar(
        "select user_id from directory_users where tenant_id = $1 and lower(email) = lower($2) \
         order by as_of desc, user_id limit 1",
    )
    .bind(tenant_id)
    .bind(email)
    .fetch_optional(&mut **tx)
    .await
}

const INSERT: &str = "insert into twoway_events (tenant_id, ccid, event_type, event_subtype, \
    event_time, after_hours_flag, agent_email, agent_first_name, agent_last_name, agent_roles, \
    agent_control_group, customer_first_name, customer_last_name, product_group_id, control_tag, \
    twoway_channel_sid, conversation_id, closed_reason, closed_additional_information, \
    sender_type, conversation_status) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
    $13, $14, $15, $16, $17, $18, $19, $20, $21) on conflict do nothing";

/// The optional string properties in the order [`INSERT`] binds them.
const OPTIONAL: [&str; 15] = [
    "agent_email",
    "agent_first_name",
    "agent_last_name",
    "agent_roles",
    "agent_control_group",
    "customer_first_name",
    "customer_last_name",
    "product_group_id",
    "control_tag",
    "twoway_channel_sid",
    "conversation_id",
    "closed_reason",
    "closed_additional_information",
    "sender_type",
    "conversation_status",
];

/// Stores the event and the §3 event it feeds in one transaction; answers
/// whether it was new. `after_hours` is the flag to store when the sender
/// gave none.
pub async fn store_event(
    pool: &sqlx::PgPool,
    tenant_id: Uuid,
    event: &TwoWayEvent,
    after_hours: bool,
) -> sqlx::Result<bool> {
    let mut attempt = 0;
    loop {
        match try_store(pool, tenant_id, event, after_hours).await {
            Err(sqlx::Error::Database(e))
                if attempt < 4 && matches!(e.code().as_deref(), Some("40P01" | "40001")) =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn try_store(
    pool: &sqlx::PgPool,
    tenant_id: Uuid,
    event: &TwoWayEvent,
    after_hours: bool,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let mut insert = sqlx::query(INSERT)
        .bind(tenant_id)
        .bind(event.text("ccid"))
        .bind(event.text("event_type"))
        .bind(event.text("event_subtype"))
        .bind(event.event_time)
        .bind(event.after_hours_flag.unwrap_or(after_hours));
    for name in OPTIONAL {
        insert = insert.bind(event.text(name));
    }
    let inserted = insert.execute(&mut *tx).await?.rows_affected() == 1;
    if inserted {
        let needs_agent = matches!(
            event.text("event_subtype"),
            Some("agent_message_sent" | "member_added")
        );
        let agent = match needs_agent {
            true => agent_by_email(&mut tx, tenant_id, event.text("agent_email")).await?,
            false => None,
        };
        if let Some(value) = feed(event, agent) {
            match events::validate(0, &value) {
                Ok(valid) => {
                    let batch: [ValidEvent; 1] = [valid];
                    store::store_in(&mut tx, tenant_id, &batch).await?;
                }
                // Cannot happen (the feed is built from checked values);
                // the two-way event is still stored and listed.
                Err(error) => tracing::warn!(?error, "a two-way event fed no §3 event"),
            }
        }
    }
    tx.commit().await?;
    Ok(inserted)
}

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
