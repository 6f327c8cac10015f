//! The architecture's rules, checked on the source tree: no module imports a
//! module that imports it back, source names are spelled only by the sources
//! crate, the format crate stays free of network, async and CLI crates, only the
//! simulator depends on axum, and the binary stays thin.

use m365_preserve_sources::Source;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every crate's source folder: the binary's and each library's.
fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![root().join("src")];
    let mut libs: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    libs.sort();
    dirs.extend(libs);
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A file's module path (`graph::client`; the crate root is empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without its tests and comment lines.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Paths (`crate::a::b`, `super::c`, `self::d`, with `use` trees expanded)
/// mentioned in `code`.
fn paths_in(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &code[i..];
        let boundary = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        let head = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|h| rest.starts_with(h));
        match head {
            Some(_) if boundary => {
                let end = path_end(rest);
                expand(&rest[..end], &mut out);
                i += end.max(1);
            }
            _ => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// Where a path (possibly with a `{...}` tree) ends.
fn path_end(s: &str) -> usize {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            '}' => return i,
            c if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':') => return i,
            _ => {}
        }
    }
    s.len()
}

/// `a::{b, c::{d}}` -> `a::b`, `a::c::d`.
fn expand(path: &str, out: &mut Vec<String>) {
    let Some(open) = path.find('{') else {
        out.push(path.trim_end_matches(':').to_string());
        return;
    };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.rfind('}').unwrap_or(path.len())];
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    for p in parts {
        let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
        if !p.is_empty() && p != "self" {
            expand(&format!("{prefix}{p}"), out);
        }
    }
}

/// The module a path refers to, from module `at`: its longest prefix that is
/// a module of the crate.
fn target(at: &[String], path: &str, modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => Vec::new(),
        Some(&"self") => at.to_vec(),
        Some(&"super") => at.to_vec(),
        _ => return None,
    };
    if segs[0] == "crate" || segs[0] == "self" {
        segs.remove(0);
    }
    while segs.first() == Some(&"super") {
        base.pop()?;
        segs.remove(0);
    }
    let mut best = base.clone();
    let mut cur = base;
    for s in segs {
        cur.push(s.to_string());
        if modules.contains(&cur) {
            best = cur.clone();
        }
    }
    Some(best)
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut cycles = Vec::new();
    for src in crate_dirs() {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for f in &files {
            let at = module_of(&src, f);
            for p in paths_in(&code(f)) {
                let Some(to) = target(&at, &p, &modules) else {
                    continue;
                };
                // A module's ancestors are namespaces it lives in, not peers.
                if to != at && !at.starts_with(&to) {
                    edges.entry(at.clone()).or_default().insert(to);
                }
            }
        }
        for start in edges.keys() {
            if let Some(cycle) = find_cycle(start, &edges) {
                let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
                cycles.push(format!("{}: {}", src.display(), names.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "import circles:\n{}", cycles.join("\n"));
}

/// A path from `start` back to itself, if there is one.
fn find_cycle(
    start: &Vec<String>,
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Option<Vec<Vec<String>>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in edges.get(&node).into_iter().flatten() {
            if next == start {
                let mut p = path.clone();
                p.push(next.clone());
                return Some(p);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn the_cycle_finder_finds_a_circle() {
    let modules: BTreeSet<Vec<String>> = [vec![], vec!["a".to_string()], vec!["b".to_string()]]
        .into_iter()
        .collect();
    let paths = paths_in("use super::{b::X, c};\nfn f() { crate::a::g(); }");
    assert_eq!(paths, vec!["super::b::X", "super::c", "crate::a::g"]);
    assert_eq!(
        target(&["a".into()], "super::b::X", &modules),
        Some(vec!["b".to_string()])
    );
    let mut edges = BTreeMap::new();
    edges.insert(
        vec!["a".to_string()],
        BTreeSet::from([vec!["b".to_string()]]),
    );
    edges.insert(
        vec!["b".to_string()],
        BTreeSet::from([vec!["a".to_string()]]),
    );
    assert!(find_cycle(&vec!["a".to_string()], &edges).is_some());
    edges.remove(&vec!["b".to_string()]);
    assert!(find_cycle(&vec!["a".to_string()], &edges).is_none());
}

/// Source names are spelled by the sources crate only. (One-word names such
/// as `user` or `devices` are also Graph property names, so only the
/// hyphenated ones, which are not, are looked for.)
#[test]
fn source_names_are_spelled_only_by_the_sources_crate() {
    let sources_crate = root().join("crates/sources/src");
    let mut found = Vec::new();
    for src in crate_dirs().into_iter().filter(|d| *d != sources_crate) {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for f in files {
            let code = code(&f);
            for s in Source::ALL.iter().filter(|s| s.as_str().contains('-')) {
                if code.contains(&format!("\"{s}\"")) {
                    found.push(format!("{}: \"{s}\"", f.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "source names outside the sources crate:\n{}",
        found.join("\n")
    );
}

/// The crates `cargo tree` lists for a query, one name per line.
fn cargo_tree(args: &[&str]) -> BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--prefix", "none", "-e", "normal"])
        .args(args)
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn the_format_crate_has_no_network_async_or_cli_dependency() {
    let deps = cargo_tree(&["-p", "m365-preserve-package"]);
    for banned in ["tokio", "reqwest", "hyper", "axum", "clap"] {
        assert!(
            !deps.contains(banned),
            "m365-preserve-package depends on {banned}"
        );
    }
    assert!(deps.contains("age"), "{deps:?}");
}

#[test]
fn only_the_simulator_depends_on_axum() {
    let dependents = cargo_tree(&["-i", "axum", "--workspace"]);
    let ours: BTreeSet<&str> = dependents
        .iter()
        .map(String::as_str)
        .filter(|d| d.starts_with("m365-preserve"))
        .collect();
    assert_eq!(
        ours,
        BTreeSet::from(["m365-preserve", "m365-preserve-sim"]),
        "{dependents:?}"
    );
}

#[test]
fn the_binary_stays_thin() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let lines: usize = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().count())
        .sum();
    assert!(lines < 4000, "src/ has {lines} lines");
}
