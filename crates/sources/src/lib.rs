//! The evidence sources m365-preserve knows: one closed [`Source`] enum whose
//! members carry their catalogue entry (what, endpoint, permissions, licence)
//! and their request plan (which Graph requests, on which throttle budget).
//!
//! Data only: the collector executes the plans, the importer maps exports onto
//! the same sources, `doctor` and the README's permission matrix read the
//! catalogue.

mod budget;
mod catalogue;
mod entitlement;
mod exchange;
mod more;
mod plan;
mod source;
mod window;

pub use budget::{Budget, MESSAGE_TRACE_PACE};
pub use catalogue::{Prerequisite, Requirement, SourceInfo, MESSAGE_TRACE_APP};
pub use entitlement::{Entitlements, LicenceState, Retention, ServicePlan};
pub use exchange::{Argument, Cmdlet, CmdletName, NotAllowed, Parameter};
pub use more::{is_internet_message_id, MESSAGE_SELECT, TRACE_DAYS, TRACE_SLICE};
pub use plan::{
    AuditApi, Keep, Linked, Plan, PlanInput, Query, Resolve, SpScope, AUDIT_SLICE, SLICE,
};
pub use source::{Source, UnknownSource};
pub use window::{Target, Window};
