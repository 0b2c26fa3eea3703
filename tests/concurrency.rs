//! Many threads, one client: single-flight for tokens and cache misses, and
//! a mixed workload of 16 threads × 200 operations against the real
//! token-auth registry of the fixture.

mod support;

#[path = "support/fault.rs"]
mod fault;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use fault::*;
use registry_client::clock::ManualClock;
use registry_client::{Client, Platform};
use sha2::{Digest as _, Sha256};
use support::seed;
use support::{skopeo_raw_manifest, Registry, ALICE};

const THREADS: usize = 16;
const REPO: &str = "team/app";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// How long a scripted answer takes (real time), so that every thread asks
/// while the first fetch is still in flight.
const SLOW: Duration = Duration::from_millis(300);
/// Far beyond what any test here needs; reaching it means a deadlock.
const DEADLOCK: Duration = Duration::from_secs(60);

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

fn manifest() -> (String, String) {
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(b"{}"),
            "size": 2
        },
        "layers": [],
    })
    .to_string();
    let digest = sha256(body.as_bytes());
    (body, digest)
}

fn manifest_ok(body: &str, digest: &str) -> Step {
    respond(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", digest),
        ],
        body,
    )
}

/// Runs `f(i)` on `n` threads started together; returns the results in
/// thread order, or panics if they do not all finish within [`DEADLOCK`].
fn run_threads<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(n));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier, tx) = (f.clone(), barrier.clone(), tx.clone());
            thread::spawn(move || {
                barrier.wait();
                let _ = tx.send((i, f(i)));
            })
        })
        .collect();
    drop(tx);
    let deadline = Instant::now() + DEADLOCK;
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for _ in 0..n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, v)) => results[i] = Some(v),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("threads did not finish: deadlock?"),
            Err(mpsc::RecvTimeoutError::Disconnected) => break, // a thread panicked
        }
    }
    for h in handles {
        h.join().expect("a worker thread panicked");
    }
    results.into_iter().map(|r| r.unwrap()).collect()
}

#[test]
fn concurrent_misses_for_one_cache_key_make_one_fetch() {
    let (body, digest) = manifest();
    let srv = FaultServer::start_repeating(vec![manifest_ok(&body, &digest).delay(SLOW)]);
    let clock = ManualClock::new();
    let client = Client::builder(&srv.url())
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let c = client.clone();
    let results = run_threads(THREADS, move |_| c.get_manifest(REPO, "v1").unwrap());
    assert_eq!(srv.request_count(), 1, "one fetch for {THREADS} misses");
    for m in &results {
        assert_eq!(m.digest.as_str(), digest);
        assert!(Arc::ptr_eq(m, &results[0]), "all share one value");
    }
    let stats = client.cache_stats();
    assert_eq!(stats.misses, 1, "{stats:?}");
    assert_eq!(stats.hits, THREADS as u64 - 1, "{stats:?}");
}

#[test]
fn concurrent_misses_share_one_fetch_even_with_the_cache_off() {
    let (body, digest) = manifest();
    let srv = FaultServer::start_repeating(vec![manifest_ok(&body, &digest).delay(SLOW)]);
    let client = Client::builder(&srv.url())
        .cache_capacity(0)
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap();
    let c = client.clone();
    let results = run_threads(THREADS, move |_| c.get_manifest(REPO, "v1").unwrap());
    assert_eq!(srv.request_count(), 1);
    assert!(results.iter().all(|m| m.digest.as_str() == digest));
    // Nothing stays behind: the next call fetches again.
    client.get_manifest(REPO, "v1").unwrap();
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn a_failed_leader_lets_the_waiters_fetch_again_once() {
    let (body, digest) = manifest();
    let srv = FaultServer::start_repeating(vec![
        status(500).delay(SLOW),
        manifest_ok(&body, &digest).delay(SLOW),
    ]);
    let client = Client::builder(&srv.url())
        .max_retries(0)
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap();
    let c = client.clone();
    let results = run_threads(THREADS, move |_| c.get_manifest(REPO, "v1"));
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 1, "only the leader sees its error");
    assert_eq!(srv.request_count(), 2, "the waiters made one new fetch");
}

