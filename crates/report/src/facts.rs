//! What the rules read, extracted once from the evidence: compact facts for
//! the big logs (sign-ins, the unified audit log), whole records for the small
//! sources. Strings that repeat (addresses, apps, sessions) are interned, so a
//! million sign-ins take a few tens of megabytes.

use crate::evidence::{all, Evidence};
use crate::timeline::{SignInView, Timeline};
use crate::values::{normalise_ip, time};
use crate::ReportError;
use chrono::{DateTime, Utc};
use hashbrown::HashTable;
use m365_preserve_sources::Source;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use uuid::Uuid;

/// An interned string.
pub type Sym = u32;

/// Interns strings: the empty string is always 0. Each distinct string is
/// stored once, in one buffer, and found again through a table of symbols: a
/// million sign-ins carry most of a million distinct session ids, and a map
/// from boxed strings plus a list of them would hold each one twice, in two
/// allocations.
pub struct Strings {
    bytes: String,
    /// Where string `n` ends in `bytes` (it starts where `n - 1` ends).
    ends: Vec<usize>,
    table: HashTable<Sym>,
    hasher: foldhash::fast::FixedState,
}

impl Default for Strings {
    fn default() -> Self {
        Self::new()
    }
}

impl Strings {
    pub fn new() -> Self {
        let mut s = Self {
            bytes: String::new(),
            ends: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::fast::FixedState::default(),
        };
        s.intern("");
        s
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        let Self {
            bytes,
            ends,
            table,
            hasher,
        } = self;
        let hash = hasher.hash_one(s);
        if let Some(id) = table.find(hash, |&id| slice(bytes, ends, id) == s) {
            return *id;
        }
        let id = Sym::try_from(ends.len()).expect("fewer than 2^32 distinct strings");
        bytes.push_str(s);
        ends.push(bytes.len());
        table.insert_unique(hash, id, |&id| hasher.hash_one(slice(bytes, ends, id)));
        id
    }

    /// The symbol of `s`, if it was ever interned.
    pub fn find(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.table.find(hash, |&id| self.get(id) == s).copied()
    }

    pub fn get(&self, id: Sym) -> &str {
        slice(&self.bytes, &self.ends, id)
    }

    /// How many distinct strings (the empty one included).
    pub fn len(&self) -> usize {
        self.ends.len()
    }
}

fn slice<'a>(bytes: &'a str, ends: &[usize], id: Sym) -> &'a str {
    let n = id as usize;
    let start = if n == 0 { 0 } else { ends[n - 1] };
    &bytes[start..ends[n]]
}

/// Session ids, interned for comparison only: the rules ask whether two
/// records share a session, and the timeline writes the text from the record
/// itself. Entra's session ids are GUIDs, nearly one per sign-in, so they are
/// kept as 16 bytes (matched whatever their case: the unified audit log and
/// the sign-in logs spell the same id); anything else is kept as text.
/// Symbol 0 is "no session".
pub struct Sessions {
    guids: Vec<[u8; 16]>,
    table: HashTable<Sym>,
    others: Strings,
    hasher: foldhash::fast::FixedState,
}

impl Sessions {
    /// GUID symbols have this bit set; the others are `Strings` symbols.
    const GUID: Sym = 1 << 31;

    pub fn new() -> Self {
        Self {
            guids: Vec::new(),
            table: HashTable::new(),
            others: Strings::new(),
            hasher: foldhash::fast::FixedState::default(),
        }
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        let Ok(guid) = Uuid::try_parse(s) else {
            return self.others.intern(s);
        };
        let Self {
            guids,
            table,
            hasher,
            ..
        } = self;
        let key = *guid.as_bytes();
        let hash = hasher.hash_one(key);
        let slot = |id: Sym| guids[(id & !Self::GUID) as usize];
        if let Some(id) = table.find(hash, |&id| slot(id) == key) {
            return *id;
        }
        let n = Sym::try_from(guids.len())
            .ok()
            .filter(|n| n & Self::GUID == 0)
            .expect("fewer than 2^31 distinct sessions");
        guids.push(key);
        table.insert_unique(hash, n | Self::GUID, |&id| {
            hasher.hash_one(guids[(id & !Self::GUID) as usize])
        });
        n | Self::GUID
    }
}

