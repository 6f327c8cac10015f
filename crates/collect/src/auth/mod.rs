//! Credentials -> bearer tokens: client secret, certificate assertion, device
//! code, or a static token. Tokens are refreshed before they expire and once on
//! a 401; their claims (tenant, app, roles) are decoded for `acquisition.json`,
//! but a token or secret is never logged, printed or stored.

mod assertion;
mod endpoints;

pub use assertion::{AssertionAlg, CertificateCredential};
pub use endpoints::{Cloud, EndpointError, Endpoints};

use crate::retry::{parse_retry_after, RetryPolicy};
use age::secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What went wrong getting a token, with what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("credential: {0}")]
    Credential(String),
    #[error("the token endpoint refused the client ({error}, AADSTS{code}): {message}; check the client id, the secret or certificate, and that the app is registered in this tenant")]
    ClientRejected {
        error: String,
        code: String,
        message: String,
    },
    #[error("the token endpoint refused the request ({error}, AADSTS{code}): {message}")]
    Refused {
        error: String,
        code: String,
        message: String,
    },
    #[error("device code sign-in was declined by the user")]
    Declined,
    #[error("device code expired before the sign-in was completed; run the command again")]
    Expired,
    #[error("cannot reach the token endpoint {url} ({why}, {attempts} attempts); check the network (proxy, firewall) and --tenant, then run the command again")]
    Network {
        url: String,
        why: String,
        attempts: u32,
    },
    #[error("the token endpoint answered something unexpected: {0}")]
    Protocol(String),
}

/// How the tool authenticates.
pub enum Credential {
    /// App-only, client secret (read from an environment variable by the CLI).
    Secret {
        client_id: String,
        secret: SecretString,
    },
    /// App-only, certificate.
    Certificate {
        client_id: String,
        cert: Box<CertificateCredential>,
    },
    /// Delegated, an operator signs in on another device.
    DeviceCode { client_id: String },
    /// A token obtained elsewhere (read from an environment variable by the CLI).
    Static { token: SecretString },
}

impl Credential {
    /// Name of the flow, for acquisition.json.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Secret { .. } => "client-secret",
            Credential::Certificate { .. } => "certificate",
            Credential::DeviceCode { .. } => "device-code",
            Credential::Static { .. } => "static-token",
        }
    }
}

struct Cached {
    token: SecretString,
    refresh_at: Instant,
}

/// Gets and caches tokens, one per resource.
pub struct TokenProvider {
    http: reqwest::Client,
    endpoints: Endpoints,
    tenant: String,
    credential: Credential,
    cache: Mutex<HashMap<String, Cached>>,
    refresh_token: Mutex<Option<SecretString>>,
    claims: std::sync::Mutex<Option<Value>>,
    retry: RetryPolicy,
    /// Called with Microsoft's device-code instructions.
    prompt: Box<dyn Fn(&str) + Send + Sync>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: String,
    message: String,
    #[serde(default = "default_interval")]
    interval: u64,
    #[serde(default = "default_expiry")]
    expires_in: u64,
}

fn default_interval() -> u64 {
    5
}
fn default_expiry() -> u64 {
    900
}

