//! What a failed exchange becomes: the one mapping of ureq's and the
//! socket's errors onto [`Error`], keeping the cause as `source()`, and the
//! one answer to "could the same exchange succeed if tried again?"
//! ([`is_transient`]), which the retry layer builds its decision on.

use std::fmt;
use std::io;

use url::Url;

use crate::text::redact_url;
use crate::Error;

use super::proxy::ProxyTarget;
use super::resolve::AddressRefused;

/// Marks a failure that sending again cannot fix (a certificate, a refused
/// address), as the `source()` of a connection error.
#[derive(Debug)]
pub(crate) struct Permanent(pub(crate) Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Permanent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Marks a TLS handshake that the server answered in plain HTTP (it does
/// not speak TLS on that port), as the cause inside [`Permanent`]: a
/// loopback registry named without a scheme is then tried over http.
#[derive(Debug)]
pub(crate) struct PlainHttpReply(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for PlainHttpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for PlainHttpReply {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// What the error of a TLS handshake answered in plain HTTP says: that,
/// and the settings that reach such a registry.
pub(crate) const PLAIN_HTTP_HINT: &str = "the server answered in plain HTTP, not TLS; \
     to reach a registry without TLS, give its URL as http://HOST:PORT or use \
     ClientBuilder::plain_http(true) (regc --plain-http)";

/// Whether `e` is rustls' answer to bytes that are not TLS records where a
/// handshake was expected (an HTTP response starts with `H`, no TLS content
/// type).
fn is_plain_http_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        e.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType
        ))
    )
}

/// Whether the exchange that failed with `e` met a server speaking plain
/// HTTP where TLS was expected.
pub(crate) fn is_plain_http_reply(e: &Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<PlainHttpReply>() {
            return true;
        }
        cause = c.source();
    }
    false
}

fn plain_http_reply(at: &str, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    let cause = cause.into();
    permanent(
        format!("TLS error with {at}: {PLAIN_HTTP_HINT} ({cause})"),
        PlainHttpReply(cause),
    )
}

fn permanent(message: String, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::connection_caused(message, Permanent(cause.into()))
}

/// Whether the exchange that failed with `e` may succeed if sent again:
/// timeouts and connection failures may; certificate and TLS failures,
/// refused addresses, oversized answers and bad input may not.
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::Timeout { .. } => true,
        Error::Connection { status: None, .. } => {
            !matches!(std::error::Error::source(e), Some(s) if s.is::<Permanent>())
        }
        _ => false,
    }
}

/// Whether `e` is the resolver's refusal of an internal address (see
/// `resolve.rs`), somewhere in its chain of causes.
pub(crate) fn is_refused_address(e: &Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<AddressRefused>()
            || c.downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| inner.is::<AddressRefused>())
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Maps one of ureq's errors; `phase` tells whether the head or the body
/// was being read.
pub(crate) fn map_ureq(err: ureq::Error, url: &Url, phase: &str) -> Error {
    map_ureq_at(err, &redact_url(url), phase)
}

/// [`map_ureq`] with the target as messages show it (`at`).
fn map_ureq_at(err: ureq::Error, at: &str, phase: &str) -> Error {
    match err {
        ureq::Error::Timeout(t) => Error::timeout(format!("{phase} to {at} ({t})")),
        ureq::Error::Io(e) => map_io_at(e, at, phase),
        ureq::Error::HostNotFound => Error::connection(format!("host not found: {at}")),
        ureq::Error::ConnectionFailed => Error::connection(format!("connection to {at} failed")),
        ureq::Error::BodyExceedsLimit(limit) => {
            Error::too_large(format!("{phase} from {at}"), limit)
        }
        ureq::Error::Rustls(e) if is_plain_http_tls_error(&e) => plain_http_reply(at, e),
        e @ (ureq::Error::Tls(_) | ureq::Error::Rustls(_)) => {
            permanent(format!("TLS error with {at}: {e}"), e)
        }
        ureq::Error::Pem(e) => Error::invalid_caused(format!("bad PEM data: {e}"), e),
        e @ ureq::Error::Protocol(_) => {
            Error::connection_caused(format!("malformed HTTP {phase} from {at}: {e}"), e)
        }
        ureq::Error::LargeResponseHeader(_, limit) => {
            Error::too_large(format!("response headers from {at}"), limit as u64)
        }
        ureq::Error::BadUri(m) => Error::invalid(format!("bad URL {m}")),
        ureq::Error::BodyStalled => Error::timeout(format!("{phase} from {at} stalled")),
        other => Error::connection_caused(format!("{phase} to {at}: {other}"), other),
    }
}