impl Sessions {
    /// How many distinct sessions there are: the slots of a table indexed by
    /// [`Sessions::slot`].
    pub fn slots(&self) -> usize {
        self.guids.len() + self.others.len() - 1
    }

    /// A session's place among [`Sessions::slots`] (none for symbol 0).
    pub fn slot(&self, sym: Sym) -> Option<usize> {
        match sym {
            0 => None,
            g if g & Self::GUID != 0 => Some((g & !Self::GUID) as usize),
            other => Some(self.guids.len() + other as usize - 1),
        }
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new()
    }
}

/// The four kinds of sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Interactive,
        Kind::NonInteractive,
        Kind::ServicePrincipal,
        Kind::ManagedIdentity,
    ];

    pub fn source(self) -> Source {
        match self {
            Kind::Interactive => Source::SigninsInteractive,
            Kind::NonInteractive => Source::SigninsNonInteractive,
            Kind::ServicePrincipal => Source::SigninsServicePrincipal,
            Kind::ManagedIdentity => Source::SigninsManagedIdentity,
        }
    }
}

/// Bits of a sign-in the rules test.
pub mod flag {
    /// `authenticationRequirement == multiFactorAuthentication`.
    pub const MFA: u16 = 1;
    /// MFA denied by the user (500121 with a decline detail).
    pub const MFA_DENIED: u16 = 2;
    /// "MFA requirement satisfied by claim in the token".
    pub const CLAIM_IN_TOKEN: u16 = 4;
    /// Identity Protection flagged it as AiTM, token anomaly or replay.
    pub const RISK_STRONG: u16 = 8;
    /// Any other `riskEventTypes_v2` entry.
    pub const RISK_OTHER: u16 = 16;
    /// The device is managed, compliant or joined.
    pub const KNOWN_DEVICE: u16 = 32;
    /// Device code flow.
    pub const DEVICE_CODE: u16 = 64;
    /// Fraud reported in the Authenticator app.
    pub const FRAUD_REPORTED: u16 = 128;
    /// ROPC (`authenticationProtocol == ropc`).
    pub const ROPC: u16 = 256;
    /// A refresh token or primary refresh token was redeemed.
    pub const REFRESH: u16 = 512;
}

/// One sign-in, compactly.
#[derive(Debug, Clone, Copy)]
pub struct SignIn {
    pub kind: Kind,
    /// Position in its evidence file.
    pub index: u32,
    pub time: i64,
    pub ip: Sym,
    pub asn: u32,
    pub country: Sym,
    pub session: Sym,
    pub app_id: Sym,
    pub app: Sym,
    pub client_app: Sym,
    pub user_agent: Sym,
    pub device_id: Sym,
    pub error: i32,
    pub flags: u16,
}

impl SignIn {
    pub fn ok(&self) -> bool {
        self.error == 0
    }

    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.time, 0).unwrap_or_default()
    }
}

/// Sign-in ids, 16 bytes each: Entra gives every sign-in a GUID, and a
/// million of them as strings would dominate the report's memory. An id that
/// is not a lower-case GUID is kept as written, so every id reads back exactly.
#[derive(Debug, Default)]
pub struct SignInIds {
    guids: Vec<[u8; 16]>,
    /// Where each kind's sign-ins begin in `guids` (each kind is read in one pass).
    starts: Vec<(Kind, usize)>,
    /// Ids that are absent or not lower-case GUIDs, by position in `guids`.
    others: HashMap<usize, Option<Box<str>>>,
}

impl SignInIds {
    fn push(&mut self, kind: Kind, id: Option<&str>) {
        let n = self.guids.len();
        if self.starts.last().is_none_or(|(k, _)| *k != kind) {
            self.starts.push((kind, n));
        }
        let mut buf = Uuid::encode_buffer();
        let guid = id
            .and_then(|id| Uuid::try_parse(id).ok())
            .filter(|u| Some(&*u.hyphenated().encode_lower(&mut buf)) == id);
        match guid {
            Some(u) => self.guids.push(*u.as_bytes()),
            None => {
                self.guids.push([0; 16]);
                self.others.insert(n, id.map(Box::from));
            }
        }
    }

