//! object_store's `ObjectStore` over a [`LocalRoot`]: the native data path of local stores
//! (Parquet reads and writes, `unwrap(NativeObjectStore)`) gets the same confinement as the
//! local backend. object_store's own `LocalFileSystem` follows symlinks out of its root.
//!
//! Folders are real and persist when emptied (as in the local backend). Temp files are
//! never listed. Blocking file work runs on tokio's blocking pool; a write whose future is
//! dropped (the caller cancelled) is not committed.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    Attributes, CopyMode, CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
    RenameTargetMode, UploadPart,
};
use tokio_util::sync::CancellationToken;

use super::{join, Entry, EntryKind, LocalRoot, PendingFile};
use crate::error::{Error, ErrorKind};

#[derive(Debug, Clone)]
pub struct ConfinedStore {
    root: LocalRoot,
}

impl ConfinedStore {
    pub fn new(root: LocalRoot) -> ConfinedStore {
        ConfinedStore { root }
    }
}

impl std::fmt::Display for ConfinedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfinedLocal")
    }
}

/// Our error as object_store's: the kinds object_store names keep their variant, the rest
/// travel as `Generic` (and `Error::from_store` takes our kind back out).
fn to_store(e: Error) -> object_store::Error {
    let path = e.path.clone();
    match e.kind {
        ErrorKind::NotFound => object_store::Error::NotFound { path, source: Box::new(e) },
        ErrorKind::AlreadyExists => object_store::Error::AlreadyExists { path, source: Box::new(e) },
        ErrorKind::PermissionDenied => object_store::Error::PermissionDenied { path, source: Box::new(e) },
        _ => object_store::Error::Generic { store: "local", source: Box::new(e) },
    }
}

/// Runs blocking file work on tokio's blocking pool, handing it a token that fires when the
/// caller stops waiting: the work then commits nothing.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce(&CancellationToken) -> crate::Result<T> + Send + 'static,
) -> object_store::Result<T> {
    let token = CancellationToken::new();
    let guard = token.clone().drop_guard();
    let r = tokio::task::spawn_blocking(move || f(&token)).await?;
    guard.disarm();
    r.map_err(to_store)
}

fn meta(location: Path, e: &Entry) -> ObjectMeta {
    let last_modified: DateTime<Utc> = e.modified.into();
    ObjectMeta { location, last_modified, size: e.size, e_tag: Some(etag(e)), version: None }
}

