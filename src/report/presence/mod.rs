//! Presence tiles (29–36): contacts per hour, availability and advisor
//! metrics. Time in state comes from the presence spans maintained at
//! ingest ([`crate::ingest::presence`]) or, when the range and buckets are
//! whole UTC hours, from their day rollup plus each user's open span;
//! contacts from the same rollup without filters, else from the
//! unit-of-work audits;
//! both are rows of the same tile table, planned here and rendered by the
//! shared renderers (with the answer-level `average` and per-user `values`
//! added by [`render`]).

mod query;
pub mod render;
mod rollup;
pub mod schema;

use uuid::Uuid;

use super::request::{required_list, Grouping, Params, ReportQuery};
use super::tiles::{Dimension, Family};
use crate::domain::string_enum;
use crate::error::{ApiError, Result};

pub use query::run;

string_enum!(
    /// Which presence time a presence tile measures: `Available` (time
    /// `Online`), `LoggedIn` (time in any state but `Offline`; CPH only) or
    /// `Unavailable` (logged in but not `Online`; availability only).
    UserState {
        Available = "Available",
        LoggedIn = "LoggedIn",
        Unavailable = "Unavailable",
    }
);

/// The parameters of a presence family: the users (the groups, in request
/// order) and, where the family takes one, the presence time it measures.
#[derive(Debug, Clone)]
pub struct PresenceParams {
    pub users: Vec<Uuid>,
    pub state: UserState,
}

/// The presence families.
pub fn is_presence(family: Family) -> bool {
    matches!(
        family,
        Family::ContactsPerHour
            | Family::Availability
            | Family::AvailabilityPercentage
            | Family::AdvisorMetrics
    )
}

/// The `userState` values a family accepts (empty: it takes none).
pub(crate) fn states(family: Family) -> &'static [UserState] {
    match family {
        Family::ContactsPerHour => &[UserState::Available, UserState::LoggedIn],
        Family::Availability => &[UserState::Available, UserState::Unavailable],
        Family::AvailabilityPercentage => &[UserState::Available],
        _ => &[],
    }
}

/// Validates the presence parameters: `userIds` is required (absent 400,
/// empty 422); `userState` is required where the family takes one, and a
/// value the family does not take is 400 listing the valid ones.
pub fn params(
    family: Family,
    user_state: Option<UserState>,
    user_ids: Option<Vec<Uuid>>,
) -> Result<Params> {
    let valid = states(family);
    let state = match (valid, user_state) {
        ([], _) => UserState::Available,
        (_, None) => {
            return Err(ApiError::bad_request(
                "userState",
                "missing field `userState`",
            ))
        }
        (_, Some(s)) if valid.contains(&s) => s,
        (_, Some(s)) => {
            let names: Vec<&str> = valid.iter().map(|v| v.as_str()).collect();
            return Err(ApiError::bad_request(
                "userState",
                format!(
                    "unknown variant `{s}`, expected {} here",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
    };
    let users = required_list(user_ids, "userIds")?;
    Ok(Params::Presence(PresenceParams { users, state }))
}

/// The values of a by-channels or by-queues CPH answer (the requested
/// channels or queues, in request order); empty for the other tiles.
fn value_keys(query: &ReportQuery) -> (Option<Dimension>, Vec<String>) {
    match &query.grouping {
        Grouping::Keys {
            dimension: dimension @ (Dimension::Channel | Dimension::Queue),
            keys,
        } => (Some(*dimension), keys.clone()),
        _ => (None, Vec::new()),
    }
}

/// Whether a presence family has a by-date endpoint for `dimension`.
pub fn has_by_date(family: Family, dimension: Dimension) -> bool {
    matches!(
        (family, dimension),
        (
            Family::ContactsPerHour | Family::Availability,
            Dimension::User
        )
    )
}

/// One line for the OpenAPI summary.
pub fn summary(family: Family) -> &'static str {
    match family {
        Family::ContactsPerHour => "Contacts per hour (CPH), Available or LoggedIn",
        Family::Availability => "Availability/unavailability duration by user",
        Family::AvailabilityPercentage => "Availability percentage by user",
        _ => "Advisor metrics by user",
    }
}

const PRESENCE_RULES: &str = "A user's presence state holds from its `presence.changed` until \
     the user's next one (changes at the same instant are ordered by event id, so only the one \
     with the greatest id lasts); a user is `Offline` before their first change; the last state \
     lasts until `to` but never beyond the moment of the request (a cached answer, `X-Cache: HIT`, \
     was computed at the moment of the request that filled the cache). Time is clipped to \
     `[from, to)` and to each bucket. Logged-in time is time in any state but `Offline`; \
     available time is time `Online`; unavailable time is logged-in time not `Online`. Presence \
     time is never filtered by channel, queue or data: those filters (when given) apply only to \
     the contacts and messages counted. Seconds have millisecond precision. Another tenant's \
     user ids, and users without events, get zeros. `userIds` is required (at least one): one \
     group per requested user, in request order; a user given twice is two groups.";

const CPH_RULES: &str = "A contact is a unit-of-work audit (`unit_of_work.completed`) of the \
     user with at least one action, at its `occurredAt` in `[from, to)`; it counts for \
     `Available` when its `userState` is `Online` and for `LoggedIn` when its `userState` is not \
     `Offline` (the audit's own `userState`, not the presence timeline). CPH = contacts ÷ hours \
     in that state (not rounded; null when the time is 0): Online 13:00–13:15 with one contact \
     and Online 13:45–14:00 with none is CPH 2 for 13:00–14:00.";

/// The definition, for the OpenAPI description.
pub fn description(family: Family) -> String {
    match family {
        Family::ContactsPerHour => format!(
            "Contacts per hour by user. `userState` (required): `Available` or `LoggedIn`. \
             {CPH_RULES} {PRESENCE_RULES} Answer: `{{\"average\", \"groups\": [{{\"key\", \
             \"name\"?, \"contacts\", \"seconds\", \"cph\"}}]}}`; by date each group has \
             `buckets` of `{{\"start\", \"end\", \"contacts\", \"seconds\", \"cph\"}}` and \
             `average` covers the whole range. `average` is the mean of the users' CPH over the \
             whole range, over the distinct requested users with time > 0 (null when none). \
             By channels / by queues (`filters.channels` / `filters.queues` required, at least \
             one; they also filter the contacts): each user group adds `values`: \
             `[{{\"key\", \"contacts\", \"cph\"}}]`, one per requested channel or queue in \
             request order (contacts on it ÷ the user's hours), and that user's `average`, the \
             mean of those values' CPH (null when the user's time is 0); the group's own \
             `contacts` are those on any requested channel or queue. CSV: one row per group × \
             bucket with `contacts, seconds, cph` and the overall `average` on every row; by \
             channels / queues one row per user × value: `group, groupName, contacts, seconds, \
             cph, groupAverage, valueKey, valueContacts, valueCph, average`."
        ),
        Family::Availability => format!(
            "Time in state by user: `userState` (required) `Available` (time `Online`) or \
             `Unavailable` (logged in, not `Online`); `LoggedIn` is not valid here. \
             {PRESENCE_RULES} Metric: `{{\"seconds\"}}`."
        ),
        Family::AvailabilityPercentage => format!(
            "Availability percentage by user: `userState` (required) must be `Available`. \
             percentage = available ÷ logged-in time × 100 (not rounded; null when the user was \
             not logged in): 1 h Online then 1 h Away is 50. {PRESENCE_RULES} Metric: \
             `{{\"percentage\", \"availableSeconds\", \"loggedInSeconds\"}}`."
        ),
        _ => format!(
            "Per user: `contactsLoggedIn`, `contactsAvailable`, `cphLoggedIn`, `cphAvailable`, \
             `loggedInSeconds`, `availableSeconds`, `unproductivePercentage` (100 − the \
             availability percentage; null when not logged in) and `averageResponseTime` (the \
             mean AdvisorResponseTime, in seconds, of the responding messages the user sent in \
             `[from, to)` that carry one, with the channel, queue and data filters applied to \
             the messages; null when none). {CPH_RULES} {PRESENCE_RULES}"
        ),
    }
}

/// The values of one cell of a presence answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PresenceValue {
    Cph {
        contacts: i64,
        seconds: f64,
        cph: Option<f64>,
    },
    Seconds(f64),
    Percentage {
        percentage: Option<f64>,
        available_seconds: f64,
        logged_in_seconds: f64,
    },
    Advisor(AdvisorMetrics),
}

/// Tile 36's metric object.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AdvisorMetrics {
    pub contacts_logged_in: i64,
    pub contacts_available: i64,
    pub cph_logged_in: Option<f64>,
    pub cph_available: Option<f64>,
    pub logged_in_seconds: f64,
    pub available_seconds: f64,
    pub unproductive_percentage: Option<f64>,
    pub average_response_time: Option<f64>,
}

/// The kind of metric a presence family yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceKind {
    Cph,
    Seconds,
    Percentage,
    Advisor,
}

