//! Parquet reads through the data path: what is fetched, what is skipped, what comes back.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use bytes::Bytes;
use parquet::basic::Compression;
use remote_store_core::handover::HostTypes;
use remote_store_core::parquet::{
    read_summary, EncodeOptions, Filter, Op, ParquetEncoder, ParquetScan, ScanOptions, StoreSource, Term, Value,
};
use remote_store_core::{CancellationToken, ErrorKind, Store, WriteOptions};

const COLUMNS: usize = 20;
const GROUPS: usize = 8;
const ROWS_PER_GROUP: usize = 20_000;

/// 20 Int64 columns `c0..c19` (c0 is the row number, so groups hold disjoint ranges of it)
/// and 8 row groups, uncompressed so chunk sizes are predictable.
fn wide_file() -> Vec<u8> {
    let cols: Vec<(String, ArrayRef)> = (0..COLUMNS)
        .map(|c| {
            let values: Vec<i64> =
                (0..(GROUPS * ROWS_PER_GROUP) as i64).map(|r| if c == 0 { r } else { r * 7919 + c as i64 }).collect();
            (format!("c{c}"), Arc::new(Int64Array::from(values)) as ArrayRef)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let opts = EncodeOptions { compression: Compression::UNCOMPRESSED, row_group_size: Some(ROWS_PER_GROUP) };
    let mut enc = ParquetEncoder::new("wide.parquet", batch.schema(), &opts).unwrap();
    let mut out = enc.write(&batch).unwrap();
    out.extend(enc.finish().unwrap());
    out
}

async fn put(store: &Store, path: &str, bytes: Vec<u8>) {
    store.put(path, Bytes::from(bytes), &WriteOptions::default(), &CancellationToken::new()).await.unwrap();
}

fn source(store: &Store, path: &str) -> Arc<StoreSource> {
    Arc::new(StoreSource::new(store.clone(), path, CancellationToken::new()))
}

async fn collect(scan: &ParquetScan) -> Vec<RecordBatch> {
    let t = CancellationToken::new();
    let mut out = Vec::new();
    while let Some(b) = scan.next(&t).await.unwrap() {
        out.push(b);
    }
    out
}

fn ints(batches: &[RecordBatch], col: &str) -> Vec<i64> {
    batches.iter().flat_map(|b| b.column_by_name(col).unwrap().as_primitive::<Int64Type>().values().to_vec()).collect()
}

fn ge(column: &str, v: i64) -> Term {
    Term { column: column.into(), op: Op::Ge, values: vec![Value::Int(v)] }
}

fn lt(column: &str, v: i64) -> Term {
    Term { column: column.into(), op: Op::Lt, values: vec![Value::Int(v)] }
}

#[tokio::test]
async fn two_of_twenty_columns_fetch_about_a_tenth_of_the_file() {
    let store = Store::memory();
    let file = wide_file();
    let size = file.len() as u64;
    put(&store, "wide.parquet", file).await;
    let opts = ScanOptions { columns: Some(vec!["c7".into(), "c3".into()]), ..Default::default() };
    let scan = ParquetScan::open(source(&store, "wide.parquet"), opts, &CancellationToken::new()).await.unwrap();
    let batches = collect(&scan).await;
    let names: Vec<String> = scan.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["c7", "c3"], "columns in the order asked for");
    let c3 = ints(&batches, "c3");
    assert_eq!(c3.len(), GROUPS * ROWS_PER_GROUP);
    assert_eq!(c3[12345], 12345 * 7919 + 3);
    let fetched = scan.stats().bytes.load(Ordering::Relaxed);
    let share = fetched as f64 / size as f64;
    assert!(share <= 0.12, "fetched {fetched} of {size} bytes ({:.1}%)", share * 100.0);
    assert!(share >= 0.09, "two of twenty equal columns are a tenth of the file, fetched {:.1}%", share * 100.0);
}

#[tokio::test]
async fn a_filter_matching_one_row_group_reads_one_row_group_and_exact_rows() {
    let store = Store::memory();
    let file = wide_file();
    let size = file.len() as u64;
    put(&store, "wide.parquet", file).await;
    // Rows 45,000..45,010 all lie in row group 2.
    let filter = Filter { any_of: vec![vec![ge("c0", 45_000), lt("c0", 45_010)]] };
    let opts = ScanOptions { filter: Some(filter), ..Default::default() };
    let scan = ParquetScan::open(source(&store, "wide.parquet"), opts, &CancellationToken::new()).await.unwrap();
    assert_eq!(scan.plan().await.row_groups, vec![2]);
    let batches = collect(&scan).await;
    assert_eq!(ints(&batches, "c0"), (45_000..45_010).collect::<Vec<i64>>());
    let fetched = scan.stats().bytes.load(Ordering::Relaxed);
    let one_group = size / GROUPS as u64;
    assert!(fetched <= one_group + one_group / 5, "fetched {fetched}, one row group is about {one_group}");
}

#[tokio::test]
async fn disjunctions_and_in_lists_filter_like_pyarrow() {
    let store = Store::memory();
    put(&store, "wide.parquet", wide_file()).await;
    let filter = Filter {
        any_of: vec![
            vec![Term {
                column: "c0".into(),
                op: Op::In,
                values: vec![Value::Int(3), Value::Int(150_000), Value::Int(999_999_999)],
            }],
            vec![ge("c0", 159_998)],
        ],
    };
    let opts = ScanOptions { columns: Some(vec!["c0".into()]), filter: Some(filter), ..Default::default() };
    let scan = ParquetScan::open(source(&store, "wide.parquet"), opts, &CancellationToken::new()).await.unwrap();
    assert_eq!(scan.plan().await.row_groups, vec![0, 7]);
    assert_eq!(ints(&collect(&scan).await, "c0"), vec![3, 150_000, 159_998, 159_999]);
}

#[tokio::test]
async fn the_page_index_skips_pages_inside_a_row_group() {
    let store = Store::memory();
    let n = 100_000i64;
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef),
        ("s", Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("row-{i:08}")))) as ArrayRef),
    ])
    .unwrap();
    // One row group; arrow-rs writes pages of at most 20,000 rows by default, with a page index.
    let mut enc = ParquetEncoder::new("p.parquet", batch.schema(), &EncodeOptions::default()).unwrap();
    let mut bytes = enc.write(&batch).unwrap();
    bytes.extend(enc.finish().unwrap());
    put(&store, "p.parquet", bytes).await;
    let filter = Filter { any_of: vec![vec![ge("id", 99_990)]] };
    let opts = ScanOptions { filter: Some(filter), ..Default::default() };
    let scan = ParquetScan::open(source(&store, "p.parquet"), opts, &CancellationToken::new()).await.unwrap();
    let plan = scan.plan().await;
    assert_eq!(plan.row_groups, vec![0]);
    assert!(plan.rows_selected < n as u64, "pages were skipped: {} of {n} rows selected", plan.rows_selected);
    let batches = collect(&scan).await;
    assert_eq!(ints(&batches, "id"), (99_990..n).collect::<Vec<i64>>());
    let s: Vec<String> = batches
        .iter()
        .flat_map(|b| b.column_by_name("s").unwrap().as_string::<i32>().iter().map(|v| v.unwrap().to_string()))
        .collect();
    assert_eq!(s[0], "row-00099990");
}

