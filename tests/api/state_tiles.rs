//! Tiles 1–11 with hand-computed expectations.

use serde_json::{json, Value};

use crate::helpers::{audit_with, TestApp};

const Q1: &str = "11111111-1111-4111-8111-111111111111";
const Q2: &str = "22222222-2222-4222-8222-222222222222";
const U1: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const U2: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const U3: &str = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
const REASON: &str = "dddddddd-dddd-4ddd-8ddd-dddddddddddd";
const REFUND: &str = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";
const DELIVERY: &str = "ffffffff-ffff-4fff-8fff-ffffffffffff";

/// Four interactions on 2026-01-01 (UTC):
/// - i1 Email, Q1: Draft 09:00 → Created 09:05 → Queued 09:10 → Assigned
///   09:20 (U1) → Closed 10:00 (U1) → Queued 11:00 (reopened) → Closed 12:00 (U2);
///   data Reason=Refund.
/// - i2 SMS, Q2: Draft 09:30 → Queued 09:31 → Automation 09:40 → Closed
///   23:59:59.999; data Reason=Delivery.
/// - i3 WebChat, Q1: Draft → Automation at 2026-01-02T00:00:00Z (outside a
///   range ending then).
/// - i4 Email, no queue: Draft 08:00 → Closed 08:01 (not "received").
fn dataset() -> Value {
    let refund = json!([{"id": REASON, "values": [REFUND]}]);
    let delivery = json!([{"id": REASON, "values": [DELIVERY]}]);
    let email_q1 =
        |u: Option<&str>| json!({"channel": "Email", "queueId": Q1, "userId": u, "data": refund});
    let sms_q2 = json!({"channel": "SMS", "queueId": Q2, "data": delivery});
    json!([
        audit_with("i1-1", "i1", "2026-01-01T09:00:00Z", None, "Draft", email_q1(None)),
        audit_with("i1-2", "i1", "2026-01-01T09:05:00Z", Some("Draft"), "Created", email_q1(None)),
        audit_with("i1-3", "i1", "2026-01-01T09:10:00Z", Some("Created"), "Queued", email_q1(None)),
        audit_with("i1-4", "i1", "2026-01-01T09:20:00Z", Some("Queued"), "Assigned", email_q1(Some(U1))),
        audit_with("i1-5", "i1", "2026-01-01T10:00:00Z", Some("Assigned"), "Closed", email_q1(Some(U1))),
        audit_with("i1-6", "i1", "2026-01-01T11:00:00Z", Some("Closed"), "Queued", email_q1(None)),
        audit_with("i1-7", "i1", "2026-01-01T12:00:00Z", Some("Queued"), "Closed", email_q1(Some(U2))),
        audit_with("i2-1", "i2", "2026-01-01T09:30:00Z", None, "Draft", sms_q2.clone()),
        audit_with("i2-2", "i2", "2026-01-01T09:31:00Z", Some("Draft"), "Queued", sms_q2.clone()),
        audit_with("i2-3", "i2", "2026-01-01T09:40:00Z", Some("Queued"), "Automation", sms_q2.clone()),
        audit_with("i2-4", "i2", "2026-01-01T23:59:59.999Z", Some("Automation"), "Closed", sms_q2),
        audit_with("i3-1", "i3", "2026-01-02T00:00:00Z", Some("Draft"), "Automation", json!({"channel": "WebChat", "queueId": Q1})),
        audit_with("i4-1", "i4", "2026-01-01T08:00:00Z", None, "Draft", json!({})),
        audit_with("i4-2", "i4", "2026-01-01T08:01:00Z", Some("Draft"), "Closed", json!({})),
        {"id": "dq1", "type": "directory.queue", "occurredAt": "2025-12-01T00:00:00Z", "queueId": Q1, "name": "Support"},
        {"id": "dq2", "type": "directory.queue", "occurredAt": "2025-12-01T00:00:00Z", "queueId": Q2, "name": "Billing"},
        {"id": "du1", "type": "directory.user", "occurredAt": "2025-12-01T00:00:00Z", "userId": U1, "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roles": ["Agent"]},
        {"id": "dt1", "type": "directory.data_type", "occurredAt": "2025-12-01T00:00:00Z", "dataTypeId": REASON, "name": "Reason", "kind": "SingleSelect", "reportable": true,
         "options": [{"id": REFUND, "name": "Refund"}, {"id": DELIVERY, "name": "Delivery"}]},
    ])
}

