//! Bindings for Parquet scans, Arrow handover and Parquet encoding. Translation only: the
//! logic is in `remote_store_core::{parquet, handover}`.

use std::collections::HashMap;
use std::ops::Range;
use std::panic::RefUnwindSafe;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use remote_store_core as core;
use remote_store_core::handover::{self, HostTypes};
use remote_store_core::parquet as pq;
use remote_store_core::{Bytes, CancellationToken};

use crate::{invalid, js_error, spawn, CancelToken, NativeObjectStore};

// ---- options ---------------------------------------------------------------------------

/// Which optional Arrow types the installed apache-arrow has; the others are cast before export.
#[napi(object)]
pub struct HostTypeOptions {
    pub large_list: Option<bool>,
    pub large_utf8: Option<bool>,
    pub large_binary: Option<bool>,
    pub decimal256: Option<bool>,
}

pub(crate) fn host_types(h: Option<HostTypeOptions>) -> HostTypes {
    let d = HostTypes::default();
    match h {
        None => d,
        Some(h) => HostTypes {
            large_list: h.large_list.unwrap_or(d.large_list),
            large_utf8: h.large_utf8.unwrap_or(d.large_utf8),
            large_binary: h.large_binary.unwrap_or(d.large_binary),
            decimal256: h.decimal256.unwrap_or(d.decimal256),
        },
    }
}

/// One filter value; exactly one field is set. Numbers that are safe integers compare as
/// integers, others as floats; bigints arrive in decimal as `bigint`.
#[napi(object)]
pub struct FilterValue {
    pub bool: Option<bool>,
    pub num: Option<f64>,
    pub bigint: Option<String>,
    pub str: Option<String>,
    pub bytes: Option<Buffer>,
    /// A Date, as milliseconds since the epoch.
    pub date_ms: Option<f64>,
}

#[napi(object)]
pub struct FilterTerm {
    pub column: String,
    pub op: String,
    pub values: Vec<FilterValue>,
}

#[napi(object)]
pub struct ScanOptions {
    pub columns: Option<Vec<String>>,
    /// Disjunctive normal form: conjunctions (terms ANDed) ORed together.
    pub filter: Option<Vec<Vec<FilterTerm>>>,
    pub row_groups: Option<Vec<u32>>,
    pub limit: Option<f64>,
    pub batch_size: Option<u32>,
    pub host: Option<HostTypeOptions>,
}

fn filter_value(path: &str, column: &str, v: FilterValue) -> core::Result<pq::Value> {
    Ok(if let Some(b) = v.bool {
        pq::Value::Bool(b)
    } else if let Some(n) = v.num {
        // -0 stays a float: `in [-0]` is a different set from `in [0]` on a float column.
        if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 && !(n == 0.0 && n.is_sign_negative()) {
            pq::Value::Int(n as i64)
        } else {
            pq::Value::Float(n)
        }
    } else if let Some(s) = v.bigint {
        pq::Value::BigInt(s)
    } else if let Some(s) = v.str {
        pq::Value::Str(s)
    } else if let Some(b) = v.bytes {
        pq::Value::Bytes(b.to_vec())
    } else if let Some(ms) = v.date_ms.filter(|m| m.is_finite()) {
        pq::Value::TimestampMs(ms as i64)
    } else {
        return Err(core::Error::argument(path, format!("filter: the value for '{column}' is empty")));
    })
}

/// A filter in the core's terms; errors name the column or operator at fault.
pub(crate) fn filter_of(path: &str, filter: Option<Vec<Vec<FilterTerm>>>) -> core::Result<Option<pq::Filter>> {
    let Some(any_of) = filter else { return Ok(None) };
    let mut conjs = Vec::with_capacity(any_of.len());
    for conj in any_of {
        let mut terms = Vec::with_capacity(conj.len());
        for t in conj {
            let op = pq::Op::parse(&t.op).ok_or_else(|| {
                core::Error::argument(
                    path,
                    format!(
                        "filter: unknown operator '{}' for '{}'; use =, ==, !=, <, <=, >, >=, in, not in",
                        t.op, t.column
                    ),
                )
            })?;
            let values = t.values.into_iter().map(|v| filter_value(path, &t.column, v)).collect::<core::Result<_>>()?;
            terms.push(pq::Term { column: t.column, op, values });
        }
        conjs.push(terms);
    }
    Ok(Some(pq::Filter { any_of: conjs }))
}

