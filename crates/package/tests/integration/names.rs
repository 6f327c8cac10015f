//! Any folder `seal` accepts, `verify` passes, and every file of it is in the
//! package: names that collide by case or Unicode normalisation, or that the
//! name policy refuses, are stored under distinct safe names with the original
//! recorded in the manifest.

use crate::common::Keys;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

/// Name pieces that break naive packagers: case, composed and decomposed
/// accents, Japanese, characters Windows refuses, control characters, names
/// that look like the policy's own suffixes and escapes, bytes that are not UTF-8.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"a".to_vec()),
        Just(b"A".to_vec()),
        Just("\u{e9}".as_bytes().to_vec()),
        Just("e\u{301}".as_bytes().to_vec()),
        Just("\u{c9}".as_bytes().to_vec()),
        Just("佐藤".as_bytes().to_vec()),
        Just(b" ".to_vec()),
        Just(b"\\".to_vec()),
        Just(b":".to_vec()),
        Just(b"\x07".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"%07".to_vec()),
        Just(b"-2".to_vec()),
        Just(b".".to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"manifest".to_vec()),
    ]
}

fn component() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(piece(), 1..4),
        prop_oneof![Just(""), Just(".json"), Just(".JSON"), Just(".csv")],
    )
        .prop_map(|(pieces, ext)| {
            let mut c = pieces.concat();
            c.extend_from_slice(ext.as_bytes());
            c
        })
        .prop_filter("a file system name", |c| c != b"." && c != b"..")
}

fn tree() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    prop::collection::vec(prop::collection::vec(component(), 1..3), 1..10)
}

fn os(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_folder_seal_accepts_verifies_and_keeps_every_file(paths in tree()) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("in");
        std::fs::create_dir(&folder).unwrap();
        let mut written: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for (i, parts) in paths.iter().enumerate() {
            let mut p = folder.clone();
            for part in parts {
                p.push(os(part));
            }
            let content = format!("file {i}\n").into_bytes();
            // A path whose folder is already a file (or the reverse) cannot exist.
            let made = p
                .parent()
                .map(|d| std::fs::create_dir_all(d).is_ok())
                .unwrap_or(false)
                && !p.exists()
                && std::fs::write(&p, &content).is_ok();
            if made {
                written.push((p, content));
            }
        }
        prop_assume!(!written.is_empty());
        let keys = Keys::new();
        let sealed = keys.seal(&folder, &dir.path().join("out")).unwrap();
        let report = keys.verify(&sealed);
        prop_assert!(report.ok, "{:#?}", report.checks);
        let evidence: Vec<_> = sealed
            .manifest
            .files
            .iter()
            .filter(|f| f.path.starts_with("evidence/"))
            .collect();
        prop_assert_eq!(evidence.len(), written.len());
        let stored: BTreeSet<String> = evidence
            .iter()
            .map(|f| m365_preserve_package::names::folded(&f.path))
            .collect();
        prop_assert_eq!(stored.len(), written.len(), "distinct however compared");
        for (path, _) in &written {
            let rel = path.strip_prefix(&folder).unwrap();
            let original = format!(
                "evidence/{}",
                rel.components()
                    .map(|c| m365_preserve_package::names::os_text(c.as_os_str()))
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let found = evidence
                .iter()
                .any(|f| f.original_name.as_deref().unwrap_or(&f.path) == original);
            prop_assert!(found, "{original:?} is in the manifest");
        }
    }
}
