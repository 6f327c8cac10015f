//! `collect` and `demo` (the real binary) against the simulator.

use crate::common::{bin, package_in, text, Case};
use m365_preserve_sim::fixture::{Fixture, Licence};
use m365_preserve_sim::scenario::{default_fixture, DEMO_SECRET, TOOL_CLIENT_ID};
use m365_preserve_sim::server::{start, FixtureSource, Profile, SimConfig, SimHandle};
use serde_json::Value;

pub(crate) const VICTIM: &str = "hanako.sato@contoso-jp.onmicrosoft.com";

pub(crate) async fn sim(licence: Option<Licence>, faults: Option<f64>) -> SimHandle {
    let mut config = SimConfig::new(FixtureSource::Loaded(default_fixture()));
    config.profile = Profile::Fast;
    config.time_scale = 100.0;
    config.licence = licence;
    config.faults = faults.map(|rate| m365_preserve_sim::faults::FaultConfig { seed: 11, rate });
    start(config).await.unwrap()
}

pub(crate) async fn collect(
    handle: &SimHandle,
    case: &Case,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    run_collect(collect_args(handle, case, out, extra)).await
}

/// Runs the binary with `args` off the async runtime (the simulator shares it).
pub(crate) async fn run_collect(args: Vec<String>) -> std::process::Output {
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

/// Starts the binary with `args`, its output discarded (to be killed).
pub(crate) fn spawn_collect(args: &[String]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("m365-preserve"))
        .env("SIM_SECRET", DEMO_SECRET)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) fn collect_args(
    handle: &SimHandle,
    case: &Case,
    out: &str,
    extra: &[&str],
) -> Vec<String> {
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
    if !extra.contains(&"--case") {
        args.extend(["--case".to_string(), "IR-SIM".to_string()]);
    }
    if !extra.contains(&"--user") {
        args.extend(["--user".to_string(), VICTIM.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

pub(crate) fn open(case: &Case, out: &str) -> std::path::PathBuf {
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

/// The object id of the fixture's user `upn`.
pub(crate) fn user_id(f: &Fixture, upn: &str) -> String {
    f.tenant
        .users
        .iter()
        .find(|u| u["userPrincipalName"] == upn)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
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
    let victim = user_id(&f, VICTIM);
    let case = Case::new();
    for (out, faults) in [("clean", None), ("faulty", Some(0.2))] {
        let handle = sim(None, faults).await;
        let o = collect(&handle, &case, out, &["--sources", "entra-signins-interactive,entra-signins-noninteractive,entra-audit,purview-audit,mailbox-rules,user,devices,applications,service-principals,guests,risk-detections"]).await;
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
        assert_eq!(
            ids(&dest, "purview-audit"),
            fixture_purview(&f, VICTIM),
            "{out}"
        );
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v
        };
        let of = |records: &[Value], keep: &dyn Fn(&Value) -> bool| {
            sorted(
                records
                    .iter()
                    .filter(|r| keep(r))
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect(),
            )
        };
        let t = &f.tenant;
        assert_eq!(
            ids(&dest, "applications"),
            of(&t.applications, &|_| true),
            "{out}"
        );
        assert_eq!(
            ids(&dest, "service-principals"),
            of(&t.service_principals, &|_| true),
            "{out}"
        );
        assert_eq!(
            ids(&dest, "guests"),
            of(&t.users, &|u| u["userType"] == "Guest"),
            "{out}"
        );
        assert_eq!(
            ids(&dest, "risk-detections"),
            of(&t.risk_detections, &|r| r["userId"] == victim.as_str()),
            "{out}"
        );
        let devices: Vec<String> = t
            .registered_devices
            .get(&victim)
            .into_iter()
            .chain(t.owned_devices.get(&victim))
            .flatten()
            .cloned()
            .collect();
        assert_eq!(ids(&dest, "devices"), sorted(devices), "{out}");
        let user = records(&dest, "user");
        assert_eq!(user.len(), 1);
        assert_eq!(user[0]["id"], victim.as_str());
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

pub(crate) fn records(dest: &std::path::Path, source: &str) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(dest.join(format!("evidence/{source}.json"))).unwrap())
        .unwrap()
}

pub(crate) fn manifest_source(dest: &std::path::Path, source: &str) -> Value {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"] == source)
        .unwrap_or_else(|| panic!("{source} in the manifest"))
        .clone()
}

fn fixture_purview(f: &Fixture, upn: &str) -> Vec<String> {
    let mut v: Vec<String> = f
        .audit_records
        .iter()
        .filter(|r| {
            r["userPrincipalName"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case(upn)
        })
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

pub(crate) async fn sim_with(fixture: Fixture, setup: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig::new(FixtureSource::Loaded(fixture));
    config.profile = Profile::Fast;
    config.time_scale = 100.0;
    setup(&mut config);
    start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purview_queries_split_on_the_record_limit_and_keep_every_record() {
    let f = default_fixture();
    let want = fixture_purview(&f, VICTIM);
    assert!(
        want.len() > 100,
        "the scenario has Purview records for the victim"
    );
    let case = Case::new();
    let handle = sim_with(f, |c| {
        c.audit_record_limit = 60;
        c.faults = Some(m365_preserve_sim::faults::FaultConfig {
            seed: 5,
            rate: 0.15,
        });
    })
    .await;
    let o = collect(
        &handle,
        &case,
        "out",
        &["--sources", "purview-audit", "--audit-api", "beta"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
    let dest = open(&case, "out");
    assert_eq!(ids(&dest, "purview-audit"), want);
    let s = manifest_source(&dest, "purview-audit");
    assert!(
        s["details"]["windows_split_for_record_limit"]
            .as_u64()
            .unwrap()
            > 0,
        "{s}"
    );
    assert!(
        s["details"]["api"].as_str().unwrap().contains("beta"),
        "{s}"
    );
}

/// The audit-log query API as reports say it behaves (graph-api-more.md
/// §N7): a tenant whose v1.0 does not serve it (beta is probed and named), no
/// `isRecordCountLimitExceeded` (the counts still split the window), a first
/// paging that misses records (paged again, both kept); and a second run of
/// the same case and window reuses the queries the service has instead of
/// spending the daily submissions again. Every record, each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purview_probes_the_version_splits_by_counts_pages_twice_and_reuses_queries() {
    let f = default_fixture();
    let want = fixture_purview(&f, VICTIM);
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_with(f, |c| {
        c.audit_record_limit = 60;
        c.audit = m365_preserve_sim::graph::AuditQuirks {
            v1_served: false,
            exceeded_flag: false,
            first_paging_drops: true,
        };
        c.log = Some(log.clone());
    })
    .await;
    let until = chrono::Utc::now().to_rfc3339();
    let since = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let extra = [
        "--sources",
        "purview-audit",
        "--since",
        &since,
        "--until",
        &until,
    ];
    let submissions = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                let r: Value = serde_json::from_str(l).unwrap();
                r["method"] == "POST" && r["status"] == 201
            })
            .count()
    };
    let o = collect(&handle, &case, "first", &extra).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dest = open(&case, "first");
    assert_eq!(ids(&dest, "purview-audit"), want);
    let s = manifest_source(&dest, "purview-audit");
    let d = &s["details"];
    assert!(d["api"].as_str().unwrap().contains("beta"), "{s}");
    assert!(d["api_probe"].as_str().unwrap().contains("v1.0"), "{s}");
    assert!(
        d["windows_split_for_record_limit"].as_u64().unwrap() > 0,
        "{s}"
    );
    let twice = d["paged_twice"].as_array().expect("queries paged twice");
    assert!(!twice.is_empty(), "{s}");
    for t in twice {
        assert_eq!(t["counted"], t["second_paging"], "{t}");
        assert!(t["first_paging"].as_u64() < t["counted"].as_u64(), "{t}");
    }
    assert_eq!(d["queries_reused"], 0, "{s}");
    let submitted = submissions();
    assert!(submitted > 0);

    let o = collect(&handle, &case, "again", &extra).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dest = open(&case, "again");
    assert_eq!(ids(&dest, "purview-audit"), want);
    let s = manifest_source(&dest, "purview-audit");
    assert!(s["details"]["queries_reused"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(submissions(), submitted, "no query submitted again: {s}");
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_cancelled_audit_queries_are_reported_not_polled_forever() {
    for (case_id, word) in [("IR-FAIL-1", "failed"), ("IR-CANCEL-1", "cancelled")] {
        let case = Case::new();
        let handle = sim(None, None).await;
        let o = collect(
            &handle,
            &case,
            "out",
            &[
                "--sources",
                "purview-audit,user",
                "--case",
                case_id,
                "--json",
            ],
        )
        .await;
        handle.shutdown().await;
        assert_eq!(o.status.code(), Some(3), "{case_id}: {}", text(&o));
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        let p = s["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["source"] == "purview-audit")
            .unwrap();
        assert_eq!(p["status"], "failed", "{p}");
        assert!(p["reason"].as_str().unwrap().contains(word), "{p}");
        let u = s["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["source"] == "user")
            .unwrap();
        assert_eq!(u["status"], "complete");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_query_api_purview_falls_back_to_the_management_api() {
    let mut f = default_fixture();
    for app in &mut f.tenant.apps {
        app.roles.retain(|r| !r.starts_with("AuditLogsQuery"));
    }
    let case = Case::new();
    let handle = sim_with(f.clone(), |_| {}).await;
    let since = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let o = collect(
        &handle,
        &case,
        "out",
        &["--sources", "purview-audit", "--since", &since],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    handle.shutdown().await;
    let dest = open(&case, "out");
    let got = records(&dest, "purview-audit");
    let s = manifest_source(&dest, "purview-audit");
    assert!(
        s["details"]["api"]
            .as_str()
            .unwrap()
            .contains("Management Activity API"),
        "{s}"
    );
    assert!(
        s["details"]["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("AuditLogsQuery"),
        "{s}"
    );
    assert!(!got.is_empty(), "the victim has recent Purview records");
    let mut seen = std::collections::HashSet::new();
    for r in &got {
        assert!(
            seen.insert(r["Id"].as_str().unwrap().to_string()),
            "duplicate Id {r}"
        );
        assert!(
            r["UserId"].as_str().unwrap().eq_ignore_ascii_case(VICTIM),
            "{r}"
        );
    }
    let fixture_ids: std::collections::HashSet<String> = f
        .audit_records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(got
        .iter()
        .all(|r| fixture_ids.contains(r["Id"].as_str().unwrap())));

    // Over the default 180 days the 7-day API cannot be complete: partial, said why.
    let case = Case::new();
    let handle = sim_with(f, |_| {}).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &["--sources", "purview-audit", "--json"],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &s["sources"][0];
    assert_eq!(p["status"], "partial", "{p}");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("export it from the Purview portal"),
        "{p}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_include_pim_eligibility_with_names_and_warn_about_privilege() {
    let f = default_fixture();
    let admin = "kenichi.suzuki@contoso-jp.onmicrosoft.com";
    let admin_id = user_id(&f, admin);
    let mut want: Vec<String> = f
        .tenant
        .role_assignments
        .iter()
        .chain(&f.tenant.role_eligibility_schedule_instances)
        .filter(|a| a["principalId"] == admin_id.as_str())
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let case = Case::new();
    let handle = sim(None, None).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &["--user", admin, "--sources", "user-roles"],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dest = open(&case, "out");
    assert_eq!(ids(&dest, "user-roles"), want);
    let s = manifest_source(&dest, "user-roles");
    assert!(
        s["details"]["warning"]
            .as_str()
            .unwrap()
            .contains("PRIVILEGED"),
        "{s}"
    );
    let names: Vec<&str> = s["details"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["displayName"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| !n.is_empty()),
        "{s}"
    );

    // Without P2 there is no PIM: noted, and still complete.
    let case = Case::new();
    let handle = sim(Some(Licence::P1), None).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &["--user", admin, "--sources", "user-roles"],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = manifest_source(&open(&case, "out"), "user-roles");
    assert!(
        s["details"]["notes"][0].as_str().unwrap().contains("P2"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_rule_folders_and_mfa_state_are_kept() {
    let f = default_fixture();
    let victim = user_id(&f, VICTIM);
    let message = f.tenant.mailboxes[&victim].messages[0].clone();
    let mid = message["id"].as_str().unwrap();
    let case = Case::new();
    let handle = sim(None, None).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &[
            "--sources",
            "mailbox-rules,auth-methods",
            "--message-id",
            mid,
            "--message-id",
            "AAMkNoSuchMessage=",
        ],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(
        o.status.code(),
        Some(3),
        "one message does not exist: {}",
        text(&o)
    );
    let dest = open(&case, "out");
    let eml = std::fs::read(dest.join(format!("evidence/messages/{mid}.eml"))).unwrap();
    let want =
        m365_preserve_sim::scenario::message_mime(&f, message["eml"].as_str().unwrap()).unwrap();
    assert_eq!(eml, want, "the MIME bytes as served");
    let m = manifest_source(&dest, "messages");
    assert_eq!(m["status"], "partial");
    assert!(
        m["details"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("regenerates"),
        "{m}"
    );
    assert!(
        m["reason"].as_str().unwrap().contains("AAMkNoSuchMessage"),
        "{m}"
    );
    let rules = manifest_source(&dest, "mailbox-rules");
    let folders = rules["details"]["resolved"]
        .as_array()
        .expect("rule folders named");
    let mailbox = &f.tenant.mailboxes[&victim];
    let moved: Vec<&str> = mailbox
        .rules
        .iter()
        .filter_map(|r| r["actions"]["moveToFolder"].as_str())
        .collect();
    assert!(!moved.is_empty());
    for id in moved {
        let want = mailbox.folders.iter().find(|x| x["id"] == id).unwrap()["displayName"].clone();
        let got = folders
            .iter()
            .find(|x| x["folderId"] == id)
            .unwrap_or_else(|| panic!("{id} named: {rules}"));
        assert_eq!(got["displayName"], want);
    }
    let methods = records(&dest, "auth-methods");
    assert!(
        methods.iter().any(|r| r.get("perUserMfaState").is_some()),
        "per-user MFA state kept"
    );
    assert!(
        methods
            .iter()
            .filter(|r| r.get("@odata.type").is_some())
            .count()
            >= 2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_scope_keeps_only_the_targets_apps_sign_ins() {
    let case = Case::new();
    let handle = sim(None, None).await;
    let all = collect(
        &handle,
        &case,
        "all",
        &[
            "--sources",
            "entra-signins-serviceprincipal,user-owned-objects,oauth2-grants,app-role-assignments",
        ],
    )
    .await;
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    let linked = collect(
        &handle,
        &case,
        "linked",
        &[
            "--sources",
            "entra-signins-serviceprincipal",
            "--sp-scope",
            "linked",
        ],
    )
    .await;
    assert_eq!(linked.status.code(), Some(0), "{}", text(&linked));
    handle.shutdown().await;
    let all_dest = open(&case, "all");
    let f = default_fixture();
    let mut sps: std::collections::HashSet<String> = Default::default();
    for g in records(&all_dest, "oauth2-grants")
        .iter()
        .filter(|g| g["consentType"] == "Principal")
    {
        sps.insert(g["clientId"].as_str().unwrap().into());
    }
    for a in records(&all_dest, "app-role-assignments") {
        sps.insert(a["resourceId"].as_str().unwrap().into());
    }
    let mut apps: std::collections::HashSet<String> = Default::default();
    for o in records(&all_dest, "user-owned-objects") {
        let t = o["@odata.type"].as_str().unwrap_or("");
        if t.ends_with(".servicePrincipal") {
            sps.insert(o["id"].as_str().unwrap().into());
        } else if t.ends_with(".application") {
            apps.insert(o["appId"].as_str().unwrap().into());
        }
    }
    let in_scope = |r: &Value| {
        sps.contains(r["servicePrincipalId"].as_str().unwrap_or(""))
            || apps.contains(r["appId"].as_str().unwrap_or(""))
    };
    let mut want: Vec<String> = records(&all_dest, "entra-signins-serviceprincipal")
        .iter()
        .filter(|r| in_scope(r))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let got = ids(&open(&case, "linked"), "entra-signins-serviceprincipal");
    assert!(
        !got.is_empty(),
        "the attacker's app is linked to the victim"
    );
    assert!(got.len() < f.signins.len());
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_collection_resumes_to_the_same_records() {
    let case = Case::new();
    // Realistic latencies and a slower clock, so the collection is killed mid-way.
    let log = case.path("sim-requests.jsonl");
    let handle = sim_with(default_fixture(), |c| {
        c.profile = Profile::Realistic;
        c.time_scale = 40.0;
        c.log = Some(log.clone());
    })
    .await;
    // Log requests answered with data (sign-ins, directory audits):
    // deterministic, unlike polling, and unlike 429s, which the three runs
    // against one simulator's Reports budget draw more or fewer of.
    let log_requests = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("/auditLogs/") && l.contains("\"status\":200"))
            .count()
    };
    let until = chrono::Utc::now().to_rfc3339();
    let since = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let sources = "entra-signins-interactive,entra-signins-noninteractive,entra-signins-serviceprincipal,entra-audit,purview-audit,user,mailbox-rules,auth-methods";
    let extra = ["--sources", sources, "--since", &since, "--until", &until];
    let slow = |a: Vec<String>| -> Vec<String> {
        a.into_iter()
            .map(|x| if x == "100" { "40".into() } else { x })
            .collect()
    };

    let before = log_requests();
    let o = run_collect(slow(collect_args(&handle, &case, "reference", &extra))).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let full_run = log_requests() - before;

    // Kill -9 once some queries are journaled.
    let args = slow(collect_args(&handle, &case, "killed", &extra));
    let mut child = spawn_collect(&args);
    let out = case.path("killed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let (workdir, done) = loop {
        let found = std::fs::read_dir(&out).ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".work-")
            })
        });
        if let Some(w) = found {
            let journal =
                std::fs::read_to_string(w.join(".m365-preserve/journal.jsonl")).unwrap_or_default();
            let done = journal.lines().filter(|l| l.contains("query-done")).count();
            if done >= 6 {
                break (w, done);
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the collection ended before it could be killed"
        );
        assert!(std::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".zip.age")));

    let before = log_requests();
    let mut extra_resume: Vec<&str> = extra.to_vec();
    let w = workdir.display().to_string();
    extra_resume.extend(["--resume", &w]);
    let o = run_collect(slow(collect_args(&handle, &case, "killed", &extra_resume))).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let resumed_run = log_requests() - before;
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
    assert!(
        resumed_run < full_run,
        "the resumed run fetched only what was missing ({resumed_run} vs {full_run} requests)"
    );
    assert!(!workdir.exists(), "work folder removed after sealing");

    let reference = open(&case, "reference");
    let resumed = open(&case, "killed");
    for source in sources.split(',') {
        assert_eq!(
            records(&resumed, source),
            records(&reference, source),
            "{source}: same records, same order"
        );
        assert_eq!(
            std::fs::read(resumed.join(format!("evidence/{source}.csv"))).unwrap(),
            std::fs::read(reference.join(format!("evidence/{source}.csv"))).unwrap(),
            "{source}.csv"
        );
    }
    let custody = std::fs::read_to_string(resumed.join("custody.jsonl")).unwrap();
    assert!(custody.contains("collection-interrupted"), "{custody}");
    let resumed_event: Value = custody
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["action"] == "collection-resumed")
        .unwrap();
    assert!(
        resumed_event["details"]["queries_already_done"]
            .as_u64()
            .unwrap()
            >= done as u64,
        "{resumed_event}"
    );
}

/// Entra ID Free: sign-ins only from the portal download, directory audit by API,
/// both in one package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_tenant_collects_by_api_and_imports_the_portal_sign_ins_in_one_package() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import");
    let portal = data.join("InteractiveSignIns_2026-11-18_2026-11-25.csv");
    let portal_arg = portal.display().to_string();
    let case = Case::new();
    let handle = sim(Some(Licence::Free), None).await;
    let o = collect(
        &handle,
        &case,
        "out",
        &[
            "--sources",
            "entra-signins-interactive,entra-audit",
            "--import",
            &portal_arg,
            "--downloaded-by",
            "Sato Hanako",
            "--json",
        ],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dest = open(&case, "out");
    let signins = manifest_source(&dest, "entra-signins-interactive");
    assert_eq!(signins["status"], "complete", "{signins}");
    assert!(signins["records"].as_u64().unwrap() > 0);
    assert_eq!(
        signins["details"]["collection"]["status"], "unavailable",
        "the API's licence refusal is kept: {signins}"
    );
    assert_eq!(manifest_source(&dest, "entra-audit")["status"], "complete");
    let name = portal.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(
        std::fs::read(dest.join("evidence/imported").join(&name)).unwrap(),
        std::fs::read(&portal).unwrap(),
        "the download byte for byte"
    );
    let custody = std::fs::read_to_string(dest.join("custody.jsonl")).unwrap();
    assert!(
        custody.contains("evidence-imported") && custody.contains("Sato Hanako"),
        "{custody}"
    );
}
