//! The events of the ino.cx data sources (API.md §5.5),
//! `distribution.completed` and `sms.sent`: validated field by field
//! against the column catalogue, and stored in their typed tables
//! (`distributions`, `sms_sent`) in the batch's transaction.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde_json::{Map, Value};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::events::{EventKind, Instant, ValidEvent};
use crate::error::FieldError;
use crate::report::datasources::catalogue::{
    Field, Kind, DISTRIBUTION_FIELDS, MAX_SECONDS, MAX_STRINGS, MAX_STRING_ITEM, SMS_FIELDS,
};

/// The fields of an event kind of this module (none for the others).
pub fn fields(kind: EventKind) -> Option<&'static [Field]> {
    match kind {
        EventKind::DistributionCompleted => Some(DISTRIBUTION_FIELDS),
        EventKind::SmsSent => Some(SMS_FIELDS),
        _ => None,
    }
}

/// Validates the fields of an event of this module and returns them
/// normalised (UUIDs canonical, instants in UTC, seconds to the
/// millisecond), without the fields its kind does not define (ignored, as
/// for every kind). Errors name `prefix.field`, like §3's.
pub fn normalise(fields: &[Field], value: &Value, prefix: &str) -> Result<Value, FieldError> {
    let mut out = Map::new();
    for field in fields {
        let path = format!("{prefix}.{}", field.name);
        match value.get(field.name) {
            None | Some(Value::Null) if field.required => {
                return Err(FieldError::new(
                    path,
                    format!("missing field `{}`", field.name),
                ));
            }
            None | Some(Value::Null) => {}
            Some(given) => {
                let normal = normalise_value(field.kind, given)
                    .map_err(|(at, message)| FieldError::new(format!("{path}{at}"), message))?;
                out.insert(field.name.to_owned(), normal);
            }
        }
    }
    Ok(Value::Object(out))
}

/// One value of `kind`; an error carries the path below the field (a list
/// item's `[i]`) and the message.
fn normalise_value(kind: Kind, value: &Value) -> Result<Value, (String, String)> {
    let fail = |message: String| Err((String::new(), message));
    let text = |max: usize, nonempty: bool, value: &Value| -> Result<Value, String> {
        let Some(s) = value.as_str() else {
            return Err(format!(
                "invalid type: {}, expected a string",
                describe(value)
            ));
        };
        if nonempty && s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().count() > max {
            return Err(format!("must be at most {max} characters"));
        }
        Ok(value.clone())
    };
    match kind {
        Kind::Id => text(128, true, value).or_else(fail),
        Kind::Text(max) => text(max, false, value).or_else(fail),
        Kind::Uuid => match value.as_str().map(Uuid::parse_str) {
            Some(Ok(id)) => Ok(Value::String(id.to_string())),
            _ => fail(format!("invalid UUID: {}", describe(value))),
        },
        Kind::Seconds | Kind::Number => {
            let max = if kind == Kind::Seconds {
                MAX_SECONDS
            } else {
                f64::MAX
            };
            match value.as_f64() {
                Some(n) if (0.0..=max).contains(&n) => {
                    let n = if kind == Kind::Seconds {
                        (n * 1000.0).round() / 1000.0
                    } else {
                        n
                    };
                    // `+ 0.0` turns -0 into 0.
                    Ok(serde_json::json!(n + 0.0))
                }
                Some(_) => fail(format!("must be a number from 0 to {max}")),
                None => fail(format!(
                    "invalid type: {}, expected a number",
                    describe(value)
                )),
            }
        }
        Kind::Instant => match serde_json::from_value::<Instant>(value.clone()) {
            Ok(at) => Ok(Value::String(
                at.0.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            )),
            Err(e) => fail(e.to_string()),
        },
        Kind::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => fail(format!(
                "invalid type: {}, expected a boolean",
                describe(value)
            )),
        },
        Kind::Strings => {
            let Some(items) = value.as_array() else {
                return fail(format!(
                    "invalid type: {}, expected a list of strings",
                    describe(value)
                ));
            };
            if items.len() > MAX_STRINGS {
                return fail(format!("may hold at most {MAX_STRINGS} values"));
            }
            for (i, item) in items.iter().enumerate() {
                text(MAX_STRING_ITEM, false, item).map_err(|m| (format!("[{i}]"), m))?;
            }
            Ok(value.clone())
        }
        Kind::Enum(values) => match value.as_str() {
            Some(s) if values.contains(&s) => Ok(value.clone()),
            _ => {
                let expected: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                fail(format!(
                    "unknown variant {}, expected one of {}",
                    describe(value),
                    expected.join(", ")
                ))
            }
        },
    }
}

/// A value as serde's messages show it.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
        Value::Null => "null".into(),
    }
}

