//! The `cx-reporting` binary: serve, migrate, create tenants, mint tokens.

use anyhow::Context;
use clap::{Parser, Subcommand};
use cx_reporting::auth::{self, Claims};
use cx_reporting::config::Config;
use cx_reporting::domain::Role;
use cx_reporting::state::{self, AppState, MIGRATOR};
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "cx-reporting",
    version,
    about = "Multi-tenant contact-centre reporting API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve on CX_BIND (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Tenant administration.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Mint a user token for development (HS256 with CX_JWT_SECRET).
    Token {
        #[arg(long)]
        tenant: Uuid,
        #[arg(long)]
        user: Uuid,
        /// Analytics, Ingest or Admin; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: i64,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Print a deterministic demo data set (NDJSON, one event a line):
    /// every event family over the last DAYS days up to now.
    DemoEvents {
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The instant the data ends at (RFC 3339); default now.
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and print its credentials (once) as JSON.
    Create { name: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Migrate => {
            cx_reporting::telemetry::init();
            let config = Config::from_env()?;
            let pool = state::connect(&config).await?;
            MIGRATOR.run(&pool).await.context("applying migrations")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::Create { name },
        } => {
            let config = Config::from_env()?;
            let pool = state::connect(&config).await?;
            MIGRATOR.run(&pool).await.context("applying migrations")?;
            let tenant = auth::tenants::create(&pool, &config.webhook_key, &name).await?;
            println!("{}", serde_json::to_string_pretty(&tenant)?);
            Ok(())
        }
        Command::Token {
            tenant,
            user,
            roles,
            ttl,
        } => {
            let secret = std::env::var("CX_JWT_SECRET").context("CX_JWT_SECRET must be set")?;
            for role in &roles {
                if !Role::ALL.iter().any(|r| r.as_str() == role) {
                    anyhow::bail!("unknown role {role:?}: expected Analytics, Ingest or Admin");
                }
            }
            let now = chrono::Utc::now().timestamp();
            let claims = Claims {
                sub: user.to_string(),
                tid: tenant,
                roles,
                exp: now + ttl,
                iat: Some(now),
            };
            println!("{}", auth::mint(&secret, &claims)?);
            Ok(())
        }
        Command::DemoEvents { days, until } => {
            use std::io::Write;
            let until = until.unwrap_or_else(chrono::Utc::now);
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            for event in cx_reporting::demo::events(days, until) {
                writeln!(stdout, "{event}")?;
            }
            stdout.flush()?;
            Ok(())
        }
        Command::Openapi => {
            print!("{}", cx_reporting::openapi::document_json());
            Ok(())
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    cx_reporting::telemetry::init();
    let config = Config::from_env()?;
    tracing::info!(?config, "starting");
    let pool = state::connect(&config).await?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    let bind = config.bind;
    let fold_interval = config.fold_interval;
    let state = AppState::new(pool.clone(), config);
    tokio::spawn(cx_reporting::ingest::fold::run(
        pool,
        fold_interval,
        state.fold_behind.clone(),
    ));
    tokio::spawn(cx_reporting::report::twoway::schedule::run(
        state.pool.clone(),
    ));
    let app = cx_reporting::app(state);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    tracing::info!(%bind, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("drained; bye");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then drain.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}
