//! The request shape of Exchange Online's admin API, in one place: it is not
//! documented for third parties (it is what the ExchangeOnlineManagement
//! module itself sends, reverse-engineered in shared/reference/exchange-rest.md),
//! so when Microsoft changes it, this module and its recorded example exchanges
//! (`vectors/*.json`, checked by the tests below) are what to fix.
//!
//! - A cmdlet: `POST {host}/adminapi/beta/{tenant id}/InvokeCommand`, body
//!   `{"CmdletInput":{"CmdletName":...,"Parameters":{...}}}`, JSON response
//!   format, pages of at most 1,000, routed to the mailbox it reads (or to the
//!   organisation's arbitration mailbox); further pages by POSTing the same body
//!   to `@odata.nextLink` (§2.1-2.5).
//! - The cmdlet listing: `GET {host}/adminapi/v1.0/{tenant id}/EXOModuleFile`
//!   with `CommandName: *`, whose `value[].exportedCmdlets` lists what the app's
//!   roles allow (§5).
//! - Errors: the cmdlet's own message is JSON text inside
//!   `error.details[0].message`; HTTP 200 can carry an error too; a role that
//!   lacks the cmdlet is 401 "User is not allowed to call ..." (§2.8;
//!   MicrosoftDocs/office-docs-powershell issue 7970).

use crate::graph::{Api, Capture, GraphError, Request, Verdict};
use m365_preserve_sources::{Argument, Budget, Cmdlet, Source};
use serde_json::{json, Map, Value};
use url::Url;

/// The module version the cmdlet listing is asked for (CIPP's `New-ExoRequest`).
const MODULE_VERSION: &str = "3.7.1";

/// The organisation's arbitration mailbox, which org-wide cmdlets are routed
/// to (CIPP and ExoHelper send it for app-only calls; §2.3).
const ORGANIZATION_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// Exception names the module retries (`Get-WaitTimeForRetry`, §3).
const TRANSIENT: [&str; 5] = [
    "DCOverloadedException",
    "SuitabilityDirectoryException",
    "ServerInMMException",
    "ADServerSettingsChangedException",
    "StorageTransientException",
];

/// The warning Exchange adds when it returned only part of the results.
pub const MORE_RESULTS: &str = "There are more results available";

fn at(base: &Url, path: &str, query: Option<&str>) -> Url {
    let mut u = base.clone();
    u.set_path(path);
    u.set_query(query);
    u
}

/// The routing hint of a request (`X-AnchorMailbox`).
fn anchor(cmdlet: Option<&Cmdlet>, tenant_id: &str) -> String {
    match cmdlet.and_then(Cmdlet::mailbox) {
        Some(mailbox) => format!("UPN:{mailbox}"),
        None => format!("APP:{ORGANIZATION_MAILBOX}@{tenant_id}"),
    }
}

/// The request that runs `cmdlet` (its body comes from [`body`] when sent).
pub fn invoke(base: &Url, tenant_id: &str, cmdlet: &Cmdlet, source: Source) -> Request {
    let url = at(
        base,
        &format!("/adminapi/beta/{tenant_id}/InvokeCommand"),
        None,
    );
    Request::new(Api::Exchange, url, Budget::Exchange, source)
        .header("Accept", "application/json")
        .header("X-ResponseFormat", "json")
        .header("X-SerializationLevel", "Partial")
        .header("Prefer", "odata.maxpagesize=1000")
        .header("X-CmdletName", cmdlet.name().as_str())
        .header("X-AnchorMailbox", &anchor(Some(cmdlet), tenant_id))
}

/// The request for the module's cmdlet listing.
pub fn cmdlet_listing(base: &Url, tenant_id: &str) -> Request {
    let url = at(
        base,
        &format!("/adminapi/v1.0/{tenant_id}/EXOModuleFile"),
        Some(&format!("Version={MODULE_VERSION}")),
    );
    Request::new(Api::Exchange, url, Budget::Exchange, Capture::ExchangeRoles)
        .header("Accept", "application/json")
        .header("CommandName", "*")
        .header("X-AnchorMailbox", &anchor(None, tenant_id))
}

/// The body of an InvokeCommand: a switch is `true`, text a string, the
/// unlimited result size `"Unlimited"` (the module's `Transform-Parameters`).
pub fn body(cmdlet: &Cmdlet) -> Value {
    let parameters: Map<String, Value> = cmdlet
        .arguments()
        .into_iter()
        .map(|(p, a)| {
            let v = match a {
                Argument::Text(t) => json!(t),
                Argument::Switch => json!(true),
                Argument::Unlimited => json!("Unlimited"),
            };
            (p.as_str().to_string(), v)
        })
        .collect();
    json!({"CmdletInput": {"CmdletName": cmdlet.name().as_str(), "Parameters": parameters}})
}

/// One page of a cmdlet's output.
#[derive(Debug, PartialEq)]
pub struct Envelope {
    pub records: Vec<Value>,
    pub next: Option<String>,
    pub warnings: Vec<String>,
}

