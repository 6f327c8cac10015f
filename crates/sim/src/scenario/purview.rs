//! Purview unified audit log records as the Graph audit-log query returns them
//! (`auditLogRecord`, with `auditData` in the Management Activity API's PascalCase
//! schema). Mailbox and file activity follows the sign-ins that obtained the
//! tokens (same session ids, addresses and clients), so the sources agree.

use super::catalogue::*;
use super::ids::{at, exchange_id, guid, random_guid, secs, zoneless};
use super::story::*;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Record types used here: (RecordType number, Graph enum member, auditData type).
#[derive(Debug, Clone, Copy)]
enum RecordType {
    ExchangeAdmin,
    ExchangeItem,
    ExchangeItemGroup,
    SharePointFileOperation,
    AzureActiveDirectory,
    AzureActiveDirectoryStsLogon,
    ExchangeItemAggregated,
}

impl RecordType {
    fn number(self) -> u32 {
        match self {
            RecordType::ExchangeAdmin => 1,
            RecordType::ExchangeItem => 2,
            RecordType::ExchangeItemGroup => 3,
            RecordType::SharePointFileOperation => 6,
            RecordType::AzureActiveDirectory => 8,
            RecordType::AzureActiveDirectoryStsLogon => 15,
            RecordType::ExchangeItemAggregated => 50,
        }
    }

    fn graph_name(self) -> &'static str {
        match self {
            RecordType::ExchangeAdmin => "ExchangeAdmin",
            RecordType::ExchangeItem => "ExchangeItem",
            RecordType::ExchangeItemGroup => "ExchangeItemGroup",
            RecordType::SharePointFileOperation => "SharePointFileOperation",
            RecordType::AzureActiveDirectory => "AzureActiveDirectory",
            RecordType::AzureActiveDirectoryStsLogon => "AzureActiveDirectoryStsLogon",
            RecordType::ExchangeItemAggregated => "ExchangeItemAggregated",
        }
    }

    fn data_type(self) -> &'static str {
        match self {
            RecordType::ExchangeAdmin => "#microsoft.graph.security.exchangeAdminAuditRecord",
            RecordType::ExchangeItem | RecordType::ExchangeItemAggregated => {
                "#microsoft.graph.security.exchangeMailboxAuditRecord"
            }
            RecordType::ExchangeItemGroup => {
                "#microsoft.graph.security.exchangeMailboxAuditGroupRecord"
            }
            RecordType::SharePointFileOperation => {
                "#microsoft.graph.security.sharePointFileOperationAuditRecord"
            }
            RecordType::AzureActiveDirectory => {
                "#microsoft.graph.security.azureActiveDirectoryAuditRecord"
            }
            RecordType::AzureActiveDirectoryStsLogon => {
                "#microsoft.graph.security.azureActiveDirectoryStsLogonAuditRecord"
            }
        }
    }
}

/// An audit record being built: the common schema plus workload-specific fields.
struct Record {
    time: DateTime<Utc>,
    kind: RecordType,
    operation: &'static str,
    member: &'static Member,
    workload: &'static str,
    user_key: String,
    /// Address as the workload logged it (Exchange adds the client port).
    client_ip: String,
    object_id: String,
    result: &'static str,
    fields: Vec<(&'static str, Value)>,
}

impl Record {
    fn new(
        time: DateTime<Utc>,
        kind: RecordType,
        operation: &'static str,
        member: &'static Member,
        ip: &str,
    ) -> Self {
        let (workload, user_key) = match kind {
            RecordType::SharePointFileOperation => (
                "SharePoint",
                format!(
                    "i:0h.f|membership|{}@live.com",
                    member.puid().to_lowercase()
                ),
            ),
            RecordType::AzureActiveDirectory | RecordType::AzureActiveDirectoryStsLogon => {
                ("AzureActiveDirectory", member.id.clone())
            }
            _ => ("Exchange", member.puid()),
        };
        Record {
            time,
            kind,
            operation,
            member,
            workload,
            user_key,
            client_ip: ip.to_string(),
            object_id: String::new(),
            result: "Succeeded",
            fields: Vec::new(),
        }
    }

