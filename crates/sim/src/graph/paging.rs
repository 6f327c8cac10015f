//! Server-driven paging as Graph does it: opaque, absolute `@odata.nextLink`s.
//!
//! A `$skiptoken` encodes the scan position plus a fingerprint of the query it
//! belongs to, so a page resumes where the previous one stopped: paging through
//! N records costs O(N) in total even over a generated source of a million
//! sign-ins. A page stops after `MAX_SCAN` examined records even when it is not
//! full, so a selective filter over a huge source answers promptly with a short
//! (possibly empty) page and a nextLink, which real Graph does too.

use super::Call;
use crate::graph::error::ApiError;
use crate::shared::RecordSource;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Records examined per page at most.
const MAX_SCAN: usize = 200_000;

/// Direction of a scan over a newest-first source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

/// Records held in a slice (the fixture's lists) as a [`RecordSource`].
pub struct Slice<'a>(pub &'a [Value]);

impl RecordSource for Slice<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Cow<'_, Value> {
        Cow::Borrowed(&self.0[i])
    }
}

/// A subset of a slice, by index (an audit query's matches).
pub struct Picked<'a> {
    pub all: &'a [Value],
    pub picked: &'a [usize],
}

impl RecordSource for Picked<'_> {
    fn len(&self) -> usize {
        self.picked.len()
    }
    fn get(&self, i: usize) -> Cow<'_, Value> {
        Cow::Borrowed(&self.all[self.picked[i]])
    }
}

/// FNV-1a: stable across runs and platforms (unlike `DefaultHasher`), which a
/// token handed to a client must be.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn fingerprint(call: &Call) -> u64 {
    let mut pairs: Vec<String> = call
        .opts
        .without_skiptoken()
        .map(|(k, v)| format!("{}={v}", k.to_ascii_lowercase()))
        .collect();
    pairs.sort();
    let mut parts: Vec<&str> = vec![call.path.as_str()];
    parts.extend(pairs.iter().map(String::as_str));
    fnv1a(&parts)
}

/// The position a request starts at: 0, or where its `$skiptoken` says.
pub fn start(call: &Call) -> Result<usize, ApiError> {
    let Some(token) = call.opts.get("$skiptoken") else {
        return Ok(0);
    };
    let invalid = || ApiError::bad_request("The $skiptoken is not valid for this request.");
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (pos, fp) = text.split_once(':').ok_or_else(invalid)?;
    let pos: usize = pos.parse().map_err(|_| invalid())?;
    let fp = u64::from_str_radix(fp, 16).map_err(|_| invalid())?;
    if fp != fingerprint(call) {
        return Err(invalid());
    }
    Ok(pos)
}

