//! [`ReadOnlyClient`]: the only way the tool talks to Microsoft's APIs. Its
//! sending function is private and takes a [`Verb`] that has exactly three
//! values: GET, creating a Purview audit-log query, and running one of the
//! allowlisted read cmdlets on Exchange Online ([`Cmdlet`], whose request shape
//! is `crate::exchange::rest`). No other request can be built.

use super::error::{classify, GraphError, Verdict};
use super::pacer::Pacer;
use super::page::{PageBody, PageError, PageRecords};
use super::raw::{RawMeta, RawSink};
use crate::auth::TokenProvider;
use crate::retry::{parse_retry_after, RetryPolicy};
use age::secrecy::ExposeSecret;
use bytes::Bytes;
use m365_preserve_sources::{Budget, Cmdlet, Source};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use url::Url;

/// Which service a request goes to (and so which token audience it needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Graph,
    Management,
    /// Exchange Online's admin API (`--exchange`).
    Exchange,
}

/// What a request is for; it names the request's raw-capture folder
/// (`raw/<folder>/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Collecting a source.
    Source(Source),
    /// Resolving the target users.
    Targets,
    /// Probing the tenant's licence (and so its log retention).
    LicenceProbe,
    /// Finding the apps linked to the targets (`--sp-scope linked`).
    LinkedApps,
    /// Checking what the app may run in Exchange Online (`--exchange`).
    ExchangeRoles,
}

impl Capture {
    /// The raw-capture folder's name.
    pub fn folder(self) -> &'static str {
        match self {
            Capture::Source(s) => s.as_str(),
            Capture::Targets => "targets",
            Capture::LicenceProbe => "licence-probe",
            Capture::LinkedApps => "sp-scope",
            Capture::ExchangeRoles => "exchange-roles",
        }
    }
}

impl From<Source> for Capture {
    fn from(s: Source) -> Self {
        Capture::Source(s)
    }
}

/// A GET request, as the collector describes it.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: Url,
    pub budget: Budget,
    pub api: Api,
    /// What the response is for (raw capture folder, logs).
    pub capture: Capture,
    /// Headers resent on every page (Graph does not carry them into nextLinks).
    pub headers: Vec<(String, String)>,
    /// The permission this call needs, named in errors when the service does not.
    pub permission: Option<&'static str>,
    /// Parse the body as JSON, retrying truncated bodies; false for MIME.
    pub json: bool,
    /// The body is a page of a collection ([`PageBody`]), set by [`ReadOnlyClient::pages`].
    pub collection: bool,
}

impl Request {
    pub fn new(api: Api, url: Url, budget: Budget, capture: impl Into<Capture>) -> Self {
        Self {
            url,
            budget,
            api,
            capture: capture.into(),
            headers: Vec::new(),
            permission: None,
            json: true,
            collection: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn permission(mut self, p: &'static str) -> Self {
        self.permission = Some(p);
        self
    }

    pub fn not_json(mut self) -> Self {
        self.json = false;
        self
    }
}

/// A successful response.
#[derive(Debug)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub body: Bytes,
    pub json: Option<Value>,
    /// A collection's page, checked (or what is wrong with its shape).
    pub page: Option<Result<Box<PageBody>, String>>,
    /// Management Activity API paging header.
    pub next_page_uri: Option<String>,
    pub request_id: Option<String>,
    /// Where the raw body was kept, relative to the work folder.
    pub raw_path: Option<String>,
    pub attempts: u32,
}

/// One page of a collection.
#[derive(Debug)]
pub struct Page {
    pub records: PageRecords,
    pub url: String,
    pub request_id: Option<String>,
    pub raw_path: Option<String>,
    pub attempts: u32,
}

/// The three requests this client can make.
enum Verb<'a> {
    Get,
    CreateAuditQuery(&'a Value),
    /// `POST .../InvokeCommand` with one allowlisted read cmdlet.
    InvokeCommand(&'a Cmdlet),
}

impl Verb<'_> {
    fn name(&self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::CreateAuditQuery(_) | Verb::InvokeCommand(_) => "POST",
        }
    }
}

/// How one attempt ended.
enum Attempt {
    Done(Fetched),
    /// Worth another attempt, after `retry_after` when the service said so.
    Again {
        retry_after: Option<std::time::Duration>,
        why: String,
        throttled: bool,
    },
    /// A licence refusal, which Graph sometimes returns on licensed tenants.
    MaybeLicence {
        code: String,
        message: String,
    },
    /// The token was rejected (401).
    Rejected {
        code: String,
        message: String,
    },
}

impl Attempt {
    fn again(why: String) -> Self {
        Attempt::Again {
            retry_after: None,
            why,
            throttled: false,
        }
    }
}

