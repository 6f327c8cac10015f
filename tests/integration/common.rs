//! Shared helpers for the end-to-end tests: they run the real binary.
#![allow(dead_code)]

use assert_cmd::Command;
use m365_preserve_package::paths::PackagePaths;
use std::path::{Path, PathBuf};
use std::process::Output;

pub fn bin() -> Command {
    let mut c = Command::cargo_bin("m365-preserve").unwrap();
    c.env_remove("M365_PRESERVE_QUIET");
    c
}

/// True when an external tool is on PATH. In CI (CI=true) a missing tool is a
/// failure, because .ci/run installs them all; elsewhere the test is skipped.
pub fn have(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("skipping: {tool} not installed");
    }
    found
}

pub fn run(cmd: &mut std::process::Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{:?} failed: {}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch folder with a receiving firm's age key and a sealer's SSH key.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub age_public: String,
}

impl Case {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = bin()
            .args(["keygen", "--age-identity"])
            .arg(dir.path().join("firm.agekey"))
            .arg("--signing-key")
            .arg(dir.path().join("sealer"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let key = std::fs::read_to_string(dir.path().join("firm.agekey")).unwrap();
        let age_public = key
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap()
            .to_string();
        Self { dir, age_public }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn identity(&self) -> PathBuf {
        self.path("firm.agekey")
    }

    /// Writes a small evidence folder with Japanese text and returns it.
    pub fn evidence(&self) -> PathBuf {
        let ev = self.path("ev");
        std::fs::create_dir_all(ev.join("sub")).unwrap();
        let records: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    r#"{{"id":"{i:08}","createdDateTime":"2026-11-2{}T0{}:00:00Z","userDisplayName":"山田 太郎","ipAddress":"203.0.113.{}"}}"#,
                    i % 10,
                    i % 10,
                    i % 250
                )
            })
            .collect();
        std::fs::write(
            ev.join("signins.json"),
            format!("[\n{}\n]\n", records.join(",\n")),
        )
        .unwrap();
        std::fs::write(ev.join("sub/note.txt"), "screenshot notes\n").unwrap();
        std::fs::write(ev.join("empty.csv"), "").unwrap();
        ev
    }

    /// A collector's work folder: `entra-audit` complete with one record at
    /// `audit_time`, `entra-signins-interactive` unavailable (Entra ID Free).
    pub fn work_folder(
        &self,
        audit_time: &str,
        details: serde_json::Map<String, serde_json::Value>,
    ) -> PathBuf {
        use m365_preserve_package::evidence::{EvidenceWriter, SourceStatus};
        use m365_preserve_package::workdir::WorkDir;
        let work = self.path("work");
        let workdir = WorkDir::at(&work);
        let mut w = EvidenceWriter::create(&workdir, "entra-audit").unwrap();
        w.write(&serde_json::json!({"id": "1", "activityDateTime": audit_time}))
            .unwrap();
        w.finish(SourceStatus::Complete, None, Default::default())
            .unwrap();
        let w = EvidenceWriter::create(&workdir, "entra-signins-interactive").unwrap();
        let reason = "licence: Entra ID Free; import the portal download";
        w.finish(SourceStatus::Unavailable, Some(reason.into()), details)
            .unwrap();
        work
    }

    /// Seals `evidence` to the firm's age key, signed by the sealer's key.
    pub fn seal(&self, evidence: &Path, out: &str) -> PackagePaths {
        let o = bin()
            .args([
                "seal",
                "--case",
                "IR-2026-042",
                "--examiner",
                "佐藤 花子",
                "--out",
            ])
            .arg(self.path(out))
            .arg("--evidence")
            .arg(evidence)
            .args(["--recipient", &self.age_public, "--signing-key"])
            .arg(self.path("sealer"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        package_in(&self.path(out))
    }
}

impl Case {
    /// `verify --identity` of `pkg`.
    pub fn verify_inside(&self, pkg: &PackagePaths) -> Output {
        bin()
            .arg("verify")
            .arg(&pkg.ciphertext)
            .arg("--identity")
            .arg(self.identity())
            .output()
            .unwrap()
    }

    /// `open` of `pkg` into the new folder `rel`, which must succeed.
    pub fn open_to(&self, pkg: &PackagePaths, rel: &str) -> PathBuf {
        let dest = self.path(rel);
        let o = bin()
            .arg("open")
            .arg(&pkg.ciphertext)
            .arg("--identity")
            .arg(self.identity())
            .arg("--to")
            .arg(&dest)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        dest
    }

    /// Decrypts `pkg` with `age` alone and tests the zip with `unzip -t` and
    /// `7z t`; returns the plain zip.
    pub fn decrypt_and_test_zip(&self, pkg: &PackagePaths) -> PathBuf {
        let zip = self.path("plain.zip");
        run(std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(self.identity())
            .arg("-o")
            .arg(&zip)
            .arg(&pkg.ciphertext));
        let o = run(std::process::Command::new("unzip").arg("-t").arg(&zip));
        assert!(text(&o).contains("No errors detected"), "{}", text(&o));
        let o = run(std::process::Command::new("7z").arg("t").arg(&zip));
        assert!(text(&o).contains("Everything is Ok"), "{}", text(&o));
        zip
    }
}

/// The package whose files are in `dir`.
pub fn package_in(dir: &Path) -> PackagePaths {
    let ct = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".zip.age"))
        .expect("a .zip.age in the folder");
    PackagePaths::from_any(&ct)
}

/// All files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// `len` bytes that do not compress (a SHA-256 counter stream from `seed`):
/// a file whose package is at least its size.
pub fn incompressible(seed: u32, len: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out: Vec<u8> = (0u32..)
        .take(len.div_ceil(32))
        .flat_map(|i| Sha256::digest([seed.to_le_bytes(), i.to_le_bytes()].concat()))
        .collect();
    out.truncate(len);
    out
}
