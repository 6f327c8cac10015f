//! Sending a package: the archive, the seal and its signature, then a signed
//! `transferred` custody event holding every receipt, then the custody log.
//! Resumable through the journal; never overwrites.

use crate::checksum::{crc64_azure, crc64_s3, Whole, WholeDigests};
use crate::dest::{Access, Destination, Retention};
use crate::error::HandoverError;
use crate::journal::{InProgress, Journal};
use crate::plan::{Plan, Service};
use crate::receipt::{ObjectReceipt, ReadBackStatus};
use crate::store::{Meta, Store};
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use m365_preserve_package::acquisition::Host;
use m365_preserve_package::custody::{chain_line, check_chain, CustodyAction, CustodyEvent};
use m365_preserve_package::hashing::sha256_hex;
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::reader::PackageFile;
use m365_preserve_package::seal::{Seal, SealProgress};
use m365_preserve_package::signing::SigningKey;
use serde::Serialize;
use serde_json::json;
use std::io::{Read, Write};
use std::path::Path;

/// How to send.
pub struct SendOptions<'a> {
    /// Who sends (recorded in the custody event).
    pub by: String,
    pub note: Option<String>,
    pub retention: Option<Retention>,
    /// Piece size (default: the planner's).
    pub part_size: Option<u64>,
    /// Pieces in flight at once (reduced for very large pieces).
    pub parallel: usize,
    /// Signs the custody event.
    pub signing_key: &'a SigningKey,
    pub progress: &'a dyn SealProgress,
}

/// What a send did.
#[derive(Debug, Clone, Serialize)]
pub struct SendReport {
    pub destination: String,
    /// An earlier, interrupted run was continued.
    pub resumed: bool,
    /// The four objects, the custody log last.
    pub objects: Vec<ObjectReceipt>,
    /// The `transferred` event's sequence number in the custody log.
    pub custody_event: u64,
    pub signer_fingerprint: String,
    pub warnings: Vec<String>,
}

