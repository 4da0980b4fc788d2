//! The HTTP layer under object_store's S3 client: every request object_store builds goes out
//! through [`Transport`], which signs it, applies the store's write headers, retries it under
//! the store's policy, ends it when it stalls, and records how it ended for the operation in
//! flight ([`crate::op`]).
//!
//! Why a service of our own rather than object_store's client: object_store 0.13 classifies
//! failures in a private error type (`RetryError`, status and body included) that cannot be
//! downcast, sends `If-None-Match` on CompleteMultipartUpload only for its own conditional copy,
//! has no idle-read timeout (only a whole-request one), retries each request under its own
//! budget, and refuses keys with control characters. Its public `HttpService` /
//! `HttpConnector` seam lets us own exactly those concerns while object_store keeps building
//! requests and parsing answers. object_store is told to skip signing (we sign here, after the
//! last header is added, with its public `AwsAuthorizer`) and not to retry (we do, once).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH};
use http::{Method, StatusCode, Uri};
use http_body::{Body, Frame, SizeHint};
use object_store::aws::AwsAuthorizer;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody, HttpResponse, HttpResponseBody,
    HttpService,
};
use object_store::ClientOptions;

use crate::op::{self, Failure, Op, TransportKind};
use crate::options::{AwsCredentialProvider, RetryOptions};

/// What kind of S3 request object_store built (from method, query and headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Get,
    Head,
    PutObject,
    UploadPart,
    CreateUpload,
    CompleteUpload,
    AbortUpload,
    Delete,
    Copy,
    PartCopy,
    Other,
}

const COPY_SOURCE: &str = "x-amz-copy-source";

impl Kind {
    fn of(req: &HttpRequest) -> Kind {
        let query = req.uri().query().unwrap_or("");
        let has = |name: &str| query.split('&').any(|p| p == name || p.split('=').next() == Some(name));
        let copy = req.headers().contains_key(COPY_SOURCE);
        match *req.method() {
            Method::GET => Kind::Get,
            Method::HEAD => Kind::Head,
            Method::PUT if has("partNumber") => {
                if copy {
                    Kind::PartCopy
                } else {
                    Kind::UploadPart
                }
            }
            Method::PUT if copy => Kind::Copy,
            Method::PUT => Kind::PutObject,
            Method::POST if has("uploads") => Kind::CreateUpload,
            Method::POST if has("uploadId") => Kind::CompleteUpload,
            Method::DELETE if has("uploadId") => Kind::AbortUpload,
            Method::DELETE => Kind::Delete,
            _ => Kind::Other,
        }
    }

    /// Writes whose outcome is unknown when their connection breaks after the body went out.
    fn is_write(self) -> bool {
        matches!(self, Kind::PutObject | Kind::CompleteUpload | Kind::Copy)
    }

    /// Answers that can be `200 OK` with an `<Error>` body.
    fn may_hide_error(self) -> bool {
        matches!(self, Kind::CompleteUpload | Kind::Copy | Kind::PartCopy)
    }
}

/// Settings of the HTTP layer of one S3 store.
pub(crate) struct Transport {
    pub client: reqwest::Client,
    /// None: anonymous (unsigned) requests.
    pub credentials: Option<AwsCredentialProvider>,
    pub region: String,
    pub requester_pays: bool,
    pub retry: RetryOptions,
    pub read_timeout: Duration,
    /// Added (when absent) to PutObject, CreateMultipartUpload and CopyObject: SSE, ACL, storage class.
    pub write_headers: HeaderMap,
    /// Added (when absent) to PutObject and CreateMultipartUpload: content-type and friends.
    pub content_headers: HeaderMap,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credential, not even the key id.
        f.debug_struct("Transport")
            .field("region", &self.region)
            .field("anonymous", &self.credentials.is_none())
            .field("requester_pays", &self.requester_pays)
            .field("retry", &self.retry)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

/// Plugs a [`Transport`] into object_store's builder.
#[derive(Debug)]
pub(crate) struct Connector(pub Arc<Transport>);

impl HttpConnector for Connector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(Service(self.0.clone())))
    }
}

#[derive(Debug)]
struct Service(Arc<Transport>);

#[async_trait::async_trait]
impl HttpService for Service {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.0.send(req).await
    }
}

/// How one attempt ended.
enum Outcome {
    Done(HttpResponse),
    /// An answer that is an error (including `200` with an `<Error>` body); body read whole.
    Status {
        parts: http::response::Parts,
        body: Bytes,
        code: Option<String>,
        message: Option<String>,
    },
    Transport {
        err: HttpError,
        kind: TransportKind,
        text: String,
    },
}