/// Maps the failure of an exchange with `url` that went through `proxy`.
/// What is the proxy's doing names it and where it was set: it cannot be
/// found or reached (the only connection made is to the proxy, the target
/// is resolved by the proxy), or it would not open the tunnel (`407`
/// wants credentials, `403` forbids the target: not worth retrying; a
/// `502`/`503` may pass). Any other failure says the request went through
/// the proxy.
pub(crate) fn map_proxied(err: ureq::Error, url: &Url, phase: &str, proxy: &ProxyTarget) -> Error {
    let at = redact_url(url);
    let target = format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    );
    match err {
        ureq::Error::Io(e) if e.get_ref().is_some_and(|i| i.is::<ureq::Error>()) => {
            match e.into_inner().map(|b| b.downcast::<ureq::Error>()) {
                Some(Ok(inner)) => map_proxied(*inner, url, phase, proxy),
                _ => Error::connection(format!("{phase} to {at} through {proxy} failed")),
            }
        }
        ureq::Error::ConnectProxyFailed(reason) => {
            let status = reason
                .strip_prefix("proxy server responded ")
                .and_then(|r| r.get(..3))
                .and_then(|code| code.parse::<u16>().ok());
            let message = format!("{proxy} did not open a tunnel to {target}: {reason}");
            match status {
                Some(407) => permanent(
                    format!("{message} (it wants credentials: give them in the proxy URL, http://user:password@host:port)"),
                    ureq::Error::ConnectProxyFailed(reason),
                ),
                Some(403) => permanent(message, ureq::Error::ConnectProxyFailed(reason)),
                _ => Error::connection_caused(message, ureq::Error::ConnectProxyFailed(reason)),
            }
        }
        ureq::Error::HostNotFound => Error::connection(format!(
            "{proxy}: host not found (while sending {phase} to {at})"
        )),
        ureq::Error::ConnectionFailed => Error::connection(format!(
            "connection to {proxy} failed (while sending {phase} to {at})"
        )),
        ureq::Error::Io(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            let message = format!("connection refused by {proxy} (while sending {phase} to {at})");
            Error::connection_caused(message, e)
        }
        ureq::Error::Timeout(t @ ureq::Timeout::Connect) => {
            Error::timeout(format!("connecting to {target} through {proxy} ({t})"))
        }
        other => map_ureq_at(other, &format!("{at} (through {proxy})"), phase),
    }
}

/// Maps an I/O error met while talking to `url`.
pub(crate) fn map_io(e: io::Error, url: &Url, phase: &str) -> Error {
    map_io_at(e, &redact_url(url), phase)
}

