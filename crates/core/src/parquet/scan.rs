//! Reading a Parquet object as a stream of record batches, fetching only what the query
//! needs: the projected columns' chunks of the row groups whose statistics may match the
//! filter (and, with a page index, only the pages that may), then filtering rows exactly.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::ParquetRecordBatchStream;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::errors::ParquetError;
use tokio_util::sync::CancellationToken;

use super::filter::{BoundFilter, Filter};
use super::source::{
    from_parquet, invalidate, load_metadata, to_parquet, ByteSource, FetchStats, LoadedMetadata, Prefetch,
    SourceReader, FOOTER_HINT,
};
use crate::error::{Error, ErrorKind, Result};
use crate::handover::HostTypes;
use crate::store::cancellable;
use parquet::schema::types::SchemaDescriptor;

/// What to read. Everything is optional: the default reads the whole file.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Top-level columns, in the order wanted.
    pub columns: Option<Vec<String>>,
    pub filter: Option<Filter>,
    /// Row groups to consider, by index.
    pub row_groups: Option<Vec<usize>>,
    /// At most this many rows (after filtering).
    pub limit: Option<usize>,
    /// Rows per batch (default 65,536).
    pub batch_size: Option<usize>,
    pub host: HostTypes,
}

pub const DEFAULT_BATCH_SIZE: usize = 64 * 1024;

/// How a scan was planned, for callers that want to see what pruning did.
#[derive(Debug, Clone, Default)]
pub struct ScanPlan {
    pub row_groups_in_file: usize,
    /// Row groups left after `row_groups` and statistics.
    pub row_groups: Vec<usize>,
    /// Rows left after page pruning (before the exact filter).
    pub rows_selected: u64,
}

/// Row groups fetched and being decoded on blocking threads, in file order, while the next
/// one is fetched: I/O overlaps decoding, and decoding spreads over the cores.
struct Open {
    stream: ParquetRecordBatchStream<SourceReader>,
    ahead: Option<Ahead>,
    fetched_all: bool,
    decoding: VecDeque<Decoding>,
    ready: VecDeque<RecordBatch>,
    plan: ScanPlan,
    /// Columns are decoded in file order; this puts them in the order asked for.
    order: Option<Vec<usize>>,
    path: String,
}

/// A decode failed. The decoder reports a damaged page as an `ArrowError` (wrapped in
/// `ParquetError::External` when it comes out of the stream), which `from_parquet` cannot tell
/// from a foreign failure; every byte it decodes was fetched already, so such an error is the
/// file's content (damaged pages under a valid footer), unless it is one of ours passed
/// through the decoder.
fn decode_error(path: &str, e: arrow_schema::ArrowError) -> ParquetError {
    match e {
        arrow_schema::ArrowError::ExternalError(inner) if inner.is::<Error>() => ParquetError::External(inner),
        e => to_parquet(Error::new(ErrorKind::InvalidData, path, format!("'{path}' is not a valid Parquet file: {e}"))),
    }
}

/// [`decode_error`] for the stream's errors: fetch failures (ours) pass as they are.
fn stream_error(path: &str, e: ParquetError) -> ParquetError {
    match e {
        ParquetError::External(inner) => match inner.downcast::<arrow_schema::ArrowError>() {
            Ok(arrow) => decode_error(path, *arrow),
            Err(inner) => ParquetError::External(inner),
        },
        other => other,
    }
}

/// Whole column chunks of the row groups to come, fetched ahead of the decoder, so that
/// several requests are in flight while row groups are decoded one by one.
struct Ahead {
    prefetch: Arc<Prefetch>,
    /// The ranges of each row group still to start, in reading order.
    groups: VecDeque<Vec<std::ops::Range<u64>>>,
    source: Arc<dyn ByteSource>,
    version: crate::store::ObjectVersion,
    stats: Arc<FetchStats>,
    /// Row groups fetched ahead of the one the decoder asks for next.
    window: usize,
    started: usize,
    asked: usize,
}

