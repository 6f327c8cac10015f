//! Plans of the sources an IR firm asks for beyond the first 22: message trace,
//! Conditional Access, deleted objects, workload-identity risk, Defender XDR
//! alerts and incidents, sent and deleted mail, licences.

use crate::{Budget, Keep, PlanInput, Query, Target, Window};

/// A directory-object collection.
fn directory(path: String, permission: &'static str) -> Query {
    Query::list(path, Budget::Directory, permission)
}

/// Message trace reaches this many days back
/// (<https://learn.microsoft.com/graph/api/messagetracingroot-list-messagetraces>).
pub const TRACE_DAYS: i64 = 90;

/// A message-trace request may span at most 10 days (both bounds given).
pub const TRACE_SLICE: chrono::Duration = chrono::Duration::days(10);

/// Message properties kept for sent and deleted mail: who, to whom, when,
/// which message and thread, never the body
/// (<https://learn.microsoft.com/graph/api/resources/message>).
pub const MESSAGE_SELECT: &str = "id,subject,from,sender,toRecipients,ccRecipients,bccRecipients,replyTo,sentDateTime,receivedDateTime,createdDateTime,lastModifiedDateTime,internetMessageId,conversationId,hasAttachments,parentFolderId,isRead,isDraft,importance";

/// An Internet Message-ID (`<local@domain>`), as message trace filters on, rather
/// than a Graph message id.
pub fn is_internet_message_id(id: &str) -> bool {
    id.contains('@')
}

fn lower(v: impl IntoIterator<Item = String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_lowercase()).collect()
}

