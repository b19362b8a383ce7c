//! An independent model of the definitions of API.md §4, written from the
//! text and not from the service's SQL: every derived time is a replay of
//! one interaction's events in time order, every tile a filter and a fold
//! over the model's facts. It reads the same JSON events the service is
//! sent, so the two can be compared on any generated set.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One data item of a snapshot: a data type and its values.
pub type Snapshot = Vec<(String, Vec<String>)>;

/// One thing a tile can count: where and when it happened, and (for
/// duration tiles) its value in microseconds.
#[derive(Debug, Clone)]
pub struct Fact {
    pub id: String,
    pub interaction: String,
    /// The audit's reference; for messages and units of work, that of the
    /// interaction's latest audit (by instant, then event id).
    pub reference: Option<String>,
    /// The snapshot as sent (for the views' Data context).
    pub raw_data: Option<Value>,
    pub at: DateTime<Utc>,
    pub channel: String,
    pub queue: Option<String>,
    pub user: Option<String>,
    pub account: Option<String>,
    pub data: Snapshot,
    pub value_us: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub id: String,
    pub interaction: String,
    pub old: Option<String>,
    pub new: String,
    pub fact: Fact,
    /// Derived: time in queue and in IVR (µs).
    pub queue_us: Option<i64>,
    pub ivr_us: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub interaction: String,
    pub inbound: bool,
    pub automated: bool,
    pub fact: Fact,
    /// Derived: advisor response and originator wait times (µs).
    pub response_us: Option<i64>,
    pub wait_us: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Work {
    /// closed, messages, dataChanges, notes
    pub actions: [u64; 4],
    pub fact: Fact,
}

/// A directory entry's latest description wins, by (occurredAt, event id).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    entries: HashMap<(String, String), (DateTime<Utc>, String, Value)>,
}

impl Directory {
    fn offer(&mut self, kind: &str, key: &str, at: DateTime<Utc>, id: &str, event: &Value) {
        let slot = self.entries.entry((kind.to_owned(), key.to_owned()));
        let candidate = (at, id.to_owned(), event.clone());
        match slot {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(candidate);
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let (t, i, _) = o.get();
                if (at, id) > (*t, i.as_str()) {
                    o.insert(candidate);
                }
            }
        }
    }

    pub fn get(&self, kind: &str, key: &str) -> Option<&Value> {
        self.entries
            .get(&(kind.to_owned(), key.to_owned()))
            .map(|(_, _, v)| v)
    }

    /// The display name of a queue, user or account.
    pub fn name(&self, kind: &str, key: &str) -> Option<String> {
        let event = self.get(kind, key)?;
        if kind == "directory.user" {
            let first = event["firstName"].as_str().unwrap_or("");
            let last = event["lastName"].as_str().unwrap_or("");
            Some(format!("{first} {last}").trim().to_owned())
        } else {
            event["name"].as_str().map(str::to_owned)
        }
    }
}

/// The whole stored set, as the definitions see it.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub audits: Vec<Audit>,
    pub messages: Vec<Message>,
    pub works: Vec<Work>,
    pub directory: Directory,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn instant(v: &Value, key: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v[key].as_str().expect("instant"))
        .expect("rfc 3339")
        .with_timezone(&Utc)
}

fn fact(v: &Value) -> Fact {
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let values = item["values"]
                        .as_array()
                        .map(|vs| {
                            vs.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    (text(item, "id").expect("data id"), values)
                })
                .collect()
        })
        .unwrap_or_default();
    Fact {
        id: text(v, "id").unwrap_or_default(),
        interaction: text(v, "interactionId").unwrap_or_default(),
        reference: text(v, "reference"),
        raw_data: v.get("data").cloned(),
        at: instant(v, "occurredAt"),
        channel: text(v, "channel").unwrap_or_default(),
        queue: text(v, "queueId"),
        user: text(v, "userId"),
        account: text(v, "accountId"),
        data,
        value_us: None,
    }
}

fn micros(later: DateTime<Utc>, earlier: DateTime<Utc>) -> i64 {
    (later - earlier).num_microseconds().expect("fits")
}

impl Model {
    /// The model of a set of events (an id seen twice is one event).
    pub fn new(events: &[Value]) -> Self {
        let mut model = Self::default();
        let mut seen = HashSet::new();
        for e in events {
            let id = text(e, "id").expect("id");
            if !seen.insert(id.clone()) {
                continue;
            }
            let kind = text(e, "type").expect("type");
            match kind.as_str() {
                "interaction.state_changed" => model.audits.push(Audit {
                    id,
                    interaction: text(e, "interactionId").expect("interaction"),
                    old: text(e, "oldState"),
                    new: text(e, "newState").expect("newState"),
                    fact: fact(e),
                    queue_us: None,
                    ivr_us: None,
                }),
                "message.created" => model.messages.push(Message {
                    id,
                    interaction: text(e, "interactionId").expect("interaction"),
                    inbound: e["direction"] == "Inbound",
                    automated: e["automated"].as_bool().unwrap_or(false),
                    fact: fact(e),
                    response_us: None,
                    wait_us: None,
                }),
                "unit_of_work.completed" => {
                    let a = &e["actions"];
                    let n = |k: &str| a[k].as_u64().expect("action count");
                    model.works.push(Work {
                        actions: [n("closed"), n("messages"), n("dataChanges"), n("notes")],
                        fact: fact(e),
                    });
                }
                directory => {
                    let key_field = match directory {
                        "directory.user" => "userId",
                        "directory.queue" => "queueId",
                        "directory.account" => "accountId",
                        "directory.data_type" => "dataTypeId",
                        other => panic!("the model does not know {other}"),
                    };
                    let key = text(e, key_field).expect("directory key");
                    let at = instant(e, "occurredAt");
                    model.directory.offer(directory, &key, at, &id, e);
                }
            }
        }
        model.derive();
        model.references();
        model
    }

