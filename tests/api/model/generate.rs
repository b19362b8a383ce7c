//! Generated event sets and questions for the model-based test.
//!
//! Events: a few interactions around a DST change, each a chain of state
//! audits (hand-overs `Assigned → Assigned` and `Queued → Queued` included)
//! and messages (inbound, responding, automated), with many ties on the
//! instant (an audit and a message at the same instant, two messages at
//! the same instant), gaps of days, every channel, queue, user, account and
//! data snapshot; units of work; directory entries, some described twice.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::calendar::Grain;
use super::reference::{Fact, Model};
use super::tiles::{ByData, Dim, Family, Question};

pub const QUEUES: [&str; 3] = [
    "0b7e6c1e-0000-4000-8000-000000000001",
    "0b7e6c1e-0000-4000-8000-000000000002",
    "0b7e6c1e-0000-4000-8000-000000000003",
];
pub const USERS: [&str; 3] = [
    "5e7e6c1e-0000-4000-8000-000000000001",
    "5e7e6c1e-0000-4000-8000-000000000002",
    "5e7e6c1e-0000-4000-8000-000000000003",
];
pub const ACCOUNTS: [&str; 2] = [
    "acc00000-0000-4000-8000-000000000001",
    "acc00000-0000-4000-8000-000000000002",
];
/// A SingleSelect data type with three options, and a StringEditor one.
pub const SELECT: &str = "da7a0000-0000-4000-8000-000000000001";
pub const OPTIONS: [&str; 3] = [
    "0a700000-0000-4000-8000-000000000001",
    "0a700000-0000-4000-8000-000000000002",
    "0a700000-0000-4000-8000-000000000003",
];
pub const FREE_TEXT: &str = "da7a0000-0000-4000-8000-000000000002";
const WORDS: [&str; 3] = ["alpha", "beta", "gamma"];

pub const CHANNELS: [&str; 10] = [
    "Email",
    "SMS",
    "Voice",
    "WebChat",
    "Facebook",
    "Instagram",
    "Twitter",
    "TrustPilot",
    "WhatsApp",
    "Telegram",
];
const STATES: [&str; 6] = [
    "Draft",
    "Created",
    "Queued",
    "Assigned",
    "Automation",
    "Closed",
];
/// The start of each generated window: a few hours before a DST change of
/// a zone the questions use.
const WINDOWS: [&str; 5] = [
    "2026-03-28T20:00:00Z", // Berlin springs forward at 01:00Z on the 29th
    "2026-10-24T21:00:00Z", // Berlin falls back at 01:00Z on the 25th
    "2026-11-01T02:00:00Z", // New York falls back at 06:00Z on 1 November
    "2026-04-04T10:00:00Z", // Chatham (14:00Z) and Lord Howe (15:00Z) fall back
    "2026-09-26T10:00:00Z", // Chatham springs forward at 14:00Z
];
const ZONES: [&str; 7] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
];
/// Minutes between consecutive steps: ties are common, days are possible.
const GAPS: [i64; 10] = [0, 0, 0, 1, 2, 5, 30, 90, 1440, 2 * 1440];

pub fn window_start(window: usize) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(WINDOWS[window])
        .expect("window")
        .with_timezone(&Utc)
}

/// One step of an interaction.
#[derive(Debug, Clone)]
pub enum Step {
    /// To `state` (any of the six), or, when `lifecycle`, to a likely next
    /// state of the previous one (so queue, IVR and response times occur).
    Audit {
        state: usize,
        lifecycle: bool,
        odd_old: Option<usize>,
    },
    Message {
        inbound: bool,
        automated: bool,
    },
}

/// Likely next states of an interaction (hand-overs and queue changes
/// included).
fn likely_next(previous: Option<&str>) -> &'static [&'static str] {
    match previous {
        None => &["Draft", "Created", "Queued", "Automation"],
        Some("Draft") => &["Created", "Queued", "Automation"],
        Some("Created") => &["Queued", "Automation", "Assigned"],
        Some("Queued") => &["Assigned", "Assigned", "Queued", "Closed"],
        Some("Assigned") => &["Assigned", "Closed", "Queued", "Assigned"],
        Some("Automation") => &["Queued", "Assigned", "Closed", "Automation"],
        _ => &["Queued", "Assigned", "Automation"],
    }
}

/// A step with its gap and its context (indices into the constants).
#[derive(Debug, Clone)]
pub struct Timed {
    gap: usize,
    millis: Option<u16>,
    step: Step,
    queue: usize,
    user: usize,
    account: usize,
    data: usize,
}

