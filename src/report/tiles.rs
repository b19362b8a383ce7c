//! The table of tiles. A tile is a metric family × a dimension × count or
//! by-date; JSON or CSV is chosen by the route prefix. Every endpoint of
//! `/reporting/v1.2` and its export twin is one row of [`all`].

use super::live::{self, LiveMeasure};
use super::presence;

/// What is measured, and from which events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Tiles 1–11: state audits by `newState`/`oldState`.
    InteractionState,
    /// Tile 12: time from entering Queued to each `Queued → Assigned` audit.
    QueueTime,
    /// Tile 28: time from entering Automation to leaving it.
    IvrTime,
    /// Tile 13: unit-of-work audits by action.
    UnitOfWork,
    /// Tiles 14–18: messages by direction.
    MessageVolume,
    /// Tiles 19–23: advisor response and originator wait times.
    ResponseTimes,
    /// Tiles 24–27: live conversations, counted at their end ([`live`]).
    Live(LiveMeasure),
    /// Tiles 29–33: contacts per hour (by channel, queue, user; average).
    ContactsPerHour,
    /// Tile 34: availability/unavailability duration by user.
    Availability,
    /// Tile 35: availability percentage by user.
    AvailabilityPercentage,
    /// Tile 36: advisor metrics by user.
    AdvisorMetrics,
}

const ALL_FAMILIES: [Family; 13] = [
    Family::InteractionState,
    Family::QueueTime,
    Family::IvrTime,
    Family::UnitOfWork,
    Family::MessageVolume,
    Family::ResponseTimes,
    Family::Live(LiveMeasure::Totals),
    Family::Live(LiveMeasure::Percentages),
    Family::Live(LiveMeasure::Durations),
    Family::ContactsPerHour,
    Family::Availability,
    Family::AvailabilityPercentage,
    Family::AdvisorMetrics,
];

impl Family {
    fn base_path(self) -> &'static str {
        match self {
            Self::InteractionState => "interactions/state",
            Self::QueueTime => "interactions/queue-time",
            Self::IvrTime => "interactions/ivr-time",
            Self::UnitOfWork => "unit-of-work",
            Self::MessageVolume => "messages/volume",
            Self::ResponseTimes => "messages/response-times",
            Self::Live(_) => "conversations/live",
            Self::ContactsPerHour => "presence/cph",
            Self::Availability | Self::AvailabilityPercentage => "presence/availability",
            Self::AdvisorMetrics => "advisors/metrics",
        }
    }

    /// What follows the dimension in the path: the live by-accounts tiles
    /// end in their measure (`…/by-accounts/percentages`), the availability
    /// percentage in `/percentage`.
    fn path_tail(self, dimension: Dimension) -> &'static str {
        match (self, dimension) {
            (Self::Live(LiveMeasure::Totals), Dimension::Account) => "/totals",
            (Self::Live(LiveMeasure::Percentages), _) => "/percentages",
            (Self::Live(LiveMeasure::Durations), _) => "/durations",
            (Self::AvailabilityPercentage, _) => "/percentage",
            _ => "",
        }
    }

    /// Whether the family has a by-date endpoint for `dimension`.
    fn has_by_date(self, dimension: Dimension) -> bool {
        if presence::is_presence(self) {
            return presence::has_by_date(self, dimension);
        }
        true
    }

    fn dimensions(self) -> &'static [Dimension] {
        match self {
            Self::InteractionState => &[
                Dimension::Total,
                Dimension::Channel,
                Dimension::Queue,
                Dimension::User,
                Dimension::Data,
            ],
            Self::QueueTime | Self::IvrTime => &[Dimension::Queue],
            Self::UnitOfWork => &[Dimension::User],
            Self::MessageVolume | Self::ResponseTimes => &[
                Dimension::Total,
                Dimension::Channel,
                Dimension::Queue,
                Dimension::Account,
                Dimension::User,
            ],
            Self::Live(LiveMeasure::Totals) => &[Dimension::Total, Dimension::Account],
            Self::Live(_) => &[Dimension::Account],
            Self::ContactsPerHour => &[Dimension::Channel, Dimension::Queue, Dimension::User],
            Self::Availability | Self::AvailabilityPercentage | Self::AdvisorMetrics => {
                &[Dimension::User]
            }
        }
    }

    /// One line for the OpenAPI summary.
    pub fn summary(self) -> &'static str {
        match self {
            Self::InteractionState => "Interactions by state (closed, received, reopened)",
            Self::QueueTime => "Time interactions spent queueing",
            Self::IvrTime => "Time in IVR",
            Self::UnitOfWork => "Advisor actions",
            Self::MessageVolume => "Message volume",
            Self::ResponseTimes => "Advisor response and originator wait times",
            Self::Live(LiveMeasure::Totals) => "Live conversations",
            Self::Live(LiveMeasure::Percentages) => "Live conversations by account: percentages",
            Self::Live(LiveMeasure::Durations) => "Live conversations by account: durations",
            Self::ContactsPerHour
            | Self::Availability
            | Self::AvailabilityPercentage
            | Self::AdvisorMetrics => presence::summary(self),
        }
    }

    /// The definition, for the OpenAPI description.
    pub fn description(self) -> std::borrow::Cow<'static, str> {
        if presence::is_presence(self) {
            return presence::description(self).into();
        }
        let text = match self {
            Self::InteractionState => {
                "Counts state audits with `oldState` in `oldState` (when given) and `newState` in \
                 `newState`, at the audit's `occurredAt` within `[from, to)`. Received is \
                 `oldState [Draft] -> newState [Created, Queued, Automation]`; reopened is \
                 `[Closed] -> [Queued, Assigned, Automation]`; closed is `newState [Closed]`. \
                 By-users groups by the audit's `userId`. Required: `newState` (at least one)."
            }
            Self::QueueTime => {
                "For each `Queued -> Assigned` audit in `[from, to)`, the time since the interaction \
                 entered `Queued` (the latest audit at or before it whose newState is Queued, so a \
                 `Queued -> Queued` queue change restarts the clock); counted at the Assigned audit and \
                 grouped by its `queueId`. `filters.channels` and `filters.data` apply. Metric T: \
                 `count, average, min, max, p50, p90` in seconds (millisecond precision; percentiles \
                 are continuous, interpolating linearly between the two nearest values, as SQL \
                 `percentile_cont`); statistics are null when count is 0."
            }
            Self::IvrTime => {
                "For each audit `Automation -> Closed|Assigned|Queued` in `[from, to)`, the time since \
                 the interaction entered `Automation`; counted at that exiting audit and grouped by its \
                 `queueId`. Metric T as for queue time (continuous percentiles)."
            }
            Self::UnitOfWork => {
                "Counts unit-of-work audits by `userId` at `occurredAt`: `Closed`, `Message`, `Data`, \
                 `Note` where that action count is > 0, `None` where all four are 0, `Any` where any \
                 is > 0. Required: `action`, `userIds`. Assigning, adding 3 notes, unassigning, \
                 reassigning, adding 3 notes and unassigning is 2 `Note` audits."
            }
            Self::MessageVolume => {
                "Counts `message.created` events with the given `direction` (required) at their \
                 `occurredAt`. Filters match the channel, queue, account and data snapshot carried \
                 by the message. By-users groups by the sender (`userId`, outbound messages)."
            }
            Self::ResponseTimes => {
                "Statistics of `responseTime` (required: `AdvisorResponseTime` or \
                 `OriginatorWaitTime`) over responding messages (Outbound, not automated) in \
                 `[from, to)`. OriginatorWaitTime = t − the earliest inbound message after the \
                 previous responding message. AdvisorResponseTime only when the interaction is \
                 Assigned at t (A = when it last entered Assigned): L = the latest inbound before t; \
                 a responding message between L and t: unset; L after A: t − L; otherwise t − A \
                 unless a responding message lies between A and t. Automated messages neither carry \
                 a time nor answer an inbound one. Events of one instant are ordered audits first, then \
                 messages by event id (so an inbound at the instant of the assignment comes after \
                 it). Times are recomputed whenever a late event of the interaction arrives. Metric T: `count, average, min, max, p50, p90` in seconds \
                 (continuous percentiles, as SQL `percentile_cont`; null statistics when count is 0)."
            }
            Self::Live(measure) => live::description(measure),
            Self::ContactsPerHour
            | Self::Availability
            | Self::AvailabilityPercentage
            | Self::AdvisorMetrics => "",
        };
        text.into()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::InteractionState | Self::QueueTime | Self::IvrTime => "interactions",
            Self::UnitOfWork | Self::AdvisorMetrics => "advisors",
            Self::ContactsPerHour | Self::Availability | Self::AvailabilityPercentage => "presence",
            Self::MessageVolume | Self::ResponseTimes => "messages",
            Self::Live(_) => "conversations",
        }
    }
}

