//! Seal -> verify -> open with this tool, and the same package checked with the
//! standard tools an IR firm has: age, unzip, 7z, sha256sum, ssh-keygen.

use crate::common::*;
use std::process::Command as Sys;

#[test]
fn seal_verify_open_round_trip_keeps_every_byte() {
    let case = Case::new();
    let ev = case.evidence();
    let pkg = case.seal(&ev, "out");

    let o = bin().arg("verify").arg(&pkg.ciphertext).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("decryption and file checks not run"));

    let o = bin()
        .arg("verify")
        .arg(&pkg.seal)
        .arg("--identity")
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    for check in [
        "seal-signature",
        "ciphertext",
        "custody-chain",
        "decrypt",
        "zip-structure",
        "manifest",
        "files",
        "sha256sums",
        "merkle-root",
    ] {
        assert!(
            text(&o).contains(&format!("PASS  {check}")),
            "{check}: {}",
            text(&o)
        );
    }

    let dest = case.path("opened");
    let o = bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("--identity")
        .arg(case.identity())
        .arg("--to")
        .arg(&dest)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    for rel in ["signins.json", "sub/note.txt", "empty.csv"] {
        assert_eq!(
            std::fs::read(ev.join(rel)).unwrap(),
            std::fs::read(dest.join("evidence").join(rel)).unwrap(),
            "{rel}"
        );
    }
    for doc in [
        "manifest.json",
        "SHA256SUMS",
        "acquisition.json",
        "custody.jsonl",
        "collection.log",
    ] {
        assert!(dest.join(doc).is_file(), "{doc}");
    }
    let acq = std::fs::read_to_string(dest.join("acquisition.json")).unwrap();
    assert!(acq.contains("佐藤 花子") && acq.contains("IR-2026-042"));
    assert!(!dest.join(".m365-preserve-opening").exists());
}

#[test]
fn verify_json_names_every_check() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let o = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .arg("--json")
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["checks"].as_array().unwrap().len(), 11);
    assert_eq!(v["case_id"], "IR-2026-042");
}

#[test]
fn standard_tools_verify_the_package_without_this_program() {
    if !(have("age") && have("unzip") && have("7z") && have("sha256sum") && have("ssh-keygen")) {
        return;
    }
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let zip = case.decrypt_and_test_zip(&pkg);
    let x = case.path("x");
    run(Sys::new("unzip").arg("-q").arg(&zip).arg("-d").arg(&x));
    let o = run(Sys::new("sha256sum")
        .arg("-c")
        .arg("SHA256SUMS")
        .current_dir(&x));
    assert!(!text(&o).contains("FAILED"));
    assert_eq!(text(&o).lines().filter(|l| l.ends_with(": OK")).count(), 7);

    // The seal with ssh-keygen and an allowed_signers line built from the sealer's public key.
    let public = std::fs::read_to_string(case.path("sealer.pub")).unwrap();
    let allowed = case.path("allowed_signers");
    std::fs::write(
        &allowed,
        format!("sealer@firm namespaces=\"m365-preserve-seal\" {public}"),
    )
    .unwrap();
    let o = run(Sys::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args(["-I", "sealer@firm", "-n", "m365-preserve-seal", "-s"])
        .arg(&pkg.signature)
        .stdin(std::fs::File::open(&pkg.seal).unwrap()));
    assert!(
        text(&o).contains("Good \"m365-preserve-seal\" signature"),
        "{}",
        text(&o)
    );

    // The ciphertext hash in the seal is what sha256sum computes.
    let seal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pkg.seal).unwrap()).unwrap();
    let o = run(Sys::new("sha256sum").arg(&pkg.ciphertext));
    assert!(text(&o).starts_with(seal["ciphertext"]["sha256"].as_str().unwrap()));
}

