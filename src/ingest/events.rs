//! The event vocabulary of API.md §3 and its validation: every event is
//! parsed into its typed form and re-serialised, so what is stored is
//! normalised (defaults filled, UUIDs canonical, instants in UTC).

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{
    string_enum, Channel, ContentType, DataKind, DeliveryStatus, Direction, EndedBy,
    InteractionState, Keyword,
};
use crate::error::{from_path_error, FieldError};

string_enum!(
    /// The type of an ingested event.
    EventKind {
        InteractionStateChanged = "interaction.state_changed",
        MessageCreated = "message.created",
        ConversationStarted = "conversation.started",
        ConversationIvrEntered = "conversation.ivr_entered",
        ConversationIvrExited = "conversation.ivr_exited",
        ConversationOperatorConnected = "conversation.operator_connected",
        ConversationEnded = "conversation.ended",
        PresenceChanged = "presence.changed",
        UnitOfWorkCompleted = "unit_of_work.completed",
        DirectoryUser = "directory.user",
        DirectoryQueue = "directory.queue",
        DirectoryAccount = "directory.account",
        DirectoryDataType = "directory.data_type",
        DistributionCompleted = "distribution.completed",
        SmsSent = "sms.sent",
    }
);

/// A string of at most `MAX` characters (and at least one when `NONEMPTY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize, const NONEMPTY: bool = true>(pub String);

impl<'de, const MAX: usize, const NONEMPTY: bool> Deserialize<'de> for Text<MAX, NONEMPTY> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if NONEMPTY && s.is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        if s.chars().count() > MAX {
            return Err(serde::de::Error::custom(format!(
                "must be at most {MAX} characters"
            )));
        }
        Ok(Self(s))
    }
}

/// Interaction, conversation, message and event ids: opaque, 1–128 chars.
pub type OpaqueId = Text<128>;

/// An instant that must carry an offset; stored in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Instant(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        DateTime::<FixedOffset>::parse_from_rfc3339(&s)
            .map(|t| Self(t.with_timezone(&Utc)))
            .map_err(|_| {
                serde::de::Error::custom(
                    "must be an RFC 3339 instant with an offset, e.g. 2026-03-29T01:30:00Z",
                )
            })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    id: OpaqueId,
    #[serde(rename = "type")]
    kind: EventKind,
    occurred_at: Instant,
}

