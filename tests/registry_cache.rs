//! The response cache against a real registry whose tags move: a tag
//! pushed again (raw HTTP, as the seed is pushed) is seen by
//! `manifest_digest` at once, by `get_manifest` once `manifest_digest`
//! noticed or the entry was invalidated, and by the uncached view at once
//! (issue 7 #9).

mod support;

use std::time::Duration;

use registry_client::{Client, Digest};
use support::seed::{push_small_image, PushedImage};
use support::Registry;

const REPO: &str = "team/app";
const TAG: &str = "v1";

fn client(reg: &Registry) -> Client {
    // The default TTL (5 minutes): nothing below expires by itself.
    Client::builder(&reg.url())
        .timeout(Duration::from_secs(10))
        .max_retries(0)
        .build()
        .unwrap()
}

fn push(reg: &Registry, tag: &str, label: &str) -> PushedImage {
    push_small_image(&reg.pusher(&[REPO]), REPO, Some(tag), None, label, false)
}

/// A registry with `team/app:v1` pushed, a client that has cached it, and
/// then `v1` pushed again with other content.
fn moved_tag() -> (Registry, Client, PushedImage, PushedImage) {
    let reg = Registry::open_empty();
    let old = push(&reg, TAG, "old");
    let client = client(&reg);
    assert_eq!(client.get_manifest(REPO, TAG).unwrap().digest, old.digest);
    let new = push(&reg, TAG, "new");
    assert_ne!(old.digest, new.digest);
    // Within the TTL the cache still answers with the old manifest: what
    // the tests below change.
    assert_eq!(client.get_manifest(REPO, TAG).unwrap().digest, old.digest);
    (reg, client, old, new)
}

#[test]
fn manifest_digest_sees_a_moved_tag_at_once_and_get_manifest_follows() {
    let (_reg, client, old, new) = moved_tag();
    let d: Digest = client.manifest_digest(REPO, TAG).unwrap();
    assert_eq!(d, new.digest, "manifest_digest asks the registry");
    let m = client.get_manifest(REPO, TAG).unwrap();
    assert_eq!(m.digest, new.digest, "the stale entry was dropped");
    assert!(m.body == new.manifest);
    // The old manifest is still there by digest, and still cached.
    let before = client.cache_stats().hits;
    let by_digest = client.get_manifest(REPO, &old.digest).unwrap();
    assert!(by_digest.body == old.manifest);
    assert_eq!(client.cache_stats().hits, before + 1);
}

#[test]
fn invalidate_manifest_drops_the_tag() {
    let (_reg, client, _old, new) = moved_tag();
    client.invalidate_manifest(REPO, TAG);
    assert_eq!(client.get_manifest(REPO, TAG).unwrap().digest, new.digest);
}

#[test]
fn the_uncached_view_sees_a_moved_tag_at_once_and_refreshes_the_cache() {
    let (_reg, client, _old, new) = moved_tag();
    let fresh = client.uncached().get_manifest(REPO, TAG).unwrap();
    assert_eq!(fresh.digest, new.digest);
    assert_eq!(
        client.get_manifest(REPO, TAG).unwrap().digest,
        new.digest,
        "what the uncached view fetched serves the cached client"
    );
    let info = client.uncached().image_info(REPO, TAG, None).unwrap();
    assert_eq!(info.digest, new.digest);
    assert_eq!(info.labels["org.example.fixture"], "new");
}

#[test]
fn a_new_tag_shows_after_invalidate_tags_or_uncached() {
    let reg = Registry::open_empty();
    push(&reg, TAG, "one");
    let client = client(&reg);
    assert_eq!(client.list_tags(REPO).unwrap(), [TAG]);
    push(&reg, "v2", "two");
    assert_eq!(client.list_tags(REPO).unwrap(), [TAG], "cached for the TTL");

    let mut fresh = client.uncached().list_tags(REPO).unwrap();
    fresh.sort();
    assert_eq!(fresh, [TAG, "v2"]);

    push(&reg, "v3", "three");
    client.invalidate_tags(REPO);
    let mut tags = client.list_tags(REPO).unwrap();
    tags.sort();
    assert_eq!(tags, [TAG, "v2", "v3"]);
}

#[test]
fn invalidate_repository_drops_the_catalog_too() {
    let reg = Registry::open_empty();
    push(&reg, TAG, "one");
    let client = client(&reg);
    assert_eq!(client.list_repositories().unwrap(), [REPO]);
    push_small_image(
        &reg.pusher(&["other/app"]),
        "other/app",
        Some(TAG),
        None,
        "x",
        false,
    );
    assert_eq!(client.list_repositories().unwrap(), [REPO], "cached");
    client.invalidate_repository("other/app");
    assert_eq!(client.list_repositories().unwrap(), ["other/app", REPO]);
}
