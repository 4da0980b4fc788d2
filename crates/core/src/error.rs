//! One error type for every data-path operation. It names the object path in a one-line
//! message and carries what the server said as fields (HTTP status, S3 error code, attempts);
//! URLs, bucket, upload ids and response bodies stay in `detail`. Nothing is classified by
//! message text: the kind follows from object_store's error variant and, for S3, from the
//! outcome the HTTP layer recorded ([`crate::op::Failure`]).

use std::fmt;
use std::time::Duration;

use crate::op::{Failure, TransportKind};

/// Stable kinds; the Node binding exposes `kind.as_str()` as the JS error's `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// The bucket does not exist (S3 `NoSuchBucket`): a configuration problem, not a missing object.
    BucketNotFound,
    AlreadyExists,
    PermissionDenied,
    /// A folder that still has entries was to be removed without `recursive`.
    DirectoryNotEmpty,
    Precondition,
    /// Network failure, 5xx/429 after retries: worth retrying later.
    Unavailable,
    /// No progress for the idle timeout, or the operation's deadline passed.
    Timeout,
    /// Cancelled through the operation's cancellation token.
    Aborted,
    /// The object path is not usable.
    InvalidInput,
    /// A caller's argument or option is wrong (an unknown column, a malformed filter, a bad option).
    InvalidArgument,
    /// The object's content is not what was asked for (not a Parquet file, corrupt pages).
    InvalidData,
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::BucketNotFound => "BucketNotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::DirectoryNotEmpty => "DirectoryNotEmpty",
            ErrorKind::Precondition => "Precondition",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Aborted => "Aborted",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::InvalidData => "InvalidData",
            ErrorKind::Other => "Other",
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub path: String,
    /// One line naming the path; no URL, bucket, upload id or response body.
    pub message: String,
    /// HTTP status of the server's last answer.
    pub status: Option<u16>,
    /// The server's error code (S3 `<Code>`), e.g. `NoSuchBucket`, `SlowDown`.
    pub s3_code: Option<String>,
    /// HTTP attempts of the request that failed.
    pub attempts: Option<u32>,
    /// What the message leaves out: method, URL, server message, transport error chain.
    pub detail: Option<String>,
    /// Boxed: object_store's error is large, and every `Result` of the crate carries this type.
    pub source: Option<Box<object_store::Error>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            path: path.into(),
            message: message.into(),
            status: None,
            s3_code: None,
            attempts: None,
            detail: None,
            source: None,
        }
    }

    /// Replace each secret value in the message and detail with `***`.
    pub fn redact(mut self, secrets: &[String]) -> Self {
        for s in secrets {
            for text in [Some(&mut self.message), self.detail.as_mut()].into_iter().flatten() {
                if text.contains(s.as_str()) {
                    *text = text.replace(s.as_str(), "***");
                }
            }
        }
        self
    }

    pub fn aborted(path: &str) -> Self {
        Error::new(ErrorKind::Aborted, path, format!("operation on '{path}' was aborted"))
    }

    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, path, message)
    }

    pub fn argument(path: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, path, message)
    }

    pub fn already_exists(path: &str) -> Self {
        Error::new(ErrorKind::AlreadyExists, path, format!("object already exists: '{path}'"))
    }

    /// The operation's deadline passed; `last` is what its requests last ended with.
    pub fn deadline(path: &str, budget: Option<Duration>, last: Option<Failure>) -> Self {
        let budget = budget.map(|b| format!(" of {}", secs(b))).unwrap_or_default();
        let mut e = Error::new(ErrorKind::Timeout, path, format!("deadline{budget} passed for '{path}'"));
        if let Some(f) = last {
            e.attach(f);
        }
        e
    }

    /// Map an object_store error to our kinds. `path` is the key the caller asked about. For
    /// S3, the failure the HTTP layer recorded for the request (status, S3 code, transport
    /// kind) decides; otherwise object_store's variant does.
    pub fn from_store(path: &str, err: object_store::Error) -> Self {
        let failure = crate::op::current().and_then(|op| op.take_failure(|f| consistent(&err, f)));
        Error::from_parts(path, err, failure)
    }

    pub(crate) fn from_parts(path: &str, err: object_store::Error, failure: Option<Failure>) -> Self {
        use object_store::Error as E;
        // Our own error, passed through object_store's trait by a store of ours (crate::local).
        if let E::NotFound { source, .. }
        | E::AlreadyExists { source, .. }
        | E::PermissionDenied { source, .. }
        | E::Generic { source, .. } = &err
        {
            if let Some(ours) = source.downcast_ref::<Error>() {
                return Error::new(ours.kind, path, ours.message.clone());
            }
        }
        let kind = match &err {
            E::NotFound { .. } => ErrorKind::NotFound,
            E::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            E::Precondition { .. } | E::NotModified { .. } => ErrorKind::Precondition,
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => ErrorKind::PermissionDenied,
            E::InvalidPath { .. } | E::UnknownConfigurationKey { .. } => ErrorKind::InvalidInput,
            _ => match transport_source(&err).map(|h| h.kind()) {
                Some(object_store::client::HttpErrorKind::Timeout) => ErrorKind::Timeout,
                Some(_) => ErrorKind::Unavailable,
                // Outside S3 (local files): an I/O error is a failure of the medium.
                None if io_source(&err) => ErrorKind::Unavailable,
                None => ErrorKind::Other,
            },
        };
        let mut e = Error::new(kind, path, String::new());
        e.detail = Some(chain(&err));
        e.source = Some(Box::new(err));
        match failure {
            Some(f) => e.attach(f),
            None => e.message = message(kind, path, None),
        }
        e
    }

    /// Take status, S3 code, attempts and detail from `f`, and the kind they imply.
    pub(crate) fn attach(&mut self, f: Failure) {
        if let Some(k) = kind_of(&f) {
            // A deadline stays a timeout whatever the last request said.
            if self.kind != ErrorKind::Timeout {
                self.kind = k;
            }
        }
        self.status = f.status;
        self.s3_code = f.s3_code.clone();
        self.attempts = Some(f.attempts).filter(|n| *n > 0);
        let detail = match self.detail.take() {
            Some(d) if !f.detail.contains(&d) => format!("{}; {d}", f.detail),
            _ => f.detail.clone(),
        };
        self.detail = Some(detail);
        if self.kind != ErrorKind::Timeout || self.message.is_empty() {
            self.message = message(self.kind, &self.path, Some(&f));
        } else {
            self.message.push_str(&suffix(&f));
        }
    }
}

