//! What the sources beyond the first 22 see of the story: the message trace of
//! the phish (sent to the whole accounting department, then to sales), the
//! fraud, the reply and the rule's forwards; Conditional Access as the sign-ins
//! reference it; deleted objects; the attacker's app as a risky service
//! principal; Defender XDR's alerts and incidents; 佐藤's sent, deleted and
//! soft-deleted mail; the E5 subscription and everyone's licences.

use super::catalogue::*;
use super::ids::{at, guid, secs};
use super::messages::{BEC, PHISH, REPLY};
use super::story::*;
use serde_json::{json, Value};

/// The Graph id of one of the member's mail folders (by display or well-known name).
pub fn graph_folder_id(member: &Member, folder: &str) -> String {
    super::ids::exchange_id(
        "AAMkADI5ZjY0NmNiLTdlZjUtNDc3My1hOGQwLTRmNzQ2NGY1ZjkzOQAuAAAAAAC",
        &format!("{}/{folder}", member.person.key),
    )
}

/// Microsoft's message-trace app, whose service principal the tenant has had
/// since its SIEM connector was moved to Graph message trace.
pub const TRACE_APP: (&str, &str) = (
    "8bd644d1-64a1-4d4b-ae52-2e0cbf64e373",
    "Transport Data Platform",
);

/// When the second phish of the same sender reached the sales team.
const SECOND_PHISH: &str = "2026-11-18T03:02:40Z";
const SECOND_PHISH_ID: &str =
    "<TYCP286MB1844A7C1D09E3F2B6C54D8E0F1A3@TYCP286MB1844.JPNP286.PROD.OUTLOOK.COM>";
/// The security notification the attacker shift-deleted after adding the Authenticator.
const NOTICE_DELETED: &str = "2026-11-18T01:33:02Z";
const PARTNER_IP: &str = "198.51.100.190";
const CUSTOMER_IP: &str = "198.51.100.191";

/// Colleagues of the victim's department (the phish went to all of them).
fn accounting() -> Vec<&'static Member> {
    roster()
        .iter()
        .filter(|m| m.person.department == victim().person.department && m.index != victim().index)
        .collect()
}

fn sales() -> Vec<&'static Member> {
    roster()
        .iter()
        .filter(|m| m.person.department == "営業部")
        .take(2)
        .collect()
}

fn minus(t: &str, d: chrono::Duration) -> String {
    secs(at(t) - d)
}

/// One message-trace row (one per message and recipient; the id is the
/// message's trace id, the same for every recipient).
#[allow(clippy::too_many_arguments)]
fn trace(
    message_id: &str,
    from: &str,
    to: &str,
    when: &str,
    subject: &str,
    size: u64,
    ips: (&str, &str),
    status: &str,
) -> Value {
    json!({"id": guid("messageTrace", message_id).to_string(), "senderAddress": from,
           "recipientAddress": to, "messageId": message_id, "receivedDateTime": when,
           "subject": subject, "size": size, "fromIP": ips.0, "toIP": ips.1, "status": status})
}

/// Ordinary internal mail of the victim: on 20 working days, one message she
/// sends and one she receives.
fn ordinary_mail() -> Vec<(String, &'static Member, &'static Member, String, String)> {
    let colleagues = accounting();
    (1..=28)
        .filter(|d| d % 7 != 0 && d % 7 != 6)
        .flat_map(|d| {
            let day = at(super::ANCHOR) - chrono::Duration::days(d);
            let peer = colleagues[d as usize % colleagues.len()];
            let sent = secs(day + chrono::Duration::hours(2) + chrono::Duration::minutes(d * 3));
            let received = secs(day + chrono::Duration::hours(5) + chrono::Duration::minutes(d));
            [
                (
                    format!("<sent-{d}@{DOMAIN}>"),
                    victim(),
                    peer,
                    sent,
                    format!("経費精算の確認 ({d})"),
                ),
                (
                    format!("<recv-{d}@{DOMAIN}>"),
                    peer,
                    victim(),
                    received,
                    format!("RE: 経費精算の確認 ({d})"),
                ),
            ]
        })
        .collect()
}

