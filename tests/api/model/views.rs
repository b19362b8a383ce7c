//! The model's rows of the views (tile 37): one row per fact the matching
//! tile counts, ordered by timestamp or reference, with the contexts asked.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::generate::{ACCOUNTS, CHANNELS, OPTIONS, QUEUES, SELECT, USERS};
use super::reference::{Fact, Model};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Interactions,
    Messages,
    UnitOfWork,
}

/// One view request.
#[derive(Debug, Clone)]
pub struct ViewQuestion {
    pub kind: Kind,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub channels: Option<Vec<String>>,
    pub queues: Option<Vec<String>>,
    pub users: Option<Vec<String>>,
    pub accounts: Option<Vec<String>>,
    pub data: Option<(String, String)>,
    pub new_states: Option<Vec<String>>,
    pub old_states: Option<Vec<String>>,
    pub direction: Option<&'static str>,
    pub action: Option<&'static str>,
    pub descending: bool,
    pub by_reference: bool,
    pub contexts: Vec<&'static str>,
}

/// A view question from a seed, its range around an event of the model.
pub fn question(model: &Model, seed: &[u32]) -> ViewQuestion {
    let mut s = seed.iter().copied().cycle();
    let mut next = |n: usize| s.next().expect("cycle") as usize % n;
    let kind = [Kind::Interactions, Kind::Messages, Kind::UnitOfWork][next(3)];
    let facts: Vec<&Fact> = match kind {
        Kind::Interactions => model.audits.iter().map(|a| &a.fact).collect(),
        Kind::Messages => model.messages.iter().map(|m| &m.fact).collect(),
        Kind::UnitOfWork => model.works.iter().map(|w| &w.fact).collect(),
    };
    let any = model
        .audits
        .iter()
        .map(|a| &a.fact)
        .chain(model.messages.iter().map(|m| &m.fact))
        .chain(model.works.iter().map(|w| &w.fact))
        .next()
        .expect("every generated set has an interaction step");
    let anchor = facts.get(next(facts.len().max(1))).unwrap_or(&any).at;
    let length = Duration::minutes(1 + next(5 * 1440) as i64);
    let from = anchor - Duration::minutes(next(length.num_minutes() as usize) as i64);
    let mut pick = |all: &[&str]| -> Option<Vec<String>> {
        (next(4) == 0).then(|| {
            let mut list: Vec<String> = all
                .iter()
                .filter(|_| next(3) != 0)
                .map(|v| v.to_string())
                .collect();
            if list.is_empty() {
                list.push(all[0].to_owned());
            }
            list
        })
    };
    let states = [
        "Draft",
        "Created",
        "Queued",
        "Assigned",
        "Automation",
        "Closed",
    ];
    let channels = pick(&CHANNELS);
    let queues = pick(&QUEUES);
    let users = pick(&USERS);
    let accounts = pick(&ACCOUNTS);
    let new_states = pick(&states);
    let old_states = pick(&states);
    let contexts_of: &[&'static str] = match kind {
        Kind::Interactions => &["Data", "Queue", "User"],
        Kind::Messages => &["Account", "Queue", "User"],
        Kind::UnitOfWork => &["Queue", "User"],
    };
    let contexts = contexts_of
        .iter()
        .copied()
        .filter(|_| next(2) == 0)
        .collect();
    ViewQuestion {
        kind,
        from,
        to: from + length,
        channels,
        queues,
        users,
        accounts: (kind == Kind::Messages).then_some(accounts).flatten(),
        data: (next(5) == 0).then(|| (SELECT.to_owned(), OPTIONS[next(3)].to_owned())),
        new_states: (kind == Kind::Interactions).then_some(new_states).flatten(),
        old_states: (kind == Kind::Interactions).then_some(old_states).flatten(),
        direction: (kind == Kind::Messages && next(2) == 0)
            .then(|| ["Inbound", "Outbound"][next(2)]),
        action: (kind == Kind::UnitOfWork && next(2) == 0)
            .then(|| ["Closed", "Message", "Data", "Note", "None", "Any"][next(6)]),
        descending: next(2) == 0,
        by_reference: next(2) == 0,
        contexts,
    }
}

