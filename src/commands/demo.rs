//! `m365-preserve demo`: the whole job on the built-in simulated tenant.

use super::collect::collect;
use super::seal::{exit_code, print_outcome};
use crate::cli::{CaseArgs, CollectArgs, ConnectArgs, DemoArgs, RecipientArgs, SealingArgs};
use crate::logging::LogCapture;
use age::secrecy::ExposeSecret;
use anyhow::{Context, Result};
use m365_preserve::package::crypto::Identities;
use m365_preserve::package::verify::{verify, EntrySink, HashOnly, Inside};
use m365_preserve::sim::scenario::{default_fixture, DEMO_SECRET, TOOL_CLIENT_ID};
use m365_preserve::sim::server::{start, FixtureSource, Profile, SimConfig};
use std::process::ExitCode;

/// The simulator's clock runs this much faster, so the demo's throttle budgets
/// (and the client's pacing) take seconds instead of minutes.
const TIME_SCALE: f64 = 50.0;
const SECRET_VAR: &str = "M365_PRESERVE_DEMO_SECRET";

pub fn run(args: DemoArgs, quiet: bool, log: &LogCapture) -> Result<ExitCode> {
    // The simulator's demo secret, handed over the way a real secret is.
    std::env::set_var(SECRET_VAR, DEMO_SECRET);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let identity_path = args.out.join(format!("demo-firm-{stamp}.agekey"));
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    m365_preserve::package::write_private_file(
        &identity_path,
        format!(
            "# throw-away demo key\n# public key: {public}\n{}\n",
            identity.to_string().expose_secret()
        )
        .as_bytes(),
    )?;
    let rt = tokio::runtime::Runtime::new()?;
    let fixture = default_fixture();
    let tenant = fixture.tenant.tenant_id.clone();
    let victim = "hanako.sato@contoso-jp.onmicrosoft.com".to_string();
    // The phishing message the victim received, kept as .eml.
    let phishing: Vec<String> = fixture
        .tenant
        .mailboxes
        .values()
        .flat_map(|m| m.messages.iter())
        .filter_map(|m| m["id"].as_str().map(String::from))
        .collect();
    let sealed = rt.block_on(async {
        let mut config = SimConfig::new(FixtureSource::Loaded(fixture));
        config.profile = Profile::Fast;
        config.time_scale = TIME_SCALE;
        let sim = start(config).await?;
        let base = sim.base_url();
        eprintln!("Simulated tenant コントソ株式会社 running at {base}; collecting {victim}");
        let collect_args = CollectArgs {
            connect: ConnectArgs {
                tenant: tenant.clone(),
                client_id: Some(TOOL_CLIENT_ID.into()),
                client_secret_env: Some(SECRET_VAR.into()),
                certificate: None,
                private_key: None,
                assertion: m365_preserve::auth::AssertionAlg::Ps256,
                device_code: false,
                access_token_env: None,
                cloud: m365_preserve::auth::Cloud::Global,
                graph_url: Some(base.clone()),
                login_url: Some(base.clone()),
                manage_url: Some(base.clone()),
                time_scale: TIME_SCALE,
            },
            users: vec![victim.clone()],
            case: CaseArgs {
                case: "DEMO".into(),
                examiner: "Demo Examiner".into(),
                out: args.out.clone(),
                note: Some("m365-preserve demo on the simulated tenant".into()),
            },
            recipients: RecipientArgs {
                recipients: vec![public],
                recipients_files: vec![],
                passphrase: false,
                passphrase_env: None,
            },
            sealing: SealingArgs {
                signing_key: None,
                level: 1,
                threads: None,
            },
            since: None,
            until: None,
            sources: vec![],
            attach: vec![],
            imports: vec![],
            provenance: crate::cli::ProvenanceArgs {
                downloaded_at: None,
                downloaded_by: None,
                skip_bad_rows: false,
            },
            keep_workdir: false,
            resume: None,
            message_ids: phishing,
            sp_scope: m365_preserve::collect::SpScope::Tenant,
            audit_api: m365_preserve::collect::AuditApi::V1,
            concurrency: None,
            json: false,
        };
        let sealed = collect(&collect_args, quiet, log).await.map(|(s, _)| s);
        let violations = sim.violations();
        sim.shutdown().await;
        eprintln!("Read-only violations seen by the simulator: {violations}");
        sealed
    })?;
    print_outcome(&sealed, false)?;
    let ids = Identities::from_file(&identity_path)?;
    let mut sink = HashOnly;
    let report = verify(
        &sealed.paths,
        None,
        Some((
            Inside {
                identities: &ids,
                max_ratio: 200,
            },
            &mut sink as &mut dyn EntrySink,
        )),
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
    if !report.ok {
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    Ok(exit_code(&sealed))
}
