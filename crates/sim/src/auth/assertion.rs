//! JWT client assertions: the certificate credential
//! (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>).
//!
//! Entra finds the certificate by the thumbprint in the assertion's header,
//! checks the signature with its public key, then the claims. The simulator
//! accepts exactly the two documented formats, so the client is tested on both
//! and a client mixing them is caught:
//!
//! - PS256 (RSA-PSS, SHA-256, 32-byte salt) with `x5t#S256`, the base64url SHA-256
//!   of the certificate's DER (current documentation);
//! - RS256 (PKCS#1 v1.5, SHA-256) with `x5t`, the base64url SHA-1 of the DER
//!   (older MSAL releases, the Management Activity API guide).
//!
//! Claims: `iss` = `sub` = the client id, `aud` = the token endpoint URL, `exp`
//! and `nbf` against the simulated clock with five minutes of skew, and a `jti`
//! that is refused when seen again before the assertion expires.

use super::response::OAuthError;
use crate::fixture::App;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use x509_cert::der::referenced::OwnedToRef;
use x509_cert::der::Decode;

/// How far `exp` and `nbf` may be off the simulated clock.
const CLOCK_SKEW_SECS: i64 = 300;

/// What a valid assertion must say, from the request it came with.
pub(super) struct Expected<'a> {
    pub client_id: &'a str,
    /// Token endpoint URLs the client may have addressed (compared ignoring case).
    pub audiences: &'a [String],
    /// Simulated now, seconds since the epoch.
    pub now: i64,
}

/// Checks assertions against the apps' registered certificates and remembers
/// the `jti`s it accepted.
pub(super) struct AssertionVerifier {
    certificates: Vec<RegisteredCertificate>,
    /// (client id, jti) -> until when (epoch seconds) a reuse is a replay.
    seen: Mutex<HashMap<(String, String), i64>>,
}

/// One certificate of one app.
struct RegisteredCertificate {
    client_id: String,
    x5t: String,
    x5t_s256: String,
    key: RsaPublicKey,
    /// The certificate's validity (epoch seconds), which Entra holds as the
    /// key credential's start and end.
    not_before: i64,
    not_after: i64,
}

impl AssertionVerifier {
    /// Indexes every app's certificates. One that cannot be read is skipped with a
    /// warning (assertions made with it then fail as an unknown key, which is what
    /// Entra does with a credential it does not hold).
    pub(super) fn new(apps: &[App]) -> Self {
        let mut certificates = Vec::new();
        for app in apps {
            for (i, cert) in app.certificates.iter().enumerate() {
                match parse_certificate(&cert.certificate_pem) {
                    Ok((der, key, (not_before, not_after))) => {
                        certificates.push(RegisteredCertificate {
                            client_id: app.client_id.clone(),
                            x5t: URL_SAFE_NO_PAD.encode(Sha1::digest(&der)),
                            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&der)),
                            key,
                            not_before,
                            not_after,
                        })
                    }
                    Err(problem) => tracing::warn!(
                        client_id = %app.client_id,
                        certificate = i,
                        "app certificate ignored: {problem}"
                    ),
                }
            }
        }
        Self {
            certificates,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Accepts `assertion` for `expected.client_id` or says why not.
    pub(super) fn verify(&self, assertion: &str, expected: &Expected) -> Result<(), OAuthError> {
        let jwt = Jwt::parse(assertion)?;
        let key = self.key(expected.client_id, &jwt, expected.now)?;
        jwt.verify_signature(key)?;
        check_subject(&jwt.claims, expected.client_id)?;
        check_audience(&jwt.claims, expected.audiences)?;
        let exp = check_lifetime(&jwt.claims, expected.now)?;
        self.consume_jti(expected.client_id, &jwt.claims, exp, expected.now)
    }

    /// The public key of the app's certificate the header names (AADSTS700027
    /// when the app has no such certificate, or when it is outside its
    /// validity at `now`, the key's start and end dates shown as Entra does).
    fn key(&self, client_id: &str, jwt: &Jwt, now: i64) -> Result<&RsaPublicKey, OAuthError> {
        let found = self.certificates.iter().find(|c| {
            c.client_id == client_id
                && match jwt.alg {
                    Alg::Ps256 => c.x5t_s256 == jwt.thumbprint,
                    Alg::Rs256 => c.x5t == jwt.thumbprint,
                }
        });
        if let Some(c) = found.filter(|c| now > c.not_after || now < c.not_before) {
            let day = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
                    .unwrap_or_default()
            };
            let reason = if now > c.not_after {
                "The key used is expired."
            } else {
                "The key used is not yet valid."
            };
            return Err(OAuthError::invalid_client(
                700027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - {reason}, \
                     Thumbprint of key used by client: '{}', Found key 'Start={}, End={}', Please visit the Azure Portal, \
                     Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]",
                    jwt.thumbprint,
                    day(c.not_before),
                    day(c.not_after)
                ),
            ));
        }
        found.map(|c| &c.key).ok_or_else(|| {
                OAuthError::invalid_client(
                    700027,
                    format!(
                        "Client assertion contains an invalid signature. [Reason - The key was not found., \
                         Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or \
                         directly use MS Graph to see configured keys for app Id '{client_id}'.]",
                        jwt.thumbprint
                    ),
                )
            })
    }

    /// Records the assertion's `jti` until it expires; a second use is a replay.
    fn consume_jti(
        &self,
        client_id: &str,
        claims: &Map<String, Value>,
        exp: i64,
        now: i64,
    ) -> Result<(), OAuthError> {
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|j| !j.is_empty())
            .ok_or_else(|| malformed("the assertion has no 'jti' claim."))?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, until| *until >= now);
        let key = (client_id.to_string(), jti.to_string());
        if seen.contains_key(&key) {
            return Err(OAuthError::invalid_client(
                50013,
                "Assertion is invalid: the client assertion's 'jti' has already been used. \
                 Every assertion must carry a new jti.",
            ));
        }
        seen.insert(key, exp + CLOCK_SKEW_SECS);
        Ok(())
    }
}

