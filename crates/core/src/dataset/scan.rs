//! Reading a dataset: many Parquet files as one stream of record batches of one schema.
//!
//! Planning, before any data is read: files are pruned by their partition values (no request
//! for a pruned file), the footers of the others are read (a few at a time), their schemas
//! unified, and the filter checked against the dataset's schema. Scanning: each file is a
//! [`ParquetScan`] (row groups pruned by statistics, pages by the page index, rows filtered
//! exactly) run as a task of its own; several files are read at once, as many as a memory
//! budget allows, and their batches come out in file order.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::{new_null_array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_buffer::BooleanBuffer;
use arrow_cast::cast::cast;
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::partition::{ignored, Partitions};
use super::Sources;
use crate::error::{Error, ErrorKind, Result};
use crate::handover::HostTypes;
use crate::parquet::filter::{bind_term, BoundFilter};
use crate::parquet::scan::DEFAULT_BATCH_SIZE;
use crate::parquet::{
    decoded_schema, host_schema, load_metadata, FetchStats, Filter, LoadedMetadata, Op, ParquetScan, ScanOptions, Term,
    FOOTER_HINT,
};
use crate::store::cancellable;

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct DatasetOptions {
    /// Folders named `key=value` give columns (`false`: folder names mean nothing).
    pub hive: bool,
    /// Columns (of the files or partition keys), in the order wanted.
    pub columns: Option<Vec<String>>,
    pub filter: Option<Filter>,
    /// At most this many rows (after filtering).
    pub limit: Option<usize>,
    /// Rows per batch (default 65,536); a batch never spans two files.
    pub batch_size: Option<usize>,
    pub host: HostTypes,
}

/// How far a scan has come. `bytes` counts what was fetched, footers included.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    pub rows: AtomicU64,
    pub fetched: FetchStats,
}

/// Files whose footers are fetched at once while planning.
const FOOTERS_IN_FLIGHT: usize = 16;
/// Files read at once, at most.
const FILES_IN_FLIGHT: usize = 8;
/// What the files being read may hold at once (estimated from their footers), beyond the
/// first file, which is always read.
const MEMORY_BUDGET: u64 = 256 * 1024 * 1024;
/// Batches a file's task decodes ahead of the consumer.
const CHANNEL_BATCHES: usize = 1;

/// Where an output column comes from, for one file.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// Column `i` of the file's scan batches.
    File(usize),
    /// The file lacks the column: nulls.
    Missing,
    /// Partition key `k`: the file's value, repeated.
    Partition(usize),
}

struct PlannedFile {
    path: String,
    /// Index among the dataset's files (partition values).
    index: usize,
    loaded: LoadedMetadata,
    scan: ScanOptions,
    sources: Vec<Source>,
    /// Bytes its reading may hold at once.
    estimate: u64,
}

/// A file's batches, read by a task of its own. `None` ends a file that was read to the end.
struct Running {
    rx: mpsc::Receiver<Result<Option<RecordBatch>>>,
    task: tokio::task::JoinHandle<()>,
    path: String,
    estimate: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    next: usize,
    running: VecDeque<Running>,
    rows_left: Option<usize>,
}

/// An open dataset scan; see the module documentation.
pub struct DatasetScan {
    schema: SchemaRef,
    files: Vec<Arc<PlannedFile>>,
    partitions: Arc<Partitions>,
    sources: Arc<dyn Sources>,
    progress: Arc<Progress>,
    state: tokio::sync::Mutex<State>,
}

impl DatasetScan {
    /// Plan a scan of the Parquet files `paths` below `base` (a folder; `''` is the root).
    pub async fn open(
        sources: Arc<dyn Sources>,
        base: &str,
        paths: Vec<String>,
        opts: DatasetOptions,
        token: &CancellationToken,
    ) -> Result<DatasetScan> {
        cancellable(token, base, plan(sources, base, paths, opts)).await
    }

