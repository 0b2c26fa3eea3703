//! In-process token server (docker token auth, RS256 JWTs with an `x5c` chain).
//!
//! `GET /token?service=..&scope=..&scope=..` (scopes may also be
//! space-separated inside one parameter), and the OAuth2 refresh-token grant
//! (`shared/spec/auth-oauth.md`): `POST /token` with a form body
//! `grant_type=refresh_token&service=..&scope=..&client_id=..&refresh_token=..`,
//! answering `access_token` only for a refresh token minted by
//! [`TokenServer::issue_refresh_token`] (another one is refused with a 401
//! whose message echoes it). Anything else (other grants included) answers
//! 404, the spec's signal to fall back to GET.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;

use super::pki::pki;
use super::{User, USERS};

/// Largest request head accepted (request line + headers).
const MAX_REQUEST: usize = 16 * 1024;

const BODY_BAD_CREDENTIALS: &[u8] =
    br#"{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}"#;
const BODY_INJECTED: &[u8] = br#"{"errors":[{"code":"UNAVAILABLE","message":"injected failure"}]}"#;
const BODY_NOT_FOUND: &[u8] =
    br#"{"errors":[{"code":"NOT_FOUND","message":"only GET /token is served"}]}"#;
const BODY_TOO_LARGE: &[u8] =
    br#"{"errors":[{"code":"UNSUPPORTED","message":"request too large"}]}"#;
/// Largest POST body accepted.
const MAX_BODY: usize = 16 * 1024;
const BASIC_CHALLENGE: &str = "Basic realm=\"registry-test-token-server\"";

/// One request the token server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// Authenticated user; `None` for anonymous (or failed) requests.
    pub user: Option<String>,
    /// `service` query parameter, if any.
    pub service: Option<String>,
    /// Requested scopes, split on spaces, in order.
    pub scopes: Vec<String>,
    /// HTTP status answered.
    pub status: u16,
    /// `grant_type` of an OAuth2 POST; `None` for a GET.
    pub grant: Option<String>,
    /// `client_id` of an OAuth2 POST.
    pub client_id: Option<String>,
}

struct Inner {
    addr: SocketAddr,
    service: String,
    issuer: String,
    expires_in: AtomicU64,
    shutdown: AtomicBool,
    next_jti: AtomicU64,
    /// (remaining count, status) of injected failures.
    fail_next: Mutex<(usize, u16)>,
    total: AtomicUsize,
    per_scope: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<TokenRequest>>,
    /// Refresh tokens minted, and whose they are.
    refresh_tokens: Mutex<HashMap<String, &'static User>>,
}

