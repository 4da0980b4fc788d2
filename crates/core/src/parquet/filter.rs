//! Row filters in disjunctive normal form, as pyarrow takes them:
//! `[[("year", ">=", 2020), ("kind", "in", ["a", "b"])], [...]]` — terms ANDed within a
//! conjunction, conjunctions ORed. One bound filter serves three purposes:
//! skipping row groups by their min/max/null statistics, skipping pages by the page index,
//! and filtering the decoded rows exactly.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, RecordBatch, Scalar as ArrowScalar,
    StringArray, TimestampMillisecondArray, UInt64Array,
};
use arrow_buffer::BooleanBuffer;
use arrow_cast::cast::{cast_with_options, CastOptions};
use arrow_schema::{ArrowError, DataType, Schema};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, RowFilter, RowSelection, RowSelector};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;
use parquet::schema::types::SchemaDescriptor;

use crate::error::{Error, Result};

/// A filter value as the host hands it over.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An integer beyond ±2^53 (a JS bigint), in decimal.
    BigInt(String),
    Str(String),
    Bytes(Vec<u8>),
    /// A point in time (a JS `Date`): milliseconds since the epoch, UTC.
    TimestampMs(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl Op {
    /// pyarrow's spellings.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "in" => Op::In,
            "not in" => Op::NotIn,
            _ => return None,
        })
    }

    fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::NotIn)
    }
}

/// `column op value` (`values` holds one value, or the list of `in` / `not in`).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub column: String,
    pub op: Op,
    pub values: Vec<Value>,
}

/// Conjunctions (terms ANDed) ORed together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub any_of: Vec<Vec<Term>>,
}

pub(crate) struct BoundTerm {
    name: String,
    /// Index of the column among the file's top-level fields.
    root: usize,
    op: Op,
    literals: Vec<ArrowScalar<ArrayRef>>,
    /// Both sides are compared as this type.
    cmp_type: DataType,
    /// Byte-array statistics may be truncated: equality with them proves nothing.
    truncatable: bool,
    /// The literals as `f64` when `cmp_type` is a float type: floats are compared the IEEE
    /// way, as pyarrow compares them, not in arrow-ord's total order.
    floats: Option<Vec<f64>>,
}

/// A [`Filter`] resolved against a file's schema.
pub struct BoundFilter {
    any_of: Vec<Vec<BoundTerm>>,
}

fn literal_array(v: &Value) -> ArrayRef {
    match v {
        Value::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
        Value::Int(i) => Arc::new(Int64Array::from(vec![*i])),
        Value::Float(f) => Arc::new(Float64Array::from(vec![*f])),
        Value::Str(s) | Value::BigInt(s) => Arc::new(StringArray::from(vec![s.as_str()])),
        Value::Bytes(b) => Arc::new(BinaryArray::from(vec![b.as_slice()])),
        Value::TimestampMs(ms) => Arc::new(TimestampMillisecondArray::from(vec![*ms]).with_timezone("UTC")),
    }
}

/// Whether a value of this kind may be compared with a column of type `t` (a dictionary's
/// value type). No kind is coerced into another: `5` against a string column, or `true`
/// against an integer one, is a mistake to report, not a comparison to make.
fn fits(v: &Value, t: &DataType) -> bool {
    use DataType::*;
    let numeric = t.is_integer()
        || t.is_floating()
        || matches!(t, Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..));
    let binary = matches!(t, Binary | LargeBinary | BinaryView | FixedSizeBinary(_));
    match v {
        Value::Bool(_) => matches!(t, Boolean),
        Value::Int(_) | Value::Float(_) | Value::BigInt(_) => numeric,
        Value::Str(_) => matches!(t, Utf8 | LargeUtf8 | Utf8View) || binary,
        Value::Bytes(_) => binary,
        Value::TimestampMs(_) => matches!(t, Timestamp(..) | Date32 | Date64),
    }
}

/// How a value's kind is called on the host.
fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::BigInt(_) => "a bigint",
        Value::Str(_) => "a string",
        Value::Bytes(_) => "a Uint8Array",
        Value::TimestampMs(_) => "a Date",
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::In => "in",
        Op::NotIn => "not in",
    }
}

