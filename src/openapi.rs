//! The OpenAPI document: handlers annotated with `#[utoipa::path]`, plus one
//! generated operation per tile (JSON and CSV export), from the tile table.

use serde_json::json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::report::tiles::{self, Tile};
use crate::report::view::ViewKind;
use crate::report::{EXPORT_PREFIX, JSON_PREFIX};

/// `{"count"}`: the metric object of the count tiles.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CountMetric {
    pub count: i64,
}

/// A by-date bucket: its calendar bounds in the request zone's offset (not
/// clipped to the range), with the metric object flattened in.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BucketAnswer {
    #[schema(example = "2026-03-29T00:00:00+01:00")]
    pub start: String,
    #[schema(example = "2026-03-30T00:00:00+02:00")]
    pub end: String,
    /// Count and duration tiles (live and presence tiles carry their own
    /// fields, as the operation says).
    pub count: Option<i64>,
    /// Duration tiles (metric T): seconds, null when count is 0.
    pub average: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Continuous percentile (linear interpolation, as SQL `percentile_cont`).
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

/// One group of a by-X answer, with the metric object flattened in.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct GroupAnswer {
    pub key: String,
    /// The directory name, where known.
    pub name: Option<String>,
    pub count: Option<i64>,
    /// By-date answers: the group's buckets.
    pub buckets: Option<Vec<BucketAnswer>>,
}

