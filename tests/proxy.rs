//! Proxies, against a small CONNECT proxy this test starts on loopback and
//! the real registries: which requests go through it (it counts them),
//! which go direct, the environment's conventions (in a child process,
//! since environment variables are the whole process's), and errors that
//! name the proxy.
//!
//! The registries listen on 127.0.0.1, which never goes through a proxy.
//! So the proxy also plays a name server: it maps `registry.test` (a name
//! only it knows) to 127.0.0.1, and a client that reaches
//! `http://registry.test:PORT` can only have gone through it. TLS checks
//! use `proxy_loopback` (loopback through the proxy too), since the test
//! certificate names only `localhost` and `127.0.0.1`.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use registry_client::{Client, ErrorKind};
use support::{Registry, ALICE};

/// The name only the proxy resolves.
const PROXIED_NAME: &str = "registry.test";
/// Bound on a CONNECT request head.
const MAX_HEAD: u64 = 64 << 10;

/// What the proxy saw of one CONNECT.
#[derive(Clone, Debug)]
struct Seen {
    target: String,
    proxy_authorization: Option<String>,
}

/// A CONNECT proxy on 127.0.0.1: tunnels to the names it maps (and IP
/// literals), answers 502 for the rest, 407 when it wants credentials
/// it did not get.
struct TestProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl TestProxy {
    fn start(required_auth: Option<String>) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let names: HashMap<String, IpAddr> =
            [(PROXIED_NAME.to_string(), "127.0.0.1".parse().unwrap())].into();
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (seen, names, auth) = (seen2.clone(), names.clone(), required_auth.clone());
                std::thread::spawn(move || serve(conn, &seen, &names, auth.as_deref()));
            }
        });
        TestProxy { addr, seen, stop }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One proxy connection: a CONNECT, then bytes both ways until either side
/// closes (reads time out after 30 s of silence, so nothing hangs).
fn serve(
    conn: TcpStream,
    seen: &Mutex<Vec<Seen>>,
    names: &HashMap<String, IpAddr>,
    required_auth: Option<&str>,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(conn.try_clone().unwrap()).take(MAX_HEAD);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    let mut conn = conn;
    let Some(request_line) = head.first() else {
        return;
    };
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let _ = conn.write_all(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let proxy_authorization = head.iter().skip(1).find_map(|h| {
        let (name, value) = h.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_string())
    });
    seen.lock().unwrap().push(Seen {
        target: target.to_string(),
        proxy_authorization: proxy_authorization.clone(),
    });
    if let Some(wanted) = required_auth {
        if proxy_authorization.as_deref() != Some(wanted) {
            let _ = conn.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
            );
            return;
        }
    }
    let Some((host, port)) = target.rsplit_once(':') else {
        let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let host = host.trim_matches(['[', ']']);
    let ip = names.get(host).copied().or_else(|| host.parse().ok());
    let upstream = match (ip, port.parse::<u16>()) {
        (Some(ip), Ok(port)) => {
            TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_secs(5)).ok()
        }
        _ => None,
    };
    let Some(upstream) = upstream else {
        let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    if conn
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let _ = upstream.set_read_timeout(Some(Duration::from_secs(30)));
    // Bytes the client sent after the head (none: it waits for the 200).
    let early = reader.into_inner().buffer().to_vec();
    let (mut up_w, mut up_r) = (upstream.try_clone().unwrap(), upstream);
    let (mut down_w, mut down_r) = (conn.try_clone().unwrap(), conn);
    let _ = up_w.write_all(&early);
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut down_r, &mut up_w);
        let _ = up_w.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_r, &mut down_w);
    let _ = down_w.shutdown(Shutdown::Write);
    let _ = t.join();
}

fn builder(url: &str) -> registry_client::ClientBuilder {
    Client::builder(url)
        .timeout(Duration::from_secs(10))
        .max_retries(0)
        .retry_delay(Duration::from_millis(10))
}

/// `http://registry.test:PORT`: reachable through the proxy only.
fn proxied_url(reg: &Registry) -> String {
    format!("http://{PROXIED_NAME}:{}", reg.port())
}

