//! The one path every request takes: breaker → retry loop → auth → HTTP →
//! redirects → status mapping. Composed here; each concern lives in its own
//! file (`retry.rs`, `breaker.rs`, `http.rs`, `crate::auth`).

pub(crate) mod breaker;
pub(crate) mod http;
pub(crate) mod retry;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ureq::http::{HeaderMap, Response as HttpResponse};
use ureq::Body;
use url::Url;

use crate::auth::scope::Scope;
use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::parse_diagnostics;
use crate::text::redact_url;
use crate::{Error, Result};

use self::breaker::Breakers;
use self::http::{header, header_all, limits, read_capped, read_prefix, Http, Method};
use self::retry::{parse_retry_after, retryable_status, RetryPolicy};

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// An error from one attempt, with what the retry loop needs to know.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: Error,
    /// Whether another attempt may succeed.
    pub retry: bool,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// Whether this host failed (connection errors, timeouts, 5xx) and the
    /// breaker should count it.
    pub host_failed: bool,
}

impl Failure {
    pub(crate) fn retryable(error: Error) -> Failure {
        Failure {
            host_failed: host_failed(&error),
            error,
            retry: true,
            retry_after: None,
        }
    }

    pub(crate) fn fatal(error: Error) -> Failure {
        Failure {
            host_failed: host_failed(&error),
            error,
            retry: false,
            retry_after: None,
        }
    }
}

/// An error from a step that has its own retry loop and breaker (a token
/// fetch): final here, and not this host's failure.
impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            retry: false,
            retry_after: None,
            host_failed: false,
        }
    }
}

/// A registry request.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub accept: Option<&'a str>,
    /// The access the request needs; `None` for the version check.
    pub scope: Option<Scope>,
    /// Cap on the success body.
    pub limit: u64,
    /// Read the body as a stream: per-read deadlines instead of one for
    /// the whole exchange.
    pub streaming: bool,
    /// What is asked for, for error messages ("manifest oci/app:v1").
    pub what: &'a str,
}

/// A successful (2xx) response with its body read.
#[derive(Debug)]
pub(crate) struct Response {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub(crate) struct Transport {
    http: Http,
    pub(crate) auth: Auth,
    retry: RetryPolicy,
    breakers: Breakers,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Transport {
        Transport {
            http: Http::new(config),
            auth: Auth::new(config),
            retry: RetryPolicy {
                max_retries: config.max_retries,
                base_delay: config.retry_delay,
                max_delay: config.max_retry_delay,
            },
            breakers: Breakers::new(
                config.failure_threshold,
                config.cooldown,
                config.clock.clone(),
            ),
            clock: config.clock.clone(),
            timeout: config.timeout,
        }
    }

    pub(crate) fn http(&self) -> &Http {
        &self.http
    }

    /// [`status_failure`] on this transport's clock.
    pub(crate) fn status_failure(
        &self,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        what: &str,
    ) -> Failure {
        status_failure(status, headers, body, what, self.clock.system_time())
    }

    /// Sends a registry request through the whole path and reads the body.
    pub(crate) fn send(&self, req: &Request<'_>) -> Result<Response> {
        self.with_retry(&req.url, || {
            let (mut resp, url) = self.attempt(req)?;
            let body = if req.method == Method::Head {
                Vec::new()
            } else {
                read_capped(resp.body_mut(), req.limit, req.what, &url)?
            };
            let (parts, _) = resp.into_parts();
            Ok(Response {
                headers: parts.headers,
                body,
            })
        })
    }

    /// `GET` without credentials, for the version check: a 200 or a 401 is
    /// an answer (status and headers), anything else an error.
    pub(crate) fn probe(&self, url: &Url, what: &str) -> Result<(u16, HeaderMap)> {
        self.with_retry(url, || {
            let mut resp = self.http.execute(Method::Get, url, &[])?;
            let status = resp.status().as_u16();
            let body = read_prefix(resp.body_mut(), limits::ERROR_BODY);
            if status == 401 || (200..300).contains(&status) {
                let (parts, _) = resp.into_parts();
                return Ok((status, parts.headers));
            }
            Err(self.status_failure(status, resp.headers(), &body, what))
        })
    }

    /// Like [`send`](Self::send), but hands back the unread body of a
    /// successful response; only getting that far is retried.
    pub(crate) fn open(&self, req: &Request<'_>) -> Result<(HttpResponse<Body>, Url)> {
        self.with_retry(&req.url, || self.attempt(req))
    }

