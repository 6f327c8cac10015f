//! The built-in compromise scenario (src/sim/scenario.rs) and its committed copy
//! in samples/tenant: volumes, every element of the story, determinism, record
//! shapes, the fixture schema, and the generated `large` profile.
//!
//! `M365P_REGENERATE_SAMPLES=1 cargo test -p m365-preserve-sim scenario` rewrites samples/tenant
//! from the generator instead of failing when they differ.

use m365_preserve_sim::fixture::Fixture;
use m365_preserve_sim::scenario::{
    self, default_fixture, large_signins, message_mime, message_paths, write_fixture,
};
use m365_preserve_sim::shared::RecordSource;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(default_fixture)
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/tenant")
}

fn anchor() -> chrono::DateTime<chrono::Utc> {
    time(scenario::ANCHOR)
}

fn time(text: &str) -> chrono::DateTime<chrono::Utc> {
    m365_preserve_package::timefmt::parse_iso_datetime(text)
        .unwrap_or_else(|| panic!("not a time: {text:?}"))
        .utc
}

fn event_type(signin: &Value) -> &str {
    signin["signInEventTypes"][0].as_str().unwrap_or_default()
}

fn victim(f: &Fixture) -> &Value {
    f.tenant
        .users
        .iter()
        .find(|u| u["userPrincipalName"] == "hanako.sato@contoso-jp.onmicrosoft.com")
        .expect("the victim")
}

/// Asserts two fixtures hold the same data, naming the first difference
/// (the records are too large to print whole).
fn assert_same(a: &Fixture, b: &Fixture, what: &str) {
    let tenant = |f: &Fixture| serde_json::to_value(&f.tenant).expect("tenant serialises");
    assert!(tenant(a) == tenant(b), "{what}: tenant.json differs");
    for (name, x, y) in [
        ("signins", &a.signins, &b.signins),
        ("directory audits", &a.directory_audits, &b.directory_audits),
        ("audit records", &a.audit_records, &b.audit_records),
    ] {
        assert_eq!(x.len(), y.len(), "{what}: number of {name}");
        if let Some(i) = (0..x.len()).find(|&i| x[i] != y[i]) {
            let keys: Vec<&String> = x[i]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| y[i].get(k.as_str()) != Some(v))
                .map(|(k, _)| k)
                .collect();
            panic!(
                "{what}: {name} record {i} ({}) differs in {keys:?}",
                x[i]["id"]
            );
        }
    }
}

