//! Flattening a JSON record into CSV cells.
//!
//! Rules (documented in README): nested objects become dotted paths
//! (`location.city`); arrays and empty objects are compact JSON text; `null` is an
//! empty cell; date-time strings are RFC 3339 UTC (see [`crate::timefmt`]); every
//! other scalar is written as it appears in the JSON. A record that is not an object
//! goes in a single column named `value`.

use crate::timefmt::parse_iso_datetime;
use serde_json::Value;

/// One CSV cell: its column path and its text.
pub type Cell = (String, String);

/// Flattens `record` into `(column, text)` pairs in field order.
pub fn flatten_record(record: &Value, out: &mut Vec<Cell>) {
    out.clear();
    walk(record, &mut |path, leaf| {
        out.push((path.to_string(), cell_text(leaf)))
    });
}

/// The column paths of `record`, in field order, without rendering any value
/// (what the first pass needs to learn the columns).
pub fn leaf_paths(record: &Value, out: &mut Vec<String>) {
    out.clear();
    walk(record, &mut |path, _| out.push(path.to_string()));
}

/// Whether the leaf paths of `record` are exactly `paths`, in order, without
/// allocating: records of one source nearly always share one shape, so the
/// writers check this first and redo the column work only when it differs.
pub fn same_leaf_paths(record: &Value, paths: &[String]) -> bool {
    let mut i = 0;
    let mut same = true;
    walk(record, &mut |path, _| {
        same = same && paths.get(i).is_some_and(|p| p == path);
        i += 1;
    });
    same && i == paths.len()
}

/// Calls `leaf(path, value)` for every leaf of `record`, in field order.
pub(crate) fn walk(record: &Value, leaf: &mut dyn FnMut(&str, &Value)) {
    match record {
        Value::Object(map) if !map.is_empty() => walk_object(map, &mut String::new(), leaf),
        other => leaf("value", other),
    }
}

fn walk_object(
    map: &serde_json::Map<String, Value>,
    path: &mut String,
    leaf: &mut dyn FnMut(&str, &Value),
) {
    for (key, value) in map {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        match value {
            Value::Object(inner) if !inner.is_empty() => walk_object(inner, path, leaf),
            other => leaf(path, other),
        }
        path.truncate(len);
    }
}

fn cell_text(value: &Value) -> String {
    let mut out = String::new();
    cell_text_into(value, &mut out);
    out
}

/// The CSV text of a leaf, appended to `out` (a reused buffer).
pub(crate) fn cell_text_into(value: &Value, out: &mut String) {
    use std::fmt::Write;
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => match parse_iso_datetime(s) {
            Some(t) => out.push_str(&t.to_rfc3339_z()),
            None => out.push_str(s),
        },
        Value::Array(_) | Value::Object(_) => {
            let _ = write!(out, "{value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_become_dotted_paths_and_arrays_json_text() {
        let rec = json!({
            "id": "a1",
            "createdDateTime": "2026-11-20T18:00:00+09:00",
            "location": {"city": "東京", "geo": {"lat": 35.6}},
            "policies": [{"id": 1}],
            "empty": {},
            "none": null,
            "ok": true
        });
        let mut cells = Vec::new();
        flatten_record(&rec, &mut cells);
        let expected: Vec<(&str, &str)> = vec![
            ("id", "a1"),
            ("createdDateTime", "2026-11-20T09:00:00Z"),
            ("location.city", "東京"),
            ("location.geo.lat", "35.6"),
            ("policies", r#"[{"id":1}]"#),
            ("empty", "{}"),
            ("none", ""),
            ("ok", "true"),
        ];
        let got: Vec<(&str, &str)> = cells
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn leaf_paths_are_the_cell_columns() {
        let rec = json!({"a": 1, "b": {"c": "2026-11-20T18:00:00+09:00", "d": {}}, "e": [1]});
        let (mut cells, mut paths) = (Vec::new(), Vec::new());
        flatten_record(&rec, &mut cells);
        leaf_paths(&rec, &mut paths);
        assert_eq!(paths, cells.into_iter().map(|(p, _)| p).collect::<Vec<_>>());
    }

    #[test]
    fn same_shape_is_seen_without_rebuilding_paths() {
        let mut paths = Vec::new();
        leaf_paths(&json!({"a": 1, "b": {"c": 2}}), &mut paths);
        assert!(same_leaf_paths(&json!({"a": 5, "b": {"c": "x"}}), &paths));
        assert!(!same_leaf_paths(&json!({"a": 5, "b": {"d": 1}}), &paths));
        assert!(!same_leaf_paths(&json!({"a": 5}), &paths));
        assert!(!same_leaf_paths(
            &json!({"a": 5, "b": {"c": 2}, "e": 1}),
            &paths
        ));
    }

    #[test]
    fn scalar_record_goes_in_value_column() {
        let mut cells = Vec::new();
        flatten_record(&json!("x"), &mut cells);
        assert_eq!(cells, vec![("value".to_string(), "x".to_string())]);
    }
}
