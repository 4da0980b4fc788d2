//! napi-rs bindings for remote-store-core. Thin: argument conversion, promise plumbing, and
//! turning core errors into JS Errors with a stable `code`. No data-path logic lives here.

#![deny(clippy::all)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use remote_store_core as core;
use remote_store_core::{Bytes, CancellationToken};

mod dataset;
mod local;
mod parquet;
mod settle;

/// Per-call cancellation: the TS wrapper makes one per call and calls `cancel()` when the
/// call's AbortSignal fires.
#[napi]
pub struct CancelToken {
    pub(crate) inner: CancellationToken,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        CancelToken { inner: CancellationToken::new() }
    }

    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

/// The JS Error for a core error, thrown or rejected alike: `code` (the kind), `path`, and when
/// known `status` (HTTP), `s3Code`, `attempts` and `detail` (URL, server message: for `.cause`).
pub(crate) fn js_error(env: &Env, e: core::Error) -> Error {
    let make = || -> Result<Error> {
        let mut obj = env.create_error(Error::new(Status::GenericFailure, e.message.clone()))?;
        obj.set("code", e.kind.as_str())?;
        obj.set("path", e.path.as_str())?;
        if let Some(s) = e.status {
            obj.set("status", s as u32)?;
        }
        if let Some(c) = &e.s3_code {
            obj.set("s3Code", c.as_str())?;
        }
        if let Some(n) = e.attempts {
            obj.set("attempts", n)?;
        }
        if let Some(d) = &e.detail {
            obj.set("detail", d.as_str())?;
        }
        Ok(Error::from(obj.to_unknown()))
    };
    make().unwrap_or_else(|err| err)
}

/// A Buffer over `data` itself (no copy). Its release counts towards giving freed memory back to
/// the OS (core::memory): without that, reading and dropping many large objects leaves RSS high.
pub(crate) fn native_buffer(env: &Env, mut data: Vec<u8>) -> Result<Unknown<'_>> {
    if data.is_empty() {
        return Ok(BufferSlice::from_data(env, data)?.to_unknown());
    }
    let (ptr, len) = (data.as_mut_ptr(), data.len());
    // Safety: `data` is moved into the finalizer, so the bytes live as long as the Buffer.
    let buf = unsafe { BufferSlice::from_external(env, ptr, len, data, |_, data| core::memory::release_bytes(data))? };
    Ok(buf.to_unknown())
}

/// Buffers up to this size are copied on the JS thread: cheaper than lending them (a lent
/// Buffer's reference must be released on the JS thread again, one callback per call).
const COPY_MAX: usize = 64 * 1024;

/// The bytes of a Buffer passed in for a call that holds them only until it settles: small
/// ones copied now (no reference to the JS object is made), large ones lent to Rust (no copy)
/// until the Bytes are dropped.
fn lend_or_copy(env: &Env, data: BufferSlice) -> Result<Bytes> {
    if data.len() <= COPY_MAX {
        Ok(Bytes::copy_from_slice(&data))
    } else {
        Ok(Bytes::from_owner(data.into_buffer(env)?))
    }
}

/// Every call of the addon settles its promise through [`settle`].
pub(crate) use settle::spawn;

pub(crate) fn invalid(path: &str, msg: impl Into<String>) -> core::Error {
    core::Error::invalid(path, msg)
}

#[napi(object)]
pub struct RetryOptions {
    /// Attempts of one request, the first included.
    pub max_attempts: Option<u32>,
    /// Seconds; doubles per attempt.
    pub backoff_base: Option<f64>,
    /// Seconds.
    pub backoff_max: Option<f64>,
    /// Seconds: up to this much random time added to each backoff.
    pub jitter: Option<f64>,
}

/// Read tuning (whole-object reads).
#[napi(object)]
pub struct TuningOptions {
    pub parallel_get_threshold: Option<i64>,
    pub get_chunk_size: Option<i64>,
    pub concurrency: Option<u32>,
    pub part_size: Option<i64>,
    pub single_put_threshold: Option<i64>,
}

