//! `m365-preserve demo`: the whole job on the built-in simulated tenant:
//! simulator, collection, sealing and verification, on loopback.

use super::seal::exit_code;
use crate::cli::DemoArgs;
use crate::logging::LogCapture;
use crate::outcome::{print_outcome, print_sources};
use crate::progress::{ByteProgress, SourceBars};
use age::secrecy::ExposeSecret;
use anyhow::{Context, Result};
use m365_preserve_collect::auth::{
    AssertionAlg, CertificateCredential, Cloud, Credential, Endpoints, TokenProvider,
};
use m365_preserve_collect::graph::http_client;
use m365_preserve_collect::job::{Collected, Collection, Connection, DEFAULT_CONCURRENCY};
use m365_preserve_collect::retry::RetryPolicy;
use m365_preserve_import::ImportOptions;
use m365_preserve_package::acquisition::redact_args;
use m365_preserve_package::crypto::{Identities, Recipients};
use m365_preserve_package::seal::Sealer;
use m365_preserve_package::signing::SigningKey;
use m365_preserve_package::verify::{verify, EntrySink, HashOnly, Inside};
use m365_preserve_package::write_private_file;
use m365_preserve_package::zipwrite::ZipOptions;
use m365_preserve_report::Lang;
use m365_preserve_sim::scenario::{
    default_fixture, DEMO_CERTIFICATE_PEM, DEMO_PRIVATE_KEY_PEM, TOOL_CLIENT_ID,
};
use m365_preserve_sim::server::{start, FixtureSource, Profile, SimConfig};
use m365_preserve_sources::SpScope;
use std::process::ExitCode;
use std::sync::Arc;

/// The simulator's clock runs this much faster, so the demo's throttle budgets
/// (and the client's pacing) take seconds instead of minutes.
const TIME_SCALE: f64 = 50.0;
const CASE: &str = "DEMO";
const VICTIM: &str = "hanako.sato@contoso-jp.onmicrosoft.com";

