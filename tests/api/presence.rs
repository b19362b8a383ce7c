//! Tiles 29–36: contacts per hour, availability and advisor metrics, with
//! hand-computed expectations (presence spans maintained at ingest).

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::helpers::TestApp;
use crate::messages::{msg, state, Q1, Q2, U1, U2};

/// A `presence.changed` event.
pub fn presence(id: &str, user: &str, at: &str, state: &str) -> Value {
    json!({"id": id, "type": "presence.changed", "occurredAt": at, "userId": user, "state": state})
}

/// A `unit_of_work.completed` event with `messages` message actions (0: no
/// action at all, so not a contact).
pub fn work(
    id: &str,
    user: &str,
    at: &str,
    user_state: &str,
    messages: u32,
    extra: Value,
) -> Value {
    let mut event = json!({"id": id, "type": "unit_of_work.completed", "occurredAt": at,
        "interactionId": format!("i-{id}"), "userId": user, "assignedAt": at, "userState": user_state,
        "channel": "Email", "queueId": Q1,
        "actions": {"closed": 0, "messages": messages, "dataChanges": 0, "notes": 0}});
    if let (Some(map), Value::Object(extra)) = (event.as_object_mut(), extra) {
        map.extend(extra);
    }
    event
}

/// Asks a tile (uncached) on both paths, the day rollup where eligible and
/// the spans alone (rollups off); asserts they agree and returns the answer
/// with the plan that answered.
async fn report_with_plan(app: &TestApp, tile: &str, body: &Value) -> (Value, String) {
    let rolled = app.report_response(tile, body).await;
    let (answer, plan) = (
        rolled.json(),
        rolled.header("x-query-plan").unwrap_or_default(),
    );
    let request = Request::post(format!("/reporting/v1.2/{tile}"))
        .header("authorization", format!("Bearer {}", app.tenant.token))
        .header("content-type", "application/json")
        .header("cache-control", "no-cache")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request");
    let response = app.raw_router().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200, "{tile} on the spans path");
    assert_eq!(
        response
            .headers()
            .get("x-query-plan")
            .and_then(|v| v.to_str().ok()),
        Some("spans")
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let spans: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(answer, spans, "{tile}: the rollup and the spans differ");
    (answer, plan)
}

/// [`report_with_plan`] without the plan.
async fn report(app: &TestApp, tile: &str, body: &Value) -> Value {
    report_with_plan(app, tile, body).await.0
}

fn range(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to})
}

/// The groups of an answer.
#[track_caller]
fn groups(answer: &Value) -> &Vec<Value> {
    answer["groups"].as_array().expect("groups")
}

/// Each bucket of the first group as (start, seconds).
#[track_caller]
fn bucket_seconds(answer: &Value) -> Vec<(String, f64)> {
    groups(answer)[0]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| {
            (
                b["start"].as_str().expect("start").to_owned(),
                b["seconds"].as_f64().expect("seconds"),
            )
        })
        .collect()
}

async fn seconds(app: &TestApp, user_state: &str, filters: Value) -> f64 {
    let answer = report(
        app,
        "presence/availability/count/by-users",
        &json!({"userState": user_state, "userIds": [U1], "filters": filters}),
    )
    .await;
    groups(&answer)[0]["seconds"].as_f64().expect("seconds")
}

#[tokio::test]
async fn the_seeds_cph_example_is_2_for_available_and_logged_in() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        presence("p1", U1, "2026-01-01T13:00:00Z", "Online"),
        work("w1", U1, "2026-01-01T13:05:00Z", "Online", 1, json!({})),
        // No action: not a contact.
        work("w2", U1, "2026-01-01T13:06:00Z", "Online", 0, json!({})),
        presence("p2", U1, "2026-01-01T13:15:00Z", "Offline"),
        presence("p3", U1, "2026-01-01T13:45:00Z", "Online"),
        presence("p4", U1, "2026-01-01T14:00:00Z", "Offline"),
    ]))
    .await;
    for user_state in ["Available", "LoggedIn"] {
        let answer = report(
            &app,
            "presence/cph/count/by-users",
            &json!({"userState": user_state, "userIds": [U1, U2],
                    "filters": range("2026-01-01T13:00:00Z", "2026-01-01T14:00:00Z")}),
        )
        .await;
        assert_eq!(
            answer,
            json!({"average": 2.0, "groups": [
                {"key": U1, "contacts": 1, "seconds": 1800.0, "cph": 2.0},
                {"key": U2, "contacts": 0, "seconds": 0.0, "cph": null},
            ]}),
            "{user_state}"
        );
    }
}

