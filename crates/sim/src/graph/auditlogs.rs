//! `/auditLogs/signIns` and `/auditLogs/directoryAudits`
//! (<https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta>,
//! <https://learn.microsoft.com/graph/api/directoryaudit-list?view=graph-rest-1.0>).
//!
//! - Sign-ins: premium-only; newest first; default and maximum page 1,000;
//!   only interactive sign-ins unless the filter names `signInEventTypes`;
//!   v1.0 serves interactive sign-ins only, in the v1.0 shape (beta-only
//!   properties removed) and refuses beta-only properties in `$filter`/`$select`.
//! - Directory audits: work on every licence; newest first; carry
//!   `@microsoft.graph.tips`; v1.0 drops the beta-only `performedBy`/`userAgent`.
//! - Both draw on the reports budget and refuse undocumented filters with 400
//!   `Invalid filter clause`.
//! - A filter reaching back past the retention window answers an empty page
//!   (default) or, with `OldFilters::Reject`, 400 `Invalid filter clause`
//!   (both behaviours are reported; the 400 in
//!   <https://github.com/microsoftgraph/microsoft-graph-docs/issues/5676>).

use super::paging::{self, Order, Page, Slice};
use super::{entity, json, strip, with_select, ApiError, Call, Ctx, Denial, Pace, Version};
use crate::odata::{prop as p, Expr, FilterSpec, Kind, Lambda, Style, EQ, NE, ORD, STARTS};
use crate::settings::OldFilters;
use crate::shared::RecordSource;
use crate::throttle::Budget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

const SIGNIN_PERMISSIONS: &[&str] = &["AuditLog.Read.All", "Directory.Read.All"];
const AUDIT_PERMISSIONS: &[&str] = &["AuditLog.Read.All"];

/// Properties of the beta signIn that v1.0 does not have (compare
/// <https://learn.microsoft.com/graph/api/resources/signin?view=graph-rest-beta> with
/// <https://learn.microsoft.com/graph/api/resources/signin?view=graph-rest-1.0>).
const SIGNIN_BETA_ONLY: &[&str] = &[
    "agent",
    "appliedEventListeners",
    "appOwnerTenantId",
    "appTokenProtectionStatus",
    "authenticationAppPolicyEvaluationDetails",
    "authenticationContextClassReferences",
    "authenticationDetails",
    "authenticationMethodsUsed",
    "authenticationProcessingDetails",
    "authenticationProtocol",
    "authenticationRequirement",
    "authenticationRequirementPolicies",
    "autonomousSystemNumber",
    "azureResourceId",
    "clientCredentialType",
    "clientSessionId",
    "conditionalAccessAudiences",
    "crossTenantAccessType",
    "federatedCredentialId",
    "flaggedForReview",
    "globalSecureAccessIpAddress",
    "homeTenantName",
    "incomingTokenType",
    "ipAddressFromResourceProvider",
    "isTenantRestricted",
    "isThroughGlobalSecureAccess",
    "managedServiceIdentity",
    "mfaDetail",
    "networkLocationDetails",
    "originalRequestId",
    "originalTransferMethod",
    "privateLinkDetails",
    "processingTimeInMilliseconds",
    "resourceOwnerTenantId",
    "resourceServicePrincipalId",
    "servicePrincipalCredentialKeyId",
    "servicePrincipalCredentialThumbprint",
    "sessionId",
    "sessionLifetimePolicies",
    "signInEventTypes",
    "signInIdentifier",
    "signInIdentifierType",
    "signInTokenProtectionStatus",
    "tokenIssuerName",
    "tokenIssuerType",
    "tokenProtectionStatusDetails",
    "uniqueTokenIdentifier",
    "userType",
];

const AUDIT_BETA_ONLY: &[&str] = &["performedBy", "userAgent"];

