//! The browser side of the dashboard tests: chromedriver, a signed-in
//! session against the service on a socket, and reading the page.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// chromedriver, killed when the test ends (whatever way it ends).
pub(super) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(super) async fn start_driver() -> (Driver, String) {
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

pub(super) async fn browser(driver: &str, downloads: &Path) -> Client {
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
pub(super) async fn js(client: &Client, script: &str, args: Vec<Value>) -> Value {
    client.execute(script, args).await.expect("script")
}

/// Waits until every tile has left its loading state; returns their states.
/// Clicks the page's *Show* button.
pub(super) async fn click_apply(client: &Client) {
    client
        .find(Locator::Css("#apply"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("show");
}

/// Clicks *Show* and waits until every tile has settled; answers their states.
pub(super) async fn apply(client: &Client) -> Value {
    click_apply(client).await;
    tiles_settled(client).await
}

pub(super) async fn tiles_settled(client: &Client) -> Value {
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
pub(super) async fn totals(client: &Client, tile: &str) -> Vec<String> {
    let cells = js(
        client,
        "return [...document.querySelectorAll(`#${arguments[0]} tfoot td`)].map(td=>td.textContent.replace(/,/g,''))",
        vec![json!(tile)],
    )
    .await;
    serde_json::from_value(cells).expect("cells")
}

pub(super) async fn wait_for_file(client: &Client, dir: &Path, name: &str) -> PathBuf {
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
pub(super) struct Session {
    pub(super) client: Client,
    pub(super) downloads: PathBuf,
    _driver: Driver,
}

pub(super) async fn open_signed_in(app: &TestApp) -> Session {
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

pub(super) async fn with_demo_data(app: &TestApp) {
    let events = cx_reporting::demo::events(8, chrono::Utc::now());
    for batch in events.chunks(5000) {
        app.ingest(&Value::Array(batch.to_vec())).await;
    }
}