fn comparable(t: &DataType) -> bool {
    use DataType::*;
    t.is_primitive()
        || matches!(t, Boolean | Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView | FixedSizeBinary(_))
}

fn value_type(t: &DataType) -> &DataType {
    match t {
        DataType::Dictionary(_, v) => v.as_ref(),
        other => other,
    }
}

const STRICT: CastOptions<'static> =
    CastOptions { safe: false, format_options: arrow_cast::display::FormatOptions::new() };
const LENIENT: CastOptions<'static> =
    CastOptions { safe: true, format_options: arrow_cast::display::FormatOptions::new() };

impl BoundFilter {
    /// Check every term against `schema`; errors name the column or value at fault.
    pub fn bind(filter: &Filter, schema: &Schema, path: &str) -> Result<BoundFilter> {
        let mut any_of = Vec::with_capacity(filter.any_of.len());
        for conj in &filter.any_of {
            if conj.is_empty() {
                return Err(Error::argument(
                    path,
                    "filter: an empty list of conditions; give at least one [column, op, value]",
                ));
            }
            let mut terms = Vec::with_capacity(conj.len());
            for t in conj {
                terms.push(bind_term(t, schema, path)?);
            }
            any_of.push(terms);
        }
        Ok(BoundFilter { any_of })
    }

    /// The top-level columns the filter reads.
    pub fn roots(&self) -> Vec<usize> {
        let mut r: Vec<usize> = self.any_of.iter().flatten().map(|t| t.root).collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Which row groups of `candidates` may hold a matching row, judged by their statistics.
    pub fn prune_row_groups(&self, md: &ParquetMetaData, schema: &Schema, candidates: &[usize]) -> Vec<usize> {
        let pq = md.file_metadata().schema_descr();
        let rgs = md.row_groups();
        let n = candidates.len();
        let may = self.combine(n, |term| {
            let conv = StatisticsConverter::try_new(&term.name, schema, pq).ok()?;
            let chosen = candidates.iter().map(|&i| &rgs[i]);
            let mins = conv.row_group_mins(chosen.clone()).ok()?;
            let maxes = conv.row_group_maxes(chosen.clone()).ok()?;
            let nulls = conv.row_group_null_counts(chosen.clone()).ok();
            let rows = UInt64Array::from_iter_values(candidates.iter().map(|&i| rgs[i].num_rows() as u64));
            Some(term.may_match(&mins, &maxes, nulls.as_ref(), Some(&rows)))
        });
        candidates.iter().zip(may.iter()).filter(|(_, m)| *m).map(|(i, _)| *i).collect()
    }

    /// Rows of `row_groups` (in order) on pages that may hold a match, from the page index;
    /// `None` when the file has no page index or no page can be skipped.
    pub fn page_selection(&self, md: &ParquetMetaData, schema: &Schema, row_groups: &[usize]) -> Option<RowSelection> {
        let index = md.page_index()?;
        let pq = md.file_metadata().schema_descr();
        let rgs = md.row_groups();
        let mut selectors: Vec<RowSelector> = Vec::new();
        let mut skipped_any = false;
        for &rg in row_groups {
            let rows = rgs[rg].num_rows() as usize;
            let all = RowSelection::from(vec![RowSelector::select(rows)]);
            let mut any: Option<RowSelection> = None;
            for conj in &self.any_of {
                let mut sel = all.clone();
                for term in conj {
                    if let Some(s) = term_pages(term, md, index.as_ref(), schema, pq, rg, rows) {
                        sel = sel.intersection(&s);
                    }
                }
                any = Some(match any {
                    None => sel,
                    Some(a) => a.union(&sel),
                });
            }
            let sel = any.unwrap_or(all);
            skipped_any |= sel.row_count() < rows;
            selectors.extend(Vec::<RowSelector>::from(sel));
        }
        skipped_any.then(|| RowSelection::from(selectors))
    }

    /// Exact row filter, `null` counting as no match.
    pub fn evaluate(&self, batch: &RecordBatch) -> std::result::Result<BooleanArray, ArrowError> {
        let n = batch.num_rows();
        let mut any = BooleanBuffer::new_unset(n);
        for conj in &self.any_of {
            let mut all = BooleanBuffer::new_set(n);
            for term in conj {
                let col = batch.column_by_name(&term.name).ok_or_else(|| {
                    ArrowError::SchemaError(format!("filter column '{}' missing from batch", term.name))
                })?;
                all = &all & &term.rows(col)?;
            }
            any = &any | &all;
        }
        Ok(BooleanArray::new(any, None))
    }

    /// The decoder-side filter: decodes only the filter's columns first, then the rest of
    /// the projection for the rows that passed.
    pub fn into_row_filter(self: Arc<Self>, pq: &SchemaDescriptor) -> RowFilter {
        let mask = ProjectionMask::roots(pq, self.roots());
        let pred = ArrowPredicateFn::new(mask, move |batch: RecordBatch| self.evaluate(&batch));
        RowFilter::new(vec![Box::new(pred)])
    }

    /// OR over conjunctions of AND over terms of `judge(term)` (`None`: cannot tell → true).
    fn combine(&self, n: usize, judge: impl Fn(&BoundTerm) -> Option<BooleanBuffer>) -> BooleanBuffer {
        let mut any = BooleanBuffer::new_unset(n);
        for conj in &self.any_of {
            let mut all = BooleanBuffer::new_set(n);
            for term in conj {
                if let Some(m) = judge(term) {
                    all = &all & &m;
                }
            }
            any = &any | &all;
        }
        any
    }
}

pub(crate) fn bind_term(t: &Term, schema: &Schema, path: &str) -> Result<BoundTerm> {
    let (root, field) = schema.column_with_name(&t.column).ok_or_else(|| {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        Error::argument(
            path,
            format!("filter: unknown column '{}' in '{path}'; its columns are: {}", t.column, names.join(", ")),
        )
    })?;
    let col_type = value_type(field.data_type());
    if !comparable(col_type) {
        return Err(Error::argument(
            path,
            format!("filter: column '{}' of type {} cannot be compared with a value", t.column, field.data_type()),
        ));
    }
    if !t.op.takes_list() && t.values.len() != 1 {
        return Err(Error::argument(path, format!("filter: the condition on '{}' takes exactly one value", t.column)));
    }
    // An integer column compared with 2.5 is compared as floats, not with a truncated 2.
    let fractional = t.values.iter().any(|v| matches!(v, Value::Float(f) if f.fract() != 0.0 || !f.is_finite()));
    let cmp_type = if col_type.is_integer() && fractional { DataType::Float64 } else { col_type.clone() };
    let mut literals = Vec::with_capacity(t.values.len());
    let mut floats = cmp_type.is_floating().then(Vec::new);
    for v in &t.values {
        if !fits(v, col_type) {
            return Err(Error::argument(
                path,
                format!(
                    "filter: ['{}', '{}', {}] compares column '{}' of type {} with {}",
                    t.column,
                    op_name(t.op),
                    show(v),
                    t.column,
                    field.data_type(),
                    kind_name(v)
                ),
            ));
        }
        let lit = cast_with_options(&literal_array(v), &cmp_type, &STRICT).map_err(|e| {
            Error::argument(
                path,
                format!(
                    "filter: value {} does not fit column '{}' of type {}: {e}",
                    show(v),
                    t.column,
                    field.data_type()
                ),
            )
        })?;
        if lit.is_null(0) {
            return Err(Error::argument(
                path,
                format!("filter: value {} does not fit column '{}' of type {}", show(v), t.column, field.data_type()),
            ));
        }
        if let Some(fs) = floats.as_mut() {
            // Exact: every float type widens to f64 without rounding.
            let f = as_f64(&lit, &STRICT).map_err(|e| Error::argument(path, format!("filter: {e}")))?;
            fs.push(f.value(0));
        }
        literals.push(ArrowScalar::new(lit));
    }
    let truncatable = matches!(
        col_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    );
    Ok(BoundTerm { name: t.column.clone(), root, op: t.op, literals, cmp_type, truncatable, floats })
}

fn show(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::BigInt(s) => format!("{s}n"),
        Value::Str(s) => format!("'{s}'"),
        Value::Bytes(b) => format!("<{} bytes>", b.len()),
        Value::TimestampMs(ms) => format!("Date({ms})"),
    }
}