#[napi(object)]
pub struct JsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Expiry in milliseconds since the epoch.
    pub expiration: Option<f64>,
}

/// Headers of every write (PutObject, CreateMultipartUpload, CopyObject); a write's own option wins.
#[napi(object)]
pub struct WriteDefaults {
    /// 'AES256' | 'aws:kms' | 'aws:kms:dsse'
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

#[napi(object, object_to_js = false)]
pub struct S3StoreOptions {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Called (on the JS thread) whenever credentials are needed and the cached ones expire
    /// within 5 minutes.
    pub credentials: Option<ThreadsafeFunction<(), Promise<JsCredentials>, (), Status, false, true>>,
    /// Unsigned requests (public buckets).
    pub anon: Option<bool>,
    pub allow_http: Option<bool>,
    /// false: TLS certificates are not checked.
    pub tls_verify: Option<bool>,
    pub ca_cert_path: Option<String>,
    pub retry: Option<RetryOptions>,
    /// Seconds for one whole operation, every retry included (an upload: creation to finish).
    pub deadline: Option<f64>,
    /// Seconds (default 10).
    pub connect_timeout: Option<f64>,
    /// Seconds without a byte sent or received before an attempt fails (default 60).
    pub read_timeout: Option<f64>,
    pub virtual_hosted_style: Option<bool>,
    /// 'multipart' (default), 'head-then-copy', or 'header:<name>:<value>'.
    pub copy_if_not_exists: Option<String>,
    pub tuning: Option<TuningOptions>,
    /// Requests in flight at once, and idle connections kept (default 256).
    pub max_connections: Option<u32>,
    /// Multipart part size in bytes (at least 5 MiB).
    pub part_size: Option<f64>,
    /// Parts in flight per upload.
    pub upload_concurrency: Option<u32>,
    /// Uploads up to this many bytes are one PUT.
    pub multipart_threshold: Option<f64>,
    /// 'auto' (default) | 'parallel' | 'single'
    pub ranged_reads: Option<String>,
    pub write_defaults: Option<WriteDefaults>,
    /// `x-amz-request-payer: requester` on every request.
    pub requester_pays: Option<bool>,
}

/// Seconds as a Duration; a value that is not one (NaN, negative, beyond Duration's range)
/// counts as unset. `Duration::from_secs_f64` would panic, and a panic here aborts the process.
fn secs(v: Option<f64>) -> Option<Duration> {
    v.filter(|s| *s >= 0.0).and_then(|s| Duration::try_from_secs_f64(s).ok())
}

fn tuning(t: Option<TuningOptions>) -> core::Tuning {
    let mut out = core::Tuning::default();
    if let Some(t) = t {
        let pos = |v: Option<i64>| v.filter(|v| *v > 0);
        if let Some(v) = pos(t.parallel_get_threshold) {
            out.parallel_get_threshold = v as u64
        }
        if let Some(v) = pos(t.get_chunk_size) {
            out.get_chunk_size = v as u64
        }
        if let Some(v) = t.concurrency.filter(|v| *v > 0) {
            out.concurrency = v as usize;
            out.upload_concurrency = v as usize;
        }
        if let Some(v) = pos(t.part_size) {
            out.part_size = v as usize
        }
        if let Some(v) = pos(t.single_put_threshold) {
            out.single_put_threshold = v as usize
        }
    }
    out
}

/// Options of one write (`put`, `createUpload`); unset fields fall back to the store's write defaults.
#[napi(object)]
pub struct WriteOptions {
    /// 'overwrite' (default) or 'create' (atomic: `If-None-Match: *`).
    pub mode: Option<String>,
    pub metadata: Option<std::collections::HashMap<String, String>>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub storage_class: Option<String>,
}

fn write_options(path: &str, o: Option<WriteOptions>) -> core::Result<core::WriteOptions> {
    let Some(o) = o else { return Ok(core::WriteOptions::default()) };
    let mode = match o.mode.as_deref() {
        None | Some("overwrite") => core::WriteMode::Overwrite,
        Some("create") => core::WriteMode::Create,
        Some(other) => {
            return Err(core::Error::argument(
                path,
                format!("write mode must be 'overwrite' or 'create', got '{other}'"),
            ))
        }
    };
    let mut metadata: Vec<(String, String)> = o.metadata.unwrap_or_default().into_iter().collect();
    metadata.sort();
    Ok(core::WriteOptions {
        mode,
        metadata,
        content_type: o.content_type,
        cache_control: o.cache_control,
        content_disposition: o.content_disposition,
        content_encoding: o.content_encoding,
        storage_class: o.storage_class,
    })
}

/// One upload's own multipart tuning (the store's otherwise).
#[napi(object)]
pub struct UploadTuning {
    /// Bytes (at least 5 MiB).
    pub part_size: Option<f64>,
    /// Parts in flight.
    pub concurrency: Option<u32>,
}

#[napi(object)]
pub struct Checksum {
    /// 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256'
    pub algorithm: String,
    /// Base64, as S3 gives it.
    pub value: String,
}

/// A write's answer, from the server's PUT / CompleteMultipartUpload response.
#[napi(object)]
pub struct PutResult {
    pub size: f64,
    pub etag: Option<String>,
    pub version: Option<String>,
    pub checksum: Option<Checksum>,
}

impl From<core::PutInfo> for PutResult {
    fn from(p: core::PutInfo) -> Self {
        PutResult {
            size: p.size as f64,
            etag: p.etag,
            version: p.version,
            checksum: p.checksum.map(|c| Checksum { algorithm: c.algorithm, value: c.value }),
        }
    }
}

#[napi(object)]
pub struct HeadResult {
    pub size: f64,
    /// Milliseconds since the epoch.
    pub last_modified: f64,
    pub etag: Option<String>,
    pub version: Option<String>,
}

#[napi(object)]
pub struct ByteRange {
    pub offset: f64,
    pub length: f64,
}

/// Coalesced reads: `buffers` are the fetched regions; `slices` holds, per requested range,
/// `[bufferIndex, offset, length]`; the TS layer returns `buffers[i].subarray(...)` views.
#[napi(object, object_from_js = false)]
pub struct RangesResult<'env> {
    #[napi(ts_type = "Array<Buffer>")]
    pub buffers: Vec<Unknown<'env>>,
    pub slices: Vec<Vec<f64>>,
}

