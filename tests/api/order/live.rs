//! Conversation events for the order-independence property: conversations
//! on WebChat or Voice with every kind of `conversation.*` event and
//! messages carrying the conversationId, at minutes with deliberate ties;
//! and the live tiles and view/conversations to ask about them.

use chrono::Duration;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::messages::{ACC, Q1, Q2, U1};
use crate::rollups::{snapshot, window_start, ACC2, NIL, OPTION_A, SELECT, WINDOWS};

/// One generated event of a conversation.
#[derive(Debug, Clone)]
enum Step {
    /// A `conversation.started` (a conversation may get none, or several).
    Started,
    IvrEntered,
    IvrExited,
    Connected,
    Message {
        inbound: bool,
        automated: bool,
    },
    /// A `conversation.ended` (none, or several).
    Ended,
}

fn step() -> impl Strategy<Value = (u32, Step, usize, Value)> {
    let message =
        (any::<bool>(), prop::bool::weighted(0.2)).prop_map(|(inbound, automated)| Step::Message {
            inbound,
            automated: !inbound && automated,
        });
    let kind = prop_oneof![
        1 => Just(Step::Started),
        1 => Just(Step::IvrEntered),
        1 => Just(Step::IvrExited),
        2 => Just(Step::Connected),
        4 => message,
        1 => Just(Step::Ended),
    ];
    // Five-minute steps over six hours: ties are frequent.
    ((0u32..72).prop_map(|m| m * 5), kind, 0..6usize, snapshot())
}

/// Up to four conversations around the DST change of window `w`; each
/// belongs to interaction `i<k>` (those of the interaction events).
pub fn conversation_set(w: usize) -> impl Strategy<Value = Vec<Value>> {
    let base = window_start(w, 3);
    // Mostly one start and one end (sometimes none or two), and the rest.
    let bookends = (
        prop::sample::select(vec![0usize, 1, 1, 1, 1, 2]),
        prop::sample::select(vec![0usize, 1, 1, 1, 1, 2]),
    );
    let conversation = (
        any::<bool>(),
        bookends,
        prop::collection::vec(step(), 0..8),
        prop::collection::vec(step(), 4),
    )
        .prop_map(|(voice, (starts, ends), mut steps, extra)| {
            for (i, (minute, _, who, data)) in extra.into_iter().enumerate() {
                // Starts mostly early and ends mostly late, so that
                // the steps between them decide the class.
                let (kind, minute) = if i < starts {
                    (Step::Started, minute.min(120))
                } else if i >= 2 && i - 2 < ends {
                    (Step::Ended, minute.max(180))
                } else {
                    continue;
                };
                steps.push((minute, kind, who, data));
            }
            (voice, steps)
        });
    prop::collection::vec(conversation, 0..5).prop_map(move |conversations| {
        let mut events = Vec::new();
        for (k, (voice, steps)) in conversations.into_iter().enumerate() {
            let conversation = format!("c{k}");
            let interaction = format!("i{k}");
            let channel = if voice { "Voice" } else { "WebChat" };
            for (n, (minute, step, who, data)) in steps.into_iter().enumerate() {
                let (account, queue) = ([ACC, ACC2][who % 2], [Q1, Q2, NIL][who % 3]);
                let direction = if voice {
                    json!(["Inbound", "Outbound"][who % 2])
                } else {
                    Value::Null
                };
                let at = (base + Duration::minutes(i64::from(minute))).to_rfc3339();
                let id = format!("{conversation}-{n}");
                let mut event = json!({"id": id, "occurredAt": at, "conversationId": conversation});
                let fields = match step {
                    Step::Started => json!({"type": "conversation.started",
                        "interactionId": interaction, "channel": channel,
                        "accountId": account, "queueId": queue, "direction": direction,
                        "data": data}),
                    Step::IvrEntered => json!({"type": "conversation.ivr_entered"}),
                    Step::IvrExited => json!({"type": "conversation.ivr_exited"}),
                    Step::Connected => {
                        json!({"type": "conversation.operator_connected", "userId": U1})
                    }
                    Step::Ended => json!({"type": "conversation.ended"}),
                    Step::Message { inbound, automated } => json!({"type": "message.created",
                        "interactionId": interaction, "channel": channel, "automated": automated,
                        "direction": if inbound { "Inbound" } else { "Outbound" }}),
                };
                if let (Some(map), Value::Object(fields)) = (event.as_object_mut(), fields) {
                    map.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
                }
                events.push(event);
            }
        }
        events
    })
}

/// The live tiles in several shapes, and view/conversations, in the zone of
/// window `w`.
pub fn questions(w: usize) -> Vec<(&'static str, Value)> {
    let zone = WINDOWS[w].0;
    let span = |start: i64, hours: i64, extra: Value| {
        let from = window_start(w, start);
        let mut filters =
            json!({"from": from.to_rfc3339(), "to": (from + Duration::hours(hours)).to_rfc3339()});
        if let (Some(map), Value::Object(extra)) = (filters.as_object_mut(), extra) {
            map.extend(extra);
        }
        filters
    };
    let mut list = Vec::new();
    for channel in ["WebChat", "Voice"] {
        let ask =
            |filters: Value| json!({"newState": ["Closed"], "timeZone": zone, "filters": filters});
        let mut by_accounts = |tile: &'static str, filters: Value| {
            let mut body = ask(filters);
            body["accounts"] = json!([ACC, ACC2, U1]);
            list.push((tile, body));
        };
        by_accounts(
            "conversations/live/count/by-accounts/totals",
            span(12, 24, json!({"channel": channel})),
        );
        by_accounts(
            "conversations/live/by-date/by-accounts/percentages",
            span(3, 6, json!({"channel": channel, "groupBy": "Hour"})),
        );
        by_accounts(
            "conversations/live/count/by-accounts/durations",
            span(12, 24, json!({"channel": channel, "queues": [Q1, NIL]})),
        );
        by_accounts(
            "conversations/live/by-date/by-accounts/durations",
            span(36, 72, json!({"channel": channel, "groupBy": "Day"})),
        );
        list.push((
            "conversations/live/count",
            ask(span(12, 24, json!({"channel": channel}))),
        ));
        list.push((
            "conversations/live/by-date",
            ask(span(
                3,
                6,
                json!({"channel": channel, "groupBy": "Hour",
                "data": [{"id": SELECT, "values": [OPTION_A]}]}),
            )),
        ));
        let mut view = span(12, 24, json!({"channel": channel, "newState": ["Closed"]}));
        if channel == "Voice" {
            view["direction"] = json!("Inbound");
        }
        list.push((
            "view/conversations",
            json!({"filters": view, "orderBy": "Descending", "contexts": ["Account", "Queue"]}),
        ));
    }
    let mut inbound = json!({"newState": ["Closed"], "direction": "Inbound", "timeZone": zone,
        "filters": span(12, 24, json!({"channel": "Voice", "queues": [Q2]}))});
    inbound["filters"]["data"] = json!([{"id": SELECT}]);
    list.push(("conversations/live/count", inbound));
    list
}