    /// Messages and units of work show their interaction's latest reference.
    fn references(&mut self) {
        let mut latest: HashMap<String, (DateTime<Utc>, String, Option<String>)> = HashMap::new();
        for a in &self.audits {
            let candidate = (a.fact.at, a.id.clone(), a.fact.reference.clone());
            let slot = latest
                .entry(a.interaction.clone())
                .or_insert(candidate.clone());
            if (candidate.0, &candidate.1) > (slot.0, &slot.1) {
                *slot = candidate;
            }
        }
        let reference = |interaction: &str| latest.get(interaction).and_then(|l| l.2.clone());
        for m in &mut self.messages {
            m.fact.reference = reference(&m.interaction);
        }
        for w in &mut self.works {
            w.fact.reference = reference(&w.fact.interaction);
        }
    }

    /// Replays each interaction in time order and sets the derived times.
    fn derive(&mut self) {
        let mut by_interaction: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (i, a) in self.audits.iter().enumerate() {
            by_interaction
                .entry(a.interaction.clone())
                .or_default()
                .0
                .push(i);
        }
        for (i, m) in self.messages.iter().enumerate() {
            by_interaction
                .entry(m.interaction.clone())
                .or_default()
                .1
                .push(i);
        }
        for (audits, messages) in by_interaction.into_values() {
            self.replay(&audits, &messages);
        }
    }

    fn replay(&mut self, audits: &[usize], messages: &[usize]) {
        // The timeline: at one instant an audit comes before a message ("the
        // latest audit at or before t"); otherwise ties go by event id.
        enum Item {
            Audit(usize),
            Message(usize),
        }
        let mut timeline: Vec<(DateTime<Utc>, u8, String, Item)> = Vec::new();
        for &i in audits {
            let a = &self.audits[i];
            timeline.push((a.fact.at, 0, a.id.clone(), Item::Audit(i)));
        }
        for &i in messages {
            let m = &self.messages[i];
            timeline.push((m.fact.at, 1, m.id.clone(), Item::Message(i)));
        }
        timeline.sort_by(|x, y| (x.0, x.1, &x.2).cmp(&(y.0, y.1, &y.2)));

        // When the interaction last entered each state.
        let mut entered: HashMap<String, DateTime<Utc>> = HashMap::new();
        // The latest audit: its new state and instant.
        let mut current: Option<(String, DateTime<Utc>)> = None;
        // The latest inbound message, and whether it came after the latest audit.
        let mut last_inbound: Option<DateTime<Utc>> = None;
        let mut inbound_since_audit = false;
        // Responding messages since the latest inbound / since the latest audit.
        let mut responded_since_inbound = false;
        let mut responded_since_audit = false;
        // The earliest inbound since the previous responding message.
        let mut first_unanswered: Option<DateTime<Utc>> = None;

        for (at, _, _, item) in timeline {
            match item {
                Item::Audit(i) => {
                    let a = &mut self.audits[i];
                    let since = |state: &str| entered.get(state).map(|t| micros(at, *t));
                    if a.old.as_deref() == Some("Queued") && a.new == "Assigned" {
                        a.queue_us = since("Queued");
                    }
                    if a.old.as_deref() == Some("Automation")
                        && ["Closed", "Assigned", "Queued"].contains(&a.new.as_str())
                    {
                        a.ivr_us = since("Automation");
                    }
                    entered.insert(a.new.clone(), at);
                    current = Some((a.new.clone(), at));
                    inbound_since_audit = false;
                    responded_since_audit = false;
                }
                Item::Message(i) => {
                    let m = &mut self.messages[i];
                    if m.inbound {
                        last_inbound = Some(at);
                        inbound_since_audit = true;
                        responded_since_inbound = false;
                        first_unanswered.get_or_insert(at);
                        continue;
                    }
                    if m.automated {
                        continue;
                    }
                    // A responding message.
                    m.wait_us = first_unanswered.map(|t| micros(at, t));
                    m.response_us = match &current {
                        Some((state, assigned_at)) if state == "Assigned" => {
                            if last_inbound.is_some() && responded_since_inbound {
                                None
                            } else if let (Some(l), true) = (last_inbound, inbound_since_audit) {
                                Some(micros(at, l))
                            } else if responded_since_audit {
                                None
                            } else {
                                Some(micros(at, *assigned_at))
                            }
                        }
                        _ => None,
                    };
                    responded_since_inbound = true;
                    responded_since_audit = true;
                    first_unanswered = None;
                }
            }
        }
    }
}
