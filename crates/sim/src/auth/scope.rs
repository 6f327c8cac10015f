//! The `scope` parameter: which resource a token is for and, for delegated
//! sign-ins, which permissions.
//!
//! Entra issues one token per resource
//! (<https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow>,
//! <https://learn.microsoft.com/graph/deployments>): app-only requests
//! name it as `<resource>/.default`; delegated requests list permissions, either
//! bare (`AuditLog.Read.All`, meaning Microsoft Graph) or prefixed with the
//! resource (`https://manage.office.com/ActivityFeed.Read`), plus the OpenID
//! Connect scopes, of which `offline_access` asks for a refresh token.

use super::response::OAuthError;
use crate::fixture::App;
use crate::shared::{EXCHANGE_RESOURCE, GRAPH_RESOURCE, MANAGE_RESOURCE};

/// The resources the simulator issues tokens for.
const RESOURCES: [&str; 3] = [GRAPH_RESOURCE, MANAGE_RESOURCE, EXCHANGE_RESOURCE];

/// Scopes that name no resource permission.
const OPENID_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The resource of a client-credentials request, whose scope must be exactly
/// `<resource>/.default` (AADSTS70011 otherwise).
pub(super) fn app_only(scope: &str) -> Result<&'static str, OAuthError> {
    RESOURCES
        .into_iter()
        .find(|resource| scope.strip_prefix(resource) == Some("/.default"))
        .ok_or_else(|| {
            invalid_scope(format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid. \
                 Client credential flows must have a scope value with /.default suffixed to the resource identifier \
                 (application ID URI)."
            ))
        })
}

/// What a delegated (device-code or refresh) request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Delegated {
    pub resource: &'static str,
    /// Permission names without the resource prefix; `.default` means "whatever
    /// has been consented".
    pub permissions: Vec<String>,
    pub offline_access: bool,
}

/// Parses a space-separated delegated scope list; every permission must be for
/// one and the same known resource.
pub(super) fn delegated(scope: &str) -> Result<Delegated, OAuthError> {
    let mut resource = None;
    let mut permissions = Vec::new();
    let mut offline_access = false;
    for item in scope.split_whitespace() {
        if OPENID_SCOPES.contains(&item) {
            offline_access |= item == "offline_access";
            continue;
        }
        let (item_resource, permission) = match item.rsplit_once('/') {
            Some((prefix, permission)) if item.contains("://") => {
                let known = RESOURCES.into_iter().find(|r| *r == prefix);
                let known = known.ok_or_else(|| {
                    invalid_scope(format!(
                        "The provided value for the input parameter 'scope' is not valid. The scope {item} is not valid: \
                         unknown resource {prefix}."
                    ))
                })?;
                (known, permission)
            }
            _ => (GRAPH_RESOURCE, item),
        };
        if permission.is_empty() {
            return Err(invalid_scope(format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {item} is not valid."
            )));
        }
        if resource.is_some_and(|r| r != item_resource) {
            return Err(OAuthError::bad_request(
                "invalid_scope",
                700022,
                "The provided value for the input parameter scope is not valid because it contains more than one resource.",
            ));
        }
        resource = Some(item_resource);
        permissions.push(permission.to_string());
    }
    Ok(Delegated {
        resource: resource.unwrap_or(GRAPH_RESOURCE),
        permissions,
        offline_access,
    })
}

impl Delegated {
    /// The `scp` claim a signed-in user gets: every delegated permission
    /// consented for the app (Entra's v2 endpoint returns the consented set, not
    /// just the requested part). A requested permission without consent fails
    /// the way an un-consented sign-in does (AADSTS65001).
    pub(super) fn granted(&self, app: &App) -> Result<Vec<String>, OAuthError> {
        let missing: Vec<&str> = self
            .permissions
            .iter()
            .map(String::as_str)
            .filter(|p| *p != ".default" && !app.delegated_scopes.iter().any(|s| s == p))
            .collect();
        if missing.is_empty() {
            Ok(app.delegated_scopes.clone())
        } else {
            Err(OAuthError::bad_request(
                "invalid_grant",
                65001,
                format!(
                    "The user or administrator has not consented to use the application with ID '{}' named '{}'. \
                     Send an interactive authorization request for this user and resource. Not consented: {}.",
                    app.client_id,
                    app.display_name,
                    missing.join(" ")
                ),
            ))
        }
    }

    /// The `scope` value of the token response: the granted permissions as the
    /// client may ask for them again (bare for Graph, resource-prefixed
    /// otherwise), plus `offline_access` when a refresh token comes with it.
    pub(super) fn response_scope(&self, granted: &[String]) -> String {
        let mut items: Vec<String> = granted
            .iter()
            .map(|p| {
                if self.resource == GRAPH_RESOURCE {
                    p.clone()
                } else {
                    format!("{}/{p}", self.resource)
                }
            })
            .collect();
        if self.offline_access {
            items.push("offline_access".into());
        }
        items.join(" ")
    }
}

fn invalid_scope(message: String) -> OAuthError {
    OAuthError::bad_request("invalid_scope", 70011, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_only_needs_a_known_default_scope() {
        assert_eq!(
            app_only("https://graph.microsoft.com/.default").unwrap(),
            GRAPH_RESOURCE
        );
        assert_eq!(
            app_only("https://manage.office.com/.default").unwrap(),
            MANAGE_RESOURCE
        );
        for bad in [
            "https://graph.microsoft.com/User.Read.All",
            "https://graph.microsoft.com",
            "https://example.com/.default",
            "User.Read",
        ] {
            assert!(app_only(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delegated_scopes_name_one_resource() {
        let d = delegated("AuditLog.Read.All  Directory.Read.All offline_access openid").unwrap();
        assert_eq!(d.resource, GRAPH_RESOURCE);
        assert_eq!(d.permissions, ["AuditLog.Read.All", "Directory.Read.All"]);
        assert!(d.offline_access);
        let m = delegated("https://manage.office.com/ActivityFeed.Read").unwrap();
        assert_eq!((m.resource, m.offline_access), (MANAGE_RESOURCE, false));
        assert!(
            delegated("AuditLog.Read.All https://manage.office.com/ActivityFeed.Read").is_err()
        );
        assert!(delegated("https://example.com/Read").is_err());
    }
}
