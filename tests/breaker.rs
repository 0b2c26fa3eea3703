//! The circuit breaker, seen from outside: failures that open it, what an
//! open breaker does (fail at once, no network), the cooldown on the
//! injected clock, the half-open probe, and that it is kept per host.
//!
//! The response cache is off in these tests so every allowed call really
//! reaches the scripted server.

#[path = "support/fault.rs"]
mod fault;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use fault::*;
use registry_client::clock::ManualClock;
use registry_client::{Client, ClientBuilder, Error, ErrorKind};

const COOLDOWN: Duration = Duration::from_secs(60);
const THRESHOLD: usize = 5;
const NO_HANG: Duration = Duration::from_secs(5);
const REPO: &str = "team/app";

/// No retries, no cache, default breaker (5 failures, 60 s), manual clock.
fn builder(url: &str, clock: &ManualClock) -> ClientBuilder {
    Client::builder(url)
        .max_retries(0)
        .retry_delay(Duration::from_millis(100))
        .timeout(Duration::from_secs(2))
        .cache_capacity(0)
        .clock(Arc::new(clock.clone()))
}

fn tags_ok() -> Step {
    json(200, r#"{"name":"team/app","tags":["v1"]}"#)
}

fn host_of(srv: &FaultServer) -> String {
    format!("127.0.0.1:{}", srv.port())
}

/// Asserts `err` is `CircuitOpen` for `host` and returns its `retry_in`.
fn circuit_open(err: &Error, host: &str) -> Duration {
    match err {
        Error::CircuitOpen {
            host: h, retry_in, ..
        } => {
            assert_eq!(h, host, "{err}");
            *retry_in
        }
        other => panic!("expected CircuitOpen for {host}, got {other:?}"),
    }
}

/// Makes `n` calls that each fail on the server with `kind`.
fn fail_calls(client: &Client, n: usize, kind: ErrorKind) {
    for i in 0..n {
        let err = client.list_tags(REPO).unwrap_err();
        assert_eq!(err.kind(), kind, "call {i}: {err}");
    }
}

/// The builder's defaults, seen in behaviour: exactly five consecutive
/// failures open the breaker, it refuses for exactly 60 s on the clock, then
/// lets one probe through.
#[test]
fn by_default_five_failures_open_it_for_sixty_seconds_then_one_probe() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = ManualClock::new();
    // Nothing about the breaker is set: the defaults apply.
    let client = Client::builder(&srv.url())
        .max_retries(0)
        .timeout(Duration::from_secs(2))
        .cache_capacity(0)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    fail_calls(&client, 4, ErrorKind::Connection);
    assert_eq!(srv.request_count(), 4);
    // Four failures leave it closed: the fifth call reaches the server.
    fail_calls(&client, 1, ErrorKind::Connection);
    assert_eq!(srv.request_count(), 5);
    // Five opened it.
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(circuit_open(&err, &host_of(&srv)), Duration::from_secs(60));
    assert_eq!(srv.request_count(), 5);

    clock.advance(Duration::from_secs(59));
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(circuit_open(&err, &host_of(&srv)), Duration::from_secs(1));
    clock.advance(Duration::from_millis(999));
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(circuit_open(&err, &host_of(&srv)), Duration::from_millis(1));
    assert_eq!(srv.request_count(), 5, "nothing sent while open");

    clock.advance(Duration::from_millis(1));
    fail_calls(&client, 1, ErrorKind::Connection);
    assert_eq!(srv.request_count(), 6, "one probe");
    // The failed probe reopened it for another 60 s.
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(circuit_open(&err, &host_of(&srv)), Duration::from_secs(60));
    assert_eq!(srv.request_count(), 6);
}

/// With no cooldown the breaker's cooldown is over the moment it opens, so
/// the call that opened it goes on with its retry (the probe) instead of
/// giving up with `CircuitOpen`.
#[test]
fn a_zero_cooldown_does_not_stop_the_retry() {
    let srv = FaultServer::start(vec![status(503), tags_ok()]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock)
        .circuit_breaker(1, Duration::ZERO)
        .max_retries(1)
        .build()
        .unwrap();
    assert_eq!(client.list_tags(REPO).unwrap(), ["v1"]);
    assert_eq!(srv.request_count(), 2, "the retry was sent");
    assert!(clock.slept() > Duration::ZERO, "after its backoff");
}

