//! The `tracing` span every terminal operation runs in.

use std::future::Future;
use std::time::Instant;

use tracing::Instrument as _;

use crate::error::Result;
use crate::response::{Page, Response};

/// What a finished operation reports to its span.
pub(crate) trait Metered {
    fn request_charge(&self) -> f64;
    fn status(&self) -> u16;
}

impl<T> Metered for Response<T> {
    fn request_charge(&self) -> f64 {
        self.request_charge
    }

    fn status(&self) -> u16 {
        self.status
    }
}

impl<T> Metered for Page<T> {
    fn request_charge(&self) -> f64 {
        self.request_charge
    }

    fn status(&self) -> u16 {
        200
    }
}

/// Runs `operation` in a `cosmos_repo` span recording the container, the operation, the
/// document id (for point operations), and at the end the status, request charge and duration.
pub(crate) async fn traced<R: Metered>(
    op: &'static str,
    container: &str,
    id: Option<&str>,
    operation: impl Future<Output = Result<R>>,
) -> Result<R> {
    let span = tracing::debug_span!(
        "cosmos_repo",
        op,
        container,
        id,
        status = tracing::field::Empty,
        request_charge = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = operation.instrument(span.clone()).await;
    span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
    match &result {
        Ok(response) => {
            span.record("status", response.status());
            span.record("request_charge", response.request_charge());
        }
        Err(err) => {
            span.record("status", err.status());
            tracing::debug!(parent: &span, error = %err, "operation failed");
        }
    }
    result
}
