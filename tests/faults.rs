//! Fault injection: one test per fault a registry (or the network in front
//! of it) can throw at the client, on the scripted server of
//! `support/fault.rs`.
//!
//! Every test asserts the outcome (error kind, or success after retries),
//! how many requests the server saw, the retry sleeps the client asked of its
//! clock (a [`ManualClock`] behind a recorder, so nothing really waits), and
//! that the wall time stays far below what a hang would take. The circuit
//! breaker is switched off here (threshold 0) so each fault is seen by the
//! retry loop alone, except in the last section, which checks that these
//! faults open the default breaker exactly at its threshold;
//! `tests/breaker.rs` covers the breaker itself.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/images.rs"]
mod images;
#[path = "support/markers.rs"]
mod markers;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fault::*;
use images::*;
use markers::*;
use registry_client::clock::{Clock, ManualClock};
use registry_client::{Client, ClientBuilder, Error, ErrorKind};

/// Far more than any test here needs; reaching it means something hung.
const NO_HANG: Duration = Duration::from_secs(5);
/// Base retry delay (on the manual clock).
const BASE: Duration = Duration::from_millis(100);
/// Cap on one retry delay (on the manual clock).
const MAX_DELAY: Duration = Duration::from_secs(10);
/// Real socket timeout for the stall tests.
const SHORT_TIMEOUT: Duration = Duration::from_millis(300);
/// A stall much longer than [`SHORT_TIMEOUT`] (the server cuts it short when
/// dropped).
const LONG_STALL: Duration = Duration::from_secs(20);
const REPO: &str = "team/app";
const MANIFEST_CAP: usize = 4 << 20;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A manual clock that also remembers every sleep it was asked for.
#[derive(Clone, Debug, Default)]
struct RecordingClock {
    manual: ManualClock,
    sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingClock {
    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Clock for RecordingClock {
    fn now(&self) -> Instant {
        self.manual.now()
    }

    fn system_time(&self) -> SystemTime {
        self.manual.system_time()
    }

    fn sleep(&self, d: Duration) {
        self.sleeps.lock().unwrap().push(d);
        self.manual.sleep(d);
    }
}

/// A client with 3 retries, 100 ms base delay (manual clock), a 2 s real
/// timeout, no circuit breaker, and the marker credentials (sent only when
/// a registry asks: a test that wants none sees none go out).
fn builder(url: &str, clock: &RecordingClock) -> ClientBuilder {
    builder_with_breaker(url, clock).circuit_breaker(0, Duration::from_secs(60))
}

/// As [`builder`], with the default circuit breaker (5 failures, 60 s).
fn builder_with_breaker(url: &str, clock: &RecordingClock) -> ClientBuilder {
    Client::builder(url)
        .basic_auth(MARKER_USER, MARKER_PASSWORD)
        .max_retries(3)
        .retry_delay(BASE)
        .max_retry_delay(MAX_DELAY)
        .timeout(Duration::from_secs(2))
        .clock(Arc::new(clock.clone()))
}

/// Asserts that the sleeps are the jittered exponential backoff: sleep `n`
/// lies in `[d/2, d]` with `d = min(BASE × 2ⁿ, MAX_DELAY)`.
fn assert_backoff(sleeps: &[Duration], expected_count: usize) {
    assert_eq!(sleeps.len(), expected_count, "sleeps: {sleeps:?}");
    for (n, s) in sleeps.iter().enumerate() {
        let d = (BASE * (1u32 << n)).min(MAX_DELAY);
        assert!(
            *s >= d / 2 && *s <= d,
            "sleep {n} = {s:?} not in [{:?}, {d:?}] (all: {sleeps:?})",
            d / 2
        );
    }
}

/// The tokens the scripted token servers here hand out: each carries the
/// marker, so that an error showing one is caught.
fn token(name: &str) -> String {
    marker_token(name)
}

/// Every secret of this suite: the marker password and its Basic form, and
/// the tokens (also the one a realm hands out that is not header-safe).
fn markers() -> Markers {
    Markers::new(&[
        token("tok-1"),
        token("tok-2"),
        token("stolen"),
        NOT_HEADER_SAFE.to_string(),
    ])
}

/// A token with a space in it, which the client refuses to send.
const NOT_HEADER_SAFE: &str = "has space S3CRET-tk";

/// `unwrap_err` that also checks that the error shows no secret: its
/// Display, its Debug and every `source()` in its chain.
trait UnwrapErrClean {
    fn unwrap_err_clean(self) -> Error;
}

impl<T: std::fmt::Debug> UnwrapErrClean for Result<T, Error> {
    #[track_caller]
    fn unwrap_err_clean(self) -> Error {
        let err = self.unwrap_err();
        markers().assert_error_clean(&format!("{:?} error", err.kind()), &err);
        err
    }
}

fn assert_no_hang(start: Instant) {
    let took = start.elapsed();
    assert!(took < NO_HANG, "took {took:?}");
}

fn tags_ok() -> Step {
    json(200, r#"{"name":"team/app","tags":["v1","v2"]}"#)
}

fn tags() -> Vec<String> {
    vec!["v1".to_string(), "v2".to_string()]
}

fn bearer_challenge(realm: &str) -> String {
    format!(r#"Bearer realm="{realm}/token",service="svc",scope="repository:{REPO}:pull""#)
}

/// A registry that challenges requests without `Authorization` for a token
/// from `realm` and answers the tag list to those with one.
fn token_registry(realm: &str) -> FaultServer {
    let challenge = bearer_challenge(realm);
    FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![json(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            )
            .header("WWW-Authenticate", &challenge)],
        ),
        (Route::prefix("/v2/"), vec![tags_ok()]),
    ])
}

fn token_ok(token: &str) -> Step {
    json(
        200,
        &format!(r#"{{"token":"{token}","expires_in":300,"issued_at":"2023-11-14T22:13:20Z"}}"#),
    )
}

// ---------------------------------------------------------------------------
// Network faults
// ---------------------------------------------------------------------------

#[test]
fn connection_refused_is_retried_and_reported_with_attempts() {
    let clock = RecordingClock::default();
    let client = builder(&FaultServer::refused_url(), &clock)
        .max_retries(2)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), 3, "{err}");
    assert_backoff(&clock.sleeps(), 2);
    assert_no_hang(start);
}

