//! Issue 10, bad input: a property test over the event and request
//! parsers. Inputs are valid events and request bodies with random
//! mutations (a field set to any JSON value, removed, or added; lists and
//! strings of extreme sizes; instants at the ends of the calendar), and raw
//! random bytes. Every input must be accepted or refused with a 4xx, never
//! a panic or a 5xx; an accepted by-date query must tile its range into
//! buckets without panicking. No database is needed: this is the parsing
//! that runs before any query. `PROPTEST_CASES` sets the number of cases
//! (CI runs the default; scripts/fuzz runs 100,000).

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};

use cx_reporting::ingest::events::validate;
use cx_reporting::report::buckets::buckets;
use cx_reporting::report::request::{parse_json, ReportBody, ReportQuery};
use cx_reporting::report::tiles;
use cx_reporting::report::view::{ViewBody, ViewKind, ViewQuery};

use crate::helpers::proptest_config;

/// Field names the parsers know, so mutations hit real fields.
const FIELDS: [&str; 40] = [
    "id",
    "type",
    "occurredAt",
    "interactionId",
    "reference",
    "channel",
    "oldState",
    "newState",
    "queueId",
    "userId",
    "data",
    "values",
    "direction",
    "automated",
    "accountId",
    "contentType",
    "keyword",
    "deliveryStatus",
    "statusCode",
    "conversationId",
    "endedBy",
    "state",
    "assignedAt",
    "userState",
    "actions",
    "closed",
    "messages",
    "filters",
    "from",
    "to",
    "groupBy",
    "channels",
    "queues",
    "timeZone",
    "userIds",
    "accounts",
    "responseTime",
    "action",
    "orderBy",
    "contexts",
];

/// Strings that are almost valid, or extreme.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("9999-12-31T23:59:59.999999999+14:00".to_owned()),
        Just("0001-01-01T00:00:00-12:00".to_owned()),
        Just("2026-03-29T02:30:00+01:00".to_owned()),
        Just("2026-10-25T02:30:00Z".to_owned()),
        Just("2026-02-30T00:00:00Z".to_owned()),
        Just("Europe/Berlin".to_owned()),
        Just("Asia/Kathmandu".to_owned()),
        Just("Mars/Olympus".to_owned()),
        Just("WebChat".to_owned()),
        Just("Closed".to_owned()),
        Just("Hour".to_owned()),
        Just("00000000-0000-0000-0000-000000000000".to_owned()),
        Just("x".repeat(129)),
        Just("é".repeat(5000)),
        Just("\u{0}\u{feff}\u{202e}".to_owned()),
        "[a-zA-Z0-9:+.-]{0,40}",
        any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        Just(json!(-0.0)),
        Just(json!(1e308)),
        tricky_string().prop_map(Value::String),
    ]
}

/// Any JSON value, a few levels deep, with keys the parsers know.
fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&FIELDS[..]), inner), 0..8).prop_map(
                |fields| {
                    Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<Map<_, _>>(),
                    )
                }
            ),
        ]
    })
}

/// A valid example of every event type and of a report body.
fn seeds() -> Vec<Value> {
    let uuid = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let at = "2026-03-29T01:30:00Z";
    vec![
        json!({"id": "e", "type": "interaction.state_changed", "occurredAt": at,
               "interactionId": "i", "reference": "R", "channel": "Email", "oldState": "Queued",
               "newState": "Assigned", "queueId": uuid, "userId": uuid,
               "data": [{"id": uuid, "values": ["a"]}]}),
        json!({"id": "e", "type": "message.created", "occurredAt": at, "interactionId": "i",
               "conversationId": "c", "direction": "Outbound", "automated": false,
               "channel": "SMS", "queueId": uuid, "accountId": uuid, "userId": uuid,
               "contentType": "Image", "keyword": "OptIn", "deliveryStatus": "Failed",
               "statusCode": "30007"}),
        json!({"id": "e", "type": "conversation.started", "occurredAt": at,
               "conversationId": "c", "interactionId": "i", "channel": "Voice",
               "direction": "Inbound"}),
        json!({"id": "e", "type": "conversation.ended", "occurredAt": at, "conversationId": "c",
               "endedBy": "Bot"}),
        json!({"id": "e", "type": "presence.changed", "occurredAt": at, "userId": uuid,
               "state": "Busy"}),
        json!({"id": "e", "type": "unit_of_work.completed", "occurredAt": at,
               "interactionId": "i", "userId": uuid, "assignedAt": at, "userState": "Online",
               "actions": {"closed": 1, "messages": 0, "dataChanges": 2, "notes": 0},
               "channel": "Email"}),
        json!({"id": "e", "type": "directory.data_type", "occurredAt": at, "dataTypeId": uuid,
               "name": "n", "kind": "SingleSelect", "reportable": true,
               "options": [{"id": uuid, "name": "o"}]}),
        json!({"filters": {"from": "2026-03-28T00:00:00+01:00", "to": "2026-03-30T00:00:00+02:00",
               "groupBy": "Hour", "channels": ["Email"], "queues": [uuid],
               "data": [{"id": uuid, "values": ["a"]}]},
               "timeZone": "Europe/Berlin", "newState": ["Closed"], "userIds": [uuid],
               "accounts": [uuid], "direction": "Inbound", "responseTime": "OriginatorWaitTime",
               "action": "Any", "data": {"id": uuid}, "orderBy": "Descending",
               "orderByField": "Reference", "contexts": ["Queue"]}),
    ]
}

