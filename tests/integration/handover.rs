//! `send`, `collect`/`import --send`, and `verify` / `custody` / `open` on URLs,
//! against real emulators started on 127.0.0.1 (installed by `.ci/run`):
//!
//! - Azurite (npm `azurite`): Azure Blob with a write-only SAS; a block whose
//!   bytes change on the way is rejected by the service and sent again; an
//!   interrupted send resumes; a second send refuses to overwrite; a read SAS
//!   verifies in place; the custody receipt matches; `custody record URL` writes
//!   a new object.
//! - Rustack (`cargo install rustack-cli`): S3 with SigV4 validated, multipart
//!   with CRC-64/NVME per part, Object Lock retention set and a delete refused
//!   by the bucket, `verify s3://...` passes.
//! - moto (PyPI `moto[server]`): `If-None-Match: *` refused with 412 (Rustack
//!   does not enforce it).
//!
//! Real-cloud tests run only with `M365_PRESERVE_TEST_AZURE_SAS` /
//! `M365_PRESERVE_TEST_S3` set (see the README).

use crate::common::{bin, have, package_in, text, Case};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use m365_preserve_package::paths::PackagePaths;
use serde_json::Value;
use sha2::Sha256;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when the test ends.
struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `url` answers anything over HTTP.
fn wait_http(server: &mut Server, port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(90) {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("{} exited early: {status}", server.1);
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let mut buf = [0u8; 16];
            if s.read(&mut buf).is_ok_and(|n| n > 0) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{} did not start on port {port}", server.1);
}

// ---------------------------------------------------------------- Azurite

/// Azurite's well-known development account and key.
const AZ_ACCOUNT: &str = "devstoreaccount1";
const AZ_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const AZ_SV: &str = "2021-12-02";

struct Azurite {
    _server: Server,
    port: u16,
}

fn hmac_b64(key: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(text.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Azurite {
    fn start() -> Option<Self> {
        if !have("azurite-blob") {
            return None;
        }
        let port = free_port();
        let child = Command::new("azurite-blob")
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--disableTelemetry"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("azurite-blob starts");
        let mut server = Server(child, "azurite-blob".into());
        wait_http(&mut server, port);
        Some(Self {
            _server: server,
            port,
        })
    }

    fn container_url(&self, container: &str) -> String {
        format!("http://127.0.0.1:{}/{AZ_ACCOUNT}/{container}", self.port)
    }

    /// A service SAS for the container with permissions `sp`.
    fn sas(&self, container: &str, sp: &str) -> String {
        let se = "2099-01-01T00:00:00Z";
        let resource = format!("/blob/{AZ_ACCOUNT}/{container}");
        let fields = [
            sp, "", se, &resource, "", "", "", AZ_SV, "c", "", "", "", "", "", "", "",
        ];
        let sig = hmac_b64(&B64.decode(AZ_KEY).unwrap(), &fields.join("\n"));
        query(&[
            ("sv", AZ_SV),
            ("sp", sp),
            ("se", se),
            ("sr", "c"),
            ("sig", &sig),
        ])
    }

    /// Creates a container (account SAS), returns its URL.
    fn create(&self, container: &str) -> String {
        let se = "2099-01-01T00:00:00Z";
        let fields = [
            AZ_ACCOUNT, "rwdlac", "b", "sco", "", se, "", "", AZ_SV, "", "",
        ];
        let sig = hmac_b64(&B64.decode(AZ_KEY).unwrap(), &fields.join("\n"));
        let q = query(&[
            ("sv", AZ_SV),
            ("ss", "b"),
            ("srt", "sco"),
            ("sp", "rwdlac"),
            ("se", se),
            ("sig", &sig),
        ]);
        let url = self.container_url(container);
        let status = http(
            "PUT",
            &format!("{url}?restype=container&{q}"),
            &[("x-ms-version", AZ_SV)],
            b"",
        )
        .0;
        assert_eq!(status, 201, "create container {container}");
        url
    }
}

/// A bare HTTP/1.1 request on loopback: (status, body).
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_empty() {
            req = req.header("content-length", "0");
        }
        let resp = req.body(body.to_vec()).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.bytes().await.unwrap().to_vec())
    })
}

