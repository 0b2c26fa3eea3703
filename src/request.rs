//! A registry request, as every operation builds it (what it asks for, the
//! media types it accepts, the access it needs, how much of the answer to
//! read), and the one function that sends it down the layers and turns an
//! answer that is not 2xx into an [`Error`]:
//!
//! ```text
//! operations (client) ─ Request ─▶ Transport::send
//!     auth::Authorizer      credentials, challenges, tokens (fetched through ↓)
//!     resilience::Resilient retries, Retry-After, circuit breaker per host
//!     http::Http            one exchange on the ureq agent, redirects, caps
//! ```
//!
//! Every error leaving here has had the client's secrets scrubbed from it.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use ureq::http::HeaderMap;
use url::Url;

use crate::auth::scope::Scope;
use crate::auth::secrets::Secrets;
use crate::auth::Authorizer;
use crate::config::Config;
use crate::http::{self, limits, Method};
use crate::{Error, Result};

/// A registry request.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub accept: Option<&'a str>,
    /// The access the request needs; `None` for the version check.
    pub scope: Option<Scope>,
    /// A second repository's access, for a cross-repository mount (`pull`
    /// on the source).
    pub also: Option<Scope>,
    /// Cap on the success body.
    pub limit: u64,
    /// Read the body as a stream: per-read deadlines instead of one for
    /// the whole exchange.
    pub streaming: bool,
    /// What is asked for, for error messages ("manifest oci/app:v1").
    pub what: &'a str,
    /// More request headers (`Range` for a resumed blob); names are ours,
    /// values checked by whoever makes them.
    pub headers: Vec<(&'static str, String)>,
    /// What the request sends.
    pub body: Payload,
}

/// A request body. Both kinds are held in memory (a manifest, one chunk of
/// an upload), so the request value can be cloned; they differ in whether
/// the layers below may send them again.
#[derive(Clone, Default)]
pub(crate) enum Payload {
    /// No body.
    #[default]
    Empty,
    /// Sent again as it is on a retry, a redirect or an answered challenge
    /// (a manifest, a monolithic blob).
    Bytes(Arc<[u8]>),
    /// Sent once: a retry could append it twice (an upload chunk). The
    /// caller finds out what arrived and resends what did not.
    Once(Part),
    /// A stream of `len` bytes, sent once, taken by the first exchange
    /// that sends it (a clone shares it).
    Stream(Arc<Mutex<Option<Box<dyn Read + Send>>>>, u64),
}

impl Payload {
    /// A one-shot stream of `len` bytes.
    pub(crate) fn stream(reader: impl Read + Send + 'static, len: u64) -> Payload {
        Payload::Stream(Arc::new(Mutex::new(Some(Box::new(reader)))), len)
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Empty => f.write_str("Empty"),
            Payload::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Payload::Once(p) => write!(f, "Once({} bytes)", p.end - p.start),
            Payload::Stream(_, len) => write!(f, "Stream({len} bytes)"),
        }
    }
}

/// A range of shared bytes: one chunk of an upload, or what is left of it.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    pub bytes: Arc<[u8]>,
    pub start: usize,
    pub end: usize,
}

impl AsRef<[u8]> for Part {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }
}

/// A successful (2xx) response with its body read.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    /// The URL that answered (after redirects).
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub(crate) struct Transport {
    auth: Authorizer,
    secrets: Arc<Secrets>,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Transport {
        let secrets = Arc::new(Secrets::new());
        Transport {
            auth: Authorizer::new(config, secrets.clone()),
            secrets,
        }
    }

    fn lower(req: &Request<'_>) -> http::Request {
        let mut lowered = http::Request::new(req.method, req.url.clone());
        if let Some(accept) = req.accept {
            lowered.set_header("Accept", accept.to_string());
        }
        for (name, value) in &req.headers {
            lowered.set_header(name, value.clone());
        }
        lowered.body = match &req.body {
            Payload::Empty => http::Body::Empty,
            Payload::Bytes(b) => http::Body::Bytes(b.clone()),
            Payload::Once(part) => http::Body::Reader {
                len: Some((part.end - part.start) as u64),
                reader: Box::new(std::io::Cursor::new(part.clone())),
            },
            Payload::Stream(reader, len) => match reader.lock().take() {
                Some(reader) => http::Body::Reader {
                    reader,
                    len: Some(*len),
                },
                None => http::Body::Spent,
            },
        };
        lowered.streaming = req.streaming;
        if !req.streaming {
            lowered.buffer = Some(req.limit);
        }
        lowered
    }

    fn scopes(req: &Request<'_>) -> Vec<Scope> {
        req.scope.iter().chain(&req.also).cloned().collect()
    }

    /// `e` without the secrets this client holds.
    pub(crate) fn scrub(&self, e: Error) -> Error {
        self.secrets.scrub_error(e)
    }

    /// Whether the client has credentials to offer.
    pub(crate) fn has_credentials(&self) -> Result<bool> {
        self.auth
            .credential()
            .map(|c| c.is_some())
            .map_err(|e| self.secrets.scrub_error(e))
    }

    /// Sends a registry request through the whole path and reads the body.
    pub(crate) fn send(&self, req: &Request<'_>) -> Result<Response> {
        let run = || {
            let mut lowered = Self::lower(req);
            let resp = self.auth.send(&mut lowered, &Self::scopes(req))?;
            let mut resp = check(resp, req.what)?;
            let body = if req.method == Method::Head || resp.status == 204 {
                Vec::new()
            } else {
                resp.bytes(req.limit, req.what)?
            };
            Ok(Response {
                status: resp.status,
                url: resp.url.clone(),
                headers: std::mem::take(&mut resp.headers),
                body,
            })
        };
        run().map_err(|e| self.secrets.scrub_error(e))
    }

    /// Like [`send`](Self::send), but hands back the unread body of a
    /// successful response; only getting that far is retried.
    pub(crate) fn open(&self, req: &Request<'_>) -> Result<http::Response> {
        let run = || {
            let mut lowered = Self::lower(req);
            let resp = self.auth.send(&mut lowered, &Self::scopes(req))?;
            check(resp, req.what)
        };
        run().map_err(|e| self.secrets.scrub_error(e))
    }

    /// `GET` without credentials, for the version check: a 200 or a 401 is
    /// an answer (status and headers), anything else an error.
    pub(crate) fn probe(&self, url: &Url, what: &str) -> Result<(u16, HeaderMap)> {
        let run = || {
            let mut req = http::Request::new(Method::Get, url.clone());
            req.buffer = Some(limits::ERROR_BODY);
            let mut resp = self.auth.unauthenticated().send(&mut req)?;
            if resp.status == 401 || resp.is_success() {
                let _ = resp.prefix(limits::ERROR_BODY);
                return Ok((resp.status, std::mem::take(&mut resp.headers)));
            }
            Err(error_for(&mut resp, what))
        };
        run().map_err(|e| self.secrets.scrub_error(e))
    }
}

/// A 2xx response as it is; any other status as the error it means for
/// `what`, with what the server said.
fn check(mut resp: http::Response, what: &str) -> Result<http::Response> {
    if resp.is_success() {
        return Ok(resp);
    }
    Err(error_for(&mut resp, what))
}

fn error_for(resp: &mut http::Response, what: &str) -> Error {
    let body = resp.prefix(limits::ERROR_BODY);
    let retry_after: Option<Duration> = resp.retry_after;
    Error::from_status(resp.status, &body, what, retry_after, resp.attempts)
}