/// A row limit as the core takes it (a negative or non-finite one means none).
pub(crate) fn limit_of(l: Option<f64>) -> Option<usize> {
    l.filter(|l| l.is_finite() && *l >= 0.0).map(|l| l as usize)
}

fn scan_options(path: &str, o: Option<ScanOptions>) -> core::Result<pq::ScanOptions> {
    let Some(o) = o else { return Ok(pq::ScanOptions::default()) };
    Ok(pq::ScanOptions {
        columns: o.columns,
        filter: filter_of(path, o.filter)?,
        row_groups: o.row_groups.map(|v| v.into_iter().map(|g| g as usize).collect()),
        limit: limit_of(o.limit),
        batch_size: o.batch_size.map(|b| b as usize),
        host: host_types(o.host),
    })
}

// ---- byte sources ----------------------------------------------------------------------

#[napi(object)]
pub struct SuffixResult {
    pub data: Buffer,
    pub size: f64,
    pub etag: Option<String>,
    pub version: Option<String>,
}

type SuffixFn = ThreadsafeFunction<f64, Promise<SuffixResult>, f64, Status, false, true>;
type RangesFn =
    ThreadsafeFunction<Vec<crate::ByteRange>, Promise<Vec<Buffer>>, Vec<crate::ByteRange>, Status, false, true>;

/// A Parquet object read through JavaScript (stores without a native data path).
#[napi(object, object_to_js = false)]
pub struct JsByteSource {
    pub path: String,
    /// The last `n` bytes and the object's size (and version, when known).
    pub suffix: SuffixFn,
    /// One Buffer per range, in order.
    pub ranges: RangesFn,
}

/// The last `n` bytes of the object at `path` (see [`JsByteSource::suffix`]).
#[napi(object)]
pub struct SuffixRequest {
    pub path: String,
    pub n: f64,
}

#[napi(object)]
pub struct RangesRequest {
    pub path: String,
    pub ranges: Vec<crate::ByteRange>,
}

type KeyedSuffixFn = ThreadsafeFunction<SuffixRequest, Promise<SuffixResult>, SuffixRequest, Status, false, true>;
type KeyedRangesFn = ThreadsafeFunction<RangesRequest, Promise<Vec<Buffer>>, RangesRequest, Status, false, true>;

/// The objects of a store read through JavaScript, by path (the files of a dataset).
#[napi(object, object_to_js = false)]
pub struct JsFiles {
    pub suffix: KeyedSuffixFn,
    pub ranges: KeyedRangesFn,
}

/// How a host source reaches JavaScript: callbacks for one object, or for any object by path.
enum HostFns {
    One { suffix: SuffixFn, ranges: RangesFn },
    ByPath { suffix: KeyedSuffixFn, ranges: KeyedRangesFn },
}

struct HostSource {
    path: String,
    fns: Arc<HostFns>,
}

fn host_error(path: &str, e: Error) -> core::Error {
    // The JS side maps its store errors before they reach us; keep their text.
    core::Error::new(core::ErrorKind::Other, path, e.reason.clone())
}

#[async_trait::async_trait]
impl pq::ByteSource for HostSource {
    fn path(&self) -> &str {
        &self.path
    }

    fn cache_key(&self) -> Option<String> {
        None
    }

