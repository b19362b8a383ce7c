//! The table of tiles. A tile is a metric family × a dimension × count or
//! by-date; JSON or CSV is chosen by the route prefix. Every endpoint of
//! `/reporting/v1.2` and its export twin is one row of [`all`].

/// What is measured, and from which events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Tiles 1–11: state audits by `newState`/`oldState`.
    InteractionState,
}

impl Family {
    fn base_path(self) -> &'static str {
        match self {
            Self::InteractionState => "interactions/state",
        }
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
        }
    }

    /// One line for the OpenAPI summary.
    pub fn summary(self) -> &'static str {
        match self {
            Self::InteractionState => "Interactions by state (closed, received, reopened)",
        }
    }

    /// The definition, for the OpenAPI description.
    pub fn description(self) -> &'static str {
        match self {
            Self::InteractionState => {
                "Counts state audits with `oldState` in `oldState` (when given) and `newState` in \
                 `newState`, at the audit's `occurredAt` within `[from, to)`. Received is \
                 `oldState [Draft] -> newState [Created, Queued, Automation]`; reopened is \
                 `[Closed] -> [Queued, Assigned, Automation]`; closed is `newState [Closed]`. \
                 By-users groups by the audit's `userId`. Required: `newState` (at least one)."
            }
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::InteractionState => "interactions",
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
    Data,
}

impl Dimension {
    fn path_suffix(self) -> &'static str {
        match self {
            Self::Total => "",
            Self::Channel => "/by-channels",
            Self::Queue => "/by-queues",
            Self::User => "/by-users",
            Self::Data => "/by-data",
        }
    }

    /// What the request must carry for this dimension, for the OpenAPI text.
    pub fn requirement(self) -> &'static str {
        match self {
            Self::Total => "",
            Self::Channel => {
                " Groups: `filters.channels` (required, at least one), in request order."
            }
            Self::Queue => " Groups: `filters.queues` (required, at least one), in request order.",
            Self::User => {
                " Groups: top-level `userIds` (required, at least one), in request order."
            }
            Self::Data => {
                " Groups: the values of the top-level `data: {id, values?}` (required): the given \
                 values in request order; else every option of a select type; else, for a \
                 reportable StringEditor type, the 10 most used values (`orderBy: Ascending`: the \
                 10 least used). `orderBy` ranks the groups by matching audits."
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
            "{}/{}{}",
            self.family.base_path(),
            if self.by_date { "by-date" } else { "count" },
            self.dimension.path_suffix()
        )
    }
}

/// Every tile, in a stable order.
pub fn all() -> Vec<Tile> {
    let families = [Family::InteractionState];
    let mut tiles = Vec::new();
    for family in families {
        for by_date in [false, true] {
            for &dimension in family.dimensions() {
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
