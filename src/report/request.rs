//! Reporting requests: the JSON body as sent, and the validated query that
//! the aggregation core runs. Parse, don't validate: a [`ReportQuery`] is
//! always answerable.

use chrono::{DateTime, Duration, Months, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use uuid::Uuid;

use super::live::{self, LiveChannel};
use super::presence::{self, PresenceParams, UserState};
use super::tiles::{Dimension, Family, Tile};
use crate::domain::{
    Channel, Direction, Granularity, InteractionState, ResponseTimeKind, SortOrder,
    UnitOfWorkAction,
};
use crate::error::{from_path_error, ApiError, Result};
use crate::ingest::events::Instant;

/// The most values any list of a request body may hold (queues, users,
/// accounts, channels, states, data conditions and values): more is a 422
/// naming the list, before any work, rather than an answer of millions of
/// cells.
pub const MAX_LIST: usize = 1_000;

/// The path (`filters.queues`, `data[0].values`) of the first list in
/// `value` longer than [`MAX_LIST`].
fn overlong_list(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::Array(items) if items.len() > MAX_LIST => Some(path.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| overlong_list(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let path = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            overlong_list(v, &path)
        }),
        _ => None,
    }
}

/// The path of the first string (or key) in `value` holding the NUL
/// character, which PostgreSQL's text and jsonb cannot store: refused as a
/// 422 naming it rather than failing in the database (a 500 Schemathesis
/// found with a `\u0000` in a data filter value).
pub fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    let join = |key: &str| match path.is_empty() {
        true => key.to_owned(),
        false => format!("{path}.{key}"),
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(path.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(join(&k.replace('\0', "\\u0000")));
            }
            nul_at(v, &join(k))
        }),
        _ => None,
    }
}

/// Parses a JSON body into `T`; a body that does not fit is a 400 naming
/// the field, one with a list longer than [`MAX_LIST`] or a string holding
/// NUL a 422 naming it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], prefix: &str) -> Result<T> {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if let Some(path) = overlong_list(&value, prefix) {
            return Err(ApiError::unprocessable(
                &path,
                format!("may hold at most {MAX_LIST} values"),
            ));
        }
        if let Some(path) = nul_at(&value, prefix) {
            return Err(ApiError::unprocessable(
                &path,
                "must not contain the NUL character (U+0000)",
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let error = from_path_error(prefix, e);
        ApiError::BadRequest {
            detail: if error.field.is_empty() {
                format!("The body is not valid: {}", error.message)
            } else {
                format!("{}: {}", error.field, error.message)
            },
            errors: vec![error],
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request("", format!("trailing characters after the JSON body: {e}"))
    })?;
    Ok(value)
}

/// An IANA time zone name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneName(pub Tz);

/// Documented as the closed list of the IANA names the service knows, so a
/// client (and Schemathesis) sees exactly which are accepted.
impl utoipa::PartialSchema for ZoneName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An IANA time zone name (tz database)."))
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())))
            .into()
    }
}

impl ToSchema for ZoneName {}

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse::<Tz>().map(ZoneName).map_err(|_| {
            let valid: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
            serde::de::Error::custom(format!(
                "unknown time zone `{name}`, expected an IANA name, one of: {}",
                valid.join(", ")
            ))
        })
    }
}

/// One dynamic-data condition: the snapshot holds data type `id` with one of
/// `values` (any value when absent).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DataCondition {
    pub id: Uuid,
    pub values: Option<Vec<String>>,
}

/// `filters` of every reporting request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FiltersBody {
    /// Start of the range, inclusive; RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime)]
    pub from: Instant,
    /// End of the range, exclusive; RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime)]
    pub to: Instant,
    /// By-date endpoints only (required there).
    pub group_by: Option<Granularity>,
    /// Only events on these channels (an empty list is no filter). Required
    /// on by-channels endpoints, where it also names the groups.
    pub channels: Option<Vec<Channel>>,
    /// Live conversation tiles only (required there): `WebChat` or `Voice`,
    /// in place of `channels`.
    pub channel: Option<Channel>,
    /// Only events of these queues (an empty list is no filter). Required on
    /// by-queues endpoints, where it also names the groups.
    pub queues: Option<Vec<Uuid>>,
    /// Every condition must hold.
    pub data: Option<Vec<DataCondition>>,
}

