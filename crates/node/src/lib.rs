//! napi-rs bindings for remote-store-core. Thin: argument conversion, promise plumbing, and
//! turning core errors into JS Errors with a stable `code`. No data-path logic lives here.

#![deny(clippy::all)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use remote_store_core as core;
use remote_store_core::{Bytes, CancellationToken};

mod dataset;
mod local;
mod parquet;

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

/// Build the JS Error for a core error: `code` = kind, `path` = object path.
fn js_error(env: &Env, e: core::Error) -> Error {
    let make = || -> Result<Error> {
        let mut obj = env.create_error(Error::new(Status::GenericFailure, e.message.clone()))?;
        obj.set("code", e.kind.as_str())?;
        obj.set("path", e.path.as_str())?;
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
    let buf = unsafe {
        BufferSlice::from_external(env, ptr, len, data, |_, data| {
            let bytes = data.capacity();
            drop(data);
            core::memory::freed(bytes);
        })?
    };
    Ok(buf.to_unknown())
}

/// Run a core future on the addon's tokio runtime; resolve with `convert(value)` on the JS
/// thread, reject with a coded JS Error.
pub(crate) fn spawn<'env, T, V, F, C>(env: &'env Env, fut: F, convert: C) -> Result<PromiseRaw<'env, V>>
where
    T: 'static + Send,
    V: ToNapiValue,
    F: 'static + Send + Future<Output = core::Result<T>>,
    C: 'static + FnOnce(&'env Env, T) -> Result<V>,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, move |env, r| match r {
        Ok(v) => convert(env, v),
        Err(e) => Err(js_error(env, e)),
    })
}

pub(crate) fn invalid(path: &str, msg: impl Into<String>) -> core::Error {
    core::Error::invalid(path, msg)
}

#[napi(object)]
pub struct RetryOptions {
    pub max_attempts: Option<u32>,
    /// Seconds.
    pub backoff_base: Option<f64>,
    /// Seconds.
    pub backoff_max: Option<f64>,
    /// Seconds; upper bound on retrying one request.
    pub timeout: Option<f64>,
}

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
    pub allow_http: Option<bool>,
    pub ca_cert_path: Option<String>,
    pub retry: Option<RetryOptions>,
    /// Seconds.
    pub request_timeout: Option<f64>,
    /// Seconds.
    pub connect_timeout: Option<f64>,
    pub virtual_hosted_style: Option<bool>,
    /// 'multipart' (default), 'head-then-copy', or 'header:<name>:<value>'.
    pub copy_if_not_exists: Option<String>,
    pub tuning: Option<TuningOptions>,
    /// Requests in flight at once, and idle connections kept (default 256).
    pub max_connections: Option<u32>,
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
            out.concurrency = v as usize
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

pub(crate) fn to_napi_err(e: core::Error) -> Error {
    // Synchronous (constructor) failures: status text carries the kind as `code`.
    Error::new(Status::InvalidArg, format!("{}: {}", e.kind.as_str(), e.message))
}

#[napi(object)]
pub struct PutOptions {
    /// 'overwrite' (default) or 'create'.
    pub mode: Option<String>,
    pub metadata: Option<std::collections::HashMap<String, String>>,
}

#[napi(object)]
pub struct UploadOptions {
    pub mode: Option<String>,
    pub metadata: Option<std::collections::HashMap<String, String>>,
    pub content_type: Option<String>,
    pub part_size: Option<i64>,
    pub concurrency: Option<u32>,
}

fn write_mode(path: &str, m: Option<&str>) -> core::Result<core::WriteMode> {
    match m {
        None | Some("overwrite") => Ok(core::WriteMode::Overwrite),
        Some("create") => Ok(core::WriteMode::Create),
        Some(o) => Err(invalid(path, format!("unknown write mode '{o}' for '{path}'"))),
    }
}

fn meta_vec(m: Option<std::collections::HashMap<String, String>>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = m.unwrap_or_default().into_iter().collect();
    v.sort();
    v
}

#[napi(object)]
pub struct PutResult {
    pub size: f64,
    pub etag: Option<String>,
    pub version: Option<String>,
}

