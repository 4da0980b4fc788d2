//! What a write is (mode, per-write options, its answer), shared by single PUTs (`store`) and
//! streaming uploads (`upload`); and how a create-only write whose outcome is unknown is decided.
//!
//! Create-only writes are atomic on the server: the PUT and the CompleteMultipartUpload carry
//! `If-None-Match: *` (the HTTP layer adds it to the completion), and 412 / 409 answers are
//! `AlreadyExists`. What remains is the write whose answer was lost: the connection broke after
//! the body went out (some servers answer 412 before reading the body and close), or a retry
//! met the object its own first attempt had created. One probe (a GET of the first byte, see
//! [`probe`]) settles it: no object → the write did not happen (it is tried again within the
//! budget); an object → `AlreadyExists`. That answer is safe for exclusive creation (never two
//! winners) but not exact: when the lost answer was our own success, the writer is told
//! `AlreadyExists` about its own object, and the message says so. Telling "mine" from "someone
//! else's with the same bytes" would take a marker in every object (user metadata), which other
//! tools would see on every object written here; comparing ETags cannot tell them apart at all.

use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectMeta, ObjectStore, PutMode, PutOptions, PutPayload, PutResult,
};

use crate::error::{Error, ErrorKind, Result};
use crate::options::RetryOptions;

/// Whether a write may replace an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    #[default]
    Overwrite,
    /// Fail with `AlreadyExists` when the object exists (S3: `If-None-Match: *`).
    Create,
}

/// Options of one write; `None` fields fall back to the store's write defaults.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub mode: WriteMode,
    pub metadata: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub storage_class: Option<String>,
}

impl WriteOptions {
    pub fn create(mut self) -> Self {
        self.mode = WriteMode::Create;
        self
    }

    /// The object attributes of this write.
    pub(crate) fn attributes(&self) -> Attributes {
        let mut attrs = Attributes::new();
        for (k, v) in &self.metadata {
            attrs.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
        }
        let fields = [
            (Attribute::ContentType, &self.content_type),
            (Attribute::CacheControl, &self.cache_control),
            (Attribute::ContentDisposition, &self.content_disposition),
            (Attribute::ContentEncoding, &self.content_encoding),
            (Attribute::StorageClass, &self.storage_class),
        ];
        for (attr, value) in fields {
            if let Some(v) = value {
                attrs.insert(attr, v.clone().into());
            }
        }
        attrs
    }
}

/// A checksum the server computed or verified (`x-amz-checksum-<algorithm>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub algorithm: String,
    pub value: String,
}

/// What a write answers, from the server's response to the PUT or CompleteMultipartUpload.
#[derive(Debug, Clone, Default)]
pub struct PutInfo {
    pub size: u64,
    pub etag: Option<String>,
    pub version: Option<String>,
    pub checksum: Option<Checksum>,
}

impl PutInfo {
    pub(crate) fn from_result(size: u64, r: PutResult) -> PutInfo {
        let checksum =
            crate::op::current().and_then(|op| op.checksum()).map(|(algorithm, value)| Checksum { algorithm, value });
        PutInfo { size, etag: r.e_tag, version: r.version, checksum }
    }
}

/// A failed conditional write or copy is `AlreadyExists`, whatever the store calls it.
pub(crate) fn create_error(path: &str, mode: WriteMode, e: object_store::Error) -> Error {
    let mut err = Error::from_store(path, e);
    if mode == WriteMode::Create && err.kind == ErrorKind::Precondition {
        err.kind = ErrorKind::AlreadyExists;
        err.message = format!("object already exists: '{path}'");
    }
    err
}

