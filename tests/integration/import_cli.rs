//! `m365-preserve import` (the real binary) on self-written exports of every
//! supported variant: detection, record counts, mapping, de-duplication,
//! encodings, and a package that verifies with the originals inside byte for byte.

use crate::common::{bin, package_in, text, Case};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

fn import(case: &Case, out: &str, files: &[PathBuf], extra: &[&str]) -> Output {
    bin()
        .arg("import")
        .args(files)
        .args(["--case", "IR-IMPORT", "--examiner", "佐藤 花子", "--out"])
        .arg(case.path(out))
        .args(["--recipient", &case.age_public, "--json", "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

/// The `import` part of the `--json` document of a successful run.
fn report(o: &Output) -> Value {
    assert!(o.status.success(), "{}", text(o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    doc["import"].clone()
}

fn file_report<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in the report"))
}

fn source<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == name)
        .unwrap_or_else(|| panic!("source {name} not in {r}"))
}

/// Opens the package in `out` and returns the folder.
fn open(case: &Case, out: &str) -> PathBuf {
    let pkg = package_in(&case.path(out));
    let dest = case.path(&format!("{out}-opened"));
    bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .arg("--to")
        .arg(&dest)
        .assert()
        .success();
    dest
}

fn records(dir: &Path, source: &str) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(dir.join(format!("evidence/{source}.json"))).unwrap())
        .unwrap()
}

const VARIANTS: &[(&str, &str, u64)] = &[
    (
        "InteractiveSignIns_2026-11-18_2026-11-25.csv",
        "entra-portal-csv/interactive/current",
        4,
    ),
    (
        "NonInteractiveSignIns_2026-11-18_2026-11-25.csv",
        "entra-portal-csv/noninteractive/legacy",
        3,
    ),
    (
        "InteractiveSignIns_AuthDetails_2026-11-18_2026-11-25.csv",
        "entra-portal-csv/authdetails",
        4,
    ),
    (
        "ApplicationSignIns_2026-11-18_2026-11-25.csv",
        "entra-portal-csv/serviceprincipal/current",
        2,
    ),
    (
        "MSISignIns_2026-11-18_2026-11-25.csv",
        "entra-portal-csv/managedidentity/current",
        1,
    ),
    (
        "InteractiveSignIns_2026-11-18_2026-11-25.json",
        "graph-json/signins",
        4,
    ),
    ("graph-signins-page.json", "graph-json/signins", 2),
    ("signins-noninteractive.jsonl", "graph-json/signins", 3),
    ("AuditLogs_2026-11-25.csv", "entra-portal-csv/audit", 2),
    (
        "AuditLogs_2026-11-25.json",
        "graph-json/directory-audits",
        2,
    ),
    (
        "AuditLog_20261125_061500.csv",
        "purview-export-csv/current",
        3,
    ),
    ("purview-classic.csv", "purview-export-csv/classic", 2),
    (
        "purview-classic-recordtype.csv",
        "purview-export-csv/classic-recordtype",
        2,
    ),
    (
        "search-unifiedauditlog.csv",
        "purview-export-csv/search-unifiedauditlog",
        2,
    ),
    ("management-api-blob.json", "management-api/content-blob", 3),
    ("eventhub-message.json", "azure-monitor/event-hub", 6),
    ("PT1H.json", "azure-monitor/storage-pt1h", 2),
    (
        "loganalytics-signins.json",
        "log-analytics-json/SigninLogs",
        2,
    ),
    (
        "loganalytics-auditlogs.json",
        "log-analytics-json/AuditLogs",
        1,
    ),
    (
        "loganalytics-officeactivity.json",
        "log-analytics-json/OfficeActivity",
        1,
    ),
    (
        "Get-InboxRule_hanako.sato.csv",
        "exchange-powershell/get-inboxrule-csv",
        2,
    ),
    (
        "Get-InboxRule_hanako.sato.json",
        "exchange-powershell/get-inboxrule-json",
        2,
    ),
    ("Get-Mailbox.csv", "exchange-powershell/get-mailbox-csv", 2),
    (
        "Get-Mailbox.json",
        "exchange-powershell/get-mailbox-json",
        1,
    ),
    (
        "InteractiveSignIns_resaved_by_excel.csv",
        "entra-portal-csv/interactive/current",
        2,
    ),
];

