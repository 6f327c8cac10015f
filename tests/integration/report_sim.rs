//! The triage report against the simulated tenant (the real binary): every
//! artefact the scenario plants is named at medium or above, none of its benign
//! look-alikes above low; `findings.json` matches its schema and is
//! byte-identical when made again; the report is sealed, listed and verified;
//! a Free tenant's report says which rules could not run; the HTML renders in
//! headless Chromium.

use crate::collect_sim::{collect, open, sim};
use crate::common::{bin, have, package_in, text, Case};
use m365_preserve_sim::fixture::Licence;
use serde_json::Value;
use std::path::Path;

fn findings(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("report/findings.json")).unwrap()).unwrap()
}

/// The worst severity among findings whose subject or rule matches.
fn worst(report: &Value, rule: &str, subject: &str) -> Option<String> {
    let order = ["info", "low", "medium", "high", "critical"];
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule && f["subject"].as_str().unwrap().contains(subject))
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .max_by_key(|s| order.iter().position(|o| o == s))
}

fn at_least_medium(report: &Value, rule: &str, subject: &str) {
    let s = worst(report, rule, subject)
        .unwrap_or_else(|| panic!("no {rule} finding on {subject}: {}", summary(report)));
    assert!(
        ["medium", "high", "critical"].contains(&s.as_str()),
        "{rule} {subject} is only {s}"
    );
}

fn at_most_low(report: &Value, subject: &str) {
    for f in report["findings"].as_array().unwrap() {
        if f["subject"].as_str().unwrap().contains(subject) {
            let s = f["severity"].as_str().unwrap();
            assert!(
                ["info", "low"].contains(&s),
                "benign {subject} raised as {s} by {}",
                f["rule"]
            );
        }
    }
}

