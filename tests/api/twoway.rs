//! Two-way activity (API.md §5.3) through HTTP: the signed webhook (bad
//! signatures and bodies store nothing, the seed's lengths, the kinds,
//! idempotency, the computed after-hours flag, the §3 families it feeds),
//! the listing and its flat-file export. The scheduled files are in
//! `twoway/schedule.rs`.

mod feed;
mod schedule;
mod validation;

use axum::http::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestResponse, TestTenant};

/// The seed's twenty properties, in the seed's order (copied from
/// `seeds/two-way-activity-report.txt`, not from the code).
pub const SEED_COLUMNS: &str = "agent_email,agent_first_name,agent_last_name,agent_roles,\
agent_control_group,ccid,customer_first_name,customer_last_name,product_group_id,event_type,\
event_subtype,event_time,control_tag,twoway_channel_sid,conversation_id,closed_reason,\
closed_additional_information,after_hours_flag,sender_type,conversation_status";

/// A two-way event of `subtype` (its event_type follows from it).
pub fn event(ccid: &str, subtype: &str, at: &str) -> Value {
    let kind = match subtype {
        "agent_ping" | "agent_invite" | "channel_closed" => "twoway",
        _ => "twoway_webhook",
    };
    json!({"ccid": ccid, "event_type": kind, "event_subtype": subtype, "event_time": at})
}

/// `event` with properties merged in.
pub fn event_with(ccid: &str, subtype: &str, at: &str, extra: Value) -> Value {
    let mut body = event(ccid, subtype, at);
    if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), extra) {
        map.extend(extra);
    }
    body
}

/// Posts raw bytes to the webhook, signed over `signed` with `tenant`'s secret.
pub async fn post_signed(
    app: &TestApp,
    tenant: &TestTenant,
    body: &[u8],
    signed: &[u8],
) -> TestResponse {
    let signature = cx_reporting::auth::secrets::sign(&tenant.credentials.webhook_secret, signed);
    let id = tenant.id.to_string();
    app.request(
        Method::POST,
        "/ingest/v1/webhooks/twoway",
        &[
            ("x-tenant-id", &id),
            ("x-signature-256", &signature),
            ("content-type", "application/json"),
        ],
        body.to_vec(),
    )
    .await
}

/// Sends one event, correctly signed, as `tenant`.
pub async fn send_as(app: &TestApp, tenant: &TestTenant, body: &Value) -> TestResponse {
    let bytes = serde_json::to_vec(body).expect("json");
    post_signed(app, tenant, &bytes, &bytes).await
}

/// Sends one event as the app's tenant and asserts it was accepted.
pub async fn send(app: &TestApp, body: &Value) -> Value {
    let response = send_as(app, &app.tenant.clone(), body).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// The listing of `[from, to)` as the app's tenant.
pub async fn listing(app: &TestApp, from: &str, to: &str) -> Value {
    app.report(
        "twoway/activity",
        &json!({"filters": {"from": from, "to": to}}),
    )
    .await
}

pub async fn stored(app: &TestApp) -> (i64, i64) {
    sqlx::query_as("select (select count(*) from twoway_events), (select count(*) from events)")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_forged_signature_a_truncated_body_or_none_store_nothing() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&event_with(
        "c1",
        "customer_message_sent",
        "2026-03-02T10:00:00Z",
        json!({"conversation_id": "conv-1"}),
    ))
    .expect("json");
    let mut forger = app.tenant.clone();
    forger.credentials.webhook_secret = "not-the-secret".into();
    post_signed(&app, &forger, &body, &body).await.problem(401);
    // The signature of the whole body over a body cut short.
    let cut = &body[..body.len() - 3];
    post_signed(&app, &app.tenant, cut, &body)
        .await
        .problem(401);
    let unsigned = app
        .request(
            Method::POST,
            "/ingest/v1/webhooks/twoway",
            &[],
            body.clone(),
        )
        .await;
    unsigned.problem(401);
    assert_eq!(stored(&app).await, (0, 0), "nothing stored");
    // The same body, signed, is stored with the §3 message it feeds.
    let answer = send(&app, &serde_json::from_slice(&body).expect("json")).await;
    assert_eq!(
        answer,
        json!({"received": 1, "inserted": 1, "duplicates": 0})
    );
    assert_eq!(stored(&app).await, (1, 1));
}