/// What a received response means.
fn interpret(
    mut fetched: Fetched,
    req: &Request,
    retry_after: Option<std::time::Duration>,
) -> Result<Attempt, GraphError> {
    let verdict = match req.api {
        Api::Exchange => crate::exchange::rest::classify(fetched.status, &fetched.body),
        Api::Graph | Api::Management => classify(fetched.status, &fetched.body, req.permission),
    };
    match verdict {
        Verdict::Ok => {
            let incomplete = |e: serde_json::Error| {
                Ok(Attempt::again(format!(
                    "the response is not complete JSON ({e}): truncated?"
                )))
            };
            if req.json && req.collection {
                match PageBody::parse(fetched.body.clone()) {
                    Ok(p) => fetched.page = Some(Ok(Box::new(p))),
                    Err(PageError::Shape(why)) => fetched.page = Some(Err(why)),
                    Err(PageError::Incomplete(e)) => return incomplete(e),
                }
            } else if req.json {
                match serde_json::from_slice::<Value>(&fetched.body) {
                    Ok(v) => fetched.json = Some(v),
                    Err(e) => return incomplete(e),
                }
            }
            Ok(Attempt::Done(fetched))
        }
        Verdict::Retry { throttled, why } => Ok(Attempt::Again {
            retry_after,
            why,
            throttled,
        }),
        Verdict::MaybeLicence => {
            let (code, message) = super::error::error_parts(&fetched.body);
            Ok(Attempt::MaybeLicence { code, message })
        }
        Verdict::Reauthenticate => {
            let (code, message) = super::error::error_parts(&fetched.body);
            Ok(Attempt::Rejected { code, message })
        }
        Verdict::Fail(e) => Err(e),
    }
}

/// Read-only access to Graph and the Management Activity API.
pub struct ReadOnlyClient {
    http: reqwest::Client,
    tokens: Arc<TokenProvider>,
    pacer: Arc<Pacer>,
    retry: RetryPolicy,
    raw: Option<Arc<RawSink>>,
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

impl ReadOnlyClient {
    pub fn new(
        http: reqwest::Client,
        tokens: Arc<TokenProvider>,
        pacer: Arc<Pacer>,
        retry: RetryPolicy,
        raw: Option<Arc<RawSink>>,
    ) -> Self {
        Self {
            http,
            tokens,
            pacer,
            retry,
            raw,
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
        }
    }

    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    /// (requests sent, retries, 429s seen) so far.
    pub fn counters(&self) -> (u64, u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
        )
    }

    /// GET one URL, with pacing, retries and raw capture.
    pub async fn get(&self, req: &Request) -> Result<Fetched, GraphError> {
        self.send(req, Verb::Get).await
    }

    /// `POST /security/auditLog/queries`: creates a Purview audit-log search. It
    /// changes no tenant configuration; it is the only non-GET the tool sends.
    pub async fn create_audit_query(
        &self,
        req: &Request,
        body: &Value,
    ) -> Result<Fetched, GraphError> {
        self.send(req, Verb::CreateAuditQuery(body)).await
    }

    /// Runs one allowlisted read cmdlet on Exchange Online (`req` from
    /// `crate::exchange::rest`); its pages are followed by re-sending it to
    /// each `@odata.nextLink`, as the module does.
    pub async fn invoke_command(
        &self,
        req: &Request,
        cmdlet: &Cmdlet,
    ) -> Result<Fetched, GraphError> {
        self.send(req, Verb::InvokeCommand(cmdlet)).await
    }

