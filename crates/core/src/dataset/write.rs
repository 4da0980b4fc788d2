//! Writing a dataset: batches split by the values of the partition columns into
//! `key=value/` folders (the columns themselves are not stored in the files, as pyarrow does),
//! each folder's rows encoded as `part-0.parquet`, `part-1.parquet`, … of at most
//! `max_rows_per_file` rows. The writer only encodes: it hands out each file's bytes as they
//! are produced, and the caller stores them.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_ord::partition::partition;
use arrow_ord::sort::{lexsort_to_indices, SortColumn};
use arrow_schema::{Schema, SchemaRef};
use arrow_select::take::take_record_batch;

use super::partition::encode_segment;
use crate::error::{Error, Result};
use crate::parquet::{EncodeOptions, ParquetEncoder};

#[derive(Debug, Clone, Default)]
pub struct WriterOptions {
    /// Columns whose values name the folders, outermost first.
    pub partition_by: Vec<String>,
    pub encode: EncodeOptions,
    /// Rows per file, at most (default: no limit).
    pub max_rows_per_file: Option<usize>,
}

/// Encoded bytes of one file; `last` when the file is complete.
#[derive(Debug)]
pub struct EncodedChunk {
    /// Relative to the dataset's folder, e.g. `year=2024/part-0.parquet`.
    pub path: String,
    pub bytes: Vec<u8>,
    pub last: bool,
}

struct OpenFile {
    path: String,
    encoder: ParquetEncoder,
    rows: usize,
}

/// A folder's files: the one being filled, and how many were started.
#[derive(Default)]
struct Folder {
    open: Option<OpenFile>,
    started: usize,
}