/// Pseudo-random, incompressible bytes (so the sealed archive is as large).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A sealed package of about `mib` MiB.
fn package(case: &Case, mib: usize) -> PackagePaths {
    let ev = case.evidence();
    std::fs::write(ev.join("capture.bin"), noise(mib << 20, 42)).unwrap();
    case.seal(&ev, "out")
}

fn send(pkg: &PackagePaths, to: &str, extra: &[&str]) -> Output {
    bin()
        .arg("send")
        .arg(&pkg.ciphertext)
        .args(["--to", to, "--by", "佐藤 花子", "--part-size-mib", "4"])
        .args(extra)
        .output()
        .unwrap()
}

/// Everything a secret could leak into: the outputs, the package folder's
/// files, the custody log.
fn assert_no_secret(secret: &str, outputs: &[&Output], dirs: &[&Path]) {
    let encoded = query(&[("x", secret)]);
    let encoded = encoded.trim_start_matches("x=");
    for o in outputs {
        let t = text(o);
        assert!(
            !t.contains(secret) && !t.contains(encoded),
            "secret in output:\n{t}"
        );
    }
    for d in dirs {
        for f in crate::common::files_under(d) {
            let bytes = std::fs::read(&f).unwrap();
            let s = String::from_utf8_lossy(&bytes);
            assert!(
                !s.contains(secret) && !s.contains(encoded),
                "secret in {}",
                f.display()
            );
        }
    }
}

/// The signed `transferred` event of the local custody log.
fn transferred(pkg: &PackagePaths) -> Value {
    let log = std::fs::read_to_string(&pkg.custody).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("\"action\":\"transferred\""))
        .expect("a transferred event");
    serde_json::from_str(line).unwrap()
}

/// The receipts of the event match the files sent.
fn assert_receipts_match(pkg: &PackagePaths, event: &Value, part_size: u64) {
    let objects = event["details"]["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 3, "{event}");
    for (o, path) in objects
        .iter()
        .zip([&pkg.ciphertext, &pkg.seal, &pkg.signature])
    {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(o["name"].as_str().unwrap().ends_with(&*name), "{o}");
        assert_eq!(o["size"], bytes.len() as u64);
        assert_eq!(
            o["sha256"].as_str().unwrap(),
            m365_preserve_package::hashing::sha256_hex(&bytes)
        );
        assert!(o["etag"].is_string() && o["request_id"].is_string(), "{o}");
    }
    let ct = &objects[0];
    let parts = ct["parts"].as_array().unwrap();
    let size = ct["size"].as_u64().unwrap();
    assert_eq!(parts.len() as u64, size.div_ceil(part_size), "{ct}");
    assert_eq!(
        parts
            .iter()
            .map(|p| p["size"].as_u64().unwrap())
            .sum::<u64>(),
        size
    );
    assert_eq!(event["matches_seal"], true);
    let seal: Value = serde_json::from_slice(&std::fs::read(&pkg.seal).unwrap()).unwrap();
    assert_eq!(event["ciphertext_sha256"], seal["ciphertext"]["sha256"]);
}

/// A loopback proxy in front of a service that can change one Put Block's
/// bytes on the way, or stop answering after some blocks (an interruption).
struct Proxy {
    port: u16,
    blocks: Arc<AtomicUsize>,
    corrupt_next_block: Arc<AtomicBool>,
    hang_after: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Self {
            port,
            blocks: Arc::default(),
            corrupt_next_block: Arc::default(),
            hang_after: Arc::new(AtomicUsize::new(usize::MAX)),
        };
        let (blocks, corrupt, hang) = (
            proxy.blocks.clone(),
            proxy.corrupt_next_block.clone(),
            proxy.hang_after.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (blocks, corrupt, hang) = (blocks.clone(), corrupt.clone(), hang.clone());
                std::thread::spawn(move || {
                    let _ = relay(conn, upstream, &blocks, &corrupt, &hang);
                });
            }
        });
        proxy
    }

    fn url(&self, container_url: &str) -> String {
        container_url.replace(
            &format!(
                ":{}/",
                container_url
                    .split(':')
                    .nth(2)
                    .unwrap()
                    .split('/')
                    .next()
                    .unwrap()
            ),
            &format!(":{}/", self.port),
        )
    }
}