impl Ahead {
    /// The decoder is about to ask for its next row group: keep `window` row groups ahead.
    fn next(&mut self) {
        while self.started < self.asked + 1 + self.window {
            let Some(ranges) = self.groups.pop_front() else { break };
            self.prefetch.start(&self.source, &self.version, &self.stats, ranges);
            self.started += 1;
        }
        self.asked += 1;
    }
}

/// Requests in flight a prefetch aims for (each column chunk is one request), and the most
/// row groups it fetches ahead.
const AHEAD_REQUESTS: usize = 8;
const AHEAD_GROUPS: usize = 4;

/// A row group's decode on the blocking pool; aborted when dropped (a scan closed early).
struct Decoding(tokio::task::JoinHandle<Result<Vec<RecordBatch>, arrow_schema::ArrowError>>);

impl Drop for Decoding {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Row groups decoded at once (each holds its selected column chunks and decoded batches).
/// Asked once: on Linux the answer reads cgroup files, and it is needed for every row group.
pub(crate) fn decode_depth() -> usize {
    static DEPTH: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *DEPTH.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 4))
}

impl Open {
    /// The next decoded batch in file order.
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>, ParquetError> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Ok(Some(b));
            }
            while !self.fetched_all && self.decoding.len() < decode_depth() {
                if let Some(a) = self.ahead.as_mut() {
                    a.next();
                }
                match self.stream.next_row_group().await.map_err(|e| stream_error(&self.path, e))? {
                    Some(reader) => {
                        self.decoding.push_back(Decoding(tokio::task::spawn_blocking(move || reader.collect())))
                    }
                    None => self.fetched_all = true,
                }
            }
            let Some(mut front) = self.decoding.pop_front() else { return Ok(None) };
            let batches = (&mut front.0)
                .await
                .map_err(|e| ParquetError::General(format!("decoding failed: {e}")))?
                .map_err(|e| decode_error(&self.path, e))?;
            self.ready.extend(batches);
        }
    }
}

/// An open scan. Batches come in file order; memory stays bounded by a few row groups (as
/// many as are decoded at once, 2 to 4 by the number of cores) of the selected columns.
pub struct ParquetScan {
    source: Arc<dyn ByteSource>,
    opts: ScanOptions,
    stats: Arc<FetchStats>,
    schema: SchemaRef,
    state: tokio::sync::Mutex<State>,
}

struct State {
    open: Option<Open>,
    loaded: LoadedMetadata,
    yielded: bool,
}

impl ParquetScan {
    /// Read the footer (cached per object version) and plan the scan. No data is fetched yet.
    pub async fn open(
        source: Arc<dyn ByteSource>,
        opts: ScanOptions,
        token: &CancellationToken,
    ) -> Result<ParquetScan> {
        let stats = Arc::new(FetchStats::default());
        let path = source.path().to_string();
        let loaded =
            cancellable(token, &path, load_metadata(source.as_ref(), opts.filter.is_some(), FOOTER_HINT, &stats))
                .await?;
        ParquetScan::with_metadata(source, opts, loaded, stats)
    }

    /// Plan a scan over a footer already read (by [`load_metadata`]); fetches count into `stats`.
    pub fn with_metadata(
        source: Arc<dyn ByteSource>,
        opts: ScanOptions,
        loaded: LoadedMetadata,
        stats: Arc<FetchStats>,
    ) -> Result<ParquetScan> {
        let (open, schema) = plan(&source, &loaded, &opts, &stats)?;
        Ok(ParquetScan {
            source,
            opts,
            stats,
            schema,
            state: tokio::sync::Mutex::new(State { open: Some(open), loaded, yielded: false }),
        })
    }

