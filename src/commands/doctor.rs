//! `m365-preserve doctor`: the preflight a responder runs first. For each
//! source: are the permissions in the token, does the tenant's licence let the
//! data exist, how long is it kept, and is every prerequisite in place, each
//! with the fix; with `--exchange`, the app's Exchange roles and whether the
//! unified audit log ingests. It only reads.

use super::connect::connection;
use super::print_json;
use crate::cli::DoctorArgs;
use anyhow::{Context, Result};
use m365_preserve_collect::exchange::{checkup, Checkup};
use m365_preserve_collect::graph::{graph_url, Api, Capture, Pacer, ReadOnlyClient, Request};
use m365_preserve_collect::{entitlements, resolve_target};
use m365_preserve_sources::{Budget, Entitlements, LicenceState, Source};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let conn = connection(&args.connect)?;
        let tokens = conn.tokens.clone();
        let graph = tokens.endpoints().graph_resource.clone();
        tokens.token(&graph).await.context("cannot get a token")?;
        let client = ReadOnlyClient::new(
            conn.http.clone(),
            tokens.clone(),
            Arc::new(Pacer::documented(conn.time_scale)),
            conn.retry.clone(),
            None,
        );
        let base = tokens.endpoints().graph.clone();
        let claims = tokens.identity().unwrap_or(Value::Null);
        let granted = granted(&claims);
        let (licences, licence_problem) = licences(&client, &base, &args.users).await;
        let mut rows = Vec::new();
        for source in Source::collected() {
            rows.push(row(&client, &base, source, &granted, licences.as_ref()).await);
        }
        let exchange = match args.exchange {
            true => Some(checkup(&client, claims["tid"].as_str().unwrap_or_default()).await),
            false => None,
        };
        let exchange_ok = exchange.as_ref().is_none_or(|c| {
            c.not_read_only.is_empty() && c.sources.iter().all(|s| s.missing.is_empty())
        });
        let ok = rows.iter().filter(|r| r["ok"] == true).count();
        if args.json {
            print_json(&json!({
                "tenant": claims["tid"], "app": claims.get("appid").or(claims.get("azp")),
                "flow": tokens.credential_kind(), "permissions": granted,
                "licences": licence_problem.as_deref().map_or(json!("read"), |p| json!(p)),
                "sources": rows, "exchange": exchange,
            }))?;
        } else {
            print_text(
                &claims,
                &tokens,
                &granted,
                &rows,
                licence_problem.as_deref(),
            );
            match &exchange {
                Some(c) => print_exchange(c),
                None => println!(
                    "Exchange Online sources ({}): not checked; add --exchange",
                    Source::exchange()
                        .map(Source::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        Ok(if ok == rows.len() && exchange_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(super::EXIT_INCOMPLETE)
        })
    })
}

/// The tenant's and the users' service plans, or why they could not be read.
async fn licences(
    client: &ReadOnlyClient,
    base: &url::Url,
    users: &[String],
) -> (Option<Entitlements>, Option<String>) {
    let get = |path: String| {
        let req = Request::new(
            Api::Graph,
            graph_url(base, &path),
            Budget::Directory,
            Capture::LicenceProbe,
        )
        .permission("LicenseAssignment.Read.All");
        async move {
            client.get(&req).await.map(|f| {
                f.json
                    .and_then(|v| v["value"].as_array().cloned())
                    .unwrap_or_default()
            })
        }
    };
    let skus = match get("/v1.0/subscribedSkus".into()).await {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                Some(format!(
                "the licences could not be read ({e}); licence and retention checks are skipped"
            )),
            )
        }
    };
    let mut details = Vec::new();
    for upn in users {
        match resolve_target(client, base, upn).await {
            Ok(t) => details.push((
                t.upn.clone(),
                get(format!("/v1.0/users/{}/licenseDetails", t.id))
                    .await
                    .unwrap_or_default(),
            )),
            Err(e) => return (None, Some(format!("--user {upn}: {e}"))),
        }
    }
    (Some(entitlements(&skus, &details)), None)
}

/// What the preflight says of one source.
async fn row(
    client: &ReadOnlyClient,
    base: &url::Url,
    source: Source,
    granted: &[String],
    licences: Option<&Entitlements>,
) -> Value {
    let s = source.info();
    let missing: Vec<String> = s
        .needs
        .iter()
        .filter(|r| !r.any_of.iter().any(|p| granted.iter().any(|g| g == p)))
        .map(|r| match r.for_what {
            "" => r.any_of.join(" or "),
            why => format!("{} (for {why})", r.any_of.join(" or ")),
        })
        .collect();
    let mut row = json!({"source": source, "what": s.what, "endpoint": s.endpoint, "missing": missing, "licence": s.licence});
    let mut ok = missing.is_empty();
    if let Some(e) = licences {
        row["licence_state"] = match source.licence_state(e) {
            LicenceState::NotNeeded => json!({"needed": false}),
            LicenceState::Present(what) => json!({"needed": true, "present": true, "what": what}),
            LicenceState::Missing(why) => json!({"needed": true, "present": false, "why": why}),
        };
        let users: Vec<&String> = e.users.keys().collect();
        let retention: Vec<Value> = match (source, users.is_empty()) {
            (Source::PurviewAudit, false) => users
                .iter()
                .filter_map(|u| {
                    source
                        .retention(e, Some(u))
                        .map(|r| json!({"user": u, "kept_days": r.days, "rule": r.rule}))
                })
                .collect(),
            _ => source
                .retention(e, None)
                .map(|r| json!({"kept_days": r.days, "rule": r.rule}))
                .into_iter()
                .collect(),
        };
        if !retention.is_empty() {
            row["retention"] = json!(retention);
        }
    }
    if let Some(p) = source.prerequisite() {
        let req = Request::new(
            Api::Graph,
            graph_url(base, p.check),
            Budget::Directory,
            Capture::LicenceProbe,
        )
        .permission(p.check_permission);
        row["prerequisite"] = match client.get(&req).await {
            Ok(f) if f.json.as_ref().is_some_and(|v| v["value"] == json!([])) => {
                ok = false;
                json!({"what": p.what, "present": false, "fix": p.missing})
            }
            Ok(_) => json!({"what": p.what, "present": true}),
            Err(e) => {
                ok = false;
                json!({"what": p.what, "present": null, "fix": format!("cannot check: {e}")})
            }
        };
    }
    row["ok"] = json!(ok);
    row
}

