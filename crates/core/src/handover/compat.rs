//! What the host's Arrow library can hold. Types it lacks are cast here, before export,
//! to the nearest type it has (views to offsets, run-end encoding to plain values, …).

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_cast::cast::cast;
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};

use crate::error::{Error, ErrorKind, Result};

/// Types beyond the common core (ints, floats, bool, utf8, binary, temporal, decimal128,
/// list, fixed-size list, struct, map, dictionary) that the host supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostTypes {
    pub large_list: bool,
    pub large_utf8: bool,
    pub large_binary: bool,
    pub decimal256: bool,
}

impl Default for HostTypes {
    /// apache-arrow 21.2.
    fn default() -> Self {
        HostTypes { large_list: true, large_utf8: true, large_binary: true, decimal256: true }
    }
}

impl HostTypes {
    /// The type `t` is handed over as.
    pub fn host_type(&self, t: &DataType) -> DataType {
        use DataType::*;
        match t {
            Utf8View => Utf8,
            BinaryView => Binary,
            LargeUtf8 if !self.large_utf8 => Utf8,
            LargeBinary if !self.large_binary => Binary,
            Decimal32(p, s) | Decimal64(p, s) => Decimal128(*p, *s),
            Decimal256(p, s) if !self.decimal256 => Decimal128((*p).min(38), *s),
            List(f) | ListView(f) => List(self.field(f)),
            LargeList(f) | LargeListView(f) => {
                if self.large_list {
                    LargeList(self.field(f))
                } else {
                    List(self.field(f))
                }
            }
            FixedSizeList(f, n) => FixedSizeList(self.field(f), *n),
            Struct(fields) => Struct(self.fields(fields)),
            Map(f, sorted) => Map(self.field(f), *sorted),
            Dictionary(k, v) => Dictionary(k.clone(), Box::new(self.host_type(v))),
            RunEndEncoded(_, values) => self.host_type(values.data_type()),
            other => other.clone(),
        }
    }

    fn field(&self, f: &FieldRef) -> FieldRef {
        let t = self.host_type(f.data_type());
        if &t == f.data_type() {
            f.clone()
        } else {
            Arc::new(Field::new(f.name(), t, f.is_nullable()).with_metadata(f.metadata().clone()))
        }
    }

    fn fields(&self, fields: &Fields) -> Fields {
        fields.iter().map(|f| self.field(f)).collect()
    }

    /// `schema` with every field as the host will see it.
    pub fn host_schema(&self, schema: &Schema) -> SchemaRef {
        Arc::new(Schema::new_with_metadata(self.fields(schema.fields()), schema.metadata().clone()))
    }

    /// `batch` cast to `target` (from [`Self::host_schema`]); columns already right are kept as they are.
    pub fn to_host(&self, batch: RecordBatch, target: &SchemaRef, path: &str) -> Result<RecordBatch> {
        if batch.schema().fields() == target.fields() {
            return Ok(batch);
        }
        let columns = batch
            .columns()
            .iter()
            .zip(target.fields())
            .map(|(c, f)| -> Result<ArrayRef> {
                if c.data_type() == f.data_type() {
                    return Ok(c.clone());
                }
                cast(c, f.data_type()).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidData,
                        path,
                        format!(
                            "column '{}' of type {} cannot be handed over as {}: {e}",
                            f.name(),
                            c.data_type(),
                            f.data_type()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(target.clone(), columns)
            .map_err(|e| Error::new(ErrorKind::InvalidData, path, format!("'{path}': {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_and_run_ends_become_plain_types_and_large_lists_follow_the_host() {
        let h = HostTypes { large_list: false, ..HostTypes::default() };
        let item = Arc::new(Field::new("item", DataType::Utf8View, true));
        assert_eq!(
            h.host_type(&DataType::LargeList(item.clone())),
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
        );
        assert_eq!(
            HostTypes::default().host_type(&DataType::LargeList(item)),
            DataType::LargeList(Arc::new(Field::new("item", DataType::Utf8, true)))
        );
        let ree = DataType::RunEndEncoded(
            Arc::new(Field::new("run_ends", DataType::Int32, false)),
            Arc::new(Field::new("values", DataType::Int64, true)),
        );
        assert_eq!(h.host_type(&ree), DataType::Int64);
        assert_eq!(h.host_type(&DataType::Decimal64(10, 2)), DataType::Decimal128(10, 2));
    }
}