#[test]
fn reset_before_the_response_is_retried() {
    let srv = FaultServer::start(vec![reset(), reset(), tags_ok()]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 3);
    assert_backoff(&clock.sleeps(), 2);
    assert_no_hang(start);
}

#[test]
fn reset_on_every_attempt_gives_connection_error_after_all_retries() {
    let srv = FaultServer::start_repeating(vec![reset()]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), 4, "{err}");
    assert_eq!(srv.request_count(), 4);
    assert_backoff(&clock.sleeps(), 3);
    assert_no_hang(start);
}

#[test]
fn eof_before_the_response_to_get_is_retried() {
    let srv = FaultServer::start(vec![close_immediately(), tags_ok()]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

#[test]
fn eof_before_the_response_to_head_is_retried() {
    let img = image("head");
    let srv = FaultServer::start(vec![close_immediately(), manifest_ok(&img)]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let digest = client.manifest_digest(REPO, "v1").unwrap();
    assert_eq!(digest.as_str(), img.digest);
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.method == "HEAD"), "{reqs:?}");
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

#[test]
fn reset_mid_body_is_retried() {
    let img = image("mid-body");
    let half = &img.manifest.as_bytes()[..img.manifest.len() / 2];
    let srv = FaultServer::start(vec![
        partial_body(
            200,
            &[
                ("Content-Type", OCI_MANIFEST),
                ("Docker-Content-Digest", &img.digest),
            ],
            img.manifest.len() as u64,
            half.to_vec(),
        )
        .abort(),
        manifest_ok(&img),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let m = client.get_manifest(REPO, "v1").unwrap();
    assert_eq!(m.digest.as_str(), img.digest);
    assert_eq!(m.body, img.manifest.as_bytes());
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

#[test]
fn body_shorter_than_content_length_is_retried() {
    let img = image("short");
    let short = &img.manifest.as_bytes()[..10];
    let srv = FaultServer::start(vec![
        partial_body(
            200,
            &[("Content-Type", OCI_MANIFEST)],
            img.manifest.len() as u64,
            short.to_vec(),
        ),
        manifest_ok(&img),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let m = client.get_manifest(REPO, "v1").unwrap();
    assert_eq!(m.body, img.manifest.as_bytes());
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

#[test]
fn body_always_shorter_than_content_length_is_a_connection_error() {
    let srv = FaultServer::start_repeating(vec![partial_body(
        200,
        &[("Content-Type", "application/json")],
        1000,
        &br#"{"name":"team/app","tags":["#[..],
    )]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).max_retries(2).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    // A truncated body is never handed to the JSON decoder.
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), 3, "{err}");
    assert_eq!(srv.request_count(), 3);
    assert_backoff(&clock.sleeps(), 2);
    assert_no_hang(start);
}

#[test]
fn headers_slower_than_the_timeout_time_out_and_are_retried() {
    let srv = FaultServer::start_repeating(vec![stall_headers(LONG_STALL)]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock)
        .timeout(SHORT_TIMEOUT)
        .max_retries(1)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    let took = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.attempts(), 2, "{err}");
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
    // Two real timeouts of 300 ms, and nothing near the 20 s stall.
    assert!(took >= Duration::from_millis(500), "took {took:?}");
    assert_no_hang(start);
}

#[test]
fn a_timeout_then_an_answer_succeeds() {
    let srv = FaultServer::start(vec![stall_headers(LONG_STALL), tags_ok()]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock)
        .timeout(SHORT_TIMEOUT)
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

#[test]
fn a_body_that_stalls_times_out_and_is_retried() {
    let img = image("stall");
    let first = img.manifest.as_bytes()[..20].to_vec();
    let srv = FaultServer::start(vec![
        stall_body(
            200,
            &[("Content-Type", OCI_MANIFEST)],
            first.clone(),
            LONG_STALL,
        )
        .declared_len(img.manifest.len() as u64),
        stall_body(200, &[("Content-Type", OCI_MANIFEST)], first, LONG_STALL)
            .declared_len(img.manifest.len() as u64),
        manifest_ok(&img),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock)
        .timeout(SHORT_TIMEOUT)
        .build()
        .unwrap();
    let start = Instant::now();
    let m = client.get_manifest(REPO, "v1").unwrap();
    assert_eq!(m.body, img.manifest.as_bytes());
    assert_eq!(srv.request_count(), 3);
    assert_backoff(&clock.sleeps(), 2);
    assert_no_hang(start);
}

#[test]
fn a_body_that_always_stalls_is_a_timeout() {
    let srv = FaultServer::start_repeating(vec![stall_body(
        200,
        &[("Content-Type", "application/json")],
        &br#"{"tags":"#[..],
        LONG_STALL,
    )
    .declared_len(100)]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock)
        .timeout(SHORT_TIMEOUT)
        .max_retries(1)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.attempts(), 2, "{err}");
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

// ---------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------

#[test]
fn server_errors_500_502_503_504_then_success() {
    let srv = FaultServer::start(vec![
        status(500),
        status(502),
        status(503),
        status(504),
        tags_ok(),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).max_retries(4).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 5);
    assert_backoff(&clock.sleeps(), 4);
    assert_no_hang(start);
}

#[test]
fn retries_exhausted_return_the_last_error_with_the_attempts_made() {
    let srv = FaultServer::start(vec![
        status(500),
        status(502),
        status(503),
        json(
            504,
            r#"{"errors":[{"code":"UNAVAILABLE","message":"gateway timeout"}]}"#,
        ),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.http_status(), Some(504), "{err}");
    assert_eq!(err.attempts(), 4, "{err}");
    assert_eq!(err.diagnostics()[0].code, "UNAVAILABLE");
    assert_eq!(srv.request_count(), 4);
    assert_eq!(srv.remaining_steps(), 0);
    assert_backoff(&clock.sleeps(), 3);
    assert_no_hang(start);
}

#[test]
fn zero_retries_means_one_attempt() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).max_retries(0).build().unwrap();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(srv.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn request_timeout_408_is_retried() {
    let srv = FaultServer::start(vec![status(408), tags_ok()]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 2);
    assert_backoff(&clock.sleeps(), 1);
}

#[test]
fn other_client_errors_are_not_retried() {
    for (code, kind) in [
        (400, ErrorKind::Registry),
        (403, ErrorKind::Auth),
        (404, ErrorKind::NotFound),
        // The registry does not allow the method (a write where writes
        // are off): issue 10 asks for `Unsupported`.
        (405, ErrorKind::Unsupported),
        (409, ErrorKind::Registry),
        (410, ErrorKind::Registry),
        (422, ErrorKind::Registry),
    ] {
        let srv = FaultServer::start_repeating(vec![status(code)]);
        let clock = RecordingClock::default();
        let client = builder(&srv.url(), &clock).build().unwrap();
        let err = client.list_tags(REPO).unwrap_err_clean();
        assert_eq!(err.kind(), kind, "HTTP {code}: {err}");
        assert_eq!(err.http_status(), Some(code), "{err}");
        assert_eq!(err.attempts(), 1, "HTTP {code}");
        assert_eq!(srv.request_count(), 1, "HTTP {code}");
        assert!(clock.sleeps().is_empty(), "HTTP {code}");
    }
}

#[test]
fn backoff_doubles_and_is_capped_by_max_retry_delay() {
    let srv = FaultServer::start_repeating(vec![status(503)]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock)
        .max_retries(6)
        .retry_delay(Duration::from_secs(1))
        .max_retry_delay(Duration::from_secs(4))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.attempts(), 7);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 6, "{sleeps:?}");
    for (n, (s, d)) in sleeps.iter().zip([1u64, 2, 4, 4, 4, 4]).enumerate() {
        let d = Duration::from_secs(d);
        assert!(
            *s >= d / 2 && *s <= d,
            "sleep {n} = {s:?}, want [{:?}, {d:?}]",
            d / 2
        );
    }
    assert_eq!(clock.manual.slept(), sleeps.iter().sum::<Duration>());
    assert_no_hang(start);
}

// ---------------------------------------------------------------------------
// 429 and Retry-After
// ---------------------------------------------------------------------------

#[test]
fn rate_limited_with_retry_after_seconds_waits_exactly_that() {
    let srv = FaultServer::start(vec![status(429).header("Retry-After", "1"), tags_ok()]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 2);
    assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);
    assert_no_hang(start);
}

#[test]
fn rate_limited_with_retry_after_http_date_waits_until_then() {
    let clock = RecordingClock::default();
    let when = httpdate::fmt_http_date(clock.system_time() + Duration::from_secs(7));
    let srv = FaultServer::start(vec![status(429).header("Retry-After", &when), tags_ok()]);
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 2);
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
    assert_no_hang(start);
}

#[test]
fn retry_after_is_capped_by_max_retry_delay_in_both_forms() {
    let clock = RecordingClock::default();
    let in_an_hour = httpdate::fmt_http_date(clock.system_time() + Duration::from_secs(3600));
    let srv = FaultServer::start(vec![
        status(429).header("Retry-After", "3600"),
        status(503).header("Retry-After", &in_an_hour),
        tags_ok(),
    ]);
    let client = builder(&srv.url(), &clock)
        .max_retry_delay(Duration::from_secs(5))
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 3);
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(5), Duration::from_secs(5)]
    );
    assert_no_hang(start);
}

#[test]
fn rate_limited_until_retries_run_out() {
    let srv = FaultServer::start_repeating(vec![json(
        429,
        r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
    )
    .header("Retry-After", "2")]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).max_retries(2).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.attempts(), 3, "{err}");
    match &err {
        Error::RateLimited {
            retry_after,
            diagnostics,
            ..
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(2)));
            assert_eq!(diagnostics[0].code, "TOOMANYREQUESTS");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(srv.request_count(), 3);
    assert_eq!(clock.sleeps(), [Duration::from_secs(2); 2]);
    assert_no_hang(start);
}

