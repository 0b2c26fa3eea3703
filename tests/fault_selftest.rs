//! Self-tests for the fault-injection server in `support/fault.rs`, using
//! ureq as the client. Each test is fast (well under 2 s).

#[path = "support/fault.rs"]
mod fault;

use fault::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(300);

fn agent() -> ureq::Agent {
    agent_with_redirects(0)
}

fn agent_with_redirects(n: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(n)
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent()
}

fn get(srv: &FaultServer, path: &str) -> Result<(u16, Vec<u8>), ureq::Error> {
    let mut resp = agent().get(format!("{}{path}", srv.url())).call()?;
    let status = resp.status().as_u16();
    Ok((status, resp.body_mut().read_to_vec()?))
}

fn io_kind(err: &ureq::Error) -> Option<ErrorKind> {
    match err {
        ureq::Error::Io(e) => Some(e.kind()),
        _ => None,
    }
}

#[test]
fn respond_status_headers_body_and_keep_alive() {
    let srv = FaultServer::start(vec![
        respond(200, &[("Docker-Content-Digest", "sha256:abc")], "hello"),
        json(404, r#"{"errors":[]}"#),
    ]);
    let agent = agent();
    let url = format!("{}/v2/lib/manifests/1?n=2", srv.url());

    let mut r = agent.get(&url).header("X-Probe", "One").call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["docker-content-digest"], "sha256:abc");
    assert_eq!(r.headers()["content-length"], "5");
    assert_eq!(r.body_mut().read_to_vec().unwrap(), b"hello");

    let mut r = agent.get(&url).call().unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.body_mut().read_to_string().unwrap(), r#"{"errors":[]}"#);

    // Both requests travelled over one kept-alive connection.
    assert_eq!(srv.connection_count(), 1);
    assert_eq!(srv.request_count(), 2);
    assert_eq!(srv.remaining_steps(), 0);
    let reqs = srv.requests();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].target, "/v2/lib/manifests/1?n=2");
    assert_eq!(reqs[0].path(), "/v2/lib/manifests/1");
    assert_eq!(reqs[0].query(), Some("n=2"));
    assert_eq!(reqs[0].header("x-probe"), Some("One"));
    assert!(reqs[0].headers.iter().any(|(k, _)| k == "x-probe"));
    assert!(reqs[0].headers.iter().all(|(k, _)| *k == k.to_lowercase()));
    assert!(!reqs[0].has_header("authorization"));
    assert!(!reqs[1].has_header("x-probe"));
    assert_eq!((reqs[0].connection, reqs[1].connection), (0, 0));
}

#[test]
fn head_declares_length_without_sending_body() {
    let srv = FaultServer::start(vec![respond(200, &[], "0123456789"), status(204)]);
    let agent = agent();
    let mut r = agent.head(format!("{}/v2/x", srv.url())).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "10");
    assert!(r.body_mut().read_to_vec().unwrap().is_empty());
    // Had the body been sent, it would corrupt this next response.
    let r = agent.get(format!("{}/v2/y", srv.url())).call().unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(srv.connection_count(), 1);
    assert_eq!(srv.requests()[0].method, "HEAD");
}

#[test]
fn request_bodies_are_recorded() {
    let srv = FaultServer::start(vec![status(201), status(202)]);
    let agent = agent();
    let r = agent
        .put(format!("{}/v2/up", srv.url()))
        .send(&b"fixed-length"[..])
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut reader: &[u8] = b"chunked body";
    let r = agent
        .post(format!("{}/v2/up", srv.url()))
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(r.status(), 202);
    let reqs = srv.requests();
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].body, b"fixed-length");
    assert_eq!(reqs[1].header("transfer-encoding"), Some("chunked"));
    assert_eq!(reqs[1].body, b"chunked body");
}

#[test]
fn exhausted_script_answers_500() {
    let srv = FaultServer::start(vec![status(200)]);
    assert_eq!(get(&srv, "/v2/").unwrap().0, 200);
    let (st, body) = get(&srv, "/v2/").unwrap();
    assert_eq!(st, 500);
    assert_eq!(body, b"script exhausted");
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn repeating_script_repeats_last_step() {
    let srv = FaultServer::start_repeating(vec![status(401), respond(200, &[], "ok")]);
    assert_eq!(get(&srv, "/").unwrap().0, 401);
    for _ in 0..3 {
        assert_eq!(get(&srv, "/").unwrap(), (200, b"ok".to_vec()));
    }
    assert_eq!(srv.request_count(), 4);
}

#[test]
fn close_immediately_gives_eof_before_response() {
    let srv = FaultServer::start(vec![close_immediately(), status(200)]);
    let err = get(&srv, "/v2/").unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::UnexpectedEof), "{err:?}");
    assert_eq!(srv.request_count(), 1, "the request was read and recorded");
    // The server itself keeps going: the next connection gets the next step.
    assert_eq!(get(&srv, "/v2/").unwrap().0, 200);
    assert_eq!(srv.connection_count(), 2);
}

