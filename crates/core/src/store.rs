//! The data-path store: object_store underneath, our error kinds, cancellation on every op,
//! parallel ranged reads into one allocation, coalesced multi-range reads.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, S3CopyIfNotExists};
use object_store::limit::LimitStore;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, Certificate, ClientOptions, CopyMode, CopyOptions, GetOptions, GetRange,
    GetResult, GetResultPayload, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};
use crate::options::{CopyIfNotExists, S3Options, Tuning};
use crate::upload::{Upload, UploadOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    S3,
    Local,
    Memory,
}

/// Whether a write may replace an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    #[default]
    Overwrite,
    /// Fail with `AlreadyExists` when the object exists (S3: `If-None-Match: *`).
    Create,
}

#[derive(Debug, Clone, Default)]
pub struct PutInfo {
    pub size: u64,
    pub etag: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub size: u64,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
    pub etag: Option<String>,
    pub version: Option<String>,
}

/// Result of [`Store::get_ranges`]: coalesced fetched regions plus, for each requested range
/// (in request order), `(buffer index, offset in that buffer, length)`. Callers hand out
/// views into `buffers` so nothing is copied twice.
#[derive(Debug, Default)]
pub struct RangesResult {
    pub buffers: Vec<Vec<u8>>,
    pub slices: Vec<(usize, usize, usize)>,
}

/// Ranges closer than this are fetched with one request (object_store's default).
pub const COALESCE_GAP: u64 = 1024 * 1024;

