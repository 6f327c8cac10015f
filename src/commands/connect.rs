//! Turns the credential flags into a connection to the tenant.

use crate::cli::ConnectArgs;
use age::secrecy::SecretString;
use anyhow::{bail, Result};
use clap::ValueEnum;
use m365_preserve_collect::auth::{CertificateCredential, Credential, Endpoints, TokenProvider};
use m365_preserve_collect::graph::http_client;
use m365_preserve_collect::job::Connection;
use m365_preserve_collect::retry::RetryPolicy;
use std::sync::Arc;

fn secret_from_env(var: &str, flag: &str) -> Result<SecretString> {
    let Ok(value) = std::env::var(var) else {
        bail!("environment variable {var} (named by {flag}) is not set; set it to the secret in this shell, e.g. read -rs {var} && export {var}");
    };
    if value.trim().is_empty() {
        bail!("environment variable {var} (named by {flag}) is empty");
    }
    Ok(SecretString::from(value.trim().to_string()))
}

/// The retry policy for this run.
fn retry_policy(args: &ConnectArgs) -> RetryPolicy {
    RetryPolicy {
        time_scale: args.time_scale.max(1e-6),
        ..RetryPolicy::default()
    }
}

/// The HTTP client, token provider and retry policy the flags describe.
pub fn connection(args: &ConnectArgs) -> Result<Connection> {
    let http = http_client()?;
    Ok(Connection {
        tokens: token_provider(args, http.clone())?,
        http,
        retry: retry_policy(args),
        time_scale: args.time_scale,
        cloud: args
            .cloud
            .to_possible_value()
            .map(|v| v.get_name().to_string()),
    })
}

/// Builds the token provider for the flags.
fn token_provider(args: &ConnectArgs, http: reqwest::Client) -> Result<Arc<TokenProvider>> {
    let endpoints = Endpoints::for_cloud(args.cloud)
        .with_overrides(
            args.graph_url.as_deref(),
            args.login_url.as_deref(),
            args.manage_url.as_deref(),
        )?
        .with_exchange_override(args.exchange_url.as_deref())?;
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
