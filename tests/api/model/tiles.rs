//! The model's answer to a reporting question: which facts a tile counts,
//! how they are grouped and bucketed, and the JSON shape of §4.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use super::calendar::{self, Grain};
use super::reference::{Fact, Model};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    State,
    QueueTime,
    IvrTime,
    UnitOfWork,
    MessageVolume,
    ResponseTimes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Total,
    Channel,
    Queue,
    User,
    Account,
    Data,
}

impl Family {
    pub fn dims(self) -> &'static [Dim] {
        match self {
            Self::State => &[Dim::Total, Dim::Channel, Dim::Queue, Dim::User, Dim::Data],
            Self::QueueTime | Self::IvrTime => &[Dim::Queue],
            Self::UnitOfWork => &[Dim::User],
            Self::MessageVolume | Self::ResponseTimes => &[
                Dim::Total,
                Dim::Channel,
                Dim::Queue,
                Dim::Account,
                Dim::User,
            ],
        }
    }

    fn base(self) -> &'static str {
        match self {
            Self::State => "interactions/state",
            Self::QueueTime => "interactions/queue-time",
            Self::IvrTime => "interactions/ivr-time",
            Self::UnitOfWork => "unit-of-work",
            Self::MessageVolume => "messages/volume",
            Self::ResponseTimes => "messages/response-times",
        }
    }

    fn is_duration(self) -> bool {
        matches!(self, Self::QueueTime | Self::IvrTime | Self::ResponseTimes)
    }
}

/// By-data grouping: the data type, the values asked, the ranking.
#[derive(Debug, Clone)]
pub struct ByData {
    pub type_id: String,
    pub values: Option<Vec<String>>,
    pub order: Option<&'static str>,
}

/// One reporting question, as the generator builds it.
#[derive(Debug, Clone)]
pub struct Question {
    pub family: Family,
    pub dim: Dim,
    pub by_date: Option<(Grain, Tz)>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub channels: Option<Vec<String>>,
    pub queues: Option<Vec<String>>,
    pub data: Vec<(String, Option<Vec<String>>)>,
    pub new_states: Vec<String>,
    pub old_states: Option<Vec<String>>,
    pub direction: &'static str,
    pub response_time: &'static str,
    pub action: &'static str,
    pub user_ids: Vec<String>,
    pub accounts: Vec<String>,
    pub by_data: Option<ByData>,
}

impl Question {
    pub fn path(&self) -> String {
        let suffix = match self.dim {
            Dim::Total => "",
            Dim::Channel => "/by-channels",
            Dim::Queue => "/by-queues",
            Dim::User => "/by-users",
            Dim::Account => "/by-accounts",
            Dim::Data => "/by-data",
        };
        let shape = if self.by_date.is_some() {
            "by-date"
        } else {
            "count"
        };
        format!("{}/{shape}{suffix}", self.family.base())
    }

    pub fn body(&self) -> Value {
        let mut filters = json!({
            "from": self.from.to_rfc3339(),
            "to": self.to.to_rfc3339(),
        });
        if let Some(channels) = &self.channels {
            filters["channels"] = json!(channels);
        }
        if let Some(queues) = &self.queues {
            filters["queues"] = json!(queues);
        }
        if !self.data.is_empty() {
            let items: Vec<Value> = self
                .data
                .iter()
                .map(|(id, values)| match values {
                    Some(v) => json!({"id": id, "values": v}),
                    None => json!({"id": id}),
                })
                .collect();
            filters["data"] = json!(items);
        }
        let mut body = json!({});
        if let Some((grain, tz)) = self.by_date {
            filters["groupBy"] = json!(grain.name());
            body["timeZone"] = json!(tz.name());
        }
        body["filters"] = filters;
        match self.family {
            Family::State => {
                body["newState"] = json!(self.new_states);
                if let Some(old) = &self.old_states {
                    body["oldState"] = json!(old);
                }
            }
            Family::MessageVolume => body["direction"] = json!(self.direction),
            Family::ResponseTimes => body["responseTime"] = json!(self.response_time),
            Family::UnitOfWork => body["action"] = json!(self.action),
            Family::QueueTime | Family::IvrTime => {}
        }
        match self.dim {
            Dim::User => body["userIds"] = json!(self.user_ids),
            Dim::Account => body["accounts"] = json!(self.accounts),
            Dim::Data => {
                let by = self.by_data.as_ref().expect("by-data question");
                body["data"] = match &by.values {
                    Some(v) => json!({"id": by.type_id, "values": v}),
                    None => json!({"id": by.type_id}),
                };
                if let Some(order) = by.order {
                    body["orderBy"] = json!(order);
                }
            }
            _ => {}
        }
        body
    }