/// The kind an HTTP outcome implies, when it implies one.
fn kind_of(f: &Failure) -> Option<ErrorKind> {
    if let Some(t) = f.transport {
        return Some(match t {
            TransportKind::Idle => ErrorKind::Timeout,
            TransportKind::Credentials => ErrorKind::PermissionDenied,
            TransportKind::Connect | TransportKind::Broken => ErrorKind::Unavailable,
        });
    }
    let status = f.status?;
    let code = f.s3_code.as_deref().unwrap_or("");
    Some(match (status, code) {
        (_, "NoSuchBucket") => ErrorKind::BucketNotFound,
        (_, "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout") => ErrorKind::Unavailable,
        (_, "KeyTooLongError") => ErrorKind::InvalidInput,
        // Refused credentials, whatever the status (AWS and versitygw answer a bad session
        // token with 400): the SDK path's mapping names the same codes.
        (
            _,
            "AccessDenied"
            | "Forbidden"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "InvalidToken"
            | "AllAccessDisabled",
        ) => ErrorKind::PermissionDenied,
        (404, _) => ErrorKind::NotFound,
        (401 | 403, _) => ErrorKind::PermissionDenied,
        (304 | 409 | 412, _) => ErrorKind::Precondition,
        (416, _) => ErrorKind::InvalidInput,
        (408 | 429, _) | (500..=599, _) => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    })
}

/// Whether a recorded failure can be the one behind object_store's error `e`.
fn consistent(e: &object_store::Error, f: &Failure) -> bool {
    use object_store::Error as E;
    match (e, f.status) {
        (E::NotFound { .. }, s) => s == Some(404),
        (E::Precondition { .. }, s) => matches!(s, Some(412 | 409)),
        (E::NotModified { .. }, s) => s == Some(304),
        (E::AlreadyExists { .. }, s) => matches!(s, Some(409 | 412 | 304)),
        (E::PermissionDenied { .. }, s) => s == Some(403),
        (E::Unauthenticated { .. }, s) => s == Some(401),
        (_, s) => !matches!(s, Some(404 | 412 | 409 | 304 | 403 | 401)),
    }
}

fn message(kind: ErrorKind, path: &str, f: Option<&Failure>) -> String {
    let what = match kind {
        ErrorKind::NotFound if f.and_then(|f| f.s3_code.as_deref()) == Some("NoSuchUpload") => {
            "multipart upload no longer exists"
        }
        ErrorKind::NotFound => "object not found",
        ErrorKind::BucketNotFound => "bucket not found",
        ErrorKind::AlreadyExists => "object already exists",
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::DirectoryNotEmpty => "folder not empty",
        ErrorKind::Precondition => "object changed or condition failed",
        ErrorKind::Unavailable => "storage unavailable",
        ErrorKind::Timeout => "no progress within the read timeout",
        ErrorKind::Aborted => "aborted",
        ErrorKind::InvalidInput => "invalid object path or range",
        ErrorKind::InvalidArgument => "invalid argument",
        ErrorKind::InvalidData => "invalid data",
        ErrorKind::Other => "storage error",
    };
    let suffix = f.map(suffix).unwrap_or_default();
    format!("{what}: '{path}'{suffix}")
}