    async fn suffix(&self, n: u64) -> core::Result<(Bytes, core::ObjectVersion)> {
        let fail = |e| host_error(&self.path, e);
        let r = match self.fns.as_ref() {
            HostFns::One { suffix, .. } => suffix.call_async_catch(n as f64).await.map_err(fail)?.await,
            HostFns::ByPath { suffix, .. } => {
                let req = SuffixRequest { path: self.path.clone(), n: n as f64 };
                suffix.call_async_catch(req).await.map_err(fail)?.await
            }
        }
        .map_err(fail)?;
        let version = core::ObjectVersion { size: r.size as u64, etag: r.etag, version: r.version };
        Ok((Bytes::from_owner(r.data), version))
    }

    async fn ranges(&self, ranges: Vec<Range<u64>>, _version: &core::ObjectVersion) -> core::Result<Vec<Bytes>> {
        let fail = |e| host_error(&self.path, e);
        let arg: Vec<crate::ByteRange> = ranges
            .iter()
            .map(|r| crate::ByteRange { offset: r.start as f64, length: (r.end - r.start) as f64 })
            .collect();
        let bufs = match self.fns.as_ref() {
            HostFns::One { ranges, .. } => ranges.call_async_catch(arg).await.map_err(fail)?.await,
            HostFns::ByPath { ranges, .. } => {
                let req = RangesRequest { path: self.path.clone(), ranges: arg };
                ranges.call_async_catch(req).await.map_err(fail)?.await
            }
        }
        .map_err(fail)?;
        if bufs.len() != ranges.len() {
            return Err(core::Error::new(
                core::ErrorKind::Other,
                &self.path,
                "byte source returned the wrong number of ranges",
            ));
        }
        Ok(bufs.into_iter().map(Bytes::from_owner).collect())
    }
}

fn host_source(s: JsByteSource) -> Arc<dyn pq::ByteSource> {
    Arc::new(HostSource { path: s.path, fns: Arc::new(HostFns::One { suffix: s.suffix, ranges: s.ranges }) })
}

/// The files of a dataset read through JavaScript.
pub(crate) struct HostFiles(Arc<HostFns>);

impl HostFiles {
    pub(crate) fn new(f: JsFiles) -> Self {
        HostFiles(Arc::new(HostFns::ByPath { suffix: f.suffix, ranges: f.ranges }))
    }
}

impl core::dataset::Sources for HostFiles {
    fn open(&self, path: &str) -> Arc<dyn pq::ByteSource> {
        Arc::new(HostSource { path: path.to_string(), fns: self.0.clone() })
    }
}

// ---- scans -----------------------------------------------------------------------------

/// An open Parquet scan.
#[napi]
pub struct ParquetScanHandle {
    inner: Arc<pq::ParquetScan>,
}

#[napi(object)]
pub struct ScanStats {
    pub requests: f64,
    pub bytes: f64,
}

#[napi(object)]
pub struct ScanPlan {
    pub row_groups_in_file: u32,
    pub row_groups: Vec<u32>,
    pub rows_selected: f64,
}

#[napi]
impl ParquetScanHandle {
    /// The next batch, or null at the end.
    #[napi(ts_return_type = "Promise<ArrowBatch | null>")]
    pub fn next<'env>(&self, env: &'env Env, token: &CancelToken) -> Result<PromiseRaw<'env, Option<ArrowBatch>>> {
        let scan = self.inner.clone();
        let t = token.inner.clone();
        spawn(env, async move { scan.next(&t).await }, |_, b| Ok(b.map(ArrowBatch::new)))
    }

    /// An empty batch with the scan's schema.
    #[napi]
    pub fn schema(&self) -> ArrowBatch {
        ArrowBatch::new(arrow_array::RecordBatch::new_empty(self.inner.schema()))
    }

    #[napi]
    pub fn stats(&self) -> ScanStats {
        use std::sync::atomic::Ordering::Relaxed;
        let s = self.inner.stats();
        ScanStats { requests: s.requests.load(Relaxed) as f64, bytes: s.bytes.load(Relaxed) as f64 }
    }

    #[napi(ts_return_type = "Promise<ScanPlan>")]
    pub fn plan<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ScanPlan>> {
        let scan = self.inner.clone();
        spawn(env, async move { Ok(scan.plan().await) }, |_, p| {
            Ok(ScanPlan {
                row_groups_in_file: p.row_groups_in_file as u32,
                row_groups: p.row_groups.into_iter().map(|g| g as u32).collect(),
                rows_selected: p.rows_selected as f64,
            })
        })
    }

    /// Free what the scan holds; later `next` calls give null.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let scan = self.inner.clone();
        spawn(
            env,
            async move {
                scan.close().await;
                Ok(())
            },
            |_, _| Ok(()),
        )
    }
}

