//! Record batches in from the host without copying: the host describes its arrays the way
//! the C Data Interface does (format strings, buffers in layout order) and lends its buffers;
//! each becomes an Arrow buffer over the host's memory that keeps the host's handle alive.
//! The result is fully validated (offsets in bounds, UTF-8 valid) before anything reads it.

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::{RecordBatch, StructArray};
use arrow_buffer::alloc::Allocation;
use arrow_buffer::{Buffer, MutableBuffer};
use arrow_data::{layout, ArrayData};
use arrow_schema::ffi::{FFI_ArrowSchema, Flags};
use arrow_schema::{DataType, Field, FieldRef, Schema};

use crate::error::{Error, Result};

/// Memory lent by the host: `len` bytes at `ptr`, valid while `owner` lives.
pub struct ForeignBuffer {
    pub ptr: *const u8,
    pub len: usize,
    pub owner: Arc<dyn Allocation>,
}

unsafe impl Send for ForeignBuffer {}

/// One array of the host's tree (see [`crate::handover::export::Node`] for the fields).
pub struct ForeignNode {
    pub format: String,
    pub name: String,
    pub nullable: bool,
    /// The field's metadata; on the root (the batch's struct), the schema's.
    pub metadata: Vec<(String, String)>,
    pub length: usize,
    pub offset: usize,
    pub buffers: Vec<Option<ForeignBuffer>>,
    pub children: Vec<ForeignNode>,
    pub dictionary: Option<Box<ForeignNode>>,
}

fn ffi_schema(node: &ForeignNode) -> std::result::Result<FFI_ArrowSchema, arrow_schema::ArrowError> {
    let children = node.children.iter().map(ffi_schema).collect::<std::result::Result<Vec<_>, _>>()?;
    let dictionary = node.dictionary.as_deref().map(ffi_schema).transpose()?;
    let flags = if node.nullable { Flags::NULLABLE } else { Flags::empty() };
    FFI_ArrowSchema::try_new(&node.format, children, dictionary)?.with_name(&node.name)?.with_flags(flags)
}

/// `field` (parsed from `node`) with the metadata of `node` and of its children.
fn with_metadata(field: Field, node: &ForeignNode) -> Field {
    use DataType::*;
    let child = |f: &FieldRef, n: Option<&ForeignNode>| match n {
        Some(n) => Arc::new(with_metadata(f.as_ref().clone(), n)),
        None => f.clone(),
    };
    let first = node.children.first();
    let t = match field.data_type() {
        Struct(fs) => Struct(fs.iter().enumerate().map(|(i, f)| child(f, node.children.get(i))).collect()),
        List(f) => List(child(f, first)),
        LargeList(f) => LargeList(child(f, first)),
        FixedSizeList(f, n) => FixedSizeList(child(f, first), *n),
        Map(f, sorted) => Map(child(f, first), *sorted),
        other => other.clone(),
    };
    let metadata: std::collections::HashMap<String, String> = node.metadata.iter().cloned().collect();
    field.with_data_type(t).with_metadata(metadata)
}

/// The field a node describes (its format strings parsed the C Data Interface way).
pub fn field_of(node: &ForeignNode) -> Result<Field> {
    let schema = ffi_schema(node).map_err(|e| bad(&node.name, e))?;
    Ok(with_metadata(Field::try_from(&schema).map_err(|e| bad(&node.name, e))?, node))
}

fn bad(name: &str, e: impl std::fmt::Display) -> Error {
    Error::argument("", format!("column '{name}': {e}"))
}

fn buffer(b: Option<ForeignBuffer>) -> Option<Buffer> {
    let b = b?;
    let ptr = NonNull::new(b.ptr as *mut u8).filter(|_| b.len > 0)?;
    // Safety: the host guarantees `len` readable bytes at `ptr` while `owner` lives, and the
    // buffer holds `owner`.
    Some(unsafe { Buffer::from_custom_allocation(ptr, b.len, b.owner) })
}

/// A buffer of no bytes that passes Arrow's alignment check for every type. An empty `Vec<u8>`
/// points at address 1, which Arrow refuses for any type wider than a byte; the host's own
/// empty views (which may sit at any byte offset) are never used.
fn empty() -> Buffer {
    Buffer::from(MutableBuffer::new(0))
}

/// Offsets buffers of empty arrays may come empty; Arrow wants the single leading zero.
fn empty_offsets(t: &DataType) -> Option<Buffer> {
    use DataType::*;
    match t {
        Utf8 | Binary | List(_) | Map(_, _) => Some(Buffer::from_vec(vec![0i32])),
        LargeUtf8 | LargeBinary | LargeList(_) => Some(Buffer::from_vec(vec![0i64])),
        _ => None,
    }
}

fn array_data(node: ForeignNode, t: &DataType) -> Result<ArrayData> {
    let name = node.name.clone();
    let l = layout(t);
    let mut bufs = node.buffers.into_iter();
    let validity = if l.can_contain_null_mask { bufs.next().and_then(buffer) } else { None };
    let mut values: Vec<Buffer> = Vec::with_capacity(l.buffers.len());
    for (i, b) in bufs.take(l.buffers.len()).enumerate() {
        let b = match buffer(b) {
            Some(b) => b,
            None if i == 0 && node.length == 0 => empty_offsets(t).unwrap_or_else(empty),
            None => empty(),
        };
        values.push(b);
    }
    let (children, dictionary): (Vec<ArrayData>, Option<ArrayData>) = match t {
        DataType::Dictionary(_, v) => {
            let d = node.dictionary.ok_or_else(|| bad(&name, "dictionary values missing"))?;
            (Vec::new(), Some(array_data(*d, v)?))
        }
        DataType::Struct(fields) => (
            node.children
                .into_iter()
                .zip(fields.iter())
                .map(|(c, f)| array_data(c, f.data_type()))
                .collect::<Result<_>>()?,
            None,
        ),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::Map(f, _) => {
            let c = node.children.into_iter().next().ok_or_else(|| bad(&name, "list values missing"))?;
            (vec![array_data(c, f.data_type())?], None)
        }
        _ => (Vec::new(), None),
    };
    let mut b = ArrayData::builder(t.clone())
        .len(node.length)
        .offset(node.offset)
        .null_bit_buffer(validity)
        .buffers(values)
        .child_data(children);
    if let Some(d) = dictionary {
        b = b.child_data(vec![d]);
    }
    b.build().map_err(|e| bad(&name, e))
}

