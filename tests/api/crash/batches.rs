//! The batches the clients post: whole interactions, none shared between
//! batches, so each batch's rows in every table are known in advance.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use crate::messages::{Q1, Q2, U1, U2};

pub const INTERACTIONS_PER_BATCH: usize = 20;
/// Each interaction has four state audits and four messages...
pub const AUDITS: usize = 4;
pub const MESSAGES: usize = 4;
/// ... from which one queue time, two advisor response times and two
/// originator wait times are derived.
pub const QUEUE_TIMES: usize = 1;
pub const RESPONSE_TIMES: usize = 2;
pub const WAIT_TIMES: usize = 2;

/// One batch: its event ids and its body.
pub struct Batch {
    pub ids: Vec<String>,
    pub body: Value,
}

impl Batch {
    fn of(events: Vec<Value>) -> Self {
        let ids = (events.iter())
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect();
        Self {
            ids,
            body: Value::Array(events),
        }
    }
}

/// Batch `g`: interactions Draft → Queued → Assigned → Closed, each with an
/// inbound message before the assignment and another after it, each
/// answered (so queue, response and wait times are derived); interactions
/// start 13 minutes apart, so consecutive batches share hours and days.
pub fn batch(g: usize) -> Batch {
    let base = (Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single()).expect("instant");
    let mut events = Vec::new();
    for j in 0..INTERACTIONS_PER_BATCH {
        let n = (g * INTERACTIONS_PER_BATCH + j) as i64;
        let t0 = base + chrono::Duration::minutes(13 * n);
        let at = |minutes: i64| (t0 + chrono::Duration::minutes(minutes)).to_rfc3339();
        let interaction = format!("crash-{g}-{j}");
        let id = |k: usize| format!("c{g}-{j}-{k}");
        let (queue, user) = if j % 2 == 0 { (Q1, U1) } else { (Q2, U2) };
        let channel = ["Email", "SMS", "WebChat"][j % 3];
        // Queued for 2 to 5 minutes.
        let assigned = 3 + (j % 4) as i64;
        let audit = |k: usize, minutes: i64, old: Option<&str>, new: &str| {
            json!({"id": id(k), "type": "interaction.state_changed", "occurredAt": at(minutes),
                "interactionId": interaction, "reference": format!("REF-{interaction}"),
                "channel": channel, "oldState": old, "newState": new,
                "queueId": queue, "userId": user})
        };
        let message = |k: usize, minutes: i64, direction: &str| {
            let mut event = json!({"id": id(k), "type": "message.created",
                "occurredAt": at(minutes), "interactionId": interaction,
                "direction": direction, "channel": channel, "queueId": queue});
            if direction == "Outbound" {
                event["userId"] = json!(user);
            }
            event
        };
        events.extend([
            audit(0, 0, None, "Draft"),
            audit(1, 1, Some("Draft"), "Queued"),
            message(2, 2, "Inbound"),
            audit(3, assigned, Some("Queued"), "Assigned"),
            message(4, assigned + 2, "Outbound"),
            message(5, assigned + 3, "Inbound"),
            message(6, assigned + 5, "Outbound"),
            audit(7, assigned + 6, Some("Assigned"), "Closed"),
        ]);
    }
    Batch::of(events)
}

/// Client `task`'s invalid batch: one interaction whose assignment names an
/// unknown state, so the whole batch is refused with 422.
pub fn invalid_batch(task: usize) -> Batch {
    let mut events = batch(1000 + task).body.as_array().expect("array")[..8].to_vec();
    for (k, event) in events.iter_mut().enumerate() {
        event["id"] = json!(format!("refused-{task}-{k}"));
    }
    events[3]["newState"] = json!("Sleeping");
    Batch::of(events)
}
