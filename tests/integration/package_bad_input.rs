//! Bad input gets a clear error, a non-zero exit, and loses nothing: tampered,
//! truncated and hostile packages, wrong keys, edited seals and custody lines.

use crate::common::*;
use m365_preserve_package::acquisition::Tool;
use m365_preserve_package::custody::{chain_line, CustodyAction, CustodyEvent};
use m365_preserve_package::hashing::sha256_hex;
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::seal::*;
use m365_preserve_package::signing::{SigningKey, SEAL_NAMESPACE};
use std::io::Write;

fn verify_full(case: &Case, pkg: &PackagePaths) -> std::process::Output {
    bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .output()
        .unwrap()
}

fn failed_checks(out: &std::process::Output) -> Vec<String> {
    text(out)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FAIL  "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn one_flipped_ciphertext_byte_is_detected() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let mut bytes = std::fs::read(&pkg.ciphertext).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&pkg.ciphertext, &bytes).unwrap();
    let o = verify_full(&case, &pkg);
    assert_eq!(o.status.code(), Some(1));
    let failed = failed_checks(&o);
    assert!(failed.contains(&"ciphertext".into()), "{}", text(&o));
    assert!(failed.contains(&"decrypt".into()), "{}", text(&o));
    // Without a key the outside checks still catch it.
    let o = bin().arg("verify").arg(&pkg.ciphertext).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("FAIL  ciphertext") && text(&o).contains("the seal says"));
}

#[test]
fn truncated_package_is_detected() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let bytes = std::fs::read(&pkg.ciphertext).unwrap();
    for keep in [bytes.len() - 1, bytes.len() / 2, 200] {
        std::fs::write(&pkg.ciphertext, &bytes[..keep]).unwrap();
        let o = verify_full(&case, &pkg);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("truncated"), "{keep}: {}", text(&o));
        assert!(
            failed_checks(&o).contains(&"decrypt".into()),
            "{keep}: {}",
            text(&o)
        );
    }
}

#[test]
fn wrong_identity_says_so() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let other = case.path("other.agekey");
    bin()
        .args(["keygen", "--age-identity"])
        .arg(&other)
        .assert()
        .success();
    let o = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("does not match any recipient"),
        "{}",
        text(&o)
    );
    let dest = case.path("opened");
    let o = bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(&other)
        .arg("--to")
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!dest.exists(), "nothing extracted");
    // Not a key at all.
    let o = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.path("ev/signins.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("not an age identity file"),
        "{}",
        text(&o)
    );
}

#[test]
fn edited_seal_fails_its_signature() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let seal = std::fs::read_to_string(&pkg.seal).unwrap();
    std::fs::write(&pkg.seal, seal.replace("佐藤 花子", "Someone Else")).unwrap();
    let o = bin().arg("verify").arg(&pkg.ciphertext).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("FAIL  seal-signature"), "{}", text(&o));
    assert!(text(&o).contains("modified after signing"), "{}", text(&o));
    std::fs::write(&pkg.seal, "{ not json").unwrap();
    let o = bin().arg("verify").arg(&pkg.ciphertext).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("FAIL  seal") && text(&o).contains("not a valid seal"),
        "{}",
        text(&o)
    );
}

#[test]
fn custody_record_show_and_edited_line_reported_at_that_line() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    for (action, by) in [
        ("transferred", "佐藤 花子"),
        ("received", "IR Analyst"),
        ("verified", "IR Analyst"),
    ] {
        let o = bin()
            .args(["custody", "record"])
            .arg(&pkg.ciphertext)
            .args([
                "--action",
                action,
                "--by",
                by,
                "--to",
                "Example IR",
                "--method",
                "SFTP, ticket 4411",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("matches the seal"));
    }
    let o = bin()
        .args(["custody", "show"])
        .arg(&pkg.seal)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("received") && text(&o).contains("chain and signatures intact"));
    bin().arg("verify").arg(&pkg.ciphertext).assert().success();

    let log = std::fs::read_to_string(&pkg.custody).unwrap();
    let edited: Vec<String> = log
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                l.replace("IR Analyst", "Mallory")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&pkg.custody, edited.join("\n") + "\n").unwrap();
    let o = bin()
        .args(["custody", "show"])
        .arg(&pkg.ciphertext)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("PROBLEM at line 3"), "{}", text(&o));
    let o = bin().arg("verify").arg(&pkg.ciphertext).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("FAIL  custody-chain   line 3:"),
        "{}",
        text(&o)
    );
    // A broken chain is not appended to.
    let o = bin()
        .args(["custody", "record"])
        .arg(&pkg.ciphertext)
        .args(["--action", "copied", "--by", "X"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("broken at line 3"), "{}", text(&o));
}