enum Grant<'a> {
    Initial(&'a str),
    Refresh(&'a str, SecretString),
}

impl TokenProvider {
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        tenant: &str,
        credential: Credential,
        retry: RetryPolicy,
        prompt: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Self {
        Self {
            http,
            endpoints,
            tenant: tenant.to_string(),
            credential,
            cache: Mutex::new(HashMap::new()),
            refresh_token: Mutex::new(None),
            claims: std::sync::Mutex::new(None),
            retry,
            prompt,
        }
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn credential_kind(&self) -> &'static str {
        self.credential.kind()
    }

    /// Claims of the last Graph token (tid, appid/azp, roles or scp, upn...), for
    /// acquisition.json and `doctor`. Never the token itself.
    pub fn identity(&self) -> Option<Value> {
        self.claims.lock().expect("claims lock").clone()
    }

    /// A valid token for `resource` (e.g. `https://graph.microsoft.com`).
    pub async fn token(&self, resource: &str) -> Result<SecretString, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(resource) {
            if Instant::now() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let (token, lifetime) = self.acquire(resource).await?;
        if resource == self.endpoints.graph_resource
            || self.claims.lock().expect("claims lock").is_none()
        {
            *self.claims.lock().expect("claims lock") =
                decode_claims(token.expose_secret()).map(keep_identity_claims);
        }
        // Refresh five minutes (scaled) before expiry, never sooner than half the lifetime.
        let margin = Duration::from_secs(300)
            .div_f64(self.retry.time_scale)
            .min(lifetime / 2);
        cache.insert(
            resource.to_string(),
            Cached {
                token: token.clone(),
                refresh_at: Instant::now() + lifetime.saturating_sub(margin),
            },
        );
        Ok(token)
    }

    /// Forgets `resource`'s token after the service rejected it (401).
    pub async fn invalidate(&self, resource: &str) {
        self.cache.lock().await.remove(resource);
    }

    async fn acquire(&self, resource: &str) -> Result<(SecretString, Duration), AuthError> {
        // `expires_in` is real seconds (the simulator scales its own clock).
        let lifetime = |secs: Option<u64>| Duration::from_secs(secs.unwrap_or(3599));
        match &self.credential {
            Credential::Static { token } => Ok((token.clone(), Duration::from_secs(3600 * 24))),
            Credential::Secret { .. } | Credential::Certificate { .. } => {
                let r = self.token_request(Grant::Initial(resource)).await?;
                Ok((SecretString::from(r.access_token), lifetime(r.expires_in)))
            }
            Credential::DeviceCode { .. } => {
                let refresh = self.refresh_token.lock().await.clone();
                let r = match refresh {
                    Some(rt) => self.token_request(Grant::Refresh(resource, rt)).await?,
                    None => self.device_code(resource).await?,
                };
                if let Some(rt) = r.refresh_token.clone() {
                    *self.refresh_token.lock().await = Some(SecretString::from(rt));
                }
                Ok((SecretString::from(r.access_token), lifetime(r.expires_in)))
            }
        }
    }

    fn form(&self, grant: &Grant<'_>) -> Vec<(&'static str, String)> {
        let scope = |resource: &str| format!("{resource}/.default");
        match (&self.credential, grant) {
            (_, Grant::Refresh(resource, rt)) => vec![
                ("grant_type", "refresh_token".into()),
                ("client_id", self.client_id().into()),
                ("refresh_token", rt.expose_secret().to_string()),
                ("scope", format!("{} offline_access", scope(resource))),
            ],
            (Credential::Secret { client_id, secret }, Grant::Initial(resource)) => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.clone()),
                ("client_secret", secret.expose_secret().to_string()),
                ("scope", scope(resource)),
            ],
            (Credential::Certificate { client_id, cert }, Grant::Initial(resource)) => {
                let audience = self.endpoints.token_url(&self.tenant, "token").to_string();
                vec![
                    ("grant_type", "client_credentials".into()),
                    ("client_id", client_id.clone()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                    ),
                    (
                        "client_assertion",
                        cert.assertion(client_id, &audience, chrono::Utc::now().timestamp()),
                    ),
                    ("scope", scope(resource)),
                ]
            }
            _ => Vec::new(),
        }
    }

    fn client_id(&self) -> &str {
        match &self.credential {
            Credential::Secret { client_id, .. }
            | Credential::Certificate { client_id, .. }
            | Credential::DeviceCode { client_id } => client_id,
            Credential::Static { .. } => "",
        }
    }

    /// POSTs a form to the token endpoint, retrying transient failures.
    async fn post_form(
        &self,
        leaf: &str,
        form: &[(&'static str, String)],
    ) -> Result<(u16, Value), AuthError> {
        let url = self.endpoints.token_url(&self.tenant, leaf);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self.http.post(url.clone()).form(form).send().await;
            let (retry_after, why) = match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let ra = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    match resp.bytes().await {
                        Ok(_) if status == 429 || status >= 500 => (ra, format!("HTTP {status}")),
                        Ok(body) => match serde_json::from_slice::<Value>(&body) {
                            Ok(v) => return Ok((status, v)),
                            Err(_) => (
                                None,
                                format!("HTTP {status} with a body that is not complete JSON"),
                            ),
                        },
                        Err(e) => (None, format!("reading the response: {e}")),
                    }
                }
                Err(e) => (None, crate::graph::network_reason(&e)),
            };
            if attempt >= self.retry.max_attempts {
                return Err(AuthError::Network {
                    url: url.to_string(),
                    why,
                    attempts: attempt,
                });
            }
            tracing::debug!("token endpoint: {why}; retrying");
            tokio::time::sleep(self.retry.wait(attempt, retry_after)).await;
        }
    }

    async fn token_request(&self, grant: Grant<'_>) -> Result<TokenResponse, AuthError> {
        let (status, body) = self.post_form("token", &self.form(&grant)).await?;
        if status == 200 {
            return serde_json::from_value(body).map_err(|e| AuthError::Protocol(e.to_string()));
        }
        Err(oauth_error(&body))
    }

    async fn device_code(&self, resource: &str) -> Result<TokenResponse, AuthError> {
        let form = vec![
            ("client_id", self.client_id().to_string()),
            ("scope", format!("{resource}/.default offline_access")),
        ];
        let (status, body) = self.post_form("devicecode", &form).await?;
        if status != 200 {
            return Err(oauth_error(&body));
        }
        let dc: DeviceCodeResponse =
            serde_json::from_value(body).map_err(|e| AuthError::Protocol(e.to_string()))?;
        (self.prompt)(&dc.message);
        let mut interval = Duration::from_secs(dc.interval.max(1));
        let deadline = Instant::now() + Duration::from_secs(dc.expires_in);
        let poll = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_string(),
            ),
            ("client_id", self.client_id().to_string()),
            ("device_code", dc.device_code.clone()),
        ];
        loop {
            tokio::time::sleep(interval).await;
            if Instant::now() > deadline {
                return Err(AuthError::Expired);
            }
            let (status, body) = self.post_form("token", &poll).await?;
            if status == 200 {
                return serde_json::from_value(body)
                    .map_err(|e| AuthError::Protocol(e.to_string()));
            }
            match body.get("error").and_then(Value::as_str).unwrap_or("") {
                "authorization_pending" => {}
                // RFC 8628 §3.5: add five seconds to the interval.
                "slow_down" => interval += Duration::from_secs(5),
                "authorization_declined" => return Err(AuthError::Declined),
                "expired_token" => return Err(AuthError::Expired),
                _ => return Err(oauth_error(&body)),
            }
        }
    }
}

