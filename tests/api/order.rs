//! Order independence (API.md §3): the same events ingested in any order,
//! batching or concurrency give identical answers to every tile.

pub mod live;

use chrono::Duration;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use crate::helpers::{proptest_config, TestApp, TestTenant};
use crate::messages::{ACC, Q1, Q2, U1, U2};
use crate::rollups::{
    directory, snapshot, window_start, ACC2, ACTIONS, CHANNELS, NIL, OPTION_A, OPTION_B, SELECT,
    STATES, TEXT, U3, WINDOWS, WORDS,
};

/// One generated step of an interaction: an audit to `state`, a message,
/// or a unit of work with these action counts.
#[derive(Debug, Clone)]
enum Step {
    Audit { state: usize },
    Message { inbound: bool, automated: bool },
    Work { actions: [u8; 4] },
}

/// A step, its minute (from three hours before the DST change, with
/// deliberate ties), which queue/user/account, and the data snapshot.
fn step() -> impl Strategy<Value = (u32, Step, usize, Value)> {
    let audit = (0..STATES.len()).prop_map(|state| Step::Audit { state });
    let message = (any::<bool>(), prop::bool::weighted(0.15)).prop_map(|(inbound, automated)| {
        Step::Message {
            inbound,
            automated: !inbound && automated,
        }
    });
    let work = prop::array::uniform4(0u8..2).prop_map(|actions| Step::Work { actions });
    (
        0u32..360,
        prop_oneof![4 => audit, 4 => message, 1 => work],
        0..6usize,
        snapshot(),
    )
}

/// The `userState` of a generated unit of work, by its queue/user pick.
const WORK_STATES: [&str; 4] = ["Away", "Online", "Offline", "Online"];

/// Presence states a generated change may set (a tenant-defined one too).
const PRESENCE: [&str; 5] = ["Online", "Away", "Busy", "Offline", "Lunch"];

/// Presence changes of U1 and U2 from 13 hours before the DST change of a
/// window, on half hours (so that changes often tie on one instant), some
/// before the questions' ranges (carried in).
fn presence_changes() -> impl Strategy<Value = Vec<(u32, usize, usize)>> {
    prop::collection::vec((0u32..50, 0..2usize, 0..PRESENCE.len()), 0..16)
}

/// Events of up to four interactions on any channel, up to four
/// conversations ([`live`]), around the DST change of window `w`, and
/// presence changes, with unique ids (plus the directory of data types).
fn event_set(w: usize) -> impl Strategy<Value = Vec<Value>> {
    let base = window_start(w, 3);
    let presence_base = window_start(w, 13);
    let interaction = (0..CHANNELS.len(), prop::collection::vec(step(), 1..12));
    let sets = (
        prop::collection::vec(interaction, 1..5),
        live::conversation_set(w),
        presence_changes(),
    );
    sets.prop_map(move |(interactions, conversations, changes)| {
        let mut events = directory();
        events.extend(conversations);
        for (i, (channel, steps)) in interactions.into_iter().enumerate() {
            let interaction = format!("i{i}");
            let channel = CHANNELS[channel];
            let mut previous: Option<&str> = None;
            let mut sorted = steps;
            sorted.sort_by_key(|(minute, _, _, _)| *minute);
            for (n, (minute, step, who, data)) in sorted.into_iter().enumerate() {
                let at = (base + Duration::minutes(i64::from(minute))).to_rfc3339();
                let queue = [Q1, Q2, NIL][who % 3];
                let user = [U1, U2][who % 2];
                let account = [ACC, ACC2][who % 2];
                let id = format!("{interaction}-{n}");
                match step {
                    Step::Audit { state } => {
                        events.push(json!({"id": id, "type": "interaction.state_changed", "occurredAt": at,
                            "interactionId": interaction, "reference": interaction, "channel": channel,
                            "oldState": previous, "newState": STATES[state], "queueId": queue, "userId": user,
                            "data": data}));
                        previous = Some(STATES[state]);
                    }
                    Step::Message { inbound, automated } => {
                        events.push(json!({"id": id, "type": "message.created", "occurredAt": at,
                            "interactionId": interaction, "direction": if inbound { "Inbound" } else { "Outbound" },
                            "automated": automated, "channel": channel, "queueId": queue, "accountId": account,
                            "userId": if inbound { Value::Null } else { json!(user) }, "data": data}));
                    }
                    Step::Work { actions } => {
                        let [closed, messages, data_changes, notes] = actions;
                        events.push(json!({"id": id, "type": "unit_of_work.completed", "occurredAt": at,
                            "interactionId": interaction, "userId": user, "assignedAt": "2026-01-01T00:00:00Z",
                            "userState": WORK_STATES[who % 4], "channel": channel,
                            "queueId": queue, "data": data,
                            "actions": {"closed": closed, "messages": messages, "dataChanges": data_changes, "notes": notes}}));
                    }
                }
            }
        }
        for (n, (half_hours, user, state)) in changes.into_iter().enumerate() {
            let at = (presence_base + Duration::minutes(30 * i64::from(half_hours))).to_rfc3339();
            events.push(json!({"id": format!("p{n}"), "type": "presence.changed", "occurredAt": at,
                "userId": if user == 0 { U1 } else { U2 }, "state": PRESENCE[state]}));
        }
        events
    })
}

