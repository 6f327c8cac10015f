//! Azure Blob Storage over its REST API, authorised by the firm's SAS (no SDK,
//! no signing: the SAS is the credential).
//!
//! - Put Blob with `Content-MD5`, validated by the service, and `If-None-Match: *`
//!   (<https://learn.microsoft.com/rest/api/storageservices/put-blob>).
//! - Put Block with `x-ms-content-crc64`, validated by the service
//!   (<https://learn.microsoft.com/rest/api/storageservices/put-block>).
//! - Put Block List with `If-None-Match: *`, the whole blob's MD5 in
//!   `x-ms-blob-content-md5` (stored, not validated: the blocks were) and the
//!   metadata (<https://learn.microsoft.com/rest/api/storageservices/put-block-list>).
//! - Optional `x-ms-immutability-policy-until-date` / `-mode` where the container
//!   has version-level immutability
//!   (<https://learn.microsoft.com/azure/storage/blobs/immutable-version-level-worm-policies>).
//! - Get Blob Properties and Get Block List to read back, when the SAS has `r`
//!   (<https://learn.microsoft.com/rest/api/storageservices/get-block-list>).

use crate::checksum::{crc64_azure, md5_b64, WholeDigests};
use crate::dest::AzureDest;
use crate::error::HandoverError;
use crate::http::{Call, Http, Reply};
use crate::receipt::{
    Checksum, ChecksumRole, ObjectReceipt, PartReceipt, ReadBack, ReadBackStatus,
};
use crate::shared::{exists_error, expect, head_read_back, Meta};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use reqwest::Method;
use url::Url;

/// The REST API version every request asks for (2020-06-12 or later has
/// CRC-64 on Put Block and the immutability headers).
pub(crate) const API_VERSION: &str = "2021-12-02";

pub(crate) struct Azure {
    dest: AzureDest,
    pub(crate) http: Http,
    display: String,
}

/// A block id: the piece's number and CRC, so that a resumed upload only skips
/// a block staged with the same bytes. Fixed width, as every id of a blob must be.
pub(crate) fn block_id(number: u64, crc: u64) -> String {
    B64.encode(format!("{number:06}-{crc:016x}"))
}

impl Azure {
    pub fn new(dest: AzureDest, http: Http, display: String) -> Self {
        Self {
            dest,
            http,
            display,
        }
    }

    fn call(&self, method: Method, url: Url, what: String) -> Call {
        Call {
            method,
            url,
            headers: vec![("x-ms-version".into(), API_VERSION.into())],
            body: Bytes::new(),
            what,
        }
    }

    fn object_headers(meta: &Meta<'_>, headers: &mut Vec<(String, String)>) {
        headers.push(("If-None-Match".into(), "*".into()));
        for (k, v) in meta.pairs() {
            headers.push((format!("x-ms-meta-{k}"), v));
        }
        if let Some(r) = meta.retention {
            headers.push((
                "x-ms-immutability-policy-until-date".into(),
                r.until.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            ));
            headers.push((
                "x-ms-immutability-policy-mode".into(),
                r.mode.azure().into(),
            ));
        }
    }

    fn refused(&self, reply: Reply, name: &str, what: &str) -> HandoverError {
        exists_error(&reply, name, &self.display)
            .unwrap_or_else(|| reply.ok(what).expect_err("not a success"))
    }

    pub async fn put_blob(
        &self,
        name: &str,
        data: Bytes,
        meta: &Meta<'_>,
    ) -> Result<ObjectReceipt, HandoverError> {
        let md5 = md5_b64(&data);
        let size = data.len() as u64;
        let mut call = self.call(
            Method::PUT,
            self.dest.object_url(name),
            format!("uploading {name}"),
        );
        call.headers
            .push(("x-ms-blob-type".into(), "BlockBlob".into()));
        call.headers.push(("Content-MD5".into(), md5.clone()));
        call.headers
            .push(("x-ms-blob-content-type".into(), meta.content_type().into()));
        Self::object_headers(meta, &mut call.headers);
        call.body = data;
        let reply = self.http.send(&call).await?;
        if !reply.success() {
            return Err(self.refused(reply, name, &call.what));
        }
        let mut receipt = meta.receipt(name, size, &reply);
        receipt.checksums.push(Checksum {
            algorithm: "MD5".into(),
            value: md5,
            by_service: ChecksumRole::Validated,
            echoed: reply.header("content-md5"),
        });
        Ok(receipt)
    }

    pub async fn put_block(
        &self,
        name: &str,
        number: u64,
        data: Bytes,
        crc: u64,
    ) -> Result<PartReceipt, HandoverError> {
        let id = block_id(number, crc);
        let mut url = self.dest.object_url(name);
        url.query_pairs_mut()
            .append_pair("comp", "block")
            .append_pair("blockid", &id);
        let size = data.len() as u64;
        let mut call = self.call(Method::PUT, url, format!("block {number} of {name}"));
        call.headers
            .push(("x-ms-content-crc64".into(), crc64_azure(crc)));
        call.body = data;
        let reply = self.http.send(&call).await?.ok(&call.what)?;
        Ok(PartReceipt {
            number,
            size,
            crc64nvme: crc64_azure(crc),
            block_id: Some(id),
            etag: None,
            request_id: reply.header("x-ms-request-id"),
            attempts: reply.attempts,
        })
    }

