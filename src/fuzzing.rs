//! One entry point per parser, for the fuzz targets in `fuzz/` and the
//! property tests in `src/proptests.rs`.
//!
//! Each function takes arbitrary bytes, hands them to the crate's real
//! parser and panics only when an invariant is violated: a parse that
//! panics by itself, an accepted value that does not survive
//! display → parse, or a computed value out of its documented range.
//! Errors are expected and ignored (after formatting them, since building
//! the message is code too).
//!
//! Every crate-internal path the fuzzers reach is named in this file only,
//! so that moving a module means fixing up this one file.
//!
//! Compiled for tests and with the `fuzzing` feature; not part of the API.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use crate::auth::challenge::{self as challenge_parser, Challenge};
use crate::auth::scope::Scope;
use crate::auth::token::{lifetime, margin, parse_rfc3339, refresh_at, TokenResponse};
use crate::clock::{Clock, ManualClock};
use crate::digest::{Algorithm, Digest, VerifyingReader};
use crate::manifest::{media_type, ImageConfig, Manifest};
use crate::pagination::next_link;
use crate::platform::Platform;
use crate::reference::{validate_repository, validate_tag, ImageReference, Reference};
use crate::resilience::retry::parse_retry_after;

/// The bytes as text, for parsers that take `&str`; `None` for invalid
/// UTF-8 (headers reach the parsers as `&str` already).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Formats an error's message, which quotes (parts of) the input.
fn exercise_message(e: &crate::Error) {
    let m = e.to_string();
    assert!(!m.is_empty(), "empty error message");
}

/// Renders challenges back into one `WWW-Authenticate` value, every
/// parameter value quoted with `"`, `\` and control characters escaped.
fn render_challenges(cs: &[Challenge]) -> String {
    let mut out = Vec::new();
    for c in cs {
        let mut s = c.scheme.clone();
        if let Some(t) = &c.token68 {
            s.push(' ');
            s.push_str(t);
        }
        let params: Vec<String> = c
            .params
            .iter()
            .map(|(n, v)| {
                let mut q = String::from("\"");
                for ch in v.chars() {
                    if ch == '"' || ch == '\\' || ch.is_control() {
                        q.push('\\');
                    }
                    q.push(ch);
                }
                q.push('"');
                format!("{n}={q}")
            })
            .collect();
        if !params.is_empty() {
            s.push(' ');
            s.push_str(&params.join(", "));
        }
        out.push(s);
    }
    out.join(", ")
}

/// Scopes survive display → parse.
fn check_scope(s: &str) {
    match Scope::parse(s) {
        Ok(scope) => {
            let shown = scope.to_string();
            let again = Scope::parse(&shown)
                .unwrap_or_else(|e| panic!("scope {shown:?} (from {s:?}) does not reparse: {e}"));
            assert_eq!(again, scope, "scope round trip of {s:?}");
        }
        Err(e) => exercise_message(&e),
    }
}

/// `WWW-Authenticate` ([`crate::auth::challenge::parse`]): parsing never
/// panics, and an accepted header rendered back canonically parses to the
/// same challenges. The scopes of each challenge survive display → parse.
///
/// ```
/// registry_client::fuzzing::challenge(br#"Bearer realm="https://a/token",scope="repository:x:pull""#);
/// ```
pub fn challenge(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let cs = match challenge_parser::parse(s) {
        Ok(cs) => cs,
        Err(e) => return exercise_message(&e),
    };
    for c in &cs {
        assert!(!c.scheme.is_empty(), "empty scheme from {s:?}");
        assert!(
            c.params.is_empty() || c.token68.is_none(),
            "params and token68 from {s:?}"
        );
        let _ = (c.realm(), c.service(), c.error(), c.is_bearer());
        match c.scopes() {
            Ok(scopes) => {
                for scope in scopes {
                    check_scope(&scope.to_string());
                }
            }
            Err(e) => exercise_message(&e),
        }
        for raw in c.scope().unwrap_or("").split_ascii_whitespace() {
            check_scope(raw);
        }
    }
    let shown = render_challenges(&cs);
    let again = challenge_parser::parse(&shown)
        .unwrap_or_else(|e| panic!("rendered {shown:?} (from {s:?}) does not reparse: {e}"));
    assert_eq!(
        again, cs,
        "challenge round trip: {s:?} rendered as {shown:?}"
    );
}

