//! The dashboard page served by the binary (issue 11): its routes, that it
//! reaches for nothing outside the service, that its script calls tiles
//! that exist, and that the demo data set fills every tile it shows.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Every `"…"` literal of the page's script that follows `marker`.
fn literals_after<'a>(source: &'a str, marker: &str) -> Vec<&'a str> {
    source
        .match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &source[at + marker.len()..];
            let rest = rest.strip_prefix('"')?;
            rest.split('"').next()
        })
        .collect()
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_without_a_token() {
    let app = TestApp::spawn().await;
    let root = app.request(Method::GET, "/", &[], Vec::new()).await;
    assert!(root.status.is_redirection(), "{}", root.status);
    assert_eq!(root.header("location").as_deref(), Some("/dashboard"));

    let page = app
        .request(Method::GET, "/dashboard", &[], Vec::new())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").expect("CSP");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = page.text();
    assert!(html.contains("<title>cx-reporting dashboard</title>"));
    // Nothing outside the service: no absolute or protocol-relative URL in
    // any src or href, and none at all in the page.
    for attr in ["src=\"", "href=\""] {
        for value in literals_after(&html, &attr[..attr.len() - 1]) {
            assert!(
                value.starts_with('/') && !value.starts_with("//"),
                "{attr}{value}\" leaves the service"
            );
        }
    }
    assert!(!html.contains("http://") && !html.contains("https://"));

    for (path, kind) in [
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "text/css; charset=utf-8"),
    ] {
        let asset = app.request(Method::GET, path, &[], Vec::new()).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert_eq!(
            asset.header("content-type").as_deref(),
            Some(kind),
            "{path}"
        );
        assert!(
            html.contains(&format!("\"{path}\"")),
            "the page loads {path}"
        );
        // The script names the SVG namespace, which is no request.
        let text = asset.text().replace("http://www.w3.org/2000/svg", "");
        assert!(
            !text.contains("http://") && !text.contains("https://") && !text.contains("url("),
            "{path} reaches outside the service"
        );
    }
}

#[tokio::test]
async fn the_script_calls_only_tiles_that_exist_and_both_twins_answer() {
    let app = TestApp::spawn().await;
    let script = app
        .request(Method::GET, "/dashboard/app.js", &[], Vec::new())
        .await
        .text();
    let mut paths = literals_after(&script, "path: ");
    paths.extend(literals_after(&script, "callTile("));
    let known: Vec<String> = cx_reporting::report::tiles::all()
        .iter()
        .map(|t| t.path())
        .chain(["view/interactions".to_owned()])
        .collect();
    for expected in [
        "interactions/state/by-date",
        "interactions/state/count/by-channels",
        "interactions/state/count/by-queues",
        "interactions/queue-time/count/by-queues",
        "messages/response-times/count/by-channels",
        "messages/volume/by-date",
        "view/interactions",
        "conversations/live/by-date",
        "conversations/live/count/by-accounts/percentages",
        "advisors/metrics/count/by-users",
        "presence/availability/count/by-users/percentage",
    ] {
        assert!(paths.contains(&expected), "the page shows {expected}");
    }
    for path in &paths {
        assert!(known.iter().any(|k| k == path), "{path} is no tile");
        // Served as JSON and as CSV: an empty body is a 4xx problem, not 404.
        for prefix in ["/reporting/v1.2/", "/reporting/export/v1.2/"] {
            let answer = app.post(&format!("{prefix}{path}"), &json!({})).await;
            assert!(
                answer.status.is_client_error() && answer.status != StatusCode::NOT_FOUND,
                "{prefix}{path}: {}",
                answer.status
            );
        }
    }
}

/// The page's requests for "last 7 days" by day in UTC, all channels (as
/// `tiles()` in app.js builds them).
fn page_requests(from: &str, to: &str) -> Vec<(&'static str, Value)> {
    let channels = json!(crate::rollups::CHANNELS);
    let by_date = |extra: Value| {
        let mut body = extra;
        body["timeZone"] = json!("UTC");
        body["filters"] = json!({"from": from, "to": to, "groupBy": "Day"});
        body
    };
    vec![
        (
            "interactions/state/by-date",
            by_date(
                json!({"oldState": ["Draft"], "newState": ["Created", "Queued", "Automation"]}),
            ),
        ),
        (
            "interactions/state/by-date",
            by_date(json!({"newState": ["Closed"]})),
        ),
        (
            "interactions/state/by-date",
            by_date(
                json!({"oldState": ["Closed"], "newState": ["Queued", "Assigned", "Automation"]}),
            ),
        ),
        (
            "interactions/state/count/by-channels",
            json!({"newState": ["Closed"], "filters": {"from": from, "to": to, "channels": channels}}),
        ),
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": {"from": from, "to": to, "queues": [
                "11111111-1111-4111-8111-111111111111",
                "22222222-2222-4222-8222-222222222222",
                "33333333-3333-4333-8333-333333333333"]}}),
        ),
        (
            "messages/response-times/count/by-channels",
            json!({"responseTime": "AdvisorResponseTime", "filters": {"from": from, "to": to, "channels": channels}}),
        ),
        (
            "messages/volume/by-date",
            by_date(json!({"direction": "Inbound"})),
        ),
        (
            "messages/volume/by-date",
            by_date(json!({"direction": "Outbound"})),
        ),
    ]
}

/// The sum of `count` over buckets or groups.
fn total(answer: &Value) -> u64 {
    let items = answer["buckets"]
        .as_array()
        .or_else(|| answer["groups"].as_array())
        .expect("buckets or groups");
    items.iter().filter_map(|i| i["count"].as_u64()).sum()
}