static NEXT_STORE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_store_id() -> u64 {
    NEXT_STORE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The object version reads are pinned to: later ranges fail with `Precondition` when the
/// object was replaced in between, so one logical read never mixes two versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectVersion {
    pub size: u64,
    pub etag: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Store {
    /// Distinguishes stores in process-wide caches (a clone keeps the id).
    id: u64,
    inner: Arc<dyn ObjectStore>,
    kind: StoreKind,
    tuning: Tuning,
    copy_if_not_exists: CopyIfNotExists,
    /// Credential values never to show in an error message (S3 error bodies can echo the key id).
    secrets: Arc<Vec<String>>,
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

pub(crate) fn parse_key(path: &str) -> Result<Path> {
    if path.is_empty() {
        return Err(Error::invalid(path, "empty object path"));
    }
    Path::parse(path).map_err(|e| Error::invalid(path, format!("invalid object path '{path}': {e}")))
}

pub(crate) fn attributes(metadata: &[(String, String)], content_type: Option<&str>) -> Attributes {
    let mut attrs = Attributes::new();
    for (k, v) in metadata {
        attrs.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
    }
    if let Some(ct) = content_type {
        attrs.insert(Attribute::ContentType, ct.to_string().into());
    }
    attrs
}

impl Store {
    /// Build an S3 store. Performs no network I/O.
    pub fn s3(opts: S3Options) -> Result<Store> {
        let bucket = opts.bucket.trim().to_string();
        if bucket.is_empty() {
            return Err(Error::invalid("", "S3 bucket name must not be empty"));
        }
        let mut b = AmazonS3Builder::new().with_bucket_name(&bucket);
        let region = opts.region.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "us-east-1".into());
        b = b.with_region(region);
        let mut allow_http = opts.allow_http;
        if let Some(ep) = opts.endpoint.as_deref().filter(|e| !e.is_empty()) {
            let ep = if ep.contains("://") { ep.to_string() } else { format!("https://{ep}") };
            if ep.starts_with("http://") {
                allow_http = true;
            }
            b = b.with_endpoint(ep);
            b = b.with_virtual_hosted_style_request(opts.virtual_hosted_style.unwrap_or(false));
        } else if let Some(v) = opts.virtual_hosted_style {
            b = b.with_virtual_hosted_style_request(v);
        }
        if let Some(p) = opts.credential_provider.clone() {
            b = b.with_credentials(p);
        } else {
            match (&opts.access_key_id, &opts.secret_access_key) {
                (Some(k), Some(s)) => {
                    b = b.with_access_key_id(k).with_secret_access_key(s);
                    if let Some(t) = opts.session_token.as_deref().filter(|t| !t.is_empty()) {
                        b = b.with_token(t);
                    }
                }
                (None, None) => {}
                _ => return Err(Error::invalid("", "S3 key and secret must be given together")),
            }
        }
        let max_connections = opts.max_connections.unwrap_or(crate::options::DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 {
            return Err(Error::invalid("", "max_connections must be at least 1"));
        }
        let mut client = ClientOptions::new()
            .with_allow_http(allow_http)
            .with_timeout(opts.request_timeout.unwrap_or(Duration::from_secs(30 * 60)))
            .with_connect_timeout(opts.connect_timeout.unwrap_or(Duration::from_secs(10)))
            .with_pool_max_idle_per_host(max_connections);
        if let Some(ca) = &opts.ca_cert_path {
            let meta = std::fs::metadata(ca)
                .map_err(|e| Error::invalid("", format!("CA bundle '{}' cannot be read: {e}", ca.display())))?;
            if !meta.is_file() {
                return Err(Error::invalid("", format!("CA bundle '{}' is not a regular file", ca.display())));
            }
            let pem = std::fs::read(ca)
                .map_err(|e| Error::invalid("", format!("CA bundle '{}' cannot be read: {e}", ca.display())))?;
            let certs = Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::invalid("", format!("CA bundle '{}' is not valid PEM: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(Error::invalid("", format!("CA bundle '{}' holds no certificate", ca.display())));
            }
            for c in certs {
                client = client.with_root_certificate(c);
            }
        }
        b = b.with_client_options(client);
        let r = &opts.retry;
        if r.max_attempts == 0 {
            return Err(Error::invalid("", "retry max_attempts must be at least 1"));
        }
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: r.backoff_base,
                max_backoff: r.backoff_max.max(r.backoff_base),
                base: 2.0,
            },
            max_retries: (r.max_attempts - 1) as usize,
            retry_timeout: r.timeout.unwrap_or(Duration::from_secs(3 * 60)),
        };
        b = b.with_retry(retry);
        match &opts.copy_if_not_exists {
            CopyIfNotExists::Multipart => b = b.with_copy_if_not_exists(S3CopyIfNotExists::Multipart),
            CopyIfNotExists::Header(k, v) => {
                b = b.with_copy_if_not_exists(S3CopyIfNotExists::Header(k.clone(), v.clone()))
            }
            CopyIfNotExists::HeadThenCopy => {}
        }
        let s3 = b.build().map_err(|e| {
            let mut err = Error::from_store("", e);
            err.kind = ErrorKind::InvalidInput;
            err
        })?;
        let secrets = [&opts.access_key_id, &opts.secret_access_key, &opts.session_token]
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= 4)
            .cloned()
            .collect();
        Ok(Store {
            id: next_store_id(),
            // reqwest opens a connection per concurrent request, without limit: bound them here.
            inner: Arc::new(LimitStore::new(s3, max_connections)),
            kind: StoreKind::S3,
            tuning: opts.tuning.clone(),
            copy_if_not_exists: opts.copy_if_not_exists.clone(),
            secrets: Arc::new(secrets),
        })
    }

    /// A store over a local directory (created when missing), confined beneath it: no key
    /// and no symlink leads outside (see [`crate::local`]).
    pub fn local(root: impl AsRef<FsPath>) -> Result<Store> {
        let root = crate::local::LocalRoot::new(root.as_ref());
        root.create()?;
        Ok(Store::from_object_store(Arc::new(crate::local::ConfinedStore::new(root)), StoreKind::Local))
    }

    pub fn memory() -> Store {
        Store::from_object_store(Arc::new(InMemory::new()), StoreKind::Memory)
    }

    pub fn from_object_store(inner: Arc<dyn ObjectStore>, kind: StoreKind) -> Store {
        Store {
            id: next_store_id(),
            inner,
            kind,
            tuning: Tuning::default(),
            copy_if_not_exists: CopyIfNotExists::Multipart,
            secrets: Arc::default(),
        }
    }

    pub fn with_tuning(mut self, tuning: Tuning) -> Store {
        self.tuning = tuning;
        self
    }

    /// [`cancellable`], then credential values scrubbed from any error message.
    async fn run<T>(
        &self,
        token: &CancellationToken,
        path: &str,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        cancellable(token, path, fut).await.map_err(|e| e.redact(&self.secrets))
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.inner.clone()
    }

    /// Whole object into one allocation. Objects above `parallel_get_threshold` are fetched
    /// with `concurrency` ranged GETs writing straight into disjoint slices of that buffer.
    pub async fn get(&self, path: &str, token: &CancellationToken) -> Result<Vec<u8>> {
        let key = parse_key(path)?;
        self.run(token, path, self.get_inner(path, &key)).await
    }

    async fn get_inner(&self, path: &str, key: &Path) -> Result<Vec<u8>> {
        let t = &self.tuning;
        let first_len = t.parallel_get_threshold.max(t.get_chunk_size).max(1);
        let first = self
            .inner
            .get_opts(key, GetOptions { range: Some(GetRange::Bounded(0..first_len)), ..Default::default() })
            .await;
        let first = match first {
            Ok(r) => r,
            Err(e) => {
                let err = Error::from_store(path, e);
                match err.kind {
                    ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::Unavailable => return Err(err),
                    // e.g. 416 for an empty object: fall back to a plain GET.
                    _ => {
                        let r = self.inner.get(key).await.map_err(|e| Error::from_store(path, e))?;
                        let size = r.meta.size;
                        let mut buf = vec![0u8; usize_of(path, size)?];
                        read_into(path, r, &mut buf).await?;
                        return Ok(buf);
                    }
                }
            }
        };
        let size = first.meta.size;
        let etag = first.meta.e_tag.clone();
        let version = first.meta.version.clone();
        let head_end = first.range.end;
        let mut buf = vec![0u8; usize_of(path, size)?];
        let (head, rest) = buf.split_at_mut(head_end as usize);
        // The first response's body is read while the other ranges are fetched.
        let first_body = read_into(path, first, head);
        if head_end >= size {
            first_body.await?;
            return Ok(buf);
        }
        let chunk = t.get_chunk_size.max(1) as usize;
        let jobs: Vec<futures::future::BoxFuture<'_, Result<()>>> = rest
            .chunks_mut(chunk)
            .enumerate()
            .map(|(i, slice)| {
                let start = head_end + (i * chunk) as u64;
                let end = start + slice.len() as u64;
                let opts = GetOptions {
                    range: Some(GetRange::Bounded(start..end)),
                    // The object must not change between chunks.
                    if_match: etag.clone(),
                    version: version.clone(),
                    ..Default::default()
                };
                let inner = self.inner.clone();
                Box::pin(async move {
                    let r = inner.get_opts(key, opts).await.map_err(|e| Error::from_store(path, e))?;
                    read_into(path, r, slice).await
                }) as futures::future::BoxFuture<'_, Result<()>>
            })
            .collect();
        let others =
            futures::stream::iter(jobs).buffer_unordered(t.concurrency.saturating_sub(1).max(1)).try_collect::<()>();
        futures::future::try_join(first_body, others).await?;
        Ok(buf)
    }

    /// `length` bytes from `offset` (fewer when the object ends first; `None`: to the end).
    /// An offset at or past the end gives an empty buffer; a missing object is `NotFound`.
    pub async fn get_range(
        &self,
        path: &str,
        offset: u64,
        length: Option<u64>,
        token: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let key = parse_key(path)?;
        self.run(token, path, async {
            let range = match length {
                Some(0) => {
                    self.inner.head(&key).await.map_err(|e| Error::from_store(path, e))?;
                    return Ok(Vec::new());
                }
                Some(l) => {
                    let end = offset.checked_add(l).ok_or_else(|| Error::invalid(path, "range overflows"))?;
                    GetRange::Bounded(offset..end)
                }
                None => GetRange::Offset(offset),
            };
            let r = match self.inner.get_opts(&key, GetOptions { range: Some(range), ..Default::default() }).await {
                Ok(r) => r,
                Err(e) => {
                    let err = range_error(path, e);
                    if err.kind == ErrorKind::InvalidInput {
                        // Past the end (416 / invalid range): empty, if the object exists.
                        let meta = self.inner.head(&key).await.map_err(|e| Error::from_store(path, e))?;
                        if offset >= meta.size {
                            return Ok(Vec::new());
                        }
                    }
                    return Err(err);
                }
            };
            let n = r.range.end - r.range.start;
            let mut buf = vec![0u8; usize_of(path, n)?];
            read_into(path, r, &mut buf).await?;
            Ok(buf)
        })
        .await
    }

    /// Many ranges of one object; neighbours closer than [`COALESCE_GAP`] share a request.
    pub async fn get_ranges(
        &self,
        path: &str,
        ranges: &[Range<u64>],
        token: &CancellationToken,
    ) -> Result<RangesResult> {
        let key = parse_key(path)?;
        for r in ranges {
            if r.start > r.end {
                return Err(Error::invalid(path, format!("invalid range {}..{}", r.start, r.end)));
            }
        }
        let orig = coalesce(ranges, COALESCE_GAP);
        let mut merged = orig.clone();
        self.run(token, path, async {
            match self.fetch_regions(path, &key, &merged, None).await {
                Ok(buffers) => Ok(slices_of(ranges, &orig, buffers.into_iter().map(Vec::from).collect())),
                Err(e) if e.kind == ErrorKind::InvalidInput => {
                    // Some range starts past the end: clamp to the object's size and retry.
                    let size = self.inner.head(&key).await.map_err(|e| Error::from_store(path, e))?.size;
                    for m in merged.iter_mut() {
                        m.start = m.start.min(size);
                        m.end = m.end.min(size);
                    }
                    let buffers =
                        self.fetch_regions(path, &key, &merged, None).await?.into_iter().map(Vec::from).collect();
                    Ok(slices_of(ranges, &orig, buffers))
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Fetch disjoint regions concurrently; with `pin`, each request is conditional on that
    /// version (`If-Match`), so a replaced object fails with `Precondition`.
    pub(crate) async fn fetch_regions(
        &self,
        path: &str,
        key: &Path,
        merged: &[Range<u64>],
        pin: Option<&ObjectVersion>,
    ) -> Result<Vec<Bytes>> {
        {
            let key = &key;
            let jobs: Vec<futures::future::BoxFuture<'_, Result<(usize, Bytes)>>> = merged
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let inner = self.inner.clone();
                    let m = m.clone();
                    let opts = GetOptions {
                        range: Some(GetRange::Bounded(m.clone())),
                        if_match: pin.and_then(|p| p.etag.clone()),
                        version: pin.and_then(|p| p.version.clone()),
                        ..Default::default()
                    };
                    Box::pin(async move {
                        if m.start == m.end {
                            return Ok((i, Bytes::new()));
                        }
                        let r = inner.get_opts(key, opts).await.map_err(|e| range_error(path, e))?;
                        Ok::<_, Error>((i, body(path, r).await?))
                    }) as futures::future::BoxFuture<'_, Result<(usize, Bytes)>>
                })
                .collect();
            let fetched: Vec<(usize, Bytes)> =
                futures::stream::iter(jobs).buffer_unordered(self.tuning.concurrency.max(1)).try_collect().await?;
            let mut buffers: Vec<Bytes> = vec![Bytes::new(); merged.len()];
            for (i, b) in fetched {
                buffers[i] = b;
            }
            Ok(buffers)
        }
    }

    /// The last `n` bytes (the whole object when it is smaller) and the version they belong
    /// to, in one request: a Parquet footer without knowing the object's size first.
    pub async fn get_suffix(&self, path: &str, n: u64, token: &CancellationToken) -> Result<(Bytes, ObjectVersion)> {
        let key = parse_key(path)?;
        self.run(token, path, async {
            let opts = GetOptions { range: Some(GetRange::Suffix(n.max(1))), ..Default::default() };
            let r = match self.inner.get_opts(&key, opts).await {
                Ok(r) => r,
                Err(e) => {
                    let err = range_error(path, e);
                    if err.kind != ErrorKind::InvalidInput {
                        return Err(err);
                    }
                    // 416 on an empty object: the plain GET tells the version.
                    self.inner.get(&key).await.map_err(|e| Error::from_store(path, e))?
                }
            };
            let version =
                ObjectVersion { size: r.meta.size, etag: r.meta.e_tag.clone(), version: r.meta.version.clone() };
            Ok((body(path, r).await?, version))
        })
        .await
    }

    /// Ranges of one object version (see [`ObjectVersion`]), one `Bytes` per range in request
    /// order. Neighbours are fetched together when the gap between them is small next to
    /// the ranges themselves ([`coalesce_proportional`]), so few requests carry few unasked bytes.
    pub async fn get_ranges_pinned(
        &self,
        path: &str,
        ranges: &[Range<u64>],
        pin: &ObjectVersion,
        token: &CancellationToken,
    ) -> Result<Vec<Bytes>> {
        let key = parse_key(path)?;
        for r in ranges {
            if r.start > r.end || r.end > pin.size {
                return Err(Error::invalid(
                    path,
                    format!("range {}..{} outside '{path}' ({} bytes)", r.start, r.end, pin.size),
                ));
            }
        }
        let merged = coalesce_proportional(ranges, COALESCE_GAP);
        self.run(token, path, async {
            let buffers: Vec<Bytes> = self.fetch_regions(path, &key, &merged, Some(pin)).await?;
            Ok(ranges
                .iter()
                .map(|r| {
                    let i = merged.iter().position(|m| m.start <= r.start && r.end <= m.end).unwrap();
                    let off = (r.start - merged[i].start) as usize;
                    buffers[i].slice(off..off + (r.end - r.start) as usize)
                })
                .collect())
        })
        .await
    }

    pub async fn put(
        &self,
        path: &str,
        bytes: Bytes,
        mode: WriteMode,
        metadata: &[(String, String)],
        token: &CancellationToken,
    ) -> Result<PutInfo> {
        let key = parse_key(path)?;
        let size = bytes.len() as u64;
        let opts = PutOptions {
            mode: match mode {
                WriteMode::Overwrite => PutMode::Overwrite,
                WriteMode::Create => PutMode::Create,
            },
            attributes: attributes(metadata, None),
            ..Default::default()
        };
        self.run(token, path, async {
            let r = self
                .inner
                .put_opts(&key, PutPayload::from(bytes), opts)
                .await
                .map_err(|e| create_error(path, mode, e))?;
            Ok(PutInfo { size, etag: r.e_tag, version: r.version })
        })
        .await
    }

    /// A streaming upload; see [`Upload`].
    pub fn create_upload(&self, path: &str, opts: UploadOptions) -> Result<Upload> {
        let key = parse_key(path)?;
        Ok(Upload::new(self.inner.clone(), key, path.to_string(), opts, self.tuning.clone(), self.secrets.clone()))
    }

    /// Server-side copy. `overwrite=false` → `AlreadyExists` when `dst` exists; a missing `src`
    /// is `NotFound` (reported on `src`) whatever the destination.
    pub async fn copy(&self, src: &str, dst: &str, overwrite: bool, token: &CancellationToken) -> Result<()> {
        let from = parse_key(src)?;
        let to = parse_key(dst)?;
        self.run(token, src, async {
            let head_then_copy =
                !overwrite && self.kind == StoreKind::S3 && self.copy_if_not_exists == CopyIfNotExists::HeadThenCopy;
            if head_then_copy {
                match self.inner.head(&to).await {
                    Ok(_) => {
                        return Err(Error::new(
                            ErrorKind::AlreadyExists,
                            dst,
                            format!("object already exists: '{dst}'"),
                        ))
                    }
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(Error::from_store(dst, e)),
                }
            }
            let mode = if overwrite || head_then_copy { CopyMode::Overwrite } else { CopyMode::Create };
            match self.inner.copy_opts(&from, &to, CopyOptions::new().with_mode(mode)).await {
                Ok(()) => Ok(()),
                Err(e @ object_store::Error::NotFound { .. }) => Err(Error::from_store(src, e)),
                Err(e) => {
                    let err = create_error(dst, if overwrite { WriteMode::Overwrite } else { WriteMode::Create }, e);
                    // Which side is missing is not always clear from the server's answer.
                    if err.kind == ErrorKind::AlreadyExists {
                        if let Err(object_store::Error::NotFound { .. }) = self.inner.head(&from).await {
                            return Err(Error::new(ErrorKind::NotFound, src, format!("object not found: '{src}'")));
                        }
                    }
                    Err(err)
                }
            }
        })
        .await
    }

    pub async fn head(&self, path: &str, token: &CancellationToken) -> Result<ObjectInfo> {
        let key = parse_key(path)?;
        self.run(token, path, async {
            let m = self.inner.head(&key).await.map_err(|e| Error::from_store(path, e))?;
            Ok(ObjectInfo {
                size: m.size,
                last_modified_ms: m.last_modified.timestamp_millis(),
                etag: m.e_tag,
                version: m.version,
            })
        })
        .await
    }

    pub async fn delete(&self, path: &str, token: &CancellationToken) -> Result<()> {
        let key = parse_key(path)?;
        self.run(token, path, async { self.inner.delete(&key).await.map_err(|e| Error::from_store(path, e)) }).await
    }
}

/// Where each requested range lies in the fetched regions (`merged` as coalesced, before any
/// clamping; a region clamped at the object's end keeps its start or is empty).
fn slices_of(ranges: &[Range<u64>], merged: &[Range<u64>], buffers: Vec<Vec<u8>>) -> RangesResult {
    let slices = ranges
        .iter()
        .map(|r| {
            let i = merged.iter().position(|m| m.start <= r.start && r.end <= m.end).unwrap();
            let off = (r.start - merged[i].start) as usize;
            let len = buffers[i].len();
            (i, off.min(len), ((r.end - r.start) as usize).min(len.saturating_sub(off)))
        })
        .collect();
    RangesResult { buffers, slices }
}

fn usize_of(path: &str, n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| Error::invalid(path, format!("object of {n} bytes does not fit in memory")))
}

/// A failed conditional write or copy is `AlreadyExists`, whatever the store calls it.
pub(crate) fn create_error(path: &str, mode: WriteMode, e: object_store::Error) -> Error {
    let mut err = Error::from_store(path, e);
    if mode == WriteMode::Create && err.kind == ErrorKind::Precondition {
        err.kind = ErrorKind::AlreadyExists;
        err.message = format!("object already exists: '{path}'");
    }
    err
}

fn range_error(path: &str, e: object_store::Error) -> Error {
    let mut err = Error::from_store(path, e);
    let lower = err.message.to_ascii_lowercase();
    if err.kind == ErrorKind::Other && (lower.contains("range") || lower.contains("416")) {
        err.kind = ErrorKind::InvalidInput;
        err.message = err.message.replacen("Other error", "InvalidInput error", 1);
    }
    err
}

/// A response's whole body, checked against the range it answers.
async fn body(path: &str, r: GetResult) -> Result<Bytes> {
    let expected = (r.range.end - r.range.start) as usize;
    if matches!(r.payload, GetResultPayload::File(..)) {
        // Allocated here rather than on a blocking-pool thread, whose malloc arena would keep
        // the memory after it is freed.
        let mut buf = vec![0u8; expected];
        read_into(path, r, &mut buf).await?;
        return Ok(Bytes::from(buf));
    }
    let bytes = r.bytes().await.map_err(|e| Error::from_store(path, e))?;
    check_length(path, bytes.len(), expected)?;
    Ok(bytes)
}

/// Read a response body into `dst`, which it must fill exactly.
async fn read_into(path: &str, r: GetResult, dst: &mut [u8]) -> Result<()> {
    if let GetResultPayload::File(file, _) = &r.payload {
        // A local file is read straight into `dst` (its chunked stream reads 8 KiB at a time).
        check_length(path, (r.range.end - r.range.start) as usize, dst.len())?;
        return read_file_at(file, r.range.start, dst)
            .map_err(|e| Error::new(ErrorKind::Unavailable, path, format!("reading '{path}': {e}")));
    }
    let mut stream = r.into_stream();
    let mut pos = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::from_store(path, e))?;
        let end = pos + chunk.len();
        if end > dst.len() {
            return check_length(path, end, dst.len());
        }
        dst[pos..end].copy_from_slice(&chunk);
        pos = end;
    }
    check_length(path, pos, dst.len())
}