#[test]
fn five_server_errors_open_it_and_then_calls_fail_fast_without_network() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    fail_calls(&client, THRESHOLD, ErrorKind::Connection);
    assert_eq!(srv.request_count(), THRESHOLD);

    let start = Instant::now();
    // Clones share the breaker.
    for c in [client.clone(), client] {
        for _ in 0..10 {
            let err = c.list_tags(REPO).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::CircuitOpen);
            assert_eq!(circuit_open(&err, &host_of(&srv)), COOLDOWN);
            assert_eq!(err.attempts(), 1);
        }
    }
    assert!(start.elapsed() < NO_HANG);
    assert_eq!(srv.request_count(), THRESHOLD, "no request while open");
    assert_eq!(srv.connection_count(), 1, "no connection while open");
    assert_eq!(clock.slept(), Duration::ZERO);
}

#[test]
fn refused_connections_open_it() {
    let url = FaultServer::refused_url();
    let clock = ManualClock::new();
    let client = builder(&url, &clock).build().unwrap();
    fail_calls(&client, THRESHOLD, ErrorKind::Connection);
    let err = client.list_tags(REPO).unwrap_err();
    let host = url.trim_start_matches("http://");
    assert_eq!(circuit_open(&err, host), COOLDOWN);
}

#[test]
fn timeouts_open_it() {
    let srv = FaultServer::start_repeating(vec![stall_headers(Duration::from_secs(20))]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock)
        .timeout(Duration::from_millis(300))
        .circuit_breaker(2, COOLDOWN)
        .build()
        .unwrap();
    let start = Instant::now();
    fail_calls(&client, 2, ErrorKind::Timeout);
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(circuit_open(&err, &host_of(&srv)), COOLDOWN);
    assert_eq!(srv.request_count(), 2);
    assert!(start.elapsed() < NO_HANG);
}

#[test]
fn client_errors_and_rate_limits_do_not_count() {
    for code in [400, 401, 403, 404, 429] {
        let srv = FaultServer::start_repeating(vec![status(code)]);
        let clock = ManualClock::new();
        let client = builder(&srv.url(), &clock).build().unwrap();
        for i in 0..THRESHOLD * 2 {
            let err = client.list_tags(REPO).unwrap_err();
            assert_ne!(err.kind(), ErrorKind::CircuitOpen, "HTTP {code}, call {i}");
        }
        assert_eq!(srv.request_count(), THRESHOLD * 2, "HTTP {code}");
    }
}

#[test]
fn a_success_resets_the_count_of_consecutive_failures() {
    let mut script = Vec::new();
    for _ in 0..3 {
        script.extend(std::iter::repeat_with(|| status(502)).take(THRESHOLD - 1));
        script.push(tags_ok());
    }
    let srv = FaultServer::start(script);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    for _ in 0..3 {
        fail_calls(&client, THRESHOLD - 1, ErrorKind::Connection);
        client.list_tags(REPO).unwrap();
    }
    assert_eq!(srv.request_count(), 3 * THRESHOLD);
}

#[test]
fn it_counts_attempts_not_calls() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).max_retries(10).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err();
    let retry_in = circuit_open(&err, &host_of(&srv));
    assert!(
        retry_in > Duration::ZERO && retry_in <= COOLDOWN,
        "{retry_in:?}"
    );
    assert_eq!(srv.request_count(), THRESHOLD, "stopped at the threshold");
    assert!(start.elapsed() < NO_HANG);
}

#[test]
fn the_call_that_opens_it_does_not_wait_before_failing() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = ManualClock::new();
    let base = Duration::from_secs(1);
    let client = builder(&srv.url(), &clock)
        .max_retries(10)
        .retry_delay(base)
        .max_retry_delay(Duration::from_secs(30))
        .build()
        .unwrap();
    let err = client.list_tags(REPO).unwrap_err();
    circuit_open(&err, &host_of(&srv));
    assert_eq!(srv.request_count(), THRESHOLD);
    // Four backoffs between the five attempts, at most 1 + 2 + 4 + 8 s; no
    // fifth one before an attempt the open breaker is bound to refuse.
    let most = base * (1 + 2 + 4 + 8);
    assert!(
        clock.slept() <= most,
        "slept {:?} (more than the {most:?} of four backoffs) before reporting CircuitOpen",
        clock.slept()
    );
}