    /// The schema of every batch: the files' columns unified, then the partition keys.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Paths of the files left after pruning by partition values, in reading order.
    pub fn files(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    /// Rows of those files, from their footers (before any row filter).
    pub fn num_rows(&self) -> u64 {
        self.files.iter().map(|f| f.loaded.metadata.file_metadata().num_rows().max(0) as u64).sum()
    }

    /// The next batch, or `None` at the end.
    pub async fn next(&self, token: &CancellationToken) -> Result<Option<RecordBatch>> {
        let mut guard = self.state.lock().await;
        let state = &mut *guard;
        loop {
            if state.rows_left == Some(0) {
                state.running.clear();
                return Ok(None);
            }
            self.start_files(state);
            let Some(front) = state.running.front_mut() else { return Ok(None) };
            let path = front.path.clone();
            let got = cancellable(token, &path, async { Ok(front.rx.recv().await) }).await?;
            match got {
                Some(Ok(Some(mut batch))) => {
                    if let Some(left) = state.rows_left.as_mut() {
                        if batch.num_rows() > *left {
                            batch = batch.slice(0, *left);
                        }
                        *left -= batch.num_rows();
                    }
                    self.progress.rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    return Ok(Some(batch));
                }
                Some(Ok(None)) => {
                    state.running.pop_front();
                    self.progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
                Some(Err(e)) => {
                    self.stop(state);
                    return Err(e);
                }
                None => {
                    self.stop(state);
                    return Err(Error::new(ErrorKind::Other, &path, format!("reading '{path}' stopped unexpectedly")));
                }
            }
        }
    }

    /// Stop early and free what the scan holds.
    pub async fn close(&self) {
        let mut state = self.state.lock().await;
        self.stop(&mut state);
    }

    fn stop(&self, state: &mut State) {
        state.running.clear();
        state.next = self.files.len();
    }

    /// Start reading the next files while the budget allows (always at least one file; one
    /// at a time under a row limit, which the first files may well satisfy).
    fn start_files(&self, state: &mut State) {
        let most = if state.rows_left.is_some() { 1 } else { FILES_IN_FLIGHT };
        while state.next < self.files.len() && state.running.len() < most {
            let file = self.files[state.next].clone();
            let held: u64 = state.running.iter().map(|r| r.estimate).sum();
            if !state.running.is_empty() && held + file.estimate > MEMORY_BUDGET {
                break;
            }
            state.next += 1;
            let mut scan_opts = file.scan.clone();
            scan_opts.limit = state.rows_left;
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            let task = tokio::spawn(read_file(
                file.clone(),
                scan_opts,
                self.sources.clone(),
                self.partitions.clone(),
                self.schema.clone(),
                self.progress.clone(),
                tx,
            ));
            state.running.push_back(Running { rx, task, path: file.path.clone(), estimate: file.estimate });
        }
    }
}

/// One file's batches into `tx`, as the dataset's schema has them.
async fn read_file(
    file: Arc<PlannedFile>,
    opts: ScanOptions,
    sources: Arc<dyn Sources>,
    partitions: Arc<Partitions>,
    schema: SchemaRef,
    progress: Arc<Progress>,
    tx: mpsc::Sender<Result<Option<RecordBatch>>>,
) {
    let token = CancellationToken::new();
    let stats = Arc::new(FetchStats::default());
    let counted = Counted { stats: stats.clone(), progress: progress.clone(), seen: Default::default() };
    let scan = match ParquetScan::with_metadata(sources.open(&file.path), opts, file.loaded.clone(), stats) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    loop {
        let item = scan.next(&token).await;
        counted.sync();
        let item = match item {
            Ok(Some(batch)) => adapt(&file, &partitions, &schema, batch).map(Some),
            other => other,
        };
        let last = !matches!(item, Ok(Some(_)));
        if tx.send(item).await.is_err() || last {
            return;
        }
    }
}

/// Adds a file scan's fetch counts to the dataset's as they grow.
struct Counted {
    stats: Arc<FetchStats>,
    progress: Arc<Progress>,
    seen: (AtomicU64, AtomicU64),
}

impl Counted {
    fn sync(&self) {
        let requests = self.stats.requests.load(Ordering::Relaxed);
        let bytes = self.stats.bytes.load(Ordering::Relaxed);
        let r0 = self.seen.0.swap(requests, Ordering::Relaxed);
        let b0 = self.seen.1.swap(bytes, Ordering::Relaxed);
        self.progress.fetched.requests.fetch_add(requests - r0, Ordering::Relaxed);
        self.progress.fetched.bytes.fetch_add(bytes - b0, Ordering::Relaxed);
    }
}

/// A file's batch as the dataset's: missing columns as nulls, partition keys as constants,
/// dictionary-encoded columns decoded where other files have them plain.
fn adapt(file: &PlannedFile, partitions: &Partitions, schema: &SchemaRef, batch: RecordBatch) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let columns = file
        .sources
        .iter()
        .zip(schema.fields())
        .map(|(source, field)| -> Result<ArrayRef> {
            Ok(match *source {
                Source::File(i) => {
                    let c = batch.column(i);
                    if c.data_type() == field.data_type() {
                        c.clone()
                    } else {
                        cast(c, field.data_type()).map_err(|e| {
                            Error::new(ErrorKind::InvalidData, &file.path, format!("'{}': {e}", file.path))
                        })?
                    }
                }
                Source::Missing => new_null_array(field.data_type(), rows),
                Source::Partition(k) => partitions.constant(k, file.index, rows),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(schema.clone(), columns, &RecordBatchOptions::new().with_row_count(Some(rows)))
        .map_err(|e| Error::new(ErrorKind::Other, &file.path, format!("'{}': {e}", file.path)))
}

/// Per conjunction, per term: for terms on partition keys, which files they hold for.
type Decisions = Vec<Vec<Option<BooleanBuffer>>>;

/// Decide the filter's terms on partition keys for every file (one row per file).
fn decide_partition_terms(filter: &Filter, partitions: &Partitions, base: &str) -> Result<Decisions> {
    let all: Vec<usize> = (0..partitions.values.len()).collect();
    let schema = Schema::new(partitions.fields.clone());
    filter
        .any_of
        .iter()
        .map(|conj| {
            conj.iter()
                .map(|term| {
                    let Some(k) = partitions.index_of(&term.column) else { return Ok(None) };
                    let bound = bind_term(term, &schema, base)?;
                    let rows = bound
                        .rows(&partitions.column(k, &all))
                        .map_err(|e| Error::argument(base, format!("filter on '{}': {e}", term.column)))?;
                    Ok(Some(rows))
                })
                .collect()
        })
        .collect()
}

/// Whether file `f` may hold matching rows, judged by its partition values only.
fn may_match(filter: &Filter, decisions: &Decisions, f: usize) -> bool {
    filter
        .any_of
        .iter()
        .zip(decisions)
        .any(|(conj, d)| conj.iter().zip(d).all(|(_, decided)| decided.as_ref().map(|b| b.value(f)).unwrap_or(true)))
}

/// What is left of the filter for file `f` once its partition values are known: `None` when
/// no row can match, `Some(None)` when every row does.
fn residual(
    filter: &Filter,
    decisions: &Decisions,
    f: usize,
    has_column: impl Fn(&str) -> bool,
) -> Option<Option<Filter>> {
    let mut any_of: Vec<Vec<Term>> = Vec::new();
    for (conj, d) in filter.any_of.iter().zip(decisions) {
        let mut rest = Vec::new();
        let mut possible = true;
        for (term, decided) in conj.iter().zip(d) {
            match decided {
                Some(b) => possible &= b.value(f),
                // A column the file lacks is null in all its rows: null matches `not in`
                // (every row passes that term) and nothing else.
                None if !has_column(&term.column) => possible &= term.op == Op::NotIn,
                None => rest.push(term.clone()),
            }
        }
        if !possible {
            continue;
        }
        if rest.is_empty() {
            return Some(None);
        }
        any_of.push(rest);
    }
    if any_of.is_empty() {
        None
    } else {
        Some(Some(Filter { any_of }))
    }
}

/// The files' schemas as one: every column of any file, in order of first appearance; a
/// column some file lacks is nullable. Types must agree (a dictionary-encoded column and a
/// plain one of its value type unify as the plain type).
fn unify(schemas: &[(String, SchemaRef)]) -> Result<Schema> {
    let mut fields: Vec<(Field, String)> = Vec::new();
    for (path, schema) in schemas {
        for f in schema.fields() {
            match fields.iter_mut().find(|(u, _)| u.name() == f.name()) {
                None => fields.push((f.as_ref().clone(), path.clone())),
                Some((u, first)) => {
                    let t = match (u.data_type(), f.data_type()) {
                        (a, b) if a == b => a.clone(),
                        (DataType::Dictionary(_, v), b) | (b, DataType::Dictionary(_, v)) if v.as_ref() == b => {
                            b.clone()
                        }
                        (DataType::Dictionary(_, v), DataType::Dictionary(_, w)) if v == w => v.as_ref().clone(),
                        (a, b) => {
                            return Err(Error::new(
                                ErrorKind::InvalidData,
                                path,
                                format!(
                                    "column '{}' is {a} in '{first}' but {b} in '{path}': the files of a dataset must agree on each column's type",
                                    f.name()
                                ),
                            ))
                        }
                    };
                    let nullable = u.is_nullable() || f.is_nullable();
                    *u = u.clone().with_data_type(t).with_nullable(nullable);
                }
            }
        }
    }
    let n = schemas.len();
    let out: Vec<Field> = fields
        .into_iter()
        .map(|(f, _)| {
            let everywhere = schemas.iter().filter(|(_, s)| s.field_with_name(f.name()).is_ok()).count() == n;
            let nullable = f.is_nullable() || !everywhere;
            f.with_nullable(nullable)
        })
        .collect();
    let metadata = schemas.first().map(|(_, s)| s.metadata().clone()).unwrap_or_default();
    Ok(Schema::new_with_metadata(out, metadata))
}

async fn plan(sources: Arc<dyn Sources>, base: &str, paths: Vec<String>, opts: DatasetOptions) -> Result<DatasetScan> {
    // Files, in path order, without the hidden ones (`_SUCCESS`, `.crc`, `_temporary/`).
    let prefix = if base.is_empty() { String::new() } else { format!("{base}/") };
    let mut files: Vec<(String, String)> = paths
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(&prefix).map(str::to_string).unwrap_or_else(|| p.clone());
            (!ignored(&rel)).then_some((p, rel))
        })
        .collect();
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(Error::new(ErrorKind::NotFound, base, format!("no data files in dataset '{base}'")));
    }
    let partitions = if opts.hive {
        Partitions::discover(files.iter().map(|(_, rel)| rel.as_str()))
    } else {
        Partitions { fields: Vec::new(), values: vec![Vec::new(); files.len()] }
    };

    // Prune by partition values before any request.
    let decisions = match &opts.filter {
        Some(f) => Some(decide_partition_terms(f, &partitions, base)?),
        None => None,
    };
    let kept: Vec<usize> = (0..files.len())
        .filter(|&i| match (&opts.filter, &decisions) {
            (Some(f), Some(d)) => may_match(f, d, i),
            _ => true,
        })
        .collect();

    // Footers of the files left: the first alone, to size the others' first request.
    let page_index = opts
        .filter
        .as_ref()
        .is_some_and(|f| f.any_of.iter().flatten().any(|t| partitions.index_of(&t.column).is_none()));
    let fetched = Arc::new(FetchStats::default());
    let footer = |i: usize, hint: u64| {
        let source = sources.open(&files[i].0);
        let fetched = fetched.clone();
        async move { load_metadata(source.as_ref(), page_index, hint, &fetched).await }
    };
    let mut loaded: Vec<LoadedMetadata> = Vec::with_capacity(kept.len());
    if let Some(&first) = kept.first() {
        loaded.push(footer(first, FOOTER_HINT).await?);
        let hint = match loaded[0].footer_len {
            0 => FOOTER_HINT,
            n => (n * 2).next_multiple_of(4096).clamp(8 * 1024, FOOTER_HINT),
        };
        let rest: Vec<_> = kept[1..].iter().map(|&i| footer(i, hint)).collect();
        loaded.extend(futures::stream::iter(rest).buffered(FOOTERS_IN_FLIGHT).try_collect::<Vec<_>>().await?);
    }

    // One schema.
    let mut file_schemas: Vec<(String, SchemaRef)> = Vec::with_capacity(kept.len());
    for (&i, l) in kept.iter().zip(&loaded) {
        let path = &files[i].0;
        let decoded = decoded_schema(&l.metadata, path)?;
        file_schemas.push((path.clone(), host_schema(&l.metadata, &decoded, opts.host)));
    }
    if kept.is_empty() {
        // Every file was pruned: the first one still tells the schema.
        let l = footer(0, FOOTER_HINT).await?;
        let decoded = decoded_schema(&l.metadata, &files[0].0)?;
        file_schemas.push((files[0].0.clone(), host_schema(&l.metadata, &decoded, opts.host)));
    }
    let unified = unify(&file_schemas)?;
    for f in &partitions.fields {
        if let Some((path, _)) = file_schemas.iter().find(|(_, s)| s.field_with_name(f.name()).is_ok()) {
            return Err(Error::new(
                ErrorKind::InvalidData,
                path,
                format!("column '{}' of '{path}' is also a partition key of its folders", f.name()),
            ));
        }
    }
    let mut all: Vec<FieldRef> = unified.fields().iter().cloned().collect();
    all.extend(partitions.fields.iter().cloned());
    let full = Schema::new_with_metadata(all, unified.metadata().clone());
    if let Some(f) = &opts.filter {
        // Names and value types are checked against the whole dataset's schema.
        BoundFilter::bind(f, &full, base)?;
    }
    let fields: Vec<FieldRef> = match &opts.columns {
        None => full.fields().iter().cloned().collect(),
        Some(names) => {
            let mut out: Vec<FieldRef> = Vec::with_capacity(names.len());
            for name in names {
                let f = full.field_with_name(name).map_err(|_| {
                    let have: Vec<&str> = full.fields().iter().map(|f| f.name().as_str()).collect();
                    Error::argument(
                        base,
                        format!(
                            "columns: unknown column '{name}' in dataset '{base}'; its columns are: {}",
                            have.join(", ")
                        ),
                    )
                })?;
                if out.iter().any(|o| o.name() == name) {
                    return Err(Error::argument(base, format!("columns: '{name}' is listed twice")));
                }
                out.push(Arc::new(f.clone()));
            }
            out
        }
    };
    let schema = Arc::new(Schema::new_with_metadata(fields, unified.metadata().clone()));

    // Per file: what to read and how its batches become the dataset's.
    let mut planned = Vec::with_capacity(kept.len());
    for ((&i, l), (path, file_schema)) in kept.iter().zip(loaded).zip(&file_schemas) {
        let has = |name: &str| file_schema.field_with_name(name).is_ok();
        let filter = match (&opts.filter, &decisions) {
            (Some(f), Some(d)) => match residual(f, d, i, has) {
                None => continue,
                Some(rest) => rest,
            },
            _ => None,
        };
        let mut columns: Vec<String> = Vec::new();
        let sources_of: Vec<Source> = schema
            .fields()
            .iter()
            .map(|f| {
                if let Some(k) = partitions.index_of(f.name()) {
                    Source::Partition(k)
                } else if has(f.name()) {
                    columns.push(f.name().clone());
                    Source::File(columns.len() - 1)
                } else {
                    Source::Missing
                }
            })
            .collect();
        let estimate = estimate(&l, file_schema, &columns, filter.as_ref());
        planned.push(Arc::new(PlannedFile {
            path: path.clone(),
            index: i,
            loaded: l,
            scan: ScanOptions {
                columns: Some(columns),
                filter,
                row_groups: None,
                limit: None,
                batch_size: Some(opts.batch_size.filter(|b| *b > 0).unwrap_or(DEFAULT_BATCH_SIZE)),
                host: opts.host,
            },
            sources: sources_of,
            estimate,
        }));
    }
    let progress = Progress { files_total: AtomicU64::new(planned.len() as u64), ..Default::default() };
    progress.fetched.requests.store(fetched.requests.load(Ordering::Relaxed), Ordering::Relaxed);
    progress.fetched.bytes.store(fetched.bytes.load(Ordering::Relaxed), Ordering::Relaxed);
    Ok(DatasetScan {
        schema,
        files: planned,
        partitions: Arc::new(partitions),
        sources,
        progress: Arc::new(progress),
        state: tokio::sync::Mutex::new(State { next: 0, running: VecDeque::new(), rows_left: opts.limit }),
    })
}

/// Bytes reading a file may hold at once: as many of its largest row groups (of the columns
/// read) as are fetched and decoded ahead, at most the whole selection.
fn estimate(l: &LoadedMetadata, schema: &Schema, columns: &[String], filter: Option<&Filter>) -> u64 {
    let md = &l.metadata;
    let descr = md.file_metadata().schema_descr();
    let mut roots: Vec<usize> = columns.iter().filter_map(|c| schema.index_of(c).ok()).collect();
    if let Some(f) = filter {
        roots.extend(f.any_of.iter().flatten().filter_map(|t| schema.index_of(&t.column).ok()));
    }
    let per_group: Vec<u64> = md
        .row_groups()
        .iter()
        .map(|rg| {
            rg.columns()
                .iter()
                .enumerate()
                .filter(|(leaf, _)| roots.contains(&descr.get_column_root_idx(*leaf)))
                .map(|(_, c)| c.uncompressed_size().max(0) as u64)
                .sum()
        })
        .collect();
    let largest = per_group.iter().copied().max().unwrap_or(0);
    let total: u64 = per_group.iter().sum();
    (largest * (crate::parquet::scan::decode_depth() as u64 + CHANNEL_BATCHES as u64 + 1)).min(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet::Value;

    fn term(c: &str, op: Op, v: Value) -> Term {
        Term { column: c.into(), op, values: vec![v] }
    }

    #[test]
    fn partition_terms_prune_files_and_leave_the_rest_of_the_filter() {
        let p = Partitions::discover(["year=2023/a.parquet", "year=2024/a.parquet", "year=2025/a.parquet"]);
        // (year >= 2024 and x > 1) or (year = 2023)
        let f = Filter {
            any_of: vec![
                vec![term("year", Op::Ge, Value::Int(2024)), term("x", Op::Gt, Value::Int(1))],
                vec![term("year", Op::Eq, Value::Int(2023))],
            ],
        };
        let d = decide_partition_terms(&f, &p, "").unwrap();
        assert!((0..3).all(|i| may_match(&f, &d, i)));
        assert_eq!(residual(&f, &d, 0, |_| true), Some(None), "2023: every row");
        let rest = residual(&f, &d, 1, |_| true).unwrap().unwrap();
        assert_eq!(rest.any_of, vec![vec![term("x", Op::Gt, Value::Int(1))]]);
        assert_eq!(residual(&f, &d, 2, |c| c != "x"), None, "a column the file lacks matches nothing");
        let not_in =
            Filter { any_of: vec![vec![term("year", Op::Ge, Value::Int(2024)), term("x", Op::NotIn, Value::Int(1))]] };
        let d = decide_partition_terms(&not_in, &p, "").unwrap();
        assert_eq!(
            residual(&not_in, &d, 2, |c| c != "x"),
            Some(None),
            "but the nulls of a column it lacks are not in [1]"
        );

        let only = Filter { any_of: vec![vec![term("year", Op::Eq, Value::Int(2025))]] };
        let d = decide_partition_terms(&only, &p, "").unwrap();
        assert_eq!((0..3).filter(|&i| may_match(&only, &d, i)).collect::<Vec<_>>(), [2]);
        let wrong = Filter { any_of: vec![vec![term("year", Op::Eq, Value::Str("2025".into()))]] };
        let e = decide_partition_terms(&wrong, &p, "").err().unwrap();
        assert!(e.message.contains("'year'") && e.message.contains("Int32"), "{}", e.message);
    }

    #[test]
    fn schemas_unify_missing_columns_as_nullable_and_refuse_conflicts() {
        let a: SchemaRef = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let b: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Int64, false),
            Field::new("y", DataType::Utf8, false),
        ]));
        let u = unify(&[("a".into(), a.clone()), ("b".into(), b)]).unwrap();
        assert!(!u.field_with_name("x").unwrap().is_nullable());
        assert!(u.field_with_name("y").unwrap().is_nullable());
        let c: SchemaRef = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, false)]));
        let e = unify(&[("a".into(), a), ("c".into(), c)]).unwrap_err();
        assert!(e.message.contains("'x'") && e.message.contains("'a'") && e.message.contains("'c'"), "{}", e.message);
    }
}

