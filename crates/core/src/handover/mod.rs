//! Arrow record batches across the boundary to the host (Node): out without copying a value
//! buffer ([`export`]), in over the host's own memory ([`import`]), and cast to what the
//! host's Arrow library can hold ([`compat`]).

pub mod compat;
pub mod export;
pub mod import;

pub use compat::HostTypes;
pub use export::{export_batch, Exported, ExportedBatch, Node, Region, View};
pub use import::{field_of, import_batch, ForeignBuffer, ForeignNode};
