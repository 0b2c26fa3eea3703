//! Bearer tokens: fetching one from a realm, and caching it per
//! (realm, service, scope) until shortly before it expires.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::Deserialize;
use url::Url;

use crate::clock::Clock;
use crate::error::parse_diagnostics;
use crate::text::redact_url;
use crate::transport::http::{limits, read_capped, read_prefix, Method};
use crate::transport::{Failure, Transport};
use crate::{Error, Result};

/// Tokens live at least this long (the spec's floor for `expires_in`).
const MIN_LIFETIME: Duration = Duration::from_secs(60);

/// What a token is cached under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    pub realm: String,
    pub service: Option<String>,
    /// Space-separated scopes, as sent.
    pub scope: String,
}

#[derive(Clone)]
struct Token {
    value: String,
    /// When to stop using it: a margin before it really expires.
    refresh_at: Instant,
}

/// The cache; fetches go through the transport's retry loop.
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, Token>>,
    flights: crate::singleflight::Flights<TokenKey, String>,
}

impl TokenCache {
    pub(crate) fn new() -> TokenCache {
        TokenCache {
            tokens: Mutex::new(HashMap::new()),
            flights: crate::singleflight::Flights::new(),
        }
    }

    fn cached(&self, key: &TokenKey, now: Instant) -> Option<String> {
        let mut tokens = self.tokens.lock();
        match tokens.get(key) {
            Some(t) if t.refresh_at > now => Some(t.value.clone()),
            Some(_) => {
                tokens.remove(key);
                None
            }
            None => None,
        }
    }

    /// Forgets a token the registry refused.
    pub(crate) fn invalidate(&self, key: &TokenKey, value: &str) {
        let mut tokens = self.tokens.lock();
        if tokens.get(key).is_some_and(|t| t.value == value) {
            tokens.remove(key);
        }
    }

    /// Makes the token cached under `from` also serve `to`.
    pub(crate) fn alias(&self, from: &TokenKey, to: &TokenKey) {
        let mut tokens = self.tokens.lock();
        if let Some(t) = tokens.get(from).cloned() {
            tokens.insert(to.clone(), t);
        }
    }

    /// A valid token for `key`: from the cache, or fetched once however
    /// many threads ask at the same time.
    pub(crate) fn get(
        &self,
        transport: &Transport,
        key: &TokenKey,
        basic: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<String> {
        self.flights.run(
            key,
            || self.cached(key, clock.now()),
            || {
                let token = fetch(transport, key, basic, clock)?;
                let value = token.value.clone();
                self.tokens.lock().insert(key.clone(), token);
                Ok(value)
            },
        )
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    issued_at: Option<String>,
}

/// One token exchange (with retries).
fn fetch(
    transport: &Transport,
    key: &TokenKey,
    basic: Option<&str>,
    clock: &dyn Clock,
) -> Result<Token> {
    let mut url = Url::parse(&key.realm)
        .map_err(|e| Error::auth(None, format!("token realm is not a URL: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(service) = &key.service {
            q.append_pair("service", service);
        }
        for scope in key.scope.split(' ').filter(|s| !s.is_empty()) {
            q.append_pair("scope", scope);
        }
    }
    let realm_shown = redact_url(&url);
    let body = transport.with_retry(&url, || {
        let mut headers = Vec::new();
        if let Some(b) = basic {
            headers.push(("Authorization", b.to_string()));
        }
        let mut resp = transport.http().execute(Method::Get, &url, &headers)?;
        let status = resp.status().as_u16();
        if status == 200 {
            return read_capped(resp.body_mut(), limits::TOKEN, "token response", &url);
        }
        let body = read_prefix(resp.body_mut(), limits::ERROR_BODY);
        let mut failure = transport.status_failure(status, resp.headers(), &body, "token");
        if !failure.retry && !matches!(failure.error, Error::RateLimited { .. }) {
            // Everything the token endpoint says no to is an auth failure.
            failure = Failure::fatal(Error::Auth {
                status: Some(status),
                message: format!("token endpoint {realm_shown} answered HTTP {status}"),
                diagnostics: parse_diagnostics(&body),
            });
        }
        Err(failure)
    })?;
    let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
        Error::auth(
            None,
            format!("token endpoint {realm_shown} answered malformed JSON: {e}"),
        )
    })?;
    let value = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| {
            Error::auth(
                None,
                format!("token endpoint {realm_shown} answered without a token"),
            )
        })?;
    if value.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(Error::auth(
            None,
            format!("token endpoint {realm_shown} answered a token that is not header-safe"),
        ));
    }
    let lifetime = lifetime(
        parsed.expires_in.as_ref(),
        parsed.issued_at.as_deref(),
        clock.system_time(),
    );
    Ok(Token {
        value,
        refresh_at: clock.now() + lifetime - margin(lifetime),
    })
}