    /// Follows a collection from `first` through every `@odata.nextLink` (or
    /// `NextPageUri` header), verbatim.
    pub fn pages(&self, first: Request) -> Pager<'_> {
        Pager {
            client: self,
            next: Some(Request {
                collection: true,
                ..first
            }),
        }
    }

    fn resource(&self, api: Api) -> Result<String, GraphError> {
        let e = self.tokens.endpoints();
        match api {
            Api::Graph => Ok(e.graph_resource.clone()),
            Api::Exchange => Ok(e.exchange_resource.clone()),
            Api::Management => {
                e.manage_resource
                    .clone()
                    .ok_or_else(|| GraphError::UnsupportedQuery {
                        code: "NoManagementApi".into(),
                        message: format!(
                        "the Office 365 Management Activity API is not available in the {:?} cloud",
                        e.cloud
                    ),
                    })
            }
        }
    }

    /// Sends `req` until it succeeds, fails for good, or runs out of attempts.
    async fn send(&self, req: &Request, verb: Verb<'_>) -> Result<Fetched, GraphError> {
        let resource = self.resource(req.api)?;
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        let mut licence_refusals = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            let admission = self.pacer.admit(req.budget).await;
            let (retry_after, why, throttled) =
                match self.attempt(req, &verb, &resource, attempt).await? {
                    Attempt::Done(f) => return Ok(f),
                    Attempt::Again {
                        retry_after,
                        why,
                        throttled,
                    } => (retry_after, why, throttled),
                    Attempt::MaybeLicence { code, message } => {
                        licence_refusals += 1;
                        if licence_refusals >= 3 {
                            return Err(GraphError::LicenceRequired { code, message });
                        }
                        let why =
                            "licence refusal (Graph sometimes returns it on licensed tenants)";
                        (None, why.to_string(), false)
                    }
                    Attempt::Rejected { code, message } => {
                        if reauthenticated {
                            return Err(GraphError::Unauthorized { code, message });
                        }
                        reauthenticated = true;
                        self.tokens.invalidate(&resource).await;
                        tracing::debug!(
                            "{}: token rejected (401 {code}); getting a new one",
                            req.capture.folder()
                        );
                        continue;
                    }
                };
            drop(admission);
            if throttled {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                self.pacer.throttled(req.budget, retry_after).await;
            }
            self.pause(attempt, retry_after, req, &why, throttled)
                .await?;
        }
    }

    /// One attempt: send, keep the raw response, and say what it means.
    async fn attempt(
        &self,
        req: &Request,
        verb: &Verb<'_>,
        resource: &str,
        attempt: u32,
    ) -> Result<Attempt, GraphError> {
        let token = self.tokens.token(resource).await?;
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let rb = self.build(req, verb, &token, &client_request_id);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::again(format!(
                    "request failed: {}",
                    super::network_reason(&e)
                )))
            }
        };
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let mut meta = RawMeta {
            method: verb.name(),
            url: req.url.to_string(),
            cmdlet: match verb {
                Verb::InvokeCommand(c) => Some(c.to_string()),
                Verb::Get | Verb::CreateAuditQuery(_) => None,
            },
            attempt,
            status,
            received_at: m365_preserve_package::timefmt::now_rfc3339(),
            date: header("date"),
            request_id: header("request-id"),
            client_request_id,
            content_type: header("content-type"),
            retry_after: header("retry-after"),
            size: 0,
            sha256: String::new(),
            incomplete: None,
        };
        let next_page_uri = header("nextpageuri");
        let retry_after = meta
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                meta.incomplete = Some(super::network_reason(&e));
                self.keep_raw(req, meta, b"");
                return Ok(Attempt::again("the response body was cut off".into()));
            }
        };
        let request_id = meta.request_id.clone();
        let raw_path = self.keep_raw(req, meta, &body);
        let fetched = Fetched {
            url: req.url.to_string(),
            status,
            body,
            json: None,
            page: None,
            next_page_uri,
            request_id,
            raw_path,
            attempts: attempt,
        };
        interpret(fetched, req, retry_after)
    }

    /// The HTTP request of one attempt, with the token and the headers Graph
    /// documents for correlation.
    fn build(
        &self,
        req: &Request,
        verb: &Verb<'_>,
        token: &age::secrecy::SecretString,
        client_request_id: &str,
    ) -> reqwest::RequestBuilder {
        let mut rb = match verb {
            Verb::Get => self.http.get(req.url.clone()),
            Verb::CreateAuditQuery(body) => self.http.post(req.url.clone()).json(body),
            Verb::InvokeCommand(cmdlet) => self
                .http
                .post(req.url.clone())
                .json(&crate::exchange::rest::body(cmdlet)),
        };
        rb = rb
            .bearer_auth(token.expose_secret())
            .header("client-request-id", client_request_id)
            .header("return-client-request-id", "true");
        // Every Graph answer carries enum members newer than `unknownFutureValue`
        // as themselves, not masked: evidence keeps what the service knows
        // (shared/reference/graph-api.md §0, evolvable enums).
        if req.api == Api::Graph {
            rb = rb.header("Prefer", "include-unknown-enum-members");
        }
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb
    }

    /// Waits before the next attempt, or gives up after the last one.
    async fn pause(
        &self,
        attempt: u32,
        retry_after: Option<std::time::Duration>,
        req: &Request,
        why: &str,
        throttled: bool,
    ) -> Result<(), GraphError> {
        if attempt >= self.retry.max_attempts {
            let message = why.to_string();
            return Err(if throttled {
                GraphError::Throttled {
                    attempts: attempt,
                    message,
                }
            } else {
                GraphError::Transient {
                    attempts: attempt,
                    message,
                }
            });
        }
        tracing::debug!("{}: {why}; retrying", req.capture.folder());
        tokio::time::sleep(self.retry.wait(attempt, retry_after)).await;
        Ok(())
    }

    fn keep_raw(&self, req: &Request, meta: RawMeta, body: &[u8]) -> Option<String> {
        let sink = self.raw.as_ref()?;
        match sink.store(req.capture.folder(), meta, body) {
            Ok(path) => Some(path),
            Err(e) => {
                tracing::error!("cannot keep the raw response of {}: {e}", req.url);
                None
            }
        }
    }
}

