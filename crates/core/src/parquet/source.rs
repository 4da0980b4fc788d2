//! Where Parquet bytes come from. A [`ByteSource`] is one object: the native store, or a
//! host callback for stores that live outside Rust. Reads are pinned to the object version
//! seen when the footer was read, and footers are cached per version.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataFetch};
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};
use crate::store::{ObjectVersion, Store};

/// One object's bytes.
#[async_trait]
pub trait ByteSource: Send + Sync + 'static {
    /// The object path, for errors.
    fn path(&self) -> &str;

    /// Identifies the object across calls for the footer cache; `None` disables caching.
    fn cache_key(&self) -> Option<String>;

    /// The last `n` bytes (all of them when the object is smaller) and their version.
    async fn suffix(&self, n: u64) -> Result<(Bytes, ObjectVersion)>;

    /// These ranges of `version`, one `Bytes` per range in order. A source that can pin the
    /// version fails with [`ErrorKind::Precondition`] when the object changed.
    async fn ranges(&self, ranges: Vec<Range<u64>>, version: &ObjectVersion) -> Result<Vec<Bytes>>;
}

/// An object of the native store.
pub struct StoreSource {
    store: Store,
    path: String,
    token: CancellationToken,
}

impl StoreSource {
    pub fn new(store: Store, path: impl Into<String>, token: CancellationToken) -> Self {
        StoreSource { store, path: path.into(), token }
    }
}

#[async_trait]
impl ByteSource for StoreSource {
    fn path(&self) -> &str {
        &self.path
    }

    fn cache_key(&self) -> Option<String> {
        Some(format!("{}\u{0}{}", self.store.id(), self.path))
    }

    async fn suffix(&self, n: u64) -> Result<(Bytes, ObjectVersion)> {
        self.store.get_suffix(&self.path, n, &self.token).await
    }

    async fn ranges(&self, ranges: Vec<Range<u64>>, version: &ObjectVersion) -> Result<Vec<Bytes>> {
        self.store.get_ranges_pinned(&self.path, &ranges, version, &self.token).await
    }
}

/// How much of the object's end the first request asks for: footers of files with a few
/// hundred column chunks, and usually their page indexes, fit.
pub const FOOTER_HINT: u64 = 64 * 1024;

/// Bytes and requests a reader asked its source for (what the library fetched; the wire can
/// only be larger by headers).
#[derive(Debug, Default)]
pub struct FetchStats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

impl FetchStats {
    fn add(&self, ranges: &[Range<u64>]) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(ranges.iter().map(|r| r.end - r.start).sum(), Ordering::Relaxed);
    }
}

/// A footer read once, with the version it belongs to.
#[derive(Clone)]
pub struct LoadedMetadata {
    pub metadata: Arc<ParquetMetaData>,
    pub version: ObjectVersion,
    /// Came from the cache: the version was not checked by a request of this read.
    pub cached: bool,
    /// Bytes of the footer (metadata and its 8-byte trailer); 0 when it came from the cache.
    pub footer_len: u64,
}

struct CacheEntry {
    version: ObjectVersion,
    metadata: Arc<ParquetMetaData>,
    used: u64,
}

/// Footers by object, kept while their version is current. Small: a footer is parsed in
/// microseconds; what the cache saves is the round trip.
struct MetadataCache {
    entries: HashMap<String, CacheEntry>,
    clock: u64,
}

const CACHE_CAPACITY: usize = 256;

static CACHE: Mutex<Option<MetadataCache>> = Mutex::new(None);

fn with_cache<T>(f: impl FnOnce(&mut MetadataCache) -> T) -> T {
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(|| MetadataCache { entries: HashMap::new(), clock: 0 }))
}

fn cache_get(key: &str, page_index: bool) -> Option<LoadedMetadata> {
    with_cache(|c| {
        c.clock += 1;
        let clock = c.clock;
        let e = c.entries.get_mut(key)?;
        if page_index && e.metadata.page_index().is_none() {
            return None;
        }
        e.used = clock;
        Some(LoadedMetadata { metadata: e.metadata.clone(), version: e.version.clone(), cached: true, footer_len: 0 })
    })
}