/// Reads a PEM certificate: its DER (what the thumbprints hash) and RSA key.
/// A certificate's DER, RSA key and validity (epoch seconds).
type Parsed = (Vec<u8>, RsaPublicKey, (i64, i64));

fn parse_certificate(pem: &str) -> Result<Parsed, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let body = pem
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(body, _)| body)
        .ok_or("no PEM CERTIFICATE block")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(b64)
        .map_err(|e| format!("PEM body is not base64: {e}"))?;
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let key = RsaPublicKey::try_from(cert.tbs_certificate.subject_public_key_info.owned_to_ref())
        .map_err(|e| format!("not an RSA public key: {e}"))?;
    let validity = &cert.tbs_certificate.validity;
    let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    Ok((
        der,
        key,
        (secs(validity.not_before), secs(validity.not_after)),
    ))
}

#[derive(Debug, Clone, Copy)]
enum Alg {
    Ps256,
    Rs256,
}

/// A compact JWS, split but not yet trusted.
struct Jwt<'a> {
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
    alg: Alg,
    /// `x5t#S256` for PS256, `x5t` for RS256.
    thumbprint: String,
    claims: Map<String, Value>,
    signature: Vec<u8>,
}

impl<'a> Jwt<'a> {
    fn parse(assertion: &'a str) -> Result<Self, OAuthError> {
        let parts: Vec<&str> = assertion.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return Err(malformed("a JWT has three dot-separated parts."));
        };
        let header = decode_json(header_b64, "header")?;
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("PS256") => Alg::Ps256,
            Some("RS256") => Alg::Rs256,
            _ => return Err(malformed("the header's alg must be PS256 or RS256.")),
        };
        let thumbprint_header = match alg {
            Alg::Ps256 => "x5t#S256",
            Alg::Rs256 => "x5t",
        };
        let thumbprint = header
            .get(thumbprint_header)
            .and_then(Value::as_str)
            .map(|t| t.trim_end_matches('=').to_string())
            .ok_or_else(|| {
                malformed(&format!(
                    "a {alg:?} assertion must name its certificate in the '{thumbprint_header}' header \
                     (PS256 with x5t#S256, or RS256 with x5t)."
                ))
            })?;
        Ok(Self {
            signing_input: &assertion[..header_b64.len() + 1 + payload_b64.len()],
            alg,
            thumbprint,
            claims: decode_json(payload_b64, "payload")?,
            signature: URL_SAFE_NO_PAD
                .decode(signature_b64.trim_end_matches('='))
                .map_err(|_| malformed("the signature is not base64url."))?,
        })
    }

    /// AADSTS700027 unless the signature matches `key` under the header's alg.
    fn verify_signature(&self, key: &RsaPublicKey) -> Result<(), OAuthError> {
        let message = self.signing_input.as_bytes();
        let valid = match self.alg {
            Alg::Ps256 => rsa::pss::Signature::try_from(self.signature.as_slice()).is_ok_and(|s| {
                rsa::pss::VerifyingKey::<Sha256>::new(key.clone())
                    .verify(message, &s)
                    .is_ok()
            }),
            Alg::Rs256 => {
                rsa::pkcs1v15::Signature::try_from(self.signature.as_slice()).is_ok_and(|s| {
                    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
                        .verify(message, &s)
                        .is_ok()
                })
            }
        };
        valid.then_some(()).ok_or_else(|| {
            OAuthError::invalid_client(
                700027,
                "Client assertion failed signature validation. [Reason - The provided signature value did not \
                 match the expected signature value.]",
            )
        })
    }
}