/// The answer of every tile. M is `{"count"}` for count tiles,
/// `{"count","average","min","max","p50","p90"}` (seconds) for duration tiles,
/// and for live conversation tiles `{"total","abandonedByCustomer",
/// "abandonedByOperator","handled"}` (WebChat) or `{"total","abandonedInIvr",
/// "abandoned","handled"}` (Voice), the classes as percentages of `total`
/// (null when it is 0) on the percentages tiles.
/// Count: `{…M}`. By-date:
/// `{"groupBy","timeZone","buckets"}`. By-X: `{"groups"}`, one per requested
/// key in request order, zero-filled. By-X by-date:
/// `{"groupBy","timeZone","groups":[{"key","name"?,"buckets"}]}`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct TileAnswer {
    pub count: Option<i64>,
    pub group_by: Option<crate::domain::Granularity>,
    pub time_zone: Option<String>,
    pub buckets: Option<Vec<BucketAnswer>>,
    pub groups: Option<Vec<GroupAnswer>>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /oauth/token (client credentials: every role), or a \
                         user JWT (HS256 or RS256) with claims sub, tid, roles, exp.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token configured in CX_ADMIN_TOKEN."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "webhookSignature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Signature-256",
                "sha256=<hex HMAC-SHA256 of the raw body with the tenant's webhook secret>, with X-Tenant-Id.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cx-reporting",
        description = "Multi-tenant reporting API for contact centres and customer-messaging teams.\n\n\
            Conventions: JSON bodies use camelCase; request instants must carry an offset and are \
            stored in UTC; durations are seconds (millisecond precision); ranges are half-open \
            `[from, to)`. Every error is `application/problem+json` (RFC 9457) with `errors` naming \
            the fields to blame. A request that does not fit the schema is 400; one that fits but \
            cannot be answered (range over its limit, `to` not after `from`, an empty required \
            list, any list of a reporting or view body holding more than 1,000 values) is 422. An empty optional filter list (e.g. `oldState: []`) means no filter. \
            A wrong method is 405 with `Allow`; an unknown path 404; a body over its limit (16 MiB \
            for ingestion, 1 MiB elsewhere) 413 naming the limit; a body of an ingest, reporting or \
            export request that pauses longer than `CX_BODY_IDLE_TIMEOUT_MS` (10 s) between two \
            chunks 408, and one that breaks off before its announced length 400; a database that is busy (no free \
            connection) or unreachable, or a request past the request timeout, is 503 with \
            `Retry-After`; an internal failure is 500 and says nothing of its cause. A CSV export \
            that fails after its header row is sent ends the chunked body with an error (no \
            terminating chunk): the download fails rather than looking complete.\n\n\
            Caching: `/reporting/v1.2/**` JSON answers are cached per tenant and canonical request \
            for 10 minutes (`X-Cache: HIT` with `Age`, or `MISS`); `Cache-Control: no-cache` \
            bypasses the lookup. Ingesting new events for a tenant, or changing its settings, invalidates \
            its cached answers. \
            CSV exports are streamed and never cached.\n\n\
            Planning: count tiles of the state and message families are answered from hourly \
            and daily UTC rollups (quarter-hour edges from the raw rows) when the range and every \
            bucket bound fall on quarter hours and no data filter or user/account/data grouping is asked, else from the raw \
            events. Duration tiles (queue, IVR, response and wait times) grouped by nothing or by \
            queue, with no channel or data filter, are answered from exact hourly and daily \
            rollups when the range and every bucket bound fall on whole UTC hours: counts and \
            microsecond sums give the average, and per-bin counts locate the exact stored values \
            of the ranks that min, max and the continuous percentiles need. Both paths give \
            identical answers. Presence tiles (29-36) are answered, when the range and every \
            bucket bound fall on whole UTC hours, from an hourly rollup per user and UTC day of \
            the closed presence spans and of the contacts (no channel, queue or data filter; else \
            the contacts come from the unit-of-work audits) plus each user's open last span \
            (`rollup`), else from the presence spans maintained at ingest (`spans`); both give \
            identical answers. Every tile answer says which path answered in \
            `X-Query-Plan: rollup|raw|spans`. A tile that runs past the statement timeout is 503.\n\n\
            Rate limits: per client (tenant + token subject), separate buckets for reporting, \
            export and ingest, reported in `X-RateLimit-Limit`, `X-RateLimit-Remaining`, \
            `X-RateLimit-Reset` (seconds until the bucket is full) and the IETF draft fields \
            `RateLimit-Policy: \"reporting\";q=600;w=60` and `RateLimit: \"reporting\";r=599;t=1`; \
            a refused request is 429 with `Retry-After`.",
        version = "1.2.0"
    ),
    paths(
        crate::auth::token::issue,
        crate::auth::tenants::create_route,
        crate::ingest::ingest,
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
        crate::settings::get_settings,
        crate::settings::put_settings,
        crate::report::directory::directory,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::report::request::ReportBody,
        crate::report::request::FiltersBody,
        crate::report::request::DataCondition,
        crate::domain::Channel,
        crate::domain::InteractionState,
        crate::domain::Granularity,
        crate::domain::SortOrder,
        crate::domain::Direction,
        crate::domain::ResponseTimeKind,
        crate::domain::UnitOfWorkAction,
        crate::domain::Context,
        crate::domain::OrderField,
        crate::report::view::ViewBody,
        crate::report::view::ViewFilters,
        crate::report::directory::DirectoryBody,
        crate::report::directory::Directory,
        crate::report::directory::Entry,
        TileAnswer,
        GroupAnswer,
        BucketAnswer,
        CountMetric,
        crate::report::presence::UserState,
        crate::report::presence::schema::PresenceAnswer,
        crate::report::presence::schema::PresenceGroupAnswer,
        crate::report::presence::schema::PresenceBucketAnswer,
        crate::report::presence::schema::PresenceValueAnswer,
        crate::report::datasources::RowsBody,
        crate::report::datasources::RowsFilters,
        crate::report::datasources::RowsOrder,
    )),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Tokens"),
        (name = "admin", description = "Tenant administration"),
        (name = "ingest", description = "Audit events in"),
        (name = "interactions", description = "Interaction state tiles (1-11), queue time (12), IVR time (28)"),
        (name = "advisors", description = "Advisor actions (13), advisor metrics (36)"),
        (name = "presence", description = "Contacts per hour (29-33), availability (34-35)"),
        (name = "messages", description = "Message volume (14-18), response and wait times (19-23)"),
        (name = "conversations", description = "Live conversations (24-27)"),
        (name = "views", description = "The rows behind the tiles (37)"),
        (name = "directory", description = "Names of the tenant's queues, users and accounts (an extension, for filters that show names)"),
        (name = "export", description = "The CSV mirror of every reporting endpoint"),
        (name = "operations", description = "Health and metrics"),
        (name = "datasources", description = "The ino.cx data sources: distributions, messages, SMS (§5.5)"),
        (name = "settings", description = "Tenant settings (reporting interval, two-way file schedule, after hours)"),
    )
)]
struct ApiDoc;

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn tile_operation(tile: &Tile, export: bool) -> utoipa::openapi::path::Operation {
    let path = tile.path();
    let description = format!(
        "{}{}{}{}",
        tile.family.description(),
        tile.dimension.requirement(),
        if tile.by_date {
            " By date: `filters.groupBy` (Hour, Day, Week, Month) and `timeZone` (IANA, default UTC); \
             every bucket from the one holding `from` to the one holding the last instant before `to` \
             is present, zero-filled. Range limits: Hour 24 h, Day 31 days, Week 3 calendar months, \
             Month 24 calendar months."
        } else {
            " Range limit: 24 calendar months."
        },
        if export {
            " CSV (RFC 4180, header row always): one row per group × bucket with columns \
             `group, groupName, bucketStart, bucketEnd, …metric` (those that apply). `Accept` must be \
             absent, `*/*` or `text/csv`, else 404."
        } else {
            ""
        }
    );
    let ok = if export {
        ResponseBuilder::new()
            .description("The answer as CSV")
            .content("text/csv; charset=utf-8", ContentBuilder::new().build())
            .build()
    } else {
        ResponseBuilder::new()
            .description("The answer")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(
                        if crate::report::presence::is_presence(tile.family) {
                            "PresenceAnswer"
                        } else {
                            "TileAnswer"
                        },
                    )))
                    .build(),
            )
            .build()
    };
    reporting_operation(
        format!(
            "{}{}",
            tile.family.summary(),
            if export { " (CSV)" } else { "" }
        ),
        description,
        format!("{}{}", if export { "export/" } else { "" }, path),
        if export { "export" } else { tile.family.tag() },
        tile_body_schema(tile),
        ok,
        export,
        "range, empty list",
    )
}