/// A comparison's result with unknown (null) entries decided as `null_as`.
fn definite(b: &BooleanArray, null_as: bool) -> BooleanBuffer {
    match b.nulls() {
        None => b.values().clone(),
        Some(n) if null_as => b.values() | &!n.inner(),
        Some(n) => b.values() & n.inner(),
    }
}

type Kernel = fn(&dyn arrow_array::Datum, &dyn arrow_array::Datum) -> std::result::Result<BooleanArray, ArrowError>;

impl BoundTerm {
    fn cast(&self, a: &ArrayRef, opts: &CastOptions) -> std::result::Result<ArrayRef, ArrowError> {
        if a.data_type() == &self.cmp_type {
            Ok(a.clone())
        } else {
            cast_with_options(a, &self.cmp_type, opts)
        }
    }

    /// Which rows of `col` match; a null matches `not in` only (as in pyarrow).
    pub(crate) fn rows(&self, col: &ArrayRef) -> std::result::Result<BooleanBuffer, ArrowError> {
        use arrow_ord::cmp;
        let col = self.cast(col, &STRICT)?;
        if let Some(lits) = &self.floats {
            return float_rows(self.op, &col, lits);
        }
        let n = col.len();
        let test = |k: Kernel, lit: &ArrowScalar<ArrayRef>| k(&col, lit).map(|b| definite(&b, false));
        Ok(match self.op {
            Op::Eq => test(cmp::eq, &self.literals[0])?,
            Op::Ne => test(cmp::neq, &self.literals[0])?,
            Op::Lt => test(cmp::lt, &self.literals[0])?,
            Op::Le => test(cmp::lt_eq, &self.literals[0])?,
            Op::Gt => test(cmp::gt, &self.literals[0])?,
            Op::Ge => test(cmp::gt_eq, &self.literals[0])?,
            Op::In => {
                let mut acc = BooleanBuffer::new_unset(n);
                for lit in &self.literals {
                    acc = &acc | &test(cmp::eq, lit)?;
                }
                acc
            }
            // pyarrow's `not in` is `~isin`, and `isin` answers false for a null: nulls match.
            Op::NotIn => {
                let mut acc = BooleanBuffer::new_set(n);
                for lit in &self.literals {
                    acc = &acc & &cmp::neq(&col, lit).map(|b| definite(&b, true))?;
                }
                acc
            }
        })
    }