/// Sign-in `$filter` support
/// (<https://learn.microsoft.com/graph/api/resources/signin?view=graph-rest-beta>).
const SIGNIN_FILTER: FilterSpec = FilterSpec {
    entity: "signIn",
    props: &[
        p("createdDateTime", Kind::Time, EQ | ORD),
        p("userId", Kind::Str, EQ),
        p("userPrincipalName", Kind::Str, EQ | STARTS),
        p("userDisplayName", Kind::Str, EQ | STARTS),
        p("appId", Kind::Str, EQ),
        p("appDisplayName", Kind::Str, EQ | STARTS),
        p("ipAddress", Kind::Str, EQ | STARTS),
        p("correlationId", Kind::Str, EQ),
        p("id", Kind::Str, EQ),
        p("originalRequestId", Kind::Str, EQ),
        p("resourceId", Kind::Str, EQ),
        p("resourceDisplayName", Kind::Str, EQ),
        p("tokenIssuerName", Kind::Str, EQ),
        p("clientAppUsed", Kind::Str, EQ),
        p("conditionalAccessStatus", Kind::Str, EQ),
        p("servicePrincipalId", Kind::Str, EQ | STARTS),
        p("servicePrincipalName", Kind::Str, EQ | STARTS),
        p("userAgent", Kind::Str, EQ | STARTS),
        p("status/errorCode", Kind::Num, EQ),
        p("location/city", Kind::Str, EQ | STARTS),
        p("location/state", Kind::Str, EQ | STARTS),
        p("location/countryOrRegion", Kind::Str, EQ | STARTS),
        p("deviceDetail/browser", Kind::Str, EQ | STARTS),
        p("deviceDetail/operatingSystem", Kind::Str, EQ | STARTS),
        p("riskDetail", Kind::Str, EQ),
        p("riskLevelAggregated", Kind::Str, EQ),
        p("riskLevelDuringSignIn", Kind::Str, EQ),
        p("riskState", Kind::Str, EQ),
        p("authenticationRequirement", Kind::Str, EQ | STARTS),
    ],
    lambdas: &[Lambda {
        path: "signInEventTypes",
        item: &[p("", Kind::Str, EQ | NE)],
    }],
    or_refused: None,
    style: Style::AuditLog,
};

/// Directory-audit `$filter` support
/// (<https://learn.microsoft.com/graph/api/resources/directoryaudit?view=graph-rest-1.0>).
const AUDIT_FILTER: FilterSpec = FilterSpec {
    entity: "directoryAudit",
    props: &[
        p("activityDateTime", Kind::Time, EQ | ORD),
        p("activityDisplayName", Kind::Str, EQ | STARTS),
        p("correlationId", Kind::Str, EQ),
        p("id", Kind::Str, EQ),
        p("loggedByService", Kind::Str, EQ),
        p("category", Kind::Str, EQ),
        p("initiatedBy/user/id", Kind::Str, EQ),
        p("initiatedBy/user/displayName", Kind::Str, EQ),
        p("initiatedBy/user/userPrincipalName", Kind::Str, EQ | STARTS),
        p("initiatedBy/app/appId", Kind::Str, EQ),
        p("initiatedBy/app/displayName", Kind::Str, EQ),
    ],
    lambdas: &[Lambda {
        path: "targetResources",
        item: &[
            p("id", Kind::Str, EQ),
            p("displayName", Kind::Str, EQ | STARTS),
        ],
    }],
    or_refused: None,
    style: Style::AuditLog,
};

const TIPS: &str = "Use $select to choose only the properties your app needs, as this can lead to performance improvements. For example: GET auditLogs/directoryAudits?$select=activityDateTime,activityDisplayName";

/// What differs between the two logs.
struct Log {
    entity: &'static str,
    fragment: &'static str,
    time_field: &'static str,
    filter: &'static FilterSpec,
    beta_only: &'static [&'static str],
}

const SIGNINS: Log = Log {
    entity: "signIn",
    fragment: "auditLogs/signIns",
    time_field: "createdDateTime",
    filter: &SIGNIN_FILTER,
    beta_only: SIGNIN_BETA_ONLY,
};

const AUDITS: Log = Log {
    entity: "directoryAudit",
    fragment: "auditLogs/directoryAudits",
    time_field: "activityDateTime",
    filter: &AUDIT_FILTER,
    beta_only: AUDIT_BETA_ONLY,
};

