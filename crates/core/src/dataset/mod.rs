//! Datasets: a folder (or a glob's matches) of Parquet files read as one table, and a table
//! written as such a folder, hive-partitioned, the way pyarrow.dataset, duckdb and polars
//! lay them out and read them.
//!
//! ```no_run
//! # async fn demo() -> remote_store_core::Result<()> {
//! use std::sync::Arc;
//! use remote_store_core::dataset::{DatasetOptions, DatasetScan, StoreSources};
//! use remote_store_core::parquet::{Filter, Op, Term, Value};
//! use remote_store_core::{CancellationToken, Store};
//!
//! let store = Store::local("/srv/data")?;
//! let token = CancellationToken::new();
//! let paths = vec!["sales/year=2024/part-0.parquet".to_string(), "sales/year=2025/part-0.parquet".to_string()];
//! let filter = Filter { any_of: vec![vec![Term { column: "year".into(), op: Op::Eq, values: vec![Value::Int(2025)] }]] };
//! let opts = DatasetOptions { hive: true, filter: Some(filter), ..Default::default() };
//! let sources = Arc::new(StoreSources::new(store, token.clone()));
//! let scan = DatasetScan::open(sources, "sales", paths, opts, &token).await?;
//! while let Some(batch) = scan.next(&token).await? {
//!     println!("{} rows", batch.num_rows());
//! }
//! # Ok(()) }
//! ```

pub mod partition;
pub mod scan;
pub mod write;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::parquet::{ByteSource, StoreSource};
use crate::store::Store;

pub use partition::Partitions;
pub use scan::{DatasetOptions, DatasetScan, Progress};
pub use write::{DatasetWriter, EncodedChunk, WriterOptions};

/// Opens the files of a dataset.
pub trait Sources: Send + Sync + 'static {
    fn open(&self, path: &str) -> Arc<dyn ByteSource>;
}

/// The files of a native store.
pub struct StoreSources {
    store: Store,
    token: CancellationToken,
}

impl StoreSources {
    pub fn new(store: Store, token: CancellationToken) -> Self {
        StoreSources { store, token }
    }
}

impl Sources for StoreSources {
    fn open(&self, path: &str) -> Arc<dyn ByteSource> {
        Arc::new(StoreSource::new(self.store.clone(), path, self.token.clone()))
    }
}