/// How long a token may still be used: `expires_in` (at least 60 s),
/// counted from `issued_at` when the server's clock says it was issued
/// earlier than now, never beyond what our own clock allows.
fn lifetime(
    expires_in: Option<&serde_json::Value>,
    issued_at: Option<&str>,
    now: SystemTime,
) -> Duration {
    let secs = expires_in
        .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
        .unwrap_or(0);
    let total = Duration::from_secs(secs).max(MIN_LIFETIME);
    let Some(issued) = issued_at.and_then(parse_rfc3339) else {
        return total;
    };
    match now.duration_since(issued) {
        // Issued `age` ago by the server's clock: what is left of it, but
        // never below the floor (clocks disagree more often than tokens lie).
        Ok(age) => total.saturating_sub(age).max(MIN_LIFETIME),
        // Issued "in the future": the clocks differ; count from now.
        Err(_) => total,
    }
}

/// Stop using a token a little before it expires, so a request does not
/// arrive with one that has just run out.
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(30))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = &frac[..digits.min(9)];
        nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            let o = h * 3600 + m * 60;
            if &rest[..1] == "-" {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset;
    if secs < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::new(secs as u64, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339() {
        let t = parse_rfc3339("2009-11-10T23:00:00Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_257_894_000
        );
        let t = parse_rfc3339("2009-11-10T23:00:00.5+01:00").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_millis(),
            1_257_890_400_500
        );
        let t = parse_rfc3339("2024-02-29T00:00:00.123456789123Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_709_164_800
        );
        for bad in [
            "",
            "2009-11-10",
            "2009-13-10T23:00:00Z",
            "2009-11-10T23:00:00",
            "2009-11-10T23:00:00+0100",
            "2009-11-10T23:00:00.Z",
            "２００９-11-10T23:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lifetimes() {
        let now = parse_rfc3339("2024-01-01T00:10:00Z").unwrap();
        let (v10, v300, s300) = (json!(10), json!(300), json!("300"));
        assert_eq!(lifetime(None, None, now), MIN_LIFETIME);
        assert_eq!(lifetime(Some(&v10), None, now), MIN_LIFETIME);
        assert_eq!(lifetime(Some(&v300), None, now), Duration::from_secs(300));
        assert_eq!(lifetime(Some(&s300), None, now), MIN_LIFETIME);
        // Issued two minutes ago: three minutes left.
        assert_eq!(
            lifetime(Some(&v300), Some("2024-01-01T00:08:00Z"), now),
            Duration::from_secs(180)
        );
        // Issued long ago or in the future: the floor, or the whole.
        assert_eq!(
            lifetime(Some(&v300), Some("2023-01-01T00:00:00Z"), now),
            MIN_LIFETIME
        );
        assert_eq!(
            lifetime(Some(&v300), Some("2024-01-01T01:00:00Z"), now),
            Duration::from_secs(300)
        );
        assert_eq!(margin(Duration::from_secs(60)), Duration::from_secs(6));
        assert_eq!(margin(Duration::from_secs(3600)), Duration::from_secs(30));
    }
}