#[test]
fn custody_record_on_a_modified_ciphertext_records_the_mismatch_and_fails() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&pkg.ciphertext)
        .unwrap();
    f.write_all(b"x").unwrap();
    let o = bin()
        .args(["custody", "record"])
        .arg(&pkg.ciphertext)
        .args(["--action", "received", "--by", "IR"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("DOES NOT match the seal"), "{}", text(&o));
    let log = std::fs::read_to_string(&pkg.custody).unwrap();
    assert!(log
        .lines()
        .nth(1)
        .unwrap()
        .contains("\"matches_seal\":false"));
}

#[test]
fn open_never_overwrites_and_needs_an_empty_folder() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let dest = case.path("dest");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("keep.txt"), "mine").unwrap();
    let o = bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .arg("--to")
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not empty"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dest.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn seal_refuses_links_reserved_names_and_missing_recipients() {
    let case = Case::new();
    let ev = case.evidence();
    std::os::unix::fs::symlink("/etc/passwd", ev.join("link")).unwrap();
    let o = bin()
        .args([
            "seal",
            "--case",
            "C",
            "--examiner",
            "E",
            "-r",
            &case.age_public,
            "--out",
        ])
        .arg(case.path("o1"))
        .arg("--evidence")
        .arg(&ev)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
    assert!(!case.path("o1").exists() || files_under(&case.path("o1")).is_empty());
    std::fs::remove_file(ev.join("link")).unwrap();

    let o = bin()
        .args([
            "seal",
            "--case",
            "C",
            "--examiner",
            "E",
            "-r",
            "age1notakey",
            "--out",
        ])
        .arg(case.path("o2"))
        .arg("--evidence")
        .arg(&ev)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("is not an age (age1...)"), "{}", text(&o));

    let o = bin()
        .args(["seal", "--case", "C", "--examiner", "E", "--out"])
        .arg(case.path("o3"))
        .arg("--evidence")
        .arg(&ev)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no recipients"), "{}", text(&o));

    let o = bin()
        .args([
            "seal",
            "--case",
            "C",
            "--examiner",
            "E",
            "--passphrase-env",
            "NOT_SET_ANYWHERE",
            "--out",
        ])
        .arg(case.path("o4"))
        .arg("--evidence")
        .arg(&ev)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("NOT_SET_ANYWHERE") && text(&o).contains("not set"),
        "{}",
        text(&o)
    );

    let o = bin().args(["seal", "--case", "C"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn evidence_changed_after_writing_is_refused_and_partial_sources_exit_3() {
    let case = Case::new();
    let work = case.work_folder("2026-11-20T01:00:00Z", Default::default());

    let seal = |out: &str| {
        bin()
            .args([
                "seal",
                "--case",
                "C",
                "--examiner",
                "E",
                "-r",
                &case.age_public,
                "--out",
            ])
            .arg(case.path(out))
            .arg("--evidence")
            .arg(&work)
            .output()
            .unwrap()
    };
    let o = seal("o1");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("entra-signins-interactive is unavailable: licence"),
        "{}",
        text(&o)
    );
    let pkg = package_in(&case.path("o1"));
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&pkg.seal).unwrap()).unwrap();
    assert_eq!(s["completeness"], "incomplete");
    assert_eq!(s["manifest"]["records"], 1);
    bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .assert()
        .success();

    let json = work.join("evidence/entra-audit.json");
    let changed = std::fs::read_to_string(&json)
        .unwrap()
        .replace("\"1\"", "\"2\"");
    std::fs::write(&json, changed).unwrap();
    let o = seal("o2");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("changed after it was written"),
        "{}",
        text(&o)
    );
    assert!(
        files_under(&case.path("o2")).is_empty(),
        "no partial package left behind"
    );
}

