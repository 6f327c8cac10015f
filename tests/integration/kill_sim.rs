//! A collection killed (SIGKILL) at any moment, sealing included, resumes to
//! the same records, and a kill never leaves a file that looks like a package.

use crate::collect_sim::{collect_args, open, records, run_collect, sim_with, spawn_collect};
use crate::common::{text, Case};
use m365_preserve_sim::scenario::default_fixture;
use m365_preserve_sim::server::Profile;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// When to kill: once the journal holds this many finished queries, or while
/// the package is being written.
#[derive(Debug, Clone, Copy)]
enum Moment {
    QueriesDone(usize),
    Sealing,
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
    let ready = match moment {
        Moment::QueriesDone(n) => {
            let journal = std::fs::read_to_string(workdir.join(".m365-preserve/journal.jsonl"))
                .unwrap_or_default();
            workdir.join(".m365-preserve/run.json").exists()
                && journal.lines().filter(|l| l.contains("query-done")).count() >= n
        }
        Moment::Sealing => entries(out)
            .iter()
            .any(|p| name(p).ends_with(".zip.age.partial")),
    };
    ready.then_some(workdir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_killed_at_any_moment_resumes_to_the_same_records() {
    let case = Case::new();
    let handle = sim_with(default_fixture(), |c| {
        c.profile = Profile::Realistic;
        c.time_scale = 40.0;
    })
    .await;
    // Sealing a large attachment takes long enough to be killed in the middle.
    let big = case.path("big.bin");
    let block: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&big, block.repeat(48)).unwrap();
    let big = big.display().to_string();
    let until = chrono::Utc::now().to_rfc3339();
    let since = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let sources = "entra-signins-interactive,entra-signins-noninteractive,entra-audit,purview-audit,user,mailbox-rules,auth-methods,devices";
    let extra = [
        "--sources",
        sources,
        "--since",
        &since,
        "--until",
        &until,
        "--attach",
        &big,
    ];
    let slow = |a: Vec<String>| -> Vec<String> {
        a.into_iter()
            .map(|x| if x == "100" { "40".into() } else { x })
            .collect()
    };
    let o = run_collect(slow(collect_args(&handle, &case, "reference", &extra))).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reference = open(&case, "reference");

    let moments = [
        Moment::QueriesDone(0),
        Moment::QueriesDone(1),
        Moment::QueriesDone(3),
        Moment::QueriesDone(7),
        Moment::QueriesDone(12),
        Moment::Sealing,
    ];
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
        if matches!(moment, Moment::Sealing) {
            assert!(
                text(&o).contains("it is not evidence and can be deleted"),
                "{}",
                text(&o)
            );
        }
        let resumed = open(&case, &out_rel);
        for source in sources.split(',') {
            assert_eq!(
                records(&resumed, source),
                records(&reference, source),
                "{moment:?}: {source}: same records, same order"
            );
        }
    }
    assert_eq!(handle.violations(), 0);
    handle.shutdown().await;
}
