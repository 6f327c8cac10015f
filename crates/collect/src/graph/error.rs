//! What a failed Graph / Management API call means for the evidence: each kind
//! maps to a source status (unavailable: licence, permission, mailbox; failed:
//! the rest) and carries the service's own code and message.

use crate::auth::AuthError;
use serde_json::Value;

/// Typed errors from [`super::ReadOnlyClient`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    #[error("the tenant's licence does not include this data ({code}: {message}); on Entra ID Free, download the logs from the Entra admin center and import them")]
    LicenceRequired { code: String, message: String },
    #[error("the app lacks the permission {}: grant it (admin consent) or run `m365-preserve doctor` ({code}: {message})", permission.as_deref().unwrap_or("this call needs"))]
    PermissionMissing {
        permission: Option<String>,
        code: String,
        message: String,
    },
    #[error("the mailbox is not reachable by this app (application access policy, or not an Exchange Online mailbox) ({code}: {message})")]
    MailboxUnreachable { code: String, message: String },
    #[error("{why} (the service answered {code})")]
    PrerequisiteMissing {
        why: &'static str,
        code: String,
        message: String,
    },
    #[error("the service does not support this query ({code}: {message})")]
    UnsupportedQuery { code: String, message: String },
    #[error("not found ({code}: {message})")]
    NotFound { code: String, message: String },
    #[error("the service kept throttling the requests ({message}, {attempts} attempts)")]
    Throttled { attempts: u32, message: String },
    #[error("the service kept failing ({message}, {attempts} attempts)")]
    Transient { attempts: u32, message: String },
    #[error("authentication: {0}")]
    Auth(#[from] AuthError),
    #[error("the service rejected the token twice (401 {code}: {message}); check the credential and the tenant")]
    Unauthorized { code: String, message: String },
    #[error("HTTP {status} ({code}: {message})")]
    Http {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected response from {url}: {message}")]
    InvalidResponse { url: String, message: String },
    #[error("the app's Exchange roles do not allow this cmdlet ({message}): add it to the app's custom read-only role (README: Exchange Online), or run `m365-preserve doctor --exchange`")]
    ExchangeRoleMissing { message: String },
    #[error("Exchange Online refused the cmdlet (HTTP {status} {code}: {message})")]
    Cmdlet {
        status: u16,
        code: String,
        message: String,
    },
}

impl GraphError {
    /// Requests sent before the error was final.
    pub fn attempts(&self) -> u32 {
        match self {
            GraphError::Throttled { attempts, .. } | GraphError::Transient { attempts, .. } => {
                *attempts
            }
            _ => 1,
        }
    }

    /// Whether the source should be reported `unavailable` (a reason outside the
    /// tool: licence, permission, mailbox, API) rather than `failed`.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            GraphError::LicenceRequired { .. }
                | GraphError::PermissionMissing { .. }
                | GraphError::PrerequisiteMissing { .. }
                | GraphError::MailboxUnreachable { .. }
                | GraphError::NotFound { .. }
                | GraphError::ExchangeRoleMissing { .. }
        )
    }
}

/// The `error.code` and `error.message` of an OData or Management API error body.
pub fn error_parts(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let e = &v["error"];
    let code = e["code"].as_str().unwrap_or("").to_string();
    let message = e["message"].as_str().unwrap_or("").to_string();
    (code, message)
}

/// Finds a permission name such as `AuditLog.Read.All` in an error message.
pub fn permission_in(message: &str) -> Option<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() >= 2
                && parts.iter().all(|p| !p.is_empty())
                && parts[0].starts_with(|c: char| c.is_ascii_uppercase())
                && parts.contains(&"Read")
        })
        .map(String::from)
}

/// What to do with a response.
#[derive(Debug)]
pub enum Verdict {
    Ok,
    /// Retry after the given hint (throttling: also tell the pacer).
    Retry {
        throttled: bool,
        why: String,
    },
    /// A licence 403: retry a few times (Graph returns it intermittently on
    /// licensed tenants), then give up with `LicenceRequired`.
    MaybeLicence,
    /// 401: refresh the token once.
    Reauthenticate,
    Fail(GraphError),
}

