//! Tile 37: the rows behind the tiles (`view/interactions`,
//! `view/conversations`, `view/messages`, `view/unit-of-work`). JSON answers hold at most 1,000 rows; the CSV export
//! streams up to 1,000,000 straight from the database cursor, so memory stays
//! flat whatever the row count.

mod export;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use super::live;
use super::raw::{containment_candidates, push_any, unit_of_work_condition};
use super::request::{check_range, non_empty, DataCondition};
use crate::domain::{
    Channel, Context, Direction, InteractionState, OrderField, SortOrder, UnitOfWorkAction,
};
use crate::error::{ApiError, Result};
use crate::ingest::events::Instant;

pub use export::{csv_stream, stream as stream_csv, CsvExport};

/// Rows a JSON view answers at most.
pub const JSON_ROWS: i64 = 1_000;
/// Rows a CSV export streams at most.
pub const EXPORT_ROWS: i64 = 1_000_000;

/// Which rows a view lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    Interactions,
    Conversations,
    Messages,
    UnitOfWork,
}

impl ViewKind {
    pub const ALL: [ViewKind; 4] = [
        Self::Interactions,
        Self::Conversations,
        Self::Messages,
        Self::UnitOfWork,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Self::Interactions => "view/interactions",
            Self::Conversations => "view/conversations",
            Self::Messages => "view/messages",
            Self::UnitOfWork => "view/unit-of-work",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Self::Interactions => "interaction_audits",
            Self::Conversations => "conversation_outcomes",
            Self::Messages => "messages",
            Self::UnitOfWork => "units_of_work",
        }
    }

    fn contexts(self) -> &'static [Context] {
        match self {
            Self::Interactions => &[Context::Data, Context::Queue, Context::User],
            Self::Conversations => &[Context::Account, Context::Queue],
            Self::Messages => &[Context::Account, Context::Queue, Context::User],
            Self::UnitOfWork => &[Context::Queue, Context::User],
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Interactions => {
                "The state audits a state tile counts (one row per matching audit; the same \
                 interaction may appear several times). `filters` holds the tile's flattened \
                 request: `from`, `to`, `newState`, `oldState`, `channels`, `queues`, `data`, \
                 `userIds`. Contexts: Data, Queue, User."
            }
            Self::Conversations => {
                "The conversations a live tile counts, one row per ended conversation, its \
                 `timestamp` the `conversation.ended` (the latest, by occurredAt then event id), \
                 its `interactionId` and `channel` those of its `conversation.started` and its \
                 `reference` the interaction's latest. `filters` holds the live tile's flattened \
                 request: `from`, `to`, `newState` (required, exactly `[\"Closed\"]`), `channel` \
                 (required, WebChat or Voice), `direction` (Voice), `queues`, `accounts`, `data`, \
                 all matched against the `conversation.started`. Contexts: Account, Queue \
                 (`{\"id\",\"name\"}`; null when the conversation has none). Ties on the \
                 timestamp are ordered by conversation id."
            }
            Self::Messages => {
                "The messages a message tile counts. `filters`: `from`, `to`, `direction`, \
                 `channels`, `queues`, `accounts`, `userIds`, `data`. Contexts: Account, Queue, User."
            }
            Self::UnitOfWork => {
                "The unit-of-work audits an advisor-actions tile counts. `filters`: `from`, `to`, \
                 `action`, `userIds`, `channels`, `queues`, `data`. Contexts: Queue, User."
            }
        }
    }
}

/// `filters` of a view: the flattened request of the matching tile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewFilters {
    #[schema(value_type = String, format = DateTime)]
    pub from: Instant,
    #[schema(value_type = String, format = DateTime)]
    pub to: Instant,
    pub channels: Option<Vec<Channel>>,
    /// view/conversations: `WebChat` or `Voice` (required there).
    pub channel: Option<Channel>,
    pub queues: Option<Vec<Uuid>>,
    pub data: Option<Vec<DataCondition>>,
    pub new_state: Option<Vec<InteractionState>>,
    pub old_state: Option<Vec<InteractionState>>,
    pub user_ids: Option<Vec<Uuid>>,
    pub accounts: Option<Vec<Uuid>>,
    pub direction: Option<Direction>,
    pub action: Option<UnitOfWorkAction>,
}

