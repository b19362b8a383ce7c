//! Tiles 12–23 and 28: message volume, response and wait times, queue and
//! IVR times, with hand-computed expectations for every branch.

use serde_json::{json, Value};

use crate::helpers::{audit_with, TestApp};

pub const Q1: &str = "11111111-1111-4111-8111-111111111111";
pub const Q2: &str = "22222222-2222-4222-8222-222222222222";
pub const U1: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
pub const U2: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
pub const ACC: &str = "0b7d5f3e-1111-4c4c-8888-2c963f66afa6";

/// A `message.created` event at 2026-01-01T`hm`:00Z.
pub fn msg(id: &str, interaction: &str, hm: &str, direction: &str, extra: Value) -> Value {
    let mut event = json!({
        "id": id, "type": "message.created", "occurredAt": format!("2026-01-01T{hm}:00Z"),
        "interactionId": interaction, "direction": direction, "channel": "Email",
    });
    if let (Some(map), Value::Object(extra)) = (event.as_object_mut(), extra) {
        map.extend(extra);
    }
    event
}

/// A state audit at 2026-01-01T`hm`:00Z.
pub fn state(id: &str, interaction: &str, hm: &str, old: &str, new: &str, extra: Value) -> Value {
    audit_with(
        id,
        interaction,
        &format!("2026-01-01T{hm}:00Z"),
        Some(old),
        new,
        extra,
    )
}

/// Scenarios (times on 2026-01-01, UTC):
/// - A (Email, Q1): Queued 10:00, Assigned 10:05; in 10:10; out 10:12 (ART
///   120, OWT 120); in 10:20, in 10:25; out 10:30 (ART 300 from the latest
///   inbound, OWT 600 from the first unanswered); out 10:31 (both unset).
/// - B (SMS, Q1): Queued 08:59, in 09:00, Assigned 09:30; out 09:40 (inbound
///   before assignment: ART 600 from A; OWT 2400); out 09:45 (both unset).
/// - C (Email, Q2): Queued 10:50, Assigned 11:00; out 11:03 (no inbound:
///   ART 180); out 11:04 (unset: answered since A); back to Queued 11:10;
///   out 11:15 while queued (unset); Assigned again 11:20; out 11:26 (ART
///   360: once per assignment).
/// - D (WebChat, Q2): Queued 11:55, Assigned 12:00; in 12:05; automated out
///   12:06 (no time, answers nothing); out 12:10 (ART 300, OWT 300).
/// - E (WebChat, Q1): Queued 13:00; in 13:01; out 13:05 while queued (ART
///   unset; OWT 240).
pub fn scenarios() -> Vec<Value> {
    let q = |queue: &str, channel: &str| json!({"queueId": queue, "channel": channel});
    let out = |user: &str, queue: &str, channel: &str| json!({"userId": user, "queueId": queue, "channel": channel, "accountId": ACC});
    let inb = |queue: &str, channel: &str| json!({"queueId": queue, "channel": channel, "accountId": ACC});
    vec![
        state("A1", "A", "10:00", "Created", "Queued", q(Q1, "Email")),
        state(
            "A2",
            "A",
            "10:05",
            "Queued",
            "Assigned",
            json!({"queueId": Q1, "userId": U1}),
        ),
        msg("Am1", "A", "10:10", "Inbound", inb(Q1, "Email")),
        msg("Am2", "A", "10:12", "Outbound", out(U1, Q1, "Email")),
        msg("Am3", "A", "10:20", "Inbound", inb(Q1, "Email")),
        msg("Am4", "A", "10:25", "Inbound", inb(Q1, "Email")),
        msg("Am5", "A", "10:30", "Outbound", out(U1, Q1, "Email")),
        msg("Am6", "A", "10:31", "Outbound", out(U1, Q1, "Email")),
        state("B1", "B", "08:59", "Created", "Queued", q(Q1, "SMS")),
        msg("Bm1", "B", "09:00", "Inbound", inb(Q1, "SMS")),
        state(
            "B2",
            "B",
            "09:30",
            "Queued",
            "Assigned",
            json!({"queueId": Q1, "channel": "SMS", "userId": U2}),
        ),
        msg("Bm2", "B", "09:40", "Outbound", out(U2, Q1, "SMS")),
        msg("Bm3", "B", "09:45", "Outbound", out(U2, Q1, "SMS")),
        state("C1", "C", "10:50", "Created", "Queued", q(Q2, "Email")),
        state(
            "C2",
            "C",
            "11:00",
            "Queued",
            "Assigned",
            json!({"queueId": Q2, "userId": U1}),
        ),
        msg("Cm1", "C", "11:03", "Outbound", out(U1, Q2, "Email")),
        msg("Cm2", "C", "11:04", "Outbound", out(U1, Q2, "Email")),
        state("C3", "C", "11:10", "Assigned", "Queued", q(Q2, "Email")),
        msg("Cm3", "C", "11:15", "Outbound", out(U1, Q2, "Email")),
        state(
            "C4",
            "C",
            "11:20",
            "Queued",
            "Assigned",
            json!({"queueId": Q2, "userId": U1}),
        ),
        msg("Cm4", "C", "11:26", "Outbound", out(U1, Q2, "Email")),
        state("D1", "D", "11:55", "Created", "Queued", q(Q2, "WebChat")),
        state(
            "D2",
            "D",
            "12:00",
            "Queued",
            "Assigned",
            json!({"queueId": Q2, "channel": "WebChat", "userId": U2}),
        ),
        msg("Dm1", "D", "12:05", "Inbound", inb(Q2, "WebChat")),
        msg(
            "Dm2",
            "D",
            "12:06",
            "Outbound",
            json!({"automated": true, "queueId": Q2, "channel": "WebChat"}),
        ),
        msg("Dm3", "D", "12:10", "Outbound", out(U2, Q2, "WebChat")),
        state("E1", "E", "13:00", "Created", "Queued", q(Q1, "WebChat")),
        msg("Em1", "E", "13:01", "Inbound", inb(Q1, "WebChat")),
        msg("Em2", "E", "13:05", "Outbound", out(U2, Q1, "WebChat")),
    ]
}