/// The typed table of an event kind of this module.
fn table(kind: EventKind) -> Option<&'static str> {
    match kind {
        EventKind::DistributionCompleted => Some("distributions"),
        EventKind::SmsSent => Some("sms_sent"),
        _ => None,
    }
}

/// Stores the batch's events of this module in their typed tables, in the
/// batch's transaction, after the `events` insert: only an event whose id
/// the `events` table holds with this kind is stored (an id first used by
/// another kind stores nothing), and an id already stored is a no-op, so a
/// batch sent twice stores its rows once. An id repeated in the batch keeps
/// its first occurrence, as the `events` insert does.
pub async fn store(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    events: &[ValidEvent],
) -> sqlx::Result<()> {
    let mut seen = HashSet::with_capacity(events.len());
    let first: Vec<&ValidEvent> = events
        .iter()
        .filter(|e| seen.insert(e.id.as_str()))
        .collect();
    for kind in [EventKind::DistributionCompleted, EventKind::SmsSent] {
        let (Some(fields), Some(table)) = (fields(kind), table(kind)) else {
            continue;
        };
        let rows: Vec<Value> = first
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| row(tenant_id, e, fields))
            .collect();
        if rows.is_empty() {
            continue;
        }
        // The record type of the table turns each row object's keys (the
        // stored column names) into its typed columns.
        let mut qb = sqlx::QueryBuilder::<Postgres>::new("insert into ");
        qb.push(table)
            .push(" select r.* from jsonb_populate_recordset(null::")
            .push(table)
            .push(", ")
            .push_bind(Value::Array(rows))
            // The tenant as a bind, so that the join is an index probe of
            // `events` by its key per row: joined on the rows' own
            // tenant_id, the plan scanned `events` and a batch of 5,000
            // took 9-15 s at 1M events (found by the bench).
            .push(") r join events e on e.tenant_id = ")
            .push_bind(tenant_id)
            .push(" and e.event_id = r.event_id and e.event_type = ")
            .push_bind(kind.as_str())
            .push(" on conflict (tenant_id, event_id) do nothing");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// One typed row as a JSON object keyed by the table's column names.
fn row(tenant_id: Uuid, event: &ValidEvent, fields: &[Field]) -> Value {
    let mut row = Map::new();
    row.insert("tenant_id".into(), Value::String(tenant_id.to_string()));
    row.insert("event_id".into(), Value::String(event.id.clone()));
    row.insert(
        "occurred_at".into(),
        Value::String(pg_instant(event.occurred_at)),
    );
    for field in fields {
        let Some(value) = event.payload.get(field.name) else {
            continue;
        };
        let instant = value
            .as_str()
            .filter(|_| field.kind == Kind::Instant)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let value = match instant {
            Some(t) => Value::String(pg_instant(t.with_timezone(&Utc))),
            None => value.clone(),
        };
        row.insert(field.column.to_owned(), value);
    }
    Value::Object(row)
}

/// An instant as PostgreSQL's text input reads it: RFC 3339 has a year
/// 0000 (1 BC), which PostgreSQL spells `0001-… BC`.
fn pg_instant(t: DateTime<Utc>) -> String {
    if t.year() >= 1 {
        return t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    }
    format!("{:04}-{} BC", 1 - t.year(), t.format("%m-%dT%H:%M:%S%.fZ"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalises_and_names_the_field_to_blame() {
        let event = json!({"distributionId": "d1", "direction": "Incoming",
            "waitTime": 1.23456, "queueId": "51A4C6A2-0C7E-4B7E-9D1A-5E0E0C0FFEE1",
            "checkpoints": ["a"], "sessionStart": "2026-01-01T10:00:00+01:00", "unknown": 1});
        let normal = normalise(DISTRIBUTION_FIELDS, &event, "[0]").expect("valid");
        assert_eq!(normal["waitTime"], json!(1.235));
        assert_eq!(normal["queueId"], "51a4c6a2-0c7e-4b7e-9d1a-5e0e0c0ffee1");
        assert_eq!(normal["sessionStart"], "2026-01-01T09:00:00Z");
        assert!(normal.get("unknown").is_none());
        let bad = json!({"distributionId": "d1", "direction": "Incoming", "checkpoints": ["a", 3]});
        let error = normalise(DISTRIBUTION_FIELDS, &bad, "[2]").expect_err("invalid");
        assert_eq!(error.field, "[2].checkpoints[1]");
        let year_zero = DateTime::parse_from_rfc3339("0000-03-01T10:00:00.25Z").expect("instant");
        assert_eq!(
            pg_instant(year_zero.with_timezone(&Utc)),
            "0001-03-01T10:00:00.250Z BC"
        );
        let missing = normalise(SMS_FIELDS, &json!({}), "[1]").expect_err("invalid");
        assert_eq!(
            (missing.field.as_str(), missing.message.as_str()),
            ("[1].smsId", "missing field `smsId`")
        );
    }
}