/// Reads a page. An error inside a 200 has already been refused by [`classify`].
pub fn envelope(page: Value) -> Result<Envelope, String> {
    let Value::Object(mut map) = page else {
        return Err("not a JSON object".into());
    };
    let next = map
        .remove("@odata.nextLink")
        .and_then(|v| v.as_str().map(String::from));
    let warnings = match map.remove("@adminapi.warnings") {
        Some(Value::Array(w)) => w
            .into_iter()
            .map(|w| {
                w.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| w.to_string())
            })
            .collect(),
        _ => Vec::new(),
    };
    match map.remove("value") {
        Some(Value::Array(records)) => Ok(Envelope {
            records,
            next,
            warnings,
        }),
        _ => Err("a page without a \"value\" array".into()),
    }
}

/// The cmdlet names of the module's listing, sorted.
pub fn exported_cmdlets(listing: &Value) -> Result<Vec<String>, String> {
    let entries = listing["value"]
        .as_array()
        .ok_or("the cmdlet listing has no \"value\" array")?;
    let mut names: Vec<String> = entries
        .iter()
        .filter_map(|e| e["exportedCmdlets"].as_str())
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// `error.code` and the cmdlet's own message: `details[0].message` (JSON
/// text with a `Message`, or plain text), else the inner exception's, else
/// `error.message` (the module's `Get-ErrorMessage`).
pub fn error_reason(body: &Value) -> (String, String) {
    let e = body
        .get("error")
        .or_else(|| body.get("@odata.error"))
        .unwrap_or(&Value::Null);
    let code = e["code"].as_str().unwrap_or("").to_string();
    let detail = e["details"][0]["message"].as_str().map(|text| {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v["Message"].as_str().map(String::from))
            .unwrap_or_else(|| text.to_string())
    });
    let message = detail
        .or_else(|| {
            e["innererror"]["internalException"]["message"]
                .as_str()
                .map(String::from)
        })
        .or_else(|| e["message"].as_str().map(String::from))
        .unwrap_or_default();
    (code, message)
}

