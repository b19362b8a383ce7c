//! The generated dataset: per tenant, interactions made one at a time from a
//! seed, cut into batches. Some events are sent late (held back from their
//! batch and sent in a later one) and some twice (sent again in the
//! tenant's next batch), as integrators do.

use std::collections::VecDeque;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

/// The channels of API.md §3 with their relative frequency in the dataset.
pub const CHANNELS: [(&str, u32); 10] = [
    ("Email", 30),
    ("SMS", 8),
    ("Voice", 15),
    ("WebChat", 20),
    ("Facebook", 5),
    ("Instagram", 4),
    ("Twitter", 3),
    ("TrustPilot", 2),
    ("WhatsApp", 10),
    ("Telegram", 3),
];

/// The end of the dataset's window (exclusive).
pub fn dataset_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 31, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// How often events are sent out of their place, as fractions.
#[derive(Debug, Clone, Copy)]
pub struct Disorder {
    /// Events held back from their batch and sent in a later one, after
    /// up to a day's volume of the tenant's events (usually after later events
    /// of their own interaction, and of later interactions).
    pub late: f64,
    /// Events sent again, whole, in the tenant's next batch.
    pub duplicate: f64,
}

/// What a stream has sent beyond its unique events.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sent {
    pub late: u64,
    pub duplicates: u64,
}

/// The events of one tenant, made an interaction at a time so that only
/// one batch is ever held in memory. Everything follows from the seed.
pub struct TenantStream {
    rng: StdRng,
    channels: WeightedIndex<u32>,
    pub queues: Vec<Uuid>,
    pub users: Vec<Uuid>,
    pub accounts: Vec<Uuid>,
    data_type: Uuid,
    options: Vec<Uuid>,
    /// Unique events still to take from `pending`.
    left: u64,
    next_interaction: u64,
    pending: VecDeque<Value>,
    /// The dataset's window in Unix seconds, and its length in days.
    start: i64,
    end: i64,
    days: i64,
    disorder: Disorder,
    /// Unique events taken so far, and the tenant's events per day.
    taken: u64,
    per_day: u64,
    /// Batches made so far.
    batches: u64,
    /// Late events: (taken count from which it may go, batch it was held
    /// in, the event).
    held: Vec<(u64, u64, Value)>,
    /// Copies of events of the last batch, to send again in the next.
    resend: Vec<Value>,
    pub sent: Sent,
    /// Also make the events of the data sources (API.md §5.5); off by
    /// default, so the other families' stream stays as it was.
    pub datasources: bool,
}