impl PresenceKind {
    pub fn zero(self) -> PresenceValue {
        match self {
            Self::Cph => PresenceValue::Cph {
                contacts: 0,
                seconds: 0.0,
                cph: None,
            },
            Self::Seconds => PresenceValue::Seconds(0.0),
            Self::Percentage => PresenceValue::Percentage {
                percentage: None,
                available_seconds: 0.0,
                logged_in_seconds: 0.0,
            },
            Self::Advisor => PresenceValue::Advisor(AdvisorMetrics::default()),
        }
    }

    /// Column names, for CSV headers (as the JSON field names).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Cph => &["contacts", "seconds", "cph"],
            Self::Seconds => &["seconds"],
            Self::Percentage => &["percentage", "availableSeconds", "loggedInSeconds"],
            Self::Advisor => &[
                "contactsLoggedIn",
                "contactsAvailable",
                "cphLoggedIn",
                "cphAvailable",
                "loggedInSeconds",
                "availableSeconds",
                "unproductivePercentage",
                "averageResponseTime",
            ],
        }
    }

    fn of(family: Family) -> Self {
        match family {
            Family::ContactsPerHour => Self::Cph,
            Family::Availability => Self::Seconds,
            Family::AvailabilityPercentage => Self::Percentage,
            _ => Self::Advisor,
        }
    }
}

/// What a presence answer carries beyond its cells.
#[derive(Debug, Clone, Default)]
pub struct PresenceExtra {
    /// CPH tiles: the overall average (`Some(None)` is a null average).
    pub average: Option<Option<f64>>,
    /// By-channels / by-queues CPH: per group, its values and their average.
    pub values: Option<Vec<UserValues>>,
}

/// The per-channel or per-queue values of one user group.
#[derive(Debug, Clone, Default)]
pub struct UserValues {
    pub values: Vec<ValueCph>,
    pub average: Option<f64>,
}

/// Contacts of one user on one channel or queue, per hour of the user's time.
#[derive(Debug, Clone)]
pub struct ValueCph {
    pub key: String,
    pub contacts: i64,
    pub cph: Option<f64>,
}