    fn field(mut self, key: &'static str, value: Value) -> Self {
        self.fields.push((key, value));
        self
    }

    fn into_value(self, rng: &mut impl Rng) -> Value {
        let id = random_guid(rng).to_string();
        let ip = self.client_ip.split(':').next().unwrap_or_default();
        let mut data = Map::new();
        for (k, v) in [
            ("@odata.type", json!(self.kind.data_type())),
            ("CreationTime", json!(zoneless(self.time))),
            ("Id", json!(id)),
            ("Operation", json!(self.operation)),
            ("OrganizationId", json!(TENANT_ID)),
            ("RecordType", json!(self.kind.number())),
            ("ResultStatus", json!(self.result)),
            ("UserKey", json!(self.user_key)),
            ("UserType", json!(0)),
            ("Version", json!(1)),
            ("Workload", json!(self.workload)),
            ("ClientIP", json!(self.client_ip)),
            ("ObjectId", json!(self.object_id)),
            ("UserId", json!(self.member.upn)),
        ] {
            data.insert(k.to_string(), v);
        }
        for (k, v) in self.fields {
            data.insert(k.to_string(), v);
        }
        json!({
            "@odata.type": "#microsoft.graph.security.auditLogRecord",
            "id": id,
            "createdDateTime": secs(self.time),
            "auditLogRecordType": self.kind.graph_name(),
            "operation": self.operation,
            "organizationId": TENANT_ID,
            "userType": "Regular",
            "userId": self.member.upn,
            "service": self.workload,
            "objectId": self.object_id,
            "userPrincipalName": self.member.upn,
            "clientIp": ip,
            "administrativeUnits": [],
            "auditData": data,
        })
    }
}

/// Fields every mailbox record carries.
fn mailbox_fields(mut r: Record, client: &str, session: &str, app: (&str, &str)) -> Record {
    let member = r.member;
    for (k, v) in [
        ("AppId", json!(app.0)),
        ("ClientAppId", json!(app.1)),
        (
            "ClientIPAddress",
            json!(r.client_ip.split(':').next().unwrap_or_default()),
        ),
        ("ClientInfoString", json!(client)),
        ("ExternalAccess", json!(false)),
        ("InternalLogonType", json!(0)),
        ("LogonType", json!(0)),
        ("LogonUserSid", json!(member.mailbox_sid())),
        (
            "MailboxGuid",
            json!(guid("mailbox", member.person.key).to_string()),
        ),
        ("MailboxOwnerSid", json!(member.mailbox_sid())),
        ("MailboxOwnerUPN", json!(member.upn)),
        ("OrganizationName", json!(DOMAIN)),
        ("OriginatingServer", json!(EXCHANGE_SERVER)),
        ("SessionId", json!(session)),
    ] {
        r.fields.push((k, v));
    }
    r
}

/// A folder's id as mailbox audit records show it.
pub fn folder_id(member: &Member, folder: &str) -> String {
    exchange_id(
        "LgAAAAAdhAMRqmYRzZvIAKoAL8RaAQ",
        &format!("{}/{folder}", member.person.key),
    )
}

fn message_id(rng: &mut impl Rng) -> String {
    format!(
        "<TYWPR01MB{:05}{:08X}@TYWPR01MB10482.jpnprd01.prod.outlook.com>",
        rng.gen_range(10_000..99_999),
        rng.gen::<u32>()
    )
}

/// MailItemsAccessed: `Sync` of a folder, or `Bind` of `items` messages.
fn mail_access(rng: &mut impl Rng, base: Record, items: usize, folder: &str) -> Record {
    let folder_path = format!("\\{folder}");
    let folder_ref = folder_id(base.member, folder);
    let (access, folders) = if items == 0 {
        ("Sync", json!([{"Id": folder_ref, "Path": folder_path}]))
    } else {
        let messages: Vec<Value> = (0..items)
            .map(|_| json!({"InternetMessageId": message_id(rng), "SizeInBytes": rng.gen_range(9_000..480_000)}))
            .collect();
        (
            "Bind",
            json!([{"FolderItems": messages, "Id": folder_ref, "Path": folder_path}]),
        )
    };
    base.field(
        "OperationProperties",
        json!([{"Name": "MailAccessType", "Value": access}, {"Name": "IsThrottled", "Value": "False"}]),
    )
    .field("Folders", folders)
    .field("OperationCount", json!(items.max(1)))
}

/// The facts of a sign-in that audit records repeat.
struct Token<'a> {
    time: DateTime<Utc>,
    member: &'static Member,
    app: &'a str,
    resource: &'a str,
    ip: &'a str,
    session: &'a str,
    user_agent: &'a str,
    os: &'a str,
    browser: &'a str,
    foreign: bool,
    signin: &'a Value,
}

