//! The bottom layer: one HTTP exchange on the shared `ureq::Agent`, with
//! redirects followed under the origin rules.
//!
//! Any method, request headers, a request body that is empty, bytes (can be
//! sent again) or a reader (sent once, with or without a known length); the
//! response head comes back with its body unread, or read whole under a cap
//! when the request asks for that. Statuses are not errors here: the layers
//! above decide what a 401 or a 503 means. Failures of the exchange itself
//! (DNS, connect, TLS, timeouts, malformed HTTP) are mapped onto
//! [`Error`](crate::Error) in one place, [`failure`].

pub(crate) mod address;
pub(crate) mod failure;
pub(crate) mod proxy;
mod redirect;
pub(crate) mod resolve;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::http::HeaderMap;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::SendBody;
use url::Url;

use crate::config::Config;
use crate::{Error, Result};

use self::failure::{map_io, map_proxied, map_ureq};
use self::proxy::Proxies;
use self::resolve::{PolicyResolver, SharedResolver};

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

/// The slowest upload that does not time out, in bytes per second: a body
/// of `n` bytes may take the timeout plus `n / MIN_UPLOAD_RATE` seconds.
pub(crate) const MIN_UPLOAD_RATE: u64 = 256 << 10;

/// The methods the registry API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn as_http(self) -> ureq::http::Method {
        use ureq::http::Method as M;
        match self {
            Method::Get => M::GET,
            Method::Head => M::HEAD,
            Method::Post => M::POST,
            Method::Put => M::PUT,
            Method::Patch => M::PATCH,
            Method::Delete => M::DELETE,
        }
    }
}

/// A request body.
pub(crate) enum Body {
    /// No body.
    Empty,
    /// Bytes in memory: sent again as they are on a retry or a redirect.
    Bytes(Arc<[u8]>),
    /// A stream, sent once. `len` becomes `Content-Length` when known,
    /// else the body is sent chunked.
    Reader {
        reader: Box<dyn Read + Send>,
        len: Option<u64>,
    },
    /// A reader that has been sent: there is nothing left to send again.
    Spent,
}

impl Body {
    /// Whether the same body can be sent again (a retry, a redirect, an
    /// answered challenge).
    pub(crate) fn is_replayable(&self) -> bool {
        matches!(self, Body::Empty | Body::Bytes(_))
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Reader { len, .. } => write!(f, "Reader(len: {len:?})"),
            Body::Spent => f.write_str("Spent"),
        }
    }
}

/// One request: the value every layer passes down.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    /// Header names are ours (static); values are checked by whoever takes
    /// them from a caller.
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// Read a 2xx body whole, at most this many bytes, as part of the
    /// exchange (so that a connection lost mid-body is the exchange's
    /// failure, and retried like one). `None`: the body is left unread.
    pub buffer: Option<u64>,
    /// The response body is a stream (a blob): deadlines apply per read
    /// instead of to the whole exchange.
    pub streaming: bool,
}

impl Request {
    /// A bodiless request.
    pub(crate) fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: Body::Empty,
            buffer: None,
            streaming: false,
        }
    }

    /// Sets a header, replacing an earlier value of the same name.
    pub(crate) fn set_header(&mut self, name: &'static str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value));
    }
}

enum ResponseBody {
    Unread(ureq::Body),
    Read(Vec<u8>),
}

/// A response: status, headers, where it finally came from, and its body.
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    /// The URL that answered (after redirects).
    pub url: Url,
    /// Attempts the layers below made for it (set by the retry layer).
    pub attempts: u32,
    /// The server's `Retry-After`, as a delay (set by the retry layer).
    pub retry_after: Option<Duration>,
    body: ResponseBody,
    /// When the exchange's overall deadline passes: bounds reading an
    /// error body even when the request streams.
    deadline: Option<Instant>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &crate::text::redact_url(&self.url))
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header's first value, as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// All values of a header, as text.
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The whole body, at most `limit` bytes (else [`Error::TooLarge`]
    /// naming `what`).
    pub(crate) fn bytes(&mut self, limit: u64, what: &str) -> Result<Vec<u8>> {
        match &mut self.body {
            ResponseBody::Read(v) => {
                if v.len() as u64 > limit {
                    return Err(Error::too_large(what, limit));
                }
                Ok(std::mem::take(v))
            }
            ResponseBody::Unread(body) => read_capped(body, limit, what, &self.url),
        }
    }

    /// At most `limit` bytes of the body, for showing what a server said;
    /// read under the exchange's overall deadline, and any failure just ends
    /// the text.
    pub(crate) fn prefix(&mut self, limit: u64) -> Vec<u8> {
        match &mut self.body {
            ResponseBody::Read(v) => {
                v.truncate(limit.min(usize::MAX as u64) as usize);
                std::mem::take(v)
            }
            ResponseBody::Unread(body) => {
                let text = read_prefix(body, limit, self.deadline);
                self.body = ResponseBody::Read(Vec::new());
                text
            }
        }
    }

    /// The body as a stream (for blobs).
    pub(crate) fn into_reader(self) -> Box<dyn Read + Send> {
        match self.body {
            ResponseBody::Unread(body) => Box::new(body.into_reader()),
            ResponseBody::Read(v) => Box::new(std::io::Cursor::new(v)),
        }
    }

    /// Replaces the body with bytes already read from it.
    pub(crate) fn with_read_body(mut self, body: Vec<u8>) -> Response {
        self.body = ResponseBody::Read(body);
        self
    }
}

