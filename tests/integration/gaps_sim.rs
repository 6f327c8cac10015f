//! A source the service will not serve: the package is sealed with the gap
//! named once, in a sentence, with the command that fetches it; that command,
//! run once the service is back, seals a supplementary package holding exactly
//! the missing records and naming the first package.

use crate::collect_sim::{collect_args, sim_with, VICTIM};
use crate::common::{bin, text, Case};
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_sim::scenario::{default_fixture, DEMO_SECRET};
use m365_preserve_sim::server::SimHandle;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn victim_id() -> String {
    default_fixture()
        .tenant
        .users
        .iter()
        .find(|u| u["userPrincipalName"] == VICTIM)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn args(sim: &SimHandle, case: &Case, out: &str, sources: &str) -> Vec<String> {
    let extra = [
        "--case",
        "IR-GAP",
        "--sources",
        sources,
        "--lang",
        "en",
        "--no-local-report",
    ];
    let mut a = collect_args(sim, case, out, &extra);
    // Loud: the kept work folder is said on stderr.
    a.retain(|x| x != "--quiet");
    a
}

/// Runs `program args` off the async runtime (the simulator shares it).
async fn run(program: PathBuf, args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(program)
            .env("SIM_SECRET", DEMO_SECRET)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn packages(dir: &Path) -> Vec<PackagePaths> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".zip.age"))
        .collect();
    v.sort();
    v.iter().map(|p| PackagePaths::from_any(p)).collect()
}

fn records(dest: &Path, source: &str) -> Vec<Value> {
    match std::fs::read(dest.join(format!("evidence/{source}.json"))) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Err(_) => Vec::new(),
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().map_or_else(|| r.to_string(), String::from))
        .collect();
    v.sort();
    v
}

/// The command printed on the line after the sentence that starts with `lead`.
fn printed_command(stdout: &str, lead: &str) -> Vec<String> {
    let mut lines = stdout.lines();
    lines.find(|l| l.starts_with(lead)).expect(lead);
    let line = lines.next().expect("a command after the sentence");
    shlex::split(line.trim()).expect("the command parses as a shell line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_is_said_once_with_its_command_and_that_command_seals_exactly_the_missing_records() {
    let case = Case::new();
    let id = victim_id();
    let sources = "user,devices,auth-methods,mailbox-rules";
    let sim = sim_with(default_fixture(), |c| {
        c.outages = vec![
            format!("/users/{id}/ownedDevices"),
            format!("/users/{id}/authentication"),
        ]
    })
    .await;
    let o = run(
        assert_cmd::cargo::cargo_bin("m365-preserve"),
        args(&sim, &case, "out", sources),
    )
    .await;
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // One sentence per gap, each cause once, each with the command.
    let partial = "devices: ";
    let failed = "auth-methods: nothing was collected because";
    assert_eq!(stdout.matches(partial).count(), 1, "{stdout}");
    assert!(
        stdout.contains("records collected, the rest is missing because"),
        "{stdout}"
    );
    assert_eq!(stdout.matches(failed).count(), 1, "{stdout}");
    // "HTTP 503", not "503": the package's SHA-256 printed above can hold it.
    assert_eq!(
        stdout.matches("HTTP 503").count(),
        2,
        "one reason per gap: {stdout}"
    );
    for sentence in stdout.lines().filter(|l| !l.starts_with(' ')) {
        assert!(
            !sentence.contains("http"),
            "no URL in a sentence: {sentence}"
        );
    }
    for complete in ["user: ", "mailbox-rules: "] {
        assert!(!stdout.contains(complete), "{stdout}");
    }

    // The work folder is kept, private, with the first package's record.
    let resume = printed_command(&stdout, partial);
    let at = resume.iter().position(|a| a == "--resume").unwrap();
    let workdir = PathBuf::from(&resume[at + 1]);
    assert!(workdir.join(".m365-preserve/sealed.json").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&workdir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    assert!(text(&o).contains(&format!("{} is kept", workdir.display())));
    assert_eq!(resume, printed_command(&stdout, failed));

    // The manifest says the same, with true retry counts.
    let first = packages(&case.path("out"));
    assert_eq!(first.len(), 1);
    let dest1 = case.open_to(&first[0], "first");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest1.join("manifest.json")).unwrap()).unwrap();
    let source = |m: &Value, name: &str| {
        m["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .cloned()
    };
    let devices = source(&manifest, "devices").unwrap();
    assert_eq!(devices["status"], "partial");
    let shown = shlex::split(
        devices["details"]["fetch_later"]["resume"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(shown.as_deref(), Some(&resume[..]));
    let problem = &devices["details"]["problems"][0];
    let attempts = problem["attempts"].as_u64().unwrap();
    assert!(attempts > 1, "{problem}");
    assert!(devices["details"]["retries"].as_u64().unwrap() >= attempts - 1);
    assert_eq!(
        source(&manifest, "auth-methods").unwrap()["status"],
        "failed"
    );
    assert_eq!(source(&manifest, "user").unwrap()["status"], "complete");

    // The service is back: the printed command fetches only what is missing.
    sim.lift_outages();
    let before = sim.requests();
    let o = run(PathBuf::from(&resume[0]), resume[1..].to_vec()).await;
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let both = packages(&case.path("out"));
    assert_eq!(both.len(), 2, "{both:?}");
    let second = both
        .iter()
        .find(|p| p.ciphertext != first[0].ciphertext)
        .unwrap();
    let first_seal: Value =
        serde_json::from_slice(&std::fs::read(&first[0].seal).unwrap()).unwrap();
    let second_seal: Value = serde_json::from_slice(&std::fs::read(&second.seal).unwrap()).unwrap();
    assert_eq!(
        second_seal["supplements"]["sha256"],
        first_seal["ciphertext"]["sha256"]
    );
    assert!(stdout.contains(first_seal["ciphertext"]["sha256"].as_str().unwrap()));
    assert!(!workdir.exists(), "no gap left: the work folder goes");
    let o = bin()
        .arg("verify")
        .arg(&second.ciphertext)
        .arg("-i")
        .arg(case.identity())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let dest2 = case.open_to(second, "second");
    let manifest2: Value =
        serde_json::from_slice(&std::fs::read(dest2.join("manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = manifest2["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["auth-methods", "devices"]);
    assert!(records(&dest2, "user").is_empty());
    // Two queries were missing; the resumed run asked for nothing else that
    // returns records (the targets are looked up again).
    assert!(sim.requests() - before < 20, "{}", sim.requests() - before);

    // Together the two packages hold what a clean collection holds.
    sim.lift_outages();
    let o = run(
        assert_cmd::cargo::cargo_bin("m365-preserve"),
        args(&sim, &case, "clean", sources),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let clean = case.open_to(&packages(&case.path("clean"))[0], "clean-opened");
    for name in ["devices", "auth-methods"] {
        // A record both queries of a source return (a device both registered
        // and owned) is in each package once; equal records count once.
        let mut joined = records(&dest1, name);
        for r in records(&dest2, name) {
            if !joined.contains(&r) {
                joined.push(r);
            }
        }
        assert_eq!(ids(&joined), ids(&records(&clean, name)), "{name}");
        assert!(!records(&dest2, name).is_empty(), "{name}");
    }
    sim.shutdown().await;
}
