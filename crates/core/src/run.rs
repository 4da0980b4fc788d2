//! Running one operation: under its context ([`crate::op`]), its deadline and its
//! cancellation token.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::op::{scope, Op};

/// `fut` as operation `op`, unless `token` fires first (the future is dropped, which cancels
/// its requests: `Aborted`) or the deadline passes (`Timeout`).
pub async fn run_op<T>(
    op: &Arc<Op>,
    token: &CancellationToken,
    path: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let scoped = scope(op.clone(), fut);
    let bounded = async {
        match op.deadline {
            Some(d) => match tokio::time::timeout_at(d.into(), scoped).await {
                Ok(r) => r,
                Err(_) => Err(Error::deadline(path, op.budget, op.last_failure())),
            },
            None => scoped.await,
        }
    };
    cancellable(token, path, bounded).await
}

/// Run `fut` unless `token` fires first; then the future is dropped (which cancels its
/// in-flight requests) and `Aborted` is returned.
pub async fn cancellable<T>(
    token: &CancellationToken,
    path: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    if token.is_cancelled() {
        return Err(Error::aborted(path));
    }
    tokio::select! {
        biased;
        _ = token.cancelled() => Err(Error::aborted(path)),
        r = fut => r,
    }
}