/// ` (HTTP 503 SlowDown, 3 attempts)` — what the server said, in the message's one line.
fn suffix(f: &Failure) -> String {
    let mut parts = Vec::new();
    match (f.status, f.s3_code.as_deref()) {
        (Some(s), Some(c)) => parts.push(format!("HTTP {s} {c}")),
        (Some(s), None) => parts.push(format!("HTTP {s}")),
        (None, _) => {}
    }
    if f.status.is_none() {
        match f.transport {
            Some(TransportKind::Connect) => parts.push("connection failed".into()),
            Some(TransportKind::Broken) => parts.push("connection broken".into()),
            Some(TransportKind::Idle) => parts.push("stalled".into()),
            Some(TransportKind::Credentials) => parts.push("credentials unavailable".into()),
            None => {}
        }
    }
    if f.attempts > 1 {
        parts.push(format!("{} attempts", f.attempts));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// object_store's message followed by every cause it does not already repeat.
fn chain(err: &object_store::Error) -> String {
    let mut detail = err.to_string();
    let mut cur = std::error::Error::source(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        cur = e.source();
    }
    detail
}

/// The HTTP transport error in `err`'s source chain (object_store's public `HttpError`).
fn transport_source(err: &object_store::Error) -> Option<&object_store::client::HttpError> {
    let mut cur = std::error::Error::source(err);
    while let Some(e) = cur {
        if let Some(h) = e.downcast_ref::<object_store::client::HttpError>() {
            return Some(h);
        }
        cur = e.source();
    }
    None
}

fn io_source(err: &object_store::Error) -> bool {
    let mut cur = std::error::Error::source(err);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        cur = e.source();
    }
    false
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: Option<u16>, code: Option<&str>, transport: Option<TransportKind>) -> Failure {
        Failure {
            status,
            s3_code: code.map(Into::into),
            transport,
            attempts: 3,
            detail: "PUT http://127.0.0.1:9/bucket/k?uploadId=XYZ: <Error>..</Error>".into(),
        }
    }

    #[test]
    fn kinds_follow_status_and_code() {
        let cases = [
            (failure(Some(404), Some("NoSuchBucket"), None), ErrorKind::BucketNotFound),
            (failure(Some(404), Some("NoSuchKey"), None), ErrorKind::NotFound),
            (failure(Some(503), Some("SlowDown"), None), ErrorKind::Unavailable),
            (failure(Some(412), Some("PreconditionFailed"), None), ErrorKind::Precondition),
            (failure(Some(409), Some("ConditionalRequestConflict"), None), ErrorKind::Precondition),
            (failure(Some(403), Some("AccessDenied"), None), ErrorKind::PermissionDenied),
            (failure(Some(400), Some("InvalidToken"), None), ErrorKind::PermissionDenied),
            (failure(Some(400), Some("ExpiredToken"), None), ErrorKind::PermissionDenied),
            (failure(Some(416), None, None), ErrorKind::InvalidInput),
            (failure(None, None, Some(TransportKind::Idle)), ErrorKind::Timeout),
            (failure(None, None, Some(TransportKind::Broken)), ErrorKind::Unavailable),
            (failure(Some(400), Some("InvalidArgument"), None), ErrorKind::Other),
        ];
        for (f, want) in cases {
            assert_eq!(kind_of(&f), Some(want), "{f:?}");
        }
    }

    #[test]
    fn message_is_one_line_without_url_or_body() {
        let mut e = Error::new(ErrorKind::Other, "dir/k", "");
        e.attach(failure(Some(404), Some("NoSuchBucket"), None));
        assert_eq!(e.kind, ErrorKind::BucketNotFound);
        assert_eq!(e.message, "bucket not found: 'dir/k' (HTTP 404 NoSuchBucket, 3 attempts)");
        assert!(!e.message.contains("http://") && !e.message.contains("uploadId") && !e.message.contains('\n'));
        assert!(e.detail.as_deref().unwrap().contains("uploadId=XYZ"));
        assert_eq!((e.status, e.s3_code.as_deref(), e.attempts), (Some(404), Some("NoSuchBucket"), Some(3)));
    }

    #[test]
    fn redaction_covers_the_detail() {
        let mut e = Error::new(ErrorKind::PermissionDenied, "k", "permission denied: 'k'");
        e.detail = Some("<AWSAccessKeyId>AKIDSECRET</AWSAccessKeyId>".into());
        let e = e.redact(&["AKIDSECRET".into()]);
        assert!(!e.detail.unwrap().contains("AKIDSECRET"));
    }
}