/// Reads a whole body, at most `limit` bytes.
fn read_capped(body: &mut ureq::Body, limit: u64, what: &str, url: &Url) -> Result<Vec<u8>> {
    match body.with_config().limit(limit).read_to_vec() {
        Ok(v) => Ok(v),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(Error::too_large(what, limit)),
        Err(e) => Err(map_ureq(e, url, "response body")),
    }
}

/// Reads at most `limit` bytes of a body and drops the rest, giving up
/// when `deadline` passes: a server trickling an error body at a byte a
/// second must not hold the caller for hours.
fn read_prefix(body: &mut ureq::Body, limit: u64, deadline: Option<Instant>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut reader = body.as_reader().take(limit);
    let mut buf = [0u8; 8 << 10];
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Header lookup, first value, as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The agent: one per client, shared by its clones and threads, so
/// connections are pooled.
#[derive(Debug)]
pub(crate) struct Http {
    agent: ureq::Agent,
    timeout: Duration,
    /// Which proxy carries which URL (`proxy.rs`).
    proxies: Proxies,
    /// The agent's resolver, also asked about proxied requests.
    resolver: Arc<PolicyResolver>,
}

/// The roots a client trusts: the system's (the platform store, or the
/// files `SSL_CERT_FILE`/`SSL_CERT_DIR` name), else the bundled Mozilla
/// roots when the system has none (a minimal container), plus the
/// caller's own.
fn trusted_roots(extra: &[Vec<u8>]) -> RootCerts {
    let system = rustls_native_certs::load_native_certs().certs;
    let mut certs: Vec<Certificate<'static>> = if system.is_empty() {
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect()
    } else {
        system
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect()
    };
    certs.extend(
        extra
            .iter()
            .map(|der| Certificate::from_der(der).to_owned()),
    );
    RootCerts::new_with_certs(&certs)
}

impl Http {
    pub(crate) fn new(config: &Config) -> Http {
        let roots = if config.verify_tls {
            trusted_roots(&config.extra_roots)
        } else {
            RootCerts::WebPki
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .disable_verification(!config.verify_tls)
            .build();
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(config.timeout))
            .user_agent(config.user_agent.as_str())
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .max_response_header_size(256 << 10)
            .tls_config(tls)
            // Chosen per request (`proxy.rs`), never ureq's own reading of
            // the environment.
            .proxy(None)
            .build();
        let proxies = Proxies::new(&config.proxy, config.proxy_loopback, &|name| {
            std::env::var(name).ok()
        })
        // The builder checked its own proxy URL; anything else is told to
        // each request that would use the proxy, never a silent direct
        // connection.
        .unwrap_or_else(|e| Proxies::broken(e.to_string()));
        let resolver = Arc::new(PolicyResolver::new(
            &config.base,
            config.registry_is_public,
            config.resolve.clone(),
            proxies.targets(),
        ));
        let agent = ureq::Agent::with_parts(
            agent_config,
            ureq::unversioned::transport::DefaultConnector::new(),
            SharedResolver(resolver.clone()),
        );
        Http {
            agent,
            timeout: config.timeout,
            proxies,
            resolver,
        }
    }

    /// Sends `req`, following redirects (see `redirect.rs` for the rules),
    /// and returns the final response.
    pub(crate) fn send(&self, req: &mut Request) -> Result<Response> {
        redirect::follow(self, req)
    }

