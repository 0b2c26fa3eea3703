//! What one answer may cost the caller, against the scripted server: image
//! sizes that add up past `u64::MAX` (issue 8 #6) and listings that never
//! end or hold too much (issue 8 #8).

#[path = "support/fault.rs"]
mod fault;
#[path = "support/images.rs"]
mod images;

use std::time::Duration;

use fault::*;
use images::*;
use registry_client::{Client, ClientBuilder, Error, ErrorKind};

const REPO: &str = "team/app";

fn builder(url: &str) -> ClientBuilder {
    Client::builder(url)
        .max_retries(0)
        .timeout(Duration::from_secs(5))
}

/// An OCI image whose layers claim `sizes`, served as `team/app:v1` with
/// the (true) config blob of `image("a")`.
fn image_with_layer_sizes(sizes: &[u64]) -> FaultServer {
    let img = image("a");
    let layers: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, size)| {
            serde_json::json!({
                "mediaType": OCI_LAYER,
                "digest": sha256(format!("layer {i}").as_bytes()),
                "size": size,
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "digest": img.config_digest, "size": img.config.len() },
        "layers": layers,
    })
    .to_string();
    let digest = sha256(manifest.as_bytes());
    FaultServer::start_routed_repeating(vec![
        (
            Route::prefix(&format!("/v2/{REPO}/manifests/")),
            vec![respond(
                200,
                &[
                    ("Content-Type", OCI_MANIFEST),
                    ("Docker-Content-Digest", &digest),
                ],
                manifest,
            )],
        ),
        (
            Route::prefix(&format!("/v2/{REPO}/blobs/{}", img.config_digest)),
            vec![respond(200, &[], img.config.clone())],
        ),
    ])
}

/// Two layers of 2^64 - 1 bytes: the total used to wrap (to 127 in a
/// release build, a panic in a debug one); it is a decode error now.
#[test]
fn layer_sizes_adding_up_past_u64_max_are_a_decode_error() {
    let srv = image_with_layer_sizes(&[u64::MAX, u64::MAX]);
    let client = builder(&srv.url()).build().unwrap();
    let err = client.image_info(REPO, "v1", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("sizes add up"), "{err}");
    assert!(err.to_string().contains(REPO), "{err}");
}

#[test]
fn sizes_adding_up_to_exactly_u64_max_are_fine() {
    let config = image("a").config;
    let last = u64::MAX - config.len() as u64 - 1;
    let srv = image_with_layer_sizes(&[1, last]);
    let client = builder(&srv.url()).build().unwrap();
    let info = client.image_info(REPO, "v1", None).unwrap();
    assert_eq!(info.size, u64::MAX);
    assert_eq!(info.layers.len(), 2);
}

#[test]
fn image_info_digests_serialize_as_strings() {
    let img = image("a");
    let srv = image_with_layer_sizes(&[7]);
    let client = builder(&srv.url()).build().unwrap();
    let info = client.image_info(REPO, "v1", None).unwrap();
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["digest"], info.digest.as_str());
    assert!(json["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(json["config_digest"], img.config_digest.as_str());
    assert_eq!(json["layers"][0]["digest"], sha256(b"layer 0").as_str());
    assert_eq!(json["layers"][0]["size"], 7);
}

/// Names per scripted catalog page.
const PER_PAGE: usize = 300;

/// A catalog that never ends: `pages` pages of [`PER_PAGE`] fresh names,
/// each linking to a new next page.
fn endless_catalog(pages: usize) -> FaultServer {
    let steps = (0..pages)
        .map(|p| {
            let names: Vec<String> = (0..PER_PAGE).map(|i| format!("p{p:03}/r{i:04}")).collect();
            let body = serde_json::json!({ "repositories": names }).to_string();
            let link = format!(
                "</v2/_catalog?last={}&n={PER_PAGE}>; rel=\"next\"",
                names.last().unwrap().replace('/', "%2F")
            );
            json(200, &body).header("Link", &link)
        })
        .collect();
    FaultServer::start_routed(vec![(Route::when(|r| r.path() == "/v2/_catalog"), steps)])
}

fn catalog_requests(srv: &FaultServer) -> usize {
    srv.requests()
        .iter()
        .filter(|r| r.path() == "/v2/_catalog")
        .count()
}

fn too_large(err: &Error) -> (String, u64) {
    match err {
        Error::TooLarge { what, limit, .. } => (what.clone(), *limit),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// It used to go on for up to 100 000 pages, holding every name.
#[test]
fn an_endless_catalog_stops_at_the_item_bound() {
    let srv = endless_catalog(50);
    let client = builder(&srv.url()).max_list_items(1000).build().unwrap();
    let err = client.list_repositories().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let (what, limit) = too_large(&err);
    assert_eq!(limit, 1000);
    assert!(
        what.contains("catalog") && what.contains("max_list_items"),
        "{what}"
    );
    // Three pages fit (900 names); the fourth passes the bound.
    assert_eq!(catalog_requests(&srv), 4);
}

#[test]
fn an_endless_catalog_stops_at_the_byte_bound() {
    let srv = endless_catalog(50);
    // Each name is 10 bytes, plus the 24 of its String: 34 bytes.
    let bound = 34 * 700;
    let client = builder(&srv.url()).max_list_bytes(bound).build().unwrap();
    let err = client.list_repositories().unwrap_err();
    let (what, limit) = too_large(&err);
    assert_eq!(limit, bound as u64);
    assert!(what.contains("max_list_bytes"), "{what}");
    assert_eq!(catalog_requests(&srv), 3);
}

#[test]
fn a_listing_within_the_bounds_is_whole() {
    let srv = endless_catalog(3);
    let client = builder(&srv.url()).max_list_items(900).build().unwrap();
    // The third page links to a fourth the script does not have: stream
    // the three there are instead of listing them all.
    let names: Vec<String> = client
        .catalog_pages()
        .take(3)
        .flat_map(|p| p.unwrap().items)
        .collect();
    assert_eq!(names.len(), 900);
    assert_eq!(names[0], "p000/r0000");
    assert_eq!(names[899], "p002/r0299");
}

/// Streaming keeps no past page, so only one page at a time is bounded:
/// the same bound that stops `list_repositories` lets `catalog_pages` go
/// on, and the caller decides when to stop.
#[test]
fn catalog_pages_are_bounded_per_page_not_per_listing() {
    let srv = endless_catalog(50);
    let client = builder(&srv.url())
        .max_list_items(PER_PAGE)
        .build()
        .unwrap();
    let mut pages = client.catalog_pages();
    for p in 0..10 {
        let page = pages.next().unwrap().unwrap();
        assert_eq!(page.items.len(), PER_PAGE, "page {p}");
        assert!(page.next.is_some());
    }
    assert_eq!(catalog_requests(&srv), 10);

    // One page over the bound is refused, also when streaming.
    let tight = builder(&srv.url())
        .max_list_items(PER_PAGE - 1)
        .build()
        .unwrap();
    let err = tight.catalog_pages().next().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let err = tight.catalog_page(None, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[test]
fn zero_listing_bounds_are_refused() {
    for b in [
        Client::builder("localhost:5000").max_list_items(0),
        Client::builder("localhost:5000").max_list_bytes(0),
    ] {
        assert_eq!(b.build().unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