#[test]
fn every_variant_is_detected_with_its_rows_and_lands_in_the_collectors_sources() {
    let case = Case::new();
    let files: Vec<PathBuf> = VARIANTS.iter().map(|(f, _, _)| fixture(f)).collect();
    let r = report(&import(&case, "all", &files, &[]));
    for (name, variant, rows) in VARIANTS {
        let f = file_report(&r, name);
        assert_eq!(f["variant"], *variant, "{name}");
        assert_eq!(f["rows"], *rows, "{name}");
        assert!(f["skipped_rows"].as_array().unwrap().is_empty(), "{name}");
    }
    assert_eq!(
        file_report(&r, "InteractiveSignIns_2026-11-18_2026-11-25.csv")["columns"],
        57
    );
    assert_eq!(
        file_report(&r, "NonInteractiveSignIns_2026-11-18_2026-11-25.csv")["columns"],
        55
    );
    assert_eq!(
        file_report(&r, "ApplicationSignIns_2026-11-18_2026-11-25.csv")["columns"],
        22
    );
    assert_eq!(file_report(&r, "AuditLogs_2026-11-25.csv")["columns"], 86);
    // Event Hub: five categories routed, ADFS kept only as the original file.
    let eh = file_report(&r, "eventhub-message.json");
    assert_eq!(eh["container"], "records-envelope");
    assert_eq!(eh["not_imported"]["ADFSSignInLogs"], 1);
    for (src, n) in [
        ("entra-signins-interactive", 6),
        ("entra-signins-noninteractive", 3),
        ("entra-signins-serviceprincipal", 3),
        ("entra-signins-managedidentity", 2),
        ("entra-audit", 5),
        ("purview-audit", 3),
        ("mailbox-rules", 2),
        ("mailbox-settings", 2),
    ] {
        // `n` distinct records; the same record in another shape (Graph JSON
        // and portal CSV, Event Hub, Log Analytics, the Excel re-save) has other
        // content and is kept too, as an id conflict of an id already counted.
        let s = source(&r, src);
        let conflicts = s["id_conflicts"]["records"].as_u64().unwrap_or(0);
        assert_eq!(s["records"].as_u64(), Some(n + conflicts), "{src}: {s}");
        assert_eq!(s["status"], "complete", "{src}");
    }
    let conflicts = &source(&r, "entra-signins-interactive")["id_conflicts"];
    assert!(conflicts["records"].as_u64() > Some(0), "{conflicts}");

    let dir = open(&case, "all");
    let purview = records(&dir, "purview-audit");
    let rule = purview
        .iter()
        .find(|x| x["operation"] == "New-InboxRule")
        .unwrap();
    assert_eq!(rule["auditLogRecordType"], "ExchangeAdmin");
    assert_eq!(
        rule["createdDateTime"], "2026-11-18T01:14:03Z",
        "AuditData.CreationTime is canonical"
    );
    assert_eq!(rule["auditData"]["Parameters"][1]["Value"], "RSS Feeds");
    let rules = records(&dir, "mailbox-rules");
    let hidden = rules.iter().find(|x| x["sequence"] == 2).unwrap();
    assert_eq!(
        hidden["actions"]["forwardTo"][0]["emailAddress"]["address"],
        "keiri.backup@evil-mail.example"
    );
    assert!(
        hidden.get("displayName").is_none(),
        "an empty rule name stays empty"
    );
    let audits = records(&dir, "entra-audit");
    let consent = audits
        .iter()
        .find(|a| a["activityDisplayName"] == "Consent to application")
        .unwrap();
    assert_eq!(
        consent["initiatedBy"]["app"]["servicePrincipalName"],
        "Microsoft Graph PowerShell"
    );
    assert_eq!(consent["targetResources"][0]["type"], "ServicePrincipal");
    let diag = records(&dir, "entra-signins-managedidentity");
    assert!(diag
        .iter()
        .any(|x| x["unmappedFields"]["category"] == "ManagedIdentitySignInLogs"));
}