pub(crate) fn u64_arg(path: &str, what: &str, v: f64) -> core::Result<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0 {
        Ok(v as u64)
    } else {
        Err(invalid(path, format!("{what} must be a non-negative integer (got {v}) for '{path}'")))
    }
}

/// The core options from the JS ones (validated in TS: values are taken as given).
fn s3_options(options: S3StoreOptions) -> core::Result<core::S3Options> {
    let d = core::RetryOptions::default();
    let retry = options.retry.map_or(d.clone(), |r| core::RetryOptions {
        max_attempts: r.max_attempts.unwrap_or(d.max_attempts),
        backoff_base: secs(r.backoff_base).unwrap_or(d.backoff_base),
        backoff_max: secs(r.backoff_max).unwrap_or(d.backoff_max),
        jitter: secs(r.jitter).unwrap_or(d.jitter),
    });
    let bad = |what: &str| {
        core::Error::argument(
            "",
            format!("copyIfNotExists must be 'multipart', 'head-then-copy' or 'header:<name>:<value>', got '{what}'"),
        )
    };
    let copy_if_not_exists = match options.copy_if_not_exists.as_deref() {
        None | Some("multipart") => core::CopyIfNotExists::Multipart,
        Some("head-then-copy") => core::CopyIfNotExists::HeadThenCopy,
        Some(h) if h.starts_with("header:") => {
            let mut it = h["header:".len()..].splitn(2, ':');
            match (it.next(), it.next()) {
                (Some(k), Some(v)) if !k.is_empty() => core::CopyIfNotExists::Header(k.into(), v.into()),
                _ => return Err(bad(h)),
            }
        }
        Some(o) => return Err(bad(o)),
    };
    let ranged_reads = match options.ranged_reads.as_deref() {
        None | Some("auto") => core::RangedReads::Auto,
        Some("parallel") => core::RangedReads::Parallel,
        Some("single") => core::RangedReads::Single,
        Some(o) => {
            return Err(core::Error::argument(
                "",
                format!("rangedReads must be 'auto', 'parallel' or 'single', got '{o}'"),
            ))
        }
    };
    let credential_provider = options.credentials.map(|tsfn| {
        let tsfn = Arc::new(tsfn);
        let fetch: core::credentials::FetchCredentials = Arc::new(move || {
            let tsfn = tsfn.clone();
            Box::pin(async move {
                let promise = tsfn.call_async(()).await.map_err(|e| e.reason.clone())?;
                let c = promise.await.map_err(|e| e.reason.clone())?;
                Ok(core::credentials::Credentials {
                    key_id: c.access_key_id,
                    secret_key: c.secret_access_key,
                    token: c.session_token.filter(|t| !t.is_empty()),
                    expires_at: c
                        .expiration
                        .filter(|ms| ms.is_finite() && *ms > 0.0)
                        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms as u64)),
                })
            })
        });
        Arc::new(core::credentials::RefreshingCredentialProvider::new(fetch, None)) as core::AwsCredentialProvider
    });
    let mut tuning = tuning(options.tuning);
    let bytes = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 1.0).map(|v| v as usize);
    if let Some(v) = bytes(options.part_size) {
        tuning.part_size = v;
    }
    if let Some(v) = options.upload_concurrency.filter(|v| *v > 0) {
        tuning.upload_concurrency = v as usize;
    }
    if let Some(v) = bytes(options.multipart_threshold) {
        tuning.single_put_threshold = v;
    }
    let write_defaults = options.write_defaults.map_or_else(core::WriteDefaults::default, |w| core::WriteDefaults {
        server_side_encryption: w.server_side_encryption,
        sse_kms_key_id: w.sse_kms_key_id,
        bucket_key_enabled: w.bucket_key_enabled,
        acl: w.acl,
        storage_class: w.storage_class,
        content_type: w.content_type,
        cache_control: w.cache_control,
        content_disposition: w.content_disposition,
        content_encoding: w.content_encoding,
    });
    Ok(core::S3Options {
        bucket: options.bucket,
        endpoint: options.endpoint,
        region: options.region,
        access_key_id: options.access_key_id,
        secret_access_key: options.secret_access_key,
        session_token: options.session_token,
        credential_provider,
        anon: options.anon.unwrap_or(false),
        allow_http: options.allow_http.unwrap_or(false),
        accept_invalid_certificates: options.tls_verify == Some(false),
        ca_cert_path: options.ca_cert_path.filter(|p| !p.is_empty()).map(Into::into),
        retry,
        deadline: secs(options.deadline),
        connect_timeout: secs(options.connect_timeout),
        read_timeout: secs(options.read_timeout),
        virtual_hosted_style: options.virtual_hosted_style,
        copy_if_not_exists,
        tuning,
        max_connections: options.max_connections.map(|n| n as usize),
        ranged_reads,
        write_defaults,
        requester_pays: options.requester_pays.unwrap_or(false),
    })
}

