//! One HTTP exchange on the shared `ureq::Agent`: TLS roots, timeouts, body
//! caps, and the mapping of ureq's failures onto ours. Statuses are not
//! errors here and redirects are not followed: the layers above decide.

use std::io::Read;
use std::time::Duration;
use ureq::http::{HeaderMap, Response};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Body;
use url::Url;

use crate::config::Config;
use crate::text::redact_url;
use crate::Error;

use super::Failure;

/// Size caps on bodies read from the network.
pub(crate) mod limits {
    /// A manifest (the spec suggests registries accept at least 4 MiB).
    pub const MANIFEST: u64 = 4 << 20;
    /// A token endpoint's answer.
    pub const TOKEN: u64 = 1 << 20;
    /// An error body: only read to show what the registry said.
    pub const ERROR_BODY: u64 = 64 << 10;
    /// One page of a catalog or tag listing.
    pub const LIST_PAGE: u64 = 16 << 20;
    /// An image configuration blob.
    pub const CONFIG_BLOB: u64 = 8 << 20;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
}

/// The agent: one per client, shared by its clones and threads, so
/// connections are pooled.
#[derive(Debug)]
pub(crate) struct Http {
    agent: ureq::Agent,
}

impl Http {
    pub(crate) fn new(config: &Config) -> Http {
        let roots = if config.extra_roots.is_empty() {
            RootCerts::WebPki
        } else {
            // "Extra" means in addition to the usual public roots.
            let mut certs: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                .collect();
            certs.extend(
                config
                    .extra_roots
                    .iter()
                    .map(|der| Certificate::from_der(der).to_owned()),
            );
            RootCerts::new_with_certs(&certs)
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .disable_verification(!config.verify_tls)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(config.timeout))
            .user_agent(config.user_agent.as_str())
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .max_response_header_size(256 << 10)
            .tls_config(tls)
            .build()
            .new_agent();
        Http { agent }
    }

    /// Sends one request and returns the response head with its unread body.
    pub(crate) fn execute(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, String)],
    ) -> Result<Response<Body>, Failure> {
        self.execute_with(method, url, headers, None)
    }

    /// As [`execute`](Self::execute); a `stream_timeout` replaces the
    /// whole-exchange deadline with one per read, so a large body may take
    /// as long as it keeps moving.
    pub(crate) fn execute_with(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, String)],
        stream_timeout: Option<Duration>,
    ) -> Result<Response<Body>, Failure> {
        let mut req = match method {
            Method::Get => self.agent.get(url.as_str()),
            Method::Head => self.agent.head(url.as_str()),
        };
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let result = match stream_timeout {
            None => req.call(),
            Some(t) => req
                .config()
                .timeout_global(None)
                .timeout_connect(Some(t))
                .timeout_recv_response(Some(t))
                .timeout_per_read(Some(t))
                .build()
                .call(),
        };
        result.map_err(|e| map_ureq(e, url, "request"))
    }
}

/// Reads a whole body, at most `limit` bytes.
pub(crate) fn read_capped(
    body: &mut Body,
    limit: u64,
    what: &str,
    url: &Url,
) -> Result<Vec<u8>, Failure> {
    match body.with_config().limit(limit).read_to_vec() {
        Ok(v) => Ok(v),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(Failure::fatal(Error::TooLarge {
            what: what.to_string(),
            limit,
        })),
        Err(e) => Err(map_ureq(e, url, "response body")),
    }
}

/// Reads at most `limit` bytes of a body and drops the rest: for error
/// bodies, where a truncated text is still worth showing.
pub(crate) fn read_prefix(body: &mut Body, limit: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = body.as_reader().take(limit).read_to_end(&mut out);
    out
}

/// Maps one of ureq's errors; `phase` tells whether the head or the body
/// was being read.
pub(crate) fn map_ureq(err: ureq::Error, url: &Url, phase: &str) -> Failure {
    let at = redact_url(url);
    match err {
        ureq::Error::Timeout(t) => Failure::retryable(Error::Timeout {
            message: format!("{phase} to {at} ({t})"),
            attempts: 1,
        }),
        ureq::Error::Io(e) => map_io(e, url, phase),
        ureq::Error::HostNotFound => {
            Failure::retryable(Error::connection(format!("host not found: {at}")))
        }
        ureq::Error::ConnectionFailed => {
            Failure::retryable(Error::connection(format!("connection to {at} failed")))
        }
        ureq::Error::BodyExceedsLimit(limit) => Failure::fatal(Error::TooLarge {
            what: format!("{phase} from {at}"),
            limit,
        }),
        ureq::Error::Tls(m) => {
            Failure::fatal(Error::connection(format!("TLS error with {at}: {m}")))
        }
        ureq::Error::Rustls(e) => {
            Failure::fatal(Error::connection(format!("TLS error with {at}: {e}")))
        }
        ureq::Error::Pem(e) => Failure::fatal(Error::invalid(format!("bad PEM data: {e}"))),
        ureq::Error::Protocol(e) => Failure::retryable(Error::connection(format!(
            "malformed HTTP {phase} from {at}: {e}"
        ))),
        ureq::Error::LargeResponseHeader(_, limit) => Failure::fatal(Error::TooLarge {
            what: format!("response headers from {at}"),
            limit: limit as u64,
        }),
        ureq::Error::BadUri(m) => Failure::fatal(Error::invalid(format!("bad URL {m}"))),
        ureq::Error::BodyStalled => Failure::retryable(Error::Timeout {
            message: format!("{phase} from {at} stalled"),
            attempts: 1,
        }),
        other => Failure::retryable(Error::connection(format!("{phase} to {at}: {other}"))),
    }
}

pub(crate) fn map_io(e: std::io::Error, url: &Url, phase: &str) -> Failure {
    use std::io::ErrorKind as K;
    // ureq wraps its own errors in io::Error when they surface through a reader.
    if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        if let Some(Ok(inner)) = e.into_inner().map(|b| b.downcast::<ureq::Error>()) {
            return map_ureq(*inner, url, phase);
        }
        return Failure::retryable(Error::connection(format!("{phase} failed")));
    }
    let at = redact_url(url);
    // ureq reports TLS failures (a certificate it cannot verify, a failed
    // handshake) as InvalidData: retrying cannot fix them.
    if e.kind() == K::InvalidData {
        return Failure::fatal(Error::connection(format!("TLS error with {at}: {e}")));
    }
    match e.kind() {
        K::TimedOut | K::WouldBlock => Failure::retryable(Error::Timeout {
            message: format!("{phase} from {at}"),
            attempts: 1,
        }),
        K::ConnectionRefused => {
            Failure::retryable(Error::connection(format!("connection refused by {at}")))
        }
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => Failure::retryable(
            Error::connection(format!("connection reset during {phase} from {at}")),
        ),
        K::UnexpectedEof => Failure::retryable(Error::connection(format!(
            "connection closed early during {phase} from {at}"
        ))),
        _ => Failure::retryable(Error::connection(format!("{phase} from {at}: {e}"))),
    }
}

/// Header lookup, first value, as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// All values of a header, as text.
pub(crate) fn header_all<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}
