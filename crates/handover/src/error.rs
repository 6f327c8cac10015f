//! What can go wrong handing a package over, each said with what to do next.
//! No message holds a URL's query, a SAS signature or a key.

use std::fmt;
use std::path::PathBuf;

/// Errors of the hand-over.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandoverError {
    #[error(transparent)]
    Destination(#[from] DestinationError),
    #[error("{what}: cannot reach the storage service ({why}); check the network and the URL, then run the same command again: it continues where it stopped")]
    Network { what: String, why: String },
    #[error("{what}: the service answered {status} {code}: {refusal}")]
    Refused {
        what: String,
        status: u16,
        code: String,
        refusal: Refusal,
    },
    #[error("{name} already exists at {destination}; refusing to overwrite it. Nothing of this package was changed there; if it is this package from an earlier send, there is nothing to do, otherwise ask the firm for a new prefix or container")]
    Exists { name: String, destination: String },
    #[error("{path}: {source}")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Package(#[from] m365_preserve_package::PackageError),
    #[error("the ciphertext read while sending has SHA-256 {read}, but the seal says {sealed}: the local copy is damaged or was changed; nothing was committed. Do not send this copy")]
    CiphertextMismatch { read: String, sealed: String },
    #[error("{path} is broken at line {line}: {problem}; not sending (report this to the sealer)")]
    CustodyBroken {
        path: String,
        line: usize,
        problem: String,
    },
    #[error("{0}")]
    TooLarge(#[from] crate::plan::TooLarge),
    #[error("{what}: the service's answer is not understood ({why})")]
    Unreadable { what: String, why: String },
    #[error("{what}: {why}")]
    Mismatch { what: String, why: String },
}

/// Why the service refused a request, and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The credential is valid but does not allow this operation.
    Permission,
    /// The signature was not accepted: expired, mistyped or wrong keys.
    Authentication,
    /// The container, bucket or object does not exist.
    NotFound,
    /// The service kept rejecting the checksum of what was sent.
    Checksum,
    /// The service was busy or failing for every attempt.
    Unavailable,
    /// Object Lock or immutability settings the destination does not accept.
    Retention,
    /// Anything else the service refused.
    Other,
}

impl Refusal {
    /// Classifies a refusal from its status and the service's error code.
    pub fn of(status: u16, code: &str) -> Self {
        match (status, code) {
            (
                _,
                "AuthorizationPermissionMismatch"
                | "AccessDenied"
                | "AuthorizationResourceTypeMismatch",
            ) => Refusal::Permission,
            (
                _,
                "AuthenticationFailed"
                | "AuthorizationFailure"
                | "SignatureDoesNotMatch"
                | "InvalidAccessKeyId"
                | "ExpiredToken"
                | "InvalidToken"
                | "AccessDeniedException",
            ) => Refusal::Authentication,
            (
                _,
                "Md5Mismatch"
                | "Crc64Mismatch"
                | "BadDigest"
                | "InvalidDigest"
                | "XAmzContentChecksumMismatch"
                | "InvalidChecksum",
            ) => Refusal::Checksum,
            (
                _,
                "InvalidRequest"
                | "InvalidArgument"
                | "ObjectLockConfigurationNotFoundError"
                | "InvalidBucketState"
                | "ImmutabilityPolicyNotSupported"
                | "FeatureNotSupported",
            ) if status == 400 || status == 409 => Refusal::Retention,
            (403, _) => Refusal::Permission,
            (404, _) => Refusal::NotFound,
            (500..=599, _) | (408 | 429, _) => Refusal::Unavailable,
            _ => Refusal::Other,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Permission => "the credential does not allow this operation; for sending, ask the firm for a container SAS with sp=cw (Azure) or keys allowed s3:PutObject on the prefix (S3); for verifying in place, one that allows reading (sp=r, s3:GetObject)",
            Refusal::Authentication => "the signature was not accepted: the SAS expired or was copied incompletely, or the AWS keys are wrong or expired; ask the firm for a new one",
            Refusal::NotFound => "no such container, bucket or object; check the URL (the firm creates the container or bucket)",
            Refusal::Checksum => "the service rejected the checksum of what was sent on every attempt: the data changes on its way (a proxy, bad memory?); try another network or machine",
            Refusal::Unavailable => "the service was busy or failing on every attempt; wait a few minutes and run the same command again: it continues where it stopped",
            Refusal::Retention => "the destination does not accept the retention asked for (Object Lock not enabled on the bucket, version-level immutability not enabled on the container?); ask the firm, or leave out --retain-until and rely on the bucket's or container's own policy",
            Refusal::Other => "see the service's error code; run the same command again to continue, or ask the firm",
        })
    }
}

/// A destination that cannot be used as given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    #[error("not a URL ({0}); give https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS or s3://BUCKET/PREFIX")]
    NotAUrl(String),
    #[error("{0}:// is not supported; give https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS or s3://BUCKET/PREFIX")]
    Scheme(String),
    #[error(
        "{0}: plain http:// is only accepted for loopback addresses (emulators); use https://"
    )]
    PlainHttp(String),
    #[error("{0} has no SAS (no sig= in the query); give the whole container SAS URL the firm sent, in quotes")]
    NoSas(String),
    #[error("{0} names no container; give the container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS)")]
    NoContainer(String),
    #[error("the SAS expired at {0}; ask the firm for a new one")]
    SasExpired(String),
    #[error("the SAS allows only sp={0}, which cannot write blobs; ask the firm for a container SAS with sp=cw")]
    SasCannotWrite(String),
    #[error("the SAS allows only sp={0}, which cannot read blobs; verifying in place needs a SAS with r (sp=r)")]
    SasCannotRead(String),
    #[error("s3:// needs a bucket name: s3://BUCKET/PREFIX")]
    NoBucket,
    #[error("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or put profile {0:?} in ~/.aws/credentials (AWS_PROFILE chooses another)")]
    NoCredentials(String),
    #[error("AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL is not a URL ({0})")]
    BadEndpoint(String),
    #[error("{0} does not name a package file (CASE_….zip.age, .seal.json, .seal.json.sig or .custody.jsonl)")]
    NotAPackageFile(String),
    #[error(
        "{0} names a package file; --to takes the container or bucket (and prefix) to send into"
    )]
    FileNotFolder(String),
}