/// What a list request asked for, checked.
struct ListQuery {
    filter: Option<Expr>,
    top: usize,
    order: Order,
    select: Option<Vec<String>>,
}

impl Log {
    fn list_query(&self, ctx: &Ctx, call: &Call) -> Result<ListQuery, ApiError> {
        call.opts
            .allow_only(&["$filter", "$top", "$skiptoken", "$orderby", "$select"])?;
        let filter = call.filter(self.filter)?;
        let top = call.opts.top(1000, 1000, |raw| {
            ApiError::bad_request(format!(
                "Invalid page size specified: '{raw}'. Must be between 1 and 1000 inclusive."
            ))
        })?;
        let order = match call.opts.get("$orderby") {
            None => Order::NewestFirst,
            Some(clause) => {
                let words: Vec<&str> = clause.split_whitespace().collect();
                let field_ok = words
                    .first()
                    .is_some_and(|f| f.eq_ignore_ascii_case(self.time_field));
                match words.get(1).map(|d| d.to_ascii_lowercase()).as_deref() {
                    _ if !field_ok || words.len() > 2 => {
                        return Err(ApiError::bad_request(format!(
                            "$orderby is only supported on {}.",
                            self.time_field
                        )))
                    }
                    None | Some("asc") => Order::OldestFirst,
                    Some("desc") => Order::NewestFirst,
                    Some(other) => {
                        return Err(ApiError::bad_request(format!(
                            "Invalid $orderby direction '{other}'."
                        )))
                    }
                }
            }
        };
        let select = call.opts.select()?;
        if ctx.version == Version::V1 {
            for field in select.as_deref().unwrap_or_default() {
                if self.beta_only.iter().any(|b| b.eq_ignore_ascii_case(field)) {
                    return Err(ApiError::bad_request(format!(
                        "Could not find a property named '{field}' on type 'microsoft.graph.{}'.",
                        self.entity
                    )));
                }
            }
            let mentions_beta = filter
                .as_ref()
                .is_some_and(|f| self.beta_only.iter().any(|b| f.mentions(b)));
            if mentions_beta {
                return Err(ApiError::invalid_filter());
            }
        }
        self.check_retention(ctx, filter.as_ref())?;
        Ok(ListQuery {
            filter,
            top,
            order,
            select,
        })
    }

    /// With `OldFilters::Reject`, refuses a filter that starts before the
    /// retention window (the "minimum date validation" of
    /// <https://github.com/microsoftgraph/microsoft-graph-docs/issues/5676>).
    fn check_retention(&self, ctx: &Ctx, filter: Option<&Expr>) -> Result<(), ApiError> {
        if ctx.st.settings.old_filters != OldFilters::Reject {
            return Ok(());
        }
        let shared = ctx.shared();
        let oldest = shared.clock.now() - chrono::Duration::days(shared.licence.retention_days());
        let (lo, hi) = filter
            .map(|f| f.time_bounds(self.time_field))
            .unwrap_or_default();
        match lo.or(hi) {
            Some(t) if t < oldest => Err(ApiError::invalid_filter()),
            _ => Ok(()),
        }
    }

    /// A stored record as this request sees it: version shape, `$select`
    /// (evolvable enum members are masked by [`super::evolvable`]).
    fn shape(&self, mut record: Value, ctx: &Ctx, select: Option<&[String]>) -> Value {
        if ctx.version == Version::V1 {
            strip(&mut record, self.beta_only);
        }
        match select {
            Some(fields) => crate::odata::project(&record, fields, &[]),
            None => record,
        }
    }