/// [`map_io`] with the target as messages show it (`at`).
fn map_io_at(e: io::Error, at: &str, phase: &str) -> Error {
    use io::ErrorKind as K;
    // ureq wraps its own errors in io::Error when they surface through a reader.
    if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        return match e.into_inner().map(|b| b.downcast::<ureq::Error>()) {
            Some(Ok(inner)) => map_ureq_at(*inner, at, phase),
            _ => Error::connection(format!("{phase} failed")),
        };
    }
    if e.get_ref()
        .is_some_and(|inner| inner.is::<AddressRefused>())
    {
        let message = match e.get_ref() {
            Some(inner) => inner.to_string(),
            None => "address refused".to_string(),
        };
        return permanent(message, e);
    }
    // ureq reports TLS failures (a certificate it cannot verify, a failed
    // handshake) as InvalidData: retrying cannot fix them.
    if e.kind() == K::InvalidData {
        if e.get_ref()
            .is_some_and(|inner| is_plain_http_tls_error(inner))
        {
            return plain_http_reply(at, e);
        }
        return permanent(format!("TLS error with {at}: {e}"), e);
    }
    let message = match e.kind() {
        K::TimedOut | K::WouldBlock => {
            return Error::timeout_caused(format!("{phase} from {at}"), e)
        }
        K::ConnectionRefused => format!("connection refused by {at}"),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            format!("connection reset during {phase} from {at}")
        }
        K::UnexpectedEof => format!("connection closed early during {phase} from {at}"),
        _ => format!("{phase} from {at}: {e}"),
    };
    Error::connection_caused(message, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://u:p@r.example/v2/x?token=secret").unwrap()
    }

    #[test]
    fn transient_or_not() {
        let reset = map_io(
            io::Error::from(io::ErrorKind::ConnectionReset),
            &url(),
            "body",
        );
        assert!(is_transient(&reset), "{reset}");
        assert!(std::error::Error::source(&reset).is_some());
        let tls = map_io(
            io::Error::new(io::ErrorKind::InvalidData, "bad cert"),
            &url(),
            "x",
        );
        assert!(!is_transient(&tls), "{tls}");
        assert!(tls.to_string().contains("TLS error"), "{tls}");
        let t = map_io(io::Error::from(io::ErrorKind::TimedOut), &url(), "x");
        assert!(is_transient(&t) && t.kind() == crate::ErrorKind::Timeout);
        assert!(!is_transient(&Error::too_large("x", 1)));
    }

    #[test]
    fn tls_meeting_plain_http_says_so() {
        let rustls_error =
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        for e in [
            map_io(
                io::Error::new(io::ErrorKind::InvalidData, rustls_error.clone()),
                &url(),
                "response head",
            ),
            map_ureq(ureq::Error::Rustls(rustls_error), &url(), "response head"),
        ] {
            assert!(is_plain_http_reply(&e), "{e}");
            assert!(!is_transient(&e), "{e}");
            let m = e.to_string();
            assert!(m.contains("plain HTTP, not TLS"), "{m}");
            assert!(
                m.contains("plain_http(true)") && m.contains("http://"),
                "{m}"
            );
            assert!(!m.contains("secret"), "{m}");
        }
        // Other TLS failures are not taken for it.
        let other = map_io(
            io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidCcs),
            ),
            &url(),
            "x",
        );
        assert!(!is_plain_http_reply(&other), "{other}");
        assert!(!is_plain_http_reply(&map_io(
            io::Error::new(io::ErrorKind::InvalidData, "bad cert"),
            &url(),
            "x"
        )));
    }

    #[test]
    fn proxy_failures_name_the_proxy() {
        use crate::config::ProxySetting;
        let proxies = super::super::proxy::Proxies::new(
            &ProxySetting::Url("http://u:pw@proxy.corp:3128".into()),
            false,
            &|_| None,
        )
        .unwrap();
        let target = Url::parse("https://r.example/v2/").unwrap();
        let proxy = proxies.for_url(&target).unwrap().unwrap();
        let refused = map_proxied(
            ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused)),
            &target,
            "request",
            proxy,
        );
        let s = refused.to_string();
        assert!(
            s.contains(
                "refused by proxy http://proxy.corp:3128 (from the builder's proxy setting)"
            ),
            "{s}"
        );
        assert!(is_transient(&refused));
        let auth = map_proxied(
            ureq::Error::ConnectProxyFailed(
                "proxy server responded 407/Proxy Authentication Required".into(),
            ),
            &target,
            "request",
            proxy,
        );
        let s = auth.to_string();
        assert!(
            s.contains("r.example:443") && s.contains("wants credentials"),
            "{s}"
        );
        assert!(!is_transient(&auth), "{s}");
        let bad_gateway = map_proxied(
            ureq::Error::ConnectProxyFailed("proxy server responded 502/Bad Gateway".into()),
            &target,
            "request",
            proxy,
        );
        assert!(is_transient(&bad_gateway));
        let tls = map_proxied(
            ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, "UnknownIssuer")),
            &target,
            "request",
            proxy,
        );
        let s = tls.to_string();
        assert!(
            s.contains("TLS error") && s.contains("through proxy"),
            "{s}"
        );
        assert!(!is_transient(&tls));
        assert!(!format!("{refused:?}{auth:?}{tls:?}").contains("pw"));
    }

    #[test]
    fn messages_never_show_userinfo_or_query() {
        let e = map_ureq(ureq::Error::ConnectionFailed, &url(), "request");
        let s = format!("{e} {e:?}");
        assert!(!s.contains("secret") && !s.contains("u:p"), "{s}");
    }
}
