//! Encoding record batches as Parquet, handing the encoded bytes out as they are produced
//! (each finished row group), so the caller can stream them to any store.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_cast::cast::cast;
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowWriter};
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::error::{Error, ErrorKind, Result};

/// How to encode.
#[derive(Debug, Clone)]
pub struct EncodeOptions {
    pub compression: Compression,
    /// Rows per row group (default 1,048,576, as pyarrow).
    pub row_group_size: Option<usize>,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { compression: Compression::SNAPPY, row_group_size: None }
    }
}

/// `zstd`, `snappy`, `lz4`, `gzip`, `brotli`, `none` (pyarrow's names; `uncompressed` also
/// means none), with a `level` for the codecs that have one (zstd 1–22, gzip 0–10, brotli 0–11).
pub fn parse_compression(name: &str, level: Option<i32>) -> Result<Compression> {
    let bad_level = |range: &str, e: parquet::errors::ParquetError| {
        Error::argument("", format!("compressionLevel: {name} takes a level in {range}: {e}"))
    };
    let unsigned = |range: &str| -> Result<Option<u32>> {
        match level {
            None => Ok(None),
            Some(l) => u32::try_from(l).map(Some).map_err(|_| {
                Error::argument("", format!("compressionLevel: {name} takes a level in {range}, got {l}"))
            }),
        }
    };
    let c = match name.to_ascii_lowercase().as_str() {
        "zstd" => Compression::ZSTD(match level {
            None => ZstdLevel::default(),
            Some(l) => ZstdLevel::try_new(l).map_err(|e| bad_level("1..=22", e))?,
        }),
        "gzip" => Compression::GZIP(match unsigned("0..=10")? {
            None => GzipLevel::default(),
            Some(l) => GzipLevel::try_new(l).map_err(|e| bad_level("0..=10", e))?,
        }),
        "brotli" => Compression::BROTLI(match unsigned("0..=11")? {
            None => BrotliLevel::default(),
            Some(l) => BrotliLevel::try_new(l).map_err(|e| bad_level("0..=11", e))?,
        }),
        "snappy" => Compression::SNAPPY,
        // pyarrow's "lz4" is the raw LZ4 block codec of newer Parquet readers.
        "lz4" | "lz4_raw" => Compression::LZ4_RAW,
        "none" | "uncompressed" => Compression::UNCOMPRESSED,
        other => {
            return Err(Error::argument(
                "",
                format!("compression: unknown codec '{other}'; use one of zstd, snappy, lz4, gzip, brotli, none"),
            ))
        }
    };
    if level.is_some() && !matches!(c, Compression::ZSTD(_) | Compression::GZIP(_) | Compression::BROTLI(_)) {
        return Err(Error::argument("", format!("compressionLevel: {name} has no levels (zstd, gzip and brotli do)")));
    }
    Ok(c)
}

pub const DEFAULT_ROW_GROUP_SIZE: usize = 1024 * 1024;

/// The type a column is stored as. Parquet has no second unit for timestamps and times and
/// no millisecond date, so these are stored as pyarrow stores them (milliseconds; days) and
/// the original type travels in the embedded Arrow schema, from which readers restore it.
pub fn storage_type(t: &DataType) -> DataType {
    use DataType::*;
    let field = |f: &FieldRef| -> FieldRef {
        Arc::new(Field::new(f.name(), storage_type(f.data_type()), f.is_nullable()).with_metadata(f.metadata().clone()))
    };
    match t {
        Date64 => Date32,
        Timestamp(TimeUnit::Second, tz) => Timestamp(TimeUnit::Millisecond, tz.clone()),
        Time32(TimeUnit::Second) => Time32(TimeUnit::Millisecond),
        List(f) => List(field(f)),
        LargeList(f) => LargeList(field(f)),
        FixedSizeList(f, n) => FixedSizeList(field(f), *n),
        Map(f, sorted) => Map(field(f), *sorted),
        Struct(fs) => Struct(fs.iter().map(field).collect::<Fields>()),
        Dictionary(k, v) => Dictionary(k.clone(), Box::new(storage_type(v))),
        other => other.clone(),
    }
}

