-- Duration tiles read only the rows that carry a derived time. These
-- partial indexes hold exactly those rows with every column the tiles
-- filter or group by, so the tiles are index-only scans.
create index interaction_audits_queue_times on interaction_audits (tenant_id, occurred_at)
    include (queue_id, channel, queue_seconds) where queue_seconds is not null;
create index interaction_audits_ivr_times on interaction_audits (tenant_id, occurred_at)
    include (queue_id, channel, ivr_seconds) where ivr_seconds is not null;
create index messages_response_times on messages (tenant_id, occurred_at)
    include (queue_id, channel, account_id, user_id, advisor_response_seconds, originator_wait_seconds)
    where advisor_response_seconds is not null or originator_wait_seconds is not null;