#[napi]
pub struct NativeObjectStore {
    /// None once closed; calls under way hold clones, and the connection pool goes with the last.
    inner: std::sync::RwLock<Option<core::Store>>,
    kind: core::StoreKind,
}

impl NativeObjectStore {
    fn new(store: core::Store) -> NativeObjectStore {
        NativeObjectStore { kind: store.kind(), inner: std::sync::RwLock::new(Some(store)) }
    }

    /// The store, or an `Unavailable` error once `close()` has been called.
    pub(crate) fn store(&self) -> core::Result<core::Store> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| core::Error::new(core::ErrorKind::Unavailable, "", "the native store is closed"))
    }
}

#[napi]
impl NativeObjectStore {
    /// S3 or S3-compatible store. No network I/O here.
    #[napi(factory)]
    pub fn s3(env: &Env, options: S3StoreOptions) -> Result<NativeObjectStore> {
        let store = s3_options(options).and_then(core::Store::s3).map_err(|e| js_error(env, e))?;
        Ok(NativeObjectStore::new(store))
    }

    /// A store over a local directory (created when missing).
    #[napi(factory)]
    pub fn local(env: &Env, root_dir: String, tuning_options: Option<TuningOptions>) -> Result<NativeObjectStore> {
        let store = core::Store::local(&root_dir).map_err(|e| js_error(env, e))?;
        let store = if tuning_options.is_some() { store.with_tuning(tuning(tuning_options)) } else { store };
        Ok(NativeObjectStore::new(store))
    }

