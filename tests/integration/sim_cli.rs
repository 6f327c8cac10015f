//! `m365-preserve sim` as a real process.

use crate::common::{bin, text};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn serves_the_built_in_scenario_on_loopback() {
    let exe = assert_cmd::cargo::cargo_bin("m365-preserve");
    let mut child = std::process::Command::new(exe)
        .args(["sim", "--profile", "fast", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = rt.block_on(async {
        let r = reqwest::get(format!("{base}/v1.0/users")).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("InvalidAuthenticationToken"), "{body}");
}

#[test]
fn a_malformed_fixture_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    m365_preserve_sim::scenario::write_fixture(
        &m365_preserve_sim::scenario::default_fixture(),
        dir.path(),
    )
    .unwrap();
    let path = dir.path().join("directory-audits.jsonl");
    let mut text_ = std::fs::read_to_string(&path).unwrap();
    text_.insert_str(text_.find('\n').unwrap() + 1, "{\"id\": \"broken\n");
    std::fs::write(&path, text_).unwrap();
    let o = bin()
        .arg("sim")
        .arg("--fixture")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    let t = text(&o);
    assert!(
        t.contains("directory-audits.jsonl") && t.contains("line 2"),
        "{t}"
    );
}