    /// The facts the question's metric counts, before the range and filters.
    pub fn source(&self, model: &Model) -> Vec<Fact> {
        let with = |fact: &Fact, value_us: Option<i64>| Fact {
            value_us,
            ..fact.clone()
        };
        match self.family {
            Family::State => model
                .audits
                .iter()
                .filter(|a| self.new_states.contains(&a.new))
                .filter(|a| match &self.old_states {
                    Some(old) => a.old.as_ref().is_some_and(|o| old.contains(o)),
                    None => true,
                })
                .map(|a| a.fact.clone())
                .collect(),
            Family::QueueTime => model
                .audits
                .iter()
                .filter_map(|a| a.queue_us.map(|v| with(&a.fact, Some(v))))
                .collect(),
            Family::IvrTime => model
                .audits
                .iter()
                .filter_map(|a| a.ivr_us.map(|v| with(&a.fact, Some(v))))
                .collect(),
            Family::UnitOfWork => model
                .works
                .iter()
                .filter(|w| {
                    let [closed, messages, data, notes] = w.actions;
                    match self.action {
                        "Closed" => closed > 0,
                        "Message" => messages > 0,
                        "Data" => data > 0,
                        "Note" => notes > 0,
                        "None" => w.actions.iter().all(|n| *n == 0),
                        "Any" => w.actions.iter().any(|n| *n > 0),
                        other => panic!("unknown action {other}"),
                    }
                })
                .map(|w| w.fact.clone())
                .collect(),
            Family::MessageVolume => model
                .messages
                .iter()
                .filter(|m| m.inbound == (self.direction == "Inbound"))
                .map(|m| m.fact.clone())
                .collect(),
            Family::ResponseTimes => model
                .messages
                .iter()
                .filter_map(|m| {
                    let v = if self.response_time == "AdvisorResponseTime" {
                        m.response_us
                    } else {
                        m.wait_us
                    };
                    v.map(|v| with(&m.fact, Some(v)))
                })
                .collect(),
        }
    }

    pub fn matches(&self, f: &Fact) -> bool {
        let listed = |list: &Option<Vec<String>>, value: &Option<String>| match list {
            Some(l) if !l.is_empty() => value.as_ref().is_some_and(|v| l.contains(v)),
            _ => true,
        };
        f.at >= self.from
            && f.at < self.to
            && listed(&self.channels, &Some(f.channel.clone()))
            && listed(&self.queues, &f.queue)
            && self.data.iter().all(|(id, values)| {
                f.data.iter().any(|(item, held)| {
                    item == id
                        && match values {
                            Some(v) if !v.is_empty() => held.iter().any(|h| v.contains(h)),
                            _ => true,
                        }
                })
            })
    }

    /// The group keys a fact counts under.
    fn keys_of(&self, f: &Fact) -> Vec<String> {
        let one = |v: &Option<String>| v.iter().cloned().collect();
        match self.dim {
            Dim::Total => vec![String::new()],
            Dim::Channel => vec![f.channel.clone()],
            Dim::Queue => one(&f.queue),
            Dim::User => one(&f.user),
            Dim::Account => one(&f.account),
            Dim::Data => {
                let type_id = &self.by_data.as_ref().expect("by-data").type_id;
                let mut values: Vec<String> = f
                    .data
                    .iter()
                    .filter(|(id, _)| id == type_id)
                    .flat_map(|(_, v)| v.iter().cloned())
                    .collect();
                values.sort();
                values.dedup();
                values
            }
        }
    }

    /// The answer the definitions give, as the JSON of §4.
    pub fn expected(&self, model: &Model) -> Value {
        let facts: Vec<Fact> = self
            .source(model)
            .into_iter()
            .filter(|f| self.matches(f))
            .collect();
        let buckets = match self.by_date {
            Some((grain, tz)) => calendar::buckets(grain, tz, self.from, self.to),
            None => vec![(self.from, self.to)],
        };
        let keyed: Vec<(Vec<String>, &Fact)> = facts.iter().map(|f| (self.keys_of(f), f)).collect();
        let groups = self.groups(model, &keyed);
        let cell = |key: &str, (start, end): (DateTime<Utc>, DateTime<Utc>)| {
            let values: Vec<Option<i64>> = keyed
                .iter()
                .filter(|(keys, f)| keys.iter().any(|k| k == key) && f.at >= start && f.at < end)
                .map(|(_, f)| f.value_us)
                .collect();
            metric(self.family.is_duration(), &values)
        };
        let bucket_list = |key: &str| -> Vec<Value> {
            let (_, tz) = self.by_date.expect("by date");
            buckets
                .iter()
                .map(|&(start, end)| {
                    let mut object = Map::new();
                    object.insert("start".into(), json!(calendar::written(tz, start)));
                    object.insert("end".into(), json!(calendar::written(tz, end)));
                    merge(&mut object, cell(key, (start, end)));
                    Value::Object(object)
                })
                .collect()
        };
        let group_list = |with_buckets: bool| -> Value {
            let list: Vec<Value> = groups
                .iter()
                .map(|(key, name)| {
                    let mut object = Map::new();
                    object.insert("key".into(), json!(key));
                    if let Some(name) = name {
                        object.insert("name".into(), json!(name));
                    }
                    if with_buckets {
                        object.insert("buckets".into(), Value::Array(bucket_list(key)));
                    } else {
                        merge(&mut object, cell(key, (self.from, self.to)));
                    }
                    Value::Object(object)
                })
                .collect();
            Value::Array(list)
        };
        match (self.by_date, self.dim) {
            (None, Dim::Total) => cell("", (self.from, self.to)),
            (None, _) => json!({"groups": group_list(false)}),
            (Some((grain, tz)), Dim::Total) => json!({
                "groupBy": grain.name(), "timeZone": tz.name(), "buckets": bucket_list(""),
            }),
            (Some((grain, tz)), _) => json!({
                "groupBy": grain.name(), "timeZone": tz.name(), "groups": group_list(true),
            }),
        }
    }

