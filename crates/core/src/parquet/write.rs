//! Encoding record batches as Parquet, handing the encoded bytes out as they are produced
//! (each finished row group), so the caller can stream them to any store.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
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

/// `zstd`, `snappy`, `lz4`, `gzip`, `none` (pyarrow's names; `uncompressed` also means none).
pub fn parse_compression(name: &str) -> Result<Compression> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "zstd" => Compression::ZSTD(ZstdLevel::default()),
        "snappy" => Compression::SNAPPY,
        // pyarrow's "lz4" is the raw LZ4 block codec of newer Parquet readers.
        "lz4" | "lz4_raw" => Compression::LZ4_RAW,
        "gzip" => Compression::GZIP(GzipLevel::default()),
        "none" | "uncompressed" => Compression::UNCOMPRESSED,
        other => {
            return Err(Error::argument(
                "",
                format!("compression: unknown codec '{other}'; use one of zstd, snappy, lz4, gzip, none"),
            ))
        }
    })
}

pub const DEFAULT_ROW_GROUP_SIZE: usize = 1024 * 1024;

/// A Parquet file being encoded into memory that the caller drains after each call.
pub struct ParquetEncoder {
    writer: Option<ArrowWriter<Vec<u8>>>,
    schema: SchemaRef,
    path: String,
}

impl ParquetEncoder {
    pub fn new(path: &str, schema: SchemaRef, opts: &EncodeOptions) -> Result<ParquetEncoder> {
        let rows = opts.row_group_size.unwrap_or(DEFAULT_ROW_GROUP_SIZE);
        if rows == 0 {
            return Err(Error::argument(path, "rowGroupSize must be at least 1"));
        }
        let props = WriterProperties::builder()
            .set_compression(opts.compression)
            .set_max_row_group_row_count(Some(rows))
            .set_created_by(format!("remote-store (parquet-rs {})", parquet::file::properties::DEFAULT_CREATED_BY))
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props)).map_err(|e| encode_error(path, e))?;
        Ok(ParquetEncoder { writer: Some(writer), schema, path: path.to_string() })
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
                format!("a batch's schema differs from the first one's: {:?} vs {:?}", batch.schema().fields(), self.schema.fields()),
            ));
        }
        let w = self.writer.as_mut().ok_or_else(|| Error::new(ErrorKind::Other, &path, "the encoder is finished"))?;
        w.write(batch).map_err(|e| encode_error(&path, e))?;
        Ok(std::mem::take(w.inner_mut()))
    }

    /// Flush the last row group and the footer; returns the remaining bytes.
    pub fn finish(&mut self) -> Result<Vec<u8>> {
        let w = self.writer.take().ok_or_else(|| Error::new(ErrorKind::Other, &self.path, "the encoder is finished"))?;
        w.into_inner().map_err(|e| encode_error(&self.path, e))
    }
}

fn encode_error(path: &str, e: parquet::errors::ParquetError) -> Error {
    Error::new(ErrorKind::InvalidArgument, path, format!("cannot encode '{path}' as Parquet: {e}"))
}