fn timed() -> impl Strategy<Value = Timed> {
    let step = prop_oneof![
        3 => (0..12usize, prop::bool::weighted(0.75), prop::option::weighted(0.05, 0..STATES.len()))
            .prop_map(|(state, lifecycle, odd_old)| Step::Audit { state, lifecycle, odd_old }),
        3 => (any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(inbound, automated)| Step::Message { inbound, automated }),
    ];
    (
        0..GAPS.len(),
        prop::option::weighted(0.3, 0u16..60_000),
        step,
        0..5usize,
        0..4usize,
        0..3usize,
        0..6usize,
    )
        .prop_map(|(gap, millis, step, queue, user, account, data)| Timed {
            gap,
            millis,
            step,
            queue,
            user,
            account,
            data,
        })
}

/// An optional id from a list: the last index (and beyond) is none.
fn pick(list: &[&str], i: usize) -> Value {
    list.get(i).map_or(Value::Null, |v| json!(v))
}

/// The data snapshots a step may carry (index 0: none).
fn snapshot(i: usize) -> Value {
    match i {
        0 => Value::Null,
        1 => json!([{"id": SELECT, "values": [OPTIONS[0]]}]),
        2 => {
            json!([{"id": SELECT, "values": [OPTIONS[1]]}, {"id": FREE_TEXT, "values": [WORDS[0]]}])
        }
        3 => json!([{"id": FREE_TEXT, "values": [WORDS[1], WORDS[2]]}]),
        4 => json!([{"id": SELECT, "values": [OPTIONS[2], OPTIONS[0]]}]),
        // A value repeated within an item still counts the event once.
        5 => {
            json!([{"id": FREE_TEXT, "values": [WORDS[1], WORDS[1]]}, {"id": SELECT, "values": [OPTIONS[1]]}])
        }
        _ => json!([{"id": FREE_TEXT, "values": [WORDS[2]]}, {"id": SELECT, "values": []}]),
    }
}

/// An interaction's reference, changed by some audits; fixed width and
/// digits after a common prefix, so every collation orders them alike.
fn reference(interaction: usize, variant: usize) -> String {
    format!("REF{interaction:02}{:02}", variant % 3)
}