    /// The groups of the answer, in order, with their directory names.
    fn groups(
        &self,
        model: &Model,
        keyed: &[(Vec<String>, &Fact)],
    ) -> Vec<(String, Option<String>)> {
        let named = |kind: &str, keys: &[String]| {
            keys.iter()
                .map(|k| (k.clone(), model.directory.name(kind, k)))
                .collect()
        };
        match self.dim {
            Dim::Total => vec![(String::new(), None)],
            Dim::Channel => self
                .channels
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c, None))
                .collect(),
            Dim::Queue => named(
                "directory.queue",
                self.queues.as_deref().unwrap_or_default(),
            ),
            Dim::User => named("directory.user", &self.user_ids),
            Dim::Account => named("directory.account", &self.accounts),
            Dim::Data => {
                let by = self.by_data.as_ref().expect("by-data");
                let total = |key: &str| {
                    keyed
                        .iter()
                        .filter(|(keys, _)| keys.iter().any(|k| k == key))
                        .count()
                };
                let directory = model.directory.get("directory.data_type", &by.type_id);
                let options: Vec<(String, String)> = directory
                    .and_then(|d| d["options"].as_array())
                    .map(|list| {
                        list.iter()
                            .map(|o| {
                                (
                                    o["id"].as_str().unwrap_or_default().to_owned(),
                                    o["name"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let select = directory.is_some_and(|d| d["kind"] != "StringEditor");
                let mut keys: Vec<String> = match &by.values {
                    Some(values) => values.clone(),
                    None if select => options.iter().map(|(id, _)| id.clone()).collect(),
                    None => {
                        // StringEditor: the 10 most (least) used values, ties by value.
                        let mut used: Vec<String> =
                            keyed.iter().flat_map(|(k, _)| k.clone()).collect();
                        used.sort();
                        used.dedup();
                        used.sort_by(|a, b| {
                            let (na, nb) = (total(a), total(b));
                            let by_count = if by.order == Some("Ascending") {
                                na.cmp(&nb)
                            } else {
                                nb.cmp(&na)
                            };
                            by_count.then(a.cmp(b))
                        });
                        used.truncate(10);
                        used
                    }
                };
                match by.order {
                    Some("Descending") => keys.sort_by_key(|k| std::cmp::Reverse(total(k))),
                    Some(_) => keys.sort_by_key(|k| total(k)),
                    None => {}
                }
                keys.into_iter()
                    .map(|k| {
                        let name = options
                            .iter()
                            .find(|(id, _)| *id == k)
                            .map(|(_, n)| n.clone());
                        (k, name)
                    })
                    .collect()
            }
        }
    }
}

fn merge(object: &mut Map<String, Value>, metric: Value) {
    if let Value::Object(fields) = metric {
        object.extend(fields);
    }
}

/// Seconds with millisecond precision.
fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A continuous percentile (linear between the two nearest ranks).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let lower = position.floor();
    let (a, b) = (sorted[lower as usize], sorted[position.ceil() as usize]);
    a + (b - a) * (position - lower)
}

/// The metric object of a cell: `{count}` or the duration statistics T.
fn metric(duration: bool, values: &[Option<i64>]) -> Value {
    if !duration {
        return json!({"count": values.len()});
    }
    let mut us: Vec<i64> = values.iter().map(|v| v.expect("duration value")).collect();
    us.sort_unstable();
    if us.is_empty() {
        return json!({"count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null});
    }
    let seconds: Vec<f64> = us.iter().map(|v| *v as f64 / 1e6).collect();
    let sum: i128 = us.iter().map(|v| i128::from(*v)).sum();
    let n = us.len();
    json!({
        "count": n,
        "average": millis(sum as f64 / n as f64 / 1e6),
        "min": millis(seconds[0]),
        "max": millis(seconds[n - 1]),
        "p50": millis(percentile(&seconds, 0.5)),
        "p90": millis(percentile(&seconds, 0.9)),
    })
}