/// The body of every reporting endpoint; which top-level fields are
/// required depends on the endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportBody {
    pub filters: FiltersBody,
    /// IANA zone of the buckets (by-date endpoints); default `UTC`.
    #[schema(value_type = Option<ZoneName>, example = "Europe/Berlin")]
    pub time_zone: Option<ZoneName>,
    /// State tiles: the audit's new state must be one of these (required, ≥ 1).
    pub new_state: Option<Vec<InteractionState>>,
    /// State tiles: the audit's old state must be one of these (empty: any).
    pub old_state: Option<Vec<InteractionState>>,
    /// By-users endpoints: the users, in the order of the groups.
    pub user_ids: Option<Vec<Uuid>>,
    /// By-data endpoints: the data type to group by, and optionally its values.
    pub data: Option<DataCondition>,
    /// By-data endpoints: rank the groups by matching audits.
    pub order_by: Option<SortOrder>,
    /// Message volume: which way the messages went (required).
    pub direction: Option<Direction>,
    /// By-accounts endpoints: the accounts, in the order of the groups.
    pub accounts: Option<Vec<Uuid>>,
    /// Response-time tiles: which time (required).
    pub response_time: Option<ResponseTimeKind>,
    /// Advisor-action tiles: which unit-of-work audits count (required).
    pub action: Option<UnitOfWorkAction>,
    /// Presence tiles: which presence time (CPH: `Available`/`LoggedIn`;
    /// availability: `Available`/`Unavailable`; percentage: `Available`).
    pub user_state: Option<UserState>,
}

/// The calendar part of a by-date request.
#[derive(Debug, Clone, Copy)]
pub struct ByDate {
    pub granularity: Granularity,
    pub zone: Tz,
}

/// Conditions every counted event must meet.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub channels: Option<Vec<Channel>>,
    pub queues: Option<Vec<Uuid>>,
    pub data: Vec<DataCondition>,
}

/// The parameters of a metric family.
#[derive(Debug, Clone)]
pub enum Params {
    State {
        new_states: Vec<InteractionState>,
        old_states: Option<Vec<InteractionState>>,
    },
    MessageVolume {
        direction: Direction,
    },
    ResponseTime {
        kind: ResponseTimeKind,
    },
    QueueTime,
    IvrTime,
    UnitOfWork {
        action: UnitOfWorkAction,
    },
    /// Live conversations: the channel (also the channel filter) and the
    /// direction of a Voice conversation.
    Live {
        channel: LiveChannel,
        direction: Option<Direction>,
    },
    /// The presence tiles (29–36).
    Presence(PresenceParams),
}

/// A required scalar: absent is 400 naming it.
fn required<T>(value: Option<T>, field: &str) -> Result<T> {
    value.ok_or_else(|| ApiError::bad_request(field, format!("missing field `{field}`")))
}

/// How the answer is grouped.
#[derive(Debug, Clone)]
pub enum Grouping {
    Total,
    /// One group per key, in request order.
    Keys {
        dimension: Dimension,
        keys: Vec<String>,
    },
    /// By dynamic data values of one type.
    Data {
        type_id: Uuid,
        values: Option<Vec<String>>,
        order: Option<SortOrder>,
    },
}

/// A validated reporting request.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by_date: Option<ByDate>,
    pub filters: Filters,
    pub params: Params,
    pub grouping: Grouping,
}

pub(crate) fn non_empty<T>(list: Option<Vec<T>>) -> Option<Vec<T>> {
    list.filter(|l| !l.is_empty())
}

/// A list the endpoint requires: absent is 400, empty is 422.
pub(crate) fn required_list<T>(list: Option<Vec<T>>, field: &str) -> Result<Vec<T>> {
    match list {
        None => Err(ApiError::bad_request(
            field,
            format!(
                "missing field `{}`",
                field.rsplit('.').next().unwrap_or(field)
            ),
        )),
        Some(l) if l.is_empty() => Err(ApiError::unprocessable(
            field,
            "must hold at least one value",
        )),
        Some(l) => Ok(l),
    }
}

