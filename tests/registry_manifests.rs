//! Manifests, image descriptions and errors against a real registry (and,
//! for what a real registry will not do, the scripted fault server).
//! Expected bytes and digests come from `skopeo inspect --raw` at test time.

mod support;

#[path = "support/fault.rs"]
mod fault;

use std::time::Duration;

use fault::FaultServer;
use registry_client::{Client, ErrorKind, Manifest, Platform};
use serde_json::Value;
use support::seed::{
    self, APP_TAG, DOCKER_APP, MANY_TAGS, MULTI_DOCKER, MULTI_OCI, MULTI_TAG, OCI_APP, PLATFORMS,
};
use support::{media, sha256_hex, skopeo_raw_config, skopeo_raw_manifest, Registry};

fn client(url: &str) -> Client {
    Client::builder(url)
        .timeout(Duration::from_secs(10))
        .max_retries(0)
        .build()
        .unwrap()
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn variant_name(m: &Manifest) -> &'static str {
    match m {
        Manifest::DockerV2(_) => "DockerV2",
        Manifest::DockerList(_) => "DockerList",
        Manifest::OciImage(_) => "OciImage",
        Manifest::OciIndex(_) => "OciIndex",
        _ => "other",
    }
}

#[test]
fn manifests_of_every_media_type_are_exact_and_verified() {
    let reg = Registry::open();
    let c = client(&reg.url());
    let cases = [
        (OCI_APP, APP_TAG, "OciImage", media::OCI_MANIFEST),
        (DOCKER_APP, APP_TAG, "DockerV2", media::DOCKER_MANIFEST),
        (MULTI_OCI, MULTI_TAG, "OciIndex", media::OCI_INDEX),
        (
            MULTI_DOCKER,
            MULTI_TAG,
            "DockerList",
            media::DOCKER_MANIFEST_LIST,
        ),
    ];
    for (repo, tag, variant, media_type) in cases {
        let raw = skopeo_raw_manifest(&reg, repo, tag);
        let want = digest_of(&raw);
        let doc = json(&raw);

        let m = c.get_manifest(repo, tag).unwrap();
        assert_eq!(variant_name(&m.manifest), variant, "{repo}:{tag}");
        assert_eq!(m.media_type, media_type, "{repo}:{tag}");
        assert_eq!(m.manifest.media_type(), media_type, "{repo}:{tag}");
        assert!(m.body == raw, "{repo}:{tag}: body differs from skopeo's");
        assert_eq!(m.size, raw.len() as u64);
        assert_eq!(m.digest.to_string(), want, "{repo}:{tag}");

        // The decoded manifest agrees with the raw JSON.
        match &m.manifest {
            Manifest::OciImage(i) | Manifest::DockerV2(i) => {
                assert_eq!(
                    i.config.digest.to_string(),
                    doc["config"]["digest"].as_str().unwrap()
                );
                assert_eq!(i.config.size, doc["config"]["size"].as_u64().unwrap());
                let layers = doc["layers"].as_array().unwrap();
                assert_eq!(i.layers.len(), layers.len());
                assert_eq!(i.layers.len(), seed::APP_LAYER_COUNT);
            }
            Manifest::OciIndex(x) | Manifest::DockerList(x) => {
                let entries = doc["manifests"].as_array().unwrap();
                assert_eq!(x.manifests.len(), entries.len());
                assert_eq!(x.manifests.len(), PLATFORMS.len());
                for (entry, p) in x.manifests.iter().zip(PLATFORMS) {
                    let plat = entry.platform.as_ref().unwrap();
                    assert_eq!(plat.architecture, p.architecture);
                    assert_eq!(plat.os, p.os);
                    assert_eq!(plat.variant.as_deref(), p.variant);
                    // Each child, by digest, is exactly what skopeo sees.
                    let child_raw = skopeo_raw_manifest(&reg, repo, entry.digest.as_str());
                    let child = c.get_manifest(repo, entry.digest.as_str()).unwrap();
                    assert!(child.body == child_raw);
                    assert_eq!(child.digest, entry.digest);
                    assert_eq!(child.size, entry.size);
                    assert_eq!(child.media_type, entry.media_type);
                }
            }
            other => panic!("unexpected manifest kind {other:?}"),
        }

        // HEAD gives the same digest, by tag and by digest.
        assert_eq!(c.manifest_digest(repo, tag).unwrap().to_string(), want);
        assert_eq!(c.manifest_digest(repo, &want).unwrap().to_string(), want);

        // Fetching by digest returns the same bytes.
        let by_digest = c.get_manifest(repo, &want).unwrap();
        assert!(by_digest.body == raw, "{repo}@{want}");
        assert_eq!(by_digest.digest.to_string(), want);
        assert_eq!(by_digest.media_type, media_type);
    }
}