/// The absolute nextLink resuming at `pos`: the request's own URL (as the
/// client encoded it) with its `$skiptoken` replaced.
pub fn next_link(call: &Call, pos: usize) -> String {
    let token = URL_SAFE_NO_PAD.encode(format!("{pos}:{:016x}", fingerprint(call)));
    let kept: Vec<&str> = call
        .opts
        .raw()
        .split('&')
        .filter(|piece| {
            let key = piece.split('=').next().unwrap_or("");
            let key = url::form_urlencoded::parse(key.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            !piece.is_empty() && !key.eq_ignore_ascii_case("$skiptoken")
        })
        .collect();
    let mut url = format!("{}{}?", call.base, call.path);
    for piece in kept {
        url.push_str(piece);
        url.push('&');
    }
    url.push_str("$skiptoken=");
    url.push_str(&token);
    url
}

fn time_of(record: &Value, field: &str) -> Option<DateTime<Utc>> {
    record
        .get(field)
        .and_then(Value::as_str)
        .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
        .map(|t| t.utc)
}

/// First index of a newest-first `source` for which `older(i)` holds.
fn partition(
    source: &dyn RecordSource,
    older: impl Fn(Option<DateTime<Utc>>) -> bool,
    field: &str,
) -> usize {
    let (mut lo, mut hi) = (0, source.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if older(time_of(&source.get(mid), field)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The index range `[a, b)` of a newest-first `source` whose `field` lies in
/// `[lo, hi]`, found by binary search.
pub fn time_range(
    source: &dyn RecordSource,
    field: &str,
    (lo, hi): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> (usize, usize) {
    let a = match hi {
        Some(hi) => partition(source, |t| t.is_none_or(|t| t <= hi), field),
        None => 0,
    };
    let b = match lo {
        Some(lo) => partition(source, |t| t.is_none_or(|t| t < lo), field),
        None => source.len(),
    };
    (a, b.max(a))
}

/// One page: up to `top` records matching `keep`, scanning from logical
/// position `start` within the physical index range `range` of a newest-first
/// `source`. Returns the records and where the next page starts, if anywhere.
pub fn scan(
    source: &dyn RecordSource,
    order: Order,
    start: usize,
    top: usize,
    range: (usize, usize),
    keep: impl Fn(&Value) -> bool,
) -> (Vec<Value>, Option<usize>) {
    let len = source.len();
    let (a, b) = (range.0.min(len), range.1.min(len));
    let (first, end) = match order {
        Order::NewestFirst => (a, b),
        Order::OldestFirst => (len - b, len - a),
    };
    let physical = |i: usize| match order {
        Order::NewestFirst => i,
        Order::OldestFirst => len - 1 - i,
    };
    let mut out = Vec::new();
    let mut i = start.max(first);
    let mut scanned = 0;
    while i < end && out.len() < top && scanned < MAX_SCAN {
        let record = source.get(physical(i));
        if keep(&record) {
            out.push(record.into_owned());
        }
        i += 1;
        scanned += 1;
    }
    (out, (i < end).then_some(i))
}

/// A collection response.
pub struct Page {
    pub context: String,
    /// Instance annotations such as `@microsoft.graph.tips`.
    pub annotations: Vec<(&'static str, Value)>,
    pub count: Option<usize>,
    pub next_link: Option<String>,
    pub values: Vec<Value>,
}

impl Page {
    pub fn into_json(self) -> Value {
        let mut body = Map::new();
        body.insert("@odata.context".into(), Value::String(self.context));
        for (name, value) in self.annotations {
            body.insert(name.into(), value);
        }
        if let Some(count) = self.count {
            body.insert("@odata.count".into(), Value::from(count));
        }
        if let Some(next) = self.next_link {
            body.insert("@odata.nextLink".into(), Value::String(next));
        }
        body.insert("value".into(), Value::Array(self.values));
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source() -> Vec<Value> {
        (0..10)
            .rev()
            .map(|d| json!({"id": d.to_string(), "t": format!("2026-09-{:02}T00:00:00Z", d + 1)}))
            .collect()
    }

    #[test]
    fn scanning_resumes_and_respects_ranges() {
        let recs = source();
        let src = Slice(&recs);
        let (page, next) = scan(&src, Order::NewestFirst, 0, 4, (0, 10), |_| true);
        assert_eq!(page.len(), 4);
        assert_eq!(next, Some(4));
        let (page, next) = scan(&src, Order::NewestFirst, 8, 4, (0, 10), |_| true);
        assert_eq!((page.len(), next), (2, None));
        let (page, _) = scan(&src, Order::OldestFirst, 0, 2, (0, 10), |_| true);
        assert_eq!(page[0]["id"], "0");
        let lo = DateTime::parse_from_rfc3339("2026-09-03T00:00:00Z")
            .unwrap()
            .to_utc();
        let hi = DateTime::parse_from_rfc3339("2026-09-05T00:00:00Z")
            .unwrap()
            .to_utc();
        let range = time_range(&src, "t", (Some(lo), Some(hi)));
        let (page, next) = scan(&src, Order::NewestFirst, 0, 100, range, |_| true);
        let ids: Vec<_> = page.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!((ids, next), (vec!["4", "3", "2"], None));
    }
}
