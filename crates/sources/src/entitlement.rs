//! What the tenant's licences say about each source: whether the data can
//! exist, and how long Microsoft keeps it. Service plans are matched by id,
//! never by name (names have odd spacing and change)
//! (<https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference>).

use crate::Source;
use std::collections::{BTreeMap, BTreeSet};

/// Service plans that decide what a source holds or how long it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServicePlan {
    EntraP1,
    EntraP2,
    WorkloadIdP1,
    WorkloadIdP2,
    /// Purview Audit (Premium): one year for licensed users' records.
    AuditPremium,
    ExchangePlan1,
    ExchangePlan2,
    Defender,
    DefenderOffice365P1,
    DefenderOffice365P2,
    DefenderEndpoint,
    DefenderIdentity,
    DefenderCloudApps,
}

impl ServicePlan {
    pub const ALL: [ServicePlan; 13] = [
        ServicePlan::EntraP1,
        ServicePlan::EntraP2,
        ServicePlan::WorkloadIdP1,
        ServicePlan::WorkloadIdP2,
        ServicePlan::AuditPremium,
        ServicePlan::ExchangePlan1,
        ServicePlan::ExchangePlan2,
        ServicePlan::Defender,
        ServicePlan::DefenderOffice365P1,
        ServicePlan::DefenderOffice365P2,
        ServicePlan::DefenderEndpoint,
        ServicePlan::DefenderIdentity,
        ServicePlan::DefenderCloudApps,
    ];

    /// The `servicePlanId` (lower case).
    pub const fn id(self) -> &'static str {
        match self {
            ServicePlan::EntraP1 => "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
            ServicePlan::EntraP2 => "eec0eb4f-6444-4f95-aba0-50c24d67f998",
            ServicePlan::WorkloadIdP1 => "84c289f0-efcb-486f-8581-07f44fc9efad",
            ServicePlan::WorkloadIdP2 => "7dc0e92d-bf15-401d-907e-0884efe7c760",
            ServicePlan::AuditPremium => "2f442157-a11c-46b9-ae5b-6e39ff4e5849",
            ServicePlan::ExchangePlan1 => "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
            ServicePlan::ExchangePlan2 => "efb87545-963c-4e0d-99df-69c6916d9eb0",
            ServicePlan::Defender => "bf28f719-7844-4079-9c78-c1307898e192",
            ServicePlan::DefenderOffice365P1 => "f20fedf3-f3c3-43c3-8267-2bfdd51c0939",
            ServicePlan::DefenderOffice365P2 => "8e0c0a52-6a6c-4d40-8370-dd62790dcd70",
            ServicePlan::DefenderEndpoint => "871d91ec-ec1a-452b-a83f-bd76c7d770ef",
            ServicePlan::DefenderIdentity => "14ab5db5-e6c4-4b20-b4bc-13e36fd2227f",
            ServicePlan::DefenderCloudApps => "2e2ddb96-6af9-4b1d-a3f0-d6ecfd22edb2",
        }
    }

    pub fn from_id(id: &str) -> Option<ServicePlan> {
        ServicePlan::ALL
            .iter()
            .copied()
            .find(|p| p.id().eq_ignore_ascii_case(id))
    }
}

/// The service plans the tenant has (enabled subscriptions, provisioned plans)
/// and those each target is licensed for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entitlements {
    pub tenant: BTreeSet<ServicePlan>,
    /// UPN (lower case) -> the plans of that user's licences.
    pub users: BTreeMap<String, BTreeSet<ServicePlan>>,
}

/// Whether the tenant's licences allow a source's data to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceState {
    /// No licence decides it.
    NotNeeded,
    Present(&'static str),
    /// Missing: what the collection will get instead, and what to buy or do.
    Missing(&'static str),
}

/// How long the service keeps a source's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Days; `None`: kept until something else removes it (remediation, deletion).
    pub days: Option<i64>,
    /// The rule, with the licence it rests on.
    pub rule: &'static str,
}

impl Entitlements {
    pub fn has(&self, plan: ServicePlan) -> bool {
        self.tenant.contains(&plan)
    }

    fn any(&self, plans: &[ServicePlan]) -> bool {
        plans.iter().any(|p| self.has(*p))
    }

    /// Whether the user `upn` holds Purview Audit (Premium).
    pub fn audit_premium(&self, upn: &str) -> bool {
        self.users
            .get(&upn.to_lowercase())
            .is_some_and(|p| p.contains(&ServicePlan::AuditPremium))
    }
}

const P1_OR_P2: [ServicePlan; 2] = [ServicePlan::EntraP1, ServicePlan::EntraP2];
const EXCHANGE: [ServicePlan; 2] = [ServicePlan::ExchangePlan1, ServicePlan::ExchangePlan2];
const DEFENDER: [ServicePlan; 7] = [
    ServicePlan::Defender,
    ServicePlan::DefenderOffice365P1,
    ServicePlan::DefenderOffice365P2,
    ServicePlan::DefenderEndpoint,
    ServicePlan::DefenderIdentity,
    ServicePlan::DefenderCloudApps,
    ServicePlan::EntraP2,
];