impl TenantStream {
    pub fn new(seed: u64, tenant: usize, quota: u64, days: i64, disorder: Disorder) -> Self {
        let mixed = seed ^ (tenant as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(mixed);
        let mut ids = |n: usize| -> Vec<Uuid> {
            (0..n)
                .map(|_| uuid::Builder::from_random_bytes(rng.gen()).into_uuid())
                .collect()
        };
        let (queues, users, accounts, options, data_type) =
            (ids(20), ids(50), ids(5), ids(8), ids(1)[0]);
        let end = dataset_end().timestamp();
        Self {
            rng,
            channels: WeightedIndex::new(CHANNELS.map(|c| c.1)).expect("positive weights"),
            queues,
            users,
            accounts,
            data_type,
            options,
            left: quota,
            next_interaction: 0,
            pending: VecDeque::new(),
            start: end - days * 86_400,
            end,
            days,
            disorder,
            taken: 0,
            per_day: (quota / days.max(1) as u64).max(1),
            batches: 0,
            held: Vec::new(),
            resend: Vec::new(),
            sent: Sent::default(),
            datasources: false,
        }
    }

    /// The same stream, with a `distribution.completed` per interaction and
    /// an `sms.sent` per SMS interaction besides. No bench asks for them
    /// yet (a data-sources bench would).
    #[allow(dead_code)]
    pub fn with_datasources(mut self) -> Self {
        self.datasources = true;
        self
    }

    /// Up to `max` events: first the copies of the last batch's duplicated
    /// events, then late events whose time has come, then new ones. Empty
    /// once everything is sent (the last interaction may be cut short).
    pub fn batch(&mut self, max: usize) -> Vec<Value> {
        let batch = self.batches;
        self.batches += 1;
        let mut out: Vec<Value> = Vec::with_capacity(max);
        let copies = self.resend.len().min(max);
        out.extend(self.resend.drain(..copies));
        while out.len() < max {
            let due = (self.held.iter())
                .position(|(from, held_in, _)| *held_in < batch && *from <= self.taken);
            if let Some(i) = due {
                out.push(self.held.swap_remove(i).2);
                continue;
            }
            if self.left == 0 {
                // Nothing new to make: what is still held goes now.
                match self
                    .held
                    .iter()
                    .position(|(_, held_in, _)| *held_in < batch)
                {
                    Some(i) => out.push(self.held.swap_remove(i).2),
                    None => break,
                }
                continue;
            }
            if self.pending.is_empty() {
                self.interaction();
            }
            let Some(event) = self.pending.pop_front() else {
                continue;
            };
            self.left -= 1;
            self.taken += 1;
            if self.rng.gen_bool(self.disorder.late) {
                let from = self.taken + self.rng.gen_range(1..=self.per_day);
                self.held.push((from, batch, event));
                self.sent.late += 1;
            } else {
                out.push(event);
            }
        }
        // Duplicates are copies of events of this batch (late ones too).
        for event in &out[copies..] {
            if self.rng.gen_bool(self.disorder.duplicate) {
                self.resend.push(event.clone());
            }
        }
        self.sent.duplicates += copies as u64;
        if out.is_empty() && !(self.held.is_empty() && self.resend.is_empty()) {
            // Only events held in this very batch are left: send them next.
            return self.batch(max);
        }
        out
    }

    /// Queues the events of the next interaction, in time order: its state
    /// audits and messages; for Voice and WebChat a conversation (started,
    /// the IVR for Voice, the operator's connection, ended: every live
    /// class occurs); the advisor's unit of work at the close; and now and
    /// then a presence change of that advisor.
    fn interaction(&mut self) {
        let n = self.next_interaction;
        self.next_interaction += 1;
        let rng = &mut self.rng;
        let pick = |ids: &[Uuid], rng: &mut StdRng| *ids.choose(rng).expect("non-empty");
        let channel = CHANNELS[self.channels.sample(rng)].0;
        let (queue, agent) = (pick(&self.queues, rng), pick(&self.users, rng));
        let account = pick(&self.accounts, rng);
        let data = rng
            .gen_bool(0.5)
            .then(|| json!([{"id": self.data_type, "values": [pick(&self.options, rng)]}]));

        // The lifecycle as offsets in seconds from its first audit.
        let mut t = 0i64;
        let mut after = |rng: &mut StdRng, lo: i64, hi: i64| {
            t += rng.gen_range(lo..hi);
            t
        };
        let mut audits = vec![(0, None, "Draft")];
        audits.push((after(rng, 5, 120), Some("Draft"), "Created"));
        audits.push((after(rng, 10, 300), Some("Created"), "Queued"));
        audits.push((after(rng, 60, 7_200), Some("Queued"), "Assigned"));
        let mut messages = Vec::new();
        if rng.gen_bool(0.3) {
            for k in 0..rng.gen_range(2..=6) {
                let inbound = k % 2 == 0;
                let automated = !inbound && rng.gen_bool(0.1);
                messages.push((after(rng, 30, 1_800), inbound, automated));
            }
        }
        audits.push((after(rng, 120, 3_600), Some("Assigned"), "Closed"));
        if rng.gen_bool(0.1) {
            audits.push((after(rng, 3_600, 172_800), Some("Closed"), "Queued"));
            audits.push((after(rng, 60, 3_600), Some("Queued"), "Assigned"));
            audits.push((after(rng, 120, 3_600), Some("Assigned"), "Closed"));
        }

        // Start on a random day, mostly in office hours, so that the whole
        // lifecycle ends before the end of the dataset.
        let second = if rng.gen_bool(0.75) {
            rng.gen_range(8 * 3_600..18 * 3_600)
        } else {
            rng.gen_range(0..86_400)
        };
        let mut t0 = self.start + rng.gen_range(0..self.days) * 86_400 + second;
        if t0 + t >= self.end {
            t0 = (self.end - t - rng.gen_range(1..3_600)).max(self.start);
        }
        let at = |offset: i64| {
            let instant = Utc.timestamp_opt(t0 + offset, 0).single();
            rfc3339(instant.expect("in range"))
        };

        let interaction = format!("int-{n}");
        let mut events: Vec<(i64, Value)> = Vec::with_capacity(audits.len() + messages.len());
        for (k, &(offset, old, new)) in audits.iter().enumerate() {
            let queued = !matches!(new, "Draft" | "Created");
            let by_agent = matches!(new, "Assigned" | "Closed");
            events.push((
                offset,
                json!({
                    "id": format!("a{n}-{k}"), "type": "interaction.state_changed",
                    "occurredAt": at(offset), "interactionId": interaction,
                    "reference": format!("R{n:08}"), "channel": channel,
                    "oldState": old, "newState": new,
                    "queueId": queued.then_some(queue), "userId": by_agent.then_some(agent),
                    "data": data,
                }),
            ));
        }
        for (k, &(offset, inbound, automated)) in messages.iter().enumerate() {
            events.push((
                offset,
                json!({
                    "id": format!("m{n}-{k}"), "type": "message.created",
                    "occurredAt": at(offset), "interactionId": interaction,
                    "direction": if inbound { "Inbound" } else { "Outbound" },
                    "automated": automated, "channel": channel,
                    "queueId": queue, "accountId": account,
                    "userId": (!inbound && !automated).then_some(agent),
                }),
            ));
        }
        let assigned = audits[3].0;
        let closed = audits[4].0;
        let conversation = matches!(channel, "Voice" | "WebChat").then(|| format!("conv-{n}"));
        if let Some(conversation) = &conversation {
            for event in &mut events {
                if event.1["type"] == "message.created" && channel == "WebChat" {
                    event.1["conversationId"] = json!(conversation);
                }
            }
            let started = audits[1].0;
            let mut conv = |k: usize, offset: i64, kind: &str, more: Value| {
                let mut event = json!({
                    "id": format!("c{n}-{k}"), "type": format!("conversation.{kind}"),
                    "occurredAt": at(offset), "conversationId": conversation,
                });
                if let (Some(e), Value::Object(more)) = (event.as_object_mut(), more) {
                    e.extend(more);
                }
                events.push((offset, event));
            };
            let direction = (channel == "Voice").then(|| {
                if rng.gen_bool(0.85) {
                    "Inbound"
                } else {
                    "Outbound"
                }
            });
            conv(
                0,
                started,
                "started",
                json!({"interactionId": interaction, "channel": channel, "accountId": account,
                       "queueId": queue, "data": data, "direction": direction}),
            );
            let mut end = closed;
            let mut connected = rng.gen_bool(0.85);
            if channel == "Voice" {
                conv(1, started, "ivr_entered", json!({}));
                let exit = started + rng.gen_range(20..300).min(assigned - started);
                if rng.gen_bool(0.9) {
                    conv(2, exit, "ivr_exited", json!({}));
                } else {
                    (end, connected) = (exit, false);
                }
            }
            if connected {
                conv(3, assigned, "operator_connected", json!({"userId": agent}));
            }
            let ended_by = ["EndUser", "Agent", "Bot", "System"][rng.gen_range(0..4)];
            conv(4, end, "ended", json!({"endedBy": ended_by}));
        }
        // The advisor's unit of work, closed with the interaction; one in
        // ten with no action at all.
        let outbound = messages.iter().filter(|m| !m.1 && !m.2).count();
        let idle = rng.gen_bool(0.1);
        let user_state = [
            "Online", "Online", "Online", "Online", "Busy", "Away", "Offline",
        ][rng.gen_range(0..7)];
        events.push((
            closed,
            json!({
                "id": format!("u{n}-0"), "type": "unit_of_work.completed",
                "occurredAt": at(closed), "interactionId": interaction, "userId": agent,
                "assignedAt": at(assigned), "userState": user_state,
                "actions": {"closed": u8::from(!idle), "messages": if idle { 0 } else { outbound },
                            "dataChanges": u8::from(!idle && rng.gen_bool(0.3)),
                            "notes": if idle { 0 } else { rng.gen_range(0..3) }},
                "channel": channel, "queueId": queue, "data": data,
            }),
        ));
        // The advisor's presence changes now and then during the work.
        if rng.gen_bool(0.3) {
            let offset = rng.gen_range(0..=t);
            let state = ["Online", "Online", "Away", "Busy", "Offline"][rng.gen_range(0..5)];
            events.push((
                offset,
                json!({
                    "id": format!("p{n}-0"), "type": "presence.changed",
                    "occurredAt": at(offset), "userId": agent, "state": state,
                }),
            ));
        }
        // The data sources: the distribution at the assignment, an SMS at
        // the close of an SMS interaction (their own draws, made only when
        // asked for).
        if self.datasources {
            let queued = audits[2].0;
            let inbound = messages.first().is_none_or(|m| m.1);
            let messaging = ["Chat", "WhatsApp", "Telegram", "Messenger"][rng.gen_range(0..4)];
            events.push((
                assigned,
                json!({
                    "id": format!("d{n}-0"), "type": "distribution.completed",
                    "occurredAt": at(assigned), "distributionId": format!("dist-{n}"),
                    "direction": if inbound { "Incoming" } else { "Outgoing" },
                    "correspondent": format!("+4479{n:08}"), "queueId": queue, "userId": agent,
                    "interactionId": interaction, "messagingType": messaging,
                    "distributionType": "Queue", "distributionEndDate": at(closed),
                    "waitTime": assigned - queued, "exchangeTime": closed - assigned,
                    "interactionStatus": "Treated", "status": "Treated",
                    "transferred": rng.gen_bool(0.1), "routingType": "Direct",
                    "sessionStart": at(0), "sessionEnd": at(closed), "checkpoints": ["start"],
                }),
            ));
            if channel == "SMS" {
                events.push((
                    closed,
                    json!({
                        "id": format!("s{n}-0"), "type": "sms.sent", "occurredAt": at(closed),
                        "smsId": format!("sms-{n}"), "origin": "User", "smsType": "Interaction",
                        "smsCategory": "Notification", "recipient": format!("+4479{n:08}"),
                        "credits": rng.gen_range(1..4), "status": "Sent", "queueId": queue,
                        "userId": agent, "interactionId": interaction,
                    }),
                ));
            }
        }
        events.sort_by_key(|e| e.0);
        self.pending.extend(events.into_iter().map(|e| e.1));
    }
}

/// Events per tenant: 40% to the first, the rest shared evenly.
pub fn quotas(events: u64, tenants: usize) -> Vec<u64> {
    if tenants == 1 {
        return vec![events];
    }
    let big = events * 2 / 5;
    let (rest, others) = (events - big, tenants as u64 - 1);
    let mut out = vec![big];
    out.extend((0..others).map(|i| rest / others + u64::from(i < rest % others)));
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Every batch of one tenant's stream, as (id, interaction number).
    fn batches(quota: u64, disorder: Disorder, size: usize) -> (Vec<Vec<(String, u64)>>, Sent) {
        let mut stream = TenantStream::new(7, 1, quota, 30, disorder);
        let mut out = Vec::new();
        loop {
            let batch = stream.batch(size);
            if batch.is_empty() {
                break;
            }
            assert!(batch.len() <= size, "a batch of {} events", batch.len());
            out.push(
                (batch.iter())
                    .map(|e| {
                        let id = e["id"].as_str().expect("an id").to_owned();
                        let n = id[1..id.find('-').expect("a dash")]
                            .parse()
                            .expect("a number");
                        (id, n)
                    })
                    .collect(),
            );
        }
        (out, stream.sent)
    }

    #[test]
    fn every_event_is_sent_once_and_duplicates_repeat_an_earlier_batch() {
        let disorder = Disorder {
            late: 0.01,
            duplicate: 0.01,
        };
        let (batches, sent) = batches(20_000, disorder, 500);
        let mut first_batch: HashMap<&str, usize> = HashMap::new();
        let mut copies = 0;
        for (b, batch) in batches.iter().enumerate() {
            for (id, _) in batch {
                match first_batch.get(id.as_str()) {
                    None => {
                        first_batch.insert(id, b);
                    }
                    Some(&first) => {
                        assert!(first < b, "{id} sent twice in batch {b}");
                        copies += 1;
                    }
                }
            }
        }
        assert_eq!(first_batch.len(), 20_000);
        assert_eq!(copies, sent.duplicates);
        assert!((100..=300).contains(&sent.duplicates), "{sent:?}");
        assert!((100..=300).contains(&sent.late), "{sent:?}");
    }

    #[test]
    fn late_events_follow_events_of_later_interactions() {
        // An event is out of place when an earlier batch held an event of a
        // later interaction: only late ones can be (duplicates aside).
        let out_of_place = |disorder| {
            let (batches, sent) = batches(20_000, disorder, 500);
            let (mut seen, mut newest, mut count) = (HashMap::new(), 0, 0);
            for batch in &batches {
                let mut newest_here = newest;
                for (id, n) in batch {
                    if seen.insert(id.clone(), ()).is_none() {
                        count += u64::from(*n < newest);
                        newest_here = newest_here.max(*n);
                    }
                }
                newest = newest_here;
            }
            (count, sent.late)
        };
        assert_eq!(
            out_of_place(Disorder {
                late: 0.0,
                duplicate: 0.0
            }),
            (0, 0)
        );
        let (count, late) = out_of_place(Disorder {
            late: 0.01,
            duplicate: 0.0,
        });
        assert!(
            late > 0 && count <= late && count * 10 >= late * 9,
            "{count} of {late}"
        );
    }

    #[test]
    fn every_family_occurs_and_every_event_is_valid() {
        let mut stream = TenantStream::new(
            7,
            1,
            5_000,
            30,
            Disorder {
                late: 0.0,
                duplicate: 0.0,
            },
        );
        let mut kinds: HashMap<String, usize> = HashMap::new();
        loop {
            let batch = stream.batch(1_000);
            if batch.is_empty() {
                break;
            }
            for (i, event) in batch.iter().enumerate() {
                if let Err(e) = cx_reporting::ingest::events::validate(i, event) {
                    panic!("{event} is invalid: {e:?}");
                }
                let kind = event["type"].as_str().expect("a type").to_owned();
                *kinds.entry(kind).or_default() += 1;
            }
        }
        for kind in [
            "interaction.state_changed",
            "message.created",
            "conversation.started",
            "conversation.ivr_entered",
            "conversation.ivr_exited",
            "conversation.operator_connected",
            "conversation.ended",
            "unit_of_work.completed",
            "presence.changed",
        ] {
            assert!(
                kinds.get(kind).copied().unwrap_or(0) > 10,
                "{kind}: {kinds:?}"
            );
        }
        let per_interaction = 5_000.0 / kinds["unit_of_work.completed"] as f64;
        assert!((7.0..11.0).contains(&per_interaction), "{per_interaction}");
    }

    #[test]
    fn the_data_sources_are_made_only_when_asked_for_and_are_valid() {
        let disorder = Disorder {
            late: 0.0,
            duplicate: 0.0,
        };
        let count = |mut stream: TenantStream| {
            let mut kinds: HashMap<String, usize> = HashMap::new();
            loop {
                let batch = stream.batch(1_000);
                if batch.is_empty() {
                    return kinds;
                }
                for (i, event) in batch.iter().enumerate() {
                    if let Err(e) = cx_reporting::ingest::events::validate(i, event) {
                        panic!("{event} is invalid: {e:?}");
                    }
                    *kinds
                        .entry(event["type"].as_str().expect("type").into())
                        .or_default() += 1;
                }
            }
        };
        let plain = count(TenantStream::new(7, 1, 3_000, 30, disorder));
        assert!(!plain.contains_key("distribution.completed") && !plain.contains_key("sms.sent"));
        let with = count(TenantStream::new(7, 1, 3_000, 30, disorder).with_datasources());
        assert!(with["distribution.completed"] > 100, "{with:?}");
        assert!(with["sms.sent"] > 5, "{with:?}");
    }

    #[test]
    fn the_stream_is_a_function_of_the_seed() {
        let disorder = Disorder {
            late: 0.01,
            duplicate: 0.01,
        };
        assert_eq!(
            batches(3_000, disorder, 400).0,
            batches(3_000, disorder, 400).0
        );
    }
}
