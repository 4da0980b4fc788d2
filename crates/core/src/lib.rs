//! remote-store native core: the S3/local data path on object_store, free of any Node binding.

pub mod credentials;
pub mod dataset;
pub mod error;
pub mod handover;
pub mod local;
pub mod memory;
pub mod options;
pub mod parquet;
pub mod store;
pub mod upload;

pub use bytes::Bytes;
pub use error::{Error, ErrorKind, Result};
pub use options::{AwsCredentialProvider, CopyIfNotExists, RetryOptions, S3Options, Tuning};
pub use store::{
    cancellable, coalesce, coalesce_proportional, ObjectInfo, ObjectVersion, PutInfo, RangesResult, Store, StoreKind,
    WriteMode,
};
pub use tokio_util::sync::CancellationToken;
pub use upload::{Upload, UploadOptions};
