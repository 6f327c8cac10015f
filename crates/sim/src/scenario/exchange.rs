//! What only Exchange Online shows of the tenant (served by the simulated
//! InvokeCommand; shared/reference/exchange-rest.md §2.7 and §4 for the shapes):
//! every mailbox's `Get-Mailbox` object, its inbox rules as `Get-InboxRule`
//! returns them (the Graph rules of [`super::directory`] in Exchange's words,
//! plus the hidden `Junk E-Mail Rule` every mailbox has), its permissions, and
//! the organisation's transport rules and audit settings.
//!
//! The attack adds two things Graph cannot see: the attacker set
//! `ForwardingSmtpAddress` on 佐藤's mailbox (a copy of everything to the
//! look-alike address), and, after deleting the customer's reply by hand, a
//! hidden rule (made through MAPI, so no cmdlet ran and no audit record exists)
//! that deletes the customer's further mail unread.

use super::catalogue::*;
use super::ids::guid;
use super::story::*;
use crate::fixture::{Exchange, ExchangeMailbox, ExchangeRule, Mailbox};
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The cmdlets of the collector's custom read-only Exchange roles (README,
/// "Exchange Online").
pub const READ_ONLY_CMDLETS: [&str; 7] = [
    "Get-AdminAuditLogConfig",
    "Get-InboxRule",
    "Get-Mailbox",
    "Get-MailboxAuditBypassAssociation",
    "Get-MailboxPermission",
    "Get-RecipientPermission",
    "Get-TransportRule",
];

/// Mailbox actions each logon type audits by default
/// (<https://learn.microsoft.com/purview/audit-mailboxes#mailbox-actions-for-user-mailboxes-and-shared-mailboxes>).
const AUDIT_OWNER: [&str; 8] = [
    "ApplyRecord",
    "HardDelete",
    "MailItemsAccessed",
    "MoveToDeletedItems",
    "Send",
    "SoftDelete",
    "Update",
    "UpdateInboxRules",
];
const AUDIT_DELEGATE: [&str; 7] = [
    "ApplyRecord",
    "Create",
    "HardDelete",
    "MoveToDeletedItems",
    "SendAs",
    "SendOnBehalf",
    "SoftDelete",
];
const AUDIT_ADMIN: [&str; 8] = [
    "ApplyRecord",
    "Copy",
    "Create",
    "HardDelete",
    "MailItemsAccessed",
    "MoveToDeletedItems",
    "Send",
    "SoftDelete",
];

/// Exchange's state, consistent with the Graph mailboxes.
pub fn exchange(mailboxes: &BTreeMap<String, Mailbox>) -> Exchange {
    let members: BTreeMap<&str, &Member> = roster().iter().map(|m| (m.id.as_str(), m)).collect();
    Exchange {
        role_cmdlets: BTreeMap::from([(
            TOOL.id.to_string(),
            READ_ONLY_CMDLETS.iter().map(|c| c.to_string()).collect(),
        )]),
        mailboxes: mailboxes
            .iter()
            .filter_map(|(id, mailbox)| {
                let member = members.get(id.as_str())?;
                Some((id.clone(), exchange_mailbox(member, mailbox)))
            })
            .collect(),
        transport_rules: vec![external_warning_rule()],
        admin_audit_log_config: audit_config(),
        audit_bypass_associations: roster()
            .iter()
            .map(|m| json!({"Name": m.person.key, "Identity": m.person.key, "AuditBypassEnabled": false,
                            "ObjectCategory": "contoso-jp.onmicrosoft.com/Configuration/Schema/Person"}))
            .collect(),
    }
}