#[tokio::test]
async fn the_seeds_availability_example_is_50_percent() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        {"id": "d1", "type": "directory.user", "occurredAt": "2026-01-01T00:00:00Z", "userId": U1,
         "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roles": []},
        presence("p1", U1, "2026-01-01T10:00:00Z", "Online"),
        presence("p2", U1, "2026-01-01T11:00:00Z", "Away"),
        presence("p3", U1, "2026-01-01T12:00:00Z", "Offline"),
    ]))
    .await;
    let filters = range("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    let answer = report(
        &app,
        "presence/availability/count/by-users/percentage",
        &json!({"userState": "Available", "userIds": [U1, U2], "filters": filters}),
    )
    .await;
    assert_eq!(
        answer,
        json!({"groups": [
            {"key": U1, "name": "Ada Lovelace", "percentage": 50.0, "availableSeconds": 3600.0, "loggedInSeconds": 7200.0},
            {"key": U2, "percentage": null, "availableSeconds": 0.0, "loggedInSeconds": 0.0},
        ]})
    );
    assert_eq!(seconds(&app, "Available", filters.clone()).await, 3600.0);
    assert_eq!(seconds(&app, "Unavailable", filters).await, 3600.0);
}

#[tokio::test]
async fn a_state_carries_in_from_before_from_and_users_are_offline_before_their_first_change() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        presence("p1", U1, "2025-12-31T20:00:00Z", "Online"),
        presence("p2", U2, "2026-01-01T03:00:00Z", "Busy"),
    ]))
    .await;
    let filters = range("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z");
    assert_eq!(seconds(&app, "Available", filters.clone()).await, 21600.0);
    let answer = report(
        &app,
        "presence/availability/count/by-users",
        &json!({"userState": "Unavailable", "userIds": [U2, U1], "filters": filters}),
    )
    .await;
    assert_eq!(
        answer,
        json!({"groups": [{"key": U2, "seconds": 10800.0}, {"key": U1, "seconds": 0.0}]})
    );
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[tokio::test]
async fn the_last_state_stops_at_the_moment_of_the_request() {
    let app = TestApp::spawn().await;
    let online = Utc::now() - Duration::hours(1);
    app.ingest(&json!([presence("p1", U1, &rfc3339(online), "Online")]))
        .await;
    let filters = range(
        &rfc3339(online - Duration::hours(1)),
        &rfc3339(online + Duration::hours(3)),
    );
    // On whole hours the day rollup answers (with the open span added);
    // off them, the spans. Both stop at the moment of the request.
    let hour = online - Duration::seconds(online.timestamp().rem_euclid(3600));
    let aligned = range(
        &rfc3339(hour - Duration::hours(2)),
        &rfc3339(hour + Duration::hours(4)),
    );
    for (filters, plan) in [(filters, "spans"), (aligned, "rollup")] {
        let body = json!({"userState": "Available", "userIds": [U1], "filters": filters});
        let before = Utc::now();
        let response = app
            .post(
                "/reporting/v1.2/presence/availability/count/by-users",
                &body,
            )
            .await;
        let after = Utc::now();
        assert_eq!(response.header("x-query-plan").as_deref(), Some(plan));
        let got = response.json()["groups"][0]["seconds"]
            .as_f64()
            .expect("seconds");
        let lo = (before - online).num_microseconds().expect("us") as f64 / 1e6;
        let hi = (after - online).num_microseconds().expect("us") as f64 / 1e6;
        assert!(
            lo - 0.001 <= got && got <= hi + 0.001,
            "{plan}: {lo} <= {got} <= {hi}"
        );
    }
}

