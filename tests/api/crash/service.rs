//! The real `cx-reporting serve` as a child process, as a deployment runs
//! it (configured by environment), killed with SIGKILL rather than stopped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Client;
use tokio::process::{Child, Command};

use super::WEBHOOK_KEY;
use crate::helpers::JWT_SECRET;

/// A running `cx-reporting serve`, killed when dropped.
pub struct Service {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Service {
    /// Starts the binary on a free port against `database_url` (it applies
    /// pending migrations) and waits, generously since the machine may be
    /// loaded, until `/readyz` answers 200. Output goes to `log`. Tries
    /// again on another port if the service exits while starting (another
    /// process may have taken the port it was given).
    pub async fn start(database_url: &str, log: PathBuf, client: &Client) -> Self {
        Self::start_with(database_url, log, client, &[]).await
    }

    /// As [`Service::start`], with more environment variables (set after
    /// the defaults, so they may replace them).
    pub async fn start_with(
        database_url: &str,
        log: PathBuf,
        client: &Client,
        env: &[(&str, &str)],
    ) -> Self {
        for attempt in 1.. {
            let mut service = Self::spawn(database_url, log.clone(), env);
            let started = Instant::now();
            loop {
                if let Some(status) = service.child.try_wait().expect("child status") {
                    assert!(
                        attempt < 3,
                        "the service exited ({status}); {}",
                        service.log_tail()
                    );
                    break;
                }
                let ready = client.get(format!("{}/readyz", service.base)).send().await;
                if ready.is_ok_and(|r| r.status().is_success()) {
                    return service;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "the service was not ready in 120 s; {}",
                    service.log_tail()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        unreachable!("the attempts are unbounded")
    }

    /// `cx-reporting serve` on a free port, configured by environment.
    fn spawn(database_url: &str, log: PathBuf, env: &[(&str, &str)]) -> Self {
        // A new port on every start: a request to the killed service can
        // never reach its successor.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let file = std::fs::File::create(&log).expect("create the service log");
        let child = Command::new(env!("CARGO_BIN_EXE_cx-reporting"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("CX_BIND", format!("127.0.0.1:{port}"))
            .env("CX_JWT_SECRET", JWT_SECRET)
            .env("CX_WEBHOOK_KEY", WEBHOOK_KEY)
            .env("CX_ROLLUPS", "true")
            .env("CX_DB_POOL_SIZE", "4")
            .env("CX_RATE_REPORTING", "1000000/60")
            .env("CX_RATE_INGEST", "1000000/60")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .expect("start the cx-reporting binary");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// `kill -9` (tokio's `start_kill` sends SIGKILL on unix), then reaps it.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL the service");
        self.child.wait().await.expect("reap the service");
    }

    /// The last lines of the service's log, for a failure message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("the end of {}:\n{tail}", self.log.display())
    }
}