#[cfg(test)]
mod io_tests {
    use super::*;
    use crate::dataset::StoreSources;
    use crate::parquet::{EncodeOptions, ParquetEncoder};
    use crate::store::Store;
    use crate::write::WriteOptions;
    use arrow_array::{ArrayRef, Int64Array};

    async fn put_file(store: &Store, path: &str, rows: i64) -> u64 {
        let batch =
            RecordBatch::try_from_iter(vec![("x", Arc::new(Int64Array::from_iter_values(0..rows)) as ArrayRef)])
                .unwrap();
        let mut enc = ParquetEncoder::new(path, batch.schema(), &EncodeOptions::default()).unwrap();
        let mut bytes = enc.write(&batch).unwrap();
        bytes.extend(enc.finish().unwrap());
        let n = bytes.len() as u64;
        store.put(path, bytes.into(), &WriteOptions::default(), &CancellationToken::new()).await.unwrap();
        n
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn progress_counts_footers_and_data_and_pruned_files_are_never_fetched() {
        let store = Store::memory();
        let mut sizes = 0;
        for day in 1..=4 {
            let n = put_file(&store, &format!("d/day={day}/part-0.parquet"), 50_000).await;
            if day == 2 || day == 3 {
                sizes += n;
            }
        }
        let token = CancellationToken::new();
        let paths = (1..=4).map(|d| format!("d/day={d}/part-0.parquet")).collect();
        let filter = Filter {
            any_of: vec![vec![Term {
                column: "day".into(),
                op: crate::parquet::Op::In,
                values: vec![crate::parquet::Value::Int(2), crate::parquet::Value::Int(3)],
            }]],
        };
        let opts = DatasetOptions { hive: true, filter: Some(filter), ..Default::default() };
        let sources = Arc::new(StoreSources::new(store, token.clone()));
        let scan = DatasetScan::open(sources, "d", paths, opts, &token).await.unwrap();
        let mut rows = 0;
        while let Some(b) = scan.next(&token).await.unwrap() {
            rows += b.num_rows();
        }
        assert_eq!(rows, 100_000);
        let p = scan.progress();
        assert_eq!(p.files_total.load(Ordering::Relaxed), 2);
        assert_eq!(p.files_done.load(Ordering::Relaxed), 2);
        let fetched = p.fetched.bytes.load(Ordering::Relaxed);
        // Each file is read once for its footer (a suffix of at most 64 KiB) and once for its
        // column chunk: about its size, never anything of days 1 and 4.
        assert!(fetched > sizes && fetched < 2 * sizes, "fetched {fetched} bytes of files totalling {sizes}");
    }
}
