//! Record batches out to the host without copying a value buffer.
//!
//! A batch is exported through the Arrow C Data Interface (`FFI_ArrowArray` /
//! `FFI_ArrowSchema`); the exported structs own every buffer until they are dropped, which
//! calls their release callbacks. The host gets a description of the array tree — format
//! string, length, offset, null count, buffers, children, dictionary — where each buffer is a
//! view into a [`Region`]: one region per underlying allocation, so that the host wraps each
//! allocation exactly once (V8 must not see two ArrayBuffers over one allocation) and slices
//! share it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StructArray};
use arrow_data::ffi::FFI_ArrowArray;
use arrow_data::{layout, ArrayData};
use arrow_schema::ffi::FFI_ArrowSchema;

use crate::error::{Error, ErrorKind, Result};

/// The exported C Data Interface structs of one batch. Dropping the last reference releases
/// them, and with them the batch's buffers.
pub struct Exported {
    array: FFI_ArrowArray,
    schema: FFI_ArrowSchema,
    /// Bytes of the regions, reported to [`crate::memory::freed`] on release.
    bytes: usize,
}

impl Drop for Exported {
    fn drop(&mut self) {
        // Release the buffers first (the struct fields drop after this body), then count them.
        self.array = FFI_ArrowArray::empty();
        crate::memory::freed(self.bytes);
    }
}

// Safety: the structs only hold pointers into buffers they own (reference-counted,
// immutable); their release callbacks may run on any thread.
unsafe impl Send for Exported {}
unsafe impl Sync for Exported {}

impl Exported {
    /// Bytes of the buffers it owns.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn array(&self) -> &FFI_ArrowArray {
        &self.array
    }

    pub fn schema(&self) -> &FFI_ArrowSchema {
        &self.schema
    }
}

/// One allocation, as far as the batch uses it: `len` bytes from `ptr`.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    pub ptr: *const u8,
    pub len: usize,
}

unsafe impl Send for Region {}
unsafe impl Sync for Region {}

/// A buffer: `len` bytes at `offset` in region `region`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub region: usize,
    pub offset: usize,
    pub len: usize,
}

/// One array of the tree, with its field.
#[derive(Debug, Clone)]
pub struct Node {
    /// C Data Interface format string (`i`, `u`, `tsu:UTC`, `+l`, `d:10,2`, …).
    pub format: String,
    pub name: String,
    pub nullable: bool,
    pub metadata: Vec<(String, String)>,
    pub dictionary_ordered: bool,
    pub map_keys_sorted: bool,
    pub length: usize,
    pub offset: usize,
    pub null_count: usize,
    /// In C Data Interface order (validity bitmap first where the layout has one);
    /// `None` where the buffer is absent (no nulls).
    pub buffers: Vec<Option<View>>,
    pub children: Vec<Node>,
    pub dictionary: Option<Box<Node>>,
}

/// A batch ready to be wrapped by the host.
pub struct ExportedBatch {
    pub owner: Arc<Exported>,
    pub regions: Vec<Region>,
    /// A struct array whose children are the batch's columns.
    pub root: Node,
    pub schema_metadata: Vec<(String, String)>,
}

/// Export `batch`. Cost is proportional to the number of arrays, not to their size.
pub fn export_batch(batch: &RecordBatch) -> Result<ExportedBatch> {
    let data = StructArray::from(batch.clone()).into_data();
    let schema = FFI_ArrowSchema::try_from(batch.schema().as_ref())
        .map_err(|e| Error::new(ErrorKind::InvalidData, "", format!("cannot export schema: {e}")))?;
    let array = FFI_ArrowArray::new(&data);
    let owner = Arc::new(Exported { array, schema, bytes: batch.get_array_memory_size() });
    let mut regions = Regions::default();
    let root = describe(&data, owner.array(), owner.schema(), &mut regions)?;
    let mut schema_metadata: Vec<(String, String)> =
        batch.schema().metadata().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    schema_metadata.sort();
    Ok(ExportedBatch { owner, regions: regions.list, root, schema_metadata })
}

#[derive(Default)]
struct Regions {
    list: Vec<Region>,
    by_start: HashMap<usize, usize>,
}

impl Regions {
    /// A view of `len` bytes at `ptr`, inside the allocation that starts at `start`.
    fn view(&mut self, start: *const u8, ptr: *const u8, len: usize) -> View {
        let offset = ptr as usize - start as usize;
        let idx = *self.by_start.entry(start as usize).or_insert_with(|| {
            self.list.push(Region { ptr: start, len: 0 });
            self.list.len() - 1
        });
        let r = &mut self.list[idx];
        r.len = r.len.max(offset + len);
        View { region: idx, offset, len }
    }
}

