//! What the OpenAPI document says of the data sources, from the catalogue:
//! the schemas of the two events, each source's columns, and the bodies.

use serde_json::{json, Map, Value};

use super::catalogue::{Field, Kind, MAX_SECONDS, MAX_STRINGS, MAX_STRING_ITEM};
use super::{Source, MAX_RANGE_DAYS};
use crate::ingest::events::EventKind;

/// The JSON Schema of one value of `kind`.
fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Id => json!({"type": "string", "minLength": 1, "maxLength": 128}),
        Kind::Text(max) => json!({"type": "string", "maxLength": max}),
        Kind::Uuid => json!({"type": "string", "format": "uuid"}),
        Kind::Seconds => json!({"type": "number", "minimum": 0, "maximum": MAX_SECONDS}),
        Kind::Number => json!({"type": "number", "minimum": 0}),
        Kind::Instant => json!({"type": "string", "format": "date-time"}),
        Kind::Boolean => json!({"type": "boolean"}),
        Kind::Strings => json!({"type": "array", "maxItems": MAX_STRINGS,
            "items": {"type": "string", "maxLength": MAX_STRING_ITEM}}),
        Kind::Enum(values) => json!({"type": "string", "enum": values}),
    }
}

/// How a column's type is named in the descriptions.
fn kind_name(kind: Kind) -> String {
    match kind {
        Kind::Id | Kind::Text(_) | Kind::Uuid => "string".into(),
        Kind::Seconds => "seconds".into(),
        Kind::Number => "number".into(),
        Kind::Instant => "instant".into(),
        Kind::Boolean => "boolean".into(),
        Kind::Strings => "list of strings".into(),
        Kind::Enum(values) => values.join("|"),
    }
}

/// The schema of an event of a data source: the envelope and its fields.
pub fn event_schema(kind: EventKind, fields: &[Field], description: &str) -> Value {
    let mut properties = Map::new();
    properties.insert("id".into(), kind_schema(Kind::Id));
    properties.insert(
        "type".into(),
        json!({"type": "string", "enum": [kind.as_str()]}),
    );
    properties.insert(
        "occurredAt".into(),
        json!({"type": "string", "format": "date-time"}),
    );
    let mut required = vec!["id", "type", "occurredAt"];
    for field in fields {
        properties.insert(field.name.into(), kind_schema(field.kind));
        if field.required {
            required.push(field.name);
        }
    }
    json!({"type": "object", "description": description, "required": required,
        "properties": properties})
}

/// Each source's columns, with their types; the SMS additional ones marked.
pub fn columns_description() -> String {
    let mut out = String::new();
    for source in Source::ALL {
        let columns: Vec<String> = source
            .columns()
            .iter()
            .map(|c| {
                let extra = if c.additional { ", additional" } else { "" };
                format!("`{}` ({}{extra})", c.id, kind_name(c.kind()))
            })
            .collect();
        out.push_str(&format!("\n\n`{source}`: {}.", columns.join(", ")));
    }
    out
}

/// The body of a rows request: `RowsBody`, with `columns` and
/// `orderBy.column` limited to the ids of some source (which ids a source
/// has is in the description; another source's id is 422).
pub fn body_schema() -> Value {
    let mut ids: Vec<&str> = Source::ALL
        .iter()
        .flat_map(|s| s.columns().iter().map(|c| c.id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    json!({"allOf": [
        {"$ref": "#/components/schemas/RowsBody"},
        {"type": "object", "required": ["filters"], "properties": {
            "filters": {"type": "object", "required": ["from", "to"]},
            "columns": {"type": "array", "minItems": 1, "uniqueItems": true,
                "items": {"type": "string", "enum": ids}},
            "orderBy": {"type": "object", "required": ["column"], "properties": {
                "column": {"type": "string", "enum": ids},
                "direction": {"type": "string", "enum": ["Ascending", "Descending"]}}},
        }},
    ]})
}

/// The description of the rows operation.
pub fn description(export: bool) -> String {
    let answer = if export {
        "CSV (RFC 4180, header row always): the column ids asked for, then one line per row, \
         streamed, at most 1,000,000 rows; null is an empty field, a boolean `true`/`false`, \
         seconds a decimal number, an instant UTC with `Z` and milliseconds, a list of strings \
         its JSON text. `Accept` must be absent, `*/*` or `text/csv`, else 404."
    } else {
        "Answer: `{\"rows\": [{column id: value, …}], \"truncated\"}`, the keys in the order \
         of `columns`, at most 1,000 rows (`truncated` true when more matched); absent values \
         are null, instants UTC with `Z` and milliseconds, seconds numbers."
    };
    format!(
        "The rows of an ino.cx data source (`name`): `incoming-distributions` and \
         `outgoing-distributions` (the `distribution.completed` events of that `direction`), \
         `messages` (one row per distribution, either direction) and `sms` (one row per \
         `sms.sent`). A distribution (or SMS) described by several events (same \
         `distributionId` or `smsId`) is one row, its latest description (greatest \
         `occurredAt`, then event id). Rows whose date (`occurredAt`: the distribution or send \
         date) is in `[from, to)`, at most {MAX_RANGE_DAYS} days (422 past it, or when `to` is \
         not after `from`). `filters.queues` / `filters.users` keep rows of those `queueId` / \
         `userId` (an empty list is no filter; another tenant's ids match nothing). `queue` and \
         `user` show the directory names (`name`; `firstName lastName`), null when unknown. \
         `columns` (default: the source's main list; for `sms` its additional columns only when \
         named): an unknown or repeated column is 422, the message listing the valid ones. \
         `orderBy` `{{\"column\", \"direction\"}}` (`Ascending` default; any other value, or a \
         column not of the source, is 422) orders by that column (text by its bytes, nulls \
         last), then by date and event id; the default is the source's date (`distributionDate`, \
         `sendDate`) ascending. An unknown `name` is 404. {answer} Columns by source:{}",
        columns_description()
    )
}
