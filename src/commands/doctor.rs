//! `m365-preserve doctor`: is this credential enough for each source?

use super::connect::token_provider;
use super::print_json;
use crate::cli::DoctorArgs;
use anyhow::{Context, Result};
use m365_preserve_collect::graph::http_client;
use m365_preserve_sources::Source;
use serde_json::{json, Value};
use std::process::ExitCode;

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let tokens = token_provider(&args.connect, http_client()?)?;
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
        let ok = rows.iter().filter(|r| r["ok"] == true).count();
        if args.json {
            print_json(&json!({
                "tenant": claims["tid"], "app": claims.get("appid").or(claims.get("azp")),
                "flow": tokens.credential_kind(), "permissions": granted, "sources": rows,
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
        }
        Ok(if ok == rows.len() { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_INCOMPLETE) })
    })
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
