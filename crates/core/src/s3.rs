//! Building the S3 data path from [`S3Options`]: object_store's `AmazonS3` over our HTTP layer
//! ([`crate::transport`]). The options arrive normalised (the TS side validated them); what is
//! checked here is what only Rust can check (the CA bundle parses, the pieces fit together).

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential, S3CopyIfNotExists};
use object_store::{BackoffConfig, ClientOptions, RetryConfig, StaticCredentialProvider};

use crate::error::{Error, Result};
use crate::options::{
    AwsCredentialProvider, CopyIfNotExists, S3Options, WriteDefaults, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_READ_TIMEOUT,
};
use crate::transport::{Connector, Transport};

pub(crate) struct S3Parts {
    pub s3: AmazonS3,
    /// `https://host/bucket` or `https://bucket.host`: where an anonymous presigned URL points.
    pub bucket_url: String,
    pub anon: bool,
    pub max_connections: usize,
    /// Credential values never to show in an error (S3 error bodies can echo the key id).
    pub secrets: Vec<String>,
}

fn option_error(message: impl Into<String>) -> Error {
    Error::argument("", message)
}

pub(crate) fn build(opts: &S3Options) -> Result<S3Parts> {
    let bucket = opts.bucket.trim().to_string();
    if bucket.is_empty() {
        return Err(option_error("S3 bucket name must not be empty"));
    }
    let region = opts.region.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "us-east-1".into());
    let endpoint = opts.endpoint.as_deref().filter(|e| !e.is_empty()).map(|ep| {
        let ep = if ep.contains("://") { ep.to_string() } else { format!("https://{ep}") };
        ep.trim_end_matches('/').to_string()
    });
    // Without an endpoint (AWS), virtual-hosted unless the name does not fit in a host name.
    let virtual_hosted = opts.virtual_hosted_style.unwrap_or(endpoint.is_none() && !bucket.contains('.'));
    let bucket_url = match (&endpoint, virtual_hosted) {
        (Some(ep), true) => {
            let (scheme, host) = ep.split_once("://").unwrap_or(("https", ep));
            format!("{scheme}://{bucket}.{host}")
        }
        (Some(ep), false) => format!("{ep}/{bucket}"),
        (None, true) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
        (None, false) => format!("https://s3.{region}.amazonaws.com/{bucket}"),
    };

    let max_connections = opts.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 {
        return Err(option_error("maxConnections must be at least 1"));
    }
    if opts.retry.max_attempts == 0 {
        return Err(option_error("retry maxAttempts must be at least 1"));
    }
    let mut client = reqwest::Client::builder()
        .connect_timeout(opts.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
        .pool_max_idle_per_host(max_connections)
        .pool_idle_timeout(Duration::from_secs(30))
        .http1_only()
        .user_agent(concat!("remote-store/", env!("CARGO_PKG_VERSION")));
    if opts.accept_invalid_certificates {
        client = client.danger_accept_invalid_certs(true);
    }
    if let Some(ca) = &opts.ca_cert_path {
        let what =
            |e: &dyn std::fmt::Display| option_error(format!("CA bundle '{}' cannot be read: {e}", ca.display()));
        let meta = std::fs::metadata(ca).map_err(|e| what(&e))?;
        if !meta.is_file() {
            return Err(option_error(format!("CA bundle '{}' is not a regular file", ca.display())));
        }
        let pem = std::fs::read(ca).map_err(|e| what(&e))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| option_error(format!("CA bundle '{}' is not valid PEM: {e}", ca.display())))?;
        if certs.is_empty() {
            return Err(option_error(format!("CA bundle '{}' holds no certificate", ca.display())));
        }
        for c in certs {
            client = client.add_root_certificate(c);
        }
    }
    let client = client.build().map_err(|e| option_error(format!("HTTP client: {e}")))?;
    let credentials: Option<AwsCredentialProvider> = if opts.anon {
        None
    } else if let Some(p) = opts.credential_provider.clone() {
        Some(p)
    } else {
        match (&opts.access_key_id, &opts.secret_access_key) {
            (Some(k), Some(s)) => Some(Arc::new(StaticCredentialProvider::new(AwsCredential {
                key_id: k.clone(),
                secret_key: s.clone(),
                token: opts.session_token.clone().filter(|t| !t.is_empty()),
            }))),
            (None, None) => {
                return Err(option_error(
                    "S3 credentials missing: give accessKeyId and secretAccessKey, a credentials callback, or anon",
                ))
            }
            _ => return Err(option_error("S3 accessKeyId and secretAccessKey must be given together")),
        }
    };

    let (write_headers, content_headers) = write_headers(&opts.write_defaults)?;
    let transport = Arc::new(Transport {
        client,
        credentials: credentials.clone(),
        region: region.clone(),
        requester_pays: opts.requester_pays,
        retry: opts.retry.clone(),
        read_timeout: opts.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT),
        write_headers,
        content_headers,
    });

    let mut b = AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_region(&region)
        .with_virtual_hosted_style_request(virtual_hosted)
        // Signing, retries and timeouts are the transport's.
        .with_skip_signature(true)
        .with_http_connector(Connector(transport))
        .with_client_options(ClientOptions::new().with_allow_http(true))
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 0,
            retry_timeout: Duration::from_secs(u32::MAX as u64),
        });
    if let Some(ep) = &endpoint {
        // object_store takes a virtual-hosted endpoint as the bucket's own URL.
        b = b.with_endpoint(if virtual_hosted { bucket_url.clone() } else { ep.clone() });
    }
    // Only presigned URLs are signed by object_store.
    if let Some(p) = credentials {
        b = b.with_credentials(p);
    }
    if opts.requester_pays {
        b = b.with_request_payer(true);
    }
    match &opts.copy_if_not_exists {
        CopyIfNotExists::Multipart => b = b.with_copy_if_not_exists(S3CopyIfNotExists::Multipart),
        CopyIfNotExists::Header(k, v) => b = b.with_copy_if_not_exists(S3CopyIfNotExists::Header(k.clone(), v.clone())),
        CopyIfNotExists::HeadThenCopy => {}
    }
    let s3 = b.build().map_err(|e| option_error(format!("S3 options: {e}")))?;
    let secrets = [&opts.access_key_id, &opts.secret_access_key, &opts.session_token]
        .into_iter()
        .flatten()
        .filter(|s| s.len() >= 4)
        .cloned()
        .collect();
    Ok(S3Parts { s3, bucket_url, anon: opts.anon, max_connections, secrets })
}

