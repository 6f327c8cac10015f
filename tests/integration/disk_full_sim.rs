//! A full disk, while collecting and while sealing: a clear error with the
//! command that continues, nothing half-written left that looks like a
//! package, and that command, once there is room, seals exactly the records
//! of a run that never failed.
//!
//! The disk is made "full" with a file-size limit (RLIMIT_FSIZE, SIGXFSZ
//! ignored): a write past it fails with EFBIG, as a write to a full disk
//! fails with ENOSPC, through the same error paths, and needs no privilege.

use crate::collect_sim::{collect_args, open, run_collect, sim_with};
use crate::common::{incompressible, text, Case};
use crate::kill_sim::{assert_same_records, window_args};
use m365_preserve_sim::scenario::{default_fixture, DEMO_SECRET};
use std::path::Path;
use std::process::Output;

const SOURCES: &str = "entra-signins-interactive,entra-signins-noninteractive,user,devices";

/// `collect args` with every file it writes limited to `kib` KiB.
async fn collect_limited(args: Vec<String>, kib: u64) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(r#"trap '' XFSZ; ulimit -f "$0" && exec "$@""#)
            .arg(kib.to_string())
            .arg(assert_cmd::cargo::cargo_bin("m365-preserve"))
            .args(&args)
            .env("SIM_SECRET", DEMO_SECRET)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The command on the line after "continue from there with:".
fn continue_command(stderr: &str) -> Vec<String> {
    let mut lines = stderr.lines();
    lines
        .find(|l| l.contains("continue from there with:"))
        .unwrap_or_else(|| panic!("the next step is said: {stderr}"));
    shlex::split(lines.next().expect("a command").trim()).expect("a shell line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_with_the_command_that_continues_and_leaves_no_package() {
    let case = Case::new();
    let sim = sim_with(default_fixture(), |_| {}).await;
    // Two 2 MiB files that do not compress (SHA-256 counter streams): each is
    // copied into the work folder under a 3 MiB limit, but the package that
    // holds both is larger.
    let attach = |file: &str, seed: u32| {
        let data = incompressible(seed, 2 << 20);
        let path = case.path(file);
        std::fs::write(&path, data).unwrap();
        path.display().to_string()
    };
    let (a, b) = (attach("a.bin", 1), attach("b.bin", 2));
    let window = window_args(SOURCES, &["--attach", &a, "--attach", &b, "--lang", "en"]);
    let extra: Vec<&str> = window.iter().map(String::as_str).collect();
    let o = run_collect(collect_args(&sim, &case, "reference", &extra)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reference = open(&case, "reference");

    // 64 KiB: a page of sign-ins does not fit (collecting); 3 MiB: the spools
    // and attachments do, the package does not (sealing).
    for (out, kib, during) in [
        ("while-collecting", 64, "collecting"),
        ("while-sealing", 3072, "sealing"),
    ] {
        let o = collect_limited(collect_args(&sim, &case, out, &extra), kib).await;
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{during}: {}", text(&o));
        assert!(
            stderr.contains("File too large"),
            "{during}: the cause: {stderr}"
        );
        if during == "sealing" {
            assert!(stderr.contains("sealing failed"), "{stderr}");
        }
        let left = names(&case.path(out));
        assert!(
            left.iter().all(|n| n.starts_with(".work-")),
            "{during}: only the work folder is left, no package or .partial file: {left:?}"
        );
        let command = continue_command(&stderr);
        let o = run_collect(command[1..].to_vec()).await;
        assert_eq!(o.status.code(), Some(0), "{during}: {}", text(&o));
        let resumed = open(&case, out);
        assert_same_records(&resumed, &reference, SOURCES, during);
    }
    assert_eq!(sim.violations(), 0);
    sim.shutdown().await;
}
