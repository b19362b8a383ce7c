//! OpenAPI schemas of the presence answers (documentation only: the
//! answers are rendered by [`super::render`]).
#![allow(dead_code)]

use utoipa::ToSchema;

/// Contacts of a user on one requested channel or queue (by-channels and
/// by-queues CPH), per hour of the user's whole time in the state.
#[derive(ToSchema)]
pub struct PresenceValueAnswer {
    /// The channel or queue id, as requested.
    pub key: String,
    pub contacts: i64,
    /// contacts ÷ the user's hours; null when the user's time is 0.
    pub cph: Option<f64>,
}

/// A by-date bucket of a presence answer: calendar bounds in the request
/// zone's offset, with the metric object flattened in.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PresenceBucketAnswer {
    #[schema(example = "2026-03-29T00:00:00+01:00")]
    pub start: String,
    #[schema(example = "2026-03-30T00:00:00+02:00")]
    pub end: String,
    /// CPH tiles.
    pub contacts: Option<i64>,
    /// Seconds in the state (CPH and availability tiles).
    pub seconds: Option<f64>,
    /// CPH tiles: contacts ÷ hours; null when the time is 0.
    pub cph: Option<f64>,
}

/// One user group of a presence answer, with the metric object flattened
/// in: CPH `contacts, seconds, cph`; availability `seconds`; percentage
/// `percentage, availableSeconds, loggedInSeconds`; advisor metrics the
/// eight fields below.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PresenceGroupAnswer {
    /// The user id, as requested.
    pub key: String,
    /// The directory user's `firstName lastName`, where known.
    pub name: Option<String>,
    pub contacts: Option<i64>,
    pub seconds: Option<f64>,
    pub cph: Option<f64>,
    /// By-channels / by-queues CPH: one per requested channel or queue.
    pub values: Option<Vec<PresenceValueAnswer>>,
    /// By-channels / by-queues CPH: the mean of the values' CPH (null when
    /// the user's time is 0).
    pub average: Option<f64>,
    /// By date: the group's buckets.
    pub buckets: Option<Vec<PresenceBucketAnswer>>,
    /// Available ÷ logged-in time × 100; null when not logged in.
    pub percentage: Option<f64>,
    pub available_seconds: Option<f64>,
    pub logged_in_seconds: Option<f64>,
    pub contacts_logged_in: Option<i64>,
    pub contacts_available: Option<i64>,
    pub cph_logged_in: Option<f64>,
    pub cph_available: Option<f64>,
    /// 100 − the availability percentage; null when not logged in.
    pub unproductive_percentage: Option<f64>,
    /// Mean AdvisorResponseTime (seconds) of the user's responding
    /// messages; null when none.
    pub average_response_time: Option<f64>,
}

/// The answer of the presence tiles (29–36): `{"average"?, "groups"}`, or
/// by date `{"groupBy", "timeZone", "average"?, "groups"}` whose groups
/// carry `buckets`. CPH answers carry the overall `average` (the mean of
/// the distinct users' CPH over the whole range, over users with time > 0;
/// null when none).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PresenceAnswer {
    pub average: Option<f64>,
    pub group_by: Option<crate::domain::Granularity>,
    pub time_zone: Option<String>,
    pub groups: Vec<PresenceGroupAnswer>,
}
