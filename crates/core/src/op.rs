//! One data-path operation as the HTTP layer sees it: its deadline, whether it is a create-only
//! write, the keys whose bytes the URL must carry exactly, and what its requests ended with.
//!
//! The operation travels with the future as a tokio task-local ([`scope`]), so the HTTP service
//! ([`crate::transport`]) finds it inside object_store's calls without object_store passing
//! anything along. Futures spawned for an operation (multipart parts) are scoped again.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

tokio::task_local! {
    static OP: Arc<Op>;
}

/// How a request that did not get an HTTP answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect (refused, DNS, TLS handshake): the request was not sent.
    Connect,
    /// No byte sent or received for the idle timeout.
    Idle,
    /// The connection broke while sending or receiving.
    Broken,
    /// The credentials could not be obtained.
    Credentials,
}

/// The final outcome of one failed request (after its retries).
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// HTTP status of the last answer, if there was one.
    pub status: Option<u16>,
    /// The server's `<Code>` (S3 error code).
    pub s3_code: Option<String>,
    pub transport: Option<TransportKind>,
    /// HTTP attempts made for the request.
    pub attempts: u32,
    /// Method, URL, server message and transport error chain (never shown in a message).
    pub detail: String,
}

/// A key the URL must carry byte for byte although object_store's `Path` refuses it: requests
/// are built for `placeholder` and the HTTP layer puts `encoded` (the real key, percent-encoded)
/// in its place before signing.
#[derive(Debug, Clone)]
pub struct KeyFix {
    pub placeholder: String,
    pub encoded: String,
}

#[derive(Debug, Default)]
pub struct Op {
    pub deadline: Option<Instant>,
    /// The operation's total time budget, for messages.
    pub budget: Option<Duration>,
    /// A create-only write: CompleteMultipartUpload carries `If-None-Match: *`, and a PutObject
    /// whose connection broke is not retried blindly (see [`crate::write`]).
    pub create: bool,
    pub keys: Vec<KeyFix>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: Vec<Failure>,
    /// A write attempt that may have been applied although no answer said so.
    ambiguous: bool,
    /// `x-amz-checksum-*` of the last successful write answer: (algorithm, value).
    checksum: Option<(String, String)>,
    /// The `Server` header of the last successful read answer.
    server: Option<String>,
}

impl Op {
    pub fn new(budget: Option<Duration>) -> Op {
        Op { deadline: budget.map(|b| Instant::now() + b), budget, ..Default::default() }
    }

    pub fn create(mut self, create: bool) -> Op {
        self.create = create;
        self
    }

    pub fn with_keys(mut self, keys: Vec<KeyFix>) -> Op {
        self.keys = keys;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, f: Failure) {
        let mut s = self.state();
        // Bounded: an operation of many requests keeps only its recent failures.
        if s.failures.len() >= 16 {
            s.failures.remove(0);
        }
        s.failures.push(f);
    }

    /// The most recent failure that `accept` takes, removed (each failure explains one error).
    pub fn take_failure(&self, accept: impl Fn(&Failure) -> bool) -> Option<Failure> {
        let mut s = self.state();
        let i = s.failures.iter().rposition(accept)?;
        Some(s.failures.remove(i))
    }

    /// The most recent failure, left in place.
    pub fn last_failure(&self) -> Option<Failure> {
        self.state().failures.last().cloned()
    }

    pub fn mark_ambiguous(&self) {
        self.state().ambiguous = true;
    }

    pub fn ambiguous(&self) -> bool {
        self.state().ambiguous
    }

    pub fn set_checksum(&self, c: Option<(String, String)>) {
        self.state().checksum = c;
    }

    pub fn checksum(&self) -> Option<(String, String)> {
        self.state().checksum.clone()
    }

    pub fn set_server(&self, server: Option<String>) {
        self.state().server = server;
    }

    pub fn server(&self) -> Option<String> {
        self.state().server.clone()
    }

    /// Time left before the deadline (None: unbounded).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Run `fut` as part of `op`.
pub async fn scope<F: std::future::Future>(op: Arc<Op>, fut: F) -> F::Output {
    OP.scope(op, fut).await
}

/// The operation the current task works for, if any.
pub fn current() -> Option<Arc<Op>> {
    OP.try_with(|op| op.clone()).ok()
}