fn cache_put(key: String, loaded: &LoadedMetadata) {
    // Without an ETag or version id a replaced object cannot be told apart: do not cache.
    if loaded.version.etag.is_none() && loaded.version.version.is_none() {
        return;
    }
    with_cache(|c| {
        c.clock += 1;
        if c.entries.len() >= CACHE_CAPACITY && !c.entries.contains_key(&key) {
            if let Some(oldest) = c.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone()) {
                c.entries.remove(&oldest);
            }
        }
        c.entries.insert(
            key,
            CacheEntry { version: loaded.version.clone(), metadata: loaded.metadata.clone(), used: c.clock },
        );
    })
}

/// Forget the cached footer of `source` (its object changed).
pub fn invalidate(source: &dyn ByteSource) {
    if let Some(key) = source.cache_key() {
        with_cache(|c| c.entries.remove(&key));
    }
}

/// Serves metadata reads from the already fetched end of the object, and the rest from the source.
struct TailFetch<'a> {
    source: &'a dyn ByteSource,
    version: &'a ObjectVersion,
    tail: Bytes,
    tail_start: u64,
    stats: &'a FetchStats,
}

impl MetadataFetch for TailFetch<'_> {
    fn fetch(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            if range.start >= self.tail_start {
                let start = (range.start - self.tail_start) as usize;
                let end = (range.end - self.tail_start) as usize;
                if end <= self.tail.len() {
                    return Ok(self.tail.slice(start..end));
                }
            }
            self.stats.add(std::slice::from_ref(&range));
            let mut got = self.source.ranges(vec![range], self.version).await.map_err(to_parquet)?;
            Ok(got.pop().unwrap_or_default())
        }
        .boxed()
    }
}

/// The footer of `source` (and its page index when `page_index`), from the cache when the
/// object's version is known there, else with one suffix request of `hint` bytes (plus one
/// more when the footer is larger).
pub async fn load_metadata(
    source: &dyn ByteSource,
    page_index: bool,
    hint: u64,
    stats: &FetchStats,
) -> Result<LoadedMetadata> {
    let key = source.cache_key();
    if let Some(hit) = key.as_deref().and_then(|k| cache_get(k, page_index)) {
        return Ok(hit);
    }
    let (tail, version) = source.suffix(hint).await?;
    stats.add(std::slice::from_ref(&(0..tail.len() as u64)));
    let path = source.path();
    if version.size < 12 {
        return Err(Error::new(
            ErrorKind::InvalidData,
            path,
            format!("'{path}' is not a Parquet file: {} bytes is too short", version.size),
        ));
    }
    let tail_start = version.size - tail.len() as u64;
    // The footer's length is in the last 8 bytes; it sizes the next file's first request.
    let footer_len = match tail.len() {
        n if n >= 8 => u32::from_le_bytes(tail[n - 8..n - 4].try_into().unwrap()) as u64 + 8,
        _ => 0,
    };
    let fetch = TailFetch { source, version: &version, tail, tail_start, stats };
    let policy = if page_index { PageIndexPolicy::Optional } else { PageIndexPolicy::Skip };
    let metadata = ParquetMetaDataReader::new()
        .with_page_index_policy(policy)
        .load_and_finish(fetch, version.size)
        .await
        .map_err(|e| from_parquet(path, e))?;
    let loaded = LoadedMetadata { metadata: Arc::new(metadata), version, cached: false, footer_len };
    if let Some(k) = key {
        cache_put(k, &loaded);
    }
    Ok(loaded)
}

/// A fetch started ahead of the decoder: its ranges' bytes, or why they could not be had.
type Ahead = Shared<BoxFuture<'static, std::result::Result<Arc<Vec<Bytes>>, (ErrorKind, String)>>>;

/// Column chunks fetched ahead of the decoder, by byte range: the decoder asks for one row
/// group at a time, and without this the next row group's request would start only when the
/// previous one's bytes are in.
#[derive(Default)]
pub struct Prefetch {
    ranges: Mutex<HashMap<(u64, u64), (Ahead, usize)>>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        for t in self.tasks.get_mut().unwrap_or_else(|e| e.into_inner()).drain(..) {
            t.abort();
        }
    }
}