// ---------------------------------------------------------------------------
// Bodies the client must refuse
// ---------------------------------------------------------------------------

#[test]
fn malformed_json_is_a_decode_error_and_not_retried() {
    let srv = FaultServer::start_repeating(vec![json(200, r#"{"name":"team/app","tags":["v1""#)]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(srv.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn malformed_manifest_is_a_decode_error_and_not_retried() {
    let body =
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":"#;
    let digest = sha256(body);
    let srv = FaultServer::start_repeating(vec![respond(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", &digest),
        ],
        &body[..],
    )]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let err = client.get_manifest(REPO, "v1").unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert_eq!(srv.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_manifest_over_the_size_cap_is_refused_and_not_retried() {
    let img = image("big");
    let mut big = img.manifest.into_bytes();
    big.resize(MANIFEST_CAP + 1, b' ');
    let digest = sha256(&big);
    let srv = FaultServer::start_repeating(vec![respond(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", &digest),
        ],
        big,
    )]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.get_manifest(REPO, "v1").unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    match &err {
        Error::TooLarge { limit, .. } => assert_eq!(*limit, MANIFEST_CAP as u64),
        other => panic!("{other:?}"),
    }
    assert_eq!(srv.request_count(), 1);
    assert!(clock.sleeps().is_empty());
    assert_no_hang(start);
}

#[test]
fn a_manifest_of_exactly_the_size_cap_is_accepted() {
    let img = image("cap");
    let mut body = img.manifest.into_bytes();
    body.resize(MANIFEST_CAP, b' ');
    let digest = sha256(&body);
    let srv = FaultServer::start(vec![respond(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", &digest),
        ],
        body,
    )]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let m = client.get_manifest(REPO, "v1").unwrap();
    assert_eq!(m.size, MANIFEST_CAP as u64);
    assert_eq!(m.digest.as_str(), digest);
}

#[test]
fn a_body_not_matching_docker_content_digest_is_refused_and_not_retried() {
    let img = image("real");
    let other = image("other");
    let srv = FaultServer::start_repeating(vec![respond(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", &other.digest),
        ],
        img.manifest.clone(),
    )]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let err = client.get_manifest(REPO, "v1").unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    match &err {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &other.digest);
            assert_eq!(actual, &img.digest);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.attempts(), 1);
    assert_eq!(srv.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_body_not_matching_the_requested_digest_is_refused() {
    let img = image("real");
    let other = image("other");
    // No Docker-Content-Digest: the reference itself is the check.
    let srv = FaultServer::start_repeating(vec![respond(
        200,
        &[("Content-Type", OCI_MANIFEST)],
        other.manifest.clone(),
    )]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let err = client.get_manifest(REPO, &img.digest).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    assert_eq!(srv.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_config_blob_not_matching_its_digest_is_refused() {
    let img = image("real");
    let srv = FaultServer::start_routed_repeating(vec![
        (
            Route::prefix("/v2/team/app/manifests/"),
            vec![manifest_ok(&img)],
        ),
        (
            Route::prefix("/v2/team/app/blobs/"),
            vec![respond(200, &[], image("other").config)],
        ),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let err = client.image_info(REPO, "v1", None).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    let blob_requests = srv
        .requests()
        .iter()
        .filter(|r| r.path().contains("/blobs/"))
        .count();
    assert_eq!(blob_requests, 1);
    assert!(clock.sleeps().is_empty());
}

// ---------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------

#[test]
fn authorization_never_follows_a_redirect_to_another_host() {
    let img = image("redirected");
    let storage = FaultServer::start_routed_repeating(vec![
        (Route::prefix("/storage/manifest"), vec![manifest_ok(&img)]),
        (
            Route::prefix("/storage/blob"),
            vec![respond(
                200,
                &[("Content-Type", "application/octet-stream")],
                img.config.clone(),
            )],
        ),
    ]);
    let to_manifest = format!("{}/storage/manifest?sig=abc", storage.url());
    let to_blob = format!("{}/storage/blob?sig=def", storage.url());
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", r#"Basic realm="registry""#)],
        ),
        (
            Route::prefix("/v2/team/app/manifests/"),
            vec![redirect(307, &to_manifest)],
        ),
        (
            Route::prefix("/v2/team/app/blobs/"),
            vec![redirect(307, &to_blob)],
        ),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock)
        .basic_auth(MARKER_USER, MARKER_PASSWORD)
        .build()
        .unwrap();
    let start = Instant::now();
    let info = client.image_info(REPO, "v1", None).unwrap();
    assert_eq!(info.digest, img.digest);
    assert_eq!(info.config_digest, img.config_digest);
    assert_eq!(info.cmd, ["/bin/app"]);

    // The registry got the credentials (so there were some to leak)…
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{MARKER_USER}:{MARKER_PASSWORD}")
        )
    );
    let authorized: Vec<_> = registry
        .requests()
        .into_iter()
        .filter(|r| r.has_header("authorization"))
        .collect();
    assert_eq!(authorized.len(), 2, "{authorized:?}");
    assert!(authorized
        .iter()
        .all(|r| r.header("authorization") == Some(expected.as_str())));
    // …and the other host never did.
    let followed = storage.requests();
    assert_eq!(followed.len(), 2, "{followed:?}");
    for r in &followed {
        assert!(
            !r.has_header("authorization"),
            "Authorization leaked to {}: {r:?}",
            r.target
        );
    }
    assert!(clock.sleeps().is_empty());
    assert_no_hang(start);
}

/// A registry on its own server that wants Basic credentials and sends
/// requests under `/v2/team/app/` that carry them to `target` (another host).
fn basic_registry_redirecting_to(target: &str) -> FaultServer {
    FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", r#"Basic realm="registry""#)],
        ),
        (Route::prefix("/v2/team/app/"), vec![redirect(307, target)]),
    ])
}

fn assert_no_credentials(srv: &FaultServer, who: &str) {
    for r in srv.requests() {
        assert!(
            !r.has_header("authorization"),
            "credentials sent to {who}: {} {} with Authorization {:?}",
            r.method,
            r.target,
            r.header("authorization")
        );
    }
}

#[test]
fn a_challenge_from_a_redirect_target_gets_no_credentials() {
    // The redirect target answers 401 and names a token realm of its own:
    // answering it would hand the registry's password to hosts the
    // registry never vouched for.
    let realm = FaultServer::start_repeating(vec![token_ok(&token("stolen"))]);
    let target = FaultServer::start_repeating(vec![status(401).header(
        "WWW-Authenticate",
        &format!(
            r#"Bearer realm="{}/token",service="elsewhere""#,
            realm.url()
        ),
    )]);
    let registry = basic_registry_redirecting_to(&format!("{}/storage/manifest", target.url()));
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock)
        .basic_auth(MARKER_USER, MARKER_PASSWORD)
        .build()
        .unwrap();
    let start = Instant::now();
    // The first call learns from the registry's own challenge that it wants
    // Basic; the second starts out with the credentials.
    for call in 0..2 {
        let err = client.get_manifest(REPO, "v1").unwrap_err_clean();
        assert_eq!(err.kind(), ErrorKind::Auth, "call {call}: {err}");
    }
    assert_no_credentials(&target, "the redirect target");
    assert_no_credentials(&realm, "a realm named by the redirect target");
    assert_no_hang(start);
}

#[test]
fn a_next_page_link_from_a_redirect_target_gets_no_credentials() {
    let target = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| r.query().is_some_and(|q| q.contains("last="))),
            vec![json(200, r#"{"name":"team/app","tags":["v2"]}"#)],
        ),
        (
            Route::prefix("/"),
            vec![json(200, r#"{"name":"team/app","tags":["v1"]}"#).header(
                "Link",
                r#"</v2/team/app/tags/list?last=v1&n=1>; rel="next""#,
            )],
        ),
    ]);
    let registry =
        basic_registry_redirecting_to(&format!("{}/v2/team/app/tags/list", target.url()));
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock)
        .basic_auth(MARKER_USER, MARKER_PASSWORD)
        .build()
        .unwrap();
    // Following the link anonymously or refusing it are both fine; sending
    // the registry's credentials along is not.
    if let Err(e) = client.list_tags(REPO) {
        markers().assert_error_clean("the listing's error", &e);
    }
    assert!(target.request_count() >= 1);
    assert_no_credentials(&target, "the redirect target");
}

