//! Every reader of a received package (seal, signature, custody log, the age
//! stream, the zip inside it, the manifest) against damaged copies of a real
//! package: truncated at any offset, bytes flipped, blocks spliced or repeated,
//! re-encoded, a huge field. Verify must never panic or hang, must refuse
//! whatever was changed, and must say which file is wrong.

use crate::common::Keys;
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::seal::Seal;
use m365_preserve_package::verify::{CheckName, VerifyReport};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One sealed package shared by every case (sealing is the slow part).
struct Fixture {
    keys: Keys,
    paths: PackagePaths,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ev = dir.path().join("evidence-folder");
        std::fs::create_dir_all(ev.join("evidence")).unwrap();
        let records: Vec<serde_json::Value> = (0..40)
            .map(|i| serde_json::json!({"id": format!("r{i}"), "createdDateTime": "2026-11-30T01:02:03Z", "ipAddress": "203.0.113.45"}))
            .collect();
        std::fs::write(
            ev.join("evidence/user.json"),
            serde_json::to_vec_pretty(&records).unwrap(),
        )
        .unwrap();
        std::fs::write(ev.join("evidence/notes.txt"), "佐藤 花子\n".repeat(50)).unwrap();
        let out = dir.path().join("out");
        let keys = Keys::new();
        let sealed = keys.seal(&ev, &out).unwrap();
        assert!(keys.verify(&sealed).ok, "the intact package verifies");
        Fixture {
            keys,
            paths: sealed.paths,
            _dir: dir,
        }
    })
}

/// A change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    /// Copies `len` bytes from `from` over `to`.
    Splice {
        from: usize,
        to: usize,
        len: usize,
    },
    /// Repeats `len` bytes at `at`.
    Repeat {
        at: usize,
        len: usize,
    },
    /// Inserts a megabyte of one byte at `at`.
    Huge(usize),
    /// Re-encodes the text as UTF-16 (a file saved by the wrong editor).
    Utf16,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<prop::sample::Index>();
    prop_oneof![
        pos.clone()
            .prop_map(|i| Mutation::Truncate(i.index(usize::MAX))),
        (pos.clone(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i.index(usize::MAX), x)),
        (pos.clone(), pos.clone(), 1usize..64).prop_map(|(a, b, len)| Mutation::Splice {
            from: a.index(usize::MAX),
            to: b.index(usize::MAX),
            len
        }),
        (pos.clone(), 1usize..256).prop_map(|(i, len)| Mutation::Repeat {
            at: i.index(usize::MAX),
            len
        }),
        pos.prop_map(|i| Mutation::Huge(i.index(usize::MAX))),
        Just(Mutation::Utf16),
    ]
}

/// `bytes` changed by `m`; `None` when the change would leave them as they were.
fn apply(bytes: &[u8], m: &Mutation) -> Option<Vec<u8>> {
    let n = bytes.len();
    let mut v = bytes.to_vec();
    match *m {
        Mutation::Truncate(i) => v.truncate(i % n),
        Mutation::Flip(i, x) => v[i % n] ^= x,
        Mutation::Splice { from, to, len } => {
            let (from, to) = (from % n, to % n);
            let len = len.min(n - from).min(n - to);
            let piece = bytes[from..from + len].to_vec();
            v[to..to + len].copy_from_slice(&piece);
        }
        Mutation::Repeat { at, len } => {
            let at = at % n;
            let len = len.min(n - at);
            let piece = bytes[at..at + len].to_vec();
            v.splice(at..at, piece);
        }
        Mutation::Huge(i) => {
            v.splice(i % n..i % n, std::iter::repeat_n(b'A', 1 << 20));
        }
        Mutation::Utf16 => {
            v = String::from_utf8_lossy(bytes)
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
        }
    }
    (v != bytes).then_some(v)
}

/// A copy of the package in a new folder, with `file` (one of its four)
/// replaced by `bytes`.
fn damaged_copy(
    f: &Fixture,
    which: fn(&PackagePaths) -> &PathBuf,
    bytes: &[u8],
) -> (tempfile::TempDir, PackagePaths) {
    let dir = tempfile::tempdir().unwrap();
    let copy = |p: &Path| {
        let to = dir.path().join(p.file_name().unwrap());
        std::fs::copy(p, &to).unwrap();
        to
    };
    let ct = copy(&f.paths.ciphertext);
    for p in [&f.paths.seal, &f.paths.signature, &f.paths.custody] {
        copy(p);
    }
    let paths = PackagePaths::from_any(&ct);
    std::fs::write(which(&paths), bytes).unwrap();
    (dir, paths)
}

