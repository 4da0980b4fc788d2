//! Streaming upload with bounded memory: small bodies become one (optionally conditional) PUT,
//! larger ones a multipart upload with up to `concurrency` parts in flight. Any failure,
//! cancellation or drop before `finish` aborts the multipart upload: it is never completed
//! with a partial body. A create-only upload completes with `If-None-Match: *` (added by the
//! HTTP layer for the operation), so concurrent creators cannot both win. The whole upload is
//! one operation: one deadline from its creation to `finish`.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutPayload, PutPayloadMut};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};
use crate::op::{self, Op};
use crate::options::{RetryOptions, Tuning};
use crate::run::run_op;
use crate::write::{self, create_error, PutInfo, Settled, WriteMode, WriteOptions};

#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    pub write: WriteOptions,
    /// Overrides the store's tuning when set.
    pub part_size: Option<usize>,
    pub concurrency: Option<usize>,
}

struct Multipart {
    upload: Box<dyn MultipartUpload>,
    buf: PutPayloadMut,
    tasks: JoinSet<object_store::Result<()>>,
}

impl Multipart {
    /// Repeatable: an abort that could not reach the server can be tried again.
    async fn abort(&mut self) -> Result<()> {
        self.tasks.shutdown().await;
        self.upload.abort().await.map_err(|e| Error::from_store("", e))
    }
}

/// The buffers of a file upload's parts, back here once their part is sent and dropped: a
/// fresh 8 MiB buffer faults in 2,048 pages, and glibc's heap gives freed ones back to the
/// system (memory.rs trims it), so without reuse every part of every file paid that again.
struct PartBuffers {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
    /// How many to keep; 0 once the upload is over (finished, failed or aborted).
    keep: std::sync::atomic::AtomicUsize,
}

impl PartBuffers {
    fn new(keep: usize) -> Self {
        PartBuffers { free: Default::default(), keep: keep.into() }
    }

    /// Frees the kept buffers and keeps none from now on: an upload's memory goes when it ends,
    /// not when its handle is collected.
    fn release(&self) {
        self.keep.store(0, std::sync::atomic::Ordering::Relaxed);
        let freed = std::mem::take(&mut *self.free.lock().unwrap());
        crate::memory::freed(freed.iter().map(Vec::capacity).sum());
    }

    /// An empty buffer with room for `len` bytes.
    fn take(&self, len: usize) -> Vec<u8> {
        let reused = self.free.lock().unwrap().pop();
        match reused {
            Some(mut buf) if buf.capacity() >= len => {
                buf.clear();
                buf
            }
            _ => Vec::with_capacity(len),
        }
    }
}

/// A part's bytes, whose buffer goes back to its upload's [`PartBuffers`] when dropped.
struct PartBuffer {
    buf: Vec<u8>,
    home: Arc<PartBuffers>,
}

impl AsRef<[u8]> for PartBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for PartBuffer {
    fn drop(&mut self) {
        let mut free = self.home.free.lock().unwrap();
        if free.len() < self.home.keep.load(std::sync::atomic::Ordering::Relaxed) {
            free.push(std::mem::take(&mut self.buf));
        }
    }
}

enum State {
    Buffering {
        chunks: Vec<Bytes>,
        len: usize,
    },
    Multipart(Multipart),
    /// The abort failed (the server was unreachable): `abort` tries again.
    AbortPending(Multipart),
    Done,
    Failed,
}

pub struct Upload {
    store: Arc<dyn ObjectStore>,
    key: Path,
    path: String,
    opts: UploadOptions,
    /// The store completes a create-only upload conditionally (S3's If-None-Match).
    conditional_completion: bool,
    op: Arc<Op>,
    retry: RetryOptions,
    part_size: usize,
    concurrency: usize,
    single_put_threshold: usize,
    written: std::sync::atomic::AtomicU64,
    file_parts: Arc<PartBuffers>,
    state: Mutex<State>,
    runtime: std::sync::Mutex<Option<tokio::runtime::Handle>>,
    secrets: Arc<Vec<String>>,
}

