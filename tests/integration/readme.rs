//! The README's permission matrix says what the code requires.

use m365_preserve_sources::Source;

#[test]
fn readme_permission_matrix_matches_the_source_catalogue() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for source in Source::collected() {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{source}` |")))
            .unwrap_or_else(|| panic!("README has no permission row for {source}"));
        for req in source.info().needs {
            for permission in req.any_of {
                assert!(
                    row.contains(permission),
                    "README row of {source} does not name {permission}"
                );
            }
        }
    }
}
