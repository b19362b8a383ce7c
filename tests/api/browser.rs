//! The dashboard in a real browser: Debian's headless Chromium driven over
//! WebDriver (chromedriver) by fantoccini, against the real service on a
//! socket with the demo data. Ignored by default (it needs `chromium` and
//! `chromedriver`); `scripts/browser-test` installs them and runs it.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// chromedriver, killed when the test ends (whatever way it ends).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_driver() -> (Driver, String) {
    let port = free_port();
    let child = Command::new(std::env::var("CHROMEDRIVER").unwrap_or("chromedriver".into()))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (install it with scripts/browser-deps)");
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (driver, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(driver: &str, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,800", "--lang=en-US"],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false},
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a browser session")
}

/// Runs `script` in the page and returns its value.
async fn js(client: &Client, script: &str, args: Vec<Value>) -> Value {
    client.execute(script, args).await.expect("script")
}

/// Waits until every tile has left its loading state; returns their states.
async fn tiles_settled(client: &Client) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let states = js(
            client,
            "const t=[...document.querySelectorAll('.tile')];\
             return t.length && t.every(x=>x.getAttribute('aria-busy')==='false') ? \
             Object.fromEntries(t.map(x=>[x.id,x.dataset.state])) : null",
            vec![],
        )
        .await;
        if !states.is_null() {
            return states;
        }
        assert!(Instant::now() < deadline, "tiles still loading");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The numbers of a tile's table footer (its totals), commas removed.
async fn totals(client: &Client, tile: &str) -> Vec<String> {
    let cells = js(
        client,
        "return [...document.querySelectorAll(`#${arguments[0]} tfoot td`)].map(td=>td.textContent.replace(/,/g,''))",
        vec![json!(tile)],
    )
    .await;
    serde_json::from_value(cells).expect("cells")
}

async fn wait_for_file(client: &Client, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        if Instant::now() > deadline {
            let found: Vec<_> = std::fs::read_dir(dir)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
                .unwrap_or_default();
            let page = js(
                client,
                "return document.getElementById('tile-states').innerText",
                vec![],
            )
            .await;
            panic!(
                "{name} was not downloaded; {} holds {found:?}; the tile: {page}",
                dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    path
}

/// A browser signed in to the service (on a socket) with the tenant's
/// client credentials, typed by keyboard; the driver dies with it.
struct Session {
    client: Client,
    downloads: PathBuf,
    _driver: Driver,
}

async fn open_signed_in(app: &TestApp) -> Session {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let (driver, driver_url) = start_driver().await;
    let downloads = std::env::temp_dir().join(format!("cx-dash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&downloads).expect("download dir");
    let client = browser(&driver_url, &downloads).await;

    client.goto(&format!("{base}/")).await.expect("open /");
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/dashboard"
    );
    let credentials = &app.tenant.credentials;
    client
        .find(Locator::Css("#client-id"))
        .await
        .expect("client id")
        .send_keys(&credentials.client_id)
        .await
        .expect("type");
    client
        .find(Locator::Css("#client-secret"))
        .await
        .expect("secret")
        .send_keys(&format!("{}\n", credentials.client_secret))
        .await
        .expect("type and submit");
    Session {
        client,
        downloads,
        _driver: driver,
    }
}

async fn with_demo_data(app: &TestApp) {
    let events = cx_reporting::demo::events(8, chrono::Utc::now());
    for batch in events.chunks(5000) {
        app.ingest(&Value::Array(batch.to_vec())).await;
    }
}

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
    client
        .find(Locator::Css("#apply"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("show");
    tiles_settled(client).await;
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
    client
        .find(Locator::Css("#apply"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("show");
    tiles_settled(client).await;
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
    client
        .find(Locator::Css("#apply"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("show");
    let states = tiles_settled(client).await;
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
    client
        .find(Locator::Css("#apply"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("show");
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
    client
        .find(Locator::Css("#apply"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("show");
    let states = tiles_settled(client).await;
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