/// Message-trace rows of the month, newest first.
pub fn message_traces() -> Vec<Value> {
    let office = "192.0.2.10";
    let mut rows = vec![];
    for m in std::iter::once(victim()).chain(accounting()) {
        let status = if m.index == accounting()[0].index {
            "quarantined"
        } else {
            "delivered"
        };
        rows.push(trace(
            PHISH.internet_message_id,
            PARTNER_SENDER,
            &m.upn,
            PHISH_DELIVERED,
            PHISH.subject,
            48_211,
            (PARTNER_IP, ""),
            status,
        ));
    }
    for m in sales() {
        rows.push(trace(
            SECOND_PHISH_ID,
            PARTNER_SENDER,
            &m.upn,
            SECOND_PHISH,
            PHISH.subject,
            48_204,
            (PARTNER_IP, ""),
            "delivered",
        ));
    }
    rows.push(trace(
        BEC.internet_message_id,
        &victim().upn,
        CUSTOMER_ADDRESS,
        BEC_SENT,
        BEC.subject,
        21_840,
        (ATTACKER.ip, CUSTOMER_IP),
        "delivered",
    ));
    rows.push(trace(
        REPLY.internet_message_id,
        CUSTOMER_ADDRESS,
        &victim().upn,
        REPLY_RECEIVED,
        REPLY.subject,
        18_333,
        (CUSTOMER_IP, ""),
        "delivered",
    ));
    // The `..` rule forwards invoices and quotes out of the tenant.
    for (n, when) in [
        "2026-11-18T05:11:09Z",
        "2026-11-19T23:48:30Z",
        "2026-11-24T02:27:51Z",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("<fwd-{n}@{DOMAIN}>");
        rows.push(trace(
            &id,
            &victim().upn,
            FORWARD_ADDRESS,
            when,
            "FW: 請求書送付のご案内",
            35_102 + n as u64 * 311,
            (office, "203.0.113.25"),
            "delivered",
        ));
    }
    for (id, from, to, when, subject) in ordinary_mail() {
        rows.push(trace(
            &id,
            &from.upn,
            &to.upn,
            &when,
            &subject,
            9_870,
            (office, ""),
            "delivered",
        ));
    }
    rows.sort_by_key(|r| {
        std::cmp::Reverse(at(r["receivedDateTime"].as_str().unwrap_or(WINDOW_START)))
    });
    rows
}

/// The Recoverable Items folders of a mailbox (hidden, as Graph lists them
/// with `includeHiddenFolders=true`).
pub fn recoverable_folders(member: &Member) -> Vec<Value> {
    // Only the victim's hold anything (the simulator serves the others empty).
    if member.index != victim().index {
        return Vec::new();
    }
    let root = graph_folder_id(member, "Recoverable Items");
    let mut out = vec![json!({"id": root, "displayName": "Recoverable Items",
        "parentFolderId": graph_folder_id(member, "root"), "childFolderCount": 3,
        "unreadItemCount": 0, "totalItemCount": 0, "isHidden": true})];
    for name in ["Deletions", "Purges", "Versions"] {
        let total = if name == "Deletions" { 3 } else { 0 };
        out.push(json!({"id": graph_folder_id(member, name), "displayName": name, "parentFolderId": root,
            "childFolderCount": 0, "unreadItemCount": 0, "totalItemCount": total, "isHidden": true}));
    }
    out
}

fn address(name: &str, addr: &str) -> Value {
    json!({"emailAddress": {"name": name, "address": addr}})
}

/// One message as `$select` of the mail sources returns it.
#[allow(clippy::too_many_arguments)]
fn item(
    member: &Member,
    key: &str,
    folder: &str,
    (subject, internet_id): (&str, &str),
    from: Value,
    to: Vec<Value>,
    (sent, received, modified): (&str, &str, &str),
    read: bool,
) -> Value {
    let id = super::ids::exchange_id(
        "AAMkADI5ZjY0NmNiLTdlZjUtNDc3My1hOGQwLTRmNzQ2NGY1ZjkzOQBGAAAAAAC",
        internet_id,
    );
    json!({"@odata.etag": format!("W/\"CQAAABYAAAD{}\"", &guid("etag", key).simple().to_string()[..12]),
        "id": id, "createdDateTime": received, "lastModifiedDateTime": modified,
        "receivedDateTime": received, "sentDateTime": sent, "hasAttachments": false,
        "internetMessageId": internet_id, "subject": subject, "importance": "normal",
        "parentFolderId": graph_folder_id(member, folder),
        "conversationId": super::ids::exchange_id("AAQkADI5ZjY0NmNiLTdlZjUtNDc3My1hOGQwLTRmNzQ2NGY1ZjkzOQAQA", subject.trim_start_matches("RE: ")),
        "isRead": read, "isDraft": false, "sender": from.clone(), "from": from,
        "toRecipients": to, "ccRecipients": [], "bccRecipients": [], "replyTo": []})
}

