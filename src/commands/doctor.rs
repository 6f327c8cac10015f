//! `m365-preserve doctor`: is this credential enough for each source?

use super::connect::connection;
use super::print_json;
use crate::cli::DoctorArgs;
use anyhow::{Context, Result};
use m365_preserve_collect::exchange::{checkup, Checkup};
use m365_preserve_collect::graph::{Pacer, ReadOnlyClient};
use m365_preserve_collect::job::Connection;
use m365_preserve_sources::Source;
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
        let claims = tokens.identity().unwrap_or(Value::Null);
        let granted = granted(&claims);
        let rows: Vec<Value> = Source::collected()
            .map(|source| {
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
                json!({"source": source, "what": s.what, "endpoint": s.endpoint, "ok": missing.is_empty(), "missing": missing, "licence": s.licence})
            })
            .collect();
        let exchange = match args.exchange {
            true => Some(exchange_checkup(&conn, claims["tid"].as_str().unwrap_or_default()).await),
            false => None,
        };
        let exchange_ok = exchange.as_ref().is_none_or(|c| {
            c.not_read_only.is_empty() && c.sources.iter().all(|s| s.missing.is_empty())
        });
        let ok = rows.iter().filter(|r| r["ok"] == true).count();
        if args.json {
            print_json(&json!({
                "tenant": claims["tid"], "app": claims.get("appid").or(claims.get("azp")),
                "flow": tokens.credential_kind(), "permissions": granted, "sources": rows,
                "exchange": exchange,
            }))?;
        } else {
            println!(
                "Tenant {}  app {}  flow {}  cloud {:?}",
                claims["tid"].as_str().unwrap_or("?"),
                claims.get("appid").or(claims.get("azp")).and_then(Value::as_str).unwrap_or("?"),
                tokens.credential_kind(),
                tokens.endpoints().cloud
            );
            println!("Permissions in the token: {}", if granted.is_empty() { "(none)".into() } else { granted.join(", ") });
            for r in &rows {
                let missing: Vec<&str> = r["missing"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                let licence = r["licence"].as_str().map(|l| format!("  [needs {l}]")).unwrap_or_default();
                if missing.is_empty() {
                    println!("  OK       {:32}{licence}", r["source"].as_str().unwrap_or(""));
                } else {
                    println!("  MISSING  {:32}grant {}{licence}", r["source"].as_str().unwrap_or(""), missing.join("; "));
                }
            }
            println!("Result: {ok} of {} sources have the permissions they need", rows.len());
            match &exchange {
                Some(c) => print_exchange(c),
                None => println!("Exchange Online sources ({}): not checked; add --exchange", Source::exchange().map(Source::as_str).collect::<Vec<_>>().join(", ")),
            }
        }
        Ok(if ok == rows.len() && exchange_ok { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_INCOMPLETE) })
    })
}

/// The Exchange checks, on a read-only client of their own (nothing is kept).
async fn exchange_checkup(conn: &Connection, tenant: &str) -> Checkup {
    let client = ReadOnlyClient::new(
        conn.http.clone(),
        conn.tokens.clone(),
        Arc::new(Pacer::documented(conn.time_scale)),
        conn.retry.clone(),
        None,
    );
    checkup(&client, tenant).await
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
