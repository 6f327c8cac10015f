//! Content blobs: how the simulator packs the fixture's audit records (their
//! `auditData`, the Management Activity API record) into what the API lists and
//! serves.
//!
//! - Content type from the record's `Workload` (or, without one, `RecordType`):
//!   Exchange -> Audit.Exchange, AzureActiveDirectory -> Audit.AzureActiveDirectory,
//!   SharePoint and OneDrive -> Audit.SharePoint, anything else -> Audit.General.
//!   Nothing is ever DLP.All.
//! - One blob per content type per hour of `CreationTime`, split into blobs of at
//!   most [`RECORDS_PER_BLOB`] records. A blob is created (becomes listable) when
//!   its hour is over plus [`AVAILABILITY_DELAY_MINUTES`], so, as with the real
//!   service, the newest events are not there yet; it expires 7 days later.
//! - Duplicates, which the real API delivers and clients must remove by `Id`:
//!   every odd-numbered blob of a content type (the 2nd, 4th, ...) starts with a
//!   copy of the last record of the blob before it.

use crate::fixture::Fixture;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Most records in one blob.
const RECORDS_PER_BLOB: usize = 8;
/// Time between the end of a blob's hour and its creation (the documentation
/// gives 60-90 minutes from event to availability).
const AVAILABILITY_DELAY_MINUTES: i64 = 30;
/// How long a blob can be retrieved after its creation.
const RETENTION_DAYS: i64 = 7;

/// The content types of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum ContentType {
    AzureActiveDirectory,
    Exchange,
    SharePoint,
    General,
    Dlp,
}

impl ContentType {
    const ALL: [ContentType; 5] = [
        ContentType::AzureActiveDirectory,
        ContentType::Exchange,
        ContentType::SharePoint,
        ContentType::General,
        ContentType::Dlp,
    ];

    /// The types with an enabled subscription in the simulated tenant.
    pub(super) const SUBSCRIBED: [ContentType; 4] = [
        ContentType::AzureActiveDirectory,
        ContentType::Exchange,
        ContentType::SharePoint,
        ContentType::General,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            ContentType::AzureActiveDirectory => "Audit.AzureActiveDirectory",
            ContentType::Exchange => "Audit.Exchange",
            ContentType::SharePoint => "Audit.SharePoint",
            ContentType::General => "Audit.General",
            ContentType::Dlp => "DLP.All",
        }
    }

    /// A `contentType` parameter, matched ignoring case.
    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text))
    }

    pub(super) fn is_subscribed(self) -> bool {
        Self::SUBSCRIBED.contains(&self)
    }

    /// The workload tag inside content ids (as in the documentation's `...spo2015043022...`).
    fn tag(self) -> &'static str {
        match self {
            ContentType::AzureActiveDirectory => "aad",
            ContentType::Exchange => "exo",
            ContentType::SharePoint => "spo",
            ContentType::General => "gen",
            ContentType::Dlp => "dlp",
        }
    }

    /// The type a record is published under.
    fn of_record(audit: &Value) -> Self {
        match audit.get("Workload").and_then(Value::as_str) {
            Some("Exchange") => ContentType::Exchange,
            Some("AzureActiveDirectory") => ContentType::AzureActiveDirectory,
            Some("SharePoint" | "OneDrive") => ContentType::SharePoint,
            Some(_) => ContentType::General,
            None => match audit.get("RecordType").and_then(Value::as_i64) {
                Some(1 | 2 | 3 | 19 | 29) => ContentType::Exchange,
                Some(8 | 9 | 15) => ContentType::AzureActiveDirectory,
                Some(4 | 6 | 7 | 14) => ContentType::SharePoint,
                _ => ContentType::General,
            },
        }
    }
}

/// A record's `CreationTime` and its `auditData`.
type TimedRecord<'a> = (DateTime<Utc>, &'a Value);

/// One content blob.
#[derive(Debug)]
pub(super) struct Blob {
    pub content_type: ContentType,
    pub content_id: String,
    pub created: DateTime<Utc>,
    /// The `auditData` of its records as the Management API serves them: the
    /// fixture's, less Graph's `@odata.*` annotations (content blobs carry none).
    pub records: Vec<Value>,
}

impl Blob {
    pub(super) fn expiration(&self) -> DateTime<Utc> {
        self.created + Duration::days(RETENTION_DAYS)
    }
}

