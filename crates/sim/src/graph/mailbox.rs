//! Outlook routes: inbox rules, mail folders, mailbox settings and message
//! MIME (<https://learn.microsoft.com/graph/api/mailfolder-list-messagerules?view=graph-rest-1.0>,
//! <https://learn.microsoft.com/graph/outlook-get-mime-message>).
//!
//! - Permissions: rules and settings `MailboxSettings.Read`; folders
//!   `Mail.ReadBasic.All` (or `Mail.Read`); MIME `Mail.Read`. Missing → 403
//!   `ErrorAccessDenied`.
//! - Unknown user → 404 `Request_ResourceNotFound`; a user without a mailbox in
//!   the fixture → 404 `MailboxNotEnabledForRESTAPI`; a mailbox with
//!   `reachable: false` (an application access policy) → 403 `ErrorAccessDenied`.
//! - Outlook budget: 4 concurrent requests per app per mailbox, 10,000 / 10 min.
//! - Folders are found by id, `wellKnownName`, or the well-known name of their
//!   display name (`inbox` → "Inbox"...). Only the Inbox has rules.

use super::directory::user_id_of;
use super::{entity, json, ApiError, Call, Ctx, Denial, Pace};
use crate::fixture::Mailbox;
use crate::throttle::{Budget, Slot};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::path::Component;

const SETTINGS_PERMISSIONS: &[&str] = &["MailboxSettings.Read", "MailboxSettings.ReadWrite"];
const FOLDER_PERMISSIONS: &[&str] = &[
    "Mail.ReadBasic.All",
    "Mail.ReadBasic",
    "Mail.Read",
    "Mail.ReadWrite",
];
const MIME_PERMISSIONS: &[&str] = &["Mail.Read", "Mail.ReadWrite"];

/// Well-known folder names and the display names Exchange gives them.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("inbox", "Inbox"),
    ("sentitems", "Sent Items"),
    ("deleteditems", "Deleted Items"),
    ("drafts", "Drafts"),
    ("junkemail", "Junk Email"),
    ("archive", "Archive"),
    ("outbox", "Outbox"),
    ("conversationhistory", "Conversation History"),
];

/// Permission, user, mailbox, reachability, then the Outlook budget.
async fn open<'a>(
    ctx: &'a Ctx,
    call: &Call,
    key: &str,
    permissions: &[&str],
) -> Result<(&'a str, &'a Mailbox, Slot), ApiError> {
    call.require(permissions, Denial::Mailbox)?;
    let tenant = ctx.tenant();
    let user_id = user_id_of(tenant, key)?;
    let mailbox = tenant
        .mailboxes
        .get(user_id)
        .or_else(|| {
            tenant
                .mailboxes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(user_id))
                .map(|(_, v)| v)
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        })?;
    if !mailbox.reachable {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access to OData is disabled: Blocked by tenant configured AppOnly AccessPolicy settings.",
        ));
    }
    let slot = ctx
        .admit(call, Budget::Outlook { mailbox: user_id }, Pace::Outlook)
        .await?;
    Ok((user_id, mailbox, slot))
}

fn find_folder<'a>(mailbox: &'a Mailbox, wanted: &str) -> Option<&'a Value> {
    let s = |f: &'a Value, k: &str| f.get(k).and_then(Value::as_str).unwrap_or("");
    let display = WELL_KNOWN
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .map(|(_, display)| *display);
    mailbox.folders.iter().find(|f| {
        s(f, "id") == wanted
            || s(f, "wellKnownName").eq_ignore_ascii_case(wanted)
            || display.is_some_and(|d| s(f, "displayName").eq_ignore_ascii_case(d))
    })
}

fn folder_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

/// `GET /users/{id}/mailFolders/{folder}/messageRules`.
pub(super) async fn rules(
    State(ctx): State<Ctx>,
    call: Call,
    Path((key, folder)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (user_id, mailbox, _slot) = open(&ctx, &call, &key, SETTINGS_PERMISSIONS).await?;
    let is_inbox = folder.eq_ignore_ascii_case("inbox")
        || find_folder(mailbox, "inbox")
            .and_then(|f| f.get("id"))
            .and_then(Value::as_str)
            == Some(folder.as_str());
    if !is_inbox && find_folder(mailbox, &folder).is_none() {
        return Err(folder_not_found());
    }
    let values = if is_inbox {
        mailbox.rules.clone()
    } else {
        Vec::new()
    };
    let body = serde_json::json!({
        "@odata.context": ctx.context(&call, &format!("users('{user_id}')/mailFolders('{folder}')/messageRules")),
        "value": values,
    });
    Ok(json(StatusCode::OK, &body))
}

/// `GET /users/{id}/mailFolders/{folderId | wellKnownName}`.
pub(super) async fn folder(
    State(ctx): State<Ctx>,
    call: Call,
    Path((key, folder)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (user_id, mailbox, _slot) = open(&ctx, &call, &key, FOLDER_PERMISSIONS).await?;
    let found = find_folder(mailbox, &folder).ok_or_else(folder_not_found)?;
    let context = ctx.context(&call, &format!("users('{user_id}')/mailFolders/$entity"));
    Ok(json(StatusCode::OK, &entity(context, found)))
}

/// `GET /users/{id}/mailboxSettings`.
pub(super) async fn settings(
    State(ctx): State<Ctx>,
    call: Call,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let (user_id, mailbox, _slot) = open(&ctx, &call, &key, SETTINGS_PERMISSIONS).await?;
    let context = ctx.context(&call, &format!("users('{user_id}')/mailboxSettings"));
    Ok(json(StatusCode::OK, &entity(context, &mailbox.settings)))
}

/// `GET /users/{id}/messages/{id}/$value`: the message's MIME, from the
/// fixture's `.eml` file, as `text/plain` like Graph.
pub(super) async fn mime(
    State(ctx): State<Ctx>,
    call: Call,
    Path((key, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, mailbox, _slot) = open(&ctx, &call, &key, MIME_PERMISSIONS).await?;
    let entry = mailbox
        .messages
        .iter()
        .find(|m| m.get("id").and_then(Value::as_str) == Some(message.as_str()))
        .ok_or_else(folder_not_found)?;
    let relative = entry.get("eml").and_then(Value::as_str).unwrap_or("");
    let rel_path = std::path::Path::new(relative);
    let safe = !relative.is_empty()
        && rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(ApiError::internal(format!(
            "fixture: message {message} has no usable \"eml\" path ({relative:?})"
        )));
    }
    let bytes = crate::scenario::message_mime(&ctx.shared().fixture, relative)
        .map_err(|e| ApiError::internal(format!("fixture: cannot read message {relative}: {e}")))?;
    let mut response = (StatusCode::OK, bytes).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}