fn summary(report: &Value) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["rule"], f["severity"], f["subject"]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/findings.schema.json");
    let s: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::validator_for(&s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_names_the_attack_and_not_the_benign_look_alikes() {
    let handle = sim(None, None).await;
    let case = Case::new();
    let o = collect(&handle, &case, "out", &[]).await;
    assert!(o.status.success(), "{}", text(&o));
    let dest = open(&case, "out");
    let r = findings(&dest);
    // Planted: the attacker's method, rules, forwarding, app, secret, consent,
    // device, guest, mail read and sent, and their addresses.
    at_least_medium(&r, "AM-01", "SM-A556E");
    at_least_medium(&r, "IR-02", ". →");
    at_least_medium(&r, "IR-01", "h.sato.backup@contoso-jp-mail.com");
    at_least_medium(&r, "AR-01", "Mail Archive Sync");
    at_least_medium(&r, "AR-02", "Mail Archive Sync");
    at_least_medium(&r, "AC-01", "Mail Archive Sync");
    at_least_medium(&r, "DV-01", "DESKTOP-8K2QF7L");
    at_least_medium(&r, "GU-01", "it-support@contoso-jp-mail.com");
    at_least_medium(&r, "SI-04", "203.0.113.77");
    at_least_medium(&r, "SE-01", "お振込先口座変更のお知らせ");
    at_least_medium(&r, "MA-01", "203.0.113.91");
    at_least_medium(&r, "CT-01", "hanako.sato");
    at_least_medium(&r, "CT-02", "hanako.sato");
    let addresses: Vec<&str> = r["attacker_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in [
        "203.0.113.45",
        "203.0.113.77",
        "203.0.113.91",
        "203.0.113.200",
    ] {
        assert!(addresses.contains(&a), "{a} not linked: {addresses:?}");
    }
    // Benign look-alikes: her own filing rule into Archive, her phone and laptop,
    // the partners' guests, the collector's own app, her office and home.
    at_most_low(&r, "システム通知");
    at_most_low(&r, "iPhone 15");
    at_most_low(&r, "CJP-LT-0231");
    at_most_low(&r, "ichiro.tanaka@fabrikam-shoji.co.jp");
    at_most_low(&r, "satoshi.watabe@northwind-trading.co.jp");
    at_most_low(&r, "m365-preserve");
    for benign in ["192.0.2.10", "198.51.100.23"] {
        assert!(
            !addresses.contains(&benign),
            "{benign} linked to the attacker"
        );
    }
    // Every message was found (a missing one would show its id).
    for f in r["findings"].as_array().unwrap() {
        for part in ["title", "explanation", "action"] {
            for lang in ["ja", "en"] {
                let t = f[part][lang].as_str().unwrap();
                assert!(
                    !t.ends_with(&format!("-{part}")),
                    "{} {part} {lang}: {t}",
                    f["rule"]
                );
            }
        }
    }
    let errors: Vec<String> = schema()
        .iter_errors(&r)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // Sealed, listed in the manifest with its role, and in SHA256SUMS.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    for f in m365_preserve_report::FILES {
        let entry = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == *f)
            .unwrap_or_else(|| panic!("{f} not in the manifest"));
        assert_eq!(entry["role"], "report");
        let sums = std::fs::read_to_string(dest.join("SHA256SUMS")).unwrap();
        assert!(sums.contains(&format!("  {f}\n")), "{f} not in SHA256SUMS");
    }

    // The administrator's copy beside the package, private.
    let pkg = package_in(&case.path("out"));
    let local = case.path(&format!("out/{}.report.html", pkg.base));
    let html = std::fs::read_to_string(&local).unwrap();
    assert!(html.contains(&pkg.base[..4]) && html.contains("Mail Archive Sync"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&local).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Made again from the package: byte-identical findings.
    for n in ["again1", "again2"] {
        let o = bin()
            .arg("report")
            .arg(&pkg.ciphertext)
            .arg("--identity")
            .arg(case.identity())
            .arg("--to")
            .arg(case.path(n))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            std::fs::read(case.path(n).join("report/findings.json")).unwrap(),
            std::fs::read(dest.join("report/findings.json")).unwrap(),
            "findings.json differs when made again"
        );
    }
    let timeline = std::fs::read_to_string(dest.join("report/timeline.jsonl")).unwrap();
    let first: Value = serde_json::from_str(timeline.lines().next().unwrap()).unwrap();
    for k in ["message", "datetime", "timestamp_desc"] {
        assert!(first.get(k).is_some(), "timeline row lacks {k}");
    }
    assert!(first["datetime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_tenants_report_says_which_rules_could_not_run() {
    let handle = sim(Some(Licence::Free), None).await;
    let case = Case::new();
    let o = collect(&handle, &case, "out", &[]).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let dest = open(&case, "out");
    let r = findings(&dest);
    let not_run: Vec<&Value> = r["not_run"].as_array().unwrap().iter().collect();
    let si04 = not_run
        .iter()
        .find(|n| n["rule"] == "SI-04")
        .unwrap_or_else(|| panic!("SI-04 ran on a Free tenant: {not_run:?}"));
    let why = si04["why"]["en"].as_str().unwrap();
    assert!(why.contains("entra-signins-interactive"), "{why}");
    assert!(why.to_lowercase().contains("licence"), "{why}");
    assert!(!si04["why"]["ja"].as_str().unwrap().is_empty());
    let checklist = r["checklist"].as_array().unwrap();
    let reset = checklist
        .iter()
        .find(|c| c["item"] == "reset-and-revoke")
        .unwrap();
    assert!(!reset["not_checked"].as_array().unwrap().is_empty());
    let html = std::fs::read_to_string(dest.join("report/report.ja.html")).unwrap();
    assert!(
        html.contains("確認できなかった項目"),
        "the Japanese report does not list what could not be checked"
    );
    handle.shutdown().await;
}

#[test]
fn an_interview_is_sealed_with_custody_and_shown() {
    let case = Case::new();
    let tpl = bin()
        .args(["interview", "--template", "--lang", "en"])
        .output()
        .unwrap();
    assert!(tpl.status.success(), "{}", text(&tpl));
    let mut t: Value = serde_json::from_slice(&tpl.stdout).unwrap();
    t["answered_by"] = "佐藤 花子".into();
    t["recorded_by"] = "IT 鈴木".into();
    t["recorded_at"] = "2026-11-25T01:00:00Z".into();
    t["answers"][0]["answer"] = "Tuesday morning, a payment mail I did not send".into();
    let file = case.path("interview.json");
    std::fs::write(&file, serde_json::to_vec(&t).unwrap()).unwrap();
    let o = bin()
        .arg("import")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/import/AuditLog_20261125_061500.csv"),
        )
        .args([
            "--case",
            "IV-1",
            "--examiner",
            "IT 鈴木",
            "--quiet",
            "--no-local-report",
            "-r",
            &case.age_public,
        ])
        .arg("--out")
        .arg(case.path("out"))
        .arg("--interview")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let pkg = package_in(&case.path("out"));
    assert!(!case.path(&format!("out/{}.report.html", pkg.base)).exists());
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
    let sealed: Value =
        serde_json::from_slice(&std::fs::read(dest.join("interview.json")).unwrap()).unwrap();
    assert_eq!(sealed["answered_by"], "佐藤 花子");
    let custody = std::fs::read_to_string(dest.join("custody.jsonl")).unwrap();
    assert!(custody.contains("\"action\":\"interview-recorded\"") && custody.contains("佐藤 花子"));
    let r = findings(&dest);
    assert_eq!(r["interview"]["recorded_by"], "IT 鈴木");
    let interview_item = &r["checklist"][0];
    assert_eq!(interview_item["status"], "done");
    let html = std::fs::read_to_string(dest.join("report/report.en.html")).unwrap();
    assert!(html.contains("a payment mail I did not send"));
    // A damaged interview stops the import before anything is sealed.
    std::fs::write(&file, br#"{"format":"other"}"#).unwrap();
    let o = bin()
        .arg("import")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/import/AuditLog_20261125_061500.csv"),
        )
        .args([
            "--case",
            "IV-2",
            "--examiner",
            "E",
            "--quiet",
            "-r",
            &case.age_public,
        ])
        .arg("--out")
        .arg(case.path("out2"))
        .arg("--interview")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("interview"), "{}", text(&o));
    assert!(crate::common::files_under(&case.path("out2"))
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".zip.age")));
}

