//! A collection killed (SIGKILL) at any moment, sealing included, resumes to
//! the same records, and a kill never leaves a file that looks like a package.

use crate::collect_sim::{collect_args, open, records, run_collect, sim_with, spawn_collect};
use crate::common::{incompressible, text, Case};
use m365_preserve_sim::scenario::default_fixture;
use m365_preserve_sim::server::Profile;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// When to kill.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// Once the journal holds this many finished queries (between journal writes).
    QueriesDone(usize),
    /// Mid-query: once this many pages (raw responses) are kept, whatever
    /// query they belong to.
    PagesKept(usize),
    /// A Purview audit query has been created, its records not yet fetched.
    AuditQueryCreated,
    /// While the package is being written, once it has this many bytes.
    Sealing(u64),
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Whether `moment` has come in the output folder `out`.
fn reached(out: &Path, moment: Moment) -> Option<PathBuf> {
    let workdir = entries(out)
        .into_iter()
        .find(|p| name(p).starts_with(".work-"))?;
    let state = workdir.join(".m365-preserve");
    let journal = std::fs::read_to_string(state.join("journal.jsonl")).unwrap_or_default();
    let done = || journal.lines().filter(|l| l.contains("query-done")).count();
    let started = state.join("run.json").exists();
    let ready = match moment {
        Moment::QueriesDone(n) => started && done() >= n,
        Moment::PagesKept(n) => {
            entries(&workdir.join("raw"))
                .iter()
                .flat_map(|dir| entries(dir))
                .filter(|p| name(p).ends_with(".meta.json"))
                .count()
                >= n
        }
        Moment::AuditQueryCreated => journal.contains("audit-query-created"),
        Moment::Sealing(bytes) => entries(out).iter().any(|p| {
            name(p).ends_with(".zip.age.partial") && p.metadata().is_ok_and(|m| m.len() >= bytes)
        }),
    };
    ready.then_some(workdir)
}

