use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use remote_store_core::{
    coalesce, CancellationToken, ErrorKind, S3Options, Store, StoreKind, Tuning, UploadOptions, WriteOptions,
};

fn tok() -> CancellationToken {
    CancellationToken::new()
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn small_tuning() -> Tuning {
    Tuning { parallel_get_threshold: 4096, get_chunk_size: 1000, concurrency: 4, ..Tuning::default() }
}

/// Files under `dir`, relative, sorted (staged multipart files included).
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &std::path::Path, d: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out)
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned())
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn put_get_roundtrip_local_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    for store in [Store::local(dir.path()).unwrap(), Store::memory()] {
        let t = tok();
        let info = store.put("a/b.txt", Bytes::from_static(b"hello"), &WriteOptions::default(), &t).await.unwrap();
        assert_eq!(info.size, 5);
        assert_eq!(store.get("a/b.txt", &t).await.unwrap(), b"hello");
        let h = store.head("a/b.txt", &t).await.unwrap();
        assert_eq!(h.size, 5);
        assert!(h.last_modified_ms > 0);
        store.delete("a/b.txt", &t).await.unwrap();
        let e = store.get("a/b.txt", &t).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("a/b.txt"), "{}", e.message);
    }
}

#[tokio::test]
async fn parallel_get_fills_one_buffer() {
    let dir = tempfile::tempdir().unwrap();
    for store in
        [Store::local(dir.path()).unwrap().with_tuning(small_tuning()), Store::memory().with_tuning(small_tuning())]
    {
        let t = tok();
        for n in [0usize, 1, 999, 4096, 4097, 10_000, 123_457] {
            let data = pattern(n);
            let p = format!("big/{n}.bin");
            store.put(&p, Bytes::from(data.clone()), &WriteOptions::default(), &t).await.unwrap();
            let got = store.get(&p, &t).await.unwrap();
            assert_eq!(got.len(), n);
            assert!(got == data, "mismatch for {n} on {:?}", store.kind());
        }
    }
}

