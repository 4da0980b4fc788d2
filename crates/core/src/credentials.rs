//! Refreshable credentials: a caller-supplied async fetch (in Node: the AWS SDK's provider
//! chain, called through the binding) cached until shortly before expiry.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use object_store::aws::AwsCredential;
use object_store::CredentialProvider;

#[derive(Clone)]
pub struct Credentials {
    pub key_id: String,
    pub secret_key: String,
    pub token: Option<String>,
    pub expires_at: Option<SystemTime>,
}

pub type FetchCredentials = Arc<dyn Fn() -> BoxFuture<'static, Result<Credentials, String>> + Send + Sync>;

pub struct RefreshingCredentialProvider {
    fetch: FetchCredentials,
    refresh_before: Duration,
    cache: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl RefreshingCredentialProvider {
    /// Credentials are fetched again when they expire within `refresh_before` (default 5 min).
    pub fn new(fetch: FetchCredentials, refresh_before: Option<Duration>) -> Self {
        RefreshingCredentialProvider {
            fetch,
            refresh_before: refresh_before.unwrap_or(Duration::from_secs(300)),
            cache: tokio::sync::Mutex::new(None),
        }
    }
}

impl fmt::Debug for RefreshingCredentialProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshingCredentialProvider { .. }")
    }
}

#[async_trait::async_trait]
impl CredentialProvider for RefreshingCredentialProvider {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cache = self.cache.lock().await;
        if let Some((cred, exp)) = cache.as_ref() {
            let fresh = match exp {
                None => true,
                Some(t) => SystemTime::now() + self.refresh_before < *t,
            };
            if fresh {
                return Ok(cred.clone());
            }
        }
        let c = (self.fetch)().await.map_err(|msg| object_store::Error::Generic {
            store: "S3",
            source: format!("credential provider failed: {msg}").into(),
        })?;
        let cred = Arc::new(AwsCredential { key_id: c.key_id, secret_key: c.secret_key, token: c.token });
        *cache = Some((cred.clone(), c.expires_at));
        Ok(cred)
    }
}