impl From<core::PutInfo> for PutResult {
    fn from(p: core::PutInfo) -> Self {
        PutResult { size: p.size as f64, etag: p.etag, version: p.version }
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
    pub fn s3(options: S3StoreOptions) -> Result<NativeObjectStore> {
        let retry = options.retry.map(|r| {
            let d = core::RetryOptions::default();
            core::RetryOptions {
                max_attempts: r.max_attempts.unwrap_or(d.max_attempts),
                backoff_base: secs(r.backoff_base).unwrap_or(d.backoff_base),
                backoff_max: secs(r.backoff_max).unwrap_or(d.backoff_max),
                timeout: secs(r.timeout),
            }
        });
        let copy_if_not_exists = match options.copy_if_not_exists.as_deref() {
            None | Some("multipart") => core::CopyIfNotExists::Multipart,
            Some("head-then-copy") => core::CopyIfNotExists::HeadThenCopy,
            Some(h) if h.starts_with("header:") => {
                let mut it = h["header:".len()..].splitn(2, ':');
                match (it.next(), it.next()) {
                    (Some(k), Some(v)) if !k.is_empty() => core::CopyIfNotExists::Header(k.into(), v.into()),
                    _ => {
                        return Err(Error::new(Status::InvalidArg, format!("InvalidInput: bad copyIfNotExists '{h}'")))
                    }
                }
            }
            Some(o) => return Err(Error::new(Status::InvalidArg, format!("InvalidInput: bad copyIfNotExists '{o}'"))),
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
        let _ = SystemTime::now;
        let opts = core::S3Options {
            bucket: options.bucket,
            endpoint: options.endpoint,
            region: options.region,
            access_key_id: options.access_key_id,
            secret_access_key: options.secret_access_key,
            session_token: options.session_token,
            credential_provider,
            allow_http: options.allow_http.unwrap_or(false),
            ca_cert_path: options.ca_cert_path.filter(|p| !p.is_empty()).map(Into::into),
            retry: retry.unwrap_or_default(),
            request_timeout: secs(options.request_timeout),
            connect_timeout: secs(options.connect_timeout),
            virtual_hosted_style: options.virtual_hosted_style,
            copy_if_not_exists,
            tuning: tuning(options.tuning),
            max_connections: options.max_connections.map(|n| n as usize),
        };
        Ok(NativeObjectStore::new(core::Store::s3(opts).map_err(to_napi_err)?))
    }

    /// A store over a local directory (created when missing).
    #[napi(factory)]
    pub fn local(root_dir: String, tuning_options: Option<TuningOptions>) -> Result<NativeObjectStore> {
        let store = core::Store::local(&root_dir).map_err(to_napi_err)?;
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

    /// Bytes are copied once, on a tokio thread (not on the JS thread).
    #[napi(ts_return_type = "Promise<PutResult>")]
    pub fn put<'env>(
        &self,
        env: &'env Env,
        path: String,
        data: Buffer,
        options: Option<PutOptions>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, PutResult>> {
        let store = self.store();
        let t = token.inner.clone();
        let (mode, metadata) = match options {
            Some(o) => (o.mode, meta_vec(o.metadata)),
            None => (None, Vec::new()),
        };
        spawn(
            env,
            async move {
                let mode = write_mode(&path, mode.as_deref())?;
                let bytes = Bytes::copy_from_slice(&data);
                drop(data);
                store?.put(&path, bytes, mode, &metadata, &t).await
            },
            |_, v| Ok(PutResult::from(v)),
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
        path: String,
        options: Option<UploadOptions>,
        token: &CancelToken,
    ) -> Result<NativeUpload> {
        let o = options.unwrap_or(UploadOptions {
            mode: None,
            metadata: None,
            content_type: None,
            part_size: None,
            concurrency: None,
        });
        let mode = write_mode(&path, o.mode.as_deref()).map_err(to_napi_err)?;
        let up = self
            .store()
            .map_err(to_napi_err)?
            .create_upload(
                &path,
                core::UploadOptions {
                    mode,
                    metadata: meta_vec(o.metadata),
                    content_type: o.content_type,
                    part_size: o.part_size.filter(|v| *v > 0).map(|v| v as usize),
                    concurrency: o.concurrency.filter(|v| *v > 0).map(|v| v as usize),
                },
            )
            .map_err(to_napi_err)?;
        Ok(NativeUpload { inner: Arc::new(up), token: token.inner.clone() })
    }
}

#[napi]
pub struct NativeUpload {
    inner: Arc<core::Upload>,
    token: CancellationToken,
}

#[napi]
impl NativeUpload {
    /// Resolves when the chunk is accepted (backpressure: await it before the next write).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write<'env>(&self, env: &'env Env, chunk: Buffer) -> Result<PromiseRaw<'env, ()>> {
        let up = self.inner.clone();
        let t = self.token.clone();
        spawn(
            env,
            async move {
                let bytes = Bytes::copy_from_slice(&chunk);
                drop(chunk);
                up.write(bytes, &t).await
            },
            |_, _| Ok(()),
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
