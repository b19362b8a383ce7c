//! The two-way event as the webhook receives it: the seed's twenty
//! properties, their lengths, the nine kinds, and the validation that
//! names each bad property.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::FieldError;

/// The twenty properties, in the seed's order: the webhook's keys, the
/// listing's row keys and the flat file's columns.
pub const COLUMNS: [&str; 20] = [
    "agent_email",
    "agent_first_name",
    "agent_last_name",
    "agent_roles",
    "agent_control_group",
    "ccid",
    "customer_first_name",
    "customer_last_name",
    "product_group_id",
    "event_type",
    "event_subtype",
    "event_time",
    "control_tag",
    "twoway_channel_sid",
    "conversation_id",
    "closed_reason",
    "closed_additional_information",
    "after_hours_flag",
    "sender_type",
    "conversation_status",
];

/// The longest value of each string property (characters), as the seed says.
pub const LENGTHS: [(&str, usize); 18] = [
    ("agent_email", 100),
    ("agent_first_name", 100),
    ("agent_last_name", 100),
    ("agent_roles", 1024),
    ("agent_control_group", 100),
    ("ccid", 255),
    ("customer_first_name", 100),
    ("customer_last_name", 100),
    ("product_group_id", 255),
    ("event_type", 100),
    ("event_subtype", 100),
    ("control_tag", 100),
    ("twoway_channel_sid", 100),
    ("conversation_id", 256),
    ("closed_reason", 256),
    ("closed_additional_information", 1024),
    ("sender_type", 50),
    ("conversation_status", 50),
];

/// The nine kinds: `(event_type, event_subtype)`.
pub const KINDS: [(&str, &str); 9] = [
    ("twoway", "agent_ping"),
    ("twoway", "agent_invite"),
    ("twoway", "channel_closed"),
    ("twoway_webhook", "customer_message_sent"),
    ("twoway_webhook", "agent_message_sent"),
    ("twoway_webhook", "system_message_sent"),
    ("twoway_webhook", "member_added"),
    ("twoway_webhook", "member_removed"),
    ("twoway_webhook", "channel_added"),
];

/// The values of `sender_type`.
pub const SENDER_TYPES: [&str; 3] = ["agent", "customer", "system"];

/// A validated two-way event: its string properties by name (absent ones
/// left out), its instant, and the flag when the sender gave it.
#[derive(Debug, Clone)]
pub struct TwoWayEvent {
    texts: Map<String, Value>,
    pub event_time: DateTime<Utc>,
    pub after_hours_flag: Option<bool>,
}

impl TwoWayEvent {
    /// A string property, `None` when absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.get(name).and_then(Value::as_str)
    }

    /// The §3 id of the event this one feeds: derived from the identity,
    /// so a re-delivery maps to the same id.
    pub fn feed_id(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.text("ccid").unwrap_or_default(),
            self.text("event_type").unwrap_or_default(),
            self.text("event_subtype").unwrap_or_default(),
            &self.event_time.to_rfc3339_opts(SecondsFormat::Micros, true),
        ] {
            hash.update(part.as_bytes());
            hash.update([0x1f]);
        }
        format!("twoway:{}", hex::encode(hash.finalize()))
    }
}

fn kinds_list() -> String {
    KINDS
        .iter()
        .map(|(t, s)| format!("{t}.{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Validates one webhook body: every bad property is named (422).
pub fn validate(value: &Value) -> std::result::Result<TwoWayEvent, Vec<FieldError>> {
    let Some(object) = value.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "the body must be one JSON object",
        )]);
    };
    let mut errors = Vec::new();
    let mut texts = Map::new();
    for (name, max) in LENGTHS {
        match object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.contains('\0') => errors.push(FieldError::new(
                name,
                "must not contain the NUL character (U+0000)",
            )),
            Some(Value::String(s)) if s.chars().count() > max => {
                errors.push(FieldError::new(
                    name,
                    format!("must be at most {max} characters"),
                ));
            }
            Some(Value::String(s)) => {
                texts.insert(name.to_owned(), Value::String(s.clone()));
            }
            Some(_) => errors.push(FieldError::new(name, "must be a string")),
        }
    }
    for required in ["ccid", "event_type", "event_subtype"] {
        let named = errors.iter().any(|e| e.field == required);
        if !named
            && texts
                .get(required)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
        {
            errors.push(FieldError::new(
                required,
                "is required (a non-empty string)",
            ));
        }
    }
    let kind = (
        texts.get("event_type").and_then(Value::as_str),
        texts.get("event_subtype").and_then(Value::as_str),
    );
    if let (Some(t), Some(s)) = kind {
        if !KINDS.contains(&(t, s)) && !t.is_empty() && !s.is_empty() {
            let field = if KINDS.iter().any(|(known, _)| *known == t) {
                "event_subtype"
            } else {
                "event_type"
            };
            errors.push(FieldError::new(
                field,
                format!(
                    "`{t}.{s}` is not a two-way event; valid (event_type.event_subtype): {}",
                    kinds_list()
                ),
            ));
        }
    }
    if let Some(sender) = texts.get("sender_type").and_then(Value::as_str) {
        if !SENDER_TYPES.contains(&sender) {
            errors.push(FieldError::new(
                "sender_type",
                format!("must be one of {}", SENDER_TYPES.join(", ")),
            ));
        }
    }
    let event_time = match object.get("event_time") {
        Some(Value::String(s)) => DateTime::<FixedOffset>::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                errors.push(FieldError::new(
                    "event_time",
                    "must be an ISO 8601 instant with an offset, e.g. 2026-03-29T01:30:00Z",
                ))
            })
            .ok(),
        None | Some(Value::Null) => {
            errors.push(FieldError::new("event_time", "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("event_time", "must be a string"));
            None
        }
    };
    let after_hours_flag = match object.get("after_hours_flag") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new(
                "after_hours_flag",
                "must be a boolean (or absent)",
            ));
            None
        }
    };
    match event_time {
        Some(event_time) if errors.is_empty() => Ok(TwoWayEvent {
            texts,
            event_time,
            after_hours_flag,
        }),
        _ => Err(errors),
    }
}
