//! De-duplication by content, shared by the collector and the importer.
//!
//! A record is a duplicate only when an earlier record had the same id **and**
//! is value-equal to it (same fields and values, whatever the key order). Two
//! records that share an id but differ are both kept: anonymised exports reuse
//! ids such as `ANONYMIZED`, and a record re-saved by another tool may carry
//! other fields; dropping either would lose evidence. Such pairs are counted and
//! their ids listed in the manifest ([`IdConflicts`]).
//!
//! Memory stays flat over millions of records: the sets hold 16-byte SHA-256
//! digests (of the id, and of the record's canonical content), hashed with
//! foldhash rather than SipHash, since the keys are already uniform digests.

use crate::hashing::key16;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
type FastSet<K> = HashSet<K, foldhash::fast::FixedState>;

/// Ids listed in the manifest at most; the count is always exact.
pub const MAX_LISTED_CONFLICTS: usize = 1000;

/// What [`Dedup::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not seen before: write it.
    New,
    /// Value-equal to an earlier record with its id: leave it out.
    Duplicate,
    /// An earlier record had its id with other content: write it too.
    IdConflict,
}

/// One id shared by records of different content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdConflict {
    pub id: String,
    /// How many different records carry this id (2 or more).
    pub versions: u64,
}

/// Records kept although an earlier record had their id (manifest, per source).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdConflicts {
    /// Records written whose id an earlier, different record already had.
    pub records: u64,
    /// The ids concerned, in order of first conflict (at most
    /// [`MAX_LISTED_CONFLICTS`]).
    pub ids: Vec<IdConflict>,
    /// Ids with conflicts beyond the listed ones.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ids_not_listed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The de-duplication state of one evidence source.
#[derive(Debug, Default)]
pub struct Dedup {
    /// Id digest -> content digest of the first record with that id.
    first: FastMap<[u8; 16], [u8; 16]>,
    /// Digests of (id, content) of later, different records sharing an id.
    more: FastSet<[u8; 16]>,
    /// Content digest of a record without id -> the group (file) that first had it.
    anonymous: FastMap<[u8; 16], u32>,
    /// Listed conflicting id -> its index in `conflicts.ids`.
    listed: FastMap<[u8; 16], usize>,
    conflicts: IdConflicts,
    duplicates: u64,
}

impl Dedup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes `record`. With an `id`, it is a duplicate of a value-equal earlier
    /// record with that id. Without one it is compared by content, only against
    /// records of other `group`s (files): one file's identical id-less rows are
    /// separate events a portal listed twice.
    pub fn check(&mut self, id: Option<&str>, record: &Value, group: u32) -> Seen {
        let content = content_key(record);
        let Some(id) = id else {
            return match self.anonymous.entry(content) {
                Entry::Occupied(e) if *e.get() != group => {
                    self.duplicates += 1;
                    Seen::Duplicate
                }
                Entry::Occupied(_) => Seen::New,
                Entry::Vacant(v) => {
                    v.insert(group);
                    Seen::New
                }
            };
        };
        let key = key16(&[id.as_bytes()]);
        match self.first.entry(key) {
            Entry::Vacant(v) => {
                v.insert(content);
                Seen::New
            }
            Entry::Occupied(e) if *e.get() == content => {
                self.duplicates += 1;
                Seen::Duplicate
            }
            Entry::Occupied(_) => {
                if !self.more.insert(key16(&[&key, &content])) {
                    self.duplicates += 1;
                    return Seen::Duplicate;
                }
                self.conflict(key, id);
                Seen::IdConflict
            }
        }
    }

    fn conflict(&mut self, key: [u8; 16], id: &str) {
        self.conflicts.records += 1;
        if let Some(&i) = self.listed.get(&key) {
            // usize::MAX: an id beyond the list, already counted.
            if let Some(listed) = self.conflicts.ids.get_mut(i) {
                listed.versions += 1;
            }
        } else if self.conflicts.ids.len() < MAX_LISTED_CONFLICTS {
            self.listed.insert(key, self.conflicts.ids.len());
            self.conflicts.ids.push(IdConflict {
                id: id.to_string(),
                versions: 2,
            });
        } else {
            // Counted once per id: an id beyond the list is remembered too.
            if self.listed.insert(key, usize::MAX).is_none() {
                self.conflicts.ids_not_listed += 1;
            }
        }
    }

    /// Records left out as duplicates so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// The id conflicts, if there were any.
    pub fn conflicts(&self) -> Option<IdConflicts> {
        (self.conflicts.records > 0).then(|| self.conflicts.clone())
    }
}

