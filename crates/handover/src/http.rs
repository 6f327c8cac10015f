//! One HTTP request to a storage service, with retries for what may pass on a
//! second try (connection errors, 408/429/5xx, a checksum the service rejected
//! because the bytes changed on the way). Errors never carry the URL: it holds
//! the SAS or the presigned signature.

use crate::error::{HandoverError, Refusal};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;
use std::time::Duration;
use url::Url;

/// Attempts per request before giving up.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// A request, ready to be sent as often as needed.
pub(crate) struct Call {
    pub method: Method,
    /// Holds the secret: handed to the client only.
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// What this request does, for messages ("block 3 of C.zip.age").
    pub what: String,
}

/// A service's answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub attempts: u32,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim_matches('"').to_string())
    }

    /// The raw header, quotes kept (ETags are quoted strings).
    pub fn header_raw(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }

    pub fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The service's error code: `x-ms-error-code`, else `<Code>` in the body.
    pub fn code(&self) -> String {
        self.header("x-ms-error-code")
            .or_else(|| xml_value(&String::from_utf8_lossy(&self.body), "Code"))
            .unwrap_or_else(|| "(no error code)".into())
    }

    /// The reply if it succeeded, else the refusal.
    pub fn ok(self, what: &str) -> Result<Reply, HandoverError> {
        if self.success() {
            return Ok(self);
        }
        let code = self.code();
        Err(HandoverError::Refused {
            what: what.to_string(),
            status: self.status,
            refusal: Refusal::of(self.status, &code),
            code,
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The text of the first `<tag>…</tag>` in `xml` (enough for the services'
/// flat error and result documents).
pub(crate) fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

/// Whether another attempt may succeed.
fn transient(status: u16, code: &str) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
        || (status == 400 && Refusal::of(status, code) == Refusal::Checksum)
}

/// The HTTP client shared by every request of a run.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Result<Self, HandoverError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("m365-preserve/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HandoverError::Network {
                what: "starting the HTTP client".into(),
                why: e.without_url().to_string(),
            })?;
        Ok(Self { client })
    }

    /// Sends `call`, again after transient failures; the last answer, whatever
    /// its status, once no further attempt is worth it.
    pub async fn send(&self, call: &Call) -> Result<Reply, HandoverError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .client
                .request(call.method.clone(), call.url.clone())
                .timeout(timeout_for(call.body.len()));
            for (k, v) in &call.headers {
                req = req.header(k, v);
            }
            if !call.body.is_empty() || call.method == Method::PUT || call.method == Method::POST {
                req = req.body(call.body.clone());
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => Ok(Reply {
                            status,
                            headers,
                            body,
                            attempts: attempt,
                        }),
                        Err(e) => Err(e.without_url().to_string()),
                    }
                }
                Err(e) => Err(describe(&e)),
            };
            match outcome {
                Ok(reply) if reply.success() => return Ok(reply),
                Ok(reply) => {
                    let code = reply.code();
                    if attempt < MAX_ATTEMPTS && transient(reply.status, &code) {
                        tracing::warn!(
                            "{}: the service answered {} {code}{}; sending again (attempt {} of {MAX_ATTEMPTS})",
                            call.what,
                            reply.status,
                            if Refusal::of(reply.status, &code) == Refusal::Checksum {
                                " (it rejected the checksum: the bytes changed on the way)"
                            } else {
                                ""
                            },
                            attempt + 1
                        );
                        tokio::time::sleep(backoff(attempt, reply.header("retry-after"))).await;
                        continue;
                    }
                    return Ok(reply);
                }
                Err(why) if attempt < MAX_ATTEMPTS => {
                    tracing::warn!(
                        "{}: {why}; sending again (attempt {} of {MAX_ATTEMPTS})",
                        call.what,
                        attempt + 1
                    );
                    tokio::time::sleep(backoff(attempt, None)).await;
                }
                Err(why) => {
                    return Err(HandoverError::Network {
                        what: call.what.clone(),
                        why,
                    })
                }
            }
        }
    }

    /// Starts a streaming GET (reading in place), from `start` to the end.
    pub async fn get_from(
        &self,
        url: &Url,
        headers: &[(String, String)],
        start: u64,
        what: &str,
    ) -> Result<reqwest::Response, HandoverError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.client.get(url.clone());
            for (k, v) in headers {
                req = req.header(k, v);
            }
            if start > 0 {
                req = req.header("range", format!("bytes={start}-"));
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = resp.bytes().await.unwrap_or_default();
                    let reply = Reply {
                        status,
                        headers,
                        body,
                        attempts: attempt,
                    };
                    let code = reply.code();
                    if attempt < MAX_ATTEMPTS && transient(status, &code) {
                        tokio::time::sleep(backoff(attempt, None)).await;
                        continue;
                    }
                    return Err(reply.ok(what).expect_err("not a success"));
                }
                Err(e) if attempt < MAX_ATTEMPTS => {
                    tracing::warn!("{what}: {}; trying again", describe(&e));
                    tokio::time::sleep(backoff(attempt, None)).await;
                }
                Err(e) => {
                    return Err(HandoverError::Network {
                        what: what.to_string(),
                        why: describe(&e),
                    })
                }
            }
        }
    }
}

/// A client error without its URL, with its cause (the one-line message of
/// reqwest alone says only "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.without_url_ref();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        if self.is_timeout() {
            "timed out".into()
        } else if self.is_connect() {
            "cannot connect".into()
        } else if self.is_body() || self.is_decode() {
            "the connection broke while sending or receiving data".into()
        } else {
            "request failed".into()
        }
    }
}

/// Time allowed for one request: two minutes, plus one second per 512 KiB.
fn timeout_for(body: usize) -> Duration {
    Duration::from_secs(120 + (body as u64 >> 19))
}

/// Exponential back-off from 200 ms, at most 5 s; the service's `Retry-After`
/// (seconds, at most 30) when it gives one.
fn backoff(attempt: u32, retry_after: Option<String>) -> Duration {
    if let Some(s) = retry_after.and_then(|v| v.parse::<u64>().ok()) {
        return Duration::from_secs(s.min(30));
    }
    Duration::from_millis((200u64 << (attempt - 1).min(5)).min(5_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_from_header_or_body() {
        let mut headers = HeaderMap::new();
        let r = Reply {
            status: 400,
            headers: headers.clone(),
            body: Bytes::from_static(b"<Error><Code>BadDigest</Code><Message>m</Message></Error>"),
            attempts: 1,
        };
        assert_eq!(r.code(), "BadDigest");
        assert!(transient(400, "BadDigest"));
        assert!(!transient(400, "InvalidArgument"));
        assert!(!transient(409, "BlobAlreadyExists"));
        headers.insert("x-ms-error-code", "Crc64Mismatch".parse().unwrap());
        let r = Reply { headers, ..r };
        assert_eq!(r.code(), "Crc64Mismatch");
        let e = r.ok("block 1 of C.zip.age").unwrap_err();
        assert!(e.to_string().contains("rejected the checksum"), "{e}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1, None), Duration::from_millis(200));
        assert_eq!(backoff(3, None), Duration::from_millis(800));
        assert_eq!(backoff(9, None), Duration::from_millis(5_000));
        assert_eq!(backoff(1, Some("120".into())), Duration::from_secs(30));
    }
}