/// One item of an interaction's dynamic data snapshot.
#[derive(Debug, Deserialize, Serialize)]
pub struct DataItem {
    pub id: Uuid,
    #[serde(default)]
    pub values: Vec<Text<1000, false>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct InteractionStateChanged {
    interaction_id: OpaqueId,
    reference: Text<256, false>,
    channel: Channel,
    old_state: Option<InteractionState>,
    new_state: InteractionState,
    queue_id: Option<Uuid>,
    user_id: Option<Uuid>,
    data: Option<Vec<DataItem>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageCreated {
    interaction_id: OpaqueId,
    conversation_id: Option<OpaqueId>,
    direction: Direction,
    #[serde(default)]
    automated: bool,
    channel: Channel,
    queue_id: Option<Uuid>,
    account_id: Option<Uuid>,
    user_id: Option<Uuid>,
    #[serde(default = "text_content")]
    content_type: ContentType,
    from_address: Option<Text<320, false>>,
    to_address: Option<Text<320, false>>,
    keyword: Option<Keyword>,
    delivery_status: Option<DeliveryStatus>,
    status_code: Option<Text<64, false>>,
    data: Option<Vec<DataItem>>,
}

fn text_content() -> ContentType {
    ContentType::Text
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationStarted {
    conversation_id: OpaqueId,
    interaction_id: OpaqueId,
    channel: Channel,
    account_id: Option<Uuid>,
    queue_id: Option<Uuid>,
    data: Option<Vec<DataItem>>,
    direction: Option<Direction>,
    initiation_method: Option<Text<64, false>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationRef {
    conversation_id: OpaqueId,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct OperatorConnected {
    conversation_id: OpaqueId,
    user_id: Uuid,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationEnded {
    conversation_id: OpaqueId,
    ended_by: Option<EndedBy>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct PresenceChanged {
    user_id: Uuid,
    /// `Online`, `Away`, `Busy`, `Offline` or a tenant-defined name.
    state: Text<64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Actions {
    closed: u32,
    messages: u32,
    data_changes: u32,
    notes: u32,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct UnitOfWorkCompleted {
    interaction_id: OpaqueId,
    user_id: Uuid,
    assigned_at: Instant,
    user_state: Text<64>,
    actions: Actions,
    channel: Channel,
    queue_id: Option<Uuid>,
    data: Option<Vec<DataItem>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryUser {
    user_id: Uuid,
    email: Text<320>,
    first_name: Text<200, false>,
    last_name: Text<200, false>,
    roles: Vec<Text<64>>,
    control_group: Option<Text<200, false>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryQueue {
    queue_id: Uuid,
    name: Text<200>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryAccount {
    account_id: Uuid,
    name: Text<200>,
    channel: Channel,
}

#[derive(Debug, Deserialize, Serialize)]
struct DataOption {
    id: Uuid,
    name: Text<200>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryDataType {
    data_type_id: Uuid,
    name: Text<200>,
    kind: DataKind,
    reportable: bool,
    #[serde(default)]
    options: Vec<DataOption>,
}

/// An event that passed validation, ready to store.
#[derive(Debug, Clone)]
pub struct ValidEvent {
    pub id: String,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    /// The normalised event, envelope included.
    pub payload: Value,
}

fn normalise<T: DeserializeOwned + Serialize>(
    value: &Value,
    prefix: &str,
) -> Result<Value, FieldError> {
    let typed: T =
        serde_path_to_error::deserialize(value).map_err(|e| from_path_error(prefix, e))?;
    serde_json::to_value(typed).map_err(|e| FieldError::new(prefix, e.to_string()))
}

/// Validates the event at `index` of a batch; errors name `[index].path`.
pub fn validate(index: usize, value: &Value) -> Result<ValidEvent, FieldError> {
    let prefix = format!("[{index}]");
    if !value.is_object() {
        return Err(FieldError::new(prefix, "each event must be a JSON object"));
    }
    let envelope: Envelope =
        serde_path_to_error::deserialize(value).map_err(|e| from_path_error(&prefix, e))?;
    use EventKind as K;
    let mut payload = match envelope.kind {
        K::InteractionStateChanged => normalise::<InteractionStateChanged>(value, &prefix)?,
        K::MessageCreated => normalise::<MessageCreated>(value, &prefix)?,
        K::ConversationStarted => normalise::<ConversationStarted>(value, &prefix)?,
        K::ConversationIvrEntered | K::ConversationIvrExited => {
            normalise::<ConversationRef>(value, &prefix)?
        }
        K::ConversationOperatorConnected => normalise::<OperatorConnected>(value, &prefix)?,
        K::ConversationEnded => normalise::<ConversationEnded>(value, &prefix)?,
        K::PresenceChanged => normalise::<PresenceChanged>(value, &prefix)?,
        K::UnitOfWorkCompleted => normalise::<UnitOfWorkCompleted>(value, &prefix)?,
        K::DirectoryUser => normalise::<DirectoryUser>(value, &prefix)?,
        K::DirectoryQueue => normalise::<DirectoryQueue>(value, &prefix)?,
        K::DirectoryAccount => normalise::<DirectoryAccount>(value, &prefix)?,
        K::DirectoryDataType => normalise::<DirectoryDataType>(value, &prefix)?,
        K::DistributionCompleted | K::SmsSent => {
            let fields = super::datasources::fields(envelope.kind).unwrap_or_default();
            super::datasources::normalise(fields, value, &prefix)?
        }
    };
    // PostgreSQL cannot store NUL in text or jsonb: refuse it here, by path.
    if let Some(path) = crate::report::request::nul_at(&payload, &prefix) {
        return Err(FieldError::new(
            path,
            "must not contain the NUL character (U+0000)",
        ));
    }
    if let Value::Object(map) = &mut payload {
        // Absent optionals are stored as absent, not null.
        map.retain(|_, v| !v.is_null());
        map.insert("id".into(), Value::String(envelope.id.0.clone()));
        map.insert("type".into(), Value::String(envelope.kind.as_str().into()));
        map.insert(
            "occurredAt".into(),
            serde_json::to_value(envelope.occurred_at).unwrap_or(Value::Null),
        );
    }
    Ok(ValidEvent {
        id: envelope.id.0,
        kind: envelope.kind,
        occurred_at: envelope.occurred_at.0,
        payload,
    })
}
