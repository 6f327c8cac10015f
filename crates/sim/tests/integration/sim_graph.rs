//! The simulated tenant's Graph routes, over loopback, with a real HTTP client:
//! paging under faults, filters, licences, throttle budgets, the read-only
//! guard, audit queries, directory and mailbox routes, fixture errors.

use chrono::{DateTime, Duration, Utc};
use m365_preserve_sim::faults::FaultConfig;
use m365_preserve_sim::fixture::{Fixture, Licence, Tenant};
use m365_preserve_sim::server::{start, FixtureSource, Profile, SimConfig, SimHandle};
use m365_preserve_sim::shared::RecordSource;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const TENANT: &str = "4f6e2a1c-9b7d-4e3a-8c21-5d0f7a9b3e64";
const APP: &str = "9a3d526c-b3c1-4479-ba74-197b5c5751ae";
const ALICE: &str = "26be570a-ae82-4189-b4e2-a37c6808512d";
const BOB: &str = "5c1f0b7e-3a2d-4f8e-9b6a-0d4c2e8f1a37";
const GUEST: &str = "7e2a9c4b-1d3f-4a6e-8b5c-9f0d2e4a6c81";
const GROUP_SALES: &str = "0a1b2c3d-0000-4000-8000-000000000001";
const GROUP_ALL: &str = "0a1b2c3d-0000-4000-8000-000000000002";
const APP_OBJECT: &str = "ab12cd34-0000-4000-8000-00000000000a";
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const ALL_ROLES: &[&str] = &[
    "AuditLog.Read.All",
    "Directory.Read.All",
    "AuditLogsQuery.Read.All",
    "UserAuthenticationMethod.Read.All",
    "Policy.Read.All",
    "MailboxSettings.Read",
    "Mail.Read",
    "RoleManagement.Read.Directory",
    "IdentityRiskyUser.Read.All",
    "IdentityRiskEvent.Read.All",
];

fn anchor() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

const EVENT_TYPES: [&str; 5] = [
    "interactiveUser",
    "nonInteractiveUser",
    "nonInteractiveUser",
    "servicePrincipal",
    "managedIdentity",
];

fn signin(i: usize) -> Value {
    let kind = EVENT_TYPES[i % 5];
    let (user, upn) = match (kind, i % 3) {
        ("servicePrincipal" | "managedIdentity", _) => ("", ""),
        (_, 0) => (ALICE, "alice@contoso.com"),
        _ => (BOB, "bob@contoso.com"),
    };
    json!({
        "id": format!("si-{i:05}"),
        "createdDateTime": ts(anchor() - Duration::minutes(7 * i as i64)),
        "userId": user,
        "userPrincipalName": upn,
        "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "ipAddress": if i.is_multiple_of(11) { "203.0.113.10" } else { "198.51.100.7" },
        "isInteractive": kind == "interactiveUser",
        "signInEventTypes": [kind],
        "sessionId": format!("session-{}", i % 17),
        "incomingTokenType": if i.is_multiple_of(4) { "refreshToken" } else { "none" },
        "authenticationDetails": [],
        "status": {"errorCode": if i.is_multiple_of(13) { 50126 } else { 0 }},
    })
}

fn directory_audit(i: usize) -> Value {
    let (actor, target) = if i.is_multiple_of(2) {
        (ALICE, BOB)
    } else {
        (BOB, APP_OBJECT)
    };
    let target = if i.is_multiple_of(3) { ALICE } else { target };
    json!({
        "id": format!("Directory_{i:05}"),
        "activityDateTime": ts(anchor() - Duration::minutes(9 * i as i64)),
        "activityDisplayName": if i.is_multiple_of(5) { "Update user" } else { "Add service principal" },
        "category": if i.is_multiple_of(5) { "UserManagement" } else { "ApplicationManagement" },
        "initiatedBy": {"app": null, "user": {"id": actor, "userPrincipalName": "x@contoso.com"}},
        "targetResources": [{"id": target, "displayName": "t", "type": "User",
            "modifiedProperties": [{"displayName": "StrongAuthenticationMethod", "oldValue": "[]", "newValue": "[{\"MethodType\":6}]"}]}],
        "performedBy": null,
        "userAgent": "Mozilla/5.0",
    })
}