/// A Parquet file being encoded into memory that the caller drains after each call.
pub struct ParquetEncoder {
    writer: Option<ArrowWriter<Vec<u8>>>,
    schema: SchemaRef,
    /// The schema columns are cast to before encoding, when it differs from `schema`.
    storage: Option<SchemaRef>,
    path: String,
}

impl ParquetEncoder {
    pub fn new(path: &str, schema: SchemaRef, opts: &EncodeOptions) -> Result<ParquetEncoder> {
        let rows = opts.row_group_size.unwrap_or(DEFAULT_ROW_GROUP_SIZE);
        if rows == 0 {
            return Err(Error::argument(path, "rowGroupSize must be at least 1"));
        }
        // The schema's metadata (GeoParquet's `geo`, pandas' `pandas`, …) is also the file's
        // key/value metadata, as pyarrow writes it: readers that ignore the embedded Arrow
        // schema find it there.
        let mut kv: Vec<KeyValue> =
            schema.metadata().iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect();
        kv.sort_by(|a, b| a.key.cmp(&b.key));
        let mut props = WriterProperties::builder()
            .set_compression(opts.compression)
            .set_max_row_group_row_count(Some(rows))
            .set_created_by(format!("remote-store (parquet-rs {})", parquet::file::properties::DEFAULT_CREATED_BY))
            .set_key_value_metadata((!kv.is_empty()).then_some(kv))
            .build();
        let storage_fields: Fields = schema
            .fields()
            .iter()
            .map(|f| {
                Arc::new(
                    Field::new(f.name(), storage_type(f.data_type()), f.is_nullable())
                        .with_metadata(f.metadata().clone()),
                )
            })
            .collect();
        let storage = (&storage_fields != schema.fields())
            .then(|| Arc::new(Schema::new_with_metadata(storage_fields, schema.metadata().clone())));
        // The embedded Arrow schema is always the caller's: readers restore the original types.
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let options = ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
        let written = storage.clone().unwrap_or_else(|| schema.clone());
        let writer =
            ArrowWriter::try_new_with_options(Vec::new(), written, options).map_err(|e| encode_error(path, e))?;
        Ok(ParquetEncoder { writer: Some(writer), schema, storage, path: path.to_string() })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Add a batch; returns the bytes encoded so far (empty until a row group is complete).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<Vec<u8>> {
        let path = self.path.clone();
        if batch.schema().fields() != self.schema.fields() {
            return Err(Error::argument(
                &path,
                format!(
                    "a batch's schema differs from the first one's: {:?} vs {:?}",
                    batch.schema().fields(),
                    self.schema.fields()
                ),
            ));
        }
        let stored;
        let batch = match &self.storage {
            None => batch,
            Some(storage) => {
                let columns = batch
                    .columns()
                    .iter()
                    .zip(storage.fields())
                    .map(|(c, f)| if c.data_type() == f.data_type() { Ok(c.clone()) } else { cast(c, f.data_type()) })
                    .collect::<std::result::Result<Vec<ArrayRef>, _>>()
                    .map_err(|e| Error::argument(&path, format!("cannot store '{path}': {e}")))?;
                stored = RecordBatch::try_new(storage.clone(), columns)
                    .map_err(|e| Error::argument(&path, e.to_string()))?;
                &stored
            }
        };
        let w = self.writer.as_mut().ok_or_else(|| Error::new(ErrorKind::Other, &path, "the encoder is finished"))?;
        w.write(batch).map_err(|e| encode_error(&path, e))?;
        Ok(std::mem::take(w.inner_mut()))
    }

    /// Flush the last row group and the footer; returns the remaining bytes.
    pub fn finish(&mut self) -> Result<Vec<u8>> {
        let w =
            self.writer.take().ok_or_else(|| Error::new(ErrorKind::Other, &self.path, "the encoder is finished"))?;
        w.into_inner().map_err(|e| encode_error(&self.path, e))
    }
}

fn encode_error(path: &str, e: parquet::errors::ParquetError) -> Error {
    Error::new(ErrorKind::InvalidArgument, path, format!("cannot encode '{path}' as Parquet: {e}"))
}