fn day() -> Value {
    json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"})
}

fn times(kind: &str) -> Value {
    json!({"responseTime": kind, "filters": day()})
}

fn t(count: i64, average: f64, min: f64, max: f64, p50: f64, p90: f64) -> Value {
    json!({"count": count, "average": average, "min": min, "max": max, "p50": p50, "p90": p90})
}

async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    app.ingest(&Value::Array(scenarios())).await;
    app
}

/// The per-message derived times, for pinpointing a failing branch.
async fn derived(app: &TestApp) -> Vec<(String, Option<f64>, Option<f64>)> {
    sqlx::query_as("select event_id, advisor_response_seconds, originator_wait_seconds from messages order by event_id")
        .fetch_all(&app.pool)
        .await
        .expect("rows")
}

#[tokio::test]
async fn every_response_time_branch_per_message() {
    let app = seeded().await;
    let expected: Vec<(&str, Option<f64>, Option<f64>)> = vec![
        ("Am1", None, None),
        ("Am2", Some(120.0), Some(120.0)),
        ("Am3", None, None),
        ("Am4", None, None),
        ("Am5", Some(300.0), Some(600.0)),
        ("Am6", None, None),
        ("Bm1", None, None),
        ("Bm2", Some(600.0), Some(2400.0)),
        ("Bm3", None, None),
        ("Cm1", Some(180.0), None),
        ("Cm2", None, None),
        ("Cm3", None, None),
        ("Cm4", Some(360.0), None),
        ("Dm1", None, None),
        ("Dm2", None, None),
        ("Dm3", Some(300.0), Some(300.0)),
        ("Em1", None, None),
        ("Em2", None, Some(240.0)),
    ];
    let actual = derived(&app).await;
    let actual: Vec<(&str, Option<f64>, Option<f64>)> = actual
        .iter()
        .map(|(id, a, w)| (id.as_str(), *a, *w))
        .collect();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn response_time_tiles_total_and_by_dimension() {
    let app = seeded().await;
    // ART: 120, 300, 600, 180, 360, 300.
    let art = app
        .report(
            "messages/response-times/count",
            &times("AdvisorResponseTime"),
        )
        .await;
    assert_eq!(art, t(6, 310.0, 120.0, 600.0, 300.0, 480.0));
    // OWT: 120, 600, 2400, 300, 240.
    let owt = app
        .report(
            "messages/response-times/count",
            &times("OriginatorWaitTime"),
        )
        .await;
    assert_eq!(owt, t(5, 732.0, 120.0, 2400.0, 300.0, 1680.0));

    let mut body = times("AdvisorResponseTime");
    body["filters"]["channels"] = json!(["Email", "SMS", "Voice"]);
    let by_channel = app
        .report("messages/response-times/count/by-channels", &body)
        .await;
    assert_eq!(
        by_channel,
        json!({"groups": [
            {"key": "Email", "count": 4, "average": 240.0, "min": 120.0, "max": 360.0, "p50": 240.0, "p90": 342.0},
            {"key": "SMS", "count": 1, "average": 600.0, "min": 600.0, "max": 600.0, "p50": 600.0, "p90": 600.0},
            {"key": "Voice", "count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null},
        ]})
    );
    let mut body = times("AdvisorResponseTime");
    body["userIds"] = json!([U2, U1]);
    let by_user = app
        .report("messages/response-times/count/by-users", &body)
        .await;
    assert_eq!(by_user["groups"][0]["count"], 2);
    assert_eq!(by_user["groups"][0]["average"], 450.0);
    assert_eq!(by_user["groups"][1]["count"], 4);
    let mut body = times("OriginatorWaitTime");
    body["filters"]["queues"] = json!([Q2, Q1]);
    let by_queue = app
        .report("messages/response-times/count/by-queues", &body)
        .await;
    assert_eq!(
        by_queue["groups"][0],
        json!({"key": Q2, "count": 1, "average": 300.0, "min": 300.0, "max": 300.0, "p50": 300.0, "p90": 300.0})
    );
    assert_eq!(by_queue["groups"][1]["count"], 4);
    let mut body = times("OriginatorWaitTime");
    body["accounts"] = json!([ACC, "99999999-9999-4999-8999-999999999999"]);
    let by_account = app
        .report("messages/response-times/count/by-accounts", &body)
        .await;
    assert_eq!(by_account["groups"][0]["count"], 5);
    assert_eq!(
        by_account["groups"][1],
        json!({"key": "99999999-9999-4999-8999-999999999999", "count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null})
    );

    let by_date = app
        .report("messages/response-times/by-date", &json!({"responseTime": "AdvisorResponseTime", "timeZone": "Asia/Kolkata",
            "filters": {"from": "2026-01-01T09:00:00Z", "to": "2026-01-01T13:00:00Z", "groupBy": "Hour"}}))
        .await;
    let buckets = by_date["buckets"].as_array().expect("buckets");
    // Local hours in +05:30 start at :30 UTC: 08:30Z, 09:30Z, …, 12:30Z.
    assert_eq!(buckets.len(), 5);
    assert_eq!(buckets[0]["start"], "2026-01-01T14:00:00+05:30");
    assert_eq!(
        buckets[0],
        json!({"start": "2026-01-01T14:00:00+05:30", "end": "2026-01-01T15:00:00+05:30", "count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null})
    );
    // 09:40 (600) in the 09:30Z bucket; 10:12 (120) in 09:30Z; 10:30 (300)
    // and 11:03 (180) in 10:30Z; 11:26 (360) in 10:30Z; 12:10 (300) in 11:30Z.
    let counts: Vec<i64> = buckets
        .iter()
        .map(|b| b["count"].as_i64().expect("count"))
        .collect();
    assert_eq!(counts, vec![0, 2, 3, 1, 0]);
    assert_eq!(buckets[1]["average"], 360.0);
}

#[tokio::test]
async fn message_volume_by_direction_and_dimension() {
    let app = seeded().await;
    let inbound = app
        .report(
            "messages/volume/count",
            &json!({"direction": "Inbound", "filters": day()}),
        )
        .await;
    assert_eq!(inbound, json!({"count": 6}));
    let outbound = app
        .report(
            "messages/volume/count",
            &json!({"direction": "Outbound", "filters": day()}),
        )
        .await;
    assert_eq!(
        outbound,
        json!({"count": 12}),
        "automated messages are still messages"
    );
    let by_users = app
        .report(
            "messages/volume/count/by-users",
            &json!({"direction": "Outbound", "userIds": [U1, U2], "filters": day()}),
        )
        .await;
    assert_eq!(
        by_users,
        json!({"groups": [{"key": U1, "count": 7}, {"key": U2, "count": 4}]})
    );
    let by_channels = app
        .report("messages/volume/count/by-channels", &json!({"direction": "Inbound", "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "channels": ["WebChat", "SMS"]}}))
        .await;
    assert_eq!(
        by_channels,
        json!({"groups": [{"key": "WebChat", "count": 2}, {"key": "SMS", "count": 1}]})
    );
    let by_queues = app
        .report("messages/volume/by-date/by-queues", &json!({"direction": "Inbound", "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "groupBy": "Day", "queues": [Q1]}}))
        .await;
    assert_eq!(by_queues["groups"][0]["buckets"][0]["count"], 5);
    let problem = app
        .post(
            "/reporting/v1.2/messages/volume/count",
            &json!({"filters": day()}),
        )
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "direction");
    let problem = app
        .post(
            "/reporting/v1.2/messages/volume/count/by-accounts",
            &json!({"direction": "Inbound", "accounts": [], "filters": day()}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "accounts");
    let problem = app
        .post(
            "/reporting/v1.2/messages/response-times/count",
            &json!({"responseTime": "Fastest", "filters": day()}),
        )
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "responseTime");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("OriginatorWaitTime"));
}

#[tokio::test]
async fn queue_time_by_queue_restarts_on_transfer() {
    let app = seeded().await;
    let body = json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [Q1, Q2]}});
    let answer = app
        .report("interactions/queue-time/count/by-queues", &body)
        .await;
    // Q1: A 300, B 1860. Q2: C 600 and 600 (after the transfer), D 300.
    assert_eq!(
        answer,
        json!({"groups": [
            {"key": Q1, "count": 2, "average": 1080.0, "min": 300.0, "max": 1860.0, "p50": 1080.0, "p90": 1704.0},
            {"key": Q2, "count": 3, "average": 500.0, "min": 300.0, "max": 600.0, "p50": 600.0, "p90": 600.0},
        ]})
    );
    let mut only_sms = body.clone();
    only_sms["filters"]["channels"] = json!(["SMS"]);
    let sms = app
        .report("interactions/queue-time/count/by-queues", &only_sms)
        .await;
    // Only B's assignment (1860 s) is on SMS.
    assert_eq!(sms["groups"][0]["count"], 1);
    assert_eq!(sms["groups"][0]["average"], 1860.0);
    assert_eq!(sms["groups"][1]["count"], 0);
}

#[tokio::test]
async fn ivr_time_by_queue() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        state(
            "F1",
            "F",
            "14:00",
            "Draft",
            "Automation",
            json!({"channel": "Voice"})
        ),
        state(
            "F2",
            "F",
            "14:02",
            "Automation",
            "Queued",
            json!({"channel": "Voice", "queueId": Q1})
        ),
        state(
            "F3",
            "F",
            "14:10",
            "Queued",
            "Automation",
            json!({"channel": "Voice", "queueId": Q1})
        ),
        state(
            "F4",
            "F",
            "14:15",
            "Automation",
            "Closed",
            json!({"channel": "Voice", "queueId": Q2})
        ),
        state(
            "G1",
            "G",
            "15:00",
            "Draft",
            "Automation",
            json!({"channel": "Voice"})
        ),
        state(
            "G2",
            "G",
            "15:00",
            "Automation",
            "Automation",
            json!({"channel": "Voice", "queueId": Q1})
        ),
    ]))
    .await;
    let answer = app
        .report("interactions/ivr-time/by-date/by-queues", &json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "groupBy": "Day", "queues": [Q1, Q2]}}))
        .await;
    assert_eq!(
        answer["groups"][0]["buckets"][0],
        json!({"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z", "count": 1, "average": 120.0, "min": 120.0, "max": 120.0, "p50": 120.0, "p90": 120.0})
    );
    assert_eq!(answer["groups"][1]["buckets"][0]["average"], 300.0);
    let problem = app
        .post(
            "/reporting/v1.2/interactions/ivr-time/count/by-queues",
            &json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}),
        )
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "filters.queues");
}

