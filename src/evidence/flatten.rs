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
    match record {
        Value::Object(map) if !map.is_empty() => {
            let mut path = String::new();
            flatten_object(map, &mut path, out);
        }
        other => out.push(("value".to_string(), cell_text(other))),
    }
}

fn flatten_object(map: &serde_json::Map<String, Value>, path: &mut String, out: &mut Vec<Cell>) {
    for (key, value) in map {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten_object(inner, path, out),
            leaf => out.push((path.clone(), cell_text(leaf))),
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
    fn scalar_record_goes_in_value_column() {
        let mut cells = Vec::new();
        flatten_record(&json!("x"), &mut cells);
        assert_eq!(cells, vec![("value".to_string(), "x".to_string())]);
    }
}