/// A 16-byte SHA-256 digest of a record's value: object keys in sorted order,
/// every value tagged by its type and length-prefixed, numbers by their exact
/// text, so two records have the same digest exactly when they are value-equal.
pub fn content_key(record: &Value) -> [u8; 16] {
    let mut h = Sha256::new();
    feed(&mut h, record);
    h.finalize()[..16].try_into().expect("16 bytes")
}

fn feed(h: &mut Sha256, v: &Value) {
    let text = |h: &mut Sha256, tag: u8, s: &[u8]| {
        h.update([tag]);
        h.update((s.len() as u64).to_le_bytes());
        h.update(s);
    };
    match v {
        Value::Null => h.update(b"n"),
        Value::Bool(true) => h.update(b"t"),
        Value::Bool(false) => h.update(b"f"),
        Value::Number(n) => text(h, b'#', n.to_string().as_bytes()),
        Value::String(s) => text(h, b's', s.as_bytes()),
        Value::Array(items) => {
            h.update(b"[");
            h.update((items.len() as u64).to_le_bytes());
            for item in items {
                feed(h, item);
            }
        }
        Value::Object(map) => {
            let mut keys: Vec<(&String, &Value)> = map.iter().collect();
            keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
            h.update(b"{");
            h.update((keys.len() as u64).to_le_bytes());
            for (k, v) in keys {
                text(h, b'k', k.as_bytes());
                feed(h, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_id_and_value_is_a_duplicate_whatever_the_key_order() {
        let mut d = Dedup::new();
        let a = json!({"id": "1", "n": 1, "x": {"p": true, "q": null}});
        let b: Value =
            serde_json::from_str(r#"{"x": {"q": null, "p": true}, "n": 1, "id": "1"}"#).unwrap();
        assert_eq!(d.check(Some("1"), &a, 0), Seen::New);
        assert_eq!(d.check(Some("1"), &b, 1), Seen::Duplicate);
        assert_eq!(d.duplicates(), 1);
        assert!(d.conflicts().is_none());
    }

    #[test]
    fn same_id_other_content_keeps_both_and_lists_the_id() {
        let mut d = Dedup::new();
        for (n, want) in [
            (1, Seen::New),
            (2, Seen::IdConflict),
            (3, Seen::IdConflict),
            (2, Seen::Duplicate),
        ] {
            let r = json!({"id": "ANONYMIZED", "n": n});
            assert_eq!(d.check(Some("ANONYMIZED"), &r, 0), want, "{n}");
        }
        let c = d.conflicts().unwrap();
        assert_eq!(c.records, 2);
        assert_eq!(
            c.ids,
            vec![IdConflict {
                id: "ANONYMIZED".into(),
                versions: 3
            }]
        );
        // Numbers keep their text: 1.50 is not 1.5 for the evidence.
        let x: Value = serde_json::from_str(r#"{"id":"2","v":1.50}"#).unwrap();
        let y: Value = serde_json::from_str(r#"{"id":"2","v":1.5}"#).unwrap();
        assert_eq!(d.check(Some("2"), &x, 0), Seen::New);
        assert_eq!(d.check(Some("2"), &y, 0), Seen::IdConflict);
    }

    #[test]
    fn records_without_id_are_compared_across_files_only() {
        let mut d = Dedup::new();
        let r = json!({"a": 1});
        assert_eq!(d.check(None, &r, 0), Seen::New);
        assert_eq!(d.check(None, &r, 0), Seen::New, "same file: two events");
        assert_eq!(d.check(None, &r, 1), Seen::Duplicate);
    }

    #[test]
    fn the_list_is_bounded_and_the_count_exact() {
        let mut d = Dedup::new();
        for i in 0..(MAX_LISTED_CONFLICTS + 5) {
            let id = format!("id{i}");
            d.check(Some(&id), &json!({"v": 1}), 0);
            d.check(Some(&id), &json!({"v": 2}), 0);
            d.check(Some(&id), &json!({"v": 3}), 0);
        }
        let c = d.conflicts().unwrap();
        assert_eq!(c.records, 2 * (MAX_LISTED_CONFLICTS as u64 + 5));
        assert_eq!(c.ids.len(), MAX_LISTED_CONFLICTS);
        assert_eq!(c.ids_not_listed, 5);
    }
}