    /// For each chunk (row group or page) with these statistics: may it hold a match?
    /// Unknown statistics answer yes.
    fn may_match(
        &self,
        mins: &ArrayRef,
        maxes: &ArrayRef,
        nulls: Option<&UInt64Array>,
        rows: Option<&UInt64Array>,
    ) -> BooleanBuffer {
        let n = mins.len();
        let (Ok(min), Ok(max)) = (self.cast(mins, &LENIENT), self.cast(maxes, &LENIENT)) else {
            return BooleanBuffer::new_set(n);
        };
        let may = match &self.floats {
            Some(lits) => float_may_match(self.op, &min, &max, lits),
            None => self.ordered_may_match(&min, &max),
        };
        // A null matches `not in` (see `rows`): a chunk that may hold one may match.
        if self.op == Op::NotIn {
            let some_null = match nulls {
                Some(nulls) if nulls.len() == n => {
                    BooleanBuffer::collect_bool(n, |i| !nulls.is_valid(i) || nulls.value(i) > 0)
                }
                _ => BooleanBuffer::new_set(n),
            };
            return &may | &some_null;
        }
        // A chunk of nulls matches nothing else.
        match (nulls, rows) {
            (Some(nulls), Some(rows)) if nulls.len() == n && rows.len() == n => {
                let all_null = BooleanBuffer::collect_bool(n, |i| {
                    nulls.is_valid(i) && rows.is_valid(i) && nulls.value(i) >= rows.value(i) && rows.value(i) > 0
                });
                &may & &!&all_null
            }
            _ => may,
        }
    }