/// Handle to a running token server; dropping it stops the server.
pub struct TokenServer {
    inner: Arc<Inner>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TokenServer {
    /// Starts a token server on `127.0.0.1:<free port>`.
    pub fn start(service: &str, issuer: &str) -> TokenServer {
        let _ = pki(); // make the key before accepting requests
        let listener = TcpListener::bind("127.0.0.1:0").expect("fixture: bind token server");
        let addr = listener.local_addr().expect("fixture: token server addr");
        let inner = Arc::new(Inner {
            addr,
            service: service.to_string(),
            issuer: issuer.to_string(),
            expires_in: AtomicU64::new(300),
            shutdown: AtomicBool::new(false),
            next_jti: AtomicU64::new(1),
            fail_next: Mutex::new((0, 500)),
            total: AtomicUsize::new(0),
            per_scope: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
        });
        let accept_inner = Arc::clone(&inner);
        let accept_thread = std::thread::Builder::new()
            .name("fixture-token-server".into())
            .spawn(move || accept_loop(listener, accept_inner))
            .expect("fixture: spawn token server");
        TokenServer {
            inner,
            accept_thread: Some(accept_thread),
        }
    }

    /// `http://127.0.0.1:PORT/token` (the registry's `auth.token.realm`).
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.inner.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn service(&self) -> &str {
        &self.inner.service
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Lifetime (seconds) of the tokens issued from now on; default 300.
    /// It sets both `expires_in` in the response and `exp - iat` in the JWT.
    /// The registry itself still accepts a token up to 60 s after `exp`.
    pub fn set_expires_in(&self, secs: u64) {
        self.inner.expires_in.store(secs, Ordering::SeqCst);
    }

    pub fn expires_in(&self) -> u64 {
        self.inner.expires_in.load(Ordering::SeqCst)
    }

    /// Number of `/token` requests that asked for exactly this scope string
    /// (each space-separated scope of a request counts once). Counted on
    /// arrival, whatever the answer (also 401 for bad credentials).
    pub fn requests_for_scope(&self, scope: &str) -> usize {
        let map = self.inner.per_scope.lock().unwrap();
        map.get(scope).copied().unwrap_or(0)
    }

    /// Number of HTTP requests the server received (any path).
    pub fn total_requests(&self) -> usize {
        self.inner.total.load(Ordering::SeqCst)
    }

    /// Resets the counters and the request log.
    pub fn reset_counts(&self) {
        // Hold the log lock while resetting so a concurrent request is either
        // fully before or fully after the reset.
        let mut log = self.inner.log.lock().unwrap();
        self.inner.per_scope.lock().unwrap().clear();
        self.inner.total.store(0, Ordering::SeqCst);
        log.clear();
    }

    /// Makes the next `count` `/token` requests answer `status` (e.g. 500 or 503)
    /// with a JSON error body, before checking credentials. They are counted.
    pub fn fail_next(&self, count: usize, status: u16) {
        *self.inner.fail_next.lock().unwrap() = (count, status);
    }

    /// Every `/token` request answered since start or the last reset.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.inner.log.lock().unwrap().clone()
    }

    /// Mints an OAuth2 refresh token for `user` (what `docker login` keeps
    /// as `identitytoken`), good for the refresh-token grant of `POST /token`.
    pub fn issue_refresh_token(&self, user: &User) -> String {
        let user = USERS
            .iter()
            .find(|u| u.name == user.name)
            .expect("fixture: unknown user");
        let n = self.inner.next_jti.fetch_add(1, Ordering::SeqCst);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let token = format!("rt-{}-{n}-{nanos:08x}/+=", user.name);
        self.inner
            .refresh_tokens
            .lock()
            .unwrap()
            .insert(token.clone(), user);
        token
    }

    /// Mints a token directly (not counted), applying the same grants as the
    /// HTTP endpoint. `user: None` is anonymous.
    pub fn issue_token(&self, user: Option<&User>, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let access = grant(user.map(|u| u.name), &scopes).expect("fixture: invalid scope");
        self.inner
            .sign(user.map(|u| u.name).unwrap_or(""), access, unix_now())
    }

    /// Mints a token with arbitrary claims timing (for expiry tests), not counted.
    /// `iat`/`nbf` are `now + nbf_offset`, `exp` is `now + exp_offset` (seconds).
    /// NOTE: distribution 2.8 applies a 60 s leeway to `nbf` and `exp`: a token
    /// is refused only once `exp < now - 60` (or `nbf > now + 60`).
    pub fn issue_token_with_times(
        &self,
        user: Option<&User>,
        scopes: &[&str],
        nbf_offset: i64,
        exp_offset: i64,
    ) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let access = grant(user.map(|u| u.name), &scopes).expect("fixture: invalid scope");
        let now = unix_now() as i64;
        self.inner.sign_raw(
            user.map(|u| u.name).unwrap_or(""),
            access,
            now + nbf_offset,
            now + exp_offset,
        )
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.inner.addr, Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    for stream in listener.incoming() {
        if inner.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let conn_inner = Arc::clone(&inner);
        let _ = std::thread::Builder::new()
            .name("fixture-token-conn".into())
            .spawn(move || {
                let _ = handle_connection(stream, &conn_inner);
            });
    }
}

fn handle_connection(mut stream: TcpStream, inner: &Inner) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_REQUEST {
            return respond(&mut stream, 431, "application/json", BODY_TOO_LARGE, &[]);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(()); // closed before a full request (e.g. the shutdown wake-up)
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    if inner.shutdown.load(Ordering::SeqCst) {
        return Ok(());
    }
    inner.total.fetch_add(1, Ordering::SeqCst);

    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let mut authorization = None;
    let mut content_length = None;
    let mut content_type = String::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim();
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            } else if k.eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("content-type") {
                content_type = v.trim().to_ascii_lowercase();
            }
        }
    }

    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method == "POST" && path == "/token" {
        let Some(len) = content_length.filter(|l| *l <= MAX_BODY) else {
            return respond(&mut stream, 413, "application/json", BODY_TOO_LARGE, &[]);
        };
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < len {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
        return oauth_post(&mut stream, inner, &content_type, &body);
    }
    if method != "GET" || path != "/token" {
        return respond(&mut stream, 404, "application/json", BODY_NOT_FOUND, &[]);
    }

    let mut service = None;
    let mut scopes = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        match k.as_str() {
            "service" => service = Some(v),
            "scope" => scopes.extend(v.split_whitespace().map(str::to_string)),
            _ => {}
        }
    }

    {
        let mut map = inner.per_scope.lock().unwrap();
        for s in &scopes {
            *map.entry(s.clone()).or_insert(0) += 1;
        }
    }

    let mut record = TokenRequest {
        user: None,
        service: service.clone(),
        scopes: scopes.clone(),
        status: 0,
        grant: None,
        client_id: None,
    };

    let injected = {
        let mut f = inner.fail_next.lock().unwrap();
        if f.0 > 0 {
            f.0 -= 1;
            Some(f.1)
        } else {
            None
        }
    };
    if let Some(status) = injected {
        record.status = status;
        inner.log.lock().unwrap().push(record);
        return respond(&mut stream, status, "application/json", BODY_INJECTED, &[]);
    }

    let user = match authorization.as_deref().map(check_basic) {
        None => None,
        Some(Some(user)) => Some(user),
        Some(None) => {
            record.status = 401;
            inner.log.lock().unwrap().push(record);
            return respond(
                &mut stream,
                401,
                "application/json",
                BODY_BAD_CREDENTIALS,
                &[("WWW-Authenticate", BASIC_CHALLENGE)],
            );
        }
    };
    record.user = user.map(|u| u.name.to_string());

    if let Some(s) = &service {
        if s != &inner.service {
            record.status = 400;
            inner.log.lock().unwrap().push(record);
            let body = error_body("INVALID_REQUEST", &format!("unknown service {s:?}"));
            return respond(
                &mut stream,
                400,
                "application/json",
                body.to_string().as_bytes(),
                &[],
            );
        }
    }

    let access = match grant(user.map(|u| u.name), &scopes) {
        Ok(a) => a,
        Err(bad) => {
            record.status = 400;
            inner.log.lock().unwrap().push(record);
            let body = error_body("INVALID_REQUEST", &format!("invalid scope {bad:?}"));
            return respond(
                &mut stream,
                400,
                "application/json",
                body.to_string().as_bytes(),
                &[],
            );
        }
    };

    let now = unix_now();
    let expires_in = inner.expires_in.load(Ordering::SeqCst);
    let token = inner.sign(user.map(|u| u.name).unwrap_or(""), access, now);
    let body = json!({
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": rfc3339(now),
    });
    record.status = 200;
    inner.log.lock().unwrap().push(record);
    respond(
        &mut stream,
        200,
        "application/json",
        body.to_string().as_bytes(),
        &[],
    )
}

