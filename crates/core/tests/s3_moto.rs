//! The S3 data path against a real S3 server on 127.0.0.1: moto (`pip install "moto[server]"`),
//! started here on a free port. Installs moto when missing; fails loudly when it cannot start.
//! (The project's s3s-fs harness can replace this once it lands.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use remote_store_core::{
    CancellationToken, ErrorKind, RetryOptions, S3Options, Store, Tuning, UploadOptions, WriteOptions,
};

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_moto(port: u16, tls: &[String]) -> std::io::Result<Child> {
    Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .args(tls)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

fn start_moto() -> Moto {
    start_moto_with(&[])
}

fn start_moto_with(tls: &[String]) -> Moto {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = match spawn_moto(port, tls) {
        Ok(c) => c,
        Err(_) => {
            let st = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "moto[server]"])
                .status()
                .expect("python3 is needed to install moto for the S3 tests");
            assert!(st.success(), "pip install moto[server] failed");
            spawn_moto(port, tls).expect("moto_server does not start after installing moto")
        }
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not listen on {port} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { child, port }
}

/// Minimal unsigned HTTP request (moto does not check signatures); returns (status, body).
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default();
    (status, body)
}

fn store(m: &Moto, bucket: &str, tuning: Tuning) -> Store {
    let (st, body) = http(m.port, "PUT", &format!("/{bucket}"));
    assert!(st == 200, "create bucket: {st} {body}");
    Store::s3(S3Options {
        bucket: bucket.into(),
        endpoint: Some(format!("http://127.0.0.1:{}", m.port)),
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        retry: RetryOptions { max_attempts: 2, backoff_base: Duration::from_millis(50), ..Default::default() },
        tuning,
        ..Default::default()
    })
    .unwrap()
}

fn open_uploads(m: &Moto, bucket: &str) -> usize {
    let (st, body) = http(m.port, "GET", &format!("/{bucket}?uploads"));
    assert_eq!(st, 200, "{body}");
    body.matches("<UploadId>").count()
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 253) as u8).collect()
}

