//! The m365-preserve evidence package: its format and the operations on it.
//!
//! Evidence writers turn records into `evidence/<source>.json` (faithful) and
//! `.csv` (flattened), hashing as they write; sealing streams the work folder into
//! a zip encrypted with age, with a signed seal outside the ciphertext and a
//! hash-chained custody log; verification and opening check all of it.
//!
//! This crate has no network, no async runtime and no command-line parser, so an
//! incident-response firm's own verifier can depend on it alone.

pub mod acquisition;
pub mod canonical;
pub mod content;
pub mod crypto;
pub mod custody;
pub mod dedup;
pub mod evidence;
pub mod hashing;
pub mod layout;
pub mod manifest;
pub mod merkle;
pub mod names;
pub mod open;
pub mod paths;
pub mod reader;
pub mod seal;
pub mod signing;
pub mod timefmt;
pub mod verify;
pub mod workdir;
pub mod zipwrite;

/// Name written into every package, seal and acquisition record.
pub const TOOL_NAME: &str = "m365-preserve";
/// Tool version (the workspace's).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

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
    Encrypt(#[from] age::EncryptError),
    #[error("identity file {path}: {why}")]
    BadIdentity { path: PathBuf, why: &'static str },
    #[error("identity file {path}: {source}")]
    IdentityFile {
        path: PathBuf,
        #[source]
        source: age::DecryptError,
    },
    #[error("signing key {path}: {why}")]
    BadSigningKey {
        path: PathBuf,
        why: SigningKeyProblem,
    },
    #[error("the identity does not match any recipient of this package (wrong key?); the seal lists the recipients' public keys")]
    WrongIdentity,
    #[error("wrong passphrase (or the package header is corrupt)")]
    WrongPassphrase,
    #[error("this package is encrypted to a passphrase: use --passphrase or --passphrase-env")]
    NeedsPassphrase,
    #[error("this package is encrypted to keys, not a passphrase: use --identity")]
    NeedsIdentity,
    #[error("corrupt or modified package: {0}")]
    Corrupt(Damage),
    #[error("evidence folder: {0}")]
    Evidence(#[from] FolderProblem),
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("{0} is not empty; give a new or empty folder (nothing is ever overwritten)")]
    NotEmpty(PathBuf),
}

/// Why a signing key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyProblem {
    #[error("{0}")]
    Unreadable(#[from] ssh_key::Error),
    #[error("the key is passphrase-protected; give an unencrypted key")]
    Encrypted,
    #[error("{0} keys are not supported; use ssh-ed25519")]
    Algorithm(ssh_key::Algorithm),
}

/// How the ciphertext is damaged.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    #[error("the age header is not valid: this is not an intact package")]
    Header,
    #[error("the age header's MAC does not match: the header was modified")]
    HeaderMac,
    #[error("the package ends early or cannot be read ({0}): truncated?")]
    Truncated(std::io::Error),
    #[error("decryption failed: {0}")]
    Decrypt(age::DecryptError),
}

/// Why a folder cannot be sealed as it is.
#[derive(Debug, thiserror::Error)]
pub enum FolderProblem {
    #[error("cannot read the folder {path} ({source}); check the path")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("{root} contains {name}, which the sealer writes itself; move it away")]
    SealerFile { root: PathBuf, name: String },
    #[error("{0} is a symbolic link; copy the real file into the folder")]
    Link(PathBuf),
    #[error("{0} is not a regular file")]
    SpecialFile(PathBuf),
    #[error("{path} is not a source summary: {source}")]
    BadSummary {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {why}")]
    InvalidSummary { path: PathBuf, why: SummaryProblem },
    #[error("{0} was written by the collector but is missing from the folder")]
    Missing(String),
    #[error("{path} changed after it was written (SHA-256 {written} when written, {now} now); refusing to seal it")]
    Changed {
        path: String,
        written: String,
        now: String,
    },
    #[error("{path} line {line}: {problem}; refusing to seal a broken collection log")]
    BrokenCollectionLog {
        path: PathBuf,
        line: usize,
        problem: String,
    },
}

/// What is wrong with a collector's source summary.
#[derive(Debug, thiserror::Error)]
pub enum SummaryProblem {
    #[error("timestamp {0:?} is not RFC 3339 UTC")]
    Timestamp(String),
    #[error("source {name} is {status:?} but gives no reason")]
    NoReason {
        name: String,
        status: evidence::SourceStatus,
    },
    #[error("file entry {0:?} is not valid")]
    File(String),
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
