-- Presence spans, maintained at ingest (src/ingest/presence.rs): a user's
-- state holds from its presence.changed until the user's next change, so
-- each change is a span [occurred_at, ended_at) with ended_at the instant of
-- the next change (changes at one instant are ordered by event id: all but
-- the last are empty spans). The last change of a user is open (null); a
-- query stops it at min(to, the moment of the request). Recomputed for each
-- user a batch touches from the change before the batch's earliest change
-- of that user, so a late change that splits a span corrects it exactly.
alter table presence_changes add column ended_at timestamptz;

update presence_changes p set ended_at = n.next_at
from (
    select tenant_id, event_id,
        lead(occurred_at) over (partition by tenant_id, user_id order by occurred_at, event_id) as next_at
    from presence_changes
) n
where p.tenant_id = n.tenant_id and p.event_id = n.event_id and n.next_at is not null;

-- The spans of a user in time order, read by index only (the carried-in
-- span before `from` is the last entry below it).
drop index presence_changes_by_user;
create index presence_changes_spans on presence_changes (tenant_id, user_id, occurred_at, event_id)
    include (state, ended_at);

-- Contacts of a user in a range, read by index only.
create index units_of_work_contacts on units_of_work (tenant_id, user_id, occurred_at)
    include (user_state, channel, queue_id)
    where closed > 0 or messages > 0 or data_changes > 0 or notes > 0;
