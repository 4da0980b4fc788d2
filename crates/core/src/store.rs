//! The data-path store: object_store underneath, our error kinds, cancellation and a deadline
//! on every op, parallel ranged reads into one allocation, coalesced multi-range reads.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3;
use object_store::limit::LimitStore;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{
    Attribute, CopyMode, CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ObjectStore, ObjectStoreExt,
    PutPayload,
};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};
use crate::key::{encode, object_key, Key};
use crate::op::{self, Op};
use crate::options::{CopyIfNotExists, RangedReads, RetryOptions, S3Options, Tuning};
// Re-exported for the Parquet scan, which imports it from the store.
pub use crate::run::cancellable;
use crate::run::run_op;
use crate::upload::{Upload, UploadOptions};
use crate::write::{self, create_error, PutInfo, WriteMode, WriteOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    S3,
    Local,
    Memory,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectInfo {
    pub size: u64,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
    pub etag: Option<String>,
    pub version: Option<String>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    /// User metadata, sorted; the reserved write-id key is left out.
    pub metadata: Vec<(String, String)>,
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

#[derive(Clone)]
pub struct Store {
    /// Distinguishes stores in process-wide caches (a clone keeps the id).
    id: u64,
    inner: Arc<dyn ObjectStore>,
    kind: StoreKind,
    tuning: Tuning,
    copy_if_not_exists: CopyIfNotExists,
    /// Credential values never to show in an error message (S3 error bodies can echo the key id).
    secrets: Arc<Vec<String>>,
    /// Bounds each operation, retries included.
    deadline: Option<Duration>,
    retry: RetryOptions,
    ranged_reads: RangedReads,
    /// S3 only: signs presigned URLs.
    presigner: Option<Arc<Presigner>>,
}

/// No credential in any Debug output: object_store's own would show the access key id.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("tuning", &self.tuning)
            .field("deadline", &self.deadline)
            .field("retry", &self.retry)
            .field("ranged_reads", &self.ranged_reads)
            .finish_non_exhaustive()
    }
}

struct Presigner {
    s3: AmazonS3,
    bucket_url: String,
    anon: bool,
}

/// An HTTP method a presigned URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresignMethod {
    Get,
    Put,
}

