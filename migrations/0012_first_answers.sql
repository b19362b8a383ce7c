-- The "first answer" rule (API.md §5), the one definition that the
-- messaging sessions' metrics (§5.4, src/report/sessions) and the
-- conversation interval summaries (§5.2, src/report/intervals) share.
--
-- Take one conversation's `message.created` events in time order (ties by
-- event id, bytewise as all text of §5), ignoring automated ones. The two
-- sides are the contact (Inbound) and the users (Outbound). A message answers when the message
-- before it is from the other side; its response time is its time minus
-- the time of the earliest message of the unbroken run of other-side
-- messages just before it. Contact 09:00, contact 09:05, user 09:20: the
-- user message answers with 1,200 s; a further user message at 09:30
-- answers nothing.
--
-- One row per non-automated message of the given conversations that lies
-- before `until` (a message is answered only by what precedes it, so the
-- messages from `until` on change nothing before it), with its response
-- time in seconds, or null when it answers nothing. Read by
-- `messages_by_conversation`.
create function cx_first_answers(tenant uuid, conversations text[], until timestamptz)
returns table (event_id text, conversation_id text, direction text, occurred_at timestamptz,
    response_seconds double precision)
language sql stable as $$
    with ordered as (
        select m.event_id, m.conversation_id, m.direction, m.occurred_at,
            lag(m.direction) over w as previous_direction
        from messages m
        where m.tenant_id = tenant and m.conversation_id = any(conversations)
          and not m.automated and m.occurred_at < until
        window w as (partition by m.conversation_id order by m.occurred_at, m.event_id collate "C")
    ), runs as (
        -- A run is an unbroken sequence of one side's messages; it starts
        -- where the side changes (or at the first message).
        select o.*,
            count(*) filter (where o.previous_direction is distinct from o.direction)
                over (partition by o.conversation_id order by o.occurred_at, o.event_id collate "C") as run
        from ordered o
    ), run_starts as (
        select r.*, min(r.occurred_at) over (partition by r.conversation_id, r.run) as run_started_at
        from runs r
    )
    select s.event_id, s.conversation_id, s.direction, s.occurred_at,
        case when s.previous_direction is not null and s.previous_direction <> s.direction
            -- the previous message belongs to the run just before this one
            then extract(epoch from s.occurred_at - lag(s.run_started_at) over (
                partition by s.conversation_id order by s.occurred_at, s.event_id collate "C"))::float8
        end as response_seconds
    from run_starts s
$$;