/// Every entry of a zip: name and content, in order.
fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut e = a.by_index(i).unwrap();
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            (e.name().to_string(), v)
        })
        .collect()
}

/// Every failed check says what is wrong, in words, once.
fn refused(report: &VerifyReport) -> Vec<String> {
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.detail.clone())
        .collect();
    for d in &failed {
        assert!(
            !d.trim().is_empty(),
            "a failed check without a reason: {report:?}"
        );
        assert!(
            d.len() < 4096,
            "a reason of {} bytes (a dump?): {}",
            d.len(),
            d.chars().take(300).collect::<String>()
        );
    }
    failed
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The seal and the ciphertext are signed and hashed: any change is refused.
    #[test]
    fn a_changed_seal_or_ciphertext_is_refused(m in mutation(), seal in any::<bool>()) {
        let f = fixture();
        let which: fn(&PackagePaths) -> &PathBuf = if seal { |p| &p.seal } else { |p| &p.ciphertext };
        let Some(bytes) = apply(&std::fs::read(which(&f.paths)).unwrap(), &m) else {
            return Ok(());
        };
        let (_dir, paths) = damaged_copy(f, which, &bytes);
        let report = f.keys.verify_paths(&paths);
        prop_assert!(!report.ok, "{m:?} of the {} passed", if seal { "seal" } else { "ciphertext" });
        prop_assert!(!refused(&report).is_empty());
    }

    /// The signature and the custody log: never a panic; a refusal has a reason.
    #[test]
    fn a_changed_signature_or_custody_log_never_panics(m in mutation(), custody in any::<bool>()) {
        let f = fixture();
        let which: fn(&PackagePaths) -> &PathBuf = if custody { |p| &p.custody } else { |p| &p.signature };
        let Some(bytes) = apply(&std::fs::read(which(&f.paths)).unwrap(), &m) else {
            return Ok(());
        };
        let (_dir, paths) = damaged_copy(f, which, &bytes);
        let report = f.keys.verify_paths(&paths);
        let failed = refused(&report);
        prop_assert_eq!(report.ok, failed.is_empty());
    }

    /// The zip inside, damaged and then properly re-encrypted and re-sealed
    /// (as a forger with the sealer's key would): the zip reader, the manifest
    /// and SHA256SUMS checks refuse it, without panicking.
    #[test]
    fn a_damaged_zip_inside_a_valid_seal_is_refused(m in mutation()) {
        let f = fixture();
        let plain = f.keys.decrypt(&std::fs::read(&f.paths.ciphertext).unwrap());
        let Some(zip) = apply(&plain, &m) else { return Ok(()) };
        let ct = f.keys.encrypt(&zip);
        let (_dir, paths) = damaged_copy(f, |p| &p.ciphertext, &ct);
        let mut seal: Seal = serde_json::from_slice(&std::fs::read(&f.paths.seal).unwrap()).unwrap();
        seal.ciphertext.size = ct.len() as u64;
        seal.ciphertext.sha256 = m365_preserve_package::hashing::sha256_hex(&ct);
        let mut bytes = serde_json::to_vec_pretty(&seal).unwrap();
        bytes.push(b'\n');
        std::fs::write(&paths.seal, &bytes).unwrap();
        std::fs::write(&paths.signature, f.keys.sign_seal(&bytes)).unwrap();
        let report = f.keys.verify_paths(&paths);
        refused(&report);
        // The custody log names the old seal, so only the inside checks count:
        // when they all pass, the change touched no name and no byte of any
        // file (only metadata such as a data descriptor the reader does not use).
        let inside_ok = report.checks.iter().all(|c| c.ok || matches!(
            c.name,
            CheckName::Seal | CheckName::SealSignature | CheckName::Ciphertext | CheckName::CustodyChain
        ));
        if inside_ok {
            prop_assert_eq!(entries(&zip), entries(&plain), "{:?} passed the inside checks but changed a file", m);
        }
    }
}