    /// [`Self::may_match`] by min and max, for types whose order is total (not floats).
    fn ordered_may_match(&self, min: &ArrayRef, max: &ArrayRef) -> BooleanBuffer {
        use arrow_ord::cmp;
        let n = min.len();
        let maybe = |k: Kernel, side: &ArrayRef, lit: &ArrowScalar<ArrayRef>| match k(side, lit) {
            Ok(b) => definite(&b, true),
            Err(_) => BooleanBuffer::new_set(n),
        };
        let surely_equal = |lit: &ArrowScalar<ArrayRef>| -> BooleanBuffer {
            if self.truncatable {
                return BooleanBuffer::new_unset(n);
            }
            match (cmp::eq(min, lit), cmp::eq(max, lit)) {
                (Ok(a), Ok(b)) => &definite(&a, false) & &definite(&b, false),
                _ => BooleanBuffer::new_unset(n),
            }
        };
        match self.op {
            Op::Eq | Op::In => {
                let mut acc = BooleanBuffer::new_unset(n);
                for lit in &self.literals {
                    acc = &acc | &(&maybe(cmp::lt_eq, min, lit) & &maybe(cmp::gt_eq, max, lit));
                }
                acc
            }
            Op::Ne | Op::NotIn => {
                let mut acc = BooleanBuffer::new_set(n);
                for lit in &self.literals {
                    acc = &acc & &!&surely_equal(lit);
                }
                acc
            }
            Op::Lt => maybe(cmp::lt, min, &self.literals[0]),
            Op::Le => maybe(cmp::lt_eq, min, &self.literals[0]),
            Op::Gt => maybe(cmp::gt, max, &self.literals[0]),
            Op::Ge => maybe(cmp::gt_eq, max, &self.literals[0]),
        }
    }
}

/// `in` membership as pyarrow's `is_in` decides it (a hash set of the values): every NaN is
/// a member with every other, and -0.0 and 0.0 are different members.
fn same_member(v: f64, l: f64) -> bool {
    (v.is_nan() && l.is_nan()) || (v == l && v.is_sign_negative() == l.is_sign_negative())
}

fn as_f64(a: &ArrayRef, opts: &CastOptions) -> std::result::Result<arrow_array::Float64Array, ArrowError> {
    Ok(cast_with_options(a, &DataType::Float64, opts)?.as_primitive::<Float64Type>().clone())
}

/// Which rows of a float column match, nulls not. arrow-ord's kernels order floats totally
/// (NaN equal to itself and above +inf, -0.0 below 0.0); pyarrow compares the IEEE way: NaN
/// is unequal to everything (so only `!=` matches it) and -0.0 equals 0.0.
fn float_rows(op: Op, col: &ArrayRef, lits: &[f64]) -> std::result::Result<BooleanBuffer, ArrowError> {
    let x = as_f64(col, &STRICT)?;
    let hit = |f: &dyn Fn(f64) -> bool| BooleanBuffer::collect_bool(x.len(), |i| x.is_valid(i) && f(x.value(i)));
    let l = lits[0];
    Ok(match op {
        Op::Eq => hit(&|v| v == l),
        Op::Ne => hit(&|v| v != l),
        Op::Lt => hit(&|v| v < l),
        Op::Le => hit(&|v| v <= l),
        Op::Gt => hit(&|v| v > l),
        Op::Ge => hit(&|v| v >= l),
        Op::In => hit(&|v| lits.iter().any(|&l| same_member(v, l))),
        Op::NotIn => BooleanBuffer::collect_bool(x.len(), |i| {
            !x.is_valid(i) || !lits.iter().any(|&l| same_member(x.value(i), l))
        }),
    })
}