#[test]
fn a_redirect_loop_is_an_error_and_not_retried() {
    let srv = FaultServer::start_routed_repeating(vec![
        (Route::prefix("/v2/"), vec![redirect(302, "/loop/a")]),
        (Route::prefix("/loop/a"), vec![redirect(302, "/loop/b")]),
        (Route::prefix("/loop/b"), vec![redirect(302, "/loop/a")]),
    ]);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Registry, "{err}");
    // What went wrong is said in the error's own message, never as an
    // invented entry of what the registry said.
    assert_eq!(err.http_status(), Some(302), "{err}");
    assert!(err.diagnostics().is_empty(), "{err}");
    assert!(err.to_string().contains("redirect loop"), "{err}");
    assert_eq!(srv.request_count(), 3);
    assert!(clock.sleeps().is_empty());
    assert_no_hang(start);
}

#[test]
fn an_endless_chain_of_redirects_ends() {
    let hops: Vec<Step> = (1..=50)
        .map(|i| redirect(302, &format!("/hop/{i}")))
        .collect();
    let srv = FaultServer::start(hops);
    let clock = RecordingClock::default();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Registry, "{err}");
    assert_eq!(err.http_status(), Some(302), "{err}");
    assert!(err.diagnostics().is_empty(), "{err}");
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    let n = srv.request_count();
    assert!((10..=12).contains(&n), "{n} requests");
    assert!(clock.sleeps().is_empty());
    assert_no_hang(start);
}

