//! The name policy of a package: which entry names are safe to write and to
//! extract on every system. Sealing never writes a name verification refuses,
//! and verification and opening refuse every name that could escape the
//! extraction folder.

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
    #[error("the name is not UTF-8")]
    NotUtf8,
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

#[cfg(test)]
mod tests {
    use super::*;

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
