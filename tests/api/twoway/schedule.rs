//! The scheduled two-way files: the scheduler is called with an injected
//! "now" through the crate (as the service's background task calls it),
//! and the files are listed and downloaded through HTTP.

use axum::http::Method;
use chrono::{DateTime, Utc};
use cx_reporting::report::twoway::schedule::write_due;
use serde_json::{json, Value};

use super::{event, get_as, listing, send, send_as, SEED_COLUMNS};
use crate::helpers::{TestApp, TestTenant};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an instant")
}

/// Backdates the tenant's creation (the schedule starts after it) and
/// sets its schedule through the settings API.
async fn arrange(app: &TestApp, tenant: &TestTenant, created: &str, schedule: &str) {
    sqlx::query("update tenants set created_at = $1 where tenant_id = $2")
        .bind(at(created))
        .bind(tenant.id)
        .execute(&app.pool)
        .await
        .expect("backdate");
    let auth = format!("Bearer {}", tenant.token);
    let settings = json!({"reportingIntervalHours": 2, "twoWayFileSchedule": schedule});
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
}

/// The tenant's files, as listed.
async fn files(app: &TestApp, tenant: &TestTenant) -> Vec<Value> {
    let response = get_as(app, tenant, "/reporting/v1.2/twoway/activity/files").await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["files"].as_array().expect("files").clone()
}

/// One file's CSV.
async fn download(app: &TestApp, tenant: &TestTenant, id: &Value) -> String {
    let path = format!(
        "/reporting/v1.2/twoway/activity/files/{}",
        id.as_str().expect("id")
    );
    let response = get_as(app, tenant, &path).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    response.text()
}

fn periods(files: &[Value]) -> Vec<(String, String, String)> {
    files
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("schedule"), text("from"), text("to"))
        })
        .collect()
}

