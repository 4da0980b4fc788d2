//! remote-store native core: the S3/local data path on object_store, free of any Node binding.
//!
//! Modules: `store` (the operations), `upload` (streaming writes), `write` (what a write is,
//! create-only settling), `key` (object keys as object_store paths), `s3` (building the S3
//! store), `transport` (the HTTP layer under it: signing, retries, timeouts, outcomes), `op`
//! (one operation's context), `run` (an operation under its deadline and token), `error`,
//! `options`, `credentials`, `memory`, `file` (positioned reads of local files), `parquet`. Dependencies point one way: `store` uses
//! `upload`, both use `write`, `run`, `op`; nothing below `store` uses it.

pub mod credentials;
pub mod dataset;
pub mod error;
pub mod file;
pub mod handover;
mod key;
pub mod local;
pub mod memory;
pub mod op;
pub mod options;
pub mod parquet;
mod run;
mod s3;
pub mod store;
mod transport;
pub mod upload;
pub mod write;

pub use bytes::Bytes;
pub use error::{Error, ErrorKind, Result};
pub use options::{
    AwsCredentialProvider, CopyIfNotExists, RangedReads, RetryOptions, S3Options, Tuning, WriteDefaults,
};
pub use store::{
    cancellable, coalesce, coalesce_proportional, ObjectInfo, ObjectVersion, PresignMethod, RangesResult, Store,
    StoreKind,
};
pub use tokio_util::sync::CancellationToken;
pub use upload::{Upload, UploadOptions};
pub use write::{Checksum, PutInfo, WriteMode, WriteOptions};
