//! Following redirects, with the origin rules.
//!
//! - `Authorization` is sent only to the origin it was meant for: a storage
//!   host or CDN a registry redirects a blob to gets no credentials.
//! - https never leads to plain http.
//! - 303 turns the request into a bodiless `GET`; 307/308 repeat it, body
//!   included, when the body can be sent again; 301/302 are followed for
//!   `GET` and `HEAD` only (for other methods the response is the answer).
//! - A loop, a chain longer than [`MAX_REDIRECTS`], a missing or malformed
//!   `Location` are errors naming the redirect, never an invented status.

use std::collections::HashSet;

use crate::text::{quote, redact_url};
use crate::{Error, Result};

use super::{Body, Http, Method, Request, Response};

/// Redirect hops followed before giving up.
pub(crate) const MAX_REDIRECTS: usize = 10;

pub(super) fn follow(http: &Http, req: &mut Request) -> Result<Response> {
    let origin = req.url.origin();
    let mut url = req.url.clone();
    let mut method = req.method;
    let mut seen = HashSet::new();
    seen.insert(url.to_string());
    let mut hops = 0;
    loop {
        let same_origin = url.origin() == origin;
        let headers: Vec<(&'static str, String)> = req
            .headers
            .iter()
            .filter(|(name, _)| same_origin || !name.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        let mut body = if method == req.method {
            std::mem::replace(&mut req.body, Body::Spent)
        } else {
            Body::Empty
        };
        let result = http.exchange(method, &url, &headers, &mut body, req);
        if method == req.method {
            req.body = body;
        }
        let mut resp = result?;
        let status = resp.status;
        let follows = match status {
            301 | 302 => matches!(method, Method::Get | Method::Head),
            303 | 307 | 308 => true,
            _ => false,
        };
        if !follows {
            return Ok(resp);
        }
        let bad = |why: String| Error::registry(status, why);
        let location = resp
            .header("location")
            .ok_or_else(|| bad("a redirect without a Location header".into()))?;
        let next = url
            .join(location)
            .map_err(|e| bad(format!("a redirect to {}: {e}", quote(location))))?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(bad(format!(
                "a redirect to a non-HTTP URL ({})",
                next.scheme()
            )));
        }
        if url.scheme() == "https" && next.scheme() == "http" {
            return Err(bad(format!(
                "a redirect from https to plain http ({})",
                redact_url(&next)
            )));
        }
        // Read (it is small) so the connection can be reused.
        let _ = resp.prefix(super::limits::ERROR_BODY);
        if !seen.insert(next.to_string()) {
            return Err(bad(format!("a redirect loop at {}", redact_url(&next))));
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(bad(format!("more than {MAX_REDIRECTS} redirects")));
        }
        if status == 303 {
            method = Method::Get;
        } else if !req.body.is_replayable() {
            return Err(bad(
                "a redirect for a request whose streamed body cannot be sent again".into(),
            ));
        }
        url = next;
    }
}