fn day() -> Value {
    json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"})
}

fn with_filters(mut body: Value, extra: Value) -> Value {
    if let (Some(filters), Value::Object(extra)) = (body["filters"].as_object_mut(), extra) {
        filters.extend(extra);
    }
    body
}

async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    app.ingest(&dataset()).await;
    app
}

#[tokio::test]
async fn closed_received_and_reopened_counts() {
    let app = seeded().await;
    let closed = app
        .report(
            "interactions/state/count",
            &json!({"newState": ["Closed"], "filters": day()}),
        )
        .await;
    assert_eq!(
        closed,
        json!({"count": 4}),
        "i1 twice, i2 at 23:59:59.999, i4"
    );
    let received = app
        .report("interactions/state/count", &json!({"oldState": ["Draft"], "newState": ["Created", "Queued", "Automation"], "filters": day()}))
        .await;
    assert_eq!(
        received,
        json!({"count": 2}),
        "i1 and i2; i3 is at `to`, i4 went to Closed"
    );
    let reopened = app
        .report("interactions/state/count", &json!({"oldState": ["Closed"], "newState": ["Queued", "Assigned", "Automation"], "filters": day()}))
        .await;
    assert_eq!(reopened, json!({"count": 1}));
    // An empty optional list is no filter.
    let any_old = app
        .report(
            "interactions/state/count",
            &json!({"oldState": [], "newState": ["Closed"], "filters": day()}),
        )
        .await;
    assert_eq!(any_old, json!({"count": 4}));
    // Including i3's audit by moving `to` past it.
    let wider = with_filters(
        json!({"oldState": ["Draft"], "newState": ["Created", "Queued", "Automation"], "filters": day()}),
        json!({"to": "2026-01-02T00:00:00.001Z"}),
    );
    assert_eq!(
        app.report("interactions/state/count", &wider).await,
        json!({"count": 3})
    );
}

#[tokio::test]
async fn channel_queue_and_data_filters_all_must_match() {
    let app = seeded().await;
    let body =
        |extra: Value| with_filters(json!({"newState": ["Closed"], "filters": day()}), extra);
    assert_eq!(
        app.report(
            "interactions/state/count",
            &body(json!({"channels": ["Email"]}))
        )
        .await,
        json!({"count": 3})
    );
    assert_eq!(
        app.report("interactions/state/count", &body(json!({"queues": [Q1]})))
            .await,
        json!({"count": 2})
    );
    assert_eq!(
        app.report(
            "interactions/state/count",
            &body(json!({"channels": ["SMS"], "queues": [Q1]}))
        )
        .await,
        json!({"count": 0})
    );
    let by_value = body(json!({"data": [{"id": REASON, "values": [DELIVERY]}]}));
    assert_eq!(
        app.report("interactions/state/count", &by_value).await,
        json!({"count": 1})
    );
    let any_value = body(json!({"data": [{"id": REASON}]}));
    assert_eq!(
        app.report("interactions/state/count", &any_value).await,
        json!({"count": 3}),
        "i4 has no data"
    );
    let both = body(
        json!({"data": [{"id": REASON, "values": [REFUND, DELIVERY]}, {"id": REASON, "values": [REFUND]}]}),
    );
    assert_eq!(
        app.report("interactions/state/count", &both).await,
        json!({"count": 2})
    );
}

