//! Tiles 24–27: live conversations, counted at `conversation.ended` from the
//! rows derived at ingest ([`crate::ingest::conversations`]). The tiles run
//! through the shared planner and raw path over the `conversation_outcomes`
//! view; this module holds what is particular to them: the request rules,
//! the classification columns, and the metric objects.

pub mod rollup;

use serde::ser::{Serialize, SerializeMap, Serializer};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::plan::MetricKind;
use crate::domain::{Channel, Direction, InteractionState};
use crate::error::{ApiError, Result};

/// The two channels a live tile reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveChannel {
    WebChat,
    Voice,
}

impl LiveChannel {
    /// The class names, in the order of the metric object, after `total`.
    pub fn classes(self) -> [&'static str; 3] {
        match self {
            Self::WebChat => ["abandonedByCustomer", "abandonedByOperator", "handled"],
            Self::Voice => ["abandonedInIvr", "abandoned", "handled"],
        }
    }

    pub fn channel(self) -> Channel {
        match self {
            Self::WebChat => Channel::WebChat,
            Self::Voice => Channel::Voice,
        }
    }
}

/// What a live tile reports per group and bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveMeasure {
    /// Tiles 24 and 26: the total and the count of each class.
    Totals,
    /// Tile 25: each class as a percentage of the total.
    Percentages,
    /// Tile 27: metric T of first operator connection to end.
    Durations,
}

/// The metric object of a live count tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveShape {
    pub channel: LiveChannel,
    pub percentages: bool,
}

impl LiveShape {
    /// Column names, for CSV headers.
    pub fn columns(self) -> &'static [&'static str] {
        match self.channel {
            LiveChannel::WebChat => &[
                "total",
                "abandonedByCustomer",
                "abandonedByOperator",
                "handled",
            ],
            LiveChannel::Voice => &["total", "abandonedInIvr", "abandoned", "handled"],
        }
    }
}

/// The conversations of one cell: the total and the count of each class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveCounts {
    pub shape: LiveShape,
    pub total: i64,
    pub classes: [i64; 3],
}

impl LiveCounts {
    pub fn zero(shape: LiveShape) -> Self {
        Self {
            shape,
            total: 0,
            classes: [0; 3],
        }
    }

    /// A class count as a percentage of the total (unrounded); null when
    /// the total is 0.
    fn percentage(&self, class: usize) -> Option<f64> {
        (self.total > 0).then(|| self.classes[class] as f64 * 100.0 / self.total as f64)
    }

    /// The values after `total`, as CSV fields (empty for null).
    pub fn csv_fields(&self) -> Vec<String> {
        let mut fields = vec![self.total.to_string()];
        for class in 0..3 {
            fields.push(if self.shape.percentages {
                self.percentage(class)
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            } else {
                self.classes[class].to_string()
            });
        }
        fields
    }
}

/// `{"total", <class>…}`: counts, or percentages of `total` (null when it
/// is 0) with `total` still a count.
impl Serialize for LiveCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("total", &self.total)?;
        for (class, name) in self.shape.channel.classes().into_iter().enumerate() {
            if self.shape.percentages {
                map.serialize_entry(name, &self.percentage(class))?;
            } else {
                map.serialize_entry(name, &self.classes[class])?;
            }
        }
        map.end()
    }
}

/// The metric kind of a live tile.
pub fn kind(measure: LiveMeasure, channel: LiveChannel) -> MetricKind {
    match measure {
        LiveMeasure::Durations => MetricKind::Duration,
        LiveMeasure::Totals | LiveMeasure::Percentages => MetricKind::Live(LiveShape {
            channel,
            percentages: measure == LiveMeasure::Percentages,
        }),
    }
}

/// The aggregate columns of a live count: the total (`n`) and each class,
/// in the order of [`LiveChannel::classes`] (the channel filter always
/// holds one channel, so the two vocabularies never mix).
pub const COUNT_COLUMNS: &str = "count(*)::bigint as n, \
    count(*) filter (where s.class in ('abandonedByCustomer', 'abandonedInIvr'))::bigint as c1, \
    count(*) filter (where s.class in ('abandonedByOperator', 'abandoned'))::bigint as c2, \
    count(*) filter (where s.class = 'handled')::bigint as c3";

/// Decodes the columns of [`COUNT_COLUMNS`].
pub fn decode(shape: LiveShape, row: &PgRow) -> sqlx::Result<LiveCounts> {
    Ok(LiveCounts {
        shape,
        total: row.try_get("n")?,
        classes: [row.try_get("c1")?, row.try_get("c2")?, row.try_get("c3")?],
    })
}

/// The conditions of a live tile beyond the common filters: the direction
/// (Voice), and for durations only conversations with an operator.
pub fn push_conditions(
    qb: &mut QueryBuilder<'_, Postgres>,
    kind: MetricKind,
    direction: Option<Direction>,
) {
    if let Some(direction) = direction {
        qb.push(" and s.direction = ").push_bind(direction.as_str());
    }
    if kind == MetricKind::Duration {
        qb.push(" and s.duration_seconds is not null");
    }
}

