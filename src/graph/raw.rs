//! Raw capture: every response body, byte for byte, beside a small JSON record
//! of the request and the headers that identify it (`raw/<source>/NNNNNN.*`).

use crate::hashing::sha256_hex;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What is kept about one HTTP exchange.
#[derive(Debug, Clone, Serialize)]
pub struct RawMeta {
    pub method: &'static str,
    pub url: String,
    pub attempt: u32,
    pub status: u16,
    pub received_at: String,
    pub date: Option<String>,
    pub request_id: Option<String>,
    pub client_request_id: String,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub size: u64,
    pub sha256: String,
    /// Set when the body could not be read to its end (it is kept as received).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// Writes raw responses under `<root>/raw/`.
pub struct RawSink {
    root: PathBuf,
    counters: Mutex<HashMap<String, u64>>,
}

impl RawSink {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.join("raw"),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Stores one response for `source`; returns its path relative to the root.
    pub fn store(&self, source: &str, mut meta: RawMeta, body: &[u8]) -> std::io::Result<String> {
        let n = {
            let mut c = self.counters.lock().expect("raw counter lock");
            let n = c.entry(source.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let dir = self.root.join(source);
        std::fs::create_dir_all(&dir)?;
        let ext = match meta.content_type.as_deref() {
            Some(ct) if ct.contains("json") => "json",
            Some(ct) if ct.contains("rfc822") || ct.starts_with("text/") => "txt",
            _ => "bin",
        };
        meta.size = body.len() as u64;
        meta.sha256 = sha256_hex(body);
        let stem = format!("{n:06}");
        write_new(&dir.join(format!("{stem}.{ext}")), body)?;
        let meta_json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
        write_new(&dir.join(format!("{stem}.meta.json")), &meta_json)?;
        Ok(format!("raw/{source}/{stem}.{ext}"))
    }
}

fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_data()
}