fn open_scan<'env>(
    env: &'env Env,
    source: Arc<dyn pq::ByteSource>,
    options: Option<ScanOptions>,
    token: CancellationToken,
) -> Result<PromiseRaw<'env, ParquetScanHandle>> {
    let path = source.path().to_string();
    let opts = scan_options(&path, options);
    spawn(env, async move { pq::ParquetScan::open(source, opts?, &token).await }, |_, s| {
        Ok(ParquetScanHandle { inner: Arc::new(s) })
    })
}

/// Open a scan of a Parquet object read through JavaScript.
#[napi(ts_return_type = "Promise<ParquetScanHandle>")]
pub fn parquet_open_source<'env>(
    env: &'env Env,
    source: JsByteSource,
    options: Option<ScanOptions>,
    token: &CancelToken,
) -> Result<PromiseRaw<'env, ParquetScanHandle>> {
    open_scan(env, host_source(source), options, token.inner.clone())
}

// ---- summaries -------------------------------------------------------------------------

#[napi(object)]
pub struct ColumnChunkSummary {
    pub path: String,
    pub physical_type: String,
    pub compression: String,
    pub compressed_size: f64,
    pub uncompressed_size: f64,
    pub null_count: Option<f64>,
    pub min: Option<String>,
    pub max: Option<String>,
}

#[napi(object)]
pub struct RowGroupSummary {
    pub num_rows: f64,
    pub total_byte_size: f64,
    pub compressed_size: f64,
    pub columns: Vec<ColumnChunkSummary>,
}

#[napi(object, object_from_js = false)]
pub struct ParquetSummary {
    pub num_rows: f64,
    pub created_by: Option<String>,
    pub version: i32,
    pub key_value_metadata: HashMap<String, String>,
    pub row_groups: Vec<RowGroupSummary>,
    pub size: f64,
    pub has_page_index: bool,
    /// An empty batch of the file's schema.
    pub schema: ArrowBatch,
}

fn summary(s: pq::FileSummary) -> ParquetSummary {
    ParquetSummary {
        num_rows: s.num_rows as f64,
        created_by: s.created_by.clone(),
        version: s.version,
        key_value_metadata: s.key_value_metadata.iter().cloned().collect(),
        row_groups: s
            .row_groups
            .iter()
            .map(|g| RowGroupSummary {
                num_rows: g.num_rows as f64,
                total_byte_size: g.total_byte_size as f64,
                compressed_size: g.compressed_size as f64,
                columns: g
                    .columns
                    .iter()
                    .map(|c| ColumnChunkSummary {
                        path: c.path.clone(),
                        physical_type: c.physical_type.clone(),
                        compression: c.compression.clone(),
                        compressed_size: c.compressed_size as f64,
                        uncompressed_size: c.uncompressed_size as f64,
                        null_count: c.null_count.map(|n| n as f64),
                        min: c.min.clone(),
                        max: c.max.clone(),
                    })
                    .collect(),
            })
            .collect(),
        size: s.size as f64,
        has_page_index: s.has_page_index,
        schema: ArrowBatch::new(s.empty_batch()),
    }
}

/// The footer of a Parquet object read through JavaScript.
#[napi(ts_return_type = "Promise<ParquetSummary>")]
pub fn parquet_summary_source<'env>(
    env: &'env Env,
    source: JsByteSource,
    host: Option<HostTypeOptions>,
) -> Result<PromiseRaw<'env, ParquetSummary>> {
    let source = host_source(source);
    let host = host_types(host);
    spawn(env, async move { pq::read_summary(source.as_ref(), host).await }, |_, s| Ok(summary(s)))
}