// ---------------------------------------------------------------------------
// Token endpoint faults
// ---------------------------------------------------------------------------

#[test]
fn token_endpoint_down_is_retried_and_reported() {
    let realm = FaultServer::refused_url();
    let registry = token_registry(&realm);
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    // The token fetch went through the retry loop: 1 + 3 attempts.
    assert_backoff(&clock.sleeps(), 3);
    assert_eq!(err.attempts(), 4, "{err}");
    // The registry itself was asked once; nothing was sent without a token.
    assert_eq!(registry.request_count(), 1);
    assert_no_hang(start);
}

#[test]
fn token_endpoint_500_is_retried_then_succeeds() {
    let tokens = FaultServer::start(vec![status(500), token_ok(&token("tok-1"))]);
    let registry = token_registry(&tokens.url());
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(tokens.request_count(), 2);
    let token_req = &tokens.requests()[1];
    assert_eq!(token_req.path(), "/token");
    let query = token_req.query().unwrap_or_default();
    assert!(query.contains("service=svc"), "{query}");
    assert!(
        query.contains("scope=repository%3Ateam%2Fapp%3Apull"),
        "{query}"
    );
    let reqs = registry.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("authorization"),
        Some(format!("Bearer {}", token("tok-1")).as_str())
    );
    assert_backoff(&clock.sleeps(), 1);
    assert_no_hang(start);
}

