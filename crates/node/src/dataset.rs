//! Bindings for datasets: scans over many Parquet files and partitioned encoding.
//! Translation only: the logic is in `remote_store_core::dataset`.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use remote_store_core as core;
use remote_store_core::dataset::{self as ds, Sources};
use remote_store_core::handover;
use remote_store_core::CancellationToken;

use crate::parquet::{
    blocking, encode_options, filter_of, foreign, host_types, limit_of, with_path, ArrowBatch, EncoderOptions,
    FilterTerm, HostFiles, HostTypeOptions, ImportNode, JsFiles,
};
use crate::{spawn, to_napi_err, CancelToken, NativeObjectStore};

#[napi(object)]
pub struct DatasetOptions {
    /// Folders named `key=value` give columns (default true).
    pub hive: Option<bool>,
    pub columns: Option<Vec<String>>,
    pub filter: Option<Vec<Vec<FilterTerm>>>,
    pub limit: Option<f64>,
    pub batch_size: Option<u32>,
    pub host: Option<HostTypeOptions>,
}

fn dataset_options(base: &str, o: Option<DatasetOptions>) -> core::Result<ds::DatasetOptions> {
    let Some(o) = o else { return Ok(ds::DatasetOptions { hive: true, ..Default::default() }) };
    Ok(ds::DatasetOptions {
        hive: o.hive.unwrap_or(true),
        columns: o.columns,
        filter: filter_of(base, o.filter)?,
        limit: limit_of(o.limit),
        batch_size: o.batch_size.map(|b| b as usize),
        host: host_types(o.host),
    })
}

/// How far a dataset scan has come.
#[napi(object)]
pub struct DatasetProgress {
    /// Files to read (after pruning by partition values).
    pub files_total: f64,
    pub files_done: f64,
    pub rows: f64,
    /// Bytes fetched (footers included) and the requests that fetched them.
    pub bytes: f64,
    pub requests: f64,
}

/// An open dataset scan.
#[napi]
pub struct DatasetScanHandle {
    inner: Arc<ds::DatasetScan>,
}

#[napi]
impl DatasetScanHandle {
    /// The next batch, or null at the end.
    #[napi(ts_return_type = "Promise<ArrowBatch | null>")]
    pub fn next<'env>(&self, env: &'env Env, token: &CancelToken) -> Result<PromiseRaw<'env, Option<ArrowBatch>>> {
        let scan = self.inner.clone();
        let t = token.inner.clone();
        spawn(env, async move { scan.next(&t).await }, |_, b| Ok(b.map(ArrowBatch::new)))
    }

    /// An empty batch with the dataset's schema.
    #[napi]
    pub fn schema(&self) -> ArrowBatch {
        ArrowBatch::new(arrow_array::RecordBatch::new_empty(self.inner.schema()))
    }

    /// The files left to read after pruning by partition values, in reading order.
    #[napi]
    pub fn files(&self) -> Vec<String> {
        self.inner.files()
    }

    /// Rows of those files, from their footers (before any row filter).
    #[napi]
    pub fn num_rows(&self) -> f64 {
        self.inner.num_rows() as f64
    }

    #[napi]
    pub fn progress(&self) -> DatasetProgress {
        use std::sync::atomic::Ordering::Relaxed;
        let p = self.inner.progress();
        DatasetProgress {
            files_total: p.files_total.load(Relaxed) as f64,
            files_done: p.files_done.load(Relaxed) as f64,
            rows: p.rows.load(Relaxed) as f64,
            bytes: p.fetched.bytes.load(Relaxed) as f64,
            requests: p.fetched.requests.load(Relaxed) as f64,
        }
    }

    /// Stop reading and free what the scan holds; later `next` calls give null.
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

fn open<'env>(
    env: &'env Env,
    sources: Arc<dyn Sources>,
    base: String,
    paths: Vec<String>,
    options: Option<DatasetOptions>,
    token: CancellationToken,
) -> Result<PromiseRaw<'env, DatasetScanHandle>> {
    let opts = dataset_options(&base, options);
    spawn(env, async move { ds::DatasetScan::open(sources, &base, paths, opts?, &token).await }, |_, s| {
        Ok(DatasetScanHandle { inner: Arc::new(s) })
    })
}

