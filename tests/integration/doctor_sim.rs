//! `m365-preserve doctor` (the real binary) against the simulator: each
//! authentication flow, and what a missing permission looks like.

use crate::common::{bin, have, text};
use m365_preserve_sim::fixture::{AppCertificate, Fixture};
use m365_preserve_sim::scenario::default_fixture;
use m365_preserve_sim::server::{start, FixtureSource, Profile, SimConfig, SimHandle};

async fn sim(fixture: Fixture) -> SimHandle {
    let mut config = SimConfig::new(FixtureSource::Loaded(fixture));
    config.profile = Profile::Fast;
    config.time_scale = 100.0;
    start(config).await.unwrap()
}

fn app_id(f: &Fixture, name: &str) -> String {
    f.tenant
        .apps
        .iter()
        .find(|a| a.display_name == name)
        .unwrap_or_else(|| panic!("no app {name}"))
        .client_id
        .clone()
}

/// Runs doctor in a blocking thread (the simulator runs on this test's runtime).
async fn doctor(
    handle: &SimHandle,
    tenant: &str,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
) -> std::process::Output {
    let base = handle.base_url();
    let tenant = tenant.to_string();
    tokio::task::spawn_blocking(move || {
        let mut c = bin();
        c.args([
            "doctor",
            "--tenant",
            &tenant,
            "--graph-url",
            &base,
            "--login-url",
            &base,
            "--manage-url",
            &base,
            "--time-scale",
            "100",
        ]);
        c.args(&args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_flows_and_permission_report() {
    let f = default_fixture();
    let tenant = f.tenant.tenant_id.clone();
    let (tool, limited) = (app_id(&f, "m365-preserve"), app_id(&f, "limited-reader"));
    let handle = sim(f).await;

    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            tool.clone(),
            "--client-secret-env".into(),
            "SIM_SECRET".into(),
        ],
        vec![("SIM_SECRET", "sim-demo-secret")],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("Result: 32 of 32 sources"),
        "{}",
        text(&o)
    );
    for source in m365_preserve_sources::Source::collected() {
        assert!(
            text(&o).contains(&format!("  OK       {source}")),
            "{source} listed: {}",
            text(&o)
        );
    }
    assert!(
        text(&o).contains(
            "prerequisite present: the service principal of Microsoft's message-trace app"
        ),
        "{}",
        text(&o)
    );

    // The preflight for the victim: her own Audit Premium, and retention per source.
    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            tool.clone(),
            "--client-secret-env".into(),
            "SIM_SECRET".into(),
            "--user".into(),
            "hanako.sato@contoso-jp.onmicrosoft.com".into(),
            "--json".into(),
        ],
        vec![("SIM_SECRET", "sim-demo-secret")],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = |name: &str| {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let purview = row("purview-audit");
    assert_eq!(
        purview["retention"][0]["user"],
        "hanako.sato@contoso-jp.onmicrosoft.com"
    );
    assert_eq!(purview["retention"][0]["kept_days"], 365, "{purview}");
    assert_eq!(
        row("entra-signins-interactive")["retention"][0]["kept_days"],
        30
    );
    assert_eq!(row("message-trace")["retention"][0]["kept_days"], 90);
    assert_eq!(row("message-trace")["prerequisite"]["present"], true);
    assert_eq!(row("conditional-access")["licence_state"]["present"], true);
    assert_eq!(
        row("risky-service-principals")["licence_state"]["present"],
        false
    );

    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            tool.clone(),
            "--client-secret-env".into(),
            "SIM_SECRET".into(),
        ],
        vec![("SIM_SECRET", "wrong-secret-value")],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("refused the client") && !text(&o).contains("wrong-secret-value"),
        "{}",
        text(&o)
    );

    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            tool,
            "--client-secret-env".into(),
            "UNSET_VAR_X".into(),
        ],
        vec![],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("UNSET_VAR_X") && text(&o).contains("not set"),
        "{}",
        text(&o)
    );

    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            limited,
            "--client-secret-env".into(),
            "SIM_SECRET".into(),
            "--json".into(),
        ],
        vec![("SIM_SECRET", "sim-demo-secret")],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let signins = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "entra-signins-interactive")
        .unwrap();
    assert_eq!(signins["ok"], false);
    assert_eq!(signins["missing"][0], "AuditLog.Read.All");
    let trace = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "message-trace")
        .unwrap();
    assert_eq!(
        trace["missing"][0], "ExchangeMessageTrace.Read.All",
        "{trace}"
    );
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_message_trace_service_principal_is_reported_with_the_command() {
    let mut f = default_fixture();
    f.tenant
        .service_principals
        .retain(|s| s["appId"] != m365_preserve_sources::MESSAGE_TRACE_APP);
    let tenant = f.tenant.tenant_id.clone();
    let tool = app_id(&f, "m365-preserve");
    let handle = sim(f).await;
    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            tool,
            "--client-secret-env".into(),
            "SIM_SECRET".into(),
        ],
        vec![("SIM_SECRET", "sim-demo-secret")],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("PREREQUISITE: ")
            && text(&o)
                .contains("New-MgServicePrincipal -AppId 8bd644d1-64a1-4d4b-ae52-2e0cbf64e373")
            && text(&o).contains("Result: 31 of 32 sources"),
        "{}",
        text(&o)
    );
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_assertions_in_both_formats() {
    if !have("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("app.pem"), dir.path().join("app.key"));
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=m365-preserve-test",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let mut f = default_fixture();
    let tool = app_id(&f, "m365-preserve");
    let tenant = f.tenant.tenant_id.clone();
    let app = f
        .tenant
        .apps
        .iter_mut()
        .find(|a| a.client_id == tool)
        .unwrap();
    app.certificates.push(AppCertificate {
        certificate_pem: std::fs::read_to_string(&cert).unwrap(),
    });
    let handle = sim(f).await;
    for alg in ["ps256", "rs256"] {
        let args = vec![
            "--client-id".into(),
            tool.clone(),
            "--certificate".into(),
            cert.display().to_string(),
            "--private-key".into(),
            key.display().to_string(),
            "--assertion".into(),
            alg.into(),
        ];
        let o = doctor(&handle, &tenant, args, vec![]).await;
        assert_eq!(o.status.code(), Some(0), "{alg}: {}", text(&o));
        assert!(text(&o).contains("flow certificate"), "{}", text(&o));
    }
    // A certificate the app does not know.
    let (other_cert, other_key) = (dir.path().join("other.pem"), dir.path().join("other.key"));
    std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=other",
            "-keyout",
        ])
        .arg(&other_key)
        .arg("-out")
        .arg(&other_cert)
        .output()
        .unwrap();
    let args = vec![
        "--client-id".into(),
        tool,
        "--certificate".into(),
        other_cert.display().to_string(),
        "--private-key".into(),
        other_key.display().to_string(),
    ];
    let o = doctor(&handle, &tenant, args, vec![]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("AADSTS700027"), "{}", text(&o));
    // A key that does not belong to the certificate is caught before any request.
    let args = vec![
        "--client-id".into(),
        "x".into(),
        "--certificate".into(),
        cert.display().to_string(),
        "--private-key".into(),
        other_key.display().to_string(),
    ];
    let o = doctor(&handle, &tenant, args, vec![]).await;
    assert!(
        text(&o).contains("does not belong to the certificate"),
        "{}",
        text(&o)
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_prints_microsofts_message_and_handles_a_refusal() {
    let mut f = default_fixture();
    let tenant = f.tenant.tenant_id.clone();
    let tool = app_id(&f, "m365-preserve");
    let mut declined = f
        .tenant
        .apps
        .iter()
        .find(|a| a.client_id == tool)
        .unwrap()
        .clone();
    declined.client_id = "0f0e0d0c-0b0a-0908-0706-050403020100".into();
    declined.display_name = "declined-by-user".into();
    f.tenant.apps.push(declined);
    let handle = sim(f).await;

    let o = doctor(
        &handle,
        &tenant,
        vec!["--client-id".into(), tool, "--device-code".into()],
        vec![],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("microsoft.com/devicelogin") && stderr.contains("enter the code"),
        "{stderr}"
    );
    assert!(text(&o).contains("flow device-code"), "{}", text(&o));

    let o = doctor(
        &handle,
        &tenant,
        vec![
            "--client-id".into(),
            "0f0e0d0c-0b0a-0908-0706-050403020100".into(),
            "--device-code".into(),
        ],
        vec![],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("declined"), "{}", text(&o));
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}