#[test]
fn reset_gives_connection_reset() {
    let srv = FaultServer::start(vec![reset(), status(200)]);
    let err = get(&srv, "/v2/").unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::ConnectionReset), "{err:?}");
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path(), "/v2/");
    assert_eq!(get(&srv, "/v2/").unwrap().0, 200);
}

#[test]
fn reset_is_a_real_rst_on_a_raw_socket() {
    let srv = FaultServer::start(vec![reset()]);
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 16];
    let err = s.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
}

#[test]
fn partial_body_is_a_short_body() {
    let srv = FaultServer::start(vec![partial_body(
        200,
        &[("Content-Type", "application/octet-stream")],
        100,
        "only-this",
    )]);
    let mut r = agent().get(format!("{}/v2/b", srv.url())).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "100");
    let err = r.body_mut().read_to_vec().unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::UnexpectedEof), "{err:?}");
}

#[test]
fn partial_body_abort_delivers_prefix_then_fails() {
    let srv = FaultServer::start(vec![partial_body(200, &[], 100, "prefix").abort()]);
    let mut r = agent().get(format!("{}/v2/b", srv.url())).call().unwrap();
    assert_eq!(r.status(), 200);
    let mut got = Vec::new();
    let err = r.body_mut().as_reader().read_to_end(&mut got).unwrap_err();
    // ureq folds a reset mid-body into "peer disconnected".
    assert!(
        matches!(
            err.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    assert_eq!(got, b"prefix");
}

#[test]
fn stall_headers_times_out_the_client() {
    let srv = FaultServer::start(vec![stall_headers(Duration::from_secs(10))]);
    let t = Instant::now();
    let err = get(&srv, "/v2/").unwrap_err();
    assert!(
        matches!(err, ureq::Error::Timeout(ureq::Timeout::Global)),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(1));
    // Dropping the server cuts the 10 s stall short.
    let t = Instant::now();
    drop(srv);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn stall_body_times_out_mid_body() {
    let srv = FaultServer::start(vec![stall_body(200, &[], "first", Duration::from_secs(10))]);
    let mut r = agent().get(format!("{}/v2/b", srv.url())).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "6");
    let mut got = Vec::new();
    let err = r.body_mut().as_reader().read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"first");
    let inner = err
        .into_inner()
        .and_then(|e| e.downcast::<ureq::Error>().ok());
    assert!(
        matches!(inner.as_deref(), Some(ureq::Error::Timeout(_))),
        "{inner:?}"
    );
}

#[test]
fn stall_body_then_send_is_slow_but_complete() {
    let srv = FaultServer::start(vec![
        stall_body(200, &[], "ab", Duration::from_millis(100)).then_send("cd"),
        status(204),
    ]);
    let t = Instant::now();
    assert_eq!(get(&srv, "/").unwrap(), (200, b"abcd".to_vec()));
    assert!(t.elapsed() >= Duration::from_millis(100));
    assert_eq!(get(&srv, "/").unwrap().0, 204);
}

#[test]
fn stall_body_declared_len_override() {
    let srv = FaultServer::start(vec![
        stall_body(200, &[], "ab", Duration::ZERO).declared_len(2)
    ]);
    assert_eq!(get(&srv, "/").unwrap(), (200, b"ab".to_vec()));
}

#[test]
fn redirect_is_returned_or_followed() {
    let srv = FaultServer::start(vec![redirect(307, "/v2/elsewhere")]);
    let r = agent()
        .get(format!("{}/v2/here", srv.url()))
        .call()
        .unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"], "/v2/elsewhere");

    let srv = FaultServer::start(vec![
        redirect(302, "/v2/elsewhere"),
        respond(200, &[], "there"),
    ]);
    let mut r = agent_with_redirects(3)
        .get(format!("{}/v2/here", srv.url()))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body_mut().read_to_vec().unwrap(), b"there");
    let paths: Vec<String> = srv.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(paths, ["/v2/here", "/v2/elsewhere"]);
}

#[test]
fn raw_bytes_are_written_verbatim() {
    let srv = FaultServer::start(vec![
        raw("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"),
        raw("not http at all\r\n\r\n"),
        raw("HTTP/1.1 203 Whatever\r\nContent-Length: 2\r\n\r\nhi"),
    ]);
    let err = get(&srv, "/").unwrap_err();
    assert!(matches!(err, ureq::Error::Protocol(_)), "{err:?}");
    let err = get(&srv, "/").unwrap_err();
    assert!(matches!(err, ureq::Error::Protocol(_)), "{err:?}");
    assert_eq!(get(&srv, "/").unwrap(), (203, b"hi".to_vec()));
    assert_eq!(srv.connection_count(), 3, "raw closes after writing");
}

#[test]
fn delay_before_answering() {
    let srv = FaultServer::start(vec![
        status(200).delay(Duration::from_millis(120)),
        status(200).delay(Duration::from_secs(10)),
    ]);
    let t = Instant::now();
    assert_eq!(get(&srv, "/").unwrap().0, 200);
    assert!(t.elapsed() >= Duration::from_millis(120));
    let err = get(&srv, "/").unwrap_err();
    assert!(matches!(err, ureq::Error::Timeout(_)), "{err:?}");
}

