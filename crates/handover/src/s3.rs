//! Amazon S3 (and S3-compatible storage), requests signed by rusty-s3 (SigV4,
//! query-string signing with every `x-amz-*` header we send signed).
//!
//! - PutObject with `x-amz-checksum-sha256` (validated by the service) and
//!   `If-None-Match: *` (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>,
//!   <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).
//! - Multipart upload with `x-amz-checksum-algorithm: CRC64NVME` and
//!   `x-amz-checksum-type: FULL_OBJECT`, a `x-amz-checksum-crc64nvme` on every part
//!   and the whole object's on CompleteMultipartUpload, with `If-None-Match: *`
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>,
//!   <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>).
//! - Object Lock retention headers `x-amz-object-lock-mode` and
//!   `x-amz-object-lock-retain-until-date` when asked
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html>).
//! - HeadObject with `x-amz-checksum-mode: ENABLED` to read back.

use crate::checksum::{crc64_s3, hex_to_b64, WholeDigests};
use crate::dest::S3Dest;
use crate::error::HandoverError;
use crate::http::{xml_value, Call, Http, Reply};
use crate::receipt::{
    Checksum, ChecksumRole, ObjectReceipt, PartReceipt, ReadBack, ReadBackStatus,
};
use crate::shared::{exists_error, expect, head_read_back, Meta};
use bytes::Bytes;
use reqwest::Method;
use rusty_s3::{Bucket, S3Action};
use std::time::Duration;
use url::Url;

/// How long a signed request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(3600);

pub(crate) struct S3 {
    dest: S3Dest,
    bucket: Bucket,
    pub(crate) http: Http,
    display: String,
}

/// Headers to sign and send.
type Headers = Vec<(String, String)>;

/// Signs `action` with `headers` and makes the call.
fn signed<'a, A: S3Action<'a>>(mut action: A, headers: &'a Headers, what: String) -> Call {
    for (k, v) in headers {
        action.headers_mut().insert(k.as_str(), v.as_str());
    }
    Call {
        method: match A::METHOD {
            rusty_s3::Method::Put => Method::PUT,
            rusty_s3::Method::Post => Method::POST,
            rusty_s3::Method::Head => Method::HEAD,
            rusty_s3::Method::Delete => Method::DELETE,
            rusty_s3::Method::Get => Method::GET,
        },
        url: action.sign(SIGNED_FOR),
        headers: headers.clone(),
        body: Bytes::new(),
        what,
    }
}

/// S3 sometimes answers 200 with an `<Error>` document (CompleteMultipartUpload).
fn error_in_body(reply: &Reply) -> bool {
    reply.success() && reply.text().contains("<Error>")
}

impl S3 {
    pub fn new(dest: S3Dest, http: Http, display: String) -> Self {
        let bucket = dest.bucket();
        Self {
            dest,
            bucket,
            http,
            display,
        }
    }

    fn object_headers(meta: &Meta<'_>, headers: &mut Headers) {
        headers.push(("content-type".into(), meta.content_type().into()));
        for (k, v) in meta.pairs() {
            headers.push((format!("x-amz-meta-{k}"), v));
        }
        if let Some(r) = meta.retention {
            headers.push(("x-amz-object-lock-mode".into(), r.mode.s3().into()));
            headers.push(("x-amz-object-lock-retain-until-date".into(), r.until_iso()));
        }
    }

    fn refused(&self, reply: Reply, name: &str, what: &str) -> HandoverError {
        exists_error(&reply, name, &self.display).unwrap_or_else(|| {
            if error_in_body(&reply) {
                let code = reply.code();
                return HandoverError::Refused {
                    what: what.to_string(),
                    status: reply.status,
                    refusal: crate::Refusal::of(400, &code),
                    code,
                };
            }
            reply.ok(what).expect_err("not a success")
        })
    }