/// Every tile of the state, message and unit-of-work families, every
/// dimension, a few shapes each, asked in the zone of window `w`.
fn questions(w: usize) -> Vec<(String, Value)> {
    let zone = WINDOWS[w].0;
    let span = |start: i64, hours: i64| {
        let from = window_start(w, start);
        json!({"from": from.to_rfc3339(), "to": (from + Duration::hours(hours)).to_rfc3339()})
    };
    let with = |mut filters: Value, extra: Value| {
        if let (Some(map), Value::Object(extra)) = (filters.as_object_mut(), extra) {
            map.extend(extra);
        }
        filters
    };
    let day = span(12, 24);
    let hours = with(span(3, 6), json!({"groupBy": "Hour"}));
    let days = with(span(36, 72), json!({"groupBy": "Day"}));
    let queues = json!({"queues": [Q1, Q2, NIL]});
    let data = json!({"data": [{"id": SELECT, "values": [OPTION_A]}]});
    let mut list: Vec<(&str, Value)> = vec![
        (
            "interactions/state/count",
            json!({"newState": ["Closed"], "filters": day}),
        ),
        (
            "interactions/state/count",
            json!({"newState": ["Queued", "Automation"], "oldState": ["Draft", "Created"], "filters": with(day.clone(), data.clone())}),
        ),
        (
            "interactions/state/by-date",
            json!({"newState": ["Queued", "Assigned"], "filters": hours}),
        ),
        (
            "interactions/state/count/by-channels",
            json!({"newState": STATES, "filters": with(day.clone(), json!({"channels": CHANNELS}))}),
        ),
        (
            "interactions/state/by-date/by-queues",
            json!({"newState": ["Assigned"], "filters": with(days.clone(), queues.clone())}),
        ),
        (
            "interactions/state/count/by-users",
            json!({"newState": ["Closed", "Assigned"], "userIds": [U1, U2, U3], "filters": day}),
        ),
        (
            "interactions/state/by-date/by-users",
            json!({"newState": ["Draft", "Created"], "userIds": [U2, U1], "filters": hours}),
        ),
        (
            "interactions/state/count/by-data",
            json!({"newState": STATES, "data": {"id": SELECT, "values": [OPTION_B, OPTION_A]}, "orderBy": "Descending", "filters": day}),
        ),
        (
            "interactions/state/by-date/by-data",
            json!({"newState": STATES, "data": {"id": TEXT}, "orderBy": "Ascending", "filters": days}),
        ),
        (
            "interactions/state/count/by-data",
            json!({"newState": ["Queued"], "data": {"id": TEXT, "values": WORDS}, "filters": with(day.clone(), json!({"channels": ["Voice", "WhatsApp", "Telegram"]}))}),
        ),
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": with(day.clone(), queues.clone())}),
        ),
        (
            "interactions/queue-time/by-date/by-queues",
            json!({"filters": with(hours.clone(), queues.clone())}),
        ),
        (
            "interactions/ivr-time/count/by-queues",
            json!({"filters": with(day.clone(), queues.clone())}),
        ),
        (
            "interactions/ivr-time/by-date/by-queues",
            json!({"filters": with(days.clone(), queues.clone())}),
        ),
        (
            "unit-of-work/by-date/by-users",
            json!({"action": "Any", "userIds": [U1, U2], "filters": hours}),
        ),
        (
            "messages/volume/count",
            json!({"direction": "Inbound", "filters": day}),
        ),
        (
            "messages/volume/count",
            json!({"direction": "Outbound", "filters": with(day.clone(), json!({"data": [{"id": TEXT}]}))}),
        ),
        (
            "messages/volume/by-date/by-channels",
            json!({"direction": "Outbound", "filters": with(hours.clone(), json!({"channels": CHANNELS}))}),
        ),
        (
            "messages/volume/by-date/by-queues",
            json!({"direction": "Inbound", "filters": with(days.clone(), queues.clone())}),
        ),
        (
            "messages/volume/count/by-accounts",
            json!({"direction": "Inbound", "accounts": [ACC2, ACC], "filters": day}),
        ),
        (
            "messages/volume/count/by-users",
            json!({"direction": "Outbound", "userIds": [U1, U2, U3], "filters": day}),
        ),
    ];
    let users = json!([U1, U2, U3]);
    for user_state in ["Available", "LoggedIn"] {
        list.push((
            "presence/cph/count/by-users",
            json!({"userState": user_state, "userIds": users, "filters": day}),
        ));
        list.push((
            "presence/cph/by-date/by-users",
            json!({"userState": user_state, "userIds": [U2, U1], "filters": hours}),
        ));
        list.push((
            "presence/cph/count/by-channels",
            json!({"userState": user_state, "userIds": users, "filters": with(day.clone(), json!({"channels": CHANNELS}))}),
        ));
        list.push((
            "presence/cph/count/by-queues",
            json!({"userState": user_state, "userIds": users, "filters": with(day.clone(), queues.clone())}),
        ));
    }
    for user_state in ["Available", "Unavailable"] {
        list.push((
            "presence/availability/count/by-users",
            json!({"userState": user_state, "userIds": users, "filters": day}),
        ));
        list.push((
            "presence/availability/by-date/by-users",
            json!({"userState": user_state, "userIds": users, "filters": days}),
        ));
    }
    list.push((
        "presence/availability/count/by-users/percentage",
        json!({"userState": "Available", "userIds": users, "filters": hours}),
    ));
    list.push((
        "advisors/metrics/count/by-users",
        json!({"userIds": users, "filters": day}),
    ));
    for action in ACTIONS {
        list.push((
            "unit-of-work/count/by-users",
            json!({"action": action, "userIds": [U1, U2, U3], "filters": day}),
        ));
    }
    for kind in ["AdvisorResponseTime", "OriginatorWaitTime"] {
        let t = |filters: &Value| json!({"responseTime": kind, "filters": filters});
        let mut by = |tile: &'static str, mut body: Value| {
            body["responseTime"] = json!(kind);
            list.push((tile, body));
        };
        by("messages/response-times/count", t(&day));
        by(
            "messages/response-times/count",
            t(&with(day.clone(), data.clone())),
        );
        by("messages/response-times/by-date", t(&hours));
        by(
            "messages/response-times/count/by-queues",
            t(&with(day.clone(), queues.clone())),
        );
        by(
            "messages/response-times/count/by-channels",
            t(&with(day.clone(), json!({"channels": CHANNELS}))),
        );
        by(
            "messages/response-times/by-date/by-accounts",
            json!({"accounts": [ACC, ACC2], "filters": days}),
        );
        by(
            "messages/response-times/count/by-users",
            json!({"userIds": [U1, U2], "filters": day}),
        );
    }
    list.extend(live::questions(w));
    list.into_iter()
        .map(|(tile, mut body)| {
            body["timeZone"] = json!(zone);
            (tile.to_owned(), body)
        })
        .collect()
}