/// Relays HTTP/1.1 requests of one client connection, each on a new upstream
/// connection.
fn relay(
    mut client: TcpStream,
    upstream: u16,
    blocks: &AtomicUsize,
    corrupt: &AtomicBool,
    hang: &AtomicUsize,
) -> std::io::Result<()> {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if client.read(&mut byte)? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let head_text = String::from_utf8_lossy(&head).into_owned();
        let len: usize = head_text
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        client.read_exact(&mut body)?;
        let is_block = head_text.starts_with("PUT ") && head_text.contains("comp=block&");
        if is_block {
            if blocks.load(Ordering::SeqCst) >= hang.load(Ordering::SeqCst) {
                // Interrupted: never answer.
                std::thread::sleep(Duration::from_secs(3600));
            }
            if corrupt.swap(false, Ordering::SeqCst) && !body.is_empty() {
                body[len / 2] ^= 0xff;
            }
        }
        let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
        let head_close: String = head_text
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect::<Vec<_>>()
            .join("\r\n");
        let head_close = head_close.trim_end().to_string() + "\r\nConnection: close\r\n\r\n";
        up.write_all(head_close.as_bytes())?;
        up.write_all(&body)?;
        let mut response = Vec::new();
        up.read_to_end(&mut response)?;
        client.write_all(&response)?;
        if is_block && response.starts_with(b"HTTP/1.1 201") {
            blocks.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn azure_write_only_send_checked_by_the_service_then_verified_in_place() {
    let Some(az) = Azurite::start() else { return };
    let url = az.create("evidence");
    let case = Case::new();
    let pkg = package(&case, 14);
    let write_sas = az.sas("evidence", "cw");
    let proxy = Proxy::start(az.port);
    proxy.corrupt_next_block.store(true, Ordering::SeqCst);
    let to = format!("{}?{write_sas}", proxy.url(&url));
    let sent = send(&pkg, &to, &["--parallel", "2"]);
    assert!(sent.status.success(), "{}", text(&sent));
    let out = text(&sent);
    assert!(out.contains("rejected the checksum"), "{out}");
    assert!(out.contains("Custody event 2 (transferred)"), "{out}");
    // The changed block was refused by Azurite and sent again.
    let event = transferred(&pkg);
    assert_receipts_match(&pkg, &event, 4 << 20);
    let parts = event["details"]["objects"][0]["parts"]
        .as_array()
        .unwrap()
        .clone();
    assert!(parts.iter().any(|p| p["attempts"] == 2), "{parts:?}");
    assert!(parts
        .iter()
        .all(|p| p["crc64nvme"].is_string() && p["request_id"].is_string()));
    assert_eq!(event["details"]["destination"]["sas"]["permissions"], "cw");
    assert_eq!(event["to"], format!("{}", proxy.url(&url)));
    // Nothing of this send is left next to the package but the four files.
    assert_eq!(std::fs::read_dir(case.path("out")).unwrap().count(), 4);

    // The uploaded custody log is the local one, transferred event included.
    let read_sas = az.sas("evidence", "r");
    let name = pkg
        .custody
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (status, body) = http(
        "GET",
        &format!("{url}/{name}?{read_sas}"),
        &[("x-ms-version", AZ_SV)],
        b"",
    );
    assert_eq!(status, 200);
    assert_eq!(body, std::fs::read(&pkg.custody).unwrap());

    // A read SAS verifies in place, every check.
    let ct_name = pkg
        .ciphertext
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let remote = format!("{url}/{ct_name}?{read_sas}");
    let v = bin()
        .args(["verify", &remote, "-i"])
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", text(&v));
    assert!(
        text(&v).contains("Result: all 11 checks passed"),
        "{}",
        text(&v)
    );
    let shown = bin().args(["custody", "show", &remote]).output().unwrap();
    assert!(
        shown.status.success() && text(&shown).contains("transferred"),
        "{}",
        text(&shown)
    );

    // A second send to the same names refuses to overwrite.
    let again = send(&pkg, &format!("{url}?{write_sas}"), &[]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    assert!(
        text(&again).contains("refusing to overwrite"),
        "{}",
        text(&again)
    );

    // The firm records receipt in place: a new custody object, the first kept.
    let rc_sas = az.sas("evidence", "rc");
    let rec = bin()
        .args(["custody", "record", &format!("{url}/{ct_name}?{rc_sas}")])
        .args(["--action", "received", "--by", "Example IR K.K."])
        .output()
        .unwrap();
    assert!(rec.status.success(), "{}", text(&rec));
    assert!(text(&rec).contains(".custody.jsonl.2"), "{}", text(&rec));
    let (status, first) = http(
        "GET",
        &format!("{url}/{name}?{read_sas}"),
        &[("x-ms-version", AZ_SV)],
        b"",
    );
    assert_eq!((status, first), (200, std::fs::read(&pkg.custody).unwrap()));
    let v = bin().args(["verify", &remote]).output().unwrap();
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("3 events"), "{}", text(&v));

    let secret = write_sas.split("sig=").nth(1).unwrap();
    let secret = url::form_urlencoded::parse(format!("s={secret}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    assert_no_secret(&secret, &[&sent, &again], &[&case.path("out")]);
    let read_secret = read_sas.split("sig=").nth(1).unwrap();
    assert_no_secret(read_secret, &[&v, &shown, &rec], &[&case.path("out")]);
}

#[test]
fn azure_interrupted_send_resumes_with_the_blocks_not_yet_sent() {
    let Some(az) = Azurite::start() else { return };
    let url = az.create("resume");
    let case = Case::new();
    let pkg = package(&case, 14);
    let sas = az.sas("resume", "cw");
    let proxy = Proxy::start(az.port);
    proxy.hang_after.store(2, Ordering::SeqCst);
    let to = format!("{}?{sas}", proxy.url(&url));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("m365-preserve"))
        .arg("send")
        .arg(&pkg.ciphertext)
        .args([
            "--to",
            &to,
            "--part-size-mib",
            "4",
            "--parallel",
            "1",
            "--quiet",
        ])
        .spawn()
        .unwrap();
    let start = Instant::now();
    while proxy.blocks.load(Ordering::SeqCst) < 2 {
        assert!(start.elapsed() < Duration::from_secs(60), "no blocks sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap(); // interrupted, as by a closed laptop or Ctrl-C
    child.wait().unwrap();
    let journal = std::fs::read_dir(case.path("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".send-"))
        .expect("a send journal");
    let j: Value = serde_json::from_slice(&std::fs::read(&journal).unwrap()).unwrap();
    assert_eq!(j["upload"]["done"].as_object().unwrap().len(), 2, "{j}");
    // The journal left by the interrupted send holds no SAS signature.
    assert_no_secret(sig(&sas), &[], &[&case.path("out")]);
    assert!(
        !pkg.custody.exists()
            || !std::fs::read_to_string(&pkg.custody)
                .unwrap()
                .contains("transferred")
    );

    // The same command again: only the missing blocks go.
    proxy.hang_after.store(usize::MAX, Ordering::SeqCst);
    let before = proxy.blocks.load(Ordering::SeqCst);
    let again = send(&pkg, &to, &["--parallel", "1"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("continuing an interrupted send"),
        "{}",
        text(&again)
    );
    let total = std::fs::metadata(&pkg.ciphertext)
        .unwrap()
        .len()
        .div_ceil(4 << 20) as usize;
    assert_eq!(proxy.blocks.load(Ordering::SeqCst) - before, total - 2);
    assert!(!journal.exists());
    assert_receipts_match(&pkg, &transferred(&pkg), 4 << 20);
    let ct = pkg
        .ciphertext
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let v = bin()
        .args([
            "verify",
            &format!("{url}/{ct}?{}", az.sas("resume", "r")),
            "-i",
        ])
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(
        text(&v).contains("Result: all 11 checks passed"),
        "{}",
        text(&v)
    );
}

#[test]
fn import_send_uploads_right_after_sealing_and_records_no_sas() {
    let Some(az) = Azurite::start() else { return };
    let url = az.create("imports");
    let case = Case::new();
    let sas = az.sas("imports", "cw");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import/AuditLog_20261125_061500.csv");
    let o = bin()
        .arg("import")
        .arg(&fixture)
        .args(["--case", "IR-SEND", "--examiner", "佐藤 花子", "--out"])
        .arg(case.path("out"))
        .args([
            "--recipient",
            &case.age_public,
            "--send",
            &format!("{url}/IR-SEND?{sas}"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Sent to"), "{}", text(&o));
    let pkg = package_in(&case.path("out"));
    let ev = transferred(&pkg);
    assert!(ev["details"]["objects"][0]["name"]
        .as_str()
        .unwrap()
        .starts_with("IR-SEND/"));
    // acquisition.json inside the package records the command line: without the SAS.
    let opened = case.path("opened");
    let op = bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .arg("--to")
        .arg(&opened)
        .output()
        .unwrap();
    assert!(op.status.success(), "{}", text(&op));
    let acq = std::fs::read_to_string(opened.join("acquisition.json")).unwrap();
    assert!(acq.contains("?<redacted>"), "{acq}");
    let secret = sas.split("sig=").nth(1).unwrap();
    assert_no_secret(secret, &[&o, &op], &[&case.path("out"), &opened]);
}

/// The `sig` value of a SAS query, as it appears in the query (URL-encoded).
fn sig(sas: &str) -> &str {
    sas.split("sig=").nth(1).unwrap().split('&').next().unwrap()
}

#[test]
fn no_secret_in_trace_logs_errors_or_help() {
    let Some(az) = Azurite::start() else { return };
    let url = az.create("traced");
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let (write_sas, read_sas) = (az.sas("traced", "cw"), az.sas("traced", "r"));
    // -vv: every log line of the tool and of its HTTP stack, on stderr.
    let sent = bin()
        .args(["-vv", "send"])
        .arg(&pkg.ciphertext)
        .args(["--to", &format!("{url}?{write_sas}")])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", text(&sent));
    assert!(text(&sent).contains("TRACE"), "{}", text(&sent));
    let ct = pkg.ciphertext.file_name().unwrap().to_string_lossy();
    let verified = bin()
        .args(["-vv", "verify", &format!("{url}/{ct}?{read_sas}"), "-i"])
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", text(&verified));
    // Refused: a read SAS for sending, a write SAS for reading, the service's
    // 403 for a changed signature, an unsupported scheme, an unreachable host.
    let refused: Vec<Output> = [
        ("send", format!("{url}?{read_sas}")),
        ("verify", format!("{url}/{ct}?{write_sas}")),
        (
            "verify",
            format!("{url}/{ct}?{}", read_sas.replace("sig=", "sig=AAAA")),
        ),
        ("verify", format!("ftp://127.0.0.1/traced/{ct}?{read_sas}")),
        ("custody", format!("HTTPS://127.0.0.1:1/x/{ct}?{read_sas}")),
        (
            "send",
            format!("http://127.0.0.1:1/{AZ_ACCOUNT}/x?{write_sas}"),
        ),
    ]
    .into_iter()
    .map(|(cmd, u)| {
        let mut c = bin();
        match cmd {
            "send" => c.args(["-vv", "send"]).arg(&pkg.seal).args(["--to", &u]),
            "custody" => c.args(["-vv", "custody", "show", &u]),
            _ => c.args(["-vv", "verify", &u]),
        };
        let o = c.output().unwrap();
        assert!(!o.status.success(), "{cmd} {u}: {}", text(&o));
        o
    })
    .collect();
    // --help shows the environment variables, never the values that hold a SAS.
    let help = bin()
        .args(["send", "--help"])
        .env("M365_PRESERVE_SEND_TO", format!("{url}?{write_sas}"))
        .output()
        .unwrap();
    let import_help = bin()
        .args(["import", "--help"])
        .env("M365_PRESERVE_SEND", format!("{url}?{write_sas}"))
        .output()
        .unwrap();
    assert!(
        text(&help).contains("M365_PRESERVE_SEND_TO"),
        "{}",
        text(&help)
    );
    let mut outputs: Vec<&Output> = vec![&sent, &verified, &help, &import_help];
    outputs.extend(refused.iter());
    for secret in [sig(&write_sas), sig(&read_sas)] {
        let decoded = url::form_urlencoded::parse(format!("s={secret}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert_no_secret(secret, &outputs, &[&case.path("out")]);
        assert_no_secret(&decoded, &outputs, &[&case.path("out")]);
    }
}

// ---------------------------------------------------------------- S3

const S3_KEY: &str = "m365preservetest";
const RUSTACK_SECRET: &str = "rustack-secret-9b1f4e2a";

/// An S3 emulator on loopback with the test credentials.
struct S3Emulator {
    _server: Server,
    endpoint: String,
    secret: String,
}

impl S3Emulator {
    /// Rustack with signature validation on.
    fn rustack() -> Option<Self> {
        if !have("rustack") {
            return None;
        }
        let port = free_port();
        let child = Command::new("rustack")
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("SERVICES", "s3")
            .env("S3_SKIP_SIGNATURE_VALIDATION", "false")
            .env("ACCESS_KEY", S3_KEY)
            .env("SECRET_KEY", RUSTACK_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rustack starts");
        let mut server = Server(child, "rustack".into());
        wait_http(&mut server, port);
        Some(Self {
            _server: server,
            endpoint: format!("http://127.0.0.1:{port}"),
            secret: RUSTACK_SECRET.into(),
        })
    }

    /// moto's server (no signature checks).
    fn moto() -> Option<Self> {
        if !have("moto_server") {
            return None;
        }
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let mut server = Server(child, "moto_server".into());
        wait_http(&mut server, port);
        Some(Self {
            _server: server,
            endpoint: format!("http://127.0.0.1:{port}"),
            secret: "moto-secret-not-checked-e3b0c442".into(),
        })
    }

    fn bucket(&self, name: &str) -> rusty_s3::Bucket {
        rusty_s3::Bucket::new(
            self.endpoint.parse().unwrap(),
            rusty_s3::UrlStyle::Path,
            name.to_string(),
            "us-east-1",
        )
        .unwrap()
    }

    fn creds(&self) -> rusty_s3::Credentials {
        rusty_s3::Credentials::new(S3_KEY, &self.secret)
    }

    /// Creates a bucket, with Object Lock (and so versioning) when asked.
    fn create(&self, name: &str, object_lock: bool) {
        use rusty_s3::S3Action;
        let bucket = self.bucket(name);
        let creds = self.creds();
        let mut action = bucket.create_bucket(&creds);
        if object_lock {
            action
                .headers_mut()
                .insert("x-amz-bucket-object-lock-enabled", "true");
        }
        let url = action.sign(Duration::from_secs(600));
        let headers: Vec<(&str, &str)> = if object_lock {
            vec![("x-amz-bucket-object-lock-enabled", "true")]
        } else {
            vec![]
        };
        let (status, body) = http("PUT", url.as_str(), &headers, b"");
        assert_eq!(
            status,
            200,
            "create bucket: {}",
            String::from_utf8_lossy(&body)
        );
    }

    fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = bin();
        c.args(args)
            .env("AWS_ACCESS_KEY_ID", S3_KEY)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        c
    }
}

#[test]
fn s3_multipart_with_checksums_and_object_lock_then_verify_in_place() {
    let Some(s3) = S3Emulator::rustack() else {
        return;
    };
    s3.create("ir-evidence", true);
    let case = Case::new();
    let pkg = package(&case, 12);
    let until = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let sent = s3
        .command(&["send"])
        .arg(&pkg.ciphertext)
        .args([
            "--to",
            "s3://ir-evidence/IR-2026-042",
            "--part-size-mib",
            "5",
        ])
        .args(["--retain-until", &until])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", text(&sent));
    let out = text(&sent);
    assert!(out.contains("Object Lock COMPLIANCE until"), "{out}");
    let event = transferred(&pkg);
    assert_receipts_match(&pkg, &event, 5 << 20);
    let ct = &event["details"]["objects"][0];
    assert!(ct["parts"].as_array().unwrap().len() >= 3, "{ct}");
    assert!(ct["parts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["etag"].is_string()));
    assert_eq!(ct["checksums"][0]["algorithm"], "CRC64NVME");
    assert_eq!(ct["retention"]["mode"], "compliance");
    assert_eq!(ct["read_back"]["retention_mode"], "COMPLIANCE");
    assert_eq!(event["details"]["destination"]["bucket"], "ir-evidence");

    // The bucket refuses to delete a locked version.
    use rusty_s3::S3Action;
    let bucket = s3.bucket("ir-evidence");
    let creds = s3.creds();
    let name = ct["name"].as_str().unwrap();
    let mut del = bucket.delete_object(Some(&creds), name);
    let version = ct["version_id"]
        .as_str()
        .expect("a version id (Object Lock buckets are versioned)");
    del.query_mut().insert("versionId", version);
    let (status, _) = http(
        "DELETE",
        del.sign(Duration::from_secs(600)).as_str(),
        &[],
        b"",
    );
    assert_eq!(
        status, 403,
        "deleting a COMPLIANCE-locked version must be refused"
    );

    // Read in place, every check.
    let ct_name = pkg
        .ciphertext
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let remote = format!("s3://ir-evidence/IR-2026-042/{ct_name}");
    let v = s3
        .command(&["verify", &remote, "-i"])
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", text(&v));
    assert!(
        text(&v).contains("Result: all 11 checks passed"),
        "{}",
        text(&v)
    );
    // A wrong key is refused by the emulator's signature check.
    let bad = bin()
        .args(["verify", &remote])
        .env("AWS_ACCESS_KEY_ID", S3_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
        .env("AWS_ENDPOINT_URL", &s3.endpoint)
        .output()
        .unwrap();
    assert!(!bad.status.success(), "{}", text(&bad));
    assert_no_secret("wrong-secret-value", &[&bad], &[]);
    assert_no_secret(&s3.secret, &[&sent, &v], &[&case.path("out")]);
}

#[test]
fn s3_second_send_refuses_to_overwrite() {
    let Some(s3) = S3Emulator::moto() else { return };
    s3.create("ir-moto", false);
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let first = s3
        .command(&["send"])
        .arg(&pkg.ciphertext)
        .args(["--to", "s3://ir-moto/cases"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let again = s3
        .command(&["send"])
        .arg(&pkg.seal)
        .args(["--to", "s3://ir-moto/cases"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    assert_no_secret(&s3.secret, &[&first, &again], &[&case.path("out")]);
}

// ---------------------------------------------------------------- real clouds

/// `M365_PRESERVE_TEST_AZURE_SAS` = a container SAS URL with sp=rcw on a
/// test container (ideally with version-level immutability), e.g. the firm's
/// staging account. Proves what Azurite cannot: the real service's checks.
#[test]
fn real_azure_send_and_verify() {
    let Ok(url) = std::env::var("M365_PRESERVE_TEST_AZURE_SAS") else {
        eprintln!("skipping: M365_PRESERVE_TEST_AZURE_SAS is not set (a real container SAS URL with sp=rcw)");
        return;
    };
    let case = Case::new();
    let pkg = package(&case, 20);
    let sent = send(&pkg, &url, &[]);
    assert!(sent.status.success(), "{}", text(&sent));
    let (base, sas) = url.split_once('?').unwrap();
    let ct = pkg
        .ciphertext
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let v = bin()
        .args(["verify", &format!("{base}/{ct}?{sas}"), "-i"])
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(
        text(&v).contains("Result: all 11 checks passed"),
        "{}",
        text(&v)
    );
    let sig = sas.split("sig=").nth(1).unwrap().split('&').next().unwrap();
    assert_no_secret(sig, &[&sent, &v], &[&case.path("out")]);
}

/// `M365_PRESERVE_TEST_S3` = s3://BUCKET/PREFIX of a bucket with Object Lock,
/// with the usual AWS credentials in the environment.
#[test]
fn real_s3_send_with_object_lock_and_verify() {
    let Ok(to) = std::env::var("M365_PRESERVE_TEST_S3") else {
        eprintln!("skipping: M365_PRESERVE_TEST_S3 is not set (s3://BUCKET/PREFIX with Object Lock, AWS credentials in the environment)");
        return;
    };
    let case = Case::new();
    let pkg = package(&case, 20);
    let until = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let sent = bin()
        .arg("send")
        .arg(&pkg.ciphertext)
        .args([
            "--to",
            &to,
            "--retain-until",
            &until,
            "--retention-mode",
            "governance",
        ])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", text(&sent));
    let ct = pkg
        .ciphertext
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let v = bin()
        .args([
            "verify",
            &format!("{}/{ct}", to.trim_end_matches('/')),
            "-i",
        ])
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(
        text(&v).contains("Result: all 11 checks passed"),
        "{}",
        text(&v)
    );
    if let Ok(secret) = std::env::var("AWS_SECRET_ACCESS_KEY") {
        assert_no_secret(&secret, &[&sent, &v], &[&case.path("out")]);
    }
}