/// `dst.len()` bytes of `file` from `offset`, without blocking the async workers' other tasks.
fn read_file_at(file: &std::fs::File, offset: u64, dst: &mut [u8]) -> std::io::Result<()> {
    let mut read = || -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            file.read_exact_at(dst, offset)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = file;
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(dst)
        }
    };
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
        _ => read(),
    }
}

/// A body of `got` bytes where `expected` were asked for: too many is a server error, too few
/// a broken transfer (worth retrying).
fn check_length(path: &str, got: usize, expected: usize) -> Result<()> {
    if got > expected {
        return Err(Error::new(ErrorKind::Other, path, format!("'{path}': server sent more bytes than requested")));
    }
    if got < expected {
        return Err(Error::new(
            ErrorKind::Unavailable,
            path,
            format!("'{path}': body ended after {got} of {expected} bytes"),
        ));
    }
    Ok(())
}

/// Like [`coalesce`], but a gap is only bridged when it is at most `max_gap` and at most a
/// sixteenth of the two ranges it joins: reading a few unasked bytes saves a request, reading
/// a neighbouring column chunk to save one does not (at most ~6% extra bytes).
pub fn coalesce_proportional(ranges: &[Range<u64>], max_gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.to_vec();
    sorted.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<u64>> = Vec::new();
    let mut last_len = 0u64;
    for r in sorted {
        let len = r.end - r.start;
        match out.last_mut() {
            Some(last) if r.start <= last.end => {
                last.end = last.end.max(r.end);
                last_len = last.end - last.start;
            }
            Some(last) if r.start - last.end <= max_gap.min((last_len + len) / 16) => {
                last.end = last.end.max(r.end);
                last_len = last.end - last.start;
            }
            _ => {
                out.push(r);
                last_len = len;
            }
        }
    }
    out
}

/// Merge ranges (any order) whose gap is at most `gap`; returns sorted disjoint ranges.
pub fn coalesce(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.to_vec();
    sorted.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<u64>> = Vec::new();
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}