impl<'a> Token<'a> {
    fn from(signin: &'a Value, by_id: &HashMap<&str, &'static Member>) -> Option<Self> {
        let member = by_id.get(signin["userId"].as_str()?)?;
        let s = |k: &str| signin[k].as_str().unwrap_or_default();
        Some(Token {
            time: at(s("createdDateTime")),
            member,
            app: s("appId"),
            resource: s("resourceId"),
            ip: s("ipAddress"),
            session: s("sessionId"),
            user_agent: s("userAgent"),
            os: signin["deviceDetail"]["operatingSystem"]
                .as_str()
                .unwrap_or_default(),
            browser: signin["deviceDetail"]["browser"]
                .as_str()
                .unwrap_or_default(),
            foreign: signin["location"]["countryOrRegion"] != "JP",
            signin,
        })
    }

    fn context(&self) -> Value {
        json!({"AADSessionId": self.session, "ClientAppId": self.app,
               "IssuedAtTime": secs(self.time), "UniqueTokenId": self.signin["uniqueTokenIdentifier"]})
    }
}

/// All Purview audit records of the default fixture, newest first.
pub fn generate(signins: &[Value]) -> Vec<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x0a1d_17ed);
    let by_id: HashMap<&str, &Member> = roster().iter().map(|m| (m.id.as_str(), m)).collect();
    let mut records = Vec::new();
    for signin in signins.iter().rev() {
        let Some(token) = Token::from(signin, &by_id) else {
            continue;
        };
        if signin["isInteractive"] == true {
            records.push(logon(&token));
        } else if token.resource == EXCHANGE.id || token.app == ATTACKER_APP.id {
            records.extend(mailbox_activity(&mut rng, &token));
        } else if token.resource == SHAREPOINT.id && rng.gen_bool(0.6) {
            records.push(file_activity(&mut rng, &token, None));
        }
    }
    records.extend(attack(&mut rng));
    let (start, end) = (at(WINDOW_START), at(super::ANCHOR));
    records.retain(|r| r.time >= start && r.time < end);
    records.sort_by_key(|r| std::cmp::Reverse(r.time));
    let mut values: Vec<Value> = records
        .into_iter()
        .map(|r| r.into_value(&mut rng))
        .collect();
    let forwarding = forwarding_set();
    let newer = values
        .iter()
        .take_while(|v| v["createdDateTime"].as_str() >= forwarding["createdDateTime"].as_str())
        .count();
    values.insert(newer, forwarding);
    values
}

