//! Every file of the shared public corpus (../shared/corpus, read in place and
//! never copied: some are GPL) imports with the right variant and record count,
//! or, for a tool's own flattened reports, is refused with a clear message.
//! Skipped when the corpus is absent.

use crate::common::{bin, text, Case};
use serde_json::Value;
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/corpus is absent");
        None
    }
}

/// (file, variant, rows read, source, records written)
const IMPORTABLE: &[(&str, &str, u64, &str, u64)] = &[
    (
        "invictus-mes-lab-tenant/servicePrincipal-SignInLogs.json",
        "extractor-suite/signins-json",
        494,
        "entra-signins-serviceprincipal",
        494,
    ),
    (
        "invictus-mes-lab-tenant/managedIdentity-SignInLogs.json",
        "extractor-suite/signins-json",
        28,
        "entra-signins-managedidentity",
        28,
    ),
    (
        "invictus-mes-lab-tenant/AuditLogs.json",
        "extractor-suite/audit-logs-json",
        123,
        "entra-audit",
        123,
    ),
    (
        "invictus-mes-lab-tenant/MailboxRules.csv",
        "extractor-suite/mailbox-rules-csv",
        110,
        "mailbox-rules",
        110,
    ),
    // Rows 1 and 2 share an Id but differ (the query's keyEvents column): both kept.
    (
        "otrf-goldensaml/AADAuditEvents.json",
        "log-analytics-json/AuditLogs",
        4,
        "entra-audit",
        4,
    ),
    (
        "otrf-goldensaml/OfficeActivityEvents.json",
        "log-analytics-json/OfficeActivity",
        1,
        "purview-audit",
        1,
    ),
    (
        "ms-docs-mgmt-api/management-activity-api-content-blob-sample.json",
        "management-api/content-blob",
        3,
        "purview-audit",
        3,
    ),
    (
        "azure-monitor-docs/ms-docs-azure-monitor-signin-schema-sample.json",
        "azure-monitor/record",
        1,
        "entra-signins-interactive",
        1,
    ),
    (
        "graph-docs-examples/signins-beta-list-example1.json",
        "graph-json/signins",
        1,
        "entra-signins-interactive",
        1,
    ),
    (
        "graph-docs-examples/directoryaudits-v1-list-example1.json",
        "graph-json/directory-audits",
        1,
        "entra-audit",
        1,
    ),
    (
        "graph-docs-examples/directoryaudits-v1-list-example2.json",
        "graph-json/directory-audits",
        1,
        "entra-audit",
        1,
    ),
    (
        "graph-docs-examples/messagerules-v1-list.json",
        "graph-json/message-rules",
        2,
        "mailbox-rules",
        2,
    ),
    (
        "graph-docs-examples/authentication-methods-v1-list.json",
        "graph-json/authentication-methods",
        2,
        "auth-methods",
        2,
    ),
    (
        "graph-docs-examples/oauth2permissiongrants-v1-list.json",
        "graph-json/oauth2-grants",
        2,
        "oauth2-grants",
        2,
    ),
    (
        "graph-docs-examples/serviceprincipal-v1-get.json",
        "graph-json/service-principals",
        1,
        "service-principals",
        1,
    ),
    (
        "graph-docs-examples/device-v1-get.json",
        "graph-json/devices",
        1,
        "devices",
        1,
    ),
];

#[test]
fn every_importable_corpus_file_has_the_right_variant_and_count() {
    let Some(dir) = corpus() else { return };
    let case = Case::new();
    for (i, (file, variant, rows, source, records)) in IMPORTABLE.iter().enumerate() {
        let out = case.path(&format!("out{i}"));
        let o = bin()
            .arg("import")
            .arg(dir.join(file))
            .args([
                "--case",
                "CORPUS",
                "--examiner",
                "Tester",
                "--json",
                "--quiet",
                "--recipient",
                &case.age_public,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{file}: {}", text(&o));
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        let f = &doc["import"]["files"][0];
        assert_eq!(f["variant"], *variant, "{file}");
        assert_eq!(f["rows"], *rows, "{file}");
        assert_eq!(f["records"][source], *records, "{file}: {f}");
        let s = doc["import"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == *source)
            .unwrap();
        assert_eq!(s["records"], *records, "{file}");
        assert_eq!(s["status"], "complete", "{file}");
    }
}

#[test]
fn extractor_suite_reports_are_imported_into_their_sources() {
    let Some(dir) = corpus() else { return };
    let case = Case::new();
    for (i, (file, variant, source)) in [
        (
            "invictus-mes-lab-tenant/MFA-AuthenticationMethods.csv",
            "extractor-suite/mfa-authentication-methods-csv",
            "auth-methods",
        ),
        (
            "invictus-mes-lab-tenant/OAuthPermissions.csv",
            "extractor-suite/oauth-permissions-csv",
            "oauth2-grants",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let o = bin()
            .arg("import")
            .arg(dir.join(file))
            .args([
                "--case",
                "CORPUS",
                "--examiner",
                "Tester",
                "--json",
                "--quiet",
                "--recipient",
                &case.age_public,
                "--out",
            ])
            .arg(case.path(&format!("mes{i}")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{file}: {}", text(&o));
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        let f = &doc["import"]["files"][0];
        assert_eq!(f["variant"], variant, "{file}");
        let written: u64 = f["records"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(
            written + f["duplicates"].as_u64().unwrap(),
            f["rows"].as_u64().unwrap(),
            "{file}: every row is a record: {f}"
        );
        assert!(f["records"][source].as_u64().unwrap() > 0, "{file}: {f}");
    }
}