/// The body of a view: `ViewBody`, and for `view/conversations` the live
/// tile's required `filters.newState` (`["Closed"]`) and `filters.channel`.
fn view_body_schema(kind: ViewKind) -> RefOr<Schema> {
    if kind != ViewKind::Conversations {
        return Ref::from_schema_name("ViewBody").into();
    }
    let schema = json!({"allOf": [
        {"$ref": "#/components/schemas/ViewBody"},
        {"type": "object", "required": ["filters"], "properties": {"filters": {
            "type": "object", "required": ["from", "to", "newState", "channel"],
            "properties": {
                "newState": {"type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"type": "string", "enum": ["Closed"]}},
                "channel": {"type": "string", "enum": ["WebChat", "Voice"]},
            }}}},
    ]});
    serde_json::from_value(schema).unwrap_or_else(|_| Ref::from_schema_name("ViewBody").into())
}

/// The body of a tile: `ReportBody` with what this tile requires beside it
/// (its parameters, its groups' list, `filters.groupBy` by date), so that
/// a body valid against the document is one the tile accepts, but for the
/// cross-field rules JSON Schema cannot say (`to` after `from`, the range
/// limits, at most 1,000 values a list: 422).
fn tile_body_schema(tile: &Tile) -> RefOr<Schema> {
    use crate::report::tiles::{Dimension, Family};
    let list = json!({"type": "array", "minItems": 1, "items": {"type": "string"}});
    let text = json!({"type": "string"});
    let (mut top, mut filters) = (serde_json::Map::new(), serde_json::Map::new());
    match tile.family {
        Family::InteractionState => top.insert("newState".into(), list.clone()),
        Family::MessageVolume => top.insert("direction".into(), text.clone()),
        Family::ResponseTimes => top.insert("responseTime".into(), text.clone()),
        Family::UnitOfWork => top.insert("action".into(), text.clone()),
        Family::QueueTime | Family::IvrTime => None,
        Family::ContactsPerHour
        | Family::Availability
        | Family::AvailabilityPercentage
        | Family::AdvisorMetrics => {
            // Every presence tile is per user, whatever its groups.
            top.insert("userIds".into(), list.clone());
            let states = crate::report::presence::states(tile.family);
            let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
            (!names.is_empty())
                .then(|| top.insert("userState".into(), json!({"type": "string", "enum": names})))
                .flatten()
        }
        Family::Live(_) => {
            let closed = json!({"type": "array", "minItems": 1, "maxItems": 1,
                "items": {"type": "string", "enum": ["Closed"]}});
            top.insert("newState".into(), closed);
            let channel = json!({"type": "string", "enum": ["WebChat", "Voice"]});
            filters.insert("channel".into(), channel)
        }
    };
    match tile.dimension {
        Dimension::Total => None,
        Dimension::Channel => filters.insert("channels".into(), list.clone()),
        Dimension::Queue => filters.insert("queues".into(), list.clone()),
        Dimension::User => top.insert("userIds".into(), list.clone()),
        Dimension::Account => top.insert("accounts".into(), list.clone()),
        Dimension::Data => top.insert("data".into(), json!({"type": "object"})),
    };
    if tile.by_date {
        filters.insert("groupBy".into(), text);
    }
    let mut required: Vec<String> = top.keys().cloned().collect();
    required.push("filters".into());
    let mut filters_required = vec!["from".to_owned(), "to".to_owned()];
    filters_required.extend(filters.keys().cloned());
    top.insert(
        "filters".into(),
        json!({"type": "object", "required": filters_required, "properties": filters}),
    );
    let schema = json!({"allOf": [
        {"$ref": "#/components/schemas/ReportBody"},
        {"type": "object", "required": required, "properties": top},
    ]});
    serde_json::from_value(schema).unwrap_or_else(|_| Ref::from_schema_name("ReportBody").into())
}

/// What every reporting operation shares: a JSON body, the bearer scheme,
/// and the error answers (404 for a wrong Accept on exports only).
#[allow(clippy::too_many_arguments)]
fn reporting_operation(
    summary: String,
    description: String,
    operation_id: String,
    tag: &str,
    body_schema: RefOr<Schema>,
    ok: utoipa::openapi::Response,
    export: bool,
    unanswerable: &str,
) -> utoipa::openapi::path::Operation {
    let mut operation = OperationBuilder::new()
        .summary(Some(summary))
        .description(Some(description))
        .operation_id(Some(operation_id))
        .tag(tag)
        .request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body_schema)).build(),
                )
                .required(Some(Required::True))
                .build(),
        ))
        .response("200", ok)
        .response("400", problem_response("The body does not fit the schema"))
        .response("401", problem_response("Missing or bad token"))
        .response(
            "403",
            problem_response("The token lacks the Analytics role"),
        )
        .response(
            "422",
            problem_response(&format!("The request cannot be answered ({unanswerable})")),
        )
        .response("429", problem_response("Rate limited; see Retry-After"));
    if export {
        operation = operation.response(
            "404",
            problem_response("An Accept other than absent, */* or text/csv"),
        );
    }
    operation
        .securities(Some([SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]))
        .build()
}