/// One mutation: at a random path, set any value, remove the field, or
/// add one.
#[derive(Debug, Clone)]
enum Mutation {
    Set(Vec<usize>, Value),
    Remove(Vec<usize>),
    Add(Vec<usize>, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let path = prop::collection::vec(0usize..16, 0..3);
    prop_oneof![
        (path.clone(), any_json()).prop_map(|(p, v)| Mutation::Set(p, v)),
        path.clone().prop_map(Mutation::Remove),
        (path, prop::sample::select(&FIELDS[..]), any_json()).prop_map(|(p, k, v)| Mutation::Add(
            p,
            k.to_owned(),
            v
        )),
    ]
}

/// The child `i` (modulo its size) of an object or array, if any.
fn child(value: &mut Value, i: usize) -> Option<&mut Value> {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let n = map.len();
            map.values_mut().nth(i % n)
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            items.get_mut(i % n)
        }
        _ => None,
    }
}

fn apply(value: &mut Value, mutation: &Mutation) {
    let (path, last) = match mutation {
        Mutation::Set(p, _) | Mutation::Remove(p) | Mutation::Add(p, _, _) => {
            (p.as_slice(), p.last().copied().unwrap_or(0))
        }
    };
    let mut target = value;
    for &i in path.iter().take(path.len().saturating_sub(1)) {
        if child(target, i).is_none() {
            break;
        }
        target = child(target, i).expect("checked just before");
    }
    match (mutation, target) {
        (Mutation::Set(_, v), target) => match child(target, last) {
            Some(slot) => *slot = v.clone(),
            None => *target = v.clone(),
        },
        (Mutation::Remove(_), Value::Object(map)) if !map.is_empty() => {
            let key = map.keys().nth(last % map.len()).cloned();
            key.map(|k| map.remove(&k));
        }
        (Mutation::Remove(_), Value::Array(items)) if !items.is_empty() => {
            items.remove(last % items.len());
        }
        (Mutation::Add(_, k, v), Value::Object(map)) => {
            map.insert(k.clone(), v.clone());
        }
        (Mutation::Add(_, _, v), Value::Array(items)) => items.push(v.clone()),
        _ => {}
    }
}

/// Feeds one body to every parser that takes it.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        // Validating an event never panics; errors name a field.
        let _ = validate(0, &value);
    }
    for tile in tiles::all() {
        let Ok(body) = parse_json::<ReportBody>(bytes, "") else {
            break;
        };
        match ReportQuery::from_body(&tile, body) {
            Ok(query) => {
                if let Some(by_date) = query.by_date {
                    let list = buckets(by_date.granularity, by_date.zone, query.from, query.to);
                    prop_assert!(!list.is_empty(), "{}: no bucket", tile.path());
                }
            }
            Err(e) => prop_assert!(
                e.status_code().is_client_error(),
                "{}: {e} is a {}",
                tile.path(),
                e.status_code()
            ),
        }
    }
    for kind in ViewKind::ALL {
        if let Ok(body) = parse_json::<ViewBody>(bytes, "") {
            if let Err(e) = ViewQuery::from_body(kind, body) {
                prop_assert!(e.status_code().is_client_error(), "{}: {e}", kind.path());
            }
        }
    }
    Ok(())
}

#[test]
fn mutated_events_and_bodies_are_accepted_or_refused_with_a_4xx() {
    let config = proptest_config("parsers", 2_000);
    let mut runner = TestRunner::new(config);
    let strategy = (
        prop::sample::select(seeds()),
        prop::collection::vec(mutation(), 1..6),
    );
    runner
        .run(&strategy, |(mut value, mutations)| {
            for m in &mutations {
                apply(&mut value, m);
            }
            check(&serde_json::to_vec(&value).expect("json"))
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn random_bytes_are_refused_with_a_4xx() {
    let config = proptest_config("parsers-bytes", 2_000);
    let mut runner = TestRunner::new(config);
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..512), |bytes| {
            check(&bytes)
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