/// Pages of one collection.
pub struct Pager<'a> {
    client: &'a ReadOnlyClient,
    next: Option<Request>,
}

impl Pager<'_> {
    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Page>, GraphError> {
        let Some(req) = self.next.take() else {
            return Ok(None);
        };
        let fetched = self.client.get(&req).await?;
        let invalid = |message: String| GraphError::InvalidResponse {
            url: req.url.to_string(),
            message,
        };
        let page = match fetched.page {
            Some(Ok(page)) => page,
            Some(Err(why)) => return Err(invalid(why)),
            None => return Err(invalid("not a JSON collection".into())),
        };
        let next_link = page.next_link().map(String::from);
        if let Some(link) = next_link.or(fetched.next_page_uri.clone()) {
            let url = next_page_url(&req.url, &link).map_err(invalid)?;
            self.next = Some(Request { url, ..req.clone() });
        }
        Ok(Some(Page {
            records: (*page).into_records(),
            url: fetched.url,
            request_id: fetched.request_id,
            raw_path: fetched.raw_path,
            attempts: fetched.attempts,
        }))
    }
}

/// The next page's URL from the service's `@odata.nextLink` (or Management
/// API `NextPageUri`): an absolute URL on the origin of the page that gave it,
/// so the token is never sent to a host the first request did not go to.
/// Graph documents the link as opaque and absolute
/// (<https://learn.microsoft.com/graph/paging>); anything else is refused.
fn next_page_url(page: &Url, link: &str) -> Result<Url, String> {
    let url = Url::parse(link)
        .map_err(|e| format!("next page link {:?} is not a URL: {e}", shown(link)))?;
    if url.origin() != page.origin() {
        return Err(format!(
            "next page link points to another host: {}",
            shown(link)
        ));
    }
    Ok(url)
}

/// At most 200 characters of a link, for messages (a hostile service could
/// send megabytes).
fn shown(link: &str) -> String {
    match link.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &link[..i]),
        None => link.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAGE: &str =
        "https://graph.microsoft.com/beta/auditLogs/signIns?$filter=userId%20eq%20'x'&$top=999";

    #[test]
    fn a_link_on_the_same_origin_is_followed_and_any_other_refused() {
        let page = Url::parse(PAGE).unwrap();
        let next = "https://graph.microsoft.com/beta/auditLogs/signIns?$top=999&$skiptoken=abc";
        assert_eq!(next_page_url(&page, next).unwrap().as_str(), next);
        for bad in [
            "https://graph.microsoft.com.evil.example/beta/x",
            "http://graph.microsoft.com/beta/x",
            "https://graph.microsoft.com:8443/beta/x",
            "https://attacker@evil.example/",
            "/beta/auditLogs/signIns?$skiptoken=abc",
            "",
            "javascript:alert(1)",
        ] {
            assert!(next_page_url(&page, bad).is_err(), "{bad}");
        }
        let huge = format!("https://evil.example/{}", "a".repeat(1 << 20));
        let e = next_page_url(&page, &huge).unwrap_err();
        assert!(e.len() < 300, "the message is bounded: {} chars", e.len());
    }

    /// A real link mutated: truncated, bytes flipped, spliced with another
    /// host, repeated. Never a panic; the URL followed is always on the
    /// page's origin, and is exactly the link given.
    fn mutated() -> impl Strategy<Value = String> {
        let next = "https://graph.microsoft.com/beta/auditLogs/signIns?$top=999&$skiptoken=Q2xpZW50SWQ9MTIz%3d";
        prop_oneof![
            (0..=next.len()).prop_map(move |n| next[..n].to_string()),
            (0..next.len(), any::<u8>()).prop_map(move |(i, b)| {
                let mut v = next.as_bytes().to_vec();
                v[i] = b;
                String::from_utf8_lossy(&v).into_owned()
            }),
            (0..next.len(), "[a-z.:/@%]{0,24}").prop_map(move |(i, s)| {
                let i = (0..=i)
                    .rev()
                    .find(|i| next.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("{}{s}{}", &next[..i], &next[i..])
            }),
            (1usize..50).prop_map(move |n| next.repeat(n)),
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn a_mutated_link_is_followed_only_on_the_same_origin(link in mutated()) {
            let page = Url::parse(PAGE).unwrap();
            match next_page_url(&page, &link) {
                Ok(url) => {
                    prop_assert_eq!(url.origin(), page.origin());
                    prop_assert_eq!(Url::parse(&link).unwrap(), url);
                }
                Err(e) => prop_assert!(e.len() < 300, "{}", e),
            }
        }
    }
}
