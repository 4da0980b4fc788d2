//! Construction options for the S3 data path. Plain data: the Node binding and tests fill it in.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AwsCredential;
use object_store::CredentialProvider;

pub type AwsCredentialProvider = Arc<dyn CredentialProvider<Credential = AwsCredential>>;

/// Mirrors the TS `RetryPolicy` (`max_attempts` counts the first try). One policy per request,
/// applied once (in the HTTP layer); the operation's deadline bounds all of them.
#[derive(Debug, Clone)]
pub struct RetryOptions {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Up to this much random time added to each backoff.
    pub jitter: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_attempts: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            jitter: Duration::ZERO,
        }
    }
}

impl RetryOptions {
    /// The wait before attempt `attempt + 1`, or None when the attempts are spent or the wait
    /// would not end before the deadline (`remaining`): the last failure is then the better answer.
    pub fn backoff(&self, attempt: u32, remaining: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exp = self.backoff_base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(62) as i32);
        let base = exp.min(self.backoff_max.as_secs_f64().max(self.backoff_base.as_secs_f64()));
        let jitter = self.jitter.as_secs_f64() * rand::random::<f64>();
        let wait = Duration::try_from_secs_f64(base + jitter).unwrap_or(self.backoff_max);
        match remaining {
            Some(left) if wait >= left => None,
            _ => Some(wait),
        }
    }
}

/// How whole-object reads fetch a large object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RangedReads {
    /// Parallel ranged GETs, unless the server is one known to read the whole object for every
    /// range (moto); see `Store::get`.
    #[default]
    Auto,
    /// Parallel ranged GETs of `get_chunk_size` into one allocation.
    Parallel,
    /// One GET streamed into one allocation.
    Single,
}

/// Headers applied to every write (the TS `S3WriteDefaults`); a write's own option wins.
#[derive(Debug, Clone, Default)]
pub struct WriteDefaults {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub server_side_encryption: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
    /// Canned ACL (`x-amz-acl`).
    pub acl: Option<String>,
    pub storage_class: Option<String>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
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
    /// Unsigned requests (public buckets); no credentials are used.
    pub anon: bool,
    /// Needed for `http://` endpoints; set automatically when the endpoint is http.
    pub allow_http: bool,
    /// TLS certificates are not checked (`verify=False`). Never the default.
    pub accept_invalid_certificates: bool,
    /// PEM file with extra root certificate(s) trusted for TLS.
    pub ca_cert_path: Option<PathBuf>,
    pub retry: RetryOptions,
    /// Bounds one whole operation, every retry included (a multipart upload: from its creation
    /// to `finish`). None: unbounded (a stall still ends by `read_timeout`).
    pub deadline: Option<Duration>,
    /// Default 10 s.
    pub connect_timeout: Option<Duration>,
    /// An attempt that sends and receives nothing for this long fails (and is retried). Default 60 s.
    pub read_timeout: Option<Duration>,
    /// With an endpoint: `bucket.host` instead of `host/bucket` (path style, the default then).
    pub virtual_hosted_style: Option<bool>,
    pub copy_if_not_exists: CopyIfNotExists,
    pub tuning: Tuning,
    /// Requests in flight at once on this store, and idle connections kept for reuse; further
    /// requests wait for a slot. None: [`DEFAULT_MAX_CONNECTIONS`]. Without a bound, 2,000
    /// concurrent small writes opened 2,000 sockets.
    pub max_connections: Option<usize>,
    pub ranged_reads: RangedReads,
    pub write_defaults: WriteDefaults,
    /// `x-amz-request-payer: requester` on every request.
    pub requester_pays: bool,
}

/// The default of [`S3Options::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`S3Options::read_timeout`] (botocore's).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

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
            .field("anon", &self.anon)
            .field("allow_http", &self.allow_http)
            .field("accept_invalid_certificates", &self.accept_invalid_certificates)
            .field("ca_cert_path", &self.ca_cert_path)
            .field("retry", &self.retry)
            .field("deadline", &self.deadline)
            .field("max_connections", &self.max_connections)
            .field("ranged_reads", &self.ranged_reads)
            .field("requester_pays", &self.requester_pays)
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
    /// Ranged GETs in flight per read.
    pub concurrency: usize,
    /// Multipart part size (S3 minimum is 5 MiB except for the last part).
    pub part_size: usize,
    /// Parts in flight per upload.
    pub upload_concurrency: usize,
    /// Uploads up to this size are sent as one PUT (`multipart_threshold`).
    pub single_put_threshold: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            parallel_get_threshold: 16 * 1024 * 1024,
            get_chunk_size: 8 * 1024 * 1024,
            concurrency: 8,
            part_size: 8 * 1024 * 1024,
            upload_concurrency: 8,
            single_put_threshold: 8 * 1024 * 1024,
        }
    }
}
