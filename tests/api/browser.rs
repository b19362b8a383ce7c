//! The dashboard in a real browser: Debian's headless Chromium driven over
//! WebDriver (chromedriver) by fantoccini, against the real service on a
//! socket with the demo data. Ignored by default (it needs `chromium` and
//! `chromedriver`); `scripts/browser-test` installs them and runs it.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use support::{
    apply, click_apply, js, open_signed_in, tiles_settled, totals, wait_for_file, with_demo_data,
};

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run scripts/browser-test"]
async fn the_dashboard_in_headless_chromium_shows_the_apis_numbers() {
    let app = TestApp::spawn().await;
    with_demo_data(&app).await;
    let session = open_signed_in(&app).await;
    let (client, downloads) = (&session.client, &session.downloads);
    let credentials = &app.tenant.credentials;
    let states = tiles_settled(client).await;
    for (tile, state) in states.as_object().expect("states") {
        assert_eq!(state, "loaded", "{tile} on first open: {states}");
    }
    let url = client.current_url().await.expect("url");
    assert!(
        !url.as_str().contains(&credentials.client_secret) && url.query().is_none(),
        "{url}"
    );
    let stored = js(
        client,
        "return sessionStorage.length === 1 && localStorage.length === 0",
        vec![],
    )
    .await;
    assert_eq!(stored, json!(true), "the token is kept for the tab only");

    // Another zone, the same preset: the page's numbers are the API's.
    let zone = client.find(Locator::Css("#zone")).await.expect("zone");
    zone.clear().await.expect("clear");
    zone.send_keys("Asia/Tokyo").await.expect("type");
    client
        .find(Locator::Css("#preset option[value='last7']"))
        .await
        .expect("preset")
        .click()
        .await
        .expect("pick");
    apply(client).await;
    let note = js(
        client,
        "return document.getElementById('range-note').textContent",
        vec![],
    )
    .await;
    let note = note.as_str().expect("note");
    assert!(note.ends_with("buckets by Day in Asia/Tokyo."), "{note}");
    let words: Vec<&str> = note.split_whitespace().collect();
    let (from, to) = (words[1], words[3]);
    let closed_body = json!({"newState": ["Closed"], "timeZone": "Asia/Tokyo",
        "filters": {"from": from, "to": to, "groupBy": "Day"}});
    let closed = app.report("interactions/state/by-date", &closed_body).await;
    let api_total: u64 = closed["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| b["count"].as_u64())
        .sum();
    assert!(api_total > 0);
    let shown = totals(client, "tile-states").await;
    assert_eq!(shown[2], api_total.to_string(), "closed total: {shown:?}");
    let first_bucket = js(
        client,
        "return document.querySelector('#tile-states tbody th').textContent",
        vec![],
    )
    .await;
    assert_eq!(
        first_bucket, closed["buckets"][0]["start"],
        "buckets in Tokyo time"
    );
    let badges = js(
        client,
        "return document.querySelector('#tile-states .cache').textContent",
        vec![],
    )
    .await;
    assert!(
        badges.as_str().expect("badges").contains("X-Cache MISS"),
        "{badges}"
    );

    // The filters show the directory's names, and the advisors' contacts
    // are the API's for the same advisors (the first 50 by name).
    let queue_names = js(
        client,
        "return [...document.querySelectorAll('#queue option')].map(o => o.textContent)",
        vec![],
    )
    .await;
    assert_eq!(
        queue_names,
        json!(["All queues", "Billing", "Sales", "Support"])
    );
    let directory = app
        .post("/reporting/v1.2/directory", &json!({}))
        .await
        .json();
    let users: Vec<Value> = directory["users"]
        .as_array()
        .expect("users")
        .iter()
        .take(50)
        .map(|u| u["id"].clone())
        .collect();
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
    let shown = totals(client, "tile-advisors").await;
    assert_eq!(
        shown[1],
        contacts.to_string(),
        "advisor contacts: {shown:?}"
    );

    let queue_ids: Vec<Value> = directory["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| q["id"].clone())
        .collect();
    let by_queue = app
        .report(
            "interactions/state/count/by-queues",
            &json!({"newState": ["Closed"], "filters": {"from": from, "to": to, "queues": queue_ids}}),
        )
        .await;
    let closed_in_queues: u64 = by_queue["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["count"].as_u64())
        .sum();
    assert!(closed_in_queues > 0, "{by_queue}");
    let shown = totals(client, "tile-closed-by-queue").await;
    assert_eq!(
        shown[1],
        closed_in_queues.to_string(),
        "closed by queue: {shown:?}"
    );

    // One queue picked by name: the closed total is the API's for that queue.
    let billing = directory["queues"][0]["id"].as_str().expect("Billing's id");
    js(
        client,
        "document.getElementById('queue').value = arguments[0]",
        vec![json!(billing)],
    )
    .await;
    apply(client).await;
    let mut one_queue = closed_body.clone();
    one_queue["filters"]["queues"] = json!([billing]);
    let queue_total: u64 = app.report("interactions/state/by-date", &one_queue).await["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| b["count"].as_u64())
        .sum();
    assert!(
        queue_total > 0 && queue_total < api_total,
        "{queue_total} of {api_total}"
    );
    let shown = totals(client, "tile-states").await;
    assert_eq!(
        shown[2],
        queue_total.to_string(),
        "Billing's closed total: {shown:?}"
    );
    js(
        client,
        "document.getElementById('queue').value = ''",
        vec![],
    )
    .await;
    apply(client).await;

    // Download the closed series' CSV: it is the export twin's answer.
    client
        .find(Locator::XPath(
            "//section[@id='tile-states']//button[contains(., 'Closed')]",
        ))
        .await
        .expect("download button")
        .click()
        .await
        .expect("download");
    let file = wait_for_file(client, downloads, "interactions_state_by-date.csv").await;
    let csv = std::fs::read_to_string(&file).expect("csv");
    assert_eq!(
        csv,
        app.export("interactions/state/by-date", &closed_body).await
    );

    // The same request again comes from the cache, and says so.
    apply(client).await;
    let badges = js(
        client,
        "return document.querySelector('#tile-states .cache').textContent",
        vec![],
    )
    .await;
    assert!(
        badges.as_str().expect("badges").contains("X-Cache HIT"),
        "{badges}"
    );

    // A screenshot at 1280x800 for the README.
    let png = client.screenshot().await.expect("screenshot");
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard.png");
    std::fs::write(&target, &png).expect("screenshot file");
    if std::env::var("UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).expect("docs");
        std::fs::write(docs.join("dashboard.png"), &png).expect("docs/dashboard.png");
    }
    // And the live and advisor tiles further down.
    js(
        client,
        "document.getElementById('tile-live-webchat').scrollIntoView()",
        vec![],
    )
    .await;
    let png = client.screenshot().await.expect("screenshot");
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-live.png");
    std::fs::write(&target, &png).expect("screenshot file");
    if std::env::var("UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::write(docs.join("dashboard-live.png"), &png).expect("docs/dashboard-live.png");
    }
    js(client, "window.scrollTo(0, 0)", vec![]).await;

    // At phone width nothing runs off the side of the page.
    client.set_window_size(390, 844).await.expect("phone width");
    let overflow = js(
        client,
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        vec![],
    )
    .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "{overflow} px too wide at 390 px"
    );
    let phone = client.screenshot().await.expect("screenshot");
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-phone.png");
    std::fs::write(target, phone).expect("phone screenshot");
    client
        .set_window_size(1280, 800)
        .await
        .expect("desktop width");

    // A range without events says so on every tile (no zero chart).
    js(
        client,
        "document.getElementById('preset').value='custom';\
         document.getElementById('from').value='2020-01-01T00:00';\
         document.getElementById('to').value='2020-01-08T00:00';",
        vec![],
    )
    .await;
    let states = apply(client).await;
    for (tile, state) in states.as_object().expect("states") {
        assert_eq!(state, "empty", "{tile}: {states}");
    }
    let chart = js(
        client,
        "return document.querySelector('#tile-states .message').textContent",
        vec![],
    )
    .await;
    assert_eq!(chart, "No data in this range.");

    // Over a granularity's limit, the page explains and suggests, asking nothing.
    client
        .find(Locator::Css("#granularity option[value='Hour']"))
        .await
        .expect("Hour")
        .click()
        .await
        .expect("pick");
    click_apply(client).await;
    let note = js(
        client,
        "return document.getElementById('range-note').textContent",
        vec![],
    )
    .await;
    let note = note.as_str().expect("note");
    assert!(
        note.contains("By Hour covers at most 24 hours") && note.contains("Use Day"),
        "{note}"
    );

    // A refused token is an error shown as such, not an empty chart.
    js(
        client,
        "sessionStorage.setItem('cx-dashboard-token', 'not-a-token')",
        vec![],
    )
    .await;
    client
        .find(Locator::Css("#granularity option[value='Day']"))
        .await
        .expect("Day")
        .click()
        .await
        .expect("pick");
    let states = apply(client).await;
    for (tile, state) in states.as_object().expect("states") {
        assert_eq!(state, "error", "{tile}: {states}");
    }
    let error = js(
        client,
        "return document.querySelector('.tile .message.error').textContent",
        vec![],
    )
    .await;
    assert!(
        error.as_str().expect("error").starts_with("HTTP 401"),
        "{error}"
    );
    let sign_in = js(client, "return !document.getElementById('sign-in').hidden && document.getElementById('sign-in-error').textContent", vec![]).await;
    assert!(
        sign_in.as_str().is_some_and(|t| t.contains("401")),
        "{sign_in}"
    );

    session.client.clone().close().await.expect("close");
    let _ = std::fs::remove_dir_all(downloads);
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver: run scripts/browser-test"]
async fn a_rate_limited_tile_says_429_and_when_to_retry() {
    let app = TestApp::spawn_with(|config| {
        config.rate_reporting = cx_reporting::config::RateQuota {
            limit: 4,
            period: Duration::from_secs(600),
        };
    })
    .await;
    with_demo_data(&app).await;
    let session = open_signed_in(&app).await;
    let client = &session.client;
    // The first view sends 9 requests (the queue view first): over 4, some
    // tiles are refused; those say so, with no chart.
    let states = tiles_settled(client).await;
    let refused: Vec<Value> = serde_json::from_value(
        js(
            client,
            "return [...document.querySelectorAll('.tile[data-state=error]')].map(t=>({\
               text: t.querySelector('.message.error').textContent, charts: t.querySelectorAll('svg').length}))",
            vec![],
        )
        .await,
    )
    .expect("refused tiles");
    assert!(!refused.is_empty(), "{states}");
    for tile in &refused {
        let text = tile["text"].as_str().expect("text");
        assert!(
            text.starts_with("HTTP 429") && text.contains("retry in") && text.contains(" s."),
            "{text}"
        );
        assert_eq!(tile["charts"], 0, "no chart on an error");
    }
    session.client.clone().close().await.expect("close");
    let _ = std::fs::remove_dir_all(&session.downloads);
}
