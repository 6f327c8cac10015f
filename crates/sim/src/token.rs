//! Access tokens issued by the simulator's token endpoint and checked by its
//! Graph and Management routes.
//!
//! Tokens look like Entra's (three base64url parts; the payload carries `tid`,
//! `appid`, `aud`, `roles` or `scp`, `exp`), so the client decodes their claims the
//! same way as real ones. The simulator trusts only tokens it issued itself.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// The claims the simulator puts in (and later checks on) a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub tid: String,
    pub appid: String,
    /// `https://graph.microsoft.com` or `https://manage.office.com` (or a test host).
    pub aud: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Delegated scopes, space-separated (device-code tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Expiry, seconds since the epoch (simulated clock).
    pub exp: i64,
    pub iat: i64,
}

impl Claims {
    /// Whether the token carries `permission` as an app role or delegated scope.
    pub fn has(&self, permission: &str) -> bool {
        self.roles.iter().any(|r| r == permission)
            || self
                .scp
                .as_deref()
                .is_some_and(|s| s.split(' ').any(|p| p == permission))
    }
}

/// Tokens issued so far.
#[derive(Default)]
pub struct TokenStore {
    issued: Mutex<HashMap<String, Claims>>,
}

impl TokenStore {
    /// Issues a token for `claims`.
    pub fn issue(&self, claims: Claims) -> String {
        let header =
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"m365-preserve-sim"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialise"));
        let nonce = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
        let token = format!("{header}.{payload}.{nonce}");
        self.issued
            .lock()
            .expect("token lock")
            .insert(token.clone(), claims);
        token
    }

    /// The claims of a token this simulator issued, if any.
    pub fn lookup(&self, token: &str) -> Option<Claims> {
        self.issued.lock().expect("token lock").get(token).cloned()
    }

    /// Every token issued so far (for tests that look for them in output).
    pub fn issued(&self) -> Vec<String> {
        self.issued
            .lock()
            .expect("token lock")
            .keys()
            .cloned()
            .collect()
    }

    /// Ends every token issued so far at `now` (as an hour passing would).
    pub fn expire_all(&self, now: i64) {
        for claims in self.issued.lock().expect("token lock").values_mut() {
            claims.exp = claims.exp.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_decode_and_are_recognised() {
        let store = TokenStore::default();
        let claims = Claims {
            tid: "t".into(),
            appid: "a".into(),
            aud: "https://graph.microsoft.com".into(),
            roles: vec!["AuditLog.Read.All".into()],
            scp: None,
            exp: 10,
            iat: 1,
        };
        let token = store.issue(claims.clone());
        assert_eq!(store.lookup(&token), Some(claims.clone()));
        let payload = token.split('.').nth(1).unwrap();
        let claims_json: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims_json["roles"][0], "AuditLog.Read.All");
        assert!(claims.has("AuditLog.Read.All") && !claims.has("User.Read.All"));
        assert!(store.lookup("x.y.z").is_none());
    }
}
