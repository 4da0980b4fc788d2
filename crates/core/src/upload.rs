//! Streaming upload with bounded memory: small bodies become one (optionally conditional) PUT,
//! larger ones a multipart upload with up to `concurrency` parts in flight. Any failure,
//! cancellation or drop before `finish` aborts the multipart upload: it is never completed
//! with a partial body.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{
    MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutPayloadMut,
};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};
use crate::options::Tuning;
use crate::store::{attributes, create_error, PutInfo, WriteMode};

#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    pub mode: WriteMode,
    pub metadata: Vec<(String, String)>,
    pub content_type: Option<String>,
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
    part_size: usize,
    concurrency: usize,
    single_put_threshold: usize,
    written: std::sync::atomic::AtomicU64,
    state: Mutex<State>,
    runtime: std::sync::Mutex<Option<tokio::runtime::Handle>>,
    secrets: Arc<Vec<String>>,
}

impl Upload {
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        key: Path,
        path: String,
        opts: UploadOptions,
        tuning: Tuning,
        secrets: Arc<Vec<String>>,
    ) -> Upload {
        // S3 needs parts of at least 5 MiB (but the last).
        let part_size = opts.part_size.unwrap_or(tuning.part_size).max(5 * 1024 * 1024);
        let concurrency = opts.concurrency.unwrap_or(tuning.concurrency).max(1);
        Upload {
            store,
            key,
            path,
            part_size,
            concurrency,
            single_put_threshold: tuning.single_put_threshold.max(part_size),
            opts,
            written: 0.into(),
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
        let res = self.write_locked(&mut state, chunk, token).await;
        if res.is_err() {
            self.fail(&mut state).await;
        }
        res.map_err(|e| e.redact(&self.secrets))
    }

    async fn write_locked(&self, state: &mut State, chunk: Bytes, token: &CancellationToken) -> Result<()> {
        if token.is_cancelled() {
            return Err(Error::aborted(&self.path));
        }
        self.written.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        match state {
            State::Buffering { chunks, len } => {
                *len += chunk.len();
                chunks.push(chunk);
                if *len <= self.single_put_threshold {
                    return Ok(());
                }
                // Too big for one PUT: switch to multipart.
                if self.opts.mode == WriteMode::Create {
                    // Multipart completion cannot be made conditional through object_store's
                    // API, so check first. This is racy against a concurrent writer.
                    let exists = tokio::select! {
                        biased;
                        _ = token.cancelled() => return Err(Error::aborted(&self.path)),
                        r = self.store.head(&self.key) => r,
                    };
                    match exists {
                        Ok(_) => {
                            return Err(Error::new(
                                ErrorKind::AlreadyExists,
                                &self.path,
                                format!("object already exists: '{}'", self.path),
                            ))
                        }
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(Error::from_store(&self.path, e)),
                    }
                }
                let opts = PutMultipartOptions {
                    attributes: attributes(&self.opts.metadata, self.opts.content_type.as_deref()),
                    ..Default::default()
                };
                let upload = tokio::select! {
                    biased;
                    _ = token.cancelled() => return Err(Error::aborted(&self.path)),
                    r = self.store.put_multipart_opts(&self.key, opts) => r.map_err(|e| Error::from_store(&self.path, e))?,
                };
                let buffered = std::mem::take(chunks);
                *state = State::Multipart(Multipart { upload, buf: PutPayloadMut::new(), tasks: JoinSet::new() });
                let State::Multipart(mp) = state else { unreachable!() };
                for c in buffered {
                    self.push(mp, c);
                }
                self.wait_for_capacity(mp, self.concurrency, token).await
            }
            State::Multipart(mp) => {
                self.push(mp, chunk);
                self.wait_for_capacity(mp, self.concurrency, token).await
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
            mp.tasks.spawn(mp.upload.put_part(part));
        }
    }

    async fn wait_for_capacity(&self, mp: &mut Multipart, max: usize, token: &CancellationToken) -> Result<()> {
        while !mp.tasks.is_empty() && mp.tasks.len() >= max.max(1) || (max == 0 && !mp.tasks.is_empty()) {
            let next = tokio::select! {
                biased;
                _ = token.cancelled() => return Err(Error::aborted(&self.path)),
                r = mp.tasks.join_next() => r,
            };
            match next {
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
        let res = self.finish_locked(&mut state, token).await;
        match &res {
            Ok(_) => *state = State::Done,
            Err(_) => self.fail(&mut state).await,
        }
        res.map_err(|e| e.redact(&self.secrets))
    }

    async fn finish_locked(&self, state: &mut State, token: &CancellationToken) -> Result<PutInfo> {
        if token.is_cancelled() {
            return Err(Error::aborted(&self.path));
        }
        let size = self.bytes_written();
        match state {
            State::Buffering { chunks, .. } => {
                let payload: PutPayload = std::mem::take(chunks).into_iter().collect();
                let opts = PutOptions {
                    mode: match self.opts.mode {
                        WriteMode::Overwrite => PutMode::Overwrite,
                        WriteMode::Create => PutMode::Create,
                    },
                    attributes: attributes(&self.opts.metadata, self.opts.content_type.as_deref()),
                    ..Default::default()
                };
                let r = tokio::select! {
                    biased;
                    _ = token.cancelled() => return Err(Error::aborted(&self.path)),
                    r = self.store.put_opts(&self.key, payload, opts) => r.map_err(|e| create_error(&self.path, self.opts.mode, e))?,
                };
                Ok(PutInfo { size, etag: r.e_tag, version: r.version })
            }
            State::Multipart(mp) => {
                if !mp.buf.is_empty() {
                    let part: PutPayload = std::mem::take(&mut mp.buf).into();
                    mp.tasks.spawn(mp.upload.put_part(part));
                }
                self.wait_for_capacity(mp, 0, token).await?;
                if token.is_cancelled() {
                    return Err(Error::aborted(&self.path));
                }
                let r = mp.upload.complete().await.map_err(|e| Error::from_store(&self.path, e))?;
                Ok(PutInfo { size, etag: r.e_tag, version: r.version })
            }
            State::Done | State::Failed | State::AbortPending(_) => Err(self.closed_error(state)),
        }
    }

    /// Abort: drop buffered data, abort the multipart upload. Idempotent; after `finish` it
    /// does nothing. When the server cannot be reached the upload stays abortable: call again.
    pub async fn abort(&self) -> Result<()> {
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