/// A port where nothing listens.
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn the_builders_proxy_carries_remote_hosts_and_never_loopback() {
    let reg = Registry::open();
    let proxy = TestProxy::start(None);
    // Loopback goes direct, proxy or not.
    let direct = builder(&reg.url())
        .proxy(Some(&proxy.url()))
        .build()
        .unwrap();
    assert_eq!(direct.list_tags("many/tags").unwrap().len(), 25);
    assert_eq!(proxy.count(), 0, "{:?}", proxy.seen());
    // A name only the proxy knows: reached, so through the proxy.
    let via = builder(&proxied_url(&reg))
        .proxy(Some(&proxy.url()))
        .build()
        .unwrap();
    assert_eq!(via.list_tags("many/tags").unwrap().len(), 25);
    let m = via.get_manifest("oci/app", "v1").unwrap();
    assert_eq!(
        m.media_type, "application/vnd.oci.image.manifest.v1+json",
        "{m:?}"
    );
    let seen = proxy.seen();
    assert!(!seen.is_empty());
    let wanted = format!("{PROXIED_NAME}:{}", reg.port());
    assert!(seen.iter().all(|s| s.target == wanted), "{seen:?}");
    // Turned off: the name cannot be reached, and the proxy saw nothing more.
    let before = proxy.count();
    let off = builder(&proxied_url(&reg)).proxy(None).build().unwrap();
    let e = off.list_tags("many/tags").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(!e.to_string().contains("proxy"), "{e}");
    assert_eq!(proxy.count(), before);
}

#[test]
fn tls_and_token_auth_through_the_proxy() {
    // TLS through the CONNECT tunnel, verified with the test CA.
    let tls = Registry::tls();
    let proxy = TestProxy::start(None);
    let c = builder(&tls.url())
        .ca_certificate_file(tls.ca_pem_path())
        .proxy(Some(&proxy.url()))
        .proxy_loopback(true)
        .build()
        .unwrap();
    assert_eq!(c.list_tags("oci/app").unwrap(), ["v1"]);
    let seen = proxy.seen();
    assert!(
        seen.iter()
            .any(|s| s.target.ends_with(&format!(":{}", tls.port()))),
        "{seen:?}"
    );
    // A registry that counts as public, with its proxy on loopback: the
    // proxy is the user's own, so the address rule lets the client reach
    // it (it refused before proxies were exempt).
    let public = builder(&tls.url())
        .ca_certificate_file(tls.ca_pem_path())
        .proxy(Some(&proxy.url()))
        .proxy_loopback(true)
        .registry_counts_as_public(true)
        .build()
        .unwrap();
    assert_eq!(public.list_tags("oci/app").unwrap(), ["v1"]);
    // Token auth: the registry and its token realm both through the proxy.
    let token = Registry::token();
    let proxy = TestProxy::start(None);
    let c = builder(&token.url())
        .basic_auth(ALICE.name, ALICE.password)
        .proxy(Some(&proxy.url()))
        .proxy_loopback(true)
        .build()
        .unwrap();
    assert_eq!(c.list_tags("many/tags").unwrap().len(), 25);
    let targets: Vec<String> = proxy.seen().into_iter().map(|s| s.target).collect();
    let realm_port = token.token_server().addr().port();
    assert!(
        targets
            .iter()
            .any(|t| t.ends_with(&format!(":{}", token.port()))),
        "{targets:?}"
    );
    assert!(
        targets
            .iter()
            .any(|t| t.ends_with(&format!(":{realm_port}"))),
        "{targets:?} (realm port {realm_port})"
    );
}

#[test]
fn errors_a_proxy_causes_name_it() {
    let reg = Registry::open();
    // Nothing listens where the proxy should be.
    let dead = dead_url();
    let c = builder(&proxied_url(&reg))
        .proxy(Some(&dead))
        .build()
        .unwrap();
    let e = c.list_tags("many/tags").unwrap_err();
    let s = e.to_string();
    assert_eq!(e.kind(), ErrorKind::Connection, "{s}");
    assert!(
        s.contains(&format!(
            "refused by proxy {dead} (from the builder's proxy setting)"
        )),
        "{s}"
    );
    // A proxy that wants credentials: 407 is named, and not retried.
    let proxy = TestProxy::start(Some("Basic dXNlcjpwYXNz".into())); // user:pass
    let c = builder(&proxied_url(&reg))
        .max_retries(3)
        .proxy(Some(&proxy.url()))
        .build()
        .unwrap();
    let e = c.list_tags("many/tags").unwrap_err();
    let s = e.to_string();
    assert!(s.contains("407") && s.contains(&proxy.url()), "{s}");
    assert!(s.contains("wants credentials"), "{s}");
    assert_eq!(proxy.count(), 1, "a 407 is not retried: {:?}", proxy.seen());
    // With them in the proxy URL it works, and they are never shown.
    let with_creds = format!("http://user:pass@{}", proxy.addr);
    let c = builder(&proxied_url(&reg))
        .proxy(Some(&with_creds))
        .build()
        .unwrap();
    assert_eq!(c.list_tags("many/tags").unwrap().len(), 25);
    assert_eq!(
        proxy.seen().last().unwrap().proxy_authorization.as_deref(),
        Some("Basic dXNlcjpwYXNz")
    );
    assert!(!format!("{c:?}").contains("pass@"), "{c:?}");
    // A target the proxy cannot reach: its 502 is named too.
    let c = builder(&format!("http://unknown.test:{}", reg.port()))
        .proxy(Some(&with_creds))
        .build()
        .unwrap();
    let e = c.list_tags("many/tags").unwrap_err();
    let s = e.to_string();
    assert!(s.contains("502") && s.contains("unknown.test"), "{s}");
    assert!(
        s.contains(&format!("proxy http://{}", proxy.addr)) && !s.contains("pass"),
        "{s}"
    );
}

