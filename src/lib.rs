//! cx-reporting: a multi-tenant reporting API for contact centres.
//!
//! Data comes in at [`ingest`], is stored by one batch statement, is
//! summarised by the aggregation core in [`report`], and leaves as JSON or
//! CSV. [`app`] builds the whole router so tests can drive it without a
//! socket.

pub mod auth;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod domain;
pub mod error;
pub mod ingest;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod report;
pub mod router;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod tenancy;

pub use router::app;
pub use state::AppState;
