//! Storing a validated batch in one transaction (the events, their derived
//! times, conversation rows and presence spans, then the rollup deltas),
//! so the batch is atomic, and idempotent per `(tenant, id)`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::events::ValidEvent;
use super::{conversations, derive, presence, rollups};

/// What storing a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub inserted: u64,
}

/// Records each event id (skipping ids already stored) and, in the same
/// statement, projects each newly recorded event into its typed table, which
/// keeps every field of its kind. The verbatim payload is kept only for
/// directory events, whose tables hold just the latest description.
/// Directory rows keep the description with the latest `occurredAt`
/// (ties: the greater event id), whatever the arrival order.
const INSERT_BATCH: &str = r#"
with input as (
    select t.id, t.kind, t.at, t.payload
    from unnest($2::text[], $3::text[], $4::timestamptz[], $5::jsonb[]) as t(id, kind, at, payload)
), stored as (
    insert into events (tenant_id, event_id, event_type, occurred_at, payload)
    select $1, id, kind, at, case when kind like 'directory.%' then payload end
    from input
    on conflict (tenant_id, event_id) do nothing
    returning event_id
), ins as (
    select i.id as event_id, i.kind as event_type, i.at as occurred_at, i.payload
    from input i join stored s on s.event_id = i.id
), audits as (
    insert into interaction_audits (tenant_id, event_id, interaction_id, reference, channel,
        old_state, new_state, queue_id, user_id, occurred_at, data)
    select $1, event_id, payload->>'interactionId', payload->>'reference', payload->>'channel',
        payload->>'oldState', payload->>'newState', (payload->>'queueId')::uuid,
        (payload->>'userId')::uuid, occurred_at, payload->'data'
    from ins where event_type = 'interaction.state_changed'
), msgs as (
    insert into messages (tenant_id, event_id, interaction_id, conversation_id, direction, automated,
        channel, queue_id, account_id, user_id, content_type, from_address, to_address, keyword,
        delivery_status, status_code, occurred_at, data)
    select $1, event_id, payload->>'interactionId', payload->>'conversationId', payload->>'direction',
        (payload->>'automated')::boolean, payload->>'channel', (payload->>'queueId')::uuid,
        (payload->>'accountId')::uuid, (payload->>'userId')::uuid, payload->>'contentType',
        payload->>'fromAddress', payload->>'toAddress', payload->>'keyword',
        payload->>'deliveryStatus', payload->>'statusCode', occurred_at, payload->'data'
    from ins where event_type = 'message.created'
), convs as (
    insert into conversation_events (tenant_id, event_id, conversation_id, kind, interaction_id,
        channel, account_id, queue_id, user_id, direction, initiation_method, ended_by, occurred_at, data)
    select $1, event_id, payload->>'conversationId', substr(event_type, 14), payload->>'interactionId',
        payload->>'channel', (payload->>'accountId')::uuid, (payload->>'queueId')::uuid,
        (payload->>'userId')::uuid, payload->>'direction', payload->>'initiationMethod',
        payload->>'endedBy', occurred_at, payload->'data'
    from ins where event_type like 'conversation.%'
), presence as (
    insert into presence_changes (tenant_id, event_id, user_id, state, occurred_at)
    select $1, event_id, (payload->>'userId')::uuid, payload->>'state', occurred_at
    from ins where event_type = 'presence.changed'
), work as (
    insert into units_of_work (tenant_id, event_id, interaction_id, user_id, assigned_at, user_state,
        closed, messages, data_changes, notes, channel, queue_id, occurred_at, data)
    select $1, event_id, payload->>'interactionId', (payload->>'userId')::uuid,
        (payload->>'assignedAt')::timestamptz, payload->>'userState',
        (payload->'actions'->>'closed')::int, (payload->'actions'->>'messages')::int,
        (payload->'actions'->>'dataChanges')::int, (payload->'actions'->>'notes')::int,
        payload->>'channel', (payload->>'queueId')::uuid, occurred_at, payload->'data'
    from ins where event_type = 'unit_of_work.completed'
), users as (
    insert into directory_users (tenant_id, user_id, email, first_name, last_name, roles,
        control_group, as_of, as_of_event)
    select distinct on ((payload->>'userId')::uuid) $1, (payload->>'userId')::uuid, payload->>'email',
        payload->>'firstName', payload->>'lastName',
        array(select jsonb_array_elements_text(payload->'roles')), payload->>'controlGroup',
        occurred_at, event_id
    from ins where event_type = 'directory.user'
    order by (payload->>'userId')::uuid, occurred_at desc, event_id desc
    on conflict (tenant_id, user_id) do update set email = excluded.email,
        first_name = excluded.first_name, last_name = excluded.last_name, roles = excluded.roles,
        control_group = excluded.control_group, as_of = excluded.as_of, as_of_event = excluded.as_of_event
    where (directory_users.as_of, directory_users.as_of_event) < (excluded.as_of, excluded.as_of_event)
), queues as (
    insert into directory_queues (tenant_id, queue_id, name, as_of, as_of_event)
    select distinct on ((payload->>'queueId')::uuid) $1, (payload->>'queueId')::uuid,
        payload->>'name', occurred_at, event_id
    from ins where event_type = 'directory.queue'
    order by (payload->>'queueId')::uuid, occurred_at desc, event_id desc
    on conflict (tenant_id, queue_id) do update set name = excluded.name,
        as_of = excluded.as_of, as_of_event = excluded.as_of_event
    where (directory_queues.as_of, directory_queues.as_of_event) < (excluded.as_of, excluded.as_of_event)
), accounts as (
    insert into directory_accounts (tenant_id, account_id, name, channel, as_of, as_of_event)
    select distinct on ((payload->>'accountId')::uuid) $1, (payload->>'accountId')::uuid,
        payload->>'name', payload->>'channel', occurred_at, event_id
    from ins where event_type = 'directory.account'
    order by (payload->>'accountId')::uuid, occurred_at desc, event_id desc
    on conflict (tenant_id, account_id) do update set name = excluded.name, channel = excluded.channel,
        as_of = excluded.as_of, as_of_event = excluded.as_of_event
    where (directory_accounts.as_of, directory_accounts.as_of_event) < (excluded.as_of, excluded.as_of_event)
), data_types as (
    insert into directory_data_types (tenant_id, data_type_id, name, kind, reportable, options,
        as_of, as_of_event)
    select distinct on ((payload->>'dataTypeId')::uuid) $1, (payload->>'dataTypeId')::uuid,
        payload->>'name', payload->>'kind', (payload->>'reportable')::boolean, payload->'options',
        occurred_at, event_id
    from ins where event_type = 'directory.data_type'
    order by (payload->>'dataTypeId')::uuid, occurred_at desc, event_id desc
    on conflict (tenant_id, data_type_id) do update set name = excluded.name, kind = excluded.kind,
        reportable = excluded.reportable, options = excluded.options,
        as_of = excluded.as_of, as_of_event = excluded.as_of_event
    where (directory_data_types.as_of, directory_data_types.as_of_event) < (excluded.as_of, excluded.as_of_event)
)
select count(*),
    coalesce(array_agg(distinct payload->>'interactionId')
        filter (where event_type in ('interaction.state_changed', 'message.created')), '{}'),
    coalesce(array_agg(event_id)
        filter (where event_type in ('interaction.state_changed', 'message.created')), '{}')
