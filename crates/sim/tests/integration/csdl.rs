//! The simulator serves what Graph's schema says: every record of every Graph
//! route the built-in scenario serves, and the `large` profile's sign-ins, are
//! checked against the CSDL types in `data/csdl/` (Microsoft's metadata,
//! copied from shared/reference/graph-csdl/). Each route is requested with and
//! without `Prefer: include-unknown-enum-members`, and every violation is
//! reported at once (route, place in the record, problem, how often).
//!
//! Where observed Graph differs from its metadata the simulator follows the
//! observation, and [`EXCEPTIONS`] names the difference with its source. Types
//! the vendored subset does not hold are listed in [`OUTSIDE`], and the routes
//! whose types it lacks altogether in [`NOT_CHECKED`].

mod check;

use check::{Allow, Checker, Exception, Findings, Outside};
use m365_preserve_sim::csdl;
use m365_preserve_sim::fixture::{Fixture, Licence};
// `GET /users` without `$select` returns only these (graph-api.md §7.1).
use m365_preserve_sim::graph::USER_DEFAULT;
use m365_preserve_sim::scenario::{self, default_fixture, large_signins, TOOL_CLIENT_ID};
use m365_preserve_sim::server::{start, FixtureSource, SimConfig, SimHandle};
use m365_preserve_sim::shared::RecordSource;
use serde_json::{json, Value};

/// Where observed Graph differs from the metadata (graph-api.md and
/// graph-api-more.md in shared/reference/ document each observation).
const EXCEPTIONS: &[Exception] = &[
    // The three count properties are documented (2026-09-18) but newer than
    // the 2026-08-20 metadata: graph-api.md §4.1, graph-api-more.md §N7.3.
    Exception {
        ty: "microsoft.graph.security.auditLogQuery",
        property: "isRecordCountLimitExceeded",
        allow: Allow::Extra,
        why: "graph-api.md §4.1: documented 2026-09-18, not yet in the 2026-08-20 metadata",
    },
    Exception {
        ty: "microsoft.graph.security.auditLogQuery",
        property: "approximateReturnedRecordCount",
        allow: Allow::Extra,
        why: "graph-api.md §4.1: documented 2026-09-18, not yet in the 2026-08-20 metadata",
    },
    Exception {
        ty: "microsoft.graph.security.auditLogQuery",
        property: "recordCountLimit",
        allow: Allow::Extra,
        why: "graph-api.md §4.1: documented 2026-09-18, not yet in the 2026-08-20 metadata",
    },
    // The records page's auditData carries the Management Activity API record's
    // own properties (CreationTime, Operation, RecordType...), not a
    // `dynamicProperties` dictionary: graph-api.md §4.1, records page.
    Exception {
        ty: "microsoft.graph.security.auditData",
        property: "dynamicProperties",
        allow: Allow::Absent,
        why: "graph-api.md §4.1: auditData holds the Management Activity API record's properties",
    },
];

/// Evolvable members the copied schema cannot show (beta.xml lists
/// incomingTokenType's members alphabetically, without values); the simulator
/// masks them by `csdl::DOCUMENTED_EVOLVABLE`, which must say the same.
const EVOLVABLE_BY_DOCS: &[(&str, &[&str], &str)] = &[(
    "microsoft.graph.incomingTokenType",
    &["remoteDesktopToken", "refreshToken"],
    "graph-api.md §1.7: the last two members need Prefer: include-unknown-enum-members",
)];

/// Types a served record uses that the vendored subset does not declare.
const OUTSIDE: &[Outside] = &[
    Outside {
        ty: "microsoft.graph.group",
        why: "memberships, owned and deleted objects include groups; group is not in the subset",
    },
    Outside {
        ty: "microsoft.graph.directoryRole",
        why: "memberships include directory roles; not in the subset",
    },
    Outside {
        ty: "microsoft.graph.administrativeUnit",
        why: "memberships include administrative units; not in the subset",
    },
    Outside {
        ty: "microsoft.graph.iPv4CidrRange",
        why: "ipNamedLocation.ipRanges items; the subset has only the abstract ipRange",
    },
    Outside {
        ty: "microsoft.graph.iPv6CidrRange",
        why: "ipNamedLocation.ipRanges items; the subset has only the abstract ipRange",
    },
];