    /// The id of a sign-in as the evidence wrote it, if it has one.
    pub fn get(&self, s: &SignIn) -> Option<String> {
        let (_, start) = self.starts.iter().find(|(k, _)| *k == s.kind)?;
        let n = start + s.index as usize;
        match self.others.get(&n) {
            Some(other) => other.as_deref().map(str::to_string),
            None => self
                .guids
                .get(n)
                .map(|b| Uuid::from_bytes(*b).hyphenated().to_string()),
        }
    }
}

/// A unified audit log record, compactly; the few kinds the rules read in full
/// (inbox rules, forwarding, sending, delegation) also keep their `auditData`.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub index: u32,
    pub id: String,
    pub time: i64,
    pub operation: Sym,
    pub user: Sym,
    pub ip: Sym,
    pub session: Sym,
    pub app: Sym,
    pub data: Option<Box<Value>>,
}

impl AuditRecord {
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.time, 0).unwrap_or_default()
    }
}

/// Operations whose whole record the rules need.
const KEPT_OPERATIONS: &[&str] = &[
    "New-InboxRule",
    "Set-InboxRule",
    "Enable-InboxRule",
    "Disable-InboxRule",
    "Remove-InboxRule",
    "UpdateInboxRules",
    "Set-Mailbox",
    "Send",
    "SendAs",
    "SendOnBehalf",
    "Add-MailboxPermission",
    "Add-RecipientPermission",
    "Set-MailboxFolderPermission",
    "Add-MailboxFolderPermission",
    "MoveToDeletedItems",
    "SoftDelete",
    "HardDelete",
];

/// Everything the rules read.
pub struct Facts {
    pub strings: Strings,
    /// The sessions of `signins` and `purview`.
    pub sessions: Sessions,
    pub signins: Vec<SignIn>,
    /// The ids of `signins`, in the same order, for the evidence lists.
    pub signin_ids: SignInIds,
    pub audits: Vec<(u64, Value)>,
    pub purview: Vec<AuditRecord>,
    pub rules: Vec<(u64, Value)>,
    pub settings: Vec<(u64, Value)>,
    pub methods: Vec<(u64, Value)>,
    pub registration: Vec<(u64, Value)>,
    pub user: Option<Value>,
    pub roles: Vec<(u64, Value)>,
    pub owned: Vec<(u64, Value)>,
    pub devices: Vec<(u64, Value)>,
    pub applications: Vec<(u64, Value)>,
    pub service_principals: Vec<(u64, Value)>,
    pub grants: Vec<(u64, Value)>,
    pub app_roles: Vec<(u64, Value)>,
    pub guests: Vec<(u64, Value)>,
    pub risky_users: Vec<(u64, Value)>,
    pub detections: Vec<(u64, Value)>,
    /// Inbox-rule folder names the collector looked up (`folderId` -> fact).
    pub folders: HashMap<String, Value>,
}

#[derive(Deserialize)]
struct SignInLine<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "createdDateTime", default)]
    created: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "ipAddress", default)]
    ip: Option<Cow<'a, str>>,
    #[serde(rename = "autonomousSystemNumber", default)]
    asn: Option<u32>,
    #[serde(borrow, default)]
    location: Option<Location<'a>>,
    #[serde(borrow, rename = "sessionId", default)]
    session: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "appId", default)]
    app_id: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "appDisplayName", default)]
    app: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "clientAppUsed", default)]
    client_app: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "userAgent", default)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "deviceDetail", default)]
    device: Option<Device<'a>>,
    #[serde(borrow, default)]
    status: Option<Status<'a>>,
    #[serde(borrow, rename = "authenticationRequirement", default)]
    requirement: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "authenticationProtocol", default)]
    protocol: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "originalTransferMethod", default)]
    transfer: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "incomingTokenType", default)]
    token_type: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "riskEventTypes_v2", default)]
    risks: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, rename = "authenticationDetails", default)]
    steps: Option<Vec<Step<'a>>>,
}

