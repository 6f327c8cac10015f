//! `m365-preserve import` on self-written exports of Log Analytics / Sentinel
//! (CSV and JSON), Microsoft-Extractor-Suite and Hawk (tests/data/import/peers,
//! written by its `_generate.py`): each detected by content with the tool named
//! in the variant, mapped onto the collector's sources, and the CSV and JSON
//! forms of one export giving the same records.

use crate::common::{bin, package_in, text, Case};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn peer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import/peers")
        .join(name)
}

fn import(case: &Case, out: &str, args: &[&std::ffi::OsStr]) -> Output {
    bin()
        .arg("import")
        .args(args)
        .args(["--case", "IR-PEERS", "--examiner", "佐藤 花子", "--out"])
        .arg(case.path(out))
        .args(["--recipient", &case.age_public, "--json", "--quiet"])
        .output()
        .unwrap()
}

fn import_files(case: &Case, out: &str, files: &[PathBuf]) -> Value {
    let args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    let o = import(case, out, &args);
    assert!(o.status.success(), "{}", text(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    doc["import"].clone()
}

fn file<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in {r}"))
}

fn opened_records(case: &Case, out: &str, source: &str) -> Vec<Value> {
    let pkg = package_in(&case.path(out));
    let dest = case.path(&format!("{out}-opened"));
    if !dest.exists() {
        bin()
            .arg("open")
            .arg(&pkg.ciphertext)
            .arg("-i")
            .arg(case.identity())
            .arg("--to")
            .arg(&dest)
            .assert()
            .success();
    }
    let path = dest.join(format!("evidence/{source}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// (file, variant, rows, source, records)
const PEERS: &[(&str, &str, u64, &str, u64)] = &[
    (
        "la-signinlogs.csv",
        "log-analytics-csv/SigninLogs",
        3,
        "entra-signins-interactive",
        3,
    ),
    (
        "la-aadnoninteractiveusersigninlogs.csv",
        "log-analytics-csv/AADNonInteractiveUserSignInLogs",
        3,
        "entra-signins-noninteractive",
        3,
    ),
    (
        "la-aadserviceprincipalsigninlogs.csv",
        "log-analytics-csv/AADServicePrincipalSignInLogs",
        3,
        "entra-signins-serviceprincipal",
        3,
    ),
    (
        "la-aadmanagedidentitysigninlogs.csv",
        "log-analytics-csv/AADManagedIdentitySignInLogs",
        3,
        "entra-signins-managedidentity",
        3,
    ),
    (
        "la-auditlogs.csv",
        "log-analytics-csv/AuditLogs",
        4,
        "entra-audit",
        4,
    ),
    (
        "la-officeactivity.csv",
        "log-analytics-csv/OfficeActivity",
        4,
        "purview-audit",
        4,
    ),
    (
        "la-graphactivity.csv",
        "log-analytics-csv/MicrosoftGraphActivityLogs",
        4,
        "graph-activity",
        4,
    ),
    (
        "la-aadriskyserviceprincipals.csv",
        "log-analytics-csv/AADRiskyServicePrincipals",
        3,
        "risky-service-principals",
        3,
    ),
    (
        "la-aadserviceprincipalriskevents.csv",
        "log-analytics-csv/AADServicePrincipalRiskEvents",
        3,
        "service-principal-risk-detections",
        3,
    ),
    (
        "la-aadprovisioninglogs.csv",
        "log-analytics-csv/AADProvisioningLogs",
        3,
        "entra-provisioning",
        3,
    ),
    (
        "la-signinlogs.json",
        "log-analytics-json/SigninLogs",
        3,
        "entra-signins-interactive",
        3,
    ),
    (
        "la-auditlogs.jsonl",
        "log-analytics-json/AuditLogs",
        4,
        "entra-audit",
        4,
    ),
    (
        "mes-signinlogs.json",
        "extractor-suite/signins-json",
        4,
        "entra-signins-interactive",
        3,
    ),
    (
        "mes-auditlogs.json",
        "extractor-suite/audit-logs-json",
        4,
        "entra-audit",
        4,
    ),
    (
        "mes-ual.csv",
        "purview-export-csv/search-unifiedauditlog",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-ual.json",
        "exchange-powershell/search-unifiedauditlog-json",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-ual.jsonl",
        "exchange-powershell/search-unifiedauditlog-json",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-ualgraph.jsonl",
        "extractor-suite/ual-auditdata-jsonl",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-signinlogs-sofelk.json",
        "extractor-suite/signins-json",
        4,
        "entra-signins-interactive",
        3,
    ),
    (
        "mes-auditlogs-ps7.json",
        "extractor-suite/audit-logs-json",
        4,
        "entra-audit",
        4,
    ),
    (
        "la-union-signin-dynamic-string.csv",
        "log-analytics-csv/SigninLogs",
        4,
        "entra-signins-interactive",
        2,
    ),
    (
        "mes-ual-auditdataonly.jsonl",
        "extractor-suite/ual-auditdata-jsonl",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-ualgraph.csv",
        "extractor-suite/ualgraph-csv",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-ualgraph.json",
        "extractor-suite/ualgraph-json",
        5,
        "purview-audit",
        5,
    ),
    (
        "mes-mailboxrules-8col.csv",
        "extractor-suite/mailbox-rules-8col-csv",
        3,
        "mailbox-rules",
        3,
    ),
    (
        "mes-mailboxrules-8col-v3.csv",
        "extractor-suite/mailbox-rules-8col-csv",
        3,
        "mailbox-rules",
        3,
    ),
    (
        "mes-mailboxrules-24col-v304.csv",
        "extractor-suite/mailbox-rules-csv",
        3,
        "mailbox-rules",
        3,
    ),
    (
        "mes-mailboxrules-24col.csv",
        "extractor-suite/mailbox-rules-csv",
        3,
        "mailbox-rules",
        3,
    ),
    (
        "mes-mailboxrulesgraph.csv",
        "extractor-suite/mailbox-rules-graph-csv",
        3,
        "mailbox-rules",
        3,
    ),
    (
        "mes-oauthpermissions.csv",
        "extractor-suite/oauth-permissions-csv",
        4,
        "oauth2-grants",
        3,
    ),
    (
        "mes-mfa-authenticationmethods.csv",
        "extractor-suite/mfa-authentication-methods-csv",
        3,
        "auth-methods",
        3,
    ),
    (
        "mes-mfa-userregistrationdetails.csv",
        "extractor-suite/mfa-user-registration-csv",
        3,
        "auth-registration",
        3,
    ),
    (
        "hawk-inboxrules.csv",
        "hawk/inbox-rules-csv",
        3,
        "mailbox-rules",
        3,
    ),
    (
        "hawk-investigate-inboxrules.json",
        "hawk/inbox-rules-json",
        2,
        "mailbox-rules",
        2,
    ),
    (
        "hawk-user-forwardingreport.csv",
        "hawk/forwarding-csv",
        3,
        "mailbox-settings",
        3,
    ),
    (
        "hawk-consent-grants.csv",
        "hawk/consent-grants-csv",
        4,
        "oauth2-grants",
        3,
    ),
    (
        "hawk-converted-authentication-logs.csv",
        "hawk/authentication-logs-csv",
        3,
        "purview-audit",
        3,
    ),
    (
        "hawk-admin-inbox-rules-creation.csv",
        "hawk/ual-csv",
        1,
        "purview-audit",
        1,
    ),
    (
        "hawk-simple-admin-inbox-rules-creation.csv",
        "hawk/ual-simple-csv",
        2,
        "purview-audit",
        2,
    ),
];

#[test]
fn every_peer_export_is_detected_by_content_and_lands_in_its_source() {
    let case = Case::new();
    for (i, (name, variant, rows, source, records)) in PEERS.iter().enumerate() {
        let r = import_files(&case, &format!("p{i}"), &[peer(name)]);
        let f = file(&r, name);
        assert_eq!(f["variant"], *variant, "{name}: {f}");
        assert_eq!(f["rows"], *rows, "{name}");
        assert_eq!(f["records"][source], *records, "{name}: {f}");
        assert!(f["skipped_rows"].as_array().unwrap().is_empty(), "{name}");
        for s in r["sources"].as_array().unwrap() {
            assert_eq!(s["status"], "complete", "{name}: {s}");
        }
    }
}

/// Every leaf of `v` but `unmappedFields`, date-times cut to milliseconds (the
/// Log Analytics CSV export writes milliseconds, its JSON seven digits).
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

fn ms(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if s.len() >= 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') => {
            // Seconds, then the fraction cut to milliseconds ("" when zero).
            let frac = s[19..s.len() - 1].trim_start_matches('.');
            let mut ms: String = frac.chars().chain("000".chars()).take(3).collect();
            if ms == "000" {
                ms.clear();
            } else {
                ms.insert(0, '.');
            }
            Value::String(format!("{}{ms}Z", &s[..19]))
        }
        _ => v.clone(),
    }
}

/// Every Graph-field leaf of each `a` record is in the `b` record of its id.
fn same_records(a: &[Value], b: &[Value], id: &str) -> usize {
    assert_eq!(a.len(), b.len());
    let mut compared = 0;
    for x in a {
        let y = b.iter().find(|y| y[id] == x[id]).expect("same ids");
        let (mut lx, mut ly) = (Vec::new(), Vec::new());
        leaves(x, String::new(), &mut lx);
        leaves(y, String::new(), &mut ly);
        assert_eq!(lx.len(), ly.len(), "{id} {}: {lx:?} vs {ly:?}", x[id]);
        for (path, value) in lx {
            assert_eq!(
                y.pointer(&path).map(ms),
                Some(ms(&value)),
                "{path} of {}",
                x[id]
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn csv_and_json_forms_of_one_export_give_the_same_records() {
    let case = Case::new();
    for (csv, json, source, id, at_least) in [
        (
            "la-signinlogs.csv",
            "la-signinlogs.json",
            "entra-signins-interactive",
            "id",
            120,
        ),
        (
            "la-auditlogs.csv",
            "la-auditlogs.jsonl",
            "entra-audit",
            "id",
            60,
        ),
        ("mes-ual.csv", "mes-ual.jsonl", "purview-audit", "id", 80),
        ("mes-ual.csv", "mes-ual.json", "purview-audit", "id", 80),
        (
            "mes-ualgraph.csv",
            "mes-ualgraph.json",
            "purview-audit",
            "id",
            80,
        ),
    ] {
        let a = format!("{csv}-a-{json}");
        let b = format!("{csv}-b-{json}");
        import_files(&case, &a, &[peer(csv)]);
        import_files(&case, &b, &[peer(json)]);
        let from_csv = opened_records(&case, &a, source);
        let from_json = opened_records(&case, &b, source);
        let n = same_records(&from_csv, &from_json, id);
        assert!(n >= at_least, "{csv} vs {json}: {n} leaves compared");
    }
}

#[test]
fn log_analytics_rows_are_mapped_to_graph_shapes() {
    let case = Case::new();
    import_files(
        &case,
        "la",
        &[
            peer("la-signinlogs.csv"),
            peer("la-union-signin-dynamic-string.csv"),
            peer("la-officeactivity.csv"),
            peer("la-graphactivity.csv"),
        ],
    );
    let signins = opened_records(&case, "la", "entra-signins-interactive");
    let first = &signins[0];
    assert_eq!(first["createdDateTime"], "2026-06-14T23:58:40.412Z");
    assert_eq!(first["isInteractive"], true);
    assert_eq!(first["status"]["errorCode"], 0);
    assert_eq!(first["location"]["city"], "Chiyoda");
    assert!(first["appliedConditionalAccessPolicies"].is_array());
    assert_eq!(
        first["unmappedFields"]["TenantId"],
        "11112222-3333-4444-5555-666677778888"
    );
    let noninteractive = opened_records(&case, "la", "entra-signins-noninteractive");
    assert!(
        noninteractive.iter().all(|r| r["status"].is_object()),
        "X_string coalesced: {noninteractive:?}"
    );
    let office = opened_records(&case, "la", "purview-audit");
    assert!(office
        .iter()
        .all(|r| r["auditLogRecordType"].as_str().is_some_and(|t| t
            .chars()
            .next()
            .unwrap()
            .is_uppercase())));
    assert!(
        office
            .iter()
            .any(|r| r["unmappedFields"]["OriginatingServer"]
                .as_str()
                .is_some_and(|s| s.ends_with("\r\n"))),
        "multi-line cell kept"
    );
    let graph = opened_records(&case, "la", "graph-activity");
    assert!(graph.iter().all(|r| r["requestUri"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://graph.microsoft.com/"))));
}

#[test]
fn as_names_the_variant_the_content_cannot_and_is_recorded_as_the_operators() {
    let case = Case::new();
    let renamed = case.path("signins.csv");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/import/NonInteractiveSignIns_2026-11-18_2026-11-25.csv"),
        &renamed,
    )
    .unwrap();
    let ual = peer("mes-ual.csv");
    let o = import(
        &case,
        "as",
        &[
            "--as".as_ref(),
            "entra-portal-csv/noninteractive".as_ref(),
            renamed.as_os_str(),
            "--as".as_ref(),
            "extractor-suite/ual-csv".as_ref(),
            ual.as_os_str(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &doc["import"];
    let s = file(r, "signins.csv");
    assert_eq!(s["variant"], "entra-portal-csv/noninteractive/legacy");
    assert_eq!(s["identified_by"], "operator");
    assert_eq!(s["records"]["entra-signins-noninteractive"], 3);
    let u = file(r, "mes-ual.csv");
    assert_eq!(u["variant"], "extractor-suite/ual-csv");
    assert_eq!(u["identified_by"], "operator");
    let manifest_entry = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"] == "entra-signins-noninteractive")
        .unwrap();
    assert_eq!(
        manifest_entry["details"]["imported_files"][0]["identified_by"],
        "operator"
    );

    // A variant of another kind than the content is refused, naming the file.
    let o = import(
        &case,
        "wrong",
        &[
            "--as".as_ref(),
            "entra-portal-csv/interactive".as_ref(),
            ual.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("mes-ual.csv") && t.contains("--as entra-portal-csv/interactive does not fit"),
        "{t}"
    );
    // --as after the last file describes nothing.
    let o = import(
        &case,
        "late",
        &[
            ual.as_os_str(),
            "--as".as_ref(),
            "extractor-suite/ual-csv".as_ref(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
