//! A deterministic demo data set: every event family over the last N days,
//! up to a given instant. The same day always yields the same events with
//! the same ids, so ingesting it again (or on a later day) only adds what is
//! new. Used by `cx-reporting demo-events` and `scripts/serve`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

const QUEUES: [(&str, &str); 3] = [
    ("11111111-1111-4111-8111-111111111111", "Support"),
    ("22222222-2222-4222-8222-222222222222", "Billing"),
    ("33333333-3333-4333-8333-333333333333", "Sales"),
];
const USERS: [(&str, &str, &str); 4] = [
    ("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "Ada", "Lovelace"),
    ("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "Grace", "Hopper"),
    ("cccccccc-cccc-4ccc-8ccc-cccccccccccc", "Alan", "Turing"),
    ("dddddddd-dddd-4ddd-8ddd-dddddddddddd", "Edsger", "Dijkstra"),
];
const ACCOUNTS: [(&str, &str, &str); 2] = [
    (
        "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee",
        "Website chat",
        "WebChat",
    ),
    ("ffffffff-ffff-4fff-8fff-ffffffffffff", "Hotline", "Voice"),
];
const TOPIC: &str = "99999999-9999-4999-8999-999999999999";
const TOPIC_OPTIONS: [(&str, &str); 3] = [
    ("99999999-0000-4000-8000-000000000001", "Delivery"),
    ("99999999-0000-4000-8000-000000000002", "Refund"),
    ("99999999-0000-4000-8000-000000000003", "Account"),
];
const CHANNELS: [&str; 6] = ["Email", "SMS", "WebChat", "Voice", "WhatsApp", "Facebook"];

/// SplitMix64: a tiny deterministic generator (no dependence on `rand`'s
/// algorithms, which may change between versions).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Collects events, dropping any that would lie after `now`.
struct Out {
    now: DateTime<Utc>,
    events: Vec<Value>,
}

impl Out {
    fn push(&mut self, at: DateTime<Utc>, mut event: Value) {
        if at > self.now {
            return;
        }
        event["occurredAt"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        self.events.push(event);
    }
}

/// The demo events of the `days` days up to `now` (UTC days, today
/// included), then the directory: users, queues, accounts and a data type.
pub fn events(days: u32, now: DateTime<Utc>) -> Vec<Value> {
    let mut out = Out {
        now,
        events: directory(),
    };
    let today = now.date_naive();
    for back in (0..i64::from(days)).rev() {
        let date = today - Duration::days(back);
        day(&mut out, date);
    }
    out.events
}

fn directory() -> Vec<Value> {
    let mut events = Vec::new();
    for (id, name) in QUEUES {
        events.push(
            json!({"id": format!("demo-dir-{id}"), "type": "directory.queue",
            "occurredAt": "2026-01-01T00:00:00Z", "queueId": id, "name": name}),
        );
    }
    for (id, first, last) in USERS {
        events.push(
            json!({"id": format!("demo-dir-{id}"), "type": "directory.user",
            "occurredAt": "2026-01-01T00:00:00Z", "userId": id,
            "email": format!("{}@example.com", first.to_lowercase()),
            "firstName": first, "lastName": last, "roles": ["Agent"]}),
        );
    }
    for (id, name, channel) in ACCOUNTS {
        events.push(json!({"id": format!("demo-dir-{id}"), "type": "directory.account",
            "occurredAt": "2026-01-01T00:00:00Z", "accountId": id, "name": name, "channel": channel}));
    }
    let options: Vec<Value> = TOPIC_OPTIONS
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    events.push(
        json!({"id": "demo-dir-topic", "type": "directory.data_type",
        "occurredAt": "2026-01-01T00:00:00Z", "dataTypeId": TOPIC, "name": "Topic",
        "kind": "SingleSelect", "reportable": true, "options": options}),
    );
    events
}

/// One day: presence of every advisor and 20–40 interactions between 08:00
/// and 17:00 UTC.
fn day(out: &mut Out, date: NaiveDate) {
    let key = date.format("%Y%m%d").to_string();
    let seed = key.parse::<u64>().unwrap_or_default();
    let mut rng = Rng::new(seed);
    let at = |h: i64, m: i64| {
        date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
            + Duration::hours(h)
            + Duration::minutes(m)
    };
    for (n, (user, _, _)) in USERS.iter().enumerate() {
        let start = rng.range(0, 30);
        let shifts = [
            (at(8, start), "Online"),
            (at(12, rng.range(0, 20)), "Away"),
            (at(12, rng.range(30, 50)), "Online"),
            (at(15, rng.range(0, 30)), "Busy"),
            (at(15, 45), "Online"),
            (at(17, rng.range(0, 15)), "Offline"),
        ];
        for (i, (when, state)) in shifts.into_iter().enumerate() {
            out.push(
                when,
                json!({"id": format!("demo-{key}-p{n}-{i}"), "type": "presence.changed",
                "userId": user, "state": state}),
            );
        }
    }
    let count = rng.range(20, 41);
    for i in 0..count {
        let start = at(8, 0) + Duration::seconds(rng.range(0, 9 * 3600));
        interaction(out, &mut rng, &format!("demo-{key}-{i}"), start);
    }
}

/// One interaction's life: created, queued (sometimes via automation),
/// assigned, messages both ways, a unit of work, closed; sometimes reopened.
fn interaction(out: &mut Out, rng: &mut Rng, id: &str, start: DateTime<Utc>) {
    let channel = *rng.pick(&CHANNELS);
    let (queue, _) = *rng.pick(&QUEUES);
    let (user, _, _) = *rng.pick(&USERS);
    let (topic, _) = *rng.pick(&TOPIC_OPTIONS);
    let data = json!([{"id": TOPIC, "values": [topic]}]);
    let reference = id.to_uppercase();
    let mut seq = 0;
    let mut audit =
        |out: &mut Out, at: DateTime<Utc>, old: Option<&str>, new: &str, who: Option<&str>| {
            let mut e = json!({"id": format!("{id}-s{seq}"), "type": "interaction.state_changed",
            "interactionId": id, "reference": reference, "channel": channel,
            "oldState": old, "newState": new, "queueId": queue, "data": data});
            if let Some(u) = who {
                e["userId"] = json!(u);
            }
            seq += 1;
            out.push(at, e);
        };
    let mut t = start;
    audit(out, t, None, "Draft", None);
    t += Duration::seconds(30);
    let automated = channel == "Voice" || rng.chance(15);
    if automated {
        audit(out, t, Some("Draft"), "Automation", None);
        t += Duration::seconds(rng.range(20, 180));
        audit(out, t, Some("Automation"), "Queued", None);
    } else {
        audit(out, t, Some("Draft"), "Created", None);
        t += Duration::seconds(rng.range(5, 60));
        audit(out, t, Some("Created"), "Queued", None);
    }
    let live = matches!(channel, "WebChat" | "Voice");
    let account = if channel == "WebChat" {
        ACCOUNTS[0].0
    } else {
        ACCOUNTS[1].0
    };
    let conversation = format!("{id}-c");
    if live {
        let mut e = json!({"id": format!("{id}-c0"), "type": "conversation.started",
            "conversationId": conversation, "interactionId": id, "channel": channel,
            "accountId": account, "queueId": queue});
        if channel == "Voice" {
            e["direction"] = json!("Inbound");
            out.push(start, e);
            out.push(start, json!({"id": format!("{id}-c1"), "type": "conversation.ivr_entered", "conversationId": conversation}));
            out.push(start + Duration::seconds(60), json!({"id": format!("{id}-c2"), "type": "conversation.ivr_exited", "conversationId": conversation}));
        } else {
            out.push(start, e);
        }
    }
    let mut message = 0;
    let mut send = |out: &mut Out, at: DateTime<Utc>, inbound: bool| {
        let mut e = json!({"id": format!("{id}-m{message}"), "type": "message.created",
            "interactionId": id, "direction": if inbound { "Inbound" } else { "Outbound" },
            "channel": channel, "queueId": queue});
        if live {
            e["conversationId"] = json!(conversation);
            e["accountId"] = json!(account);
        }
        if !inbound {
            e["userId"] = json!(user);
        }
        message += 1;
        out.push(at, e);
    };
    send(out, start + Duration::seconds(10), true);
    // Some live conversations are abandoned before an advisor answers.
    if live && rng.chance(12) {
        let end = t + Duration::seconds(rng.range(30, 400));
        out.push(
            end,
            json!({"id": format!("{id}-c9"), "type": "conversation.ended",
            "conversationId": conversation, "endedBy": "EndUser"}),
        );
        audit(out, end, Some("Queued"), "Closed", None);
        return;
    }
    t += Duration::seconds(rng.range(30, 1500));
    let assigned = t;
    audit(out, t, Some("Queued"), "Assigned", Some(user));
    if live {
        out.push(
            t,
            json!({"id": format!("{id}-c3"), "type": "conversation.operator_connected",
            "conversationId": conversation, "userId": user}),
        );
    }
    let replies = rng.range(1, 4);
    for _ in 0..replies {
        t += Duration::seconds(rng.range(20, 600));
        send(out, t, false);
        t += Duration::seconds(rng.range(30, 900));
        send(out, t, true);
    }
    t += Duration::seconds(rng.range(20, 300));
    send(out, t, false);
    t += Duration::seconds(rng.range(10, 120));
    out.push(t, json!({"id": format!("{id}-u0"), "type": "unit_of_work.completed",
        "interactionId": id, "userId": user, "assignedAt": assigned.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "userState": "Online", "actions": {"closed": 1, "messages": replies + 1, "dataChanges": 0, "notes": i64::from(rng.chance(30))},
        "channel": channel, "queueId": queue, "data": data}));
    if live {
        out.push(
            t,
            json!({"id": format!("{id}-c9"), "type": "conversation.ended",
            "conversationId": conversation, "endedBy": "Agent"}),
        );
    }
    audit(out, t, Some("Assigned"), "Closed", Some(user));
    if !live && rng.chance(10) {
        t += Duration::seconds(rng.range(600, 7200));
        send(out, t, true);
        audit(out, t, Some("Closed"), "Queued", None);
        t += Duration::seconds(rng.range(60, 900));
        audit(out, t, Some("Queued"), "Assigned", Some(user));
        t += Duration::seconds(rng.range(60, 600));
        send(out, t, false);
        audit(
            out,
            t + Duration::seconds(5),
            Some("Assigned"),
            "Closed",
            Some(user),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::events::validate;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-31T12:34:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("instant")
    }

    #[test]
    fn the_same_instant_gives_the_same_events_all_valid_none_later() {
        let a = events(30, now());
        assert_eq!(a, events(30, now()), "deterministic");
        for (i, e) in a.iter().enumerate() {
            let valid = validate(i, e).unwrap_or_else(|err| panic!("{e}: {err:?}"));
            assert!(valid.occurred_at <= now(), "{e} lies after now");
        }
        let ids: std::collections::HashSet<&str> =
            a.iter().filter_map(|e| e["id"].as_str()).collect();
        assert_eq!(ids.len(), a.len(), "ids unique");
        for kind in [
            "interaction.state_changed",
            "message.created",
            "conversation.started",
            "conversation.ivr_entered",
            "conversation.operator_connected",
            "conversation.ended",
            "presence.changed",
            "unit_of_work.completed",
            "directory.user",
            "directory.queue",
            "directory.account",
            "directory.data_type",
        ] {
            assert!(a.iter().any(|e| e["type"] == kind), "no {kind}");
        }
        let first_day = a
            .iter()
            .filter_map(|e| e["occurredAt"].as_str())
            .filter(|t| t.starts_with("2026-03-02"))
            .count();
        assert!(
            first_day > 100,
            "30 days back from 31 March starts on 2 March: {first_day}"
        );
    }

    #[test]
    fn a_later_run_keeps_the_earlier_days_ids_and_contents() {
        let earlier = events(3, now());
        let later = events(3, now() + Duration::hours(30));
        let later_by_id: std::collections::HashMap<&str, &Value> = later
            .iter()
            .filter_map(|e| Some((e["id"].as_str()?, e)))
            .collect();
        let shared = earlier
            .iter()
            .filter(|e| e["occurredAt"].as_str().is_some_and(|t| t >= "2026-03-30"))
            .inspect(|e| {
                let id = e["id"].as_str().expect("id");
                assert_eq!(later_by_id.get(id), Some(e), "{id} changed");
            })
            .count();
        assert!(shared > 0);
    }
}