from ins
"#;

/// Stores a batch atomically, with the derived times of every interaction
/// it touches. Events whose id is already stored (or repeated earlier in the
/// same batch) are skipped. A batch that loses a deadlock against a
/// concurrent one (both inserting the same event ids, or describing the
/// same directory entries, in another order) is retried whole.
pub async fn store_batch(
    pool: &PgPool,
    tenant_id: Uuid,
    events: &[ValidEvent],
) -> sqlx::Result<Stored> {
    let mut attempt = 0;
    loop {
        match try_store_batch(pool, tenant_id, events).await {
            Err(sqlx::Error::Database(e))
                if attempt < 4 && matches!(e.code().as_deref(), Some("40P01" | "40001")) =>
            {
                attempt += 1;
                tracing::warn!(attempt, "ingest batch deadlocked; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn try_store_batch(
    pool: &PgPool,
    tenant_id: Uuid,
    events: &[ValidEvent],
) -> sqlx::Result<Stored> {
    let mut tx = pool.begin().await?;
    let stored = store_in(&mut tx, tenant_id, events).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Stores a batch inside a transaction the caller holds (and commits), so
/// that other writes join its atomicity (the two-way webhook stores its
/// row and the §3 event it feeds together). No deadlock retry here: the
/// caller retries its whole transaction.
pub async fn store_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant_id: Uuid,
    events: &[ValidEvent],
) -> sqlx::Result<Stored> {
    let mut seen = HashSet::with_capacity(events.len());
    let mut ids: Vec<&str> = Vec::with_capacity(events.len());
    let mut kinds: Vec<&str> = Vec::with_capacity(events.len());
    let mut times: Vec<DateTime<Utc>> = Vec::with_capacity(events.len());
    let mut payloads: Vec<&Value> = Vec::with_capacity(events.len());
    for event in events {
        if seen.insert(event.id.as_str()) {
            ids.push(&event.id);
            kinds.push(event.kind.as_str());
            times.push(event.occurred_at);
            payloads.push(&event.payload);
        }
    }
    let (inserted, mut touched, counted): (i64, Vec<String>, Vec<String>) =
        sqlx::query_as(INSERT_BATCH)
            .bind(tenant_id)
            .bind(&ids)
            .bind(&kinds)
            .bind(&times)
            .bind(&payloads)
            .fetch_one(&mut **tx)
            .await?;
    derive::recompute(tx, tenant_id, &mut touched).await?;
    super::datasources::store(tx, tenant_id, events).await?;
    conversations::recompute(tx, tenant_id, events).await?;
    presence::maintain(tx, tenant_id, events).await?;
    // The rollup deltas: appended, never updated, so concurrent batches
    // share no rollup row (the fold adds them to the rollups later).
    let counted: HashSet<&str> = counted.iter().map(String::as_str).collect();
    rollups::apply(tx, tenant_id, events, &counted).await?;
    Ok(Stored {
        inserted: inserted as u64,
    })
}