/// Row groups `[1.5, NaN]`, `[-0.0, 0.0]`, `[+inf, 2.5]`: the writer leaves NaN out of the
/// statistics, so a group whose min and max are 1.5 still holds a row `!= 1.5`.
#[tokio::test]
async fn float_filters_match_pyarrow_through_statistics_and_rows() {
    let store = Store::memory();
    let x = arrow_array::Float64Array::from(vec![1.5, f64::NAN, -0.0, 0.0, f64::INFINITY, 2.5]);
    let batch = RecordBatch::try_from_iter([("x", Arc::new(x) as ArrayRef)]).unwrap();
    let opts = EncodeOptions { row_group_size: Some(2), ..Default::default() };
    let mut enc = ParquetEncoder::new("f.parquet", batch.schema(), &opts).unwrap();
    let mut bytes = enc.write(&batch).unwrap();
    bytes.extend(enc.finish().unwrap());
    put(&store, "f.parquet", bytes).await;
    let read = |op: Op, v: f64| {
        let store = store.clone();
        async move {
            let filter = Filter { any_of: vec![vec![Term { column: "x".into(), op, values: vec![Value::Float(v)] }]] };
            let opts = ScanOptions { filter: Some(filter), ..Default::default() };
            let scan = ParquetScan::open(source(&store, "f.parquet"), opts, &CancellationToken::new()).await.unwrap();
            let rows: Vec<String> = collect(&scan)
                .await
                .iter()
                .flat_map(|b| b.column(0).as_primitive::<arrow_array::types::Float64Type>().values().to_vec())
                .map(|v| format!("{v:?}"))
                .collect();
            rows
        }
    };
    // pyarrow.compute's answers on these values. pyarrow 26's own `pq.read_table(filters=…)` of
    // this file loses the NaN of `!= 1.5` and `in [NaN]`: it skips the first group by statistics
    // that do not show its NaN. Skipping must never lose a matching row.
    assert_eq!(read(Op::Ne, 1.5).await, ["NaN", "-0.0", "0.0", "inf", "2.5"]);
    assert_eq!(read(Op::Gt, 1.0).await, ["1.5", "inf", "2.5"]);
    assert_eq!(read(Op::Ge, 0.0).await, ["1.5", "-0.0", "0.0", "inf", "2.5"]);
    assert_eq!(read(Op::Le, -0.0).await, ["-0.0", "0.0"]);
    assert_eq!(read(Op::Lt, 0.0).await, Vec::<String>::new());
    assert_eq!(read(Op::In, f64::NAN).await, ["NaN"]);
    assert_eq!(read(Op::NotIn, 0.0).await, ["1.5", "NaN", "-0.0", "inf", "2.5"]);
}