pub fn run(args: DemoArgs, lang: Lang, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let (identity_path, public) = throwaway_key(&args.out)?;
    let recipients = Recipients::from_keys(&[public], &[] as &[&std::path::Path])?;
    let signing_key = SigningKey::generate();
    let progress = ByteProgress::new("sealing", quiet);
    let snapshot = || log.snapshot();
    let sealer = Sealer {
        case_id: CASE,
        examiner: "Demo Examiner",
        note: Some("m365-preserve demo on the simulated tenant"),
        out_dir: &args.out,
        recipients: &recipients,
        signing_key: &signing_key,
        zip: ZipOptions::default(),
        command_line: redact_args(std::env::args()),
        log: &snapshot,
        progress: &progress,
    };
    let rt = tokio::runtime::Runtime::new()?;
    let (collected, violations) = rt.block_on(collect_from_sim(&sealer, lang, quiet))?;
    let sealed = &collected.sealed;
    print_outcome(sealed, lang, false)?;
    super::report::after_sealing(&collected.report, sealed, lang, true, quiet)?;
    let ids = Identities::from_file(&identity_path)?;
    let mut sink = HashOnly;
    let inside = Inside {
        identities: &ids,
        max_ratio: 200,
    };
    let report = verify(
        &sealed.paths,
        None,
        Some((inside, &mut sink as &mut dyn EntrySink)),
    );
    super::verify::print_report(&report, true);
    println!(
        "Throw-away key to open the package: {}",
        identity_path.display()
    );
    println!(
        "  m365-preserve open {} --identity {} --to {}",
        sealed.paths.ciphertext.display(),
        identity_path.display(),
        args.out.join("opened").display()
    );
    if violations > 0 {
        eprintln!("error: the simulator saw {violations} request(s) that could change a tenant; the collector must only read. This is a bug: please report it.");
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    if !report.ok {
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    Ok(exit_code(sealed))
}

/// A throw-away age identity in `out` (mode 0600); its path and public key.
fn throwaway_key(out: &std::path::Path) -> Result<(std::path::PathBuf, String)> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = out.join(format!("demo-firm-{stamp}.agekey"));
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    write_private_file(
        &path,
        format!(
            "# throw-away demo key\n# public key: {public}\n{}\n",
            identity.to_string().expose_secret()
        )
        .as_bytes(),
    )?;
    Ok((path, public))
}

/// What the demo collects: the scenario's victim, with the phishing message
/// she received kept as .eml, and every colleague who received mail from the
/// phishing sender.
fn demo_collection(fixture: &m365_preserve_sim::fixture::Fixture) -> Collection {
    let phishing: Vec<String> = fixture
        .tenant
        .mailboxes
        .values()
        .flat_map(|m| m.messages.iter())
        .filter_map(|m| m["id"].as_str().map(String::from))
        .collect();
    Collection {
        users: vec![VICTIM.into()],
        sources: Vec::new(),
        since: None,
        until: None,
        message_ids: phishing,
        phish_senders: vec![m365_preserve_sim::scenario::PHISH_SENDER.into()],
        sp_scope: SpScope::Tenant,
        audit_api: None,
        concurrency: DEFAULT_CONCURRENCY,
        attach: Vec::new(),
        imports: Vec::new(),
        import_options: ImportOptions::default(),
        resume: None,
        keep_workdir: false,
        interview: None,
        exchange: true,
    }
}

/// Starts the simulator, collects and seals; the collection and the number of
/// requests the simulator saw that could change a tenant.
async fn collect_from_sim(
    sealer: &Sealer<'_>,
    lang: Lang,
    quiet: bool,
) -> Result<(Collected, u64)> {
    let fixture = default_fixture();
    let tenant = fixture.tenant.tenant_id.clone();
    let collection = demo_collection(&fixture);
    let mut config = SimConfig::new(FixtureSource::Loaded(fixture));
    config.profile = Profile::Fast;
    config.time_scale = TIME_SCALE;
    let sim = start(config).await?;
    let base = sim.base_url();
    eprintln!("Simulated tenant コントソ株式会社 running at {base}; collecting {VICTIM}");
    let conn = sim_connection(&base, &tenant)?;
    let bars = SourceBars::new(quiet);
    let collected = collection.run(&conn, sealer, &bars).await;
    if let Ok(c) = &collected {
        print_sources(&c.summaries, lang, quiet);
    }
    let violations = sim.violations();
    sim.shutdown().await;
    eprintln!("Read-only violations seen by the simulator: {violations}");
    Ok((collected?, violations))
}

/// A connection to the simulator, with its demo app's certificate (Exchange
/// Online app-only access is documented for certificates only).
fn sim_connection(base: &str, tenant: &str) -> Result<Connection> {
    let http = http_client()?;
    let endpoints = Endpoints::for_cloud(Cloud::Global)
        .with_overrides(Some(base), Some(base), Some(base))?
        .with_exchange_override(Some(base))?;
    let cert = CertificateCredential::from_pem(
        ("the simulator's demo certificate", DEMO_CERTIFICATE_PEM),
        ("its private key", DEMO_PRIVATE_KEY_PEM),
        AssertionAlg::Ps256,
    )?;
    let retry = RetryPolicy {
        time_scale: TIME_SCALE,
        ..RetryPolicy::default()
    };
    let tokens = TokenProvider::new(
        http.clone(),
        endpoints,
        tenant,
        Credential::Certificate {
            client_id: TOOL_CLIENT_ID.into(),
            cert: Box::new(cert),
        },
        retry.clone(),
        Box::new(|message: &str| eprintln!("\n{message}\n")),
    );
    Ok(Connection {
        http,
        tokens: Arc::new(tokens),
        retry,
        time_scale: TIME_SCALE,
        cloud: Some("global".into()),
    })
}