    /// One page of a newest-first `source`.
    fn page(
        &self,
        ctx: &Ctx,
        call: &Call,
        source: &dyn RecordSource,
        q: &ListQuery,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<Response, ApiError> {
        let start = paging::start(call)?;
        let range = match &q.filter {
            Some(f) => paging::time_range(source, self.time_field, f.time_bounds(self.time_field)),
            None => (0, source.len()),
        };
        let (records, next) = paging::scan(source, q.order, start, q.top, range, keep);
        let select = q.select.as_deref();
        let values = records
            .into_iter()
            .map(|r| self.shape(r, ctx, select))
            .collect();
        let annotations = if self.entity == AUDITS.entity && select.is_none() {
            vec![("@microsoft.graph.tips", Value::String(TIPS.into()))]
        } else {
            Vec::new()
        };
        let page = Page {
            context: ctx.context(call, &with_select(self.fragment, select)),
            annotations,
            count: None,
            next_link: next.map(|pos| paging::next_link(call, pos)),
            values,
        };
        Ok(json(StatusCode::OK, &page.into_json()))
    }

    /// One record by id, shaped for the request.
    fn one(
        &self,
        ctx: &Ctx,
        call: &Call,
        found: Option<Value>,
        id: &str,
    ) -> Result<Response, ApiError> {
        let record = self.shape(found.ok_or_else(|| ApiError::not_found(id))?, ctx, None);
        let context = ctx.context(call, &format!("{}/$entity", self.fragment));
        Ok(json(StatusCode::OK, &entity(context, &record)))
    }
}

fn is_interactive(record: &Value) -> bool {
    match record.get("signInEventTypes").and_then(Value::as_array) {
        Some(types) => types.iter().any(|t| {
            t.as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("interactiveUser"))
        }),
        None => record.get("isInteractive").and_then(Value::as_bool) == Some(true),
    }
}

fn has_id(record: &Value, id: &str) -> bool {
    record.get("id").and_then(Value::as_str) == Some(id)
}

/// `GET /auditLogs/signIns`.
pub(super) async fn signins(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    call.require(SIGNIN_PERMISSIONS, Denial::Report)?;
    ctx.require_premium()?;
    let _slot = ctx.admit(&call, Budget::Reports, Pace::SignInPage).await?;
    let q = SIGNINS.list_query(&ctx, &call)?;
    let chose_types = q
        .filter
        .as_ref()
        .is_some_and(|f| f.mentions("signInEventTypes"));
    let keep = |r: &Value| {
        (chose_types || is_interactive(r)) && q.filter.as_ref().is_none_or(|f| f.matches(r))
    };
    SIGNINS.page(&ctx, &call, ctx.shared().signins.as_ref(), &q, keep)
}

/// `GET /auditLogs/signIns/{id}` (v1.0 sees interactive sign-ins only).
pub(super) async fn signin(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    call.require(SIGNIN_PERMISSIONS, Denial::Report)?;
    ctx.require_premium()?;
    let _slot = ctx.admit(&call, Budget::Reports, Pace::Report).await?;
    let source = ctx.shared().signins.as_ref();
    let found = (0..source.len())
        .map(|i| source.get(i))
        .find(|r| has_id(r, &id))
        .map(|r| r.into_owned())
        .filter(|r| ctx.version == Version::Beta || is_interactive(r));
    SIGNINS.one(&ctx, &call, found, &id)
}

/// `GET /auditLogs/directoryAudits`.
pub(super) async fn directory_audits(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    call.require(AUDIT_PERMISSIONS, Denial::Report)?;
    let _slot = ctx.admit(&call, Budget::Reports, Pace::AuditPage).await?;
    let q = AUDITS.list_query(&ctx, &call)?;
    let keep = |r: &Value| q.filter.as_ref().is_none_or(|f| f.matches(r));
    let source = Slice(&ctx.shared().fixture.directory_audits);
    AUDITS.page(&ctx, &call, &source, &q, keep)
}

/// `GET /auditLogs/directoryAudits/{id}`.
pub(super) async fn directory_audit(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    call.require(AUDIT_PERMISSIONS, Denial::Report)?;
    let _slot = ctx.admit(&call, Budget::Reports, Pace::Report).await?;
    let found = ctx
        .shared()
        .fixture
        .directory_audits
        .iter()
        .find(|r| has_id(r, &id))
        .cloned();
    AUDITS.one(&ctx, &call, found, &id)
}
