//! Every format reader on damaged input: self-written samples of each format
//! (the repository's fixtures) truncated at many offsets, with flipped bytes,
//! spliced or repeated blocks, re-encoded wrongly, or with a huge field. For
//! every case: no panic, an answer within seconds, a refusal that names the
//! file (and a line where the message has a position), nothing written outside
//! the work folder, and no record lost by an import that claims to be complete
//! (rows read = records written + duplicates + rows of sources not imported,
//! plus skipped rows, which make the source partial).

use m365_preserve_import::{import_into, ImportError, ImportOptions};
use m365_preserve_package::evidence::SourceStatus;
use m365_preserve_package::workdir::WorkDir;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Cases per reader: about 3 s per reader in a debug build on a busy 2-core
/// machine.
const CASES: u32 = 24;
/// Longest a case may take (debug build, shared CI machine).
const MAX_CASE: Duration = Duration::from_secs(10);

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/import")
        .join(rel)
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
    Repeat {
        from: usize,
        len: usize,
        times: usize,
    },
    /// Re-encoded as Latin-1 would write it (every non-ASCII byte becomes `é`).
    Latin1,
    /// A field of `len` bytes inserted at an offset.
    Huge {
        at: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<prop::sample::Index>().prop_map(|i| Mutation::Truncate(i.index(usize::MAX))),
        3 => (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i.index(usize::MAX), x)),
        2 => (any::<usize>(), 1usize..400, any::<usize>()).prop_map(|(from, len, to)| Mutation::Splice { from, len, to }),
        2 => (any::<usize>(), 1usize..300, 2usize..40).prop_map(|(from, len, times)| Mutation::Repeat { from, len, times }),
        1 => Just(Mutation::Latin1),
        1 => (any::<usize>(), prop_oneof![Just(70_000usize), Just(1_100_000), Just(3_000_000)]).prop_map(|(at, len)| Mutation::Huge { at, len }),
    ]
}

fn apply(m: &Mutation, bytes: &[u8]) -> Vec<u8> {
    let n = bytes.len().max(1);
    match *m {
        Mutation::Truncate(at) => bytes[..at % n].to_vec(),
        Mutation::Flip(at, x) => {
            let mut b = bytes.to_vec();
            if !b.is_empty() {
                b[at % n] ^= x;
            }
            b
        }
        Mutation::Splice { from, len, to } => {
            let from = from % n;
            let block = bytes[from..(from + len).min(bytes.len())].to_vec();
            let mut b = bytes.to_vec();
            let to = to % (b.len() + 1);
            b.splice(to..to, block);
            b
        }
        Mutation::Repeat { from, len, times } => {
            let from = from % n;
            let end = (from + len).min(bytes.len());
            let mut b = bytes[..end].to_vec();
            for _ in 1..times {
                b.extend_from_slice(&bytes[from..end]);
            }
            b.extend_from_slice(&bytes[end..]);
            b
        }
        Mutation::Latin1 => bytes
            .iter()
            .map(|&c| if c >= 0x80 { 0xE9 } else { c })
            .collect(),
        Mutation::Huge { at, len } => {
            let at = at % (bytes.len() + 1);
            let mut b = bytes[..at].to_vec();
            b.extend(std::iter::repeat_n(b'A', len));
            b.extend_from_slice(&bytes[at..]);
            b
        }
    }
}