#[test]
fn oci_and_docker_app_share_content_but_not_digests() {
    let reg = Registry::open();
    let c = client(&reg.url());
    let oci = c.get_manifest(OCI_APP, APP_TAG).unwrap();
    let docker = c.get_manifest(DOCKER_APP, APP_TAG).unwrap();
    assert_ne!(oci.digest, docker.digest);
    let (o, d) = (
        oci.manifest.as_image().unwrap(),
        docker.manifest.as_image().unwrap(),
    );
    assert_eq!(o.config.digest, d.config.digest);
    assert_eq!(o.config.media_type, media::OCI_CONFIG);
    assert_eq!(d.config.media_type, media::DOCKER_CONFIG);
    assert_eq!(o.layers[0].media_type, media::OCI_LAYER_GZIP);
    assert_eq!(d.layers[0].media_type, media::DOCKER_LAYER_GZIP);
}

fn check_app_info(reg: &Registry, c: &Client, repo: &str, media_type: &str) {
    let raw = skopeo_raw_manifest(reg, repo, APP_TAG);
    let doc = json(&raw);
    let config_raw = skopeo_raw_config(reg, repo, APP_TAG);
    let config = json(&config_raw);

    let amd64 = Platform::parse("linux/amd64").unwrap();
    for platform in [None, Some(&amd64)] {
        let info = c.image_info(repo, APP_TAG, platform).unwrap();
        assert_eq!(info.digest, digest_of(&raw), "{repo}");
        assert_eq!(info.media_type, media_type);
        assert_eq!(
            info.config_digest,
            doc["config"]["digest"].as_str().unwrap()
        );
        assert_eq!(info.config_digest, digest_of(&config_raw));
        assert_eq!(info.architecture, seed::APP_ARCHITECTURE);
        assert_eq!(info.os, seed::APP_OS);
        assert_eq!(info.variant, None);
        assert_eq!(info.author.as_deref(), Some(seed::APP_AUTHOR));
        assert_eq!(info.created.as_deref(), config["created"].as_str());
        assert!(info.created.is_some());
        assert_eq!(info.entrypoint, seed::APP_ENTRYPOINT);
        assert_eq!(info.cmd, seed::APP_CMD);
        assert_eq!(info.env, seed::APP_ENV);
        assert_eq!(info.working_dir.as_deref(), Some(seed::APP_WORKING_DIR));
        assert_eq!(info.user.as_deref(), Some(seed::APP_USER));
        let labels: Vec<(&str, &str)> = info
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(labels, seed::APP_LABELS);

        let layers = doc["layers"].as_array().unwrap();
        assert_eq!(info.layers.len(), seed::APP_LAYER_COUNT);
        assert_eq!(info.layers.len(), layers.len());
        for (l, want) in info.layers.iter().zip(layers) {
            assert_eq!(l.digest, want["digest"].as_str().unwrap());
            assert_eq!(l.size, want["size"].as_u64().unwrap());
            assert_eq!(l.media_type, want["mediaType"].as_str().unwrap());
        }
        let total = doc["config"]["size"].as_u64().unwrap()
            + layers
                .iter()
                .map(|l| l["size"].as_u64().unwrap())
                .sum::<u64>();
        assert_eq!(info.size, total);
        assert_eq!(
            doc["config"]["size"].as_u64().unwrap(),
            config_raw.len() as u64
        );
    }

    // A single-platform image asked for another platform: NotFound naming
    // the one it has.
    let arm = Platform::parse("linux/arm64").unwrap();
    let e = c.image_info(repo, APP_TAG, Some(&arm)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("linux/arm64") && msg.contains("linux/amd64"),
        "{msg}"
    );
}