#[derive(Deserialize)]
struct Location<'a> {
    #[serde(borrow, rename = "countryOrRegion", default)]
    country: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Device<'a> {
    #[serde(borrow, rename = "deviceId", default)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "isManaged", default)]
    managed: Option<bool>,
    #[serde(rename = "isCompliant", default)]
    compliant: Option<bool>,
    #[serde(borrow, rename = "trustType", default)]
    trust: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(rename = "errorCode", default)]
    code: Option<i64>,
    #[serde(borrow, rename = "additionalDetails", default)]
    details: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Step<'a> {
    #[serde(borrow, rename = "authenticationStepResultDetail", default)]
    result: Option<Cow<'a, str>>,
}

/// Identity Protection verdicts that are precise enough to seed attacker
/// context (<https://learn.microsoft.com/entra/id-protection/concept-identity-protection-risks>).
pub const STRONG_RISKS: &[&str] = &[
    "attackerinTheMiddle",
    "anomalousToken",
    "tokenIssuerAnomaly",
    "maliciousIPAddress",
    "nationStateIP",
    "passwordSpray",
];

impl Facts {
    /// Reads every source of `evidence`, writing the timeline as it goes.
    pub fn read(evidence: &Evidence, timeline: &mut Timeline) -> Result<Self, ReportError> {
        let mut f = Facts {
            strings: Strings::new(),
            sessions: Sessions::new(),
            signins: Vec::new(),
            signin_ids: SignInIds::default(),
            audits: Vec::new(),
            purview: Vec::new(),
            rules: Vec::new(),
            settings: Vec::new(),
            methods: Vec::new(),
            registration: Vec::new(),
            user: None,
            roles: Vec::new(),
            owned: Vec::new(),
            devices: Vec::new(),
            applications: Vec::new(),
            service_principals: Vec::new(),
            grants: Vec::new(),
            app_roles: Vec::new(),
            guests: Vec::new(),
            risky_users: Vec::new(),
            detections: Vec::new(),
            folders: HashMap::new(),
        };
        let expected: usize = Kind::ALL
            .iter()
            .map(|k| evidence.signin_hint(k.source()))
            .sum();
        f.signins.reserve_exact(expected);
        f.signin_ids.guids.reserve_exact(expected);
        for kind in Kind::ALL {
            f.read_signins(evidence, kind, timeline)?;
        }
        f.read_purview(evidence, timeline)?;
        let small = |s: Source, tl: &mut Timeline| -> Result<Vec<(u64, Value)>, ReportError> {
            let records = all(evidence, s)?;
            for (_, r) in &records {
                tl.record(s, r);
            }
            Ok(records)
        };
        f.audits = small(Source::EntraAudit, timeline)?;
        f.rules = small(Source::MailboxRules, timeline)?;
        f.settings = small(Source::MailboxSettings, timeline)?;
        f.methods = small(Source::AuthMethods, timeline)?;
        f.registration = small(Source::AuthRegistration, timeline)?;
        f.user = small(Source::User, timeline)?
            .into_iter()
            .next()
            .map(|(_, v)| v);
        f.roles = small(Source::UserRoles, timeline)?;
        f.owned = small(Source::UserOwnedObjects, timeline)?;
        f.devices = small(Source::Devices, timeline)?;
        f.applications = small(Source::Applications, timeline)?;
        f.service_principals = small(Source::ServicePrincipals, timeline)?;
        f.grants = small(Source::Oauth2Grants, timeline)?;
        f.app_roles = small(Source::AppRoleAssignments, timeline)?;
        f.guests = small(Source::Guests, timeline)?;
        f.risky_users = small(Source::RiskyUsers, timeline)?;
        f.detections = small(Source::RiskDetections, timeline)?;
        if let Some(s) = evidence.summary(Source::MailboxRules) {
            for fact in s
                .details
                .get("resolved")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = fact["folderId"].as_str() {
                    f.folders.insert(id.to_string(), fact.clone());
                }
            }
        }
        Ok(f)
    }

    fn read_signins(
        &mut self,
        evidence: &Evidence,
        kind: Kind,
        timeline: &mut Timeline,
    ) -> Result<(), ReportError> {
        let mut records = evidence.records(kind.source())?;
        let path = records.path().to_path_buf();
        while let Some((index, text)) = records.next_line()? {
            // Record n is on line n + 2: the array's `[` is line 1.
            let line: SignInLine =
                serde_json::from_str(text).map_err(|e| ReportError::Corrupt {
                    path: path.clone(),
                    line: index + 2,
                    why: e.to_string(),
                })?;
            let s = self.signin(kind, index as u32, &line);
            timeline.signin(kind.source(), &line_view(&line, &s, &self.strings));
            self.signin_ids.push(kind, line.id.as_deref());
            self.signins.push(s);
        }
        Ok(())
    }

    fn signin(&mut self, kind: Kind, index: u32, l: &SignInLine<'_>) -> SignIn {
        fn s<'b>(v: &'b Option<Cow<'_, str>>) -> &'b str {
            v.as_deref().unwrap_or("")
        }
        let mut flags = 0u16;
        if s(&l.requirement).eq_ignore_ascii_case("multiFactorAuthentication") {
            flags |= flag::MFA;
        }
        let code = l.status.as_ref().and_then(|st| st.code).unwrap_or(0);
        let detail = l.status.as_ref().map(|st| s(&st.details)).unwrap_or("");
        let step_details = l.steps.iter().flatten().map(|st| s(&st.result));
        let all_details: Vec<&str> = std::iter::once(detail).chain(step_details).collect();
        let mentions = |needle: &str| {
            all_details
                .iter()
                .any(|d| d.to_ascii_lowercase().contains(needle))
        };
        if code == 500121 && (mentions("declined") || mentions("did not respond")) {
            flags |= flag::MFA_DENIED;
        }
        if mentions("reported fraud") {
            flags |= flag::FRAUD_REPORTED;
        }
        if mentions("satisfied by claim in the token") {
            flags |= flag::CLAIM_IN_TOKEN;
        }
        for r in l.risks.iter().flatten() {
            if STRONG_RISKS.iter().any(|x| x.eq_ignore_ascii_case(r)) {
                flags |= flag::RISK_STRONG;
            } else if !r.eq_ignore_ascii_case("none") {
                flags |= flag::RISK_OTHER;
            }
        }
        if let Some(d) = &l.device {
            let trust = s(&d.trust).to_ascii_lowercase();
            if d.managed == Some(true)
                || d.compliant == Some(true)
                || trust.contains("joined")
                || trust == "azuread"
                || trust == "serverad"
            {
                flags |= flag::KNOWN_DEVICE;
            }
        }
        if s(&l.protocol).eq_ignore_ascii_case("deviceCode")
            || s(&l.transfer).eq_ignore_ascii_case("deviceCodeFlow")
        {
            flags |= flag::DEVICE_CODE;
        }
        if s(&l.protocol).eq_ignore_ascii_case("ropc") {
            flags |= flag::ROPC;
        }
        let token = s(&l.token_type).to_ascii_lowercase().replace(' ', "");
        if token.contains("refreshtoken") {
            flags |= flag::REFRESH;
        }
        let st = &mut self.strings;
        SignIn {
            kind,
            index,
            time: time(s(&l.created)).map_or(0, |t| t.timestamp()),
            ip: st.intern(normalise_ip(s(&l.ip))),
            asn: l.asn.unwrap_or(0),
            country: st.intern(l.location.as_ref().map(|x| s(&x.country)).unwrap_or("")),
            session: self.sessions.intern(s(&l.session)),
            app_id: st.intern(&s(&l.app_id).to_ascii_lowercase()),
            app: st.intern(s(&l.app)),
            client_app: st.intern(s(&l.client_app)),
            user_agent: st.intern(s(&l.user_agent)),
            device_id: st.intern(l.device.as_ref().map(|d| s(&d.id)).unwrap_or("")),
            error: i32::try_from(code).unwrap_or(i32::MAX),
            flags,
        }
    }

    fn read_purview(
        &mut self,
        evidence: &Evidence,
        timeline: &mut Timeline,
    ) -> Result<(), ReportError> {
        let mut records = evidence.records(Source::PurviewAudit)?;
        while let Some((index, record)) = records.next_value()? {
            timeline.record(Source::PurviewAudit, &record);
            // Collected records have the Graph shape (`auditData` inside); the
            // Management API fallback keeps the PascalCase record itself.
            let data = record.get("auditData").unwrap_or(&record);
            let get = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("");
            let operation = match record.get("operation").and_then(Value::as_str) {
                Some(op) => op.to_string(),
                None => get("Operation").to_string(),
            };
            let when = record
                .get("createdDateTime")
                .and_then(Value::as_str)
                .or(data.get("CreationTime").and_then(Value::as_str))
                .and_then(time);
            let ip = [
                get("ClientIP"),
                get("ClientIPAddress"),
                get("ActorIpAddress"),
            ]
            .into_iter()
            .find(|v| !v.is_empty())
            .unwrap_or("");
            let session = match get("SessionId") {
                "" => data["AppAccessContext"]["AADSessionId"]
                    .as_str()
                    .unwrap_or(""),
                s => s,
            };
            let app = [get("AppId"), get("ClientAppId")]
                .into_iter()
                .find(|v| !v.is_empty())
                .or(data["AppAccessContext"]["ClientAppId"].as_str())
                .unwrap_or("");
            let keep = KEPT_OPERATIONS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&operation));
            let st = &mut self.strings;
            let rec = AuditRecord {
                index: index as u32,
                id: record
                    .get("id")
                    .or(data.get("Id"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                time: when.map_or(0, |t| t.timestamp()),
                operation: st.intern(&operation),
                user: st.intern(&get("UserId").to_ascii_lowercase()),
                ip: st.intern(normalise_ip(ip)),
                session: self.sessions.intern(session),
                app: st.intern(&app.to_ascii_lowercase()),
                data: keep.then(|| Box::new(data.clone())),
            };
            self.purview.push(rec);
        }
        Ok(())
    }

    /// The id of a sign-in (or its position in its file, when it has none).
    pub fn signin_id(&self, s: &SignIn) -> String {
        self.signin_ids
            .get(s)
            .unwrap_or_else(|| format!("#{}", s.index))
    }

    /// The target user's id, UPN and mail domains.
    pub fn target(&self) -> Target {
        let u = self.user.as_ref();
        let s = |k: &str| u.and_then(|u| u[k].as_str()).unwrap_or("").to_string();
        let mut domains: Vec<String> = Vec::new();
        let mut add = |addr: &str| {
            if let Some((_, d)) = addr.rsplit_once('@') {
                let d = d.to_ascii_lowercase();
                if !d.is_empty() && !domains.contains(&d) {
                    domains.push(d);
                }
            }
        };
        add(&s("userPrincipalName"));
        add(&s("mail"));
        for p in u
            .and_then(|u| u["proxyAddresses"].as_array())
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            add(p.split_once(':').map_or(p, |(_, a)| a));
        }
        Target {
            id: s("id"),
            upn: s("userPrincipalName"),
            display_name: s("displayName"),
            domains,
        }
    }
}