/// UserLoggedIn / UserLoginFailed for an interactive sign-in.
fn logon(token: &Token) -> Record {
    let code = token.signin["status"]["errorCode"]
        .as_i64()
        .unwrap_or_default();
    let mut r = Record::new(
        token.time,
        RecordType::AzureActiveDirectoryStsLogon,
        if code == 0 {
            "UserLoggedIn"
        } else {
            "UserLoginFailed"
        },
        token.member,
        token.ip,
    );
    r.object_id = token.resource.to_string();
    r.result = if code == 0 { "Success" } else { "Failed" };
    let mut r = r
        .field("AzureActiveDirectoryEventType", json!(1))
        .field(
            "ExtendedProperties",
            json!([{"Name": "ResultStatusDetail", "Value": if code == 0 { "Redirect" } else { "Failure" }},
                   {"Name": "UserAgent", "Value": token.user_agent},
                   {"Name": "RequestType", "Value": "OAuth2:Authorize"}]),
        )
        .field("ModifiedProperties", json!([]))
        .field("Actor", json!([{"ID": token.member.id, "Type": 0}, {"ID": token.member.upn, "Type": 5}]))
        .field("ActorContextId", json!(TENANT_ID))
        .field("ActorIpAddress", json!(token.ip))
        .field("InterSystemsId", token.signin["correlationId"].clone())
        .field("IntraSystemId", token.signin["id"].clone())
        .field("SupportTicketId", json!(""))
        .field("Target", json!([{"ID": token.resource, "Type": 0}]))
        .field("TargetContextId", json!(TENANT_ID))
        .field("ApplicationId", json!(token.app))
        .field(
            "DeviceProperties",
            json!([{"Name": "OS", "Value": token.os}, {"Name": "BrowserType", "Value": token.browser.split(' ').next().unwrap_or_default()},
                   {"Name": "SessionId", "Value": token.session}]),
        )
        .field("ErrorNumber", json!(code.to_string()));
    if code != 0 {
        r = r.field(
            "LogonError",
            json!(if code == 50053 {
                "IdsLocked"
            } else {
                "InvalidUserNameOrPassword"
            }),
        );
    }
    r
}

/// What a mail client does with its token: sync folders, open messages, send.
fn mailbox_activity(rng: &mut impl Rng, token: &Token) -> Vec<Record> {
    let via_graph = token.app == ATTACKER_APP.id;
    let (client, app) = match token.app {
        a if a == OUTLOOK_WEB.id => ("Client=OWA;Action=ViaProxy", (OUTLOOK_WEB.id, "")),
        a if a == OUTLOOK_MOBILE.id => (
            "Client=OutlookService;Outlook-iOS-Android/1.0;",
            (OUTLOOK_MOBILE.id, OUTLOOK_MOBILE.id),
        ),
        _ if via_graph => ("Client=REST;;", (GRAPH.id, ATTACKER_APP.id)),
        _ => ("Client=MSExchangeRPC", ("", "")),
    };
    let ip = format!("{}:{}", token.ip, rng.gen_range(49_152..65_535));
    let base = |rng: &mut dyn rand::RngCore, kind, operation, offset: i64| {
        let time =
            token.time + Duration::seconds(offset) + Duration::milliseconds(rng.gen_range(0..900));
        mailbox_fields(
            Record::new(time, kind, operation, token.member, &ip),
            client,
            token.session,
            app,
        )
        .field("AppAccessContext", token.context())
    };
    let mut out = Vec::new();
    let sync = base(
        rng,
        RecordType::ExchangeItemAggregated,
        "MailItemsAccessed",
        2,
    );
    out.push(mail_access(rng, sync, 0, "Inbox"));
    // The attacker opens many messages at once; employees a few.
    let items = if token.foreign {
        rng.gen_range(12..40)
    } else {
        rng.gen_range(1..6)
    };
    if token.foreign || rng.gen_bool(0.5) {
        let offset = rng.gen_range(20..600);
        let bind = base(
            rng,
            RecordType::ExchangeItemAggregated,
            "MailItemsAccessed",
            offset,
        );
        let folder = if token.foreign && rng.gen_bool(0.3) {
            "Sent Items"
        } else {
            "Inbox"
        };
        out.push(mail_access(rng, bind, items, folder));
    }
    if !token.foreign && token.app == OFFICE.id && rng.gen_bool(0.35) {
        let offset = rng.gen_range(300..2400);
        let send = base(rng, RecordType::ExchangeItem, "Send", offset);
        let subject = SUBJECTS[rng.gen_range(0..SUBJECTS.len())];
        out.push(sent_item(rng, send, subject));
    }
    out
}