fn view_operation(kind: ViewKind, export: bool) -> utoipa::openapi::path::Operation {
    let ok = if export {
        ResponseBuilder::new()
            .description(
                "CSV: `interactionId, reference, channel, timestamp` and two columns per requested \
                 context (`queueId, queueName`; `userId, userName`; `accountId, accountName`; `data` \
                 as JSON), streamed, at most 1,000,000 rows",
            )
            .content("text/csv; charset=utf-8", ContentBuilder::new().build())
            .build()
    } else {
        ResponseBuilder::new()
            .description(
                "`{\"rows\": [{\"interactionId\", \"reference\", \"channel\", \"timestamp\", \"contexts\"?}]}`, \
                 at most 1,000 rows; `contexts` is keyed by context name (`Queue`, `User`, `Account`: \
                 `{\"id\", \"name\"}`; `Data`: the snapshot)",
            )
            .content("application/json", ContentBuilder::new().build())
            .build()
    };
    reporting_operation(
        format!(
            "Rows behind the tiles: {}{}",
            kind.path(),
            if export { " (CSV)" } else { "" }
        ),
        format!(
            "{} Ordered by `orderByField` (`Timestamp` default, or `Reference`) in `orderBy` \
             (`Ascending` default); `timestamp` is when the matching tile counts the row.",
            kind.description()
        ),
        format!("{}{}", if export { "export/" } else { "" }, kind.path()),
        if export { "export" } else { "views" },
        view_body_schema(kind),
        ok,
        export,
        "range, context",
    )
}

