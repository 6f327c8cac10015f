//! `collect --exchange` and `doctor --exchange` (the real binary) against the
//! simulator: Exchange Online's records exactly as served, hidden rules marked,
//! and the refusal paths (an app that could write, a missing role, no
//! Exchange permission).

use crate::collect_sim::{
    collect_args, manifest_source, open, records, run_collect, sim_with, VICTIM,
};
use crate::common::{bin, text, Case};
use m365_preserve_sim::fixture::Fixture;
use m365_preserve_sim::scenario::{
    default_fixture, DEMO_CERTIFICATE_PEM, DEMO_PRIVATE_KEY_PEM, TOOL_CLIENT_ID,
};
use m365_preserve_sim::server::SimHandle;
use serde_json::Value;

const EXCHANGE_SOURCES: &str = "exchange-inbox-rules,exchange-mailbox,exchange-permissions,exchange-transport-rules,exchange-audit-config";

/// The simulator's demo certificate and key, as files (for --certificate).
fn certificate(case: &Case) -> (String, String) {
    let (cert, key) = (case.path("demo-app.pem"), case.path("demo-app.key"));
    std::fs::write(&cert, DEMO_CERTIFICATE_PEM).unwrap();
    std::fs::write(&key, DEMO_PRIVATE_KEY_PEM).unwrap();
    (cert.display().to_string(), key.display().to_string())
}

/// `collect --exchange` with the certificate credential.
async fn collect_exchange(
    handle: &SimHandle,
    case: &Case,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    run_collect(exchange_args(handle, case, out, extra)).await
}

/// The arguments of [`collect_exchange`].
fn exchange_args(handle: &SimHandle, case: &Case, out: &str, extra: &[&str]) -> Vec<String> {
    let (cert, key) = certificate(case);
    let mut args: Vec<String> = collect_args(handle, case, out, extra);
    let at = args
        .iter()
        .position(|a| a == "--client-secret-env")
        .unwrap();
    args.drain(at..at + 2);
    let base = handle.base_url();
    args.extend(
        [
            "--certificate",
            &cert,
            "--private-key",
            &key,
            "--exchange-url",
            &base,
            "--exchange",
        ]
        .map(String::from),
    );
    args
}