#[tokio::test]
async fn by_channels_queues_and_users_follow_request_order_zero_filled() {
    let app = seeded().await;
    let by_channels = app
        .report(
            "interactions/state/count/by-channels",
            &with_filters(
                json!({"newState": ["Closed"], "filters": day()}),
                json!({"channels": ["SMS", "Email", "Voice"]}),
            ),
        )
        .await;
    assert_eq!(
        by_channels,
        json!({"groups": [{"key": "SMS", "count": 1}, {"key": "Email", "count": 3}, {"key": "Voice", "count": 0}]})
    );

    let by_queues = app
        .report(
            "interactions/state/count/by-queues",
            &with_filters(
                json!({"newState": ["Closed"], "filters": day()}),
                json!({"queues": [Q2, Q1]}),
            ),
        )
        .await;
    assert_eq!(
        by_queues,
        json!({"groups": [{"key": Q2, "name": "Billing", "count": 1}, {"key": Q1, "name": "Support", "count": 2}]})
    );

    let by_users = app
        .report(
            "interactions/state/count/by-users",
            &json!({"newState": ["Closed"], "userIds": [U2, U1, U3], "filters": day()}),
        )
        .await;
    assert_eq!(
        by_users,
        json!({"groups": [{"key": U2, "count": 1}, {"key": U1, "name": "Ada Lovelace", "count": 1}, {"key": U3, "count": 0}]})
    );
}

#[tokio::test]
async fn by_data_groups_by_options_values_and_order() {
    let app = seeded().await;
    let all_options = app
        .report(
            "interactions/state/count/by-data",
            &json!({"newState": ["Closed"], "data": {"id": REASON}, "filters": day()}),
        )
        .await;
    assert_eq!(
        all_options,
        json!({"groups": [{"key": REFUND, "name": "Refund", "count": 2}, {"key": DELIVERY, "name": "Delivery", "count": 1}]})
    );
    let ascending = app
        .report("interactions/state/count/by-data", &json!({"newState": ["Closed"], "data": {"id": REASON}, "orderBy": "Ascending", "filters": day()}))
        .await;
    assert_eq!(ascending["groups"][0]["key"], DELIVERY);
    let chosen = app
        .report("interactions/state/count/by-data", &json!({"newState": ["Closed"], "data": {"id": REASON, "values": [DELIVERY]}, "filters": day()}))
        .await;
    assert_eq!(
        chosen,
        json!({"groups": [{"key": DELIVERY, "name": "Delivery", "count": 1}]})
    );
}

#[tokio::test]
async fn string_editor_by_data_takes_the_ten_most_or_least_used_values() {
    let app = TestApp::spawn().await;
    let note = "99999999-9999-4999-8999-999999999999";
    let mut events = vec![
        json!({"id": "dt", "type": "directory.data_type", "occurredAt": "2025-01-01T00:00:00Z",
        "dataTypeId": note, "name": "Postcode", "kind": "StringEditor", "reportable": true}),
    ];
    // Value vN is used N times, N = 1..=12.
    for n in 1..=12 {
        for k in 0..n {
            events.push(audit_with(
                &format!("e{n}-{k}"),
                &format!("i{n}-{k}"),
                "2026-01-01T10:00:00Z",
                Some("Queued"),
                "Closed",
                json!({"data": [{"id": note, "values": [format!("v{n:02}")]}]}),
            ));
        }
    }
    app.ingest(&Value::Array(events)).await;
    let top = app.report("interactions/state/count/by-data", &json!({"newState": ["Closed"], "data": {"id": note}, "orderBy": "Descending", "filters": day()})).await;
    let keys: Vec<&str> = top["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        vec!["v12", "v11", "v10", "v09", "v08", "v07", "v06", "v05", "v04", "v03"]
    );
    assert_eq!(top["groups"][0]["count"], 12);
    let bottom = app.report("interactions/state/count/by-data", &json!({"newState": ["Closed"], "data": {"id": note}, "orderBy": "Ascending", "filters": day()})).await;
    assert_eq!(bottom["groups"][0], json!({"key": "v01", "count": 1}));
    assert_eq!(bottom["groups"].as_array().expect("groups").len(), 10);
}

