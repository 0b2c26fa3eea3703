//! Pull to an OCI image layout, against the suite's real registries (open,
//! Basic, token, TLS), proven by the real tools (umoci unpacks the layout,
//! skopeo copies it back into a registry with the same digests); and the
//! faults a real registry will not produce (a connection dropped mid-blob,
//! answered 206 or 200; a redirect to a storage host) on the scripted
//! server.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/proxy.rs"]
mod proxy;
mod support;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use registry_client::layout::{Layout, REF_NAME};
use registry_client::{Client, Digest, ErrorKind, Platform, PullOptions};
use serde_json::{json, Value};
use support::seed::{self, gzip_stored, tar_one_file};
use support::{media, sha256_digest, skopeo_raw_manifest, Auth, Registry, ALICE};

fn client_for(reg: &Registry) -> Client {
    let mut b = Client::builder(&reg.url()).max_retries(1);
    if reg.auth() != Auth::None {
        b = b.basic_auth(ALICE.name, ALICE.password);
    }
    if reg.is_tls() {
        b = b.ca_certificate_pem(&reg.ca_pem());
    }
    b.build().unwrap()
}

fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("required tool `{name}` is not installed; tests never skip"))
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Checks what the spec asks of a layout: `oci-layout`, an `index.json`
/// image index, every blob named by its digest, and nothing half-written
/// left behind. Returns the index.
fn check_layout(dir: &Path) -> Value {
    let marker: Value = serde_json::from_slice(&fs::read(dir.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(marker["imageLayoutVersion"], "1.0.0");
    let index: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert!(dir.join("blobs").is_dir());
    let blobs = fs::read_dir(dir.join("blobs/sha256"));
    for entry in blobs.into_iter().flatten() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = fs::read(entry.path()).unwrap();
        assert_eq!(sha256_digest(&bytes), format!("sha256:{name}"));
    }
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            ["blobs", "index.json", "oci-layout"].contains(&name.as_str()),
            "left in the layout: {name}"
        );
    }
    index
}

/// The `index.json` entry named `name`.
fn entry<'a>(index: &'a Value, name: &str) -> &'a Value {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"][REF_NAME] == name)
        .unwrap_or_else(|| panic!("no {name} in {index}"))
}

/// `skopeo copy oci:DIR:REF docker://TARGET/REPO:TAG` into a fresh
/// registry; the digest of what the registry then serves.
fn copy_back(dir: &Path, ref_name: &str, all: bool) -> String {
    let target = Registry::open_empty();
    let mut cmd = Command::new(tool("skopeo"));
    cmd.args(["--insecure-policy", "copy", "--quiet"]);
    if all {
        cmd.arg("--all");
    }
    cmd.args(["--dest-tls-verify=false"])
        .arg(format!("oci:{}:{ref_name}", dir.display()))
        .arg(format!("docker://{}/copied/back:v1", target.host()));
    run(&mut cmd);
    sha256_digest(&skopeo_raw_manifest(&target, "copied/back", "v1"))
}

/// The image `index.json` names `ref_name`, pushed by raw HTTP (the
/// fixture's own pusher, blob by blob, the manifests as stored) into a
/// fresh registry; the digest of what the registry then serves. For layouts
/// of Docker media types, which skopeo 1.9's `oci:` transport does not
/// read (containers/image reads them since v5.35).
fn push_back_raw(dir: &Path, ref_name: &str) -> String {
    fn push(dir: &Path, pusher: &support::http::Pusher<'_>, d: &Value, tag: Option<&str>) {
        let digest = d["digest"].as_str().unwrap();
        let media_type = d["mediaType"].as_str().unwrap();
        let bytes = fs::read(blob_file(dir, digest)).unwrap();
        assert_eq!(sha256_digest(&bytes), digest);
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(children) = doc["manifests"].as_array() {
            for child in children {
                push(dir, pusher, child, None);
            }
        } else {
            for blob in std::iter::once(&doc["config"]).chain(doc["layers"].as_array().unwrap()) {
                let b = fs::read(blob_file(dir, blob["digest"].as_str().unwrap())).unwrap();
                assert_eq!(
                    pusher.push_blob("copied/back", &b),
                    blob["digest"].as_str().unwrap()
                );
            }
        }
        pusher.push_manifest("copied/back", tag.unwrap_or(digest), media_type, &bytes);
    }
    let target = Registry::open_empty();
    let index: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    push(
        dir,
        &target.pusher(&["copied/back"]),
        entry(&index, ref_name),
        Some("v1"),
    );
    sha256_digest(&skopeo_raw_manifest(&target, "copied/back", "v1"))
}