/// One server for all cases (moto takes a second or two to start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_data_path_against_moto() {
    let m = start_moto();
    let t = CancellationToken::new();
    let tuning =
        Tuning { parallel_get_threshold: 1 << 20, get_chunk_size: 300_000, concurrency: 4, ..Tuning::default() };
    let s = store(&m, "data", tuning);

    // put / get / head / parallel get
    s.put("a/small.txt", Bytes::from_static(b"hello"), &WriteOptions::default(), &t).await.unwrap();
    assert_eq!(s.get("a/small.txt", &t).await.unwrap(), b"hello");
    let big = pattern(3_500_001);
    s.put("a/big.bin", Bytes::from(big.clone()), &WriteOptions::default(), &t).await.unwrap();
    assert!(s.get("a/big.bin", &t).await.unwrap() == big, "parallel ranged get");
    assert_eq!(s.head("a/big.bin", &t).await.unwrap().size, big.len() as u64);
    s.put("a/empty", Bytes::new(), &WriteOptions::default(), &t).await.unwrap();
    assert_eq!(s.get("a/empty", &t).await.unwrap().len(), 0, "empty object");
    assert_eq!(s.get_range("a/big.bin", 10, Some(5), &t).await.unwrap(), &big[10..15]);
    let n = big.len() as u64;
    assert_eq!(s.get_range("a/big.bin", n, Some(5), &t).await.unwrap().len(), 0, "416 → empty");
    assert_eq!(s.get_range("a/big.bin", n - 2, None, &t).await.unwrap(), &big[big.len() - 2..]);
    let r = s.get_ranges("a/big.bin", &[0..3, 3_000_000..3_000_010], &t).await.unwrap();
    assert_eq!(&r.buffers[r.slices[1].0][r.slices[1].1..r.slices[1].1 + 10], &big[3_000_000..3_000_010]);

    // errors
    let e = s.get("a/missing", &t).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("a/missing"));

    // conditional put: If-None-Match: *
    let e = s.put("a/small.txt", Bytes::from_static(b"x"), &WriteOptions::default().create(), &t).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}");
    assert_eq!(s.get("a/small.txt", &t).await.unwrap(), b"hello");

    // create-only onto an existing key with a body the server refuses before reading it
    // (moto answers 412 and closes): AlreadyExists every time, also for identical bytes
    let body = Bytes::from(pattern(3 * 1024 * 1024 + 1));
    s.put("a/exists.bin", body.clone(), &WriteOptions::default(), &t).await.unwrap();
    for _ in 0..30 {
        let e = s.put("a/exists.bin", body.clone(), &WriteOptions::default().create(), &t).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e} {:?}", e.detail);
    }

    // copy
    s.copy("a/small.txt", "b/copy.txt", true, &t).await.unwrap();
    assert_eq!(s.get("b/copy.txt", &t).await.unwrap(), b"hello");
    let e = s.copy("a/missing", "b/x", true, &t).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");

    // streaming multipart upload
    let data = pattern(12 * 1024 * 1024 + 3);
    let up = s
        .create_upload(
            "m/ok.bin",
            UploadOptions { part_size: Some(5 << 20), concurrency: Some(2), ..Default::default() },
        )
        .unwrap();
    for c in data.chunks(1 << 20) {
        up.write(Bytes::copy_from_slice(c), &t).await.unwrap();
    }
    up.finish(&t).await.unwrap();
    assert!(s.get("m/ok.bin", &t).await.unwrap() == data);
    assert_eq!(open_uploads(&m, "data"), 0);

    // a source that fails half-way: abort → no object, no open multipart upload
    let up = s.create_upload("m/half.bin", UploadOptions { part_size: Some(5 << 20), ..Default::default() }).unwrap();
    for c in data.chunks(1 << 20).take(11) {
        up.write(Bytes::copy_from_slice(c), &t).await.unwrap();
    }
    assert_eq!(open_uploads(&m, "data"), 1, "the multipart upload was started");
    up.abort().await.unwrap();
    assert_eq!(s.head("m/half.bin", &t).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(open_uploads(&m, "data"), 0, "aborted");

    // cancelled mid-upload: same
    let t2 = CancellationToken::new();
    let up = s.create_upload("m/cancel.bin", UploadOptions::default()).unwrap();
    up.write(Bytes::from(vec![1u8; 10 << 20]), &t2).await.unwrap();
    t2.cancel();
    assert_eq!(up.write(Bytes::from_static(b"x"), &t2).await.unwrap_err().kind, ErrorKind::Aborted);
    assert_eq!(s.head("m/cancel.bin", &t).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(open_uploads(&m, "data"), 0);

    // copy with overwrite=false (multipart copy completed with If-None-Match: *)
    match s.copy("a/small.txt", "b/copy.txt", false, &t).await {
        Err(e) => assert_eq!(e.kind, ErrorKind::AlreadyExists, "{e}"),
        Ok(()) => panic!("copy onto an existing object with overwrite=false succeeded"),
    }
    s.copy("a/small.txt", "b/new.txt", false, &t).await.unwrap();
    assert_eq!(s.get("b/new.txt", &t).await.unwrap(), b"hello");
    assert_eq!(open_uploads(&m, "data"), 0);

    // delete
    s.delete("b/new.txt", &t).await.unwrap();
    assert_eq!(s.head("b/new.txt", &t).await.unwrap_err().kind, ErrorKind::NotFound);
}

fn run(cmd: &str, args: &[&str], dir: &std::path::Path) {
    let st = Command::new(cmd).args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(matches!(st, Ok(s) if s.success()), "{cmd} {args:?} failed: {st:?}");
}

/// A private CA and a server certificate for 127.0.0.1, made with the openssl CLI.
fn make_certs(dir: &std::path::Path) {
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=remote-store test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        dir,
    );
    run(
        "openssl",
        &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"],
        dir,
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
        dir,
    );
}

/// TLS with a private CA: trusted through `ca_cert_path`, refused without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_https_with_custom_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let m = start_moto_with(&["-s".into(), "-c".into(), p("leaf.pem"), "-k".into(), p("leaf.key")]);
    // create the bucket over https (python, which moto needs anyway)
    let code = format!(
        "import ssl,urllib.request as u; c=ssl.create_default_context(cafile={ca:?}); \
         print(u.urlopen(u.Request('https://127.0.0.1:{port}/tls', method='PUT'), context=c).status)",
        ca = p("ca.pem"),
        port = m.port
    );
    let out = Command::new("python3").args(["-c", &code]).output().unwrap();
    assert!(out.status.success(), "create bucket over https: {}", String::from_utf8_lossy(&out.stderr));
    let opts = |ca: Option<String>| S3Options {
        bucket: "tls".into(),
        endpoint: Some(format!("https://127.0.0.1:{}", m.port)),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        ca_cert_path: ca.map(Into::into),
        retry: RetryOptions { max_attempts: 1, ..Default::default() },
        ..Default::default()
    };
    let t = CancellationToken::new();
    let s = Store::s3(opts(Some(p("ca.pem")))).unwrap();
    s.put("k", Bytes::from_static(b"over tls"), &WriteOptions::default(), &t).await.unwrap();
    assert_eq!(s.get("k", &t).await.unwrap(), b"over tls");
    let untrusted = Store::s3(opts(None)).unwrap();
    let e = untrusted.get("k", &t).await.unwrap_err();
    eprintln!("without the CA bundle: {:?}: {e}", e.kind);
    assert_ne!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("'k'"), "{e}");
    // verify=False: any certificate is accepted
    let unchecked = Store::s3(S3Options { accept_invalid_certificates: true, ..opts(None) }).unwrap();
    assert_eq!(unchecked.get("k", &t).await.unwrap(), b"over tls");
}
