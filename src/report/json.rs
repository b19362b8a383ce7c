//! Renders an [`Answer`] as the JSON shapes of API.md §4.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use chrono_tz::Tz;
use serde::Serialize;

use super::buckets::Bucket;
use super::live::LiveCounts;
use super::plan::{Answer, MetricValue};

/// A metric object, flattened into buckets and groups.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MetricJson {
    Count {
        count: i64,
    },
    Duration {
        count: i64,
        average: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
        p50: Option<f64>,
        p90: Option<f64>,
    },
    /// Live conversations: `{"total", <classes>…}`.
    Live(LiveCounts),
    /// The presence tiles (29–36).
    Presence(super::presence::render::PresenceJson),
}

impl From<MetricValue> for MetricJson {
    fn from(value: MetricValue) -> Self {
        match value {
            MetricValue::Count(count) => Self::Count { count },
            MetricValue::Duration(t) => Self::Duration {
                count: t.count,
                average: t.average,
                min: t.min,
                max: t.max,
                p50: t.p50,
                p90: t.p90,
            },
            MetricValue::Live(counts) => Self::Live(counts),
            MetricValue::Presence(v) => Self::Presence(v.into()),
        }
    }
}

#[derive(Debug, Serialize)]
struct BucketJson {
    start: String,
    end: String,
    #[serde(flatten)]
    metric: MetricJson,
}

#[derive(Debug, Serialize)]
struct GroupJson {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(flatten)]
    metric: MetricJson,
}

#[derive(Debug, Serialize)]
struct GroupBucketsJson {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    buckets: Vec<BucketJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ByDateJson<T> {
    group_by: &'static str,
    time_zone: &'static str,
    #[serde(flatten)]
    body: T,
}

#[derive(Debug, Serialize)]
struct Buckets {
    buckets: Vec<BucketJson>,
}

#[derive(Debug, Serialize)]
struct Groups<T> {
    groups: Vec<T>,
}

/// An instant in the zone's offset at that instant.
pub fn instant_in(zone: Tz, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn bucket_json(
    answer: &Answer,
    zone: Tz,
    group: usize,
    index: usize,
    bucket: &Bucket,
) -> BucketJson {
    BucketJson {
        start: instant_in(zone, bucket.start),
        end: instant_in(zone, bucket.end),
        metric: answer.cell(group, index).into(),
    }
}

/// The answer as a JSON value.
pub fn to_value(answer: &Answer) -> serde_json::Result<serde_json::Value> {
    let mut value = shared_value(answer)?;
    if let Some(extra) = &answer.presence {
        super::presence::render::decorate(extra, &mut value);
    }
    Ok(value)
}

fn shared_value(answer: &Answer) -> serde_json::Result<serde_json::Value> {
    match (&answer.by_date, &answer.groups) {
        (None, None) => serde_json::to_value(MetricJson::from(answer.cell(0, 0))),
        (None, Some(groups)) => serde_json::to_value(Groups {
            groups: groups
                .iter()
                .enumerate()
                .map(|(g, info)| GroupJson {
                    key: info.key.clone(),
                    name: info.name.clone(),
                    metric: answer.cell(g, 0).into(),
                })
                .collect(),
        }),
        (Some((by_date, list)), None) => serde_json::to_value(ByDateJson {
            group_by: by_date.granularity.as_str(),
            time_zone: by_date.zone.name(),
            body: Buckets {
                buckets: list
                    .iter()
                    .enumerate()
                    .map(|(i, b)| bucket_json(answer, by_date.zone, 0, i, b))
                    .collect(),
            },
        }),
        (Some((by_date, list)), Some(groups)) => serde_json::to_value(ByDateJson {
            group_by: by_date.granularity.as_str(),
            time_zone: by_date.zone.name(),
            body: Groups {
                groups: groups
                    .iter()
                    .enumerate()
                    .map(|(g, info)| GroupBucketsJson {
                        key: info.key.clone(),
                        name: info.name.clone(),
                        buckets: list
                            .iter()
                            .enumerate()
                            .map(|(i, b)| bucket_json(answer, by_date.zone, g, i, b))
                            .collect(),
                    })
                    .collect(),
            },
        }),
    }
}

/// The answer as an `application/json` response.
pub fn render(answer: &Answer) -> crate::error::Result<Response> {
    let value = to_value(answer).map_err(|e| crate::error::ApiError::Internal(e.into()))?;
    let mut response = serde_json::to_vec(&value)
        .map_err(|e| crate::error::ApiError::Internal(e.into()))?
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