fn audit_record(i: usize) -> Value {
    const OPS: [(&str, &str, &str); 4] = [
        ("New-InboxRule", "exchangeAdmin", "Exchange"),
        ("MailItemsAccessed", "exchangeItem", "Exchange"),
        (
            "UserLoggedIn",
            "azureActiveDirectoryStsLogon",
            "AzureActiveDirectory",
        ),
        ("Set-Mailbox", "exchangeAdmin", "Exchange"),
    ];
    let (op, record_type, service) = OPS[i % 4];
    let upn = if i.is_multiple_of(2) {
        "alice@contoso.com"
    } else {
        "bob@contoso.com"
    };
    json!({
        "@odata.type": "#microsoft.graph.security.auditLogRecord",
        "id": format!("ar-{i:05}"),
        "createdDateTime": ts(anchor() - Duration::minutes(30 * i as i64)),
        "auditLogRecordType": record_type,
        "operation": op,
        "service": service,
        "userPrincipalName": upn,
        "userId": upn,
        "clientIp": "203.0.113.10",
        "administrativeUnits": [],
        "auditData": {"CreationTime": "2026-11-20T12:00:00", "Operation": op},
    })
}

fn tenant() -> Tenant {
    serde_json::from_value(json!({
        "tenantId": TENANT,
        "displayName": "コントソ株式会社",
        "defaultDomain": "contoso.onmicrosoft.com",
        "licence": "p2",
        "anchor": ts(anchor()),
        "apps": [{"clientId": APP, "displayName": "m365-preserve", "roles": ALL_ROLES}],
        "users": [
            {"id": ALICE, "userPrincipalName": "alice@contoso.com", "displayName": "佐藤 花子", "mail": "alice@contoso.com",
             "userType": "Member", "accountEnabled": true, "createdDateTime": "2024-04-01T00:00:00Z",
             "signInActivity": {"lastSignInDateTime": "2026-11-20T11:00:00Z"}},
            {"id": BOB, "userPrincipalName": "bob@contoso.com", "displayName": "鈴木 一郎", "userType": "Member", "accountEnabled": true},
            {"id": GUEST, "userPrincipalName": "eve_evil.example#EXT#@contoso.onmicrosoft.com", "displayName": "eve",
             "userType": "Guest", "createdDateTime": "2026-11-19T08:00:00Z", "externalUserState": "Accepted"}
        ],
        "groups": [
            {"id": GROUP_SALES, "displayName": "営業部"},
            {"id": GROUP_ALL, "displayName": "All staff"}
        ],
        "memberOf": {ALICE: [GROUP_SALES], GROUP_SALES: [GROUP_ALL]},
        "roleDefinitions": [
            {"id": GLOBAL_ADMIN, "templateId": GLOBAL_ADMIN, "displayName": "Global Administrator", "isBuiltIn": true},
            {"id": "fe930be7-5e62-47db-91af-98c3a49a38b1", "templateId": "fe930be7-5e62-47db-91af-98c3a49a38b1", "displayName": "User Administrator", "isBuiltIn": true}
        ],
        "roleAssignments": [
            {"id": "ra-1", "principalId": ALICE, "roleDefinitionId": GLOBAL_ADMIN, "directoryScopeId": "/"}
        ],
        "devices": [{"id": "d0000000-0000-4000-8000-000000000001", "deviceId": "1111aaaa-0000-4000-8000-000000000001",
                     "displayName": "ATTACKER-PC", "registrationDateTime": "2026-11-19T09:00:00Z"}],
        "registeredDevices": {ALICE: ["d0000000-0000-4000-8000-000000000001"]},
        "applications": [{"id": APP_OBJECT, "appId": "5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "displayName": "Mail Sync",
                          "passwordCredentials": [{"keyId": "k1", "startDateTime": "2026-11-19T09:30:00Z"}]}],
        "ownedObjects": {ALICE: [APP_OBJECT]},
        "oauth2PermissionGrants": [{"id": "g1", "clientId": "sp1", "consentType": "Principal", "principalId": ALICE,
                                    "resourceId": "sp-graph", "scope": "Mail.Read offline_access"}],
        "mailboxes": {
            ALICE: {"reachable": true,
                    "settings": {"timeZone": "Tokyo Standard Time", "automaticRepliesSetting": {"status": "disabled"}},
                    "folders": [{"id": "AAMkInbox", "displayName": "Inbox"}, {"id": "AAMkRss", "displayName": "RSS Feeds"}],
                    "rules": [{"id": "r1", "displayName": ".", "sequence": 1, "isEnabled": true,
                               "actions": {"moveToFolder": "AAMkRss", "markAsRead": true}}],
                    "messages": [{"id": "m1", "eml": "messages/m1.eml"}]},
            BOB: {"reachable": false}
        },
        "authentication": {ALICE: {"methods": [
            {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "28c10230-6103-485e-b985-444c60001490"},
            {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "id": "m-auth",
             "displayName": "iPhone 15", "createdDateTime": "2026-11-19T09:05:00Z", "lastUsedDateTime": "2026-11-19T10:00:00Z"},
            {"@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethod", "id": "hw"}
        ], "requirements": {"perUserMfaState": "enforced"}}},
        "registrationDetails": [
            {"id": ALICE, "userPrincipalName": "alice@contoso.com", "isMfaRegistered": true, "methodsRegistered": ["microsoftAuthenticatorPush"]},
            {"id": BOB, "userPrincipalName": "bob@contoso.com", "isMfaRegistered": false, "methodsRegistered": []}
        ],
        "riskyUsers": [{"id": ALICE, "userPrincipalName": "alice@contoso.com", "riskLevel": "high", "riskState": "atRisk"}],
        "riskDetections": [{"id": "rd1", "userId": ALICE, "riskEventType": "unfamiliarFeatures", "mitreTechniqueId": "T1078"}]
    }))
    .unwrap()
}