    /// One exchange with no redirect handling: the response comes back
    /// with its body unread (or read whole, for a 2xx when `req.buffer`
    /// asks for it).
    fn exchange(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&'static str, String)],
        body: &mut Body,
        req: &Request,
    ) -> Result<Response> {
        let started = Instant::now();
        let mut builder = ureq::http::Request::builder()
            .method(method.as_http())
            .uri(url.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        let mut upload_len = None;
        let send_body = match std::mem::replace(body, Body::Spent) {
            Body::Empty => {
                *body = Body::Empty;
                SendBody::none()
            }
            Body::Bytes(bytes) => {
                *body = Body::Bytes(bytes.clone());
                builder = builder.header("content-length", bytes.len());
                SendBody::from_owned_reader(std::io::Cursor::new(bytes))
            }
            Body::Reader { reader, len } => {
                if let Some(len) = len {
                    builder = builder.header("content-length", len);
                    upload_len = Some(len);
                }
                SendBody::from_owned_reader(reader)
            }
            Body::Spent => {
                return Err(Error::invalid(
                    "a streamed request body cannot be sent twice",
                ))
            }
        };
        let request = builder
            .body(send_body)
            .map_err(|e| Error::invalid(format!("cannot build request: {e}")))?;
        let proxy = self.proxies.for_url(url)?;
        if proxy.is_some() {
            // The proxy resolves the target: judge what can be judged here.
            self.resolver
                .check_proxied(url, self.timeout)
                .map_err(|e| map_io(e, url, "request"))?;
        }
        let mut configured = self
            .agent
            .configure_request(request)
            .proxy(proxy.map(|p| p.proxy.clone()));
        if req.streaming {
            let t = self.timeout;
            configured = configured
                .timeout_global(None)
                .timeout_connect(Some(t))
                .timeout_recv_response(Some(t))
                .timeout_per_read(Some(t));
        }
        if let Some(len) = upload_len {
            // An upload takes as long as its size needs, at no less than
            // MIN_UPLOAD_RATE; each other step keeps the usual timeout.
            let t = self.timeout;
            let sending = t.saturating_add(Duration::from_secs(len / MIN_UPLOAD_RATE));
            configured = configured
                .timeout_global(None)
                .timeout_connect(Some(t))
                .timeout_send_request(Some(t))
                .timeout_send_body(Some(sending))
                .timeout_recv_response(Some(t))
                .timeout_per_read(Some(t));
        }
        let result = self.agent.run(configured.build());
        let resp = result.map_err(|e| match proxy {
            Some(p) => map_proxied(e, url, "request", p),
            None => map_ureq(e, url, "request"),
        })?;
        let (parts, body) = resp.into_parts();
        let mut response = Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            url: url.clone(),
            attempts: 1,
            retry_after: None,
            body: ResponseBody::Unread(body),
            deadline: started.checked_add(self.timeout),
        };
        if let (Some(limit), true) = (req.buffer, response.is_success()) {
            if method != Method::Head {
                let what = format!("response body from {}", crate::text::redact_url(url));
                let bytes = response.bytes(limit, &what)?;
                response.body = ResponseBody::Read(bytes);
            }
        }
        Ok(response)
    }
}