    pub async fn put_object(
        &self,
        name: &str,
        data: Bytes,
        meta: &Meta<'_>,
    ) -> Result<ObjectReceipt, HandoverError> {
        let sha = hex_to_b64(meta.sha256).unwrap_or_default();
        let mut headers: Headers = vec![
            ("x-amz-checksum-sha256".into(), sha.clone()),
            ("x-amz-sdk-checksum-algorithm".into(), "SHA256".into()),
            ("if-none-match".into(), "*".into()),
        ];
        Self::object_headers(meta, &mut headers);
        let size = data.len() as u64;
        let mut call = signed(
            self.bucket.put_object(Some(&self.dest.credentials), name),
            &headers,
            format!("uploading {name}"),
        );
        call.body = data;
        let reply = self.http.send(&call).await?;
        if !reply.success() {
            return Err(self.refused(reply, name, &call.what));
        }
        let mut receipt = meta.receipt(name, size, &reply);
        receipt.checksums.push(Checksum {
            algorithm: "SHA256".into(),
            value: sha,
            by_service: ChecksumRole::Validated,
            echoed: reply.header("x-amz-checksum-sha256"),
        });
        Ok(receipt)
    }

    pub async fn create_upload(
        &self,
        name: &str,
        meta: &Meta<'_>,
    ) -> Result<String, HandoverError> {
        let mut headers: Headers = vec![
            ("x-amz-checksum-algorithm".into(), "CRC64NVME".into()),
            ("x-amz-checksum-type".into(), "FULL_OBJECT".into()),
        ];
        Self::object_headers(meta, &mut headers);
        let call = signed(
            self.bucket
                .create_multipart_upload(Some(&self.dest.credentials), name),
            &headers,
            format!("starting the upload of {name}"),
        );
        let reply = self.http.send(&call).await?;
        if !reply.success() || error_in_body(&reply) {
            return Err(self.refused(reply, name, &call.what));
        }
        xml_value(&reply.text(), "UploadId").ok_or_else(|| HandoverError::Unreadable {
            what: call.what.clone(),
            why: "no UploadId in the answer".into(),
        })
    }

    pub async fn upload_part(
        &self,
        name: &str,
        upload: &str,
        number: u64,
        data: Bytes,
        crc: u64,
    ) -> Result<PartReceipt, HandoverError> {
        let headers: Headers = vec![
            ("x-amz-checksum-crc64nvme".into(), crc64_s3(crc)),
            ("x-amz-sdk-checksum-algorithm".into(), "CRC64NVME".into()),
        ];
        let size = data.len() as u64;
        let part = u16::try_from(number).expect("at most 10,000 parts (planned)");
        let mut call = signed(
            self.bucket
                .upload_part(Some(&self.dest.credentials), name, part, upload),
            &headers,
            format!("part {number} of {name}"),
        );
        call.body = data;
        let reply = self.http.send(&call).await?;
        if reply.status == 404 {
            // NoSuchUpload: the upload expired or was aborted.
            return Err(HandoverError::Refused {
                what: call.what.clone(),
                status: 404,
                code: reply.code(),
                refusal: crate::Refusal::NotFound,
            });
        }
        let reply = reply.ok(&call.what)?;
        Ok(PartReceipt {
            number,
            size,
            crc64nvme: crc64_s3(crc),
            block_id: None,
            etag: reply.header_raw("etag"),
            request_id: reply.header("x-amz-request-id"),
            attempts: reply.attempts,
        })
    }

