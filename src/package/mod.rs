//! The sealed evidence package: zip streamed into age, a signed seal outside the
//! ciphertext, and a hash-chained custody log. See README "Package format".

pub mod acquisition;
pub mod canonical;
pub mod crypto;
pub mod custody;
pub mod manifest;
pub mod merkle;
pub mod open;
pub mod paths;
pub mod seal;
pub mod signing;
pub mod verify;
pub mod zipwrite;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors from sealing, verifying and opening packages. Each message says what
/// to do next where there is something to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no recipients: give --recipient, --recipients-file or --passphrase")]
    NoRecipients,
    #[error("{origin}: {value:?} is not an age (age1...), ssh-ed25519 or ssh-rsa public key")]
    BadRecipient { origin: String, value: String },
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
    #[error("identity file {path}: {why}")]
    BadIdentity { path: PathBuf, why: String },
    #[error("signing key {path}: {why}")]
    BadSigningKey { path: PathBuf, why: String },
    #[error("the identity does not match any recipient of this package (wrong key?); the seal lists the recipients' public keys")]
    WrongIdentity,
    #[error("wrong passphrase (or the package header is corrupt)")]
    WrongPassphrase,
    #[error("this package is encrypted to a passphrase: use --passphrase or --passphrase-env")]
    NeedsPassphrase,
    #[error("this package is encrypted to keys, not a passphrase: use --identity")]
    NeedsIdentity,
    #[error("corrupt or modified package: {0}")]
    Corrupt(String),
    #[error("evidence folder: {0}")]
    Evidence(String),
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("{0}")]
    Invalid(String),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates a new file (never overwriting) and writes `data` to it.
pub fn write_new_file(path: &Path, data: &[u8]) -> Result<(), PackageError> {
    write_file_mode(path, data, 0o644)
}

/// Like [`write_new_file`] with mode 0600 (private keys).
pub fn write_private_file(path: &Path, data: &[u8]) -> Result<(), PackageError> {
    write_file_mode(path, data, 0o600)
}

fn write_file_mode(path: &Path, data: &[u8], mode: u32) -> Result<(), PackageError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            PackageError::Exists(path.to_path_buf())
        } else {
            io_err(path)(e)
        }
    })?;
    f.write_all(data).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}
