//! `m365-preserve sim`: serve the simulated tenant until Ctrl-C.

use crate::cli::SimArgs;
use anyhow::{Context, Result};
use m365_preserve_sim::faults::FaultConfig;
use m365_preserve_sim::scenario;
use m365_preserve_sim::server::{self, FixtureSource, SimConfig};
use m365_preserve_sim::shared::RecordSource;
use std::process::ExitCode;

pub fn run(args: SimArgs) -> Result<ExitCode> {
    let fixture = match args.fixture {
        Some(dir) => FixtureSource::Dir(dir),
        None => FixtureSource::Loaded(scenario::default_fixture()),
    };
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    let config = SimConfig {
        profile: args.profile,
        time_scale: args.time_scale,
        faults: args.faults.map(|seed| FaultConfig {
            seed,
            rate: args.fault_rate,
        }),
        licence: args.licence,
        log: args.log,
        now: Some(now),
        signins: args
            .large_signins
            .map(|n| Box::new(scenario::large_signins(n, now)) as Box<dyn RecordSource>),
        port: args.port,
        old_filters: args.old_filters,
        audit_record_limit: args.audit_record_limit,
        outages: args.outage,
        ..SimConfig::new(fixture)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let sim = server::start(config).await?;
        let base = sim.base_url();
        let tenant = &sim.shared().fixture.tenant;
        println!("{base}");
        println!(
            "hint: m365-preserve collect --tenant {} --graph-url {base} --login-url {base} --manage-url {base} ...",
            tenant.tenant_id
        );
        eprintln!(
            "Simulating {} ({}), licence {:?}, {} app(s): {}. Ctrl-C stops.",
            tenant.display_name,
            tenant.default_domain,
            sim.shared().licence,
            tenant.apps.len(),
            tenant
                .apps
                .iter()
                .map(|a| format!("{} ({})", a.client_id, a.display_name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        let violations = sim.violations();
        sim.shutdown().await;
        eprintln!("Stopped. Read-only violations: {violations}.");
        Ok(ExitCode::SUCCESS)
    })
}