/// The request URLs a `Link` header is resolved against: a registry with
/// a port and a query, and one on the scheme's default port.
const LINK_BASES: [&str; 2] = [
    "https://registry.example:5000/v2/_catalog?n=2&last=a",
    "http://127.0.0.1/prefix/v2/library/alpine/tags/list",
];

/// `Link` headers ([`crate::pagination`]'s `next_link`). The input is
/// split at `\n` into several header lines. A next link that is returned
/// has the request's origin, no fragment, is not the request itself, and
/// is found again when sent back as `<url>; rel="next"`.
///
/// ```
/// registry_client::fuzzing::link(b"</v2/_catalog?last=b&n=2>; rel=\"next\"");
/// ```
pub fn link(data: &[u8]) {
    let Some(s) = text(data) else { return };
    for base in LINK_BASES {
        let base = Url::parse(base).expect("constant URL");
        let next = match next_link(s.split('\n'), &base) {
            Ok(Some(next)) => next,
            Ok(None) => continue,
            Err(e) => {
                exercise_message(&e);
                continue;
            }
        };
        assert_eq!(next.scheme(), base.scheme(), "{s:?} -> {next}");
        assert_eq!(next.host_str(), base.host_str(), "{s:?} -> {next}");
        assert_eq!(
            next.port_or_known_default(),
            base.port_or_known_default(),
            "{s:?} -> {next}"
        );
        assert_eq!(next.fragment(), None, "{s:?} -> {next}");
        assert_ne!(next, base, "{s:?} loops");
        let header = format!("<{next}>; rel=\"next\"");
        let again = next_link([header.as_str()], &base)
            .unwrap_or_else(|e| panic!("{header:?} (from {s:?}) is refused: {e}"));
        assert_eq!(again.as_ref(), Some(&next), "link round trip of {s:?}");
    }
}

/// Image references, references, tags, repository names and repository
/// scopes ([`ImageReference::parse`], [`Reference::parse`],
/// [`validate_tag`], [`validate_repository`]). An accepted image reference
/// survives display → parse and familiar → parse; an accepted reference
/// keeps its text and survives display → parse; a valid repository name
/// makes a valid `repository:<name>:pull` scope.
///
/// ```
/// registry_client::fuzzing::reference(b"v1.2.3");
/// ```
pub fn reference(data: &[u8]) {
    let Some(s) = text(data) else { return };
    match ImageReference::parse(s) {
        Ok(r) => {
            for shown in [r.to_string(), r.familiar()] {
                let again = ImageReference::parse(&shown)
                    .unwrap_or_else(|e| panic!("{shown:?} (from {s:?}) does not reparse: {e}"));
                assert_eq!(
                    again, r,
                    "image reference round trip of {s:?} via {shown:?}"
                );
            }
            assert!(validate_repository(r.repository()).is_ok(), "{s:?}");
            let _ = (
                r.api_host(),
                r.reference(),
                r.with_default_tag().to_string(),
            );
        }
        Err(e) => exercise_message(&e),
    }
    match Reference::parse(s) {
        Ok(r) => {
            assert_eq!(r.as_str(), s, "reference text changed");
            let again = Reference::parse(&r.to_string())
                .unwrap_or_else(|e| panic!("reference {r} does not reparse: {e}"));
            assert_eq!(again, r);
            assert_eq!(r.is_digest(), s.contains(':'));
            if let Some(d) = r.digest() {
                assert_eq!(d.as_str(), s);
            }
        }
        Err(e) => exercise_message(&e),
    }
    match validate_tag(s) {
        Ok(()) => {
            assert!(
                matches!(Reference::parse(s), Ok(Reference::Tag(ref t)) if t == s),
                "valid tag {s:?} is not a tag reference"
            );
        }
        Err(e) => exercise_message(&e),
    }
    match validate_repository(s) {
        Ok(()) => {
            let scope = Scope::pull(s);
            let shown = scope.to_string();
            assert_eq!(
                Scope::parse(&shown).ok().as_ref(),
                Some(&scope),
                "valid repository {s:?} gives a bad scope"
            );
        }
        Err(e) => exercise_message(&e),
    }
    check_scope(s);
}

