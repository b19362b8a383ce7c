//! Rendering of presence answers: the metric objects for the shared JSON
//! renderer, the answer-level `average` and per-user `values` added to its
//! output, and the CSV rows.

use serde::Serialize;
use serde_json::{json, Value};

use super::{PresenceExtra, PresenceValue};
use crate::report::csv::record;
use crate::report::json::instant_in;
use crate::report::plan::{Answer, MetricValue};

/// A presence metric object, flattened into groups and buckets.
#[derive(Debug, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum PresenceJson {
    Cph {
        contacts: i64,
        seconds: f64,
        cph: Option<f64>,
    },
    Seconds {
        seconds: f64,
    },
    Percentage {
        percentage: Option<f64>,
        available_seconds: f64,
        logged_in_seconds: f64,
    },
    Advisor {
        contacts_logged_in: i64,
        contacts_available: i64,
        cph_logged_in: Option<f64>,
        cph_available: Option<f64>,
        logged_in_seconds: f64,
        available_seconds: f64,
        unproductive_percentage: Option<f64>,
        average_response_time: Option<f64>,
    },
}

impl From<PresenceValue> for PresenceJson {
    fn from(value: PresenceValue) -> Self {
        match value {
            PresenceValue::Cph {
                contacts,
                seconds,
                cph,
            } => Self::Cph {
                contacts,
                seconds,
                cph,
            },
            PresenceValue::Seconds(seconds) => Self::Seconds { seconds },
            PresenceValue::Percentage {
                percentage,
                available_seconds,
                logged_in_seconds,
            } => Self::Percentage {
                percentage,
                available_seconds,
                logged_in_seconds,
            },
            PresenceValue::Advisor(m) => Self::Advisor {
                contacts_logged_in: m.contacts_logged_in,
                contacts_available: m.contacts_available,
                cph_logged_in: m.cph_logged_in,
                cph_available: m.cph_available,
                logged_in_seconds: m.logged_in_seconds,
                available_seconds: m.available_seconds,
                unproductive_percentage: m.unproductive_percentage,
                average_response_time: m.average_response_time,
            },
        }
    }
}

fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The CSV fields of a metric object, in the order of its columns.
pub fn fields(value: PresenceValue) -> Vec<String> {
    match value {
        PresenceValue::Cph {
            contacts,
            seconds,
            cph,
        } => vec![contacts.to_string(), seconds.to_string(), number(cph)],
        PresenceValue::Seconds(seconds) => vec![seconds.to_string()],
        PresenceValue::Percentage {
            percentage,
            available_seconds,
            logged_in_seconds,
        } => vec![
            number(percentage),
            available_seconds.to_string(),
            logged_in_seconds.to_string(),
        ],
        PresenceValue::Advisor(m) => vec![
            m.contacts_logged_in.to_string(),
            m.contacts_available.to_string(),
            number(m.cph_logged_in),
            number(m.cph_available),
            m.logged_in_seconds.to_string(),
            m.available_seconds.to_string(),
            number(m.unproductive_percentage),
            number(m.average_response_time),
        ],
    }
}

/// Adds the overall `average` (first key of the answer) and each user
/// group's `values` and `average` to the shared renderer's output.
pub fn decorate(extra: &PresenceExtra, value: &mut Value) {
    let Some(answer) = value.as_object_mut() else {
        return;
    };
    if let (Some(values), Some(Value::Array(groups))) = (&extra.values, answer.get_mut("groups")) {
        for (group, user) in groups.iter_mut().zip(values) {
            if let Some(group) = group.as_object_mut() {
                let list: Vec<Value> = user
                    .values
                    .iter()
                    .map(|v| json!({"key": v.key, "contacts": v.contacts, "cph": v.cph}))
                    .collect();
                group.insert("values".into(), Value::Array(list));
                group.insert("average".into(), json!(user.average));
            }
        }
    }
    if let Some(average) = extra.average {
        answer.shift_insert(0, "average".into(), json!(average));
    }
}

/// The CSV rows of a presence answer, header first: one row per group ×
/// bucket (`group, groupName, bucketStart?, bucketEnd?, …metric`), or for
/// by-channels / by-queues one per group × value (with `groupAverage,
/// valueKey, valueContacts, valueCph`); CPH answers end every row with the
/// overall `average`.
pub fn csv_rows(answer: &Answer, extra: &PresenceExtra) -> Vec<String> {
    let mut header: Vec<&str> = vec!["group", "groupName"];
    if answer.by_date.is_some() {
        header.extend(["bucketStart", "bucketEnd"]);
    }
    header.extend(answer.kind.columns());
    if extra.values.is_some() {
        header.extend(["groupAverage", "valueKey", "valueContacts", "valueCph"]);
    }
    if extra.average.is_some() {
        header.push("average");
    }
    let average = extra.average.map(number);
    let metric = |g: usize, b: usize| match answer.cell(g, b) {
        MetricValue::Presence(v) => fields(v),
        _ => Vec::new(),
    };
    let mut out = vec![record(&header)];
    for (g, group) in answer.groups.iter().flatten().enumerate() {
        let prefix = vec![group.key.clone(), group.name.clone().unwrap_or_default()];
        let mut rows: Vec<Vec<String>> = Vec::new();
        match (&answer.by_date, &extra.values) {
            (Some((by_date, list)), _) => {
                for (b, bucket) in list.iter().enumerate() {
                    let mut fields = prefix.clone();
                    fields.push(instant_in(by_date.zone, bucket.start));
                    fields.push(instant_in(by_date.zone, bucket.end));
                    fields.extend(metric(g, b));
                    rows.push(fields);
                }
            }
            (None, Some(values)) => {
                let user = values.get(g).cloned().unwrap_or_default();
                for value in &user.values {
                    let mut fields = prefix.clone();
                    fields.extend(metric(g, 0));
                    fields.push(number(user.average));
                    fields.push(value.key.clone());
                    fields.push(value.contacts.to_string());
                    fields.push(number(value.cph));
                    rows.push(fields);
                }
            }
            (None, None) => {
                let mut fields = prefix.clone();
                fields.extend(metric(g, 0));
                rows.push(fields);
            }
        }
        for mut fields in rows {
            fields.extend(average.clone());
            out.push(record(&fields));
        }
    }
    out
}
