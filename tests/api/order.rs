//! Order independence (API.md §3): the same events ingested in any order,
//! batching or concurrency give identical answers to every tile.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestTenant};
use crate::messages::{Q1, Q2, U1, U2};

const STATES: [&str; 6] = [
    "Draft",
    "Created",
    "Queued",
    "Assigned",
    "Automation",
    "Closed",
];

/// One generated step of an interaction: an audit to `state`, or a message.
#[derive(Debug, Clone)]
enum Step {
    Audit { state: usize },
    Message { inbound: bool, automated: bool },
}

fn step() -> impl Strategy<Value = (u32, Step, bool)> {
    let audit = (0..STATES.len()).prop_map(|state| Step::Audit { state });
    let message = (any::<bool>(), prop::bool::weighted(0.15)).prop_map(|(inbound, automated)| {
        Step::Message {
            inbound,
            automated: !inbound && automated,
        }
    });
    // Minutes from 10:00, with deliberate ties; which queue/user.
    (0u32..90, prop_oneof![audit, message], any::<bool>())
}

/// Events of up to four interactions, with unique ids.
fn event_set() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(prop::collection::vec(step(), 1..12), 1..5).prop_map(|interactions| {
        let mut events = Vec::new();
        for (i, steps) in interactions.into_iter().enumerate() {
            let interaction = format!("i{i}");
            let channel = if i % 2 == 0 { "Email" } else { "SMS" };
            let mut previous: Option<&str> = None;
            let mut sorted = steps;
            sorted.sort_by_key(|(minute, _, _)| *minute);
            for (n, (minute, step, first)) in sorted.into_iter().enumerate() {
                let at = format!("2026-01-01T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60);
                let queue = if first { Q1 } else { Q2 };
                let user = if first { U1 } else { U2 };
                let id = format!("{interaction}-{n}");
                match step {
                    Step::Audit { state } => {
                        events.push(json!({"id": id, "type": "interaction.state_changed", "occurredAt": at,
                            "interactionId": interaction, "reference": interaction, "channel": channel,
                            "oldState": previous, "newState": STATES[state], "queueId": queue, "userId": user}));
                        previous = Some(STATES[state]);
                    }
                    Step::Message { inbound, automated } => {
                        events.push(json!({"id": id, "type": "message.created", "occurredAt": at,
                            "interactionId": interaction, "direction": if inbound { "Inbound" } else { "Outbound" },
                            "automated": automated, "channel": channel, "queueId": queue,
                            "userId": if inbound { Value::Null } else { json!(user) }}));
                    }
                }
            }
        }
        events
    })
}

/// Every tile of the state and message families, a few shapes each.
fn questions() -> Vec<(&'static str, Value)> {
    let day = json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"});
    let hours =
        json!({"from": "2026-01-01T09:00:00Z", "to": "2026-01-01T12:00:00Z", "groupBy": "Hour"});
    let queues =
        json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [Q1, Q2]});
    let queues_by_hour = json!({"from": "2026-01-01T09:00:00Z", "to": "2026-01-01T12:00:00Z", "groupBy": "Hour", "queues": [Q1, Q2]});
    let mut list = vec![
        (
            "interactions/state/count",
            json!({"newState": ["Closed"], "filters": day}),
        ),
        (
            "interactions/state/by-date",
            json!({"newState": ["Queued", "Assigned"], "timeZone": "Asia/Kathmandu", "filters": hours}),
        ),
        (
            "interactions/state/count/by-queues",
            json!({"newState": ["Assigned"], "filters": queues}),
        ),
        (
            "interactions/state/count/by-users",
            json!({"newState": ["Closed", "Assigned"], "userIds": [U1, U2], "filters": day}),
        ),
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": queues}),
        ),
        (
            "interactions/queue-time/by-date/by-queues",
            json!({"filters": queues_by_hour}),
        ),
        (
            "interactions/ivr-time/count/by-queues",
            json!({"filters": queues}),
        ),
        (
            "messages/volume/count",
            json!({"direction": "Inbound", "filters": day}),
        ),
        (
            "messages/volume/count/by-users",
            json!({"direction": "Outbound", "userIds": [U1, U2], "filters": day}),
        ),
    ];
    for kind in ["AdvisorResponseTime", "OriginatorWaitTime"] {
        list.push((
            "messages/response-times/count",
            json!({"responseTime": kind, "filters": day}),
        ));
        list.push((
            "messages/response-times/count/by-queues",
            json!({"responseTime": kind, "filters": queues}),
        ));
        list.push((
            "messages/response-times/by-date",
            json!({"responseTime": kind, "timeZone": "Asia/Kolkata", "filters": hours}),
        ));
        list.push((
            "messages/response-times/count/by-users",
            json!({"responseTime": kind, "userIds": [U1, U2], "filters": day}),
        ));
    }
    list
}

async fn answers(app: &TestApp, tenant: &TestTenant) -> Vec<Value> {
    let mut out = Vec::new();
    for (tile, body) in questions() {
        let response = app
            .post_as(&tenant.token, &format!("/reporting/v1.2/{tile}"), &body)
            .await;
        assert_eq!(response.status, 200, "{tile}: {}", response.text());
        out.push(json!({"tile": tile, "answer": response.json()}));
    }
    out
}

#[test]
fn any_order_batching_and_concurrency_give_identical_answers() {
    let (runtime, app) = TestApp::spawn_blocking();
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = event_set().prop_flat_map(|events| {
        let n = events.len();
        (
            Just(events.clone()),
            Just(events).prop_shuffle(),
            prop::collection::vec(1..=n.max(1), 1..4),
        )
    });
    let cases_with_times = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(events, shuffled, cuts)| {
            runtime.block_on(async {
                let in_order = app.new_tenant("in order").await;
                app.ingest_as(&in_order, &Value::Array(events.clone()))
                    .await;

                // The same set shuffled, cut into batches sent concurrently,
                // with the first batch sent twice (duplicates).
                let shuffled_tenant = app.new_tenant("shuffled").await;
                let mut batches: Vec<Vec<Value>> = Vec::new();
                let mut rest = shuffled.as_slice();
                for cut in cuts {
                    let at = cut.min(rest.len());
                    let (head, tail) = rest.split_at(at);
                    if !head.is_empty() {
                        batches.push(head.to_vec());
                    }
                    rest = tail;
                }
                if !rest.is_empty() {
                    batches.push(rest.to_vec());
                }
                if let Some(first) = batches.first().cloned() {
                    batches.push(first);
                }
                let bodies: Vec<Value> = batches.into_iter().map(Value::Array).collect();
                let sends = bodies
                    .iter()
                    .map(|body| app.ingest_as(&shuffled_tenant, body));
                futures::future::join_all(sends).await;

                let expected = answers(&app, &in_order).await;
                let actual = answers(&app, &shuffled_tenant).await;
                let timed = expected
                    .iter()
                    .filter(|a| {
                        a["tile"] == "messages/response-times/count"
                            && a["answer"]["count"].as_i64() > Some(0)
                    })
                    .count();
                cases_with_times.fetch_add(timed, std::sync::atomic::Ordering::Relaxed);
                prop_assert_eq!(actual, expected);
                Ok(())
            })
        })
        .expect("order independence");
    assert!(
        cases_with_times.into_inner() > 0,
        "the generated sets must exercise derived times, not only empty answers"
    );
}
