//! One page of a collection, kept as the text the service sent: its records
//! are parsed one at a time as the collector takes them.
//!
//! A page of 1,000 beta sign-ins is about 5 MB of JSON but four to five times
//! that as parsed values; with 16 queries in flight, pages parsed whole set the
//! collector's peak memory. The page is checked completely when it arrives
//! (syntax, shape, and every record), so taking a record cannot fail later.
//! Graph's collection shape: `{"value": [...], "@odata.nextLink": "..."}`
//! (<https://learn.microsoft.com/graph/paging>); the Management Activity API
//! answers a bare array and pages in a header.

use bytes::Bytes;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;
use std::ops::Range;

/// Why a body is not a page.
#[derive(Debug)]
pub enum PageError {
    /// Not complete JSON (cut off on the way, most likely): worth asking again.
    Incomplete(serde_json::Error),
    /// Complete JSON, but not a collection.
    Shape(String),
}

/// A checked page: its body and where each record lies in it.
#[derive(Debug, Clone)]
pub struct PageBody {
    body: Bytes,
    spans: Vec<Range<usize>>,
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    value: Option<Vec<&'a RawValue>>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

impl PageBody {
    /// Checks `body` as a collection page.
    pub fn parse(body: Bytes) -> Result<Self, PageError> {
        let classify = |e: serde_json::Error| match e.classify() {
            serde_json::error::Category::Data => PageError::Shape(format!(
                "a collection without a \"value\" array of records ({e})"
            )),
            _ => PageError::Incomplete(e),
        };
        let (raws, next_link) = match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {
                let e: Envelope = serde_json::from_slice(&body).map_err(classify)?;
                let Some(value) = e.value else {
                    return Err(PageError::Shape(
                        "a collection without a \"value\" array".into(),
                    ));
                };
                (value, e.next_link)
            }
            Some(b'[') => (
                serde_json::from_slice::<Vec<&RawValue>>(&body).map_err(classify)?,
                None,
            ),
            _ => {
                serde_json::from_slice::<IgnoredAny>(&body).map_err(PageError::Incomplete)?;
                return Err(PageError::Shape("not a JSON collection".into()));
            }
        };
        let start = body.as_ptr() as usize;
        let mut spans = Vec::with_capacity(raws.len());
        for raw in raws {
            serde_json::from_str::<Checked>(raw.get()).map_err(PageError::Incomplete)?;
            let at = raw.get().as_ptr() as usize - start;
            spans.push(at..at + raw.get().len());
        }
        Ok(Self {
            body,
            spans,
            next_link,
        })
    }

    /// The service's link to the next page, if any.
    pub fn next_link(&self) -> Option<&str> {
        self.next_link.as_deref()
    }

    /// The page's records, to be parsed as they are taken.
    pub fn into_records(self) -> PageRecords {
        PageRecords {
            body: self.body,
            spans: self.spans,
        }
    }
}

/// The records of a page, parsed one at a time.
#[derive(Debug, Clone)]
pub struct PageRecords {
    body: Bytes,
    spans: Vec<Range<usize>>,
}

impl PageRecords {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Each record, parsed.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Value> + '_ {
        self.spans.iter().map(|r| parse(&self.body, r))
    }
}

impl IntoIterator for PageRecords {
    type Item = Value;
    type IntoIter = Records;

    fn into_iter(self) -> Records {
        Records {
            body: self.body,
            spans: self.spans.into_iter(),
        }
    }
}

/// Iterator over a page's records.
pub struct Records {
    body: Bytes,
    spans: std::vec::IntoIter<Range<usize>>,
}

impl Iterator for Records {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        self.spans.next().map(|r| parse(&self.body, &r))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for Records {}

/// A JSON value read the way [`Value`] reads one (the same deserializer, its
/// nesting limit, its string checks) without building it: a record that reads
/// as `Checked` parses as a `Value`. (`IgnoredAny` would skip nested values
/// without the nesting limit.)
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

fn parse(body: &[u8], span: &Range<usize>) -> Value {
    serde_json::from_slice(&body[span.clone()])
        .expect("every record was checked when the page was read")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn page(text: &str) -> Result<PageBody, PageError> {
        PageBody::parse(Bytes::from(text.to_string()))
    }

    #[test]
    fn records_come_out_as_parsing_the_whole_body_gives_them() {
        let text = r#" {"@odata.context":"x","value":[{"id":"1","n":1.50,"s":"\u00e9\"q"},
            {"id":"2","nested":{"a":[1,2,{"b":null}]}}],"@odata.nextLink":"https://graph.example/next"}"#;
        let whole: Value = serde_json::from_str(text).unwrap();
        let p = page(text).unwrap();
        assert_eq!(p.next_link(), Some("https://graph.example/next"));
        let records: Vec<Value> = p.into_records().into_iter().collect();
        assert_eq!(&Value::Array(records), &whole["value"]);
        let bare = page(r#"[{"Id":"a"},{"Id":"b"}]"#).unwrap();
        assert_eq!(bare.next_link(), None);
        assert_eq!(bare.into_records().len(), 2);
    }

    #[test]
    fn cut_off_bodies_are_incomplete_and_other_shapes_are_refused() {
        let text = r#"{"value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"https://g/n"}"#;
        for cut in 1..text.len() {
            match page(&text[..cut]) {
                Err(PageError::Incomplete(_)) => {}
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        for shape in [
            r#"{"error":{}}"#,
            r#"{"value":{"id":1}}"#,
            r#""text""#,
            "42",
        ] {
            assert!(matches!(page(shape), Err(PageError::Shape(_))), "{shape}");
        }
        // Records that a whole parse would refuse are refused here too, so
        // taking a record cannot fail: nesting past serde_json's limit, a
        // lone surrogate.
        let deep = format!(r#"{{"value":[{}{}]}}"#, "[".repeat(200), "]".repeat(200));
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        assert!(matches!(page(&deep), Err(PageError::Incomplete(_))));
        let surrogate = r#"{"value":[{"s":"\ud800"}]}"#;
        assert!(serde_json::from_str::<Value>(surrogate).is_err());
        assert!(matches!(page(surrogate), Err(PageError::Incomplete(_))));
        let fine = format!(r#"{{"value":[{}{}]}}"#, "[".repeat(100), "]".repeat(100));
        assert_eq!(page(&fine).unwrap().into_records().len(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the bytes, parsing never panics, and a page it accepts
        /// gives exactly the records a whole-body parse gives.
        #[test]
        fn any_bytes_are_refused_or_read_faithfully(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                                                    n in 0usize..5) {
            let text = serde_json::to_string(&String::from_utf8_lossy(&bytes)).unwrap();
            let records: Vec<String> = (0..n).map(|i| format!(r#"{{"id":"{i}","b":{text}}}"#)).collect();
            let text = format!(r#"{{"value":[{}]}}"#, records.join(","));
            let p = page(&text).expect("a page");
            let whole: Value = serde_json::from_str(&text).unwrap();
            let got: Vec<Value> = p.into_records().into_iter().collect();
            prop_assert_eq!(&Value::Array(got), &whole["value"]);
            let _ = PageBody::parse(Bytes::from(bytes));
        }
    }
}
