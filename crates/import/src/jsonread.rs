//! Streaming JSON records with positions, from any of the containers the
//! exports use: a bare array (portal download, PowerShell `ConvertTo-Json`), a
//! Graph page `{"value": [...]}`, an Event Hub message `{"records": [...]}` (or
//! several, one per line), JSON Lines (storage `PT1H.json`, Log Analytics) or a
//! single object. Each record's bytes are found by a small scanner (strings and
//! nesting only) and parsed on their own, so memory holds one record at a time and
//! a record with a syntax error can be skipped while a truncated file cannot.

use super::error::Position;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::io::{self, BufRead};

/// Largest single record accepted.
const MAX_RECORD_BYTES: usize = 64 << 20;

/// How the records were wrapped (recorded in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Array,
    Value,
    Records,
    Lines,
    Object,
    /// A Log Analytics query API response (`{"tables": [{columns, rows}]}`).
    Tables,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Array => "array",
            Container::Value => "value-envelope",
            Container::Records => "records-envelope",
            Container::Lines => "json-lines",
            Container::Object => "single-object",
            Container::Tables => "log-analytics-tables",
        }
    }
}

/// Why reading stopped or a record was refused.
#[derive(Debug)]
pub enum JsonIssue {
    /// This record is not valid JSON; the next one can be read.
    Bad(Position, String),
    /// The file cannot be read further (truncated, not JSON).
    Fatal(Position, String),
    Io(io::Error),
}

/// Byte reader tracking line and column.
struct Scanner<R> {
    inner: R,
    line: u64,
    col: u64,
}

impl<R: BufRead> Scanner<R> {
    fn peek(&mut self) -> Result<Option<u8>, JsonIssue> {
        Ok(self
            .inner
            .fill_buf()
            .map_err(JsonIssue::Io)?
            .first()
            .copied())
    }