    /// The schema of every batch this scan yields.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn stats(&self) -> &FetchStats {
        &self.stats
    }

    pub async fn plan(&self) -> ScanPlan {
        self.state.lock().await.open.as_ref().map(|o| o.plan.clone()).unwrap_or_default()
    }

    /// The next batch, or `None` at the end.
    pub async fn next(&self, token: &CancellationToken) -> Result<Option<RecordBatch>> {
        let path = self.source.path().to_string();
        let mut guard = self.state.lock().await;
        let state = &mut *guard;
        loop {
            let Some(open) = state.open.as_mut() else { return Ok(None) };
            let item = cancellable(token, &path, async { Ok(open.next_batch().await) }).await?;
            match item {
                Ok(None) => {
                    state.open = None;
                    return Ok(None);
                }
                Ok(Some(batch)) => {
                    let batch = match &open.order {
                        Some(order) => {
                            batch.project(order).map_err(|e| Error::new(ErrorKind::Other, &path, e.to_string()))?
                        }
                        None => batch,
                    };
                    state.yielded = true;
                    return self.opts.host.to_host(batch, &self.schema, &path).map(Some);
                }
                Err(e) => {
                    let err = from_parquet(&path, e);
                    if err.kind == ErrorKind::Precondition && state.loaded.cached && !state.yielded {
                        // The cached footer belonged to an older version: read it again, once.
                        invalidate(self.source.as_ref());
                        let loaded =
                            load_metadata(self.source.as_ref(), self.opts.filter.is_some(), FOOTER_HINT, &self.stats)
                                .await?;
                        let (open, _) = plan(&self.source, &loaded, &self.opts, &self.stats)?;
                        state.open = Some(open);
                        state.loaded = loaded;
                        continue;
                    }
                    state.open = None;
                    if err.kind == ErrorKind::Precondition {
                        return Err(Error::new(
                            ErrorKind::Precondition,
                            &path,
                            format!("'{path}' was replaced while it was being read"),
                        ));
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Stop early and free what the scan holds.
    pub async fn close(&self) {
        self.state.lock().await.open = None;
    }
}

fn plan(
    source: &Arc<dyn ByteSource>,
    loaded: &LoadedMetadata,
    opts: &ScanOptions,
    stats: &Arc<FetchStats>,
) -> Result<(Open, SchemaRef)> {
    let path = source.path();
    let md = loaded.metadata.clone();
    let arrow_md =
        ArrowReaderMetadata::try_new(md.clone(), ArrowReaderOptions::new()).map_err(|e| from_parquet(path, e))?;
    let file_schema = arrow_md.schema().clone();
    let pq = md.file_metadata().schema_descr_ptr();
    let n_groups = md.num_row_groups();

    // Columns: validated by name; decoded in file order, handed out in the order asked for.
    let (mask, order) = match &opts.columns {
        None => (ProjectionMask::all(), None),
        Some(names) => {
            let mut roots = Vec::with_capacity(names.len());
            for name in names {
                let (i, _) = file_schema.column_with_name(name).ok_or_else(|| {
                    let have: Vec<&str> = file_schema.fields().iter().map(|f| f.name().as_str()).collect();
                    Error::argument(
                        path,
                        format!("columns: unknown column '{name}' in '{path}'; its columns are: {}", have.join(", ")),
                    )
                })?;
                if roots.contains(&i) {
                    return Err(Error::argument(path, format!("columns: '{name}' is listed twice")));
                }
                roots.push(i);
            }
            let mut sorted = roots.clone();
            sorted.sort_unstable();
            let order: Vec<usize> = roots.iter().map(|r| sorted.iter().position(|s| s == r).unwrap()).collect();
            let identity = order.iter().enumerate().all(|(i, &o)| i == o);
            (ProjectionMask::roots(&pq, sorted), (!identity).then_some(order))
        }
    };

    let mut groups: Vec<usize> = match &opts.row_groups {
        None => (0..n_groups).collect(),
        Some(list) => {
            for &g in list {
                if g >= n_groups {
                    return Err(Error::argument(
                        path,
                        format!("rowGroups: '{path}' has {n_groups} row groups; index {g} is out of range"),
                    ));
                }
            }
            list.clone()
        }
    };

    let mut selection = None;
    let mut row_filter = None;
    if let Some(f) = &opts.filter {
        let bound = Arc::new(BoundFilter::bind(f, &file_schema, path)?);
        groups = bound.prune_row_groups(&md, &file_schema, &groups);
        selection = bound.page_selection(&md, &file_schema, &groups);
        row_filter = Some(bound.into_row_filter(&pq));
    }
    let rows_selected = match &selection {
        Some(s) => s.row_count() as u64,
        None => groups.iter().map(|&g| md.row_group(g).num_rows() as u64).sum(),
    };

    // Without a filter or a limit, the decoder reads whole column chunks of every row group
    // planned: fetch them ahead. (With either, it may read parts of chunks or stop early.)
    let ahead = (opts.filter.is_none() && opts.limit.is_none() && groups.len() > 1).then(|| {
        let leaves: Vec<usize> =
            (0..pq.num_columns()).filter(|&l| mask_includes(&opts.columns, &file_schema, &pq, l)).collect();
        let per_group = leaves.len().max(1);
        Ahead {
            prefetch: Arc::new(Prefetch::default()),
            groups: groups
                .iter()
                .map(|&g| {
                    leaves
                        .iter()
                        .map(|&l| {
                            let (start, len) = md.row_group(g).column(l).byte_range();
                            start..start + len
                        })
                        .collect()
                })
                .collect(),
            source: source.clone(),
            version: loaded.version.clone(),
            stats: stats.clone(),
            window: AHEAD_REQUESTS.div_ceil(per_group).clamp(1, AHEAD_GROUPS),
            started: 0,
            asked: 0,
        }
    });
    let mut reader = SourceReader::new(source.clone(), loaded.clone(), stats.clone());
    if let Some(a) = &ahead {
        reader = reader.with_prefetch(a.prefetch.clone());
    }
    let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, arrow_md)
        .with_projection(mask)
        .with_row_groups(groups.clone())
        .with_batch_size(opts.batch_size.filter(|b| *b > 0).unwrap_or(DEFAULT_BATCH_SIZE));
    if let Some(s) = selection {
        builder = builder.with_row_selection(s);
    }
    if let Some(rf) = row_filter {
        builder = builder.with_row_filter(rf);
    }
    if let Some(l) = opts.limit {
        builder = builder.with_limit(l);
    }
    let stream = builder.build().map_err(|e| from_parquet(path, e))?;
    let decoded = stream.schema().clone();
    let handed = match &order {
        Some(o) => decoded.project(o).map_err(|e| Error::new(ErrorKind::Other, path, e.to_string()))?,
        None => decoded.as_ref().clone(),
    };
    // The file's key/value metadata (and the embedded schema's) belongs to every projection.
    let handed = handed.with_metadata(file_schema.metadata().clone());
    let schema = super::host_schema(&md, &handed, opts.host);
    let plan = ScanPlan { row_groups_in_file: n_groups, row_groups: groups, rows_selected };
    Ok((
        Open {
            stream,
            ahead,
            fetched_all: false,
            decoding: VecDeque::new(),
            ready: VecDeque::new(),
            plan,
            order,
            path: source.path().to_string(),
        },
        schema,
    ))
}

/// Whether leaf column `leaf` belongs to the top-level columns asked for (all when `None`).
fn mask_includes(
    columns: &Option<Vec<String>>,
    schema: &arrow_schema::Schema,
    pq: &SchemaDescriptor,
    leaf: usize,
) -> bool {
    match columns {
        None => true,
        Some(names) => {
            let root = pq.get_column_root_idx(leaf);
            names.iter().any(|n| schema.index_of(n).ok() == Some(root))
        }
    }
}