/// Every leaf of `a` (but `unmappedFields`) with its value.
fn leaves(v: &Value, prefix: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k != "unmappedFields" {
                    leaves(x, format!("{prefix}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{prefix}/{i}"), out);
            }
        }
        other => out.push((prefix, other.clone())),
    }
}

#[test]
fn the_csv_and_json_downloads_of_the_same_sign_ins_give_the_same_records() {
    let case = Case::new();
    report(&import(
        &case,
        "csv",
        &[fixture("InteractiveSignIns_2026-11-18_2026-11-25.csv")],
        &[],
    ));
    report(&import(
        &case,
        "json",
        &[fixture("InteractiveSignIns_2026-11-18_2026-11-25.json")],
        &[],
    ));
    let from_csv = records(&open(&case, "csv"), "entra-signins-interactive");
    let from_json = records(&open(&case, "json"), "entra-signins-interactive");
    assert_eq!(from_csv.len(), 4);
    assert_eq!(from_json.len(), 4);
    let mut compared = 0;
    for c in &from_csv {
        let j = from_json
            .iter()
            .find(|j| j["id"] == c["id"])
            .expect("same ids");
        let mut l = Vec::new();
        leaves(c, String::new(), &mut l);
        assert!(l.len() > 40, "the CSV carries most fields: {}", l.len());
        for (path, value) in l {
            assert_eq!(j.pointer(&path), Some(&value), "{path} of {}", c["id"]);
            compared += 1;
        }
        assert_eq!(
            c["unmappedFields"]["Status"],
            if j["status"]["errorCode"] == 0 {
                "Success"
            } else {
                "Failure"
            }
        );
    }
    assert!(compared > 160);
}