impl Transport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let op = op::current();
        // object_store deletes through DeleteObjects, whose XML body cannot hold every key:
        // a key sent as a placeholder is deleted with a plain DeleteObject instead.
        if let Some((req, placeholder)) = op.as_deref().and_then(|o| single_delete(&req, o)) {
            let resp = Box::pin(self.send(req)).await?;
            if !resp.status().is_success() {
                return Ok(resp);
            }
            let body = format!("<DeleteResult><Deleted><Key>{placeholder}</Key></Deleted></DeleteResult>");
            return Ok(http::Response::builder().status(200).body(body.into()).expect("static response"));
        }
        let kind = Kind::of(&req);
        let req = self.prepare(req, kind, op.as_deref())?;
        let what = format!("{} {}", req.method(), req.uri());
        let create_put = kind == Kind::PutObject && req.headers().contains_key(IF_NONE_MATCH);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.attempt(&req, kind, op.clone(), &what).await {
                Outcome::Done(resp) => {
                    match (&op, kind) {
                        (Some(op), Kind::PutObject | Kind::CompleteUpload) => {
                            op.set_checksum(checksum_of(resp.headers()))
                        }
                        (Some(op), Kind::Get) => {
                            let server = resp.headers().get(http::header::SERVER).and_then(|v| v.to_str().ok());
                            op.set_server(server.map(str::to_string))
                        }
                        _ => {}
                    }
                    return Ok(resp);
                }
                Outcome::Status { parts, body, code, message } => {
                    let status = parts.status;
                    if retryable_status(status, code.as_deref()) {
                        if let Some(wait) = self.backoff(attempt, op.as_deref()) {
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    if let Some(op) = &op {
                        let detail = match (&code, &message) {
                            (Some(c), Some(m)) => format!("{what}: HTTP {} {c}: {m}", status.as_u16()),
                            (Some(c), None) => format!("{what}: HTTP {} {c}", status.as_u16()),
                            _ => format!("{what}: HTTP {}", status.as_u16()),
                        };
                        op.record(Failure {
                            status: Some(status.as_u16()),
                            s3_code: code,
                            transport: None,
                            attempts: attempt,
                            detail,
                        });
                    }
                    return Ok(HttpResponse::from_parts(parts, body.into()));
                }
                Outcome::Transport { err, kind: tkind, text } => {
                    let unsent = matches!(tkind, TransportKind::Connect);
                    if kind.is_write() && !unsent && tkind != TransportKind::Credentials {
                        if let Some(op) = &op {
                            op.mark_ambiguous();
                        }
                    }
                    // A create-only PUT whose connection broke is not re-sent blindly: the
                    // server may have answered 412 early and closed, or applied it; the store
                    // decides with one probe (crate::write).
                    let retry = match tkind {
                        TransportKind::Connect => true,
                        TransportKind::Credentials => false,
                        TransportKind::Idle | TransportKind::Broken => !create_put,
                    };
                    if retry {
                        if let Some(wait) = self.backoff(attempt, op.as_deref()) {
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    if let Some(op) = &op {
                        op.record(Failure {
                            status: None,
                            s3_code: None,
                            transport: Some(tkind),
                            attempts: attempt,
                            detail: format!("{what}: {text}"),
                        });
                    }
                    return Err(err);
                }
            }
        }
    }

    fn backoff(&self, attempt: u32, op: Option<&Op>) -> Option<Duration> {
        self.retry.backoff(attempt, op.and_then(|o| o.remaining()))
    }

    /// The store's and the operation's changes to a request, made once before any attempt.
    fn prepare(&self, mut req: HttpRequest, kind: Kind, op: Option<&Op>) -> Result<HttpRequest, HttpError> {
        if let Some(op) = op {
            for fix in &op.keys {
                req = fix_key(req, &fix.placeholder, &fix.encoded)?;
            }
        }
        let headers = req.headers_mut();
        match kind {
            Kind::PutObject | Kind::CreateUpload => {
                insert_absent(headers, &self.write_headers);
                insert_absent(headers, &self.content_headers);
            }
            // CopyObject copies content headers and metadata from the source.
            Kind::Copy => insert_absent(headers, &self.write_headers),
            Kind::CompleteUpload if op.is_some_and(|o| o.create) => {
                headers.insert(IF_NONE_MATCH, HeaderValue::from_static("*"));
            }
            _ => {}
        }
        Ok(req)
    }

    async fn attempt(&self, req: &HttpRequest, kind: Kind, op: Option<Arc<Op>>, what: &str) -> Outcome {
        let mut req = req.clone();
        if let Some(provider) = &self.credentials {
            match provider.get_credential().await {
                Ok(cred) => AwsAuthorizer::new(&cred, "s3", &self.region)
                    .with_sign_payload(false)
                    .with_request_payer(self.requester_pays)
                    .authorize(&mut req, None),
                Err(e) => {
                    let text = format!("credentials unavailable: {e}");
                    return Outcome::Transport {
                        err: HttpError::new(HttpErrorKind::Unknown, e),
                        kind: TransportKind::Credentials,
                        text,
                    };
                }
            }
        } else if self.requester_pays {
            req.headers_mut().insert("x-amz-request-payer", HeaderValue::from_static("requester"));
        }
        let idle = Idle::new(self.read_timeout);
        let request = match to_reqwest(req, &idle) {
            Ok(r) => r,
            Err(e) => return Outcome::Transport { text: e.to_string(), err: e, kind: TransportKind::Broken },
        };
        let resp = match idle.guard(self.client.execute(request)).await {
            None => {
                return Outcome::Transport {
                    err: HttpError::new(HttpErrorKind::Timeout, IdleTimeout(self.read_timeout)),
                    kind: TransportKind::Idle,
                    text: IdleTimeout(self.read_timeout).to_string(),
                }
            }
            Some(Err(e)) => {
                let (hk, tk) = classify(&e);
                return Outcome::Transport {
                    text: error_chain(&e),
                    err: HttpError::new(hk, e.without_url()),
                    kind: tk,
                };
            }
            Some(Ok(r)) => r,
        };
        let status = resp.status();
        let (parts, body) = http::Response::<reqwest::Body>::from(resp).into_parts();
        let streamed = (status.is_success() && !kind.may_hide_error()) || status == StatusCode::NOT_MODIFIED;
        if streamed {
            let body = IdleBody::new(body, self.read_timeout, op, what.to_string());
            return Outcome::Done(HttpResponse::from_parts(parts, HttpResponseBody::new(body)));
        }
        // Error answers and write confirmations are small: read them whole (still under the idle timeout).
        let body = match collect(body, self.read_timeout).await {
            Ok(b) => b,
            Err((err, tk, text)) => return Outcome::Transport { err, kind: tk, text },
        };
        let code = xml_field(&body, "Code");
        if status.is_success() && code.is_none() {
            return Outcome::Done(HttpResponse::from_parts(parts, body.into()));
        }
        let message = xml_field(&body, "Message");
        Outcome::Status { parts, body, code, message }
    }
}

/// Statuses and S3 codes worth another attempt.
fn retryable_status(status: StatusCode, code: Option<&str>) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || matches!(code, Some("SlowDown" | "InternalError" | "RequestTimeout" | "ServiceUnavailable"))
}

