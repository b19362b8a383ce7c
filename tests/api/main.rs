//! Integration tests: the real router against a real PostgreSQL, one fresh
//! database per test. Run with `scripts/test`.

mod helpers;

mod answers;
mod auth;
mod bad_input;
mod browser;
#[cfg(unix)]
mod crash;
mod dashboard;
mod datasources;
mod dst;
mod errors;
mod export;
mod fallbacks;
mod faults;
mod fold;
mod ingest;
mod intervals;
mod isolation;
mod limits;
mod live;
mod messages;
mod model;
mod ops;
mod order;
mod parsers;
mod presence;
mod rls;
mod rollups;
mod sessions;
mod settings;
mod state_tiles;
mod tokens;
mod twoway;
mod views;
mod weeks;
