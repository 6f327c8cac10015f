//! Reading a package in place: `verify URL`, `custody show URL`, `open URL`
//! stream the objects (one GET from where reading starts, a new ranged GET
//! only where the zip reader seeks away), and `custody record URL` appends by
//! writing a new custody object (`CASE_….custody.jsonl.2`, `.3`…), never by
//! overwriting one.

use crate::dest::{redact_url, Access, Destination, ProcessEnv};
use crate::error::{DestinationError, HandoverError};
use crate::http::Http;
use crate::receipt::ObjectReceipt;
use crate::store::{Meta, Store};
use bytes::Bytes;
use m365_preserve_package::hashing::sha256_hex;
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::reader::{PackageFile, PackageReader, ReadSeek};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::runtime::{Handle, Runtime};
use url::Url;

/// A package given on the command line: local files or objects in storage.
pub enum Location {
    Local(PackagePaths),
    Remote(Box<RemotePackage>),
}

/// Whether a command-line argument names storage rather than a local path:
/// anything that starts with a URL scheme and `://` (RFC 3986 section 3.1), so
/// that an unsupported or mistyped scheme is refused as a URL (its query may
/// hold a secret) instead of being echoed back as a missing file.
pub fn is_url(arg: &str) -> bool {
    arg.split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

impl Location {
    /// Local paths as before; `https://…?SAS` and `s3://…` naming any of the
    /// four objects are read in place.
    pub fn parse(arg: &std::ffi::OsStr) -> Result<Self, HandoverError> {
        match arg.to_str() {
            Some(s) if is_url(s) => RemotePackage::open(s).map(|r| Location::Remote(Box::new(r))),
            _ => Ok(Location::Local(PackagePaths::from_any(&PathBuf::from(arg)))),
        }
    }

    pub fn reader(&self) -> &dyn PackageReader {
        match self {
            Location::Local(p) => p,
            Location::Remote(r) => r.as_ref(),
        }
    }
}

/// A package's objects in a container or bucket.
pub struct RemotePackage {
    rt: Runtime,
    store: Arc<Store>,
    dest: Destination,
    base: String,
    /// Generation of the newest custody object: 1 is `.custody.jsonl`.
    custody_generation: u32,
}

/// The base name and custody generation of a package object's file name.
fn split_name(file: &str) -> Option<(String, u32)> {
    if let Some((stem, n)) = file.rsplit_once(".custody.jsonl.") {
        return n
            .parse()
            .ok()
            .filter(|n| *n >= 2)
            .map(|n| (stem.to_string(), n));
    }
    PackageFile::ALL
        .iter()
        .find_map(|f| file.strip_suffix(f.suffix()))
        .map(|b| (b.to_string(), 1))
}

impl RemotePackage {
    /// Opens the package that the URL's object belongs to and finds its
    /// newest custody object.
    pub fn open(url: &str) -> Result<Self, HandoverError> {
        let (folder, file) = split_url(url)?;
        let (base, _) =
            split_name(&file).ok_or_else(|| DestinationError::NotAPackageFile(file.clone()))?;
        let dest = Destination::parse(&folder, &ProcessEnv)?;
        dest.check(Access::Read, chrono::Utc::now())?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| HandoverError::Network {
                what: "starting the network runtime".into(),
                why: e.to_string(),
            })?;
        let store = Arc::new(Store::new(&dest)?);
        let mut pkg = Self {
            rt,
            store,
            dest,
            base,
            custody_generation: 1,
        };
        pkg.custody_generation = pkg.newest_custody()?;
        Ok(pkg)
    }

    fn name(&self, file: PackageFile) -> String {
        let mut n = self
            .dest
            .object_name(&format!("{}{}", self.base, file.suffix()));
        if file == PackageFile::Custody && self.custody_generation > 1 {
            n.push_str(&format!(".{}", self.custody_generation));
        }
        n
    }

    fn newest_custody(&self) -> Result<u32, HandoverError> {
        let first = self
            .dest
            .object_name(&format!("{}.custody.jsonl", self.base));
        let mut generation = 1;
        loop {
            let next = format!("{first}.{}", generation + 1);
            if !self.rt.block_on(self.store.exists(&next))? {
                return Ok(generation);
            }
            generation += 1;
        }
    }

    /// The newest custody object's name.
    pub fn custody_object(&self) -> String {
        self.name(PackageFile::Custody)
    }

    /// The destination, as displayed.
    pub fn destination(&self) -> String {
        self.dest.display()
    }

    /// Writes `text` (the whole log, with the new line) as the next custody
    /// object; the earlier ones stay as they are.
    pub fn write_custody(&mut self, text: String) -> Result<ObjectReceipt, HandoverError> {
        let first = self
            .dest
            .object_name(&format!("{}.custody.jsonl", self.base));
        let name = format!("{first}.{}", self.custody_generation + 1);
        let sha = sha256_hex(text.as_bytes());
        let case = self
            .base
            .rsplit_once('_')
            .map_or(self.base.as_str(), |(c, _)| c)
            .to_string();
        let meta = Meta {
            case_id: &case,
            sha256: &sha,
            file: PackageFile::Custody,
            retention: None,
        };
        let receipt = self
            .rt
            .block_on(self.store.put_small(&name, Bytes::from(text), &meta))?;
        self.custody_generation += 1;
        Ok(receipt)
    }
}