#[test]
fn keygen_files_are_private_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let case = Case::new();
    for f in ["firm.agekey", "sealer"] {
        let mode = std::fs::metadata(case.path(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let before = std::fs::read(case.identity()).unwrap();
    let o = bin()
        .args(["keygen", "--age-identity"])
        .arg(case.identity())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read(case.identity()).unwrap(), before);
}

#[test]
fn a_secret_from_the_environment_never_reaches_any_output() {
    let case = Case::new();
    let secret = format!("hunter2-{}", std::process::id());
    let out = case.path("out");
    let o = bin()
        .env("CASE_SECRET", &secret)
        .args([
            "seal",
            "--case",
            "C",
            "--examiner",
            "E",
            "--passphrase-env",
            "CASE_SECRET",
            "-v",
            "--out",
        ])
        .arg(&out)
        .arg("--evidence")
        .arg(case.evidence())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(&secret));
    let pkg = package_in(&out);
    bin()
        .args(["custody", "record"])
        .arg(&pkg.ciphertext)
        .args(["--action", "transferred", "--by", "E"])
        .assert()
        .success();
    let dest = case.path("opened");
    let o = bin()
        .env("CASE_SECRET", &secret)
        .arg("open")
        .arg(&pkg.ciphertext)
        .args(["--passphrase-env", "CASE_SECRET", "--to"])
        .arg(&dest)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(&secret));
    let mut checked = 0;
    for f in files_under(&out).into_iter().chain(files_under(&dest)) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "secret found in {}",
            f.display()
        );
        checked += 1;
    }
    assert!(checked >= 10, "checked {checked} files");
    let acq = std::fs::read_to_string(dest.join("acquisition.json")).unwrap();
    assert!(
        acq.contains("CASE_SECRET"),
        "the variable's name is recorded, not its value"
    );
}

// ---------- hostile archives, crafted here and encrypted with age ----------