/// The victim's mail the mail sources read: the phish, the fraud and her
/// ordinary sent mail, the reply the attacker deleted, the security notice
/// they shift-deleted, and ordinary clean-ups.
pub fn mail_items(member: &Member) -> Vec<Value> {
    if member.index != victim().index {
        return Vec::new();
    }
    let me = address(&member.display_name, &member.upn);
    let mut out = vec![
        item(
            member,
            "phish",
            "Inbox",
            (PHISH.subject, PHISH.internet_message_id),
            address("田中 一郎", PARTNER_SENDER),
            vec![me.clone()],
            (PHISH_DELIVERED, PHISH_DELIVERED, PHISH_OPENED),
            true,
        ),
        item(
            member,
            "bec",
            "Sent Items",
            (BEC.subject, BEC.internet_message_id),
            me.clone(),
            vec![address("ノースウインド商事 経理部", CUSTOMER_ADDRESS)],
            (BEC_SENT, BEC_SENT, BEC_SENT),
            true,
        ),
        item(
            member,
            "reply",
            "Deleted Items",
            (REPLY.subject, REPLY.internet_message_id),
            address("山下 恵子", CUSTOMER_ADDRESS),
            vec![me.clone()],
            (REPLY_RECEIVED, REPLY_RECEIVED, REPLY_DELETED),
            true,
        ),
        item(
            member,
            "notice",
            "Deletions",
            (
                "セキュリティ情報が追加されました",
                "<security-info-added@accountprotection.microsoft.com>",
            ),
            address(
                "Microsoft アカウント チーム",
                "account-security-noreply@accountprotection.microsoft.com",
            ),
            vec![me.clone()],
            (MFA_REGISTERED, MFA_REGISTERED, NOTICE_DELETED),
            false,
        ),
    ];
    for (id, from, to, when, subject) in ordinary_mail() {
        if from.index == member.index {
            out.push(item(
                member,
                &id,
                "Sent Items",
                (&subject, &id),
                me.clone(),
                vec![address(&to.display_name, &to.upn)],
                (&when, &when, &when),
                true,
            ));
        }
    }
    for (n, days) in [(1, 12), (2, 5)] {
        let when = minus(super::ANCHOR, chrono::Duration::days(days));
        let deleted = minus(
            super::ANCHOR,
            chrono::Duration::days(days) - chrono::Duration::hours(3),
        );
        let (folder, id) = if n == 1 {
            ("Deleted Items", format!("<newsletter-{n}@{DOMAIN}>"))
        } else {
            ("Deletions", format!("<newsletter-{n}@{DOMAIN}>"))
        };
        out.push(item(
            member,
            &id,
            folder,
            ("社内報 11月号", &id),
            address("総務部", &format!("general@{DOMAIN}")),
            vec![me.clone()],
            (&when, &when, &deleted),
            true,
        ));
    }
    out.sort_by_key(|m| {
        std::cmp::Reverse(at(m["lastModifiedDateTime"]
            .as_str()
            .unwrap_or(WINDOW_START)))
    });
    out
}

