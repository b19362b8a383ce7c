//! Count and duration tiles through the service against the same figures
//! computed from the raw tables (`interaction_audits`, `messages`), never
//! from the rollups, so the comparison holds however the rollups are kept.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::Run;
use crate::messages::{Q1, Q2};

/// Every event lies in this range (30 days, so a `Day` by-date tile fits).
const FROM: &str = "2026-01-01T00:00:00Z";
const TO: &str = "2026-01-31T00:00:00Z";

/// Count, average, min, max, p50 and p90 of `v` (the tiles' statistics).
const STATS: &str = "count(*), avg(v), min(v), max(v), \
    percentile_cont(0.5) within group (order by v), \
    percentile_cont(0.9) within group (order by v)";

type Stats = (
    i64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn range() -> (DateTime<Utc>, DateTime<Utc>) {
    let parse = |s: &str| s.parse::<DateTime<Utc>>().expect("an instant");
    (parse(FROM), parse(TO))
}

/// Seconds as the tiles give them: to the millisecond, null for none.
fn seconds(value: Option<f64>) -> Value {
    value.map_or(Value::Null, |v| json!((v * 1000.0).round() / 1000.0))
}

impl Run {
    /// A count over the range: `sql` binds the tenant, `from` and `to`.
    async fn raw_count(&self, sql: &str) -> i64 {
        let (from, to) = range();
        (sqlx::query_scalar(sql)
            .bind(self.tenant)
            .bind(from)
            .bind(to))
        .fetch_one(&self.pool)
        .await
        .expect("raw count")
    }

    /// The duration statistics `sql` computes (binds as `raw_count`, and
    /// a queue or null), in the shape of the tiles' duration object.
    async fn raw_durations(&self, sql: &str, queue: Option<Uuid>) -> Value {
        let (from, to) = range();
        let (count, average, min, max, p50, p90): Stats = (sqlx::query_as(sql)
            .bind(self.tenant)
            .bind(from)
            .bind(to)
            .bind(queue))
        .fetch_one(&self.pool)
        .await
        .expect("raw durations");
        json!({"count": count, "average": seconds(average), "min": seconds(min),
            "max": seconds(max), "p50": seconds(p50), "p90": seconds(p90)})
    }

    /// Asks count and duration tiles through the service at `base` and
    /// checks each against the raw tables; returns the Queued audits counted.
    pub(crate) async fn tiles_match_raw(&self, base: &str, when: &str) -> i64 {
        let filters = json!({"from": FROM, "to": TO});

        let queued = self
            .raw_count(
                "select count(*) from interaction_audits where tenant_id = $1 \
                 and occurred_at >= $2 and occurred_at < $3 and new_state = 'Queued'",
            )
            .await;
        let body = json!({"filters": filters, "newState": ["Queued"]});
        let answer = self.ask(base, "interactions/state/count", body).await;
        assert_eq!(answer, json!({"count": queued}), "Queued audits {when}");

        for direction in ["Inbound", "Outbound"] {
            let raw = match direction {
                "Inbound" => {
                    "select count(*) from messages where tenant_id = $1 \
                    and occurred_at >= $2 and occurred_at < $3 and direction = 'Inbound'"
                }
                _ => {
                    "select count(*) from messages where tenant_id = $1 \
                    and occurred_at >= $2 and occurred_at < $3 and direction = 'Outbound'"
                }
            };
            let expected = json!({"count": self.raw_count(raw).await});
            let body = json!({"filters": filters, "direction": direction});
            let answer = self.ask(base, "messages/volume/count", body).await;
            assert_eq!(answer, expected, "{direction} message volume {when}");
        }

        self.assignments_by_day_match(base, when).await;

        let body = json!({"filters": {"from": FROM, "to": TO, "queues": [Q1, Q2]}});
        let answer = (self.ask(base, "interactions/queue-time/count/by-queues", body)).await;
        let groups = answer["groups"].as_array().expect("groups");
        assert_eq!(groups.len(), 2, "a group per queue {when}");
        for (group, queue) in groups.iter().zip([Q1, Q2]) {
            let sql = format!(
                "select {STATS} from (select queue_seconds as v from interaction_audits \
                 where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 \
                 and queue_seconds is not null and queue_id = $4) t"
            );
            let queue = Uuid::parse_str(queue).expect("uuid");
            let mut expected = self.raw_durations(&sql, Some(queue)).await;
            expected["key"] = json!(queue);
            let mut got = group.clone();
            got.as_object_mut().map(|g| g.remove("name"));
            assert_eq!(got, expected, "queue time in {queue} {when}");
        }

        for (metric, column) in [
            ("AdvisorResponseTime", "advisor_response_seconds"),
            ("OriginatorWaitTime", "originator_wait_seconds"),
        ] {
            let sql = format!(
                "select {STATS} from (select {column} as v from messages \
                 where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 \
                 and {column} is not null and ($4::uuid is null or queue_id = $4)) t"
            );
            let expected = self.raw_durations(&sql, None).await;
            let body = json!({"filters": filters, "responseTime": metric});
            let answer = self.ask(base, "messages/response-times/count", body).await;
            assert_eq!(answer, expected, "{metric} {when}");
        }
        queued
    }

    /// Queued → Assigned audits by UTC day: every bucket, zero-filled.
    async fn assignments_by_day_match(&self, base: &str, when: &str) {
        let (from, to) = range();
        let days: Vec<(NaiveDate, i64)> = sqlx::query_as(
            "select (occurred_at at time zone 'UTC')::date, count(*) from interaction_audits \
             where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 \
             and old_state = 'Queued' and new_state = 'Assigned' group by 1",
        )
        .bind(self.tenant)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .expect("raw days");
        let body = json!({"filters": {"from": FROM, "to": TO, "groupBy": "Day"},
            "oldState": ["Queued"], "newState": ["Assigned"]});
        let answer = self.ask(base, "interactions/state/by-date", body).await;
        let buckets = answer["buckets"].as_array().expect("buckets");
        assert_eq!(buckets.len(), 30, "a bucket per day {when}");
        for bucket in buckets {
            let start = (bucket["start"].as_str())
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .expect("bucket start")
                .date_naive();
            let expected = days.iter().find(|d| d.0 == start).map_or(0, |d| d.1);
            assert_eq!(
                bucket["count"],
                json!(expected),
                "assigned on {start} {when}"
            );
        }
    }
}