#[test]
fn concurrent_misses_for_one_token_make_one_token_request() {
    let (body, digest) = manifest();
    let tokens =
        FaultServer::start_repeating(vec![
            json(200, r#"{"token":"tok","expires_in":300}"#).delay(SLOW)
        ]);
    let challenge = format!(
        r#"Bearer realm="{}/token",service="svc",scope="repository:{REPO}:pull""#,
        tokens.url()
    );
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", &challenge)],
        ),
        (Route::prefix("/v2/"), vec![manifest_ok(&body, &digest)]),
    ]);
    let client = Client::builder(&registry.url())
        .basic_auth("alice", "wonderland")
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap();
    let c = client.clone();
    // A different tag per thread: different cache keys, one token scope.
    let results = run_threads(THREADS, move |i| c.get_manifest(REPO, &format!("t{i}")));
    for r in &results {
        assert_eq!(r.as_ref().unwrap().digest.as_str(), digest);
    }
    assert_eq!(tokens.request_count(), 1, "one token for one scope");
    let authorized: Vec<_> = registry
        .requests()
        .into_iter()
        .filter(|r| r.has_header("authorization"))
        .collect();
    assert_eq!(authorized.len(), THREADS);
    assert!(authorized
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer tok")));
}

/// The answers every operation of the mixed workload must give.
struct Expected {
    oci_app: String,
    docker_app: String,
    public_hello: String,
    many_tags: Vec<String>,
    repositories: Vec<String>,
}

#[test]
fn sixteen_threads_two_hundred_mixed_operations_on_the_token_registry() {
    const OPS: usize = 200;
    let reg = Registry::token();
    let digest_of =
        |repo: &str, reference: &str| sha256(&skopeo_raw_manifest(&reg, repo, reference));
    let expected = Arc::new(Expected {
        oci_app: digest_of(seed::OCI_APP, seed::APP_TAG),
        docker_app: digest_of(seed::DOCKER_APP, seed::APP_TAG),
        public_hello: digest_of(seed::PUBLIC_HELLO, seed::PUBLIC_HELLO_TAG),
        many_tags: seed::many_tags(),
        repositories: seed::all_repositories(),
    });
    let tokens = reg.token_server();
    tokens.reset_counts();

    let clock = ManualClock::new();
    // A small cache, so that entries are evicted all the time and many
    // operations go to the registry (with a cached token) concurrently.
    let client = Client::builder(&reg.url())
        .basic_auth(ALICE.name, ALICE.password)
        .cache_capacity(3)
        .timeout(Duration::from_secs(20))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let start = Instant::now();
    let failures = run_workload(&client, &expected, OPS);
    let took = start.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {} operations failed, e.g.:\n{}",
        failures.len(),
        THREADS * OPS,
        failures[..failures.len().min(10)].join("\n")
    );

    // One token per scope, however many threads wanted it at once.
    let scopes = [
        format!("repository:{}:pull", seed::MANY_TAGS),
        format!("repository:{}:pull", seed::OCI_APP),
        format!("repository:{}:pull", seed::DOCKER_APP),
        format!("repository:{}:pull", seed::MULTI_OCI),
        format!("repository:{}:pull", seed::PUBLIC_HELLO),
        "registry:catalog:*".to_string(),
    ];
    for scope in &scopes {
        assert_eq!(
            tokens.requests_for_scope(scope),
            1,
            "token requests for {scope}: {:?}",
            tokens.requests()
        );
    }
    assert_eq!(
        tokens.total_requests(),
        scopes.len(),
        "{:?}",
        tokens.requests()
    );
    let stats = client.cache_stats();
    assert!(stats.evictions > 0 && stats.misses > 100, "{stats:?}");
    eprintln!("{} operations in {took:?}; cache {stats:?}", THREADS * OPS);

    // Every token (300 s) and cached response (300 s) runs out at once: the
    // threads renew each token once, again.
    clock.advance(Duration::from_secs(301));
    let failures = run_workload(&client, &expected, 20);
    assert!(failures.is_empty(), "{failures:#?}");
    for scope in &scopes {
        assert_eq!(
            tokens.requests_for_scope(scope),
            2,
            "token requests for {scope} after expiry: {:?}",
            tokens.requests()
        );
    }
    assert_eq!(tokens.total_requests(), 2 * scopes.len());
}

