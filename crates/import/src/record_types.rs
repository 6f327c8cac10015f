//! Graph's names for the unified audit log's `RecordType` and `UserType`
//! numbers: the `auditLogRecordType` and `auditLogUserType` enums of
//! `microsoft.graph.security`, whose members carry the Management Activity API's
//! numbers as their values. Imported records use the schema's member names
//! (PascalCase, `ExchangeItem`) so that they read like records the audit-log
//! query API returns. The table is generated from Graph's CSDL
//! (`reference/graph-csdl/v1.0.xml`); a test checks it still matches.

mod table {
    include!("record_types_table.rs");
}

use std::collections::HashMap;
use std::sync::OnceLock;

pub use table::{RECORD_TYPES, USER_TYPES};

fn by_number(table: &'static [(u16, &'static str)], n: u64) -> Option<&'static str> {
    let n = u16::try_from(n).ok()?;
    table
        .binary_search_by_key(&n, |(k, _)| *k)
        .ok()
        .map(|i| table[i].1)
}

fn by_name(
    table: &'static [(u16, &'static str)],
    index: &'static OnceLock<HashMap<String, &'static str>>,
    name: &str,
) -> Option<&'static str> {
    index
        .get_or_init(|| {
            table
                .iter()
                .map(|(_, m)| (m.to_ascii_lowercase(), *m))
                .collect()
        })
        .get(&name.to_ascii_lowercase())
        .copied()
}

/// The `auditLogRecordType` member of a record type number.
pub fn record_type_name(n: u64) -> Option<&'static str> {
    by_number(RECORD_TYPES, n)
}

/// The member a record type name stands for, in the schema's case
/// (`exchangeAdmin`, from an older Graph client, is `ExchangeAdmin`).
pub fn record_type_member(name: &str) -> Option<&'static str> {
    static INDEX: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    by_name(RECORD_TYPES, &INDEX, name)
}

/// The `auditLogUserType` member of a user type number.
pub fn user_type_name(n: u64) -> Option<&'static str> {
    by_number(USER_TYPES, n)
}

/// The member a user type name stands for, in the schema's case.
pub fn user_type_member(name: &str) -> Option<&'static str> {
    static INDEX: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    by_name(USER_TYPES, &INDEX, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The members of one CSDL enum, read with plain string search (the file's
    /// layout is one `<Member Name=".." Value=".." />` per line).
    fn members(csdl: &str, name: &str) -> Vec<(u16, String)> {
        let start = csdl
            .find(&format!("<EnumType Name=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} is not in the CSDL"));
        let body = &csdl[start..start + csdl[start..].find("</EnumType>").unwrap()];
        let attr = |line: &str, a: &str| {
            let from = line.find(&format!("{a}=\"")).unwrap() + a.len() + 2;
            line[from..from + line[from..].find('"').unwrap()].to_string()
        };
        body.lines()
            .filter(|l| l.trim_start().starts_with("<Member "))
            .map(|l| (attr(l, "Value").parse().unwrap(), attr(l, "Name")))
            .collect()
    }

    fn rust_table(name: &str, doc: &str, rows: &[(u16, String)]) -> String {
        let mut out = format!("/// {doc}\npub const {name}: &[(u16, &str)] = &[\n");
        for (n, m) in rows {
            out.push_str(&format!("    ({n}, \"{m}\"),\n"));
        }
        out + "];\n"
    }

    /// Regenerate with `M365_PRESERVE_REGENERATE=1 cargo test -p m365-preserve-import tables_match`.
    #[test]
    fn tables_match_the_csdl() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/graph-csdl/v1.0.xml");
        let Ok(csdl) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {} is absent", path.display());
            return;
        };
        let text = format!(
            "// Generated from Graph's CSDL (reference/graph-csdl/v1.0.xml) by the test\n\
             // `record_types::tests::tables_match_the_csdl`; do not edit by hand.\n\n{}\n{}",
            rust_table(
                "RECORD_TYPES",
                "`microsoft.graph.security.auditLogRecordType`: Management Activity API number -> member.",
                &members(&csdl, "auditLogRecordType")
            ),
            rust_table(
                "USER_TYPES",
                "`microsoft.graph.security.auditLogUserType`: number -> member.",
                &members(&csdl, "auditLogUserType")
            )
        );
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/record_types_table.rs");
        if std::env::var_os("M365_PRESERVE_REGENERATE").is_some() {
            std::fs::write(&file, &text).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            text,
            "the table differs from the CSDL: run with M365_PRESERVE_REGENERATE=1"
        );
        assert!(RECORD_TYPES.len() > 400, "{}", RECORD_TYPES.len());
        assert!(RECORD_TYPES.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
    }

    #[test]
    fn numbers_and_names_give_the_schemas_members() {
        assert_eq!(record_type_name(1), Some("ExchangeAdmin"));
        assert_eq!(record_type_name(15), Some("AzureActiveDirectoryStsLogon"));
        assert_eq!(record_type_name(50), Some("ExchangeItemAggregated"));
        assert_eq!(record_type_name(60_000), None);
        assert_eq!(record_type_member("exchangeItem"), Some("ExchangeItem"));
        assert_eq!(
            record_type_member("AzureActiveDirectoryStsLogon"),
            Some("AzureActiveDirectoryStsLogon")
        );
        assert_eq!(record_type_member("NoSuchType"), None);
        assert_eq!(user_type_name(0), Some("Regular"));
        assert_eq!(user_type_name(3), Some("DcAdmin"));
        assert_eq!(user_type_member("regular"), Some("Regular"));
    }
}
