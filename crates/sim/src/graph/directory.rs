//! Directory objects: users, memberships, owned objects, devices, role
//! assignments and definitions, PIM eligibility, applications, service
//! principals, consent grants, app role assignments
//! (<https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0>,
//! <https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments?view=graph-rest-1.0>).
//!
//! All draw on the directory resource-unit bucket (costs from
//! <https://learn.microsoft.com/graph/throttling-limits>),
//! page 100 by default (`$top` 1..999, 120 with `signInActivity`), always
//! return `id` under `$select`, and refuse unsupported filters with
//! `Request_UnsupportedQuery`.
//!
//! Licence behaviours:
//! - `$select=signInActivity` needs `AuditLog.Read.All` and P1/P2; on Free it is
//!   403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`.
//! - `roleEligibilityScheduleInstances` (PIM) needs P2; otherwise it is
//!   **400 `AadPremiumLicenseRequired`**, the answer PIM endpoints are observed
//!   to give (several public tools match on exactly that code and status).

use super::paging::{self, Order, Page, Slice};
use super::{entity, json, with_select, ApiError, Call, Ctx, Denial, Pace};
use crate::fixture::{Licence, Tenant};
use crate::odata::{project, prop as p, FilterSpec, Kind, Style, EQ, NE, ORD, STARTS};
use crate::throttle::Budget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

const USER_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const MEMBERSHIP_PERMISSIONS: &[&str] = &[
    "GroupMember.Read.All",
    "User.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const APP_ROLE_PERMISSIONS: &[&str] = &[
    "Directory.Read.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const ROLE_PERMISSIONS: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
];
const ELIGIBILITY_PERMISSIONS: &[&str] = &[
    "RoleEligibilitySchedule.Read.Directory",
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
];
const DEVICE_PERMISSIONS: &[&str] = &[
    "Device.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const APP_PERMISSIONS: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const GRANT_PERMISSIONS: &[&str] = &[
    "Directory.Read.All",
    "DelegatedPermissionGrant.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.ReadWrite.All",
];

/// Properties `GET /users/{id}` returns without `$select`
/// (<https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0>).
pub const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