/// Runs `ops` mixed operations on each of [`THREADS`] threads sharing
/// `client`; returns a description of every wrong answer or error.
fn run_workload(client: &Client, expected: &Arc<Expected>, ops: usize) -> Vec<String> {
    let c = client.clone();
    let exp = expected.clone();
    let arm64 = Platform::parse("linux/arm64/v8").unwrap();
    run_threads(THREADS, move |t| {
        let mut failures = Vec::new();
        for i in 0..ops {
            let op = (t * 7 + i) % 9;
            let outcome: Result<(), String> = (|| match op {
                0 => {
                    let mut tags = c.list_tags(seed::MANY_TAGS).map_err(|e| e.to_string())?;
                    tags.sort();
                    check(tags == exp.many_tags, || format!("tags {tags:?}"))
                }
                1 => {
                    let m = c
                        .get_manifest(seed::OCI_APP, seed::APP_TAG)
                        .map_err(|e| e.to_string())?;
                    check(m.digest.as_str() == exp.oci_app, || m.digest.to_string())
                }
                2 => {
                    let d = c
                        .manifest_digest(seed::DOCKER_APP, seed::APP_TAG)
                        .map_err(|e| e.to_string())?;
                    check(d.as_str() == exp.docker_app, || d.to_string())
                }
                3 => {
                    let info = c
                        .image_info(seed::MULTI_OCI, seed::MULTI_TAG, Some(&arm64))
                        .map_err(|e| e.to_string())?;
                    check(
                        (
                            info.os.as_str(),
                            info.architecture.as_str(),
                            info.variant.as_deref(),
                        ) == ("linux", "arm64", Some("v8")),
                        || format!("{info:?}"),
                    )
                }
                4 => {
                    let repos = c.list_repositories().map_err(|e| e.to_string())?;
                    check(repos == exp.repositories, || format!("{repos:?}"))
                }
                5 => {
                    let m = c
                        .get_manifest(seed::PUBLIC_HELLO, seed::PUBLIC_HELLO_TAG)
                        .map_err(|e| e.to_string())?;
                    check(m.digest.as_str() == exp.public_hello, || {
                        m.digest.to_string()
                    })
                }
                6 => {
                    let info = c
                        .image_info(seed::DOCKER_APP, seed::APP_TAG, None)
                        .map_err(|e| e.to_string())?;
                    check(
                        info.digest == exp.docker_app
                            && info.entrypoint == seed::APP_ENTRYPOINT
                            && info.cmd == seed::APP_CMD
                            && info.architecture == seed::APP_ARCHITECTURE,
                        || format!("{info:?}"),
                    )
                }
                7 => {
                    let m = c
                        .get_manifest(seed::OCI_APP, &exp.oci_app)
                        .map_err(|e| e.to_string())?;
                    check(m.digest.as_str() == exp.oci_app, || m.digest.to_string())
                }
                _ => {
                    if i % 40 == 8 {
                        c.clear_cache();
                    }
                    let tags = c.list_tags(seed::OCI_APP).map_err(|e| e.to_string())?;
                    check(tags == [seed::APP_TAG], || format!("{tags:?}"))
                }
            })();
            if let Err(e) = outcome {
                failures.push(format!("thread {t} op {i} (kind {op}): {e}"));
            }
        }
        failures
    })
    .into_iter()
    .flatten()
    .collect()
}

fn check(ok: bool, got: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("wrong answer: {}", got()))
    }
}