#[tokio::test]
async fn by_date_in_utc_is_zero_filled_and_clipped_to_the_range() {
    let app = seeded().await;
    let body = json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T09:00:00Z", "to": "2026-01-03T00:00:00Z", "groupBy": "Day"}});
    let answer = app.report("interactions/state/by-date", &body).await;
    assert_eq!(
        answer,
        json!({"groupBy": "Day", "timeZone": "UTC", "buckets": [
            // The bucket keeps its calendar bounds; i4's 08:01 close is before `from`.
            {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z", "count": 3},
            {"start": "2026-01-02T00:00:00Z", "end": "2026-01-03T00:00:00Z", "count": 0},
        ]})
    );
    let grouped = app
        .report("interactions/state/by-date/by-queues", &json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "groupBy": "Hour", "queues": [Q1]}}))
        .await;
    let buckets = grouped["groups"][0]["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 24);
    let counts: Vec<i64> = buckets
        .iter()
        .map(|b| b["count"].as_i64().expect("count"))
        .collect();
    let mut expected = vec![0; 24];
    expected[10] = 1;
    expected[12] = 1;
    assert_eq!(counts, expected);
    assert_eq!(grouped["groups"][0]["name"], "Support");
}

#[tokio::test]
async fn another_tenants_ids_see_zeros_never_its_data() {
    let app = seeded().await;
    let other = app.new_tenant("Other").await;
    let body = with_filters(
        json!({"newState": ["Closed"], "filters": day()}),
        json!({"queues": [Q1, Q2]}),
    );
    let response = app
        .post_as(
            &other.token,
            "/reporting/v1.2/interactions/state/count/by-queues",
            &body,
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({"groups": [{"key": Q1, "count": 0}, {"key": Q2, "count": 0}]}),
        "no counts and no names of tenant A"
    );
    let users = app
        .post_as(
            &other.token,
            "/reporting/v1.2/interactions/state/count/by-users",
            &json!({"newState": ["Closed"], "userIds": [U1], "filters": day()}),
        )
        .await;
    assert_eq!(users.json(), json!({"groups": [{"key": U1, "count": 0}]}));
    // The same event ids are free in another tenant, and stay separate.
    let answer = app
        .ingest_as(
            &other,
            &json!([audit_with(
                "i1-5",
                "x",
                "2026-01-01T10:00:00Z",
                None,
                "Closed",
                json!({})
            )]),
        )
        .await;
    assert_eq!(answer["inserted"], 1);
    let mine = app
        .report(
            "interactions/state/count",
            &json!({"newState": ["Closed"], "filters": day()}),
        )
        .await;
    assert_eq!(mine, json!({"count": 4}));
}