    pub async fn complete(
        &self,
        name: &str,
        upload: &str,
        parts: &[PartReceipt],
        whole: &WholeDigests,
        meta: &Meta<'_>,
    ) -> Result<Option<ObjectReceipt>, HandoverError> {
        let mut xml = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for p in parts {
            xml.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag><ChecksumCRC64NVME>{}</ChecksumCRC64NVME></Part>",
                p.number,
                xml_escape(p.etag.as_deref().unwrap_or_default()),
                p.crc64nvme
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let crc = crc64_s3(whole.crc64);
        let headers: Headers = vec![
            ("x-amz-checksum-crc64nvme".into(), crc.clone()),
            ("x-amz-checksum-type".into(), "FULL_OBJECT".into()),
            ("if-none-match".into(), "*".into()),
        ];
        let mut call = signed(
            self.bucket.complete_multipart_upload(
                Some(&self.dest.credentials),
                name,
                upload,
                std::iter::empty::<&str>(),
            ),
            &headers,
            format!("completing the upload of {name}"),
        );
        call.body = Bytes::from(xml);
        let reply = self.http.send(&call).await?;
        let code = reply.code();
        if (reply.status == 404 && code == "NoSuchUpload")
            || (reply.status == 400 && code == "InvalidPart")
        {
            return Ok(None);
        }
        if !reply.success() || error_in_body(&reply) {
            return Err(self.refused(reply, name, &call.what));
        }
        let text = reply.text();
        let mut receipt = meta.receipt(name, whole.size, &reply);
        if let Some(etag) = xml_value(&text, "ETag") {
            receipt.etag = Some(etag.replace("&quot;", "\""));
        }
        let echoed = xml_value(&text, "ChecksumCRC64NVME");
        if let Some(e) = &echoed {
            if *e != crc {
                return Err(HandoverError::Mismatch {
                    what: call.what.clone(),
                    why: format!(
                        "the service computed CRC-64/NVME {e} for the whole object, {crc} was sent"
                    ),
                });
            }
        }
        receipt.checksums.push(Checksum {
            algorithm: "CRC64NVME".into(),
            value: crc,
            by_service: ChecksumRole::Validated,
            echoed,
        });
        Ok(Some(receipt))
    }

    pub async fn read_back(&self, r: &ObjectReceipt) -> Result<ReadBack, HandoverError> {
        let what = format!("reading back {}", r.name);
        let headers: Headers = vec![("x-amz-checksum-mode".into(), "ENABLED".into())];
        let call = signed(
            self.bucket
                .head_object(Some(&self.dest.credentials), &r.name),
            &headers,
            what.clone(),
        );
        let reply = self.http.send(&call).await?;
        let Some((mut back, reply)) = head_read_back(&what, reply, r, "x-amz-meta-")? else {
            return Ok(ReadBack::new(ReadBackStatus::NotPermitted));
        };
        for c in &r.checksums {
            let header = format!("x-amz-checksum-{}", c.algorithm.to_ascii_lowercase());
            expect(
                &what,
                &header,
                reply.header(&header),
                Some(c.value.clone()),
                &mut back,
            )?;
        }
        back.retention_mode = reply.header("x-amz-object-lock-mode");
        back.retain_until = reply.header("x-amz-object-lock-retain-until-date");
        back.legal_hold = reply.header("x-amz-object-lock-legal-hold");
        if let Some(want) = r.retention {
            if back.retention_mode.as_deref() != Some(want.mode.s3()) {
                return Err(HandoverError::Mismatch {
                    what,
                    why: format!(
                        "Object Lock mode is {}, {} was asked for (is Object Lock enabled on the bucket?)",
                        back.retention_mode.as_deref().unwrap_or("not set"),
                        want.mode.s3()
                    ),
                });
            }
            back.checks.push(format!(
                "Object Lock {} until {}",
                want.mode.s3(),
                back.retain_until.as_deref().unwrap_or("?")
            ));
        }
        Ok(back)
    }

    pub async fn exists(&self, name: &str) -> Result<bool, HandoverError> {
        let what = format!("looking for {name}");
        let headers: Headers = Vec::new();
        let call = signed(
            self.bucket.head_object(Some(&self.dest.credentials), name),
            &headers,
            what.clone(),
        );
        let reply = self.http.send(&call).await?;
        // Without s3:ListBucket, S3 answers 403 for a key that does not exist.
        if matches!(reply.status, 403 | 404) {
            return Ok(false);
        }
        reply.ok(&what).map(|_| true)
    }

    pub fn get_request(&self, name: &str) -> (Url, Vec<(String, String)>) {
        let headers: Headers = Vec::new();
        let call = signed(
            self.bucket.get_object(Some(&self.dest.credentials), name),
            &headers,
            String::new(),
        );
        (call.url, Vec::new())
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}
