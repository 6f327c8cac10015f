//! The name policy of a package: which entry names are safe to write and to
//! extract on every system. Sealing never writes a name verification refuses,
//! and verification and opening refuse every name that could escape the
//! extraction folder. Every writer of stored names (the evidence writers,
//! `--attach`, import's originals, the sealer and its zip writer) takes them
//! from a [`NameTable`], which also keeps names apart that Windows or macOS
//! would extract to the same file (`a.json` and `A.json`; `é` composed and
//! decomposed).

use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;

/// Why a name is not allowed in a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    #[error("empty name")]
    Empty,
    #[error("control characters in the name")]
    Control,
    #[error("backslash in the name")]
    Backslash,
    #[error("absolute path")]
    Absolute,
    #[error("drive letter")]
    DriveLetter,
    #[error("'..' component")]
    DotDot,
    #[error("empty or '.' component (directory entry?)")]
    EmptyComponent,
}

/// Checks an entry name (`/`-separated, relative) against the policy.
pub fn check(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(NameProblem::Control);
    }
    if name.contains('\\') {
        return Err(NameProblem::Backslash);
    }
    if name.starts_with('/') {
        return Err(NameProblem::Absolute);
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Err(NameProblem::DriveLetter);
    }
    if name.split('/').any(|c| c == "..") {
        return Err(NameProblem::DotDot);
    }
    if name.split('/').any(|c| c.is_empty() || c == ".") {
        return Err(NameProblem::EmptyComponent);
    }
    Ok(())
}

/// The form in which two names are the same file on a case-insensitive,
/// normalisation-insensitive file system (NTFS, APFS): Unicode NFC, lower case.
pub fn folded(name: &str) -> String {
    name.nfc().flat_map(char::to_lowercase).nfc().collect()
}

/// A name as the operating system gave it, as text: UTF-8 as it is, any other
/// byte as `%XX`.
pub fn os_text(name: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        for chunk in name.as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned()
    }
}

/// One path component made safe: characters that [`check`] refuses or that
/// Windows cannot hold in a file name become `%XX` (their UTF-8 bytes), `.`
/// and `..` are escaped the same way.
fn safe_component(c: &str) -> String {
    match c {
        "." => return "%2E".into(),
        ".." => return "%2E%2E".into(),
        _ => {}
    }
    let mut out = String::with_capacity(c.len());
    for ch in c.chars() {
        if ch.is_control() || "\\:*?\"<>|".contains(ch) {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// `wanted` made safe: `/`-separated components, none empty, each made safe.
pub fn safe(wanted: &str) -> String {
    let parts: Vec<String> = wanted
        .split('/')
        .filter(|c| !c.is_empty())
        .map(safe_component)
        .collect();
    if parts.is_empty() {
        "unnamed".into()
    } else {
        parts.join("/")
    }
}

/// The stored names of one package (or of one folder that goes into it).
#[derive(Debug, Default)]
pub struct NameTable {
    taken: HashSet<String>,
}

/// A stored name, and the name it was given when that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub name: String,
    pub original: Option<String>,
}

impl NameTable {
    /// True when `name` (or a name the same on some file system) is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(&folded(name))
    }

    /// Takes `name` exactly: it must pass [`check`] and not be taken.
    pub fn take_exact(&mut self, name: &str) -> Result<(), NameClash> {
        check(name).map_err(|why| NameClash::Refused {
            name: name.into(),
            why,
        })?;
        if !self.taken.insert(folded(name)) {
            return Err(NameClash::Taken(name.into()));
        }
        Ok(())
    }

    /// A stored name for `wanted` (`/`-separated, relative): made safe, and
    /// made distinct from every name already taken by a `-2`, `-3`... before
    /// the extension of its last component.
    pub fn claim(&mut self, wanted: &str) -> Stored {
        let base = safe(wanted);
        let (stem, ext) = split_extension(&base);
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(folded(&name)) {
            name = format!("{stem}-{n}{ext}");
            n += 1;
        }
        Stored {
            original: (name != wanted).then(|| wanted.to_string()),
            name,
        }
    }
}

/// `dir/name.ext` -> (`dir/name`, `.ext`); a leading dot is not an extension.
fn split_extension(name: &str) -> (&str, &str) {
    let last = name.rfind('/').map_or(0, |i| i + 1);
    match name[last..].rfind('.') {
        Some(dot) if dot > 0 => name.split_at(last + dot),
        _ => (name, ""),
    }
}

/// Why a writer could not store a name as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameClash {
    #[error("{name:?}: {why}")]
    Refused { name: String, why: NameProblem },
    #[error("{0:?} is already in the package under a name that differs only by case or Unicode normalisation")]
    Taken(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_keep_colliding_and_unsafe_names_apart() {
        let mut t = NameTable::default();
        let a = t.claim("evidence/a.json");
        assert_eq!(
            a,
            Stored {
                name: "evidence/a.json".into(),
                original: None
            }
        );
        let upper = t.claim("evidence/A.json");
        assert_eq!(upper.name, "evidence/A-2.json");
        assert_eq!(upper.original.as_deref(), Some("evidence/A.json"));
        // "é" precomposed and decomposed are one file on macOS.
        assert_eq!(t.claim("caf\u{e9}.txt").name, "caf\u{e9}.txt");
        assert_eq!(t.claim("cafe\u{301}.txt").name, "cafe\u{301}-2.txt");
        assert_eq!(t.claim("a\u{7}b").name, "a%07b");
        assert_eq!(t.claim("x/../y").name, "x/%2E%2E/y");
        assert_eq!(t.claim("C:evil").name, "C%3Aevil");
        assert_eq!(t.claim(".profile").name, ".profile");
        assert_eq!(t.claim(".PROFILE").name, ".PROFILE-2");
        for name in ["evidence/A-2.json", "a%07b", "x/%2E%2E/y", "C%3Aevil"] {
            assert_eq!(check(name), Ok(()), "{name}");
        }
        assert!(t.take_exact("EVIDENCE/a.JSON").is_err());
        assert!(t.take_exact("b\\c").is_err());
        t.take_exact("b").unwrap();
    }

    #[test]
    fn refuses_names_that_escape_or_confuse() {
        for (name, why) in [
            ("", NameProblem::Empty),
            ("a\u{7}b", NameProblem::Control),
            ("a\\b", NameProblem::Backslash),
            ("/etc/passwd", NameProblem::Absolute),
            ("C:x", NameProblem::DriveLetter),
            ("a/../b", NameProblem::DotDot),
            ("a//b", NameProblem::EmptyComponent),
            ("a/./b", NameProblem::EmptyComponent),
        ] {
            assert_eq!(check(name), Err(why), "{name:?}");
        }
        assert_eq!(check("evidence/佐藤 花子.csv"), Ok(()));
    }
}
