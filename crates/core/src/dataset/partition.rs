//! Hive partitioning: `year=2024/month=11/part-0.parquet`. Keys become columns, typed as
//! pyarrow.dataset infers them (`int32` when every value is a 32-bit integer, else `string`);
//! values are URI-escaped in paths and `__HIVE_DEFAULT_PARTITION__` stands for null.

use std::sync::Arc;

use arrow_array::{new_null_array, ArrayRef, Int32Array, StringArray};
use arrow_schema::{DataType, Field};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The segment value of a null partition value (Hive's spelling, which pyarrow uses too).
pub const NULL_SEGMENT: &str = "__HIVE_DEFAULT_PARTITION__";

/// What is escaped in a path segment: all but RFC 3986's unreserved characters, as pyarrow's
/// `segment_encoding='uri'` does (`a b` → `a%20b`, `c/d` → `c%2Fd`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A partition value as it appears in a path segment.
pub fn encode_segment(value: Option<&str>) -> String {
    match value {
        None => NULL_SEGMENT.to_string(),
        Some(v) => utf8_percent_encode(v, SEGMENT).to_string(),
    }
}

/// The `(key, value)` pairs of the folders of `relative` (a path below the dataset's base),
/// in order; folders that are not `key=value` are passed over.
pub fn parse_path(relative: &str) -> Vec<(String, Option<String>)> {
    let mut segments: Vec<&str> = relative.split('/').collect();
    segments.pop(); // the file name
    segments
        .into_iter()
        .filter_map(|s| {
            let (k, v) = s.split_once('=')?;
            if k.is_empty() {
                return None;
            }
            let key = percent_decode_str(k).decode_utf8_lossy().into_owned();
            let value = (v != NULL_SEGMENT).then(|| percent_decode_str(v).decode_utf8_lossy().into_owned());
            Some((key, value))
        })
        .collect()
}

/// Whether discovery passes over `relative` (a path below the base): any segment starting
/// with `.` or `_` (`_SUCCESS`, `_temporary/`, `.crc` files), as pyarrow.dataset does.
pub fn ignored(relative: &str) -> bool {
    relative.split('/').any(|s| s.starts_with('.') || s.starts_with('_'))
}

/// The partition keys of a dataset's files with each file's values.
#[derive(Debug, Clone, Default)]
pub struct Partitions {
    /// One field per key, in order of first appearance, typed as pyarrow infers it.
    pub fields: Vec<Arc<Field>>,
    /// Per file, per key: the value as text (`None`: null, or the key is absent).
    pub values: Vec<Vec<Option<String>>>,
}

fn is_int32(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && v.parse::<i32>().is_ok()
}

impl Partitions {
    /// Keys and values of `paths` (relative to the base).
    pub fn discover<'a>(paths: impl IntoIterator<Item = &'a str>) -> Partitions {
        let mut keys: Vec<String> = Vec::new();
        let parsed: Vec<Vec<(String, Option<String>)>> = paths.into_iter().map(parse_path).collect();
        for pairs in &parsed {
            for (k, _) in pairs {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        let values: Vec<Vec<Option<String>>> = parsed
            .into_iter()
            .map(|pairs| {
                keys.iter().map(|k| pairs.iter().find(|(pk, _)| pk == k).and_then(|(_, v)| v.clone())).collect()
            })
            .collect();
        let fields = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let mut present = values.iter().filter_map(|v| v[i].as_deref()).peekable();
                let int = present.peek().is_some() && present.all(is_int32);
                Arc::new(Field::new(k, if int { DataType::Int32 } else { DataType::Utf8 }, true))
            })
            .collect();
        Partitions { fields, values }
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name() == name)
    }

    /// Column `key` over the files given (one row per file).
    pub fn column(&self, key: usize, files: &[usize]) -> ArrayRef {
        let values = files.iter().map(|&f| self.values[f][key].as_deref());
        match self.fields[key].data_type() {
            DataType::Int32 => Arc::new(values.map(|v| v.and_then(|v| v.parse::<i32>().ok())).collect::<Int32Array>()),
            _ => Arc::new(values.collect::<StringArray>()),
        }
    }

    /// Column `key` for `rows` rows of file `file`: its one value repeated.
    pub fn constant(&self, key: usize, file: usize, rows: usize) -> ArrayRef {
        let t = self.fields[key].data_type();
        match self.values[file][key].as_deref() {
            None => new_null_array(t, rows),
            Some(v) => match t {
                DataType::Int32 => Arc::new(Int32Array::from_value(v.parse().unwrap_or_default(), rows)),
                _ => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, rows))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_typed_as_pyarrow_infers_them() {
        let p = Partitions::discover([
            "y=2024/s=a%20b/z=01/big=3000000000/f=1.5/neg=-5/plus=+5/part-0.parquet",
            "y=__HIVE_DEFAULT_PARTITION__/s=c%2Fd/z=2/big=1/f=2/neg=6/plus=6/part-0.parquet",
        ]);
        let types: Vec<(String, DataType)> =
            p.fields.iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
        assert_eq!(
            types,
            [
                ("y".into(), DataType::Int32),
                ("s".into(), DataType::Utf8),
                ("z".into(), DataType::Int32),
                ("big".into(), DataType::Utf8),
                ("f".into(), DataType::Utf8),
                ("neg".into(), DataType::Int32),
                ("plus".into(), DataType::Utf8),
            ]
        );
        assert_eq!(p.values[0][1].as_deref(), Some("a b"));
        assert_eq!(p.values[1][1].as_deref(), Some("c/d"));
        assert_eq!(p.values[1][0], None);
        let z = p.column(2, &[0, 1]);
        assert_eq!(z.as_any().downcast_ref::<Int32Array>().unwrap().values(), &[1, 2]);
    }

    #[test]
    fn segments_escape_like_pyarrow_and_hidden_files_are_ignored() {
        assert_eq!(encode_segment(Some("a b")), "a%20b");
        assert_eq!(encode_segment(Some("c/d")), "c%2Fd");
        assert_eq!(encode_segment(Some("%x")), "%25x");
        assert_eq!(encode_segment(Some("2024-01-01")), "2024-01-01");
        assert_eq!(encode_segment(None), NULL_SEGMENT);
        assert!(ignored("_SUCCESS"));
        assert!(ignored("y=1/.part-0.parquet.crc"));
        assert!(ignored("_temporary/y=1/part-0.parquet"));
        assert!(!ignored("y=1/part-0.parquet"));
    }
}