impl Upload {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        key: Path,
        path: String,
        opts: UploadOptions,
        conditional_completion: bool,
        op: Arc<Op>,
        tuning: Tuning,
        retry: RetryOptions,
        secrets: Arc<Vec<String>>,
    ) -> Upload {
        // S3 needs parts of at least 5 MiB (but the last).
        let part_size = opts.part_size.unwrap_or(tuning.part_size).max(5 * 1024 * 1024);
        let concurrency = opts.concurrency.unwrap_or(tuning.upload_concurrency).max(1);
        Upload {
            store,
            key,
            path,
            part_size,
            concurrency,
            single_put_threshold: tuning.single_put_threshold.max(part_size),
            opts,
            conditional_completion,
            op,
            retry,
            written: 0.into(),
            // The parts in flight, the one being filled and the one just sent.
            file_parts: Arc::new(PartBuffers::new(concurrency + 2)),
            state: Mutex::new(State::Buffering { chunks: Vec::new(), len: 0 }),
            runtime: std::sync::Mutex::new(None),
            secrets,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn bytes_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn remember_runtime(&self) {
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            let mut rt = self.runtime.lock().unwrap();
            if rt.is_none() {
                *rt = Some(h);
            }
        }
    }

    fn closed_error(&self, state: &State) -> Error {
        let what = match state {
            State::Done => "already finished",
            _ => "aborted after an earlier failure",
        };
        Error::new(ErrorKind::InvalidInput, &self.path, format!("upload of '{}' is {what}", self.path))
    }

    /// Append a chunk. Resolves once the chunk is buffered and fewer than `concurrency` parts
    /// are in flight (this is the backpressure). On error or cancellation the upload is aborted.
    pub async fn write(&self, chunk: Bytes, token: &CancellationToken) -> Result<()> {
        self.remember_runtime();
        let mut state = self.state.lock().await;
        let res = run_op(&self.op, token, &self.path, self.write_locked(&mut state, chunk)).await;
        if res.is_err() {
            self.fail(&mut state).await;
        }
        res.map_err(|e| e.redact(&self.secrets))
    }

    /// Append up to one part of `file` from `offset` (at most `max` bytes), read here rather than
    /// handed over in chunks: a file source's bytes never pass through JS. Returns the bytes
    /// appended, 0 at the end of the file. The file stays open in the caller, so a file renamed
    /// over or deleted meanwhile is still read whole, as a stream of it would be.
    pub async fn write_file_range(
        &self,
        file: &std::fs::File,
        offset: u64,
        max: usize,
        token: &CancellationToken,
    ) -> Result<usize> {
        let len = max.min(self.part_size);
        let mut buf = self.file_parts.take(len);
        let read = if token.is_cancelled() {
            Err(Error::aborted(&self.path))
        } else {
            crate::file::read_at(file, offset, &mut buf.spare_capacity_mut()[..len]).map_err(|e| {
                Error::new(
                    ErrorKind::Other,
                    &self.path,
                    format!("upload of '{}': the source file cannot be read: {e}", self.path),
                )
            })
        };
        match read {
            // SAFETY: read_at wrote the first n bytes.
            Ok(n) => unsafe { buf.set_len(n) },
            Err(e) => {
                self.fail(&mut *self.state.lock().await).await;
                return Err(e);
            }
        }
        let n = buf.len();
        if n > 0 {
            self.write(Bytes::from_owner(PartBuffer { buf, home: self.file_parts.clone() }), token).await?;
        }
        Ok(n)
    }

    async fn write_locked(&self, state: &mut State, chunk: Bytes) -> Result<()> {
        self.written.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        match state {
            State::Buffering { chunks, len } => {
                *len += chunk.len();
                chunks.push(chunk);
                if *len <= self.single_put_threshold {
                    return Ok(());
                }
                // Too big for one PUT: switch to multipart.
                if self.opts.write.mode == WriteMode::Create && !self.conditional_completion {
                    // Not S3 (local, memory): their multipart completion cannot be conditional,
                    // so check first. Racy against a concurrent writer.
                    match self.store.head(&self.key).await {
                        Ok(_) => return Err(Error::already_exists(&self.path)),
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(Error::from_store(&self.path, e)),
                    }
                }
                let opts = PutMultipartOptions { attributes: self.opts.write.attributes(), ..Default::default() };
                let upload = self
                    .store
                    .put_multipart_opts(&self.key, opts)
                    .await
                    .map_err(|e| Error::from_store(&self.path, e))?;
                let buffered = std::mem::take(chunks);
                *state = State::Multipart(Multipart { upload, buf: PutPayloadMut::new(), tasks: JoinSet::new() });
                let State::Multipart(mp) = state else { unreachable!() };
                for c in buffered {
                    self.push(mp, c);
                }
                self.wait_for_capacity(mp, self.concurrency).await
            }
            State::Multipart(mp) => {
                self.push(mp, chunk);
                self.wait_for_capacity(mp, self.concurrency).await
            }
            State::Done | State::Failed | State::AbortPending(_) => Err(self.closed_error(state)),
        }
    }

    fn push(&self, mp: &mut Multipart, mut bytes: Bytes) {
        while !bytes.is_empty() {
            let remaining = self.part_size - mp.buf.content_length();
            if bytes.len() < remaining {
                mp.buf.push(bytes);
                return;
            }
            mp.buf.push(bytes.split_to(remaining));
            let part: PutPayload = std::mem::take(&mut mp.buf).into();
            mp.tasks.spawn(op::scope(self.op.clone(), mp.upload.put_part(part)));
        }
    }

    async fn wait_for_capacity(&self, mp: &mut Multipart, max: usize) -> Result<()> {
        while !mp.tasks.is_empty() && mp.tasks.len() >= max.max(1) || (max == 0 && !mp.tasks.is_empty()) {
            match mp.tasks.join_next().await {
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => return Err(Error::from_store(&self.path, e)),
                Some(Err(e)) => {
                    return Err(Error::new(
                        ErrorKind::Other,
                        &self.path,
                        format!("upload of '{}': part task failed: {e}", self.path),
                    ))
                }
                None => break,
            }
        }
        Ok(())
    }

    async fn fail(&self, state: &mut State) {
        self.file_parts.release();
        if let State::Multipart(mut mp) = std::mem::replace(state, State::Failed) {
            // The original error is what the caller needs to see; a failed abort is kept for `abort`.
            if mp.abort().await.is_err() {
                *state = State::AbortPending(mp);
            }
        }
    }

    /// Complete the upload. Cancellable until the final completion request.
    pub async fn finish(&self, token: &CancellationToken) -> Result<PutInfo> {
        self.remember_runtime();
        let mut state = self.state.lock().await;
        let res = run_op(&self.op, token, &self.path, self.finish_locked(&mut state, token)).await;
        match &res {
            Ok(_) => *state = State::Done,
            Err(_) => self.fail(&mut state).await,
        }
        self.file_parts.release();
        res.map_err(|e| e.redact(&self.secrets))
    }

    async fn finish_locked(&self, state: &mut State, token: &CancellationToken) -> Result<PutInfo> {
        let size = self.bytes_written();
        let mode = self.opts.write.mode;
        match state {
            State::Buffering { chunks, .. } => {
                let payload: PutPayload = std::mem::take(chunks).into_iter().collect();
                write::put(self.store.as_ref(), &self.key, &self.path, payload, &self.opts.write, &self.retry).await
            }
            State::Multipart(mp) => {
                if !mp.buf.is_empty() {
                    let part: PutPayload = std::mem::take(&mut mp.buf).into();
                    mp.tasks.spawn(op::scope(self.op.clone(), mp.upload.put_part(part)));
                }
                self.wait_for_capacity(mp, 0).await?;
                if token.is_cancelled() {
                    return Err(Error::aborted(&self.path));
                }
                let err = match mp.upload.complete().await {
                    Ok(r) => return Ok(PutInfo::from_result(size, r)),
                    Err(e) => create_error(&self.path, mode, e),
                };
                if !write::unsettled(&err) {
                    return Err(err);
                }
                if mode == WriteMode::Overwrite {
                    return Err(write::explain(self.store.as_ref(), &self.key, &self.path, err).await);
                }
                match write::settle(self.store.as_ref(), &self.key, &self.path, err).await {
                    Settled::Failed(e) | Settled::Unwritten(e) => Err(e),
                }
            }
            State::Done | State::Failed | State::AbortPending(_) => Err(self.closed_error(state)),
        }
    }

    /// Abort: drop buffered data, abort the multipart upload. Idempotent; after `finish` it
    /// does nothing. When the server cannot be reached the upload stays abortable: call again.
    pub async fn abort(&self) -> Result<()> {
        self.file_parts.release();
        let mut state = self.state.lock().await;
        match std::mem::replace(&mut *state, State::Failed) {
            State::Multipart(mut mp) | State::AbortPending(mut mp) => match mp.abort().await {
                Ok(()) => Ok(()),
                Err(mut e) => {
                    *state = State::AbortPending(mp);
                    e.path = self.path.clone();
                    Err(e.redact(&self.secrets))
                }
            },
            State::Done => {
                *state = State::Done;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl Drop for Upload {
    /// An upload dropped before `finish` (e.g. its JS handle was garbage-collected) is aborted.
    fn drop(&mut self) {
        let state = std::mem::replace(self.state.get_mut(), State::Failed);
        if let State::Multipart(mut mp) | State::AbortPending(mut mp) = state {
            let rt = self.runtime.lock().ok().and_then(|g| g.clone());
            if let Some(rt) = rt.or_else(|| tokio::runtime::Handle::try_current().ok()) {
                rt.spawn(async move {
                    let _ = mp.abort().await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_buffers_come_back_until_the_upload_ends() {
        let home = Arc::new(PartBuffers::new(2));
        let mut buf = home.take(1000);
        buf.extend_from_slice(&[7; 1000]);
        let ptr = buf.as_ptr();
        drop(Bytes::from_owner(PartBuffer { buf, home: home.clone() }));
        let again = home.take(1000);
        assert_eq!((again.as_ptr(), again.len()), (ptr, 0), "the same buffer, emptied");
        let other = home.take(1000);
        assert!(other.as_ptr() != ptr, "and only once");
        drop(Bytes::from_owner(PartBuffer { buf: again, home: home.clone() }));
        assert!(home.take(2000).capacity() >= 2000, "a buffer too small is not handed out");
        home.release();
        drop(Bytes::from_owner(PartBuffer { buf: Vec::with_capacity(1000), home: home.clone() }));
        assert!(home.free.lock().unwrap().is_empty(), "none kept after the upload is over");
    }
}
