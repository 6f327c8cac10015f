//! Throttling storms: 429s request after request, with and without
//! `Retry-After`. A storm shorter than the retry budget is waited out, each
//! retry counted in the manifest; one that outlasts it ends that source with
//! the reason and the command that fetches the gap, every other source
//! complete.

use crate::collect_sim::{collect, manifest_source, sim_with, user_id, VICTIM};
use crate::common::{package_in, text, Case};
use m365_preserve_sim::outage::Storm;
use m365_preserve_sim::scenario::default_fixture;

fn storm(prefix: String, requests: u32, retry_after: bool) -> Storm {
    Storm {
        prefix,
        requests,
        retry_after,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storms_are_waited_out_and_counted_and_one_that_outlasts_the_retries_is_a_gap() {
    let case = Case::new();
    let fixture = default_fixture();
    let id = user_id(&fixture, VICTIM);
    let sim = sim_with(fixture, |c| {
        c.storms = vec![
            // Identity Protection's 429s carry no Retry-After: backoff.
            storm("/identityProtection/riskDetections".into(), 5, false),
            storm("/auditLogs/directoryAudits".into(), 6, true),
            // Longer than the 8 attempts a request gets.
            storm(format!("/users/{id}/registeredDevices"), 1000, true),
        ]
    })
    .await;
    let sources = "user,risk-detections,entra-audit,devices,mailbox-rules";
    let o = collect(
        &sim,
        &case,
        "out",
        &["--sources", sources, "--lang", "en", "--no-local-report"],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("devices"), "{out}");

    let dest = case.open_to(&package_in(&case.path("out")), "opened");
    let source = |name: &str| manifest_source(&dest, name);
    for (name, retries) in [("risk-detections", 5), ("entra-audit", 6)] {
        let s = source(name);
        assert_eq!(s["status"], "complete", "{name}: {s}");
        assert_eq!(
            s["details"]["retries"], retries,
            "{name}: every 429 is one retry, counted: {s}"
        );
    }
    for name in ["user", "mailbox-rules"] {
        assert_eq!(source(name)["status"], "complete", "{name}");
        assert_eq!(source(name)["details"]["retries"], 0, "{name}");
    }
    let devices = source("devices");
    assert_eq!(devices["status"], "partial", "{devices}");
    let reason = devices["reason"].as_str().unwrap();
    assert!(
        reason.contains("429"),
        "the reason names the throttling: {reason}"
    );
    let problem = &devices["details"]["problems"][0];
    assert_eq!(problem["attempts"], 8, "{problem}");
    assert!(devices["details"]["retries"].as_u64().unwrap() >= 7);
    assert!(
        devices["details"]["fetch_later"]["resume"]
            .as_str()
            .is_some_and(|c| c.contains("--resume")),
        "{devices}"
    );
    assert_eq!(sim.violations(), 0);
    sim.shutdown().await;
}
