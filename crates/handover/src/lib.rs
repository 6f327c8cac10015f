//! m365-preserve's hand-over: a sealed package uploaded into the receiving
//! firm's cloud storage, every byte checked by the service on the way in, a
//! signed receipt in the custody log, and the package read in place later.
//!
//! - **Azure Blob Storage** through a container SAS URL
//!   (`https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]?SAS`): the small
//!   files by Put Blob with `Content-MD5`, the archive by Put Block with a
//!   per-block `x-ms-content-crc64` that the service validates, then Put Block
//!   List; every write carries `If-None-Match: *`, so nothing is overwritten
//!   (<https://learn.microsoft.com/rest/api/storageservices/put-blob>,
//!   <https://learn.microsoft.com/rest/api/storageservices/put-block>,
//!   <https://learn.microsoft.com/rest/api/storageservices/put-block-list>).
//! - **Amazon S3** and S3-compatible storage (`s3://BUCKET[/PREFIX]`, credentials
//!   from the usual AWS environment variables or profile, endpoint from
//!   `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`): PutObject with
//!   `x-amz-checksum-sha256`, or a multipart upload with a CRC-64/NVME on every
//!   part and on the whole object, `If-None-Match: *`, and Object Lock retention
//!   when asked (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>,
//!   <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>,
//!   <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html>).
//!
//! Uploads stream from disk with bounded memory, run pieces in parallel, resume
//! from a journal next to the package, and upload the custody log last, after a
//! signed `transferred` event holding every receipt. No secret (the SAS
//! signature, keys) is written to any output, log, error or custody line.

mod azure;
pub mod checksum;
pub mod dest;
mod error;
mod http;
mod journal;
pub mod plan;
pub mod receipt;
pub mod remote;
mod s3;
mod send;
mod shared;
mod store;

pub use dest::{Destination, Retention, RetentionMode};
pub use error::{HandoverError, Refusal};
pub use remote::{Location, RemotePackage};
pub use send::{send, SendOptions, SendReport};
