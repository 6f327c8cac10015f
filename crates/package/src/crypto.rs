//! age recipients and identities: who can open a package.

use super::{Damage, PackageError};
use age::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::str::FromStr;

/// A public recipient as recorded in the seal (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientInfo {
    /// `X25519`, `ssh-ed25519`, `ssh-rsa` or `scrypt`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// One parsed public key.
pub enum Recipient {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
}

/// Who a package is encrypted to: public keys, or one passphrase (never both: age
/// requires an scrypt stanza to be alone).
pub enum Recipients {
    Keys(Vec<(Recipient, RecipientInfo)>),
    Passphrase(SecretString),
}

impl Recipients {
    /// Parses `age1...`, `ssh-ed25519 ...` and `ssh-rsa ...` keys given directly or
    /// in recipients files (one per line, `#` comments).
    pub fn from_keys(keys: &[String], files: &[impl AsRef<Path>]) -> Result<Self, PackageError> {
        let mut lines: Vec<(String, String)> = keys
            .iter()
            .map(|k| (k.clone(), "--recipient".to_string()))
            .collect();
        for file in files {
            let file = file.as_ref();
            let text = std::fs::read_to_string(file).map_err(|e| PackageError::Io {
                path: file.to_path_buf(),
                source: e,
            })?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if !line.is_empty() && !line.starts_with('#') {
                    lines.push((line.to_string(), format!("{}:{}", file.display(), i + 1)));
                }
            }
        }
        if lines.is_empty() {
            return Err(PackageError::NoRecipients);
        }
        let mut out = Vec::new();
        for (text, origin) in lines {
            out.push(
                parse_recipient(&text).ok_or_else(|| PackageError::BadRecipient {
                    origin,
                    value: text.chars().take(40).collect(),
                })?,
            );
        }
        Ok(Recipients::Keys(out))
    }

    pub fn passphrase(p: SecretString) -> Result<Self, PackageError> {
        if p.expose_secret().is_empty() {
            return Err(PackageError::EmptyPassphrase);
        }
        Ok(Recipients::Passphrase(p))
    }

    /// Public description for the seal.
    pub fn describe(&self) -> Vec<RecipientInfo> {
        match self {
            Recipients::Keys(keys) => keys.iter().map(|(_, info)| info.clone()).collect(),
            Recipients::Passphrase(_) => vec![RecipientInfo {
                kind: "scrypt".into(),
                public_key: None,
            }],
        }
    }

    pub fn encryptor(&self) -> Result<age::Encryptor, PackageError> {
        match self {
            Recipients::Passphrase(p) => Ok(age::Encryptor::with_user_passphrase(p.clone())),
            Recipients::Keys(keys) => {
                age::Encryptor::with_recipients(keys.iter().map(|(r, _)| match r {
                    Recipient::X25519(r) => r as &dyn age::Recipient,
                    Recipient::Ssh(r) => r as &dyn age::Recipient,
                }))
                .map_err(PackageError::Encrypt)
            }
        }
    }
}

fn parse_recipient(text: &str) -> Option<(Recipient, RecipientInfo)> {
    if text.starts_with("age1") {
        let r = age::x25519::Recipient::from_str(text).ok()?;
        let info = RecipientInfo {
            kind: "X25519".into(),
            public_key: Some(r.to_string()),
        };
        return Some((Recipient::X25519(r), info));
    }
    // Keep the key type and body; drop the comment (often an e-mail address).
    let mut parts = text.split_whitespace();
    let (kind, body) = (parts.next()?, parts.next()?);
    if kind != "ssh-ed25519" && kind != "ssh-rsa" {
        return None;
    }
    let key = format!("{kind} {body}");
    let r = age::ssh::Recipient::from_str(&key).ok()?;
    Some((
        Recipient::Ssh(r),
        RecipientInfo {
            kind: kind.into(),
            public_key: Some(key),
        },
    ))
}

/// What opens a package: identities from a file, or a passphrase.
pub enum Identities {
    Keys(Vec<Box<dyn age::Identity + Send + Sync>>),
    Passphrase(SecretString),
}

impl Identities {
    /// Reads an age identity file (`AGE-SECRET-KEY-1...`) or an unencrypted OpenSSH
    /// ed25519/RSA private key.
    pub fn from_file(path: &Path) -> Result<Self, PackageError> {
        let io = |e| PackageError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let bad = |why: &'static str| PackageError::BadIdentity {
            path: path.to_path_buf(),
            why,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        if text.contains("-----BEGIN") {
            let id =
                age::ssh::Identity::from_buffer(text.as_bytes(), Some(path.display().to_string()))
                    .map_err(|_| bad("not a readable OpenSSH private key"))?;
            return match id {
                age::ssh::Identity::Unencrypted(_) => Ok(Identities::Keys(vec![Box::new(id)])),
                age::ssh::Identity::Encrypted(_) => Err(bad(
                    "the SSH key is passphrase-protected; use an age identity or an unencrypted copy of the key",
                )),
                age::ssh::Identity::Unsupported(_) => Err(bad("this SSH key type cannot decrypt age files")),
            };
        }
        let file = age::IdentityFile::from_buffer(text.as_bytes())
            .map_err(|_| bad("not an age identity file"))?;
        let ids = file
            .into_identities()
            .map_err(|source| PackageError::IdentityFile {
                path: path.to_path_buf(),
                source,
            })?;
        if ids.is_empty() {
            return Err(bad("no AGE-SECRET-KEY-1 line found"));
        }
        Ok(Identities::Keys(ids))
    }