/// Per 10-day window (oldest first): what each target sent and received, then
/// every row of each phishing sender and message. The rows are partitioned
/// between the queries ([`Keep::TraceRows`]), so none is kept twice however
/// the queries overlap.
pub(crate) fn message_trace(input: &PlanInput<'_>) -> Vec<Query> {
    let targets = lower(input.targets.iter().map(|t| t.upn.clone()));
    let senders: Vec<String> = lower(input.phish_senders.iter().cloned())
        .into_iter()
        .filter(|s| !targets.contains(s))
        .collect();
    let known_senders: Vec<String> = targets.iter().chain(&senders).cloned().collect();
    let mut out = Vec::new();
    for w in input.trace.split(TRACE_SLICE) {
        let window = format!(
            "receivedDateTime ge {} and receivedDateTime le {}",
            w.since.format("%Y-%m-%dT%H:%M:%SZ"),
            w.until.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let mut ask = |filter: String, not_from: &[String], not_to: &[String]| {
            out.push(Query {
                keep: Keep::TraceRows {
                    window: w,
                    not_from: not_from.to_vec(),
                    not_to: not_to.to_vec(),
                },
                ..Query::list(
                    format!("/v1.0/admin/exchange/tracing/messageTraces?$filter={filter} and {window}&$top=5000"),
                    Budget::MessageTrace,
                    "ExchangeMessageTrace.Read.All",
                )
            })
        };
        for t in &targets {
            ask(format!("senderAddress eq '{t}'"), &[], &[]);
            ask(format!("recipientAddress eq '{t}'"), &targets, &[]);
        }
        for s in &senders {
            ask(format!("senderAddress eq '{s}'"), &targets, &targets);
        }
        for m in input.internet_message_ids {
            ask(format!("messageId eq '{m}'"), &known_senders, &targets);
        }
    }
    out
}

/// The context every sign-in's Conditional Access result refers to; deleted
/// policies and locations where the (beta) API serves them
/// (<https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy>,
/// <https://learn.microsoft.com/graph/api/policydeletableitem-list?view=graph-rest-beta>).
pub(crate) fn conditional_access() -> Vec<Query> {
    let ca = |path: &str| {
        Query::list(
            path.to_string(),
            Budget::IdentityProtection,
            "Policy.Read.All",
        )
    };
    let deleted = |path: &str| Query {
        optional: Some(
            "the service does not list deleted Conditional Access objects here (beta only)",
        ),
        ..ca(path)
    };
    vec![
        ca("/v1.0/identity/conditionalAccess/policies"),
        ca("/v1.0/identity/conditionalAccess/namedLocations"),
        directory(
            "/v1.0/policies/authenticationStrengthPolicies".into(),
            "Policy.Read.All",
        ),
        deleted("/beta/identity/conditionalAccess/deletedItems/policies"),
        deleted("/beta/identity/conditionalAccess/deletedItems/namedLocations"),
    ]
}

/// Soft-deleted objects, one cast per type (the cast is required)
/// (<https://learn.microsoft.com/graph/api/directory-deleteditems-list>).
pub(crate) fn deleted_objects() -> Vec<Query> {
    [
        ("application", "Application.Read.All"),
        ("servicePrincipal", "Application.Read.All"),
        ("user", "User.Read.All"),
        ("group", "Group.Read.All"),
    ]
    .iter()
    .map(|(cast, permission)| {
        directory(
            format!("/v1.0/directory/deletedItems/microsoft.graph.{cast}?$top=999"),
            permission,
        )
    })
    .collect()
}

/// Every risky service principal of the tenant: the attacker's app is not a
/// target (<https://learn.microsoft.com/graph/api/identityprotectionroot-list-riskyserviceprincipals>).
pub(crate) fn risky_service_principals() -> Vec<Query> {
    vec![Query::list(
        "/v1.0/identityProtection/riskyServicePrincipals".into(),
        Budget::IdentityProtection,
        "IdentityRiskyServicePrincipal.Read.All",
    )]
}

/// (<https://learn.microsoft.com/graph/api/identityprotectionroot-list-serviceprincipalriskdetections>)
pub(crate) fn sp_risk_detections() -> Vec<Query> {
    vec![Query::list(
        "/v1.0/identityProtection/servicePrincipalRiskDetections".into(),
        Budget::IdentityProtection,
        "IdentityRiskEvent.Read.All",
    )]
}

fn evidence_of(targets: &[Target]) -> Keep {
    Keep::Evidence {
        upns: lower(targets.iter().map(|t| t.upn.clone())),
        ids: lower(targets.iter().map(|t| t.id.clone())),
    }
}

fn updated_since(w: &Window) -> String {
    format!(
        "lastUpdateDateTime ge {}",
        w.since.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// Alerts updated in the window whose user evidence is a target, by the
/// filter Microsoft's migration guide documents; if the service refuses it,
/// every alert of the window, matched to the targets here
/// (<https://learn.microsoft.com/graph/alertsv1-alertsv2-migration>).
pub(crate) fn security_alerts(targets: &[Target], w: &Window) -> Vec<Query> {
    let alerts = |filter: String, keep: Keep| Query {
        keep,
        ..Query::list(
            format!("/v1.0/security/alerts_v2?$filter={filter}"),
            Budget::Security,
            "SecurityAlert.Read.All",
        )
    };
    targets
        .iter()
        .map(|t| Query {
            fallback: Some(Box::new(alerts(updated_since(w), evidence_of(targets)))),
            ..alerts(
                format!(
                    "{} and evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName eq '{}')",
                    updated_since(w),
                    t.upn
                ),
                Keep::All,
            )
        })
        .collect()
}

/// Incidents have no user property: every incident updated in the window, with
/// its alerts, kept when an alert's evidence names a target
/// (<https://learn.microsoft.com/graph/api/security-list-incidents>).
pub(crate) fn security_incidents(targets: &[Target], w: &Window) -> Vec<Query> {
    vec![Query {
        keep: evidence_of(targets),
        ..Query::list(
            format!(
                "/v1.0/security/incidents?$filter={}&$expand=alerts",
                updated_since(w)
            ),
            Budget::Security,
            "SecurityIncident.Read.All",
        )
    }]
}

fn messages(t: &Target, folder: &str, field: &'static str, w: &Window) -> Query {
    Query {
        keep: Keep::InWindow { field, window: *w },
        ..Query::list(
            format!(
                "/v1.0/users/{}/mailFolders/{folder}/messages?$select={MESSAGE_SELECT}&$filter={field} ge {} and {field} lt {}&$top=500",
                t.id,
                w.since.format("%Y-%m-%dT%H:%M:%SZ"),
                w.until.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            Budget::Outlook,
            "Mail.ReadBasic.All",
        )
    }
}

/// What the target's mailbox sent in the window.
pub(crate) fn mail_sent(t: &Target, w: &Window) -> Vec<Query> {
    vec![messages(t, "sentitems", "sentDateTime", w)]
}

/// What was moved to Deleted Items or deleted from it in the window (a move
/// sets `lastModifiedDateTime`): Deleted Items, then the Recoverable Items
/// folders Graph reaches by well-known name (only `recoverableitemsdeletions`
/// is documented) (<https://learn.microsoft.com/graph/api/resources/mailfolder>).
pub(crate) fn mail_deleted(t: &Target, w: &Window) -> Vec<Query> {
    let mut out = vec![
        messages(t, "deleteditems", "lastModifiedDateTime", w),
        messages(t, "recoverableitemsdeletions", "lastModifiedDateTime", w),
    ];
    for folder in ["recoverableitemspurges", "recoverableitemsversions"] {
        out.push(Query {
            optional: Some(
                "Graph does not reach this Recoverable Items folder by its well-known name here",
            ),
            ..messages(t, folder, "lastModifiedDateTime", w)
        });
    }
    out
}

/// The tenant's subscriptions, then each target's licence details
/// (<https://learn.microsoft.com/graph/api/subscribedsku-list>,
/// <https://learn.microsoft.com/graph/api/user-list-licensedetails>).
pub(crate) fn licences(targets: &[Target]) -> Vec<Query> {
    let mut out = vec![directory(
        "/v1.0/subscribedSkus".into(),
        "LicenseAssignment.Read.All",
    )];
    out.extend(targets.iter().map(|t| {
        directory(
            format!("/v1.0/users/{}/licenseDetails", t.id),
            "User.Read.All",
        )
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Plan, Source};
    use chrono::{DateTime, Duration, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn message_trace_windows_are_at_most_ten_days_with_both_bounds() {
        let until = at("2026-11-25T00:00:00Z");
        let trace = Window {
            since: until - Duration::days(TRACE_DAYS),
            until,
        };
        let targets = [Target {
            id: "u1".into(),
            upn: "A@x.jp".into(),
            display_name: "A".into(),
        }];
        let whole = Window {
            since: until - Duration::days(30),
            until,
        };
        let input = PlanInput {
            targets: &targets,
            entra: whole,
            purview: whole,
            linked: None,
            message_ids: &[],
            trace,
            internet_message_ids: &["<m@y.jp>".to_string()],
            phish_senders: &["p@y.jp".to_string()],
        };
        let Plan::Queries(q) = Source::MessageTrace.plan(&input) else {
            panic!()
        };
        // 9 windows x (sent, received, sender, message).
        assert_eq!(q.len(), 36);
        for query in &q {
            assert!(
                query.path.contains("receivedDateTime ge "),
                "{}",
                query.path
            );
            assert!(
                query.path.contains("receivedDateTime le "),
                "{}",
                query.path
            );
            let Keep::TraceRows { window, .. } = &query.keep else {
                panic!()
            };
            assert!(window.until - window.since <= TRACE_SLICE);
            assert!(window.since >= trace.since);
        }
        assert!(q[0].path.contains("senderAddress eq 'a@x.jp'"));
    }
}