#[tokio::test]
async fn a_redelivery_is_a_duplicate_and_feeds_nothing_twice() {
    let app = TestApp::spawn().await;
    let body = event_with(
        "c1",
        "customer_message_sent",
        "2026-03-02T10:00:00Z",
        json!({"conversation_id": "conv-1", "customer_first_name": "Ada"}),
    );
    send(&app, &body).await;
    let again = send(&app, &body).await;
    assert_eq!(
        again,
        json!({"received": 1, "inserted": 0, "duplicates": 1})
    );
    // The same instant in another offset is the same identity.
    let shifted = event_with(
        "c1",
        "customer_message_sent",
        "2026-03-02T11:00:00+01:00",
        json!({"conversation_id": "conv-2"}),
    );
    assert_eq!(send(&app, &shifted).await["duplicates"], 1);
    assert_eq!(stored(&app).await, (1, 1));
    let rows = listing(&app, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z").await;
    assert_eq!(rows["rows"].as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows["rows"][0]["conversation_id"], "conv-1");
}

#[tokio::test]
async fn after_hours_flag_is_computed_from_the_tenant_hours_when_absent() {
    let app = TestApp::spawn().await;
    let from = "2026-03-02T00:00:00Z";
    let to = "2026-03-03T00:00:00Z";
    // No afterHours: nothing is after hours.
    send(&app, &event("c0", "agent_ping", "2026-03-02T03:00:00Z")).await;
    let settings = json!({"reportingIntervalHours": 2, "twoWayFileSchedule": "Daily",
        "afterHours": {"timeZone": "Europe/London",
        "open": [{"day": "Monday", "from": "08:00", "to": "18:00"}], "holidays": []}});
    let auth = format!("Bearer {}", app.tenant.token);
    let put = app
        .request(
            Method::PUT,
            "/settings/v1",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            serde_json::to_vec(&settings).expect("json"),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    // Monday 2 March 2026, London is on UTC: open 08:00–18:00Z.
    send(&app, &event("c1", "agent_ping", "2026-03-02T07:59:59Z")).await;
    send(&app, &event("c2", "agent_ping", "2026-03-02T08:00:00Z")).await;
    send(&app, &event("c3", "agent_ping", "2026-03-02T18:00:00Z")).await;
    // A flag the sender gives is kept as given.
    let given = event_with(
        "c4",
        "agent_ping",
        "2026-03-02T12:00:00Z",
        json!({"after_hours_flag": true}),
    );
    send(&app, &given).await;
    let rows = listing(&app, from, to).await;
    let flags: Vec<(String, bool)> = rows["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["ccid"].as_str().unwrap_or_default().to_owned(),
                r["after_hours_flag"] == true,
            )
        })
        .collect();
    let expected = [
        ("c0", false),
        ("c1", true),
        ("c2", false),
        ("c4", true),
        ("c3", true),
    ];
    let expected: Vec<(String, bool)> = expected.iter().map(|(c, f)| (c.to_string(), *f)).collect();
    assert_eq!(flags, expected);
}

