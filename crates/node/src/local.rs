//! Bindings of the confined local directory (core::local) for the `local` backend. Each call
//! runs its file work on tokio's blocking pool, never on the JS thread; errors carry the
//! core's kind as `code` and the store key as `path`.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use remote_store_core as core;
use remote_store_core::local::{Entry, EntryKind, LocalRoot, PendingFile, Reader};
use remote_store_core::CancellationToken;

use crate::{native_buffer, spawn, u64_arg, CancelToken, SourceFile};

/// A stat or listing entry.
#[napi(object)]
pub struct LocalEntry {
    /// The last segment of the key ('' for the root).
    pub name: String,
    #[napi(ts_type = "'file' | 'folder' | 'other'")]
    pub kind: String,
    pub size: f64,
    /// Milliseconds since the epoch.
    pub modified_ms: f64,
    /// The entry is a symlink (to something beneath the root).
    pub symlink: bool,
}

fn entry(name: &str, e: &Entry) -> LocalEntry {
    let kind = match e.kind {
        EntryKind::File => "file",
        EntryKind::Folder => "folder",
        EntryKind::Other => "other",
    };
    LocalEntry {
        name: name.to_string(),
        kind: kind.to_string(),
        size: e.size as f64,
        modified_ms: e.modified_ms(),
        symlink: e.symlink,
    }
}

fn last_segment(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// `f` on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> core::Result<T> + Send + 'static) -> core::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| core::Error::new(core::ErrorKind::Other, "", format!("local file task failed: {e}")))?
}

/// A local directory; no key or symlink leads outside it.
#[napi]
pub struct NativeLocalFs {
    root: LocalRoot,
}

#[napi]
impl NativeLocalFs {
    /// No I/O: the root is created by the first write when missing.
    #[napi(constructor)]
    pub fn new(root: String) -> Self {
        NativeLocalFs { root: LocalRoot::new(root) }
    }

    /// The entry at `key` (`''` is the root), or null when nothing is there.
    #[napi(ts_return_type = "Promise<LocalEntry | null>")]
    pub fn stat<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, Option<LocalEntry>>> {
        let root = self.root.clone();
        spawn(env, blocking(move || Ok(root.stat(&key)?.map(|e| entry(last_segment(&key), &e)))), |_, v| Ok(v))
    }

    /// The whole file, as a Buffer over native memory.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn read_file<'env>(
        &self,
        env: &'env Env,
        key: String,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (root, t) = (self.root.clone(), token.inner.clone());
        spawn(env, blocking(move || root.read(&key, &t)), native_buffer)
    }

    /// `length` bytes from `offset` (fewer at the end; null: to the end).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn read_range<'env>(
        &self,
        env: &'env Env,
        key: String,
        offset: f64,
        length: Option<f64>,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (root, t) = (self.root.clone(), token.inner.clone());
        spawn(
            env,
            blocking(move || {
                let offset = u64_arg(&key, "offset", offset)?;
                let length = length.map(|l| u64_arg(&key, "length", l)).transpose()?;
                root.read_range(&key, offset, length, &t)
            }),
            native_buffer,
        )
    }

    /// A sequential reader (for streams).
    #[napi(ts_return_type = "Promise<NativeLocalReader>")]
    pub fn open_reader<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, NativeLocalReader>> {
        let root = self.root.clone();
        spawn(env, blocking(move || root.reader(&key)), |_, r| {
            Ok(NativeLocalReader { inner: Arc::new(Mutex::new(Some(r))) })
        })
    }

    /// The entries of a folder, sorted by name (none for a missing path or a file).
    #[napi(ts_return_type = "Promise<Array<LocalEntry>>")]
    pub fn list<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, Vec<LocalEntry>>> {
        let root = self.root.clone();
        spawn(env, blocking(move || root.list(&key)), |_, v| Ok(v.iter().map(|(n, e)| entry(n, e)).collect()))
    }

    /// A temp file next to `key` (parents made), to fill and commit.
    #[napi(ts_return_type = "Promise<NativeLocalWriter>")]
    pub fn create_writer<'env>(
        &self,
        env: &'env Env,
        key: String,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, NativeLocalWriter>> {
        let (root, t) = (self.root.clone(), token.inner.clone());
        spawn(env, blocking(move || root.create_temp(&key)), move |_, p| {
            let key = p.key().to_string();
            Ok(NativeLocalWriter { inner: Arc::new(Mutex::new(Some(p))), token: t, key, source: SourceFile::default() })
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_file<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, ()>> {
        let root = self.root.clone();
        spawn(env, blocking(move || root.remove_file(&key)), |_, _| Ok(()))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_folder<'env>(&self, env: &'env Env, key: String, recursive: bool) -> Result<PromiseRaw<'env, ()>> {
        let root = self.root.clone();
        spawn(env, blocking(move || root.remove_folder(&key, recursive)), |_, _| Ok(()))
    }

    /// Moves a file; create-only unless `overwrite`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn rename<'env>(
        &self,
        env: &'env Env,
        src: String,
        dst: String,
        overwrite: bool,
    ) -> Result<PromiseRaw<'env, ()>> {
        let root = self.root.clone();
        spawn(env, blocking(move || root.rename(&src, &dst, overwrite)), |_, _| Ok(()))
    }

    /// Copies a file's bytes through a temp file; resolves with the size.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn copy<'env>(
        &self,
        env: &'env Env,
        src: String,
        dst: String,
        overwrite: bool,
        token: &CancelToken,
    ) -> Result<PromiseRaw<'env, f64>> {
        let (root, t) = (self.root.clone(), token.inner.clone());
        spawn(env, blocking(move || root.copy(&src, &dst, overwrite, &t)), |_, n| Ok(n as f64))
    }
}