/// [`BoundTerm::may_match`] for a float column. Writers leave NaN out of min/max (or, older
/// ones, put it in), may write a group of -0.0 and 0.0 with either zero as min or max, and
/// nothing records whether a group holds a NaN: so statistics holding NaN prove nothing,
/// bounds are compared the IEEE way (where the zeros are equal, which widens them), and
/// `!=`, `not in` and `in [NaN]`, which a NaN row can match, never skip a chunk.
fn float_may_match(op: Op, min: &ArrayRef, max: &ArrayRef, lits: &[f64]) -> BooleanBuffer {
    let n = min.len();
    let (Ok(lo), Ok(hi)) = (as_f64(min, &LENIENT), as_f64(max, &LENIENT)) else {
        return BooleanBuffer::new_set(n);
    };
    BooleanBuffer::collect_bool(n, |i| {
        if lo.is_null(i) || hi.is_null(i) || lo.value(i).is_nan() || hi.value(i).is_nan() {
            return true;
        }
        let (lo, hi, l) = (lo.value(i), hi.value(i), lits[0]);
        match op {
            Op::Eq => lo <= l && l <= hi,
            Op::In => lits.iter().any(|&l| l.is_nan() || (lo <= l && l <= hi)),
            Op::Ne | Op::NotIn => true,
            Op::Lt => lo < l,
            Op::Le => lo <= l,
            Op::Gt => hi > l,
            Op::Ge => hi >= l,
        }
    })
}