fn at(start: DateTime<Utc>, minutes: i64, millis: Option<u16>) -> String {
    (start + Duration::minutes(minutes) + Duration::milliseconds(i64::from(millis.unwrap_or(0))))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The events of one generated set (ids unique; no duplicates yet).
pub fn events(window: usize, interactions: &[(usize, Vec<Timed>)], works: &[Work]) -> Vec<Value> {
    let start = window_start(window);
    let mut out = directory(start);
    for (i, (channel, steps)) in interactions.iter().enumerate() {
        let interaction = format!("i{i}");
        let channel = CHANNELS[*channel % CHANNELS.len()];
        let mut minute = (i as i64) * 7;
        let mut previous: Option<&str> = None;
        for (n, t) in steps.iter().enumerate() {
            minute += GAPS[t.gap];
            let id = format!("{interaction}-{n:02}");
            let when = at(start, minute, t.millis);
            match &t.step {
                Step::Audit {
                    state,
                    lifecycle,
                    odd_old,
                } => {
                    let old = match odd_old {
                        Some(o) => Some(STATES[*o]),
                        None => previous,
                    };
                    let new = if *lifecycle {
                        let next = likely_next(previous);
                        next[state % next.len()]
                    } else {
                        STATES[state % STATES.len()]
                    };
                    out.push(json!({"id": id, "type": "interaction.state_changed", "occurredAt": when,
                        "interactionId": interaction, "reference": reference(i, t.data), "channel": channel,
                        "oldState": old, "newState": new, "queueId": pick(&QUEUES, t.queue),
                        "userId": pick(&USERS, t.user), "data": snapshot(t.data)}));
                    previous = Some(new);
                }
                Step::Message { inbound, automated } => {
                    out.push(json!({"id": id, "type": "message.created", "occurredAt": when,
                        "interactionId": interaction, "direction": if *inbound { "Inbound" } else { "Outbound" },
                        "automated": *automated, "channel": channel, "queueId": pick(&QUEUES, t.queue),
                        "accountId": pick(&ACCOUNTS, t.account),
                        "userId": if *inbound { Value::Null } else { pick(&USERS, t.user) },
                        "data": snapshot(t.data)}));
                }
            }
        }
    }
    for (n, (minute, user, channel, queue, actions, data)) in works.iter().enumerate() {
        let when = at(start, i64::from(*minute), None);
        out.push(json!({"id": format!("w{n:02}"), "type": "unit_of_work.completed", "occurredAt": when,
            "interactionId": format!("i{n}"), "userId": USERS[*user % USERS.len()],
            "assignedAt": at(start, i64::from(*minute) - 5, None), "userState": "Online",
            "actions": {"closed": actions[0], "messages": actions[1], "dataChanges": actions[2], "notes": actions[3]},
            "channel": CHANNELS[*channel % CHANNELS.len()], "queueId": pick(&QUEUES, *queue),
            "data": snapshot(*data)}));
    }
    // Absent optionals are absent, not null.
    for e in &mut out {
        if let Some(map) = e.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
    }
    out
}

/// Directory entries: names for two of three queues (the first described
/// twice: the later description wins), users, accounts, data types.
fn directory(start: DateTime<Utc>) -> Vec<Value> {
    let t = |m: i64| at(start, m, None);
    vec![
        json!({"id": "d-q1-old", "type": "directory.queue", "occurredAt": t(0), "queueId": QUEUES[0], "name": "Sales (old)"}),
        json!({"id": "d-q1-new", "type": "directory.queue", "occurredAt": t(60), "queueId": QUEUES[0], "name": "Sales"}),
        json!({"id": "d-q2", "type": "directory.queue", "occurredAt": t(0), "queueId": QUEUES[1], "name": "Support"}),
        json!({"id": "d-u1", "type": "directory.user", "occurredAt": t(0), "userId": USERS[0], "email": "a@x.test",
            "firstName": "Ada", "lastName": "Lovelace", "roles": ["Agent"]}),
        json!({"id": "d-u2", "type": "directory.user", "occurredAt": t(0), "userId": USERS[1], "email": "b@x.test",
            "firstName": "Grace", "lastName": "", "roles": []}),
        json!({"id": "d-a1", "type": "directory.account", "occurredAt": t(0), "accountId": ACCOUNTS[0], "name": "Main", "channel": "SMS"}),
        json!({"id": "d-dt1", "type": "directory.data_type", "occurredAt": t(0), "dataTypeId": SELECT, "name": "Topic",
            "kind": "SingleSelect", "reportable": true,
            "options": [{"id": OPTIONS[0], "name": "Billing"}, {"id": OPTIONS[1], "name": "Returns"}, {"id": OPTIONS[2], "name": "Other"}]}),
        json!({"id": "d-dt2", "type": "directory.data_type", "occurredAt": t(0), "dataTypeId": FREE_TEXT, "name": "Note",
            "kind": "StringEditor", "reportable": true, "options": []}),
    ]
}

pub type Interactions = Vec<(usize, Vec<Timed>)>;
/// A unit of work: minute, user, channel, queue, action counts, snapshot.
pub type Work = (u32, usize, usize, usize, [u8; 4], usize);
pub type Works = Vec<Work>;

/// A whole generated set: its window, interactions and units of work.
pub fn event_set() -> impl Strategy<Value = (usize, Interactions, Works)> {
    let interaction = (0..CHANNELS.len(), prop::collection::vec(timed(), 1..16));
    let work = (
        0u32..(4 * 1440),
        0..3usize,
        0..CHANNELS.len(),
        0..4usize,
        prop::array::uniform4(0u8..3),
        0..7usize,
    );
    (
        0..WINDOWS.len(),
        prop::collection::vec(interaction, 1..9),
        prop::collection::vec(work, 0..6),
    )
}

/// A question from a seed: every tile of the table, every zone and grain,
/// ranges aligned to hours, quarter hours or nothing, filters of every kind.
/// Most questions are anchored on a fact their tile counts: the range
/// covers it, and the filters and group keys hold its values (other
/// conditions may still exclude it).
pub fn question(model: &Model, seed: &[u32]) -> Question {
    let mut s = seed.iter().copied().cycle();
    let mut next = |n: usize| s.next().expect("cycle") as usize % n;
    let families = [
        Family::State,
        Family::State,
        Family::QueueTime,
        Family::IvrTime,
        Family::UnitOfWork,
        Family::MessageVolume,
        Family::ResponseTimes,
        Family::ResponseTimes,
    ];
    let family = families[next(families.len())];
    let dim = family.dims()[next(family.dims().len())];
    let grain = [Grain::Hour, Grain::Day, Grain::Week, Grain::Month][next(4)];
    let mut zone: Tz = ZONES[next(ZONES.len())].parse().expect("zone");
    if grain == Grain::Hour && zone == chrono_tz::Australia::Lord_Howe {
        // Around Lord Howe's 30-minute shift the service splits the hour
        // that holds it at the local half hour (see buckets.rs); the
        // rollup=raw and bucket property tests cover it.
        zone = chrono_tz::Europe::Berlin;
    }
    let by_date = (next(2) == 0).then_some((grain, zone));
    let some = |next: &mut dyn FnMut(usize) -> usize, all: &[&str]| -> Vec<String> {
        let mut chosen: Vec<String> = all
            .iter()
            .filter(|_| next(2) == 0)
            .map(|v| v.to_string())
            .collect();
        if chosen.is_empty() {
            chosen.push(all[next(all.len())].to_owned());
        }
        chosen
    };
    let mut channels = (next(4) == 0).then(|| some(&mut next, &CHANNELS));
    let mut queues = (next(4) == 0).then(|| some(&mut next, &QUEUES));
    if dim == Dim::Channel && channels.is_none() {
        channels = Some(some(&mut next, &CHANNELS));
    }
    if dim == Dim::Queue && queues.is_none() {
        queues = Some(some(&mut next, &QUEUES));
    }
    let data = match next(8) {
        0 => vec![(SELECT.to_owned(), Some(vec![OPTIONS[next(3)].to_owned()]))],
        1 => vec![(FREE_TEXT.to_owned(), None)],
        2 => vec![
            (
                SELECT.to_owned(),
                Some(vec![OPTIONS[0].to_owned(), OPTIONS[2].to_owned()]),
            ),
            (FREE_TEXT.to_owned(), Some(vec![WORDS[next(3)].to_owned()])),
        ],
        _ => vec![],
    };
    let new_states = some(&mut next, &STATES);
    let old_states = (next(3) == 0).then(|| some(&mut next, &STATES));
    let by_data = (dim == Dim::Data).then(|| {
        let order = [None, Some("Ascending"), Some("Descending")][next(3)];
        match next(3) {
            0 => ByData {
                type_id: SELECT.to_owned(),
                values: Some(some(&mut next, &OPTIONS)),
                order,
            },
            1 => ByData {
                type_id: SELECT.to_owned(),
                values: None,
                order,
            },
            _ => ByData {
                type_id: FREE_TEXT.to_owned(),
                values: (next(2) == 0).then(|| some(&mut next, &WORDS)),
                order,
            },
        }
    });
    let mut q = Question {
        family,
        dim,
        by_date,
        from: DateTime::<Utc>::UNIX_EPOCH,
        to: DateTime::<Utc>::UNIX_EPOCH,
        channels,
        queues,
        data,
        new_states,
        old_states,
        direction: ["Inbound", "Outbound"][next(2)],
        response_time: ["AdvisorResponseTime", "OriginatorWaitTime"][next(2)],
        action: ["Closed", "Message", "Data", "Note", "None", "Any"][next(6)],
        user_ids: some(&mut next, &USERS),
        accounts: some(&mut next, &ACCOUNTS),
        by_data,
    };
    let facts = q.source(model);
    let anchor = if facts.is_empty() || next(8) == 0 {
        // Anywhere near the events.
        let all: Vec<&Fact> = model
            .audits
            .iter()
            .map(|a| &a.fact)
            .chain(model.messages.iter().map(|m| &m.fact))
            .chain(model.works.iter().map(|w| &w.fact))
            .collect();
        all[next(all.len())].clone()
    } else {
        facts[next(facts.len())].clone()
    };
    let max_minutes = if matches!(by_date, Some((Grain::Hour, _))) {
        24 * 60
    } else {
        5 * 1440
    };
    let length = Duration::minutes(1 + next(max_minutes) as i64);
    let start = anchor.at - Duration::minutes(next(length.num_minutes() as usize) as i64);
    (q.from, q.to) = match next(3) {
        // Whole hours: the rollups can answer.
        0 => {
            let from = crate::model::floor(start, 3600);
            let to = crate::model::floor(from + length + Duration::minutes(59), 3600);
            let longest = from + Duration::minutes(max_minutes as i64);
            (from, to.max(from + Duration::hours(1)).min(longest))
        }
        1 => {
            let from = crate::model::floor(start, 900);
            (from, from + length)
        }
        _ => {
            let from = start - Duration::seconds(next(60) as i64);
            (from, from + length)
        }
    };
    let mut include = |list: &mut Vec<String>, value: &Option<String>| {
        if let Some(v) = value {
            if next(4) != 0 && !list.contains(v) {
                list.push(v.clone());
            }
        }
    };
    if let Some(channels) = &mut q.channels {
        include(channels, &Some(anchor.channel.clone()));
    }
    if let Some(queues) = &mut q.queues {
        include(queues, &anchor.queue);
    }
    include(&mut q.user_ids, &anchor.user);
    include(&mut q.accounts, &anchor.account);
    // Now and then a key given twice: two groups, each with its value.
    let mut repeat = |list: &mut Vec<String>| {
        if next(8) == 0 {
            list.push(list[0].clone());
        }
    };
    for list in [q.channels.as_mut(), q.queues.as_mut()]
        .into_iter()
        .flatten()
    {
        repeat(list);
    }
    repeat(&mut q.user_ids);
    repeat(&mut q.accounts);
    q
}