/// Graph routes the simulator serves whose types the vendored subset lacks.
const NOT_CHECKED: &[(&str, &str)] = &[
    (
        "/v1.0/auditLogs/signIns",
        "the v1.0 signIn is not in the subset (the collector reads beta, which is checked)",
    ),
    (
        "/beta/... (all but signIns and conditionalAccess/deletedItems)",
        "the subset has no beta types but signIn; the collector reads v1.0 there",
    ),
    (
        "/v1.0/roleManagement/directory/roleDefinitions",
        "unifiedRoleDefinition is not in the subset",
    ),
    ("/v1.0/subscribedSkus", "subscribedSku is not in the subset"),
    (
        "/v1.0/users/{id}/licenseDetails",
        "licenseDetails is not in the subset",
    ),
    (
        "/v1.0/directory/deletedItems/microsoft.graph.group",
        "group is not in the subset",
    ),
    (
        "/beta/users/{id}/authentication/requirements",
        "strongAuthenticationRequirements is not in the subset",
    ),
    ("/v1.0/users/{id}/messages/{id}/$value", "MIME, not JSON"),
];

/// Every permission a route of the walk needs.
const ROLES: &[&str] = &[
    "AuditLog.Read.All",
    "AuditLogsQuery.Read.All",
    "Directory.Read.All",
    "User.Read.All",
    "Device.Read.All",
    "Application.Read.All",
    "Group.Read.All",
    "RoleManagement.Read.Directory",
    "RoleEligibilitySchedule.Read.Directory",
    "UserAuthenticationMethod.Read.All",
    "Policy.Read.All",
    "MailboxSettings.Read",
    "Mail.Read",
    "IdentityRiskyUser.Read.All",
    "IdentityRiskEvent.Read.All",
    "IdentityRiskyServicePrincipal.Read.All",
    "ExchangeMessageTrace.Read.All",
    "SecurityAlert.Read.All",
    "SecurityIncident.Read.All",
];

/// The sign-in event types, one request each.
const EVENT_TYPES: &[&str] = &[
    "interactiveUser",
    "nonInteractiveUser",
    "servicePrincipal",
    "managedIdentity",
];

/// The typed authentication-method collections of v1.0 and their types.
const METHOD_COLLECTIONS: &[(&str, &str)] = &[
    ("emailMethods", "emailAuthenticationMethod"),
    ("fido2Methods", "fido2AuthenticationMethod"),
    (
        "microsoftAuthenticatorMethods",
        "microsoftAuthenticatorAuthenticationMethod",
    ),
    ("passwordMethods", "passwordAuthenticationMethod"),
    ("phoneMethods", "phoneAuthenticationMethod"),
    (
        "platformCredentialMethods",
        "platformCredentialAuthenticationMethod",
    ),
    ("softwareOathMethods", "softwareOathAuthenticationMethod"),
    (
        "temporaryAccessPassMethods",
        "temporaryAccessPassAuthenticationMethod",
    ),
    (
        "windowsHelloForBusinessMethods",
        "windowsHelloForBusinessAuthenticationMethod",
    ),
    (
        "externalAuthenticationMethods",
        "externalAuthenticationMethod",
    ),
];

/// A qualified name in `microsoft.graph`.
fn graph(ty: &str) -> String {
    format!("microsoft.graph.{ty}")
}

/// What one request returns: a collection (`value`, nextLinks followed) or one object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Collection,
    Entity,
}

/// One route to walk: path and query, the type of its records, the `$select`
/// it sends, and whether it is read through beta.
struct Route {
    path: String,
    ty: String,
    answer: Answer,
    select: Option<Vec<String>>,
    beta: bool,
}

impl Route {
    fn list(path: impl Into<String>, ty: &str) -> Self {
        Route {
            path: path.into(),
            ty: ty.to_string(),
            answer: Answer::Collection,
            select: None,
            beta: false,
        }
    }

    fn one(path: impl Into<String>, ty: &str) -> Self {
        Route {
            answer: Answer::Entity,
            ..Route::list(path, ty)
        }
    }

    fn selecting<S: ToString>(mut self, fields: &[S]) -> Self {
        self.select = Some(fields.iter().map(S::to_string).collect());
        self
    }

    fn through_beta(mut self) -> Self {
        self.beta = true;
        self
    }
}

struct Walk {
    handle: SimHandle,
    client: reqwest::Client,
    /// Renewed when it expires (the simulated clock runs fast).
    token: std::sync::Mutex<String>,
}

impl Walk {
    async fn start(fixture: Fixture) -> Self {
        let mut config = SimConfig::new(FixtureSource::Loaded(fixture));
        config.licence = Some(Licence::P2);
        config.now = Some(time(scenario::ANCHOR));
        config.time_scale = 1000.0;
        let handle = start(config).await.expect("the simulator starts");
        let token = handle.issue_token(TOOL_CLIENT_ID, ROLES).into();
        Walk {
            handle,
            client: reqwest::Client::new(),
            token,
        }
    }