/// Headless Chromium as the probe found it to work here (no network, no sandbox as root).
fn chromium(args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_html_renders_in_headless_chromium() {
    if !have("chromium") {
        return;
    }
    let case = Case::new();
    let out = case.path("demo");
    let o = bin()
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let pkg = package_in(&out);
    let html = out.join(format!("{}.report.html", pkg.base));
    let url = format!("file://{}", html.display());
    let dom = chromium(&["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("F-001"), "no findings in the rendered DOM");
    assert!(dom.contains("Mail Archive Sync"));
    // The demo keeps the fraudulent message, so its recipient is named: who to warn.
    assert!(
        dom.contains("keiri@northwind-trading.co.jp"),
        "the recipient to warn is not named"
    );
    // The Japanese report (the demo's copy is in the locale's language; the
    // package holds both).
    let dest = case.path("opened");
    bin()
        .arg("open")
        .arg(&pkg.ciphertext)
        .arg("-i")
        .arg(
            out.join(
                std::fs::read_dir(&out)
                    .unwrap()
                    .flatten()
                    .find(|e| e.file_name().to_string_lossy().ends_with(".agekey"))
                    .unwrap()
                    .file_name(),
            ),
        )
        .arg("--to")
        .arg(&dest)
        .assert()
        .success();
    let ja = format!("file://{}", dest.join("report/report.ja.html").display());
    let dom = chromium(&["--dump-dom", &ja]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for text in [
        "本人への聞き取り",
        "パスワードのリセットとセッションの取り消し",
        "受信トレイ ルール",
    ] {
        assert!(
            dom.contains(text),
            "{text} missing from the rendered Japanese report"
        );
    }
    let shot = case.path("report.png");
    let blank = case.path("blank.png");
    chromium(&[
        "--window-size=1280,2000",
        &format!("--screenshot={}", shot.display()),
        &ja,
    ]);
    chromium(&[
        "--window-size=1280,2000",
        &format!("--screenshot={}", blank.display()),
        "about:blank",
    ]);
    let (s, b) = (
        std::fs::metadata(&shot).unwrap().len(),
        std::fs::metadata(&blank).unwrap().len(),
    );
    assert!(
        s > 10 * b && s > 50_000,
        "the screenshot looks blank ({s} bytes; a blank page is {b})"
    );
}