#[test]
fn committed_samples_match_the_generator() {
    let generated = fixture();
    let dir = samples();
    if std::env::var_os("M365P_REGENERATE_SAMPLES").is_some_and(|v| v == "1") {
        let _ = std::fs::remove_dir_all(&dir);
        write_fixture(generated, &dir).expect("write samples/tenant");
    }
    let loaded = Fixture::load(&dir).unwrap_or_else(|e| {
        panic!("{e}\n(regenerate with M365P_REGENERATE_SAMPLES=1 cargo test -p m365-preserve-sim scenario)")
    });
    assert_same(
        &loaded,
        generated,
        "samples/tenant is stale: regenerate with M365P_REGENERATE_SAMPLES=1 cargo test -p m365-preserve-sim scenario",
    );
    let referenced: BTreeSet<String> = message_paths(generated).into_iter().collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir.join("messages"))
        .expect("samples/tenant/messages")
        .map(|e| format!("messages/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    assert_eq!(
        referenced, on_disk,
        "messages/ holds exactly the referenced messages"
    );
    for eml in &referenced {
        assert_eq!(
            message_mime(&loaded, eml).unwrap(),
            message_mime(generated, eml).unwrap(),
            "{eml} is stale"
        );
    }
    let size: u64 = walk(&dir).iter().map(|p| p.metadata().unwrap().len()).sum();
    // "Under ~25 MB": with the 37 sources of issues 12 and 13 the scenario was
    // 25.1 MiB (realistic record sizes at the volumes asked for); every record
    // in its type's full shape (issue 12: each sign-in's Conditional Access
    // entries with all 11 beta properties, directory objects with every
    // structural property) made it 28.2 MiB. This guard stops it growing past 29 MiB.
    assert!(size < 29 << 20, "samples/tenant is {size} bytes");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[test]
fn generation_is_deterministic() {
    let again = default_fixture();
    assert_same(&again, fixture(), "two runs");
    for eml in message_paths(fixture()) {
        assert_eq!(
            message_mime(&again, &eml).unwrap(),
            message_mime(fixture(), &eml).unwrap()
        );
    }
}

#[test]
fn volumes_are_at_least_what_the_issue_asks() {
    let f = fixture();
    assert!(f.signins.len() >= 5_000, "{} sign-ins", f.signins.len());
    for kind in [
        "interactiveUser",
        "nonInteractiveUser",
        "servicePrincipal",
        "managedIdentity",
    ] {
        let n = f.signins.iter().filter(|s| event_type(s) == kind).count();
        assert!(n >= 100, "{n} {kind} sign-ins");
    }
    assert!(
        f.directory_audits.len() >= 500,
        "{} directory audits",
        f.directory_audits.len()
    );
    assert!(
        f.audit_records.len() >= 3_000,
        "{} audit records",
        f.audit_records.len()
    );
    let members = f
        .tenant
        .users
        .iter()
        .filter(|u| u["userType"] == "Member")
        .count();
    assert!(members >= 31, "{members} member users");
}

#[test]
fn every_signin_is_well_formed() {
    let f = fixture();
    let user_ids: HashSet<&str> = f
        .tenant
        .users
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    let mut ids = HashSet::new();
    let mut previous = anchor();
    for s in &f.signins {
        let id = s["id"].as_str().expect("id");
        assert!(ids.insert(id), "duplicate sign-in id {id}");
        let created = time(s["createdDateTime"].as_str().expect("createdDateTime"));
        assert!(created <= previous, "not newest first at {id}");
        previous = created;
        assert_eq!(
            s["signInEventTypes"].as_array().map(Vec::len),
            Some(1),
            "{id}"
        );
        let kind = event_type(s);
        assert_eq!(
            s["isInteractive"] == true,
            kind == "interactiveUser",
            "{id}"
        );
        match kind {
            "interactiveUser" | "nonInteractiveUser" => {
                let user = s["userId"].as_str().expect("user sign-ins name the user");
                assert!(user_ids.contains(user), "{id}: unknown user {user}");
                assert_eq!(s["servicePrincipalId"], "", "{id}");
            }
            "servicePrincipal" | "managedIdentity" => {
                // `userId` is not nullable: workloads carry "" (beta signIn).
                assert!(
                    s["userId"] == "" && s["userPrincipalName"].is_null(),
                    "{id}"
                );
                assert!(
                    !s["servicePrincipalId"].as_str().unwrap().is_empty(),
                    "{id}"
                );
                let msi = &s["managedServiceIdentity"]["msiType"];
                assert_eq!(kind == "managedIdentity", msi != "none", "{id}");
            }
            other => panic!("{id}: signInEventTypes {other:?}"),
        }
        for key in [
            "status",
            "deviceDetail",
            "location",
            "appliedConditionalAccessPolicies",
            "authenticationDetails",
        ] {
            assert!(!s[key].is_null(), "{id}: no {key}");
        }
    }
}

#[test]
fn every_record_is_newest_first_inside_the_thirty_days_before_the_anchor() {
    let f = fixture();
    let start = anchor() - chrono::Duration::days(30);
    for (records, field) in [
        (&f.signins, "createdDateTime"),
        (&f.directory_audits, "activityDateTime"),
        (&f.audit_records, "createdDateTime"),
    ] {
        let mut previous = anchor();
        for r in records {
            let t = time(r[field].as_str().expect(field));
            assert!(t >= start && t < anchor(), "{} at {t}", r["id"]);
            assert!(t <= previous, "{} is out of newest-first order", r["id"]);
            previous = t;
        }
    }
    for r in &f.directory_audits {
        let id = r["id"].as_str().unwrap();
        let correlation = r["correlationId"].as_str().unwrap();
        assert!(id.contains(&format!("_{correlation}_")), "audit id {id}");
    }
    for r in &f.audit_records {
        assert_eq!(r["id"], r["auditData"]["Id"]);
        assert_eq!(
            time(r["createdDateTime"].as_str().unwrap()),
            time(r["auditData"]["CreationTime"].as_str().unwrap())
        );
    }
}

/// Every element of the story can be found where an investigator would look.
#[test]
fn every_scenario_element_is_present() {
    let f = fixture();
    let t = &f.tenant;
    let victim = victim(f);
    let vid = victim["id"].as_str().unwrap();
    let upn = victim["userPrincipalName"].as_str().unwrap();
    let audit = |activity: &str| {
        f.directory_audits
            .iter()
            .find(|a| a["activityDisplayName"] == activity)
            .unwrap_or_else(|| panic!("no {activity:?} audit"))
    };

    // The phish: a MIME message with a link to the look-alike domain.
    let mailbox = &t.mailboxes[vid];
    let phish = mailbox
        .messages
        .iter()
        .find(|m| m["subject"].as_str().unwrap().contains("請求書"))
        .expect("the phish");
    let mime = String::from_utf8(message_mime(f, phish["eml"].as_str().unwrap()).unwrap()).unwrap();
    assert!(
        mime.contains("\r\nMessage-ID: <") && mime.contains("Content-Transfer-Encoding: base64")
    );
    let body = mime.split("\r\n\r\n").nth(2).unwrap().replace("\r\n", "");
    let text = String::from_utf8(base64_decode(body.split("--").next().unwrap())).unwrap();
    assert!(
        text.contains("https://contoso-jp-sharepoint.com/"),
        "{text}"
    );

    // Attacker sign-ins: a failure then a success from a foreign address, the
    // replayed session from another country and browser, and refresh tokens.
    let foreign: Vec<&Value> = f
        .signins
        .iter()
        .filter(|s| s["userId"] == vid && s["location"]["countryOrRegion"] != "JP")
        .collect();
    let interactive = |code: i64| {
        foreign.iter().any(|s| {
            event_type(s) == "interactiveUser"
                && s["status"]["errorCode"] == code
                && s["ipAddress"].as_str().unwrap().starts_with("203.0.113.")
        })
    };
    assert!(interactive(50126) && interactive(0));
    assert!(foreign.iter().any(
        |s| s["authenticationRequirement"] == "multiFactorAuthentication"
            && s["authenticationDetails"]
                .to_string()
                .contains("satisfied by claim in the token")
    ));
    let agents: HashSet<&str> = foreign
        .iter()
        .map(|s| s["userAgent"].as_str().unwrap())
        .collect();
    assert!(agents.len() >= 3, "{agents:?}");
    let refreshes = foreign
        .iter()
        .filter(|s| {
            event_type(s) == "nonInteractiveUser" && s["incomingTokenType"] == "refreshToken"
        })
        .count();
    assert!(refreshes >= 20, "{refreshes} refresh-token sign-ins");

    // The attacker's Authenticator, and its registration in the audit log.
    let methods = &t.authentication[vid].methods;
    let authenticators = methods
        .iter()
        .filter(|m| {
            m["@odata.type"] == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
        })
        .count();
    assert_eq!(authenticators, 2);
    assert_eq!(
        audit("User registered security info")["initiatedBy"]["user"]["id"],
        vid
    );
    let changed = f.directory_audits.iter().any(|a| {
        a["activityDisplayName"] == "Update user"
            && a["targetResources"][0]["modifiedProperties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| {
                    p["displayName"] == "StrongAuthenticationMethod" && p["newValue"].is_string()
                })
    });
    assert!(changed, "no StrongAuthenticationMethod change");

    // The `.` rule moving to RSS Feeds, and the external forward.
    let rss = mailbox
        .folders
        .iter()
        .find(|f| f["displayName"] == "RSS Feeds")
        .expect("RSS Feeds");
    let dot = mailbox
        .rules
        .iter()
        .find(|r| r["displayName"] == ".")
        .expect("the . rule");
    assert_eq!(dot["actions"]["moveToFolder"], rss["id"]);
    assert_eq!(dot["actions"]["markAsRead"], true);
    let forward = mailbox
        .rules
        .iter()
        .find(|r| r["actions"]["forwardTo"].is_array())
        .expect("a forwarding rule");
    let to = forward["actions"]["forwardTo"][0]["emailAddress"]["address"]
        .as_str()
        .unwrap();
    assert!(
        !to.ends_with("@contoso-jp.onmicrosoft.com"),
        "{to} is internal"
    );
    for op in [
        "New-InboxRule",
        "Set-InboxRule",
        "MailItemsAccessed",
        "UserLoggedIn",
        "Send",
        "FileAccessed",
    ] {
        assert!(
            f.audit_records.iter().any(|r| r["operation"] == op),
            "no {op} record"
        );
    }
    let new_rule = f
        .audit_records
        .iter()
        .find(|r| r["operation"] == "New-InboxRule")
        .unwrap();
    assert_eq!(new_rule["auditData"]["RecordType"], 1);
    assert_eq!(new_rule["userPrincipalName"], upn);

    // The app registered by the user, its secret, the Mail.Read consent.
    let owned = &t.owned_objects[vid];
    let app = t
        .applications
        .iter()
        .find(|a| owned.iter().any(|o| a["id"] == o.as_str()))
        .expect("an application the victim owns");
    assert!(!app["passwordCredentials"].as_array().unwrap().is_empty());
    assert!(app["createdDateTime"].is_string());
    audit("Add application");
    audit("Update application – Certificates and secrets management ");
    audit("Consent to application");
    let grant = t
        .oauth2_permission_grants
        .iter()
        .find(|g| g["principalId"] == vid)
        .expect("the victim's consent");
    assert_eq!(grant["consentType"], "Principal");
    assert!(grant["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .any(|s| s == "Mail.Read"));
    let app_sp = t
        .service_principals
        .iter()
        .find(|s| s["appId"] == app["appId"])
        .unwrap();
    assert_eq!(grant["clientId"], app_sp["id"]);
    let key_id = &app["passwordCredentials"][0]["keyId"];
    assert!(f.signins.iter().any(|s| event_type(s) == "servicePrincipal"
        && s["servicePrincipalCredentialKeyId"] == *key_id
        && s["status"]["errorCode"] == 0));

    // The registered device.
    let device = t
        .devices
        .iter()
        .find(|d| d["trustType"] == "Workplace")
        .expect("a registered (not joined) device");
    assert!(t.registered_devices[vid]
        .iter()
        .any(|d| device["id"] == d.as_str()));

    // The invited guest.
    let guest = t
        .users
        .iter()
        .find(|u| u["externalUserState"] == "PendingAcceptance")
        .expect("a pending guest");
    assert_eq!(guest["userType"], "Guest");
    assert_eq!(guest["creationType"], "Invitation");
    assert_eq!(
        audit("Invite external user")["initiatedBy"]["user"]["id"],
        vid
    );

    // Risk.
    let risky = t
        .risky_users
        .iter()
        .find(|r| r["id"] == vid)
        .expect("risky victim");
    assert_eq!(risky["riskState"], "atRisk");
    let detections: HashSet<&str> = t
        .risk_detections
        .iter()
        .filter(|d| d["userId"] == vid)
        .map(|d| d["riskEventType"].as_str().unwrap())
        .collect();
    assert!(
        detections.contains("unfamiliarFeatures") && detections.contains("anonymizedIPAddress")
    );
    let signin_ids: HashSet<&str> = f
        .signins
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for d in &t.risk_detections {
        assert!(
            signin_ids.contains(d["requestId"].as_str().unwrap()),
            "detection without its sign-in"
        );
    }

    // A second user who holds Global Administrator.
    let ga = t
        .role_definitions
        .iter()
        .find(|r| r["displayName"] == "Global Administrator")
        .unwrap();
    assert_eq!(ga["id"], "62e90394-69f5-4237-9190-012177145e10");
    let holders: Vec<&Value> = t
        .role_assignments
        .iter()
        .filter(|a| a["roleDefinitionId"] == ga["id"])
        .collect();
    assert!(holders.iter().any(|a| {
        t.users
            .iter()
            .any(|u| u["id"] == a["principalId"] && u["mail"].is_string() && u["id"] != vid)
    }));

    // The collector's app and the limited one.
    let tool = t
        .apps
        .iter()
        .find(|a| a.client_id == scenario::TOOL_CLIENT_ID)
        .unwrap();
    assert_eq!(tool.display_name, "m365-preserve");
    assert!(tool.public_client && tool.roles.contains(&"AuditLogsQuery.Read.All".to_string()));
    let limited = t
        .apps
        .iter()
        .find(|a| a.client_id == scenario::LIMITED_CLIENT_ID)
        .unwrap();
    assert_eq!(limited.roles, vec!["User.Read.All".to_string()]);
    use sha2::Digest;
    let demo = hex::encode(sha2::Sha256::digest(scenario::DEMO_SECRET));
    assert_eq!(tool.secret_sha256.as_deref(), Some(demo.as_str()));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64")
}

#[test]
fn tenant_json_matches_its_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/fixture.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let doc = serde_json::to_value(&fixture().tenant).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema is strict: a misspelt field is an error, not silently ignored.
    let mut wrong = doc.clone();
    wrong["licence"] = json!("e5");
    wrong["tenantid"] = json!("x");
    assert!(validator.iter_errors(&wrong).count() >= 2);
}

#[test]
fn large_profile_is_deterministic_newest_first_and_unique() {
    let now = anchor();
    let large = large_signins(1_000_000, now);
    let again = large_signins(1_000_000, now);
    assert_eq!(large.len(), 1_000_000);
    let sample: Vec<usize> = (0..3_000)
        .chain((0..2_000).map(|k| 999_999 - k * 487))
        .collect();
    let mut ids = HashSet::new();
    let mut kinds = HashSet::new();
    for &i in &sample {
        let record = large.get(i).into_owned();
        assert_eq!(
            record,
            *again.get(i),
            "record {i} differs between instances"
        );
        assert!(
            ids.insert(record["id"].as_str().unwrap().to_string()),
            "duplicate id at {i}"
        );
        kinds.insert(event_type(&record).to_string());
        let t = time(record["createdDateTime"].as_str().unwrap());
        assert!(
            t <= now && t >= now - chrono::Duration::days(30),
            "record {i} at {t}"
        );
    }
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    // Same record shape as the fixture's sign-ins, key order included.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&large.get(0)), keys(&fixture().signins[0]));
    let mut previous = now;
    for i in 0..3_000 {
        let t = time(large.get(i)["createdDateTime"].as_str().unwrap());
        assert!(t <= previous, "record {i} is newer than record {}", i - 1);
        previous = t;
    }
    let victim_id = victim(fixture())["id"].clone();
    assert!((0..3_000).any(|i| large.get(i)["userId"] == victim_id));
}