/// `iss` and `sub` must both be the client id: AADSTS50048 when they differ
/// from each other, AADSTS700021 when they name another app.
fn check_subject(claims: &Map<String, Value>, client_id: &str) -> Result<(), OAuthError> {
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss != sub {
        return Err(OAuthError::invalid_client(
            50048,
            "Subject mismatches Issuer claim in the client assertion.",
        ));
    }
    if !iss.is_some_and(|iss| iss.eq_ignore_ascii_case(client_id)) {
        return Err(OAuthError::invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    Ok(())
}

/// `aud` (a string, or an array of them) must name the token endpoint the
/// client called (AADSTS50027 "unexpected audience" otherwise).
fn check_audience(claims: &Map<String, Value>, audiences: &[String]) -> Result<(), OAuthError> {
    let accepted = |aud: &str| audiences.iter().any(|a| a.eq_ignore_ascii_case(aud));
    let ok = match claims.get("aud") {
        Some(Value::String(aud)) => accepted(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
        _ => false,
    };
    ok.then_some(()).ok_or_else(|| {
        OAuthError::invalid_client(
            50027,
            "Invalid JWT token: unexpected audience. The client assertion's 'aud' must be the token endpoint URL \
             (https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token).",
        )
    })
}

/// `exp` (required) must not have passed and `nbf` (optional) must have come,
/// give or take the skew (AADSTS700024). Returns `exp`.
fn check_lifetime(claims: &Map<String, Value>, now: i64) -> Result<i64, OAuthError> {
    let exp = numeric_date(claims, "exp")?
        .ok_or_else(|| malformed("the assertion has no 'exp' claim."))?;
    let nbf = numeric_date(claims, "nbf")?;
    let expired = exp + CLOCK_SKEW_SECS <= now;
    let premature = nbf.is_some_and(|nbf| nbf - CLOCK_SKEW_SECS > now);
    if expired || premature {
        let text = |t: i64| {
            DateTime::<Utc>::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.to_rfc3339())
        };
        return Err(OAuthError::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, \
                 expiry time of assertion {}.",
                text(now),
                nbf.map_or_else(|| "(no nbf)".to_string(), text),
                text(exp)
            ),
        ));
    }
    Ok(exp)
}

/// A JWT NumericDate claim, in whole seconds; present but not a number is malformed.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, OAuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| malformed(&format!("the '{name}' claim is not a number."))),
    }
}

/// A base64url JSON object: the header or the payload.
fn decode_json(part: &str, what: &str) -> Result<Map<String, Value>, OAuthError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .ok_or_else(|| malformed(&format!("the {what} is not base64url-encoded JSON.")))
}

/// AADSTS50027: the assertion is not a JWT the service can read. Its text is
/// never quoted back: it is a credential.
fn malformed(why: &str) -> OAuthError {
    OAuthError::invalid_request(50027, format!("JWT token is invalid or malformed: {why}"))
}