/// What the server says about `key` now: one GET of its first byte. Its answer carries the
/// object's metadata, and an error answer carries S3's code (a HEAD's answer has no body: a
/// missing bucket would look like a missing object). `None`: no such object.
pub(crate) async fn probe(store: &dyn ObjectStore, key: &Path, path: &str) -> Result<Option<(ObjectMeta, Attributes)>> {
    let opts = GetOptions { range: Some(GetRange::Bounded(0..1)), ..Default::default() };
    let r = match store.get_opts(key, opts).await {
        Ok(r) => r,
        Err(e) => {
            let err = Error::from_store(path, e);
            return match err.kind {
                ErrorKind::NotFound => Ok(None),
                // An empty object has no first byte.
                ErrorKind::InvalidInput => {
                    let head = GetOptions { head: true, ..Default::default() };
                    match store.get_opts(key, head).await {
                        Ok(r) => Ok(Some((r.meta, r.attributes))),
                        Err(e) => Err(Error::from_store(path, e)),
                    }
                }
                _ => Err(err),
            };
        }
    };
    let (meta, attributes) = (r.meta.clone(), r.attributes.clone());
    let _ = r.bytes().await;
    Ok(Some((meta, attributes)))
}

/// A write whose connection broke is often one the server refused before reading its body
/// (a wrong secret, a missing bucket) and closed: the server's answer to a probe tells why.
pub(crate) async fn explain(store: &dyn ObjectStore, key: &Path, path: &str, err: Error) -> Error {
    match probe(store, key, path).await {
        Err(e) if e.status.is_some() => e,
        _ => err,
    }
}

/// How a create-only write with an unknown outcome ended.
pub(crate) enum Settled {
    /// It did not happen and nobody holds the key: `err` stands (the caller may try again).
    Unwritten(Error),
    /// `AlreadyExists`, or the original error when the probe itself failed.
    Failed(Error),
}

/// Settle a create-only write that failed with `err` after an attempt with an unknown outcome.
pub(crate) async fn settle(store: &dyn ObjectStore, key: &Path, path: &str, mut err: Error) -> Settled {
    match probe(store, key, path).await {
        Ok(Some(_)) => {
            err.kind = ErrorKind::AlreadyExists;
            err.message =
                format!("object already exists: '{path}' (an answer of this write was lost: it may be its own)");
            Settled::Failed(err)
        }
        Ok(None) => Settled::Unwritten(err),
        // The server refused the probe too: its answer says why the write failed.
        Err(e) if e.status.is_some() => Settled::Failed(e),
        Err(_) => Settled::Failed(err),
    }
}

/// Whether `err` of a create-only write may hide a write that happened.
pub(crate) fn unsettled(err: &Error) -> bool {
    let ambiguous = crate::op::current().is_some_and(|op| op.ambiguous());
    ambiguous
        && matches!(
            err.kind,
            ErrorKind::AlreadyExists | ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::NotFound
        )
}

/// One PUT of `payload` (see [`WriteOptions`]). An outcome hidden by a broken connection is
/// explained by one probe, and in create mode settled: a write that did not happen is tried
/// again within the retry budget and the operation's deadline.
pub(crate) async fn put(
    store: &dyn ObjectStore,
    key: &Path,
    path: &str,
    payload: PutPayload,
    opts: &WriteOptions,
    retry: &RetryOptions,
) -> Result<PutInfo> {
    let size = payload.content_length() as u64;
    let put_opts = PutOptions {
        mode: match opts.mode {
            WriteMode::Overwrite => PutMode::Overwrite,
            WriteMode::Create => PutMode::Create,
        },
        attributes: opts.attributes(),
        ..Default::default()
    };
    let mut attempt = 1;
    loop {
        let err = match store.put_opts(key, payload.clone(), put_opts.clone()).await {
            Ok(r) => return Ok(PutInfo::from_result(size, r)),
            Err(e) => create_error(path, opts.mode, e),
        };
        if !unsettled(&err) {
            return Err(err);
        }
        if opts.mode == WriteMode::Overwrite {
            return Err(explain(store, key, path, err).await);
        }
        let err = match settle(store, key, path, err).await {
            Settled::Failed(e) => return Err(e),
            Settled::Unwritten(e) => e,
        };
        let remaining = crate::op::current().and_then(|op| op.remaining());
        match retry.backoff(attempt, remaining) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Err(err),
        }
        attempt += 1;
    }
}
