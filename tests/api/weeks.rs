//! The week grain and the signed segments (src/report/segments.rs) against
//! raw rows: the property tests of `rollups` with every instant stretched
//! six-fold away from the window's start, so the events span about 18 days
//! and the ranges up to 18 days. Their answers then read week rows, whole
//! days minus hours (Berlin and other zones' days), and hours minus raw
//! quarter hours, folded or not.

use chrono::{DateTime, Duration, SecondsFormat};
use proptest::prelude::*;
use serde_json::Value;

use crate::rollups::{compare_paths, count_question, duration_question, events, window_start};

const STRETCH: i32 = 6;

/// `at` moved `STRETCH` times as far from window `w`'s start (instants
/// before it stay).
fn stretch(w: usize, at: &str) -> Option<String> {
    let base = window_start(w, 36);
    let t = DateTime::parse_from_rfc3339(at).ok()?;
    if t < base {
        return None;
    }
    let far = base + (t - base) * STRETCH;
    Some(far.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn stretch_field(w: usize, object: &mut Value, field: &str) {
    if let Some(moved) = object[field].as_str().and_then(|at| stretch(w, at)) {
        object[field] = Value::String(moved);
    }
}

fn stretched_events(w: usize) -> impl Strategy<Value = Vec<Value>> {
    events(w).prop_map(move |mut events| {
        for event in &mut events {
            stretch_field(w, event, "occurredAt");
        }
        events
    })
}

/// A question's range stretched, but an hourly one's (its bucket count is
/// limited).
fn stretched(w: usize, (tile, mut body): (String, Value)) -> (String, Value) {
    if body["filters"]["groupBy"] != "Hour" {
        stretch_field(w, &mut body["filters"], "from");
        stretch_field(w, &mut body["filters"], "to");
    }
    (tile, body)
}

fn stretched_counts(w: usize) -> impl Strategy<Value = (String, Value)> {
    count_question(w).prop_map(move |q| stretched(w, q))
}

fn stretched_durations(w: usize) -> impl Strategy<Value = (String, Value)> {
    duration_question(w).prop_map(move |q| stretched(w, q))
}

#[test]
fn week_rows_and_signed_segments_answer_as_raw_rows() {
    let early = |events: &[Value]| events[events.len() / 2..].to_vec();
    let counts = compare_paths(
        "week_rows_and_signed_segments_answer_as_raw_rows",
        8,
        stretched_events,
        stretched_counts,
        early,
    );
    let durations = compare_paths(
        "week_rows_and_signed_segments_answer_as_raw_rows",
        8,
        stretched_events,
        stretched_durations,
        early,
    );
    assert!(counts.questions + durations.questions > 0);
    // Spans of more than 3.5 days: a week row or its complement is read.
    let _ = Duration::days(4);
}