impl Store {
    /// Build an S3 store. Performs no network I/O.
    pub fn s3(opts: S3Options) -> Result<Store> {
        let parts = crate::s3::build(&opts)?;
        let presigner = Presigner { s3: parts.s3.clone(), bucket_url: parts.bucket_url, anon: parts.anon };
        Ok(Store {
            id: next_store_id(),
            // reqwest opens a connection per concurrent request, without limit: bound them here.
            inner: Arc::new(LimitStore::new(parts.s3, parts.max_connections)),
            kind: StoreKind::S3,
            tuning: opts.tuning.clone(),
            copy_if_not_exists: opts.copy_if_not_exists.clone(),
            secrets: Arc::new(parts.secrets),
            deadline: opts.deadline,
            retry: opts.retry.clone(),
            ranged_reads: opts.ranged_reads,
            presigner: Some(Arc::new(presigner)),
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
            deadline: None,
            retry: RetryOptions::default(),
            ranged_reads: RangedReads::Parallel,
            presigner: None,
        }
    }

    pub fn with_tuning(mut self, tuning: Tuning) -> Store {
        self.tuning = tuning;
        self
    }

    /// `path` as the store's key (slot: which key of the operation; a copy has two).
    fn key(&self, path: &str, slot: usize) -> Result<Key> {
        object_key(path, self.kind == StoreKind::S3, slot)
    }

    /// A new operation on `keys` under the store's deadline.
    pub(crate) fn op(&self, keys: &[&Key], create: bool) -> Arc<Op> {
        let fixes = keys.iter().filter_map(|k| k.fix.clone()).collect();
        Arc::new(Op::new(self.deadline).create(create).with_keys(fixes))
    }

    /// `fut` as operation `op`: unless `token` fires first (then the future is dropped, which
    /// cancels its requests, and `Aborted` is returned) or the deadline passes (`Timeout`);
    /// credential values scrubbed from any error.
    async fn run_op<T>(
        &self,
        op: Arc<Op>,
        token: &CancellationToken,
        path: &str,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        run_op(&op, token, path, fut).await.map_err(|e| e.redact(&self.secrets))
    }

    async fn run<T>(
        &self,
        token: &CancellationToken,
        key: &Key,
        path: &str,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.run_op(self.op(&[key], false), token, path, fut).await
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
        let key = self.key(path, 0)?;
        self.run(token, &key, path, self.get_inner(path, &key.path)).await
    }

    async fn get_inner(&self, path: &str, key: &Path) -> Result<Vec<u8>> {
        if self.ranged_reads == RangedReads::Single {
            return self.get_whole(path, key).await;
        }
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
                return match err.kind {
                    // A range the object cannot answer (416 for an empty object on S3, the local
                    // store's own range error): a plain GET.
                    ErrorKind::InvalidInput | ErrorKind::Other => self.get_whole(path, key).await,
                    _ => Err(err),
                };
            }
        };
        let size = first.meta.size;
        let pin = GetOptions {
            // The object must not change between chunks.
            if_match: first.meta.e_tag.clone(),
            version: first.meta.version.clone(),
            ..Default::default()
        };
        let head_end = first.range.end;
        let n = usize_of(path, size)?;
        let (mut buf, mapped) = crate::memory::buffer(n);
        let (head, rest) = buf.spare_capacity_mut()[..n].split_at_mut(head_end as usize);
        // The first response's body is read while the other ranges are fetched.
        let first_body = self.read_into(path, key, first, head, !mapped);
        if head_end >= size {
            first_body.await?;
            // SAFETY: the one body wrote all `n` bytes (read_into succeeds only then).
            unsafe { buf.set_len(n) };
            return Ok(buf);
        }
        let single = match self.ranged_reads {
            RangedReads::Parallel | RangedReads::Single => false,
            RangedReads::Auto => op::current().and_then(|o| o.server()).is_some_and(|s| slow_ranges(&s)),
        };
        let chunk = if single { rest.len() } else { t.get_chunk_size.max(1) as usize };
        let jobs: Vec<futures::future::BoxFuture<'_, Result<()>>> = rest
            .chunks_mut(chunk)
            .enumerate()
            .map(|(i, slice)| {
                let start = head_end + (i * chunk) as u64;
                let end = start + slice.len() as u64;
                let opts = GetOptions { range: Some(GetRange::Bounded(start..end)), ..pin.clone() };
                let inner = self.inner.clone();
                Box::pin(async move {
                    let r = inner.get_opts(key, opts).await.map_err(|e| Error::from_store(path, e))?;
                    self.read_into(path, key, r, slice, !mapped).await
                }) as futures::future::BoxFuture<'_, Result<()>>
            })
            .collect();
        let others =
            futures::stream::iter(jobs).buffer_unordered(t.concurrency.saturating_sub(1).max(1)).try_collect::<()>();
        futures::future::try_join(first_body, others).await?;
        // SAFETY: the bodies filled disjoint slices covering all `n` bytes, each completely.
        unsafe { buf.set_len(n) };
        Ok(buf)
    }

    /// The whole object with one GET, streamed into one allocation.
    async fn get_whole(&self, path: &str, key: &Path) -> Result<Vec<u8>> {
        let r = self.inner.get(key).await.map_err(|e| Error::from_store(path, e))?;
        self.read_body(path, key, r).await
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
        let key = self.key(path, 0)?;
        self.run(token, &key, path, async {
            let range = match length {
                Some(0) => {
                    self.inner.head(&key.path).await.map_err(|e| Error::from_store(path, e))?;
                    return Ok(Vec::new());
                }
                Some(l) => {
                    let end = offset.checked_add(l).ok_or_else(|| Error::invalid(path, "range overflows"))?;
                    GetRange::Bounded(offset..end)
                }
                None => GetRange::Offset(offset),
            };
            let r = match self.inner.get_opts(&key.path, GetOptions { range: Some(range), ..Default::default() }).await
            {
                Ok(r) => r,
                Err(e) => {
                    let err = self.range_error(path, e);
                    if err.kind == ErrorKind::InvalidInput {
                        // Past the end (416 / invalid range): empty, if the object exists.
                        let meta = self.inner.head(&key.path).await.map_err(|e| Error::from_store(path, e))?;
                        if offset >= meta.size {
                            return Ok(Vec::new());
                        }
                    }
                    return Err(err);
                }
            };
            self.read_body(path, &key.path, r).await
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
        let key = self.key(path, 0)?;
        for r in ranges {
            if r.start > r.end {
                return Err(Error::invalid(path, format!("invalid range {}..{}", r.start, r.end)));
            }
        }
        let orig = coalesce(ranges, COALESCE_GAP);
        let mut merged = orig.clone();
        self.run(token, &key, path, async {
            match self.fetch_regions(path, &key.path, &merged, None).await {
                Ok(buffers) => Ok(slices_of(ranges, &orig, buffers.into_iter().map(Vec::from).collect())),
                Err(e) if e.kind == ErrorKind::InvalidInput => {
                    // Some range starts past the end: clamp to the object's size and retry.
                    let size = self.inner.head(&key.path).await.map_err(|e| Error::from_store(path, e))?.size;
                    for m in merged.iter_mut() {
                        m.start = m.start.min(size);
                        m.end = m.end.min(size);
                    }
                    let buffers =
                        self.fetch_regions(path, &key.path, &merged, None).await?.into_iter().map(Vec::from).collect();
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
                        let r = inner.get_opts(key, opts).await.map_err(|e| self.range_error(path, e))?;
                        Ok::<_, Error>((i, self.body(path, key, r).await?))
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
        let key = self.key(path, 0)?;
        self.run(token, &key, path, async {
            let opts = GetOptions { range: Some(GetRange::Suffix(n.max(1))), ..Default::default() };
            let r = match self.inner.get_opts(&key.path, opts).await {
                Ok(r) => r,
                Err(e) => {
                    let err = self.range_error(path, e);
                    if err.kind != ErrorKind::InvalidInput {
                        return Err(err);
                    }
                    // 416 on an empty object: the plain GET tells the version.
                    self.inner.get(&key.path).await.map_err(|e| Error::from_store(path, e))?
                }
            };
            let version =
                ObjectVersion { size: r.meta.size, etag: r.meta.e_tag.clone(), version: r.meta.version.clone() };
            Ok((self.body(path, &key.path, r).await?, version))
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
        let key = self.key(path, 0)?;
        for r in ranges {
            if r.start > r.end || r.end > pin.size {
                return Err(Error::invalid(
                    path,
                    format!("range {}..{} outside '{path}' ({} bytes)", r.start, r.end, pin.size),
                ));
            }
        }
        let merged = coalesce_proportional(ranges, COALESCE_GAP);
        self.run(token, &key, path, async {
            let buffers: Vec<Bytes> = self.fetch_regions(path, &key.path, &merged, Some(pin)).await?;
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

    /// One object from bytes in memory: one PUT, or on S3 above the multipart threshold a
    /// parallel multipart upload of slices of `bytes` (no copy). One connection's speed then no
    /// longer bounds a large write, a failed part is retried alone, and S3's 5 GiB limit of one
    /// PUT does not apply. In create mode the PUT (or the completion) carries
    /// `If-None-Match: *`, and an outcome hidden by a broken connection is settled as
    /// [`crate::write`] describes.
    pub async fn put(
        &self,
        path: &str,
        bytes: Bytes,
        opts: &WriteOptions,
        token: &CancellationToken,
    ) -> Result<PutInfo> {
        if self.kind == StoreKind::S3 && bytes.len() > self.tuning.single_put_threshold {
            let upload = self.create_upload(path, UploadOptions { write: opts.clone(), ..Default::default() })?;
            // A failed write or finish has aborted the upload already (see Upload).
            upload.write(bytes, token).await?;
            return upload.finish(token).await;
        }
        let key = self.key(path, 0)?;
        let op = self.op(&[&key], opts.mode == WriteMode::Create);
        let put = write::put(self.inner.as_ref(), &key.path, path, PutPayload::from(bytes), opts, &self.retry);
        self.run_op(op, token, path, put).await
    }

    /// A streaming upload; see [`Upload`]. Its deadline runs from now to `finish`.
    pub fn create_upload(&self, path: &str, opts: UploadOptions) -> Result<Upload> {
        let key = self.key(path, 0)?;
        let create = opts.write.mode == WriteMode::Create;
        let op = self.op(&[&key], create);
        // S3 completes a create-only upload with If-None-Match; other stores cannot.
        let conditional_completion = self.kind == StoreKind::S3;
        Ok(Upload::new(
            self.inner.clone(),
            key.path,
            path.to_string(),
            opts,
            conditional_completion,
            op,
            self.tuning.clone(),
            self.retry.clone(),
            self.secrets.clone(),
        ))
    }

    /// A URL that allows `method` on `path` for `expires_in` without credentials (S3 only;
    /// an anonymous store gives the plain URL).
    pub async fn presign(&self, path: &str, method: PresignMethod, expires_in: Duration) -> Result<String> {
        let Some(p) = &self.presigner else {
            return Err(Error::argument(path, format!("presigned URLs need an S3 store ('{path}')")));
        };
        let key = self.key(path, 0)?;
        if key.fix.is_some() {
            return Err(Error::invalid(path, format!("cannot presign '{path}': its key needs exact encoding")));
        }
        if p.anon {
            return Ok(format!("{}/{}", p.bucket_url, encode(path)));
        }
        let m = match method {
            PresignMethod::Get => http::Method::GET,
            PresignMethod::Put => http::Method::PUT,
        };
        let url = p.s3.signed_url(m, &key.path, expires_in).await.map_err(|e| Error::from_store(path, e))?;
        Ok(url.to_string())
    }

    /// Server-side copy. `overwrite=false` → `AlreadyExists` when `dst` exists; a missing `src`
    /// is `NotFound` (reported on `src`) whatever the destination.
    pub async fn copy(&self, src: &str, dst: &str, overwrite: bool, token: &CancellationToken) -> Result<()> {
        let from_key = self.key(src, 0)?;
        let to_key = self.key(dst, 1)?;
        let (from, to) = (&from_key.path, &to_key.path);
        let op = self.op(&[&from_key, &to_key], !overwrite);
        self.run_op(op, token, src, async {
            let head_then_copy =
                !overwrite && self.kind == StoreKind::S3 && self.copy_if_not_exists == CopyIfNotExists::HeadThenCopy;
            if head_then_copy {
                match self.inner.head(to).await {
                    Ok(_) => return Err(Error::already_exists(dst)),
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(Error::from_store(dst, e)),
                }
            }
            let mode = if overwrite || head_then_copy { CopyMode::Overwrite } else { CopyMode::Create };
            match self.inner.copy_opts(from, to, CopyOptions::new().with_mode(mode)).await {
                Ok(()) => Ok(()),
                Err(e @ object_store::Error::NotFound { .. }) => Err(Error::from_store(src, e)),
                Err(e) => {
                    let err = create_error(dst, if overwrite { WriteMode::Overwrite } else { WriteMode::Create }, e);
                    // Which side is missing is not always clear from the server's answer.
                    if err.kind == ErrorKind::AlreadyExists {
                        if let Err(object_store::Error::NotFound { .. }) = self.inner.head(from).await {
                            return Err(Error::new(ErrorKind::NotFound, src, format!("object not found: '{src}'")));
                        }
                    }
                    Err(err)
                }
            }
        })
        .await
    }

    /// A response's whole body, checked against the range it answers.
    async fn body(&self, path: &str, key: &Path, r: GetResult) -> Result<Bytes> {
        Ok(Bytes::from(self.read_body(path, key, r).await?))
    }

    /// A response's whole body in a buffer of its own. The buffer is not zeroed first: the body
    /// writes every byte, and a zeroing pass cost as much as the copy (a memset over fresh
    /// pages, taking their faults). Allocated here rather than on a blocking-pool thread (local
    /// files), whose malloc arena would keep the memory after it is freed.
    async fn read_body(&self, path: &str, key: &Path, r: GetResult) -> Result<Vec<u8>> {
        let n = usize_of(path, r.range.end - r.range.start)?;
        let (mut buf, mapped) = crate::memory::buffer(n);
        self.read_into(path, key, r, &mut buf.spare_capacity_mut()[..n], !mapped).await?;
        // SAFETY: read_into succeeds only when it wrote all `n` bytes.
        unsafe { buf.set_len(n) };
        Ok(buf)
    }

    /// Read a response body into `dst`, writing every byte of it, or fail. A body that breaks
    /// off (reset, stall) is resumed from where it stopped, pinned to the same version, within
    /// the retry policy and the operation's deadline. `populate`: `dst` may be fresh memory,
    /// whose pages are better mapped in one call than faulted in by the copy.
    async fn read_into(
        &self,
        path: &str,
        key: &Path,
        r: GetResult,
        dst: &mut [MaybeUninit<u8>],
        populate: bool,
    ) -> Result<()> {
        if let GetResultPayload::File(file, _) = &r.payload {
            // A local file is read straight into `dst` (its chunked stream reads 8 KiB at a time).
            check_length(path, (r.range.end - r.range.start) as usize, dst.len())?;
            return crate::file::read_exact_at(file, r.range.start, dst)
                .map_err(|e| Error::new(ErrorKind::Unavailable, path, format!("reading '{path}': {e}")));
        }
        if populate && dst.len() >= POPULATE_MIN {
            crate::memory::populate(dst);
        }
        let start = r.range.start;
        let pin = GetOptions { if_match: r.meta.e_tag.clone(), version: r.meta.version.clone(), ..Default::default() };
        let mut stream = r.into_stream();
        let mut pos = 0usize;
        let mut resumes = 0;
        loop {
            match stream.next().await {
                None => return check_length(path, pos, dst.len()),
                Some(Ok(chunk)) => {
                    let end = pos + chunk.len();
                    if end > dst.len() {
                        return check_length(path, end, dst.len());
                    }
                    dst[pos..end].write_copy_of_slice(&chunk);
                    pos = end;
                }
                Some(Err(e)) => {
                    let err = Error::from_store(path, e);
                    let broken = matches!(err.kind, ErrorKind::Unavailable | ErrorKind::Timeout);
                    resumes += 1;
                    let remaining = op::current().and_then(|o| o.remaining());
                    let wait = if broken && pos < dst.len() { self.retry.backoff(resumes, remaining) } else { None };
                    let Some(wait) = wait else { return Err(err) };
                    tokio::time::sleep(wait).await;
                    let range = start + pos as u64..start + dst.len() as u64;
                    let opts = GetOptions { range: Some(GetRange::Bounded(range)), ..pin.clone() };
                    let r = self.inner.get_opts(key, opts).await.map_err(|e| Error::from_store(path, e))?;
                    stream = r.into_stream();
                }
            }
        }
    }

    /// An error of a ranged read; a range the object cannot answer is `InvalidInput` (S3 says
    /// 416; the local and memory stores raise a generic error of their own).
    fn range_error(&self, path: &str, e: object_store::Error) -> Error {
        let mut err = Error::from_store(path, e);
        if self.kind != StoreKind::S3 && err.kind == ErrorKind::Other {
            err.kind = ErrorKind::InvalidInput;
        }
        err
    }

    pub async fn head(&self, path: &str, token: &CancellationToken) -> Result<ObjectInfo> {
        let key = self.key(path, 0)?;
        self.run(token, &key, path, async {
            let opts = GetOptions { head: true, ..Default::default() };
            let r = self.inner.get_opts(&key.path, opts).await.map_err(|e| Error::from_store(path, e))?;
            let mut info = ObjectInfo {
                size: r.meta.size,
                last_modified_ms: r.meta.last_modified.timestamp_millis(),
                etag: r.meta.e_tag,
                version: r.meta.version,
                ..Default::default()
            };
            for (attr, value) in r.attributes.iter() {
                let v = Some(value.to_string());
                match attr {
                    Attribute::ContentType => info.content_type = v,
                    Attribute::CacheControl => info.cache_control = v,
                    Attribute::ContentDisposition => info.content_disposition = v,
                    Attribute::ContentEncoding => info.content_encoding = v,
                    Attribute::Metadata(k) => info.metadata.push((k.to_string(), value.to_string())),
                    _ => {}
                }
            }
            info.metadata.sort();
            Ok(info)
        })
        .await
    }

    pub async fn delete(&self, path: &str, token: &CancellationToken) -> Result<()> {
        let key = self.key(path, 0)?;
        self.run(token, &key, path, async {
            self.inner.delete(&key.path).await.map_err(|e| Error::from_store(path, e))
        })
        .await
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

/// Whether the `Server` header names a server known to read the whole object for every
/// ranged GET (moto, served by werkzeug: a 1 GiB read in 8 MiB ranges took 140 s). `auto`
/// reads the rest of a large object from such a server with one GET.
fn slow_ranges(server: &str) -> bool {
    let s = server.to_ascii_lowercase();
    s.contains("werkzeug") || s.contains("moto")
}

/// Bodies at least this large have their memory mapped in one call before the copy.
const POPULATE_MIN: usize = 1024 * 1024;

fn usize_of(path: &str, n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| Error::invalid(path, format!("object of {n} bytes does not fit in memory")))
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
