//! The real client against the real simulator over loopback: paging through
//! every endpoint under fault injection, pacing without 429s, token refresh in
//! mid-paging, typed errors, and zero read-only violations.

use m365_preserve_collect::auth::{Cloud, Credential, Endpoints, TokenProvider};
use m365_preserve_collect::graph::{
    Api, Capture, GraphError, Pacer, RawSink, ReadOnlyClient, Request,
};
use m365_preserve_collect::retry::RetryPolicy;
use m365_preserve_package::workdir::WorkDir;
use m365_preserve_sim::faults::FaultConfig;
use m365_preserve_sim::fixture::{Fixture, Licence};
use m365_preserve_sim::scenario::default_fixture;
use m365_preserve_sim::server::{start, FixtureSource, Profile, SimConfig, SimHandle};
use m365_preserve_sources::Budget;
use serde_json::Value;
use std::sync::Arc;

const SCALE: f64 = 200.0;
const DEMO_SECRET: &str = "sim-demo-secret";

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-26T03:00:00Z")
        .unwrap()
        .to_utc()
}

async fn sim(faults: Option<f64>, licence: Option<Licence>) -> SimHandle {
    let mut config = SimConfig::new(FixtureSource::Loaded(default_fixture()));
    config.profile = Profile::Fast;
    config.time_scale = SCALE;
    config.faults = faults.map(|rate| FaultConfig { seed: 7, rate });
    config.licence = licence;
    config.now = Some(now());
    start(config).await.unwrap()
}

fn tool_app(f: &Fixture) -> String {
    f.tenant
        .apps
        .iter()
        .find(|a| a.display_name == "m365-preserve")
        .unwrap()
        .client_id
        .clone()
}

fn client(
    handle: &SimHandle,
    f: &Fixture,
    secret: &str,
    raw: Option<Arc<RawSink>>,
) -> ReadOnlyClient {
    let base = handle.base_url();
    let http = reqwest::Client::new();
    let endpoints = Endpoints::for_cloud(Cloud::Global)
        .with_overrides(Some(&base), Some(&base), Some(&base))
        .unwrap();
    let retry = RetryPolicy {
        time_scale: SCALE,
        max_attempts: 12,
        ..RetryPolicy::default()
    };
    let credential = Credential::Secret {
        client_id: tool_app(f),
        secret: secret.to_string().into(),
    };
    let tokens = Arc::new(TokenProvider::new(
        http.clone(),
        endpoints,
        &f.tenant.tenant_id,
        credential,
        retry.clone(),
        Box::new(|_| {}),
    ));
    ReadOnlyClient::new(http, tokens, Arc::new(Pacer::documented(SCALE)), retry, raw)
}

async fn all_pages(client: &ReadOnlyClient, req: Request) -> Result<Vec<Value>, GraphError> {
    let mut pager = client.pages(req);
    let mut out = Vec::new();
    while let Some(page) = pager.next_page().await? {
        out.extend(page.records);
    }
    Ok(out)
}

fn url(handle: &SimHandle, path_and_query: &str) -> url::Url {
    url::Url::parse(&format!("{}{path_and_query}", handle.base_url())).unwrap()
}

