//! Integration tests: the real router against a real PostgreSQL, one fresh
//! database per test. Run with `scripts/test`.

mod helpers;

mod auth;
#[cfg(unix)]
mod crash;
mod dst;
mod errors;
mod export;
mod fallbacks;
mod fold;
mod ingest;
mod limits;
mod messages;
mod model;
mod ops;
mod order;
mod presence;
mod rollups;
mod state_tiles;
mod views;
