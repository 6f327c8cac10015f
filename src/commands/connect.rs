//! Turns the credential flags into an HTTP client and a token provider.

use crate::cli::ConnectArgs;
use age::secrecy::SecretString;
use anyhow::{bail, Context, Result};
use m365_preserve::auth::{CertificateCredential, Credential, Endpoints, TokenProvider};
use m365_preserve::retry::RetryPolicy;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP client every request goes through (rustls, timeouts, user agent).
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("m365-preserve/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(300))
        .build()
        .context("cannot set up HTTPS")
}

fn secret_from_env(var: &str, flag: &str) -> Result<SecretString> {
    let value = std::env::var(var)
        .with_context(|| format!("environment variable {var} (named by {flag}) is not set"))?;
    if value.trim().is_empty() {
        bail!("environment variable {var} (named by {flag}) is empty");
    }
    Ok(SecretString::from(value.trim().to_string()))
}

/// The retry policy for this run.
pub fn retry_policy(args: &ConnectArgs) -> RetryPolicy {
    RetryPolicy {
        time_scale: args.time_scale.max(1e-6),
        ..RetryPolicy::default()
    }
}

/// Builds the token provider for the flags.
pub fn token_provider(args: &ConnectArgs, http: reqwest::Client) -> Result<Arc<TokenProvider>> {
    let endpoints = Endpoints::for_cloud(args.cloud).with_overrides(
        args.graph_url.as_deref(),
        args.login_url.as_deref(),
        args.manage_url.as_deref(),
    )?;
    let client_id = || args.client_id.clone().unwrap_or_default();
    let credential = if let Some(var) = &args.client_secret_env {
        Credential::Secret {
            client_id: client_id(),
            secret: secret_from_env(var, "--client-secret-env")?,
        }
    } else if let (Some(cert), Some(key)) = (&args.certificate, &args.private_key) {
        Credential::Certificate {
            client_id: client_id(),
            cert: Box::new(CertificateCredential::load(cert, key, args.assertion)?),
        }
    } else if args.device_code {
        Credential::DeviceCode {
            client_id: client_id(),
        }
    } else if let Some(var) = &args.access_token_env {
        Credential::Static {
            token: secret_from_env(var, "--access-token-env")?,
        }
    } else {
        bail!("give one credential: --client-secret-env, --certificate, --device-code or --access-token-env");
    };
    let prompt = Box::new(|message: &str| eprintln!("\n{message}\n"));
    Ok(Arc::new(TokenProvider::new(
        http,
        endpoints,
        &args.tenant,
        credential,
        retry_policy(args),
        prompt,
    )))
}
