//! One error type for every data-path operation. It always names the object path and never
//! carries a credential (object_store's messages hold URLs and S3 error bodies, not keys).

use std::fmt;

/// Stable kinds; the Node binding exposes `kind.as_str()` as the JS error's `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    PermissionDenied,
    /// A folder that still has entries was to be removed without `recursive`.
    DirectoryNotEmpty,
    Precondition,
    /// Network failure, timeout, 5xx/429 after retries: worth retrying later.
    Unavailable,
    /// Cancelled through the operation's cancellation token.
    Aborted,
    InvalidInput,
    /// A caller's argument is wrong (an unknown column, a malformed filter): not a path problem.
    InvalidArgument,
    /// The object's content is not what was asked for (not a Parquet file, corrupt pages).
    InvalidData,
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::DirectoryNotEmpty => "DirectoryNotEmpty",
            ErrorKind::Precondition => "Precondition",
            ErrorKind::Unavailable => "Unavailable",
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
    pub message: String,
    /// Boxed: object_store's error is large, and every `Result` of the crate carries this type.
    pub source: Option<Box<object_store::Error>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { kind, path: path.into(), message: message.into(), source: None }
    }

    /// Replace each secret value in the message with `***`.
    pub fn redact(mut self, secrets: &[String]) -> Self {
        for s in secrets {
            if self.message.contains(s.as_str()) {
                self.message = self.message.replace(s.as_str(), "***");
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

    /// Map an object_store error to our kinds. `path` is the key the caller asked about.
    pub fn from_store(path: &str, err: object_store::Error) -> Self {
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
            E::NotSupported { .. } | E::NotImplemented { .. } => ErrorKind::Other,
            E::JoinError { .. } => ErrorKind::Other,
            E::Generic { source, .. } => classify_generic(source.as_ref()),
            _ => ErrorKind::Other,
        };
        // object_store's NotFound on the local store wraps an io::Error whose text repeats the
        // full file system path; keep the message short and keyed on the object path.
        // object_store's Display stops at "HTTP error: error sending request"; the cause that
        // matters (refused connection, unknown certificate issuer, …) is deeper in the chain.
        let mut detail = err.to_string();
        let mut cur = std::error::Error::source(&err);
        while let Some(e) = cur {
            let text = e.to_string();
            if !detail.contains(&text) {
                detail.push_str(": ");
                detail.push_str(&text);
            }
            cur = e.source();
        }
        let message = match kind {
            ErrorKind::NotFound => format!("object not found: '{path}'"),
            ErrorKind::AlreadyExists => format!("object already exists: '{path}'"),
            _ => format!("{} error for '{path}': {detail}", kind.as_str()),
        };
        Error { kind, path: path.to_string(), message, source: Some(Box::new(err)) }
    }
}

/// object_store reports transport failures and unmapped HTTP statuses as `Generic`; its retry
/// error type is private, so classify on the error chain's text.
fn classify_generic(source: &(dyn std::error::Error + 'static)) -> ErrorKind {
    let mut text = String::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>().is_some() {
            return ErrorKind::Unavailable;
        }
        text.push_str(&e.to_string());
        text.push('\n');
        cur = e.source();
    }
    classify_text(&text.to_ascii_lowercase())
}

/// The kind of a lower-cased error text.
fn classify_text(t: &str) -> ErrorKind {
    let transient = [
        "error sending request",
        "http error",
        "timed out",
        "timeout",
        "connection",
        "connect error",
        "dns error",
        "status code: 5",
        "500 internal",
        "502 bad gateway",
        "503 service",
        "504 gateway",
        // Status codes only in their "status code: N" / "N reason" spellings: a bare "429"
        // or "403" also turns up inside URLs (a port such as 44033), request ids and host ids.
        "status code: 429",
        "429 too many",
        "slowdown",
        "body error",
        "error decoding response body",
        "retries",
    ];
    if transient.iter().any(|p| t.contains(p)) {
        ErrorKind::Unavailable
    } else if t.contains("access denied")
        || t.contains("accessdenied")
        || t.contains("status code: 403")
        || t.contains("403 forbidden")
    {
        ErrorKind::PermissionDenied
    } else {
        ErrorKind::Other
    }
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

    #[test]
    fn status_codes_are_read_from_their_spelling_not_from_ports_or_ids() {
        let range = "error performing get http://127.0.0.1:44033/data/a in 20ms - server returned non-2xx status code: 416 range not satisfiable";
        assert_eq!(classify_text(range), ErrorKind::Other);
        let port_429 = "server returned non-2xx status code: 404 not found: http://127.0.0.1:54290/x";
        assert_eq!(classify_text(port_429), ErrorKind::Other);
        assert_eq!(classify_text("server returned non-2xx status code: 403 forbidden"), ErrorKind::PermissionDenied);
        assert_eq!(classify_text("<code>accessdenied</code>"), ErrorKind::PermissionDenied);
        assert_eq!(classify_text("server returned non-2xx status code: 429 too many requests"), ErrorKind::Unavailable);
        assert_eq!(
            classify_text("server returned non-2xx status code: 503 service unavailable"),
            ErrorKind::Unavailable
        );
    }
}