fn print_text(
    claims: &Value,
    tokens: &m365_preserve_collect::auth::TokenProvider,
    granted: &[String],
    rows: &[Value],
    licence_problem: Option<&str>,
) {
    println!(
        "Tenant {}  app {}  flow {}  cloud {:?}",
        claims["tid"].as_str().unwrap_or("?"),
        claims
            .get("appid")
            .or(claims.get("azp"))
            .and_then(Value::as_str)
            .unwrap_or("?"),
        tokens.credential_kind(),
        tokens.endpoints().cloud
    );
    println!(
        "Permissions in the token: {}",
        if granted.is_empty() {
            "(none)".into()
        } else {
            granted.join(", ")
        }
    );
    if let Some(p) = licence_problem {
        println!("Licences: {p}");
    }
    for r in rows {
        let name = r["source"].as_str().unwrap_or("");
        let missing: Vec<&str> = r["missing"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let licence = r["licence"]
            .as_str()
            .map(|l| format!("  [needs {l}]"))
            .unwrap_or_default();
        if missing.is_empty() {
            println!("  OK       {name:34}{licence}");
        } else {
            println!(
                "  MISSING  {name:34}grant {} (admin consent){licence}",
                missing.join("; ")
            );
        }
        if r["licence_state"]["present"] == false {
            println!(
                "           licence: {}",
                r["licence_state"]["why"].as_str().unwrap_or("")
            );
        }
        for k in r["retention"].as_array().into_iter().flatten() {
            let days = k["kept_days"]
                .as_i64()
                .map_or("until remediated".to_string(), |d| format!("{d} days"));
            let user = k["user"]
                .as_str()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            println!(
                "           kept {days}{user}: {}",
                k["rule"].as_str().unwrap_or("")
            );
        }
        let p = &r["prerequisite"];
        if !p.is_null() {
            match p["present"].as_bool() {
                Some(true) => println!(
                    "           prerequisite present: {}",
                    p["what"].as_str().unwrap_or("")
                ),
                _ => println!(
                    "           PREREQUISITE: {}",
                    p["fix"].as_str().unwrap_or("")
                ),
            }
        }
    }
    let ok = rows.iter().filter(|r| r["ok"] == true).count();
    println!(
        "Result: {ok} of {} sources have the permissions and prerequisites they need",
        rows.len()
    );
}

fn print_exchange(c: &Checkup) {
    println!("Exchange Online:");
    if let Some(why) = &c.unavailable {
        println!("  UNAVAILABLE  {why}");
    } else if !c.not_read_only.is_empty() {
        println!("  REFUSED      the app can run {} cmdlets that are not Get- ({}); collect --exchange will refuse: give it only the custom read-only roles (README)", c.not_read_only.len(), c.not_read_only.join(", "));
    } else {
        println!(
            "  READ-ONLY    the app may run {} cmdlets, all Get-",
            c.cmdlets.len()
        );
    }
    for s in &c.sources {
        if s.missing.is_empty() {
            println!("  OK       {:32}", s.source.as_str());
        } else {
            println!(
                "  MISSING  {:32}{}",
                s.source.as_str(),
                s.missing.join("; ")
            );
        }
    }
    match (c.audit_log_ingesting, &c.audit_log_problem) {
        (Some(true), _) => println!("  Unified audit log: ingesting (UnifiedAuditLogIngestionEnabled: True)"),
        (Some(false), _) => println!("  Unified audit log: NOT ingesting (UnifiedAuditLogIngestionEnabled: False): Purview has no audit records for that time; tell the IR firm. Turning it on is a change an administrator makes (Set-AdminAuditLogConfig), not this tool"),
        (None, Some(why)) => println!("  Unified audit log: not checked ({why})"),
        (None, None) => println!("  Unified audit log: not checked (Get-AdminAuditLogConfig returned no setting)"),
    }
}

/// Application roles and delegated scopes in the token.
fn granted(claims: &Value) -> Vec<String> {
    let mut out: Vec<String> = claims["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    if let Some(scp) = claims["scp"].as_str() {
        out.extend(scp.split(' ').filter(|s| !s.is_empty()).map(String::from));
    }
    out.sort();
    out.dedup();
    out
}
