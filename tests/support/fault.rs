#![allow(dead_code)]
//! A scripted, deliberately misbehaving HTTP/1.1 server for fault-injection
//! tests.
//!
//! A [`FaultServer`] listens on `127.0.0.1` (OS-picked port) and answers each
//! incoming request with the next [`Step`] of its script. Steps can answer
//! normally, redirect, close without answering, reset the connection, send a
//! short body, stall, or write arbitrary bytes. Every request that reaches the
//! server is recorded (method, target, lowercase headers, body) so tests can
//! assert on what the client actually sent.
//!
//! Everything is bounded: request heads are limited to [`MAX_HEAD`] bytes,
//! request bodies to [`MAX_BODY`], silent clients time out after the
//! per-connection read timeout, and every sleep ends as soon as the server is
//! dropped. `Drop` stops the accept thread and all connection threads.
//!
//! How a reset is produced (std has no stable `SO_LINGER` setter and `unsafe`
//! is off-limits): the request is only *peeked* (`TcpStream::peek`), never
//! consumed, for steps that end abortively. Closing a socket whose receive
//! buffer still holds unread data makes Linux send an RST instead of a FIN, so
//! the client sees `ECONNRESET`.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Largest accepted request head (request line + headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest accepted request body.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Default per-connection read timeout.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `Drop` waits for the server threads to finish.
const JOIN_WAIT: Duration = Duration::from_secs(2);
/// Pause before an abortive close that follows written data, so the bytes
/// leave the socket before the RST discards the send queue.
const ABORT_GRACE: Duration = Duration::from_millis(20);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------
// Recorded requests
// ---------------------------------------------------------------------------

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Request method, as sent (`GET`, `HEAD`, ...).
    pub method: String,
    /// Request target: path plus query, as sent (`/v2/foo/manifests/1?x=y`).
    pub target: String,
    /// Headers in arrival order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Request body (de-chunked). Empty for steps that end with a reset,
    /// because those never consume the request from the socket.
    pub body: Vec<u8>,
    /// 0-based ordinal of the TCP connection that carried this request.
    pub connection: usize,
}

impl RecordedRequest {
    /// Path part of the target (everything before `?`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Query part of the target (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of header `name` (case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether header `name` is present (case-insensitive).
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Kind {
    /// Normal response. `Content-Length` added unless the headers carry one.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then close without a byte of response.
    Close,
    /// Headers declaring `declared_len`, then `sent`, then close.
    Partial {
        status: u16,
        headers: Vec<(String, String)>,
        declared_len: u64,
        sent: Vec<u8>,
    },
    /// Read the request, sleep, close without answering.
    StallHeaders(Duration),
    /// Headers + `first`, sleep, then either send `rest` (and keep going) or
    /// close.
    StallBody {
        status: u16,
        headers: Vec<(String, String)>,
        first: Vec<u8>,
        stall: Duration,
        declared_len: Option<u64>,
        rest: Option<Vec<u8>>,
    },
    /// Write these bytes verbatim, then close.
    Raw(Vec<u8>),
}

/// One scripted answer to one incoming request.
///
/// Build with the free constructor functions ([`respond`], [`reset`], ...)
/// and refine with the builder methods ([`Step::delay`], [`Step::abort`], ...).
#[derive(Clone, Debug)]
pub struct Step {
    kind: Kind,
    delay: Duration,
    abort: bool,
    close_after: bool,
}

impl Step {
    fn new(kind: Kind) -> Step {
        Step {
            kind,
            delay: Duration::ZERO,
            abort: false,
            close_after: false,
        }
    }

    /// Wait this long (interruptibly) after reading the request, before
    /// answering.
    pub fn delay(mut self, d: Duration) -> Step {
        self.delay = d;
        self
    }

    /// End the connection with an RST instead of a FIN once this step is
    /// done. Implies closing the connection. The request is then only peeked,
    /// so its body is not recorded.
    pub fn abort(mut self) -> Step {
        self.abort = true;
        self.close_after = true;
        self
    }

    /// For responses that would keep the connection alive: send
    /// `Connection: close` and close (FIN) after the response.
    pub fn close_after(mut self) -> Step {
        self.close_after = true;
        self
    }