#[test]
fn close_after_sends_connection_close() {
    let srv = FaultServer::start(vec![status(200).close_after(), status(200)]);
    let r = agent().get(format!("{}/", srv.url())).call().unwrap();
    assert_eq!(r.headers()["connection"], "close");
    assert_eq!(get(&srv, "/").unwrap().0, 200);
    assert_eq!(srv.connection_count(), 2);
}

#[test]
fn routed_queues_are_independent() {
    let srv = FaultServer::start_routed(vec![
        (
            "/token".into(),
            vec![json(200, r#"{"token":"t1"}"#), reset()],
        ),
        (Route::when(|r| r.method == "HEAD"), vec![status(204)]),
        (
            "/v2/".into(),
            vec![
                respond(401, &[("WWW-Authenticate", "Bearer realm=x")], ""),
                respond(200, &[], "manifest"),
            ],
        ),
    ]);
    assert_eq!(get(&srv, "/v2/lib/manifests/1").unwrap().0, 401);
    assert_eq!(
        get(&srv, "/token?scope=x").unwrap(),
        (200, br#"{"token":"t1"}"#.to_vec())
    );
    assert_eq!(
        get(&srv, "/v2/lib/manifests/1").unwrap(),
        (200, b"manifest".to_vec())
    );
    let r = agent().head(format!("{}/v2/x", srv.url())).call().unwrap();
    assert_eq!(r.status(), 204, "predicate route matched before /v2/");
    let err = get(&srv, "/token").unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::ConnectionReset), "{err:?}");
    assert_eq!(
        get(&srv, "/v2/more").unwrap().0,
        500,
        "/v2/ queue exhausted"
    );
    assert_eq!(get(&srv, "/other").unwrap().0, 404, "no route");
}

#[test]
fn routed_repeating() {
    let srv = FaultServer::start_routed_repeating(vec![
        (Route::prefix("/token"), vec![status(503)]),
        (Route::prefix("/v2/"), vec![status(200)]),
    ]);
    for _ in 0..2 {
        assert_eq!(get(&srv, "/token").unwrap().0, 503);
        assert_eq!(get(&srv, "/v2/").unwrap().0, 200);
    }
}

#[test]
fn refused_url_refuses() {
    let url = FaultServer::refused_url();
    assert!(url.starts_with("http://127.0.0.1:"));
    let err = agent().get(&url).call().unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::ConnectionRefused), "{err:?}");
}

#[test]
fn drop_stops_the_server_and_frees_the_port() {
    let srv = FaultServer::start_repeating(vec![status(200)]);
    let url = srv.url();
    let addr = srv.addr();
    // Leave an idle keep-alive connection (the agent keeps it pooled) and a
    // silent raw client open, both being served when the server drops.
    let keep_alive = agent();
    let mut r = keep_alive.get(format!("{url}/")).call().unwrap();
    assert_eq!(r.status(), 200);
    r.body_mut().read_to_vec().unwrap();
    let _silent = TcpStream::connect(addr).unwrap();
    let t = Instant::now();
    while srv.connection_count() < 2 {
        assert!(t.elapsed() < Duration::from_secs(1), "never accepted");
        std::thread::sleep(Duration::from_millis(1));
    }
    let t = Instant::now();
    drop(srv);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    let err = agent().get(&url).call().unwrap_err();
    assert_eq!(io_kind(&err), Some(ErrorKind::ConnectionRefused), "{err:?}");
}

#[test]
fn silent_client_is_timed_out_by_the_server() {
    let srv = FaultServer::builder()
        .script(vec![status(200)])
        .read_timeout(Duration::from_millis(150))
        .start();
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 8];
    // Half a request line, then silence: the server must hang up.
    s.write_all(b"GET / HT").unwrap();
    assert_eq!(s.read(&mut buf).unwrap(), 0, "server closed");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    // A client that sends nothing at all is hung up on as well.
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(s.read(&mut buf).unwrap(), 0, "server closed");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(srv.request_count(), 0);
    assert_eq!(srv.connection_count(), 2);
}

#[test]
fn oversized_head_gets_431() {
    let srv = FaultServer::start(vec![status(200)]);
    let big = "a".repeat(MAX_HEAD);
    let (st, _) = {
        let mut r = agent()
            .get(format!("{}/", srv.url()))
            .header("X-Big", &big)
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
    };
    assert_eq!(st, 431);
    assert_eq!(srv.request_count(), 0);
    assert_eq!(srv.remaining_steps(), 1);
}

#[test]
fn slowly_arriving_head_is_reassembled() {
    let srv = FaultServer::builder()
        .script(vec![respond(200, &[], "ok")])
        .read_timeout(Duration::from_millis(300))
        .start();
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    // Idle for most of the read timeout, then send the head in two pieces.
    std::thread::sleep(Duration::from_millis(200));
    s.write_all(b"GET /split HTTP/1.1\r\nHo").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    s.write_all(b"st: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out:?}");
    assert!(out.ends_with("\r\n\r\nok"), "{out:?}");
    assert_eq!(srv.requests()[0].target, "/split");
    assert_eq!(srv.requests()[0].header("host"), Some("x"));
}