#[tokio::test]
async fn ranges_and_coalescing() {
    let store = Store::memory();
    let t = tok();
    let data = pattern(5 * 1024 * 1024);
    store.put("r.bin", Bytes::from(data.clone()), &WriteOptions::default(), &t).await.unwrap();
    assert_eq!(store.get_range("r.bin", 10, Some(20), &t).await.unwrap(), &data[10..30]);
    // past the end: clamped
    let tail = store.get_range("r.bin", data.len() as u64 - 5, Some(100), &t).await.unwrap();
    assert_eq!(tail, &data[data.len() - 5..]);
    assert_eq!(store.get_range("r.bin", 0, Some(0), &t).await.unwrap().len(), 0);
    assert_eq!(store.get_range("nope", 0, Some(0), &t).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(store.get_range("nope", 0, Some(10), &t).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(store.get_range("nope", 0, None, &t).await.unwrap_err().kind, ErrorKind::NotFound);
    // to the end; at or past the end: empty
    assert_eq!(store.get_range("r.bin", 100, None, &t).await.unwrap(), &data[100..]);
    let n = data.len() as u64;
    assert_eq!(store.get_range("r.bin", n, Some(5), &t).await.unwrap().len(), 0);
    assert_eq!(store.get_range("r.bin", n + 10, Some(5), &t).await.unwrap().len(), 0);
    assert_eq!(store.get_range("r.bin", n + 10, None, &t).await.unwrap().len(), 0);
    let past = store.get_ranges("r.bin", &[0..2, n + 5..n + 9, n - 1..n + 3], &t).await.unwrap();
    let lens: Vec<usize> = past.slices.iter().map(|s| s.2).collect();
    assert_eq!(lens, vec![2, 0, 1]);

    let ranges = vec![4_000_000..4_000_100, 0..10, 5..15, 100..200, 3_000_000..3_000_001];
    let r = store.get_ranges("r.bin", &ranges, &t).await.unwrap();
    assert_eq!(r.buffers.len(), 2, "0..200 and 3_000_000..4_000_100 coalesce into two requests");
    for (range, (b, off, len)) in ranges.iter().zip(&r.slices) {
        assert_eq!(&r.buffers[*b][*off..off + len], &data[range.start as usize..range.end as usize]);
    }
    assert_eq!(coalesce(&[10..20, 0..5, 30..40], 5), vec![0..20, 30..40]);
    assert_eq!(coalesce(&[], 5), vec![]);
}

#[tokio::test]
async fn create_mode_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    for store in [Store::local(dir.path()).unwrap(), Store::memory()] {
        let t = tok();
        store.put("c.txt", Bytes::from_static(b"1"), &WriteOptions::default().create(), &t).await.unwrap();
        let e = store.put("c.txt", Bytes::from_static(b"2"), &WriteOptions::default().create(), &t).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
        assert!(e.message.contains("c.txt"));
        assert_eq!(store.get("c.txt", &t).await.unwrap(), b"1");
        store.put("c.txt", Bytes::from_static(b"3"), &WriteOptions::default(), &t).await.unwrap();
        assert_eq!(store.get("c.txt", &t).await.unwrap(), b"3");
    }
}

#[tokio::test]
async fn copy_semantics() {
    let dir = tempfile::tempdir().unwrap();
    for store in [Store::local(dir.path()).unwrap(), Store::memory()] {
        let t = tok();
        store.put("src", Bytes::from_static(b"S"), &WriteOptions::default(), &t).await.unwrap();
        store.copy("src", "d/dst", false, &t).await.unwrap();
        assert_eq!(store.get("d/dst", &t).await.unwrap(), b"S");
        let e = store.copy("src", "d/dst", false, &t).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
        store.put("src", Bytes::from_static(b"T"), &WriteOptions::default(), &t).await.unwrap();
        store.copy("src", "d/dst", true, &t).await.unwrap();
        assert_eq!(store.get("d/dst", &t).await.unwrap(), b"T");
        let e = store.copy("missing", "d/dst", false, &t).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert_eq!(e.path, "missing");
        let e = store.copy("missing", "d/other", true, &t).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    }
}

#[tokio::test]
async fn invalid_paths() {
    let store = Store::memory();
    let t = tok();
    assert_eq!(store.get("", &t).await.unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(store.get("a/../b", &t).await.unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(store.get("/a//b", &t).await.unwrap_err().kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn streaming_upload_multipart_local() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(dir.path()).unwrap();
    let t = tok();
    let data = pattern(23 * 1024 * 1024 + 17);
    let up = store
        .create_upload(
            "up/big.bin",
            UploadOptions { part_size: Some(5 * 1024 * 1024), concurrency: Some(2), ..Default::default() },
        )
        .unwrap();
    for c in data.chunks(1024 * 1024 + 3) {
        up.write(Bytes::copy_from_slice(c), &t).await.unwrap();
    }
    let info = up.finish(&t).await.unwrap();
    assert_eq!(info.size, data.len() as u64);
    assert!(store.get("up/big.bin", &t).await.unwrap() == data);
    assert_eq!(files(dir.path()), vec!["up/big.bin".to_string()]);
    // finished: further writes refused
    assert_eq!(up.write(Bytes::from_static(b"x"), &t).await.unwrap_err().kind, ErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_from_a_file_reads_it_in_parts_from_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(dir.path().join("store")).unwrap();
    let t = tok();
    let data = pattern(17 * 1024 * 1024 + 5);
    let src = dir.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    let file = std::fs::File::open(&src).unwrap();
    let up = store
        .create_upload(
            "up/file.bin",
            UploadOptions { part_size: Some(5 * 1024 * 1024), concurrency: Some(2), ..Default::default() },
        )
        .unwrap();
    let mut offset = 3u64;
    let mut parts = Vec::new();
    loop {
        let n = up.write_file_range(&file, offset, usize::MAX, &t).await.unwrap();
        if n == 0 {
            break;
        }
        parts.push(n);
        offset += n as u64;
    }
    // One part per call: the part size, then what is left.
    assert_eq!(parts, vec![5 << 20, 5 << 20, 5 << 20, (2 << 20) + 2]);
    assert_eq!(up.finish(&t).await.unwrap().size, data.len() as u64 - 3);
    assert!(store.get("up/file.bin", &t).await.unwrap() == data[3..]);
    // `max` bounds a call (a stream's `end`).
    let up = store.create_upload("up/head.bin", UploadOptions::default()).unwrap();
    assert_eq!(up.write_file_range(&file, 10, 100, &t).await.unwrap(), 100);
    up.finish(&t).await.unwrap();
    assert!(store.get("up/head.bin", &t).await.unwrap() == data[10..110]);
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_from_an_unreadable_file_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(dir.path().join("store")).unwrap();
    let t = tok();
    let up = store.create_upload("up/x.bin", UploadOptions::default()).unwrap();
    up.write(Bytes::from(pattern(9 * 1024 * 1024)), &t).await.unwrap();
    // A directory opens but cannot be read: EISDIR.
    let not_a_file = std::fs::File::open(dir.path()).unwrap();
    let e = up.write_file_range(&not_a_file, 0, usize::MAX, &t).await.unwrap_err();
    assert!(e.message.contains("source file cannot be read"), "{}", e.message);
    assert_eq!(up.finish(&t).await.unwrap_err().kind, ErrorKind::InvalidInput, "the failed upload is over");
    assert_eq!(store.get("up/x.bin", &t).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(files(&dir.path().join("store")), Vec::<String>::new());
}

#[tokio::test]
async fn streaming_upload_small_is_one_conditional_put() {
    let store = Store::memory();
    let t = tok();
    store.put("exists", Bytes::from_static(b"old"), &WriteOptions::default(), &t).await.unwrap();
    let up = store
        .create_upload("exists", UploadOptions { write: WriteOptions::default().create(), ..Default::default() })
        .unwrap();
    up.write(Bytes::from_static(b"new"), &t).await.unwrap();
    assert_eq!(up.finish(&t).await.unwrap_err().kind, ErrorKind::AlreadyExists);
    assert_eq!(store.get("exists", &t).await.unwrap(), b"old");
    // large + create on an existing key is refused before any part is uploaded
    let up = store
        .create_upload("exists", UploadOptions { write: WriteOptions::default().create(), ..Default::default() })
        .unwrap();
    let e = up.write(Bytes::from(vec![1u8; 9 * 1024 * 1024]), &t).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists);
}

#[tokio::test]
async fn failed_source_leaves_nothing_local() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local(dir.path()).unwrap();
    let t = tok();
    let up = store
        .create_upload("half.bin", UploadOptions { part_size: Some(5 * 1024 * 1024), ..Default::default() })
        .unwrap();
    for _ in 0..4 {
        up.write(Bytes::from(vec![7u8; 4 * 1024 * 1024]), &t).await.unwrap();
    }
    // the source fails: the caller aborts
    up.abort().await.unwrap();
    assert!(files(dir.path()).is_empty(), "left behind: {:?}", files(dir.path()));
    assert_eq!(store.head("half.bin", &t).await.unwrap_err().kind, ErrorKind::NotFound);
    // and a cancelled token aborts too
    let t2 = tok();
    let up = store.create_upload("half2.bin", UploadOptions::default()).unwrap();
    up.write(Bytes::from(vec![7u8; 12 * 1024 * 1024]), &t2).await.unwrap();
    t2.cancel();
    assert_eq!(up.write(Bytes::from_static(b"x"), &t2).await.unwrap_err().kind, ErrorKind::Aborted);
    assert_eq!(up.finish(&tok()).await.unwrap_err().kind, ErrorKind::InvalidInput);
    assert!(files(dir.path()).is_empty(), "left behind: {:?}", files(dir.path()));
    // dropped before finish: aborted in the background
    let up = store.create_upload("dropped.bin", UploadOptions::default()).unwrap();
    up.write(Bytes::from(vec![7u8; 12 * 1024 * 1024]), &t).await.unwrap();
    drop(up);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(files(dir.path()).is_empty(), "left behind: {:?}", files(dir.path()));
}

#[tokio::test]
async fn cancellation_mid_flight() {
    use object_store::throttle::{ThrottleConfig, ThrottledStore};
    let mem = Arc::new(object_store::memory::InMemory::new());
    let slow = ThrottledStore::new(
        mem.clone(),
        ThrottleConfig { wait_get_per_call: Duration::from_secs(30), ..Default::default() },
    );
    let store = Store::from_object_store(Arc::new(slow), StoreKind::Memory);
    let t = tok();
    store.put("x", Bytes::from_static(b"abc"), &WriteOptions::default(), &t).await.unwrap();
    let t2 = t.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        t2.cancel();
    });
    let e = store.get("x", &t).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Aborted);
    // already-cancelled token: nothing happens
    let e = store.put("y", Bytes::from_static(b"abc"), &WriteOptions::default(), &t).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Aborted);
    use object_store::ObjectStoreExt;
    assert!(mem.head(&"y".into()).await.is_err(), "nothing was written");
}