/// `(folder URL, file name)` of an object URL (query kept on the folder).
fn split_url(url: &str) -> Result<(String, String), HandoverError> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let (folder, file) = rest
            .rsplit_once('/')
            .ok_or_else(|| DestinationError::NotAPackageFile(url.to_string()))?;
        return Ok((format!("s3://{folder}"), file.to_string()));
    }
    let mut u = Url::parse(url).map_err(|e| DestinationError::NotAUrl(e.to_string()))?;
    let file = u
        .path_segments()
        .and_then(|mut s| s.next_back().map(String::from))
        .filter(|f| !f.is_empty())
        .ok_or_else(|| DestinationError::NotAPackageFile(redact_url(&u)))?;
    let shown = redact_url(&u);
    u.path_segments_mut()
        .map_err(|()| DestinationError::NotAPackageFile(shown))?
        .pop();
    Ok((u.to_string(), file))
}

impl PackageReader for RemotePackage {
    fn describe(&self, file: PackageFile) -> String {
        let name = self.name(file);
        match &self.dest {
            Destination::Azure(a) => redact_url(&a.object_url(&name)),
            Destination::S3(s) => format!("s3://{}/{name}", s.bucket),
        }
    }

    fn open(&self, file: PackageFile) -> io::Result<Box<dyn ReadSeek>> {
        let name = self.name(file);
        let (url, headers) = self.store.get_request(&name);
        Ok(Box::new(RemoteReader {
            handle: self.rt.handle().clone(),
            http: self.store.http().clone(),
            url,
            headers,
            what: format!("reading {}", self.describe(file)),
            size: None,
            pos: 0,
            stream: None,
            window: Vec::new(),
            window_start: 0,
        }))
    }
}

/// Bytes kept behind the read position, so short backward seeks (the zip and
/// age readers make them) need no new request.
const WINDOW: usize = 4 << 20;
/// Forward seeks up to this far read on rather than starting a new request.
const SKIP: u64 = 4 << 20;

/// A seekable reader over HTTP GETs.
struct RemoteReader {
    handle: Handle,
    http: Http,
    url: Url,
    headers: Vec<(String, String)>,
    what: String,
    size: Option<u64>,
    pos: u64,
    /// The open response and the offset of its next byte.
    stream: Option<(reqwest::Response, u64)>,
    /// Bytes `[window_start, window_start + window.len())`, ending where the stream is.
    window: Vec<u8>,
    window_start: u64,
}

fn io_err(e: HandoverError) -> io::Error {
    io::Error::other(e.to_string())
}

impl RemoteReader {
    fn start(&mut self, at: u64) -> io::Result<()> {
        let resp = self
            .handle
            .block_on(self.http.get_from(&self.url, &self.headers, at, &self.what))
            .map_err(io_err)?;
        let total = resp
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, t)| t.parse().ok())
            .or_else(|| (at == 0).then(|| resp.content_length()).flatten());
        if total.is_some() {
            self.size = total;
        }
        self.stream = Some((resp, at));
        self.window.clear();
        self.window_start = at;
        Ok(())
    }

    /// Pulls the next chunk into the window; false at the end.
    fn pull(&mut self) -> io::Result<bool> {
        let Some((resp, at)) = &mut self.stream else {
            return Ok(false);
        };
        let chunk = self
            .handle
            .block_on(resp.chunk())
            .map_err(|e| io::Error::other(format!("{}: {}", self.what, e.without_url())))?;
        let Some(chunk) = chunk else {
            return Ok(false);
        };
        *at += chunk.len() as u64;
        self.window.extend_from_slice(&chunk);
        if self.window.len() > WINDOW + chunk.len() {
            let cut = self.window.len() - WINDOW;
            self.window.drain(..cut);
            self.window_start += cut as u64;
        }
        Ok(true)
    }

    fn size(&mut self) -> io::Result<u64> {
        if self.size.is_none() {
            self.start(0)?;
        }
        self.size.ok_or_else(|| {
            io::Error::other(format!(
                "{}: the service did not say the object's size",
                self.what
            ))
        })
    }
}

impl Read for RemoteReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.size.is_some_and(|s| self.pos >= s) {
            return Ok(0);
        }
        loop {
            let end = self.window_start + self.window.len() as u64;
            if self.pos >= self.window_start && self.pos < end {
                let from = (self.pos - self.window_start) as usize;
                let n = buf.len().min(self.window.len() - from);
                buf[..n].copy_from_slice(&self.window[from..from + n]);
                self.pos += n as u64;
                return Ok(n);
            }
            let near = self.stream.is_some() && self.pos >= end && self.pos - end <= SKIP;
            if !near {
                self.start(self.pos)?;
            }
            if !self.pull()? {
                return Ok(0);
            }
        }
    }
}

impl Seek for RemoteReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.size()?.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_give_the_package_and_the_custody_generation() {
        assert_eq!(
            split_name("C_20261125T000000Z.zip.age"),
            Some(("C_20261125T000000Z".into(), 1))
        );
        assert_eq!(split_name("C_1.seal.json.sig"), Some(("C_1".into(), 1)));
        assert_eq!(split_name("C_1.custody.jsonl.3"), Some(("C_1".into(), 3)));
        assert_eq!(split_name("C_1.txt"), None);
        let (folder, file) =
            split_url("https://a.blob.core.windows.net/c/p/C_1.zip.age?sp=r&sig=x").unwrap();
        assert_eq!(folder, "https://a.blob.core.windows.net/c/p?sp=r&sig=x");
        assert_eq!(file, "C_1.zip.age");
        assert_eq!(
            split_url("s3://b/cases/C_1.seal.json").unwrap(),
            ("s3://b/cases".into(), "C_1.seal.json".into())
        );
        assert!(is_url("s3://b/x") && !is_url("out/C_1.zip.age"));
        // Any scheme counts, so that its query is never echoed as a path.
        assert!(is_url("ftp://h/C_1.zip.age?sig=x") && is_url("HTTPS://h/c/C_1.zip.age"));
        assert!(!is_url("C:\\evidence\\C_1.zip.age") && !is_url("://x") && !is_url("out/a://b"));
    }
}
