//! `import_into` on a collector's work folder (the `collect --import` case):
//! on Entra ID Free the API directory audit is collected and sign-ins are
//! unavailable; the portal downloads complete them in the same evidence files.

use crate::common::{bin, text, Case};
use m365_preserve_import::{import_into, ImportOptions};
use m365_preserve_package::evidence::SourceStatus;
use m365_preserve_package::workdir::WorkDir;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

#[test]
fn imports_merge_into_the_collectors_sources_and_keep_its_facts() {
    let case = Case::new();
    let mut details = serde_json::Map::new();
    details.insert("query".into(), "GET /beta/auditLogs/signIns".into());
    let work = case.work_folder("2026-11-20T10:00:00Z", details);
    // The API audit record "1" plus one the download also has.
    let opts = ImportOptions {
        examiner: "Tester".into(),
        downloaded_by: Some("admin".into()),
        ..ImportOptions::default()
    };
    let files = [
        fixture("InteractiveSignIns_2026-11-18_2026-11-25.csv"),
        fixture("AuditLogs_2026-11-25.json"),
    ];
    let report = import_into(&WorkDir::at(&work), &files, &opts).unwrap();
    let s = |name: &str| report.sources.iter().find(|s| s.source == name).unwrap();
    let signins = s("entra-signins-interactive");
    assert_eq!(signins.status, SourceStatus::Complete, "the import decides");
    assert_eq!(signins.records, 4);
    assert_eq!(signins.details["collection"]["status"], "unavailable");
    assert!(signins.details["collection"]["reason"]
        .as_str()
        .unwrap()
        .contains("Entra ID Free"));
    assert_eq!(
        signins.details["collection"]["details"]["query"],
        "GET /beta/auditLogs/signIns"
    );
    let audit = s("entra-audit");
    assert_eq!(audit.records, 3);
    assert_eq!(audit.details["records_carried_from_collection"], 1);
    let text_json = std::fs::read_to_string(work.join("evidence/entra-audit.json")).unwrap();
    let recs: Vec<Value> = serde_json::from_str(&text_json).unwrap();
    assert_eq!(recs[0]["id"], "1", "the collector's records come first");
    assert_eq!(text_json.lines().count(), 5, "one record per line");
    // The same download again adds nothing: every record is a duplicate.
    let again = import_into(&WorkDir::at(&work), &files[1..], &opts).unwrap();
    let audit = again
        .sources
        .iter()
        .find(|s| s.source == "entra-audit")
        .unwrap();
    assert_eq!(audit.records, 3);
    assert_eq!(audit.details["duplicates_dropped"], 2);
    let custody = std::fs::read_to_string(work.join("custody.jsonl")).unwrap();
    assert_eq!(
        custody.lines().count(),
        3,
        "one event per imported file, chained"
    );

    // The merged folder seals and verifies.
    let pkg = case.seal(&work, "sealed");
    let v = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", text(&v));
}
