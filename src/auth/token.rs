//! Bearer tokens: fetching one from a realm (through the retry layer below
//! auth, never back up through auth), and caching it per (realm, service,
//! scope) until shortly before it expires.
//!
//! A token is asked for with a GET (anonymous or Basic credentials), or,
//! holding an identity token, with the OAuth2 `refresh_token` grant: a form
//! POST (`shared/spec/auth-oauth.md`), as Docker does.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lru::LruCache;
use parking_lot::Mutex;
use serde::Deserialize;
use url::Url;

use crate::http::failure::is_refused_address;
use crate::http::{limits, Body, Method, Request};
use crate::resilience::Resilient;
use crate::text::redact_url;
use crate::{Error, Result};

use super::secrets::Secrets;

/// The `client_id` of the OAuth2 grant: Docker's default, which token
/// servers know.
const CLIENT_ID: &str = "registry-client";

/// Tokens live at least this long (the spec's floor for `expires_in`).
const MIN_LIFETIME: Duration = Duration::from_secs(60);
/// And at most this long, whatever a token server says: a lifetime of
/// 10^308 seconds must neither overflow a clock nor pin a token forever.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Tokens cached at most, and bytes of tokens: a registry naming a new
/// realm on every challenge must not grow the client.
const MAX_TOKENS: usize = 256;
const MAX_TOKEN_BYTES: usize = 4 << 20;

/// What a token is cached under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    pub realm: String,
    pub service: Option<String>,
    /// Space-separated scopes, as sent.
    pub scope: String,
}

impl TokenKey {
    fn bytes(&self) -> usize {
        self.realm.len() + self.service.as_ref().map_or(0, String::len) + self.scope.len()
    }
}

#[derive(Clone)]
struct Token {
    value: String,
    /// When to stop using it: a margin before it really expires.
    refresh_at: Instant,
}

struct Store {
    tokens: LruCache<TokenKey, Token>,
    bytes: usize,
}

impl Store {
    fn remove(&mut self, key: &TokenKey) {
        if let Some(t) = self.tokens.pop(key) {
            self.bytes -= key.bytes() + t.value.len();
        }
    }

    fn insert(&mut self, key: TokenKey, token: Token, now: Instant) {
        self.remove(&key);
        let size = key.bytes() + token.value.len();
        if size > MAX_TOKEN_BYTES {
            return;
        }
        if self.tokens.len() >= MAX_TOKENS || self.bytes + size > MAX_TOKEN_BYTES {
            let expired: Vec<TokenKey> = self
                .tokens
                .iter()
                .filter(|(_, t)| t.refresh_at <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in &expired {
                self.remove(k);
            }
        }
        while self.tokens.len() >= MAX_TOKENS || self.bytes + size > MAX_TOKEN_BYTES {
            match self.tokens.pop_lru() {
                Some((k, t)) => self.bytes -= k.bytes() + t.value.len(),
                None => break,
            }
        }
        self.bytes += size;
        self.tokens.push(key, token);
    }
}

/// The cache, bounded in entries and bytes; expired tokens are dropped
/// when met and whenever room is needed.
pub(crate) struct TokenCache {
    store: Mutex<Store>,
    flights: crate::singleflight::Flights<TokenKey, String>,
}

impl TokenCache {
    pub(crate) fn new() -> TokenCache {
        TokenCache {
            store: Mutex::new(Store {
                tokens: LruCache::unbounded(),
                bytes: 0,
            }),
            flights: crate::singleflight::Flights::new(),
        }
    }

    fn cached(&self, key: &TokenKey, now: Instant) -> Option<String> {
        let mut store = self.store.lock();
        match store.tokens.get(key) {
            Some(t) if t.refresh_at > now => Some(t.value.clone()),
            Some(_) => {
                store.remove(key);
                None
            }
            None => None,
        }
    }

    /// Forgets a token the registry refused.
    pub(crate) fn invalidate(&self, key: &TokenKey, value: &str) {
        let mut store = self.store.lock();
        if store.tokens.peek(key).is_some_and(|t| t.value == value) {
            store.remove(key);
        }
    }

    /// Makes the token cached under `from` also serve `to`.
    pub(crate) fn alias(&self, from: &TokenKey, to: &TokenKey, now: Instant) {
        let mut store = self.store.lock();
        if let Some(t) = store.tokens.peek(from).cloned() {
            store.insert(to.clone(), t, now);
        }
    }

    /// Tokens held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.store.lock().tokens.len()
    }

