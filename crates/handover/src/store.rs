//! The operations a hand-over needs, for either service: write a small object
//! in one request, write a large one in pieces, read properties back, read
//! bytes in place.

use crate::azure::Azure;
use crate::checksum::WholeDigests;
use crate::dest::Destination;
use crate::error::HandoverError;
use crate::http::Http;
use crate::plan::Service;
use crate::receipt::{ObjectReceipt, PartReceipt, ReadBack};
use crate::s3::S3;
pub(crate) use crate::shared::Meta;
use bytes::Bytes;
use url::Url;

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
    use crate::shared::ascii;

    #[test]
    fn metadata_values_are_ascii() {
        assert_eq!(ascii("IR-2026-042"), "IR-2026-042");
        assert_eq!(ascii("事件"), "%E4%BA%8B%E4%BB%B6");
    }
}
