//! Presence spans (`presence_changes.ended_at`), maintained in the batch's
//! transaction: a user's state holds from its `presence.changed` until the
//! user's next change, ties at one instant ordered by event id. For every
//! user a batch touches, the spans are recomputed from the change before the
//! batch's earliest change of that user up to the first change after its
//! latest one (index range scans only, never the user's whole history), so
//! the spans depend only on the set of events: a late change that splits a
//! span ends the earlier one at the late change. Every span whose end
//! changed, and every (user, day) with contacts in the batch, updates the
//! day rollup ([`days`]).

pub mod days;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use super::events::{EventKind, ValidEvent};

/// Serialises the recomputation per user: whichever of two concurrent
/// batches touching the same user recomputes second sees both (its
/// statement starts after the first committed). Users are locked in sorted
/// order (and after the interactions of [`super::derive`]), so two batches
/// cannot deadlock. Users with contacts in the batch are locked too: their
/// contact cells are recounted.
const LOCK_USERS: &str = r#"
select count(pg_advisory_xact_lock(hashtextextended($1::text || '/presence/' || u::text, 0)))
from unnest($2::uuid[]) as u
"#;

/// For each touched user (`since`/`until`: the earliest and latest change
/// of the batch), the changes from the last one before `since` (the span
/// the batch may split) up to the first instant after `until` (whose
/// changes end the batch's last span and are not themselves affected),
/// with their recomputed ends; then the ends that changed are written.
const RECOMPUTE_SPANS: &str = r#"
with touched as (
    select * from unnest($2::uuid[], $3::timestamptz[], $4::timestamptz[]) as t(user_id, since, until)
), window_bounds as (
    select t.user_id,
        coalesce((select max(p.occurred_at) from presence_changes p
                  where p.tenant_id = $1 and p.user_id = t.user_id and p.occurred_at < t.since),
                 t.since) as lo,
        (select min(p.occurred_at) from presence_changes p
         where p.tenant_id = $1 and p.user_id = t.user_id and p.occurred_at > t.until) as hi
    from touched t
), computed as materialized (
    select s.row_id, s.occurred_at, s.ended_at as old_end, w.hi,
        lead(s.occurred_at) over (partition by w.user_id order by s.occurred_at, s.event_id) as new_end
    from window_bounds w
    cross join lateral (
        select p.ctid as row_id, p.event_id, p.occurred_at, p.ended_at from presence_changes p
        where p.tenant_id = $1 and p.user_id = w.user_id and p.occurred_at >= w.lo
          and (w.hi is null or p.occurred_at <= w.hi)
        offset 0) s
)
update presence_changes p set ended_at = c.new_end
from computed c
where p.ctid = c.row_id
  and (c.hi is null or c.occurred_at < c.hi)
  and p.ended_at is distinct from c.new_end
returning p.user_id, p.state, c.occurred_at, c.old_end, c.new_end
"#;

/// The users whose presence changes are in `events`, with the earliest and
/// latest instant of their changes in the batch (events already stored
/// included: recomputing their spans changes nothing).
fn touched_users(events: &[ValidEvent]) -> BTreeMap<Uuid, (DateTime<Utc>, DateTime<Utc>)> {
    let mut users: BTreeMap<Uuid, (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for event in events {
        if event.kind != EventKind::PresenceChanged {
            continue;
        }
        let Some(user) = event
            .payload
            .get("userId")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            continue;
        };
        let at = event.occurred_at;
        users
            .entry(user)
            .and_modify(|(since, until)| {
                *since = (*since).min(at);
                *until = (*until).max(at);
            })
            .or_insert((at, at));
    }
    users
}

/// The (user, UTC day) of every unit of work in the batch (events already
/// stored included: recounting their day changes nothing).
fn contact_days(events: &[ValidEvent]) -> BTreeSet<(Uuid, chrono::NaiveDate)> {
    events
        .iter()
        .filter(|e| e.kind == EventKind::UnitOfWorkCompleted)
        .filter_map(|e| {
            let user = e.payload.get("userId")?.as_str()?;
            Some((Uuid::parse_str(user).ok()?, e.occurred_at.date_naive()))
        })
        .collect()
}

/// Recomputes the spans of every user whose presence changes are in the
/// batch, and the day rollup of the spans and contacts it changes (called
/// once per batch, after its events are stored).
pub async fn maintain(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    events: &[ValidEvent],
) -> sqlx::Result<()> {
    let touched = touched_users(events);
    let contact_days = contact_days(events);
    if touched.is_empty() && contact_days.is_empty() {
        return Ok(());
    }
    let locked: BTreeSet<Uuid> = touched
        .keys()
        .copied()
        .chain(contact_days.iter().map(|k| k.0))
        .collect();
    let locked: Vec<Uuid> = locked.into_iter().collect();
    sqlx::query(LOCK_USERS)
        .bind(tenant_id)
        .bind(&locked)
        .execute(&mut **tx)
        .await?;
    let mut changed = Vec::new();
    if !touched.is_empty() {
        let users: Vec<Uuid> = touched.keys().copied().collect();
        let since: Vec<DateTime<Utc>> = touched.values().map(|(s, _)| *s).collect();
        let until: Vec<DateTime<Utc>> = touched.values().map(|(_, u)| *u).collect();
        for row in sqlx::query(RECOMPUTE_SPANS)
            .bind(tenant_id)
            .bind(&users)
            .bind(&since)
            .bind(&until)
            .fetch_all(&mut **tx)
            .await?
        {
            changed.push(days::ChangedSpan {
                user_id: row.try_get("user_id")?,
                state: row.try_get("state")?,
                start: row.try_get("occurred_at")?,
                old_end: row.try_get("old_end")?,
                new_end: row.try_get("new_end")?,
            });
        }
    }
    days::apply(tx, tenant_id, &changed, &contact_days).await
}