    /// A valid token for `key`: from the cache, or fetched once however
    /// many threads ask at the same time.
    pub(crate) fn get(&self, fetcher: &Fetcher<'_>, key: &TokenKey) -> Result<String> {
        let clock = fetcher.inner.clock();
        self.flights.run(
            key,
            || self.cached(key, clock.now()),
            || {
                let token = fetcher.fetch(key)?;
                let value = token.value.clone();
                self.store.lock().insert(key.clone(), token, clock.now());
                Ok(value)
            },
        )
    }
}

/// What a token request presents.
pub(crate) enum Grant {
    Anonymous,
    /// A `Basic …` header value.
    Basic(String),
    /// An OAuth2 refresh token (Docker's identity token).
    RefreshToken(String),
}

impl Grant {
    /// Whether the request carries a secret (so the realm must deserve it).
    pub(crate) fn sends_secret(&self) -> bool {
        !matches!(self, Grant::Anonymous)
    }
}

/// What a token fetch needs: the layer to send through, what to present,
/// and where to remember the token as a secret.
pub(crate) struct Fetcher<'a> {
    pub inner: &'a Resilient,
    pub grant: &'a Grant,
    pub secrets: &'a Secrets,
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub(crate) token: Option<String>,
    #[serde(default)]
    pub(crate) access_token: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) issued_at: Option<String>,
    /// A new refresh token, when the server rotates it: a secret too.
    #[serde(default)]
    refresh_token: Option<String>,
}

impl Fetcher<'_> {
    /// One token exchange (the layer below retries it).
    fn fetch(&self, key: &TokenKey) -> Result<Token> {
        let clock = self.inner.clock();
        let mut url = Url::parse(&key.realm)
            .map_err(|e| Error::auth_caused(None, "token realm is not a URL", e))?;
        let mut req = match self.grant {
            Grant::RefreshToken(refresh) => {
                // Every parameter in the form body, none in the URL: the
                // spec's OAuth2 POST (scopes space-separated in one field).
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token");
                if let Some(service) = &key.service {
                    form.append_pair("service", service);
                }
                if !key.scope.is_empty() {
                    form.append_pair("scope", &key.scope);
                }
                form.append_pair("client_id", CLIENT_ID);
                form.append_pair("refresh_token", refresh);
                let body = form.finish();
                // Its form-encoded spelling could be echoed too.
                self.secrets.add(
                    &url::form_urlencoded::byte_serialize(refresh.as_bytes()).collect::<String>(),
                );
                let mut req = Request::new(Method::Post, url.clone());
                req.set_header(
                    "Content-Type",
                    "application/x-www-form-urlencoded".to_string(),
                );
                req.body = Body::Bytes(Arc::from(body.into_bytes()));
                req
            }
            Grant::Anonymous | Grant::Basic(_) => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(service) = &key.service {
                        q.append_pair("service", service);
                    }
                    for scope in key.scope.split(' ').filter(|s| !s.is_empty()) {
                        q.append_pair("scope", scope);
                    }
                }
                let mut req = Request::new(Method::Get, url.clone());
                if let Grant::Basic(b) = self.grant {
                    req.set_header("Authorization", b.clone());
                }
                req
            }
        };
        let realm_shown = redact_url(&url);
        req.buffer = Some(limits::TOKEN);
        let mut resp = self.inner.send(&mut req).map_err(|e| {
            if is_refused_address(&e) {
                // The realm's address was refused: a credential matter.
                let message = format!("refusing token realm {realm_shown}: {e}");
                Error::auth_caused(None, message, e)
            } else {
                e
            }
        })?;
        if resp.status != 200 {
            let body = resp.prefix(limits::ERROR_BODY);
            let error = Error::from_status(
                resp.status,
                &body,
                &format!("token from {realm_shown}"),
                resp.retry_after,
                resp.attempts,
            );
            // Everything the token endpoint says no to is an auth failure;
            // what outlived the retries keeps its kind.
            return Err(match error {
                Error::RateLimited { .. } | Error::Connection { .. } => error,
                Error::Auth { .. } | Error::NotFound { .. } | Error::Registry { .. } => {
                    Error::auth_said(
                        Some(resp.status),
                        format!("token endpoint {realm_shown} answered HTTP {}", resp.status),
                        error.diagnostics().to_vec(),
                    )
                }
                other => other,
            });
        }
        let body = resp.bytes(limits::TOKEN, "token response")?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            Error::auth_caused(
                None,
                format!("token endpoint {realm_shown} answered malformed JSON"),
                e,
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
        self.secrets.add(&value);
        if let Some(rotated) = parsed.refresh_token.as_deref() {
            self.secrets.add(rotated);
        }
        let lifetime = lifetime(
            parsed.expires_in.as_ref(),
            parsed.issued_at.as_deref(),
            clock.system_time(),
        );
        let now = clock.now();
        Ok(Token {
            value,
            refresh_at: refresh_at(now, lifetime),
        })
    }
}