fn local(path: &Path) -> impl FnOnce(std::io::Error) -> HandoverError + '_ {
    move |source| HandoverError::Local {
        path: path.to_path_buf(),
        source,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sends the package `paths` to `dest`.
pub async fn send(
    paths: &PackagePaths,
    dest: &Destination,
    opts: &SendOptions<'_>,
) -> Result<SendReport, HandoverError> {
    let mut warnings = dest.check(Access::Write, chrono::Utc::now())?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let seal_bytes = std::fs::read(&paths.seal).map_err(local(&paths.seal))?;
    let seal: Seal = serde_json::from_slice(&seal_bytes).map_err(|e| HandoverError::Local {
        path: paths.seal.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not a seal: {e}")),
    })?;
    let store = Store::new(dest)?;
    let mut journal = Journal::open(paths, &dest.display()).map_err(|e| HandoverError::Local {
        path: paths.ciphertext.clone(),
        source: e,
    })?;
    if journal.resumed {
        tracing::info!(
            "continuing the interrupted send to {} ({} of 4 files already there)",
            dest.display(),
            journal.state.committed.len()
        );
    }
    let total: u64 = PackageFile::ALL
        .iter()
        .map(|f| {
            std::fs::metadata(paths.path(*f))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    opts.progress.begin(total);
    let sender = Sender {
        store: &store,
        dest,
        seal: &seal,
        opts,
    };
    let mut objects = Vec::new();
    for file in [
        PackageFile::Ciphertext,
        PackageFile::Seal,
        PackageFile::Signature,
    ] {
        let r = sender.file(&mut journal, paths, file).await?;
        objects.push(r);
    }
    let mut unread = false;
    for r in &mut objects {
        if r.read_back.is_none() {
            let back = store.read_back(r).await?;
            unread |= back.status == ReadBackStatus::NotPermitted;
            r.read_back = Some(back);
        }
    }
    if unread {
        warnings.push("the credential cannot read back (write-only): the service checked every checksum on arrival; the firm confirms with `m365-preserve verify` on its side".into());
    }
    // The event holding the receipts, once; then the log, last.
    let custody_name = dest.object_name(&file_name(&paths.custody));
    let line = match journal.state.custody_line.clone() {
        Some(l) => l,
        None => {
            let line =
                sender.event(paths, &seal_bytes, &objects, &custody_name, journal.resumed)?;
            journal.state.custody_line = Some(line.clone());
            journal.save().map_err(local(journal.path()))?;
            line
        }
    };
    let seq = append_once(&paths.custody, &line)?;
    let custody = sender
        .file(&mut journal, paths, PackageFile::Custody)
        .await?;
    objects.push(custody);
    let resumed = journal.resumed;
    journal.remove().map_err(local(&paths.ciphertext))?;
    opts.progress.end();
    Ok(SendReport {
        destination: dest.display(),
        resumed,
        objects,
        custody_event: seq,
        signer_fingerprint: opts.signing_key.fingerprint(),
        warnings,
    })
}

/// Appends `line` to the local custody log unless it is there already;
/// returns its sequence number.
fn append_once(path: &Path, line: &str) -> Result<u64, HandoverError> {
    let text = std::fs::read_to_string(path).map_err(local(path))?;
    if let Some(n) = text.lines().position(|l| l == line) {
        return Ok(n as u64 + 1);
    }
    let prev = text.lines().last().map(|l| sha256_hex(l.as_bytes()));
    let event: CustodyEvent = serde_json::from_str(line).expect("our own line");
    if prev.as_deref() != Some(event.prev.as_str()) {
        return Err(HandoverError::CustodyBroken {
            path: path.display().to_string(),
            line: text.lines().count(),
            problem: "the log changed since the interrupted send recorded its transfer; remove the .send-*.json journal next to the package and send again".into(),
        });
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(local(path))?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(local(path))?;
    Ok(event.seq)
}

struct Sender<'a> {
    store: &'a Store,
    dest: &'a Destination,
    seal: &'a Seal,
    opts: &'a SendOptions<'a>,
}

impl Sender<'_> {
    /// Sends one file (or takes its receipt from the journal).
    async fn file(
        &self,
        journal: &mut Journal,
        paths: &PackagePaths,
        file: PackageFile,
    ) -> Result<ObjectReceipt, HandoverError> {
        let path = paths.path(file);
        if let Some(r) = journal.state.committed.get(file.as_str()) {
            self.opts.progress.advance(r.size);
            return Ok(r.clone());
        }
        let name = self.dest.object_name(&file_name(path));
        let size = std::fs::metadata(path).map_err(local(path))?.len();
        let plan = Plan::new(self.store.service(), size, self.opts.part_size)?;
        let receipt = if file != PackageFile::Ciphertext || plan.single() {
            let data = std::fs::read(path).map_err(local(path))?;
            let sha = sha256_hex(&data);
            if file == PackageFile::Ciphertext {
                self.check_sealed(&sha)?;
            }
            let meta = self.meta(file, &sha);
            let r = self
                .store
                .put_small(&name, Bytes::from(data), &meta)
                .await?;
            self.opts.progress.advance(size);
            r
        } else {
            self.pieces(journal, path, &name, plan).await?
        };
        journal
            .state
            .committed
            .insert(file.as_str().to_string(), receipt.clone());
        journal.save().map_err(local(journal.path()))?;
        Ok(receipt)
    }

    fn meta<'m>(&'m self, file: PackageFile, sha: &'m str) -> Meta<'m> {
        Meta {
            case_id: &self.seal.case_id,
            sha256: sha,
            file,
            retention: self.opts.retention,
        }
    }

    fn check_sealed(&self, sha: &str) -> Result<(), HandoverError> {
        if sha != self.seal.ciphertext.sha256 {
            return Err(HandoverError::CiphertextMismatch {
                read: sha.to_string(),
                sealed: self.seal.ciphertext.sha256.clone(),
            });
        }
        Ok(())
    }

    /// The archive in pieces: read once, in order, by one thread (whole-file
    /// hashes), uploaded by up to `in_flight` requests at once; pieces the
    /// journal holds with the same CRC are not sent again.
    async fn pieces(
        &self,
        journal: &mut Journal,
        path: &Path,
        name: &str,
        plan: Plan,
    ) -> Result<ObjectReceipt, HandoverError> {
        let sealed_sha = self.seal.ciphertext.sha256.clone();
        let meta = self.meta(PackageFile::Ciphertext, &sealed_sha);
        for round in 0..2 {
            let keep = journal.state.upload.as_ref().is_some_and(|u| {
                u.name == name && u.part_size == plan.part_size && u.parts == plan.parts
            });
            if !keep || round > 0 {
                journal.state.upload = Some(InProgress {
                    name: name.to_string(),
                    part_size: plan.part_size,
                    parts: plan.parts,
                    upload_id: None,
                    done: Default::default(),
                });
            }
            if journal
                .state
                .upload
                .as_ref()
                .is_some_and(|u| u.upload_id.is_none())
            {
                let id = self.store.begin(name, &meta).await?;
                journal.state.upload.as_mut().expect("set above").upload_id = id;
                journal.save().map_err(local(journal.path()))?;
            }
            let whole = self.send_pieces(journal, path, name, plan).await?;
            self.check_sealed(&whole.sha256_hex)?;
            let upload = journal.state.upload.clone().expect("set above");
            let parts: Vec<_> = upload.done.values().cloned().collect();
            match self
                .store
                .commit(name, upload.upload_id.as_deref(), &parts, &whole, &meta)
                .await?
            {
                Some(mut r) => {
                    r.part_size = Some(plan.part_size);
                    r.parts = parts;
                    journal.state.upload = None;
                    return Ok(r);
                }
                None => tracing::warn!(
                    "the service no longer holds the pieces sent earlier (expired after 7 days, or aborted); sending them again"
                ),
            }
        }
        Err(HandoverError::Unreadable {
            what: format!("committing {name}"),
            why: "the service refused the pieces it had just acknowledged".into(),
        })
    }

    async fn send_pieces(
        &self,
        journal: &mut Journal,
        path: &Path,
        name: &str,
        plan: Plan,
    ) -> Result<WholeDigests, HandoverError> {
        let service = self.store.service();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<(u64, Bytes, u64)>>(1);
        let file_path = path.to_path_buf();
        let reader =
            tokio::task::spawn_blocking(move || read_pieces(&file_path, plan, service, tx));
        let upload_id = journal
            .state
            .upload
            .as_ref()
            .and_then(|u| u.upload_id.clone());
        let limit = plan.in_flight(self.opts.parallel);
        let mut inflight = FuturesUnordered::new();
        let mut reading = true;
        let mut failure = None;
        loop {
            let can_read = reading && inflight.len() < limit;
            tokio::select! {
                msg = rx.recv(), if can_read => match msg {
                    Some(Ok((number, data, crc))) => {
                        let len = data.len() as u64;
                        let encoded = match service {
                            Service::AzureBlob => crc64_azure(crc),
                            Service::S3 => crc64_s3(crc),
                        };
                        let done = journal.state.upload.as_ref().and_then(|u| u.done.get(&number));
                        if done.is_some_and(|d| d.size == len && d.crc64nvme == encoded) {
                            self.opts.progress.advance(len);
                            continue;
                        }
                        let upload = upload_id.as_deref();
                        inflight.push(async move {
                            (len, self.store.put_part(name, upload, number, data, crc).await)
                        });
                    }
                    Some(Err(e)) => {
                        failure = Some(HandoverError::Local { path: path.to_path_buf(), source: e });
                        break;
                    }
                    None => reading = false,
                },
                Some((len, result)) = inflight.next(), if !inflight.is_empty() => match result {
                    Ok(receipt) => {
                        if let Some(u) = journal.state.upload.as_mut() {
                            u.done.insert(receipt.number, receipt);
                        }
                        journal.save().map_err(local(journal.path()))?;
                        self.opts.progress.advance(len);
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                },
                else => break,
            }
        }
        drop(rx);
        let whole = reader.await.expect("the reader does not panic");
        if let Some(e) = failure {
            return Err(e);
        }
        let whole = whole.map_err(local(path))?;
        let done = journal
            .state
            .upload
            .as_ref()
            .map_or(0, |u| u.done.len() as u64);
        if done != plan.parts {
            return Err(HandoverError::Unreadable {
                what: format!("sending {name}"),
                why: format!("{done} of {} pieces acknowledged", plan.parts),
            });
        }
        Ok(whole)
    }

    /// The signed `transferred` event after the custody log's last line.
    fn event(
        &self,
        paths: &PackagePaths,
        seal_bytes: &[u8],
        objects: &[ObjectReceipt],
        custody_name: &str,
        resumed: bool,
    ) -> Result<String, HandoverError> {
        let text = std::fs::read_to_string(&paths.custody).map_err(local(&paths.custody))?;
        let chain = check_chain(
            &text,
            &sha256_hex(seal_bytes),
            true,
            Some(&self.seal.ciphertext.sha256),
        );
        if let Some(p) = chain.problems.first() {
            return Err(HandoverError::CustodyBroken {
                path: paths.custody.display().to_string(),
                line: p.line,
                problem: p.problem.clone(),
            });
        }
        let observed = objects
            .iter()
            .find(|o| o.file == PackageFile::Ciphertext.as_str())
            .map(|o| o.sha256.clone())
            .unwrap_or_default();
        let mut ev = CustodyEvent::new(CustodyAction::Transferred, &self.opts.by);
        ev.to = Some(self.dest.display());
        ev.method = Some(self.dest.method());
        ev.note = self.opts.note.clone();
        ev.host = Some(Host::this().hostname);
        ev.matches_seal = Some(observed == self.seal.ciphertext.sha256);
        ev.ciphertext_sha256 = Some(observed);
        ev.details = Some(json!({
            "destination": self.dest.record(),
            "retention": self.opts.retention,
            "objects": objects,
            "custody_object": custody_name,
            "resumed": resumed,
        }));
        let seq = chain.events.len() as u64 + 1;
        Ok(chain_line(
            ev,
            seq,
            text.lines().last(),
            "",
            Some(self.opts.signing_key),
        ))
    }
}

/// Reads the planned pieces in order: each with its CRC-64/NVME; the whole
/// file's digests at the end (MD5 too for Azure's `x-ms-blob-content-md5`).
fn read_pieces(
    path: &Path,
    plan: Plan,
    service: Service,
    tx: tokio::sync::mpsc::Sender<std::io::Result<(u64, Bytes, u64)>>,
) -> std::io::Result<WholeDigests> {
    let mut f = std::fs::File::open(path)?;
    let mut whole = Whole::new(service == Service::AzureBlob);
    for i in 0..plan.parts {
        let r = plan.range(i);
        let mut buf = vec![0u8; (r.end - r.start) as usize];
        if let Err(e) = f.read_exact(&mut buf) {
            let _ = tx.blocking_send(Err(std::io::Error::new(
                e.kind(),
                format!("{e} (the file is shorter than when the send started)"),
            )));
            return Err(e);
        }
        whole.update(&buf);
        let crc = crate::checksum::crc64(&buf);
        if tx
            .blocking_send(Ok((i + 1, Bytes::from(buf), crc)))
            .is_err()
        {
            // The uploads stopped; the caller reports why.
            break;
        }
    }
    // Bytes past the plan (the file grew) change the SHA-256, which is then
    // refused against the seal.
    let mut rest = Vec::new();
    f.take(1 << 20).read_to_end(&mut rest)?;
    whole.update(&rest);
    Ok(whole.finish())
}
