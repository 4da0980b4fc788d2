//! The S3 data path against versitygw (an S3 gateway over a POSIX directory whose conditional
//! writes are atomic), started here on a free port; plus tiny misbehaving HTTP servers for the
//! timeout and retry cases. versitygw is built with `go install` (as bench/run.sh does) into
//! `~/.cache/remote-store/bench-bin` when missing; the test fails loudly when it cannot be had.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use remote_store_core::{
    CancellationToken, ErrorKind, PresignMethod, RangedReads, RetryOptions, S3Options, Store, Tuning, UploadOptions,
    WriteDefaults, WriteOptions,
};

const VERSITYGW_VERSION: &str = "v1.8.0";

struct Vgw {
    child: Child,
    port: u16,
    root: PathBuf,
}

impl Drop for Vgw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn versitygw_bin() -> PathBuf {
    if let Ok(p) = std::env::var("VERSITYGW_BIN") {
        return p.into();
    }
    let cache = std::env::var("REMOTE_STORE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/remote-store"));
    let dir = cache.join("bench-bin");
    let bin = dir.join("versitygw");
    if !bin.exists() {
        let st = Command::new("go")
            .args(["install", &format!("github.com/versity/versitygw/cmd/versitygw@{VERSITYGW_VERSION}")])
            .env("GOBIN", &dir)
            .status()
            .expect("go is needed to build versitygw for the S3 tests");
        assert!(st.success() && bin.exists(), "go install versitygw failed");
    }
    bin
}

fn start_vgw(buckets: &[&str]) -> Vgw {
    let root = std::env::temp_dir().join(format!("rs-vgw-{}-{}", std::process::id(), rand_suffix()));
    for b in buckets {
        std::fs::create_dir_all(root.join(b)).unwrap();
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(versitygw_bin())
        .args(["--access", "vgw-key", "--secret", "vgw-secret", "--port", &format!("127.0.0.1:{port}")])
        .args(["--keep-alive", "--quiet", "posix"])
        .arg(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("versitygw does not start");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "versitygw did not listen on {port} within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    Vgw { child, port, root }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

fn opts(port: u16, bucket: &str) -> S3Options {
    S3Options {
        bucket: bucket.into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        access_key_id: Some("vgw-key".into()),
        secret_access_key: Some("vgw-secret".into()),
        retry: RetryOptions { max_attempts: 3, backoff_base: Duration::from_millis(20), ..Default::default() },
        ..Default::default()
    }
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn tok() -> CancellationToken {
    CancellationToken::new()
}

/// 16 concurrent create-only multipart writes to one key: exactly one wins, the others are
/// AlreadyExists, and the object holds the winner's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_only_multipart_writes_have_one_winner() {
    let v = start_vgw(&["race"]);
    let store = Store::s3(opts(v.port, "race")).unwrap();
    let size = 6 * 1024 * 1024 + 17;
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let data = pattern(size, i);
            let up = store
                .create_upload(
                    "race/key.bin",
                    UploadOptions {
                        write: WriteOptions::default().create(),
                        part_size: Some(5 << 20),
                        ..Default::default()
                    },
                )
                .unwrap();
            for c in data.chunks(1 << 20) {
                if let Err(e) = up.write(Bytes::copy_from_slice(c), &tok()).await {
                    return (i, Err(e));
                }
            }
            (i, up.finish(&tok()).await)
        }));
    }
    let mut winners = Vec::new();
    let mut exists = 0;
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(_)) => winners.push(i),
            (_, Err(e)) if e.kind == ErrorKind::AlreadyExists => exists += 1,
            (i, Err(e)) => panic!("writer {i}: {e} ({:?})", e.detail),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(exists, 15);
    let got = store.get("race/key.bin", &tok()).await.unwrap();
    assert!(got == pattern(size, winners[0]), "the object holds the winner's bytes");
}

