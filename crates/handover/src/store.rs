//! The operations a hand-over needs, for either service: write a small object
//! in one request, write a large one in pieces, read properties back, read
//! bytes in place.

use crate::azure::Azure;
use crate::checksum::WholeDigests;
use crate::dest::{Destination, Retention};
use crate::error::HandoverError;
use crate::http::{Http, Reply};
use crate::plan::Service;
use crate::receipt::{ObjectReceipt, PartReceipt, ReadBack, ReadBackStatus};
use crate::s3::S3;
use bytes::Bytes;
use m365_preserve_package::reader::PackageFile;
use url::Url;

/// The metadata written with every object.
pub(crate) struct Meta<'a> {
    pub case_id: &'a str,
    pub sha256: &'a str,
    pub file: PackageFile,
    pub retention: Option<Retention>,
}

impl Meta<'_> {
    /// `(name, value)` pairs; values are ASCII (anything else percent-encoded),
    /// as HTTP headers must be.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            ("case_id", ascii(self.case_id)),
            ("sha256", self.sha256.to_string()),
            ("file", self.file.as_str().to_string()),
            (
                "tool",
                format!("m365-preserve/{}", m365_preserve_package::TOOL_VERSION),
            ),
        ]
    }

    pub fn content_type(&self) -> &'static str {
        match self.file {
            PackageFile::Seal => "application/json",
            PackageFile::Custody => "application/x-ndjson",
            PackageFile::Signature => "text/plain",
            PackageFile::Ciphertext => "application/octet-stream",
        }
    }

    /// A receipt for `name` with what the reply says about it.
    pub fn receipt(&self, name: &str, size: u64, reply: &Reply) -> ObjectReceipt {
        ObjectReceipt {
            file: self.file.as_str().to_string(),
            name: name.to_string(),
            size,
            sha256: self.sha256.to_string(),
            checksums: Vec::new(),
            etag: reply.header_raw("etag"),
            version_id: reply
                .header("x-ms-version-id")
                .or_else(|| reply.header("x-amz-version-id")),
            last_modified: reply.header("last-modified"),
            request_id: reply
                .header("x-ms-request-id")
                .or_else(|| reply.header("x-amz-request-id")),
            attempts: reply.attempts,
            part_size: None,
            parts: Vec::new(),
            retention: self.retention,
            read_back: None,
        }
    }
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c.to_string()
            } else {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

/// A 409 / 412 on a conditional write: the name is taken.
pub(crate) fn exists_error(reply: &Reply, name: &str, destination: &str) -> Option<HandoverError> {
    matches!(reply.status, 409 | 412).then(|| HandoverError::Exists {
        name: name.to_string(),
        destination: destination.to_string(),
    })
}

/// Records that `what`'s `field` is as sent, or fails.
pub(crate) fn expect(
    what: &str,
    field: &str,
    got: Option<String>,
    want: Option<String>,
    back: &mut ReadBack,
) -> Result<(), HandoverError> {
    match (got, want) {
        (Some(g), Some(w)) if g == w => {
            back.checks.push(format!("{field} {g} as sent"));
            Ok(())
        }
        (Some(g), Some(w)) => Err(HandoverError::Mismatch {
            what: what.to_string(),
            why: format!("the service reports {field} {g}, but {w} was sent"),
        }),
        _ => Ok(()),
    }
}

/// The read-back of a HEAD answer: the size and the `sha256` metadata
/// (`prefix` + `sha256`) as sent. `None` when the credential may not read.
pub(crate) fn head_read_back(
    what: &str,
    reply: Reply,
    r: &ObjectReceipt,
    prefix: &str,
) -> Result<Option<(ReadBack, Reply)>, HandoverError> {
    if reply.status == 403 {
        return Ok(None);
    }
    let reply = reply.ok(what)?;
    let mut back = ReadBack::new(ReadBackStatus::Confirmed);
    let length: Option<u64> = reply.header("content-length").and_then(|v| v.parse().ok());
    expect(
        what,
        "size",
        length.map(|l| l.to_string()),
        Some(r.size.to_string()),
        &mut back,
    )?;
    expect(
        what,
        "metadata sha256",
        reply.header(&format!("{prefix}sha256")),
        Some(r.sha256.clone()),
        &mut back,
    )?;
    Ok(Some((back, reply)))
}

/// Either service.
pub(crate) enum Store {
    Azure(Azure),
    S3(S3),
}

impl Store {
    pub fn new(dest: &Destination) -> Result<Self, HandoverError> {
        let http = Http::new()?;
        Ok(match dest {
            Destination::Azure(a) => Store::Azure(Azure::new(a.clone(), http, dest.display())),
            Destination::S3(s) => Store::S3(S3::new(s.clone(), http, dest.display())),
        })
    }

    pub fn service(&self) -> Service {
        match self {
            Store::Azure(_) => Service::AzureBlob,
            Store::S3(_) => Service::S3,
        }
    }

    /// Writes a whole object in one request, refusing to overwrite.
    pub async fn put_small(
        &self,
        name: &str,
        data: Bytes,
        meta: &Meta<'_>,
    ) -> Result<ObjectReceipt, HandoverError> {
        match self {
            Store::Azure(a) => a.put_blob(name, data, meta).await,
            Store::S3(s) => s.put_object(name, data, meta).await,
        }
    }

    /// Starts a large object: S3's upload id (Azure needs none).
    pub async fn begin(
        &self,
        name: &str,
        meta: &Meta<'_>,
    ) -> Result<Option<String>, HandoverError> {
        match self {
            Store::Azure(_) => Ok(None),
            Store::S3(s) => s.create_upload(name, meta).await.map(Some),
        }
    }

    /// Uploads piece `number` (1-based) with its CRC-64/NVME.
    pub async fn put_part(
        &self,
        name: &str,
        upload: Option<&str>,
        number: u64,
        data: Bytes,
        crc: u64,
    ) -> Result<PartReceipt, HandoverError> {
        match self {
            Store::Azure(a) => a.put_block(name, number, data, crc).await,
            Store::S3(s) => {
                s.upload_part(name, upload.unwrap_or_default(), number, data, crc)
                    .await
            }
        }
    }

    /// Commits the pieces, in order, refusing to overwrite. `Ok(None)`: the
    /// service no longer has the pieces (expired or aborted upload): send them again.
    pub async fn commit(
        &self,
        name: &str,
        upload: Option<&str>,
        parts: &[PartReceipt],
        whole: &WholeDigests,
        meta: &Meta<'_>,
    ) -> Result<Option<ObjectReceipt>, HandoverError> {
        match self {
            Store::Azure(a) => a.put_block_list(name, parts, whole, meta).await,
            Store::S3(s) => {
                s.complete(name, upload.unwrap_or_default(), parts, whole, meta)
                    .await
            }
        }
    }

    /// Reads the object's properties back, when the credential may.
    pub async fn read_back(&self, receipt: &ObjectReceipt) -> Result<ReadBack, HandoverError> {
        match self {
            Store::Azure(a) => a.read_back(receipt).await,
            Store::S3(s) => s.read_back(receipt).await,
        }
    }

    /// Whether object `name` exists (`None`: the credential cannot tell).
    pub async fn exists(&self, name: &str) -> Result<bool, HandoverError> {
        match self {
            Store::Azure(a) => a.exists(name).await,
            Store::S3(s) => s.exists(name).await,
        }
    }

    /// The URL and headers of a GET of `name` (signed; handed to the client only).
    pub fn get_request(&self, name: &str) -> (Url, Vec<(String, String)>) {
        match self {
            Store::Azure(a) => a.get_request(name),
            Store::S3(s) => s.get_request(name),
        }
    }

    pub fn http(&self) -> &Http {
        match self {
            Store::Azure(a) => &a.http,
            Store::S3(s) => &s.http,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values_are_ascii() {
        assert_eq!(ascii("IR-2026-042"), "IR-2026-042");
        assert_eq!(ascii("事件"), "%E4%BA%8B%E4%BB%B6");
    }
}