/// Queue times by queue over the day, and by UTC hour 09:00-12:00 for Q1.
async fn queue_times(app: &TestApp) -> (Value, Value) {
    let count = app
        .report(
            "interactions/queue-time/count/by-queues",
            &json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [Q1, Q2]}}),
        )
        .await;
    let by_date = app
        .report(
            "interactions/queue-time/by-date/by-queues",
            &json!({"filters": {"from": "2026-01-01T09:00:00Z", "to": "2026-01-01T12:00:00Z", "groupBy": "Hour", "queues": [Q1]}}),
        )
        .await;
    (count, by_date)
}

/// The by-date answer of `queue_times` with `ten` in the 10:00 bucket.
fn queue_hours(ten: Value) -> Value {
    let none =
        json!({"count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null});
    let bucket = |start: &str, end: &str, m: &Value| {
        let mut b = json!({"start": start, "end": end});
        if let (Some(map), Some(m)) = (b.as_object_mut(), m.as_object()) {
            map.extend(m.clone());
        }
        b
    };
    json!({"groupBy": "Hour", "timeZone": "UTC", "groups": [{"key": Q1, "buckets": [
        bucket("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z", &none),
        bucket("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", &ten),
        bucket("2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", &none),
    ]}]})
}

#[tokio::test]
async fn late_events_correct_earlier_derived_times() {
    let app = TestApp::spawn().await;
    // Messages first; the interaction is not known to be Assigned yet.
    app.ingest(&json!([
        msg("m1", "L", "10:10", "Inbound", json!({})),
        msg("m2", "L", "10:12", "Outbound", json!({"userId": U1})),
    ]))
    .await;
    async fn art(app: &TestApp) -> Value {
        app.report(
            "messages/response-times/count",
            &times("AdvisorResponseTime"),
        )
        .await
    }
    assert_eq!(art(&app).await["count"], 0);
    // The audits arrive days late: m2 now answers after assignment.
    app.ingest(&json!([
        state(
            "s1",
            "L",
            "10:00",
            "Created",
            "Queued",
            json!({"queueId": Q1})
        ),
        state(
            "s2",
            "L",
            "10:05",
            "Queued",
            "Assigned",
            json!({"userId": U1, "queueId": Q1})
        ),
    ]))
    .await;
    assert_eq!(art(&app).await, t(1, 120.0, 120.0, 120.0, 120.0, 120.0));
    // An earlier inbound arrives late: the wait now starts at 10:08.
    app.ingest(&json!([msg("m0", "L", "10:08", "Inbound", json!({}))]))
        .await;
    let owt = app
        .report(
            "messages/response-times/count",
            &times("OriginatorWaitTime"),
        )
        .await;
    assert_eq!(owt, t(1, 240.0, 240.0, 240.0, 240.0, 240.0));
    // Queued 10:00, Assigned 10:05: 300 s in Q1, counted in the 10:00 hour.
    assert_eq!(
        queue_times(&app).await,
        (
            json!({"groups": [
                {"key": Q1, "count": 1, "average": 300.0, "min": 300.0, "max": 300.0, "p50": 300.0, "p90": 300.0},
                {"key": Q2, "count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null},
            ]}),
            queue_hours(t(1, 300.0, 300.0, 300.0, 300.0, 300.0)),
        )
    );
    // A late transfer (Queued -> Queued at 10:03) restarts the clock: the
    // earlier assignment now waited 10:03 -> 10:05, 120 s.
    app.ingest(&json!([state(
        "s0",
        "L",
        "10:03",
        "Queued",
        "Queued",
        json!({"queueId": Q1})
    )]))
    .await;
    assert_eq!(
        queue_times(&app).await,
        (
            json!({"groups": [
                {"key": Q1, "count": 1, "average": 120.0, "min": 120.0, "max": 120.0, "p50": 120.0, "p90": 120.0},
                {"key": Q2, "count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null},
            ]}),
            queue_hours(t(1, 120.0, 120.0, 120.0, 120.0, 120.0)),
        )
    );
    // Re-sending everything changes nothing.
    let again = app
        .ingest(&json!([
            msg("m0", "L", "10:08", "Inbound", json!({})),
            state(
                "s2",
                "L",
                "10:05",
                "Queued",
                "Assigned",
                json!({"userId": U1, "queueId": Q1})
            )
        ]))
        .await;
    assert_eq!(again["duplicates"], 2);
    assert_eq!(
        app.report(
            "messages/response-times/count",
            &times("OriginatorWaitTime")
        )
        .await,
        owt
    );
}

#[tokio::test]
async fn advisor_actions_count_unit_of_work_audits() {
    let app = TestApp::spawn().await;
    let uow = |id: &str,
               user: &str,
               at: &str,
               closed: u32,
               messages: u32,
               data: u32,
               notes: u32| {
        json!({"id": id, "type": "unit_of_work.completed", "occurredAt": at, "interactionId": "i1", "userId": user,
            "assignedAt": "2026-01-01T09:00:00Z", "userState": "Online", "channel": "Email",
            "actions": {"closed": closed, "messages": messages, "dataChanges": data, "notes": notes}})
    };
    // The seed's example: assign, 3 notes, unassign, reassign, 3 notes, unassign → 2.
    app.ingest(&json!([
        uow("w1", U1, "2026-01-01T10:00:00Z", 0, 0, 0, 3),
        uow("w2", U1, "2026-01-01T11:00:00Z", 0, 0, 0, 3),
        uow("w3", U1, "2026-01-01T12:00:00Z", 1, 2, 0, 0),
        uow("w4", U2, "2026-01-01T12:30:00Z", 0, 0, 0, 0),
        uow("w5", U2, "2026-01-01T13:00:00Z", 0, 0, 4, 0),
    ]))
    .await;
    let count = |action: &str| json!({"action": action, "userIds": [U1, U2], "filters": day()});
    let expectations = [
        ("Note", [2, 0]),
        ("Closed", [1, 0]),
        ("Message", [1, 0]),
        ("Data", [0, 1]),
        ("None", [0, 1]),
        ("Any", [3, 1]),
    ];
    for (action, [u1, u2]) in expectations {
        let answer = app
            .report("unit-of-work/count/by-users", &count(action))
            .await;
        assert_eq!(
            answer,
            json!({"groups": [{"key": U1, "count": u1}, {"key": U2, "count": u2}]}),
            "{action}"
        );
    }
    let by_date = app
        .report("unit-of-work/by-date/by-users", &json!({"action": "Note", "userIds": [U1], "timeZone": "Europe/Berlin",
            "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T12:00:00Z", "groupBy": "Hour"}}))
        .await;
    let counts: Vec<i64> = by_date["groups"][0]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["count"].as_i64().expect("n"))
        .collect();
    assert_eq!(counts.len(), 12);
    assert_eq!(counts.iter().sum::<i64>(), 2);
    let problem = app
        .post(
            "/reporting/v1.2/unit-of-work/count/by-users",
            &json!({"action": "Sleep", "userIds": [U1], "filters": day()}),
        )
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "action");
}