/// Create-only writes onto an existing key: always AlreadyExists (never "Broken pipe", never
/// success because the bytes happen to be identical), on the single-PUT and multipart paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_only_onto_an_existing_key_is_already_exists() {
    let v = start_vgw(&["bkt-b"]);
    let store = Store::s3(opts(v.port, "bkt-b")).unwrap();
    let body = Bytes::from(pattern(3 * 1024 * 1024, 1));
    let first = store.put("k", body.clone(), &WriteOptions::default().create(), &tok()).await.unwrap();
    assert!(first.etag.is_some());
    for _ in 0..20 {
        let e = store.put("k", body.clone(), &WriteOptions::default().create(), &tok()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e} {:?}", e.detail);
    }
    let up = store
        .create_upload(
            "k",
            UploadOptions { write: WriteOptions::default().create(), part_size: Some(5 << 20), ..Default::default() },
        )
        .unwrap();
    up.write(body.clone(), &tok()).await.unwrap();
    up.write(body.clone(), &tok()).await.unwrap();
    let e = up.finish(&tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
    assert_eq!(store.head("k", &tok()).await.unwrap().etag, first.etag, "the first object stands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_answer_from_the_server_and_carry_their_headers() {
    let v = start_vgw(&["bkt-w"]);
    let mut o = opts(v.port, "bkt-w");
    o.write_defaults = WriteDefaults {
        content_type: Some("application/x-default".into()),
        cache_control: Some("max-age=1".into()),
        ..Default::default()
    };
    o.tuning = Tuning { single_put_threshold: 5 << 20, part_size: 5 << 20, ..Tuning::default() };
    let store = Store::s3(o).unwrap();
    let w = WriteOptions {
        content_type: Some("text/csv".into()),
        content_disposition: Some("attachment".into()),
        metadata: vec![("team".into(), "native".into())],
        ..Default::default()
    };
    let put = store.put("dir/a.csv", Bytes::from_static(b"a,b\n1,2\n"), &w, &tok()).await.unwrap();
    let head = store.head("dir/a.csv", &tok()).await.unwrap();
    assert_eq!((put.size, &put.etag), (8, &head.etag), "the PUT's answer is the object's");
    assert_eq!(head.content_type.as_deref(), Some("text/csv"), "{head:?}");
    assert_eq!(head.content_disposition.as_deref(), Some("attachment"));
    assert_eq!(head.cache_control.as_deref(), Some("max-age=1"), "store default");
    assert_eq!(head.metadata, vec![("team".to_string(), "native".to_string())]);

    // multipart: the same headers on CreateMultipartUpload, the answer from the completion
    let up = store.create_upload("dir/big.bin", UploadOptions::default()).unwrap();
    let data = pattern(11 * 1024 * 1024, 3);
    for c in data.chunks(3 << 20) {
        up.write(Bytes::copy_from_slice(c), &tok()).await.unwrap();
    }
    let done = up.finish(&tok()).await.unwrap();
    assert_eq!(done.size, data.len() as u64);
    assert_eq!(done.etag, store.head("dir/big.bin", &tok()).await.unwrap().etag);
    let head = store.head("dir/big.bin", &tok()).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/x-default"));
    assert!(store.get("dir/big.bin", &tok()).await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_coded_and_name_the_key_only() {
    let v = start_vgw(&["bkt-e"]);
    let store = Store::s3(opts(v.port, "no-such-bucket")).unwrap();
    let e = store.put("dir/k.txt", Bytes::from_static(b"x"), &WriteOptions::default(), &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::BucketNotFound, "{e}");
    assert_eq!((e.status, e.s3_code.as_deref()), (Some(404), Some("NoSuchBucket")));
    assert!(!e.message.contains("not found: 'dir/k.txt'") || e.message.starts_with("bucket"), "{}", e.message);
    for leak in ["http://", "no-such-bucket", "<", "\n"] {
        assert!(!e.message.contains(leak), "message shows {leak:?}: {}", e.message);
    }
    assert!(e.detail.as_deref().unwrap().contains("no-such-bucket"), "the URL is in the detail");

    let store = Store::s3(opts(v.port, "bkt-e")).unwrap();
    let e = store.get("missing", &tok()).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)), "{e}");
    assert_eq!(e.message, "object not found: 'missing' (HTTP 404 NoSuchKey)");

    let mut bad = opts(v.port, "bkt-e");
    bad.secret_access_key = Some("wrong-secret".into());
    let e = Store::s3(bad).unwrap().get("k", &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied, "{e}");
    assert_eq!(e.status, Some(403));
    assert!(!format!("{e:?}").contains("wrong-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_with_control_characters_keep_their_bytes() {
    let v = start_vgw(&["bkt-c"]);
    let store = Store::s3(opts(v.port, "bkt-c")).unwrap();
    for key in ["ctl/a\u{1}b", "ctl/tab\there", "ctl/new\nline", "ctl/pct%41 #?&=+"] {
        store.put(key, Bytes::from(key.as_bytes().to_vec()), &WriteOptions::default(), &tok()).await.unwrap();
        assert_eq!(store.get(key, &tok()).await.unwrap(), key.as_bytes(), "{key:?}");
        assert_eq!(store.head(key, &tok()).await.unwrap().size, key.len() as u64);
        store.copy(key, &format!("{key}.copy"), false, &tok()).await.unwrap();
        assert_eq!(store.get(&format!("{key}.copy"), &tok()).await.unwrap(), key.as_bytes());
        store.delete(key, &tok()).await.unwrap();
        let names: Vec<String> = std::fs::read_dir(v.root.join("bkt-c/ctl"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(store.get(key, &tok()).await.unwrap_err().kind, ErrorKind::NotFound, "{names:?}");
    }
    let names: Vec<String> = std::fs::read_dir(v.root.join("bkt-c/ctl"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.contains(&"a\u{1}b.copy".to_string()), "exact bytes on the server: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_and_single_stream_reads() {
    let v = start_vgw(&["bkt-p"]);
    let mut o = opts(v.port, "bkt-p");
    o.ranged_reads = RangedReads::Single;
    let store = Store::s3(o).unwrap();
    let data = pattern(20 * 1024 * 1024, 9);
    store.put("p/big", Bytes::from(data.clone()), &WriteOptions::default(), &tok()).await.unwrap();
    assert!(store.get("p/big", &tok()).await.unwrap() == data);
    let url = store.presign("p/big", PresignMethod::Get, Duration::from_secs(60)).await.unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, body) = http_get(&url);
    assert_eq!(status, 200);
    assert!(body == data, "the presigned GET serves the object");
}

/// A plain HTTP/1.1 GET of `url` (http only), returning (status, body).
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

/// A server that accepts connections, reads the request head, then answers with `answer`
/// (None: never answers). Counts the requests it saw.
fn fake_server(answer: Option<&'static str>) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                read_request(&mut c);
                match answer {
                    Some(a) => {
                        let _ = c.write_all(a.as_bytes());
                    }
                    None => std::thread::sleep(Duration::from_secs(60)),
                }
            });
        }
    });
    (port, seen)
}

