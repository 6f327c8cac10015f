//! Certificate credentials: a signed JWT client assertion
//! (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>).
//! Current Entra guidance is PS256 with `x5t#S256`; older deployments expect
//! RS256 with `x5t` (SHA-1), selectable by flag.

use super::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::json;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::Path;
use x509_cert::der::{DecodePem, Encode};

/// Which assertion format to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum AssertionAlg {
    /// RSASSA-PSS SHA-256, header `x5t#S256` (current Microsoft guidance).
    Ps256,
    /// RSASSA-PKCS1-v1_5 SHA-256, header `x5t` (SHA-1 thumbprint; older form).
    Rs256,
}

/// A certificate and its private key.
pub struct CertificateCredential {
    cert_der: Vec<u8>,
    key: RsaPrivateKey,
    alg: AssertionAlg,
}

impl std::fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CertificateCredential({}, key redacted)",
            self.thumbprint_sha1_hex()
        )
    }
}

impl CertificateCredential {
    /// Loads a PEM certificate and its unencrypted PEM RSA key (PKCS#8 or PKCS#1).
    pub fn load(cert_pem: &Path, key_pem: &Path, alg: AssertionAlg) -> Result<Self, AuthError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| AuthError::Credential(format!("{}: {e}", path.display())))
        };
        Self::from_pem(
            (&cert_pem.display().to_string(), &read(cert_pem)?),
            (&key_pem.display().to_string(), &read(key_pem)?),
            alg,
        )
    }

    /// A certificate and its key from PEM text, each with the name errors
    /// call it by (never the key itself).
    pub fn from_pem(
        (cert_name, cert_text): (&str, &str),
        (key_name, key_text): (&str, &str),
        alg: AssertionAlg,
    ) -> Result<Self, AuthError> {
        let bad = |name: &str, why: String| AuthError::Credential(format!("{name}: {why}"));
        let cert = x509_cert::Certificate::from_pem(cert_text.as_bytes())
            .map_err(|e| bad(cert_name, format!("not a PEM X.509 certificate ({e})")))?;
        let cert_der = cert.to_der().map_err(|e| bad(cert_name, e.to_string()))?;
        check_validity(&cert, std::time::SystemTime::now()).map_err(|why| bad(cert_name, why))?;
        if key_text.contains("ENCRYPTED") {
            return Err(bad(
                key_name,
                "the private key is encrypted; give an unencrypted PEM key".into(),
            ));
        }
        let key = RsaPrivateKey::from_pkcs8_pem(key_text)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(key_text))
            .map_err(|_| {
                bad(
                    key_name,
                    "not a PEM RSA private key (PKCS#8 or PKCS#1)".into(),
                )
            })?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| bad(cert_name, e.to_string()))?;
        let cert_key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|_| bad(cert_name, "the certificate's key is not RSA".into()))?;
        if cert_key != key.to_public_key() {
            return Err(bad(
                key_name,
                "this private key does not belong to the certificate".into(),
            ));
        }
        Ok(Self { cert_der, key, alg })
    }

    /// Uppercase hex SHA-1 thumbprint, as the Entra portal shows it.
    pub fn thumbprint_sha1_hex(&self) -> String {
        hex::encode_upper(Sha1::digest(&self.cert_der))
    }

    /// A fresh assertion for `client_id` at the token endpoint `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str, now: i64) -> String {
        let header = match self.alg {
            AssertionAlg::Ps256 => {
                json!({"alg": "PS256", "typ": "JWT", "x5t#S256": URL_SAFE_NO_PAD.encode(Sha256::digest(&self.cert_der))})
            }
            AssertionAlg::Rs256 => {
                json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE_NO_PAD.encode(Sha1::digest(&self.cert_der))})
            }
        };
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + 300,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = match self.alg {
            AssertionAlg::Ps256 => rsa::pss::BlindedSigningKey::<Sha256>::new(self.key.clone())
                .sign_with_rng(&mut rand::rngs::OsRng, signing_input.as_bytes())
                .to_vec(),
            AssertionAlg::Rs256 => rsa::pkcs1v15::SigningKey::<Sha256>::new(self.key.clone())
                .sign(signing_input.as_bytes())
                .to_vec(),
        };
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// Refuses a certificate outside its validity period at `now`: Entra refuses
/// an assertion signed with an expired key (AADSTS700027, "The key used is
/// expired"), so saying so here, with the date and the fix, spares the
/// administrator an opaque sign-in error.
fn check_validity(cert: &x509_cert::Certificate, now: std::time::SystemTime) -> Result<(), String> {
    let validity = &cert.tbs_certificate.validity;
    let day = |t: x509_cert::time::Time| {
        chrono::DateTime::<chrono::Utc>::from(t.to_system_time())
            .format("%Y-%m-%d %H:%M UTC")
            .to_string()
    };
    if validity.not_after.to_system_time() < now {
        return Err(format!(
            "the certificate expired on {}: create a new one, upload it to the app registration (Certificates & secrets) and give its files",
            day(validity.not_after)
        ));
    }
    if validity.not_before.to_system_time() > now {
        return Err(format!(
            "the certificate is not valid before {}: check this computer's clock",
            day(validity.not_before)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::{pem::LineEnding, EncodePem};
    use x509_cert::time::{Time, Validity};

    /// A self-signed certificate and its key, valid from `from` to `to`.
    fn certificate(from: SystemTime, to: SystemTime) -> (String, String) {
        use rsa::pkcs8::EncodePrivateKey;
        use std::str::FromStr;
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
        let spki =
            x509_cert::spki::SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).unwrap();
        let validity = Validity {
            not_before: Time::try_from(from).unwrap(),
            not_after: Time::try_from(to).unwrap(),
        };
        let cert = CertificateBuilder::new(
            Profile::Root,
            x509_cert::serial_number::SerialNumber::from(1u32),
            validity,
            x509_cert::name::Name::from_str("CN=expired test").unwrap(),
            spki,
            &signer,
        )
        .unwrap()
        .build::<rsa::pkcs1v15::Signature>()
        .unwrap();
        let key_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        (cert.to_pem(LineEnding::LF).unwrap(), key_pem)
    }

    #[test]
    fn an_expired_or_future_certificate_is_refused_with_its_date() {
        let day = Duration::from_secs(86_400);
        let now = SystemTime::now();
        let (cert, key) = certificate(now - 400 * day, now - 35 * day);
        let e = CertificateCredential::from_pem(
            ("app.pem", &cert),
            ("app.key", &key),
            AssertionAlg::Ps256,
        )
        .unwrap_err()
        .to_string();
        let expired = chrono::DateTime::<chrono::Utc>::from(now - 35 * day)
            .format("%Y-%m-%d")
            .to_string();
        assert!(
            e.contains("app.pem: the certificate expired on") && e.contains(&expired),
            "{e}"
        );
        assert!(!e.contains("PRIVATE KEY"), "{e}");
        let (cert, key) = certificate(now + 2 * day, now + 30 * day);
        let e = CertificateCredential::from_pem(
            ("app.pem", &cert),
            ("app.key", &key),
            AssertionAlg::Ps256,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not valid before"), "{e}");
        let (cert, key) = certificate(now - day, now + day);
        let c = CertificateCredential::from_pem(
            ("app.pem", &cert),
            ("app.key", &key),
            AssertionAlg::Ps256,
        )
        .unwrap();
        assert!(
            !format!("{c:?}").contains("PRIVATE"),
            "the key is never printed"
        );
    }
}