/// Conditional Access: the two policies every sign-in lists, the named
/// locations they use, and an old policy deleted in the autumn clean-up.
pub fn conditional_access() -> crate::fixture::ConditionalAccess {
    let japan = guid("named-location", "japan").to_string();
    let offices = guid("named-location", "offices").to_string();
    let break_glass = roster_break_glass();
    let users = |include: &[&str], exclude: Vec<String>| {
        json!({"includeUsers": include, "excludeUsers": exclude,
        "includeGroups": [], "excludeGroups": [], "includeRoles": [], "excludeRoles": [],
        "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null})
    };
    let conditions = |users: Value, locations: Value| {
        json!({"applications": {"includeApplications": ["All"],
        "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [],
        "applicationFilter": null}, "users": users, "clientApplications": null, "clientAppTypes": ["all"],
        "devices": null, "locations": locations, "platforms": null, "servicePrincipalRiskLevels": [],
        "signInRiskLevels": [], "userRiskLevels": [], "insiderRiskLevels": null, "authenticationFlows": null})
    };
    let grant = |control: &str| {
        json!({"operator": "OR", "builtInControls": [control],
        "customAuthenticationFactors": [], "termsOfUse": []})
    };
    let policy = |id: &str,
                  name: &str,
                  state: &str,
                  created: &str,
                  conditions: Value,
                  grant: Value,
                  deleted: Value| {
        json!({
        "id": id, "templateId": null, "displayName": name, "description": null, "createdDateTime": created,
        "modifiedDateTime": created, "deletedDateTime": deleted, "state": state, "sessionControls": null,
        "conditions": conditions, "grantControls": grant})
    };
    crate::fixture::ConditionalAccess {
        policies: vec![
            policy(
                CA_MFA.id,
                CA_MFA.name,
                "enabled",
                "2024-05-13T01:20:44Z",
                conditions(users(&["All"], vec![break_glass.clone()]), Value::Null),
                grant("mfa"),
                Value::Null,
            ),
            policy(
                CA_GEO.id,
                CA_GEO.name,
                "enabledForReportingButNotEnforced",
                GEO_POLICY_ADDED,
                conditions(
                    users(&["All"], vec![break_glass.clone()]),
                    json!({"includeLocations": ["All"], "excludeLocations": [japan]}),
                ),
                grant("block"),
                Value::Null,
            ),
        ],
        named_locations: vec![
            json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": japan, "displayName": "日本",
                   "createdDateTime": GEO_POLICY_ADDED, "modifiedDateTime": GEO_POLICY_ADDED, "deletedDateTime": null,
                   "countriesAndRegions": ["JP"], "includeUnknownCountriesAndRegions": false,
                   "countryLookupMethod": "clientIpAddress"}),
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": offices, "displayName": "東京本社・大阪支社",
                   "createdDateTime": "2024-05-13T01:02:10Z", "modifiedDateTime": "2024-05-13T01:02:10Z",
                   "deletedDateTime": null, "isTrusted": true,
                   "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.10/32"},
                                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.40/32"}]}),
        ],
        deleted_policies: vec![policy(
            &guid("ca-policy", "legacy").to_string(),
            "CA000: レガシー認証をブロック (旧)",
            "disabled",
            "2022-09-01T02:00:00Z",
            json!({"applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                   "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
                   "users": users(&["All"], Vec::new()), "clientApplications": null,
                   "clientAppTypes": ["exchangeActiveSync", "other"], "devices": null, "locations": null, "platforms": null,
                   "servicePrincipalRiskLevels": [], "signInRiskLevels": [], "userRiskLevels": [],
                   "insiderRiskLevels": null, "authenticationFlows": null}),
            grant("block"),
            json!("2026-10-28T04:40:12Z"),
        )],
        deleted_named_locations: Vec::new(),
    }
}

fn roster_break_glass() -> String {
    guid("user", "breakglass.admin01").to_string()
}