fn insert_absent(headers: &mut HeaderMap, add: &HeaderMap) {
    for (k, v) in add {
        if !headers.contains_key(k) {
            headers.insert(k.clone(), v.clone());
        }
    }
}

/// Put the real key in place of its placeholder, in the URL path and in `x-amz-copy-source`.
fn fix_key(mut req: HttpRequest, placeholder: &str, encoded: &str) -> Result<HttpRequest, HttpError> {
    let tail = format!("/{placeholder}");
    let path = req.uri().path();
    if let Some(prefix) = path.strip_suffix(tail.as_str()) {
        let pq = match req.uri().query() {
            Some(q) => format!("{prefix}/{encoded}?{q}"),
            None => format!("{prefix}/{encoded}"),
        };
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = Some(pq.parse().map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?);
        *req.uri_mut() = Uri::from_parts(parts).map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?;
    }
    let source = req.headers().get(COPY_SOURCE).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(prefix) = source.as_deref().and_then(|s| s.strip_suffix(tail.as_str())) {
        let v = HeaderValue::from_str(&format!("{prefix}/{encoded}"))
            .map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?;
        req.headers_mut().insert(HeaderName::from_static(COPY_SOURCE), v);
    }
    Ok(req)
}

/// A DeleteObjects request for one placeholder key, as the DeleteObject request of the real
/// key (the placeholder is put back in the answer object_store expects).
fn single_delete(req: &HttpRequest, op: &Op) -> Option<(HttpRequest, String)> {
    if req.method() != Method::POST || req.uri().query() != Some("delete") {
        return None;
    }
    let body = std::str::from_utf8(req.body().as_bytes()?).ok()?;
    let fix = op.keys.iter().find(|f| body.contains(&format!("<Key>{}</Key>", f.placeholder)))?;
    if body.matches("<Key>").count() != 1 {
        return None;
    }
    let path = format!("{}/{}", req.uri().path().trim_end_matches('/'), fix.placeholder);
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(path.parse().ok()?);
    let uri = Uri::from_parts(parts).ok()?;
    let mut del = http::Request::builder().method(Method::DELETE).uri(uri).body(HttpRequestBody::empty()).ok()?;
    if let Some(v) = req.headers().get(http::header::USER_AGENT) {
        del.headers_mut().insert(http::header::USER_AGENT, v.clone());
    }
    Some((del, fix.placeholder.clone()))
}

