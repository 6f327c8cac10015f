//! Every document the program writes validates against the JSON Schemas in
//! schemas/: seal, manifest, acquisition, and custody lines inside and outside.

use crate::common::*;
use serde_json::Value;

fn validator(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

fn json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_written_document_matches_its_schema() {
    let case = Case::new();
    let mut details = serde_json::Map::new();
    details.insert("query".into(), "GET /beta/auditLogs/signIns".into());
    let work = case.work_folder("2026-11-20T10:00:00.5+09:00", details);
    std::fs::write(
        work.join("collection.log"),
        "2026-11-25T00:00:00Z INFO collected\n",
    )
    .unwrap();

    let (seal_v, manifest_v, acq_v, custody_v) = (
        validator("seal.schema.json"),
        validator("manifest.schema.json"),
        validator("acquisition.schema.json"),
        validator("custody-event.schema.json"),
    );

    // Keys (age + passphrase packages), a partial source, hand-overs.
    let o = bin()
        .args([
            "seal",
            "--case",
            "IR 2026/042 ü",
            "--examiner",
            "佐藤",
            "-q",
            "--note",
            "n",
            "-r",
            &case.age_public,
            "--out",
        ])
        .arg(case.path("out"))
        .arg("--evidence")
        .arg(&work)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    bin()
        .env("PP", "a passphrase")
        .args([
            "seal",
            "--case",
            "C2",
            "--examiner",
            "E",
            "-q",
            "--passphrase-env",
            "PP",
            "--out",
        ])
        .arg(case.path("out2"))
        .arg("--evidence")
        .arg(case.evidence())
        .assert()
        .success();
    for out in ["out", "out2"] {
        let pkg = package_in(&case.path(out));
        for action in ["transferred", "received"] {
            bin()
                .args(["custody", "record"])
                .arg(&pkg.ciphertext)
                .args(["--action", action, "--by", "X", "--to", "Y"])
                .assert()
                .success();
        }
        check(&seal_v, &json(&pkg.seal), "seal.json");
        let custody = std::fs::read_to_string(&pkg.custody).unwrap();
        assert_eq!(custody.lines().count(), 3);
        for (i, line) in custody.lines().enumerate() {
            check(
                &custody_v,
                &serde_json::from_str(line).unwrap(),
                &format!("outside custody line {}", i + 1),
            );
        }
        let dest = case.path(&format!("{out}-opened"));
        let mut open = bin();
        open.env("PP", "a passphrase")
            .arg("open")
            .arg(&pkg.ciphertext)
            .arg("--to")
            .arg(&dest);
        if out == "out" {
            open.arg("-i").arg(case.identity());
        } else {
            open.args(["--passphrase-env", "PP"]);
        }
        open.assert().success();
        check(
            &manifest_v,
            &json(&dest.join("manifest.json")),
            "manifest.json",
        );
        check(
            &acq_v,
            &json(&dest.join("acquisition.json")),
            "acquisition.json",
        );
        let inner = std::fs::read_to_string(dest.join("custody.jsonl")).unwrap();
        for (i, line) in inner.lines().enumerate() {
            check(
                &custody_v,
                &serde_json::from_str(line).unwrap(),
                &format!("inside custody line {}", i + 1),
            );
        }
    }
}

#[test]
fn schemas_reject_a_damaged_seal() {
    let case = Case::new();
    let pkg = case.seal(&case.evidence(), "out");
    let v = validator("seal.schema.json");
    let mut seal = json(&pkg.seal);
    assert!(v.is_valid(&seal));
    seal["ciphertext"]["sha256"] = "XYZ".into();
    assert!(!v.is_valid(&seal));
    seal.as_object_mut().unwrap().remove("ciphertext");
    assert!(!v.is_valid(&seal));
}

#[test]
fn sealing_refuses_collector_documents_in_the_wrong_format() {
    use m365_preserve_package::evidence::{EvidenceWriter, SourceStatus};
    let case = Case::new();
    let work = case.path("work");
    EvidenceWriter::create(&m365_preserve_package::workdir::WorkDir::at(&work), "user")
        .unwrap()
        .finish(SourceStatus::Complete, None, Default::default())
        .unwrap();
    let summary = work.join(".m365-preserve/sources/user.json");
    let mut s = json(&summary);
    s["first_timestamp"] = "2026-11-20T19:00:00+09:00".into();
    std::fs::write(&summary, serde_json::to_vec(&s).unwrap()).unwrap();
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
        .arg(case.path("o"))
        .arg("--evidence")
        .arg(&work)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("is not RFC 3339 UTC"), "{}", text(&o));
}

/// The demo's package is what a real collection writes: every source, messages,
/// raw captures, collection-time custody events.
#[test]
fn a_collected_package_matches_the_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["demo", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let pkg = package_in(dir.path());
    check(
        &validator("seal.schema.json"),
        &json(&pkg.seal),
        "seal.json",
    );
    let key = files_under(dir.path())
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "agekey"))
        .unwrap();
    let dest = dir.path().join("opened");
    bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(&key)
        .arg("--to")
        .arg(&dest)
        .assert()
        .success();
    let manifest = json(&dest.join("manifest.json"));
    check(
        &validator("manifest.schema.json"),
        &manifest,
        "manifest.json",
    );
    check(
        &validator("acquisition.schema.json"),
        &json(&dest.join("acquisition.json")),
        "acquisition.json",
    );
    let custody_v = validator("custody-event.schema.json");
    let inner = std::fs::read_to_string(dest.join("custody.jsonl")).unwrap();
    for (i, line) in inner.lines().enumerate() {
        check(
            &custody_v,
            &serde_json::from_str(line).unwrap(),
            &format!("inside custody line {}", i + 1),
        );
    }
    for action in [
        "collection-started",
        "collection-finished",
        "evidence-sealed",
    ] {
        assert!(inner.contains(action), "{action} in {inner}");
    }
    assert!(
        manifest["sources"].as_array().unwrap().len() >= 23,
        "22 sources and messages"
    );
}
