//! Receipts: what the service answered for each object and each piece, as
//! recorded in the signed `transferred` custody event.

use crate::dest::Retention;
use serde::{Deserialize, Serialize};

/// A checksum and who checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// `MD5`, `CRC64NVME` or `SHA256`.
    pub algorithm: String,
    /// The value as sent (Base64, in the service's byte order).
    pub value: String,
    /// `validated`: the service computed it over what arrived and would have
    /// refused a mismatch; `stored`: kept as sent, not checked by the service.
    pub by_service: ChecksumRole,
    /// The header the service echoed back, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echoed: Option<String>,
}

/// Whether the service checked a checksum or only stored it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumRole {
    Validated,
    Stored,
}

/// One block (Azure) or part (S3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReceipt {
    /// 1-based.
    pub number: u64,
    pub size: u64,
    /// CRC-64/NVME of the piece, Base64 in the service's byte order, validated by the service.
    pub crc64nvme: String,
    /// Azure block id (Base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_id: Option<String>,
    /// S3 part ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Requests it took (more than one: the service rejected an attempt, or the
    /// connection failed).
    pub attempts: u32,
}

/// One object written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectReceipt {
    /// `ciphertext`, `seal`, `signature` or `custody`.
    pub file: String,
    /// The object's name in the container or bucket.
    pub name: String,
    pub size: u64,
    /// SHA-256 (hex) of what was read and sent.
    pub sha256: String,
    pub checksums: Vec<Checksum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Requests the commit took.
    pub attempts: u32,
    /// Piece size, when sent in pieces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartReceipt>,
    /// Retention asked for on this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// What reading the object's properties back showed (when the credential
    /// may read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_back: Option<ReadBack>,
}

/// The object's properties as the service reports them after the upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadBack {
    /// `confirmed`, or why it could not be read.
    pub status: ReadBackStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// Object Lock mode / immutability policy mode the service reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadBackStatus {
    /// Size and checksums as sent.
    Confirmed,
    /// The credential may not read (a write-only SAS or key): the firm checks on its side.
    NotPermitted,
}

impl Retention {
    /// S3's `x-amz-object-lock-retain-until-date` / Azure's immutability policy date.
    pub fn until_iso(&self) -> String {
        m365_preserve_package::timefmt::format_utc(self.until)
    }
}

impl ReadBack {
    pub fn new(status: ReadBackStatus) -> Self {
        Self {
            status,
            checks: Vec::new(),
            retention_mode: None,
            retain_until: None,
            legal_hold: None,
        }
    }
}