/// The answers every operation can give besides its own: 413 where it
/// takes a body, 503 where it needs the database or may run long, 500.
fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let needs_database = !matches!(path.as_str(), "/healthz" | "/metrics");
        for operation in [item.get.as_mut(), item.post.as_mut()]
            .into_iter()
            .flatten()
        {
            let takes_body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            if takes_body {
                responses.entry("413".into()).or_insert_with(|| {
                    problem_response("The body is over its limit (named in `detail`)").into()
                });
            }
            if takes_body && (path.starts_with("/ingest/") || path.starts_with("/reporting/")) {
                responses.entry("408".into()).or_insert_with(|| {
                    problem_response(
                        "The body stalled: no bytes arrived for the idle timeout (10 s by default)",
                    )
                    .into()
                });
            }
            if needs_database {
                responses.entry("503".into()).or_insert_with(|| {
                    problem_response(
                        "The database is busy or unreachable, or the request ran past the \
                         request timeout (see Retry-After); or a query ran past the statement \
                         timeout",
                    )
                    .into()
                });
            }
            responses.entry("500".into()).or_insert_with(|| {
                problem_response("An internal failure; nothing of it is told").into()
            });
        }
    }
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::report::twoway::TwoWayDoc::openapi());
    doc.merge(crate::report::sessions::SessionsDoc::openapi());
    doc.merge(crate::report::intervals::IntervalsDoc::openapi());
    for kind in ViewKind::ALL {
        for export in [false, true] {
            let prefix = if export { EXPORT_PREFIX } else { JSON_PREFIX };
            doc.paths.paths.insert(
                format!("{prefix}/{}", kind.path()),
                PathItem::new(HttpMethod::Post, view_operation(kind, export)),
            );
        }
    }
    for tile in tiles::all() {
        for export in [false, true] {
            let prefix = if export { EXPORT_PREFIX } else { JSON_PREFIX };
            doc.paths.paths.insert(
                format!("{prefix}/{}", tile.path()),
                PathItem::new(HttpMethod::Post, tile_operation(&tile, export)),
            );
        }
    }
    datasources(&mut doc);
    add_common_responses(&mut doc);
    doc
}