/// Reads one request (head and a Content-Length body) and returns its head, lower-cased;
/// None when the connection ends first.
fn read_request(c: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_ends_by_the_read_timeout_and_the_deadline_bounds_retries() {
    let (port, seen) = fake_server(None);
    let mut o = opts(port, "bkt-b");
    o.read_timeout = Some(Duration::from_millis(300));
    o.retry = RetryOptions { max_attempts: 2, backoff_base: Duration::from_millis(10), ..Default::default() };
    let store = Store::s3(o.clone()).unwrap();
    let e = store.get("stalled", &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert_eq!(e.attempts, Some(2), "{e:?}");
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    let e = store.put("w", Bytes::from(vec![0u8; 1 << 20]), &WriteOptions::default(), &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "a stalled write ends too: {e}");

    // The deadline bounds the whole operation, whatever the attempts allow.
    o.read_timeout = Some(Duration::from_secs(30));
    o.retry.max_attempts = 100;
    o.deadline = Some(Duration::from_millis(500));
    let store = Store::s3(o).unwrap();
    let e = store.get("stalled", &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.contains("deadline"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_server_error_is_retried_once_per_policy() {
    let answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: 59\r\nConnection: close\r\n\r\n<Error><Code>SlowDown</Code><Message>slow</Message></Error>";
    let (port, seen) = fake_server(Some(answer));
    let mut o = opts(port, "bkt-b");
    o.retry = RetryOptions { max_attempts: 3, backoff_base: Duration::from_millis(10), ..Default::default() };
    let store = Store::s3(o).unwrap();
    let e = store.put("k", Bytes::from_static(b"x"), &WriteOptions::default().create(), &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert_eq!((e.status, e.s3_code.as_deref(), e.attempts), (Some(503), Some("SlowDown"), Some(3)), "{e:?}");
    assert_eq!(e.message, "storage unavailable: 'k' (HTTP 503 SlowDown, 3 attempts)");
    assert_eq!(seen.load(Ordering::SeqCst), 3, "three PUTs, no HEAD, no second round of retries");
}

/// Serves one object; the first answer breaks off after `cut` bytes. Honours `Range`.
fn flaky_object_server(object: Vec<u8>, cut: usize) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let object = Arc::new(object);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let object = object.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                let (start, end) = head
                    .lines()
                    .find_map(|l| l.strip_prefix("range: bytes="))
                    .map(|r| {
                        let (a, b) = r.trim().split_once('-').unwrap();
                        let a: usize = a.parse().unwrap();
                        let b: usize = if b.is_empty() {
                            object.len() - 1
                        } else {
                            b.parse::<usize>().unwrap().min(object.len() - 1)
                        };
                        (a, b + 1)
                    })
                    .unwrap_or((0, object.len()));
                let body = &object[start..end];
                let _ = write!(
                    c,
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nETag: \"v1\"\r\nLast-Modified: Sun, 06 Dec 2026 20:00:00 GMT\r\n\r\n",
                    body.len(),
                    start,
                    end - 1,
                    object.len()
                );
                let send = if n == 0 { &body[..cut.min(body.len())] } else { body };
                let _ = c.write_all(send);
                let _ = c.flush();
                if n == 0 {
                    let _ = c.shutdown(std::net::Shutdown::Both);
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_breaks_off_is_resumed_where_it_stopped() {
    let object = pattern(3 * 1024 * 1024, 5);
    let (port, seen) = flaky_object_server(object.clone(), 100 * 1024);
    let store = Store::s3(opts(port, "bkt-r")).unwrap();
    let got = store.get("obj", &tok()).await.unwrap();
    assert!(got == object, "byte-exact after the resume");
    assert_eq!(seen.load(Ordering::SeqCst), 2, "one resume, not a new whole read");
}

/// Answers every request `200 OK` with an ETag and an empty body, and keeps each request head.
fn recording_server() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = heads.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            let keep = keep.clone();
            std::thread::spawn(move || loop {
                let Some(head) = read_request(&mut c) else { return };
                keep.lock().unwrap().push(head);
                let _ = c.write_all(
                    b"HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nx-amz-checksum-crc32: AAAAAA==\r\nContent-Length: 0\r\n\r\n",
                );
            });
        }
    });
    (port, heads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_wide_write_headers_requester_pays_and_anonymous_requests() {
    let (port, heads) = recording_server();
    let mut o = opts(port, "bkt-h");
    o.requester_pays = true;
    o.write_defaults = WriteDefaults {
        server_side_encryption: Some("aws:kms".into()),
        sse_kms_key_id: Some("key-1".into()),
        acl: Some("bucket-owner-full-control".into()),
        storage_class: Some("STANDARD_IA".into()),
        ..Default::default()
    };
    let store = Store::s3(o).unwrap();
    let w = WriteOptions { storage_class: Some("GLACIER".into()), ..Default::default() };
    let put = store.put("k", Bytes::from_static(b"x"), &w, &tok()).await.unwrap();
    assert_eq!(put.etag.as_deref(), Some("\"e1\""));
    assert_eq!(put.checksum.map(|c| (c.algorithm, c.value)), Some(("crc32".into(), "AAAAAA==".into())));
    let _ = store.get_range("k", 0, Some(1), &tok()).await;
    let heads = heads.lock().unwrap().clone();
    let (put, get) = (&heads[0], &heads[1]);
    assert!(put.starts_with("put /bkt-h/k "), "{put}");
    for h in [
        "x-amz-server-side-encryption: aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id: key-1",
        "x-amz-acl: bucket-owner-full-control",
        "x-amz-storage-class: glacier",
        "x-amz-request-payer: requester",
        "authorization: aws4-hmac-sha256",
    ] {
        assert!(put.contains(h), "PUT lacks {h}: {put}");
    }
    assert!(get.contains("x-amz-request-payer: requester") && !get.contains("x-amz-acl"), "{get}");

    let (port, heads) = recording_server();
    let mut o = opts(port, "bkt-h");
    (o.anon, o.access_key_id, o.secret_access_key) = (true, None, None);
    Store::s3(o).unwrap().put("k", Bytes::from_static(b"x"), &WriteOptions::default(), &tok()).await.unwrap();
    let head = heads.lock().unwrap()[0].clone();
    assert!(!head.contains("authorization:"), "anonymous requests are unsigned: {head}");
}

/// A proxy to `upstream` that swallows the answer on its first connection (the request
/// reaches the server, which acts on it; the client sees the connection drop).
fn answer_losing_proxy(upstream: u16) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, conn) in l.incoming().enumerate() {
            let Ok(client) = conn else { return };
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
            });
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                if n == 0 {
                    let mut buf = [0u8; 1];
                    let _ = s_read.read(&mut buf); // the server answered: lose it
                    let _ = c_write.shutdown(std::net::Shutdown::Both);
                } else {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                }
            });
        }
    });
    port
}

/// The hard case: a create-only PUT that the server applied, whose answer was lost. The retry
/// meets the object; the writer is told AlreadyExists (never two winners), in words that say
/// the object may be its own, and the object holds its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_only_write_whose_answer_was_lost_is_already_exists_saying_it_may_be_its_own() {
    let v = start_vgw(&["bkt-l"]);
    let lossy = Store::s3(opts(answer_losing_proxy(v.port), "bkt-l")).unwrap();
    let e = lossy
        .put("lost.txt", Bytes::from_static(b"mine"), &WriteOptions::default().create(), &tok())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
    assert!(e.message.contains("may be its own"), "{}", e.message);
    let direct = Store::s3(opts(v.port, "bkt-l")).unwrap();
    assert_eq!(direct.get("lost.txt", &tok()).await.unwrap(), b"mine");
    assert!(direct.head("lost.txt", &tok()).await.unwrap().metadata.is_empty(), "no marker in the object's metadata");
    let e = direct
        .put("lost.txt", Bytes::from_static(b"mine"), &WriteOptions::default().create(), &tok())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists, "same bytes, another writer: {e}");
    assert!(!e.message.contains("may be"), "a plain conflict says nothing more: {}", e.message);
}
