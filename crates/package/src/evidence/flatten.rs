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

/// Calls `leaf(path, value)` for every leaf of `record`, in field order.
fn walk(record: &Value, leaf: &mut dyn FnMut(&str, &Value)) {
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
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match parse_iso_datetime(s) {
            Some(t) => t.to_rfc3339_z(),
            None => s.clone(),
        },
        Value::Array(_) | Value::Object(_) => value.to_string(),
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
    fn scalar_record_goes_in_value_column() {
        let mut cells = Vec::new();
        flatten_record(&json!("x"), &mut cells);
        assert_eq!(cells, vec![("value".to_string(), "x".to_string())]);
    }
}