/// When to stop using a token that lives `lifetime` from `now`; a time the
/// clock cannot represent means "as late as it can", never a panic.
pub(crate) fn refresh_at(now: Instant, lifetime: Duration) -> Instant {
    let usable = lifetime.saturating_sub(margin(lifetime));
    now.checked_add(usable).unwrap_or(now)
}

/// How long a token may still be used: `expires_in` (at least 60 s),
/// counted from `issued_at` when the server's clock says it was issued
/// earlier than now, never beyond what our own clock allows.
pub(crate) fn lifetime(
    expires_in: Option<&serde_json::Value>,
    issued_at: Option<&str>,
    now: SystemTime,
) -> Duration {
    let secs = expires_in
        .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
        .unwrap_or(0);
    let total = Duration::from_secs(secs).clamp(MIN_LIFETIME, MAX_LIFETIME);
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
pub(crate) fn margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(30))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
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
        // `±HH:MM`, checked as bytes: a server's text may hold multi-byte
        // characters, where slicing by position would panic.
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest.is_ascii() =>
        {
            let digits = |r: std::ops::Range<usize>| -> Option<i64> {
                let t = &rest[r];
                t.bytes()
                    .all(|c| c.is_ascii_digit())
                    .then(|| t.parse().ok())
                    .flatten()
            };
            let (h, m) = (digits(1..3)?, digits(4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if rest.as_bytes()[0] == b'-' {
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
            // Found by fuzzing: multi-byte characters where the offset is.
            "2009-11-10T23:00:00é:00",
            "2009-11-10T23:00:00+é:0",
            "2009-11-10T23:00:00+0é00",
            "2009-11-10T23:00:00+-1:00",
            "2009-11-10T23:00:00+99:99",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    /// Every field and separator of the RFC 3339 grammar, at its limits,
    /// against epoch seconds computed independently (Python's `datetime`).
    #[test]
    fn rfc3339_fields_and_limits() {
        let secs = |s: &str| {
            parse_rfc3339(s)
                .unwrap_or_else(|| panic!("{s}"))
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        for (s, want) in [
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:01Z", 1),
            ("1972-06-30T23:59:59Z", 78_796_799),
            ("1999-12-31T23:59:59Z", 946_684_799),
            ("2000-02-29T12:34:56Z", 951_827_696),
            ("2000-03-01T00:00:00Z", 951_868_800),
            ("2024-01-31T00:00:00Z", 1_706_659_200),
            ("2024-12-31T23:59:59Z", 1_735_689_599),
            ("2038-01-19T03:14:08Z", 2_147_483_648),
            ("2100-03-01T00:00:00Z", 4_107_542_400),
            ("2400-02-29T00:00:00Z", 13_574_563_200),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
            // a leap second is accepted (as the next second)
            ("1972-06-30T23:59:60Z", 78_796_800),
            // lowercase and space separators, lowercase zone
            ("1970-01-01t00:00:01z", 1),
            ("1970-01-01 00:00:01Z", 1),
        ] {
            assert_eq!(secs(s), want, "{s}");
        }
        let firsts_2023 = [
            1_672_531_200,
            1_675_209_600,
            1_677_628_800,
            1_680_307_200,
            1_682_899_200,
            1_685_577_600,
            1_688_169_600,
            1_690_848_000,
            1_693_526_400,
            1_696_118_400,
            1_698_796_800,
            1_701_388_800,
        ];
        let firsts_2024 = [
            1_704_067_200,
            1_706_745_600,
            1_709_251_200,
            1_711_929_600,
            1_714_521_600,
            1_717_200_000,
            1_719_792_000,
            1_722_470_400,
            1_725_148_800,
            1_727_740_800,
            1_730_419_200,
            1_733_011_200,
        ];
        for (m, (a, b)) in firsts_2023.iter().zip(firsts_2024).enumerate() {
            let m = m + 1;
            assert_eq!(secs(&format!("2023-{m:02}-01T00:00:00Z")), *a, "2023-{m}");
            assert_eq!(secs(&format!("2024-{m:02}-01T00:00:00Z")), b, "2024-{m}");
        }
        // offsets: east of UTC is earlier, west later, to the minute
        let base = secs("2009-11-10T23:00:00Z");
        assert_eq!(secs("2009-11-10T23:00:00+01:30"), base - 5400);
        assert_eq!(secs("2009-11-10T23:00:00-01:30"), base + 5400);
        assert_eq!(secs("2009-11-10T23:00:00+23:59"), base - 86_340);
        assert_eq!(secs("2009-11-10T23:00:00-00:00"), base);
        // fractions: every digit counts up to nanoseconds, the rest is cut
        let nanos = |s: &str| {
            parse_rfc3339(s)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        };
        assert_eq!(nanos("1970-01-01T00:00:00.1Z"), 100_000_000);
        assert_eq!(nanos("1970-01-01T00:00:00.000000001Z"), 1);
        assert_eq!(nanos("1970-01-01T00:00:00.123456789Z"), 123_456_789);
        assert_eq!(nanos("1970-01-01T00:00:00.9876543219Z"), 987_654_321);
        assert_eq!(nanos("1970-01-01T00:00:00.5-00:00"), 500_000_000);
        for bad in [
            // before the epoch
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
            // each separator
            "1970/01-01T00:00:01Z",
            "1970-01/01T00:00:01Z",
            "1970-01-01X00:00:01Z",
            "1970-01-01T00-00:01Z",
            "1970-01-01T00:00-01Z",
            "1970-01-01T00:00:01+01-00",
            "1970-01-01T00:00:01*01:00",
            // each field's range
            "2009-00-10T23:00:00Z",
            "2009-11-00T23:00:00Z",
            "2009-11-32T23:00:00Z",
            "2009-11-10T24:00:00Z",
            "2009-11-10T23:60:00Z",
            "2009-11-10T23:00:61Z",
            "2009-11-10T23:00:00+24:00",
            "2009-11-10T23:00:00+00:60",
            // digits only
            "2009-1a-10T23:00:00Z",
            "+009-11-10T23:00:00Z",
            "2009-11-10T23:00:00++1:00",
            // one character short, or trailing text
            "1970-01-01T00:00:0Z",
            "2009-11-10T23:00:00.5",
            "2009-11-10T23:00:00ZZ",
            "2009-11-10T23:00:00+01:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn absurd_lifetimes_are_clamped_not_a_panic() {
        let now = parse_rfc3339("2024-01-01T00:10:00Z").unwrap();
        for v in [
            json!(18446744073709551615u64),
            json!(1e19),
            json!(1e308),
            json!(-1e308),
            json!(-5),
        ] {
            let l = lifetime(Some(&v), None, now);
            assert!((MIN_LIFETIME..=MAX_LIFETIME).contains(&l), "{v}: {l:?}");
            let at = refresh_at(Instant::now(), l);
            assert!(at > Instant::now(), "{v}");
        }
        assert_eq!(lifetime(Some(&json!(1e19)), None, now), MAX_LIFETIME);
        // Issued at a date that cannot be represented: still a lifetime.
        let l = lifetime(Some(&json!(300)), Some("9999-12-31T23:59:59Z"), now);
        assert_eq!(l, Duration::from_secs(300));
        // Beyond what the clock can represent: no panic.
        let _ = refresh_at(Instant::now(), Duration::MAX);
    }

    #[test]
    fn the_cache_is_bounded_and_drops_expired_tokens() {
        let cache = TokenCache::new();
        let now = Instant::now();
        let key = |i: usize| TokenKey {
            realm: format!("https://auth{i}.example/token"),
            service: None,
            scope: "repository:a:pull".into(),
        };
        let big = "t".repeat(60 << 10);
        for i in 0..400 {
            cache.store.lock().insert(
                key(i),
                Token {
                    value: big.clone(),
                    refresh_at: now + Duration::from_secs(60),
                },
                now,
            );
        }
        let store = cache.store.lock();
        assert!(store.bytes <= MAX_TOKEN_BYTES, "{}", store.bytes);
        assert!(store.tokens.len() <= MAX_TOKENS);
        drop(store);
        // Expired ones go first when room is needed.
        let cache = TokenCache::new();
        for i in 0..MAX_TOKENS {
            cache.store.lock().insert(
                key(i),
                Token {
                    value: "x".into(),
                    refresh_at: now,
                },
                now,
            );
        }
        cache.store.lock().insert(
            key(9999),
            Token {
                value: "y".into(),
                refresh_at: now + Duration::from_secs(60),
            },
            now + Duration::from_secs(1),
        );
        assert_eq!(cache.len(), 1);
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