    pub async fn put_block_list(
        &self,
        name: &str,
        parts: &[PartReceipt],
        whole: &WholeDigests,
        meta: &Meta<'_>,
    ) -> Result<Option<ObjectReceipt>, HandoverError> {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for p in parts {
            xml.push_str("<Latest>");
            xml.push_str(p.block_id.as_deref().unwrap_or_default());
            xml.push_str("</Latest>");
        }
        xml.push_str("</BlockList>");
        let mut url = self.dest.object_url(name);
        url.query_pairs_mut().append_pair("comp", "blocklist");
        let mut call = self.call(Method::PUT, url, format!("committing {name}"));
        call.headers
            .push(("Content-MD5".into(), md5_b64(xml.as_bytes())));
        call.headers
            .push(("x-ms-blob-content-type".into(), meta.content_type().into()));
        if let Some(md5) = &whole.md5_b64 {
            call.headers
                .push(("x-ms-blob-content-md5".into(), md5.clone()));
        }
        Self::object_headers(meta, &mut call.headers);
        call.body = Bytes::from(xml);
        let reply = self.http.send(&call).await?;
        if reply.status == 400 && reply.code() == "InvalidBlockList" {
            return Ok(None);
        }
        if !reply.success() {
            return Err(self.refused(reply, name, &call.what));
        }
        let mut receipt = meta.receipt(name, whole.size, &reply);
        receipt.checksums.push(Checksum {
            algorithm: "CRC64NVME".into(),
            value: "per block, see parts".into(),
            by_service: ChecksumRole::Validated,
            echoed: None,
        });
        if let Some(md5) = &whole.md5_b64 {
            receipt.checksums.push(Checksum {
                algorithm: "MD5".into(),
                value: md5.clone(),
                by_service: ChecksumRole::Stored,
                echoed: None,
            });
        }
        Ok(Some(receipt))
    }

    /// Get Blob Properties (size, MD5, metadata, immutability) and, for a blob
    /// sent in blocks, Get Block List (the committed blocks are the ones sent).
    pub async fn read_back(&self, r: &ObjectReceipt) -> Result<ReadBack, HandoverError> {
        if self.dest.sas_info.allows('r') == Some(false) {
            return Ok(ReadBack::new(ReadBackStatus::NotPermitted));
        }
        let what = format!("reading back {}", r.name);
        let reply = self
            .http
            .send(&self.call(Method::HEAD, self.dest.object_url(&r.name), what.clone()))
            .await?;
        let Some((mut back, reply)) = head_read_back(&what, reply, r, "x-ms-meta-")? else {
            return Ok(ReadBack::new(ReadBackStatus::NotPermitted));
        };
        let md5 = r
            .checksums
            .iter()
            .find(|c| c.algorithm == "MD5")
            .map(|c| c.value.clone());
        expect(
            &what,
            "Content-MD5",
            reply.header("content-md5"),
            md5,
            &mut back,
        )?;
        back.retention_mode = reply.header("x-ms-immutability-policy-mode");
        back.retain_until = reply.header("x-ms-immutability-policy-until-date");
        back.legal_hold = reply.header("x-ms-legal-hold");
        if !r.parts.is_empty() {
            let mut url = self.dest.object_url(&r.name);
            url.query_pairs_mut()
                .append_pair("comp", "blocklist")
                .append_pair("blocklisttype", "committed");
            let list = self
                .http
                .send(&self.call(Method::GET, url, what.clone()))
                .await?
                .ok(&what)?;
            let text = list.text();
            let ids: Vec<String> = text
                .split("<Name>")
                .skip(1)
                .filter_map(|s| s.split_once("</Name>").map(|(n, _)| n.to_string()))
                .collect();
            let planned: Vec<String> = r.parts.iter().filter_map(|p| p.block_id.clone()).collect();
            if ids != planned {
                return Err(HandoverError::Mismatch {
                    what,
                    why: format!(
                        "the committed block list ({} blocks) is not the one sent ({} blocks)",
                        ids.len(),
                        planned.len()
                    ),
                });
            }
            back.checks.push(format!(
                "committed block list = the {} blocks sent",
                ids.len()
            ));
        }
        Ok(back)
    }

    pub async fn exists(&self, name: &str) -> Result<bool, HandoverError> {
        let what = format!("looking for {name}");
        let reply = self
            .http
            .send(&self.call(Method::HEAD, self.dest.object_url(name), what.clone()))
            .await?;
        if reply.status == 404 {
            return Ok(false);
        }
        reply.ok(&what).map(|_| true)
    }

    pub fn get_request(&self, name: &str) -> (Url, Vec<(String, String)>) {
        (
            self.dest.object_url(name),
            vec![("x-ms-version".into(), API_VERSION.into())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ids_have_one_width_and_name_their_bytes() {
        let a = block_id(1, 0);
        let b = block_id(50_000, u64::MAX);
        assert_eq!(a.len(), b.len());
        assert!(B64.decode(&b).unwrap().len() <= 64);
        assert_ne!(block_id(1, 1), block_id(1, 2));
    }
}