#[tokio::test]
async fn bad_requests_are_400_and_unanswerable_ones_422() {
    let app = seeded().await;
    let app = &app;
    let post = |body: Value| async move {
        app.post("/reporting/v1.2/interactions/state/count", &body)
            .await
    };
    let problem = post(json!({"filters": day()})).await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "newState");
    let problem = post(json!({"newState": [], "filters": day()}))
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "newState");
    let problem = post(json!({"newState": ["Shut"], "filters": day()}))
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "newState[0]");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("Closed"));
    let problem = post(json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}})).await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "filters.from");
    let problem = post(json!({"newState": ["Closed"], "filters": {"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T00:00:00Z"}})).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "filters.to");
    let problem = post(json!({"newState": ["Closed"], "filters": {"to": "2026-01-02T00:00:00Z"}}))
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "filters.from");
    let problem =
        post(json!({"newState": ["Closed"], "filters": {"from": 5, "to": "2026-01-02T00:00:00Z"}}))
            .await
            .problem(400);
    assert_eq!(problem["errors"][0]["field"], "filters.from");
    let malformed = app
        .request(
            axum::http::Method::POST,
            "/reporting/v1.2/interactions/state/count",
            &[("authorization", &format!("Bearer {}", app.tenant.token))],
            b"{not json".to_vec(),
        )
        .await;
    malformed.problem(400);

    let by_date = |extra: Value| json!({"newState": ["Closed"], "timeZone": "Europe/Berlin", "filters": extra});
    let bd = |body: Value| async move {
        app.post("/reporting/v1.2/interactions/state/by-date", &body)
            .await
    };
    let problem = bd(by_date(
        json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}),
    ))
    .await
    .problem(400);
    assert_eq!(problem["errors"][0]["field"], "filters.groupBy");
    let problem = bd(json!({"newState": ["Closed"], "timeZone": "Mars/Olympus", "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "groupBy": "Day"}})).await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "timeZone");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("Asia/Kathmandu"));
    let problem = bd(by_date(json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "groupBy": "Fortnight"}))).await.problem(400);
    assert!(problem["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("Week"));

    let by_queues = app
        .post(
            "/reporting/v1.2/interactions/state/count/by-queues",
            &json!({"newState": ["Closed"], "filters": day()}),
        )
        .await;
    assert_eq!(
        by_queues.problem(400)["errors"][0]["field"],
        "filters.queues"
    );
    let empty = app
        .post(
            "/reporting/v1.2/interactions/state/count/by-channels",
            &with_filters(
                json!({"newState": ["Closed"], "filters": day()}),
                json!({"channels": []}),
            ),
        )
        .await;
    assert_eq!(empty.problem(422)["errors"][0]["field"], "filters.channels");
    let users = app
        .post(
            "/reporting/v1.2/interactions/state/count/by-users",
            &json!({"newState": ["Closed"], "filters": day()}),
        )
        .await;
    assert_eq!(users.problem(400)["errors"][0]["field"], "userIds");
    let unknown_type = app
        .post("/reporting/v1.2/interactions/state/count/by-data", &json!({"newState": ["Closed"], "data": {"id": "12345678-1234-4234-8234-123456789012"}, "filters": day()}))
        .await;
    assert_eq!(unknown_type.problem(422)["errors"][0]["field"], "data.id");
}

#[tokio::test]
async fn range_limits_per_granularity_accept_the_limit_and_refuse_past_it() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "Hour",
            "2026-01-01T00:00:00Z",
            "2026-01-02T00:00:00Z",
            "2026-01-02T00:00:01Z",
        ),
        (
            "Day",
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-02-01T00:00:01Z",
        ),
        (
            "Week",
            "2026-01-31T00:00:00Z",
            "2026-04-30T00:00:00Z",
            "2026-04-30T00:00:01Z",
        ),
        (
            "Month",
            "2026-01-01T00:00:00Z",
            "2028-01-01T00:00:00Z",
            "2028-01-01T00:00:01Z",
        ),
    ];
    for (group_by, from, at_limit, past_limit) in cases {
        let body = |to: &str| json!({"newState": ["Closed"], "filters": {"from": from, "to": to, "groupBy": group_by}});
        let ok = app
            .post(
                "/reporting/v1.2/interactions/state/by-date",
                &body(at_limit),
            )
            .await;
        assert_eq!(ok.status, 200, "{group_by} at its limit: {}", ok.text());
        let over = app
            .post(
                "/reporting/v1.2/interactions/state/by-date",
                &body(past_limit),
            )
            .await;
        let problem = over.problem(422);
        assert_eq!(problem["errors"][0]["field"], "filters.to", "{group_by}");
    }
    let count = |to: &str| json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00Z", "to": to}});
    assert_eq!(
        app.post(
            "/reporting/v1.2/interactions/state/count",
            &count("2028-01-01T00:00:00Z")
        )
        .await
        .status,
        200
    );
    app.post(
        "/reporting/v1.2/interactions/state/count",
        &count("2028-01-01T00:00:00.001Z"),
    )
    .await
    .problem(422);
}