/// Open a scan of the Parquet files `paths` below the folder `base`, read through JavaScript.
#[napi(ts_return_type = "Promise<DatasetScanHandle>")]
pub fn dataset_open_source<'env>(
    env: &'env Env,
    files: JsFiles,
    base: String,
    paths: Vec<String>,
    options: Option<DatasetOptions>,
    token: &CancelToken,
) -> Result<PromiseRaw<'env, DatasetScanHandle>> {
    open(env, Arc::new(HostFiles::new(files)), base, paths, options, token.inner.clone())
}

#[napi]
impl NativeObjectStore {
    /// Open a scan of the Parquet objects `paths` below the folder `base` of this store.
    #[napi(ts_return_type = "Promise<DatasetScanHandle>")]
    pub fn dataset_open<'env>(
        &self,
        env: &'env Env,
        base: String,
        paths: Vec<String>,
        options: Option<DatasetOptions>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, DatasetScanHandle>> {
        let sources = Arc::new(ds::StoreSources::new(self.store().map_err(to_napi_err)?, token.inner.clone()));
        open(env, sources, base, paths, options, token.inner.clone())
    }
}

// ---- writing ---------------------------------------------------------------------------

#[napi(object)]
pub struct DatasetWriterOptions {
    pub partition_by: Option<Vec<String>>,
    pub max_rows_per_file: Option<f64>,
    pub encoder: Option<EncoderOptions>,
}

/// Bytes of one file of the dataset; `last` when the file is complete.
#[napi(object)]
pub struct EncodedChunk {
    /// Relative to the dataset's folder.
    pub path: String,
    pub data: Buffer,
    pub last: bool,
}

/// Encodes batches as a partitioned dataset on worker threads; each call resolves with the
/// bytes ready so far, by file.
#[napi]
pub struct DatasetWriterHandle {
    inner: Arc<Mutex<ds::DatasetWriter>>,
}

fn chunks(v: Vec<ds::EncodedChunk>) -> Vec<EncodedChunk> {
    v.into_iter().map(|c| EncodedChunk { path: c.path, data: Buffer::from(c.bytes), last: c.last }).collect()
}

#[napi]
impl DatasetWriterHandle {
    #[napi(constructor)]
    pub fn new(options: Option<DatasetWriterOptions>) -> Result<Self> {
        let o = options.unwrap_or(DatasetWriterOptions { partition_by: None, max_rows_per_file: None, encoder: None });
        let max_rows_per_file = match o.max_rows_per_file {
            Some(n) if !(n >= 1.0 && n.is_finite()) => {
                return Err(to_napi_err(core::Error::argument("", "maxRowsPerFile must be at least 1")))
            }
            n => n.map(|n| n as usize),
        };
        let opts = ds::WriterOptions {
            partition_by: o.partition_by.unwrap_or_default(),
            encode: encode_options("", o.encoder).map_err(to_napi_err)?,
            max_rows_per_file,
        };
        Ok(DatasetWriterHandle { inner: Arc::new(Mutex::new(ds::DatasetWriter::new(opts).map_err(to_napi_err)?)) })
    }

    /// Add a batch (a struct array whose children are the columns).
    #[napi(ts_return_type = "Promise<EncodedChunk[]>")]
    pub fn write<'env>(&self, env: &'env Env, root: ImportNode) -> Result<PromiseRaw<'env, Vec<EncodedChunk>>> {
        let node = foreign(root);
        let inner = self.inner.clone();
        spawn(
            env,
            blocking(move || {
                let batch = handover::import_batch(node)?;
                inner.lock().unwrap_or_else(|e| e.into_inner()).write(&batch)
            }),
            |_, v| Ok(chunks(v)),
        )
    }

    /// Complete every file. `schemaSource` (an empty batch) gives the schema when no batch
    /// was written, to check `partitionBy` against.
    #[napi(ts_return_type = "Promise<EncodedChunk[]>")]
    pub fn finish<'env>(
        &self,
        env: &'env Env,
        schema_source: Option<ImportNode>,
    ) -> Result<PromiseRaw<'env, Vec<EncodedChunk>>> {
        let node = schema_source.map(foreign);
        let inner = self.inner.clone();
        spawn(
            env,
            blocking(move || {
                let schema = node.map(|n| handover::import_batch(n).map(|b| b.schema())).transpose()?;
                inner.lock().unwrap_or_else(|e| e.into_inner()).finish(schema).map_err(|e| with_path(e, ""))
            }),
            |_, v| Ok(chunks(v)),
        )
    }
}
