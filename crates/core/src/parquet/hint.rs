//! The Arrow schema a writer embeds in a Parquet file (`ARROW:schema`), for the types the
//! decoder cannot restore by itself.

use arrow_schema::{DataType, Field, Schema};
use base64::prelude::{Engine, BASE64_STANDARD};
use parquet::file::metadata::ParquetMetaData;

/// The embedded Arrow schema, when present and readable.
pub fn embedded_schema(md: &ParquetMetaData) -> Option<Schema> {
    let kv = md.file_metadata().key_value_metadata()?;
    let encoded = kv.iter().find(|k| k.key == parquet::arrow::ARROW_SCHEMA_META_KEY)?.value.as_deref()?;
    let bytes = BASE64_STANDARD.decode(encoded).ok()?;
    arrow_ipc::convert::try_schema_from_ipc_buffer(&bytes).ok()
}

/// `decoded` with the writer's time units put back: Parquet stores second-resolution
/// timestamps and times in milliseconds (pyarrow and this library both do), and the decoder
/// keeps the stored unit. The values are then cast back by the scan.
pub fn restore_units(decoded: &Schema, embedded: Option<&Schema>) -> Schema {
    let Some(embedded) = embedded else { return decoded.clone() };
    let fields: Vec<Field> = decoded
        .fields()
        .iter()
        .map(|f| {
            let hint = embedded.field_with_name(f.name()).ok().map(|h| h.data_type());
            match (f.data_type(), hint) {
                (DataType::Timestamp(a, _), Some(h @ DataType::Timestamp(b, _))) if a != b => {
                    f.as_ref().clone().with_data_type(h.clone())
                }
                (DataType::Time32(a), Some(h @ DataType::Time32(b))) if a != b => {
                    f.as_ref().clone().with_data_type(h.clone())
                }
                _ => f.as_ref().clone(),
            }
        })
        .collect();
    Schema::new_with_metadata(fields, decoded.metadata().clone())
}