/// The compromised user, as the evidence names them.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub id: String,
    pub upn: String,
    pub display_name: String,
    /// The tenant's mail domains seen on the user (UPN, mail, proxy addresses).
    pub domains: Vec<String>,
}

impl Target {
    /// Whether `address` is outside the organisation.
    pub fn external(&self, address: &str) -> bool {
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        !domain.is_empty() && !self.domains.contains(&domain)
    }
}

fn line_view<'a>(l: &'a SignInLine<'a>, s: &SignIn, strings: &'a Strings) -> SignInView<'a> {
    SignInView {
        id: l.id.as_deref().unwrap_or(""),
        time: l.created.as_deref().unwrap_or(""),
        ip: strings.get(s.ip),
        app: strings.get(s.app),
        country: strings.get(s.country),
        asn: s.asn,
        error: s.error,
        session: l.session.as_deref().unwrap_or(""),
        user_agent: strings.get(s.user_agent),
        device_id: strings.get(s.device_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_back_exactly_and_intern_once() {
        let mut st = Strings::new();
        assert_eq!(st.intern(""), 0);
        let words = ["203.0.113.7", "佐藤 花子", "", "Mozilla/5.0", "203.0.113.7"];
        let syms: Vec<Sym> = words.iter().map(|w| st.intern(w)).collect();
        assert_eq!(syms[0], syms[4], "the same text, the same symbol");
        assert_ne!(syms[0], syms[1]);
        for (w, sym) in words.iter().zip(&syms) {
            assert_eq!(st.get(*sym), *w);
            assert_eq!(st.find(w), Some(*sym));
        }
        assert_eq!(st.find("198.51.100.1"), None);
        // Many strings: the table grows and every one still reads back.
        let many: Vec<Sym> = (0..10_000).map(|i| st.intern(&format!("s{i}"))).collect();
        for (i, sym) in many.iter().enumerate() {
            assert_eq!(st.get(*sym), format!("s{i}"));
        }
    }

    #[test]
    fn sessions_match_guids_whatever_their_case_and_keep_other_ids_apart() {
        let mut ss = Sessions::new();
        assert_eq!(ss.intern(""), 0, "no session");
        let lower = ss.intern("0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(ss.intern("0F8FAD5B-D9CB-469F-A165-70867728950E"), lower);
        assert_ne!(ss.intern("7c9e6679-7425-40de-944b-e07fc1f90ae7"), lower);
        let text = ss.intern("not-a-guid");
        assert_ne!(text, 0);
        assert_ne!(text, lower);
        assert_eq!(ss.intern("not-a-guid"), text);
        let many: Vec<Sym> = (0..10_000u128)
            .map(|i| ss.intern(&Uuid::from_u128(i + 1).to_string()))
            .collect();
        let again: Vec<Sym> = (0..10_000u128)
            .map(|i| ss.intern(&Uuid::from_u128(i + 1).to_string()))
            .collect();
        assert_eq!(many, again);
        assert_eq!(
            many.iter().collect::<std::collections::HashSet<_>>().len(),
            10_000
        );
        // Slots: one per distinct session, dense, none for "no session".
        assert_eq!(ss.slot(0), None);
        let all: Vec<Sym> = [lower, text].into_iter().chain(many).collect();
        let slots: std::collections::HashSet<usize> =
            all.iter().map(|s| ss.slot(*s).expect("a slot")).collect();
        assert_eq!(slots.len(), all.len(), "distinct");
        assert_eq!(
            ss.slots(),
            10_000 + 2 + 1,
            "the guids, the text and the other guid"
        );
        assert!(slots.iter().all(|n| *n < ss.slots()));
    }

    fn signin(kind: Kind, index: u32) -> SignIn {
        SignIn {
            kind,
            index,
            time: 0,
            ip: 0,
            asn: 0,
            country: 0,
            session: 0,
            app_id: 0,
            app: 0,
            client_app: 0,
            user_agent: 0,
            device_id: 0,
            error: 0,
            flags: 0,
        }
    }

    #[test]
    fn sign_in_ids_read_back_exactly_as_written() {
        let written = [
            (
                Kind::Interactive,
                Some("0b9e3f4c-8c1a-4f57-9d3e-2a6b7c8d9e0f"),
            ),
            (
                Kind::Interactive,
                Some("0B9E3F4C-8C1A-4F57-9D3E-2A6B7C8D9E0F"),
            ),
            (Kind::Interactive, None),
            (Kind::NonInteractive, Some("not-a-guid")),
            (
                Kind::NonInteractive,
                Some("0b9e3f4c8c1a4f579d3e2a6b7c8d9e0f"),
            ),
            (
                Kind::ServicePrincipal,
                Some("00000000-0000-0000-0000-000000000000"),
            ),
        ];
        let mut ids = SignInIds::default();
        let mut index = HashMap::new();
        let mut signins = Vec::new();
        for (kind, id) in written {
            let n = index.entry(kind).or_insert(0u32);
            ids.push(kind, id);
            signins.push(signin(kind, *n));
            *n += 1;
        }
        for (s, (_, id)) in signins.iter().zip(written) {
            assert_eq!(ids.get(s).as_deref(), id, "{s:?}");
        }
        assert_eq!(ids.get(&signin(Kind::ManagedIdentity, 0)), None);
    }
}
