//! The checksums the services validate, in the encodings they expect.
//!
//! - CRC-64/NVME (polynomial 0xad93d23594c93659, reflected, initial and final
//!   value all ones): S3's `x-amz-checksum-crc64nvme` is the Base64 of the
//!   big-endian value
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>);
//!   Azure's `x-ms-content-crc64` is the Base64 of the same CRC in little-endian
//!   byte order (<https://learn.microsoft.com/rest/api/storageservices/put-block>).
//! - MD5: `Content-MD5` is the Base64 of the digest (RFC 1864).
//! - SHA-256: S3's `x-amz-checksum-sha256` is the Base64 of the digest; the seal
//!   and the custody log use hex.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// CRC-64/NVME of `data`.
pub fn crc64(data: &[u8]) -> u64 {
    let mut d = crc64fast_nvme::Digest::new();
    d.write(data);
    d.sum64()
}

/// S3's encoding of a CRC-64/NVME.
pub fn crc64_s3(crc: u64) -> String {
    B64.encode(crc.to_be_bytes())
}

/// Azure's encoding of a CRC-64/NVME.
pub fn crc64_azure(crc: u64) -> String {
    B64.encode(crc.to_le_bytes())
}

/// `Content-MD5` of `data`.
pub fn md5_b64(data: &[u8]) -> String {
    B64.encode(Md5::digest(data))
}

/// Hex SHA-256 as Base64 (the seal's hash in S3's `x-amz-checksum-sha256` form).
pub fn hex_to_b64(hex_digest: &str) -> Option<String> {
    hex::decode(hex_digest).ok().map(|b| B64.encode(b))
}

/// The digests of a whole file, computed while it is read once.
pub struct Whole {
    sha256: Sha256,
    md5: Option<Md5>,
    crc64: crc64fast_nvme::Digest,
    size: u64,
}

/// What [`Whole`] computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeDigests {
    pub size: u64,
    pub sha256_hex: String,
    /// Base64, when asked for (Azure's `x-ms-blob-content-md5`).
    pub md5_b64: Option<String>,
    pub crc64: u64,
}

impl Whole {
    pub fn new(with_md5: bool) -> Self {
        Self {
            sha256: Sha256::new(),
            md5: with_md5.then(Md5::new),
            crc64: crc64fast_nvme::Digest::new(),
            size: 0,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(m) = &mut self.md5 {
            m.update(data);
        }
        self.crc64.write(data);
        self.size += data.len() as u64;
    }

    pub fn finish(self) -> WholeDigests {
        WholeDigests {
            size: self.size,
            sha256_hex: hex::encode(self.sha256.finalize()),
            md5_b64: self.md5.map(|m| B64.encode(m.finalize())),
            crc64: self.crc64.sum64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_nvme_check_value_and_byte_orders() {
        // The catalogue's check value of CRC-64/NVME over "123456789".
        assert_eq!(crc64(b"123456789"), 0xae8b_1486_0a79_9888);
        assert_eq!(crc64_s3(0xae8b_1486_0a79_9888), "rosUhgp5mIg=");
        assert_eq!(crc64_azure(0xae8b_1486_0a79_9888), "iJh5CoYUi64=");
    }

    #[test]
    fn whole_file_digests_match_one_shot_ones() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = Whole::new(true);
        for chunk in data.chunks(4093) {
            w.update(chunk);
        }
        let d = w.finish();
        assert_eq!(d.size, data.len() as u64);
        assert_eq!(d.crc64, crc64(&data));
        assert_eq!(d.md5_b64.as_deref(), Some(md5_b64(&data).as_str()));
        assert_eq!(
            hex_to_b64(&d.sha256_hex).unwrap(),
            B64.encode(Sha256::digest(&data))
        );
        assert_eq!(md5_b64(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