/// What an Exchange response means.
pub fn classify(status: u16, body: &[u8]) -> Verdict {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (code, message) = error_reason(&parsed);
    let fail = |message: String| {
        Verdict::Fail(GraphError::Cmdlet {
            status,
            code: code.clone(),
            message,
        })
    };
    if (200..300).contains(&status) {
        let errors = parsed["@adminapi.errors"]
            .as_array()
            .filter(|e| !e.is_empty());
        return match (parsed.get("error").or(parsed.get("@odata.error")), errors) {
            (Some(_), _) => fail(message),
            (None, Some(errors)) => fail(format!(
                "the cmdlet reported errors: {}",
                Value::from(errors.clone())
            )),
            (None, None) => Verdict::Ok,
        };
    }
    let text = String::from_utf8_lossy(body);
    if TRANSIENT.iter().any(|t| text.contains(t)) {
        return Verdict::Retry {
            throttled: false,
            why: format!("HTTP {status}: Exchange was busy ({message})"),
        };
    }
    match status {
        429 => Verdict::Retry {
            throttled: true,
            why: format!("throttled (429 {code})"),
        },
        408 | 500..=599 => Verdict::Retry {
            throttled: false,
            why: format!("HTTP {status} {code}"),
        },
        401 | 403 if message.contains("not allowed to call") => {
            Verdict::Fail(GraphError::ExchangeRoleMissing { message })
        }
        401 => Verdict::Reauthenticate,
        403 => Verdict::Fail(GraphError::ExchangeRoleMissing {
            message: if message.is_empty() {
                "HTTP 403 without a reason".into()
            } else {
                message
            },
        }),
        404 => Verdict::Fail(GraphError::NotFound { code, message }),
        _ => fail(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use m365_preserve_sources::CmdletName;

    /// A recorded example exchange: what is sent for a cmdlet, and what comes
    /// back and how it is read.
    struct Vector {
        name: &'static str,
        text: &'static str,
    }

    const VECTORS: [Vector; 8] = [
        Vector {
            name: "inbox-rules-hidden",
            text: include_str!("vectors/inbox-rules-hidden.json"),
        },
        Vector {
            name: "mailbox",
            text: include_str!("vectors/mailbox.json"),
        },
        Vector {
            name: "audit-config",
            text: include_str!("vectors/audit-config.json"),
        },
        Vector {
            name: "not-found",
            text: include_str!("vectors/not-found.json"),
        },
        Vector {
            name: "role-missing",
            text: include_str!("vectors/role-missing.json"),
        },
        Vector {
            name: "error-inside-200",
            text: include_str!("vectors/error-inside-200.json"),
        },
        Vector {
            name: "throttled",
            text: include_str!("vectors/throttled.json"),
        },
        Vector {
            name: "expired-token",
            text: include_str!("vectors/expired-token.json"),
        },
    ];

    /// Every cmdlet of `mailbox`, to find a vector's by its PowerShell form.
    fn candidates(mailbox: &str) -> Vec<Cmdlet> {
        let m = || mailbox.to_string();
        vec![
            Cmdlet::GetInboxRule {
                mailbox: m(),
                include_hidden: true,
            },
            Cmdlet::GetInboxRule {
                mailbox: m(),
                include_hidden: false,
            },
            Cmdlet::GetMailbox { identity: m() },
            Cmdlet::GetMailboxPermission { identity: m() },
            Cmdlet::GetRecipientPermission { identity: m() },
            Cmdlet::GetTransportRule,
            Cmdlet::GetAdminAuditLogConfig,
            Cmdlet::GetMailboxAuditBypassAssociation,
        ]
    }

    fn verdict_name(v: &Verdict) -> String {
        match v {
            Verdict::Ok => "ok".into(),
            Verdict::Retry { throttled, .. } => format!("retry throttled={throttled}"),
            Verdict::Reauthenticate => "reauthenticate".into(),
            Verdict::MaybeLicence => "licence".into(),
            Verdict::Fail(e) => format!("fail: {e}"),
        }
    }

    #[test]
    fn requests_and_responses_match_the_recorded_exchanges() {
        let base = Url::parse("https://outlook.office365.com").unwrap();
        for v in VECTORS {
            let x: Value =
                serde_json::from_str(v.text).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            let tenant = x["tenant"].as_str().unwrap();
            let cmdlet = candidates(x["mailbox"].as_str().unwrap_or(""))
                .into_iter()
                .find(|c| c.to_string() == x["cmdlet"])
                .unwrap_or_else(|| panic!("{}: no cmdlet {}", v.name, x["cmdlet"]));
            let req = invoke(&base, tenant, &cmdlet, Source::ExchangeInboxRules);
            let sent = &x["request"];
            assert_eq!(sent["method"], "POST", "{}", v.name);
            assert_eq!(req.url.as_str(), sent["url"], "{}", v.name);
            let headers: Map<String, Value> = req
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            assert_eq!(Value::Object(headers), sent["headers"], "{}", v.name);
            assert_eq!(body(&cmdlet), sent["body"], "{}", v.name);
            let got = &x["response"];
            // A string body is sent as it is (an empty one is no body at all).
            let raw = match &got["body"] {
                Value::String(text) => text.clone(),
                body => body.to_string(),
            };
            let status = got["status"].as_u64().unwrap() as u16;
            let verdict = classify(status, raw.as_bytes());
            if let Some(wait) = got["headers"]["Retry-After"].as_str() {
                assert_eq!(
                    crate::retry::parse_retry_after(wait, chrono::Utc::now()),
                    x["expect"]["retry_after_ms"]
                        .as_u64()
                        .map(std::time::Duration::from_millis),
                    "{}: decimal seconds, as the module reads them",
                    v.name
                );
            }
            let expect = &x["expect"];
            match expect["verdict"].as_str() {
                Some(want) => assert!(
                    verdict_name(&verdict).starts_with(want),
                    "{}: {} does not start with {want}",
                    v.name,
                    verdict_name(&verdict)
                ),
                None => {
                    assert!(
                        matches!(verdict, Verdict::Ok),
                        "{}: {}",
                        v.name,
                        verdict_name(&verdict)
                    );
                    let page = envelope(got["body"].clone()).unwrap();
                    assert_eq!(
                        page.records.len() as u64,
                        expect["records"].as_u64().unwrap(),
                        "{}",
                        v.name
                    );
                    assert_eq!(page.next.as_deref(), expect["next"].as_str(), "{}", v.name);
                    assert_eq!(json!(page.warnings), expect["warnings"], "{}", v.name);
                }
            }
        }
    }

    #[test]
    fn the_cmdlet_listing_request_and_answer() {
        let x: Value = serde_json::from_str(include_str!("vectors/cmdlet-listing.json")).unwrap();
        let base = Url::parse("https://outlook.office365.com").unwrap();
        let req = cmdlet_listing(&base, x["tenant"].as_str().unwrap());
        assert_eq!(req.url.as_str(), x["request"]["url"]);
        let headers: Map<String, Value> = req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        assert_eq!(Value::Object(headers), x["request"]["headers"]);
        let names = exported_cmdlets(&x["response"]["body"]).unwrap();
        assert_eq!(json!(names), x["expect"]["cmdlets"]);
        assert!(names.iter().any(|n| n == CmdletName::GetInboxRule.as_str()));
    }

    #[test]
    fn transient_exchange_exceptions_are_retried() {
        let body = json!({"error": {"code": "InternalServerError", "message": "Error executing cmdlet",
            "details": [{"code": "Server", "message": "{\"Message\":\"Active Directory server is overloaded.\",\"TypeName\":\"Microsoft.Exchange.Data.Directory.DCOverloadedException\"}"}]}});
        let verdict = classify(400, body.to_string().as_bytes());
        assert!(
            matches!(
                verdict,
                Verdict::Retry {
                    throttled: false,
                    ..
                }
            ),
            "{}",
            verdict_name(&verdict)
        );
        assert!(matches!(classify(401, b"",), Verdict::Reauthenticate));
    }
}