    /// An in-memory store (tests).
    #[napi(factory)]
    pub fn memory() -> NativeObjectStore {
        NativeObjectStore::new(core::Store::memory())
    }

    /// Lets go of the store: calls under way finish, later ones fail with `Unavailable`, and
    /// the connection pool closes with the last call (rather than when the GC collects this).
    #[napi]
    pub fn close(&self) {
        self.inner.write().unwrap_or_else(|e| e.into_inner()).take();
    }

    #[napi(getter)]
    pub fn kind(&self) -> &'static str {
        match self.kind {
            core::StoreKind::S3 => "s3",
            core::StoreKind::Local => "local",
            core::StoreKind::Memory => "memory",
        }
    }

    /// Whole object as a Buffer over Rust memory (no copy).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        path: String,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let store = self.store();
        let t = token.inner.clone();
        spawn(env, async move { store?.get(&path, &t).await }, native_buffer)
    }

    /// `length` omitted (null/undefined): to the end. Past the end: an empty Buffer.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn get_range<'env>(
        &self,
        env: &'env Env,
        path: String,
        offset: f64,
        length: Option<f64>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let store = self.store();
        let t = token.inner.clone();
        spawn(
            env,
            async move {
                let o = u64_arg(&path, "offset", offset)?;
                let l = match length {
                    Some(l) => Some(u64_arg(&path, "length", l)?),
                    None => None,
                };
                store?.get_range(&path, o, l, &t).await
            },
            native_buffer,
        )
    }

    #[napi(ts_return_type = "Promise<RangesResult>")]
    pub fn get_ranges<'env>(
        &self,
        env: &'env Env,
        path: String,
        ranges: Vec<ByteRange>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, RangesResult<'env>>> {
        let store = self.store();
        let t = token.inner.clone();
        spawn(
            env,
            async move {
                let mut rs = Vec::with_capacity(ranges.len());
                for r in &ranges {
                    let o = u64_arg(&path, "offset", r.offset)?;
                    let l = u64_arg(&path, "length", r.length)?;
                    rs.push(o..o + l);
                }
                store?.get_ranges(&path, &rs, &t).await
            },
            |env, r| {
                Ok(RangesResult {
                    buffers: r.buffers.into_iter().map(|b| native_buffer(env, b)).collect::<Result<_>>()?,
                    slices: r.slices.into_iter().map(|(b, o, l)| vec![b as f64, o as f64, l as f64]).collect(),
                })
            },
        )
    }

    /// The bytes are not copied: the request body is the Buffer's memory, kept alive until the
    /// write ends (do not change the Buffer meanwhile).
    #[napi(ts_return_type = "Promise<PutResult>")]
    pub fn put<'env>(
        &self,
        env: &'env Env,
        path: String,
        #[napi(ts_arg_type = "Buffer")] data: BufferSlice,
        options: Option<WriteOptions>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, PutResult>> {
        let store = self.store();
        let t = token.inner.clone();
        let bytes = lend_or_copy(env, data)?;
        spawn(
            env,
            async move {
                let opts = write_options(&path, options)?;
                store?.put(&path, bytes, &opts, &t).await
            },
            |_, v| Ok(PutResult::from(v)),
        )
    }

    /// A URL allowing `method` ('GET' | 'PUT') on `path` for `expiresIn` seconds, without credentials.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn presign<'env>(
        &self,
        env: &'env Env,
        path: String,
        method: String,
        expires_in: f64,
    ) -> Result<PromiseRaw<'env, String>> {
        let store = self.store();
        spawn(
            env,
            async move {
                let m = match method.as_str() {
                    "GET" => core::PresignMethod::Get,
                    "PUT" => core::PresignMethod::Put,
                    o => {
                        return Err(core::Error::argument(
                            &path,
                            format!("presign method must be 'GET' or 'PUT', got '{o}'"),
                        ))
                    }
                };
                let expires = secs(Some(expires_in)).filter(|d| !d.is_zero()).ok_or_else(|| {
                    core::Error::argument(&path, "presign expiresIn must be a positive number of seconds")
                })?;
                store?.presign(&path, m, expires).await
            },
            |_, url| Ok(url),
        )
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn copy<'env>(
        &self,
        env: &'env Env,
        src: String,
        dst: String,
        overwrite: bool,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, ()>> {
        let store = self.store();
        let t = token.inner.clone();
        spawn(env, async move { store?.copy(&src, &dst, overwrite, &t).await }, |_, _| Ok(()))
    }

    #[napi(ts_return_type = "Promise<HeadResult>")]
    pub fn head<'env>(
        &self,
        env: &'env Env,
        path: String,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, HeadResult>> {
        let store = self.store();
        let t = token.inner.clone();
        spawn(env, async move { store?.head(&path, &t).await }, |_, h| {
            Ok(HeadResult {
                size: h.size as f64,
                last_modified: h.last_modified_ms as f64,
                etag: h.etag,
                version: h.version,
            })
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, path: String, token: &CancelToken) -> Result<PromiseRaw<'env, ()>> {
        let store = self.store();
        let t = token.inner.clone();
        spawn(env, async move { store?.delete(&path, &t).await }, |_, _| Ok(()))
    }

    /// A streaming upload. `token` cancels the whole upload (it is aborted).
    #[napi]
    pub fn create_upload(
        &self,
        env: &Env,
        path: String,
        options: Option<WriteOptions>,
        tuning: Option<UploadTuning>,
        token: &CancelToken,
    ) -> Result<NativeUpload> {
        let tuning = tuning.unwrap_or(UploadTuning { part_size: None, concurrency: None });
        let up = write_options(&path, options)
            .and_then(|write| {
                let opts = core::UploadOptions {
                    write,
                    part_size: tuning.part_size.filter(|v| v.is_finite() && *v >= 1.0).map(|v| v as usize),
                    concurrency: tuning.concurrency.filter(|v| *v > 0).map(|v| v as usize),
                };
                self.store()?.create_upload(&path, opts)
            })
            .map_err(|e| js_error(env, e))?;
        Ok(NativeUpload { inner: Arc::new(up), token: token.inner.clone(), source: Default::default() })
    }
}