/// The data sources: the rows operation and its export (the `name` a path
/// parameter listing the sources), and the schemas of their two events,
/// which the ingest operation names.
fn datasources(doc: &mut utoipa::openapi::OpenApi) {
    use crate::ingest::datasources::fields;
    use crate::ingest::events::EventKind;
    use crate::report::datasources::{doc as ds, Source, ROWS_PATH};
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let name = json!({"type": "string", "enum": Source::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()});
    for export in [false, true] {
        let ok = if export {
            ResponseBuilder::new()
                .description("The rows as CSV, streamed")
                .content("text/csv; charset=utf-8", ContentBuilder::new().build())
                .build()
        } else {
            let answer = json!({"type": "object", "required": ["rows", "truncated"], "properties": {
                "rows": {"type": "array", "items": {"type": "object"}},
                "truncated": {"type": "boolean"}}});
            ResponseBuilder::new()
                .description("The rows")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(serde_json::from_value::<RefOr<Schema>>(answer).ok())
                        .build(),
                )
                .build()
        };
        let body = serde_json::from_value(ds::body_schema())
            .unwrap_or_else(|_| Ref::from_schema_name("RowsBody").into());
        let mut operation = reporting_operation(
            format!(
                "Rows of a data source{}",
                if export { " (CSV)" } else { "" }
            ),
            ds::description(export),
            format!("{}datasources/rows", if export { "export/" } else { "" }),
            if export { "export" } else { "datasources" },
            body,
            ok,
            export,
            "range, column, orderBy",
        );
        let not_found = if export {
            "An unknown data source name, or an Accept other than absent, */* or text/csv"
        } else {
            "An unknown data source name"
        };
        operation
            .responses
            .responses
            .insert("404".into(), problem_response(not_found).into());
        let parameter = ParameterBuilder::new()
            .name("name")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("The data source"))
            .schema(serde_json::from_value::<RefOr<Schema>>(name.clone()).ok())
            .build();
        operation.parameters = Some(vec![parameter]);
        let prefix = if export { EXPORT_PREFIX } else { JSON_PREFIX };
        doc.paths.paths.insert(
            format!("{prefix}/{ROWS_PATH}"),
            PathItem::new(HttpMethod::Post, operation),
        );
    }
    let events = [
        (EventKind::DistributionCompleted, "DistributionCompletedEvent",
         "`distribution.completed`: one messaging distribution (`occurredAt` is the distribution date); \
          `correspondent` is the Sender (Incoming) or Recipient (Outgoing); `queueId`/`userId` are shown as \
          directory names."),
        (EventKind::SmsSent, "SmsSentEvent",
         "`sms.sent`: one SMS (`occurredAt` is the send date); `queueId`/`userId` are shown as directory names."),
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for (kind, schema_name, description) in events {
        let schema = ds::event_schema(kind, fields(kind).unwrap_or_default(), description);
        if let Ok(schema) = serde_json::from_value::<RefOr<Schema>>(schema) {
            components.schemas.insert(schema_name.into(), schema);
        }
    }
    if let Some(ingest) = doc
        .paths
        .paths
        .get_mut("/ingest/v1/events")
        .and_then(|item| item.post.as_mut())
    {
        let text = ingest.description.get_or_insert_with(String::new);
        text.push_str(
            "\n\nBeside the kinds of API.md §3, the data sources (§5.5) take \
             `distribution.completed` (schema `DistributionCompletedEvent`: `distributionId` and \
             `direction` required) and `sms.sent` (schema `SmsSentEvent`: `smsId` required), \
             validated the same way (closed enums, lengths, 422 naming `[index].field`).",
        );
    }
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tile's body schema carries its requirements (the fallback to
    /// the bare `ReportBody` would drop them silently).
    #[test]
    fn every_tile_body_schema_states_what_the_tile_requires() {
        for tile in tiles::all() {
            let schema = serde_json::to_value(tile_body_schema(&tile)).expect("json");
            let parts = schema["allOf"].as_array().map(Vec::len);
            assert_eq!(parts, Some(2), "{}: {schema}", tile.path());
            let filters = &schema["allOf"][1]["properties"]["filters"]["required"];
            assert_eq!(filters[0], "from", "{}", tile.path());
        }
    }

    /// The data sources' schemas survive the conversion to utoipa types
    /// (a failed conversion would drop them silently).
    #[test]
    fn the_data_sources_are_documented() {
        let doc = serde_json::to_value(document()).expect("json");
        let schemas = &doc["components"]["schemas"];
        let required = &schemas["DistributionCompletedEvent"]["required"];
        assert_eq!(
            required,
            &json!(["id", "type", "occurredAt", "distributionId", "direction"])
        );
        assert!(schemas["SmsSentEvent"]["properties"]["origin"]["enum"].is_array());
        let rows = &doc["paths"]["/reporting/v1.2/datasources/{name}/rows"]["post"];
        assert_eq!(rows["parameters"][0]["schema"]["enum"][3], "sms");
        assert!(rows["requestBody"]["content"]["application/json"]["schema"]["allOf"].is_array());
        assert!(
            rows["responses"]["200"]["content"]["application/json"]["schema"]["required"]
                .is_array()
        );
    }
}