impl Prefetch {
    /// Start fetching `ranges` (of one row group) on a task of its own.
    pub fn start(
        &self,
        source: &Arc<dyn ByteSource>,
        version: &ObjectVersion,
        stats: &Arc<FetchStats>,
        ranges: Vec<Range<u64>>,
    ) {
        if ranges.is_empty() {
            return;
        }
        let (source, version, stats, asked) = (source.clone(), version.clone(), stats.clone(), ranges.clone());
        let task = tokio::spawn(async move {
            stats.add(&asked);
            source.ranges(asked, &version).await.map(Arc::new).map_err(|e| (e.kind, e.message))
        });
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).push(task.abort_handle());
        let ahead: Ahead =
            async move { task.await.unwrap_or_else(|e| Err((ErrorKind::Other, format!("prefetch failed: {e}")))) }
                .boxed()
                .shared();
        let mut map = self.ranges.lock().unwrap_or_else(|e| e.into_inner());
        for (i, r) in ranges.into_iter().enumerate() {
            map.insert((r.start, r.end), (ahead.clone(), i));
        }
    }

    fn take(&self, r: &Range<u64>) -> Option<(Ahead, usize)> {
        self.ranges.lock().unwrap_or_else(|e| e.into_inner()).remove(&(r.start, r.end))
    }
}

/// The `AsyncFileReader` the Parquet decoder pulls column chunks through.
pub struct SourceReader {
    source: Arc<dyn ByteSource>,
    loaded: LoadedMetadata,
    stats: Arc<FetchStats>,
    prefetch: Option<Arc<Prefetch>>,
}

impl SourceReader {
    pub fn new(source: Arc<dyn ByteSource>, loaded: LoadedMetadata, stats: Arc<FetchStats>) -> Self {
        SourceReader { source, loaded, stats, prefetch: None }
    }

    /// Serve ranges fetched ahead from `prefetch` (others are fetched when asked for).
    pub fn with_prefetch(mut self, prefetch: Arc<Prefetch>) -> Self {
        self.prefetch = Some(prefetch);
        self
    }
}

impl AsyncFileReader for SourceReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let mut v = self.get_byte_ranges(vec![range]).await?;
            Ok(v.pop().unwrap_or_default())
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            let ahead: Vec<Option<(Ahead, usize)>> = match &self.prefetch {
                Some(p) => ranges.iter().map(|r| p.take(r)).collect(),
                None => vec![None; ranges.len()],
            };
            let missing: Vec<Range<u64>> =
                ranges.iter().zip(&ahead).filter(|(_, a)| a.is_none()).map(|(r, _)| r.clone()).collect();
            let mut fetched = if missing.is_empty() {
                Vec::new().into_iter()
            } else {
                self.stats.add(&missing);
                self.source.ranges(missing, &self.loaded.version).await.map_err(to_parquet)?.into_iter()
            };
            let path = self.source.path().to_string();
            let mut out = Vec::with_capacity(ranges.len());
            for a in ahead {
                out.push(match a {
                    None => fetched.next().unwrap_or_default(),
                    Some((shared, i)) => {
                        shared.await.map_err(|(kind, message)| to_parquet(Error::new(kind, &path, message)))?[i].clone()
                    }
                });
            }
            Ok(out)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        let md = self.loaded.metadata.clone();
        async move { Ok(md) }.boxed()
    }
}

/// Our error inside the Parquet decoder, to be unwrapped again by [`from_parquet`].
pub(crate) fn to_parquet(e: Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

/// A Parquet error as ours: errors of the source come back as they were; the decoder's own
/// are about the file's content.
pub(crate) fn from_parquet(path: &str, e: ParquetError) -> Error {
    match e {
        ParquetError::External(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::new(ErrorKind::Other, path, format!("reading Parquet '{path}': {other}")),
        },
        ParquetError::ArrowError(msg) => {
            Error::new(ErrorKind::InvalidData, path, format!("reading Parquet '{path}': {msg}"))
        }
        other => Error::new(ErrorKind::InvalidData, path, format!("'{path}' is not a valid Parquet file: {other}")),
    }
}