/// How the answer is split into groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Total,
    Channel,
    Queue,
    User,
    Account,
    Data,
}

impl Dimension {
    fn path_suffix(self) -> &'static str {
        match self {
            Self::Total => "",
            Self::Channel => "/by-channels",
            Self::Queue => "/by-queues",
            Self::User => "/by-users",
            Self::Account => "/by-accounts",
            Self::Data => "/by-data",
        }
    }

    /// What the request must carry for this dimension, for the OpenAPI text.
    pub fn requirement(self) -> &'static str {
        match self {
            Self::Total => "",
            Self::Channel => {
                " Groups: `filters.channels` (required, at least one): one group per requested \
                 channel, in request order; a channel given twice is two groups, each with its value."
            }
            Self::Queue => {
                " Groups: `filters.queues` (required, at least one): one group per requested queue, \
                 in request order; a queue given twice is two groups, each with its value."
            }
            Self::User => {
                " Groups: top-level `userIds` (required, at least one): one group per requested \
                 user, in request order; a user given twice is two groups, each with its value."
            }
            Self::Account => {
                " Groups: top-level `accounts` (required, at least one): one group per requested \
                 account, in request order; an account given twice is two groups, each with its \
                 value."
            }
            Self::Data => {
                " Groups: the values of the top-level `data: {id, values?}` (required): the given \
                 values in request order (a value given twice is two groups, each with its count); \
                 else every option of a select type; else, for a reportable StringEditor type, the \
                 10 most used values (`orderBy: Ascending`: the 10 least used; ties by value). \
                 `orderBy` ranks the groups by matching audits. An audit counts once in each value \
                 its snapshot holds, however often it repeats it."
            }
        }
    }
}

/// One endpoint of the reporting API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub family: Family,
    pub dimension: Dimension,
    pub by_date: bool,
}

impl Tile {
    /// The path below `/reporting/v1.2/` (and `/reporting/export/v1.2/`).
    pub fn path(&self) -> String {
        format!(
            "{}/{}{}{}",
            self.family.base_path(),
            if self.by_date { "by-date" } else { "count" },
            self.dimension.path_suffix(),
            self.family.path_tail(self.dimension)
        )
    }
}

/// Every tile, in a stable order.
pub fn all() -> Vec<Tile> {
    let mut tiles = Vec::new();
    for family in ALL_FAMILIES {
        for by_date in [false, true] {
            for &dimension in family.dimensions() {
                if by_date && !family.has_by_date(dimension) {
                    continue;
                }
                tiles.push(Tile {
                    family,
                    dimension,
                    by_date,
                });
            }
        }
    }
    tiles
}