/// Digests ([`Digest::parse`]): an accepted digest keeps its text, has the
/// algorithm's hex length, survives display → parse and JSON, and a
/// verifying reader over the input accepts exactly the input's digest.
///
/// ```
/// registry_client::fuzzing::digest(b"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
/// ```
pub fn digest(data: &[u8]) {
    if let Some(s) = text(data) {
        match Digest::parse(s) {
            Ok(d) => {
                assert_eq!(d.as_str(), s);
                assert_eq!(d.hex().len(), d.algorithm().hex_len());
                assert_eq!(format!("{}:{}", d.algorithm(), d.hex()), s);
                let shown = d.to_string();
                assert_eq!(Digest::parse(&shown).ok().as_ref(), Some(&d));
                let json = serde_json::to_string(&d).expect("a digest serializes");
                let back: Digest = serde_json::from_str(&json)
                    .unwrap_or_else(|e| panic!("digest JSON {json} does not reparse: {e}"));
                assert_eq!(back, d);
                // Almost surely not the digest of the input itself.
                let matches = d.verify(data).is_ok();
                assert_eq!(matches, Digest::compute(d.algorithm(), data) == d);
            }
            Err(e) => exercise_message(&e),
        }
    }
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        let d = Digest::compute(algorithm, data);
        assert_eq!(Digest::parse(d.as_str()).ok().as_ref(), Some(&d));
        let mut out = Vec::new();
        let mut r = VerifyingReader::new(data, d.clone(), Some(data.len() as u64));
        r.read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("verifying reader refused the right digest: {e}"));
        assert!(r.is_verified());
        assert_eq!(out, data);
        // The digest of other bytes must be refused.
        let other = Digest::compute(algorithm, &[data, b"x"].concat());
        let mut r = VerifyingReader::new(data, other, None);
        assert!(
            r.read_to_end(&mut Vec::new()).is_err(),
            "verifying reader accepted the wrong digest"
        );
    }
}

/// Platforms ([`Platform::parse`]): an accepted platform displays as its
/// input, survives display → parse and JSON, and matches itself.
///
/// ```
/// registry_client::fuzzing::platform(b"linux/arm/v7");
/// ```
pub fn platform(data: &[u8]) {
    let Some(s) = text(data) else { return };
    match Platform::parse(s) {
        Ok(p) => {
            assert_eq!(p.to_string(), s);
            assert_eq!(Platform::parse(&p.to_string()).ok().as_ref(), Some(&p));
            assert!(p.matches(&p), "{p} does not match itself");
            let json = serde_json::to_string(&p).expect("a platform serializes");
            let back: Platform = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("platform JSON {json} does not reparse: {e}"));
            assert_eq!(back, p);
        }
        Err(e) => exercise_message(&e),
    }
}

/// The `Content-Type` a manifest body is parsed with, chosen by the first
/// byte of the input; the last choice takes the next line of the input.
const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some(media_type::DOCKER_MANIFEST_V2),
    Some(media_type::DOCKER_MANIFEST_LIST),
    Some(media_type::OCI_MANIFEST),
    Some(media_type::OCI_INDEX),
    Some(media_type::DOCKER_MANIFEST_V1_SIGNED),
    Some("application/json; charset=utf-8"),
    Some("APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON ; charset=utf-8"),
];