/// `x-amz-checksum-<algorithm>` of a write's answer.
fn checksum_of(headers: &HeaderMap) -> Option<(String, String)> {
    ["crc64nvme", "crc32c", "crc32", "sha256", "sha1"].into_iter().find_map(|alg| {
        let v = headers.get(format!("x-amz-checksum-{alg}"))?.to_str().ok()?;
        Some((alg.to_string(), v.to_string()))
    })
}

/// The text of the first `<name>` element of an S3 XML answer.
fn xml_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&format!("</{name}>"))?;
    let v = text[start..end].trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn classify(e: &reqwest::Error) -> (HttpErrorKind, TransportKind) {
    if e.is_connect() {
        (HttpErrorKind::Connect, TransportKind::Connect)
    } else if e.is_timeout() {
        (HttpErrorKind::Timeout, TransportKind::Idle)
    } else {
        (HttpErrorKind::Interrupted, TransportKind::Broken)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cur = s.source();
    }
    out
}

fn to_reqwest(req: HttpRequest, idle: &Idle) -> Result<reqwest::Request, HttpError> {
    let (parts, body) = req.into_parts();
    let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?;
    let mut r = reqwest::Request::new(parts.method, url);
    *r.headers_mut() = parts.headers;
    if body.content_length() > 0 {
        *r.body_mut() = Some(reqwest::Body::wrap(Progress { inner: body, pending: None, idle: idle.clone() }));
    }
    Ok(r)
}

#[derive(Debug)]
struct IdleTimeout(Duration);

impl std::fmt::Display for IdleTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no data sent or received for {:?}", self.0)
    }
}

impl std::error::Error for IdleTimeout {}

/// When a request last made progress (a body frame handed to the connection).
#[derive(Clone)]
struct Idle {
    start: Instant,
    last_ms: Arc<AtomicU64>,
    timeout: Duration,
}

impl Idle {
    fn new(timeout: Duration) -> Idle {
        Idle { start: Instant::now(), last_ms: Arc::new(AtomicU64::new(0)), timeout }
    }

    fn touch(&self) {
        self.last_ms.store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn deadline(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + self.timeout
    }

    /// `fut`, unless it makes no progress for the timeout (then None).
    async fn guard<F: std::future::Future>(&self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            let wake = self.deadline();
            tokio::select! {
                r = &mut fut => return Some(r),
                _ = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() >= self.deadline() {
                        return None;
                    }
                }
            }
        }
    }
}

/// Frames handed to the connection at most this large, so that progress is seen while a
/// large body goes out (hyper asks for the next frame once the previous one is written).
const FRAME: usize = 256 * 1024;

/// A request body that reports its progress to [`Idle`].
struct Progress {
    inner: HttpRequestBody,
    pending: Option<Bytes>,
    idle: Idle,
}

impl Body for Progress {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        self.idle.touch();
        if self.pending.is_none() {
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => self.pending = Some(data),
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => return other,
            }
        }
        let mut data = self.pending.take().unwrap_or_default();
        if data.len() > FRAME {
            let rest = data.split_off(FRAME);
            self.pending = Some(rest);
        }
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let pending = self.pending.as_ref().map_or(0, |b| b.len() as u64);
        let inner = self.inner.size_hint();
        let mut h = SizeHint::new();
        h.set_lower(inner.lower() + pending);
        if let Some(u) = inner.upper() {
            h.set_upper(u + pending);
        }
        h
    }
}

/// A response body that fails when no byte arrives for the idle timeout; a failure is
/// recorded for the operation.
struct IdleBody {
    inner: reqwest::Body,
    timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    op: Option<Arc<Op>>,
    what: String,
}

