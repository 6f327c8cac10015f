//! The README's permission matrix says what the code requires.

use m365_preserve::sources::CATALOGUE;

#[test]
fn readme_permission_matrix_matches_the_source_catalogue() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for source in CATALOGUE {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", source.name)))
            .unwrap_or_else(|| panic!("README has no permission row for {}", source.name));
        for req in source.needs {
            for permission in req.any_of {
                assert!(
                    row.contains(permission),
                    "README row of {} does not name {permission}",
                    source.name
                );
            }
        }
    }
}
