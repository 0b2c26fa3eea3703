//! The response cache, seen from outside: what is cached (manifests by
//! digest and by tag, tag lists, catalog pages, config blobs), for how long
//! (the TTL on the injected clock; content by digest forever), the bounds
//! (entries and bytes), `clear_cache()`, `cache_stats()`, and that a request
//! served from the cache sends nothing to the network.
//!
//! The registry is the scripted server of `support/fault.rs` with valid
//! bodies, so every request that reaches the network is counted.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/images.rs"]
mod images;

use std::sync::Arc;
use std::time::Duration;

use fault::*;
use images::*;
use registry_client::clock::ManualClock;
use registry_client::{CacheStats, Client, ClientBuilder, ErrorKind};

const TTL: Duration = Duration::from_secs(30);
const REPO: &str = "team/app";

/// A registry serving `images` (tagged `t0`, `t1`, … and by digest) in
/// `team/app`, their config blobs, a tag list and a two-page catalog.
fn registry(images: &[&Image]) -> FaultServer {
    let mut routes: Vec<(Route, Vec<Step>)> = Vec::new();
    for (i, img) in images.iter().enumerate() {
        routes.push((
            Route::prefix(&format!("/v2/{REPO}/manifests/t{i}")),
            vec![manifest_ok(img)],
        ));
        routes.push((
            Route::prefix(&format!("/v2/{REPO}/manifests/{}", img.digest)),
            vec![manifest_ok(img)],
        ));
        routes.push((
            Route::prefix(&format!("/v2/{REPO}/blobs/{}", img.config_digest)),
            vec![respond(200, &[], img.config.clone())],
        ));
    }
    routes.push((
        Route::prefix(&format!("/v2/{REPO}/tags/list")),
        vec![json(200, r#"{"name":"team/app","tags":["t0","t1"]}"#)],
    ));
    routes.push((
        Route::when(|r| {
            r.path() == "/v2/_catalog" && r.query().is_some_and(|q| q.contains("last="))
        }),
        vec![json(200, r#"{"repositories":["c/three"]}"#)],
    ));
    routes.push((
        Route::prefix("/v2/_catalog"),
        vec![json(200, r#"{"repositories":["a/one","b/two"]}"#)
            .header("Link", r#"</v2/_catalog?last=b%2Ftwo&n=2>; rel="next""#)],
    ));
    FaultServer::start_routed_repeating(routes)
}

fn builder(url: &str, clock: &ManualClock) -> ClientBuilder {
    Client::builder(url)
        .max_retries(0)
        .timeout(Duration::from_secs(2))
        .cache_ttl(TTL)
        .clock(Arc::new(clock.clone()))
}

/// Requests the server saw whose path starts with `prefix`.
fn seen(srv: &FaultServer, prefix: &str) -> usize {
    srv.requests()
        .iter()
        .filter(|r| r.path().starts_with(prefix))
        .count()
}

fn manifests_seen(srv: &FaultServer) -> usize {
    seen(srv, &format!("/v2/{REPO}/manifests/"))
}

#[test]
fn a_manifest_by_digest_is_cached_and_never_expires() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();

    let first = client.get_manifest(REPO, &img.digest).unwrap();
    assert_eq!(first.digest.as_str(), img.digest);
    assert_eq!(srv.request_count(), 1);
    let second = client.get_manifest(REPO, &img.digest).unwrap();
    assert!(
        Arc::ptr_eq(&first, &second),
        "a hit shares the cached value"
    );
    clock.advance(Duration::from_secs(365 * 24 * 3600));
    let third = client.get_manifest(REPO, &img.digest).unwrap();
    assert!(Arc::ptr_eq(&first, &third));
    assert_eq!(srv.request_count(), 1, "served from the cache");

    let stats = client.cache_stats();
    assert_eq!((stats.hits, stats.misses), (2, 1), "{stats:?}");
    assert_eq!(stats.entries, 1, "{stats:?}");
    assert_eq!(stats.evictions, 0, "{stats:?}");
    assert!(stats.bytes >= img.manifest.len(), "{stats:?}");
}

#[test]
fn a_manifest_by_tag_is_cached_for_the_ttl() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();

    client.get_manifest(REPO, "t0").unwrap();
    clock.advance(TTL - Duration::from_secs(1));
    client.get_manifest(REPO, "t0").unwrap();
    assert_eq!(manifests_seen(&srv), 1, "fresh within the TTL");

    clock.advance(Duration::from_secs(1));
    let m = client.get_manifest(REPO, "t0").unwrap();
    assert_eq!(m.digest.as_str(), img.digest);
    assert_eq!(manifests_seen(&srv), 2, "refetched once the TTL has passed");
    let stats = client.cache_stats();
    assert_eq!((stats.hits, stats.misses), (1, 2), "{stats:?}");
    assert!(
        stats.evictions >= 1,
        "the expired entry was dropped: {stats:?}"
    );
}

#[test]
fn a_manifest_fetched_by_tag_also_serves_its_digest_after_the_tag_expires() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();

    let by_tag = client.get_manifest(REPO, "t0").unwrap();
    clock.advance(TTL * 10);
    let by_digest = client.get_manifest(REPO, &img.digest).unwrap();
    assert!(Arc::ptr_eq(&by_tag, &by_digest));
    assert_eq!(
        client.manifest_digest(REPO, &img.digest).unwrap().as_str(),
        img.digest
    );
    assert_eq!(srv.request_count(), 1, "{:?}", srv.requests());
}

/// A tag can move at any time: `manifest_digest` by tag asks the registry
/// even when the tag's manifest is cached (issue 7 #9; it used to answer
/// from the cache and send nothing). An unchanged answer keeps the entry.
#[test]
fn manifest_digest_of_a_cached_tag_asks_the_registry() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    client.get_manifest(REPO, "t0").unwrap();
    assert_eq!(
        client.manifest_digest(REPO, "t0").unwrap().as_str(),
        img.digest
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[1].method, "HEAD");
    assert_eq!(reqs[1].path(), format!("/v2/{REPO}/manifests/t0"));
    client.get_manifest(REPO, "t0").unwrap();
    assert_eq!(srv.request_count(), 2, "the tag's entry is still good");
}

#[test]
fn tag_lists_are_cached_for_the_ttl() {
    let srv = registry(&[]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let tags_path = format!("/v2/{REPO}/tags/list");
    for _ in 0..3 {
        assert_eq!(client.list_tags(REPO).unwrap(), ["t0", "t1"]);
    }
    assert_eq!(seen(&srv, &tags_path), 1);
    clock.advance(TTL);
    assert_eq!(client.list_tags(REPO).unwrap(), ["t0", "t1"]);
    assert_eq!(seen(&srv, &tags_path), 2);
}

#[test]
fn catalog_pages_are_cached_for_the_ttl() {
    let srv = registry(&[]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let all = ["a/one", "b/two", "c/three"];
    assert_eq!(client.list_repositories().unwrap(), all);
    assert_eq!(seen(&srv, "/v2/_catalog"), 2, "two pages");
    assert_eq!(client.list_repositories().unwrap(), all);
    assert_eq!(seen(&srv, "/v2/_catalog"), 2, "both pages cached");
    assert_eq!(client.cache_stats().entries, 2);
    clock.advance(TTL);
    assert_eq!(client.list_repositories().unwrap(), all);
    assert_eq!(seen(&srv, "/v2/_catalog"), 4);
}

#[test]
fn config_blobs_are_cached_and_never_expire() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let blobs = format!("/v2/{REPO}/blobs/");

    let info = client.image_info(REPO, "t0", None).unwrap();
    assert_eq!(info.config_digest, img.config_digest);
    assert_eq!(info.labels["label"], "a");
    assert_eq!(client.image_info(REPO, "t0", None).unwrap(), info);
    assert_eq!((manifests_seen(&srv), seen(&srv, &blobs)), (1, 1));

    clock.advance(TTL);
    assert_eq!(client.image_info(REPO, "t0", None).unwrap(), info);
    assert_eq!(
        (manifests_seen(&srv), seen(&srv, &blobs)),
        (2, 1),
        "the tag is refetched, the config blob is not"
    );
}

#[test]
fn the_cache_is_bounded_by_entries_least_recently_used_first() {
    let imgs = [image("a"), image("b"), image("c")];
    let srv = registry(&[&imgs[0], &imgs[1], &imgs[2]]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock)
        .cache_capacity(2)
        .build()
        .unwrap();
    let get = |i: usize| {
        let m = client.get_manifest(REPO, &imgs[i].digest).unwrap();
        assert_eq!(m.digest.as_str(), imgs[i].digest);
    };

    get(0);
    get(1);
    get(2); // evicts a
    let s = client.cache_stats();
    assert_eq!((s.entries, s.evictions), (2, 1), "{s:?}");
    assert_eq!(srv.request_count(), 3);

    get(2);
    get(1); // hits; c is now the least recently used
    assert_eq!(srv.request_count(), 3);
    get(0); // miss, evicts c
    assert_eq!(srv.request_count(), 4);
    get(1); // still cached
    assert_eq!(srv.request_count(), 4);
    get(2); // was evicted
    assert_eq!(srv.request_count(), 5);

    let s = client.cache_stats();
    assert_eq!(s.entries, 2, "{s:?}");
    assert_eq!(s.evictions, 3, "{s:?}");
    assert_eq!((s.hits, s.misses), (3, 5), "{s:?}");
}

/// The bytes the cache accounts for one manifest fetched by digest.
fn entry_bytes(img: &Image) -> usize {
    let srv = registry(&[img]);
    let client = builder(&srv.url(), &ManualClock::new()).build().unwrap();
    client.get_manifest(REPO, &img.digest).unwrap();
    let s = client.cache_stats();
    assert_eq!(s.entries, 1);
    s.bytes
}

#[test]
fn the_cache_is_bounded_by_bytes() {
    let imgs = [image("a"), image("b"), image("c")];
    let size = entry_bytes(&imgs[0]);
    assert!(size >= imgs[0].manifest.len(), "{size}");
    let max = size * 2 + size / 2; // room for two entries, not three
    let srv = registry(&[&imgs[0], &imgs[1], &imgs[2]]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock)
        .cache_capacity(100)
        .cache_max_bytes(max)
        .build()
        .unwrap();
    for img in &imgs {
        client.get_manifest(REPO, &img.digest).unwrap();
        assert!(client.cache_stats().bytes <= max);
    }
    let s = client.cache_stats();
    assert_eq!((s.entries, s.bytes, s.evictions), (2, 2 * size, 1), "{s:?}");
    // The oldest went; the newest two are still there.
    client.get_manifest(REPO, &imgs[2].digest).unwrap();
    client.get_manifest(REPO, &imgs[1].digest).unwrap();
    assert_eq!(srv.request_count(), 3);
    client.get_manifest(REPO, &imgs[0].digest).unwrap();
    assert_eq!(srv.request_count(), 4);
}

#[test]
fn a_response_larger_than_the_byte_bound_is_not_cached() {
    let img = image("a");
    let size = entry_bytes(&img);
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock)
        .cache_max_bytes(size - 1)
        .build()
        .unwrap();
    client.get_manifest(REPO, &img.digest).unwrap();
    client.get_manifest(REPO, &img.digest).unwrap();
    assert_eq!(srv.request_count(), 2);
    let s = client.cache_stats();
    assert_eq!((s.entries, s.bytes), (0, 0), "{s:?}");
}

#[test]
fn clear_cache_empties_it_and_keeps_the_counters() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    client.get_manifest(REPO, "t0").unwrap();
    client.list_tags(REPO).unwrap();
    client.image_info(REPO, "t0", None).unwrap();
    let before = client.cache_stats();
    assert!(before.entries >= 3, "{before:?}");
    assert!(before.bytes > 0, "{before:?}");
    let requests = srv.request_count();

    client.clear_cache();
    let after = client.cache_stats();
    assert_eq!((after.entries, after.bytes), (0, 0), "{after:?}");
    assert_eq!((after.hits, after.misses), (before.hits, before.misses));

    client.get_manifest(REPO, "t0").unwrap();
    client.list_tags(REPO).unwrap();
    assert_eq!(
        srv.request_count(),
        requests + 2,
        "refetched after clearing"
    );
}

#[test]
fn capacity_zero_turns_the_cache_off() {
    let img = image("a");
    let srv = registry(&[&img]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock)
        .cache_capacity(0)
        .build()
        .unwrap();
    for _ in 0..3 {
        client.get_manifest(REPO, &img.digest).unwrap();
        client.list_tags(REPO).unwrap();
    }
    assert_eq!(srv.request_count(), 6);
    assert_eq!(
        client.cache_stats(),
        CacheStats {
            hits: 0,
            misses: 6,
            ..CacheStats::default()
        }
    );
}

#[test]
fn errors_are_not_cached() {
    let img = image("a");
    let srv = FaultServer::start(vec![status(404), status(503), manifest_ok(&img)]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    let err = client.get_manifest(REPO, "t0").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = client.get_manifest(REPO, "t0").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    client.get_manifest(REPO, "t0").unwrap();
    client.get_manifest(REPO, "t0").unwrap();
    assert_eq!(srv.request_count(), 3);
    assert_eq!(client.cache_stats().entries, 2, "by tag and by digest");
}

#[test]
fn a_cached_response_needs_no_token_either() {
    // Tokens live 60 s here, cached responses the default 5 minutes.
    let tokens =
        FaultServer::start_repeating(vec![json(200, r#"{"token":"tok","expires_in":60}"#)]);
    let challenge = format!(
        r#"Bearer realm="{}/token",service="svc",scope="repository:{REPO}:pull""#,
        tokens.url()
    );
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", &challenge)],
        ),
        (
            Route::prefix("/v2/"),
            vec![json(200, r#"{"name":"team/app","tags":["t0"]}"#)],
        ),
    ]);
    let clock = ManualClock::new();
    let client = Client::builder(&registry.url())
        .max_retries(0)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    assert_eq!(client.list_tags(REPO).unwrap(), ["t0"]);
    assert_eq!((registry.request_count(), tokens.request_count()), (2, 1));

    clock.advance(Duration::from_secs(120)); // the token has expired
    assert_eq!(client.list_tags(REPO).unwrap(), ["t0"]);
    assert_eq!(
        (registry.request_count(), tokens.request_count()),
        (2, 1),
        "nothing sent for a cached response"
    );
}

#[test]
fn invalidating_a_digest_drops_the_tags_that_pointed_to_it() {
    let (a, b) = (image("a"), image("b"));
    let srv = registry(&[&a, &b]);
    let clock = ManualClock::new();
    let client = builder(&srv.url(), &clock).build().unwrap();
    client.get_manifest(REPO, "t0").unwrap();
    client.get_manifest(REPO, "t1").unwrap();
    assert_eq!(client.cache_stats().entries, 4, "by tag and by digest");

    let digest: registry_client::Digest = a.digest.parse().unwrap();
    client.invalidate_manifest(REPO, &digest);
    let s = client.cache_stats();
    assert_eq!((s.entries, s.evictions), (2, 0), "{s:?}");
    client.get_manifest(REPO, "t1").unwrap();
    assert_eq!(manifests_seen(&srv), 2, "t1 is still cached");
    client.get_manifest(REPO, "t0").unwrap();
    assert_eq!(manifests_seen(&srv), 3, "t0 went with its digest");

    client.invalidate_manifest(REPO, "t1");
    client.invalidate_manifest(REPO, "not a tag");
    client.get_manifest(REPO, &b.digest).unwrap();
    assert_eq!(manifests_seen(&srv), 3, "t1's digest stays");
    client.get_manifest(REPO, "t1").unwrap();
    assert_eq!(manifests_seen(&srv), 4);
}