impl Source {
    /// Whether the tenant's licences allow this source's data to exist.
    pub fn licence_state(self, e: &Entitlements) -> LicenceState {
        use LicenceState::*;
        let need = |ok: bool, present: &'static str, missing: &'static str| {
            if ok {
                Present(present)
            } else {
                Missing(missing)
            }
        };
        match self {
            Source::SigninsInteractive
            | Source::SigninsNonInteractive
            | Source::SigninsServicePrincipal
            | Source::SigninsManagedIdentity
            | Source::AuthRegistration => need(
                e.any(&P1_OR_P2),
                "Entra ID P1/P2",
                "Entra ID Free: the API answers 403; download the logs from the Entra admin center (7 days) and import them",
            ),
            Source::ConditionalAccess => need(
                e.any(&P1_OR_P2),
                "Entra ID P1/P2",
                "Entra ID Free has no Conditional Access (security defaults instead)",
            ),
            Source::RiskyUsers | Source::RiskDetections => need(
                e.has(ServicePlan::EntraP2),
                "Entra ID P2",
                "without Entra ID P2 Identity Protection's API answers 403",
            ),
            Source::RiskyServicePrincipals | Source::ServicePrincipalRiskDetections => need(
                e.any(&[ServicePlan::WorkloadIdP1, ServicePlan::WorkloadIdP2]),
                "Workload ID Premium",
                "without Workload ID Premium the risk level and detail come as \"hidden\" (recorded as such)",
            ),
            Source::SecurityAlerts | Source::SecurityIncidents => need(
                e.any(&DEFENDER),
                "a Defender XDR workload",
                "no Defender XDR workload is licensed, so there are no alerts or incidents to collect",
            ),
            Source::MessageTrace
            | Source::MailSent
            | Source::MailDeleted
            | Source::MailboxRules
            | Source::MailboxSettings
            | Source::Messages => need(
                e.any(&EXCHANGE),
                "Exchange Online",
                "no Exchange Online plan: there are no mailboxes to read",
            ),
            _ => NotNeeded,
        }
    }

    /// How long the service keeps this source's records for this tenant (and,
    /// for Purview, for the user `upn`); `None` for snapshots of current state
    /// (<https://learn.microsoft.com/entra/identity/monitoring-health/reference-reports-data-retention>).
    pub fn retention(self, e: &Entitlements, upn: Option<&str>) -> Option<Retention> {
        let kept = |days: i64, rule: &'static str| {
            Some(Retention {
                days: Some(days),
                rule,
            })
        };
        let premium = e.any(&P1_OR_P2);
        match self {
            Source::SigninsInteractive
            | Source::SigninsNonInteractive
            | Source::SigninsServicePrincipal
            | Source::SigninsManagedIdentity
            | Source::EntraAudit => match premium {
                true => kept(30, "Entra ID P1/P2 keeps sign-ins and audit logs 30 days"),
                false => kept(7, "Entra ID Free keeps sign-ins and audit logs 7 days"),
            },
            Source::RiskDetections => match e.has(ServicePlan::EntraP2) {
                true => kept(90, "Entra ID P2 keeps risk detections 90 days"),
                false => kept(7, "without Entra ID P2 risk detections are kept 7 days"),
            },
            Source::RiskyUsers | Source::RiskyServicePrincipals => Some(Retention {
                days: None,
                rule: "risky users and workload identities are kept until the risk is remediated",
            }),
            Source::ServicePrincipalRiskDetections => {
                kept(90, "workload identity risk detections are kept 90 days")
            }
            // <https://learn.microsoft.com/purview/audit-log-retention-policies>
            Source::PurviewAudit => match upn.is_some_and(|u| e.audit_premium(u)) {
                true => kept(365, "Purview Audit (Premium): one year for this user's records"),
                false => kept(180, "Purview Audit (Standard) keeps records 180 days"),
            },
            // <https://learn.microsoft.com/graph/api/messagetracingroot-list-messagetraces>
            Source::MessageTrace => kept(90, "message trace reaches 90 days back"),
            // <https://learn.microsoft.com/graph/api/resources/directory>
            Source::DeletedObjects => kept(
                30,
                "deleted directory objects are removed for good 30 days after deletion",
            ),
            Source::ConditionalAccess => kept(
                30,
                "deleted policies and named locations are removed for good after 30 days; the others are current state",
            ),
            // <https://learn.microsoft.com/defender-xdr/data-privacy>
            Source::SecurityAlerts | Source::SecurityIncidents => {
                kept(180, "Defender XDR keeps alerts and incidents 180 days")
            }
            // <https://learn.microsoft.com/exchange/security-and-compliance/recoverable-items-folder/recoverable-items-folder>
            Source::MailDeleted => kept(
                14,
                "Recoverable Items keep deleted mail 14 days by default (up to 30; longer under a hold)",
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_follows_the_licences() {
        let mut e = Entitlements::default();
        let days = |e: &Entitlements, s: Source, u: Option<&str>| s.retention(e, u).unwrap().days;
        assert_eq!(days(&e, Source::SigninsInteractive, None), Some(7));
        e.tenant.insert(ServicePlan::EntraP1);
        assert_eq!(days(&e, Source::SigninsInteractive, None), Some(30));
        e.users.insert(
            "a@x".into(),
            [ServicePlan::AuditPremium].into_iter().collect(),
        );
        assert_eq!(days(&e, Source::PurviewAudit, Some("A@x")), Some(365));
        assert_eq!(days(&e, Source::PurviewAudit, Some("b@x")), Some(180));
        assert!(Source::User.retention(&e, None).is_none());
        assert!(matches!(
            Source::RiskyServicePrincipals.licence_state(&e),
            LicenceState::Missing(_)
        ));
        assert_eq!(
            ServicePlan::from_id("EEC0EB4F-6444-4F95-ABA0-50C24D67F998"),
            Some(ServicePlan::EntraP2)
        );
    }
}
