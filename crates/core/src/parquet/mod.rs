//! Parquet on the data path: column-pruned, statistics-pruned reads from any [`ByteSource`],
//! and encoding record batches for writing.
//!
//! ```no_run
//! # async fn demo() -> remote_store_core::Result<()> {
//! use std::sync::Arc;
//! use remote_store_core::parquet::{ParquetScan, ScanOptions, StoreSource, Filter, Term, Op, Value};
//! use remote_store_core::{CancellationToken, Store};
//!
//! let store = Store::local("/srv/data")?;
//! let token = CancellationToken::new();
//! let source = Arc::new(StoreSource::new(store, "events.parquet", token.clone()));
//! let filter = Filter { any_of: vec![vec![Term { column: "year".into(), op: Op::Ge, values: vec![Value::Int(2024)] }]] };
//! let opts = ScanOptions { columns: Some(vec!["id".into(), "year".into()]), filter: Some(filter), ..Default::default() };
//! let scan = ParquetScan::open(source, opts, &token).await?;
//! while let Some(batch) = scan.next(&token).await? {
//!     println!("{} rows", batch.num_rows());
//! }
//! # Ok(()) }
//! ```

pub mod filter;
pub mod hint;
pub mod scan;
pub mod source;
pub mod write;

use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::ParquetMetaData;
use std::sync::Arc;

pub use filter::{Filter, Op, Term, Value};
pub use scan::{ParquetScan, ScanOptions, ScanPlan};
pub use source::{load_metadata, ByteSource, FetchStats, LoadedMetadata, StoreSource, FOOTER_HINT};
pub use write::{parse_compression, EncodeOptions, ParquetEncoder};

use crate::error::Result;
use crate::handover::HostTypes;

/// One column chunk of a row group.
#[derive(Debug, Clone)]
pub struct ColumnChunkSummary {
    /// Dotted path of the leaf column.
    pub path: String,
    pub physical_type: String,
    pub compression: String,
    pub compressed_size: i64,
    pub uncompressed_size: i64,
    pub null_count: Option<u64>,
    /// Formatted statistics of top-level columns, when present.
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RowGroupSummary {
    pub num_rows: i64,
    pub total_byte_size: i64,
    pub compressed_size: i64,
    pub columns: Vec<ColumnChunkSummary>,
}

/// What `readParquetMetadata` reports.
#[derive(Debug, Clone)]
pub struct FileSummary {
    pub num_rows: i64,
    pub created_by: Option<String>,
    pub version: i32,
    pub key_value_metadata: Vec<(String, String)>,
    /// The Arrow schema as the host will see it.
    pub schema: SchemaRef,
    pub row_groups: Vec<RowGroupSummary>,
    pub size: u64,
    pub has_page_index: bool,
}

impl FileSummary {
    /// An empty batch of the schema: the host reads the schema off it the way it reads batches.
    pub fn empty_batch(&self) -> RecordBatch {
        RecordBatch::new_empty(self.schema.clone())
    }
}

/// The Arrow schema the decoder reads a file's columns as.
pub fn decoded_schema(md: &Arc<ParquetMetaData>, path: &str) -> Result<SchemaRef> {
    let arrow_md = ArrowReaderMetadata::try_new(md.clone(), ArrowReaderOptions::new())
        .map_err(|e| source::from_parquet(path, e))?;
    Ok(arrow_md.schema().clone())
}

/// `decoded` (some of a file's columns, as decoded) as the host receives them: the writer's
/// time units restored, types the host lacks replaced.
pub fn host_schema(md: &ParquetMetaData, decoded: &arrow_schema::Schema, host: HostTypes) -> SchemaRef {
    host.host_schema(&hint::restore_units(decoded, hint::embedded_schema(md).as_ref()))
}

/// The footer of `source`, summarised.
pub async fn read_summary(source: &dyn ByteSource, host: HostTypes) -> Result<FileSummary> {
    let stats = FetchStats::default();
    let loaded = source::load_metadata(source, false, source::FOOTER_HINT, &stats).await?;
    let md = loaded.metadata.clone();
    let path = source.path();
    let schema = decoded_schema(&md, path)?;
    let fm = md.file_metadata();
    let pq = fm.schema_descr();
    let options = FormatOptions::default();
    let fmt = |a: &arrow_array::ArrayRef| -> Vec<Option<String>> {
        match ArrayFormatter::try_new(a.as_ref(), &options) {
            Ok(f) => (0..a.len()).map(|i| a.is_valid(i).then(|| f.value(i).to_string())).collect(),
            Err(_) => vec![None; a.len()],
        }
    };
    // Formatted (mins, maxes) by leaf column, one entry per row group (top-level leaves only).
    type Formatted = Vec<Option<String>>;
    let mut formatted: std::collections::HashMap<usize, (Formatted, Formatted)> = Default::default();
    for f in schema.fields() {
        let Ok(c) = StatisticsConverter::try_new(f.name(), &schema, pq) else { continue };
        let (Some(leaf), Ok(mins), Ok(maxes)) =
            (c.parquet_column_index(), c.row_group_mins(md.row_groups()), c.row_group_maxes(md.row_groups()))
        else {
            continue;
        };
        formatted.insert(leaf, (fmt(&mins), fmt(&maxes)));
    }
    let row_groups = md
        .row_groups()
        .iter()
        .enumerate()
        .map(|(g, rg)| RowGroupSummary {
            num_rows: rg.num_rows(),
            total_byte_size: rg.total_byte_size(),
            compressed_size: rg.compressed_size(),
            columns: rg
                .columns()
                .iter()
                .enumerate()
                .map(|(c, col)| {
                    let (min, max) = formatted
                        .get(&c)
                        .map(|(mins, maxes)| (mins[g].clone(), maxes[g].clone()))
                        .unwrap_or((None, None));
                    ColumnChunkSummary {
                        path: col.column_path().string(),
                        physical_type: col.column_type().to_string(),
                        compression: col.compression().to_string(),
                        compressed_size: col.compressed_size(),
                        uncompressed_size: col.uncompressed_size(),
                        null_count: col.statistics().and_then(|s| s.null_count_opt()),
                        min,
                        max,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(FileSummary {
        num_rows: fm.num_rows(),
        created_by: fm.created_by().map(str::to_string),
        version: fm.version(),
        key_value_metadata: fm
            .key_value_metadata()
            .map(|kv| {
                kv.iter()
                    .filter(|k| k.key != "ARROW:schema")
                    .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default(),
        schema: host_schema(&md, &schema, host),
        row_groups,
        size: loaded.version.size,
        has_page_index: md.row_groups().iter().any(|rg| rg.columns().iter().any(|c| c.offset_index_offset().is_some())),
    })
}