/// Reads a file in chunks; closed by `close()` or when collected.
#[napi]
pub struct NativeLocalReader {
    inner: Arc<Mutex<Option<Reader>>>,
}

#[napi]
impl NativeLocalReader {
    /// Up to `size` bytes; an empty Buffer at the end of the file.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn read<'env>(&self, env: &'env Env, size: u32) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let inner = self.inner.clone();
        spawn(
            env,
            blocking(move || {
                let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
                let Some(reader) = guard.as_mut() else { return Ok(Vec::new()) };
                let mut buf = Vec::with_capacity(size as usize);
                reader.read_into(&mut buf, size as usize)?;
                Ok(buf)
            }),
            native_buffer,
        )
    }

    #[napi]
    pub fn close(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// A write in progress: `write` appends, `commit` puts the file in place (unless the token
/// fired), `abort` (or being collected) removes the temp file.
#[napi]
pub struct NativeLocalWriter {
    inner: Arc<Mutex<Option<PendingFile>>>,
    token: CancellationToken,
    key: String,
    /// The local file `writeFileRange` copies from, opened once by `attachFile`.
    source: SourceFile,
}

#[napi]
impl NativeLocalWriter {
    /// Appends a chunk, without copying it. Await each write before the next.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write<'env>(&self, env: &'env Env, chunk: Buffer) -> Result<PromiseRaw<'env, ()>> {
        let (inner, t) = (self.inner.clone(), self.token.clone());
        spawn(
            env,
            blocking(move || {
                let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
                let pending = guard.as_mut().ok_or_else(finished)?;
                let r = pending.write(&chunk, &t);
                if r.is_err() {
                    guard.take(); // nothing of a failed write is kept
                }
                r
            }),
            |_, _| Ok(()),
        )
    }

    /// Opens the local file whose bytes `writeFileRange` appends (the caller's source): a
    /// regular file only.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn attach_file<'env>(&self, env: &'env Env, file: String) -> Result<PromiseRaw<'env, ()>> {
        let (key, source) = (self.key.clone(), self.source.clone());
        spawn(env, async move { source.attach(&key, file).await }, |_, _| Ok(()))
    }

    /// Appends up to `max` bytes (at most 8 MiB) of the attached file from `offset`, copied by
    /// the kernel where it can. Resolves with the bytes appended, 0 at the end of the file.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn write_file_range<'env>(&self, env: &'env Env, offset: f64, max: f64) -> Result<PromiseRaw<'env, f64>> {
        let (inner, t, key, source) = (self.inner.clone(), self.token.clone(), self.key.clone(), self.source.clone());
        spawn(
            env,
            blocking(move || {
                let file = source.get(&key)?;
                let (offset, max) = (u64_arg(&key, "offset", offset)?, u64_arg(&key, "max", max)?);
                let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
                let pending = guard.as_mut().ok_or_else(finished)?;
                let r = pending.append_from(&file, offset, max, &t);
                if r.is_err() {
                    guard.take(); // nothing of a failed write is kept
                }
                r
            }),
            |_, n| Ok(n as f64),
        )
    }

    /// Flushes, then renames (`overwrite`) or hard-links (create-only) the file into place.
    #[napi(ts_return_type = "Promise<LocalEntry>")]
    pub fn commit<'env>(&self, env: &'env Env, overwrite: bool) -> Result<PromiseRaw<'env, LocalEntry>> {
        let (inner, t) = (self.inner.clone(), self.token.clone());
        spawn(
            env,
            blocking(move || {
                let pending = inner.lock().unwrap_or_else(|e| e.into_inner()).take().ok_or_else(finished)?;
                let key = pending.key().to_string();
                Ok((key.clone(), pending.commit(overwrite, &t)?))
            }),
            |_, (key, e)| Ok(entry(last_segment(&key), &e)),
        )
    }

    /// Discards the write. Idempotent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn abort<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        spawn(
            env,
            blocking(move || {
                inner.lock().unwrap_or_else(|e| e.into_inner()).take();
                Ok(())
            }),
            |_, _| Ok(()),
        )
    }
}

fn finished() -> core::Error {
    core::Error::invalid("", "this write is already committed or aborted")
}