#[test]
fn s3_options_validation_no_io() {
    let mut o = S3Options { bucket: "".into(), ..Default::default() };
    assert_eq!(Store::s3(o.clone()).unwrap_err().kind, ErrorKind::InvalidArgument);
    o.bucket = "b".into();
    o.endpoint = Some("http://127.0.0.1:1".into());
    o.access_key_id = Some("AKIA_SECRET_KEY_ID".into());
    o.secret_access_key = Some("super-secret".into());
    let s = Store::s3(o.clone()).unwrap();
    assert_eq!(s.kind(), StoreKind::S3);
    for shown in [format!("{o:?}"), format!("{s:?}"), format!("{s:#?}")] {
        assert!(!shown.contains("super-secret") && !shown.contains("AKIA_SECRET_KEY_ID"), "{shown}");
    }
    o.ca_cert_path = Some("/nonexistent/ca.pem".into());
    let e = Store::s3(o.clone()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("/nonexistent/ca.pem"));
    o.ca_cert_path = Some("/tmp".into());
    assert!(Store::s3(o.clone()).unwrap_err().message.contains("not a regular file"));
    o.ca_cert_path = None;
    o.max_connections = Some(0);
    let e = Store::s3(o.clone()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("maxConnections"));
}

#[tokio::test]
async fn unreachable_s3_is_unavailable_and_hides_secret() {
    let o = S3Options {
        bucket: "b".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
        access_key_id: Some("AKIDEXAMPLE".into()),
        secret_access_key: Some("super-secret".into()),
        retry: remote_store_core::RetryOptions { max_attempts: 1, ..Default::default() },
        ..Default::default()
    };
    let s = Store::s3(o).unwrap();
    let e = s.get("k/obj", &tok()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(e.message.contains("k/obj"));
    assert!(!e.message.contains("super-secret"));
}

#[test]
fn redact_replaces_secret_values() {
    let e = remote_store_core::Error::new(ErrorKind::PermissionDenied, "k", "denied for AKIDEXAMPLE on 'k'")
        .redact(&["AKIDEXAMPLE".to_string()]);
    assert_eq!(e.message, "denied for *** on 'k'");
}
