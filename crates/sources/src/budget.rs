//! The throttle budgets a request draws on, with the rates Microsoft documents.
//! The collector's pacer keeps each one; the collection benchmark's lower bound
//! is computed from the same numbers.

use serde::Serialize;
use std::time::Duration;

/// Message-trace requests this tool sends per 5 minutes at most: half of the
/// tenant's 100, which other apps share.
pub const MESSAGE_TRACE_PACE: usize = 50;

/// One documented throttle budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Budget {
    /// Identity and access reports: sign-ins, directory audits, registration
    /// details, authentication methods. 5 requests / 10 s per app per tenant
    /// (<https://learn.microsoft.com/graph/throttling-limits#identity-and-access-reports-service-limits>).
    Reports,
    /// Directory objects (users, apps, grants...): a resource-unit token bucket
    /// of 3,500-8,000 RU / 10 s per app per tenant
    /// (<https://learn.microsoft.com/graph/throttling-limits#microsoft-entra-id-directory-service-limits>).
    Directory,
    /// Outlook (rules, folders, settings, messages): 4 concurrent and 10,000 / 10 min
    /// per app per mailbox (<https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits>).
    Outlook,
    /// Identity protection: 1 request / s per tenant, 429 without Retry-After
    /// (<https://learn.microsoft.com/graph/throttling-limits#identity-protection-and-conditional-access-service-limits>).
    IdentityProtection,
    /// Purview audit-log query submissions and polling.
    AuditQuery,
    /// Office 365 Management Activity API: 2,000 / min per tenant
    /// (<https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-reference#api-throttling>).
    Management,
    /// Exchange message trace: 100 requests / 5 min per tenant, shared with
    /// every other app of the tenant (SIEM connectors)
    /// (<https://learn.microsoft.com/graph/throttling-limits#exchange-message-trace-service-limits>).
    MessageTrace,
    /// Defender XDR alerts and incidents: 150 requests / min per app per tenant
    /// (<https://learn.microsoft.com/graph/throttling-limits#security-detections-and-incidents-service-limits>).
    Security,
    /// Exchange Online's InvokeCommand (`--exchange`). Microsoft documents no
    /// quota for it; the tenant's Exchange capacity is shared with every
    /// administrator's PowerShell session, so the collector stays well inside
    /// what the module itself does: at most 4 cmdlets in flight (the reference's
    /// "start with 4-8") and 10 per 10 s (the module sends up to 10 per batch),
    /// honouring `Retry-After` on a 429 (shared/reference/exchange-rest.md §3).
    Exchange,
}

impl Budget {
    pub const ALL: [Budget; 9] = [
        Budget::Reports,
        Budget::Directory,
        Budget::Outlook,
        Budget::IdentityProtection,
        Budget::AuditQuery,
        Budget::Management,
        Budget::MessageTrace,
        Budget::Security,
        Budget::Exchange,
    ];

    /// At most this many requests in any window of this length.
    pub fn limit(self) -> (usize, Duration) {
        match self {
            Budget::Reports => (5, Duration::from_secs(10)),
            // 3,500 RU / 10 s for the smallest tenants; list calls cost 2-3 RU.
            Budget::Directory => (1000, Duration::from_secs(10)),
            Budget::Outlook => (10_000, Duration::from_secs(600)),
            Budget::IdentityProtection => (1, Duration::from_secs(1)),
            // Submissions are capped per day and in flight (the service answers
            // 429 beyond); polls and record pages have no documented budget.
            Budget::AuditQuery => (10, Duration::from_secs(1)),
            Budget::Management => (2000, Duration::from_secs(60)),
            // Half the tenant's quota: the other half stays for the apps that
            // share it, so neither they nor this collection meet a 429.
            Budget::MessageTrace => (MESSAGE_TRACE_PACE, Duration::from_secs(300)),
            Budget::Security => (150, Duration::from_secs(60)),
            Budget::Exchange => (10, Duration::from_secs(10)),
        }
    }

    /// Requests in flight at once, where the service counts them.
    pub fn concurrency(self) -> Option<usize> {
        match self {
            Budget::Outlook | Budget::Exchange => Some(4),
            _ => None,
        }
    }
}