/// Encrypts `zip` (with the age CLI when present) and gives it a valid, signed
/// seal and custody log, so only the archive's content can make `open` refuse it.
fn wrap_hostile(case: &Case, zip: &[u8], manifest_sha: &str) -> PackagePaths {
    let dir = case.path("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let paths = PackagePaths::new(&dir, "HOSTILE_20261125T000000Z");
    if have("age") {
        let plain = case.path("hostile.zip");
        std::fs::write(&plain, zip).unwrap();
        run(std::process::Command::new("age")
            .args(["-r", &case.age_public, "-o"])
            .arg(&paths.ciphertext)
            .arg(&plain));
    } else {
        let r = m365_preserve_package::crypto::Recipients::from_keys(
            std::slice::from_ref(&case.age_public),
            &[] as &[&str],
        )
        .unwrap();
        let mut w = r
            .encryptor()
            .unwrap()
            .wrap_output(std::fs::File::create(&paths.ciphertext).unwrap())
            .unwrap();
        w.write_all(zip).unwrap();
        w.finish().unwrap();
    }
    let ct = std::fs::read(&paths.ciphertext).unwrap();
    let key = SigningKey::load(&case.path("sealer")).unwrap();
    let now = "2026-11-25T00:00:00Z".to_string();
    let seal = Seal {
        format: SEAL_FORMAT.into(),
        case_id: "HOSTILE".into(),
        examiner: "crafted".into(),
        tenant_id: None,
        tool: Tool::this(),
        times: SealTimes {
            started: now.clone(),
            finished: now.clone(),
            sealed: now,
        },
        ciphertext: CiphertextRef {
            file: "HOSTILE_20261125T000000Z.zip.age".into(),
            size: ct.len() as u64,
            sha256: sha256_hex(&ct),
        },
        recipients: vec![],
        manifest: ManifestRef {
            path: "manifest.json".into(),
            sha256: manifest_sha.into(),
            merkle_root: "0".repeat(64),
            files: 1,
            bytes: 0,
            records: 0,
        },
        completeness: Completeness::Complete,
        sources: vec![],
        signer: Signer {
            public_key: key.public_openssh(),
            fingerprint: key.fingerprint(),
            generated_for_this_case: false,
        },
        signature: SignatureRef {
            file: "HOSTILE_20261125T000000Z.seal.json.sig".into(),
            namespace: SEAL_NAMESPACE.into(),
        },
        supplements: None,
    };
    let seal_bytes = serde_json::to_vec_pretty(&seal).unwrap();
    std::fs::write(&paths.seal, &seal_bytes).unwrap();
    std::fs::write(&paths.signature, key.sign(SEAL_NAMESPACE, &seal_bytes)).unwrap();
    let mut ev = CustodyEvent::new(CustodyAction::Sealed, "crafted");
    ev.ciphertext_sha256 = Some(sha256_hex(&ct));
    let line = chain_line(ev, 1, None, &sha256_hex(&seal_bytes), Some(&key));
    std::fs::write(&paths.custody, format!("{line}\n")).unwrap();
    paths
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Runs `open` on a crafted package and checks it refused, wrote nothing outside
/// the destination and left no destination behind.
fn assert_open_refuses(case: &Case, pkg: &PackagePaths, expect: &str) {
    let dest = case.path("victim/dest");
    std::fs::create_dir_all(case.path("victim")).unwrap();
    let before = files_under(case.dir.path()).len();
    let o = bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .arg("--to")
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("PASS  seal-signature") && text(&o).contains("PASS  custody-chain"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(expect),
        "expected {expect:?} in {}",
        text(&o)
    );
    assert!(text(&o).contains("Nothing was extracted"));
    assert!(!dest.exists(), "destination removed");
    assert_eq!(
        files_under(case.dir.path()).len(),
        before,
        "no file written anywhere"
    );
    assert!(!case.path("victim/evil").exists() && !case.path("evil").exists());
}

#[test]
fn open_refuses_parent_dir_entries() {
    let case = Case::new();
    let pkg = wrap_hostile(
        &case,
        &zip_of(&[("evidence/ok.json", b"[]"), ("../evil", b"pwned")]),
        &"0".repeat(64),
    );
    assert_open_refuses(&case, &pkg, "\"../evil\": '..' component");
}

#[test]
fn open_refuses_absolute_and_drive_letter_entries() {
    let case = Case::new();
    let pkg = wrap_hostile(
        &case,
        &zip_of(&[
            ("/tmp/evil", b"pwned"),
            ("C:/evil", b"x"),
            ("a\\..\\evil", b"x"),
        ]),
        &"0".repeat(64),
    );
    assert_open_refuses(&case, &pkg, "absolute path");
    let o = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(
        text(&o).contains("drive letter") && text(&o).contains("backslash"),
        "{}",
        text(&o)
    );
}

#[test]
fn open_refuses_duplicate_and_case_colliding_names() {
    let case = Case::new();
    let pkg = wrap_hostile(
        &case,
        &zip_of(&[("evidence/a.json", b"1"), ("evidence/A.json", b"2")]),
        &"0".repeat(64),
    );
    assert_open_refuses(&case, &pkg, "differs from another entry only by case");
}

#[test]
fn open_refuses_a_high_ratio_bomb_before_inflating_it() {
    let case = Case::new();
    let zeros = vec![0u8; 64 << 20];
    let pkg = wrap_hostile(
        &case,
        &zip_of(&[("evidence/bomb.json", &zeros)]),
        &"0".repeat(64),
    );
    assert_open_refuses(&case, &pkg, "above the limit of 200x (zip bomb?)");
}

#[test]
fn open_refuses_an_entry_larger_than_declared() {
    let case = Case::new();
    // Incompressible-ish content, then the declared sizes are patched down to 1000.
    let data: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let manifest = serde_json::json!({
        "format": "m365-preserve-manifest/1", "case_id": "HOSTILE", "created": "2026-11-25T00:00:00Z",
        "hash_algorithm": "sha256", "merkle_root": "0".repeat(64),
        "totals": {"files": 1, "bytes": 1000, "records": 0}, "sources": [],
        "files": [{"path": "evidence/liar.json", "size": 1000, "sha256": "0".repeat(64), "role": "evidence"}]
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let mut zip = zip_of(&[
        ("evidence/liar.json", &data),
        ("manifest.json", &manifest_bytes),
    ]);
    let patch =
        |zip: &mut Vec<u8>, at: usize| zip[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    patch(&mut zip, 22); // local header of the first entry
    let central = zip
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .unwrap();
    patch(&mut zip, central + 24);
    let pkg = wrap_hostile(&case, &zip, &sha256_hex(&manifest_bytes));
    assert_open_refuses(
        &case,
        &pkg,
        "FAIL  zip-structure   unsafe archive, nothing extracted: evidence/liar.json",
    );
}