    fn bump(&mut self) -> Result<Option<u8>, JsonIssue> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.inner.consume(1);
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        Ok(b)
    }

    fn pos(&self) -> Position {
        Position::at(self.line, self.col)
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, JsonIssue> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    fn expect(&mut self, what: &str) -> JsonIssue {
        match self.peek() {
            Ok(None) => JsonIssue::Fatal(
                self.pos(),
                format!("the file ends where {what} was expected (truncated)"),
            ),
            Ok(Some(b)) => JsonIssue::Fatal(
                self.pos(),
                format!("found {:?} where {what} was expected", b as char),
            ),
            Err(e) => e,
        }
    }

    /// Copies one complete JSON value's bytes into `out`.
    fn value_bytes(&mut self, out: &mut Vec<u8>) -> Result<(), JsonIssue> {
        out.clear();
        let start = self.pos();
        let truncated = |at: &Position| {
            JsonIssue::Fatal(
                at.clone(),
                "the file ends inside this record (truncated)".into(),
            )
        };
        match self.peek()? {
            Some(b'{' | b'[') => {
                let mut depth = 0u32;
                let mut in_string = false;
                let mut escaped = false;
                loop {
                    let Some(b) = self.bump()? else {
                        return Err(truncated(&start));
                    };
                    out.push(b);
                    if out.len() > MAX_RECORD_BYTES {
                        return Err(JsonIssue::Fatal(
                            start,
                            format!("a record larger than {} MiB", MAX_RECORD_BYTES >> 20),
                        ));
                    }
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(b'"') => {
                self.bump()?;
                out.push(b'"');
                let mut escaped = false;
                loop {
                    let Some(b) = self.bump()? else {
                        return Err(truncated(&start));
                    };
                    out.push(b);
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        return Ok(());
                    }
                }
            }
            Some(_) => {
                while let Some(b) = self.peek()? {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    out.push(b);
                    self.bump()?;
                }
                Ok(())
            }
            None => Err(truncated(&start)),
        }
    }
}

/// Parses one value's bytes, reporting errors at their place in the file.
fn parse(bytes: &[u8], start: &Position) -> Result<Value, JsonIssue> {
    serde_json::from_slice(bytes).map_err(|e| {
        let line = start.line + e.line() as u64 - 1;
        let column = if e.line() <= 1 {
            start.column.unwrap_or(1) + e.column() as u64 - 1
        } else {
            e.column() as u64
        };
        let msg = e.to_string();
        let reason = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        JsonIssue::Bad(
            Position::at(line, column),
            format!("not valid JSON: {reason}"),
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Inside the records array; `true` when it sits in an envelope object.
    InArray(bool),
    /// After a complete top-level value: more values mean JSON Lines.
    Between,
    Done,
}

/// The records of a JSON file, one at a time.
pub struct JsonRecords<R> {
    scan: Scanner<R>,
    state: State,
    container: Option<Container>,
    /// Top-level keys next to the records array (`@odata.context`...).
    pub envelope: Map<String, Value>,
    pending: VecDeque<(Position, Value)>,
    buf: Vec<u8>,
    first_in_array: bool,
}

impl<R: BufRead> JsonRecords<R> {
    pub fn new(inner: R) -> Self {
        Self {
            scan: Scanner {
                inner,
                line: 1,
                col: 1,
            },
            state: State::Start,
            container: None,
            envelope: Map::new(),
            pending: VecDeque::new(),
            buf: Vec::new(),
            first_in_array: true,
        }
    }

    pub fn container(&self) -> Option<Container> {
        self.container
    }

    /// The next record and the position where it starts.
    pub fn next_record(&mut self) -> Result<Option<(Position, Value)>, JsonIssue> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Ok(Some(p));
            }
            match self.state {
                State::Done => return Ok(None),
                State::Start => match self.scan.skip_ws()? {
                    Some(b'[') => {
                        self.scan.bump()?;
                        self.container = Some(Container::Array);
                        self.state = State::InArray(false);
                    }
                    Some(b'{') => self.top_object()?,
                    None => {
                        return Err(JsonIssue::Fatal(
                            self.scan.pos(),
                            "no JSON value in the file".into(),
                        ))
                    }
                    Some(_) => return Err(self.scan.expect("'[' or '{'")),
                },
                State::InArray(in_envelope) => {
                    let b = self.scan.skip_ws()?;
                    if b == Some(b']') {
                        self.scan.bump()?;
                        if in_envelope {
                            self.rest_of_envelope()?;
                        }
                        self.state = State::Between;
                        continue;
                    }
                    if !self.first_in_array {
                        if b != Some(b',') {
                            return Err(self.scan.expect("',' or ']'"));
                        }
                        self.scan.bump()?;
                        if self.scan.skip_ws()? == Some(b']') {
                            return Err(JsonIssue::Fatal(
                                self.scan.pos(),
                                "a ',' before ']' (not JSON)".into(),
                            ));
                        }
                    }
                    self.first_in_array = false;
                    let start = self.scan.pos();
                    self.scan.value_bytes(&mut self.buf)?;
                    let v = parse(&self.buf, &start)?;
                    return Ok(Some((start, v)));
                }
                State::Between => match self.scan.skip_ws()? {
                    None => self.state = State::Done,
                    Some(b'{') => {
                        let start = self.scan.pos();
                        self.scan.value_bytes(&mut self.buf)?;
                        let v = parse(&self.buf, &start)?;
                        match v {
                            Value::Object(mut m) if is_envelope(&m) => {
                                if let Some(Value::Array(items)) = m.remove("records") {
                                    self.pending
                                        .extend(items.into_iter().map(|r| (start.clone(), r)));
                                } else if let Some(Value::Array(items)) = m.remove("value") {
                                    self.pending
                                        .extend(items.into_iter().map(|r| (start.clone(), r)));
                                }
                            }
                            other => {
                                self.container = Some(match self.container {
                                    Some(Container::Records) => Container::Records,
                                    _ => Container::Lines,
                                });
                                return Ok(Some((start, other)));
                            }
                        }
                    }
                    Some(_) => return Err(self.scan.expect("end of file or another '{' line")),
                },
            }
        }
    }

    /// Reads a top-level object key by key, so that a `value`/`records` array
    /// streams; an object without one is itself a record.
    fn top_object(&mut self) -> Result<(), JsonIssue> {
        let start = self.scan.pos();
        self.scan.bump()?;
        let mut map = Map::new();
        loop {
            match self.scan.skip_ws()? {
                Some(b'}') if map.is_empty() => {
                    self.scan.bump()?;
                    break;
                }
                Some(b'"') => {}
                _ => return Err(self.scan.expect("a key")),
            }
            let key_at = self.scan.pos();
            self.scan.value_bytes(&mut self.buf)?;
            let key: String = match parse(&self.buf, &key_at)? {
                Value::String(s) => s,
                _ => {
                    return Err(JsonIssue::Fatal(
                        key_at,
                        "a key that is not a string".into(),
                    ))
                }
            };
            if self.scan.skip_ws()? != Some(b':') {
                return Err(self.scan.expect("':'"));
            }
            self.scan.bump()?;
            let v_at = match self.scan.skip_ws()? {
                Some(_) => self.scan.pos(),
                None => return Err(self.scan.expect("a value")),
            };
            if (key == "value" || key == "records") && self.scan.peek()? == Some(b'[') {
                self.scan.bump()?;
                self.envelope = map;
                self.container = Some(if key == "value" {
                    Container::Value
                } else {
                    Container::Records
                });
                self.state = State::InArray(true);
                return Ok(());
            }
            self.scan.value_bytes(&mut self.buf)?;
            let v = parse(&self.buf, &v_at).map_err(fatal)?;
            map.insert(key, v);
            match self.scan.skip_ws()? {
                Some(b',') => {
                    self.scan.bump()?;
                }
                Some(b'}') => {
                    self.scan.bump()?;
                    break;
                }
                _ => return Err(self.scan.expect("',' or '}'")),
            }
        }
        self.state = State::Between;
        match table_rows(&mut map).map_err(|why| JsonIssue::Fatal(start.clone(), why))? {
            Some(rows) => {
                self.container = Some(Container::Tables);
                self.pending
                    .extend(rows.into_iter().map(|r| (start.clone(), Value::Object(r))));
            }
            None => {
                self.container = Some(Container::Object);
                self.pending.push_back((start, Value::Object(map)));
            }
        }
        Ok(())
    }

    /// Keys after the records array, up to the envelope's closing brace.
    fn rest_of_envelope(&mut self) -> Result<(), JsonIssue> {
        loop {
            match self.scan.skip_ws()? {
                Some(b'}') => {
                    self.scan.bump()?;
                    return Ok(());
                }
                Some(b',') => {
                    self.scan.bump()?;
                    self.scan.skip_ws()?;
                    let key_at = self.scan.pos();
                    self.scan.value_bytes(&mut self.buf)?;
                    let key = match parse(&self.buf, &key_at).map_err(fatal)? {
                        Value::String(s) => s,
                        _ => {
                            return Err(JsonIssue::Fatal(
                                key_at,
                                "a key that is not a string".into(),
                            ))
                        }
                    };
                    if self.scan.skip_ws()? != Some(b':') {
                        return Err(self.scan.expect("':'"));
                    }
                    self.scan.bump()?;
                    self.scan.skip_ws()?;
                    let v_at = self.scan.pos();
                    self.scan.value_bytes(&mut self.buf)?;
                    let v = parse(&self.buf, &v_at).map_err(fatal)?;
                    self.envelope.insert(key, v);
                }
                _ => return Err(self.scan.expect("',' or '}'")),
            }
        }
    }
}

/// The rows of a Log Analytics query API response, each as `column -> value`
/// (<https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format>);
/// `None` when `map` is not one.
fn table_rows(map: &mut Map<String, Value>) -> Result<Option<Vec<Map<String, Value>>>, String> {
    let is_response = map.len() == 1
        && matches!(map.get("tables"), Some(Value::Array(t)) if t.iter().all(|t| t.get("columns").is_some() && t.get("rows").is_some()));
    if !is_response {
        return Ok(None);
    }
    let Some(Value::Array(tables)) = map.remove("tables") else {
        unreachable!("checked above")
    };
    let mut out = Vec::new();
    for (ti, table) in tables.into_iter().enumerate() {
        let names: Vec<String> = table["columns"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| {
                        c.get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(Value::Array(rows)) = table.get("rows").cloned() else {
            return Err(format!("table {} has no rows array", ti + 1));
        };
        for (ri, row) in rows.into_iter().enumerate() {
            let Value::Array(cells) = row else {
                return Err(format!(
                    "row {} of table {} is not an array",
                    ri + 1,
                    ti + 1
                ));
            };
            if cells.len() != names.len() {
                return Err(format!(
                    "row {} of table {} has {} values for {} columns",
                    ri + 1,
                    ti + 1,
                    cells.len(),
                    names.len()
                ));
            }
            out.push(names.iter().cloned().zip(cells).collect());
        }
    }
    Ok(Some(out))
}

/// Errors in an envelope cannot be skipped like a record.
fn fatal(e: JsonIssue) -> JsonIssue {
    match e {
        JsonIssue::Bad(p, m) => JsonIssue::Fatal(p, m),
        other => other,
    }
}

/// An Event Hub message or Graph page: only envelope keys besides the array.
fn is_envelope(m: &Map<String, Value>) -> bool {
    let has = |k: &str| matches!(m.get(k), Some(Value::Array(_)));
    (has("records") || has("value"))
        && m.keys()
            .all(|k| k == "records" || k == "value" || k.starts_with('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> (Option<Container>, Vec<Value>) {
        let mut r = JsonRecords::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some((_, v)) = r.next_record().unwrap() {
            out.push(v);
        }
        (r.container(), out)
    }

    #[test]
    fn every_container_yields_its_records() {
        let (c, v) = all("\u{20}[ {\"id\":1}, {\"id\":\"x,]}\\\"\"} ]\r\n");
        assert_eq!((c, v.len()), (Some(Container::Array), 2));
        assert_eq!(v[1]["id"], "x,]}\"");
        let (c, v) =
            all(r#"{"@odata.context":"x","value":[{"id":1},{"id":2}],"@odata.nextLink":"y"}"#);
        assert_eq!((c, v.len()), (Some(Container::Value), 2));
        let (c, v) = all("{\"records\":[{\"a\":1}]}\n{\"records\":[{\"a\":2},{\"a\":3}]}\n");
        assert_eq!((c, v.len()), (Some(Container::Records), 3));
        let (c, v) = all("{\"a\":1,\"value\":5}\r\n{\"a\":2}\r\n");
        assert_eq!((c, v.len()), (Some(Container::Lines), 2));
        let (c, v) = all("{\n  \"time\": \"t\",\n  \"properties\": {\"id\": 1}\n}\n");
        assert_eq!((c, v.len()), (Some(Container::Object), 1));
        let (c, v) = all("[]");
        assert_eq!((c, v.len()), (Some(Container::Array), 0));
    }

    #[test]
    fn positions_and_failures() {
        let mut r = JsonRecords::new("[\n {\"id\": 1},\n {\"id\": tru}\n]".as_bytes());
        r.next_record().unwrap();
        match r.next_record() {
            Err(JsonIssue::Bad(p, m)) => {
                assert_eq!(p.line, 3, "{m}");
                assert!(p.column.unwrap() >= 9, "{p:?}");
            }
            other => panic!("{other:?}"),
        }
        let mut r = JsonRecords::new("[\n {\"id\": 1},\n {\"id\": \"abc".as_bytes());
        r.next_record().unwrap();
        assert!(
            matches!(r.next_record(), Err(JsonIssue::Fatal(p, m)) if p.line == 3 && m.contains("truncated"))
        );
        let mut r = JsonRecords::new("[{\"id\": 1}".as_bytes());
        r.next_record().unwrap();
        assert!(matches!(r.next_record(), Err(JsonIssue::Fatal(_, m)) if m.contains("truncated")));
    }
}
