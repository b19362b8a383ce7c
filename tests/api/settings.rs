//! Tenant settings (API.md §5.1): defaults, replacement, every validation
//! rule with the field's path, the Admin role, and one tenant's settings
//! never reaching another.

use axum::http::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const PATH: &str = "/settings/v1";

fn full() -> Value {
    json!({"reportingIntervalHours": 5, "twoWayFileSchedule": "Monthly",
           "afterHours": {"timeZone": "Europe/London",
               "open": [{"day": "Monday", "from": "08:00", "to": "18:00"},
                        {"day": "Monday", "from": "18:00", "to": "24:00"},
                        {"day": "Saturday", "from": "10:00", "to": "14:00"}],
               "holidays": ["2026-12-25"]}})
}

async fn get(app: &TestApp, token: &str) -> Value {
    let auth = format!("Bearer {token}");
    let response = app
        .request(Method::GET, PATH, &[("authorization", &auth)], Vec::new())
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

async fn put(app: &TestApp, body: &Value) -> crate::helpers::TestResponse {
    let auth = format!("Bearer {}", app.tenant.token);
    app.request(
        Method::PUT,
        PATH,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        serde_json::to_vec(body).expect("json"),
    )
    .await
}

#[tokio::test]
async fn defaults_then_a_put_replaces_the_whole_object() {
    let app = TestApp::spawn().await;
    let defaults =
        json!({"reportingIntervalHours": 2, "twoWayFileSchedule": "Daily", "afterHours": null});
    assert_eq!(get(&app, &app.tenant.token).await, defaults);
    let stored = put(&app, &full()).await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json(), full());
    assert_eq!(get(&app, &app.tenant.token).await, full());
    // A PUT without afterHours clears it (the whole object is replaced).
    let plain = json!({"reportingIntervalHours": 48, "twoWayFileSchedule": "Weekly"});
    let stored = put(&app, &plain).await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    let expected =
        json!({"reportingIntervalHours": 48, "twoWayFileSchedule": "Weekly", "afterHours": null});
    assert_eq!(get(&app, &app.tenant.token).await, expected);
    // Another tenant still has the defaults.
    let other = app.new_tenant("other").await;
    assert_eq!(get(&app, &other.token).await, defaults);
}

#[tokio::test]
async fn every_bad_value_is_a_422_naming_its_path_and_stores_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(put(&app, &full()).await.status, 200);
    let with = |path: &[&str], value: Value| {
        let mut body = full();
        let mut target = &mut body;
        for key in &path[..path.len() - 1] {
            target = match key.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*key],
            };
        }
        let last = path[path.len() - 1];
        match last.parse::<usize>() {
            Ok(i) => target[i] = value,
            Err(_) => target[last] = value,
        }
        body
    };
    let cases = [
        (
            with(&["reportingIntervalHours"], json!(0)),
            "reportingIntervalHours",
        ),
        (
            with(&["reportingIntervalHours"], json!(49)),
            "reportingIntervalHours",
        ),
        (
            with(&["reportingIntervalHours"], json!(2.5)),
            "reportingIntervalHours",
        ),
        (
            with(&["reportingIntervalHours"], json!("2")),
            "reportingIntervalHours",
        ),
        (
            with(&["twoWayFileSchedule"], json!("Yearly")),
            "twoWayFileSchedule",
        ),
        (
            with(&["afterHours", "timeZone"], json!("Mars/Base")),
            "afterHours.timeZone",
        ),
        (
            with(&["afterHours", "open", "0", "day"], json!("Funday")),
            "afterHours.open[0].day",
        ),
        (
            with(&["afterHours", "open", "0", "from"], json!("25:00")),
            "afterHours.open[0].from",
        ),
        (
            with(&["afterHours", "open", "0", "from"], json!("8:00")),
            "afterHours.open[0].from",
        ),
        (
            with(&["afterHours", "open", "0", "to"], json!("07:00")),
            "afterHours.open[0].to",
        ),
        (
            with(&["afterHours", "open", "2", "to"], json!("24:01")),
            "afterHours.open[2].to",
        ),
        (
            with(&["afterHours", "open", "1", "from"], json!("17:59")),
            "afterHours.open[1]",
        ),
        (
            with(&["afterHours", "holidays", "0"], json!("2026-02-30")),
            "afterHours.holidays[0]",
        ),
        (
            with(&["afterHours", "open"], json!("always")),
            "afterHours.open",
        ),
    ];
    for (body, field) in cases {
        let response = put(&app, &body).await;
        let problem = response.problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    // Unknown fields, at any depth, and missing required ones are 400.
    let mut unknown = full();
    unknown["colour"] = json!("blue");
    let mut nested = full();
    nested["afterHours"]["open"][0]["note"] = json!("x");
    let mut missing = full();
    missing
        .as_object_mut()
        .expect("object")
        .remove("twoWayFileSchedule");
    for (body, field) in [
        (unknown, "colour"),
        (nested, "afterHours.open[0].note"),
        (missing, "twoWayFileSchedule"),
    ] {
        let problem = put(&app, &body).await.problem(400);
        let named = problem["errors"][0]["field"].as_str().unwrap_or_default();
        assert!(named.ends_with(field), "{field}: {problem}");
    }
    // Nothing of the refused bodies was stored.
    assert_eq!(get(&app, &app.tenant.token).await, full());
}

#[tokio::test]
async fn settings_need_the_admin_role() {
    let app = TestApp::spawn().await;
    let analyst = app.token_for(app.tenant.id, "analyst", &["Analytics", "Ingest"]);
    let auth = format!("Bearer {analyst}");
    let response = app
        .request(Method::GET, PATH, &[("authorization", &auth)], Vec::new())
        .await;
    response.problem(403);
    let response = app
        .request(
            Method::PUT,
            PATH,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            serde_json::to_vec(&full()).expect("json"),
        )
        .await;
    response.problem(403);
    app.request(Method::GET, PATH, &[], Vec::new())
        .await
        .problem(401);
}
