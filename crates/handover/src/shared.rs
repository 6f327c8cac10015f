//! What both services' clients share (kept apart from `store`, which uses
//! them, so that no module imports one that imports it back): the metadata
//! written with every object, and reading an object's properties back.

use crate::dest::Retention;
use crate::error::HandoverError;
use crate::http::Reply;
use crate::receipt::{ObjectReceipt, ReadBack, ReadBackStatus};
use m365_preserve_package::reader::PackageFile;

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

pub(crate) fn ascii(s: &str) -> String {
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