fn describe(data: &ArrayData, ffi: &FFI_ArrowArray, sch: &FFI_ArrowSchema, regions: &mut Regions) -> Result<Node> {
    let has_validity = layout(data.data_type()).can_contain_null_mask;
    let mut buffers = Vec::with_capacity(ffi.num_buffers());
    for k in 0..ffi.num_buffers() {
        let ptr = ffi.buffer(k);
        if ptr.is_null() {
            buffers.push(None);
            continue;
        }
        let view = if has_validity && k == 0 {
            let len = (data.offset() + data.len()).div_ceil(8);
            match data.nulls().map(|n| n.buffer()) {
                // The exported bitmap is the array's own…
                Some(b) if b.as_ptr() == ptr => regions.view(b.data_ptr().as_ptr(), ptr, len),
                // …or a copy realigned to the array's offset, owned by the export.
                _ => regions.view(ptr, ptr, len),
            }
        } else {
            let i = k - usize::from(has_validity);
            match data.buffers().get(i) {
                Some(b) if b.as_ptr() == ptr => regions.view(b.data_ptr().as_ptr(), ptr, b.len()),
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidData,
                        "",
                        format!("cannot export buffer {k} of a {} array", data.data_type()),
                    ))
                }
            }
        };
        buffers.push(Some(view));
    }
    let mut children = Vec::with_capacity(ffi.num_children());
    let dictionary = match (ffi.dictionary(), sch.dictionary()) {
        (Some(d), Some(ds)) => Some(Box::new(describe(&data.child_data()[0], d, ds, regions)?)),
        _ => {
            for (i, child) in data.child_data().iter().enumerate() {
                children.push(describe(child, ffi.child(i), sch.child(i), regions)?);
            }
            None
        }
    };
    let mut metadata: Vec<(String, String)> = sch.metadata().unwrap_or_default().into_iter().collect();
    metadata.sort();
    Ok(Node {
        format: sch.format().to_string(),
        name: sch.name().unwrap_or_default().to_string(),
        nullable: sch.nullable(),
        metadata,
        dictionary_ordered: sch.dictionary_ordered(),
        map_keys_sorted: sch.map_keys_sorted(),
        length: ffi.len(),
        offset: ffi.offset(),
        null_count: ffi.null_count(),
        buffers,
        children,
        dictionary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::types::Int8Type;
    use arrow_array::{ArrayRef, DictionaryArray, Int32Array, StringArray};

    fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(cols).unwrap()
    }

    #[test]
    fn slices_share_their_allocation_and_views_point_into_it() {
        let ints: ArrayRef = Arc::new(Int32Array::from((0..100).collect::<Vec<i32>>()));
        let b = batch(vec![("a", ints.slice(10, 20)), ("b", ints.slice(50, 20))]);
        let e = export_batch(&b).unwrap();
        let a = &e.root.children[0];
        let bb = &e.root.children[1];
        assert_eq!(a.format, "i");
        assert_eq!((a.length, a.null_count), (20, 0));
        let (va, vb) = (a.buffers[1].unwrap(), bb.buffers[1].unwrap());
        assert!(a.buffers[0].is_none(), "no validity bitmap without nulls");
        assert_eq!(va.region, vb.region, "one region for one allocation");
        assert_eq!(e.regions.len(), 1);
        let region = e.regions[va.region];
        let values = unsafe { std::slice::from_raw_parts(region.ptr.add(va.offset) as *const i32, va.len / 4) };
        assert_eq!(values[0], 10 + a.offset as i32);
        assert!(region.len >= vb.offset + vb.len);
    }

    #[test]
    fn strings_nulls_and_dictionaries_are_described() {
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("yz")]));
        let d: ArrayRef = Arc::new(DictionaryArray::<Int8Type>::from_iter(["p", "q", "p"]));
        let e = export_batch(&batch(vec![("s", s), ("d", d)])).unwrap();
        let s = &e.root.children[0];
        assert_eq!((s.format.as_str(), s.name.as_str(), s.null_count), ("u", "s", 1));
        assert_eq!(s.buffers.len(), 3);
        assert!(s.buffers[0].is_some(), "validity bitmap present");
        let d = &e.root.children[1];
        assert_eq!(d.format, "c");
        assert_eq!(d.dictionary.as_ref().unwrap().format, "u");
        assert_eq!(d.dictionary.as_ref().unwrap().length, 2);
    }
}
