//! The chain of custody under concurrent writers: people recording receipt on
//! a shared drive at the same moment, or a script, never break it.

use crate::common::{bin, text, Case};
use serde_json::Value;

#[test]
fn twenty_concurrent_records_give_twenty_one_intact_lines() {
    let case = Case::new();
    let ev = case.evidence();
    let pkg = case.seal(&ev, "out");
    let recorders: Vec<_> = (0..20)
        .map(|i| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("m365-preserve"));
            c.args(["custody", "record", "--action", "received", "--by"])
                .arg(format!("recorder {i}"))
                .arg(&pkg.ciphertext);
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for child in recorders {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let log = std::fs::read_to_string(&pkg.custody).unwrap();
    assert_eq!(log.lines().count(), 21, "{log}");
    let mut by: Vec<String> = log
        .lines()
        .skip(1)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["by"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    by.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("recorder {i}")).collect();
    expected.sort();
    assert_eq!(by, expected, "every recorder's event is in the log once");
    let show = bin()
        .args(["custody", "show", "--json"])
        .arg(&pkg.ciphertext)
        .output()
        .unwrap();
    assert!(show.status.success(), "{}", text(&show));
    let chain: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(chain["problems"], serde_json::json!([]));
    assert_eq!(chain["events"].as_array().unwrap().len(), 21);
}

#[test]
fn a_broken_log_is_refused_naming_its_first_bad_line_and_left_as_it_was() {
    let case = Case::new();
    let ev = case.evidence();
    let pkg = case.seal(&ev, "out");
    for who in ["courier", "firm"] {
        let o = bin()
            .args(["custody", "record", "--action", "received", "--by", who])
            .arg(&pkg.ciphertext)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    // Someone edits the second line by hand.
    let log = std::fs::read_to_string(&pkg.custody).unwrap();
    let edited = log.replacen("\"by\":\"courier\"", "\"by\":\"someone else\"", 1);
    assert_ne!(log, edited);
    std::fs::write(&pkg.custody, &edited).unwrap();
    let o = bin()
        .args(["custody", "record", "--action", "verified", "--by", "firm"])
        .arg(&pkg.ciphertext)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken at line 2"), "{err}");
    assert_eq!(err.matches("broken").count(), 1, "said once: {err}");
    assert_eq!(std::fs::read_to_string(&pkg.custody).unwrap(), edited);
}

#[test]
fn concurrent_work_log_appends_keep_the_inner_chain() {
    use m365_preserve_package::custody::{
        append_to_work_log, check_chain, CustodyAction, CustodyEvent, INNER_GENESIS,
    };
    use m365_preserve_package::workdir::WorkDir;
    let dir = tempfile::tempdir().unwrap();
    let workdir = WorkDir::at(dir.path());
    std::thread::scope(|s| {
        for t in 0..8 {
            let workdir = &workdir;
            s.spawn(move || {
                for i in 0..10 {
                    let ev =
                        CustodyEvent::new(CustodyAction::EvidenceImported, &format!("{t}/{i}"));
                    append_to_work_log(workdir, vec![ev]).unwrap();
                }
            });
        }
    });
    let log = std::fs::read_to_string(workdir.custody_log()).unwrap();
    let chain = check_chain(&log, INNER_GENESIS, false, None);
    assert!(chain.problems.is_empty(), "{:?}", chain.problems);
    assert_eq!(chain.events.len(), 80);
}