async fn answers(app: &TestApp, tenant: &TestTenant, w: usize) -> Vec<Value> {
    answers_to(app, tenant, questions(w)).await
}

/// The tenant's answer to each question, as `{"tile", "answer"}`.
pub(crate) async fn answers_to<T: AsRef<str>>(
    app: &TestApp,
    tenant: &TestTenant,
    questions: Vec<(T, Value)>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (tile, body) in questions {
        let tile = tile.as_ref();
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
    let config = proptest_config(
        "any_order_batching_and_concurrency_give_identical_answers",
        12,
    );
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let strategy = (0..WINDOWS.len())
        .prop_flat_map(|w| (Just(w), event_set(w)))
        .prop_flat_map(|(w, events)| {
            let n = events.len();
            (
                Just(w),
                Just(events.clone()),
                Just(events).prop_shuffle(),
                prop::collection::vec(1..=n.max(1), 1..4),
            )
        });
    let cases_with_times = std::sync::atomic::AtomicUsize::new(0);
    let cases_with_live = std::sync::atomic::AtomicUsize::new(0);
    let cases_with_presence = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(w, events, shuffled, cuts)| {
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

                let expected = answers(&app, &in_order, w).await;
                let actual = answers(&app, &shuffled_tenant, w).await;
                let timed = expected
                    .iter()
                    .filter(|a| {
                        a["tile"] == "messages/response-times/count"
                            && a["answer"]["count"].as_i64() > Some(0)
                    })
                    .count();
                cases_with_times.fetch_add(timed, std::sync::atomic::Ordering::Relaxed);
                let live = expected
                    .iter()
                    .filter(|a| {
                        a["tile"] == "conversations/live/count"
                            && a["answer"]["total"].as_i64() > Some(0)
                    })
                    .count();
                cases_with_live.fetch_add(live, std::sync::atomic::Ordering::Relaxed);
                let present = expected
                    .iter()
                    .filter(|a| {
                        a["tile"] == "presence/availability/count/by-users"
                            && a["answer"]["groups"].as_array().is_some_and(|g| {
                                g.iter().any(|g| g["seconds"].as_f64() > Some(0.0))
                            })
                    })
                    .count();
                cases_with_presence.fetch_add(present, std::sync::atomic::Ordering::Relaxed);
                prop_assert_eq!(actual, expected);
                Ok(())
            })
        })
        .unwrap_or_else(|e| panic!("order independence: {e}"));
    // (Too few cases to say, when PROPTEST_CASES asks for a handful.)
    assert!(
        cases < 8 || cases_with_times.into_inner() > 0,
        "the generated sets must exercise derived times, not only empty answers"
    );
    assert!(
        cases < 8 || cases_with_live.into_inner() > 0,
        "the generated sets must end conversations inside the range"
    );
    assert!(
        cases < 8 || cases_with_presence.into_inner() > 0,
        "the generated sets must exercise presence time, not only empty answers"
    );
}