#[napi]
impl NativeObjectStore {
    /// Open a scan of the Parquet object at `path` on this store's native data path.
    #[napi(ts_return_type = "Promise<ParquetScanHandle>")]
    pub fn parquet_open<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<ScanOptions>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, ParquetScanHandle>> {
        let source =
            Arc::new(pq::StoreSource::new(self.store().map_err(|e| js_error(env, e))?, path, token.inner.clone()));
        open_scan(env, source, options, token.inner.clone())
    }

    /// The footer of the Parquet object at `path`.
    #[napi(ts_return_type = "Promise<ParquetSummary>")]
    pub fn parquet_summary<'env>(
        &self,
        env: &'env Env,
        path: String,
        host: Option<HostTypeOptions>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, ParquetSummary>> {
        let source = pq::StoreSource::new(self.store().map_err(|e| js_error(env, e))?, path, token.inner.clone());
        let host = host_types(host);
        let t = token.inner.clone();
        spawn(
            env,
            async move {
                let path = pq::ByteSource::path(&source).to_string();
                core::cancellable(&t, &path, pq::read_summary(&source, host)).await
            },
            |_, s| Ok(summary(s)),
        )
    }
}

// ---- batches out -----------------------------------------------------------------------

/// A decoded record batch held in Rust until exported.
#[napi]
pub struct ArrowBatch {
    batch: Option<arrow_array::RecordBatch>,
    exported: Option<handover::ExportedBatch>,
}

impl ArrowBatch {
    pub(crate) fn new(batch: arrow_array::RecordBatch) -> Self {
        ArrowBatch { batch: Some(batch), exported: None }
    }

    fn exported(&mut self) -> Result<&handover::ExportedBatch> {
        if self.exported.is_none() {
            let batch =
                self.batch.take().ok_or_else(|| Error::new(Status::InvalidArg, "this batch was exported already"))?;
            let e = handover::export_batch(&batch).map_err(|e| Error::new(Status::GenericFailure, e.message))?;
            self.exported = Some(e);
        }
        Ok(self.exported.as_ref().unwrap())
    }
}

/// An allocation a batch's buffers live in: its address (as hex, an identity only) and the
/// bytes the batch uses of it.
#[napi(object)]
pub struct RegionKey {
    pub key: String,
    pub length: f64,
}

#[napi]
impl ArrowBatch {
    #[napi(getter)]
    pub fn num_rows(&self) -> u32 {
        self.batch.as_ref().map(|b| b.num_rows() as u32).unwrap_or(0)
    }

    /// The allocations `export` will hand over, so that the caller can pass back ArrayBuffers
    /// it already holds over the same allocation (dictionaries are shared between batches).
    #[napi]
    pub fn region_keys(&mut self) -> Result<Vec<RegionKey>> {
        Ok(self
            .exported()?
            .regions
            .iter()
            .map(|r| RegionKey { key: format!("{:x}", r.ptr as usize), length: r.len as f64 })
            .collect())
    }