#[test]
fn ssh_recipients_decrypt_with_age_and_with_verify() {
    if !(have("age") && have("ssh-keygen")) {
        return;
    }
    let case = Case::new();
    let ev = case.evidence();
    for (kind, extra) in [("ed25519", vec![]), ("rsa", vec!["-b", "2048"])] {
        let key = case.path(&format!("id_{kind}"));
        run(Sys::new("ssh-keygen")
            .args(["-q", "-t", kind])
            .args(&extra)
            .args(["-N", "", "-f"])
            .arg(&key));
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let out = format!("out-{kind}");
        let o = bin()
            .args(["seal", "--case", "C", "--examiner", "E", "--quiet", "--out"])
            .arg(case.path(&out))
            .arg("--evidence")
            .arg(&ev)
            .args(["--recipient", public.trim()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("key generated for this case"),
            "{}",
            text(&o)
        );
        let pkg = package_in(&case.path(&out));
        let o = bin()
            .arg("verify")
            .arg(&pkg.ciphertext)
            .arg("-i")
            .arg(&key)
            .output()
            .unwrap();
        assert!(o.status.success(), "{kind}: {}", text(&o));
        let plain = case.path(&format!("{kind}.zip"));
        run(Sys::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&key)
            .arg("-o")
            .arg(&plain)
            .arg(&pkg.ciphertext));
        let seal = std::fs::read_to_string(&pkg.seal).unwrap();
        assert!(
            seal.contains(&format!("\"type\": \"ssh-{kind}\"")),
            "{seal}"
        );
    }
}

#[test]
fn recipients_file_and_several_recipients_each_decrypt() {
    let case = Case::new();
    let second = case.path("second.agekey");
    bin()
        .args(["keygen", "--age-identity"])
        .arg(&second)
        .assert()
        .success();
    let second_pub = std::fs::read_to_string(&second)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(String::from))
        .unwrap();
    let file = case.path("recipients.txt");
    std::fs::write(
        &file,
        format!(
            "# the firm\n{}\n\n# escrow\n{second_pub}\n",
            case.age_public
        ),
    )
    .unwrap();
    bin()
        .args(["seal", "--case", "C", "--examiner", "E", "-q", "--out"])
        .arg(case.path("out"))
        .arg("--evidence")
        .arg(case.evidence())
        .arg("--recipients-file")
        .arg(&file)
        .assert()
        .success();
    let pkg = package_in(&case.path("out"));
    for id in [case.identity(), second] {
        bin()
            .arg("verify")
            .arg(&pkg.ciphertext)
            .arg("-i")
            .arg(id)
            .assert()
            .success();
    }
}