/// The body of a view request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewBody {
    pub filters: ViewFilters,
    /// Default `Ascending`.
    pub order_by: Option<SortOrder>,
    /// Default `Timestamp`.
    pub order_by_field: Option<OrderField>,
    pub contexts: Option<Vec<Context>>,
}

/// A validated view request, owning everything its query binds.
#[derive(Debug, Clone)]
pub struct ViewQuery {
    kind: ViewKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    filters: RowFilters,
    order: SortOrder,
    field: OrderField,
    contexts: Vec<Context>,
}

#[derive(Debug, Clone)]
struct RowFilters {
    channels: Option<Vec<String>>,
    queues: Option<Vec<Uuid>>,
    data: Vec<DataCondition>,
    new_states: Option<Vec<String>>,
    old_states: Option<Vec<String>>,
    users: Option<Vec<Uuid>>,
    accounts: Option<Vec<Uuid>>,
    direction: Option<Direction>,
    action: Option<UnitOfWorkAction>,
}

impl ViewQuery {
    pub fn from_body(kind: ViewKind, body: ViewBody) -> Result<Self> {
        let f = body.filters;
        check_range(f.from.0, f.to.0, None)?;
        let contexts = body.contexts.unwrap_or_default();
        if let Some(bad) = contexts.iter().find(|c| !kind.contexts().contains(c)) {
            return Err(ApiError::unprocessable(
                "contexts",
                format!(
                    "{bad} is not a context of {}; valid: {}",
                    kind.path(),
                    kind.contexts()
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let names = |list: Option<Vec<InteractionState>>| {
            non_empty(list).map(|l| l.iter().map(|s| s.as_str().to_owned()).collect())
        };
        // The live tiles' rules: newState exactly [Closed], one channel.
        let (mut channels, mut new_state) = (f.channels, f.new_state);
        if kind == ViewKind::Conversations {
            let (channel, _) = live::params(
                "filters.",
                new_state,
                f.channel,
                channels.is_some(),
                f.direction,
            )?;
            channels = Some(vec![channel.channel()]);
            new_state = None;
        }
        Ok(Self {
            kind,
            from: f.from.0,
            to: f.to.0,
            filters: RowFilters {
                channels: non_empty(channels)
                    .map(|l| l.iter().map(|c| c.as_str().to_owned()).collect()),
                queues: non_empty(f.queues),
                data: f.data.unwrap_or_default(),
                new_states: names(new_state),
                old_states: names(f.old_state),
                users: non_empty(f.user_ids),
                accounts: non_empty(f.accounts),
                direction: f.direction,
                action: f.action,
            },
            order: body.order_by.unwrap_or(SortOrder::Ascending),
            field: body.order_by_field.unwrap_or(OrderField::Timestamp),
            contexts,
        })
    }

    /// The one statement of the view, newest or oldest first.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        let mut qb = QueryBuilder::new("select s.interaction_id, ");
        // Messages and units of work carry no reference: take the
        // interaction's latest (ties on the instant: the greater event id,
        // so the answer never depends on the plan; found by the model test).
        match self.kind {
            ViewKind::Interactions => qb.push("s.reference"),
            _ => qb.push(
                "(select a.reference from interaction_audits a where a.tenant_id = s.tenant_id \
                 and a.interaction_id = s.interaction_id \
                 order by a.occurred_at desc, a.event_id desc limit 1) as reference",
            ),
        };
        // Directory joins only for the contexts asked for.
        let queue = self.contexts.contains(&Context::Queue);
        let user = self.contexts.contains(&Context::User);
        let accounts = matches!(self.kind, ViewKind::Messages | ViewKind::Conversations);
        let account = accounts && self.contexts.contains(&Context::Account);
        qb.push(", s.channel, s.occurred_at, s.queue_id");
        qb.push(if queue { ", dq.name" } else { ", null::text" });
        qb.push(", s.user_id");
        qb.push(if user {
            ", trim(du.first_name || ' ' || du.last_name)"
        } else {
            ", null::text"
        });
        qb.push(if accounts {
            ", s.account_id"
        } else {
            ", null::uuid"
        });
        qb.push(if account { ", da.name" } else { ", null::text" });
        qb.push(if self.contexts.contains(&Context::Data) {
            ", s.data"
        } else {
            ", null::jsonb"
        });
        qb.push(" from ").push(self.kind.table()).push(" s");
        if queue {
            qb.push(" left join directory_queues dq on dq.tenant_id = s.tenant_id and dq.queue_id = s.queue_id");
        }
        if user {
            qb.push(" left join directory_users du on du.tenant_id = s.tenant_id and du.user_id = s.user_id");
        }
        if account {
            qb.push(" left join directory_accounts da on da.tenant_id = s.tenant_id and da.account_id = s.account_id");
        }
        qb.push(" where s.tenant_id = ").push_bind(tenant_id);
        qb.push(" and s.occurred_at >= ").push_bind(self.from);
        qb.push(" and s.occurred_at < ").push_bind(self.to);
        let f = &self.filters;
        if let Some(channels) = &f.channels {
            push_any(&mut qb, "s.channel", channels.clone(), "text");
        }
        if let Some(queues) = &f.queues {
            push_any(&mut qb, "s.queue_id", queues.clone(), "uuid");
        }
        if let Some(users) = &f.users {
            push_any(&mut qb, "s.user_id", users.clone(), "uuid");
        }
        for condition in &f.data {
            qb.push(" and s.data @> any(")
                .push_bind(containment_candidates(condition))
                .push("::jsonb[])");
        }
        match self.kind {
            ViewKind::Interactions => {
                if let Some(new) = &f.new_states {
                    push_any(&mut qb, "s.new_state", new.clone(), "text");
                }
                if let Some(old) = &f.old_states {
                    push_any(&mut qb, "s.old_state", old.clone(), "text");
                }
            }
            ViewKind::Messages | ViewKind::Conversations => {
                if let Some(direction) = f.direction {
                    qb.push(" and s.direction = ").push_bind(direction.as_str());
                }
                if let Some(accounts) = &f.accounts {
                    push_any(&mut qb, "s.account_id", accounts.clone(), "uuid");
                }
            }
            ViewKind::UnitOfWork => {
                if let Some(action) = f.action {
                    qb.push(unit_of_work_condition(action));
                }
            }
        }
        let direction = match self.order {
            SortOrder::Ascending => " asc",
            SortOrder::Descending => " desc",
        };
        qb.push(" order by ");
        if self.field == OrderField::Reference {
            qb.push("reference").push(direction).push(", ");
        }
        qb.push("s.occurred_at")
            .push(direction)
            .push(", s.event_id")
            .push(direction);
        qb.push(" limit ").push_bind(limit);
        qb
    }
}

/// One row, decoded once for both renderers.
struct ViewRow {
    interaction_id: String,
    reference: Option<String>,
    channel: String,
    timestamp: DateTime<Utc>,
    queue: (Option<Uuid>, Option<String>),
    user: (Option<Uuid>, Option<String>),
    account: (Option<Uuid>, Option<String>),
    data: Option<Value>,
}

impl ViewRow {
    fn decode(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            interaction_id: row.try_get(0)?,
            reference: row.try_get(1)?,
            channel: row.try_get(2)?,
            timestamp: row.try_get(3)?,
            queue: (row.try_get(4)?, row.try_get(5)?),
            user: (row.try_get(6)?, row.try_get(7)?),
            account: (row.try_get(8)?, row.try_get(9)?),
            data: row.try_get(10)?,
        })
    }

    fn reference_context(pair: &(Option<Uuid>, Option<String>)) -> Value {
        match pair {
            (Some(id), name) => json!({"id": id, "name": name}),
            (None, _) => Value::Null,
        }
    }

    fn to_json(&self, query: &ViewQuery) -> Value {
        let mut row = json!({
            "interactionId": self.interaction_id,
            "reference": self.reference,
            "channel": self.channel,
            "timestamp": self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        if !query.contexts.is_empty() {
            let mut contexts = Map::new();
            for context in &query.contexts {
                let value = match context {
                    Context::Queue => Self::reference_context(&self.queue),
                    Context::User => Self::reference_context(&self.user),
                    Context::Account => Self::reference_context(&self.account),
                    Context::Data => self.data.clone().unwrap_or_else(|| json!([])),
                };
                contexts.insert(context.as_str().to_owned(), value);
            }
            row["contexts"] = Value::Object(contexts);
        }
        row
    }
}

/// The JSON answer: `{"rows": [...]}`, at most [`JSON_ROWS`].
pub async fn json_rows(pool: &PgPool, tenant_id: Uuid, query: &ViewQuery) -> Result<Value> {
    let rows = query
        .sql(tenant_id, JSON_ROWS)
        .build()
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(ViewRow::decode(row)?.to_json(query));
    }
    Ok(json!({ "rows": out }))
}