/// Every blob of the fixture, by content type then creation time.
pub(super) struct Catalogue {
    blobs: Vec<Blob>,
    by_id: HashMap<String, usize>,
}

impl Catalogue {
    /// Packs the fixture's audit records. Records without an `auditData` object
    /// or a readable time have nothing the API could serve and are left out.
    pub(super) fn build(fixture: &Fixture) -> Self {
        // (content type, hour) -> (time, auditData) of its records.
        let mut groups: BTreeMap<(ContentType, DateTime<Utc>), Vec<TimedRecord>> = BTreeMap::new();
        for record in &fixture.audit_records {
            let Some(audit) = record.get("auditData").filter(|a| a.is_object()) else {
                continue;
            };
            let time = audit
                .get("CreationTime")
                .or_else(|| record.get("createdDateTime"))
                .and_then(Value::as_str)
                .and_then(m365_preserve_package::timefmt::parse_iso_datetime)
                .map(|p| p.utc);
            let Some(time) = time else { continue };
            let Ok(hour) = time.duration_trunc(Duration::hours(1)) else {
                continue;
            };
            groups
                .entry((ContentType::of_record(audit), hour))
                .or_default()
                .push((time, audit));
        }
        let tenant_hex = fixture.tenant.tenant_id.replace('-', "").to_lowercase();
        let mut blobs: Vec<Blob> = Vec::new();
        for ((content_type, hour), mut records) in groups {
            records.sort_by_key(|(time, _)| *time);
            for (chunk, part) in records.chunks(RECORDS_PER_BLOB).enumerate() {
                let created = hour
                    + Duration::hours(1)
                    + Duration::minutes(AVAILABILITY_DELAY_MINUTES)
                    + Duration::seconds(chunk as i64);
                blobs.push(Blob {
                    content_type,
                    content_id: content_id(content_type, &tenant_hex, hour, chunk, created),
                    created,
                    records: part.iter().map(|(_, audit)| without_odata(audit)).collect(),
                });
            }
        }
        add_duplicates(&mut blobs);
        let by_id = blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (b.content_id.clone(), i))
            .collect();
        Self { blobs, by_id }
    }

    /// Blobs of `content_type` created in `[start, end)` and already available
    /// at `now`, oldest first.
    pub(super) fn listed(
        &self,
        content_type: ContentType,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &Blob> {
        self.blobs.iter().filter(move |b| {
            b.content_type == content_type
                && b.created >= start
                && b.created < end
                && b.created <= now
        })
    }

    pub(super) fn get(&self, content_id: &str) -> Option<&Blob> {
        self.by_id.get(content_id).map(|&i| &self.blobs[i])
    }
}

/// Whether `text` has the shape of the simulator's content ids (five
/// `$`-separated alphanumeric parts, like the real ones); AF20052 otherwise.
pub(super) fn is_content_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('$').collect();
    parts.len() == 5
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A content id shaped like the documented ones:
/// `<created>$<created>$<tenant><tag><yyyymmddhh>$<hash>$<chunk>`.
fn content_id(
    content_type: ContentType,
    tenant_hex: &str,
    hour: DateTime<Utc>,
    chunk: usize,
    created: DateTime<Utc>,
) -> String {
    let stamp = created.format("%Y%m%d%H%M%S%3f");
    let hour_text = hour.format("%Y%m%d%H");
    let digest = Sha256::digest(format!("{}|{hour_text}|{chunk}", content_type.name()));
    format!(
        "{stamp}${stamp}${tenant_hex}{}{hour_text}${}${chunk:02}",
        content_type.tag(),
        hex::encode(&digest[..16])
    )
}

/// Every odd-numbered blob of a content type starts with a copy of the last
/// record of the blob before it. `blobs` is ordered by type, then time.
fn add_duplicates(blobs: &mut [Blob]) {
    let mut index_in_type = 0;
    for i in 0..blobs.len() {
        if i > 0 && blobs[i].content_type == blobs[i - 1].content_type {
            index_in_type += 1;
        } else {
            index_in_type = 0;
        }
        if index_in_type % 2 == 1 {
            if let Some(last) = blobs[i - 1].records.last().cloned() {
                blobs[i].records.insert(0, last);
            }
        }
    }
}

/// `auditData` without Graph's `@odata.*` annotations.
fn without_odata(audit: &Value) -> Value {
    match audit {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with("@odata."))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}