#[napi]
pub struct NativeUpload {
    inner: Arc<core::Upload>,
    token: CancellationToken,
    /// The local file `writeFileRange` reads, opened once by `attachFile`.
    source: SourceFile,
}

/// The local file a write reads itself (`attachFile`, then `writeFileRange`): an upload's, a
/// local store's write.
#[derive(Clone, Default)]
pub(crate) struct SourceFile(Arc<std::sync::Mutex<Option<Arc<std::fs::File>>>>);

impl SourceFile {
    /// Opens `file` off the JS thread: an open on a stalled network file system must not stall
    /// the event loop.
    pub(crate) async fn attach(&self, path: &str, file: String) -> core::Result<()> {
        let opened = tokio::task::spawn_blocking(move || core::file::open_source(&file))
            .await
            .map_err(std::io::Error::other)
            .and_then(|opened| opened)
            .map_err(|e| {
                let message = format!("write of '{path}': the source file cannot be opened: {e}");
                core::Error::new(core::ErrorKind::Other, path, message)
            })?;
        *self.0.lock().unwrap() = Some(Arc::new(opened));
        Ok(())
    }

    /// The attached file.
    pub(crate) fn get(&self, path: &str) -> core::Result<Arc<std::fs::File>> {
        self.0.lock().unwrap().clone().ok_or_else(|| core::Error::argument(path, "writeFileRange before attachFile"))
    }
}