/// Local I/O on a stream that came from the network: a body read failing
/// after the head arrived.
pub(crate) fn body_read_error(e: std::io::Error, url: &Url) -> Error {
    map_io(e, url, "response body")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// What a loopback server saw of one request: its head and its body.
    struct Seen {
        head: String,
        body: Vec<u8>,
    }

    /// Serves `answers` (raw responses) to one connection each, in order,
    /// and reports every request it read.
    fn server(answers: Vec<String>) -> (Url, mpsc::Receiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for answer in answers {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut r = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let lower = head.to_ascii_lowercase();
                let mut body = Vec::new();
                if let Some(len) = lower
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                {
                    body.resize(len.trim().parse().unwrap(), 0);
                    r.read_exact(&mut body).unwrap();
                } else if lower.contains("transfer-encoding: chunked") {
                    loop {
                        let mut size = String::new();
                        r.read_line(&mut size).unwrap();
                        let n = usize::from_str_radix(size.trim(), 16).unwrap();
                        let mut chunk = vec![0; n + 2];
                        r.read_exact(&mut chunk).unwrap();
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&chunk[..n]);
                    }
                }
                tx.send(Seen { head, body }).unwrap();
                let mut stream = stream;
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        (url, rx)
    }

    fn http() -> Http {
        let config = crate::ClientBuilder::new("http://127.0.0.1:1")
            .timeout(Duration::from_secs(5))
            .into_config()
            .unwrap();
        Http::new(&config)
    }

    const OK: &str = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

    #[test]
    fn every_method_with_headers_and_bodies() {
        let (url, seen) = server(vec![OK.into(); 4]);
        let http = http();
        // A stream of known length goes out with Content-Length.
        let mut req = Request::new(Method::Put, url.join("v2/a/blobs/uploads/1").unwrap());
        req.set_header("Content-Type", "application/octet-stream".into());
        req.body = Body::Reader {
            reader: Box::new(std::io::Cursor::new(b"hello".to_vec())),
            len: Some(5),
        };
        let mut resp = http.send(&mut req).unwrap();
        assert_eq!(resp.status, 201);
        assert_eq!(resp.bytes(10, "x").unwrap(), b"ok");
        let s = seen.recv().unwrap();
        assert!(
            s.head.starts_with("PUT /v2/a/blobs/uploads/1 "),
            "{}",
            s.head
        );
        assert!(s.head.to_ascii_lowercase().contains("content-length: 5"));
        assert!(
            s.head.contains("Content-Type: application/octet-stream")
                || s.head
                    .to_ascii_lowercase()
                    .contains("content-type: application/octet-stream")
        );
        assert_eq!(s.body, b"hello");
        assert!(matches!(req.body, Body::Spent));
        // Of unknown length: chunked.
        let mut req = Request::new(Method::Patch, url.clone());
        req.body = Body::Reader {
            reader: Box::new(std::io::Cursor::new(vec![7u8; 100_000])),
            len: None,
        };
        http.send(&mut req).unwrap();
        let s = seen.recv().unwrap();
        assert!(s.head.starts_with("PATCH / "), "{}", s.head);
        assert_eq!(s.body, vec![7u8; 100_000]);
        // Bytes, and a bodiless DELETE.
        let mut req = Request::new(Method::Post, url.clone());
        req.body = Body::Bytes(Arc::from(&b"{}"[..]));
        http.send(&mut req).unwrap();
        let s = seen.recv().unwrap();
        assert!(s.head.starts_with("POST / "));
        assert!(
            s.head.to_ascii_lowercase().contains("content-length: 2"),
            "{}",
            s.head
        );
        assert_eq!(s.body, b"{}");
        assert!(req.body.is_replayable());
        let mut req = Request::new(Method::Delete, url.clone());
        http.send(&mut req).unwrap();
        assert!(seen.recv().unwrap().head.starts_with("DELETE / "));
    }

    #[test]
    fn redirects_keep_authorization_on_the_origin_only_and_replay_bytes() {
        let (other, other_seen) = server(vec![OK.into()]);
        let (url, seen) = server(vec![
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: /moved\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {other}elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        ]);
        let http = http();
        let mut req = Request::new(Method::Put, url.clone());
        req.set_header("Authorization", "Bearer secret-token".into());
        req.body = Body::Bytes(Arc::from(&b"manifest"[..]));
        let resp = http.send(&mut req).unwrap();
        assert_eq!(resp.status, 201);
        assert_eq!(resp.url.path(), "/elsewhere");
        let first = seen.recv().unwrap();
        let second = seen.recv().unwrap();
        assert!(second.head.starts_with("PUT /moved "), "{}", second.head);
        assert!(first.head.contains("secret-token") && second.head.contains("secret-token"));
        assert_eq!(second.body, b"manifest");
        let third = other_seen.recv().unwrap();
        assert!(third.head.starts_with("PUT /elsewhere "), "{}", third.head);
        assert!(!third.head.contains("secret-token"), "{}", third.head);
        assert_eq!(third.body, b"manifest");
    }

    #[test]
    fn a_streamed_body_is_not_sent_twice_on_a_redirect() {
        let (url, _seen) = server(vec![
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        ]);
        let mut req = Request::new(Method::Put, url);
        req.body = Body::Reader {
            reader: Box::new(std::io::Cursor::new(b"once".to_vec())),
            len: Some(4),
        };
        let e = http().send(&mut req).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Registry, "{e}");
        assert!(e.to_string().contains("cannot be sent again"), "{e}");
    }

    #[test]
    fn a_trickling_error_body_is_cut_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 65536\r\n\r\n");
            for _ in 0..30 {
                if s.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let config = crate::ClientBuilder::new("http://127.0.0.1:1")
            .timeout(Duration::from_secs(1))
            .into_config()
            .unwrap();
        let http = Http::new(&config);
        let mut req = Request::new(Method::Get, url);
        req.streaming = true;
        let started = Instant::now();
        let mut resp = http.send(&mut req).unwrap();
        assert_eq!(resp.status, 404);
        let text = resp.prefix(limits::ERROR_BODY);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(text.len() < 30, "{}", text.len());
    }
}
