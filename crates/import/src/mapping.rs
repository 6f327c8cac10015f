//! Column-to-Graph mapping tables for flattened CSV downloads, and the value
//! conversions they use. Cells that are empty are left out (the CSV cannot tell
//! an empty string from a missing value); columns without a Graph equivalent are
//! kept verbatim under [`UNMAPPED`].

use super::csvread::Header;
use super::dates::{read_portal_date, DateCell};
use super::error::{BadRow, Position};
use serde_json::{Map, Value};

/// The object holding an imported record's fields that have no Graph equivalent,
/// under their original names.
pub const UNMAPPED: &str = "unmappedFields";

/// How a cell becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Integer; kept as text when it is not one.
    Int,
    /// `True`/`False`/`Yes`/`No`; kept as text otherwise.
    Bool,
    /// A display name turned into the Graph enum member (`Not Applied` -> `notApplied`).
    Enum,
    /// Lower-cased (`Success` -> `success`).
    Lower,
    /// A UTC date-time; locale-ambiguous values are kept verbatim and flagged.
    Date,
}

/// One column of a download and where its value goes.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Normalised header name (see [`super::csvread::norm`]).
    pub column: &'static str,
    pub path: &'static [&'static str],
    pub kind: Kind,
}

pub const fn f(column: &'static str, path: &'static [&'static str], kind: Kind) -> Field {
    Field { column, path, kind }
}

/// A cell whose day and month could be swapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguousDate {
    pub at: Position,
    pub value: String,
}

/// Sets `path` (creating objects on the way) to `value`.
pub fn set(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut m = map;
    for p in parents {
        let slot = m
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        m = slot.as_object_mut().expect("object");
    }
    m.insert(last.to_string(), value);
}

/// Graph enum member for a portal display text: one word keeps its inner
/// capitals (`oAuth2`), several words become camelCase (`Single-factor
/// authentication` -> `singleFactorAuthentication`).
pub fn enum_text(s: &str) -> String {
    match s.to_ascii_lowercase().as_str() {
        "multifactor authentication" | "multi-factor authentication" => {
            return "multiFactorAuthentication".into()
        }
        "azure ad" | "azuread" => return "AzureAD".into(),
        _ => {}
    }
    let words: Vec<&str> = s.split([' ', '-', '_']).filter(|w| !w.is_empty()).collect();
    let mut out = String::with_capacity(s.len());
    match words.as_slice() {
        [] => {}
        [one] => {
            let mut c = one.chars();
            if let Some(first) = c.next() {
                out.extend(first.to_lowercase());
                out.push_str(c.as_str());
            }
        }
        [first, rest @ ..] => {
            out.push_str(&first.to_lowercase());
            for w in rest {
                let mut c = w.chars();
                if let Some(h) = c.next() {
                    out.extend(h.to_uppercase());
                    out.push_str(c.as_str());
                }
            }
        }
    }
    out
}

pub fn bool_text(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

pub fn int_value(s: &str) -> Value {
    s.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(s.to_string()))
}

/// Converts one cell by its kind.
pub fn convert(
    kind: Kind,
    text: &str,
    at: impl FnOnce() -> Position,
    flags: &mut Vec<AmbiguousDate>,
) -> Result<Value, BadRow> {
    Ok(match kind {
        Kind::Text => Value::String(text.to_string()),
        Kind::Int => int_value(text.trim()),
        Kind::Bool => {
            bool_text(text.trim()).map_or_else(|| Value::String(text.into()), Value::Bool)
        }
        Kind::Enum => Value::String(enum_text(text.trim())),
        Kind::Lower => Value::String(text.trim().to_lowercase()),
        Kind::Date => match read_portal_date(text) {
            DateCell::Utc(s) => Value::String(s),
            DateCell::Ambiguous => {
                flags.push(AmbiguousDate {
                    at: at(),
                    value: text.to_string(),
                });
                Value::String(text.to_string())
            }
            DateCell::Invalid => {
                return Err(BadRow::new(
                    at(),
                    format!("{text:?} is not a date and time"),
                ))
            }
        },
    })
}

/// A mapping table resolved against one file's header.
#[derive(Debug, Clone)]
pub struct Plan {
    mapped: Vec<(usize, Field)>,
    unmapped: Vec<(usize, String)>,
}

impl Plan {
    /// Maps the first column of each name in `table`; `handled` names are used by
    /// the caller; every other column is kept under [`UNMAPPED`].
    pub fn new(header: &Header, table: &[Field], handled: &[&str]) -> Self {
        let mut mapped = Vec::new();
        let mut taken = vec![false; header.width()];
        for fld in table {
            if let Some(i) = header.find(fld.column) {
                if !taken[i] {
                    taken[i] = true;
                    mapped.push((i, *fld));
                }
            }
        }
        for h in handled {
            if let Some(i) = header.find(h) {
                taken[i] = true;
            }
        }
        let unmapped = (0..header.width())
            .filter(|i| !taken[*i])
            .map(|i| (i, header.label(i)))
            .collect();
        Self { mapped, unmapped }
    }

    /// Fills `out` from `row`.
    pub fn apply(
        &self,
        header: &Header,
        row: &csv::StringRecord,
        line: u64,
        out: &mut Map<String, Value>,
        flags: &mut Vec<AmbiguousDate>,
    ) -> Result<(), BadRow> {
        for (i, fld) in &self.mapped {
            let text = &row[*i];
            if text.trim().is_empty() {
                continue;
            }
            let v = convert(
                fld.kind,
                text,
                || Position::field(line, *i as u64 + 1, &header.names[*i]),
                flags,
            )?;
            set(out, fld.path, v);
        }
        let mut extra = Map::new();
        for (i, name) in &self.unmapped {
            if !row[*i].is_empty() {
                extra.insert(name.clone(), Value::String(row[*i].to_string()));
            }
        }
        if !extra.is_empty() {
            out.insert(UNMAPPED.into(), Value::Object(extra));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_texts_become_graph_enum_members() {
        assert_eq!(enum_text("Not Applied"), "notApplied");
        assert_eq!(
            enum_text("Single-factor authentication"),
            "singleFactorAuthentication"
        );
        assert_eq!(
            enum_text("Multifactor authentication"),
            "multiFactorAuthentication"
        );
        assert_eq!(enum_text("Primary Refresh Token"), "primaryRefreshToken");
        assert_eq!(enum_text("B2B collaboration"), "b2bCollaboration");
        assert_eq!(enum_text("oAuth2"), "oAuth2");
        assert_eq!(enum_text("None"), "none");
        assert_eq!(enum_text("Client secret"), "clientSecret");
    }

    #[test]
    fn set_creates_nested_objects() {
        let mut m = Map::new();
        set(&mut m, &["a", "b"], Value::from(1));
        set(&mut m, &["a", "c"], Value::from(2));
        assert_eq!(Value::Object(m), serde_json::json!({"a": {"b": 1, "c": 2}}));
    }
}