/// Manifests and image configs ([`Manifest::parse`],
/// [`ImageConfig::parse`]). The first byte of the input picks the
/// `Content-Type` (see the fuzz corpus); the rest is the body. An accepted
/// manifest, serialized and parsed again with its own media type, gives
/// the same manifest; likewise an accepted config.
///
/// ```
/// registry_client::fuzzing::manifest(b"\0{\"schemaVersion\":2,\"manifests\":[]}");
/// ```
pub fn manifest(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (content_type, body) = match CONTENT_TYPES.get(usize::from(selector)) {
        Some(ct) => (*ct, rest),
        None => {
            // Any other selector: the Content-Type is the next line.
            let nl = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let Some(ct) = text(&rest[..nl]) else { return };
            (Some(ct), rest.get(nl + 1..).unwrap_or(&[]))
        }
    };
    match Manifest::parse(content_type, body) {
        Ok(m) => {
            assert_eq!(m.is_index(), m.as_index().is_some());
            assert_eq!(m.is_index(), m.as_image().is_none());
            if let Some(index) = m.as_index() {
                let _ = index.select(&Platform::host());
                for p in index.platforms() {
                    assert!(index.select(&p).is_some(), "{p} listed but not selected");
                }
            }
            let json = m.to_json_pretty();
            let again = Manifest::parse(Some(m.media_type()), json.as_bytes())
                .unwrap_or_else(|e| panic!("manifest JSON does not reparse: {e}\n{json}"));
            assert_eq!(again, m, "manifest round trip");
        }
        Err(e) => exercise_message(&e),
    }
    match ImageConfig::parse(body) {
        Ok(c) => {
            let _ = c.platform().to_string();
            let json = serde_json::to_vec(&c).expect("a config serializes");
            let again = ImageConfig::parse(&json).unwrap_or_else(|e| {
                panic!(
                    "config JSON does not reparse: {e}\n{}",
                    String::from_utf8_lossy(&json)
                )
            });
            assert_eq!(again, c, "config round trip");
        }
        Err(e) => exercise_message(&e),
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm),
/// written independently of the parser's inverse so one checks the other.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// RFC 3339 text of `t` in UTC with nanoseconds; `None` past year 9999.
fn rfc3339(t: SystemTime) -> Option<String> {
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    let secs = i64::try_from(d.as_secs()).ok()?;
    let (y, mo, day) = civil_from_days(secs.div_euclid(86_400));
    if y > 9999 {
        return None;
    }
    let s = secs.rem_euclid(86_400);
    Some(format!(
        "{y:04}-{mo:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_nanos()
    ))
}

/// An accepted RFC 3339 time, written back canonically, parses to the
/// same instant.
fn check_rfc3339(s: &str) {
    let Some(t) = parse_rfc3339(s) else { return };
    let Some(shown) = rfc3339(t) else { return };
    assert_eq!(
        parse_rfc3339(&shown),
        Some(t),
        "time {s:?} written as {shown:?} does not reparse"
    );
}

/// A token endpoint's JSON answer, decoded as the token fetch decodes it,
/// then the token's lifetime and refresh time computed against a
/// [`ManualClock`] as the fetch does. The lifetime is at least 60 s, at
/// most `expires_in` (exactly that up to an hour) when that is all there
/// is; the token is refreshed after
/// now and before it expires. `issued_at` and the whole input as text go
/// through the RFC 3339 parser, whose accepted times survive being written
/// back.
///
/// ```
/// registry_client::fuzzing::token_response(br#"{"token":"abc","expires_in":300,"issued_at":"2023-11-14T22:12:20Z"}"#);
/// ```
pub fn token_response(data: &[u8]) {
    if let Some(s) = text(data) {
        check_rfc3339(s);
    }
    let Ok(parsed) = serde_json::from_slice::<TokenResponse>(data) else {
        return;
    };
    if let Some(issued) = parsed.issued_at.as_deref() {
        check_rfc3339(issued);
    }
    let clock = ManualClock::new();
    let life = lifetime(
        parsed.expires_in.as_ref(),
        parsed.issued_at.as_deref(),
        clock.system_time(),
    );
    assert!(
        life >= Duration::from_secs(60),
        "lifetime {life:?} below 60 s"
    );
    if parsed.issued_at.is_none() {
        if let Some(secs) = parsed.expires_in.as_ref().and_then(|v| v.as_u64()) {
            // Absurd lifetimes are capped; an hour never is.
            assert!(
                life <= Duration::from_secs(secs.max(60)),
                "{life:?} for {secs}"
            );
            if secs <= 3600 {
                assert_eq!(life, Duration::from_secs(secs.max(60)));
            }
        }
    }
    let m = margin(life);
    assert!(m < life && m <= Duration::from_secs(30), "margin {m:?}");
    let now = clock.now();
    let at = refresh_at(now, life);
    assert!(at > now, "refreshed at once: lifetime {life:?}");
    assert!(
        at.duration_since(now) < life,
        "refreshed after expiry: {life:?}"
    );
}

/// `Retry-After` (`parse_retry_after`) at a fixed time: digits give that
/// many seconds (saturating), and a date in the future, written back as an
/// IMF-fixdate, gives the same wait.
///
/// ```
/// registry_client::fuzzing::retry_after(b"Wed, 15 Nov 2023 08:00:00 GMT");
/// ```
pub fn retry_after(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let Some(wait) = parse_retry_after(s, now) else {
        return;
    };
    let trimmed = s.trim_matches(|c| c == ' ' || c == '\t');
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let secs = trimmed.parse::<u64>().unwrap_or(u64::MAX);
        assert_eq!(wait, Duration::from_secs(secs));
        assert_eq!(parse_retry_after(&secs.to_string(), now), Some(wait));
    } else if !wait.is_zero() {
        assert_eq!(wait.subsec_nanos(), 0, "HTTP dates have whole seconds");
        let shown = httpdate::fmt_http_date(now + wait);
        assert_eq!(
            parse_retry_after(&shown, now),
            Some(wait),
            "{s:?} written as {shown:?}"
        );
    }
}