/// Runs one damaged file through the importer and checks the properties.
fn check(name: &str, bytes: &[u8], skip: bool) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let input_dir = tmp.path().join("in");
    std::fs::create_dir(&input_dir).unwrap();
    let file = input_dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let work = tmp.path().join("work");
    let wd = WorkDir::create(&work).unwrap();
    let opts = ImportOptions {
        examiner: "Tester".into(),
        skip_bad_rows: skip,
        ..ImportOptions::default()
    };
    let started = Instant::now();
    let result = import_into(&wd, std::slice::from_ref(&file), &opts);
    prop_assert!(
        started.elapsed() < MAX_CASE,
        "{name}: took {:?}",
        started.elapsed()
    );
    let mut left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    prop_assert_eq!(
        left,
        vec!["in".to_string(), "work".to_string()],
        "nothing outside the work folder"
    );
    prop_assert_eq!(
        std::fs::read(&file).unwrap(),
        bytes,
        "the input is untouched"
    );
    match result {
        Err(e) => {
            let text = e.to_string();
            prop_assert!(
                text.contains(&file.display().to_string()),
                "{name}: the refusal names the file: {text}"
            );
            if let ImportError::BadRow { row, .. } = &e {
                prop_assert!(row.at.line > 0 && text.contains("line "), "{text}");
            }
            if let ImportError::Broken { at, .. } = &e {
                prop_assert!(at.line > 0 && text.contains("line "), "{text}");
            }
        }
        Ok(report) => {
            let f = &report.files[0];
            let written: u64 = f.records.values().sum();
            let not_imported: u64 = f.not_imported.values().sum();
            let skipped = f.skipped_rows.len() as u64;
            if !f.variant.contains("authdetails") {
                prop_assert_eq!(
                    written + f.duplicates + not_imported + skipped,
                    f.rows,
                    "{}: every row is accounted for: {:?}",
                    name,
                    f
                );
            }
            for s in &report.sources {
                if skipped > 0 {
                    prop_assert_eq!(
                        s.status,
                        SourceStatus::Partial,
                        "{}: rows were skipped",
                        name
                    );
                } else {
                    prop_assert_eq!(s.status, SourceStatus::Complete);
                }
            }
        }
    }
    Ok(())
}

fn run_reader(sample: &str) {
    let bytes = std::fs::read(data(sample)).unwrap();
    let name = Path::new(sample)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    runner
        .run(&(mutation(), any::<bool>()), |(m, skip)| {
            check(&name, &apply(&m, &bytes), skip)
        })
        .unwrap_or_else(|e| panic!("{sample}: {e}"));
    eprintln!("{sample}: {CASES} cases in {:.2?}", started.elapsed());
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kib: u64 = peak.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(kib < 1024 * 1024, "memory stays bounded: {peak}");
    }
}

/// One test per reader (CSV layouts and JSON containers), each on a sample
/// of its format.
macro_rules! readers {
    ($($test:ident: $sample:literal,)*) => {
        $(#[test]
        fn $test() {
            run_reader($sample);
        })*
    };
}

readers! {
    portal_signins_csv: "InteractiveSignIns_2026-11-18_2026-11-25.csv",
    portal_authdetails_csv: "InteractiveSignIns_AuthDetails_2026-11-18_2026-11-25.csv",
    portal_audit_csv: "AuditLogs_2026-11-25.csv",
    purview_current_csv: "AuditLog_20261125_061500.csv",
    purview_classic_csv: "purview-classic.csv",
    search_unifiedauditlog_csv: "search-unifiedauditlog.csv",
    get_inboxrule_csv: "Get-InboxRule_hanako.sato.csv",
    get_mailbox_csv: "Get-Mailbox.csv",
    graph_json_array: "InteractiveSignIns_2026-11-18_2026-11-25.json",
    graph_json_value_page: "graph-signins-page.json",
    eventhub_records: "eventhub-message.json",
    storage_pt1h_lines: "PT1H.json",
    management_api_blob: "management-api-blob.json",
    log_analytics_csv: "peers/la-signinlogs.csv",
    log_analytics_csv_multiline: "peers/la-officeactivity.csv",
    log_analytics_api_tables: "peers/la-signinlogs.json",
    log_analytics_json_lines: "peers/la-auditlogs.jsonl",
    extractor_suite_ual_json: "peers/mes-ual.json",
    extractor_suite_ualgraph_csv: "peers/mes-ualgraph.csv",
    extractor_suite_rules_graph_csv: "peers/mes-mailboxrulesgraph.csv",
    extractor_suite_oauth_csv: "peers/mes-oauthpermissions.csv",
    extractor_suite_mfa_csv: "peers/mes-mfa-userregistrationdetails.csv",
    hawk_concatenated_json: "peers/hawk-investigate-inboxrules.json",
    hawk_simple_ual_csv: "peers/hawk-simple-admin-inbox-rules-creation.csv",
}