impl IdleBody {
    fn new(inner: reqwest::Body, timeout: Duration, op: Option<Arc<Op>>, what: String) -> IdleBody {
        IdleBody { inner, timeout, sleep: Box::pin(tokio::time::sleep(timeout)), op, what }
    }

    fn fail(&self, kind: TransportKind, text: String) {
        if let Some(op) = &self.op {
            op.record(Failure {
                status: None,
                s3_code: None,
                transport: Some(kind),
                attempts: 1,
                detail: format!("{}: reading the body: {text}", self.what),
            });
        }
    }
}

impl Body for IdleBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let t = self.timeout;
                self.sleep.as_mut().reset(tokio::time::Instant::now() + t);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                let (hk, tk) = classify(&e);
                self.fail(tk, error_chain(&e));
                Poll::Ready(Some(Err(HttpError::new(hk, e.without_url()))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let t = self.timeout;
                    self.fail(TransportKind::Idle, IdleTimeout(t).to_string());
                    Poll::Ready(Some(Err(HttpError::new(HttpErrorKind::Timeout, IdleTimeout(t)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A whole (small) body, under the idle timeout.
async fn collect(body: reqwest::Body, timeout: Duration) -> Result<Bytes, (HttpError, TransportKind, String)> {
    use http_body_util::BodyExt;
    let mut body = IdleBody::new(body, timeout, None, String::new());
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    out.extend_from_slice(&d);
                }
            }
            Err(e) => {
                let tk = if e.kind() == HttpErrorKind::Timeout { TransportKind::Idle } else { TransportKind::Broken };
                let text = error_chain(&e);
                return Err((e, tk, text));
            }
        }
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, uri: &str, copy: bool) -> HttpRequest {
        let mut r = http::Request::builder().method(method).uri(uri);
        if copy {
            r = r.header(COPY_SOURCE, "bucket/src");
        }
        r.body(HttpRequestBody::empty()).unwrap()
    }

    #[test]
    fn request_kinds() {
        let u = "http://h/b/k";
        assert_eq!(Kind::of(&req(Method::PUT, u, false)), Kind::PutObject);
        assert_eq!(Kind::of(&req(Method::PUT, &format!("{u}?partNumber=1&uploadId=x"), false)), Kind::UploadPart);
        assert_eq!(Kind::of(&req(Method::PUT, &format!("{u}?partNumber=1&uploadId=x"), true)), Kind::PartCopy);
        assert_eq!(Kind::of(&req(Method::PUT, u, true)), Kind::Copy);
        assert_eq!(Kind::of(&req(Method::POST, &format!("{u}?uploads="), false)), Kind::CreateUpload);
        assert_eq!(Kind::of(&req(Method::POST, &format!("{u}?uploads"), false)), Kind::CreateUpload);
        assert_eq!(Kind::of(&req(Method::POST, &format!("{u}?uploadId=x"), false)), Kind::CompleteUpload);
        assert_eq!(Kind::of(&req(Method::DELETE, &format!("{u}?uploadId=x"), false)), Kind::AbortUpload);
        assert_eq!(Kind::of(&req(Method::DELETE, u, false)), Kind::Delete);
        assert_eq!(Kind::of(&req(Method::GET, u, false)), Kind::Get);
    }

    #[test]
    fn placeholder_keys_become_the_real_bytes() {
        let r = req(Method::PUT, "http://h:9/b/dir/__rs_key_0?partNumber=2&uploadId=u", false);
        let r = fix_key(r, "__rs_key_0", "a%01b%0A").unwrap();
        assert_eq!(r.uri().to_string(), "http://h:9/b/dir/a%01b%0A?partNumber=2&uploadId=u");
        let mut r = req(Method::PUT, "http://h:9/b/dst", false);
        r.headers_mut().insert(COPY_SOURCE, HeaderValue::from_static("b/__rs_key_1"));
        let r = fix_key(r, "__rs_key_1", "x%7F").unwrap();
        assert_eq!(r.headers()[COPY_SOURCE], "b/x%7F");
        assert_eq!(r.uri().path(), "/b/dst");
    }

    #[test]
    fn s3_error_fields() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(xml_field(body, "Code").as_deref(), Some("NoSuchBucket"));
        assert_eq!(xml_field(body, "Message").as_deref(), Some("The specified bucket does not exist"));
        assert_eq!(xml_field(b"<CompleteMultipartUploadResult/>", "Code"), None);
    }
}
