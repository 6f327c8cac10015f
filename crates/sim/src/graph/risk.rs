//! Identity protection: risky users and risk detections
//! (<https://learn.microsoft.com/graph/api/resources/identityprotection-overview?view=graph-rest-1.0>).
//!
//! - Budget: 1 request per second per tenant, and a 429 **without**
//!   `Retry-After` (<https://learn.microsoft.com/graph/throttling-limits>), so clients must
//!   back off on their own.
//! - Licence: both need Entra ID P2; on Free and P1 they answer 403
//!   `Authentication_RequestFromNonPremiumTenantOrB2CTenant`. (Public reports
//!   show these endpoints returning 403 on tenants without P2; the exact code
//!   is not documented, so the simulator uses the premium code the client
//!   already classifies as "licence required".)
//! - Permissions: `IdentityRiskyUser.Read.All` / `IdentityRiskEvent.Read.All`.

use super::paging::{self, Order, Page, Slice};
use super::{entity, json, ApiError, Call, Ctx, Denial, Pace};
use crate::fixture::{Licence, Tenant};
use crate::odata::{project, prop as p, FilterSpec, Kind, Style, EQ, ORD};
use crate::throttle::Budget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

const RISKY_USER_FILTER: FilterSpec = FilterSpec {
    entity: "riskyUser",
    props: &[
        p("id", Kind::Str, EQ),
        p("userPrincipalName", Kind::Str, EQ),
        p("riskLevel", Kind::Str, EQ),
        p("riskState", Kind::Str, EQ),
        p("riskDetail", Kind::Str, EQ),
        p("riskLastUpdatedDateTime", Kind::Time, EQ | ORD),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::AuditLog,
};

const DETECTION_FILTER: FilterSpec = FilterSpec {
    entity: "riskDetection",
    props: &[
        p("id", Kind::Str, EQ),
        p("userId", Kind::Str, EQ),
        p("userPrincipalName", Kind::Str, EQ),
        p("riskEventType", Kind::Str, EQ),
        p("riskLevel", Kind::Str, EQ),
        p("riskState", Kind::Str, EQ),
        p("ipAddress", Kind::Str, EQ),
        p("requestId", Kind::Str, EQ),
        p("activityDateTime", Kind::Time, EQ | ORD),
        p("detectedDateTime", Kind::Time, EQ | ORD),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::AuditLog,
};

/// Beta-only riskDetection properties, dropped on v1.0.
const DETECTION_BETA_ONLY: &[&str] = &["mitreTechniqueId", "riskType"];

struct RiskSet {
    permissions: &'static [&'static str],
    filter: &'static FilterSpec,
    fragment: &'static str,
    items: fn(&Tenant) -> &[Value],
    beta_only: &'static [&'static str],
}

fn risky_users_of(t: &Tenant) -> &[Value] {
    &t.risky_users
}
fn detections_of(t: &Tenant) -> &[Value] {
    &t.risk_detections
}

const RISKY_USERS: RiskSet = RiskSet {
    permissions: &[
        "IdentityRiskyUser.Read.All",
        "IdentityRiskyUser.ReadWrite.All",
    ],
    filter: &RISKY_USER_FILTER,
    fragment: "identityProtection/riskyUsers",
    items: risky_users_of,
    beta_only: &[],
};

const DETECTIONS: RiskSet = RiskSet {
    permissions: &[
        "IdentityRiskEvent.Read.All",
        "IdentityRiskEvent.ReadWrite.All",
    ],
    filter: &DETECTION_FILTER,
    fragment: "identityProtection/riskDetections",
    items: detections_of,
    beta_only: DETECTION_BETA_ONLY,
};

impl RiskSet {
    async fn checks(&self, ctx: &Ctx, call: &Call) -> Result<crate::throttle::Slot, ApiError> {
        call.require(self.permissions, Denial::Directory)?;
        if ctx.shared().licence != Licence::P2 {
            return Err(ApiError::premium_required());
        }
        ctx.admit(call, Budget::IdentityProtection, Pace::Risk)
            .await
    }

    fn shape(&self, ctx: &Ctx, mut record: Value) -> Value {
        if ctx.version == super::Version::V1 {
            super::strip(&mut record, self.beta_only);
        }
        record
    }

    async fn list(&self, ctx: Ctx, call: Call) -> Result<Response, ApiError> {
        let _slot = self.checks(&ctx, &call).await?;
        call.opts
            .allow_only(&["$filter", "$select", "$top", "$skiptoken"])?;
        let filter = call.filter(self.filter)?;
        let select = call.opts.select()?;
        let top = call.opts.top(100, 999, |raw| {
            ApiError::bad_request(format!(
                "Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive."
            ))
        })?;
        let items = (self.items)(ctx.tenant());
        let start = paging::start(&call)?;
        let keep = |r: &Value| filter.as_ref().is_none_or(|f| f.matches(r));
        let (values, next) = paging::scan(
            &Slice(items),
            Order::NewestFirst,
            start,
            top,
            (0, items.len()),
            keep,
        );
        let values = values
            .into_iter()
            .map(|v| {
                let v = self.shape(&ctx, v);
                match select.as_deref() {
                    Some(fields) => project(&v, fields, &["id"]),
                    None => v,
                }
            })
            .collect();
        let page = Page {
            context: ctx.context(&call, self.fragment),
            annotations: Vec::new(),
            count: None,
            next_link: next.map(|pos| paging::next_link(&call, pos)),
            values,
        };
        Ok(json(StatusCode::OK, &page.into_json()))
    }

    async fn one(&self, ctx: Ctx, call: Call, id: String) -> Result<Response, ApiError> {
        let _slot = self.checks(&ctx, &call).await?;
        let found = (self.items)(ctx.tenant())
            .iter()
            .find(|r| {
                r.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.eq_ignore_ascii_case(&id))
            })
            .cloned()
            .ok_or_else(|| ApiError::not_found(&id))?;
        let context = ctx.context(&call, &format!("{}/$entity", self.fragment));
        Ok(json(
            StatusCode::OK,
            &entity(context, &self.shape(&ctx, found)),
        ))
    }
}

/// `GET /identityProtection/riskyUsers`.
pub(super) async fn risky_users(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    RISKY_USERS.list(ctx, call).await
}
/// `GET /identityProtection/riskyUsers/{id}`.
pub(super) async fn risky_user(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    RISKY_USERS.one(ctx, call, id).await
}
/// `GET /identityProtection/riskDetections` (e.g. `$filter=userId eq '...'`).
pub(super) async fn risk_detections(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    DETECTIONS.list(ctx, call).await
}
/// `GET /identityProtection/riskDetections/{id}`.
pub(super) async fn risk_detection(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    DETECTIONS.one(ctx, call, id).await
}