/// The OAuth2 refresh-token grant: a token only for a refresh token this
/// server minted, with the scopes its user may have.
fn oauth_post(
    stream: &mut TcpStream,
    inner: &Inner,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let mut form: HashMap<String, String> = HashMap::new();
    for pair in String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        form.insert(percent_decode(k), percent_decode(v));
    }
    // Only the refresh-token grant is served; any other POST answers 404,
    // the spec's "no OAuth2 here, use GET" (the password grant included).
    if !content_type.starts_with("application/x-www-form-urlencoded")
        || form.get("grant_type").map(String::as_str) != Some("refresh_token")
    {
        return respond(stream, 404, "application/json", BODY_NOT_FOUND, &[]);
    }
    let scopes: Vec<String> = form
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    {
        let mut map = inner.per_scope.lock().unwrap();
        for s in &scopes {
            *map.entry(s.clone()).or_insert(0) += 1;
        }
    }
    let mut record = TokenRequest {
        user: None,
        service: form.get("service").cloned(),
        scopes: scopes.clone(),
        status: 0,
        grant: form.get("grant_type").cloned(),
        client_id: form.get("client_id").cloned(),
    };
    let mut answer = |record: &mut TokenRequest, status: u16, body: &[u8]| {
        record.status = status;
        inner.log.lock().unwrap().push(record.clone());
        respond(stream, status, "application/json", body, &[])
    };
    let bad =
        |what: &str| json!({"error": "invalid_request", "error_description": what}).to_string();
    if record.client_id.as_deref().is_none_or(str::is_empty) {
        return answer(&mut record, 400, bad("client_id is required").as_bytes());
    }
    if record.service.as_deref() != Some(inner.service.as_str()) {
        return answer(&mut record, 400, bad("unknown service").as_bytes());
    }
    let user = form
        .get("refresh_token")
        .and_then(|t| inner.refresh_tokens.lock().unwrap().get(t).copied());
    let Some(user) = user else {
        // Echoes what it got, as a careless server might: the client must
        // scrub it from the error it reports.
        let sent = form.get("refresh_token").cloned().unwrap_or_default();
        let body = error_body("UNAUTHORIZED", &format!("unknown refresh token {sent}"));
        return answer(&mut record, 401, body.to_string().as_bytes());
    };
    record.user = Some(user.name.to_string());
    let Ok(access) = grant(Some(user.name), &scopes) else {
        return answer(&mut record, 400, bad("invalid scope").as_bytes());
    };
    let now = unix_now();
    let expires_in = inner.expires_in.load(Ordering::SeqCst);
    let token = inner.sign(user.name, access, now);
    // `access_token` only: the OAuth2 answer has no `token`.
    let body = json!({
        "access_token": token,
        "scope": scopes.join(" "),
        "expires_in": expires_in,
        "issued_at": rfc3339(now),
    });
    answer(&mut record, 200, body.to_string().as_bytes())
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    json!({"errors": [{"code": code, "message": message}]})
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// Decodes `Basic base64(user:pass)`; `None` if malformed or wrong.
fn check_basic(header: &str) -> Option<&'static User> {
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (name, password) = decoded.split_once(':')?;
    USERS
        .iter()
        .find(|u| u.name == name && u.password == password)
}

