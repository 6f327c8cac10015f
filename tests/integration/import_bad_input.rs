//! Bad exports: each stops the import with an error naming the file, line and
//! column, exit code 1 and no package; `--skip-bad-rows` instead seals the rest,
//! lists every skipped row and marks the source partial (exit code 3).

use crate::common::{bin, files_under, text, Case};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/import")
            .join(name),
    )
    .unwrap()
}

fn import(case: &Case, out: &str, files: &[PathBuf], extra: &[&str]) -> Output {
    bin()
        .arg("import")
        .args(files)
        .args(["--case", "IR-BAD", "--examiner", "Tester", "--out"])
        .arg(case.path(out))
        .args(["--recipient", &case.age_public, "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

/// Writes `bytes` as `name` and expects a failure whose message has every one of `want`.
fn refused(name: &str, bytes: &[u8], want: &[&str]) {
    let case = Case::new();
    let path = case.path(name);
    std::fs::write(&path, bytes).unwrap();
    let o = import(&case, "out", &[path], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(name), "the file is named: {t}");
    for w in want {
        assert!(t.contains(w), "{w:?} missing from: {t}");
    }
    assert!(
        files_under(&case.path("out")).is_empty(),
        "nothing is left: {:?}",
        files_under(&case.path("out"))
    );
}

const SIGNINS: &str = "InteractiveSignIns_2026-11-18_2026-11-25.csv";
const PURVIEW: &str = "AuditLog_20261125_061500.csv";

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .split_inclusive('\n')
        .map(String::from)
        .collect()
}

#[test]
fn truncated_json_download() {
    let json = fixture("InteractiveSignIns_2026-11-18_2026-11-25.json");
    let cut = &json[..json.len() * 2 / 3];
    refused(
        "InteractiveSignIns_2026-11-18.json",
        cut,
        &["line ", "column ", "truncated", "download it again"],
    );
}

#[test]
fn truncated_csv_download() {
    let csv = fixture(PURVIEW);
    // Cut inside the last row's AuditData cell.
    let cut = &csv[..csv.len() - 200];
    refused(PURVIEW, cut, &["line 4", "broken quoting"]);
}

#[test]
fn unknown_format_lists_what_was_expected() {
    refused(
        "notes.csv",
        b"name,comment\r\nalice,hello\r\n",
        &[
            "not a format m365-preserve can import",
            "Expected one of",
            "Entra admin center sign-in CSV",
            "Purview audit export CSV",
            "Get-InboxRule",
        ],
    );
    refused(
        "other.json",
        br#"[{"foo": 1, "bar": 2}]"#,
        &["Expected one of", "line 1", "\"foo\""],
    );
}

#[test]
fn broken_quoting() {
    let mut l = lines(&fixture(SIGNINS));
    // A quote opened and never closed in row 3 (line 4).
    l[3] = l[3].replacen(",Member,", ",\"Member,", 1);
    refused(
        SIGNINS,
        l.concat().as_bytes(),
        &["line 4", "fields but the header has 57", "broken quoting"],
    );
}

#[test]
fn invalid_utf8() {
    let mut bytes = fixture(SIGNINS);
    let at = bytes
        .windows("佐藤".len())
        .rposition(|w| w == "佐藤".as_bytes())
        .unwrap();
    bytes[at + 1] = 0xFF;
    refused(
        SIGNINS,
        &bytes,
        &["line 5", "column 6 (User)", "invalid UTF-8"],
    );
}

#[test]
fn empty_file() {
    refused(SIGNINS, b"", &["empty"]);
    refused("AuditLogs.json", b"\xEF\xBB\xBF\r\n", &["empty"]);
}

#[test]
fn multi_megabyte_field() {
    let mut l = lines(&fixture(PURVIEW));
    let huge = "A".repeat(3_000_000);
    l[2] = l[2].replacen(
        "\"{\"\"CreationTime",
        &format!("\"{{\"\"Padding\"\":\"\"{huge}\"\",\"\"CreationTime"),
        1,
    );
    refused(
        PURVIEW,
        l.concat().as_bytes(),
        &["line 3", "column 6 (AuditData)", "3.0 MB"],
    );
}

#[test]
fn audit_data_that_is_not_json() {
    let mut l = lines(&fixture(PURVIEW));
    l[2] = l[2].replacen("\"{\"\"CreationTime\"\"", "\"{CreationTime\"\"", 1);
    refused(
        PURVIEW,
        l.concat().as_bytes(),
        &[
            "line 3",
            "column 6 (AuditData)",
            "AuditData is not JSON",
            "--skip-bad-rows",
        ],
    );
}

#[test]
fn invalid_json_record_names_line_and_column() {
    let json = String::from_utf8(fixture("AuditLogs_2026-11-25.json")).unwrap();
    let bad = json.replacen("\"result\": \"success\"", "\"result\": succes", 1);
    refused(
        "AuditLogs_2026-11-25.json",
        bad.as_bytes(),
        &["line 6, column ", "not valid JSON"],
    );
}

#[test]
fn skip_bad_rows_seals_the_rest_lists_every_skipped_row_and_marks_partial() {
    let case = Case::new();
    let mut l = lines(&fixture(PURVIEW));
    l[2] = l[2].replacen("\"{\"\"CreationTime\"\"", "\"{CreationTime\"\"", 1);
    let purview = case.path(PURVIEW);
    std::fs::write(&purview, l.concat()).unwrap();
    let mut s = lines(&fixture(SIGNINS));
    s[3] = s[3].replacen(",Member,", ",\"Member,", 1);
    let signins = case.path(SIGNINS);
    std::fs::write(&signins, s.concat()).unwrap();
    let o = import(
        &case,
        "out",
        &[purview, signins],
        &["--skip-bad-rows", "--json"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["completeness"], "incomplete");
    let pkg = crate::common::package_in(&case.path("out"));
    let dest = case.path("opened");
    bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .arg("--to")
        .arg(&dest)
        .assert()
        .success();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    let src = |name: &str| {
        manifest["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .unwrap()
            .clone()
    };
    let p = src("purview-audit");
    assert_eq!(p["status"], "partial");
    assert_eq!(p["records"], 2);
    let skipped = p["details"]["skipped_rows"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["file"], PURVIEW);
    assert_eq!(skipped[0]["line"], 3);
    assert_eq!(skipped[0]["column"], 6);
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("AuditData is not JSON"));
    let s = src("entra-signins-interactive");
    assert_eq!(s["status"], "partial");
    assert_eq!(s["records"], 3);
    assert_eq!(s["details"]["skipped_rows"][0]["line"], 4);
    assert!(s["reason"].as_str().unwrap().contains("skipped"));
}