const SUBJECTS: [&str; 10] = [
    "RE: 来週の打ち合わせについて",
    "【共有】月次報告書",
    "議事録送付のご連絡",
    "RE: 見積書の件",
    "出張申請の承認依頼",
    "FW: システムメンテナンスのお知らせ",
    "資料送付の件",
    "RE: 発注書の確認",
    "本日の作業報告",
    "【至急】契約書のご確認",
];

fn sent_item(rng: &mut impl Rng, record: Record, subject: &str) -> Record {
    let member = record.member;
    record.field(
        "Item",
        json!({"Id": exchange_id("RgAAAAAdhAMRqmYRzZvIAKoAL8RaBwA", &format!("{}/{}", member.person.key, rng.gen::<u64>())),
               "InternetMessageId": message_id(rng),
               "ParentFolder": {"Id": folder_id(member, "Sent Items"), "Path": "\\Sent Items"},
               "SizeInBytes": rng.gen_range(4_000..350_000),
               "Subject": subject}),
    )
}

/// Documents each department works on: (site, folder, file).
fn department_files(department: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    match department {
        "経理部" => &[
            (
                "Accounting",
                "Shared Documents/支払",
                "支払先一覧_2026.xlsx",
            ),
            (
                "Accounting",
                "Shared Documents/請求書",
                "請求書_ファブリカム商事_202610.pdf",
            ),
            (
                "Accounting",
                "Shared Documents/決算",
                "月次決算_202610.xlsx",
            ),
            (
                "Accounting",
                "Shared Documents/支払",
                "振込予定表_11月.xlsx",
            ),
        ],
        "営業部" => &[
            (
                "Sales",
                "Shared Documents/提案書",
                "提案書_ノースウインド_v3.pptx",
            ),
            ("Sales", "Shared Documents/週報", "営業週報.docx"),
            ("Sales", "Shared Documents/見積", "見積書_202611.xlsx"),
        ],
        "開発部" => &[
            ("Development", "Shared Documents/設計", "基本設計書.docx"),
            (
                "Development",
                "Shared Documents/テスト",
                "テスト計画書.xlsx",
            ),
        ],
        "人事部" => &[
            ("HR", "Shared Documents/勤怠", "勤怠集計_202610.xlsx"),
            ("HR", "Shared Documents/採用", "採用スケジュール.xlsx"),
        ],
        _ => &[
            ("General", "Shared Documents/社内規程", "就業規則.pdf"),
            ("General", "Shared Documents/総務", "備品管理台帳.xlsx"),
            ("General", "Shared Documents/会議", "全社会議資料.pptx"),
        ],
    }
}