/// A batch from the host's struct array `root` (one child per column).
pub fn import_batch(root: ForeignNode) -> Result<RecordBatch> {
    let field = field_of(&root)?;
    let DataType::Struct(fields) = field.data_type().clone() else {
        return Err(Error::argument("", format!("a batch must be a struct array, not {}", field.data_type())));
    };
    let data = array_data(root, field.data_type())?;
    let array = StructArray::from(data);
    let schema = Arc::new(Schema::new_with_metadata(fields, field.metadata().clone()));
    RecordBatch::try_new(schema, array.columns().to_vec()).map_err(|e| bad("", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handover::export::{export_batch, Node, Region};
    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, Int64Array, ListArray, StringArray};

    /// Feed an export back in, as a host would: every buffer lent from the exported regions.
    fn reimport(node: &Node, regions: &[Region], owner: &Arc<dyn Allocation>) -> ForeignNode {
        ForeignNode {
            format: node.format.clone(),
            name: node.name.clone(),
            nullable: node.nullable,
            metadata: node.metadata.clone(),
            length: node.length,
            offset: node.offset,
            buffers: node
                .buffers
                .iter()
                .map(|v| {
                    v.map(|v| ForeignBuffer {
                        ptr: unsafe { regions[v.region].ptr.add(v.offset) },
                        len: v.len,
                        owner: owner.clone(),
                    })
                })
                .collect(),
            children: node.children.iter().map(|c| reimport(c, regions, owner)).collect(),
            dictionary: node.dictionary.as_ref().map(|d| Box::new(reimport(d, regions, owner))),
        }
    }

    #[test]
    fn an_exported_batch_imports_back_equal_without_copying() {
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(7), None, Some(-1)]));
        let strs: ArrayRef = Arc::new(StringArray::from(vec!["a", "", "ccc"]));
        let batch = RecordBatch::try_from_iter(vec![("l", list), ("i", ints), ("s", strs.slice(0, 3))]).unwrap();
        let e = export_batch(&batch).unwrap();
        let owner: Arc<dyn Allocation> = e.owner.clone();
        let back = import_batch(reimport(&e.root, &e.regions, &owner)).unwrap();
        assert_eq!(back, batch);
        let theirs = back.column(1).to_data().buffers()[0].as_ptr();
        let ours = batch.column(1).to_data().buffers()[0].as_ptr();
        assert_eq!(theirs, ours, "values are read in place");
    }

    /// A host's empty table: no rows, its empty views at any byte offset (an empty JS typed
    /// array's `byteOffset` is arbitrary), or no buffers at all.
    #[test]
    fn empty_columns_import_whatever_their_views_point_at() {
        let owner: Arc<dyn Allocation> = Arc::new(vec![0u8; 0]);
        let bytes = Box::leak(Box::new([0u64; 4]));
        let odd = unsafe { (bytes.as_ptr() as *const u8).add(1) };
        let column = |name: &str, format: &str, buffers: Vec<Option<ForeignBuffer>>| ForeignNode {
            format: format.into(),
            name: name.into(),
            nullable: true,
            metadata: vec![],
            length: 0,
            offset: 0,
            buffers,
            children: vec![],
            dictionary: None,
        };
        let at_odd = || Some(ForeignBuffer { ptr: odd, len: 0, owner: owner.clone() });
        let root = ForeignNode {
            format: "+s".into(),
            name: String::new(),
            nullable: false,
            metadata: vec![],
            length: 0,
            offset: 0,
            buffers: vec![None],
            children: vec![
                column("i", "i", vec![None, at_odd()]),
                column("l", "l", vec![None, None]),
                column("d", "d:10,2", vec![None, at_odd()]),
                column("s", "u", vec![None, at_odd(), at_odd()]),
            ],
            dictionary: None,
        };
        let batch = import_batch(root).unwrap();
        assert_eq!(batch.num_rows(), 0);
        assert_eq!(batch.num_columns(), 4);
    }

    #[test]
    fn bad_offsets_are_refused_not_read() {
        let owner: Arc<dyn Allocation> = Arc::new(vec![0u8; 0]);
        let offsets = Box::leak(Box::new([0i32, 100]));
        let data = Box::leak(Box::new([b'x'; 4]));
        let node = ForeignNode {
            format: "+s".into(),
            name: String::new(),
            nullable: false,
            metadata: vec![],
            length: 1,
            offset: 0,
            buffers: vec![None],
            children: vec![ForeignNode {
                format: "u".into(),
                name: "s".into(),
                nullable: true,
                metadata: vec![],
                length: 1,
                offset: 0,
                buffers: vec![
                    None,
                    Some(ForeignBuffer { ptr: offsets.as_ptr() as *const u8, len: 8, owner: owner.clone() }),
                    Some(ForeignBuffer { ptr: data.as_ptr(), len: 4, owner: owner.clone() }),
                ],
                children: vec![],
                dictionary: None,
            }],
            dictionary: None,
        };
        let err = import_batch(node).unwrap_err();
        assert!(err.message.contains("column 's'"), "{}", err.message);
    }
}