#[tokio::test]
async fn monthly_files_are_written_on_the_first_saturday_of_the_next_month() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant.clone();
    arrange(&app, &tenant, "2026-06-15T09:00:00Z", "Monthly").await;
    send(&app, &event("june", "agent_ping", "2026-06-20T10:00:00Z")).await;
    send(&app, &event("july", "agent_ping", "2026-07-31T23:59:59Z")).await;
    send(&app, &event("august", "agent_ping", "2026-08-01T00:00:00Z")).await;
    // June is not a whole month of the tenant's; July is due on Saturday
    // 1 August 2026, the first day of the next month.
    assert_eq!(
        write_due(&app.pool, at("2026-07-31T23:59:59Z"))
            .await
            .expect("run"),
        0
    );
    assert!(files(&app, &tenant).await.is_empty());
    assert_eq!(
        write_due(&app.pool, at("2026-08-01T00:00:00Z"))
            .await
            .expect("run"),
        1
    );
    let july = files(&app, &tenant).await;
    let month = |from: &str, to: &str| ("Monthly".to_owned(), from.to_owned(), to.to_owned());
    assert_eq!(
        periods(&july),
        [month("2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z")]
    );
    let csv = download(&app, &tenant, &july[0]["id"]).await;
    assert_eq!(csv.lines().collect::<Vec<_>>().len(), 2, "{csv}");
    assert!(csv.starts_with(&format!("{SEED_COLUMNS}\r\n")), "{csv}");
    assert!(csv.contains(",july,") && !csv.contains(",august,"), "{csv}");
    assert_eq!(july[0]["rows"], 1);
    assert_eq!(july[0]["bytes"], csv.len());
    // August ends on Tuesday 1 September: due Saturday 5 September.
    assert_eq!(
        write_due(&app.pool, at("2026-09-04T23:59:00Z"))
            .await
            .expect("run"),
        0
    );
    assert_eq!(
        write_due(&app.pool, at("2026-09-05T00:00:00Z"))
            .await
            .expect("run"),
        1
    );
    let both = files(&app, &tenant).await;
    assert_eq!(
        periods(&both),
        [
            month("2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z"),
            month("2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z"),
        ],
        "newest first"
    );
    assert!(download(&app, &tenant, &both[0]["id"])
        .await
        .contains(",august,"));
    assert!(both[0]["createdAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn each_period_is_written_once_across_restarts_and_concurrent_runs() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant.clone();
    arrange(&app, &tenant, "2026-03-01T12:00:00Z", "Daily").await;
    send(&app, &event("c1", "agent_ping", "2026-03-02T10:00:00Z")).await;
    let now = at("2026-03-04T01:00:00Z");
    // Two "processes" at once, then a third after a "restart".
    let (a, b) = tokio::join!(write_due(&app.pool, now), write_due(&app.pool, now));
    assert_eq!(a.expect("a") + b.expect("b"), 2, "2 and 3 March, once each");
    assert_eq!(write_due(&app.pool, now).await.expect("again"), 0);
    let listed = files(&app, &tenant).await;
    let day = |from: &str, to: &str| ("Daily".to_owned(), from.to_owned(), to.to_owned());
    assert_eq!(
        periods(&listed),
        [
            day("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"),
            day("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"),
        ]
    );
    assert_eq!(
        (listed[0]["rows"].clone(), listed[1]["rows"].clone()),
        (json!(0), json!(1))
    );
    // A weekly schedule continues from the last file, at the next Monday.
    arrange(&app, &tenant, "2026-03-01T12:00:00Z", "Weekly").await;
    assert_eq!(
        write_due(&app.pool, at("2026-03-15T23:59:59Z"))
            .await
            .expect("run"),
        0
    );
    assert_eq!(
        write_due(&app.pool, at("2026-03-16T00:00:00Z"))
            .await
            .expect("run"),
        1
    );
    let weekly = files(&app, &tenant).await;
    assert_eq!(
        periods(&weekly)[0],
        (
            "Weekly".to_owned(),
            "2026-03-09T00:00:00Z".to_owned(),
            "2026-03-16T00:00:00Z".to_owned()
        )
    );
}

#[tokio::test]
async fn a_late_event_is_listed_but_never_added_to_its_written_file() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant.clone();
    arrange(&app, &tenant, "2026-03-01T12:00:00Z", "Daily").await;
    send(&app, &event("early", "agent_ping", "2026-03-02T10:00:00Z")).await;
    assert_eq!(
        write_due(&app.pool, at("2026-03-03T00:00:00Z"))
            .await
            .expect("run"),
        1
    );
    let written = files(&app, &tenant).await;
    let before = download(&app, &tenant, &written[0]["id"]).await;
    send(&app, &event("late", "agent_ping", "2026-03-02T11:00:00Z")).await;
    assert_eq!(
        write_due(&app.pool, at("2026-03-03T00:30:00Z"))
            .await
            .expect("run"),
        0
    );
    let rows = listing(&app, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z").await;
    let ccids: Vec<&str> = rows["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["ccid"].as_str())
        .collect();
    assert_eq!(ccids, ["early", "late"]);
    let body = json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}});
    assert!(app
        .export("twoway/activity", &body)
        .await
        .contains(",late,"));
    let after = files(&app, &tenant).await;
    assert_eq!(after, written, "the listing of files is unchanged");
    assert_eq!(download(&app, &tenant, &written[0]["id"]).await, before);
    assert!(
        before.contains(",early,") && !before.contains(",late,"),
        "{before}"
    );
}

#[tokio::test]
async fn another_tenant_sees_none_of_the_files_or_events() {
    let app = TestApp::spawn().await;
    let a = app.tenant.clone();
    let b = app.new_tenant("B").await;
    arrange(&app, &a, "2026-03-01T12:00:00Z", "Daily").await;
    arrange(&app, &b, "2026-03-01T12:00:00Z", "Daily").await;
    send(
        &app,
        &event("a-secret", "agent_ping", "2026-03-02T10:00:00Z"),
    )
    .await;
    write_due(&app.pool, at("2026-03-03T00:00:00Z"))
        .await
        .expect("run");
    let a_files = files(&app, &a).await;
    let b_files = files(&app, &b).await;
    assert_eq!((a_files.len(), b_files.len()), (1, 1));
    let path = format!(
        "/reporting/v1.2/twoway/activity/files/{}",
        a_files[0]["id"].as_str().expect("id")
    );
    get_as(&app, &b, &path).await.problem(404);
    get_as(&app, &b, "/reporting/v1.2/twoway/activity/files/not-a-uuid")
        .await
        .problem(404);
    assert!(!download(&app, &b, &b_files[0]["id"])
        .await
        .contains("a-secret"));
    assert_eq!(b_files[0]["rows"], 0);
    let body = json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}});
    let seen = app
        .post_as(&b.token, "/reporting/v1.2/twoway/activity", &body)
        .await;
    assert_eq!(seen.json()["rows"], json!([]));
    // B's event with A's identity is B's own: a new row, not a duplicate.
    let same = send_as(
        &app,
        &b,
        &event("a-secret", "agent_ping", "2026-03-02T10:00:00Z"),
    )
    .await;
    assert_eq!(same.json()["inserted"], 1);
}
