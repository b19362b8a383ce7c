//! Reading a request body whole, with a size limit and an idle timeout:
//! a body that is too large, stalls or breaks off is the client's fault
//! and answered as such (413, 408, 400), never held open or blamed on the
//! service.

use std::time::Duration;

use axum::body::{Body, Bytes};
use bytes::BytesMut;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::{ApiError, Result};

/// Reads `body` whole: at most `limit` bytes (else `too_large()`), with at
/// most `idle` between two chunks (else 408); a body that ends before its
/// announced length, or is malformed on the wire, is 400.
pub async fn read(
    body: Body,
    limit: usize,
    idle: Duration,
    too_large: impl FnOnce() -> ApiError,
) -> Result<Bytes> {
    let mut body = Limited::new(body, limit);
    let mut bytes = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(ApiError::BodyTimeout(idle)),
            Ok(None) => return Ok(bytes.freeze()),
            Ok(Some(frame)) => frame,
        };
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
            Err(e) => {
                return Err(ApiError::bad_request(
                    "",
                    format!("the request body broke off or is malformed: {e}"),
                ))
            }
        }
    }
}