/// (headers of every write, content headers of object-creating writes) from the defaults.
fn write_headers(d: &WriteDefaults) -> Result<(HeaderMap, HeaderMap)> {
    fn put(map: &mut HeaderMap, name: &'static str, value: &Option<String>) -> Result<()> {
        if let Some(v) = value {
            let v = HeaderValue::from_str(v)
                .map_err(|_| option_error(format!("writeDefaults: '{name}' is not a valid header value")))?;
            map.insert(HeaderName::from_static(name), v);
        }
        Ok(())
    }
    let mut write = HeaderMap::new();
    put(&mut write, "x-amz-server-side-encryption", &d.server_side_encryption)?;
    put(&mut write, "x-amz-server-side-encryption-aws-kms-key-id", &d.sse_kms_key_id)?;
    put(&mut write, "x-amz-server-side-encryption-bucket-key-enabled", &d.bucket_key_enabled.map(|b| b.to_string()))?;
    put(&mut write, "x-amz-acl", &d.acl)?;
    put(&mut write, "x-amz-storage-class", &d.storage_class)?;
    let mut content = HeaderMap::new();
    put(&mut content, "content-type", &d.content_type)?;
    put(&mut content, "cache-control", &d.cache_control)?;
    put(&mut content, "content-disposition", &d.content_disposition)?;
    put(&mut content, "content-encoding", &d.content_encoding)?;
    Ok((write, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> S3Options {
        S3Options {
            bucket: "b".into(),
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("SECRETEXAMPLE".into()),
            ..Default::default()
        }
    }

    #[test]
    fn addressing_styles() {
        let mut o = opts();
        o.endpoint = Some("http://127.0.0.1:9000/".into());
        assert_eq!(build(&o).unwrap().bucket_url, "http://127.0.0.1:9000/b");
        o.virtual_hosted_style = Some(true);
        assert_eq!(build(&o).unwrap().bucket_url, "http://b.127.0.0.1:9000");
        let mut o = opts();
        o.region = Some("eu-west-1".into());
        assert_eq!(build(&o).unwrap().bucket_url, "https://b.s3.eu-west-1.amazonaws.com");
    }

    #[test]
    fn option_errors_name_the_option_not_the_value() {
        let mut o = opts();
        o.secret_access_key = None;
        let e = build(&o).err().unwrap();
        assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
        assert!(!e.message.contains("AKIDEXAMPLE"));
        let mut o = opts();
        o.write_defaults.acl = Some("bad\nvalue".into());
        let e = build(&o).err().unwrap();
        assert!(e.message.contains("x-amz-acl") && !e.message.contains("bad"), "{}", e.message);
        let mut o = opts();
        o.anon = true;
        o.access_key_id = None;
        o.secret_access_key = None;
        assert!(build(&o).unwrap().anon);
    }
}