// The environment's conventions, in child processes.

/// Environment variables that choose a proxy: removed from every child
/// before the test sets its own.
const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Runs this very test in a child process with `env`, where it lists
/// `many/tags` at `url` with a default client and prints the outcome.
fn child(test: &str, url: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads", "1"]);
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.env("REGC_PROXY_CHILD_URL", url)
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child {env:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, outcome)| outcome))
        .unwrap_or_else(|| panic!("child {env:?} printed no outcome: {stdout}"))
        .to_string()
}

/// The child's side: a client as a user would build it (the environment
/// decides the proxy).
fn run_child(url: &str) {
    let outcome = match builder(url).build().and_then(|c| c.list_tags("many/tags")) {
        Ok(tags) => format!("ok {}", tags.len()),
        Err(e) => format!("err {e}"),
    };
    println!("\nOUTCOME {outcome}");
}

#[test]
fn the_environment_chooses_the_proxy_by_scheme() {
    const NAME: &str = "the_environment_chooses_the_proxy_by_scheme";
    if let Ok(url) = std::env::var("REGC_PROXY_CHILD_URL") {
        return run_child(&url);
    }
    let reg = Registry::open();
    let proxy = TestProxy::start(None);
    let p = proxy.url();
    let url = proxied_url(&reg);
    // HTTPS_PROXY does not carry plain http (it did before: ureq's own
    // reading of the environment used it for every scheme).
    let out = child(NAME, &url, &[("HTTPS_PROXY", &p)]);
    assert!(out.starts_with("err ") && !out.contains("proxy"), "{out}");
    assert_eq!(proxy.count(), 0);
    // HTTP_PROXY does, and so does its lower-case form.
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let before = proxy.count();
        let out = child(NAME, &url, &[(var, &p)]);
        assert_eq!(out, "ok 25", "{var}");
        assert!(proxy.count() > before, "{var}");
    }
    // NO_PROXY names the host: direct (so not found).
    let before = proxy.count();
    for no_proxy in [PROXIED_NAME, ".test", "*", "registry.test:80,registry.test"] {
        let out = child(NAME, &url, &[("HTTP_PROXY", &p), ("no_proxy", no_proxy)]);
        assert!(out.starts_with("err "), "{no_proxy}: {out}");
    }
    assert_eq!(proxy.count(), before);
    // Loopback is direct without being listed (it went to the proxy before).
    let out = child(NAME, &reg.url(), &[("HTTP_PROXY", &p), ("HTTPS_PROXY", &p)]);
    assert_eq!(out, "ok 25");
    assert_eq!(proxy.count(), before);
    // A dead proxy is named with its variable.
    let dead = dead_url();
    let out = child(NAME, &url, &[("http_proxy", &dead)]);
    assert!(
        out.contains(&format!("refused by proxy {dead} (from http_proxy)")),
        "{out}"
    );
    // An unusable value is named, and only hurts the requests it would carry.
    let out = child(NAME, &url, &[("HTTP_PROXY", "socks5://u:secret@sock:1080")]);
    assert!(
        out.contains("HTTP_PROXY") && out.contains("socks5://sock:1080") && !out.contains("secret"),
        "{out}"
    );
    let out = child(NAME, &reg.url(), &[("HTTP_PROXY", "socks5://sock:1080")]);
    assert_eq!(out, "ok 25");
}
