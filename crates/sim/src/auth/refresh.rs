//! Refresh tokens of device-code sign-ins (issued when `offline_access` was
//! asked for), so the client can renew its delegated token before it expires
//! and get tokens for another resource without a new sign-in, as with Entra.

use super::response::OAuthError;
use super::scope::Delegated;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use std::collections::HashMap;
use std::sync::Mutex;

/// Entra's default refresh-token lifetime (simulated days).
const LIFETIME_DAYS: i64 = 90;

struct Grant {
    client_id: String,
    request: Delegated,
    expires: DateTime<Utc>,
}

/// Refresh tokens issued so far. Redeeming one issues a new one but, as with
/// Entra, does not revoke the old.
#[derive(Default)]
pub(super) struct RefreshTokens {
    grants: Mutex<HashMap<String, Grant>>,
}

impl RefreshTokens {
    /// A new refresh token for `client_id`'s delegated `request`.
    pub(super) fn issue(&self, now: DateTime<Utc>, client_id: &str, request: Delegated) -> String {
        let mut bytes = [0u8; 48];
        rand::thread_rng().fill(&mut bytes[..]);
        let token = format!("1.AXEA{}", URL_SAFE_NO_PAD.encode(bytes));
        let mut grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        grants.retain(|_, g| g.expires > now);
        grants.insert(
            token.clone(),
            Grant {
                client_id: client_id.to_string(),
                request,
                expires: now + Duration::days(LIFETIME_DAYS),
            },
        );
        token
    }

    /// The request a refresh token was issued for, if `client_id` may redeem it now.
    pub(super) fn redeem(
        &self,
        now: DateTime<Utc>,
        client_id: &str,
        token: &str,
    ) -> Result<Delegated, OAuthError> {
        let grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        match grants.get(token) {
            Some(g) if g.client_id == client_id && g.expires > now => Ok(g.request.clone()),
            Some(g) if g.client_id == client_id => Err(OAuthError::bad_request(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. \
                 Send a new interactive authorization request for this user and resource.",
            )),
            _ => Err(OAuthError::bad_request(
                "invalid_grant",
                70000,
                "Provided grant is invalid or malformed: the refresh token is not valid for this client.",
            )),
        }
    }
}