#[test]
fn passphrase_package_round_trip_and_wrong_passphrase() {
    let case = Case::new();
    bin()
        .env("SEAL_PASS", "correct horse battery staple")
        .args([
            "seal",
            "--case",
            "C",
            "--examiner",
            "E",
            "-q",
            "--passphrase-env",
            "SEAL_PASS",
            "--out",
        ])
        .arg(case.path("out"))
        .arg("--evidence")
        .arg(case.evidence())
        .assert()
        .success();
    let pkg = package_in(&case.path("out"));
    bin()
        .env("P", "correct horse battery staple")
        .arg("verify")
        .arg(&pkg.ciphertext)
        .args(["--passphrase-env", "P"])
        .assert()
        .success();
    let o = bin()
        .env("P", "wrong")
        .arg("verify")
        .arg(&pkg.ciphertext)
        .args(["--passphrase-env", "P"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("FAIL  decrypt") && text(&o).contains("wrong passphrase"),
        "{}",
        text(&o)
    );
    let o = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(
        text(&o).contains("encrypted to a passphrase"),
        "{}",
        text(&o)
    );
}

#[test]
fn zip64_and_large_entry_stream_through_everything() {
    // 40 MiB of varied text: many parallel chunks, verified by this tool and unzip.
    let case = Case::new();
    let ev = case.path("big");
    std::fs::create_dir_all(&ev).unwrap();
    let mut data = String::with_capacity(42 << 20);
    let mut i = 0u64;
    while data.len() < 40 << 20 {
        data.push_str(&format!(
            "{{\"id\":\"{i:016x}\",\"n\":{}}}\n",
            i.wrapping_mul(2654435761) % 1000003
        ));
        i += 1;
    }
    std::fs::write(ev.join("big.json"), &data).unwrap();
    let pkg = case.seal(&ev, "out");
    bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .assert()
        .success();
    if have("age") && have("unzip") {
        let zip = case.path("p.zip");
        run(Sys::new("age")
            .arg("-d")
            .arg("-i")
            .arg(case.identity())
            .arg("-o")
            .arg(&zip)
            .arg(&pkg.ciphertext));
        run(Sys::new("unzip").arg("-tq").arg(&zip));
    }
}

#[test]
fn seal_and_custody_signatures_check_with_ssh_keygen_alone() {
    if !have("ssh-keygen") {
        return;
    }
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let o = run(Sys::new("ssh-keygen")
        .args(["-Y", "check-novalidate", "-n", "m365-preserve-seal", "-s"])
        .arg(&pkg.signature)
        .stdin(std::fs::File::open(&pkg.seal).unwrap()));
    let fp = m365_preserve_package::signing::SigningKey::load(&case.path("sealer"))
        .unwrap()
        .fingerprint();
    assert!(text(&o).contains(&fp), "{}", text(&o));

    // A custody line: the signed body is the line without "sig", keys sorted, compact.
    let line = std::fs::read_to_string(&pkg.custody).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let sig = v.as_object_mut().unwrap().remove("sig").unwrap();
    let body = case.path("body");
    std::fs::write(&body, m365_preserve_package::canonical::canonical_json(&v)).unwrap();
    let sig_file = case.path("line.sig");
    std::fs::write(&sig_file, sig.as_str().unwrap()).unwrap();
    let o = run(Sys::new("ssh-keygen")
        .args([
            "-Y",
            "check-novalidate",
            "-n",
            "m365-preserve-custody",
            "-s",
        ])
        .arg(&sig_file)
        .stdin(std::fs::File::open(&body).unwrap()));
    assert!(text(&o).contains(&fp), "{}", text(&o));
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in [
        &["seal"][..],
        &["verify"],
        &["open"],
        &["custody", "record"],
        &["custody", "show"],
        &["keygen"],
    ] {
        let o = bin().args(sub).arg("--help").output().unwrap();
        assert!(o.status.success());
        let t = text(&o);
        assert!(t.contains("Example"), "{sub:?} --help has no example:\n{t}");
    }
}

#[test]
fn colliding_and_unsafe_names_are_all_kept_and_extract_with_the_standard_tools() {
    let case = Case::new();
    let ev = case.path("names");
    std::fs::create_dir_all(&ev).unwrap();
    let files: [(&str, &str); 4] = [
        ("a.json", "lower"),
        ("A.json", "upper"),
        ("bell\u{7}.txt", "control"),
        ("back\\slash.txt", "backslash"),
    ];
    for (name, content) in files {
        std::fs::write(ev.join(name), content).unwrap();
    }
    let pkg = case.seal(&ev, "out");
    let o = case.verify_inside(&pkg);
    assert!(o.status.success(), "{}", text(&o));
    let dest = case.open_to(&pkg, "opened");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    for (name, content) in files {
        let entry = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["original_name"].as_str().or(f["path"].as_str())
                    == Some(&format!("evidence/{name}"))
            })
            .unwrap_or_else(|| panic!("{name:?} in {manifest:#}"));
        let stored = entry["path"].as_str().unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join(stored)).unwrap(),
            content,
            "{name:?} stored as {stored}"
        );
    }
    if have("age") && have("unzip") && have("7z") {
        case.decrypt_and_test_zip(&pkg);
    }
}