/// The validated parameters of a live request: `newState` must be exactly
/// `["Closed"]`; `filters.channel` (required) is WebChat or Voice and
/// replaces `filters.channels`; `direction` applies to Voice only.
/// `prefix` is where `newState` and `direction` sit (`""` in a tile's body,
/// `"filters."` in a view's).
pub fn params(
    prefix: &str,
    new_state: Option<Vec<InteractionState>>,
    channel: Option<Channel>,
    channels_given: bool,
    direction: Option<Direction>,
) -> Result<(LiveChannel, Option<Direction>)> {
    match new_state {
        None => {
            return Err(ApiError::bad_request(
                format!("{prefix}newState"),
                "missing field `newState`",
            ))
        }
        Some(states) if states != [InteractionState::Closed] => {
            return Err(ApiError::unprocessable(
                format!("{prefix}newState"),
                "live conversations are counted when they close: must be exactly [\"Closed\"]",
            ))
        }
        Some(_) => {}
    }
    if channels_given {
        return Err(ApiError::unprocessable(
            "filters.channels",
            "live tiles take `filters.channel` (WebChat or Voice) instead",
        ));
    }
    let channel = match channel {
        None => {
            return Err(ApiError::bad_request(
                "filters.channel",
                "missing field `channel`",
            ))
        }
        Some(Channel::WebChat) => LiveChannel::WebChat,
        Some(Channel::Voice) => LiveChannel::Voice,
        Some(other) => {
            return Err(ApiError::unprocessable(
                "filters.channel",
                format!("live tiles report WebChat or Voice, not {other}"),
            ))
        }
    };
    if direction.is_some() && channel != LiveChannel::Voice {
        return Err(ApiError::unprocessable(
            format!("{prefix}direction"),
            "only Voice conversations have a direction",
        ));
    }
    Ok((channel, direction))
}

/// The definition, for the OpenAPI description of each live tile.
pub fn description(measure: LiveMeasure) -> &'static str {
    match measure {
        LiveMeasure::Totals => concat!(
            "Conversations counted at their `conversation.ended` within `[from, to)`. ",
            "Body: `newState` (required, exactly `[\"Closed\"]`, else 422), `filters.channel` ",
            "(required, `WebChat` or `Voice`; it replaces `filters.channels`, which is 422 here), ",
            "`direction` (Voice only, else 422). `filters.queues`, `filters.data`, `direction` and ",
            "the accounts match the `conversation.started` event. WebChat ",
            "`{\"total\",\"abandonedByCustomer\",\"abandonedByOperator\",\"handled\"}`: no operator ",
            "connected -> abandonedByCustomer; no responding message (Outbound, not automated, ",
            "same conversationId) at or after the last operator connection -> abandonedByOperator; ",
            "else handled. Voice `{\"total\",\"abandonedInIvr\",\"abandoned\",\"handled\"}`: the ",
            "latest ivr_entered/ivr_exited is an ivr_entered -> abandonedInIvr; else no operator ",
            "connected -> abandoned; else handled. Only events at or before the end count; events ",
            "of one instant are ordered by event id, and a message at the instant of the last ",
            "connection comes after it. Of several `conversation.started` (or `.ended`) events, ",
            "the latest by occurredAt, then event id, holds; a conversation without one is never ",
            "counted (it has no channel). Late events recompute the class. Without `direction` or ",
            "data conditions, and with every bound on a UTC quarter hour, the answer comes from ",
            "the count rollups (`X-Query-Plan: rollup`), identical to the raw rows."
        ),
        LiveMeasure::Percentages => concat!(
            "As the live totals, with each class as a percentage of `total` (unrounded; null ",
            "when `total` is 0); `total` stays a count. Body as the live totals plus `accounts`."
        ),
        LiveMeasure::Durations => concat!(
            "Metric T (`count, average, min, max, p50, p90` in seconds, millisecond precision, ",
            "continuous percentiles) of each conversation's first operator connection (at or ",
            "before its end) to its `conversation.ended`, counted at the end; conversations ",
            "without an operator connection are left out. Body as the live totals plus `accounts`."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_of_a_zero_total_are_null_and_the_total_stays_a_count() {
        let shape = LiveShape {
            channel: LiveChannel::Voice,
            percentages: true,
        };
        let zero = serde_json::to_value(LiveCounts::zero(shape)).expect("json");
        assert_eq!(
            zero,
            serde_json::json!({"total": 0, "abandonedInIvr": null, "abandoned": null, "handled": null})
        );
        let counts = LiveCounts {
            shape,
            total: 4,
            classes: [1, 0, 3],
        };
        assert_eq!(
            serde_json::to_value(counts).expect("json"),
            serde_json::json!({"total": 4, "abandonedInIvr": 25.0, "abandoned": 0.0, "handled": 75.0})
        );
        assert_eq!(counts.csv_fields(), ["4", "25", "0", "75"]);
    }

    #[test]
    fn new_state_must_be_exactly_closed() {
        let closed = Some(vec![InteractionState::Closed]);
        assert!(params("", closed.clone(), Some(Channel::Voice), false, None).is_ok());
        for states in [
            vec![],
            vec![InteractionState::Queued],
            vec![InteractionState::Closed, InteractionState::Closed],
        ] {
            let error =
                params("", Some(states), Some(Channel::Voice), false, None).expect_err("422");
            assert!(error.to_string().contains("newState"), "{error}");
        }
        assert!(params("", closed.clone(), Some(Channel::Sms), false, None).is_err());
        assert!(params(
            "",
            closed,
            Some(Channel::WebChat),
            false,
            Some(Direction::Inbound)
        )
        .is_err());
    }
}