/// `--sources` and a 30-day window ending now, then `more`.
pub(crate) fn window_args(sources: &str, more: &[&str]) -> Vec<String> {
    let until = chrono::Utc::now();
    let since = until - chrono::Duration::days(30);
    let mut args: Vec<String> = [
        "--sources",
        sources,
        "--since",
        &since.to_rfc3339(),
        "--until",
        &until.to_rfc3339(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(more.iter().map(|m| m.to_string()));
    args
}

/// The simulator with real latencies, 40 times faster than real time.
async fn realistic_sim() -> m365_preserve_sim::server::SimHandle {
    sim_with(default_fixture(), |c| {
        c.profile = Profile::Realistic;
        c.time_scale = 40.0;
    })
    .await
}

/// Each source of `sources` holds the same records in the same order in both
/// opened packages.
pub(crate) fn assert_same_records(resumed: &Path, reference: &Path, sources: &str, what: &str) {
    for source in sources.split(',') {
        assert_eq!(
            records(resumed, source),
            records(reference, source),
            "{what}: {source}: same records, same order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_killed_at_any_moment_resumes_to_the_same_records() {
    let case = Case::new();
    let handle = realistic_sim().await;
    // Sealing a large attachment takes long enough to be killed in the middle.
    let big = case.path("big.bin");
    std::fs::write(&big, incompressible(0, 48 << 20)).unwrap();
    let big = big.display().to_string();
    let sources = "entra-signins-interactive,entra-signins-noninteractive,entra-audit,purview-audit,user,mailbox-rules,auth-methods,devices";
    let window = window_args(sources, &["--attach", &big]);
    let extra: Vec<&str> = window.iter().map(String::as_str).collect();
    let slow = |a: Vec<String>| -> Vec<String> {
        a.into_iter()
            .map(|x| if x == "100" { "40".into() } else { x })
            .collect()
    };
    let o = run_collect(slow(collect_args(&handle, &case, "reference", &extra))).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reference = open(&case, "reference");

    // Twenty moments: between each of the first journal writes, between pages,
    // with a Purview query created on the service, and four times while sealing.
    let mut moments: Vec<Moment> = (0..=12).map(Moment::QueriesDone).collect();
    moments.extend([
        Moment::PagesKept(5),
        Moment::PagesKept(20),
        Moment::AuditQueryCreated,
        Moment::Sealing(0),
        Moment::Sealing(8 << 20),
        // Half the ciphertext at most: the rest takes long enough to be caught.
        Moment::Sealing(16 << 20),
        Moment::Sealing(24 << 20),
    ]);
    assert_eq!(moments.len(), 20);
    for (i, moment) in moments.into_iter().enumerate() {
        let out_rel = format!("killed-{i}");
        let out = case.path(&out_rel);
        let args = slow(collect_args(&handle, &case, &out_rel, &extra));
        let mut child = spawn_collect(&args);
        let deadline = Instant::now() + Duration::from_secs(120);
        let workdir = loop {
            if let Some(w) = reached(&out, moment) {
                break w;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "{moment:?}: the collection ended before it could be killed"
            );
            assert!(Instant::now() < deadline, "{moment:?}: no progress");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        child.kill().unwrap();
        child.wait().unwrap();
        let left: Vec<String> = entries(&out).iter().map(|p| name(p)).collect();
        assert!(
            left.iter().all(|n| !n.ends_with(".zip.age")
                && !n.ends_with(".seal.json")
                && !n.ends_with(".custody.jsonl")),
            "{moment:?}: a kill leaves no package-looking file: {left:?}"
        );

        let w = workdir.display().to_string();
        let mut resume: Vec<&str> = extra.to_vec();
        resume.extend(["--resume", &w]);
        let mut args = slow(collect_args(&handle, &case, &out_rel, &resume));
        // Loud, to hear what it says of the unfinished package.
        args.retain(|a| a != "--quiet");
        let o = run_collect(args).await;
        assert_eq!(o.status.code(), Some(0), "{moment:?}: {}", text(&o));
        if matches!(moment, Moment::Sealing(_)) {
            assert!(
                text(&o).contains("it is not evidence and can be deleted"),
                "{}",
                text(&o)
            );
        }
        let resumed = open(&case, &out_rel);
        assert_same_records(&resumed, &reference, sources, &format!("{moment:?}"));
    }
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}

/// Ctrl-C (SIGINT) in the middle of collecting: exit 130, nothing sealed, the
/// journal consistent (every finished query's spool there with its hash), and
/// the console's command resumes to exactly the records of a run that was
/// never stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_a_consistent_journal_and_says_how_to_resume() {
    use sha2::{Digest, Sha256};
    let case = Case::new();
    let handle = realistic_sim().await;
    let sources = "entra-signins-interactive,entra-audit,user,mailbox-rules,auth-methods,devices";
    let window = window_args(sources, &["--lang", "en"]);
    let extra: Vec<&str> = window.iter().map(String::as_str).collect();
    let o = run_collect(collect_args(&handle, &case, "reference", &extra)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reference = open(&case, "reference");

    let out = case.path("stopped");
    let args = collect_args(&handle, &case, "stopped", &extra);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("m365-preserve"))
        .env("SIM_SECRET", m365_preserve_sim::scenario::DEMO_SECRET)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while reached(&out, Moment::QueriesDone(2)).is_none() {
        assert!(Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert!(
        stderr.contains("Interrupted: nothing was sealed"),
        "{stderr}"
    );
    assert!(
        entries(&out).iter().all(|p| !name(p).contains(".zip.age")),
        "nothing sealed"
    );

    // The journal: whole lines only, each finished query's spool with its hash.
    let workdir = entries(&out)
        .into_iter()
        .find(|p| name(p).starts_with(".work-"))
        .expect("the work folder is kept");
    let journal = std::fs::read_to_string(workdir.join(".m365-preserve/journal.jsonl")).unwrap();
    assert!(journal.ends_with('\n'), "no torn line");
    let mut done = 0;
    for line in journal.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect(line);
        if entry["event"] == "query-done" {
            let spool = workdir.join(entry["spool"].as_str().unwrap());
            let bytes = std::fs::read(&spool).expect("the spool of a finished query");
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                entry["sha256"].as_str().unwrap(),
                "{}",
                spool.display()
            );
            done += 1;
        }
    }
    assert!(done >= 2, "{journal}");

    // The command on the line after the message continues the run.
    let mut lines = stderr.lines();
    lines.find(|l| l.starts_with("Interrupted: ")).unwrap();
    let command = shlex::split(lines.next().expect("the command").trim()).unwrap();
    let at = command.iter().position(|a| a == "--resume").unwrap();
    assert_eq!(Path::new(&command[at + 1]), workdir);
    let o = run_collect(command[1..].to_vec()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let resumed = open(&case, "stopped");
    assert_same_records(&resumed, &reference, sources, "after Ctrl-C");
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}