#[napi]
impl NativeUpload {
    /// Resolves when the chunk is accepted (backpressure: await it before the next write).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "Buffer")] chunk: BufferSlice,
    ) -> Result<PromiseRaw<'env, ()>> {
        let up = self.inner.clone();
        let t = self.token.clone();
        // Copied, not lent: the upload keeps chunks after `write` resolves (until their part is
        // sent), and the caller may reuse its buffer by then. Large ones off the JS thread.
        let small = (chunk.len() <= COPY_MAX).then(|| Bytes::copy_from_slice(&chunk));
        let chunk = if small.is_none() { Some(chunk.into_buffer(env)?) } else { None };
        spawn(
            env,
            async move {
                let bytes = small.unwrap_or_else(|| chunk.map(|c| Bytes::copy_from_slice(&c)).unwrap_or_default());
                up.write(bytes, &t).await
            },
            |_, _| Ok(()),
        )
    }

    /// Opens the local file whose bytes `writeFileRange` appends (the caller's source): a
    /// regular file only (`core::file::open_source`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn attach_file<'env>(&self, env: &'env Env, file: String) -> Result<PromiseRaw<'env, ()>> {
        let (up, source) = (self.inner.clone(), self.source.clone());
        spawn(env, async move { source.attach(up.path(), file).await }, |_, _| Ok(()))
    }

    /// Appends up to one part of the attached file from `offset` (at most `max` bytes), read
    /// natively. Resolves with the bytes appended (0 at the end of the file) once they are
    /// accepted, like `write`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn write_file_range<'env>(&self, env: &'env Env, offset: f64, max: f64) -> Result<PromiseRaw<'env, f64>> {
        let up = self.inner.clone();
        let t = self.token.clone();
        let source = self.source.clone();
        spawn(
            env,
            async move {
                let path = up.path();
                let file = source.get(path)?;
                let offset = u64_arg(path, "offset", offset)?;
                let max = usize::try_from(u64_arg(path, "max", max)?).unwrap_or(usize::MAX);
                up.write_file_range(&file, offset, max, &t).await
            },
            |_, n| Ok(n as f64),
        )
    }

    #[napi(ts_return_type = "Promise<PutResult>")]
    pub fn finish<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, PutResult>> {
        let up = self.inner.clone();
        let t = self.token.clone();
        spawn(env, async move { up.finish(&t).await }, |_, v| Ok(PutResult::from(v)))
    }

    /// Abort: nothing is committed, a multipart upload is aborted. Idempotent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn abort<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let up = self.inner.clone();
        spawn(env, async move { up.abort().await }, |_, _| Ok(()))
    }

    #[napi(getter)]
    pub fn bytes_written(&self) -> f64 {
        self.inner.bytes_written() as f64
    }
}