#[tokio::test]
async fn the_footer_is_cached_per_version_and_a_replaced_object_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(dir.path()).unwrap();
    put(&store, "w.parquet", wide_file()).await;
    let opts = || ScanOptions { columns: Some(vec!["c1".into()]), limit: Some(5), ..Default::default() };
    let t = CancellationToken::new();
    let first = ParquetScan::open(source(&store, "w.parquet"), opts(), &t).await.unwrap();
    assert_eq!(first.stats().requests.load(Ordering::Relaxed), 1, "one suffix request reads the footer");
    collect(&first).await;
    let second = ParquetScan::open(source(&store, "w.parquet"), opts(), &t).await.unwrap();
    assert_eq!(second.stats().requests.load(Ordering::Relaxed), 0, "the footer came from the cache");
    assert_eq!(ints(&collect(&second).await, "c1").len(), 5);

    // Replace the object with a different file: the cached footer must not be used for it.
    let other = RecordBatch::try_from_iter([("c1", Arc::new(Int64Array::from(vec![42, 43])) as ArrayRef)]).unwrap();
    let mut enc = ParquetEncoder::new("w.parquet", other.schema(), &EncodeOptions::default()).unwrap();
    let mut bytes = enc.write(&other).unwrap();
    bytes.extend(enc.finish().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    put(&store, "w.parquet", bytes).await;
    let third = ParquetScan::open(source(&store, "w.parquet"), opts(), &t).await.unwrap();
    assert_eq!(ints(&collect(&third).await, "c1"), vec![42, 43]);
}

#[tokio::test]
async fn bad_arguments_and_bad_files_are_typed_errors_naming_the_culprit() {
    let store = Store::memory();
    put(&store, "wide.parquet", wide_file()).await;
    put(&store, "notes.txt", b"this is not parquet at all".to_vec()).await;
    let t = CancellationToken::new();
    let open = |path: &str, opts: ScanOptions| {
        let src = source(&store, path);
        let t = t.clone();
        async move { ParquetScan::open(src, opts, &t).await.err().expect("should fail") }
    };
    let e = open("wide.parquet", ScanOptions { columns: Some(vec!["nope".into()]), ..Default::default() }).await;
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("'nope'") && e.message.contains("c19"), "{}", e.message);

    let filter =
        Filter { any_of: vec![vec![Term { column: "c2".into(), op: Op::Eq, values: vec![Value::Str("abc".into())] }]] };
    let e = open("wide.parquet", ScanOptions { filter: Some(filter), ..Default::default() }).await;
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("'abc'") && e.message.contains("'c2'"), "{}", e.message);

    let e = open("wide.parquet", ScanOptions { row_groups: Some(vec![8]), ..Default::default() }).await;
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("8 row groups"), "{}", e.message);

    let e = open("notes.txt", ScanOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::InvalidData);
    assert!(e.message.contains("notes.txt"), "{}", e.message);

    let e = open("missing.parquet", ScanOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
}

/// A valid footer over damaged pages: the file's content is at fault, not the caller or the
/// store, so the error is `InvalidData` (JS `InvalidFormat`) and names the file.
#[tokio::test]
async fn corrupt_pages_under_a_valid_footer_are_invalid_data_naming_the_file() {
    let store = Store::memory();
    let mut file = wide_file();
    for b in &mut file[4..200] {
        *b ^= 0xff;
    }
    put(&store, "corrupt.parquet", file).await;
    let t = CancellationToken::new();
    for filter in [None, Some(Filter { any_of: vec![vec![ge("c0", 0)]] })] {
        let opts = ScanOptions { filter, ..Default::default() };
        let scan = ParquetScan::open(source(&store, "corrupt.parquet"), opts, &t).await.unwrap();
        let e = loop {
            match scan.next(&t).await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a corrupt page decoded"),
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind, ErrorKind::InvalidData, "{e:?}");
        assert!(e.message.contains("corrupt.parquet"), "{}", e.message);
        assert_eq!(e.path, "corrupt.parquet");
    }
}

