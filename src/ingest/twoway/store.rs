//! Storing a two-way event with the §3 event it feeds, in one transaction.

use chrono::SecondsFormat;
use serde_json::{json, Value};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::event::TwoWayEvent;
use crate::ingest::events::{self, ValidEvent};
use crate::ingest::store;

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