/// The rows of row group `rg` on pages of `term`'s column that may match; `None` when the
/// page index cannot tell.
fn term_pages(
    term: &BoundTerm,
    md: &ParquetMetaData,
    index: &dyn parquet::file::metadata::page_index::PageIndexProvider,
    schema: &Schema,
    pq: &SchemaDescriptor,
    rg: usize,
    rows: usize,
) -> Option<RowSelection> {
    let conv = StatisticsConverter::try_new(&term.name, schema, pq).ok()?;
    let one = [rg];
    let mins = conv.data_page_mins(index, one.iter()).ok()?;
    let maxes = conv.data_page_maxes(index, one.iter()).ok()?;
    let nulls = conv.data_page_null_counts(index, one.iter()).ok();
    let counts = conv.data_page_row_counts(index, md.row_groups(), one.iter()).ok()??;
    if counts.len() != mins.len() || counts.null_count() > 0 || counts.values().iter().sum::<u64>() as usize != rows {
        return None;
    }
    let may = term.may_match(&mins, &maxes, nulls.as_ref(), Some(&counts));
    let mut selectors: Vec<RowSelector> = Vec::new();
    for (i, &count) in counts.values().iter().enumerate() {
        let count = count as usize;
        let keep = may.value(i);
        match selectors.last_mut() {
            Some(last) if last.skip != keep => last.row_count += count,
            _ => selectors.push(if keep { RowSelector::select(count) } else { RowSelector::skip(count) }),
        }
    }
    Some(RowSelection::from(selectors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{Field, TimeUnit};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("flag", DataType::Boolean, true),
            Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            Field::new("price", DataType::Decimal128(10, 2), true),
            Field::new("blob", DataType::Binary, true),
            Field::new("x", DataType::Float64, true),
            Field::new("y", DataType::Float32, true),
        ])
    }

    fn term(column: &str, op: Op, values: Vec<Value>) -> BoundTerm {
        bind_term(&Term { column: column.into(), op, values }, &schema(), "f.parquet").unwrap()
    }

    fn picked(t: &BoundTerm, col: &ArrayRef) -> Vec<usize> {
        let m = t.rows(col).unwrap();
        (0..m.len()).filter(|&i| m.value(i)).collect()
    }

    /// Rows of `[1.5, NaN, -0.0, 0.0, +inf, null]` each condition picks, as pyarrow 26's
    /// `pq.read_table(filters=…)` picks them (a null matches `not in` only).
    #[test]
    fn float_columns_compare_the_ieee_way_as_pyarrow_does() {
        let nan = f64::NAN;
        let values = [Some(1.5), Some(nan), Some(-0.0), Some(0.0), Some(f64::INFINITY), None];
        let f64s: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
        let f32s: ArrayRef =
            Arc::new(arrow_array::Float32Array::from(values.iter().map(|v| v.map(|v| v as f32)).collect::<Vec<_>>()));
        let f = Value::Float;
        let cases: Vec<(Op, Vec<Value>, Vec<usize>)> = vec![
            (Op::Gt, vec![Value::Int(1)], vec![0, 4]),
            (Op::Ge, vec![Value::Int(0)], vec![0, 2, 3, 4]),
            (Op::Eq, vec![Value::Int(0)], vec![2, 3]),
            (Op::Eq, vec![f(-0.0)], vec![2, 3]),
            (Op::Lt, vec![Value::Int(0)], vec![]),
            (Op::Le, vec![f(-0.0)], vec![2, 3]),
            (Op::Ne, vec![f(1.5)], vec![1, 2, 3, 4]),
            (Op::Ne, vec![Value::Int(0)], vec![0, 1, 4]),
            (Op::Eq, vec![f(nan)], vec![]),
            (Op::Ne, vec![f(nan)], vec![0, 1, 2, 3, 4]),
            (Op::Lt, vec![f(nan)], vec![]),
            (Op::Ge, vec![f(nan)], vec![]),
            (Op::Gt, vec![f(f64::NEG_INFINITY)], vec![0, 2, 3, 4]),
            (Op::In, vec![f(nan)], vec![1]),
            (Op::In, vec![f(-0.0)], vec![2]),
            (Op::In, vec![f(0.0), f(1.5)], vec![0, 3]),
            (Op::NotIn, vec![f(nan)], vec![0, 2, 3, 4, 5]),
            (Op::NotIn, vec![f(0.0)], vec![0, 1, 2, 4, 5]),
        ];
        for (column, col) in [("x", &f64s), ("y", &f32s)] {
            for (op, values, want) in &cases {
                let t = term(column, *op, values.clone());
                assert_eq!(picked(&t, col), *want, "{column} {} {values:?}", op_name(*op));
            }
        }
    }

    /// A float chunk's statistics leave NaN out and may hold either zero for both: a chunk is
    /// skipped only when no row of it can match.
    #[test]
    fn float_statistics_skip_only_chunks_without_a_possible_match() {
        let nan = f64::NAN;
        // Chunks: [1.5, NaN] (min = max = 1.5), [-0.0, 0.0] written as min = max = 0.0,
        // all NaN (no statistics), and statistics that hold a NaN (older writers).
        let mins: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), Some(0.0), None, Some(nan)]));
        let maxes: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), Some(0.0), None, Some(2.0)]));
        let may = |op: Op, v: Value| {
            let m = term("x", op, vec![v]).may_match(&mins, &maxes, None, None);
            (0..m.len()).filter(|&i| m.value(i)).collect::<Vec<_>>()
        };
        let f = Value::Float;
        assert_eq!(may(Op::Ne, f(1.5)), [0, 1, 2, 3], "the NaN of chunk 0 is != 1.5");
        assert_eq!(may(Op::NotIn, f(0.0)), [0, 1, 2, 3], "-0.0 is not in [0.0]");
        assert_eq!(may(Op::In, f(nan)), [0, 1, 2, 3], "NaN rows are in no statistics");
        assert_eq!(may(Op::Le, f(-0.0)), [1, 2, 3], "0.0 <= -0.0");
        assert_eq!(may(Op::Lt, f(0.0)), [2, 3], "-0.0 < 0.0 is false");
        assert_eq!(may(Op::Eq, f(-0.0)), [1, 2, 3]);
        assert_eq!(may(Op::Gt, Value::Int(1)), [0, 2, 3]);
        assert_eq!(may(Op::Gt, f(nan)), [2, 3], "nothing is > NaN; unknown statistics still say maybe");
    }

    /// pyarrow's `not in` keeps nulls (`~isin`, and `isin` answers false for a null): rows of
    /// every type, and the chunks that may hold them, which statistics must not skip.
    #[test]
    fn nulls_match_not_in_and_no_other_operator() {
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(2)]));
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("b")]));
        for (column, col, one) in [("id", &ids, Value::Int(1)), ("name", &names, Value::Str("a".into()))] {
            assert_eq!(picked(&term(column, Op::NotIn, vec![one.clone()]), col), [1, 2], "{column}");
            assert_eq!(picked(&term(column, Op::Ne, vec![one.clone()]), col), [2], "{column}");
            assert_eq!(picked(&term(column, Op::In, vec![one.clone()]), col), [0], "{column}");
        }
        // Chunks: all 1 with 2 nulls, all 1 without nulls, all nulls, null count unknown.
        let mins: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), None, Some(1)]));
        let maxes: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), None, Some(1)]));
        let nulls = UInt64Array::from(vec![Some(2), Some(0), Some(5), None]);
        let rows = UInt64Array::from(vec![Some(7), Some(5), Some(5), Some(5)]);
        let may = |op: Op| {
            let m = term("id", op, vec![Value::Int(1)]).may_match(&mins, &maxes, Some(&nulls), Some(&rows));
            (0..m.len()).filter(|&i| m.value(i)).collect::<Vec<_>>()
        };
        assert_eq!(may(Op::NotIn), [0, 2, 3]);
        assert_eq!(may(Op::Ne), [] as [usize; 0], "only nulls and ones: nothing is != 1");
        assert_eq!(may(Op::Eq), [0, 1, 3]);
    }

    fn bind(column: &str, op: Op, v: Value) -> Result<BoundFilter> {
        let f = Filter { any_of: vec![vec![Term { column: column.into(), op, values: vec![v] }]] };
        BoundFilter::bind(&f, &schema(), "f.parquet")
    }

    #[test]
    fn values_of_another_kind_than_the_column_are_refused_naming_column_operator_and_types() {
        let e = bind("name", Op::Gt, Value::Int(5)).err().expect("a number against a string column");
        assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
        assert!(e.message.contains("'name'") && e.message.contains("'>'"), "{}", e.message);
        assert!(e.message.contains("Utf8") && e.message.contains("number"), "{}", e.message);
        let e = bind("id", Op::Eq, Value::Bool(true)).err().expect("a boolean against an integer column");
        assert!(e.message.contains("'id'") && e.message.contains("'='"), "{}", e.message);
        assert!(e.message.contains("Int64") && e.message.contains("boolean"), "{}", e.message);
        assert!(bind("flag", Op::Eq, Value::Int(1)).is_err(), "a number against a boolean column");
        assert!(bind("at", Op::Ge, Value::Int(1)).is_err(), "a number against a timestamp column");
        assert!(bind("at", Op::Ge, Value::Str("2024-01-01".into())).is_err(), "a string against a timestamp column");
        assert!(bind("id", Op::Eq, Value::Str("5".into())).is_err(), "a string against an integer column");
        assert!(bind("id", Op::Eq, Value::TimestampMs(0)).is_err(), "a Date against an integer column");
        assert!(bind("name", Op::Eq, Value::Bytes(vec![1])).is_err(), "bytes against a string column");
    }

    #[test]
    fn values_of_the_column_kind_are_taken() {
        assert!(bind("name", Op::Gt, Value::Str("n5".into())).is_ok());
        assert!(bind("id", Op::Lt, Value::Float(2.5)).is_ok());
        assert!(bind("id", Op::Lt, Value::BigInt("9007199254740993".into())).is_ok());
        assert!(bind("price", Op::Lt, Value::Float(2.5)).is_ok());
        assert!(bind("flag", Op::Eq, Value::Bool(false)).is_ok());
        assert!(bind("at", Op::Ge, Value::TimestampMs(0)).is_ok());
        assert!(bind("blob", Op::Eq, Value::Bytes(vec![1])).is_ok());
        assert!(bind("blob", Op::Eq, Value::Str("ab".into())).is_ok(), "text is bytes too");
    }
}
