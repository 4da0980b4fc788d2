//! Construction options for the S3 data path. Plain data: the Node binding and tests fill it in.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AwsCredential;
use object_store::CredentialProvider;

pub type AwsCredentialProvider = Arc<dyn CredentialProvider<Credential = AwsCredential>>;

/// Mirrors the TS `RetryPolicy` (`max_attempts` counts the first try).
#[derive(Debug, Clone)]
pub struct RetryOptions {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Upper bound on the time spent retrying one request (object_store `retry_timeout`).
    pub timeout: Option<Duration>,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_attempts: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            timeout: None,
        }
    }
}

/// How `copy(.., overwrite=false)` is made conditional on S3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CopyIfNotExists {
    /// Single-part multipart upload with UploadPartCopy, completed with `If-None-Match: *`
    /// (AWS S3 and most compatibles; source objects up to 5 GiB).
    #[default]
    Multipart,
    /// A vendor header (e.g. R2's `cf-copy-destination-if-none-match: *`).
    Header(String, String),
    /// No server-side condition: HEAD then copy (racy). Use for servers that support neither.
    HeadThenCopy,
}

#[derive(Clone, Default)]
pub struct S3Options {
    pub bucket: String,
    /// Full URL, e.g. `http://127.0.0.1:9000`. A value without scheme gets `https://`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Refreshable credentials; wins over the static ones.
    pub credential_provider: Option<AwsCredentialProvider>,
    /// Needed for `http://` endpoints; set automatically when the endpoint is http.
    pub allow_http: bool,
    /// PEM file with extra root certificate(s) trusted for TLS.
    pub ca_cert_path: Option<PathBuf>,
    pub retry: RetryOptions,
    /// Per-request timeout. Default: 30 min (bodies of several GiB on one request).
    pub request_timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    /// Path-style (`endpoint/bucket/key`) is the default when an endpoint is given.
    pub virtual_hosted_style: Option<bool>,
    pub copy_if_not_exists: CopyIfNotExists,
    pub tuning: Tuning,
    /// Requests in flight at once on this store, and idle connections kept for reuse; further
    /// requests wait for a slot. None: [`DEFAULT_MAX_CONNECTIONS`]. Without a bound, 2,000
    /// concurrent small writes opened 2,000 sockets.
    pub max_connections: Option<usize>,
}

/// The default of [`S3Options::max_connections`]; the same as the SDK path's `max_sockets`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "***"))
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("credential_provider", &self.credential_provider.is_some())
            .field("allow_http", &self.allow_http)
            .field("ca_cert_path", &self.ca_cert_path)
            .field("retry", &self.retry)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// Data-path tuning (chunking and parallelism).
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Objects larger than this are fetched with parallel ranged GETs.
    pub parallel_get_threshold: u64,
    /// Size of each ranged GET.
    pub get_chunk_size: u64,
    /// Ranged GETs / part uploads in flight.
    pub concurrency: usize,
    /// Multipart part size (S3 minimum is 5 MiB except for the last part).
    pub part_size: usize,
    /// Uploads up to this size are sent as one PUT (allows a conditional create).
    pub single_put_threshold: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            parallel_get_threshold: 16 * 1024 * 1024,
            get_chunk_size: 8 * 1024 * 1024,
            concurrency: 8,
            part_size: 8 * 1024 * 1024,
            single_put_threshold: 8 * 1024 * 1024,
        }
    }
}