fn victim_id(f: &Fixture) -> String {
    f.tenant
        .users
        .iter()
        .find(|u| u["userPrincipalName"] == VICTIM)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The request log's lines.
fn log_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_sources_hold_exactly_what_exchange_serves_and_hidden_rules_are_marked() {
    let f = default_fixture();
    let victim = victim_id(&f);
    let case = Case::new();
    for (out, faults) in [("clean", None), ("faulty", Some(0.2))] {
        let log = case.path(&format!("{out}-requests.jsonl"));
        let handle = sim_with(f.clone(), |c| {
            c.log = Some(log.clone());
            c.faults = faults.map(|rate| m365_preserve_sim::faults::FaultConfig { seed: 7, rate });
        })
        .await;
        // What Exchange serves: the fixture with its times moved to the present.
        let served = handle.shared().fixture.tenant.exchange.clone();
        let mailbox = served.mailboxes[&victim].clone();
        assert_eq!(
            mailbox.inbox_rules.len(),
            f.tenant.exchange.mailboxes[&victim].inbox_rules.len()
        );
        let o = collect_exchange(&handle, &case, out, &["--sources", EXCHANGE_SOURCES]).await;
        assert_eq!(o.status.code(), Some(0), "{out}: {}", text(&o));
        assert_eq!(handle.violations(), 0);
        handle.shutdown().await;
        let dest = open(&case, out);
        let all_rules: Vec<Value> = mailbox.inbox_rules.iter().map(|r| r.rule.clone()).collect();
        assert_eq!(
            records(&dest, "exchange-inbox-rules"),
            all_rules,
            "{out}: every rule, hidden ones too, as served"
        );
        assert_eq!(
            records(&dest, "exchange-mailbox"),
            vec![mailbox.mailbox.clone()],
            "{out}"
        );
        let permissions: Vec<Value> = mailbox
            .mailbox_permissions
            .iter()
            .chain(&mailbox.recipient_permissions)
            .cloned()
            .collect();
        assert_eq!(records(&dest, "exchange-permissions"), permissions, "{out}");
        assert_eq!(
            records(&dest, "exchange-transport-rules"),
            served.transport_rules,
            "{out}"
        );
        let mut config = vec![served.admin_audit_log_config.clone()];
        config.extend(served.audit_bypass_associations.iter().cloned());
        assert_eq!(
            records(&dest, "exchange-audit-config"),
            config,
            "{out}: every page of the bypass list"
        );

        let rules = manifest_source(&dest, "exchange-inbox-rules");
        let identity = |hidden: bool, system: bool| -> Vec<Value> {
            mailbox
                .inbox_rules
                .iter()
                .filter(|r| r.hidden == hidden && (r.rule["Name"] == "Junk E-Mail Rule") == system)
                .map(|r| r.rule["Identity"].clone())
                .collect()
        };
        let marked = |key: &str| -> Vec<Value> {
            rules["details"][key]
                .as_array()
                .unwrap_or_else(|| panic!("{key} in {rules}"))
                .iter()
                .map(|m| m["Identity"].clone())
                .collect()
        };
        assert_eq!(
            identity(true, false).len(),
            1,
            "the scenario has one hidden rule"
        );
        assert_eq!(
            marked("hidden_rules"),
            identity(true, false),
            "{out}: {rules}"
        );
        assert_eq!(
            marked("system_rules"),
            identity(true, true),
            "{out}: system rules labelled, not dropped"
        );
        let warnings = rules["details"]["warnings"].to_string();
        assert!(warnings.contains("hidden inbox rule"), "{warnings}");
        let m = manifest_source(&dest, "exchange-mailbox");
        assert!(
            m["details"]["warnings"]
                .to_string()
                .contains("h.sato.backup@contoso-jp-mail.com"),
            "forwarding said aloud: {m}"
        );
        for s in EXCHANGE_SOURCES.split(',') {
            assert_eq!(
                manifest_source(&dest, s)["status"],
                "complete",
                "{out}: {s}"
            );
        }
        let exchange_requests: Vec<Value> = log_lines(&log)
            .into_iter()
            .filter(|l| l["path"].as_str().unwrap_or("").starts_with("/adminapi/"))
            .collect();
        assert!(
            exchange_requests.iter().any(|l| l["method"] == "POST"),
            "{out}: InvokeCommand was used"
        );
        if faults.is_none() {
            assert!(
                exchange_requests.iter().all(|l| l["status"] != 429),
                "the Exchange budget was kept: no 429"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_can_run_a_write_cmdlet_is_refused_before_anything_is_collected() {
    let mut f = default_fixture();
    f.tenant
        .exchange
        .role_cmdlets
        .get_mut(TOOL_CLIENT_ID)
        .unwrap()
        .extend(["Set-Mailbox".to_string(), "New-InboxRule".to_string()]);
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_with(f, |c| c.log = Some(log.clone())).await;
    let o = collect_exchange(&handle, &case, "out", &[]).await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("--exchange refused")
            && t.contains("Set-Mailbox")
            && t.contains("New-InboxRule"),
        "{t}"
    );
    let out = case.path("out");
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "nothing sealed, no work folder left: {left:?}"
    );
    let paths: Vec<String> = log_lines(&log)
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["method"].as_str().unwrap(),
                l["path"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        paths
            .iter()
            .all(|p| p.contains("/oauth2/v2.0/token") || p.contains("/EXOModuleFile")),
        "only tokens and the cmdlet listing before the refusal: {paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_role_or_permission_leaves_the_sources_unavailable_with_the_reason() {
    // Global Reader's gap: no Get-RecipientPermission.
    let mut f = default_fixture();
    f.tenant
        .exchange
        .role_cmdlets
        .get_mut(TOOL_CLIENT_ID)
        .unwrap()
        .retain(|c| c != "Get-RecipientPermission");
    let case = Case::new();
    let handle = sim_with(f, |_| {}).await;
    let o = collect_exchange(
        &handle,
        &case,
        "role",
        &["--sources", "user,exchange-permissions"],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let dest = open(&case, "role");
    let p = manifest_source(&dest, "exchange-permissions");
    assert_eq!(p["status"], "partial", "{p}");
    let reason = p["reason"].as_str().unwrap();
    assert!(
        reason.contains("User is not allowed to call Get-RecipientPermission")
            && reason.contains("README"),
        "{reason}"
    );
    assert_eq!(
        records(&dest, "exchange-permissions").len(),
        1,
        "Get-MailboxPermission's record kept"
    );

    // No Exchange.ManageAsApp: Exchange is unavailable, Graph is collected.
    let mut f = default_fixture();
    for app in &mut f.tenant.apps {
        app.roles.retain(|r| r != "Exchange.ManageAsApp");
    }
    let case = Case::new();
    let handle = sim_with(f, |_| {}).await;
    let o = collect_exchange(
        &handle,
        &case,
        "perm",
        &[
            "--sources",
            "user,exchange-mailbox,exchange-inbox-rules",
            "--json",
        ],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    for x in s["sources"].as_array().unwrap() {
        match x["source"].as_str().unwrap() {
            "user" => assert_eq!(x["status"], "complete"),
            _ => {
                assert_eq!(x["status"], "unavailable", "{x}");
                assert!(
                    x["reason"]
                        .as_str()
                        .unwrap()
                        .contains("Exchange.ManageAsApp"),
                    "{x}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_needs_the_flag_and_a_certificate() {
    let case = Case::new();
    let handle = sim_with(default_fixture(), |_| {}).await;
    let o = run_collect(collect_args(
        &handle,
        &case,
        "out",
        &["--sources", "exchange-mailbox"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("add --exchange"), "{}", text(&o));
    let o = run_collect(collect_args(&handle, &case, "out", &["--exchange"])).await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--certificate"), "{}", text(&o));
    let sealed = std::fs::read_dir(case.path("out"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(sealed, 0, "nothing written");
}

/// `doctor --exchange` on the simulator.
async fn doctor(handle: &SimHandle, case: &Case) -> std::process::Output {
    let (cert, key) = certificate(case);
    let base = handle.base_url();
    tokio::task::spawn_blocking(move || {
        bin()
            .args([
                "doctor",
                "--tenant",
                "contoso-jp.onmicrosoft.com",
                "--client-id",
                TOOL_CLIENT_ID,
                "--certificate",
                &cert,
                "--private-key",
                &key,
                "--graph-url",
                &base,
                "--login-url",
                &base,
                "--manage-url",
                &base,
                "--exchange-url",
                &base,
                "--time-scale",
                "100",
                "--exchange",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_the_exchange_roles_and_the_audit_log() {
    let case = Case::new();
    let handle = sim_with(default_fixture(), |_| {}).await;
    let o = doctor(&handle, &case).await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("READ-ONLY    the app may run 7 cmdlets, all Get-"),
        "{t}"
    );
    assert!(t.contains("Unified audit log: ingesting"), "{t}");
    for s in EXCHANGE_SOURCES.split(',') {
        assert!(t.contains(&format!("  OK       {s}")), "{s}: {t}");
    }

    let mut f = default_fixture();
    let roles = f
        .tenant
        .exchange
        .role_cmdlets
        .get_mut(TOOL_CLIENT_ID)
        .unwrap();
    roles.push("Remove-MailboxPermission".into());
    let handle = sim_with(f, |_| {}).await;
    let o = doctor(&handle, &case).await;
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("REFUSED") && text(&o).contains("Remove-MailboxPermission"),
        "{}",
        text(&o)
    );

    // An attacker (or an old change) turned the unified audit log off.
    let mut f = default_fixture();
    f.tenant.exchange.admin_audit_log_config["UnifiedAuditLogIngestionEnabled"] = false.into();
    let handle = sim_with(f.clone(), |_| {}).await;
    let o = doctor(&handle, &case).await;
    assert!(
        text(&o)
            .contains("Unified audit log: NOT ingesting (UnifiedAuditLogIngestionEnabled: False)"),
        "{}",
        text(&o)
    );
    let o = collect_exchange(
        &handle,
        &case,
        "off",
        &["--sources", "exchange-audit-config"],
    )
    .await;
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dest = open(&case, "off");
    let m = manifest_source(&dest, "exchange-audit-config");
    assert!(
        m["details"]["warnings"]
            .to_string()
            .contains("the unified audit log is NOT ingesting"),
        "said in the manifest: {m}"
    );
}

/// The Exchange response records kept in the package (`raw/<source>/*.meta.json`).
fn exchange_raw_metas(dest: &std::path::Path) -> Vec<Value> {
    crate::common::files_under(&dest.join("raw"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".meta.json"))
        .map(|p| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).unwrap())
        .filter(|m| m["url"].as_str().unwrap_or("").contains("/adminapi/"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_429s_are_waited_out_and_nothing_is_lost() {
    // Other administrators' sessions leave the collector 3 cmdlets per 10 s,
    // not the 10 it budgets for: Exchange answers 429 with Retry-After.
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_with(default_fixture(), |c| {
        c.log = Some(log.clone());
        c.exchange_window = 3;
    })
    .await;
    let served = handle.shared().fixture.tenant.exchange.clone();
    let o = collect_exchange(&handle, &case, "out", &["--sources", EXCHANGE_SOURCES]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
    let dest = open(&case, "out");
    assert_eq!(
        records(&dest, "exchange-transport-rules"),
        served.transport_rules
    );
    let mut config = vec![served.admin_audit_log_config.clone()];
    config.extend(served.audit_bypass_associations.iter().cloned());
    assert_eq!(
        records(&dest, "exchange-audit-config"),
        config,
        "every page, once"
    );
    for s in EXCHANGE_SOURCES.split(',') {
        assert_eq!(manifest_source(&dest, s)["status"], "complete", "{s}");
    }
    let exchange: Vec<Value> = log_lines(&log)
        .into_iter()
        .filter(|l| l["path"].as_str().unwrap_or("").starts_with("/adminapi/"))
        .collect();
    let throttled = exchange
        .iter()
        .filter(|l| l["status"] == 429 && l["fault"].is_null())
        .count();
    let answered = exchange.iter().filter(|l| l["status"] == 200).count();
    assert!(throttled > 0, "the tighter budget was met: {exchange:?}");
    assert!(
        throttled < answered,
        "Retry-After honoured and the pace slowed: {throttled} 429s for {answered} answers"
    );
    // Every 429 is kept with its Retry-After and the cmdlet it refused, and
    // that same request was answered at a later attempt.
    let metas = exchange_raw_metas(&dest);
    let refused: Vec<&Value> = metas.iter().filter(|m| m["status"] == 429).collect();
    assert_eq!(refused.len(), throttled, "every 429 kept");
    for m in &refused {
        assert!(m["retry_after"].is_string(), "{m}");
        let cmdlet = m["cmdlet"]
            .as_str()
            .unwrap_or_else(|| panic!("no cmdlet in {m}"));
        assert!(
            metas.iter().any(|n| n["status"] == 200
                && n["cmdlet"] == cmdlet
                && n["url"] == m["url"]
                && n["attempt"].as_u64() > m["attempt"].as_u64()),
            "{cmdlet} was retried and answered"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_renewed_and_the_cmdlet_run_again() {
    use m365_preserve_collect::auth::{Cloud, Credential, Endpoints, TokenProvider};
    use m365_preserve_collect::exchange::rest;
    use m365_preserve_collect::graph::{Pacer, ReadOnlyClient};
    use m365_preserve_collect::retry::RetryPolicy;
    use m365_preserve_sim::scenario::DEMO_SECRET;
    use m365_preserve_sources::{Cmdlet, Source};
    use std::sync::Arc;

    let f = default_fixture();
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_with(f.clone(), |c| c.log = Some(log.clone())).await;
    let base = handle.base_url();
    let http = reqwest::Client::new();
    let endpoints = Endpoints::for_cloud(Cloud::Global)
        .with_overrides(Some(&base), Some(&base), Some(&base))
        .unwrap()
        .with_exchange_override(Some(&base))
        .unwrap();
    let retry = RetryPolicy {
        time_scale: 100.0,
        ..RetryPolicy::default()
    };
    let tokens = Arc::new(TokenProvider::new(
        http.clone(),
        endpoints,
        &f.tenant.tenant_id,
        Credential::Secret {
            client_id: TOOL_CLIENT_ID.into(),
            secret: DEMO_SECRET.to_string().into(),
        },
        retry.clone(),
        Box::new(|_| {}),
    ));
    let client = ReadOnlyClient::new(
        http,
        tokens,
        Arc::new(Pacer::documented(100.0)),
        retry,
        None,
    );
    let cmdlet = Cmdlet::GetAdminAuditLogConfig;
    let req = rest::invoke(
        &client.tokens().endpoints().exchange,
        &f.tenant.tenant_id,
        &cmdlet,
        Source::ExchangeAuditConfig,
    );
    let first = client.invoke_command(&req, &cmdlet).await.unwrap();
    assert_eq!(first.attempts, 1);
    let before = log_lines(&log).len();
    // An hour passes for the token (not for the client, which still holds it).
    handle
        .shared()
        .tokens
        .expire_all(handle.shared().clock.now().timestamp());
    let second = client.invoke_command(&req, &cmdlet).await.unwrap();
    assert_eq!(
        second.attempts, 2,
        "one refusal, then the same cmdlet with a new token"
    );
    assert_eq!(second.json, first.json, "the same answer");
    let after: Vec<String> = log_lines(&log)[before..]
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l["method"].as_str().unwrap(),
                l["path"].as_str().unwrap(),
                l["status"]
            )
        })
        .collect();
    let invoke = format!("/adminapi/beta/{}/InvokeCommand", f.tenant.tenant_id);
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[0], format!("POST {invoke} 401"));
    assert!(
        after[1].starts_with("POST /")
            && after[1].contains("/oauth2/v2.0/token")
            && after[1].ends_with(" 200"),
        "{after:?}"
    );
    assert_eq!(after[2], format!("POST {invoke} 200"));
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_private_key_or_token_reaches_any_output() {
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_with(default_fixture(), |c| {
        c.log = Some(log.clone());
        c.faults = Some(m365_preserve_sim::faults::FaultConfig {
            seed: 11,
            rate: 0.2,
        });
    })
    .await;
    let mut args = exchange_args(
        &handle,
        &case,
        "out",
        &[
            "--sources",
            &format!("user,{EXCHANGE_SOURCES}"),
            "-vv",
            "--keep-workdir",
        ],
    );
    args.retain(|a| a != "--quiet");
    let o = run_collect(args).await;
    let tokens = handle.shared().tokens.issued();
    handle.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(tokens.len() >= 2, "a Graph and an Exchange token at least");
    let dest = open(&case, "out");
    // The key's PEM lines, every token the simulator issued, and any JWT at
    // all (a client assertion is one: header and claims start `eyJ`).
    let mut secrets: Vec<String> = DEMO_PRIVATE_KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(String::from)
        .collect();
    secrets.push("PRIVATE KEY".into());
    secrets.extend(tokens.iter().cloned());
    secrets.extend(
        tokens
            .iter()
            .filter_map(|t| t.rsplit('.').next().map(String::from)),
    );
    let mut outputs: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), o.stdout.clone()),
        ("stderr".into(), o.stderr.clone()),
    ];
    for f in crate::common::files_under(&case.path("out"))
        .into_iter()
        .chain(crate::common::files_under(&dest))
    {
        outputs.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    assert!(
        outputs.len() > 20,
        "the package and the work folder were read: {}",
        outputs.len()
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("InvokeCommand") || stderr.contains("Exchange"),
        "-vv logs the Exchange requests: {stderr}"
    );
    for (name, bytes) in &outputs {
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret ({}...) in {name}",
                &s[..8.min(s.len())]
            );
        }
        let text = String::from_utf8_lossy(bytes);
        let jwt = text.match_indices("eyJ").any(|(i, _)| {
            let rest = &text[i..];
            let first = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            rest[first..].starts_with(".eyJ")
        });
        assert!(!jwt, "a JWT in {name}");
    }
}

/// The demo key's certificate, made again with validity `from`..`to`.
fn demo_certificate(from: std::time::SystemTime, to: std::time::SystemTime) -> String {
    use rsa::pkcs8::DecodePrivateKey;
    use std::str::FromStr;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::{pem::LineEnding, EncodePem};
    use x509_cert::time::{Time, Validity};
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(DEMO_PRIVATE_KEY_PEM)
        .or_else(|_| {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            rsa::RsaPrivateKey::from_pkcs1_pem(DEMO_PRIVATE_KEY_PEM)
        })
        .unwrap();
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).unwrap();
    let validity = Validity {
        not_before: Time::try_from(from).unwrap(),
        not_after: Time::try_from(to).unwrap(),
    };
    CertificateBuilder::new(
        Profile::Root,
        x509_cert::serial_number::SerialNumber::from(2u32),
        validity,
        x509_cert::name::Name::from_str("CN=m365-preserve expired demo").unwrap(),
        spki,
        &signer,
    )
    .unwrap()
    .build::<rsa::pkcs1v15::Signature>()
    .unwrap()
    .to_pem(LineEnding::LF)
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused_before_any_request() {
    let day = std::time::Duration::from_secs(86_400);
    let now = std::time::SystemTime::now();
    let expired = demo_certificate(now - 400 * day, now - 3 * day);
    // Registered on the app, so only the collector's own check stands in the way.
    let mut f = default_fixture();
    let app = f
        .tenant
        .apps
        .iter_mut()
        .find(|a| a.client_id == TOOL_CLIENT_ID)
        .unwrap();
    app.certificates
        .push(m365_preserve_sim::fixture::AppCertificate {
            certificate_pem: expired.clone(),
        });
    let case = Case::new();
    let log = case.path("requests.jsonl");
    let handle = sim_with(f, |c| c.log = Some(log.clone())).await;
    let mut args = exchange_args(&handle, &case, "out", &["--sources", EXCHANGE_SOURCES]);
    let cert = case.path("expired.pem");
    std::fs::write(&cert, &expired).unwrap();
    let at = args.iter().position(|a| a == "--certificate").unwrap();
    args[at + 1] = cert.display().to_string();
    let o = run_collect(args).await;
    handle.shutdown().await;
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    let date = chrono::DateTime::<chrono::Utc>::from(now - 3 * day)
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        t.contains("expired.pem: the certificate expired on")
            && t.contains(&date)
            && t.contains("upload it to the app registration"),
        "{t}"
    );
    assert!(log_lines(&log).is_empty(), "nothing was sent");
    assert!(!t.contains("PRIVATE KEY"), "{t}");
}