const USER_FILTER: FilterSpec = FilterSpec {
    entity: "User",
    props: &[
        p("id", Kind::Str, EQ),
        p("userPrincipalName", Kind::Str, EQ | STARTS),
        p("mail", Kind::Str, EQ | STARTS),
        p("displayName", Kind::Str, EQ | STARTS),
        p("givenName", Kind::Str, EQ | STARTS),
        p("surname", Kind::Str, EQ | STARTS),
        p("userType", Kind::Str, EQ | NE),
        p("accountEnabled", Kind::Bool, EQ | NE),
        p("createdDateTime", Kind::Time, EQ | NE | ORD),
        p("creationType", Kind::Str, EQ),
        p("externalUserState", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

const ROLE_ASSIGNMENT_FILTER: FilterSpec = FilterSpec {
    entity: "unifiedRoleAssignment",
    props: &[
        p("principalId", Kind::Str, EQ),
        p("roleDefinitionId", Kind::Str, EQ),
        p("directoryScopeId", Kind::Str, EQ),
        p("appScopeId", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

const ROLE_DEFINITION_FILTER: FilterSpec = FilterSpec {
    entity: "unifiedRoleDefinition",
    props: &[
        p("id", Kind::Str, EQ),
        p("displayName", Kind::Str, EQ | STARTS),
        p("templateId", Kind::Str, EQ),
        p("isBuiltIn", Kind::Bool, EQ),
        p("isEnabled", Kind::Bool, EQ),
    ],
    lambdas: &[],
    or_refused: Some("Or operator not supported for this entity set."),
    style: Style::Directory,
};

const ELIGIBILITY_FILTER: FilterSpec = FilterSpec {
    entity: "unifiedRoleEligibilityScheduleInstance",
    props: &[
        p("principalId", Kind::Str, EQ),
        p("roleDefinitionId", Kind::Str, EQ),
        p("directoryScopeId", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

const DEVICE_FILTER: FilterSpec = FilterSpec {
    entity: "Device",
    props: &[
        p("id", Kind::Str, EQ),
        p("deviceId", Kind::Str, EQ),
        p("displayName", Kind::Str, EQ | STARTS),
        p("operatingSystem", Kind::Str, EQ | STARTS),
        p("accountEnabled", Kind::Bool, EQ),
        p("trustType", Kind::Str, EQ),
        p("registrationDateTime", Kind::Time, EQ | ORD),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

const APPLICATION_FILTER: FilterSpec = FilterSpec {
    entity: "Application",
    props: &[
        p("id", Kind::Str, EQ),
        p("appId", Kind::Str, EQ),
        p("displayName", Kind::Str, EQ | STARTS),
        p("createdDateTime", Kind::Time, EQ | NE | ORD),
        p("publisherDomain", Kind::Str, EQ),
        p("signInAudience", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

const SERVICE_PRINCIPAL_FILTER: FilterSpec = FilterSpec {
    entity: "ServicePrincipal",
    props: &[
        p("id", Kind::Str, EQ),
        p("appId", Kind::Str, EQ),
        p("displayName", Kind::Str, EQ | STARTS),
        p("servicePrincipalType", Kind::Str, EQ),
        p("accountEnabled", Kind::Bool, EQ),
        p("appOwnerOrganizationId", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

const GRANT_FILTER: FilterSpec = FilterSpec {
    entity: "OAuth2PermissionGrant",
    props: &[
        p("id", Kind::Str, EQ),
        p("principalId", Kind::Str, EQ),
        p("clientId", Kind::Str, EQ),
        p("resourceId", Kind::Str, EQ),
        p("consentType", Kind::Str, EQ),
    ],
    lambdas: &[],
    or_refused: None,
    style: Style::Directory,
};

// --------------------------------------------------------------------- index

/// Every directory object by lower-case id, carrying `@odata.type`, for the
/// polymorphic `directoryObject` collections (memberOf, ownedObjects...).
pub(super) struct Index(HashMap<String, Value>);

impl Index {
    pub(super) fn new(t: &Tenant) -> Self {
        let mut map = HashMap::new();
        let sets: [(&[Value], &str); 5] = [
            (&t.users, "#microsoft.graph.user"),
            (&t.groups, "#microsoft.graph.group"),
            (&t.devices, "#microsoft.graph.device"),
            (&t.applications, "#microsoft.graph.application"),
            (&t.service_principals, "#microsoft.graph.servicePrincipal"),
        ];
        for (items, odata_type) in sets {
            for item in items {
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    map.insert(id.to_lowercase(), typed(item, odata_type));
                }
            }
        }
        Self(map)
    }

    fn get(&self, id: &str) -> Option<&Value> {
        self.0.get(&id.to_lowercase())
    }
}

/// `item` with `@odata.type` first (kept if the fixture already has one).
fn typed(item: &Value, odata_type: &str) -> Value {
    let mut out = Map::new();
    let existing = item.get("@odata.type").cloned();
    out.insert(
        "@odata.type".into(),
        existing.unwrap_or_else(|| odata_type.into()),
    );
    if let Some(obj) = item.as_object() {
        for (k, v) in obj {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn id_of(item: &Value) -> &str {
    item.get("id").and_then(Value::as_str).unwrap_or("")
}

fn str_field<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A user by object id or UPN (both case-insensitive).
fn find_user<'a>(t: &'a Tenant, key: &str) -> Result<&'a Value, ApiError> {
    t.users
        .iter()
        .find(|u| {
            id_of(u).eq_ignore_ascii_case(key)
                || str_field(u, "userPrincipalName").eq_ignore_ascii_case(key)
        })
        .ok_or_else(|| ApiError::not_found(key))
}

pub(super) fn user_id_of<'a>(t: &'a Tenant, key: &str) -> Result<&'a str, ApiError> {
    find_user(t, key).map(id_of)
}

/// The ids a relation map lists for `key` (keys compared without case).
fn related_ids<'a>(map: &'a BTreeMap<String, Vec<String>>, key: &str) -> &'a [String] {
    map.get(key)
        .or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .map(Vec::as_slice)
        .unwrap_or_default()
}

// ---------------------------------------------------------------- responses

/// A page of `items` (already filtered and projected), 100 by default.
fn collection(
    ctx: &Ctx,
    call: &Call,
    items: &[Value],
    fragment: &str,
    max_top: usize,
) -> Result<Response, ApiError> {
    let top = call.opts.top(100, max_top, |raw| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            format!(
                "Invalid page size specified: '{raw}'. Must be between 1 and {max_top} inclusive."
            ),
        )
    })?;
    let count = match call.opts.get("$count") {
        None => false,
        Some(_) if !call.eventual => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                "$count is not currently supported.",
            ));
        }
        Some(c) => c.eq_ignore_ascii_case("true"),
    };
    let start = paging::start(call)?;
    let (values, next) = paging::scan(
        &Slice(items),
        Order::NewestFirst,
        start,
        top,
        (0, items.len()),
        |_| true,
    );
    let page = Page {
        context: ctx.context(call, fragment),
        annotations: Vec::new(),
        count: (count && start == 0).then_some(items.len()),
        next_link: next.map(|pos| paging::next_link(call, pos)),
        values,
    };
    Ok(json(StatusCode::OK, &page.into_json()))
}

fn select_with_id(record: &Value, select: Option<&[String]>) -> Value {
    match select {
        Some(fields) => project(record, fields, &["id"]),
        None => record.clone(),
    }
}

fn wants_sign_in_activity(select: Option<&[String]>) -> bool {
    select.is_some_and(|s| s.iter().any(|f| f.eq_ignore_ascii_case("signInActivity")))
}

/// `signInActivity` needs `AuditLog.Read.All` and a premium tenant.
fn check_sign_in_activity(
    ctx: &Ctx,
    call: &Call,
    select: Option<&[String]>,
) -> Result<bool, ApiError> {
    if !wants_sign_in_activity(select) {
        return Ok(false);
    }
    call.require(&["AuditLog.Read.All"], Denial::Directory)?;
    ctx.require_premium()?;
    Ok(true)
}

fn user_view(user: &Value, select: Option<&[String]>) -> Value {
    match select {
        Some(fields) => project(user, fields, &["id"]),
        None => {
            let defaults: Vec<String> = USER_DEFAULT.iter().map(|s| s.to_string()).collect();
            project(user, &defaults, &[])
        }
    }
}

// ------------------------------------------------------------------- users

/// `GET /users` (e.g. `$filter=userType eq 'Guest'`).
pub(super) async fn users(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    call.require(USER_PERMISSIONS, Denial::Directory)?;
    let select = call.opts.select()?;
    let sign_in_activity = check_sign_in_activity(&ctx, &call, select.as_deref())?;
    let _slot = ctx
        .admit(
            &call,
            Budget::Directory {
                cost: call.ru_cost(2),
            },
            Pace::Directory,
        )
        .await?;
    call.opts
        .allow_only(&["$filter", "$select", "$top", "$skiptoken", "$count"])?;
    let filter = call.filter(&USER_FILTER)?;
    let items: Vec<Value> = ctx
        .tenant()
        .users
        .iter()
        .filter(|u| filter.as_ref().is_none_or(|f| f.matches(u)))
        .map(|u| user_view(u, select.as_deref()))
        .collect();
    let max_top = if sign_in_activity { 120 } else { 999 };
    collection(
        &ctx,
        &call,
        &items,
        &with_select("users", select.as_deref()),
        max_top,
    )
}

/// `GET /users/{id | userPrincipalName}`.
pub(super) async fn user(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    call.require(USER_PERMISSIONS, Denial::Directory)?;
    let select = call.opts.select()?;
    check_sign_in_activity(&ctx, &call, select.as_deref())?;
    let _slot = ctx
        .admit(
            &call,
            Budget::Directory {
                cost: call.ru_cost(1),
            },
            Pace::Directory,
        )
        .await?;
    call.opts.allow_only(&["$select"])?;
    let user = find_user(ctx.tenant(), &id)?;
    let fragment = format!("{}/$entity", with_select("users", select.as_deref()));
    Ok(json(
        StatusCode::OK,
        &entity(
            ctx.context(&call, &fragment),
            &user_view(user, select.as_deref()),
        ),
    ))
}

/// The directory objects a user relates to through `ids`.
async fn related(
    ctx: Ctx,
    call: Call,
    key: String,
    permissions: &[&str],
    base_cost: u32,
    ids: fn(&Tenant, &str) -> Vec<String>,
) -> Result<Response, ApiError> {
    call.require(permissions, Denial::Directory)?;
    let _slot = ctx
        .admit(
            &call,
            Budget::Directory {
                cost: call.ru_cost(base_cost),
            },
            Pace::Directory,
        )
        .await?;
    call.opts
        .allow_only(&["$select", "$top", "$skiptoken", "$count"])?;
    let user_id = user_id_of(ctx.tenant(), &key)?;
    let select = call.opts.select()?;
    let items: Vec<Value> = ids(ctx.tenant(), user_id)
        .iter()
        .filter_map(|id| ctx.st.index.get(id))
        .map(|v| select_with_id(v, select.as_deref()))
        .collect();
    collection(&ctx, &call, &items, "directoryObjects", 999)
}

fn direct_memberships(t: &Tenant, user: &str) -> Vec<String> {
    related_ids(&t.member_of, user).to_vec()
}

/// Memberships, nested ones included (groups that groups belong to).
fn transitive_memberships(t: &Tenant, user: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut queue: VecDeque<String> = related_ids(&t.member_of, user).iter().cloned().collect();
    while let Some(id) = queue.pop_front() {
        if seen.insert(id.to_lowercase()) {
            queue.extend(related_ids(&t.member_of, &id).iter().cloned());
            out.push(id);
        }
    }
    out
}

fn owned(t: &Tenant, user: &str) -> Vec<String> {
    related_ids(&t.owned_objects, user).to_vec()
}

fn registered(t: &Tenant, user: &str) -> Vec<String> {
    related_ids(&t.registered_devices, user).to_vec()
}

fn owned_device_ids(t: &Tenant, user: &str) -> Vec<String> {
    related_ids(&t.owned_devices, user).to_vec()
}

/// `GET /users/{id}/memberOf`.
pub(super) async fn member_of(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    related(ctx, call, id, MEMBERSHIP_PERMISSIONS, 2, direct_memberships).await
}

/// `GET /users/{id}/transitiveMemberOf`.
pub(super) async fn transitive_member_of(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    related(
        ctx,
        call,
        id,
        MEMBERSHIP_PERMISSIONS,
        2,
        transitive_memberships,
    )
    .await
}

/// `GET /users/{id}/ownedObjects`.
pub(super) async fn owned_objects(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    related(ctx, call, id, USER_PERMISSIONS, 2, owned).await
}

/// `GET /users/{id}/registeredDevices`.
pub(super) async fn registered_devices(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    related(ctx, call, id, USER_PERMISSIONS, 1, registered).await
}

/// `GET /users/{id}/ownedDevices`.
pub(super) async fn owned_devices(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    related(ctx, call, id, USER_PERMISSIONS, 1, owned_device_ids).await
}

/// `GET /users/{id}/appRoleAssignments`.
pub(super) async fn app_role_assignments(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    call.require(APP_ROLE_PERMISSIONS, Denial::Directory)?;
    let _slot = ctx
        .admit(
            &call,
            Budget::Directory {
                cost: call.ru_cost(1),
            },
            Pace::Directory,
        )
        .await?;
    call.opts
        .allow_only(&["$select", "$top", "$skiptoken", "$count"])?;
    let user_id = user_id_of(ctx.tenant(), &id)?;
    let select = call.opts.select()?;
    let items: Vec<Value> = ctx
        .tenant()
        .app_role_assignments
        .iter()
        .filter(|a| str_field(a, "principalId").eq_ignore_ascii_case(user_id))
        .map(|a| select_with_id(a, select.as_deref()))
        .collect();
    collection(
        &ctx,
        &call,
        &items,
        &format!("users('{user_id}')/appRoleAssignments"),
        999,
    )
}

// --------------------------------------------------------- object listings

/// A top-level collection of the fixture.
struct Listing {
    permissions: &'static [&'static str],
    cost: u32,
    filter: &'static FilterSpec,
    fragment: &'static str,
    items: fn(&Tenant) -> &[Value],
}

impl Listing {
    fn check(&self, call: &Call) -> Result<Option<Vec<String>>, ApiError> {
        call.require(self.permissions, Denial::Directory)?;
        call.opts.select()
    }

    async fn list(&self, ctx: Ctx, call: Call) -> Result<Response, ApiError> {
        let select = self.check(&call)?;
        let _slot = ctx
            .admit(
                &call,
                Budget::Directory {
                    cost: call.ru_cost(self.cost),
                },
                Pace::Directory,
            )
            .await?;
        call.opts
            .allow_only(&["$filter", "$select", "$top", "$skiptoken", "$count"])?;
        let filter = call.filter(self.filter)?;
        let items: Vec<Value> = (self.items)(ctx.tenant())
            .iter()
            .filter(|v| filter.as_ref().is_none_or(|f| f.matches(v)))
            .map(|v| select_with_id(v, select.as_deref()))
            .collect();
        collection(
            &ctx,
            &call,
            &items,
            &with_select(self.fragment, select.as_deref()),
            999,
        )
    }

    async fn one(&self, ctx: Ctx, call: Call, id: String) -> Result<Response, ApiError> {
        let select = self.check(&call)?;
        let _slot = ctx
            .admit(
                &call,
                Budget::Directory {
                    cost: call.ru_cost(1),
                },
                Pace::Directory,
            )
            .await?;
        call.opts.allow_only(&["$select"])?;
        let found = (self.items)(ctx.tenant())
            .iter()
            .find(|v| id_of(v).eq_ignore_ascii_case(&id))
            .ok_or_else(|| ApiError::not_found(&id))?;
        let fragment = format!("{}/$entity", with_select(self.fragment, select.as_deref()));
        Ok(json(
            StatusCode::OK,
            &entity(
                ctx.context(&call, &fragment),
                &select_with_id(found, select.as_deref()),
            ),
        ))
    }
}

fn devices_of(t: &Tenant) -> &[Value] {
    &t.devices
}
fn applications_of(t: &Tenant) -> &[Value] {
    &t.applications
}
fn service_principals_of(t: &Tenant) -> &[Value] {
    &t.service_principals
}
fn grants_of(t: &Tenant) -> &[Value] {
    &t.oauth2_permission_grants
}
fn role_definitions_of(t: &Tenant) -> &[Value] {
    &t.role_definitions
}

const DEVICES: Listing = Listing {
    permissions: DEVICE_PERMISSIONS,
    cost: 1,
    filter: &DEVICE_FILTER,
    fragment: "devices",
    items: devices_of,
};
const APPLICATIONS: Listing = Listing {
    permissions: APP_PERMISSIONS,
    cost: 2,
    filter: &APPLICATION_FILTER,
    fragment: "applications",
    items: applications_of,
};
const SERVICE_PRINCIPALS: Listing = Listing {
    permissions: APP_PERMISSIONS,
    cost: 1,
    filter: &SERVICE_PRINCIPAL_FILTER,
    fragment: "servicePrincipals",
    items: service_principals_of,
};
const GRANTS: Listing = Listing {
    permissions: GRANT_PERMISSIONS,
    cost: 2,
    filter: &GRANT_FILTER,
    fragment: "oauth2PermissionGrants",
    items: grants_of,
};
const ROLE_DEFINITIONS: Listing = Listing {
    permissions: ROLE_PERMISSIONS,
    cost: 1,
    filter: &ROLE_DEFINITION_FILTER,
    fragment: "roleManagement/directory/roleDefinitions",
    items: role_definitions_of,
};

/// `GET /devices` (e.g. `$filter=deviceId eq '...'`).
pub(super) async fn devices(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    DEVICES.list(ctx, call).await
}
/// `GET /devices/{id}`.
pub(super) async fn device(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    DEVICES.one(ctx, call, id).await
}
/// `GET /applications`.
pub(super) async fn applications(State(ctx): State<Ctx>, call: Call) -> Result<Response, ApiError> {
    APPLICATIONS.list(ctx, call).await
}
/// `GET /applications/{id}`.
pub(super) async fn application(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    APPLICATIONS.one(ctx, call, id).await
}
/// `GET /servicePrincipals`.
pub(super) async fn service_principals(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    SERVICE_PRINCIPALS.list(ctx, call).await
}
/// `GET /servicePrincipals/{id}`.
pub(super) async fn service_principal(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    SERVICE_PRINCIPALS.one(ctx, call, id).await
}
/// `GET /oauth2PermissionGrants` (`principalId`, `clientId`, `consentType` filters).
pub(super) async fn oauth2_grants(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    GRANTS.list(ctx, call).await
}
/// `GET /roleManagement/directory/roleDefinitions` (`or` refused).
pub(super) async fn role_definitions(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    ROLE_DEFINITIONS.list(ctx, call).await
}
/// `GET /roleManagement/directory/roleDefinitions/{id}`.
pub(super) async fn role_definition(
    State(ctx): State<Ctx>,
    call: Call,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ROLE_DEFINITIONS.one(ctx, call, id).await
}

// ------------------------------------------------------------------- roles

/// `GET /roleManagement/directory/roleAssignments` (`$expand=principal`,
/// `roleDefinition` supported).
pub(super) async fn role_assignments(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    call.require(ROLE_PERMISSIONS, Denial::Directory)?;
    let _slot = ctx
        .admit(
            &call,
            Budget::Directory {
                cost: call.ru_cost(1),
            },
            Pace::Directory,
        )
        .await?;
    call.opts.allow_only(&[
        "$filter",
        "$select",
        "$top",
        "$skiptoken",
        "$expand",
        "$count",
    ])?;
    let filter = call.filter(&ROLE_ASSIGNMENT_FILTER)?;
    let select = call.opts.select()?;
    let expand = role_expansions(&call)?;
    let t = ctx.tenant();
    let items: Vec<Value> = t
        .role_assignments
        .iter()
        .filter(|a| filter.as_ref().is_none_or(|f| f.matches(a)))
        .map(|a| expanded_assignment(&ctx, a, select.as_deref(), expand))
        .collect();
    collection(
        &ctx,
        &call,
        &items,
        "roleManagement/directory/roleAssignments",
        999,
    )
}

/// The navigation properties a role assignment's `$expand` asks for.
#[derive(Debug, Clone, Copy, Default)]
struct RoleExpansions {
    principal: bool,
    definition: bool,
}

/// Reads `$expand` of a role-assignment request: `principal` and
/// `roleDefinition`, any case; anything else is 400 `Request_BadRequest`.
fn role_expansions(call: &Call) -> Result<RoleExpansions, ApiError> {
    let mut expand = RoleExpansions::default();
    for item in call
        .opts
        .get("$expand")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match item.to_ascii_lowercase().as_str() {
            "principal" => expand.principal = true,
            "roledefinition" => expand.definition = true,
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "Request_BadRequest",
                    format!("Could not find a navigation property named '{item}' on type 'unifiedRoleAssignment'."),
                ))
            }
        }
    }
    Ok(expand)
}

/// A role assignment under `$select`, with the expanded principal and role
/// definition (`null` when not found).
fn expanded_assignment(
    ctx: &Ctx,
    a: &Value,
    select: Option<&[String]>,
    expand: RoleExpansions,
) -> Value {
    let mut out = select_with_id(a, select);
    if let Some(obj) = out.as_object_mut() {
        if expand.principal {
            let principal = ctx.st.index.get(str_field(a, "principalId")).cloned();
            obj.insert("principal".into(), principal.unwrap_or(Value::Null));
        }
        if expand.definition {
            let wanted = str_field(a, "roleDefinitionId");
            let definition = ctx.tenant().role_definitions.iter().find(|d| {
                id_of(d).eq_ignore_ascii_case(wanted)
                    || str_field(d, "templateId").eq_ignore_ascii_case(wanted)
            });
            obj.insert(
                "roleDefinition".into(),
                definition.cloned().unwrap_or(Value::Null),
            );
        }
    }
    out
}

/// `GET /roleManagement/directory/roleEligibilityScheduleInstances` (PIM, P2).
pub(super) async fn role_eligibility(
    State(ctx): State<Ctx>,
    call: Call,
) -> Result<Response, ApiError> {
    call.require(ELIGIBILITY_PERMISSIONS, Denial::Directory)?;
    if ctx.shared().licence != Licence::P2 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "AadPremiumLicenseRequired",
            "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
        ));
    }
    let _slot = ctx
        .admit(
            &call,
            Budget::Directory {
                cost: call.ru_cost(1),
            },
            Pace::Directory,
        )
        .await?;
    call.opts
        .allow_only(&["$filter", "$select", "$top", "$skiptoken", "$count"])?;
    let filter = call.filter(&ELIGIBILITY_FILTER)?;
    let select = call.opts.select()?;
    let items: Vec<Value> = ctx
        .tenant()
        .role_eligibility_schedule_instances
        .iter()
        .filter(|a| filter.as_ref().is_none_or(|f| f.matches(a)))
        .map(|a| select_with_id(a, select.as_deref()))
        .collect();
    collection(
        &ctx,
        &call,
        &items,
        "roleManagement/directory/roleEligibilityScheduleInstances",
        999,
    )
}
