//! SSH signatures (the `ssh-keygen -Y sign` format) for the seal and custody lines.

use super::{PackageError, SigningKeyProblem};
use rand::rngs::OsRng;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::path::Path;

/// Namespace of the seal signature (`ssh-keygen -Y verify -n ...`).
pub const SEAL_NAMESPACE: &str = "m365-preserve-seal";
/// Namespace of custody-line signatures.
pub const CUSTODY_NAMESPACE: &str = "m365-preserve-custody";

/// A private key that signs seals and custody lines.
pub struct SigningKey {
    key: PrivateKey,
    generated: bool,
}

impl SigningKey {
    /// A fresh ed25519 key, used for one case and then forgotten.
    pub fn generate() -> Self {
        Self {
            key: PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
                .expect("ed25519 key generation"),
            generated: true,
        }
    }

    /// Loads an unencrypted OpenSSH ed25519 private key.
    pub fn load(path: &Path) -> Result<Self, PackageError> {
        let bad = |why: SigningKeyProblem| PackageError::BadSigningKey {
            path: path.to_path_buf(),
            why,
        };
        let key = PrivateKey::read_openssh_file(path).map_err(|e| bad(e.into()))?;
        if key.is_encrypted() {
            return Err(bad(SigningKeyProblem::Encrypted));
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(bad(SigningKeyProblem::Algorithm(key.algorithm())));
        }
        Ok(Self {
            key,
            generated: false,
        })
    }

    /// Whether this key was generated for this run (and will not be kept).
    pub fn is_generated(&self) -> bool {
        self.generated
    }

    /// `ssh-ed25519 AAAA...` (no comment).
    pub fn public_openssh(&self) -> String {
        public_openssh(self.key.public_key())
    }

    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }

    /// Signs `msg`; returns the armored `-----BEGIN SSH SIGNATURE-----` text.
    pub fn sign(&self, namespace: &str, msg: &[u8]) -> String {
        self.key
            .sign(namespace, HashAlg::Sha512, msg)
            .and_then(|sig| sig.to_pem(LineEnding::LF))
            .expect("signing with an in-memory ed25519 key")
    }

    /// Writes the private key (mode 0600) and `<path>.pub`.
    pub fn write_openssh(&self, path: &Path, comment: &str) -> Result<(), PackageError> {
        let mut key = self.key.clone();
        key.set_comment(comment);
        let text = key
            .to_openssh(LineEnding::LF)
            .expect("encoding an in-memory ed25519 key");
        super::write_private_file(path, text.as_bytes())?;
        let mut public = key.public_key().to_openssh().expect("encode public key");
        public.push('\n');
        let mut pub_path = path.as_os_str().to_owned();
        pub_path.push(".pub");
        let pub_path = std::path::PathBuf::from(pub_path);
        super::write_new_file(&pub_path, public.as_bytes())
    }
}

fn public_openssh(key: &PublicKey) -> String {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh()
        .expect("encode public key")
        .trim()
        .to_string()
}

/// Fingerprint (`SHA256:...`) of an OpenSSH public key line.
pub fn fingerprint_of(public: &str) -> Result<String, String> {
    let key =
        PublicKey::from_openssh(public).map_err(|e| format!("not an OpenSSH public key: {e}"))?;
    Ok(key.fingerprint(HashAlg::Sha256).to_string())
}

/// Verifies an armored SSH signature by `public` over `msg` in `namespace`.
pub fn verify(public: &str, namespace: &str, msg: &[u8], armored: &str) -> Result<(), String> {
    let key =
        PublicKey::from_openssh(public).map_err(|e| format!("not an OpenSSH public key: {e}"))?;
    let sig = SshSig::from_pem(armored.trim()).map_err(|e| format!("not an SSH signature: {e}"))?;
    if sig.namespace() != namespace {
        return Err(format!(
            "signature namespace is {:?}, expected {namespace:?}",
            sig.namespace()
        ));
    }
    if sig.public_key() != key.key_data() {
        return Err("signed by a different key than the one named".into());
    }
    key.verify(namespace, msg, &sig)
        .map_err(|_| "signature does not match the signed content".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_reject_tampering() {
        let k = SigningKey::generate();
        let sig = k.sign(SEAL_NAMESPACE, b"hello");
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        verify(&k.public_openssh(), SEAL_NAMESPACE, b"hello", &sig).unwrap();
        assert!(verify(&k.public_openssh(), SEAL_NAMESPACE, b"hellO", &sig).is_err());
        assert!(verify(&k.public_openssh(), CUSTODY_NAMESPACE, b"hello", &sig).is_err());
        let other = SigningKey::generate();
        assert!(verify(&other.public_openssh(), SEAL_NAMESPACE, b"hello", &sig).is_err());
        assert_eq!(
            fingerprint_of(&k.public_openssh()).unwrap(),
            k.fingerprint()
        );
    }
}