#[test]
fn image_info_of_oci_app() {
    let reg = Registry::open();
    check_app_info(&reg, &client(&reg.url()), OCI_APP, media::OCI_MANIFEST);
}

#[test]
fn image_info_of_docker_app() {
    let reg = Registry::basic();
    let c = Client::builder(&reg.url())
        .basic_auth(support::ALICE.name, support::ALICE.password)
        .max_retries(0)
        .build()
        .unwrap();
    check_app_info(&reg, &c, DOCKER_APP, media::DOCKER_MANIFEST);
}

#[test]
fn image_info_picks_platform_from_index_and_list() {
    let reg = Registry::open();
    let c = client(&reg.url());
    for (repo, child_media) in [
        (MULTI_OCI, media::OCI_MANIFEST),
        (MULTI_DOCKER, media::DOCKER_MANIFEST),
    ] {
        let index = json(&skopeo_raw_manifest(&reg, repo, MULTI_TAG));
        let entries = index["manifests"].as_array().unwrap();
        for (i, p) in PLATFORMS.iter().enumerate() {
            let want = Platform::parse(&p.to_string()).unwrap();
            let info = c.image_info(repo, MULTI_TAG, Some(&want)).unwrap();
            let entry_digest = entries[i]["digest"].as_str().unwrap();
            assert_eq!(info.digest, entry_digest, "{repo} {p}");
            assert_eq!(info.media_type, child_media);
            assert_eq!(info.architecture, p.architecture, "{repo} {p}");
            assert_eq!(info.os, p.os);
            assert_eq!(info.variant.as_deref(), p.variant, "{repo} {p}");
            assert_eq!(
                info.created.as_deref(),
                Some(seed::SMALL_IMAGE_CREATED),
                "{repo} {p}"
            );
            assert_eq!(info.cmd, ["/hello"]);
            let label = format!("{repo} {p}");
            assert_eq!(
                info.labels.get("org.example.fixture").map(String::as_str),
                Some(label.as_str())
            );
            // Layers and size from the child manifest.
            let child = json(&skopeo_raw_manifest(&reg, repo, entry_digest));
            let layers = child["layers"].as_array().unwrap();
            assert_eq!(info.layers.len(), layers.len());
            assert_eq!(info.layers[0].digest, layers[0]["digest"].as_str().unwrap());
            assert_eq!(
                info.size,
                child["config"]["size"].as_u64().unwrap() + layers[0]["size"].as_u64().unwrap()
            );
            assert_eq!(
                info.config_digest,
                child["config"]["digest"].as_str().unwrap()
            );
        }
        // `linux/arm64` without variant also picks the v8 entry.
        let arm = Platform::parse("linux/arm64").unwrap();
        let info = c.image_info(repo, MULTI_TAG, Some(&arm)).unwrap();
        assert_eq!(info.digest, entries[1]["digest"].as_str().unwrap());

        let riscv = Platform::parse("linux/riscv64").unwrap();
        let e = c.image_info(repo, MULTI_TAG, Some(&riscv)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        let msg = e.to_string();
        assert!(msg.contains("linux/riscv64"), "{msg}");
        for p in PLATFORMS {
            assert!(msg.contains(&p.to_string()), "{msg} lacks {p}");
        }
    }
}

#[test]
fn missing_repository_and_tag_are_not_found_with_registry_codes() {
    let reg = Registry::open();
    let c = client(&reg.url());
    let codes = |e: &registry_client::Error| -> Vec<String> {
        e.diagnostics().iter().map(|d| d.code.clone()).collect()
    };

    let e = c.list_tags("no/such-repo").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.http_status(), Some(404));
    assert_eq!(codes(&e), ["NAME_UNKNOWN"], "{e}");
    assert!(e.to_string().contains("no/such-repo"), "{e}");

    // distribution 2.8 answers a manifest of an unknown repository with
    // MANIFEST_UNKNOWN (not NAME_UNKNOWN): the client reports what the
    // registry said, as a raw request shows.
    let raw = support::http::get(
        reg.agent(),
        &format!("{}/v2/no/such-repo/manifests/v1", reg.url()),
        &[("Accept", media::ACCEPT_ALL)],
    );
    assert_eq!(raw.status, 404);
    let raw_code = raw.json()["errors"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let e = c.get_manifest("no/such-repo", "v1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(codes(&e), [raw_code.as_str()], "{e}");
    assert_eq!(codes(&e), ["MANIFEST_UNKNOWN"], "{e}");
    assert!(e.to_string().contains("no/such-repo"), "{e}");

    let e = c.get_manifest(OCI_APP, "no-such-tag").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(codes(&e), ["MANIFEST_UNKNOWN"], "{e}");
    assert!(e.to_string().contains("no-such-tag"), "{e}");

    let missing = format!("sha256:{}", "0".repeat(64));
    let e = c.get_manifest(OCI_APP, &missing).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(codes(&e), ["MANIFEST_UNKNOWN"], "{e}");

    // HEAD has no body, but still NotFound.
    let e = c.manifest_digest(OCI_APP, "no-such-tag").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = c.image_info("no/such-repo", "v1", None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = c.repository_info("no/such-repo").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
fn repository_info_lists_tags() {
    let reg = Registry::open();
    let c = client(&reg.url());
    let info = c.repository_info(MANY_TAGS).unwrap();
    assert_eq!(info.name, MANY_TAGS);
    let mut tags = info.tags.clone();
    tags.sort();
    assert_eq!(tags, seed::many_tags());
    let info = c.repository_info(OCI_APP).unwrap();
    assert_eq!(info.name, OCI_APP);
    assert_eq!(info.tags, [APP_TAG]);
}

#[test]
fn invalid_input_is_refused_before_any_request() {
    let srv = FaultServer::start_repeating(vec![fault::status(500)]);
    let c = client(&srv.url());
    let good_digest = format!("sha256:{}", "a".repeat(64));
    let bad_repos = [
        "", "Oci/App", "oci//app", "/oci", "oci/", "oci/app!", "a..b",
    ];
    let bad_refs = [
        "",
        "bad tag",
        ".hidden",
        "-dash",
        "t@g",
        "sha256:abc",
        "sha256:zz",
        &format!("sha256:{}", "g".repeat(64)),
        &format!("sha256:{}", "A".repeat(64)),
        &"a".repeat(129),
    ];
    let kind = |r: Result<_, registry_client::Error>| match r {
        Ok(_) => panic!("accepted invalid input"),
        Err(e) => e.kind(),
    };
    for repo in bad_repos {
        assert_eq!(
            kind(c.get_manifest(repo, "v1").map(|_| ())),
            ErrorKind::InvalidInput,
            "{repo:?}"
        );
        assert_eq!(
            kind(c.manifest_digest(repo, &good_digest).map(|_| ())),
            ErrorKind::InvalidInput,
            "{repo:?}"
        );
        assert_eq!(
            kind(c.image_info(repo, "v1", None).map(|_| ())),
            ErrorKind::InvalidInput,
            "{repo:?}"
        );
        assert_eq!(
            kind(c.list_tags(repo).map(|_| ())),
            ErrorKind::InvalidInput,
            "{repo:?}"
        );
        assert_eq!(
            kind(c.tag_pages(repo).map(|_| ())),
            ErrorKind::InvalidInput,
            "{repo:?}"
        );
        assert_eq!(
            kind(c.repository_info(repo).map(|_| ())),
            ErrorKind::InvalidInput,
            "{repo:?}"
        );
    }
    for r in bad_refs {
        assert_eq!(
            kind(c.get_manifest("oci/app", r).map(|_| ())),
            ErrorKind::InvalidInput,
            "{r:?}"
        );
        assert_eq!(
            kind(c.manifest_digest("oci/app", r).map(|_| ())),
            ErrorKind::InvalidInput,
            "{r:?}"
        );
        assert_eq!(
            kind(c.image_info("oci/app", r, None).map(|_| ())),
            ErrorKind::InvalidInput,
            "{r:?}"
        );
    }
    assert_eq!(
        kind(c.catalog_page(Some(0), None).map(|_| ())),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        Client::builder(&srv.url())
            .page_size(0)
            .build()
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        Platform::parse("linux").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(srv.request_count(), 0, "{:?}", srv.requests());
    assert_eq!(srv.connection_count(), 0);

    // The same client does reach the server with valid input (so the zero
    // above is not because nothing could ever arrive).
    let e = c.get_manifest("oci/app", "v1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert_eq!(srv.request_count(), 1);
    assert_eq!(srv.requests()[0].path(), "/v2/oci/app/manifests/v1");
}

/// A small but valid OCI manifest, and another one.
fn oci_manifest(tag: &str) -> Vec<u8> {
    let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": d('1'), "size": 2},
        "layers": [{"mediaType": media::OCI_LAYER_GZIP, "digest": d('2'), "size": 3}],
        "annotations": {"tag": tag},
    }))
    .unwrap()
}

#[test]
fn digest_mismatch_from_fault_server() {
    let body = oci_manifest("served");
    let other = oci_manifest("announced");
    let (served, announced) = (digest_of(&body), digest_of(&other));
    assert_ne!(served, announced);
    let ct = ("Content-Type", media::OCI_MANIFEST);
    let srv = FaultServer::start(vec![
        // By tag, with a Docker-Content-Digest that is not the body's.
        fault::respond(
            200,
            &[ct, ("Docker-Content-Digest", announced.as_str())],
            body.clone(),
        ),
        // By digest, without a header: the body is not what was asked for.
        fault::respond(200, &[ct], body.clone()),
        // By digest, with a header naming the right digest but wrong body.
        fault::respond(
            200,
            &[ct, ("Docker-Content-Digest", announced.as_str())],
            body.clone(),
        ),
        // HEAD by digest: the registry says it is another digest.
        fault::respond(
            200,
            &[ct, ("Docker-Content-Digest", served.as_str())],
            Vec::new(),
        ),
        // Control: a consistent answer is accepted.
        fault::respond(
            200,
            &[ct, ("Docker-Content-Digest", served.as_str())],
            body.clone(),
        ),
    ]);
    let c = client(&srv.url());

    let e = c.get_manifest("x/app", "v1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");
    match &e {
        registry_client::Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &announced);
            assert_eq!(actual, &served);
        }
        other => panic!("{other:?}"),
    }

    let e = c.get_manifest("x/app", &announced).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");
    assert!(e.to_string().contains(&announced), "{e}");

    let e = c.get_manifest("x/app", &announced).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");

    let e = c.manifest_digest("x/app", &announced).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");

    let m = c.get_manifest("x/app", "v1").unwrap();
    assert_eq!(m.digest.to_string(), served);
    assert!(m.body == body);

    let reqs = srv.requests();
    assert_eq!(reqs.len(), 5, "{reqs:?}");
    assert_eq!(reqs[1].path(), format!("/v2/x/app/manifests/{announced}"));
    assert_eq!(reqs[3].method, "HEAD");
}

/// README and `ClientBuilder::cache_ttl` promise a response cache ("content
/// fetched by digest never goes stale"): a manifest fetched by digest twice
/// should reach the server once.
#[test]
fn manifest_by_digest_is_served_from_cache() {
    let body = oci_manifest("cached");
    let digest = digest_of(&body);
    let srv = FaultServer::start(vec![fault::respond(
        200,
        &[
            ("Content-Type", media::OCI_MANIFEST),
            ("Docker-Content-Digest", digest.as_str()),
        ],
        body.clone(),
    )]);
    let c = client(&srv.url());
    let first = c.get_manifest("x/app", &digest).unwrap();
    assert!(first.body == body);
    // The script is exhausted: the server would now answer 500.
    let second = c.get_manifest("x/app", &digest);
    assert_eq!(
        srv.request_count(),
        1,
        "second fetch by digest went to the server: {:?}",
        second.as_ref().map(|m| m.digest.to_string())
    );
    assert!(second.unwrap().body == body);
}