#[tokio::test]
async fn the_demo_set_fills_every_tile_of_the_page_for_the_last_7_days() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let events = cx_reporting::demo::events(8, now);
    for batch in events.chunks(5000) {
        app.ingest(&Value::Array(batch.to_vec())).await;
    }
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let from = (today - Duration::days(6)).to_rfc3339();
    let to = (today + Duration::days(1)).to_rfc3339();
    for (path, body) in page_requests(&from, &to) {
        let answer = app.report(path, &body).await;
        assert!(total(&answer) > 0, "{path} {body} is empty: {answer}");
    }
    // The live, presence and rows tiles, for the directory's advisors and
    // accounts (as the page asks them).
    let names = app
        .post("/reporting/v1.2/directory", &json!({}))
        .await
        .json();
    let ids = |kind: &str, channel: Option<&str>| -> Vec<Value> {
        names[kind]
            .as_array()
            .expect("list")
            .iter()
            .filter(|e| channel.is_none_or(|c| e["detail"] == c))
            .map(|e| e["id"].clone())
            .collect()
    };
    let users = ids("users", None);
    assert!(!users.is_empty(), "{names}");
    for channel in ["WebChat", "Voice"] {
        let live = app
            .report(
                "conversations/live/by-date",
                &json!({"newState": ["Closed"], "timeZone": "UTC",
                    "filters": {"from": from, "to": to, "groupBy": "Day", "channel": channel}}),
            )
            .await;
        let ended: u64 = live["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .filter_map(|b| b["total"].as_u64())
            .sum();
        assert!(ended > 0, "{channel}: {live}");
        let accounts = ids("accounts", Some(channel));
        let by_account = app
            .report(
                "conversations/live/count/by-accounts/percentages",
                &json!({"newState": ["Closed"], "accounts": accounts,
                    "filters": {"from": from, "to": to, "channel": channel}}),
            )
            .await;
        assert!(
            by_account["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .any(|g| g["total"].as_u64() > Some(0)),
            "{channel}: {by_account}"
        );
    }
    let advisors = app
        .report(
            "advisors/metrics/count/by-users",
            &json!({"userIds": users, "filters": {"from": from, "to": to}}),
        )
        .await;
    let contacts: u64 = advisors["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["contactsLoggedIn"].as_u64())
        .sum();
    assert!(contacts > 0, "{advisors}");
    let available = app
        .report(
            "presence/availability/count/by-users/percentage",
            &json!({"userState": "Available", "userIds": users, "filters": {"from": from, "to": to}}),
        )
        .await;
    assert!(
        available["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["availableSeconds"].as_f64() > Some(0.0)),
        "{available}"
    );

    // Names come from the directory of the same set.
    let queues = app
        .report(
            "view/interactions",
            &json!({"filters": {"from": from, "to": to, "oldState": ["Queued"], "newState": ["Assigned"]}, "contexts": ["Queue"]}),
        )
        .await;
    let names: std::collections::BTreeSet<&str> = queues["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["contexts"]["Queue"]["name"].as_str())
        .collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["Billing", "Sales", "Support"]
    );
}

#[tokio::test]
async fn the_directory_lists_names_by_name_latest_description_and_own_tenant_only() {
    let app = TestApp::spawn().await;
    let (q1, q2, u1, a1) = (
        "00000000-0000-4000-8000-0000000000a1",
        "00000000-0000-4000-8000-0000000000a2",
        "00000000-0000-4000-8000-0000000000b1",
        "00000000-0000-4000-8000-0000000000c1",
    );
    // The rename of q1 arrives before its first description: the later
    // description (by occurredAt) wins whatever the arrival order.
    app.ingest(&json!([
        {"id": "q1-new", "type": "directory.queue", "occurredAt": "2026-02-01T00:00:00Z", "queueId": q1, "name": "Support"},
        {"id": "q1-old", "type": "directory.queue", "occurredAt": "2026-01-01T00:00:00Z", "queueId": q1, "name": "Zeta (old name)"},
        {"id": "q2", "type": "directory.queue", "occurredAt": "2026-01-01T00:00:00Z", "queueId": q2, "name": "Billing"},
        {"id": "u1", "type": "directory.user", "occurredAt": "2026-01-01T00:00:00Z", "userId": u1, "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roles": ["Agent"]},
        {"id": "a1", "type": "directory.account", "occurredAt": "2026-01-01T00:00:00Z", "accountId": a1, "name": "Acme", "channel": "WebChat"},
    ]))
    .await;
    let answer = app.post("/reporting/v1.2/directory", &json!({})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(
        answer.json(),
        json!({
            "queues": [{"id": q2, "name": "Billing"}, {"id": q1, "name": "Support"}],
            "users": [{"id": u1, "name": "Ada Lovelace", "detail": "ada@example.com"}],
            "accounts": [{"id": a1, "name": "Acme", "detail": "WebChat"}],
            "truncated": false,
        })
    );

    let unknown = app
        .post("/reporting/v1.2/directory", &json!({"kinds": ["Queue"]}))
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unknown.text()
    );
    assert_eq!(
        unknown.header("content-type").as_deref(),
        Some("application/problem+json")
    );

    let other = app.new_tenant("other").await;
    let theirs = app
        .post_as(&other.token, "/reporting/v1.2/directory", &json!({}))
        .await;
    assert_eq!(
        theirs.json(),
        json!({"queues": [], "users": [], "accounts": [], "truncated": false})
    );
}