impl ViewQuestion {
    pub fn path(&self) -> &'static str {
        match self.kind {
            Kind::Interactions => "view/interactions",
            Kind::Messages => "view/messages",
            Kind::UnitOfWork => "view/unit-of-work",
        }
    }

    pub fn body(&self) -> Value {
        let mut filters = json!({"from": self.from.to_rfc3339(), "to": self.to.to_rfc3339()});
        let lists = [
            ("channels", &self.channels),
            ("queues", &self.queues),
            ("userIds", &self.users),
            ("accounts", &self.accounts),
            ("newState", &self.new_states),
            ("oldState", &self.old_states),
        ];
        for (name, list) in lists {
            if let Some(list) = list {
                filters[name] = json!(list);
            }
        }
        if let Some((id, value)) = &self.data {
            filters["data"] = json!([{"id": id, "values": [value]}]);
        }
        if let Some(direction) = self.direction {
            filters["direction"] = json!(direction);
        }
        if let Some(action) = self.action {
            filters["action"] = json!(action);
        }
        json!({
            "filters": filters,
            "orderBy": if self.descending { "Descending" } else { "Ascending" },
            "orderByField": if self.by_reference { "Reference" } else { "Timestamp" },
            "contexts": self.contexts,
        })
    }

    /// The rows the definitions give (at most 1,000).
    pub fn expected(&self, model: &Model) -> Value {
        let listed = |list: &Option<Vec<String>>, value: Option<&String>| match list {
            Some(l) => value.is_some_and(|v| l.contains(v)),
            None => true,
        };
        let mut facts: Vec<&Fact> = match self.kind {
            Kind::Interactions => model
                .audits
                .iter()
                .filter(|a| listed(&self.new_states, Some(&a.new)))
                .filter(|a| listed(&self.old_states, a.old.as_ref()))
                .map(|a| &a.fact)
                .collect(),
            Kind::Messages => model
                .messages
                .iter()
                .filter(|m| match self.direction {
                    Some(d) => m.inbound == (d == "Inbound"),
                    None => true,
                })
                .map(|m| &m.fact)
                .collect(),
            Kind::UnitOfWork => model
                .works
                .iter()
                .filter(|w| {
                    let [closed, messages, data, notes] = w.actions;
                    match self.action {
                        None => true,
                        Some("Closed") => closed > 0,
                        Some("Message") => messages > 0,
                        Some("Data") => data > 0,
                        Some("Note") => notes > 0,
                        Some("None") => w.actions.iter().all(|n| *n == 0),
                        Some(_) => w.actions.iter().any(|n| *n > 0),
                    }
                })
                .map(|w| &w.fact)
                .collect(),
        };
        facts.retain(|f| {
            f.at >= self.from
                && f.at < self.to
                && listed(&self.channels, Some(&f.channel))
                && listed(&self.queues, f.queue.as_ref())
                && listed(&self.users, f.user.as_ref())
                && listed(&self.accounts, f.account.as_ref())
                && self.data.as_ref().is_none_or(|(id, value)| {
                    f.data
                        .iter()
                        .any(|(item, values)| item == id && values.contains(value))
                })
        });
        // Ascending: references in order, none last; then instant, event id.
        facts.sort_by(|a, b| {
            let by_reference = if self.by_reference {
                match (&a.reference, &b.reference) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            } else {
                std::cmp::Ordering::Equal
            };
            by_reference.then(a.at.cmp(&b.at)).then(a.id.cmp(&b.id))
        });
        if self.descending {
            facts.reverse();
        }
        facts.truncate(1_000);
        let rows: Vec<Value> = facts.iter().map(|f| self.row(model, f)).collect();
        json!({ "rows": rows })
    }

    fn row(&self, model: &Model, f: &Fact) -> Value {
        let mut row = json!({
            "interactionId": f.interaction,
            "reference": f.reference,
            "channel": f.channel,
            "timestamp": f.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        if !self.contexts.is_empty() {
            let named = |kind: &str, id: &Option<String>| match id {
                Some(id) => json!({"id": id, "name": model.directory.name(kind, id)}),
                None => Value::Null,
            };
            let mut contexts = serde_json::Map::new();
            for context in &self.contexts {
                let value = match *context {
                    "Queue" => named("directory.queue", &f.queue),
                    "User" => named("directory.user", &f.user),
                    "Account" => named("directory.account", &f.account),
                    _ => f.raw_data.clone().unwrap_or_else(|| json!([])),
                };
                contexts.insert((*context).to_owned(), value);
            }
            row["contexts"] = Value::Object(contexts);
        }
        row
    }
}