    /// For [`stall_body`]: override the declared `Content-Length` (default:
    /// `first_part.len() + rest.len()`, or `first_part.len() + 1` without
    /// [`Step::then_send`]).
    pub fn declared_len(mut self, n: u64) -> Step {
        if let Kind::StallBody { declared_len, .. } = &mut self.kind {
            *declared_len = Some(n);
        }
        self
    }

    /// For [`stall_body`]: after the stall, send `rest` and complete the
    /// response normally (a slow but valid body) instead of closing.
    pub fn then_send(mut self, rest: impl Into<Vec<u8>>) -> Step {
        if let Kind::StallBody { rest: r, .. } = &mut self.kind {
            *r = Some(rest.into());
        }
        self
    }

    /// Add a response header (for steps that send a response head).
    pub fn header(mut self, name: &str, value: &str) -> Step {
        match &mut self.kind {
            Kind::Respond { headers, .. }
            | Kind::Partial { headers, .. }
            | Kind::StallBody { headers, .. } => headers.push((name.into(), value.into())),
            _ => {}
        }
        self
    }

    fn ends_connection(&self) -> bool {
        if self.abort || self.close_after {
            return true;
        }
        match &self.kind {
            Kind::Respond { .. } => false,
            Kind::StallBody { rest, .. } => rest.is_none(),
            _ => true,
        }
    }
}

fn owned_headers(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A normal response with a correct `Content-Length` (unless `headers`
/// supplies one). The connection stays open for further requests.
/// For `HEAD` requests the body is not sent but its length is declared.
pub fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Step {
    Step::new(Kind::Respond {
        status,
        headers: owned_headers(headers),
        body: body.into(),
    })
}

/// Shorthand for `respond(status, &[], "")`.
pub fn status(status: u16) -> Step {
    respond(status, &[], Vec::new())
}

/// Shorthand for a JSON response with `Content-Type: application/json`.
pub fn json(status: u16, body: &str) -> Step {
    respond(status, &[("Content-Type", "application/json")], body)
}

/// A redirect: `status` with `Location: location` and an empty body.
pub fn redirect(status: u16, location: &str) -> Step {
    respond(status, &[("Location", location)], Vec::new())
}

/// Read the request, then close the connection (FIN) without answering:
/// the client sees EOF before any response byte.
pub fn close_immediately() -> Step {
    Step::new(Kind::Close)
}

/// Close the connection with an RST without answering: the client sees
/// "connection reset".
pub fn reset() -> Step {
    close_immediately().abort()
}

/// Send a response head declaring `Content-Length: declared_len`, then only
/// `sent_bytes`, then close (FIN; add [`Step::abort`] for an RST mid-body).
pub fn partial_body(
    status: u16,
    headers: &[(&str, &str)],
    declared_len: u64,
    sent_bytes: impl Into<Vec<u8>>,
) -> Step {
    Step::new(Kind::Partial {
        status,
        headers: owned_headers(headers),
        declared_len,
        sent: sent_bytes.into(),
    })
}

/// Read the request, send nothing for `duration` (interruptible), then close.
pub fn stall_headers(duration: Duration) -> Step {
    Step::new(Kind::StallHeaders(duration))
}

/// Send the response head and `first_part` of the body, stall for `stall`
/// (interruptible), then close — or, with [`Step::then_send`], finish the
/// body.
pub fn stall_body(
    status: u16,
    headers: &[(&str, &str)],
    first_part: impl Into<Vec<u8>>,
    stall: Duration,
) -> Step {
    Step::new(Kind::StallBody {
        status,
        headers: owned_headers(headers),
        first: first_part.into(),
        stall,
        declared_len: None,
        rest: None,
    })
}

/// Write exactly `bytes` (e.g. malformed HTTP), then close.
pub fn raw(bytes: impl Into<Vec<u8>>) -> Step {
    Step::new(Kind::Raw(bytes.into()))
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

type Predicate = dyn Fn(&RecordedRequest) -> bool + Send + Sync;

/// Which requests a routed script answers.
#[derive(Clone)]
pub enum Route {
    /// Requests whose path starts with this prefix.
    Prefix(String),
    /// Requests for which this predicate holds.
    Predicate(Arc<Predicate>),
}

impl Route {
    /// Match requests whose path starts with `prefix`.
    pub fn prefix(prefix: &str) -> Route {
        Route::Prefix(prefix.to_string())
    }

    /// Match requests for which `f` returns true.
    pub fn when(f: impl Fn(&RecordedRequest) -> bool + Send + Sync + 'static) -> Route {
        Route::Predicate(Arc::new(f))
    }

    fn matches(&self, req: &RecordedRequest) -> bool {
        match self {
            Route::Prefix(p) => req.path().starts_with(p.as_str()),
            Route::Predicate(f) => f(req),
        }
    }
}

impl From<&str> for Route {
    fn from(p: &str) -> Route {
        Route::prefix(p)
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Prefix(p) => write!(f, "Prefix({p:?})"),
            Route::Predicate(_) => write!(f, "Predicate(..)"),
        }
    }
}

struct Queue {
    route: Route,
    steps: VecDeque<Step>,
    last: Option<Step>,
}

struct Script {
    queues: Vec<Queue>,
    repeat_last: bool,
}

impl Script {
    /// The step answering `req`. Unmatched requests get 404, exhausted
    /// queues 500 (unless repeating).
    fn next_for(&mut self, req: &RecordedRequest) -> Step {
        let repeat = self.repeat_last;
        let Some(q) = self.queues.iter_mut().find(|q| q.route.matches(req)) else {
            return respond(
                404,
                &[],
                format!("fault server: no route for {}", req.path()),
            );
        };
        match q.steps.pop_front() {
            Some(step) => {
                q.last = Some(step.clone());
                step
            }
            None => match (&q.last, repeat) {
                (Some(last), true) => last.clone(),
                _ => respond(500, &[], "script exhausted"),
            },
        }
    }

    fn remaining(&self) -> usize {
        self.queues.iter().map(|q| q.steps.len()).sum()
    }
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

struct Shared {
    stop: AtomicBool,
    sleep_lock: Mutex<()>,
    wake: Condvar,
    script: Mutex<Script>,
    requests: Mutex<Vec<RecordedRequest>>,
    connections: AtomicUsize,
    /// Clones of open connections (by ordinal), shut down on drop to unblock
    /// reads. A worker removes its clone before closing: a lingering dup'd fd
    /// would keep the socket open.
    streams: Mutex<Vec<(usize, TcpStream)>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    read_timeout: Duration,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleep for `d` or until the server stops. Returns false if stopped.
    fn sleep(&self, d: Duration) -> bool {
        if d.is_zero() {
            return !self.stopping();
        }
        let guard = lock(&self.sleep_lock);
        let _unused = self
            .wake
            .wait_timeout_while(guard, d, |_| !self.stopping())
            .unwrap_or_else(|e| e.into_inner());
        !self.stopping()
    }
}

/// Options for starting a [`FaultServer`]; see [`FaultServer::builder`].
pub struct Builder {
    queues: Vec<(Route, Vec<Step>)>,
    repeat_last: bool,
    read_timeout: Duration,
}

impl Builder {
    /// Add a routed queue (first matching route wins, in insertion order).
    pub fn route(mut self, route: impl Into<Route>, steps: Vec<Step>) -> Builder {
        self.queues.push((route.into(), steps));
        self
    }

    /// Add a catch-all queue answering every request.
    pub fn script(self, steps: Vec<Step>) -> Builder {
        self.route(Route::prefix(""), steps)
    }

    /// When a queue runs out, repeat its last step (default: 500).
    pub fn repeat_last(mut self, yes: bool) -> Builder {
        self.repeat_last = yes;
        self
    }

    /// Per-connection read timeout (default [`DEFAULT_READ_TIMEOUT`]).
    pub fn read_timeout(mut self, d: Duration) -> Builder {
        self.read_timeout = d;
        self
    }

    /// Bind `127.0.0.1:0` and start serving. Panics if binding fails.
    pub fn start(self) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fault server: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fault server: local_addr");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            sleep_lock: Mutex::new(()),
            wake: Condvar::new(),
            script: Mutex::new(Script {
                queues: self
                    .queues
                    .into_iter()
                    .map(|(route, steps)| Queue {
                        route,
                        steps: steps.into(),
                        last: None,
                    })
                    .collect(),
                repeat_last: self.repeat_last,
            }),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            streams: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
            read_timeout: self.read_timeout,
        });
        let s = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("fault-accept".into())
            .spawn(move || accept_loop(listener, s))
            .expect("fault server: spawn accept thread");
        FaultServer {
            addr,
            shared,
            accept: Some(accept),
        }
    }
}

/// A scripted fake HTTP/1.1 server on `127.0.0.1`. Stops when dropped.
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Serve `script` in order to all requests; afterwards answer
    /// 500 "script exhausted".
    pub fn start(script: Vec<Step>) -> FaultServer {
        FaultServer::builder().script(script).start()
    }