/// The built-in authentication strengths every tenant has.
pub fn authentication_strengths() -> Vec<Value> {
    let strength = |n: u8, name: &str, description: &str, combinations: &[&str]| {
        json!({
        "id": format!("00000000-0000-0000-0000-00000000000{n}"), "createdDateTime": "2021-12-01T00:00:00Z",
        "modifiedDateTime": "2021-12-01T00:00:00Z", "displayName": name, "description": description,
        "policyType": "builtIn", "requirementsSatisfied": "mfa", "allowedCombinations": combinations})
    };
    vec![
        strength(2, "Multifactor authentication", "Combinations of methods that satisfy strong authentication, such as a password + SMS",
            &["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath", "password,sms", "password,voice", "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor", "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor"]),
        strength(3, "Passwordless MFA", "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
            &["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"]),
        strength(4, "Phishing-resistant MFA", "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
            &["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]),
    ]
}

/// Objects deleted in the last 30 days: a retired employee, the project group
/// that ended, and the expense system's old integration app.
pub fn deleted_items() -> crate::fixture::DeletedItems {
    let user = guid("user", "naoki.kimura").to_string();
    let app = guid("application", "old-expense").to_string();
    let app_id = guid("app-id", "old-expense").to_string();
    crate::fixture::DeletedItems {
        users: vec![
            json!({"id": user, "deletedDateTime": "2026-11-06T00:41:17Z", "businessPhones": [],
            "displayName": "木村 直樹", "givenName": "直樹", "jobTitle": null, "mail": format!("naoki.kimura@{DOMAIN}"),
            "mobilePhone": null, "officeLocation": "東京本社", "preferredLanguage": "ja-JP", "surname": "木村",
            "userPrincipalName": format!("{}naoki.kimura@{DOMAIN}", user.replace('-', ""))}),
        ],
        groups: vec![
            json!({"id": guid("group", "project-a").to_string(), "deletedDateTime": "2026-11-02T08:15:40Z",
            "createdDateTime": "2025-06-02T01:00:00Z", "description": "プロジェクトA のメンバー", "displayName": "プロジェクトA",
            "groupTypes": ["Unified"], "mail": format!("project-a@{DOMAIN}"), "mailEnabled": true,
            "mailNickname": "project-a", "securityEnabled": false, "visibility": "Private"}),
        ],
        applications: vec![
            json!({"id": app, "deletedDateTime": "2026-11-12T05:03:29Z", "appId": app_id,
            "createdDateTime": "2021-02-15T03:30:00Z", "displayName": "旧経費精算連携", "publisherDomain": DOMAIN,
            "signInAudience": "AzureADMyOrg", "passwordCredentials": [], "keyCredentials": []}),
        ],
        service_principals: vec![
            json!({"id": guid("servicePrincipal", "old-expense").to_string(),
            "deletedDateTime": "2026-11-12T05:03:31Z", "accountEnabled": true, "appDisplayName": "旧経費精算連携",
            "appId": app_id, "appOwnerOrganizationId": TENANT_ID, "displayName": "旧経費精算連携",
            "servicePrincipalType": "Application", "servicePrincipalNames": [app_id]}),
        ],
    }
}

/// The attacker's app, flagged by Identity Protection after its secret was
/// used from the attacker's address.
pub fn risky_service_principals() -> Vec<Value> {
    let app = tenant_app(ATTACKER_APP);
    vec![
        json!({"id": app.sp_id, "appId": ATTACKER_APP.id, "displayName": ATTACKER_APP.name,
        "isEnabled": true, "isProcessing": false, "riskDetail": "none",
        "riskLastUpdatedDateTime": "2026-11-18T06:44:02Z", "riskLevel": "high", "riskState": "atRisk",
        "servicePrincipalType": "Application"}),
    ]
}

/// The detection behind it: the secret (its key id) used from Lagos.
pub fn sp_risk_detections(secret_key_id: &str) -> Vec<Value> {
    let app = tenant_app(ATTACKER_APP);
    vec![
        json!({"id": guid("sp-risk", "attacker-app").simple().to_string(), "activity": "servicePrincipal",
        "activityDateTime": "2026-11-18T02:15:02Z", "detectedDateTime": "2026-11-18T06:44:02Z",
        "lastUpdatedDateTime": "2026-11-18T06:44:02Z",
        "additionalInfo": "[{\"Key\":\"alertUrl\",\"Value\":null}]", "appId": ATTACKER_APP.id,
        "correlationId": guid("sp-risk-correlation", "attacker-app").to_string(), "detectionTimingType": "offline",
        "ipAddress": ATTACKER.ip, "keyIds": [secret_key_id],
        "location": {"city": ATTACKER.city, "state": ATTACKER.state, "countryOrRegion": ATTACKER.country,
                     "geoCoordinates": {"altitude": null, "latitude": ATTACKER.latitude, "longitude": ATTACKER.longitude}},
        "requestId": null, "riskDetail": "none", "riskEventType": "anomalousServicePrincipalActivity",
        "riskLevel": "high", "riskState": "atRisk", "servicePrincipalDisplayName": ATTACKER_APP.name,
        "servicePrincipalId": app.sp_id, "source": "IdentityProtection", "tokenIssuerType": "AzureAD"}),
    ]
}

fn evidence(kind: &str, created: &str, roles: &[&str], verdict: &str, extra: Value) -> Value {
    let mut e = json!({"@odata.type": format!("#microsoft.graph.security.{kind}"), "createdDateTime": created,
        "verdict": verdict, "remediationStatus": "none", "remediationStatusDetails": null, "roles": roles,
        "detailedRoles": [], "tags": []});
    for (k, v) in extra.as_object().into_iter().flatten() {
        e[k] = v.clone();
    }
    e
}

fn user_account(m: &Member) -> Value {
    json!({"accountName": m.person.key, "domainName": DOMAIN, "userSid": null, "azureAdUserId": m.id,
           "userPrincipalName": m.upn, "displayName": m.display_name, "activeDirectoryObjectGuid": null,
           "tenantId": TENANT_ID, "resourceAccessEvents": []})
}

fn user_evidence(m: &Member, created: &str, roles: &[&str]) -> Value {
    evidence(
        "userEvidence",
        created,
        roles,
        "suspicious",
        json!({"userAccount": user_account(m), "stream": null}),
    )
}

#[allow(clippy::too_many_arguments)]
fn alert(
    key: &str,
    incident: &str,
    (title, category): (&str, &str),
    (service, detection): (&str, &str),
    severity: &str,
    (first, created): (&str, &str),
    evidence: Vec<Value>,
    techniques: &[&str],
) -> Value {
    let id = format!("{}{}", &service[..2], guid("alert", key).simple());
    json!({"id": id, "providerAlertId": guid("provider-alert", key).simple().to_string(), "incidentId": incident,
        "status": "new", "severity": severity, "classification": null, "determination": null,
        "serviceSource": service, "detectionSource": detection, "productName": null, "detectorId": guid("detector", title).to_string(),
        "tenantId": TENANT_ID, "title": title, "description": format!("{title}。詳細は Microsoft Defender ポータルで確認してください。"),
        "recommendedActions": "影響を受けたアカウントのセッションを失効させ、パスワードをリセットしてください。",
        "category": category, "assignedTo": null,
        "alertWebUrl": format!("https://security.microsoft.com/alerts/{id}?tid={TENANT_ID}"),
        "incidentWebUrl": format!("https://security.microsoft.com/incidents/{incident}?tid={TENANT_ID}"),
        "actorDisplayName": null, "threatDisplayName": null, "threatFamilyName": null, "mitreTechniques": techniques,
        "createdDateTime": created, "lastUpdateDateTime": created, "resolvedDateTime": null,
        "firstActivityDateTime": first, "lastActivityDateTime": first, "comments": [], "evidence": evidence,
        "systemTags": [], "alertPolicyId": null, "additionalData": null, "customDetails": null,
        "investigationState": "unknown", "categories": [category]})
}

/// Defender XDR's alerts: Identity Protection's anomalous token and Defender
/// for Office 365's removal of the phish (both the victim's, one incident), and
/// an unrelated endpoint alert of another employee (its own incident).
pub fn security_alerts() -> Vec<Value> {
    let v = victim();
    let bystander = &roster()[10];
    let mut phish_evidence = vec![evidence(
        "analyzedMessageEvidence",
        "2026-11-18T03:40:10Z",
        &["contextual"],
        "malicious",
        json!({
        "internetMessageId": PHISH.internet_message_id, "networkMessageId": "7d1c9a4e-2b3f-4e8a-9c61-0f5e2d8b7a34",
        "p1Sender": {"displayName": null, "domainName": "fabrikam-shoji.co.jp", "emailAddress": PARTNER_SENDER},
        "p2Sender": {"displayName": "田中 一郎", "domainName": "fabrikam-shoji.co.jp", "emailAddress": PARTNER_SENDER},
        "recipientEmailAddress": v.upn, "senderIp": PARTNER_IP, "subject": PHISH.subject,
        "receivedDateTime": PHISH_DELIVERED, "antiSpamDirection": "Inbound", "deliveryAction": "Delivered",
        "deliveryLocation": "Inbox/Folder", "language": "ja", "attachmentsCount": 0, "urlCount": 1,
        "urls": ["https://contoso-jp-sharepoint.com/:b:/s/Accounting/EeT2kq9xRvBHmT0q8mH3t1wB"],
        "threats": ["Phish"], "threatDetectionMethods": ["URL detonation reputation"], "urn": null}),
    )];
    phish_evidence.push(evidence("mailboxEvidence", "2026-11-18T03:40:10Z", &["contextual"], "suspicious",
        json!({"displayName": v.display_name, "primaryAddress": v.upn, "upn": v.upn, "userAccount": user_account(v)})));
    phish_evidence.push(user_evidence(v, "2026-11-18T03:40:10Z", &["contextual"]));
    let token_evidence = vec![
        user_evidence(v, "2026-11-18T03:49:33Z", &["compromised"]),
        evidence(
            "ipEvidence",
            "2026-11-18T03:49:33Z",
            &["attacker"],
            "suspicious",
            json!({"ipAddress": ATTACKER.ip,
            "countryLetterCode": ATTACKER.country, "location": {"city": ATTACKER.city, "countryName": "Nigeria",
            "latitude": ATTACKER.latitude, "longitude": ATTACKER.longitude, "state": ATTACKER.state}, "stream": null}),
        ),
    ];
    let mut alerts = vec![
        alert(
            "zap",
            "41",
            (
                "Email messages containing malicious URL removed after delivery",
                "InitialAccess",
            ),
            (
                "microsoftDefenderForOffice365",
                "microsoftDefenderForOffice365",
            ),
            "informational",
            (PHISH_DELIVERED, "2026-11-18T03:40:10Z"),
            phish_evidence,
            &["T1566.002"],
        ),
        alert(
            "token",
            "41",
            ("Anomalous token", "InitialAccess"),
            ("azureAdIdentityProtection", "azureAdIdentityProtection"),
            "high",
            (SESSION_REPLAYED, "2026-11-18T03:49:33Z"),
            token_evidence,
            &["T1528"],
        ),
        alert(
            "powershell",
            "42",
            ("Suspicious PowerShell command line", "Execution"),
            (
                "microsoftDefenderForEndpoint",
                "microsoftDefenderForEndpoint",
            ),
            "medium",
            ("2026-11-10T05:02:11Z", "2026-11-10T05:07:40Z"),
            vec![user_evidence(
                bystander,
                "2026-11-10T05:07:40Z",
                &["contextual"],
            )],
            &["T1059.001"],
        ),
    ];
    alerts.sort_by_key(|a| {
        std::cmp::Reverse(at(a["createdDateTime"].as_str().unwrap_or(WINDOW_START)))
    });
    alerts
}

/// The incidents that group the alerts (newest first).
pub fn security_incidents() -> Vec<Value> {
    let incident = |id: &str, name: &str, severity: &str, created: &str, updated: &str| {
        json!({
        "id": id, "incidentWebUrl": format!("https://security.microsoft.com/incidents/{id}?tid={TENANT_ID}"),
        "redirectIncidentId": null, "displayName": name, "description": null, "summary": null, "tenantId": TENANT_ID,
        "createdDateTime": created, "lastUpdateDateTime": updated, "assignedTo": null, "classification": "unknown",
        "determination": "unknown", "status": "active", "severity": severity, "customTags": [], "systemTags": [],
        "comments": [], "lastModifiedBy": null, "resolvingComment": null, "priorityScore": null})
    };
    vec![
        incident(
            "41",
            "Multi-stage incident involving Initial access on one user",
            "high",
            "2026-11-18T03:40:11Z",
            "2026-11-18T03:49:34Z",
        ),
        incident(
            "42",
            "Suspicious PowerShell command line on one endpoint",
            "medium",
            "2026-11-10T05:07:41Z",
            "2026-11-10T05:07:41Z",
        ),
    ]
}

/// Microsoft 365 E5 for every employee, as `subscribedSkus` lists it.
pub fn subscribed_skus() -> Vec<Value> {
    vec![
        json!({"id": format!("{TENANT_ID}_{E5_SKU}"), "accountId": TENANT_ID, "accountName": "contoso-jp",
        "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": roster().len(),
        "prepaidUnits": {"enabled": 40, "lockedOut": 0, "suspended": 0, "warning": 0},
        "servicePlans": e5_plans("User"), "skuId": E5_SKU, "skuPartNumber": "SPE_E5",
        "subscriptionIds": [guid("subscription", "e5").to_string()]}),
    ]
}

pub const E5_SKU: &str = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";

/// The E5 service plans that matter to the collection (a subset of the ~90).
fn e5_plans(applies: &str) -> Vec<Value> {
    [
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("2f442157-a11c-46b9-ae5b-6e39ff4e5849", "M365_ADVANCED_AUDITING"),
        ("f6de4823-28fa-440b-b886-4783fa86ddba", "M365_AUDIT_PLATFORM"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("bf28f719-7844-4079-9c78-c1307898e192", "MTP"),
        ("f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ATP_ENTERPRISE"),
        ("8e0c0a52-6a6c-4d40-8370-dd62790dcd70", "THREAT_INTELLIGENCE"),
        ("871d91ec-ec1a-452b-a83f-bd76c7d770ef", "WINDEFATP"),
    ]
    .iter()
    .map(|(id, name)| json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": applies}))
    .collect()
}