#[test]
fn after_the_cooldown_one_probe_passes_and_its_success_closes_it() {
    let mut script: Vec<Step> = std::iter::repeat_with(|| status(500))
        .take(THRESHOLD)
        .collect();
    script.push(tags_ok());
    let srv = FaultServer::start_repeating(script);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    fail_calls(&client, THRESHOLD, ErrorKind::Connection);

    clock.advance(COOLDOWN - Duration::from_secs(1));
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(
        circuit_open(&err, &host_of(&srv)),
        Duration::from_secs(1),
        "retry_in counts down on the clock"
    );
    assert_eq!(srv.request_count(), THRESHOLD);

    clock.advance(Duration::from_secs(1));
    assert_eq!(client.list_tags(REPO).unwrap(), ["v1"]);
    assert_eq!(srv.request_count(), THRESHOLD + 1, "the probe went through");
    // Closed: calls flow again.
    for _ in 0..THRESHOLD * 2 {
        client.list_tags(REPO).unwrap();
    }
    assert_eq!(srv.request_count(), 3 * THRESHOLD + 1);
}

#[test]
fn a_failed_probe_reopens_it_for_a_full_cooldown() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    fail_calls(&client, THRESHOLD, ErrorKind::Connection);

    clock.advance(COOLDOWN);
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Connection,
        "the probe reached the server"
    );
    assert_eq!(srv.request_count(), THRESHOLD + 1);

    clock.advance(Duration::from_secs(30));
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(circuit_open(&err, &host_of(&srv)), Duration::from_secs(30));
    assert_eq!(srv.request_count(), THRESHOLD + 1);

    clock.advance(Duration::from_secs(30));
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "second probe");
    assert_eq!(srv.request_count(), THRESHOLD + 2);
}

#[test]
fn a_probe_with_retries_left_still_makes_one_attempt() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).max_retries(3).build().unwrap();
    // Opens during the second call (attempts, not calls, are counted): the
    // first one's four attempts all reach the server and fail on their own.
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), 4, "{err}");
    assert_eq!(srv.request_count(), 4);
    let err = client.list_tags(REPO).unwrap_err();
    circuit_open(&err, &host_of(&srv));
    assert_eq!(srv.request_count(), THRESHOLD);

    clock.advance(COOLDOWN);
    let err = client.list_tags(REPO).unwrap_err();
    // The probe failed and reopened the breaker: no second attempt (the
    // retry loop may have slept its backoff before asking again).
    let retry_in = circuit_open(&err, &host_of(&srv));
    assert!(
        retry_in > Duration::ZERO && retry_in <= COOLDOWN,
        "{retry_in:?}"
    );
    assert_eq!(srv.request_count(), THRESHOLD + 1);
}

#[test]
fn only_one_probe_is_in_flight_while_half_open() {
    let mut script: Vec<Step> = std::iter::repeat_with(|| status(500))
        .take(THRESHOLD)
        .collect();
    // The probe's answer takes a (real) moment, long enough to ask again.
    script.push(tags_ok().delay(Duration::from_millis(500)));
    script.push(tags_ok());
    let srv = FaultServer::start_repeating(script);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    fail_calls(&client, THRESHOLD, ErrorKind::Connection);
    clock.advance(COOLDOWN);

    let prober = {
        let client = client.clone();
        thread::spawn(move || client.list_tags(REPO))
    };
    let deadline = Instant::now() + NO_HANG;
    while srv.request_count() < THRESHOLD + 1 {
        assert!(Instant::now() < deadline, "the probe never arrived");
        thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    // Another repository: the same one would wait for the probe's result
    // (single-flight) instead of asking the breaker.
    let err = client.list_tags("team/other").unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(400),
        "did not fail fast"
    );
    circuit_open(&err, &host_of(&srv));
    assert_eq!(
        srv.request_count(),
        THRESHOLD + 1,
        "second caller stayed off the network"
    );

    assert_eq!(prober.join().unwrap().unwrap(), ["v1"]);
    client.list_tags(REPO).unwrap();
    assert_eq!(srv.request_count(), THRESHOLD + 2);
}

#[test]
fn a_failing_token_endpoint_opens_its_own_breaker_not_the_registrys() {
    // The token endpoint answers 503; the registry itself is healthy and
    // only ever answers 401 (a 4xx, which is not a failure).
    let tokens = FaultServer::start_repeating(vec![status(503)]);
    let challenge = format!(
        r#"Bearer realm="{}/token",service="svc",scope="repository:{REPO}:pull""#,
        tokens.url()
    );
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", &challenge)],
        ),
        (Route::prefix("/v2/"), vec![tags_ok()]),
    ]);
    let clock = ManualClock::new();
    let client = builder(&registry.url(), &clock).build().unwrap();
    fail_calls(&client, THRESHOLD, ErrorKind::Connection);
    assert_eq!(tokens.request_count(), THRESHOLD);

    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(
        circuit_open(&err, &host_of(&tokens)),
        COOLDOWN,
        "the token endpoint's breaker is the one that opened"
    );
    assert_eq!(tokens.request_count(), THRESHOLD);
}