fn xorshift_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut x = seed | 1;
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    out
}

/// An OCI image of one gzip layer per size (a tar of one random file
/// each), pushed by raw HTTP as `repo:tag`: (manifest digest, layer digests).
fn push_layered(reg: &Registry, repo: &str, tag: &str, sizes: &[usize]) -> (String, Vec<String>) {
    let pusher = reg.pusher(&[repo]);
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let tar = tar_one_file(
            &format!("file{i}"),
            &xorshift_bytes(size, 0x5EED + i as u64),
        );
        diff_ids.push(sha256_digest(&tar));
        let gz = gzip_stored(&tar);
        let digest = pusher.push_blob(repo, &gz);
        layers
            .push(json!({"mediaType": media::OCI_LAYER_GZIP, "digest": digest, "size": gz.len()}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_digest = pusher.push_blob(repo, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": layers,
    }))
    .unwrap();
    let digest = pusher.push_manifest(repo, tag, media::OCI_MANIFEST, &manifest);
    let layer_digests = layers
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    (digest, layer_digests)
}

fn blob_file(dir: &Path, digest: &str) -> PathBuf {
    dir.join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

// ---------------------------------------------------------------------------
// Real registries, real tools
// ---------------------------------------------------------------------------

#[test]
fn an_oci_image_unpacks_with_umoci_and_copies_back_with_its_digest() {
    let reg = Registry::open();
    let original = sha256_digest(&skopeo_raw_manifest(&reg, seed::OCI_APP, seed::APP_TAG));
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let report = client_for(&reg)
        .pull(seed::OCI_APP, seed::APP_TAG, &layout, &PullOptions::new())
        .unwrap();
    assert_eq!(report.digest, original.as_str());
    assert_eq!(report.ref_name, seed::APP_TAG);
    assert_eq!(report.manifests, vec![report.digest.clone()]);
    // Manifest, config and the one layer.
    assert_eq!(report.blobs_fetched, 2 + seed::APP_LAYER_COUNT);
    assert_eq!(report.blobs_present, 0);
    let index = check_layout(&layout);
    let e = entry(&index, seed::APP_TAG);
    assert_eq!(e["digest"], original.as_str());
    assert_eq!(e["mediaType"], media::OCI_MANIFEST);
    // The exact bytes the registry serves.
    assert_eq!(
        fs::read(blob_file(&layout, &original)).unwrap(),
        skopeo_raw_manifest(&reg, seed::OCI_APP, seed::APP_TAG)
    );

    let bundle = dir.path().join("bundle");
    run(Command::new(tool("umoci"))
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:{}", layout.display(), seed::APP_TAG))
        .arg(&bundle));
    for (path, content) in seed::APP_FILES {
        assert_eq!(
            fs::read_to_string(bundle.join("rootfs").join(path)).unwrap(),
            *content
        );
    }
    assert_eq!(copy_back(&layout, seed::APP_TAG, false), original);
}

#[test]
fn a_docker_image_over_basic_auth_copies_back_with_its_digest() {
    let reg = Registry::basic();
    let original = sha256_digest(&skopeo_raw_manifest(&reg, seed::DOCKER_APP, seed::APP_TAG));
    let dir = tempfile::tempdir().unwrap();
    let report = client_for(&reg)
        .pull(
            seed::DOCKER_APP,
            seed::APP_TAG,
            dir.path(),
            &PullOptions::new(),
        )
        .unwrap();
    assert_eq!(report.digest, original.as_str());
    assert_eq!(report.media_type, media::DOCKER_MANIFEST);
    let index = check_layout(dir.path());
    assert_eq!(
        entry(&index, seed::APP_TAG)["mediaType"],
        media::DOCKER_MANIFEST
    );
    assert_eq!(push_back_raw(dir.path(), seed::APP_TAG), original);
    // Without credentials the registry refuses, and nothing is named.
    let other = tempfile::tempdir().unwrap();
    let anonymous = Client::builder(&reg.url()).max_retries(0).build().unwrap();
    let e = anonymous
        .pull(
            seed::DOCKER_APP,
            seed::APP_TAG,
            other.path(),
            &PullOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(check_layout(other.path())["manifests"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn one_platform_of_an_index_over_token_auth() {
    let reg = Registry::token();
    let client = client_for(&reg);
    let raw = skopeo_raw_manifest(&reg, seed::MULTI_OCI, seed::MULTI_TAG);
    let index: Value = serde_json::from_slice(&raw).unwrap();
    let digest_for = |arch: &str| {
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == arch)
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (options, arch) in [
        (PullOptions::new(), Platform::host().architecture),
        (
            PullOptions::new().platform(Platform::parse("linux/arm64").unwrap()),
            "arm64".to_string(),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let report = client
            .pull(seed::MULTI_OCI, seed::MULTI_TAG, dir.path(), &options)
            .unwrap();
        let want = digest_for(&arch);
        assert_eq!(report.digest, want.as_str());
        let layout = check_layout(dir.path());
        let e = entry(&layout, seed::MULTI_TAG);
        assert_eq!(e["digest"], want.as_str());
        assert_eq!(e["platform"]["architecture"], arch.as_str());
        // The index is not in the layout, nor the other platform's manifest.
        assert!(!blob_file(dir.path(), &sha256_digest(&raw)).exists());
        let other = if arch == "arm64" { "amd64" } else { "arm64" };
        assert!(!blob_file(dir.path(), &digest_for(other)).exists());
        // The manifest, its config and its layer.
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/sha256"))
                .unwrap()
                .count(),
            3
        );
        assert_eq!(copy_back(dir.path(), seed::MULTI_TAG, false), want);
    }
}

#[test]
fn every_platform_of_an_index_over_tls_copies_back_with_the_index_digest() {
    let reg = Registry::tls();
    let client = client_for(&reg);
    for repo in [seed::MULTI_DOCKER, seed::MULTI_OCI] {
        let raw = skopeo_raw_manifest(&reg, repo, seed::MULTI_TAG);
        let original = sha256_digest(&raw);
        let dir = tempfile::tempdir().unwrap();
        let report = client
            .pull(
                repo,
                seed::MULTI_TAG,
                dir.path(),
                &PullOptions::new().all_platforms().ref_name("all"),
            )
            .unwrap();
        assert_eq!(report.digest, original.as_str());
        assert_eq!(report.manifests.len(), seed::PLATFORMS.len());
        // The index, and per platform a manifest, a config and a layer.
        assert_eq!(report.blobs_fetched, 1 + 3 * seed::PLATFORMS.len());
        let layout = check_layout(dir.path());
        assert_eq!(entry(&layout, "all")["digest"], original.as_str());
        assert_eq!(fs::read(blob_file(dir.path(), &original)).unwrap(), raw);
        for m in &report.manifests {
            assert!(blob_file(dir.path(), m.as_str()).is_file());
        }
        assert_eq!(push_back_raw(dir.path(), "all"), original, "{repo}");
        if repo == seed::MULTI_OCI {
            assert_eq!(copy_back(dir.path(), "all", true), original, "{repo}");
        }
    }
}

#[test]
fn a_platform_the_index_lacks_is_not_found_naming_those_it_has() {
    let reg = Registry::open();
    let dir = tempfile::tempdir().unwrap();
    let e = client_for(&reg)
        .pull(
            seed::MULTI_OCI,
            seed::MULTI_TAG,
            dir.path(),
            &PullOptions::new().platform(Platform::parse("linux/s390x").unwrap()),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let text = e.to_string();
    assert!(text.contains("linux/s390x"), "{text}");
    assert!(
        text.contains("linux/amd64") && text.contains("linux/arm64/v8"),
        "{text}"
    );
    assert_eq!(fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);
}

/// Blob GETs the relay saw, by digest.
fn blob_gets(relay: &proxy::Relay) -> Vec<String> {
    relay
        .requests()
        .iter()
        .filter(|l| l.starts_with("GET ") && l.contains("/blobs/"))
        .map(|l| {
            let path = l.split(' ').nth(1).unwrap();
            path.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_pull_again_fetches_only_what_is_missing_or_damaged() {
    let reg = Registry::open_empty();
    let (digest, layers) = push_layered(&reg, "multi/layers", "v1", &[300_000, 200_000, 100_000]);
    let relay = proxy::Relay::start(&reg.host());
    let client = Client::builder(&relay.url())
        .max_retries(0)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pull = || {
        client
            .pull("multi/layers", "v1", dir.path(), &PullOptions::new())
            .unwrap()
    };
    let first = pull();
    assert_eq!(first.digest, digest.as_str());
    assert_eq!(first.blobs_fetched, 5, "{first:?}");
    // Config and three layers, once each.
    let got = blob_gets(&relay);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 4, "{got:?}");

    // Nothing missing: no blob is asked for.
    relay.clear();
    let again = pull();
    assert_eq!(
        (again.blobs_fetched, again.blobs_present),
        (0, 5),
        "{again:?}"
    );
    assert_eq!(blob_gets(&relay), Vec::<String>::new());

    // One blob gone, one cut short, one with the right length but wrong
    // bytes: those three, and only those, are fetched again.
    fs::remove_file(blob_file(dir.path(), &layers[0])).unwrap();
    let cut = blob_file(dir.path(), &layers[1]);
    let bytes = fs::read(&cut).unwrap();
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let flipped = blob_file(dir.path(), &layers[2]);
    let mut bytes = fs::read(&flipped).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&flipped, &bytes).unwrap();
    relay.clear();
    let repaired = pull();
    assert_eq!(
        (repaired.blobs_fetched, repaired.blobs_present),
        (3, 2),
        "{repaired:?}"
    );
    let mut got = blob_gets(&relay);
    got.sort();
    let mut want = layers.clone();
    want.sort();
    assert_eq!(got, want);
    check_layout(dir.path());
    assert_eq!(copy_back(dir.path(), "v1", false), digest);
}

#[test]
fn progress_adds_up_per_blob_and_overall() {
    let reg = Registry::open_empty();
    let sizes = [400_000, 300_000, 200_000, 100_000, 50_000];
    let (_, layers) = push_layered(&reg, "multi/progress", "v1", &sizes);
    let client = client_for(&reg);
    let dir = tempfile::tempdir().unwrap();
    #[derive(Debug, Clone)]
    struct Event {
        digest: String,
        blob_done: u64,
        blob_total: u64,
        done: u64,
        total: u64,
        thread: std::thread::ThreadId,
    }
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let seen = Arc::clone(&events);
    let options = PullOptions::new().jobs(3).progress(move |p| {
        seen.lock().unwrap().push(Event {
            digest: p.digest.to_string(),
            blob_done: p.blob_done,
            blob_total: p.blob_total,
            done: p.done,
            total: p.total,
            thread: std::thread::current().id(),
        });
        ControlFlow::Continue(())
    });
    let report = client
        .pull("multi/progress", "v1", dir.path(), &options)
        .unwrap();
    let events = events.lock().unwrap().clone();
    // Every blob of the layout, each counted once.
    let on_disk: u64 = fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(events.iter().all(|e| e.total == on_disk), "{on_disk}");
    assert_eq!(events.iter().map(|e| e.done).max(), Some(on_disk));
    let mut last: BTreeMap<&str, &Event> = BTreeMap::new();
    for e in &events {
        assert!(e.blob_done <= e.blob_total && e.done <= e.total, "{e:?}");
        if let Some(prev) = last.get(e.digest.as_str()) {
            assert!(e.blob_done >= prev.blob_done, "{prev:?} then {e:?}");
        }
        last.insert(&e.digest, e);
    }
    assert_eq!(last.len(), 2 + sizes.len());
    for e in last.values() {
        assert_eq!(e.blob_done, e.blob_total, "{e:?}");
    }
    for l in &layers {
        assert_eq!(
            last[l.as_str()].blob_total,
            fs::metadata(blob_file(dir.path(), l)).unwrap().len()
        );
    }
    // Layers were reported from the worker threads, not the caller's.
    let caller = std::thread::current().id();
    assert!(events
        .iter()
        .filter(|e| layers.contains(&e.digest))
        .all(|e| e.thread != caller));
    assert_eq!(
        report.bytes_downloaded,
        on_disk - report_manifest_bytes(dir.path(), &report)
    );
}

/// The bytes of the manifests a report names.
fn report_manifest_bytes(dir: &Path, r: &registry_client::PullReport) -> u64 {
    r.manifests
        .iter()
        .map(|m| fs::metadata(blob_file(dir, m.as_str())).unwrap().len())
        .sum()
}

#[test]
fn cancelling_from_the_progress_callback_stops_the_pull_and_names_nothing() {
    let reg = Registry::open_empty();
    push_layered(
        &reg,
        "multi/cancel",
        "v1",
        &[2_000_000, 2_000_000, 2_000_000],
    );
    let client = client_for(&reg);
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&calls);
    let options = PullOptions::new().progress(move |p| {
        *counted.lock().unwrap() += 1;
        if p.blob_done > 100_000 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let e = client
        .pull("multi/cancel", "v1", dir.path(), &options)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.to_string().contains("cancelled"), "{e}");
    let source = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .expect("an io::Error source");
    assert_eq!(source.kind(), std::io::ErrorKind::Interrupted);
    // No layer was finished, nothing is named, nothing half-written is left.
    let index = check_layout(dir.path());
    assert!(index["manifests"].as_array().unwrap().is_empty());
    let blobs = fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .count();
    assert!(blobs <= 2, "{blobs} blobs: the manifest and config at most");
    // Pulling again without the callback finishes.
    client
        .pull("multi/cancel", "v1", dir.path(), &PullOptions::new())
        .unwrap();
    check_layout(dir.path());
}

#[test]
fn jobs_out_of_range_are_refused_before_any_request() {
    let server = fault::FaultServer::start(vec![]);
    let client = Client::builder(&server.url()).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for jobs in [0, registry_client::MAX_PULL_JOBS + 1] {
        let e = client
            .pull("app", "v1", dir.path(), &PullOptions::new().jobs(jobs))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
    assert_eq!(server.request_count(), 0);
}

// ---------------------------------------------------------------------------
// Faults a real registry will not produce
// ---------------------------------------------------------------------------

/// A one-layer OCI image: (manifest, its digest, config, config digest,
/// layer digest).
struct Scripted {
    manifest: String,
    digest: String,
    config: Vec<u8>,
    config_digest: String,
    layer: Vec<u8>,
    layer_digest: String,
}

fn scripted(layer: Vec<u8>) -> Scripted {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec();
    let config_digest = sha256_digest(&config);
    let layer_digest = sha256_digest(&layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": media::OCI_LAYER_GZIP, "digest": layer_digest, "size": layer.len()}],
    })
    .to_string();
    Scripted {
        digest: sha256_digest(manifest.as_bytes()),
        manifest,
        config,
        config_digest,
        layer,
        layer_digest,
    }
}

const OCTETS: (&str, &str) = ("Content-Type", "application/octet-stream");

/// A server for `img` whose layer answers are `layer_steps`.
fn serve(img: &Scripted, layer_steps: Vec<fault::Step>) -> fault::FaultServer {
    fault::FaultServer::start_routed(vec![
        (
            fault::Route::prefix("/v2/app/manifests/"),
            vec![fault::respond(
                200,
                &[
                    ("Content-Type", media::OCI_MANIFEST),
                    ("Docker-Content-Digest", &img.digest),
                ],
                img.manifest.clone(),
            )],
        ),
        (
            fault::Route::prefix(&format!("/v2/app/blobs/{}", img.config_digest)),
            vec![fault::respond(200, &[OCTETS], img.config.clone())],
        ),
        (
            fault::Route::prefix(&format!("/v2/app/blobs/{}", img.layer_digest)),
            layer_steps,
        ),
    ])
}

fn layer_requests(server: &fault::FaultServer, img: &Scripted) -> Vec<fault::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with(&img.layer_digest))
        .collect()
}

fn fault_client(server: &fault::FaultServer) -> Client {
    Client::builder(&server.url())
        .max_retries(0)
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn a_blob_cut_off_mid_way_resumes_with_range_on_a_206() {
    let img = scripted(xorshift_bytes(200_000, 7));
    let cut = 70_001usize;
    let n = img.layer.len();
    let server = serve(
        &img,
        vec![
            fault::partial_body(200, &[OCTETS], n as u64, img.layer[..cut].to_vec()),
            fault::respond(
                206,
                &[
                    OCTETS,
                    ("Content-Range", &format!("bytes {cut}-{}/{n}", n - 1)),
                ],
                img.layer[cut..].to_vec(),
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let report = fault_client(&server)
        .pull("app", "v1", dir.path(), &PullOptions::new())
        .unwrap();
    assert_eq!(report.resumes, 1);
    // Every byte came once.
    assert_eq!(report.bytes_downloaded, (n + img.config.len()) as u64);
    let asked = layer_requests(&server, &img);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[0].header("range"), None);
    assert_eq!(
        asked[1].header("range"),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(
        fs::read(blob_file(dir.path(), &img.layer_digest)).unwrap(),
        img.layer
    );
    assert_eq!(
        entry(&check_layout(dir.path()), "v1")["digest"],
        img.digest.as_str()
    );
}

#[test]
fn a_blob_cut_off_mid_way_starts_over_on_a_200() {
    let img = scripted(xorshift_bytes(150_000, 11));
    let cut = 50_000usize;
    let n = img.layer.len();
    let server = serve(
        &img,
        vec![
            fault::partial_body(200, &[OCTETS], n as u64, img.layer[..cut].to_vec()),
            fault::respond(200, &[OCTETS], img.layer.clone()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let dones = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&dones);
    let layer_digest = img.layer_digest.clone();
    let options = PullOptions::new().progress(move |p| {
        if p.digest.as_str() == layer_digest {
            seen.lock().unwrap().push(p.blob_done);
        }
        ControlFlow::Continue(())
    });
    let report = fault_client(&server)
        .pull("app", "v1", dir.path(), &options)
        .unwrap();
    assert_eq!(report.resumes, 1);
    let asked = layer_requests(&server, &img);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(
        asked[1].header("range"),
        Some(format!("bytes={cut}-").as_str())
    );
    // What was kept was dropped, and the whole blob read again.
    assert_eq!(
        report.bytes_downloaded,
        (cut + n + img.config.len()) as u64,
        "{report:?}"
    );
    let dones = dones.lock().unwrap().clone();
    let back = dones.windows(2).any(|w| w[1] < w[0]);
    assert!(back, "blob_done never went back: {dones:?}");
    assert_eq!(dones.last(), Some(&(n as u64)));
    assert_eq!(
        fs::read(blob_file(dir.path(), &img.layer_digest)).unwrap(),
        img.layer
    );
    check_layout(dir.path());
}

#[test]
fn a_bad_206_fails_and_leaves_nothing_behind() {
    let img = scripted(xorshift_bytes(100_000, 13));
    let cut = 40_000usize;
    let n = img.layer.len();
    let head = || fault::partial_body(200, &[OCTETS], n as u64, img.layer[..cut].to_vec());
    let mut wrong = img.layer[cut..].to_vec();
    wrong[10] ^= 1;
    let cases: Vec<(fault::Step, ErrorKind, &str)> = vec![
        // A part from another offset than asked.
        (
            fault::respond(
                206,
                &[OCTETS, ("Content-Range", &format!("bytes 0-{}/{n}", n - 1))],
                img.layer.clone(),
            ),
            ErrorKind::Registry,
            "from byte",
        ),
        // No Content-Range at all.
        (
            fault::respond(206, &[OCTETS], img.layer[cut..].to_vec()),
            ErrorKind::Registry,
            "Content-Range",
        ),
        // The right range of the wrong bytes: the whole is checked.
        (
            fault::respond(
                206,
                &[
                    OCTETS,
                    ("Content-Range", &format!("bytes {cut}-{}/{n}", n - 1)),
                ],
                wrong.clone(),
            ),
            ErrorKind::DigestMismatch,
            &img.layer_digest,
        ),
        // A blob of another size than the manifest says.
        (
            fault::respond(
                206,
                &[
                    OCTETS,
                    ("Content-Range", &format!("bytes {cut}-{}/{}", n, n + 1)),
                ],
                [&img.layer[cut..], b"x"].concat(),
            ),
            ErrorKind::DigestMismatch,
            "bytes",
        ),
    ];
    for (second, kind, says) in cases {
        let server = serve(&img, vec![head(), second]);
        let dir = tempfile::tempdir().unwrap();
        let e = fault_client(&server)
            .pull("app", "v1", dir.path(), &PullOptions::new())
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(says), "{e}");
        assert!(!blob_file(dir.path(), &img.layer_digest).exists());
        let index = check_layout(dir.path());
        assert!(index["manifests"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_connection_that_keeps_dropping_gives_up_with_a_clear_error() {
    let img = scripted(xorshift_bytes(100_000, 17));
    let n = img.layer.len();
    // Every answer stops after 1000 bytes, from wherever it starts.
    let mut steps = vec![fault::partial_body(
        200,
        &[OCTETS],
        n as u64,
        img.layer[..1000].to_vec(),
    )];
    for i in 1..40 {
        let from = 1000 * i;
        steps.push(fault::partial_body(
            206,
            &[
                OCTETS,
                ("Content-Range", &format!("bytes {from}-{}/{n}", n - 1)),
            ],
            (n - from) as u64,
            img.layer[from..from + 1000].to_vec(),
        ));
    }
    let server = serve(&img, steps);
    let dir = tempfile::tempdir().unwrap();
    let e = fault_client(&server)
        .pull("app", "v1", dir.path(), &PullOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.to_string().contains("dropped"), "{e}");
    assert!(layer_requests(&server, &img).len() < 40);
    check_layout(dir.path());
}

#[test]
fn a_blob_redirected_to_a_storage_host_is_fetched_without_credentials() {
    let img = scripted(xorshift_bytes(50_000, 19));
    let storage = fault::FaultServer::start_routed(vec![(
        fault::Route::prefix("/storage/"),
        vec![fault::respond(200, &[OCTETS], img.layer.clone())],
    )]);
    let challenge = fault::respond(
        401,
        &[("WWW-Authenticate", "Basic realm=\"registry\"")],
        Vec::new(),
    );
    let registry = fault::FaultServer::start_routed(vec![
        (
            fault::Route::prefix("/v2/app/manifests/"),
            vec![
                challenge,
                fault::respond(
                    200,
                    &[
                        ("Content-Type", media::OCI_MANIFEST),
                        ("Docker-Content-Digest", &img.digest),
                    ],
                    img.manifest.clone(),
                ),
            ],
        ),
        (
            fault::Route::prefix(&format!("/v2/app/blobs/{}", img.config_digest)),
            vec![fault::respond(200, &[OCTETS], img.config.clone())],
        ),
        (
            fault::Route::prefix(&format!("/v2/app/blobs/{}", img.layer_digest)),
            vec![fault::redirect(
                307,
                &format!("{}/storage/layer?signature=abc", storage.url()),
            )],
        ),
    ]);
    let client = Client::builder(&registry.url())
        .basic_auth(ALICE.name, ALICE.password)
        .max_retries(0)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    client
        .pull("app", "v1", dir.path(), &PullOptions::new())
        .unwrap();
    let asked = layer_requests(&registry, &img);
    assert_eq!(asked.len(), 1);
    assert!(asked[0].has_header("authorization"), "{asked:?}");
    let fetched = storage.requests();
    assert_eq!(fetched.len(), 1);
    assert!(!fetched[0].has_header("authorization"), "{fetched:?}");
    assert_eq!(
        fs::read(blob_file(dir.path(), &img.layer_digest)).unwrap(),
        img.layer
    );
}

#[test]
fn the_layout_written_reads_back_through_layout() {
    let reg = Registry::open();
    let dir = tempfile::tempdir().unwrap();
    let report = client_for(&reg)
        .pull(
            seed::OCI_APP,
            seed::APP_TAG,
            dir.path(),
            &PullOptions::new(),
        )
        .unwrap();
    let layout = Layout::open(dir.path()).unwrap();
    let d = layout.resolve(seed::APP_TAG).unwrap().unwrap();
    assert_eq!(d.digest, report.digest);
    let manifest = layout.read_blob(&d.digest, 1 << 20).unwrap();
    assert_eq!(Digest::sha256(&manifest), report.digest);
}