/// A `#Collection(String)` property and its annotation, as Exchange writes them.
fn strings(map: &mut Map<String, Value>, name: &str, items: &[String]) {
    map.insert(format!("{name}@odata.type"), json!("#Collection(String)"));
    map.insert(name.to_string(), json!(items));
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn exchange_mailbox(member: &Member, mailbox: &Mailbox) -> ExchangeMailbox {
    let alias = member.person.key;
    let mut rules: Vec<ExchangeRule> = mailbox
        .rules
        .iter()
        .map(|r| ExchangeRule {
            hidden: false,
            rule: inbox_rule(member, r),
        })
        .collect();
    if member.index == victim().index {
        rules.push(ExchangeRule {
            hidden: true,
            rule: hidden_rule(member, rules.len() + 1),
        });
    }
    rules.push(ExchangeRule {
        hidden: true,
        rule: junk_rule(member, rules.len() + 1),
    });
    let mut permission = Map::new();
    permission.insert("Identity".into(), json!(alias));
    permission.insert("User".into(), json!("NT AUTHORITY\\SELF"));
    strings(
        &mut permission,
        "AccessRights",
        &owned(&["FullAccess", "ReadPermission"]),
    );
    permission.insert("IsInherited".into(), json!(false));
    permission.insert("Deny".into(), json!(false));
    permission.insert("InheritanceType".into(), json!("All"));
    let mut send_as = Map::new();
    send_as.insert("Identity".into(), json!(alias));
    send_as.insert("Trustee".into(), json!("NT AUTHORITY\\SELF"));
    send_as.insert("AccessControlType".into(), json!("Allow"));
    strings(&mut send_as, "AccessRights", &owned(&["SendAs"]));
    send_as.insert("IsInherited".into(), json!(false));
    send_as.insert("InheritanceType".into(), json!("None"));
    ExchangeMailbox {
        mailbox: get_mailbox(member),
        inbox_rules: rules,
        mailbox_permissions: vec![Value::Object(permission)],
        recipient_permissions: vec![Value::Object(send_as)],
    }
}

/// `Get-Mailbox`, with the annotations of the published capture.
fn get_mailbox(member: &Member) -> Value {
    let forwarded = member.index == victim().index;
    let mut m = Map::new();
    let alias = member.person.key;
    for (k, v) in [
        ("Name", json!(alias)),
        ("Alias", json!(alias)),
        ("Identity", json!(alias)),
        ("DisplayName", json!(member.display_name)),
        ("UserPrincipalName", json!(member.upn)),
        ("PrimarySmtpAddress", json!(member.upn)),
        ("RecipientTypeDetails", json!("UserMailbox")),
        ("ExternalDirectoryObjectId", json!(member.id)),
        ("ExchangeGuid@odata.type", json!("#Guid")),
        (
            "ExchangeGuid",
            json!(guid("exchange-guid", alias).to_string()),
        ),
        ("ForwardingAddress", Value::Null),
        (
            "ForwardingSmtpAddress",
            if forwarded {
                json!(format!("smtp:{FORWARD_ADDRESS}"))
            } else {
                Value::Null
            },
        ),
        ("DeliverToMailboxAndForward", json!(forwarded)),
        ("AuditEnabled", json!(true)),
        ("AuditLogAgeLimit", json!("90.00:00:00")),
    ] {
        m.insert(k.to_string(), v);
    }
    strings(&mut m, "AuditAdmin", &owned(&AUDIT_ADMIN));
    strings(&mut m, "AuditDelegate", &owned(&AUDIT_DELEGATE));
    strings(&mut m, "AuditOwner", &owned(&AUDIT_OWNER));
    strings(
        &mut m,
        "DefaultAuditSet",
        &owned(&["Admin", "Delegate", "Owner"]),
    );
    strings(&mut m, "GrantSendOnBehalfTo", &[]);
    m.insert(
        "WhenMailboxCreated".into(),
        json!(format!(
            "2023-04-0{}T01:12:44.0000000+00:00",
            1 + member.index % 9
        )),
    );
    let changed = if forwarded {
        format!(
            "{}.0000000+00:00",
            MAILBOX_FORWARDING_SET.trim_end_matches('Z')
        )
    } else {
        format!("2025-06-1{}T03:40:02.0000000+00:00", member.index % 10)
    };
    m.insert("WhenChanged".into(), json!(changed));
    Value::Object(m)
}

/// The 64-bit `RuleIdentity` a Graph `messageRule` id encodes (its base64
/// holds the same eight bytes, least significant first), so both views name
/// the same rule.
fn rule_identity(graph_id: &str) -> u64 {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(graph_id)
        .expect("scenario rule ids are base64");
    u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
}

/// The fields every `Get-InboxRule` object has.
fn rule_base(member: &Member, name: &str, identity: u64, priority: usize) -> Map<String, Value> {
    let alias = member.person.key;
    let mut m = Map::new();
    for (k, v) in [
        ("Name", json!(name)),
        ("Identity", json!(format!("{alias}\\{identity}"))),
        ("RuleIdentity", json!(identity)),
        ("MailboxOwnerId", json!(alias)),
        ("Priority", json!(priority)),
        ("Enabled", json!(true)),
        ("InError", json!(false)),
        ("ErrorType", json!("None")),
        ("DeleteMessage", json!(false)),
        ("MarkAsRead", json!(false)),
        ("StopProcessingRules", json!(false)),
        ("MoveToFolder", Value::Null),
        ("ForwardTo", Value::Null),
        ("From", Value::Null),
    ] {
        m.insert(k.to_string(), v);
    }
    m
}

/// A Graph `messageRule` of the scenario as `Get-InboxRule` returns it.
fn inbox_rule(member: &Member, graph: &Value) -> Value {
    let name = graph["displayName"].as_str().unwrap_or_default();
    let priority = graph["sequence"].as_u64().unwrap_or(1) as usize;
    let mut m = rule_base(
        member,
        name,
        rule_identity(graph["id"].as_str().unwrap_or_default()),
        priority,
    );
    let actions = &graph["actions"];
    let conditions = &graph["conditions"];
    let mut when = Vec::new();
    let mut then = Vec::new();
    if let Some(words) = conditions["bodyOrSubjectContains"].as_array() {
        let words: Vec<String> = words
            .iter()
            .filter_map(|w| w.as_str().map(String::from))
            .collect();
        when.push(format!(
            "includes '{}' in the subject or body",
            words.join("' or '")
        ));
        strings(&mut m, "SubjectOrBodyContainsWords", &words);
    }
    if let Some(senders) = conditions["senderContains"].as_array() {
        let senders: Vec<String> = senders
            .iter()
            .filter_map(|w| w.as_str().map(String::from))
            .collect();
        when.push(format!(
            "includes '{}' in the sender's address",
            senders.join("' or '")
        ));
        strings(&mut m, "FromAddressContainsWords", &senders);
    }
    if let Some(folder) = actions["moveToFolder"].as_str() {
        let display = super::directory::folder_name(member, folder).unwrap_or("Inbox");
        then.push(format!("move the message to folder '{display}'"));
        m.insert(
            "MoveToFolder".into(),
            json!(format!("{}:\\{display}", member.person.key)),
        );
    }
    if let Some(to) = actions["forwardTo"].as_array() {
        let to: Vec<String> = to
            .iter()
            .filter_map(|r| r["emailAddress"]["address"].as_str())
            .map(|a| format!("\"{a}\" [SMTP:{a}]"))
            .collect();
        then.push(format!("forward the message to {}", to.join(" or ")));
        strings(&mut m, "ForwardTo", &to);
    }
    if actions["markAsRead"] == true {
        then.push("mark the message as read".into());
        m.insert("MarkAsRead".into(), json!(true));
    }
    if actions["stopProcessingRules"] == true {
        then.push("stop processing more rules on this message".into());
        m.insert("StopProcessingRules".into(), json!(true));
    }
    m.insert("Description".into(), json!(description(&when, &then)));
    Value::Object(m)
}

/// `Description` as Exchange words it: conditions, then actions.
fn description(when: &[String], then: &[String]) -> String {
    let mut d = String::from("If the message:\r\n");
    for w in when {
        d.push_str(&format!("\t{w}\r\n"));
    }
    d.push_str("Take the following actions:\r\n");
    for (i, t) in then.iter().enumerate() {
        let and = if i == 0 { "" } else { "and " };
        d.push_str(&format!("\t{and}{t}\r\n"));
    }
    d
}

/// The attacker's hidden rule: the customer's mail is deleted unread.
fn hidden_rule(member: &Member, priority: usize) -> Value {
    let identity = rule_identity(&super::ids::rule_id("hanako/hidden"));
    let mut m = rule_base(member, "", identity, priority);
    strings(
        &mut m,
        "FromAddressContainsWords",
        &[CUSTOMER_ADDRESS.to_string()],
    );
    m.insert("DeleteMessage".into(), json!(true));
    m.insert("MarkAsRead".into(), json!(true));
    m.insert("StopProcessingRules".into(), json!(true));
    m.insert(
        "Description".into(),
        json!(description(
            &[format!(
                "includes '{CUSTOMER_ADDRESS}' in the sender's address"
            )],
            &[
                "delete the message".into(),
                "mark the message as read".into(),
                "stop processing more rules on this message".into()
            ],
        )),
    );
    Value::Object(m)
}

/// The Junk E-Mail rule every mailbox has, listed only with `-IncludeHidden`.
fn junk_rule(member: &Member, priority: usize) -> Value {
    let identity = rule_identity(&super::ids::rule_id(&format!("{}/junk", member.person.key)));
    let mut m = rule_base(member, "Junk E-Mail Rule", identity, priority);
    m.insert("Description".into(), json!("Junk E-Mail Rule\r\n"));
    Value::Object(m)
}

/// The organisation's one transport rule: a warning on external mail.
fn external_warning_rule() -> Value {
    let name = "外部メールの注意喚起";
    let mut m = Map::new();
    for (k, v) in [
        ("Name", json!(name)),
        ("Identity", json!(name)),
        ("Guid@data.type", json!("System.Guid")),
        ("Guid", json!(guid("transport-rule", "external-warning").to_string())),
        ("State", json!("Enabled")),
        ("Mode", json!("Enforce")),
        ("Priority", json!(0)),
        ("FromScope", json!("NotInOrganization")),
        ("PrependSubject", json!("[外部] ")),
        ("RedirectMessageTo", Value::Null),
        ("BlindCopyTo", Value::Null),
        ("DeleteMessage", json!(false)),
        ("SetSCL", Value::Null),
        (
            "Description",
            json!("If the message:\r\n\tIs received from 'Outside the organization'\r\nTake the following actions:\r\n\tPrepend the subject of the message with '[外部] '\r\n"),
        ),
        ("WhenChanged@data.type", json!("System.DateTime")),
        ("WhenChanged", json!("2025-04-14T02:11:09.0000000+00:00")),
    ] {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// `Get-AdminAuditLogConfig`: the unified audit log ingests.
fn audit_config() -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("Name", json!("Admin Audit Log Settings")),
        ("Identity", json!("Admin Audit Log Settings")),
        ("AdminAuditLogEnabled", json!(true)),
        ("UnifiedAuditLogIngestionEnabled", json!(true)),
        ("AdminAuditLogAgeLimit", json!("90.00:00:00")),
        ("LogLevel", json!("None")),
        ("TestCmdletLoggingEnabled", json!(false)),
    ] {
        m.insert(k.to_string(), v);
    }
    strings(&mut m, "AdminAuditLogCmdlets", &owned(&["*"]));
    strings(&mut m, "AdminAuditLogParameters", &owned(&["*"]));
    m.insert("WhenChanged@data.type".into(), json!("System.DateTime"));
    m.insert(
        "WhenChanged".into(),
        json!("2023-04-01T00:30:12.0000000+00:00"),
    );
    Value::Object(m)
}
