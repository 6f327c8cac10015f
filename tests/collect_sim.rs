//! `collect` and `demo` (the real binary) against the simulator.

mod common;
use common::{bin, package_in, text, Case};
use m365_preserve::sim::fixture::{Fixture, Licence};
use m365_preserve::sim::scenario::{default_fixture, DEMO_SECRET, TOOL_CLIENT_ID};
use m365_preserve::sim::server::{start, FixtureSource, Profile, SimConfig, SimHandle};
use serde_json::Value;

const VICTIM: &str = "hanako.sato@contoso-jp.onmicrosoft.com";

async fn sim(licence: Option<Licence>, faults: Option<f64>) -> SimHandle {
    let mut config = SimConfig::new(FixtureSource::Loaded(default_fixture()));
    config.profile = Profile::Fast;
    config.time_scale = 100.0;
    config.licence = licence;
    config.faults = faults.map(|rate| m365_preserve::sim::faults::FaultConfig { seed: 11, rate });
    start(config).await.unwrap()
}

async fn collect(
    handle: &SimHandle,
    case: &Case,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    let base = handle.base_url();
    let mut args: Vec<String> = [
        "collect",
        "--tenant",
        "contoso-jp.onmicrosoft.com",
        "--client-id",
        TOOL_CLIENT_ID,
        "--client-secret-env",
        "SIM_SECRET",
        "--graph-url",
        &base,
        "--login-url",
        &base,
        "--manage-url",
        &base,
        "--time-scale",
        "100",
        "--case",
        "IR-SIM",
        "--examiner",
        "Tester",
        "--recipient",
        &case.age_public,
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push("--out".into());
    args.push(case.path(out).display().to_string());
    if !extra.contains(&"--user") {
        args.extend(["--user".to_string(), VICTIM.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        bin()
            .env("SIM_SECRET", DEMO_SECRET)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn open(case: &Case, out: &str) -> std::path::PathBuf {
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

fn ids(dest: &std::path::Path, source: &str) -> Vec<String> {
    let records: Vec<Value> = serde_json::from_slice(
        &std::fs::read(dest.join(format!("evidence/{source}.json"))).unwrap(),
    )
    .unwrap();
    let mut v: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn fixture_signins(f: &Fixture, user: &str, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = f
        .signins
        .iter()
        .filter(|r| {
            r["userId"] == user
                && r["signInEventTypes"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == kind))
        })
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_holds_exactly_the_fixtures_records_also_under_faults() {
    let f = default_fixture();
    let victim = f
        .tenant
        .users
        .iter()
        .find(|u| u["userPrincipalName"] == VICTIM)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let case = Case::new();
    for (out, faults) in [("clean", None), ("faulty", Some(0.2))] {
        let handle = sim(None, faults).await;
        let o = collect(&handle, &case, out, &["--sources", "entra-signins-interactive,entra-signins-noninteractive,entra-audit,mailbox-rules,user"]).await;
        assert_eq!(o.status.code(), Some(0), "{out}: {}", text(&o));
        assert_eq!(handle.violations(), 0);
        handle.shutdown().await;
        let dest = open(&case, out);
        assert_eq!(
            ids(&dest, "entra-signins-interactive"),
            fixture_signins(&f, &victim, "interactiveUser"),
            "{out}"
        );
        assert_eq!(
            ids(&dest, "entra-signins-noninteractive"),
            fixture_signins(&f, &victim, "nonInteractiveUser"),
            "{out}"
        );
        let rules: Vec<Value> = serde_json::from_slice(
            &std::fs::read(dest.join("evidence/mailbox-rules.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            &rules, &f.tenant.mailboxes[&victim].rules,
            "{out}: rules value-equal to the service's"
        );
        let audits = ids(&dest, "entra-audit");
        let mut want: Vec<String> = f
            .directory_audits
            .iter()
            .filter(|a| {
                a["initiatedBy"]["user"]["id"] == victim.as_str()
                    || a["targetResources"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|x| x["id"] == victim.as_str()))
            })
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
        want.sort();
        assert_eq!(audits, want, "{out}");
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
        assert!(manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"].as_str().unwrap().starts_with("raw/entra-audit/")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_licence_marks_sign_ins_unavailable_and_exits_3() {
    let case = Case::new();
    let handle = sim(Some(Licence::Free), None).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &[
            "--sources",
            "entra-signins-interactive,entra-audit,user",
            "--json",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    handle.shutdown().await;
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sources = s["seal_document"]["sources"].as_array().unwrap();
    let find = |n: &str| sources.iter().find(|x| x["source"] == n).unwrap().clone();
    assert_eq!(find("entra-signins-interactive")["status"], "unavailable");
    assert!(
        find("entra-signins-interactive")["reason"]
            .as_str()
            .unwrap()
            .contains("import"),
        "{s}"
    );
    assert_eq!(find("entra-audit")["status"], "complete");
    assert_eq!(
        find("user")["status"],
        "complete",
        "signInActivity dropped, the rest collected"
    );
    let dest = open(&case, "out");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    let user = manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"] == "user")
        .unwrap();
    assert!(
        user["details"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("premium"),
        "{user}"
    );
    // Free keeps 7 days: the window says so.
    let window = &manifest["sources"][0]["details"]["window"];
    let since = chrono::DateTime::parse_from_rfc3339(window["since"].as_str().unwrap()).unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(window["until"].as_str().unwrap()).unwrap();
    assert_eq!((until - since).num_days(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_stops_before_anything_is_sealed() {
    let case = Case::new();
    let handle = sim(None, None).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &["--user", "nobody@contoso-jp.onmicrosoft.com"],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not exist in this tenant"),
        "{}",
        text(&o)
    );
}

#[test]
fn demo_runs_the_whole_job_and_the_package_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["demo", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "every source complete: {}",
        text(&o)
    );
    let t = text(&o);
    assert!(t.contains("Result: all 11 checks passed"), "{t}");
    assert!(
        t.contains("Read-only violations seen by the simulator: 0"),
        "{t}"
    );
}
