//! The sources an IR firm asks for beyond the first 22, collected by the real
//! binary from the simulator: records exact, unavailable paths with their
//! reasons, message trace's windows and budget (from the simulator's request
//! log), and the phishing message's recipients found tenant-wide.

use crate::collect_sim::{collect, manifest_source, open, records, sim, VICTIM};
use crate::common::{text, Case};
use m365_preserve_sim::fixture::{Fixture, Licence};
use m365_preserve_sim::odata::project;
use m365_preserve_sim::scenario::{default_fixture, PHISH_SENDER};
use m365_preserve_sim::server::{start, FixtureSource, Profile, SimConfig, SimHandle};
use m365_preserve_sources::MESSAGE_SELECT;
use serde_json::Value;
use std::collections::BTreeSet;

const NEW: &str = "message-trace,conditional-access,deleted-objects,risky-service-principals,service-principal-risk-detections,security-alerts,security-incidents,mail-sent,mail-deleted,licences";

fn victim(f: &Fixture) -> &Value {
    f.tenant
        .users
        .iter()
        .find(|u| u["userPrincipalName"] == VICTIM)
        .unwrap()
}

/// The fixture's values as the simulator serves them (times shifted to now):
/// compared by everything but the time strings, which the shift moves.
fn sorted_ids(v: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = v
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Records with their times blanked (the simulator shifts them to the present).
fn timeless(v: &Value) -> Value {
    match v {
        Value::String(s) if m365_preserve_package::timefmt::parse_iso_datetime(s).is_some() => {
            Value::Null
        }
        Value::Array(a) => Value::Array(a.iter().map(timeless).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), timeless(v))).collect())
        }
        other => other.clone(),
    }
}

fn same_records(got: &[Value], want: &[Value], what: &str) {
    let key = |r: &Value| r.to_string();
    let mut g: Vec<Value> = got.iter().map(timeless).collect();
    let mut w: Vec<Value> = want.iter().map(timeless).collect();
    g.sort_by_key(key);
    w.sort_by_key(key);
    assert_eq!(g, w, "{what}: records value-equal to the fixture's");
}

