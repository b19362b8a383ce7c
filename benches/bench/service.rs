//! The service under test as its own process: the `cx-reporting` binary,
//! configured by environment like a deployment, and its memory as
//! /proc/<pid>/status tells it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use reqwest::Client;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// What the bench sets beyond the database, the address and the key: the
/// rate limits out of the way (the bench measures the service, not its
/// limiter). Everything else is the production default of src/config.rs.
pub const OVERRIDES: [(&str, &str); 3] = [
    ("CX_RATE_REPORTING", "100000000/60"),
    ("CX_RATE_EXPORT", "100000000/60"),
    ("CX_RATE_INGEST", "100000000/60"),
];

/// A running `cx-reporting serve`.
pub struct Service {
    child: Child,
    pub pid: u32,
    pub base: String,
    pub log: PathBuf,
    /// `CX_*` and `RUST_LOG` variables inherited from the bench's
    /// environment (they change the service's defaults).
    pub inherited: Vec<(String, String)>,
}

/// Resident set and its peak (since start or the last reset), in KiB.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub hwm: u64,
}

impl Service {
    /// Starts `bin serve` on a free local port against `database_url` (it
    /// migrates it) and waits until `/readyz` answers 200.
    /// `env`: settings of this service beyond the bench's own.
    pub async fn start(
        bin: &Path,
        database_url: &str,
        jwt_secret: &str,
        (log, env): (&Path, &[(&str, &str)]),
        client: &Client,
    ) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let bind = format!("127.0.0.1:{port}");
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("create the service log {}", log.display()))?;
        let set: Vec<&str> = ["DATABASE_URL", "CX_BIND", "CX_JWT_SECRET", "CX_WEBHOOK_KEY"]
            .into_iter()
            .chain(OVERRIDES.iter().map(|o| o.0))
            .collect();
        let inherited = std::env::vars()
            .filter(|(k, _)| {
                (k.starts_with("CX_") || k == "RUST_LOG") && !set.contains(&k.as_str())
            })
            .filter(|(k, _)| {
                k != "CX_BENCH_SERVICE"
                    && k != "CX_PG_DURABLE"
                    && k != "CX_PG_BIN"
                    && k != "CX_PGDATA"
            })
            .collect();
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("CX_BIND", &bind)
            .env("CX_JWT_SECRET", jwt_secret)
            .env("CX_WEBHOOK_KEY", super::WEBHOOK_KEY)
            .envs(OVERRIDES)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("start {} (built by scripts/bench)", bin.display()))?;
        let pid = child.id().context("the service exited at once")?;
        let mut service = Self {
            child,
            pid,
            base: format!("http://{bind}"),
            log: log.to_owned(),
            inherited,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = service.child.try_wait()? {
                bail!(
                    "the service exited ({status}); its log:\n{}",
                    service.log_tail()
                );
            }
            let ready = client.get(format!("{}/readyz", service.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(service);
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!(
                    "the service was not ready in 120 s; its log:\n{}",
                    service.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The configuration the service logged when it started.
    pub fn logged_config(&self) -> String {
        let log = strip_ansi(&std::fs::read_to_string(&self.log).unwrap_or_default());
        (log.lines())
            .find(|l| l.contains("starting"))
            .and_then(|l| l.find("config=").map(|at| l[at + 7..].to_owned()))
            .unwrap_or_else(|| "(not found in the log)".to_owned())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// VmRSS and VmHWM of the service.
    pub fn memory(&self) -> Result<Memory> {
        memory(self.pid)
    }

    /// Resets VmHWM to the current RSS (writing 5 to clear_refs); false when
    /// the kernel refuses.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// Samples VmRSS every 5 ms until the sampler is stopped.
    pub fn sample_rss(&self) -> Sampler {
        let (pid, stop) = (self.pid, Arc::new(AtomicBool::new(false)));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(memory(pid).map(|m| m.rss).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak.max(memory(pid).map(|m| m.rss).unwrap_or(0))
        });
        Sampler { stop, handle }
    }

    /// Stops the service (it holds nothing worth draining by then).
    pub async fn stop(mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }
}

/// A running VmRSS sampler.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<u64>,
}

impl Sampler {
    /// The highest VmRSS seen, in KiB.
    pub async fn peak(self) -> Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        Ok(self.handle.await?)
    }
}

fn memory(pid: u32) -> Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        (status.lines())
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:")?,
    })
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The text without ANSI colour sequences (ESC [ … letter).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