#[test]
fn token_endpoint_always_500_fails_after_retries() {
    let tokens = FaultServer::start_repeating(vec![status(500)]);
    let registry = token_registry(&tokens.url());
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.http_status(), Some(500), "{err}");
    assert_eq!(tokens.request_count(), 4);
    assert_eq!(err.attempts(), 4, "{err}");
    assert_eq!(registry.request_count(), 1);
    assert_backoff(&clock.sleeps(), 3);
    assert_no_hang(start);
}

#[test]
fn token_endpoint_answering_garbage_is_an_auth_error_and_not_retried() {
    for garbage in [
        respond(200, &[("Content-Type", "text/html")], "<html>oops</html>"),
        json(200, r#"{"expires_in":300}"#),
        json(200, r#"{"token":""}"#),
        json(200, &format!(r#"{{"token":"{NOT_HEADER_SAFE}"}}"#)),
    ] {
        let tokens = FaultServer::start_repeating(vec![garbage]);
        let registry = token_registry(&tokens.url());
        let clock = RecordingClock::default();
        let client = builder(&registry.url(), &clock).build().unwrap();
        let err = client.list_tags(REPO).unwrap_err_clean();
        assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
        assert_eq!(tokens.request_count(), 1, "{err}");
        assert_eq!(registry.request_count(), 1, "{err}");
        assert!(clock.sleeps().is_empty(), "{err}");
        // Nothing of the token endpoint's answer is echoed as a credential.
        assert!(!err.to_string().contains("has space"), "{err}");
    }
}

#[test]
fn token_endpoint_refusing_is_an_auth_error_and_not_retried() {
    let tokens = FaultServer::start_repeating(vec![json(
        401,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
    )]);
    let registry = token_registry(&tokens.url());
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock)
        .basic_auth(MARKER_USER, MARKER_PASSWORD)
        .build()
        .unwrap();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(tokens.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_token_without_expiry_lives_the_default_60_seconds() {
    let tokens = FaultServer::start(vec![
        json(200, &format!(r#"{{"token":"{}"}}"#, token("tok-1"))),
        json(200, &format!(r#"{{"access_token":"{}"}}"#, token("tok-2"))),
    ]);
    let registry = token_registry(&tokens.url());
    let clock = RecordingClock::default();
    // No response cache, so every call goes to the registry.
    let client = builder(&registry.url(), &clock)
        .cache_capacity(0)
        .build()
        .unwrap();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(tokens.request_count(), 1);
    clock.manual.advance(Duration::from_secs(50));
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(tokens.request_count(), 1, "token reused within 60 s");
    clock.manual.advance(Duration::from_secs(11));
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(tokens.request_count(), 2, "token renewed after 60 s");
    let sent: Vec<Option<String>> = registry
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert_eq!(
        sent,
        [
            None,
            Some(format!("Bearer {}", token("tok-1"))),
            Some(format!("Bearer {}", token("tok-1"))),
            Some(format!("Bearer {}", token("tok-2"))),
        ]
    );
    assert!(clock.sleeps().is_empty());
}

#[test]
fn a_401_right_after_a_fresh_token_is_retried_exactly_once() {
    let tokens = FaultServer::start_repeating(vec![token_ok(&token("tok-1"))]);
    let challenge = bearer_challenge(&tokens.url());
    let registry = FaultServer::start_repeating(vec![json(
        401,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}"#,
    )
    .header("WWW-Authenticate", &challenge)]);
    let clock = RecordingClock::default();
    let client = builder(&registry.url(), &clock).build().unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.http_status(), Some(401), "{err}");
    let sent: Vec<Option<String>> = registry
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert_eq!(sent, [None, Some(format!("Bearer {}", token("tok-1")))]);
    assert_eq!(tokens.request_count(), 1);
    assert!(clock.sleeps().is_empty());
    assert_no_hang(start);
}

#[test]
fn a_malformed_www_authenticate_is_an_auth_error() {
    for header in [
        r#"Bearer realm="http://127.0.0.1:1/token,service="svc""#,
        r#"Bearer ,,,="#,
        r#"Bearer service="svc""#,
        r#"Bearer realm="not a url""#,
    ] {
        let srv =
            FaultServer::start_repeating(vec![status(401).header("WWW-Authenticate", header)]);
        let clock = RecordingClock::default();
        let client = builder(&srv.url(), &clock).build().unwrap();
        let start = Instant::now();
        let err = client.list_tags(REPO).unwrap_err_clean();
        assert_eq!(err.kind(), ErrorKind::Auth, "{header}: {err}");
        assert_eq!(err.http_status(), Some(401), "{header}: {err}");
        assert_eq!(srv.request_count(), 1, "{header}");
        assert!(clock.sleeps().is_empty(), "{header}");
        assert_no_hang(start);
    }
}

// ---------------------------------------------------------------------------
// The same faults with the default circuit breaker on
// ---------------------------------------------------------------------------

/// Consecutive failed attempts that open the default breaker (documented).
const BREAKER_THRESHOLD: usize = 5;
/// The default breaker's cooldown (documented).
const BREAKER_COOLDOWN: Duration = Duration::from_secs(60);

fn host_of(srv: &FaultServer) -> String {
    format!("127.0.0.1:{}", srv.port())
}

/// `CircuitOpen` for `srv`'s host; returns its `retry_in`.
fn circuit_open(err: &Error, srv: &FaultServer) -> Duration {
    match err {
        Error::CircuitOpen { host, retry_in, .. } => {
            assert_eq!(*host, host_of(srv), "{err}");
            *retry_in
        }
        other => panic!("expected CircuitOpen, got {other:?}"),
    }
}

#[test]
fn with_the_breaker_on_four_faults_then_an_answer_keep_it_closed() {
    // Four failures of every kind, then an answer; twice. Four is one short
    // of the threshold, and the answer starts the count again.
    let srv = FaultServer::start(vec![
        reset(),
        close_immediately(),
        status(500),
        status(503),
        tags_ok(),
        status(502),
        reset(),
        status(504),
        close_immediately(),
        tags_ok(),
    ]);
    let clock = RecordingClock::default();
    let client = builder_with_breaker(&srv.url(), &clock)
        .max_retries(4)
        // The second call must reach the server, not the cached answer.
        .cache_capacity(0)
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 5);
    assert_eq!(client.list_tags(REPO).unwrap(), tags());
    assert_eq!(srv.request_count(), 10);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 8, "{sleeps:?}");
    assert_backoff(&sleeps[..4], 4);
    assert_backoff(&sleeps[4..], 4);
    assert_no_hang(start);
}

#[test]
fn with_the_breaker_on_the_fifth_fault_in_a_row_opens_it() {
    let srv = FaultServer::start_repeating(vec![
        reset(),
        status(500),
        close_immediately(),
        status(502),
        status(503),
    ]);
    let clock = RecordingClock::default();
    let client = builder_with_breaker(&srv.url(), &clock)
        .max_retries(10)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.list_tags(REPO).unwrap_err_clean();
    // Opened by the fifth failure: no sixth attempt, no sleep towards it.
    assert_eq!(circuit_open(&err, &srv), BREAKER_COOLDOWN);
    assert_eq!(srv.request_count(), BREAKER_THRESHOLD);
    assert_backoff(&clock.sleeps(), BREAKER_THRESHOLD - 1);
    // Open: later calls fail at once, without a request.
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(circuit_open(&err, &srv), BREAKER_COOLDOWN);
    assert_eq!(srv.request_count(), BREAKER_THRESHOLD);
    assert_eq!(clock.sleeps().len(), BREAKER_THRESHOLD - 1);
    assert_no_hang(start);
}

#[test]
fn with_the_breaker_on_failures_count_across_calls_and_an_answer_resets_them() {
    // Calls without retries: four failures, a 404 (the registry answered:
    // it is alive), then four failures and a timeout (five in a row).
    let srv = FaultServer::start(vec![
        status(500),
        reset(),
        status(503),
        close_immediately(),
        json(
            404,
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        ),
        status(502),
        reset(),
        status(500),
        close_immediately(),
        stall_headers(LONG_STALL),
    ]);
    let clock = RecordingClock::default();
    let client = builder_with_breaker(&srv.url(), &clock)
        .max_retries(0)
        .timeout(SHORT_TIMEOUT)
        .build()
        .unwrap();
    let start = Instant::now();
    for i in 0..4 {
        let err = client.list_tags(REPO).unwrap_err_clean();
        assert_eq!(err.kind(), ErrorKind::Connection, "call {i}: {err}");
    }
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    for i in 0..4 {
        let err = client.list_tags(REPO).unwrap_err_clean();
        assert_eq!(
            err.kind(),
            ErrorKind::Connection,
            "call {i} after the 404: {err}"
        );
    }
    assert_eq!(srv.request_count(), 9, "still closed");
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(srv.request_count(), 10);
    let err = client.list_tags(REPO).unwrap_err_clean();
    assert_eq!(circuit_open(&err, &srv), BREAKER_COOLDOWN);
    assert_eq!(srv.request_count(), 10);
    assert!(clock.sleeps().is_empty());
    assert_no_hang(start);
}