async fn sim_logged(
    fixture: Fixture,
    log: &std::path::Path,
    setup: impl FnOnce(&mut SimConfig),
) -> SimHandle {
    let mut config = SimConfig::new(FixtureSource::Loaded(fixture));
    config.profile = Profile::Fast;
    config.time_scale = 100.0;
    config.log = Some(log.to_path_buf());
    setup(&mut config);
    start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_sources_hold_exactly_the_fixtures_records() {
    let f = default_fixture();
    let v = victim(&f).clone();
    let vid = v["id"].as_str().unwrap().to_string();
    let mailbox = f.tenant.mailboxes[&vid].clone();
    let phish = mailbox
        .messages
        .iter()
        .find(|m| m["eml"] == "messages/phish-invoice.eml")
        .unwrap();
    let phish_graph_id = phish["id"].as_str().unwrap().to_string();
    let phish_internet_id = phish["internetMessageId"].as_str().unwrap().to_string();
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_logged(f.clone(), &log, |_| {}).await;
    let o = collect(
        &handle,
        &case,
        "new",
        &[
            "--sources",
            NEW,
            "--message-id",
            &phish_graph_id,
            "--phish-sender",
            PHISH_SENDER,
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
    let dest = open(&case, "new");
    let t = &f.tenant;

    // Message trace: the victim's mail, and every row of the phish and its sender.
    let is = |r: &Value, k: &str, x: &str| r[k].as_str().is_some_and(|s| s.eq_ignore_ascii_case(x));
    let want: Vec<Value> = t
        .message_traces
        .iter()
        .filter(|r| {
            is(r, "senderAddress", VICTIM)
                || is(r, "recipientAddress", VICTIM)
                || is(r, "messageId", &phish_internet_id)
                || is(r, "senderAddress", PHISH_SENDER)
        })
        .cloned()
        .collect();
    same_records(&records(&dest, "message-trace"), &want, "message-trace");
    let trace = manifest_source(&dest, "message-trace");
    assert_eq!(trace["status"], "complete", "{trace}");
    let warned = &trace["details"]["phishing_recipients"];
    let of_phish: BTreeSet<String> = t
        .message_traces
        .iter()
        .filter(|r| is(r, "messageId", &phish_internet_id))
        .map(|r| r["recipientAddress"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(of_phish.len() > 1, "the phish reached colleagues too");
    assert_eq!(warned[0]["message_id"], phish_internet_id.as_str());
    let got: BTreeSet<String> = warned[0]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, of_phish, "the colleagues to warn, found tenant-wide");
    let of_sender: BTreeSet<String> = t
        .message_traces
        .iter()
        .filter(|r| is(r, "senderAddress", PHISH_SENDER))
        .map(|r| r["recipientAddress"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        of_sender.len() > of_phish.len(),
        "the sender's second phish reached others"
    );
    assert_eq!(
        warned[1]["recipients"].as_array().unwrap().len(),
        of_sender.len()
    );

    // The simulator's log: every message-trace request within 10 days, 90 days
    // back, both bounds, and never more than the budget in 5 minutes.
    let log_text = std::fs::read_to_string(&log).unwrap();
    let traces: Vec<Value> = log_text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["path"].as_str().unwrap().contains("/messageTraces"))
        .collect();
    assert!(
        traces.len() >= 9 * 4,
        "9 windows x 4 queries: {}",
        traces.len()
    );
    for r in &traces {
        assert_eq!(r["status"], 200, "{r}");
        let path = url::form_urlencoded::parse(
            r["path"]
                .as_str()
                .unwrap()
                .split_once('?')
                .unwrap()
                .1
                .as_bytes(),
        )
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| v.into_owned())
        .unwrap();
        let bound = |op: &str| {
            let at = path
                .find(&format!("receivedDateTime {op} "))
                .unwrap_or_else(|| panic!("{op} in {path}"))
                + "receivedDateTime ge ".len();
            chrono::DateTime::parse_from_rfc3339(&path[at..at + 20])
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let (ge, le) = (bound("ge"), bound("le"));
        let sim_time = chrono::DateTime::parse_from_rfc3339(r["sim_time"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert!(le - ge <= chrono::Duration::days(10), "{path}");
        assert!(ge >= sim_time - chrono::Duration::days(90), "{path}");
        assert!(le <= sim_time, "{path}");
    }
    let times: Vec<chrono::DateTime<chrono::Utc>> = traces
        .iter()
        .map(|r| {
            chrono::DateTime::parse_from_rfc3339(r["sim_time"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
        })
        .collect();
    for (i, t0) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|t| **t - *t0 < chrono::Duration::minutes(5))
            .count();
        assert!(
            within <= m365_preserve_sources::MESSAGE_TRACE_PACE,
            "{within} message-trace requests in 5 minutes"
        );
    }

    // Conditional Access, deleted objects, workload risk (hidden without Workload ID Premium).
    let ca = &t.conditional_access;
    let want: Vec<Value> = ca
        .policies
        .iter()
        .chain(&ca.named_locations)
        .chain(&t.authentication_strength_policies)
        .chain(&ca.deleted_policies)
        .cloned()
        .collect();
    same_records(
        &records(&dest, "conditional-access"),
        &want,
        "conditional-access",
    );
    let d = &t.deleted_items;
    let want: Vec<Value> = d
        .applications
        .iter()
        .chain(&d.service_principals)
        .chain(&d.users)
        .chain(&d.groups)
        .cloned()
        .collect();
    same_records(&records(&dest, "deleted-objects"), &want, "deleted-objects");
    let hide = |r: &Value| {
        let mut r = r.clone();
        r["riskLevel"] = "hidden".into();
        r["riskDetail"] = "hidden".into();
        r
    };
    for (source, fixture) in [
        ("risky-service-principals", &t.risky_service_principals),
        (
            "service-principal-risk-detections",
            &t.service_principal_risk_detections,
        ),
    ] {
        let want: Vec<Value> = fixture.iter().map(hide).collect();
        same_records(&records(&dest, source), &want, source);
        let m = manifest_source(&dest, source);
        assert_eq!(
            m["details"]["hidden_values"]["records"],
            fixture.len(),
            "{m}"
        );
    }

    // Defender XDR: the victim's alerts and incident, not the bystander's.
    let names_victim = |a: &Value| a["evidence"].to_string().contains(VICTIM);
    let alerts: Vec<Value> = t
        .security_alerts
        .iter()
        .filter(|a| names_victim(a))
        .cloned()
        .collect();
    assert_eq!(alerts.len(), 2);
    same_records(
        &records(&dest, "security-alerts"),
        &alerts,
        "security-alerts",
    );
    let incidents = records(&dest, "security-incidents");
    assert_eq!(sorted_ids(&incidents), vec!["41".to_string()]);
    assert_eq!(
        sorted_ids(incidents[0]["alerts"].as_array().unwrap()),
        sorted_ids(&alerts)
    );
    let notes = manifest_source(&dest, "security-incidents")["details"]["notes"].to_string();
    assert!(
        notes.contains("matched here"),
        "the client-side match is recorded: {notes}"
    );

    // Mail metadata: Sent Items; Deleted Items and Recoverable Items (Deletions).
    let folder = |name: &str| {
        mailbox
            .folders
            .iter()
            .find(|x| x["displayName"] == name)
            .unwrap()["id"]
            .clone()
    };
    // The collector asks for the metadata only (`$select`); Graph adds the etag.
    let selected: Vec<String> = MESSAGE_SELECT.split(',').map(str::to_string).collect();
    let in_folders = |names: &[&str]| -> Vec<Value> {
        mailbox
            .items
            .iter()
            .filter(|m| names.iter().any(|n| m["parentFolderId"] == folder(n)))
            .map(|m| project(m, &selected, &["id", "@odata.etag"]))
            .collect()
    };
    same_records(
        &records(&dest, "mail-sent"),
        &in_folders(&["Sent Items"]),
        "mail-sent",
    );
    same_records(
        &records(&dest, "mail-deleted"),
        &in_folders(&["Deleted Items", "Deletions"]),
        "mail-deleted",
    );
    for r in records(&dest, "mail-sent")
        .iter()
        .chain(&records(&dest, "mail-deleted"))
    {
        assert!(
            r.get("body").is_none() && r.get("bodyPreview").is_none(),
            "metadata only: {r}"
        );
    }

    // Licences, and the retention they imply.
    // The subscriptions as served; the victim's details are her assigned
    // licences with their subscriptions' plans (ids are the service's own).
    let got = records(&dest, "licences");
    let (skus, details): (Vec<Value>, Vec<Value>) = got
        .into_iter()
        .partition(|r| t.subscribed_skus.iter().any(|s| s["id"] == r["id"]));
    same_records(&skus, &t.subscribed_skus, "licences (subscribed SKUs)");
    let want: Vec<Value> = v["assignedLicenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let sku = t
                .subscribed_skus
                .iter()
                .find(|s| s["skuId"] == a["skuId"])
                .unwrap();
            serde_json::json!({"skuId": a["skuId"], "skuPartNumber": sku["skuPartNumber"], "servicePlans": sku["servicePlans"]})
        })
        .collect();
    assert!(!want.is_empty());
    let without_id: Vec<Value> = details
        .iter()
        .map(|d| {
            let mut d = d.clone();
            assert!(d["id"].is_string(), "{d}");
            d.as_object_mut().unwrap().remove("id");
            d
        })
        .collect();
    same_records(&without_id, &want, "licences (the victim's details)");
    assert_eq!(trace["details"]["retention"][0]["kept_days"], 90, "{trace}");
    let deleted = manifest_source(&dest, "deleted-objects");
    assert_eq!(deleted["details"]["retention"][0]["kept_days"], 30);
    assert!(
        deleted["details"]["retention"][0]["oldest_expires"].is_string(),
        "{deleted}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_permissions_licence_or_prerequisite_each_source_says_why() {
    // The prerequisite: no message-trace service principal.
    let mut f = default_fixture();
    f.tenant
        .service_principals
        .retain(|s| s["appId"] != m365_preserve_sources::MESSAGE_TRACE_APP);
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_logged(f, &log, |_| {}).await;
    let o = collect(&handle, &case, "nosp", &["--sources", "message-trace"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    handle.shutdown().await;
    let dest = open(&case, "nosp");
    let m = manifest_source(&dest, "message-trace");
    assert_eq!(m["status"], "unavailable", "{m}");
    assert!(
        m["reason"]
            .as_str()
            .unwrap()
            .contains("New-MgServicePrincipal -AppId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373"),
        "{m}"
    );
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap()
            .contains("/messageTraces"),
        "no trace request without the prerequisite"
    );

    // The licence: Entra ID Free has no Conditional Access.
    let handle = sim(Some(Licence::Free), None).await;
    let o = collect(
        &handle,
        &case,
        "free",
        &["--sources", "conditional-access,licences"],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    handle.shutdown().await;
    let dest = open(&case, "free");
    let m = manifest_source(&dest, "conditional-access");
    assert_eq!(m["status"], "unavailable", "{m}");
    assert!(m["reason"].as_str().unwrap().contains("licence"), "{m}");

    // The permissions: an app holding only User.Read.All.
    let handle = sim(None, None).await;
    let base = handle.base_url();
    let args: Vec<String> = ["collect", "--tenant", "contoso-jp.onmicrosoft.com", "--client-id", m365_preserve_sim::scenario::LIMITED_CLIENT_ID,
        "--client-secret-env", "SIM_SECRET", "--graph-url", &base, "--login-url", &base, "--manage-url", &base,
        "--time-scale", "100", "--examiner", "Tester", "--recipient", &case.age_public, "--quiet", "--case", "IR-SIM",
        "--user", VICTIM, "--sources", "conditional-access,risky-service-principals,service-principal-risk-detections,security-alerts,security-incidents,mail-sent,message-trace"]
        .iter().map(|s| s.to_string()).chain(["--out".to_string(), case.path("limited").display().to_string()]).collect();
    let o = tokio::task::spawn_blocking(move || {
        crate::common::bin()
            .env("SIM_SECRET", m365_preserve_sim::scenario::DEMO_SECRET)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    handle.shutdown().await;
    let dest = open(&case, "limited");
    for (source, permission) in [
        ("conditional-access", "Policy.Read.All"),
        (
            "risky-service-principals",
            "IdentityRiskyServicePrincipal.Read.All",
        ),
        (
            "service-principal-risk-detections",
            "IdentityRiskEvent.Read.All",
        ),
        ("security-alerts", "SecurityAlert.Read.All"),
        ("security-incidents", "SecurityIncident.Read.All"),
        ("mail-sent", "access"),
        ("message-trace", "ExchangeMessageTrace.Read.All"),
    ] {
        let m = manifest_source(&dest, source);
        assert_eq!(m["status"], "unavailable", "{source}: {m}");
        assert!(
            m["reason"].as_str().unwrap().contains(permission),
            "{source}: {m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_evidence_filter_falls_back_to_the_window_and_says_so() {
    let f = default_fixture();
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_logged(f.clone(), &log, |c| c.alert_evidence_filter = false).await;
    let o = collect(
        &handle,
        &case,
        "fallback",
        &["--sources", "security-alerts"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    handle.shutdown().await;
    let dest = open(&case, "fallback");
    let alerts: Vec<Value> = f
        .tenant
        .security_alerts
        .iter()
        .filter(|a| a["evidence"].to_string().contains(VICTIM))
        .cloned()
        .collect();
    same_records(
        &records(&dest, "security-alerts"),
        &alerts,
        "security-alerts",
    );
    let notes = manifest_source(&dest, "security-alerts")["details"]["notes"].to_string();
    assert!(
        notes.contains("refused the documented filter") && notes.contains("matched here"),
        "{notes}"
    );
}