#[tokio::test]
async fn berlin_days_of_23_and_25_hours_in_hour_and_day_buckets() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        // Online from local midnight of 29 March to local midnight of 30 March.
        presence("p1", U1, "2026-03-28T23:00:00Z", "Online"),
        work("w1", U1, "2026-03-29T10:00:00Z", "Online", 1, json!({})),
        presence("p2", U1, "2026-03-29T22:00:00Z", "Offline"),
        // And from local midnight of 25 October to that of 26 October.
        presence("p3", U1, "2026-10-24T22:00:00Z", "Online"),
        presence("p4", U1, "2026-10-25T23:00:00Z", "Offline"),
    ]))
    .await;
    let by_day = |from: &str, to: &str| {
        json!({"userState": "Available", "userIds": [U1], "timeZone": "Europe/Berlin",
            "filters": {"from": from, "to": to, "groupBy": "Day"}})
    };
    // On whole UTC hours, the day rollup answers, though the user changes
    // state long after `to`.
    let (spring, plan) = report_with_plan(
        &app,
        "presence/availability/by-date/by-users",
        &by_day("2026-03-28T23:00:00Z", "2026-03-30T22:00:00Z"),
    )
    .await;
    assert_eq!(plan, "rollup");
    assert_eq!(
        bucket_seconds(&spring),
        vec![
            ("2026-03-29T00:00:00+01:00".to_owned(), 82800.0),
            ("2026-03-30T00:00:00+02:00".to_owned(), 0.0),
        ]
    );
    let cph = report(
        &app,
        "presence/cph/by-date/by-users",
        &by_day("2026-03-28T23:00:00Z", "2026-03-30T22:00:00Z"),
    )
    .await;
    assert_eq!(cph["average"], json!(3600.0 / 82800.0));
    assert_eq!(
        groups(&cph)[0]["buckets"][0],
        json!({"start": "2026-03-29T00:00:00+01:00", "end": "2026-03-30T00:00:00+02:00",
            "contacts": 1, "seconds": 82800.0, "cph": 3600.0 / 82800.0})
    );
    let autumn = report(
        &app,
        "presence/availability/by-date/by-users",
        &by_day("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
    )
    .await;
    assert_eq!(
        bucket_seconds(&autumn),
        vec![("2026-10-25T00:00:00+02:00".to_owned(), 90000.0)]
    );

    let by_hour = |from: &str, to: &str| {
        json!({"userState": "Available", "userIds": [U1], "timeZone": "Europe/Berlin",
            "filters": {"from": from, "to": to, "groupBy": "Hour"}})
    };
    let spring = report(
        &app,
        "presence/availability/by-date/by-users",
        &by_hour("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
    )
    .await;
    let spring = bucket_seconds(&spring);
    assert_eq!(spring.len(), 23);
    assert_eq!(spring[1].0, "2026-03-29T01:00:00+01:00");
    assert_eq!(spring[2].0, "2026-03-29T03:00:00+02:00");
    assert!(spring.iter().all(|(_, s)| *s == 3600.0), "{spring:?}");
    let autumn = report(
        &app,
        "presence/availability/by-date/by-users",
        &by_hour("2026-10-24T22:00:00Z", "2026-10-25T22:00:00Z"),
    )
    .await;
    let autumn = bucket_seconds(&autumn);
    assert_eq!(autumn.len(), 24);
    assert_eq!(autumn[2].0, "2026-10-25T02:00:00+02:00");
    assert_eq!(autumn[3].0, "2026-10-25T02:00:00+01:00");
    assert!(autumn.iter().all(|(_, s)| *s == 3600.0), "{autumn:?}");
}

#[tokio::test]
async fn a_quarter_hour_zone_and_a_user_online_across_midnight() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        presence("p1", U1, "2026-01-01T18:00:00Z", "Online"),
        presence("p2", U1, "2026-01-01T19:00:00Z", "Offline"),
        presence("p3", U2, "2026-01-01T22:00:00Z", "Online"),
        presence("p4", U2, "2026-01-02T02:00:00Z", "Away"),
        presence("p5", U2, "2026-01-02T03:00:00Z", "Offline"),
    ]))
    .await;
    // Kathmandu (+05:45): midnight of 2 January is 18:15Z on 1 January.
    let body = |user: &str, group_by: &str, from: &str, to: &str| {
        json!({"userState": "Available", "userIds": [user], "timeZone": "Asia/Kathmandu",
            "filters": {"from": from, "to": to, "groupBy": group_by}})
    };
    let days = report(
        &app,
        "presence/availability/by-date/by-users",
        &body(U1, "Day", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
    )
    .await;
    assert_eq!(
        bucket_seconds(&days),
        vec![
            ("2026-01-01T00:00:00+05:45".to_owned(), 900.0),
            ("2026-01-02T00:00:00+05:45".to_owned(), 2700.0),
        ]
    );
    let hours = report(
        &app,
        "presence/availability/by-date/by-users",
        &body(U1, "Hour", "2026-01-01T17:15:00Z", "2026-01-01T19:15:00Z"),
    )
    .await;
    assert_eq!(
        bucket_seconds(&hours),
        vec![
            ("2026-01-01T23:00:00+05:45".to_owned(), 900.0),
            ("2026-01-02T00:00:00+05:45".to_owned(), 2700.0),
        ]
    );
    let mut across = body(U2, "Day", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z");
    across["timeZone"] = json!("UTC");
    let across = report(&app, "presence/availability/by-date/by-users", &across).await;
    assert_eq!(
        bucket_seconds(&across),
        vec![
            ("2026-01-01T00:00:00Z".to_owned(), 7200.0),
            ("2026-01-02T00:00:00Z".to_owned(), 7200.0),
        ]
    );
}

#[tokio::test]
async fn late_events_split_spans_and_duplicates_change_nothing() {
    let app = TestApp::spawn().await;
    let first = json!([
        presence("p1", U1, "2026-01-01T10:00:00Z", "Online"),
        presence("p4", U1, "2026-01-01T12:00:00Z", "Offline"),
    ]);
    app.ingest(&first).await;
    let filters = range("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    assert_eq!(seconds(&app, "Available", filters.clone()).await, 7200.0);
    // Late: Away from 11:00 splits the Online span; Busy at 09:00 comes
    // before the first change; two changes at 11:30, the greater id lasts.
    app.ingest(&json!([
        presence("p2", U1, "2026-01-01T11:00:00Z", "Away"),
        presence("p0", U1, "2026-01-01T09:00:00Z", "Busy"),
        presence("p3b", U1, "2026-01-01T11:30:00Z", "Online"),
        presence("p3a", U1, "2026-01-01T11:30:00Z", "Offline"),
    ]))
    .await;
    assert_eq!(seconds(&app, "Available", filters.clone()).await, 5400.0);
    assert_eq!(seconds(&app, "Unavailable", filters.clone()).await, 5400.0);
    let again = app.ingest(&first).await;
    assert_eq!(again["duplicates"], json!(2));
    assert_eq!(seconds(&app, "Available", filters.clone()).await, 5400.0);
    assert_eq!(seconds(&app, "Unavailable", filters).await, 5400.0);
}

#[tokio::test]
async fn another_tenants_users_get_zeros() {
    let app = TestApp::spawn().await;
    let other = app.new_tenant("Other").await;
    app.ingest_as(
        &other,
        &json!([
            presence("p1", U1, "2026-01-01T10:00:00Z", "Online"),
            work("w1", U1, "2026-01-01T10:30:00Z", "Online", 1, json!({})),
            presence("p2", U1, "2026-01-01T11:00:00Z", "Offline"),
        ]),
    )
    .await;
    let answer = report(
        &app,
        "advisors/metrics/count/by-users",
        &json!({"userIds": [U1], "filters": range("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")}),
    )
    .await;
    assert_eq!(
        answer,
        json!({"groups": [{"key": U1, "contactsLoggedIn": 0, "contactsAvailable": 0,
            "cphLoggedIn": null, "cphAvailable": null, "loggedInSeconds": 0.0, "availableSeconds": 0.0,
            "unproductivePercentage": null, "averageResponseTime": null}]})
    );
}

#[tokio::test]
async fn cph_by_channels_and_queues_filters_only_the_contacts() {
    let app = TestApp::spawn().await;
    let at = |m: u32| format!("2026-01-01T09:{m:02}:00Z");
    app.ingest(&json!([
        presence("p1", U1, "2026-01-01T09:00:00Z", "Online"),
        presence("p2", U1, "2026-01-01T11:00:00Z", "Offline"),
        work("w1", U1, &at(10), "Online", 1, json!({})),
        work("w2", U1, &at(20), "Online", 1, json!({"queueId": Q2})),
        work(
            "w3",
            U1,
            &at(30),
            "Online",
            1,
            json!({"channel": "SMS", "queueId": Q2})
        ),
        work("w4", U1, &at(40), "Online", 1, json!({"channel": "Voice"})),
        // Logged in but not available: counts for LoggedIn only.
        work("w5", U1, &at(50), "Away", 1, json!({})),
    ]))
    .await;
    let filters = json!({"from": "2026-01-01T08:00:00Z", "to": "2026-01-01T12:00:00Z",
        "channels": ["Email", "SMS"]});
    let answer = report(
        &app,
        "presence/cph/count/by-channels",
        &json!({"userState": "Available", "userIds": [U1, U2], "filters": filters}),
    )
    .await;
    assert_eq!(
        answer,
        json!({"average": 1.5, "groups": [
            {"key": U1, "contacts": 3, "seconds": 7200.0, "cph": 1.5,
             "values": [{"key": "Email", "contacts": 2, "cph": 1.0}, {"key": "SMS", "contacts": 1, "cph": 0.5}],
             "average": 0.75},
            {"key": U2, "contacts": 0, "seconds": 0.0, "cph": null,
             "values": [{"key": "Email", "contacts": 0, "cph": null}, {"key": "SMS", "contacts": 0, "cph": null}],
             "average": null},
        ]})
    );
    let answer = report(
        &app,
        "presence/cph/count/by-queues",
        &json!({"userState": "LoggedIn", "userIds": [U1],
                "filters": {"from": "2026-01-01T08:00:00Z", "to": "2026-01-01T12:00:00Z",
                    "queues": [Q1, Q2], "channels": ["Email"]}}),
    )
    .await;
    assert_eq!(
        answer,
        json!({"average": 1.5, "groups": [
            {"key": U1, "contacts": 3, "seconds": 7200.0, "cph": 1.5,
             "values": [{"key": Q1, "contacts": 2, "cph": 1.0}, {"key": Q2, "contacts": 1, "cph": 0.5}],
             "average": 0.75},
        ]})
    );
    let csv = app
        .export(
            "presence/cph/count/by-queues",
            &json!({"userState": "LoggedIn", "userIds": [U1],
                "filters": {"from": "2026-01-01T08:00:00Z", "to": "2026-01-01T12:00:00Z",
                    "queues": [Q1, Q2], "channels": ["Email"]}}),
        )
        .await;
    assert_eq!(
        csv,
        format!(
            "group,groupName,contacts,seconds,cph,groupAverage,valueKey,valueContacts,valueCph,average\r\n\
             {U1},,3,7200,1.5,0.75,{Q1},2,1,1.5\r\n\
             {U1},,3,7200,1.5,0.75,{Q2},1,0.5,1.5\r\n"
        )
    );
}

#[tokio::test]
async fn advisor_metrics_for_one_user_hand_computed() {
    let app = TestApp::spawn().await;
    let u1 = json!({"userId": U1});
    app.ingest(&json!([
        presence("p1", U1, "2026-01-01T09:00:00Z", "Online"),
        presence("p2", U1, "2026-01-01T10:00:00Z", "Away"),
        presence("p3", U1, "2026-01-01T10:30:00Z", "Offline"),
        work("w1", U1, "2026-01-01T09:15:00Z", "Online", 1, json!({})),
        work("w2", U1, "2026-01-01T09:20:00Z", "Online", 0, json!({})),
        work("w3", U1, "2026-01-01T10:10:00Z", "Away", 1, json!({})),
        // Assigned 09:05; in 09:10, U1 out 09:12 (ART 120); in 09:20, U1 out
        // 09:30 (ART 600); another user's reply does not count.
        state("a1", "I", "09:00", "Created", "Queued", json!({})),
        state("a2", "I", "09:05", "Queued", "Assigned", json!({})),
        msg("m1", "I", "09:10", "Inbound", json!({})),
        msg("m2", "I", "09:12", "Outbound", u1.clone()),
        msg("m3", "I", "09:20", "Inbound", json!({})),
        msg("m4", "I", "09:30", "Outbound", u1),
        msg("m5", "I", "09:40", "Inbound", json!({})),
        msg("m6", "I", "09:50", "Outbound", json!({"userId": U2})),
    ]))
    .await;
    let answer = report(
        &app,
        "advisors/metrics/count/by-users",
        &json!({"userIds": [U1], "filters": range("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")}),
    )
    .await;
    let available_share = 3600.0 * 100.0 / 5400.0;
    assert_eq!(
        answer,
        json!({"groups": [{"key": U1, "contactsLoggedIn": 2, "contactsAvailable": 1,
            "cphLoggedIn": 2.0 * 3600.0 / 5400.0, "cphAvailable": 1.0,
            "loggedInSeconds": 5400.0, "availableSeconds": 3600.0,
            "unproductivePercentage": 100.0 - available_share, "averageResponseTime": 360.0}]})
    );
}

#[tokio::test]
async fn presence_requests_that_do_not_fit_or_cannot_be_answered() {
    let app = TestApp::spawn().await;
    let filters = range("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    let cases = [
        (
            "presence/cph/count/by-users",
            json!({"userIds": [U1], "filters": filters}),
            400,
            "userState",
        ),
        (
            "presence/availability/count/by-users",
            json!({"userState": "LoggedIn", "userIds": [U1], "filters": filters}),
            400,
            "userState",
        ),
        (
            "presence/availability/count/by-users/percentage",
            json!({"userState": "Unavailable", "userIds": [U1], "filters": filters}),
            400,
            "userState",
        ),
        (
            "presence/cph/count/by-users",
            json!({"userState": "Busy", "userIds": [U1], "filters": filters}),
            400,
            "userState",
        ),
        (
            "presence/cph/count/by-users",
            json!({"userState": "Available", "userIds": [], "filters": filters}),
            422,
            "userIds",
        ),
        (
            "advisors/metrics/count/by-users",
            json!({"filters": filters}),
            400,
            "userIds",
        ),
        (
            "presence/cph/count/by-channels",
            json!({"userState": "Available", "userIds": [U1], "filters": filters}),
            400,
            "filters.channels",
        ),
        (
            "presence/cph/count/by-queues",
            json!({"userState": "Available", "userIds": [U1], "filters": filters}),
            400,
            "filters.queues",
        ),
        (
            "presence/cph/by-date/by-users",
            json!({"userState": "Available", "userIds": [U1],
                "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:01Z", "groupBy": "Hour"}}),
            422,
            "filters.to",
        ),
    ];
    for (tile, body, status, field) in cases {
        let response = app.post(&format!("/reporting/v1.2/{tile}"), &body).await;
        let problem = response.problem(status);
        assert_eq!(
            problem["errors"][0]["field"],
            json!(field),
            "{tile}: {problem}"
        );
    }
    // There is no by-date twin of by-channels, by-queues or the percentage.
    for tile in [
        "presence/cph/by-date/by-channels",
        "presence/cph/by-date/by-queues",
        "presence/availability/by-date/by-users/percentage",
        "advisors/metrics/by-date/by-users",
    ] {
        let response = app
            .post(&format!("/reporting/v1.2/{tile}"), &json!({}))
            .await;
        response.problem(404);
    }
}

#[tokio::test]
async fn cph_by_date_exports_one_row_per_user_and_bucket_with_the_average() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        presence("p1", U1, "2026-01-01T13:00:00Z", "Online"),
        work("w1", U1, "2026-01-01T13:05:00Z", "Online", 1, json!({})),
        presence("p2", U1, "2026-01-01T13:30:00Z", "Offline"),
    ]))
    .await;
    let csv = app
        .export(
            "presence/cph/by-date/by-users",
            &json!({"userState": "Available", "userIds": [U1],
                "filters": {"from": "2026-01-01T13:00:00Z", "to": "2026-01-01T15:00:00Z", "groupBy": "Hour"}}),
        )
        .await;
    assert_eq!(
        csv,
        format!(
            "group,groupName,bucketStart,bucketEnd,contacts,seconds,cph,average\r\n\
             {U1},,2026-01-01T13:00:00Z,2026-01-01T14:00:00Z,1,1800,2,2\r\n\
             {U1},,2026-01-01T14:00:00Z,2026-01-01T15:00:00Z,0,0,,2\r\n"
        )
    );
}