/// Actions a user may perform on a resource.
fn allowed_actions(user: Option<&str>, typ: &str, name: &str) -> Vec<&'static str> {
    match (user, typ) {
        (Some("alice"), "repository") => vec!["pull", "push", "delete", "*"],
        (Some("alice"), "registry") if name == "catalog" => vec!["*"],
        (Some("bob"), "repository") if name.starts_with("bob/") => vec!["pull", "push"],
        (Some("bob"), "repository") => vec!["pull"],
        (None, "repository") if name.starts_with("public/") => vec!["pull"],
        _ => vec![],
    }
}

/// Intersection of requested and allowed actions, one access entry per scope.
/// `Err(scope)` for a malformed scope.
fn grant(user: Option<&str>, scopes: &[String]) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    for scope in scopes {
        // type:name:actions, where name may itself contain ':' (host:port/repo).
        let (typ, rest) = scope.split_once(':').ok_or_else(|| scope.clone())?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(|| scope.clone())?;
        if typ.is_empty() || name.is_empty() {
            return Err(scope.clone());
        }
        // "repository(plugin)" → class ignored for grants.
        let base_type = typ.split('(').next().unwrap_or(typ);
        let allowed = allowed_actions(user, base_type, name);
        let mut granted: Vec<&str> = Vec::new();
        for a in actions.split(',').filter(|a| !a.is_empty()) {
            if allowed.contains(&a) && !granted.contains(&a) {
                granted.push(a);
            }
        }
        out.push(json!({"type": typ, "name": name, "actions": granted}));
    }
    Ok(out)
}

impl Inner {
    fn sign(&self, sub: &str, access: Vec<serde_json::Value>, now: u64) -> String {
        let exp = now + self.expires_in.load(Ordering::SeqCst);
        self.sign_raw(sub, access, now as i64, exp as i64)
    }

    fn sign_raw(&self, sub: &str, access: Vec<serde_json::Value>, nbf: i64, exp: i64) -> String {
        let pki = pki();
        let header = json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5c": [STANDARD.encode(&pki.token_cert_der)],
        });
        let jti = self.next_jti.fetch_add(1, Ordering::SeqCst);
        let claims = json!({
            "iss": self.issuer,
            "sub": sub,
            "aud": self.service,
            "exp": exp,
            "nbf": nbf,
            "iat": nbf,
            "jti": format!("fixture-{}-{jti}", self.addr.port()),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; pki.token_key.public().modulus_len()];
        pki.token_key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .expect("fixture: RS256 signing");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before 1970")
        .as_secs()
}

/// RFC 3339 UTC timestamp (`2024-01-02T03:04:05Z`) of a Unix time.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}