    /// Hand the batch over: one external ArrayBuffer per allocation (released when the last
    /// one is garbage-collected) and the array tree with views into them. `reuse[i]`, when
    /// given, is an ArrayBuffer the caller holds over region i's allocation (from an earlier
    /// batch, at least as long); it is used instead of a second one. Once only.
    #[napi(ts_return_type = "{ regions: ArrayBuffer[]; root: ExportedNode; schemaMetadata: Record<string, string> }")]
    pub fn export<'env>(
        &mut self,
        env: &'env Env,
        reuse: Option<Vec<Option<ArrayBuffer<'env>>>>,
    ) -> Result<Object<'env>> {
        self.exported()?;
        let e = self.exported.take().unwrap();
        let mut reuse = reuse.unwrap_or_default().into_iter();
        let mut regions = Vec::with_capacity(e.regions.len());
        for r in &e.regions {
            let given = reuse.next().flatten().filter(|ab| ab.len() >= r.len);
            let ab = match given {
                Some(ab) => ab,
                None if r.len == 0 => ArrayBuffer::from_data(env, Vec::<u8>::new())?,
                None => {
                    let owner = e.owner.clone();
                    // Safety: the region lies inside buffers owned by `owner`, which the
                    // finalizer keeps alive until V8 collects the ArrayBuffer.
                    unsafe {
                        ArrayBuffer::from_external(env, r.ptr as *mut u8, r.len, owner, |_, owner| {
                            // The last view of a batch frees all its buffers: not on the JS thread.
                            let bytes = owner.bytes();
                            core::memory::drop_elsewhere(owner, bytes)
                        })?
                    }
                }
            };
            regions.push(ab);
        }
        let mut out = Object::new(env)?;
        out.set("regions", regions)?;
        out.set("root", node_object(env, &e.root)?)?;
        out.set("schemaMetadata", e.schema_metadata.into_iter().collect::<HashMap<_, _>>())?;
        Ok(out)
    }
}

fn node_object<'env>(env: &'env Env, n: &handover::Node) -> Result<Object<'env>> {
    let mut o = Object::new(env)?;
    o.set("format", n.format.as_str())?;
    o.set("name", n.name.as_str())?;
    o.set("nullable", n.nullable)?;
    o.set("metadata", n.metadata.iter().cloned().collect::<HashMap<_, _>>())?;
    o.set("dictionaryOrdered", n.dictionary_ordered)?;
    o.set("mapKeysSorted", n.map_keys_sorted)?;
    o.set("length", n.length as f64)?;
    o.set("offset", n.offset as f64)?;
    o.set("nullCount", n.null_count as f64)?;
    let buffers: Vec<Option<Vec<f64>>> =
        n.buffers.iter().map(|b| b.map(|v| vec![v.region as f64, v.offset as f64, v.len as f64])).collect();
    o.set("buffers", buffers)?;
    let children = n.children.iter().map(|c| node_object(env, c)).collect::<Result<Vec<_>>>()?;
    o.set("children", children)?;
    match &n.dictionary {
        Some(d) => o.set("dictionary", node_object(env, d)?)?,
        None => o.set("dictionary", Null)?,
    }
    Ok(o)
}

// ---- batches in, Parquet out -----------------------------------------------------------

/// One array of an apache-arrow batch, described the C Data Interface way; buffers are
/// lent, not copied (do not change the batch until the write resolves).
#[napi(object, object_to_js = false)]
pub struct ImportNode {
    pub format: String,
    pub name: String,
    pub nullable: bool,
    /// The field's metadata; on the root, the schema's.
    pub metadata: Option<HashMap<String, String>>,
    pub length: f64,
    pub offset: f64,
    pub buffers: Vec<Option<Uint8Array>>,
    pub children: Vec<ImportNode>,
    /// Zero or one node: the dictionary's values.
    pub dictionary: Option<Vec<ImportNode>>,
}

