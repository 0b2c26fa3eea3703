//! What a failed exchange becomes: the one mapping of ureq's and the
//! socket's errors onto [`Error`], keeping the cause as `source()`, and the
//! one answer to "could the same exchange succeed if tried again?"
//! ([`is_transient`]), which the retry layer builds its decision on.

use std::fmt;
use std::io;

use url::Url;

use crate::text::redact_url;
use crate::Error;

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
    let at = redact_url(url);
    match err {
        ureq::Error::Timeout(t) => Error::timeout(format!("{phase} to {at} ({t})")),
        ureq::Error::Io(e) => map_io(e, url, phase),
        ureq::Error::HostNotFound => Error::connection(format!("host not found: {at}")),
        ureq::Error::ConnectionFailed => Error::connection(format!("connection to {at} failed")),
        ureq::Error::BodyExceedsLimit(limit) => {
            Error::too_large(format!("{phase} from {at}"), limit)
        }
        ureq::Error::Rustls(e) if is_plain_http_tls_error(&e) => plain_http_reply(&at, e),
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

/// Maps an I/O error met while talking to `url`.
pub(crate) fn map_io(e: io::Error, url: &Url, phase: &str) -> Error {
    use io::ErrorKind as K;
    // ureq wraps its own errors in io::Error when they surface through a reader.
    if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        return match e.into_inner().map(|b| b.downcast::<ureq::Error>()) {
            Some(Ok(inner)) => map_ureq(*inner, url, phase),
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
    let at = redact_url(url);
    // ureq reports TLS failures (a certificate it cannot verify, a failed
    // handshake) as InvalidData: retrying cannot fix them.
    if e.kind() == K::InvalidData {
        if e.get_ref()
            .is_some_and(|inner| is_plain_http_tls_error(inner))
        {
            return plain_http_reply(&at, e);
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
    fn messages_never_show_userinfo_or_query() {
        let e = map_ureq(ureq::Error::ConnectionFailed, &url(), "request");
        let s = format!("{e} {e:?}");
        assert!(!s.contains("secret") && !s.contains("u:p"), "{s}");
    }
}