/// Classifies a response by status and the service's error code (the message only
/// where the code is generic: a missing message-trace service principal).
pub fn classify(status: u16, body: &[u8], permission_hint: Option<&str>) -> Verdict {
    if (200..300).contains(&status) {
        return Verdict::Ok;
    }
    let (code, message) = error_parts(body);
    let with_hint = |m: &str| permission_in(m).or(permission_hint.map(String::from));
    match (status, code.as_str()) {
        (429, _) | (403, "AF429") => Verdict::Retry {
            throttled: true,
            why: format!("throttled ({status} {code})"),
        },
        (500..=599, _) | (408, _) => Verdict::Retry {
            throttled: false,
            why: format!("HTTP {status} {code}"),
        },
        // Message trace without Microsoft's service principal in the tenant:
        // the generic `Unauthorized`, told apart by the app id in the message
        // (<https://learn.microsoft.com/graph/api/resources/exchangemessagetrace#prerequisites>).
        (401, _) if message.contains(m365_preserve_sources::MESSAGE_TRACE_APP) => {
            let why = m365_preserve_sources::Source::MessageTrace
                .prerequisite()
                .map_or("", |p| p.missing);
            Verdict::Fail(GraphError::PrerequisiteMissing { why, code, message })
        }
        (401, _) => Verdict::Reauthenticate,
        (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant") => Verdict::MaybeLicence,
        // PIM endpoints answer this (400) without P2.
        (_, "AadPremiumLicenseRequired") => {
            Verdict::Fail(GraphError::LicenceRequired { code, message })
        }
        (
            403,
            "Authentication_MSGraphPermissionMissing" | "Authorization_RequestDenied" | "AF10001",
        ) => {
            let permission = if code == "AF10001" {
                Some("ActivityFeed.Read".to_string())
            } else {
                with_hint(&message)
            };
            Verdict::Fail(GraphError::PermissionMissing {
                permission,
                code,
                message,
            })
        }
        (
            403,
            "ErrorAccessDenied"
            | "extensionError"
            | "MailboxNotEnabledForRESTAPI"
            | "ErrorMailboxNotEnabledForRESTAPI",
        ) => Verdict::Fail(GraphError::MailboxUnreachable { code, message }),
        (400, "BadRequest" | "Request_UnsupportedQuery" | "Request_BadRequest") => {
            Verdict::Fail(GraphError::UnsupportedQuery { code, message })
        }
        (400, c) if c.starts_with("AF200") => {
            Verdict::Fail(GraphError::UnsupportedQuery { code, message })
        }
        (404, _) => Verdict::Fail(GraphError::NotFound { code, message }),
        _ => Verdict::Fail(GraphError::Http {
            status,
            code,
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"error": {"code": code, "message": message}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn classifies_by_code() {
        assert!(matches!(classify(200, b"{}", None), Verdict::Ok));
        assert!(matches!(
            classify(429, b"", None),
            Verdict::Retry {
                throttled: true,
                ..
            }
        ));
        assert!(matches!(
            classify(403, &body("AF429", "Too many requests"), None),
            Verdict::Retry {
                throttled: true,
                ..
            }
        ));
        assert!(matches!(
            classify(503, b"", None),
            Verdict::Retry {
                throttled: false,
                ..
            }
        ));
        assert!(matches!(
            classify(401, &body("InvalidAuthenticationToken", ""), None),
            Verdict::Reauthenticate
        ));
        assert!(matches!(
            classify(
                403,
                &body("Authentication_RequestFromNonPremiumTenantOrB2CTenant", "x"),
                None
            ),
            Verdict::MaybeLicence
        ));
        match classify(
            403,
            &body(
                "Authentication_MSGraphPermissionMissing",
                "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
            ),
            None,
        ) {
            Verdict::Fail(GraphError::PermissionMissing { permission, .. }) => {
                assert_eq!(permission.as_deref(), Some("AuditLog.Read.All"))
            }
            v => panic!("{v:?}"),
        }
        match classify(
            403,
            &body(
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            Some("Directory.Read.All"),
        ) {
            Verdict::Fail(GraphError::PermissionMissing { permission, .. }) => {
                assert_eq!(permission.as_deref(), Some("Directory.Read.All"))
            }
            v => panic!("{v:?}"),
        }
        assert!(matches!(
            classify(403, &body("ErrorAccessDenied", ""), None),
            Verdict::Fail(GraphError::MailboxUnreachable { .. })
        ));
        assert!(matches!(
            classify(400, &body("BadRequest", "Invalid filter clause"), None),
            Verdict::Fail(GraphError::UnsupportedQuery { .. })
        ));
        assert!(matches!(
            classify(404, &body("Request_ResourceNotFound", ""), None),
            Verdict::Fail(GraphError::NotFound { .. })
        ));
    }
}
