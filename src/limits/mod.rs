//! The response cache and the rate limits of `/reporting` and `/ingest`.

pub mod body;
pub mod cache;
pub mod rate;