/// Overlapping downloads: a record is left out only when an earlier one has its
/// id and the same content (the Graph page repeats the JSON download; the Purview
/// export and the Management API blob hold the same AuditData). The portal CSV
/// and the Graph JSON of the same sign-ins differ in content (the CSV has fewer
/// fields), so both forms are kept and each id is listed as a conflict.
#[test]
fn overlapping_downloads_are_deduplicated_by_content_with_counts() {
    let case = Case::new();
    let files = [
        fixture("InteractiveSignIns_2026-11-18_2026-11-25.csv"),
        fixture("InteractiveSignIns_2026-11-18_2026-11-25.json"),
        fixture("graph-signins-page.json"),
        fixture("management-api-blob.json"),
        fixture("AuditLog_20261125_061500.csv"),
    ];
    let r = report(&import(&case, "dedup", &files, &[]));
    assert_eq!(file_report(&r, ".csv")["duplicates"], 0);
    let json = file_report(&r, "25.json");
    assert_eq!(json["duplicates"], 0, "{json}");
    assert_eq!(json["id_conflicts"], 4, "{json}");
    assert_eq!(file_report(&r, "graph-signins-page.json")["duplicates"], 2);
    // The blob holds one record twice; the export repeats both of its records.
    assert_eq!(file_report(&r, "management-api-blob.json")["duplicates"], 1);
    assert_eq!(
        file_report(&r, "AuditLog_20261125_061500.csv")["duplicates"],
        2
    );
    let signins = source(&r, "entra-signins-interactive");
    assert_eq!(signins["records"], 8, "both forms of the 4 sign-ins");
    assert_eq!(signins["details"]["duplicates_dropped"], 2);
    assert_eq!(signins["id_conflicts"]["records"], 4);
    assert_eq!(signins["id_conflicts"]["ids"].as_array().unwrap().len(), 4);
    assert_eq!(
        signins["details"]["imported_files"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let purview = source(&r, "purview-audit");
    assert_eq!(purview["records"], 3);
    assert_eq!(purview["details"]["duplicates_dropped"], 3);
    assert!(purview.get("id_conflicts").is_none(), "{purview}");
}

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = if bom { vec![0xFEFF] } else { vec![] };
    for u in units.into_iter().chain(text.encode_utf16()) {
        out.extend(if little_endian {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

#[test]
fn utf16_and_bomless_files_import_like_the_utf8_download() {
    let case = Case::new();
    let original = std::fs::read(fixture("InteractiveSignIns_2026-11-18_2026-11-25.csv")).unwrap();
    let text = std::str::from_utf8(&original[3..]).unwrap();
    let dir = case.path("inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let variants: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "utf-8 with BOM",
            original.clone(),
            "InteractiveSignIns_bom.csv",
        ),
        (
            "utf-8",
            text.as_bytes().to_vec(),
            "InteractiveSignIns_nobom.csv",
        ),
        (
            "utf-8",
            text.replace("\r\n", "\n").into_bytes(),
            "InteractiveSignIns_lf.csv",
        ),
        (
            "utf-16le",
            utf16(text, true, true),
            "InteractiveSignIns_utf16le.csv",
        ),
        (
            "utf-16be",
            utf16(text, false, true),
            "InteractiveSignIns_utf16be.csv",
        ),
        (
            "utf-16le",
            utf16(text, true, false),
            "InteractiveSignIns_utf16le_nobom.csv",
        ),
    ];
    let mut baseline: Option<Vec<Value>> = None;
    for (i, (encoding, bytes, name)) in variants.iter().enumerate() {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = format!("enc{i}");
        let r = report(&import(&case, &out, &[path], &[]));
        let f = file_report(&r, name);
        assert_eq!(f["encoding"], *encoding, "{name}");
        assert_eq!(f["rows"], 4, "{name}");
        let recs = records(&open(&case, &out), "entra-signins-interactive");
        match &baseline {
            None => baseline = Some(recs),
            Some(b) => assert_eq!(&recs, b, "{name} gives other records"),
        }
    }
    assert_eq!(baseline.unwrap()[3]["location"]["city"], "Chiyoda, Tokyo");
}

#[test]
fn package_verifies_and_holds_the_originals_byte_for_byte_with_custody() {
    let case = Case::new();
    let names = [
        "InteractiveSignIns_2026-11-18_2026-11-25.csv",
        "InteractiveSignIns_AuthDetails_2026-11-18_2026-11-25.csv",
        "AuditLog_20261125_061500.csv",
        "Get-InboxRule_hanako.sato.json",
    ];
    let mut files: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    // Same name from another folder: stored beside, not over, the first.
    let other = case.path("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(
        fixture("AuditLog_20261125_061500.csv"),
        other.join("AuditLog_20261125_061500.csv"),
    )
    .unwrap();
    files.push(other.join("AuditLog_20261125_061500.csv"));
    let o = import(
        &case,
        "pkg",
        &files,
        &[
            "--downloaded-at",
            "2026-11-25T06:00:00Z",
            "--downloaded-by",
            "佐藤 花子 (Reports Reader)",
            "--note",
            "portal downloads",
        ],
    );
    let r = report(&o);
    assert_eq!(
        file_report(&r, "AuditLog_20261125_061500.csv")["stored_as"],
        "evidence/imported/AuditLog_20261125_061500.csv"
    );
    assert_eq!(
        r["files"][4]["stored_as"],
        "evidence/imported/AuditLog_20261125_061500-2.csv"
    );
    let pkg = package_in(&case.path("pkg"));
    let v = bin()
        .arg("verify")
        .arg(&pkg.ciphertext)
        .arg("--identity")
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", text(&v));
    let dir = open(&case, "pkg");
    for name in names {
        assert_eq!(
            std::fs::read(dir.join("evidence/imported").join(name)).unwrap(),
            std::fs::read(fixture(name)).unwrap(),
            "{name}"
        );
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/manifest.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "manifest vs schema: {errors:?}");
    let imported = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "evidence/imported/Get-InboxRule_hanako.sato.json")
        .unwrap();
    assert_eq!(imported["role"], "imported");
    assert_eq!(
        imported["sha256"],
        file_report(&r, "Get-InboxRule_hanako.sato.json")["sha256"]
    );
    let custody = std::fs::read_to_string(dir.join("custody.jsonl")).unwrap();
    let events: Vec<Value> = custody
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let imports: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "evidence-imported")
        .collect();
    assert_eq!(imports.len(), 5);
    assert_eq!(
        imports[0]["details"]["downloaded_at"],
        "2026-11-25T06:00:00Z"
    );
    assert_eq!(
        imports[0]["details"]["downloaded_by"],
        "佐藤 花子 (Reports Reader)"
    );
    assert_eq!(imports[0]["note"], "portal downloads");
    // Authentication steps joined to their sign-ins by Request ID.
    let signins = records(&dir, "entra-signins-interactive");
    let mfa = signins
        .iter()
        .find(|s| s["id"] == "6a1b2c3d-0002-4e5f-8a9b-0c1d2e3f4a5b")
        .unwrap();
    let steps = mfa["authenticationDetails"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1]["authenticationMethod"], "Mobile app notification");
    assert_eq!(steps[1]["succeeded"], true);
    let auth = file_report(&r, "AuthDetails_2026-11-18_2026-11-25.csv");
    assert_eq!(auth["auth_steps"], serde_json::json!([3, 1]));
    // No work folder is left behind.
    let left: Vec<_> = std::fs::read_dir(case.path("pkg"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".work"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn locale_dates_are_read_when_unambiguous_and_flagged_when_not() {
    let case = Case::new();
    let r = report(&import(
        &case,
        "dates",
        &[fixture("InteractiveSignIns_resaved_by_excel.csv")],
        &[],
    ));
    let s = source(&r, "entra-signins-interactive");
    let flagged = s["details"]["ambiguous_dates"].as_array().unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["line"], 2);
    assert_eq!(flagged[0]["column"], 1);
    assert_eq!(flagged[0]["column_name"], "Date (UTC)");
    assert_eq!(flagged[0]["value"], "03/04/2026 10:00");
    let recs = records(&open(&case, "dates"), "entra-signins-interactive");
    assert_eq!(
        recs[0]["createdDateTime"], "03/04/2026 10:00",
        "kept verbatim, not guessed"
    );
    assert_eq!(recs[1]["createdDateTime"], "2026-03-24T10:05:01Z");
}

#[test]
fn user_sign_in_csv_without_the_portal_name_is_refused_with_what_to_do() {
    let case = Case::new();
    let renamed = case.path("signins.csv");
    std::fs::copy(
        fixture("InteractiveSignIns_2026-11-18_2026-11-25.csv"),
        &renamed,
    )
    .unwrap();
    let o = import(&case, "renamed", &[renamed], &[]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("signins.csv")
            && t.contains("InteractiveSignIns_")
            && t.contains("--as entra-portal-csv/interactive"),
        "{t}"
    );
    assert!(
        !case.path("renamed").exists()
            || std::fs::read_dir(case.path("renamed"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn same_id_with_other_content_is_kept_and_listed_as_a_conflict() {
    let case = Case::new();
    let files = [
        fixture("management-api-blob-anonymized.json"),
        fixture("purview-classic-repeated-ids.csv"),
    ];
    let r = report(&import(&case, "conflicts", &files, &[]));
    let blob = file_report(&r, "management-api-blob-anonymized.json");
    assert_eq!(blob["rows"], 8);
    assert_eq!(blob["records"]["purview-audit"], 6, "{blob}");
    assert_eq!(blob["duplicates"], 2, "byte-for-byte repeats only");
    assert_eq!(blob["id_conflicts"], 3);
    let classic = file_report(&r, "purview-classic-repeated-ids.csv");
    assert_eq!(classic["rows"], 6);
    assert_eq!(classic["records"]["purview-audit"], 4, "{classic}");
    assert_eq!(classic["duplicates"], 2);
    assert_eq!(classic["id_conflicts"], 1);
    let purview = source(&r, "purview-audit");
    assert_eq!(purview["status"], "complete", "every record is kept");
    assert_eq!(purview["records"], 10);
    let conflicts = &purview["id_conflicts"];
    assert_eq!(conflicts["records"], 4);
    assert_eq!(
        conflicts["ids"],
        serde_json::json!([
            {"id": "ANONYMIZED", "versions": 4},
            {"id": "5c2d0000-0000-4000-8000-000000000010", "versions": 2},
        ])
    );
    let dir = open(&case, "conflicts");
    let recs = records(&dir, "purview-audit");
    let anonymized: Vec<&Value> = recs.iter().filter(|x| x["id"] == "ANONYMIZED").collect();
    assert_eq!(anonymized.len(), 4);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let entry = manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "purview-audit")
        .unwrap();
    assert_eq!(
        entry["id_conflicts"]["records"], 4,
        "in the sealed manifest"
    );
    let schema: Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/manifest.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "manifest vs schema: {errors:?}");
}