/// `f` over `items`, spread over the machine's cores (encoding is CPU-bound, and each folder's
/// files are independent of the others').
fn each_parallel<T: Send, R: Send>(items: &mut [T], f: impl Fn(&mut T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len());
    if threads <= 1 {
        return items.iter_mut().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> =
            items.chunks_mut(per).map(|chunk| s.spawn(move || chunk.iter_mut().map(f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// See the module documentation.
pub struct DatasetWriter {
    opts: WriterOptions,
    /// The first batch's schema; every later batch must have the same fields.
    schema: Option<SchemaRef>,
    partition_columns: Vec<usize>,
    data_columns: Vec<usize>,
    data_schema: Option<SchemaRef>,
    folders: HashMap<String, Folder>,
    /// Folders in the order their first rows came (chunks come out in that order).
    order: Vec<String>,
}

impl DatasetWriter {
    pub fn new(opts: WriterOptions) -> Result<DatasetWriter> {
        if opts.max_rows_per_file == Some(0) {
            return Err(Error::argument("", "maxRowsPerFile must be at least 1"));
        }
        for (i, c) in opts.partition_by.iter().enumerate() {
            if opts.partition_by[..i].contains(c) {
                return Err(Error::argument("", format!("partitionBy: '{c}' is listed twice")));
            }
        }
        Ok(DatasetWriter {
            opts,
            schema: None,
            partition_columns: Vec::new(),
            data_columns: Vec::new(),
            data_schema: None,
            folders: HashMap::new(),
            order: Vec::new(),
        })
    }

    fn init(&mut self, schema: &SchemaRef) -> Result<()> {
        if let Some(s) = &self.schema {
            if s.fields() != schema.fields() {
                return Err(Error::argument("", "a batch's schema differs from the first one's"));
            }
            return Ok(());
        }
        let mut partition_columns = Vec::with_capacity(self.opts.partition_by.len());
        for name in &self.opts.partition_by {
            let i = schema.index_of(name).map_err(|_| {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                Error::argument(
                    "",
                    format!("partitionBy: unknown column '{name}'; the columns are: {}", have.join(", ")),
                )
            })?;
            partition_columns.push(i);
        }
        let data_columns: Vec<usize> = (0..schema.fields().len()).filter(|i| !partition_columns.contains(i)).collect();
        if data_columns.is_empty() {
            return Err(Error::argument(
                "",
                "partitionBy: every column is a partition column; nothing is left to store",
            ));
        }
        let data_schema = Arc::new(schema.project(&data_columns).map_err(|e| Error::argument("", e.to_string()))?);
        self.schema = Some(schema.clone());
        self.partition_columns = partition_columns;
        self.data_columns = data_columns;
        self.data_schema = Some(data_schema);
        Ok(())
    }

    /// Add a batch; returns the bytes encoded so far, by file.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<Vec<EncodedChunk>> {
        self.init(&batch.schema())?;
        let mut work: Vec<(String, Folder, RecordBatch)> = Vec::new();
        for (name, rows) in self.split(batch)? {
            let folder = self.folders.remove(&name).unwrap_or_else(|| {
                self.order.push(name.clone());
                Folder::default()
            });
            work.push((name, folder, rows));
        }
        let (opts, schema) = (&self.opts, self.data_schema.clone().unwrap());
        let results = each_parallel(&mut work, |(name, folder, rows)| append(opts, &schema, name, folder, rows));
        for (name, folder, _) in work {
            self.folders.insert(name, folder);
        }
        Ok(results.into_iter().collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
    }

    /// Complete every file. `schema` (when no batch came) is checked like a batch's would be.
    pub fn finish(&mut self, schema: Option<SchemaRef>) -> Result<Vec<EncodedChunk>> {
        if let Some(s) = schema {
            self.init(&s)?;
        }
        let mut open: Vec<OpenFile> = std::mem::take(&mut self.order)
            .iter()
            .filter_map(|name| self.folders.get_mut(name).and_then(|f| f.open.take()))
            .collect();
        // Most of the encoding happens here: rows wait in the encoder until a row group is full.
        let done = each_parallel(&mut open, |f| f.encoder.finish());
        open.into_iter()
            .zip(done)
            .map(|(f, bytes)| Ok(EncodedChunk { path: f.path, bytes: bytes?, last: true }))
            .collect()
    }

    /// The batch's rows by folder (without the partition columns), folders in value order,
    /// rows in their order.
    fn split(&self, batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>> {
        let data = |b: &RecordBatch| -> Result<RecordBatch> {
            let projected = b.project(&self.data_columns).map_err(|e| Error::argument("", e.to_string()))?;
            // The file keeps the schema's metadata (a batch may carry none).
            projected.with_schema(self.data_schema.clone().unwrap()).map_err(|e| Error::argument("", e.to_string()))
        };
        if self.partition_columns.is_empty() {
            return Ok(vec![(String::new(), data(batch)?)]);
        }
        let n = batch.num_rows();
        let mut keys: Vec<SortColumn> = self
            .partition_columns
            .iter()
            .map(|&i| SortColumn { values: batch.column(i).clone(), options: None })
            .collect();
        // The row number last: rows of one folder keep their order.
        keys.push(SortColumn { values: Arc::new(UInt32Array::from_iter_values(0..n as u32)), options: None });
        let order = lexsort_to_indices(&keys, None).map_err(|e| Error::argument("", format!("partitionBy: {e}")))?;
        let sorted = take_record_batch(batch, &order).map_err(|e| Error::argument("", e.to_string()))?;
        let key_columns: Vec<ArrayRef> = self.partition_columns.iter().map(|&i| sorted.column(i).clone()).collect();
        let ranges = partition(&key_columns).map_err(|e| Error::argument("", format!("partitionBy: {e}")))?.ranges();
        let options = FormatOptions::default();
        let formatters = key_columns
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::argument("", format!("partitionBy: {e}")))?;
        let rows = data(&sorted)?;
        Ok(ranges
            .into_iter()
            .map(|r| {
                let folder = self
                    .opts
                    .partition_by
                    .iter()
                    .zip(key_columns.iter().zip(&formatters))
                    .map(|(name, (col, fmt))| {
                        let value = col.is_valid(r.start).then(|| fmt.value(r.start).to_string());
                        format!("{name}={}", encode_segment(value.as_deref()))
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                (folder, rows.slice(r.start, r.end - r.start))
            })
            .collect())
    }

    /// The schema of the files (the input's without the partition columns), once known.
    pub fn file_schema(&self) -> Option<&Schema> {
        self.data_schema.as_deref()
    }
}

/// Rows into `name`'s files, starting a new file whenever one is full.
fn append(
    opts: &WriterOptions,
    schema: &SchemaRef,
    name: &str,
    folder: &mut Folder,
    rows: &RecordBatch,
) -> Result<Vec<EncodedChunk>> {
    let mut out = Vec::new();
    let mut rows = rows.clone();
    while rows.num_rows() > 0 {
        let file = match folder.open.as_mut() {
            Some(f) => f,
            None => {
                let part = format!("part-{}.parquet", folder.started);
                folder.started += 1;
                let path = if name.is_empty() { part } else { format!("{name}/{part}") };
                let mut encode = opts.encode.clone();
                if let Some(max) = opts.max_rows_per_file {
                    let rg = encode.row_group_size.unwrap_or(crate::parquet::write::DEFAULT_ROW_GROUP_SIZE);
                    encode.row_group_size = Some(rg.min(max));
                }
                let encoder = ParquetEncoder::new(&path, schema.clone(), &encode)?;
                folder.open.insert(OpenFile { path, encoder, rows: 0 })
            }
        };
        let room = opts.max_rows_per_file.map(|m| m - file.rows).unwrap_or(usize::MAX);
        let take = rows.num_rows().min(room);
        let mut bytes = file.encoder.write(&rows.slice(0, take))?;
        file.rows += take;
        rows = rows.slice(take, rows.num_rows() - take);
        if Some(file.rows) == opts.max_rows_per_file {
            let mut f = folder.open.take().unwrap();
            bytes.extend(f.encoder.finish()?);
            out.push(EncodedChunk { path: f.path, bytes, last: true });
        } else if !bytes.is_empty() {
            out.push(EncodedChunk { path: file.path.clone(), bytes, last: false });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{Int64Array, StringArray};

    fn batch() -> RecordBatch {
        let x: ArrayRef = Arc::new(Int64Array::from(vec![0, 1, 2, 3, 4, 5]));
        let p: ArrayRef =
            Arc::new(StringArray::from(vec![Some("b"), Some("a"), None, Some("b"), Some("a b"), Some("b")]));
        RecordBatch::try_from_iter(vec![("x", x), ("p", p)]).unwrap()
    }

    #[test]
    fn rows_go_to_their_folder_in_order_and_files_roll_over() {
        let opts = WriterOptions { partition_by: vec!["p".into()], max_rows_per_file: Some(2), ..Default::default() };
        let mut w = DatasetWriter::new(opts).unwrap();
        let mut chunks = w.write(&batch()).unwrap();
        chunks.extend(w.finish(None).unwrap());
        let done: Vec<String> = chunks.iter().filter(|c| c.last).map(|c| c.path.clone()).collect();
        assert_eq!(
            done,
            [
                "p=b/part-0.parquet",
                "p=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
                "p=a/part-0.parquet",
                "p=a%20b/part-0.parquet",
                "p=b/part-1.parquet",
            ]
        );
        let b: Vec<u8> =
            chunks.iter().filter(|c| c.path == "p=b/part-0.parquet").flat_map(|c| c.bytes.clone()).collect();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes::Bytes::from(b), 1024).unwrap();
        let rows: Vec<RecordBatch> = reader.collect::<std::result::Result<_, _>>().unwrap();
        assert_eq!(rows[0].schema().fields().len(), 1, "the partition column is not stored");
        assert_eq!(rows[0].column(0).as_primitive::<Int64Type>().values(), &[0, 3]);
    }

    /// pyarrow's `write_to_dataset` of a table without rows writes no file (not even the
    /// folder), partitioned or not; so does this writer, but it still checks the schema.
    #[test]
    fn no_rows_write_no_file_but_the_schema_is_still_checked() {
        for partition_by in [vec![], vec!["p".to_string()]] {
            let mut w = DatasetWriter::new(WriterOptions { partition_by, ..Default::default() }).unwrap();
            let mut chunks = w.write(&batch().slice(0, 0)).unwrap();
            chunks.extend(w.finish(None).unwrap());
            assert!(chunks.is_empty(), "{:?}", chunks.iter().map(|c| &c.path).collect::<Vec<_>>());
        }
        let mut w = DatasetWriter::new(WriterOptions { partition_by: vec!["p".into()], ..Default::default() }).unwrap();
        assert!(w.finish(Some(batch().schema())).unwrap().is_empty());
        assert_eq!(w.file_schema().map(|s| s.fields().len()), Some(1));
        let mut w =
            DatasetWriter::new(WriterOptions { partition_by: vec!["nope".into()], ..Default::default() }).unwrap();
        assert!(w.finish(Some(batch().schema())).unwrap_err().message.contains("'nope'"));
    }

    #[test]
    fn unknown_or_all_partition_columns_are_refused() {
        let mut w =
            DatasetWriter::new(WriterOptions { partition_by: vec!["nope".into()], ..Default::default() }).unwrap();
        let e = w.write(&batch()).unwrap_err();
        assert!(e.message.contains("'nope'") && e.message.contains("x, p"), "{}", e.message);
        let mut w =
            DatasetWriter::new(WriterOptions { partition_by: vec!["x".into(), "p".into()], ..Default::default() })
                .unwrap();
        assert!(w.write(&batch()).is_err());
        assert!(DatasetWriter::new(WriterOptions { max_rows_per_file: Some(0), ..Default::default() }).is_err());
    }
}