/// Changes whenever the file is replaced or rewritten (as object_store's local e-tag).
fn etag(e: &Entry) -> String {
    let mtime = e.modified.duration_since(std::time::SystemTime::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    format!("{:x}-{:x}-{:x}", e.inode, mtime, e.size)
}

fn not_implemented(what: &str) -> object_store::Error {
    object_store::Error::NotImplemented { operation: what.into(), implementer: "ConfinedLocal".into() }
}

fn write_payload(pending: &mut PendingFile, payload: &PutPayload, token: &CancellationToken) -> crate::Result<()> {
    payload.iter().try_for_each(|chunk| pending.write(chunk, token))
}

#[async_trait]
impl ObjectStore for ConfinedStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let overwrite = match opts.mode {
            PutMode::Overwrite => true,
            PutMode::Create => false,
            PutMode::Update(_) => return Err(not_implemented("put with PutMode::Update")),
        };
        if !opts.attributes.is_empty() {
            return Err(not_implemented("put with attributes"));
        }
        let (root, key) = (self.root.clone(), location.to_string());
        let entry = blocking(move |token| {
            let mut pending = root.create_temp(&key)?;
            write_payload(&mut pending, &payload, token)?;
            pending.commit(overwrite, token)
        })
        .await?;
        Ok(PutResult { e_tag: Some(etag(&entry)), version: None })
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        if !opts.attributes.is_empty() {
            return Err(not_implemented("multipart put with attributes"));
        }
        let (root, key) = (self.root.clone(), location.to_string());
        let pending = blocking(move |_| root.create_temp(&key)).await?;
        Ok(Box::new(Upload { pending: Arc::new(Mutex::new(Some(pending))), offset: 0 }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let (root, location) = (self.root.clone(), location.clone());
        let key = location.to_string();
        let (file, entry) = blocking(move |_| root.open_file(&key)).await?;
        let meta = meta(location.clone(), &entry);
        options.check_preconditions(&meta)?;
        let range = match &options.range {
            Some(r) => r.as_range(meta.size).map_err(|e| {
                to_store(Error::invalid(location.as_ref(), format!("invalid range for '{location}': {e}")))
            })?,
            None => 0..meta.size,
        };
        Ok(GetResult {
            // The path only ever appears in object_store's messages: the key, not the absolute path.
            payload: GetResultPayload::File(file, location.to_string().into()),
            meta,
            range,
            attributes: Attributes::default(),
        })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        let (root, key, ranges) = (self.root.clone(), location.to_string(), ranges.to_vec());
        blocking(move |token| {
            ranges
                .into_iter()
                .map(|r| {
                    let len = r.end.checked_sub(r.start).ok_or_else(|| Error::invalid(&key, "invalid range"))?;
                    let buf = root.read_range(&key, r.start, Some(len), token)?;
                    if (buf.len() as u64) < len {
                        return Err(Error::invalid(
                            &key,
                            format!("range {}..{} past the end of '{key}'", r.start, r.end),
                        ));
                    }
                    Ok(Bytes::from(buf))
                })
                .collect()
        })
        .await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let root = self.root.clone();
        locations
            .map(move |location| {
                let root = root.clone();
                async move {
                    let location = location?;
                    let key = location.to_string();
                    blocking(move |_| root.remove_file(&key)).await?;
                    Ok(location)
                }
            })
            .buffered(10)
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let (root, prefix) = (self.root.clone(), prefix.map(|p| p.to_string()).unwrap_or_default());
        futures::stream::once(async move {
            let files = blocking(move |_| root.walk_files(&prefix)).await?;
            Ok::<_, object_store::Error>(futures::stream::iter(
                files.into_iter().filter_map(|(key, e)| Path::parse(&key).ok().map(|p| Ok(meta(p, &e)))),
            ))
        })
        .flat_map(|r| match r {
            Ok(s) => s.boxed(),
            Err(e) => futures::stream::once(async { Err(e) }).boxed(),
        })
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let (root, prefix) = (self.root.clone(), prefix.map(|p| p.to_string()).unwrap_or_default());
        let entries = blocking({
            let prefix = prefix.clone();
            move |_| root.list(&prefix)
        })
        .await?;
        let mut out = ListResult { common_prefixes: Vec::new(), objects: Vec::new() };
        for (name, entry) in entries {
            let Ok(location) = Path::parse(join(&prefix, &name)) else { continue };
            match entry.kind {
                EntryKind::Folder => out.common_prefixes.push(location),
                EntryKind::File => out.objects.push(meta(location, &entry)),
                EntryKind::Other => {}
            }
        }
        Ok(out)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        let overwrite = matches!(options.mode, CopyMode::Overwrite);
        let (root, src, dst) = (self.root.clone(), from.to_string(), to.to_string());
        blocking(move |token| root.copy(&src, &dst, overwrite, token).map(drop)).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
        let overwrite = matches!(options.target_mode, RenameTargetMode::Overwrite);
        let (root, src, dst) = (self.root.clone(), from.to_string(), to.to_string());
        blocking(move |_| root.rename(&src, &dst, overwrite)).await
    }
}

/// A multipart upload into one temp file; parts are written at their offsets, so they may
/// finish in any order. Completion replaces the target; dropping the upload removes the temp.
#[derive(Debug)]
struct Upload {
    pending: Arc<Mutex<Option<PendingFile>>>,
    offset: u64,
}

impl Upload {
    fn take(&self) -> crate::Result<PendingFile> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| Error::invalid("", "the upload is already finished"))
    }
}

#[async_trait]
impl MultipartUpload for Upload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let offset = self.offset;
        self.offset += data.content_length() as u64;
        let pending = self.pending.clone();
        Box::pin(async move {
            blocking(move |_| {
                let mut guard = pending.lock().unwrap_or_else(|e| e.into_inner());
                let file = guard.as_mut().ok_or_else(|| Error::invalid("", "the upload is already finished"))?;
                let mut at = offset;
                for chunk in data.iter() {
                    file.write_at(at, chunk)?;
                    at += chunk.len() as u64;
                }
                Ok(())
            })
            .await
        })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let pending = self.take().map_err(to_store)?;
        let entry = blocking(move |token| pending.commit(true, token)).await?;
        Ok(PutResult { e_tag: Some(etag(&entry)), version: None })
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        if let Ok(pending) = self.take() {
            tokio::task::spawn_blocking(move || drop(pending)).await?;
        }
        Ok(())
    }
}