    /// One request, retried while throttled; panics on any other failure.
    async fn send(&self, request: reqwest::RequestBuilder) -> (reqwest::StatusCode, Value) {
        for _ in 0..200 {
            let token = self.token.lock().expect("token").clone();
            let r = request
                .try_clone()
                .expect("a plain request")
                .bearer_auth(token)
                .send()
                .await
                .expect("the simulator answers");
            let status = r.status();
            let wait = crate::retry_after(r.headers(), 0.002);
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if status == reqwest::StatusCode::UNAUTHORIZED {
                *self.token.lock().expect("token") = self.handle.issue_token(TOOL_CLIENT_ID, ROLES);
                continue;
            }
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
                continue;
            }
            assert!(status.is_success(), "{status}: {body}");
            return (status, body);
        }
        panic!("still throttled after 200 attempts");
    }

    async fn get(&self, url: &str, opted_in: bool) -> Value {
        let mut request = self.client.get(url);
        if opted_in {
            request = request.header("Prefer", "include-unknown-enum-members");
        }
        self.send(request).await.1
    }

    /// The records a route serves, nextLinks followed.
    async fn records(&self, route: &Route, opted_in: bool) -> Vec<Value> {
        let mut url = format!("{}{}", self.handle.base_url(), route.path);
        if let Some(select) = &route.select {
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{sep}$select={}", select.join(","));
        }
        let mut out = Vec::new();
        loop {
            let mut page = self.get(&url, opted_in).await;
            if route.answer == Answer::Entity {
                if let Some(obj) = page.as_object_mut() {
                    obj.shift_remove("@odata.context");
                }
                out.push(page);
                return out;
            }
            out.extend(
                page["value"]
                    .as_array()
                    .expect("a collection")
                    .iter()
                    .cloned(),
            );
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return out,
            }
        }
    }

    /// Submits an audit-log query for every record and waits for it to succeed;
    /// returns its id.
    async fn audit_query(&self) -> String {
        let body = json!({
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": "csdl conformance",
            "filterStartDateTime": "2025-01-01T00:00:00Z",
            "filterEndDateTime": "2027-01-01T00:00:00Z",
            "recordTypeFilters": [],
            "serviceFilters": [],
        });
        let url = format!("{}/v1.0/security/auditLog/queries", self.handle.base_url());
        let (_, created) = self.send(self.client.post(&url).json(&body)).await;
        let id = created["id"].as_str().expect("a query id").to_string();
        for _ in 0..2000 {
            let q = self.get(&format!("{url}/{id}"), true).await;
            if q["status"] == "succeeded" {
                return id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        panic!("audit query {id} never succeeded");
    }
}

fn time(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 time")
        .to_utc()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

/// Every route of the built-in scenario, with the fixture's ids filled in.
fn routes(fixture: &Fixture, query: &str) -> Vec<Route> {
    let t = &fixture.tenant;
    let mut r = Vec::new();
    for kind in EVENT_TYPES {
        r.push(
            Route::list(
                format!("/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq '{kind}')"),
                &graph("signIn"),
            )
            .through_beta(),
        );
    }
    r.push(Route::list(
        "/v1.0/auditLogs/directoryAudits",
        &graph("directoryAudit"),
    ));
    let security = |ty: &str| format!("microsoft.graph.security.{ty}");
    r.push(Route::list(
        "/v1.0/security/auditLog/queries",
        &security("auditLogQuery"),
    ));
    r.push(Route::one(
        format!("/v1.0/security/auditLog/queries/{query}"),
        &security("auditLogQuery"),
    ));
    r.push(Route::list(
        format!("/v1.0/security/auditLog/queries/{query}/records"),
        &security("auditLogRecord"),
    ));
    r.push(Route::list("/v1.0/users", &graph("user")).selecting(USER_DEFAULT));
    let user_type = csdl::v1();
    let every_user_property: Vec<&str> = user_type
        .properties(user_type.structure(&graph("user")).expect("user"))
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    r.push(Route::list("/v1.0/users", &graph("user")).selecting(&every_user_property));
    for list in [
        ("devices", "device"),
        ("applications", "application"),
        ("servicePrincipals", "servicePrincipal"),
        ("oauth2PermissionGrants", "oAuth2PermissionGrant"),
    ] {
        r.push(Route::list(format!("/v1.0/{}", list.0), &graph(list.1)));
    }
    for id in ids(&t.devices) {
        r.push(Route::one(format!("/v1.0/devices/{id}"), &graph("device")));
    }
    for id in ids(&t.applications) {
        r.push(Route::one(
            format!("/v1.0/applications/{id}"),
            &graph("application"),
        ));
    }
    for id in ids(&t.service_principals) {
        r.push(Route::one(
            format!("/v1.0/servicePrincipals/{id}"),
            &graph("servicePrincipal"),
        ));
    }
    let roles = "/v1.0/roleManagement/directory";
    r.push(Route::list(
        format!("{roles}/roleAssignments"),
        &graph("unifiedRoleAssignment"),
    ));
    r.push(Route::list(
        format!("{roles}/roleAssignments?$expand=roleDefinition"),
        &graph("unifiedRoleAssignment"),
    ));
    r.push(Route::list(
        format!("{roles}/roleEligibilityScheduleInstances"),
        &graph("unifiedRoleEligibilityScheduleInstance"),
    ));
    let registration = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
    r.push(Route::list(registration, &graph("userRegistrationDetails")));
    for id in ids(&t.registration_details) {
        r.push(Route::one(
            format!("{registration}/{id}"),
            &graph("userRegistrationDetails"),
        ));
    }
    let protection = "/v1.0/identityProtection";
    for (path, items, ty) in [
        ("riskyUsers", &t.risky_users, "riskyUser"),
        ("riskDetections", &t.risk_detections, "riskDetection"),
    ] {
        r.push(Route::list(format!("{protection}/{path}"), &graph(ty)));
        for id in ids(items) {
            r.push(Route::one(format!("{protection}/{path}/{id}"), &graph(ty)));
        }
    }
    r.push(Route::list(
        format!("{protection}/riskyServicePrincipals"),
        &graph("riskyServicePrincipal"),
    ));
    r.push(Route::list(
        format!("{protection}/servicePrincipalRiskDetections"),
        &graph("servicePrincipalRiskDetection"),
    ));
    // Message traces: 10-day windows back to (nearly) 90 days before the anchor.
    let anchor = time(scenario::ANCHOR);
    for w in 0..9 {
        let hi = anchor - chrono::Duration::days(10 * w);
        let lo = (hi - chrono::Duration::days(10)).max(anchor - chrono::Duration::days(89));
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        r.push(Route::list(
            format!(
                "/v1.0/admin/exchange/tracing/messageTraces?$filter=receivedDateTime ge {} and receivedDateTime le {}",
                at(lo),
                at(hi)
            ),
            &graph("exchangeMessageTrace"),
        ));
    }
    let ca = "identity/conditionalAccess";
    r.push(Route::list(
        format!("/v1.0/{ca}/policies"),
        &graph("conditionalAccessPolicy"),
    ));
    r.push(Route::list(
        format!("/v1.0/{ca}/namedLocations"),
        &graph("namedLocation"),
    ));
    // Deleted Conditional Access objects are listed by beta only; the subset
    // has their v1.0 types, which the simulator serves there.
    r.push(
        Route::list(
            format!("/beta/{ca}/deletedItems/policies"),
            &graph("conditionalAccessPolicy"),
        )
        .through_beta(),
    );
    r.push(
        Route::list(
            format!("/beta/{ca}/deletedItems/namedLocations"),
            &graph("namedLocation"),
        )
        .through_beta(),
    );
    r.push(Route::list(
        "/v1.0/policies/authenticationStrengthPolicies",
        &graph("authenticationStrengthPolicy"),
    ));
    for (cast, ty) in [
        ("application", "application"),
        ("servicePrincipal", "servicePrincipal"),
        ("user", "user"),
    ] {
        r.push(Route::list(
            format!("/v1.0/directory/deletedItems/microsoft.graph.{cast}"),
            &graph(ty),
        ));
    }
    r.push(Route::list("/v1.0/security/alerts_v2", &security("alert")));
    r.push(Route::list(
        "/v1.0/security/incidents?$expand=alerts",
        &security("incident"),
    ));
    for user in ids(&t.users) {
        r.extend(user_routes(fixture, &user));
    }
    r
}

/// The routes under one user.
fn user_routes(fixture: &Fixture, user: &str) -> Vec<Route> {
    let at = |p: &str| format!("/v1.0/users/{user}{p}");
    let object = graph("directoryObject");
    let mut r = vec![
        Route::one(at(""), &graph("user")).selecting(USER_DEFAULT),
        Route::list(at("/memberOf"), &object),
        Route::list(at("/transitiveMemberOf"), &object),
        Route::list(at("/ownedObjects"), &object),
        Route::list(at("/registeredDevices"), &object),
        Route::list(at("/ownedDevices"), &object),
        Route::list(at("/appRoleAssignments"), &graph("appRoleAssignment")),
        Route::list(
            at("/authentication/methods"),
            &graph("authenticationMethod"),
        ),
    ];
    for (collection, ty) in METHOD_COLLECTIONS {
        r.push(Route::list(
            at(&format!("/authentication/{collection}")),
            &graph(ty),
        ));
    }
    let Some(mailbox) = fixture.tenant.mailboxes.get(user) else {
        return r;
    };
    if !mailbox.reachable {
        return r;
    }
    r.push(Route::one(
        at("/mailboxSettings"),
        &graph("mailboxSettings"),
    ));
    r.push(Route::list(
        at("/mailFolders/inbox/messageRules"),
        &graph("messageRule"),
    ));
    for folder in ids(&mailbox.folders) {
        r.push(Route::one(
            at(&format!("/mailFolders/{folder}")),
            &graph("mailFolder"),
        ));
        r.push(Route::list(
            at(&format!("/mailFolders/{folder}/messages?$top=1000")),
            &graph("message"),
        ));
    }
    for message in ids(&mailbox.items) {
        r.push(Route::one(
            at(&format!("/messages/{message}")),
            &graph("message"),
        ));
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_serves_what_the_schema_says() {
    let (v1, beta) = (csdl::v1(), csdl::beta());
    let fixture = default_fixture();
    let walk = Walk::start(fixture.clone()).await;
    let query = walk.audit_query().await;
    let routes = routes(&fixture, &query);
    let checker = |model| Checker {
        model,
        exceptions: EXCEPTIONS,
        outside: OUTSIDE,
    };
    let (check_v1, check_beta) = (checker(v1), checker(beta));
    for (route, why) in NOT_CHECKED {
        eprintln!("not checked: {route}: {why}");
    }
    for e in EXCEPTIONS {
        eprintln!(
            "exception: {}.{} ({:?}): {}",
            e.ty, e.property, e.allow, e.why
        );
    }
    for o in OUTSIDE {
        eprintln!("outside the subset: {}: {}", o.ty, o.why);
    }
    for (e, members, why) in EVOLVABLE_BY_DOCS {
        eprintln!("exception: {e} {members:?} are evolvable: {why}");
    }
    let documented: Vec<(&str, &[&str])> =
        EVOLVABLE_BY_DOCS.iter().map(|(e, m, _)| (*e, *m)).collect();
    assert_eq!(documented, csdl::DOCUMENTED_EVOLVABLE);
    let mut findings = Findings::default();
    for route in &routes {
        // The beta subset has only signIn; other beta routes serve v1.0 types.
        let checker = if route.beta && route.ty == graph("signIn") {
            &check_beta
        } else {
            &check_v1
        };
        let select = route.select.as_deref();
        for opted_in in [true, false] {
            for record in walk.records(route, opted_in).await {
                checker.record(
                    &route.path,
                    &record,
                    &route.ty,
                    select,
                    opted_in,
                    &mut findings,
                );
            }
        }
    }
    assert!(
        findings.is_empty(),
        "{} records of {} routes checked; the simulator differs from the schema:\n{}",
        findings.records,
        routes.len(),
        findings.report()
    );
    eprintln!(
        "{} records of {} routes checked; evolvable members served with the opt-in header: {:?}",
        findings.records,
        routes.len(),
        findings.evolvable
    );
    assert!(
        !findings.evolvable.is_empty(),
        "no evolvable enum member was served even with the opt-in header"
    );
    assert_eq!(
        walk.handle.violations(),
        0,
        "a request was refused as a write"
    );
}

#[test]
fn large_profile_signins_are_beta_signins() {
    let checker = Checker {
        model: csdl::beta(),
        exceptions: EXCEPTIONS,
        outside: OUTSIDE,
    };
    let large = large_signins(20_000, time(scenario::ANCHOR));
    let mut findings = Findings::default();
    for i in 0..large.len() {
        // Stored records hold every member; a client that opted in sees them all.
        checker.record(
            "large profile",
            &large.get(i),
            &graph("signIn"),
            None,
            true,
            &mut findings,
        );
    }
    assert!(findings.is_empty(), "{}", findings.report());
}