#[tokio::test]
async fn the_summary_reports_row_groups_columns_and_statistics() {
    let store = Store::memory();
    put(&store, "wide.parquet", wide_file()).await;
    let s = read_summary(source(&store, "wide.parquet").as_ref(), HostTypes::default()).await.unwrap();
    assert_eq!(s.num_rows, (GROUPS * ROWS_PER_GROUP) as i64);
    assert_eq!(s.row_groups.len(), GROUPS);
    assert_eq!(s.schema.fields().len(), COLUMNS);
    let c0 = &s.row_groups[1].columns[0];
    assert_eq!(c0.path, "c0");
    assert_eq!(c0.min.as_deref(), Some("20000"));
    assert_eq!(c0.max.as_deref(), Some("39999"));
    assert!(s.has_page_index);
}

#[tokio::test]
async fn second_units_and_date64_are_stored_as_pyarrow_stores_them_and_read_back_as_written() {
    use arrow_array::{Date64Array, Time32SecondArray, TimestampSecondArray};
    use arrow_schema::{DataType, TimeUnit};
    let store = Store::memory();
    let batch = RecordBatch::try_from_iter([
        ("d", Arc::new(Date64Array::from(vec![86_400_000, 0])) as ArrayRef),
        ("ts", Arc::new(TimestampSecondArray::from(vec![1_700_000_000, -1]).with_timezone("UTC")) as ArrayRef),
        ("t", Arc::new(Time32SecondArray::from(vec![3600, 59])) as ArrayRef),
    ])
    .unwrap();
    let mut enc = ParquetEncoder::new("u.parquet", batch.schema(), &EncodeOptions::default()).unwrap();
    let mut bytes = enc.write(&batch).unwrap();
    bytes.extend(enc.finish().unwrap());
    put(&store, "u.parquet", bytes).await;
    let s = read_summary(source(&store, "u.parquet").as_ref(), HostTypes::default()).await.unwrap();
    let physical: Vec<&str> = s.row_groups[0].columns.iter().map(|c| c.physical_type.as_str()).collect();
    assert_eq!(physical, ["INT32", "INT64", "INT32"], "a DATE, milliseconds, milliseconds");
    let scan = ParquetScan::open(source(&store, "u.parquet"), ScanOptions::default(), &CancellationToken::new())
        .await
        .unwrap();
    let types: Vec<DataType> = scan.schema().fields().iter().map(|f| f.data_type().clone()).collect();
    assert_eq!(
        types,
        [
            DataType::Date64,
            DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
            DataType::Time32(TimeUnit::Second)
        ]
    );
    assert_eq!(collect(&scan).await, vec![batch]);
}

#[tokio::test]
async fn schema_and_field_metadata_survive_a_round_trip_and_any_projection() {
    use arrow_schema::{Field, Schema};
    use std::collections::HashMap;
    let store = Store::memory();
    let field = Field::new("id", arrow_schema::DataType::Int64, false)
        .with_metadata(HashMap::from([("unit".to_string(), "count".to_string())]));
    let schema = Arc::new(Schema::new_with_metadata(
        vec![field, Field::new("s", arrow_schema::DataType::Utf8, true)],
        HashMap::from([("geo".to_string(), "{}".to_string())]),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef, Arc::new(StringArray::from(vec!["a", "b"]))],
    )
    .unwrap();
    let mut enc = ParquetEncoder::new("m.parquet", schema, &EncodeOptions::default()).unwrap();
    let mut bytes = enc.write(&batch).unwrap();
    bytes.extend(enc.finish().unwrap());
    put(&store, "m.parquet", bytes).await;
    for columns in [None, Some(vec!["s".to_string(), "id".to_string()])] {
        let opts = ScanOptions { columns, ..Default::default() };
        let scan = ParquetScan::open(source(&store, "m.parquet"), opts, &CancellationToken::new()).await.unwrap();
        let s = scan.schema();
        assert_eq!(s.metadata().get("geo").map(String::as_str), Some("{}"));
        assert_eq!(s.field_with_name("id").unwrap().metadata().get("unit").map(String::as_str), Some("count"));
    }
    let summary = read_summary(source(&store, "m.parquet").as_ref(), HostTypes::default()).await.unwrap();
    assert!(summary.key_value_metadata.contains(&("geo".to_string(), "{}".to_string())));
}