const SIGNINS: usize = 2_400;
const AUDITS: usize = 1_200;

fn fixture(dir: &std::path::Path) -> Fixture {
    std::fs::create_dir_all(dir.join("messages")).unwrap();
    std::fs::write(
        dir.join("messages/m1.eml"),
        "From: a@example.com\r\nSubject: invoice\r\n\r\nhello\r\n",
    )
    .unwrap();
    Fixture {
        dir: dir.to_path_buf(),
        tenant: tenant(),
        signins: (0..SIGNINS).map(signin).collect(),
        directory_audits: (0..AUDITS).map(directory_audit).collect(),
        audit_records: (0..300).map(audit_record).collect(),
    }
}

struct Sim {
    handle: SimHandle,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn sim_with(configure: impl FnOnce(&mut SimConfig)) -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SimConfig::new(FixtureSource::Loaded(fixture(dir.path())));
    config.now = Some(anchor());
    config.time_scale = 100.0;
    configure(&mut config);
    let handle = start(config).await.unwrap();
    Sim {
        handle,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Sim {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    fn token(&self, roles: &[&str]) -> String {
        self.handle.issue_token(APP, roles)
    }

    /// One request, retried only while throttled (429).
    async fn get(
        &self,
        path: &str,
        roles: &[&str],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        for _ in 0..100 {
            let (status, headers, body) = self.get_once(path, roles).await;
            if status != StatusCode::TOO_MANY_REQUESTS {
                return (status, headers, body);
            }
            let wait = crate::retry_after(&headers, 0.01);
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
        }
        panic!("still throttled after 100 attempts: {path}");
    }

    /// One request, no retries.
    async fn get_once(
        &self,
        path: &str,
        roles: &[&str],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(self.token(roles))
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let body = r.bytes().await.unwrap();
        (
            status,
            headers,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// Follows nextLinks to the end, retrying like a careful client: honours
    /// Retry-After, refreshes the token on 401, retries resets, truncated
    /// bodies and the intermittent premium 403.
    async fn collect(&self, path: &str) -> Vec<Value> {
        let mut url = self.url(path);
        let mut token = self.token(ALL_ROLES);
        let mut out = Vec::new();
        loop {
            let mut attempts = 0;
            let page: Value = loop {
                attempts += 1;
                assert!(attempts < 40, "no success after 40 attempts on {url}");
                let Ok(resp) = self.client.get(&url).bearer_auth(&token).send().await else {
                    continue;
                };
                let status = resp.status();
                let wait = crate::retry_after(resp.headers(), 0.005);
                let Ok(body) = resp.bytes().await else {
                    continue;
                };
                let text = String::from_utf8_lossy(&body);
                match status.as_u16() {
                    200 => match serde_json::from_slice(&body) {
                        Ok(v) => break v,
                        Err(_) => continue,
                    },
                    401 => token = self.token(ALL_ROLES),
                    403 if text.contains("NonPremiumTenant") => {}
                    429 | 503 | 504 => {
                        tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await
                    }
                    other => panic!("{other} from {url}: {text}"),
                }
            };
            out.extend(page["value"].as_array().unwrap().iter().cloned());
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return out,
            }
        }
    }
}

impl Sim {
    /// Polls an audit-log query until it ends; returns the statuses seen, in order.
    async fn poll_query(&self, id: &str) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..2000 {
            let (_, _, q) = self
                .get(&format!("/beta/security/auditLog/queries/{id}"), ALL_ROLES)
                .await;
            let status = q["status"].as_str().unwrap().to_string();
            if seen.last() != Some(&status) {
                seen.push(status.clone());
            }
            if status == "succeeded" || status == "failed" {
                return seen;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("audit query {id} never finished: {seen:?}");
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Expected sign-in ids (newest first = fixture order) for a predicate.
fn expected_signins(keep: impl Fn(&Value) -> bool) -> Vec<String> {
    ids(&(0..SIGNINS)
        .map(signin)
        .filter(|r| keep(r))
        .collect::<Vec<_>>())
}

fn kind(r: &Value) -> &str {
    r["signInEventTypes"][0].as_str().unwrap()
}

#[tokio::test]
async fn paging_under_faults_returns_exactly_the_fixture_records() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let sim = sim_with(|c| {
        c.faults = Some(FaultConfig {
            seed: 42,
            rate: 0.3,
        });
        c.log = Some(log.path().to_path_buf());
    })
    .await;

    let got = sim
        .collect(&format!(
            "/beta/auditLogs/signIns?$filter=userId eq '{ALICE}' and (signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser'))&$top=40"
        ))
        .await;
    let want = expected_signins(|r| {
        r["userId"] == ALICE && matches!(kind(r), "interactiveUser" | "nonInteractiveUser")
    });
    assert!(want.len() > 300);
    assert_eq!(ids(&got), want);

    let got = sim
        .collect(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter=targetResources/any(t: t/id eq '{ALICE}') or initiatedBy/user/id eq '{ALICE}'&$top=50"
        ))
        .await;
    let want: Vec<String> = ids(&(0..AUDITS)
        .map(directory_audit)
        .filter(|r| {
            r["targetResources"][0]["id"] == ALICE || r["initiatedBy"]["user"]["id"] == ALICE
        })
        .collect::<Vec<_>>());
    assert_eq!(ids(&got), want);
    let unique: HashSet<_> = want.iter().collect();
    assert_eq!(unique.len(), want.len());

    let lines: Vec<Value> = std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let faults: HashSet<&str> = lines.iter().filter_map(|l| l["fault"].as_str()).collect();
    assert!(faults.len() >= 4, "too few kinds of fault: {faults:?}");
    assert!(lines.iter().all(|l| l["read_only_violation"] == false));
    assert_eq!(sim.handle.violations(), 0);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn signin_filters_follow_the_reference_semantics() {
    let sim = sim_with(|c| c.time_scale = 1000.0).await;

    // No event-type filter: interactive only.
    let got = sim.collect("/beta/auditLogs/signIns").await;
    assert_eq!(
        ids(&got),
        expected_signins(|r| kind(r) == "interactiveUser")
    );

    // `ne` inside the lambda: everything but interactive.
    let got = sim
        .collect("/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t ne 'interactiveUser')")
        .await;
    assert_eq!(
        ids(&got),
        expected_signins(|r| kind(r) != "interactiveUser")
    );

    // Time window (inclusive), UPN in another case, service principals excluded by the user filter.
    let (lo, hi) = (
        anchor() - Duration::hours(30),
        anchor() - Duration::hours(6),
    );
    let got = sim
        .collect(&format!(
            "/beta/auditLogs/signIns?$filter=createdDateTime ge {} and createdDateTime le {} and userPrincipalName eq 'BOB@Contoso.com' and signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'servicePrincipal')",
            ts(lo),
            ts(hi)
        ))
        .await;
    let want = expected_signins(|r| {
        let t = DateTime::parse_from_rfc3339(r["createdDateTime"].as_str().unwrap()).unwrap();
        t >= lo
            && t <= hi
            && r["userPrincipalName"] == "bob@contoso.com"
            && kind(r) == "nonInteractiveUser"
    });
    assert!(!want.is_empty());
    assert_eq!(ids(&got), want);

    // Oldest first on request.
    let got = sim
        .collect("/beta/auditLogs/signIns?$filter=ipAddress eq '203.0.113.10'&$orderby=createdDateTime asc")
        .await;
    let mut want =
        expected_signins(|r| r["ipAddress"] == "203.0.113.10" && kind(r) == "interactiveUser");
    want.reverse();
    assert_eq!(ids(&got), want);

    // Enum members newer than unknownFutureValue need the Prefer header.
    let (_, _, page) = sim
        .get(
            "/beta/auditLogs/signIns?$filter=id eq 'si-00000'",
            ALL_ROLES,
        )
        .await;
    assert_eq!(page["value"][0]["incomingTokenType"], "unknownFutureValue");
    let resp = sim
        .client
        .get(sim.url("/beta/auditLogs/signIns?$filter=id eq 'si-00000'"))
        .bearer_auth(sim.token(ALL_ROLES))
        .header("Prefer", "include-unknown-enum-members")
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["value"][0]["incomingTokenType"], "refreshToken");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn unsupported_filters_and_page_sizes_are_refused() {
    let sim = sim_with(|c| c.time_scale = 1000.0).await;
    for filter in [
        "status/errorCode ge 1",
        "userType eq 'guest'",
        "createdDateTime ge '2026-11-01T00:00:00Z'",
        "userId eq 'x' and",
        "contains(userPrincipalName, 'a')",
        "signInEventTypes/any(t: t gt 'a')",
    ] {
        let (status, _, body) = sim
            .get(
                &format!("/beta/auditLogs/signIns?$filter={filter}"),
                ALL_ROLES,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}");
        assert_eq!(body["error"]["code"], "BadRequest");
        assert_eq!(
            body["error"]["message"], "Invalid filter clause",
            "{filter}"
        );
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
    let (status, _, _) = sim
        .get("/beta/auditLogs/signIns?$top=1001", ALL_ROLES)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = sim
        .get(
            "/v1.0/users?$filter=userType eq 'Guest'&$top=1000",
            ALL_ROLES,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid page size specified: '1000'"));
    let (status, _, body) = sim
        .get(
            &format!("/v1.0/roleManagement/directory/roleDefinitions?$filter=id eq '{GLOBAL_ADMIN}' or displayName eq 'x'"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert_eq!(
        body["error"]["message"],
        "Or operator not supported for this entity set."
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn free_tenant_refuses_premium_data_but_serves_directory_audits() {
    let sim = sim_with(|c| c.licence = Some(Licence::Free)).await;
    for path in [
        "/beta/auditLogs/signIns".to_string(),
        "/v1.0/reports/authenticationMethods/userRegistrationDetails".to_string(),
        format!("/v1.0/users/{ALICE}?$select=id,signInActivity"),
        "/v1.0/identityProtection/riskDetections".to_string(),
    ] {
        let (status, _, body) = sim.get(&path, ALL_ROLES).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body["error"]["code"],
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        );
    }
    let (status, _, body) = sim
        .get(
            "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances",
            ALL_ROLES,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("AadPremiumLicenseRequired"))
    );
    // Free keeps 7 days of directory audits.
    let got = sim.collect("/v1.0/auditLogs/directoryAudits").await;
    let cutoff = anchor() - Duration::days(7);
    let want: Vec<String> = ids(&(0..AUDITS)
        .map(directory_audit)
        .filter(|r| {
            DateTime::parse_from_rfc3339(r["activityDateTime"].as_str().unwrap()).unwrap() >= cutoff
        })
        .collect::<Vec<_>>());
    assert!(want.len() < AUDITS);
    assert_eq!(ids(&got), want);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn v1_signins_are_interactive_and_in_the_v1_shape() {
    let sim = sim_with(|c| c.time_scale = 1000.0).await;
    let got = sim
        .collect(&format!(
            "/v1.0/auditLogs/signIns?$filter=userId eq '{ALICE}'"
        ))
        .await;
    assert_eq!(
        ids(&got),
        expected_signins(|r| r["userId"] == ALICE && kind(r) == "interactiveUser")
    );
    for r in &got {
        for beta_only in [
            "signInEventTypes",
            "sessionId",
            "incomingTokenType",
            "authenticationDetails",
        ] {
            assert!(r.get(beta_only).is_none(), "{beta_only} in v1.0");
        }
        assert!(r.get("ipAddress").is_some());
    }
    let (status, _, body) = sim
        .get(
            "/v1.0/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'nonInteractiveUser')",
            ALL_ROLES,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["message"]),
        (StatusCode::BAD_REQUEST, &json!("Invalid filter clause"))
    );
    // Directory audits: tips annotation, beta-only fields only in beta.
    let (_, _, page) = sim
        .get("/v1.0/auditLogs/directoryAudits?$top=1", ALL_ROLES)
        .await;
    assert!(page["@microsoft.graph.tips"].is_string());
    assert!(page["value"][0].get("userAgent").is_none());
    assert!(page["@odata.nextLink"]
        .as_str()
        .unwrap()
        .starts_with(&sim.handle.base_url()));
    let (_, _, page) = sim
        .get("/beta/auditLogs/directoryAudits?$top=1", ALL_ROLES)
        .await;
    assert_eq!(page["value"][0]["userAgent"], "Mozilla/5.0");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn reports_budget_and_identity_protection_throttle() {
    let sim = sim_with(|c| c.time_scale = 1.0).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let (status, headers, _) = sim
            .get_once("/v1.0/auditLogs/directoryAudits?$top=1", ALL_ROLES)
            .await;
        statuses.push(status.as_u16());
        retry_after = headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    let wait: f64 = retry_after
        .expect("Retry-After on the reports 429")
        .parse()
        .unwrap();
    assert!(wait > 0.0 && wait <= 10.0, "{wait}");

    let (first, _, _) = sim
        .get_once("/v1.0/identityProtection/riskyUsers", ALL_ROLES)
        .await;
    let (second, headers, body) = sim
        .get_once("/v1.0/identityProtection/riskyUsers", ALL_ROLES)
        .await;
    assert_eq!(
        (first, second),
        (StatusCode::OK, StatusCode::TOO_MANY_REQUESTS)
    );
    assert!(headers.get("retry-after").is_none());
    assert_eq!(body["error"]["code"], "TooManyRequests");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn only_get_and_the_documented_posts_pass_the_read_only_guard() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let sim = sim_with(|c| c.log = Some(log.path().to_path_buf())).await;
    let token = sim.token(ALL_ROLES);
    let send = |method: reqwest::Method, path: &str| {
        sim.client
            .request(method, sim.url(path))
            .bearer_auth(&token)
            .header("client-request-id", "cafe0000-0000-4000-8000-000000000001")
            .json(&json!({"displayName": "case 1"}))
            .send()
    };
    for (method, path) in [
        (reqwest::Method::DELETE, format!("/v1.0/users/{ALICE}")),
        (reqwest::Method::PATCH, format!("/v1.0/users/{ALICE}")),
        (
            reqwest::Method::POST,
            format!("/v1.0/users/{ALICE}/revokeSignInSessions"),
        ),
        (
            reqwest::Method::PUT,
            "/v1.0/security/auditLog/queries".to_string(),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1.0/{TENANT}/activity/feed/subscriptions/start"),
        ),
    ] {
        let r = send(method.clone(), &path).await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            r.headers()["client-request-id"],
            "cafe0000-0000-4000-8000-000000000001"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["error"]["innerError"]["client-request-id"],
            "cafe0000-0000-4000-8000-000000000001"
        );
    }
    assert_eq!(sim.handle.violations(), 5);
    for path in [
        format!("/{TENANT}/oauth2/v2.0/token"),
        "/organizations/oauth2/v2.0/devicecode".to_string(),
        "/v1.0/security/auditLog/queries".to_string(),
        "/beta/security/auditLog/queries".to_string(),
    ] {
        let r = send(reqwest::Method::POST, &path).await.unwrap();
        assert_ne!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    assert_eq!(sim.handle.violations(), 5);
    let lines: Vec<Value> = std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["read_only_violation"] == true)
            .count(),
        5
    );
    let first = &lines[0];
    for key in [
        "time",
        "method",
        "path",
        "status",
        "duration_ms",
        "client_request_id",
        "fault",
    ] {
        assert!(first.get(key).is_some(), "{key} missing from the log");
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn malformed_fixture_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = serde_json::to_string(&tenant()).unwrap();
    std::fs::write(dir.path().join("tenant.json"), tenant).unwrap();
    std::fs::write(
        dir.path().join("signins.jsonl"),
        format!("{}\n{{\"id\": \"broken\",\n", signin(0)),
    )
    .unwrap();
    let err = start(SimConfig::new(FixtureSource::Dir(dir.path().to_path_buf())))
        .await
        .err()
        .expect("a malformed fixture must not start");
    let message = format!("{err:#}");
    assert!(
        message.contains("signins.jsonl") && message.contains("line 2"),
        "{message}"
    );
}

#[tokio::test]
async fn audit_log_query_lifecycle_and_records() {
    let sim = sim_with(|c| {
        // Fast profile: notStarted for 1 s, running until 3 s (simulated).
        c.profile = Profile::Fast;
        c.time_scale = 5.0;
    })
    .await;
    let token = sim.token(ALL_ROLES);
    let create = |name: &str| {
        sim.client
            .post(sim.url("/beta/security/auditLog/queries"))
            .bearer_auth(&token)
            .json(&json!({
                "@odata.type": "#microsoft.graph.security.auditLogQuery",
                "displayName": name,
                "filterStartDateTime": ts(anchor() - Duration::days(3)),
                "filterEndDateTime": ts(anchor() - Duration::days(1)),
                "userPrincipalNameFilters": ["ALICE@contoso.com"],
                "serviceFilter": "Exchange",
                "operationFilters": [],
            }))
            .send()
    };
    let r = create("case 1 alice").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let query: Value = r.json().await.unwrap();
    assert_eq!(query["status"], "notStarted");
    let id = query["id"].as_str().unwrap().to_string();
    let (status, _, _) = sim
        .get(
            &format!("/beta/security/auditLog/queries/{id}/records"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let seen = sim.poll_query(&id).await;
    assert_eq!(seen, ["notStarted", "running", "succeeded"]);

    let got = sim
        .collect(&format!(
            "/beta/security/auditLog/queries/{id}/records?$top=7"
        ))
        .await;
    let (lo, hi) = (anchor() - Duration::days(3), anchor() - Duration::days(1));
    let want: Vec<String> = ids(&(0..300)
        .map(audit_record)
        .filter(|r| {
            let t = DateTime::parse_from_rfc3339(r["createdDateTime"].as_str().unwrap()).unwrap();
            t >= lo
                && t < hi
                && r["userPrincipalName"] == "alice@contoso.com"
                && r["service"] == "Exchange"
        })
        .collect::<Vec<_>>());
    assert!(want.len() > 7);
    assert_eq!(ids(&got), want);

    let r = create("this one should fail").await.unwrap();
    let id: String = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .into();
    assert_eq!(sim.poll_query(&id).await.last().unwrap(), "failed");
    let (status, _, _) = sim
        .get(
            &format!("/v1.0/security/auditLog/queries/{id}/records"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn directory_and_mailbox_routes() {
    let sim = sim_with(|c| c.time_scale = 1000.0).await;
    // Default property set vs $select; UPN lookup; response headers.
    let (status, headers, user) = sim.get("/v1.0/users/ALICE@contoso.com", ALL_ROLES).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers.contains_key("request-id")
            && headers.contains_key("client-request-id")
            && headers.contains_key("date")
    );
    assert_eq!(user["displayName"], "佐藤 花子");
    assert!(user.get("accountEnabled").is_none() && user["jobTitle"].is_null());
    let (_, _, user) = sim
        .get(
            &format!("/v1.0/users/{ALICE}?$select=accountEnabled,signInActivity"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(user["accountEnabled"], true);
    assert_eq!(user["id"], ALICE);
    assert!(user["signInActivity"]["lastSignInDateTime"].is_string());
    assert!(user["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#users(accountEnabled,signInActivity)/$entity"));

    // Guests, paged one by one.
    let got = sim
        .collect("/v1.0/users?$filter=userType eq 'Guest'&$select=id,createdDateTime,externalUserState&$top=1")
        .await;
    assert_eq!(ids(&got), [GUEST]);

    let got = sim.collect(&format!("/v1.0/users/{ALICE}/memberOf")).await;
    assert_eq!(ids(&got), [GROUP_SALES]);
    assert_eq!(got[0]["@odata.type"], "#microsoft.graph.group");
    let got = sim
        .collect(&format!("/v1.0/users/{ALICE}/transitiveMemberOf"))
        .await;
    assert_eq!(ids(&got), [GROUP_SALES, GROUP_ALL]);
    let got = sim
        .collect(&format!("/v1.0/users/{ALICE}/ownedObjects"))
        .await;
    assert_eq!(got[0]["@odata.type"], "#microsoft.graph.application");
    let got = sim
        .collect(&format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{ALICE}'&$expand=roleDefinition"))
        .await;
    assert_eq!(
        got[0]["roleDefinition"]["displayName"],
        "Global Administrator"
    );
    let got = sim
        .collect(&format!(
            "/v1.0/oauth2PermissionGrants?$filter=principalId eq '{ALICE}'"
        ))
        .await;
    assert_eq!(ids(&got), ["g1"]);
    let got = sim
        .collect("/v1.0/devices?$filter=deviceId eq '1111aaaa-0000-4000-8000-000000000001'")
        .await;
    assert_eq!(got[0]["displayName"], "ATTACKER-PC");

    // Authentication methods: beta-only types and properties stay in beta.
    let v1 = sim
        .collect(&format!("/v1.0/users/{ALICE}/authentication/methods"))
        .await;
    let beta = sim
        .collect(&format!("/beta/users/{ALICE}/authentication/methods"))
        .await;
    assert_eq!((v1.len(), beta.len()), (2, 3));
    assert!(v1[1].get("lastUsedDateTime").is_none() && beta[1]["lastUsedDateTime"].is_string());
    let typed = sim
        .collect(&format!(
            "/v1.0/users/{ALICE}/authentication/microsoftAuthenticatorMethods"
        ))
        .await;
    assert_eq!(ids(&typed), ["m-auth"]);
    let (_, _, req) = sim
        .get(
            &format!("/beta/users/{ALICE}/authentication/requirements"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(req["perUserMfaState"], "enforced");

    // Mailbox: rules, settings, MIME, unreachable mailbox, unknown user.
    let rules = sim
        .collect(&format!(
            "/v1.0/users/{ALICE}/mailFolders/inbox/messageRules"
        ))
        .await;
    assert_eq!(rules[0]["displayName"], ".");
    let (_, _, folder) = sim
        .get(
            &format!("/v1.0/users/{ALICE}/mailFolders/AAMkRss"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(folder["displayName"], "RSS Feeds");
    let (_, _, settings) = sim
        .get(&format!("/v1.0/users/{ALICE}/mailboxSettings"), ALL_ROLES)
        .await;
    assert_eq!(settings["timeZone"], "Tokyo Standard Time");
    let mime = sim
        .client
        .get(sim.url(&format!("/v1.0/users/{ALICE}/messages/m1/$value")))
        .bearer_auth(sim.token(ALL_ROLES))
        .send()
        .await
        .unwrap();
    assert_eq!(mime.headers()["content-type"], "text/plain");
    assert!(mime.text().await.unwrap().contains("Subject: invoice"));
    let (status, _, body) = sim
        .get(
            &format!("/v1.0/users/{BOB}/mailFolders/inbox/messageRules"),
            ALL_ROLES,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("ErrorAccessDenied"))
    );
    let (status, _, body) = sim
        .get("/v1.0/users/nobody@contoso.com/mailboxSettings", ALL_ROLES)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("Request_ResourceNotFound"))
    );

    // Risk (P2) with beta-only properties dropped on v1.0.
    let got = sim
        .collect(&format!(
            "/v1.0/identityProtection/riskDetections?$filter=userId eq '{ALICE}'"
        ))
        .await;
    assert!(got[0].get("mitreTechniqueId").is_none());
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn authentication_and_permissions_are_checked() {
    let sim = sim_with(|c| c.time_scale = 1000.0).await;
    let r = sim.client.get(sim.url("/v1.0/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    let expired = sim
        .handle
        .shared()
        .tokens
        .issue(m365_preserve_sim::token::Claims {
            tid: TENANT.into(),
            appid: APP.into(),
            aud: "https://graph.microsoft.com".into(),
            roles: vec!["User.Read.All".into()],
            scp: None,
            exp: anchor().timestamp() - 10,
            iat: anchor().timestamp() - 3600,
        });
    let r = sim
        .client
        .get(sim.url("/v1.0/users"))
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (status, _, body) = sim
        .get("/v1.0/auditLogs/directoryAudits", &["User.Read.All"])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"]["code"],
        "Authentication_MSGraphPermissionMissing"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("AuditLog.Read.All"));
    let (status, _, body) = sim.get("/v1.0/users", &["AuditLog.Read.All"]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    let (status, _, _) = sim.get("/v1.0/users", &["User.Read.All"]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = sim.get("/v1.0/nothingHere", ALL_ROLES).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("BadRequest"))
    );
    sim.handle.shutdown().await;
}

/// A generated source that counts how many records were produced.
struct Generated {
    len: usize,
    produced: Arc<AtomicUsize>,
}

impl RecordSource for Generated {
    fn len(&self) -> usize {
        self.len
    }
    fn get(&self, i: usize) -> Cow<'_, Value> {
        self.produced.fetch_add(1, Ordering::Relaxed);
        Cow::Owned(json!({
            "id": format!("g-{i}"),
            "createdDateTime": ts(anchor() - Duration::seconds(i as i64)),
            "userId": if i.is_multiple_of(10) { ALICE } else { BOB },
            "signInEventTypes": ["nonInteractiveUser"],
        }))
    }
}

#[tokio::test]
async fn paging_a_large_generated_source_is_linear() {
    const N: usize = 200_000;
    let produced = Arc::new(AtomicUsize::new(0));
    let source = Generated {
        len: N,
        produced: produced.clone(),
    };
    let sim = sim_with(|c| {
        c.time_scale = 10_000.0;
        c.signins = Some(Box::new(source));
    })
    .await;
    let got = sim
        .collect(&format!(
            "/beta/auditLogs/signIns?$filter=userId eq '{ALICE}' and signInEventTypes/any(t: t eq 'nonInteractiveUser')"
        ))
        .await;
    assert_eq!(got.len(), N / 10);
    assert_eq!(got.first().unwrap()["id"], "g-0");
    let unique: HashSet<_> = ids(&got).into_iter().collect();
    assert_eq!(unique.len(), N / 10);
    let produced = produced.load(Ordering::Relaxed);
    assert!(
        produced <= N + N / 50,
        "{produced} records generated to page through {N}"
    );
    sim.handle.shutdown().await;
}