    /// The retry loop and the breaker around any attempt on `url`'s host
    /// (token fetches use it too).
    pub(crate) fn with_retry<T>(
        &self,
        url: &Url,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T> {
        let host = host_key(url);
        let breaker = self.breakers.for_host(&host);
        let mut attempts: u32 = 0;
        loop {
            let permit = match breaker.allow() {
                Ok(permit) => permit,
                Err(retry_in) => return Err(Error::CircuitOpen { host, retry_in }),
            };
            attempts += 1;
            let failure = match attempt() {
                Ok(v) => {
                    permit.record_success();
                    return Ok(v);
                }
                Err(f) => f,
            };
            if failure.host_failed {
                permit.record_failure();
            } else {
                permit.record_success();
            }
            if failure.retry && attempts <= self.retry.max_retries {
                if let Some(retry_in) = breaker.open_for() {
                    // This failure opened the breaker: waiting would only
                    // lead to a refusal.
                    return Err(Error::CircuitOpen { host, retry_in });
                }
                let delay = self.retry.delay(attempts - 1, failure.retry_after);
                self.clock.sleep(delay);
                continue;
            }
            let mut error = failure.error;
            // A token fetch inside one attempt may have made more.
            error.set_attempts(error.attempts().max(attempts));
            return Err(error);
        }
    }

    /// One attempt: authorize, send, follow redirects, answer one challenge;
    /// a 2xx comes back with its body unread.
    fn attempt(&self, req: &Request<'_>) -> Result<(HttpResponse<Body>, Url), Failure> {
        let scope = req.scope.as_ref();
        let mut authorization = self.auth.authorization(self, scope)?;
        let mut challenged = false;
        loop {
            let (mut resp, url) = self.follow(req, authorization.as_deref())?;
            let status = resp.status().as_u16();
            // Only the registry itself may ask for credentials: a host it
            // redirected to gets none, and names no realm we would trust.
            if status == 401 && !challenged && url.origin() == req.url.origin() {
                challenged = true;
                let challenges = header_all(resp.headers(), "www-authenticate");
                let challenges: Vec<String> = challenges.iter().map(|s| s.to_string()).collect();
                // Read (it is small) so the connection can be reused, and
                // kept for the error should the challenge lead nowhere.
                let body = read_prefix(resp.body_mut(), limits::ERROR_BODY);
                if let Some(next) =
                    self.auth
                        .on_unauthorized(self, &challenges, scope, authorization.as_deref())?
                {
                    authorization = Some(next);
                    continue;
                }
                // Nothing better to send: report the 401 below.
                return Err(self.status_failure(401, resp.headers(), &body, req.what));
            }
            if (200..300).contains(&status) {
                return Ok((resp, url));
            }
            let body = if req.method == Method::Head {
                Vec::new()
            } else {
                read_prefix(resp.body_mut(), limits::ERROR_BODY)
            };
            return Err(self.status_failure(status, resp.headers(), &body, req.what));
        }
    }

    /// Sends the request and follows redirects; `Authorization` goes only
    /// to the origin it was meant for.
    fn follow(
        &self,
        req: &Request<'_>,
        authorization: Option<&str>,
    ) -> Result<(HttpResponse<Body>, Url), Failure> {
        let origin = req.url.origin();
        let mut url = req.url.clone();
        let mut seen = HashSet::new();
        seen.insert(url.to_string());
        for _ in 0..=MAX_REDIRECTS {
            let mut headers: Vec<(&str, String)> = Vec::with_capacity(2);
            if let Some(accept) = req.accept {
                headers.push(("Accept", accept.to_string()));
            }
            if let Some(auth) = authorization {
                if url.origin() == origin {
                    headers.push(("Authorization", auth.to_string()));
                }
            }
            let stream_timeout = req.streaming.then_some(self.timeout);
            let mut resp = self
                .http
                .execute_with(req.method, &url, &headers, stream_timeout)?;
            let status = resp.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Ok((resp, url));
            }
            let location = header(resp.headers(), "location").ok_or_else(|| {
                Failure::fatal(Error::Registry {
                    status,
                    diagnostics: vec![note("REDIRECT", "redirect without a Location header")],
                })
            })?;
            let next = url.join(location).map_err(|e| {
                Failure::fatal(Error::Registry {
                    status,
                    diagnostics: vec![note("REDIRECT", &format!("bad Location: {e}"))],
                })
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(Failure::fatal(Error::Registry {
                    status,
                    diagnostics: vec![note("REDIRECT", "redirect to a non-HTTP URL")],
                }));
            }
            let _ = read_prefix(resp.body_mut(), limits::ERROR_BODY);
            if !seen.insert(next.to_string()) {
                return Err(Failure::fatal(Error::Registry {
                    status,
                    diagnostics: vec![note(
                        "REDIRECT_LOOP",
                        &format!("redirect loop at {}", redact_url(&next)),
                    )],
                }));
            }
            url = next;
        }
        Err(Failure::fatal(Error::Registry {
            status: 310,
            diagnostics: vec![note(
                "TOO_MANY_REDIRECTS",
                &format!("more than {MAX_REDIRECTS} redirects"),
            )],
        }))
    }
}

fn note(code: &str, message: &str) -> crate::Diagnostic {
    crate::Diagnostic {
        code: code.to_string(),
        message: message.to_string(),
        detail: None,
    }
}

/// The breaker's key: one breaker per `host:port`.
fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// Connection errors, timeouts and 5xx open the breaker; an answer of any
/// other kind shows the server is alive.
fn host_failed(e: &Error) -> bool {
    matches!(e, Error::Connection { .. } | Error::Timeout { .. })
}

/// Maps a non-2xx status to an error, with what the registry said.
pub(crate) fn status_failure(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
    now: SystemTime,
) -> Failure {
    let diagnostics = parse_diagnostics(body);
    let retry_after = header(headers, "retry-after").and_then(|v| parse_retry_after(v, now));
    let error = match status {
        401 | 403 => Error::Auth {
            status: Some(status),
            message: format!(
                "{} {what}",
                if status == 401 {
                    "unauthorized for"
                } else {
                    "access denied to"
                }
            ),
            diagnostics,
        },
        404 => Error::NotFound {
            what: what.to_string(),
            diagnostics,
        },
        429 => Error::RateLimited {
            retry_after,
            diagnostics,
            attempts: 1,
        },
        500..=599 => Error::Connection {
            message: format!("server error HTTP {status} for {what}"),
            status: Some(status),
            diagnostics,
            attempts: 1,
        },
        _ => Error::Registry {
            status,
            diagnostics,
        },
    };
    Failure {
        host_failed: host_failed(&error),
        error,
        retry: retryable_status(status),
        retry_after,
    }
}