/// Keeps a JS typed array (and so its memory) alive while Rust reads it.
struct JsMemory(#[allow(dead_code)] Uint8Array);
impl RefUnwindSafe for JsMemory {}

pub(crate) fn foreign(n: ImportNode) -> handover::ForeignNode {
    let mut metadata: Vec<(String, String)> = n.metadata.unwrap_or_default().into_iter().collect();
    metadata.sort();
    handover::ForeignNode {
        format: n.format,
        name: n.name,
        nullable: n.nullable,
        metadata,
        length: n.length.max(0.0) as usize,
        offset: n.offset.max(0.0) as usize,
        buffers: n
            .buffers
            .into_iter()
            .map(|b| {
                b.map(|b| {
                    let (ptr, len) = (b.as_ptr(), b.len());
                    handover::ForeignBuffer { ptr, len, owner: Arc::new(JsMemory(b)) }
                })
            })
            .collect(),
        children: n.children.into_iter().map(foreign).collect(),
        dictionary: n.dictionary.and_then(|d| d.into_iter().next()).map(|d| Box::new(foreign(d))),
    }
}

#[napi(object)]
pub struct EncoderOptions {
    /// zstd, snappy (default), lz4, gzip, brotli, none.
    pub compression: Option<String>,
    /// zstd 1–22, gzip 0–10, brotli 0–11.
    pub compression_level: Option<i32>,
    pub row_group_size: Option<u32>,
}

/// Encoding options in the core's terms.
pub(crate) fn encode_options(path: &str, o: Option<EncoderOptions>) -> core::Result<pq::EncodeOptions> {
    let mut opts = pq::EncodeOptions::default();
    if let Some(o) = o {
        if o.compression.is_some() || o.compression_level.is_some() {
            let name = o.compression.as_deref().unwrap_or("snappy");
            opts.compression = pq::parse_compression(name, o.compression_level).map_err(|e| with_path(e, path))?;
        }
        if let Some(r) = o.row_group_size {
            if r == 0 {
                return Err(core::Error::argument(path, "rowGroupSize must be at least 1"));
            }
            opts.row_group_size = Some(r as usize);
        }
    }
    Ok(opts)
}

/// Encodes batches as Parquet on worker threads; each call resolves with the bytes ready so far.
#[napi]
pub struct ParquetEncoderHandle {
    path: String,
    opts: pq::EncodeOptions,
    inner: Arc<Mutex<Option<pq::ParquetEncoder>>>,
}

#[napi]
impl ParquetEncoderHandle {
    #[napi(constructor)]
    pub fn new(env: &Env, path: String, options: Option<EncoderOptions>) -> Result<Self> {
        let opts = encode_options(&path, options).map_err(|e| js_error(env, e))?;
        Ok(ParquetEncoderHandle { path, opts, inner: Arc::new(Mutex::new(None)) })
    }

    /// Add a batch (a struct array whose children are the columns).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn write<'env>(&self, env: &'env Env, root: ImportNode) -> Result<PromiseRaw<'env, Buffer>> {
        let node = foreign(root);
        let inner = self.inner.clone();
        let path = self.path.clone();
        let opts = self.opts.clone();
        spawn(
            env,
            blocking(move || {
                let batch = handover::import_batch(node).map_err(|e| with_path(e, &path))?;
                let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
                if guard.is_none() {
                    *guard = Some(pq::ParquetEncoder::new(&path, batch.schema(), &opts)?);
                }
                guard.as_mut().unwrap().write(&batch)
            }),
            |_, v| Ok(Buffer::from(v)),
        )
    }

    /// The rest of the file, footer included. `schemaSource` (an empty batch) gives the schema
    /// when no batch was written.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn finish<'env>(&self, env: &'env Env, schema_source: Option<ImportNode>) -> Result<PromiseRaw<'env, Buffer>> {
        let node = schema_source.map(foreign);
        let inner = self.inner.clone();
        let path = self.path.clone();
        let opts = self.opts.clone();
        spawn(
            env,
            blocking(move || {
                let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
                if guard.is_none() {
                    let node = node.ok_or_else(|| invalid(&path, "no batch and no schema to write"))?;
                    let batch = handover::import_batch(node).map_err(|e| with_path(e, &path))?;
                    *guard = Some(pq::ParquetEncoder::new(&path, batch.schema(), &opts)?);
                }
                guard.as_mut().unwrap().finish()
            }),
            |_, v| Ok(Buffer::from(v)),
        )
    }
}

pub(crate) fn with_path(mut e: core::Error, path: &str) -> core::Error {
    if e.path.is_empty() {
        e.path = path.to_string();
        e.message = format!("{}: {}", path, e.message);
    }
    e
}

/// CPU-bound work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> core::Result<T> + Send + 'static,
) -> core::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(core::Error::new(core::ErrorKind::Other, "", format!("encoder task failed: {e}"))))
}