/// The victim and a few other users, and the queries a collection makes.
fn queries(f: &Fixture) -> Vec<(String, Budget)> {
    let mut q = Vec::new();
    let users: Vec<String> = f
        .tenant
        .users
        .iter()
        .filter(|u| u["userType"] != "Guest")
        .take(3)
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    for id in &users {
        for t in ["interactiveUser", "nonInteractiveUser"] {
            q.push((format!("/beta/auditLogs/signIns?$filter=userId eq '{id}' and signInEventTypes/any(t: t eq '{t}')"), Budget::Reports));
        }
        q.push((
            format!("/v1.0/auditLogs/directoryAudits?$filter=initiatedBy/user/id eq '{id}'"),
            Budget::Reports,
        ));
        q.push((
            format!(
                "/v1.0/auditLogs/directoryAudits?$filter=targetResources/any(t: t/id eq '{id}')"
            ),
            Budget::Reports,
        ));
        for p in [
            "memberOf",
            "transitiveMemberOf",
            "ownedObjects",
            "registeredDevices",
            "ownedDevices",
            "appRoleAssignments",
        ] {
            q.push((format!("/v1.0/users/{id}/{p}"), Budget::Directory));
        }
        q.push((
            format!("/v1.0/users/{id}/authentication/methods"),
            Budget::Reports,
        ));
        q.push((
            format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'"),
            Budget::Directory,
        ));
        q.push((
            format!("/v1.0/oauth2PermissionGrants?$filter=principalId eq '{id}'"),
            Budget::Directory,
        ));
    }
    for t in ["servicePrincipal", "managedIdentity"] {
        q.push((
            format!("/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq '{t}')"),
            Budget::Reports,
        ));
    }
    for p in [
        "/v1.0/applications",
        "/v1.0/servicePrincipals",
        "/v1.0/devices",
        "/v1.0/users?$filter=userType eq 'Guest'&$select=id,userPrincipalName,createdDateTime,creationType,externalUserState",
        "/v1.0/roleManagement/directory/roleDefinitions",
        "/v1.0/reports/authenticationMethods/userRegistrationDetails",
    ] {
        q.push((p.to_string(), if p.contains("reports") { Budget::Reports } else { Budget::Directory }));
    }
    q.push((
        "/v1.0/identityProtection/riskyUsers".into(),
        Budget::IdentityProtection,
    ));
    q.push((
        "/v1.0/identityProtection/riskDetections".into(),
        Budget::IdentityProtection,
    ));
    q
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_every_endpoint_under_faults_loses_and_duplicates_nothing() {
    let f = default_fixture();
    let clean = sim(None, None).await;
    let faulty = sim(Some(0.25), None).await;
    let (c_clean, c_faulty) = (
        client(&clean, &f, DEMO_SECRET, None),
        client(&faulty, &f, DEMO_SECRET, None),
    );
    let mut compared = 0;
    for (path, budget) in queries(&f) {
        let req = |h: &SimHandle| Request::new(Api::Graph, url(h, &path), budget, Capture::Targets);
        let want = all_pages(&c_clean, req(&clean))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let got = all_pages(&c_faulty, req(&faulty))
            .await
            .unwrap_or_else(|e| panic!("{path} under faults: {e}"));
        assert_eq!(got, want, "{path}");
        let ids: std::collections::HashSet<&Value> = got.iter().map(|r| &r["id"]).collect();
        assert_eq!(ids.len(), got.len(), "{path}: duplicate records");
        compared += got.len();
    }
    assert!(compared > 1000, "only {compared} records compared");
    let (_, retries, _) = c_faulty.counters();
    assert!(
        retries >= 3,
        "fault injection should have forced retries, saw {retries}"
    );
    assert_eq!(clean.violations() + faulty.violations(), 0);
    clean.shutdown().await;
    faulty.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_are_exactly_the_fixtures_for_the_query() {
    let f = default_fixture();
    let handle = sim(Some(0.2), None).await;
    let c = client(&handle, &f, DEMO_SECRET, None);
    let anchor = chrono::DateTime::parse_from_rfc3339(&f.tenant.anchor)
        .unwrap()
        .to_utc();
    for t in [
        "interactiveUser",
        "nonInteractiveUser",
        "servicePrincipal",
        "managedIdentity",
    ] {
        let req = Request::new(
            Api::Graph,
            url(
                &handle,
                &format!("/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq '{t}')"),
            ),
            Budget::Reports,
            Capture::Targets,
        );
        let got: Vec<String> = all_pages(&c, req)
            .await
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let mut want: Vec<&str> = f
            .signins
            .iter()
            .filter(|r| {
                r["signInEventTypes"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == t))
            })
            .filter(|r| {
                let at =
                    chrono::DateTime::parse_from_rfc3339(r["createdDateTime"].as_str().unwrap())
                        .unwrap()
                        .to_utc();
                at >= anchor - chrono::Duration::days(30)
            })
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let mut got_sorted: Vec<&str> = got.iter().map(String::as_str).collect();
        want.sort();
        got_sorted.sort();
        assert!(!want.is_empty(), "{t}");
        assert_eq!(got_sorted, want, "{t}");
    }
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_keeps_the_reports_budget_without_a_single_429() {
    let f = default_fixture();
    let handle = sim(None, None).await;
    let c = client(&handle, &f, DEMO_SECRET, None);
    // 24 report requests: more than four windows' worth of the 5-per-10-s budget.
    for i in 0..24 {
        let path = if i % 2 == 0 {
            "/v1.0/auditLogs/directoryAudits?$top=5"
        } else {
            "/beta/auditLogs/signIns?$top=5"
        };
        c.get(&Request::new(
            Api::Graph,
            url(&handle, path),
            Budget::Reports,
            Capture::Targets,
        ))
        .await
        .unwrap();
    }
    let (requests, retries, throttled) = c.counters();
    assert_eq!((requests, retries, throttled), (24, 0, 0));
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licence_permission_and_query_errors_are_typed() {
    let f = default_fixture();
    let free = sim(None, Some(Licence::Free)).await;
    let c = client(&free, &f, DEMO_SECRET, None);
    let signins = Request::new(
        Api::Graph,
        url(&free, "/beta/auditLogs/signIns"),
        Budget::Reports,
        Capture::Targets,
    );
    assert!(matches!(
        c.get(&signins).await,
        Err(GraphError::LicenceRequired { .. })
    ));
    let audits = Request::new(
        Api::Graph,
        url(&free, "/v1.0/auditLogs/directoryAudits"),
        Budget::Reports,
        Capture::Targets,
    );
    assert!(
        c.get(&audits).await.is_ok(),
        "directory audits work on Free"
    );
    let bad = Request::new(
        Api::Graph,
        url(
            &free,
            "/v1.0/auditLogs/directoryAudits?$filter=resultReason eq 'x'",
        ),
        Budget::Reports,
        Capture::Targets,
    );
    assert!(matches!(
        c.get(&bad).await,
        Err(GraphError::UnsupportedQuery { .. })
    ));
    let wrong = client(&free, &f, "not-the-secret", None);
    match wrong.get(&audits).await {
        Err(GraphError::Auth(e)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("AADSTS7000215") && !msg.contains("not-the-secret"),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(free.violations(), 0);
    free.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_responses_are_kept_byte_for_byte_with_their_ids() {
    let f = default_fixture();
    let handle = sim(None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(
        &handle,
        &f,
        DEMO_SECRET,
        Some(Arc::new(RawSink::new(&WorkDir::at(dir.path())))),
    );
    let req = Request::new(
        Api::Graph,
        url(&handle, "/v1.0/auditLogs/directoryAudits"),
        Budget::Reports,
        m365_preserve_sources::Source::EntraAudit,
    );
    let fetched = c.get(&req).await.unwrap();
    let path = fetched.raw_path.clone().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join(&path)).unwrap(),
        fetched.body.to_vec()
    );
    let meta: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(path.replace(".json", ".meta.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["status"], 200);
    assert!(
        meta["request_id"].is_string()
            && meta["client_request_id"].is_string()
            && meta["date"].is_string()
    );
    assert_eq!(
        meta["sha256"],
        m365_preserve_package::hashing::sha256_hex(&fetched.body)
    );
    handle.shutdown().await;
}