    /// Like [`FaultServer::start`], but repeat the last step forever once the
    /// script runs out.
    pub fn start_repeating(script: Vec<Step>) -> FaultServer {
        FaultServer::builder()
            .script(script)
            .repeat_last(true)
            .start()
    }

    /// One independent queue per route; the first route matching a request
    /// answers it. Unmatched requests get 404, exhausted queues 500.
    pub fn start_routed(routes: Vec<(Route, Vec<Step>)>) -> FaultServer {
        routes
            .into_iter()
            .fold(FaultServer::builder(), |b, (r, s)| b.route(r, s))
            .start()
    }

    /// [`FaultServer::start_routed`] where exhausted queues repeat their
    /// last step.
    pub fn start_routed_repeating(routes: Vec<(Route, Vec<Step>)>) -> FaultServer {
        routes
            .into_iter()
            .fold(FaultServer::builder().repeat_last(true), |b, (r, s)| {
                b.route(r, s)
            })
            .start()
    }

    /// Full control over queues and options.
    pub fn builder() -> Builder {
        Builder {
            queues: Vec::new(),
            repeat_last: false,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }

    /// A `http://127.0.0.1:PORT` URL where nothing listens (a listener was
    /// bound to an OS-picked port and dropped). Connecting is refused unless
    /// something else grabs the port in the meantime.
    pub fn refused_url() -> String {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local_addr").port();
        drop(l);
        format!("http://127.0.0.1:{port}")
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Snapshot of all requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// Number of TCP connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Scripted steps not yet consumed, over all queues.
    pub fn remaining_steps(&self) -> usize {
        lock(&self.shared.script).remaining()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.stop.store(true, Ordering::SeqCst);
        {
            let _g = lock(&shared.sleep_lock);
            shared.wake.notify_all();
        }
        for (_, s) in lock(&shared.streams).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Unblock accept(); the loop sees the flag and exits.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
        let deadline = Instant::now() + JOIN_WAIT;
        let mut handles: Vec<JoinHandle<()>> = self.accept.take().into_iter().collect();
        wait_until_finished(&mut handles, deadline);
        // Accept has exited (or we gave up), so no new workers appear.
        let mut workers: Vec<JoinHandle<()>> = lock(&shared.workers).drain(..).collect();
        // Connections accepted after the first sweep: shut them down too.
        for (_, s) in lock(&shared.streams).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        wait_until_finished(&mut workers, deadline);
    }
}

/// Join every handle that finishes before `deadline`; detach the rest.
fn wait_until_finished(handles: &mut Vec<JoinHandle<()>>, deadline: Instant) {
    while !handles.is_empty() && Instant::now() < deadline {
        let (done, pending): (Vec<_>, Vec<_>) = handles.drain(..).partition(|h| h.is_finished());
        for h in done {
            let _ = h.join();
        }
        *handles = pending;
        if !handles.is_empty() {
            thread::sleep(Duration::from_millis(2));
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let Ok(stream) = conn else {
            // Transient accept errors (e.g. EMFILE): back off briefly.
            if !shared.sleep(Duration::from_millis(5)) {
                break;
            }
            continue;
        };
        let index = shared.connections.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.streams).push((index, clone));
        }
        let s = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(format!("fault-conn-{index}"))
            .spawn(move || {
                serve_connection(&stream, index, &s);
                // Drop our dup'd fd first so closing `stream` really closes.
                lock(&s.streams).retain(|(i, _)| *i != index);
                drop(stream);
            });
        if let Ok(h) = spawned {
            let mut workers = lock(&shared.workers);
            workers.retain(|h| !h.is_finished());
            workers.push(h);
        }
    }
}

// ---------------------------------------------------------------------------
// Connection handling
// ---------------------------------------------------------------------------

enum Head {
    /// Parsed request and the number of head bytes (still unconsumed).
    Request(RecordedRequest, usize, BodyFraming),
    /// Client closed, timed out, or the server is stopping.
    Gone,
    /// Unparseable or oversized head: answer this status and close.
    Bad(u16),
}

enum BodyFraming {
    None,
    Length(usize),
    Chunked,
}

fn serve_connection(mut stream: &TcpStream, index: usize, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(shared.read_timeout));
    let _ = stream.set_write_timeout(Some(shared.read_timeout));
    loop {
        if shared.stopping() {
            return;
        }
        let (mut req, head_len, framing) = match peek_head(stream, index, shared) {
            Head::Request(r, n, f) => (r, n, f),
            Head::Gone => return,
            Head::Bad(code) => {
                let _ = drain_and_answer(stream, code);
                return;
            }
        };
        let step = lock(&shared.script).next_for(&req);
        let client_close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if step.abort {
            // Leave the request unread so the close becomes an RST.
            lock(&shared.requests).push(req.clone());
        } else {
            let mut head = vec![0u8; head_len];
            if stream.read_exact(&mut head).is_err() {
                return;
            }
            match read_body(stream, framing) {
                Ok(body) => req.body = body,
                Err(code) => {
                    lock(&shared.requests).push(req);
                    let _ = write_all(stream, &simple_response(code, "bad request body"));
                    return;
                }
            }
            lock(&shared.requests).push(req.clone());
        }
        if !shared.sleep(step.delay) {
            return;
        }
        let keep = run_step(stream, &step, &req, shared);
        if step.abort {
            // Dropping with unread data in the receive buffer sends RST.
            return;
        }
        if !keep || step.ends_connection() || client_close {
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
    }
}

/// Execute one step. Returns false if the connection must end.
fn run_step(stream: &TcpStream, step: &Step, req: &RecordedRequest, shared: &Shared) -> bool {
    let is_head = req.method.eq_ignore_ascii_case("HEAD");
    let close_hdr = step.close_after;
    match &step.kind {
        Kind::Respond {
            status,
            headers,
            body,
        } => {
            let mut out = response_head(*status, headers, Some(body.len() as u64), close_hdr);
            if !is_head {
                out.extend_from_slice(body);
            }
            write_all(stream, &out) && abort_grace(step, shared)
        }
        Kind::Close => true,
        Kind::Partial {
            status,
            headers,
            declared_len,
            sent,
        } => {
            let mut out = response_head(*status, headers, Some(*declared_len), close_hdr);
            out.extend_from_slice(sent);
            write_all(stream, &out) && abort_grace(step, shared)
        }
        Kind::StallHeaders(d) => shared.sleep(*d),
        Kind::StallBody {
            status,
            headers,
            first,
            stall,
            declared_len,
            rest,
        } => {
            let total = declared_len.unwrap_or_else(|| match rest {
                Some(r) => (first.len() + r.len()) as u64,
                None => first.len() as u64 + 1,
            });
            let mut out = response_head(*status, headers, Some(total), close_hdr);
            out.extend_from_slice(first);
            if !write_all(stream, &out) || !shared.sleep(*stall) {
                return false;
            }
            match rest {
                Some(r) => write_all(stream, r) && abort_grace(step, shared),
                None => true,
            }
        }
        Kind::Raw(bytes) => write_all(stream, bytes) && abort_grace(step, shared),
    }
}

fn abort_grace(step: &Step, shared: &Shared) -> bool {
    if step.abort {
        shared.sleep(ABORT_GRACE)
    } else {
        true
    }
}

fn write_all(mut stream: &TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).and_then(|_| stream.flush()).is_ok()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn response_head(
    status: u16,
    headers: &[(String, String)],
    content_length: Option<u64>,
    close: bool,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if let Some(n) = content_length {
        if !has("content-length") && !has("transfer-encoding") {
            out.push_str(&format!("Content-Length: {n}\r\n"));
        }
    }
    if close && !has("connection") {
        out.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn simple_response(status: u16, body: &str) -> Vec<u8> {
    let mut out = response_head(status, &[], Some(body.len() as u64), true);
    out.extend_from_slice(body.as_bytes());
    out
}

/// Answer a broken request: consume what is there (so the close is a FIN,
/// not an RST that could destroy the answer), write, close.
fn drain_and_answer(mut stream: &TcpStream, status: u16) -> io::Result<()> {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let mut sink = [0u8; 8192];
    let mut total = 0;
    while total < MAX_HEAD * 2 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    stream.write_all(&simple_response(status, reason(status)))?;
    stream.shutdown(Shutdown::Write)
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Peek (without consuming) until a full request head is buffered, then
/// parse it.
fn peek_head(stream: &TcpStream, index: usize, shared: &Shared) -> Head {
    let mut buf = vec![0u8; MAX_HEAD + 4];
    // Blocking peeks wait for the first bytes (bounded by the socket read
    // timeout); the rest of the head must follow within the read timeout.
    let mut deadline: Option<Instant> = None;
    let mut seen = 0;
    loop {
        if shared.stopping() {
            return Head::Gone;
        }
        let n = match stream.peek(&mut buf) {
            Ok(0) => return Head::Gone,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Head::Gone,
        };
        if let Some(end) = find_head_end(&buf[..n]) {
            if end > MAX_HEAD {
                return Head::Bad(431);
            }
            return parse_head(&buf[..end], index);
        }
        if n > MAX_HEAD {
            return Head::Bad(431);
        }
        // Partial head buffered: peek returns at once, so poll gently.
        let deadline = *deadline.get_or_insert_with(|| Instant::now() + shared.read_timeout);
        if n == seen && Instant::now() >= deadline {
            // Consume the fragment so the close is a FIN, not an RST.
            let mut sink = vec![0u8; n];
            let _ = (&*stream).read_exact(&mut sink);
            return Head::Gone;
        }
        seen = n;
        if !shared.sleep(Duration::from_millis(1)) {
            return Head::Gone;
        }
    }
}

fn parse_head(head: &[u8], index: usize) -> Head {
    let Ok(text) = std::str::from_utf8(head) else {
        return Head::Bad(400);
    };
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Head::Bad(400);
    };
    if method.is_empty() || !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Head::Bad(400);
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once(':') else {
            return Head::Bad(400);
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let req = RecordedRequest {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: Vec::new(),
        connection: index,
    };
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let framing = if chunked {
        BodyFraming::Chunked
    } else {
        match req.header("content-length") {
            None => BodyFraming::None,
            Some(v) => match v.parse::<usize>() {
                Ok(0) => BodyFraming::None,
                Ok(n) if n <= MAX_BODY => BodyFraming::Length(n),
                Ok(_) => return Head::Bad(413),
                Err(_) => return Head::Bad(400),
            },
        }
    };
    Head::Request(req, head.len(), framing)
}

/// Read the request body. `Err(status)` for malformed or oversized bodies.
fn read_body(mut stream: &TcpStream, framing: BodyFraming) -> Result<Vec<u8>, u16> {
    match framing {
        BodyFraming::None => Ok(Vec::new()),
        BodyFraming::Length(n) => {
            let mut body = vec![0u8; n];
            stream.read_exact(&mut body).map_err(|_| 400u16)?;
            Ok(body)
        }
        BodyFraming::Chunked => {
            let mut body = Vec::new();
            loop {
                let line = read_line(stream)?;
                let size_str = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_str, 16).map_err(|_| 400u16)?;
                if size == 0 {
                    // Trailers until an empty line.
                    while !read_line(stream)?.is_empty() {}
                    return Ok(body);
                }
                if body.len() + size > MAX_BODY {
                    return Err(413);
                }
                let start = body.len();
                body.resize(start + size, 0);
                stream.read_exact(&mut body[start..]).map_err(|_| 400u16)?;
                if !read_line(stream)?.is_empty() {
                    return Err(400);
                }
            }
        }
    }
}

/// Read one CRLF-terminated line byte by byte (never over-reads).
fn read_line(mut stream: &TcpStream) -> Result<String, u16> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        stream.read_exact(&mut b).map_err(|_| 400u16)?;
        if b[0] == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return String::from_utf8(line).map_err(|_| 400);
        }
        line.push(b[0]);
        if line.len() > 4096 {
            return Err(400);
        }
    }
}
