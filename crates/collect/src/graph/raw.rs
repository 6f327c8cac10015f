//! Raw capture: every response body, byte for byte, beside a small JSON record
//! of the request and the headers that identify it (`raw/<source>/NNNNNN.*`).

use m365_preserve_package::hashing::sha256_hex;
use m365_preserve_package::layout;
use m365_preserve_package::workdir::WorkDir;
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
    /// The Exchange cmdlet an InvokeCommand ran, as PowerShell writes it (its
    /// URL is the same for every cmdlet; the body says which).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdlet: Option<String>,
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

/// Writes raw responses under the work folder's `raw/`.
pub struct RawSink {
    root: PathBuf,
    counters: Mutex<HashMap<String, u64>>,
}

impl RawSink {
    pub fn new(workdir: &WorkDir) -> Self {
        Self {
            root: workdir.raw_dir(),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Stores one response in `raw/<folder>/`; returns its package path.
    pub fn store(&self, folder: &str, mut meta: RawMeta, body: &[u8]) -> std::io::Result<String> {
        let source = folder;
        let dir = self.root.join(source);
        let n = {
            let mut c = self.counters.lock().expect("raw counter lock");
            // A resumed collection continues after the responses already kept.
            let n = c
                .entry(source.to_string())
                .or_insert_with(|| highest_number(&dir));
            *n += 1;
            *n
        };
        fs_err::create_dir_all(&dir)?;
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
        Ok(layout::raw(source, &format!("{stem}.{ext}")))
    }
}

/// The largest `NNNNNN` among the files of `dir` (0 when there are none).
fn highest_number(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .split('.')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RawMeta {
        RawMeta {
            method: "GET",
            url: "https://graph.microsoft.com/v1.0/x".into(),
            cmdlet: None,
            attempt: 1,
            status: 200,
            received_at: "2026-11-25T00:00:00Z".into(),
            date: None,
            request_id: Some("r".into()),
            client_request_id: "c".into(),
            content_type: Some("application/json".into()),
            retry_after: None,
            size: 0,
            sha256: String::new(),
            incomplete: None,
        }
    }

    #[test]
    fn keeps_bodies_and_continues_numbering_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let sink = RawSink::new(&WorkDir::at(dir.path()));
        assert_eq!(
            sink.store("user", meta(), b"{\"a\":1}").unwrap(),
            "raw/user/000001.json"
        );
        assert_eq!(
            sink.store("user", meta(), b"{}").unwrap(),
            "raw/user/000002.json"
        );
        let again = RawSink::new(&WorkDir::at(dir.path()));
        assert_eq!(
            again.store("user", meta(), b"{}").unwrap(),
            "raw/user/000003.json"
        );
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("raw/user/000001.meta.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(m["sha256"], sha256_hex(b"{\"a\":1}"));
        assert_eq!(m["size"], 7);
    }
}