    /// Opens the age stream, translating failures into what the user should do.
    pub fn decrypt<R: std::io::BufRead>(&self, input: R) -> Result<Plaintext<R>, PackageError> {
        let decryptor = age::Decryptor::new_buffered(input).map_err(map_decrypt_error)?;
        let result = match self {
            Identities::Keys(keys) => {
                if decryptor.is_scrypt() {
                    return Err(PackageError::NeedsPassphrase);
                }
                decryptor.decrypt(keys.iter().map(|k| k.as_ref() as &dyn age::Identity))
            }
            Identities::Passphrase(p) => {
                if !decryptor.is_scrypt() {
                    return Err(PackageError::NeedsIdentity);
                }
                let id = age::scrypt::Identity::new(p.clone());
                decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
            }
        };
        result.map(Plaintext::new).map_err(|e| match (self, e) {
            (Identities::Passphrase(_), age::DecryptError::DecryptionFailed)
            | (Identities::Passphrase(_), age::DecryptError::NoMatchingKeys) => {
                PackageError::WrongPassphrase
            }
            (_, e) => map_decrypt_error(e),
        })
    }
}

fn map_decrypt_error(e: age::DecryptError) -> PackageError {
    match e {
        age::DecryptError::NoMatchingKeys => PackageError::WrongIdentity,
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            PackageError::Corrupt(Damage::Header)
        }
        age::DecryptError::InvalidMac => PackageError::Corrupt(Damage::HeaderMac),
        age::DecryptError::Io(e) => PackageError::Corrupt(Damage::Truncated(e)),
        other => PackageError::Corrupt(Damage::Decrypt(other)),
    }
}

/// The decrypted stream, seekable, with seeks past its end answered by the end.
///
/// age 0.12's `StreamReader` panics (an overflowing subtraction in
/// `read_from_chunk`) when read after a seek beyond the last chunk, and a zip
/// reader seeks wherever a damaged central directory says. Here a position past
/// the end reads as end of file, so a hostile package is refused, not a crash.
pub struct Plaintext<R> {
    inner: age::stream::StreamReader<R>,
    /// The plaintext's length, once asked for.
    len: Option<u64>,
    /// Set while the position is past the end (the inner reader is not moved).
    beyond: Option<u64>,
}

impl<R> Plaintext<R> {
    fn new(inner: age::stream::StreamReader<R>) -> Self {
        Self {
            inner,
            len: None,
            beyond: None,
        }
    }
}

impl<R: std::io::BufRead> std::io::Read for Plaintext<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.beyond.is_some() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

impl<R: std::io::BufRead + std::io::Seek> std::io::Seek for Plaintext<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        let len = match self.len {
            Some(l) => l,
            None => {
                let here = self.inner.stream_position()?;
                let l = self.inner.seek(SeekFrom::End(0))?;
                self.inner.seek(SeekFrom::Start(here))?;
                self.len = Some(l);
                l
            }
        };
        let current = match self.beyond {
            Some(p) => p,
            None => self.inner.stream_position()?,
        };
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => current.checked_add_signed(d),
        }
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        if target >= len {
            self.beyond = Some(target);
            return Ok(target);
        }
        self.beyond = None;
        self.inner.seek(SeekFrom::Start(target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};

    #[test]
    fn a_seek_past_the_end_reads_as_the_end_and_a_seek_back_reads_again() {
        let id = age::x25519::Identity::generate();
        let plain: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut ct = Vec::new();
        let mut w = age::Encryptor::with_recipients(std::iter::once(&id.to_public() as _))
            .unwrap()
            .wrap_output(&mut ct)
            .unwrap();
        w.write_all(&plain).unwrap();
        w.finish().unwrap();
        let ids = Identities::Keys(vec![Box::new(id)]);
        let mut r = ids.decrypt(std::io::Cursor::new(&ct[..])).unwrap();
        for far in [plain.len() as u64, 65_536 * 7 + 3, u64::MAX / 2] {
            assert_eq!(r.seek(SeekFrom::Start(far)).unwrap(), far);
            let mut buf = [0u8; 16];
            assert_eq!(r.read(&mut buf).unwrap(), 0);
        }
        assert_eq!(r.seek(SeekFrom::End(-4)).unwrap(), plain.len() as u64 - 4);
        let mut tail = Vec::new();
        r.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, plain[plain.len() - 4..]);
        r.seek(SeekFrom::Start(70_000)).unwrap();
        let mut buf = [0u8; 8];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf, plain[70_000..70_008]);
    }
}