#[tokio::test]
async fn the_listing_has_the_twenty_properties_and_the_export_the_seed_header() {
    let app = TestApp::spawn().await;
    let full = event_with(
        "ccid,\"quoted\"",
        "channel_closed",
        "2026-03-02T09:30:00.250+02:00",
        json!({"agent_email": "a@x.example", "agent_first_name": "Ann", "agent_last_name": "Lee",
            "agent_roles": "Two Way, Portal", "agent_control_group": "G1",
            "customer_first_name": "Cy", "customer_last_name": "Doe", "product_group_id": "pg",
            "control_tag": "tag", "twoway_channel_sid": "CH1", "conversation_id": "conv-9",
            "closed_reason": "Resolved", "closed_additional_information": "line1\nline2",
            "after_hours_flag": false, "sender_type": "agent", "conversation_status": "closed",
            "not_a_property": "ignored"}),
    );
    send(&app, &full).await;
    send(
        &app,
        &event("b", "agent_invite", "2026-03-02T07:30:00.250Z"),
    )
    .await;
    send(
        &app,
        &event("a", "agent_invite", "2026-03-02T07:30:00.250Z"),
    )
    .await;
    let body = json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}});
    let rows = app.report("twoway/activity", &body).await;
    assert_eq!(rows["truncated"], false);
    let list = rows["rows"].as_array().expect("rows");
    // Ordered by event_time, then ccid.
    let ccids: Vec<&str> = list.iter().filter_map(|r| r["ccid"].as_str()).collect();
    assert_eq!(ccids, ["a", "b", "ccid,\"quoted\""]);
    let keys: Vec<&str> = list[2]
        .as_object()
        .expect("row")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.join(","), SEED_COLUMNS);
    assert_eq!(list[2]["event_time"], "2026-03-02T07:30:00.250Z");
    assert_eq!(list[0]["agent_email"], Value::Null);
    let csv = app.export("twoway/activity", &body).await;
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next(), Some(SEED_COLUMNS));
    assert_eq!(
        lines.next(),
        Some(",,,,,a,,,,twoway,agent_invite,2026-03-02T07:30:00.250Z,,,,,,false,,")
    );
    assert!(
        csv.contains(
            "a@x.example,Ann,Lee,\"Two Way, Portal\",G1,\"ccid,\"\"quoted\"\"\",Cy,Doe,pg,twoway,\
         channel_closed,2026-03-02T07:30:00.250Z,tag,CH1,conv-9,Resolved,\"line1\nline2\",false,\
         agent,closed\r\n"
        ),
        "{csv}"
    );
    // A range past 31 days, or an empty one, is 422 naming filters.to.
    for to in ["2026-04-02T00:00:01Z", "2026-03-02T00:00:00Z"] {
        let body = json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": to}});
        let problem = app
            .post("/reporting/v1.2/twoway/activity", &body)
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], "filters.to");
    }
    let month = json!({"filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}});
    assert_eq!(
        app.report("twoway/activity", &month).await["rows"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

/// One two-way event of A's, holding A's secrets.
pub fn secret_event(at: &str) -> Value {
    json!({"ccid": "alpha-secret-event-twoway", "event_type": "twoway", "event_subtype": "agent_ping",
        "event_time": at, "conversation_id": "conv-alpha-secret", "agent_first_name": "Alice",
        "agent_last_name": "Secretson"})
}

/// For the isolation walker: A's two-way event through the signed webhook, and the scheduled file of
/// its day (A backdated to before it): the file's id.
pub async fn file_of(app: &TestApp, a: &TestTenant) -> String {
    let body = serde_json::to_vec(&secret_event("2026-01-01T10:30:00Z")).expect("json");
    let signature = cx_reporting::auth::secrets::sign(&a.credentials.webhook_secret, &body);
    let a_id = a.id.to_string();
    let stored = app
        .request(
            axum::http::Method::POST,
            "/ingest/v1/webhooks/twoway",
            &[("x-tenant-id", &a_id), ("x-signature-256", &signature)],
            body,
        )
        .await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    sqlx::query("update tenants set created_at = '2025-12-31T00:00:00Z' where tenant_id = $1")
        .bind(a.id)
        .execute(&app.pool)
        .await
        .expect("backdate A");
    let now = "2026-01-02T00:00:00Z".parse().expect("instant");
    cx_reporting::report::twoway::schedule::write_due(&app.pool, now)
        .await
        .expect("scheduled files");
    sqlx::query_scalar::<_, uuid::Uuid>(
        "select file_id from twoway_files where tenant_id = $1 and period_from = '2026-01-01T00:00:00Z'",
    )
    .bind(a.id)
    .fetch_one(&app.pool)
    .await
    .expect("A's file")
    .to_string()
}

pub async fn get_as(
    app: &TestApp,
    tenant: &TestTenant,
    path: &str,
) -> crate::helpers::TestResponse {
    let auth = format!("Bearer {}", tenant.token);
    app.request(
        axum::http::Method::GET,
        path,
        &[("authorization", &auth)],
        Vec::new(),
    )
    .await
}

#[tokio::test]
async fn the_listing_stops_at_1000_rows_and_says_so_while_the_export_has_all() {
    let app = TestApp::spawn().await;
    for i in 0..1001 {
        let at = format!("2026-03-02T10:{:02}:{:02}Z", i / 60, i % 60);
        send(&app, &event(&format!("c{i:04}"), "agent_ping", &at)).await;
    }
    let body = json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}});
    let rows = app.report("twoway/activity", &body).await;
    assert_eq!(rows["truncated"], true);
    let list = rows["rows"].as_array().expect("rows");
    assert_eq!(list.len(), 1000);
    assert_eq!(list[999]["ccid"], "c0999");
    let csv = app.export("twoway/activity", &body).await;
    assert_eq!(csv.lines().count(), 1 + 1001);
    let narrower =
        json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T10:16:40Z"}});
    assert_eq!(
        app.report("twoway/activity", &narrower).await["truncated"],
        false
    );
}