/// The longest range an endpoint allows, and whether `to` is within it.
pub(crate) fn check_range(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: Option<Granularity>,
) -> Result<()> {
    if to <= from {
        return Err(ApiError::unprocessable(
            "filters.to",
            "must be after filters.from",
        ));
    }
    let (limit, label) = match granularity {
        Some(Granularity::Hour) => (from + Duration::hours(24), "24 hours for Hour buckets"),
        Some(Granularity::Day) => (from + Duration::days(31), "31 days for Day buckets"),
        Some(Granularity::Week) => (
            from.checked_add_months(Months::new(3)).unwrap_or(from),
            "3 calendar months for Week buckets",
        ),
        Some(Granularity::Month) => (
            from.checked_add_months(Months::new(24)).unwrap_or(from),
            "24 calendar months for Month buckets",
        ),
        None => (
            from.checked_add_months(Months::new(24)).unwrap_or(from),
            "24 calendar months",
        ),
    };
    if to > limit {
        return Err(ApiError::unprocessable(
            "filters.to",
            format!("the range from filters.from to filters.to may be at most {label}"),
        ));
    }
    Ok(())
}

impl ReportQuery {
    /// Validates a body for `tile`.
    pub fn from_body(tile: &Tile, body: ReportBody) -> Result<Self> {
        let from = body.filters.from.0;
        let to = body.filters.to.0;
        let by_date = if tile.by_date {
            let granularity = body.filters.group_by.ok_or_else(|| {
                ApiError::bad_request("filters.groupBy", "missing field `groupBy`")
            })?;
            Some(ByDate {
                granularity,
                zone: body.time_zone.map(|z| z.0).unwrap_or(Tz::UTC),
            })
        } else {
            None
        };
        check_range(from, to, by_date.map(|b| b.granularity))?;

        let raw_channels = body.filters.channels;
        let raw_queues = body.filters.queues;
        let mut filters = Filters {
            channels: non_empty(raw_channels.clone()),
            queues: non_empty(raw_queues.clone()),
            data: body.filters.data.unwrap_or_default(),
        };

        let params = match tile.family {
            Family::InteractionState => Params::State {
                new_states: required_list(body.new_state, "newState")?,
                old_states: non_empty(body.old_state),
            },
            Family::MessageVolume => Params::MessageVolume {
                direction: required(body.direction, "direction")?,
            },
            Family::ResponseTimes => Params::ResponseTime {
                kind: required(body.response_time, "responseTime")?,
            },
            Family::QueueTime => Params::QueueTime,
            Family::IvrTime => Params::IvrTime,
            Family::UnitOfWork => Params::UnitOfWork {
                action: required(body.action, "action")?,
            },
            Family::Live(_) => {
                let (channel, direction) = live::params(
                    "",
                    body.new_state,
                    body.filters.channel,
                    raw_channels.is_some(),
                    body.direction,
                )?;
                filters.channels = Some(vec![channel.channel()]);
                Params::Live { channel, direction }
            }
            Family::ContactsPerHour
            | Family::Availability
            | Family::AvailabilityPercentage
            | Family::AdvisorMetrics => {
                presence::params(tile.family, body.user_state, body.user_ids.clone())?
            }
        };

        let grouping = match tile.dimension {
            Dimension::Total => Grouping::Total,
            Dimension::Channel => {
                let channels = required_list(raw_channels, "filters.channels")?;
                Grouping::Keys {
                    dimension: Dimension::Channel,
                    keys: channels.iter().map(|c| c.as_str().to_owned()).collect(),
                }
            }
            Dimension::Queue => {
                let queues = required_list(raw_queues, "filters.queues")?;
                Grouping::Keys {
                    dimension: Dimension::Queue,
                    keys: queues.iter().map(Uuid::to_string).collect(),
                }
            }
            Dimension::User => {
                let users = required_list(body.user_ids, "userIds")?;
                Grouping::Keys {
                    dimension: Dimension::User,
                    keys: users.iter().map(Uuid::to_string).collect(),
                }
            }
            Dimension::Account => {
                let accounts = required_list(body.accounts, "accounts")?;
                Grouping::Keys {
                    dimension: Dimension::Account,
                    keys: accounts.iter().map(Uuid::to_string).collect(),
                }
            }
            Dimension::Data => {
                let data = body
                    .data
                    .ok_or_else(|| ApiError::bad_request("data", "missing field `data`"))?;
                Grouping::Data {
                    type_id: data.id,
                    values: non_empty(data.values),
                    order: body.order_by,
                }
            }
        };
        Ok(Self {
            from,
            to,
            by_date,
            filters,
            params,
            grouping,
        })
    }
}