/// A file operation on the person's department site (or `file` when given).
fn file_activity(
    rng: &mut impl Rng,
    token: &Token,
    file: Option<(&str, &str, &str, &'static str)>,
) -> Record {
    let files = department_files(token.member.person.department);
    let (site, folder, name, operation) = file.unwrap_or_else(|| {
        let (s, f, n) = files[rng.gen_range(0..files.len())];
        (
            s,
            f,
            n,
            [
                "FileAccessed",
                "FileAccessed",
                "FileModified",
                "FilePreviewed",
            ][rng.gen_range(0..4)],
        )
    });
    let site_url = format!("https://contoso-jp.sharepoint.com/sites/{site}/");
    let time = token.time + Duration::seconds(rng.gen_range(5..900));
    let mut r = Record::new(
        time,
        RecordType::SharePointFileOperation,
        operation,
        token.member,
        token.ip,
    );
    r.object_id = format!("{site_url}{folder}/{name}");
    let extension = name.rsplit('.').next().unwrap_or_default();
    let managed = !token.signin["deviceDetail"]["deviceId"]
        .as_str()
        .unwrap_or_default()
        .is_empty();
    r.field("CorrelationId", json!(random_guid(rng).to_string()))
        .field("EventSource", json!("SharePoint"))
        .field("ItemType", json!("File"))
        .field("ListId", json!(guid("list", site).to_string()))
        .field("ListItemUniqueId", json!(guid("file", name).to_string()))
        .field("Site", json!(guid("site", site).to_string()))
        .field("UserAgent", json!(token.user_agent))
        .field("WebId", json!(guid("web", site).to_string()))
        .field("SourceFileExtension", json!(extension))
        .field("SiteUrl", json!(site_url))
        .field("SourceFileName", json!(name))
        .field("SourceRelativeUrl", json!(folder))
        .field("ApplicationId", json!(token.app))
        .field("AuthenticationType", json!("OAuth"))
        .field(
            "BrowserName",
            json!(token.browser.split(' ').next().unwrap_or_default()),
        )
        .field("GeoLocation", json!("JPN"))
        .field("IsManagedDevice", json!(managed))
        .field(
            "Platform",
            json!(if token.os.starts_with("Windows") {
                "WinDesktop"
            } else {
                "Unknown"
            }),
        )
        .field("AppAccessContext", token.context())
}

/// Records of the attacker's actions that no sign-in implies on its own, one
/// step per phase.
fn attack(rng: &mut impl Rng) -> Vec<Record> {
    let session = super::signins::stolen_session().to_string();
    let mut out = inbox_rules(rng, &session);
    out.push(phish_opened());
    out.extend(fraud_mail(rng, &session));
    out.extend(accounting_files(rng, &session));
    out.extend(directory_changes(rng));
    out
}

/// A mailbox record of Outlook on the web behind the stolen session.
fn owa(
    rng: &mut impl Rng,
    session: &str,
    (time, kind, operation): (&str, RecordType, &'static str),
    place: &Place,
) -> Record {
    let ip = format!("{}:{}", place.ip, rng.gen_range(49_152..65_535));
    mailbox_fields(
        Record::new(at(time), kind, operation, victim(), &ip),
        "Client=OWA;Action=ViaProxy",
        session,
        (OUTLOOK_WEB.id, ""),
    )
}

/// `Parameters` of an Exchange admin record.
fn admin_params(params: &[(&str, String)]) -> Value {
    json!(params
        .iter()
        .map(|(n, v)| json!({"Name": n, "Value": v}))
        .collect::<Vec<_>>())
}

/// An inbox-rule cmdlet the attacker ran from Outlook on the web.
fn inbox_rule(
    rng: &mut impl Rng,
    session: &str,
    (time, operation, name): (&str, &'static str, &str),
    params: Vec<(&str, String)>,
) -> Record {
    let mut all = vec![
        ("AlwaysDeleteOutlookRulesBlob", "False".to_string()),
        ("Force", "False".to_string()),
    ];
    all.extend(params);
    let object = format!("{}\\{name}", victim().upn);
    admin_cmdlet(rng, session, (time, operation), &object, &all)
}

/// An Exchange cmdlet the attacker ran on `object` from Outlook on the web.
fn admin_cmdlet(
    rng: &mut impl Rng,
    session: &str,
    (time, operation): (&str, &'static str),
    object: &str,
    params: &[(&str, String)],
) -> Record {
    let mut r = Record::new(
        at(time),
        RecordType::ExchangeAdmin,
        operation,
        victim(),
        &format!("{}:{}", ATTACKER.ip, rng.gen_range(49_152..65_535)),
    );
    r.object_id = object.to_string();
    r.result = "True";
    r.field("AppId", json!(OUTLOOK_WEB.id))
        .field("ClientAppId", json!(""))
        .field("ExternalAccess", json!(false))
        .field("OrganizationName", json!(DOMAIN))
        .field("OriginatingServer", json!(EXCHANGE_SERVER))
        .field("Parameters", admin_params(params))
        .field("SessionId", json!(session))
}

/// The attacker's mailbox forwarding. It is made with a generator of its own,
/// so that adding it left every other record of the scenario as it was.
fn forwarding_set() -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(0xf0_7a4d);
    let session = super::signins::stolen_session().to_string();
    let params = [
        ("Identity", victim().upn.clone()),
        ("ForwardingSmtpAddress", format!("smtp:{FORWARD_ADDRESS}")),
        ("DeliverToMailboxAndForward", "True".to_string()),
    ];
    admin_cmdlet(
        &mut rng,
        &session,
        (MAILBOX_FORWARDING_SET, "Set-Mailbox"),
        &victim().upn,
        &params,
    )
    .into_value(&mut rng)
}

/// The two rules (hide, forward) and the hide rule's later extension.
fn inbox_rules(rng: &mut impl Rng, session: &str) -> Vec<Record> {
    let hide = inbox_rule(
        rng,
        session,
        (RULE_HIDE_CREATED, "New-InboxRule", "."),
        vec![
            ("Name", ".".into()),
            ("SubjectOrBodyContainsWords", HIDE_WORDS.join(";")),
            ("MoveToFolder", "RSS Feeds".into()),
            ("MarkAsRead", "True".into()),
            ("StopProcessingRules", "True".into()),
        ],
    );
    let forward = inbox_rule(
        rng,
        session,
        (RULE_FORWARD_CREATED, "New-InboxRule", ".."),
        vec![
            ("Name", "..".into()),
            ("SubjectOrBodyContainsWords", FORWARD_WORDS.join(";")),
            ("ForwardTo", FORWARD_ADDRESS.into()),
            ("StopProcessingRules", "False".into()),
        ],
    );
    let all_words: Vec<&str> = HIDE_WORDS
        .iter()
        .chain(HIDE_WORDS_ADDED.iter())
        .copied()
        .collect();
    let updated = inbox_rule(
        rng,
        session,
        (RULE_HIDE_UPDATED, "Set-InboxRule", "."),
        vec![
            ("Identity", format!("{}\\.", victim().upn)),
            ("SubjectOrBodyContainsWords", all_words.join(";")),
        ],
    );
    vec![hide, forward, updated]
}

/// 佐藤 opens the phish in Outlook at her desk, half a minute before the proxy sign-in.
fn phish_opened() -> Record {
    let victim = victim();
    let opened = mailbox_fields(
        Record::new(
            at(PHISH_OPENED),
            RecordType::ExchangeItemAggregated,
            "MailItemsAccessed",
            victim,
            &format!("{}:{}", TOKYO_OFFICE.ip, 50_112),
        ),
        "Client=MSExchangeRPC",
        &guid("session", "hanako-desk").to_string(),
        ("", ""),
    );
    opened
        .field("OperationProperties", json!([{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}]))
        .field("Folders", json!([{"FolderItems": [{"InternetMessageId": super::messages::PHISH.internet_message_id, "SizeInBytes": 41_877}],
                                 "Id": folder_id(victim, "Inbox"), "Path": "\\Inbox"}]))
        .field("OperationCount", json!(1))
}

/// The fraudulent "new bank account" mail to the customer, and the partner's
/// reply, pulled out of RSS Feeds into Deleted Items.
fn fraud_mail(rng: &mut impl Rng, session: &str) -> [Record; 2] {
    let victim = victim();
    let bec = owa(
        rng,
        session,
        (BEC_SENT, RecordType::ExchangeItem, "Send"),
        &ATTACKER,
    );
    let bec = bec.field(
        "Item",
        json!({"Id": super::messages::BEC.item_id(), "InternetMessageId": super::messages::BEC.internet_message_id,
               "ParentFolder": {"Id": folder_id(victim, "Sent Items"), "Path": "\\Sent Items"},
               "SizeInBytes": 18_442, "Subject": super::messages::BEC.subject}),
    );
    let reply = &super::messages::REPLY;
    let deleted = owa(
        rng,
        session,
        (REPLY_DELETED, RecordType::ExchangeItemGroup, "MoveToDeletedItems"),
        &ATTACKER_ALT,
    )
    .field("AffectedItems", json!([{"Id": reply.item_id(), "InternetMessageId": reply.internet_message_id,
        "ParentFolder": {"Id": folder_id(victim, "RSS Feeds"), "Path": "\\RSS Feeds"}, "Subject": reply.subject}]))
    .field("CrossMailboxOperation", json!(false))
    .field("DestFolder", json!({"Id": folder_id(victim, "Deleted Items"), "Path": "\\Deleted Items"}))
    .field("Folder", json!({"Id": folder_id(victim, "RSS Feeds"), "Path": "\\RSS Feeds"}));
    [bec, deleted]
}

/// The accounting share, read from the replayed browser session.
fn accounting_files(rng: &mut impl Rng, session: &str) -> Vec<Record> {
    let signin = json!({"correlationId": random_guid(rng).to_string(), "uniqueTokenIdentifier": "",
                        "deviceDetail": {"deviceId": ""}});
    let token = Token {
        time: at(FILES_ACCESSED),
        member: victim(),
        app: OFFICE_HOME.id,
        resource: SHAREPOINT.id,
        ip: ATTACKER.ip,
        session,
        user_agent: ATTACKER_CHROME.user_agent,
        os: ATTACKER_CHROME.os,
        browser: ATTACKER_CHROME.browser,
        foreign: true,
        signin: &signin,
    };
    let mut out = Vec::new();
    for (site, folder, name) in department_files("経理部") {
        for operation in ["FileAccessed", "FileDownloaded"] {
            out.push(file_activity(
                rng,
                &token,
                Some((site, folder, name, operation)),
            ));
        }
    }
    out
}

/// Directory changes also reach the unified audit log (RecordType 8).
fn directory_changes(rng: &mut impl Rng) -> Vec<Record> {
    let victim = victim();
    let app = tenant_app(ATTACKER_APP);
    let changes = [
        (
            APP_CREATED,
            "Add application.",
            app.object_id.expect("registered app").to_string(),
        ),
        (APP_CREATED, "Add service principal.", app.sp_id.to_string()),
        (
            APP_CONSENTED,
            "Consent to application.",
            app.sp_id.to_string(),
        ),
        (MFA_REGISTERED, "Update user.", victim.id.clone()),
        (
            GUEST_INVITED,
            "Add user.",
            guid("user", GUEST_ADDRESS).to_string(),
        ),
    ];
    changes
        .into_iter()
        .map(|(time, operation, object)| directory_change(rng, time, operation, object))
        .collect()
}

/// One directory change as a unified audit log record.
fn directory_change(
    rng: &mut impl Rng,
    time: &str,
    operation: &'static str,
    object: String,
) -> Record {
    let victim = victim();
    let mut r = Record::new(
        at(time) + Duration::seconds(1),
        RecordType::AzureActiveDirectory,
        operation,
        victim,
        "",
    );
    r.object_id = object.clone();
    r.result = "Success";
    r.client_ip = String::new();
    r.field("AzureActiveDirectoryEventType", json!(1))
        .field("ExtendedProperties", json!([{"Name": "additionalDetails", "Value": "{}"},
            {"Name": "extendedAuditEventCategory", "Value": if operation.starts_with("Add user") || operation.starts_with("Update user") { "User" } else { "Application" }}]))
        .field("Actor", json!([{"ID": victim.upn, "Type": 5}, {"ID": victim.id, "Type": 2}]))
        .field("ActorContextId", json!(TENANT_ID))
        .field("InterSystemsId", json!(random_guid(rng).to_string()))
        .field("IntraSystemId", json!(random_guid(rng).to_string()))
        .field("SupportTicketId", json!(""))
        .field("Target", json!([{"ID": object, "Type": 2}]))
        .field("TargetContextId", json!(TENANT_ID))
}