/// Decodes the claims part of a JWT without verifying it: the tool learns its
/// own tenant, app and permissions this way; the token itself is never stored.
pub fn decode_claims(token: &str) -> Option<Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Keeps the identifying claims; drops nonces and signatures' material.
fn keep_identity_claims(claims: Value) -> Value {
    const KEEP: &[&str] = &[
        "tid",
        "appid",
        "azp",
        "app_displayname",
        "aud",
        "roles",
        "scp",
        "upn",
        "oid",
        "idtyp",
        "iat",
        "exp",
    ];
    match claims {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| KEEP.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

fn oauth_error(body: &Value) -> AuthError {
    let error = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unknown_error")
        .to_string();
    let code = body
        .get("error_codes")
        .and_then(|c| c.get(0))
        .map(|c| c.to_string())
        .unwrap_or_else(|| "?".into());
    // The first line of the description is the human message; the rest are trace ids.
    let message = body
        .get("error_description")
        .and_then(Value::as_str)
        .and_then(|d| d.lines().next())
        .unwrap_or("")
        .to_string();
    match error.as_str() {
        "invalid_client" | "unauthorized_client" => AuthError::ClientRejected {
            error,
            code,
            message,
        },
        _ => AuthError::Refused {
            error,
            code,
            message,
        },
    }
}
