//! The write path against the suite's real registries: blob uploads
//! (monolithic and chunked), mounts, manifest puts, tags, deletes,
//! referrers through the tag schema (distribution 2.8 has no referrers
//! API), copies and layout pushes, each checked by raw HTTP or skopeo.

mod support;

use std::process::Command;
use std::sync::Arc;

use registry_client::{BlobSource, Client, CopyOptions, ErrorKind, Manifest, UploadOptions};
use serde_json::json;
use support::http::get;
use support::seed::{self, gzip_stored, tar_one_file};
use support::{
    media, noise, sha256_digest, skopeo_raw_manifest, Auth, Registry, Storage, ALICE, BOB,
};

fn client_as(reg: &Registry, user: Option<support::User>) -> Client {
    let mut b = Client::builder(&reg.url()).max_retries(2);
    if let Some(u) = user {
        b = b.basic_auth(u.name, u.password);
    }
    if reg.is_tls() {
        b = b.ca_certificate_pem(&reg.ca_pem());
    }
    b.build().unwrap()
}

fn alice(reg: &Registry) -> Client {
    client_as(reg, (reg.auth() != Auth::None).then_some(ALICE))
}

/// The blob as the registry serves it, by raw HTTP as the admin.
fn raw_blob(reg: &Registry, repo: &str, digest: &str) -> Vec<u8> {
    let url = format!("{}/v2/{repo}/blobs/{digest}", reg.url());
    let auth = reg.admin_authorization(&[repo]);
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let resp = get(reg.agent(), &url, &headers);
    assert_eq!(resp.status, 200, "GET {url}: {}", resp.text());
    resp.body
}

#[test]
fn blobs_of_every_size_go_up_whole_or_in_chunks_and_read_back_the_same() {
    let reg = Registry::token_empty();
    let c = alice(&reg);
    let chunk = 1024;
    for (i, n) in [0usize, 1, 1023, 1024, 1025, 4096, 5000]
        .into_iter()
        .enumerate()
    {
        let data = noise(n, i as u64 + 1);
        let options = UploadOptions::new().chunk_size(chunk);
        let pushed = c.push_blob("up/sizes", data.as_slice(), &options).unwrap();
        assert_eq!(pushed.digest.as_str(), sha256_digest(&data), "{n} bytes");
        assert_eq!(pushed.size, n as u64);
        assert_eq!(pushed.source, BlobSource::Uploaded);
        assert_eq!(raw_blob(&reg, "up/sizes", pushed.digest.as_str()), data);
        assert_eq!(
            c.blob_exists("up/sizes", &pushed.digest).unwrap(),
            Some(n as u64)
        );
        // Known digest, already there: nothing is sent.
        let again = c
            .push_blob(
                "up/sizes",
                data.as_slice(),
                &UploadOptions::new().digest(&pushed.digest).unwrap(),
            )
            .unwrap();
        assert_eq!(again.source, BlobSource::Existed);
    }
    // A larger blob with the default chunk size and progress.
    let data = noise(20 << 20, 99);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let options = UploadOptions::new().progress(move |n| s.lock().unwrap().push(n));
    let pushed = c.push_blob("up/sizes", data.as_slice(), &options).unwrap();
    assert_eq!(pushed.digest.as_str(), sha256_digest(&data));
    assert_eq!(raw_blob(&reg, "up/sizes", pushed.digest.as_str()), data);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.last(), Some(&(20u64 << 20)), "{seen:?}");
    assert!(
        seen.len() >= 3 && seen.windows(2).all(|w| w[0] < w[1]),
        "{seen:?}"
    );
    // Its size known, it is streamed in one PATCH.
    let data = noise(20 << 20, 100);
    let options = UploadOptions::new().size(data.len() as u64);
    let pushed = c.push_blob("up/sizes", data.as_slice(), &options).unwrap();
    assert_eq!(pushed.digest.as_str(), sha256_digest(&data));
    assert_eq!(raw_blob(&reg, "up/sizes", pushed.digest.as_str()), data);
}

#[test]
fn a_blob_that_is_not_what_its_digest_says_is_refused_and_nothing_is_stored() {
    let reg = Registry::basic_empty();
    let c = alice(&reg);
    let data = noise(3000, 7);
    let claimed = sha256_digest(b"something else");
    for chunk in [4096, 1024] {
        let options = UploadOptions::new()
            .digest(claimed.as_str())
            .unwrap()
            .chunk_size(chunk);
        let err = c
            .push_blob("up/wrong", data.as_slice(), &options)
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Registry | ErrorKind::DigestMismatch),
            "{err}"
        );
        assert_eq!(c.blob_exists("up/wrong", claimed.as_str()).unwrap(), None);
        assert_eq!(
            c.blob_exists("up/wrong", sha256_digest(&data).as_str())
                .unwrap(),
            None
        );
    }
    // A source shorter than the size announced: an error before the PUT.
    let options = UploadOptions::new().size(4000);
    let err = c
        .push_blob("up/wrong", data.as_slice(), &options)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        c.blob_exists("up/wrong", sha256_digest(&data).as_str())
            .unwrap(),
        None
    );
}

#[test]
fn a_pull_only_user_gets_auth_and_nothing_is_written() {
    let reg = Registry::token_empty();
    let bob = client_as(&reg, Some(BOB));
    let data = noise(100, 3);
    let err = bob
        .push_blob("alice/private", data.as_slice(), &UploadOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let err = bob
        .put_manifest("alice/private", "v1", media::OCI_MANIFEST, b"{}")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(alice(&reg).list_repositories().unwrap().is_empty());
    // Under bob/ he may push.
    let pushed = bob
        .push_blob("bob/own", data.as_slice(), &UploadOptions::new())
        .unwrap();
    assert_eq!(pushed.digest.as_str(), sha256_digest(&data));
}

#[test]
fn blobs_are_mounted_across_repositories_and_uploaded_when_the_mount_is_refused() {
    let reg = Registry::token_empty();
    let c = alice(&reg);
    let data = noise(5000, 11);
    let d = c.push_blob_bytes("mount/one", &data).unwrap().digest;
    reg.token_server().reset_counts();
    assert!(c.mount_blob("mount/two", &d, "mount/one").unwrap());
    // One token for both repositories: push on the target, pull on the source.
    let asked: Vec<Vec<String>> = reg
        .token_server()
        .requests()
        .into_iter()
        .map(|r| r.scopes)
        .collect();
    assert_eq!(
        asked,
        [[
            "repository:mount/two:pull,push".to_string(),
            "repository:mount/one:pull".to_string()
        ]],
        "{asked:?}"
    );
    assert_eq!(raw_blob(&reg, "mount/two", d.as_str()), data);
    let options = UploadOptions::new()
        .digest(&d)
        .unwrap()
        .size(data.len() as u64)
        .mount_from("mount/one");
    let pushed = c
        .push_blob("mount/three", data.as_slice(), &options)
        .unwrap();
    assert_eq!(pushed.source, BlobSource::Mounted);
    // A repository without the blob: the registry opens an upload instead.
    assert!(!c.mount_blob("mount/four", &d, "mount/empty").unwrap());
    let options = options.mount_from("mount/empty");
    let pushed = c
        .push_blob("mount/four", data.as_slice(), &options)
        .unwrap();
    assert_eq!(pushed.source, BlobSource::Uploaded);
    assert_eq!(raw_blob(&reg, "mount/four", d.as_str()), data);
}

/// Pushes a one-layer OCI image to `repo:tag`: (manifest bytes, digest).
fn push_image(c: &Client, repo: &str, tag: &str, label: &str) -> (Vec<u8>, String) {
    let layer = gzip_stored(&tar_one_file("hello.txt", label.as_bytes()));
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&tar_one_file("hello.txt", label.as_bytes()))]}
    }))
    .unwrap();
    let config_d = c.push_blob_bytes(repo, &config).unwrap().digest;
    let layer_d = c.push_blob_bytes(repo, &layer).unwrap().digest;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config_d.as_str(), "size": config.len()},
        "layers": [{"mediaType": media::OCI_LAYER_GZIP, "digest": layer_d.as_str(), "size": layer.len()}]
    }))
    .unwrap();
    let put = c
        .put_manifest(repo, tag, media::OCI_MANIFEST, &manifest)
        .unwrap();
    assert_eq!(put.digest.as_str(), sha256_digest(&manifest));
    (manifest, put.digest.to_string())
}

#[test]
fn manifests_are_put_tagged_and_deleted_and_skopeo_reads_the_same_bytes() {
    let reg = Registry::basic_empty();
    let c = alice(&reg);
    let (manifest, digest) = push_image(&c, "w/app", "v1", "one");
    assert_eq!(skopeo_raw_manifest(&reg, "w/app", "v1"), manifest);
    // Tagging puts the same bytes: same digest.
    let tagged = c.tag("w/app", "v1", "stable").unwrap();
    assert_eq!(tagged.as_str(), digest);
    assert_eq!(skopeo_raw_manifest(&reg, "w/app", "stable"), manifest);
    let mut tags = c.list_tags("w/app").unwrap();
    tags.sort();
    assert_eq!(tags, ["stable", "v1"]);
    // By digest: the body must be what the digest says.
    let err = c
        .put_manifest(
            "w/app",
            tagged.as_str(),
            media::OCI_MANIFEST,
            b"{\"schemaVersion\":2}",
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    // The cache saw the tag; a delete forgets it.
    assert_eq!(c.get_manifest("w/app", "v1").unwrap().body, manifest);
    assert_eq!(c.delete_manifest("w/app", "v1").unwrap(), tagged);
    let err = c.get_manifest("w/app", "v1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = c.get_manifest("w/app", &tagged).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // Blobs go too.
    let m = Manifest::parse(Some(media::OCI_MANIFEST), &manifest).unwrap();
    let layer = &m.as_image().unwrap().layers[0].digest;
    assert!(c.blob_exists("w/app", layer).unwrap().is_some());
    c.delete_blob("w/app", layer).unwrap();
    assert_eq!(c.blob_exists("w/app", layer).unwrap(), None);
}

#[test]
fn deleting_where_the_registry_has_deletion_off_is_unsupported() {
    let reg = Registry::builder()
        .auth(Auth::Basic)
        .storage(Storage::Empty)
        .delete(false)
        .start();
    let c = alice(&reg);
    let (_, digest) = push_image(&c, "nodelete/app", "v1", "x");
    let err = c.delete_manifest("nodelete/app", "v1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert_eq!(err.http_status(), Some(405));
    assert_eq!(
        c.uncached()
            .manifest_digest("nodelete/app", "v1")
            .unwrap()
            .as_str(),
        digest
    );
}

#[test]
fn referrers_use_the_tag_schema_on_a_registry_without_the_api() {
    let reg = Registry::basic_empty();
    let c = alice(&reg);
    let (manifest, digest) = push_image(&c, "ref/app", "v1", "subject");
    let empty = c.push_blob_bytes("ref/app", b"{}").unwrap().digest;
    let sbom = c
        .push_blob_bytes("ref/app", b"{\"sbom\":true}")
        .unwrap()
        .digest;
    let artifact = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": sbom.as_str(), "size": 13}],
        "subject": {"mediaType": media::OCI_MANIFEST, "digest": digest, "size": manifest.len()},
        "annotations": {"org.example": "yes"}
    }))
    .unwrap();
    let put = c
        .put_manifest(
            "ref/app",
            sha256_digest(&artifact).as_str(),
            media::OCI_MANIFEST,
            &artifact,
        )
        .unwrap();
    assert_eq!(
        put.subject.as_ref().map(|d| d.to_string()),
        Some(digest.clone())
    );
    assert!(
        !put.subject_indexed,
        "distribution 2.8 has no referrers API"
    );
    let found = c.referrers("ref/app", digest.as_str(), None).unwrap();
    assert!(found.from_tag_schema);
    assert_eq!(found.descriptors.len(), 1);
    let r = &found.descriptors[0];
    assert_eq!(r.digest, put.digest);
    assert_eq!(r.artifact_type.as_deref(), Some("application/spdx+json"));
    assert_eq!(
        r.annotations.get("org.example").map(String::as_str),
        Some("yes")
    );
    // The fallback index is a real tag any tool sees.
    let tag = format!("sha256-{}", &digest["sha256:".len()..]);
    let index: serde_json::Value =
        serde_json::from_slice(&skopeo_raw_manifest(&reg, "ref/app", &tag)).unwrap();
    assert_eq!(index["manifests"][0]["digest"], put.digest.as_str());
    let none = c
        .referrers("ref/app", digest.as_str(), Some("application/vnd.other"))
        .unwrap();
    assert!(none.descriptors.is_empty());
    // Pushing the same referrer again adds nothing.
    c.put_manifest(
        "ref/app",
        put.digest.as_str(),
        media::OCI_MANIFEST,
        &artifact,
    )
    .unwrap();
    assert_eq!(
        c.referrers("ref/app", digest.as_str(), None)
            .unwrap()
            .descriptors
            .len(),
        1
    );
}

#[test]
fn a_copy_between_registries_keeps_every_digest_and_a_second_copy_sends_nothing() {
    let src = Registry::token();
    let dst = Registry::basic_empty();
    let (s, d) = (alice(&src), alice(&dst));
    for (repo, tag) in [
        (seed::MULTI_OCI, seed::MULTI_TAG),
        (seed::DOCKER_APP, seed::APP_TAG),
    ] {
        let r = s
            .copy(repo, tag, &d, repo, &CopyOptions::new().all_platforms())
            .unwrap();
        assert_eq!(
            skopeo_raw_manifest(&dst, repo, tag),
            skopeo_raw_manifest(&src, repo, tag),
            "{repo}"
        );
        assert_eq!(
            r.digest.as_str(),
            sha256_digest(&skopeo_raw_manifest(&src, repo, tag))
        );
        assert!(r.blobs_uploaded > 0, "{r:?}");
        for m in &r.manifests {
            assert_eq!(
                d.get_manifest(repo, m).unwrap().body,
                s.get_manifest(repo, m).unwrap().body
            );
        }
        let again = s
            .copy(repo, tag, &d, repo, &CopyOptions::new().all_platforms())
            .unwrap();
        assert_eq!(again.blobs_uploaded, 0, "{again:?}");
        assert_eq!(again.bytes_uploaded, 0);
        assert_eq!(again.blobs_existing, r.blobs_uploaded);
    }
}

#[test]
fn a_copy_within_a_registry_mounts_its_blobs() {
    let reg = Registry::builder()
        .auth(Auth::Token)
        .storage(Storage::SeedCopy)
        .start();
    let c = alice(&reg);
    let r = c
        .copy(
            seed::OCI_APP,
            seed::APP_TAG,
            &c,
            "mirror/app",
            &CopyOptions::new().tag("copied").unwrap(),
        )
        .unwrap();
    assert_eq!(r.blobs_uploaded, 0, "{r:?}");
    assert!(r.blobs_mounted >= 2, "{r:?}");
    assert_eq!(
        skopeo_raw_manifest(&reg, "mirror/app", "copied"),
        skopeo_raw_manifest(&reg, seed::OCI_APP, seed::APP_TAG)
    );
}

#[test]
fn a_layout_pulled_here_is_pushed_back_and_skopeo_copies_it_out_identical() {
    let src = Registry::open();
    let dst = Registry::open_empty();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let pulled = alice(&src)
        .pull(
            seed::MULTI_OCI,
            seed::MULTI_TAG,
            &layout,
            &registry_client::PullOptions::new().all_platforms(),
        )
        .unwrap();
    let pushed = alice(&dst)
        .push_layout(&layout, None, "from/layout", "v9", &CopyOptions::new())
        .unwrap();
    assert_eq!(pushed.digest, pulled.digest);
    assert_eq!(
        skopeo_raw_manifest(&dst, "from/layout", "v9"),
        skopeo_raw_manifest(&src, seed::MULTI_OCI, seed::MULTI_TAG)
    );
    // skopeo copies it back out into a layout with the same index.
    let out = dir.path().join("skopeo-out");
    let status = Command::new("skopeo")
        .args(["copy", "--all", "--src-tls-verify=false"])
        .arg(format!("docker://{}/from/layout:v9", dst.host()))
        .arg(format!("oci:{}:v9", out.display()))
        .status()
        .expect("skopeo is installed");
    assert!(status.success());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], pulled.digest.as_str());
}

#[test]
fn eight_threads_push_through_one_client_and_two_copies_of_one_image_race() {
    let reg = Registry::token_empty();
    let c = alice(&reg);
    let pushed: Vec<(String, Vec<u8>, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let c = c.clone();
                s.spawn(move || {
                    let repo = format!("par/app{i}");
                    let (manifest, digest) = push_image(&c, &repo, "v1", &format!("image {i}"));
                    (repo, manifest, digest)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (repo, manifest, digest) in &pushed {
        assert_eq!(&skopeo_raw_manifest(&reg, repo, "v1"), manifest);
        assert_eq!(&sha256_digest(manifest), digest);
    }
    // Two copies of the same image into one repository at once.
    let dst = Registry::basic_empty();
    let d = alice(&dst);
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (c, d) = (c.clone(), d.clone());
                s.spawn(move || c.copy("par/app3", "v1", &d, "same/app", &CopyOptions::new()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in reports {
        assert_eq!(r.unwrap().digest.as_str(), pushed[3].2);
    }
    assert_eq!(skopeo_raw_manifest(&dst, "same/app", "v1"), pushed[3].1);
}

#[test]
fn deleting_a_tag_alone_on_distribution_2_8_is_unsupported_and_changes_nothing() {
    let reg = Registry::basic_empty();
    let c = alice(&reg);
    let (_, digest) = push_image(&c, "tags/app", "v1", "t");
    c.tag("tags/app", "v1", "old").unwrap();
    // distribution 2.8 reads a tag in a DELETE as a digest (400
    // DIGEST_INVALID): the tag cannot go alone.
    let err = c.delete_tag("tags/app", "old").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert_eq!(err.http_status(), Some(400));
    for tag in ["old", "v1"] {
        assert_eq!(
            c.uncached()
                .manifest_digest("tags/app", tag)
                .unwrap()
                .as_str(),
            digest
        );
    }
}

#[test]
fn a_delete_asks_for_the_delete_action_and_a_user_without_it_deletes_nothing() {
    let reg = Registry::token_empty();
    let c = alice(&reg);
    let (_, digest) = push_image(&c, "bob/app", "v1", "d");
    // Bob may push and pull under bob/, but not delete.
    let bob = client_as(&reg, Some(BOB));
    let err = bob.delete_manifest("bob/app", digest.as_str()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(
        c.uncached()
            .manifest_digest("bob/app", "v1")
            .unwrap()
            .as_str(),
        digest
    );
    reg.token_server().reset_counts();
    c.delete_manifest("bob/app", digest.as_str()).unwrap();
    let scopes: Vec<String> = reg
        .token_server()
        .requests()
        .into_iter()
        .flat_map(|r| r.scopes)
        .collect();
    assert_eq!(scopes, ["repository:bob/app:delete"], "{scopes:?}");
    let err = c.uncached().manifest_digest("bob/app", "v1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn a_copy_stopped_half_way_finishes_later_without_sending_again_what_arrived() {
    let src = Registry::open();
    let dst = Registry::open_empty();
    let (s, d) = (alice(&src), alice(&dst));
    let repo = seed::MULTI_OCI;
    // Stop once the first blob is complete (one job: blobs go one by one).
    let options = CopyOptions::new().all_platforms().jobs(1).progress(|p| {
        if p.blob_done == p.blob_total && p.done < p.total {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    let err = s
        .copy(repo, seed::MULTI_TAG, &d, repo, &options)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("copy cancelled"), "{err}");
    assert_eq!(
        d.uncached()
            .manifest_digest(repo, seed::MULTI_TAG)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound,
        "no manifest before every blob is there"
    );
    let done = s
        .copy(
            repo,
            seed::MULTI_TAG,
            &d,
            repo,
            &CopyOptions::new().all_platforms(),
        )
        .unwrap();
    assert!(done.blobs_existing >= 1, "{done:?}");
    let whole = s
        .copy(
            repo,
            seed::MULTI_TAG,
            &alice(&Registry::open_empty()),
            repo,
            &CopyOptions::new().all_platforms(),
        )
        .unwrap();
    assert_eq!(
        done.blobs_uploaded + done.blobs_existing,
        whole.blobs_uploaded,
        "{done:?} {whole:?}"
    );
    assert_eq!(
        skopeo_raw_manifest(&dst, repo, seed::MULTI_TAG),
        skopeo_raw_manifest(&src, repo, seed::MULTI_TAG)
    );
}

#[test]
fn pushes_and_copies_work_over_tls() {
    let src = Registry::token();
    let dst = Registry::tls_empty();
    let d = alice(&dst);
    let data = noise(10 << 20, 5);
    let options = UploadOptions::new().size(data.len() as u64);
    let pushed = d.push_blob("tls/blob", data.as_slice(), &options).unwrap();
    assert_eq!(raw_blob(&dst, "tls/blob", pushed.digest.as_str()), data);
    let r = alice(&src)
        .copy(
            seed::OCI_APP,
            seed::APP_TAG,
            &d,
            "tls/app",
            &CopyOptions::new(),
        )
        .unwrap();
    assert_eq!(
        skopeo_raw_manifest(&dst, "tls/app", seed::APP_TAG),
        skopeo_raw_manifest(&src, seed::OCI_APP, seed::APP_TAG)
    );
    assert!(r.blobs_uploaded >= 2, "{r:?}");
}

#[test]
fn a_copy_between_two_clients_of_one_loopback_registry_mounts_even_when_only_one_knows_it_is_plain_http(
) {
    let reg = Registry::builder().storage(Storage::SeedCopy).start();
    // Named without a scheme: https until the first request finds plain http.
    let name = format!("127.0.0.1:{}", reg.port());
    let src = Client::new(&name).unwrap();
    let dst = Client::new(&name).unwrap();
    src.manifest_digest(seed::OCI_APP, seed::APP_TAG).unwrap();
    assert_ne!(src.registry_url(), dst.registry_url());
    let r = src
        .copy(
            seed::OCI_APP,
            seed::APP_TAG,
            &dst,
            "mounted/app",
            &CopyOptions::new(),
        )
        .unwrap();
    assert_eq!(r.blobs_uploaded, 0, "{r:?}");
    assert!(r.blobs_mounted >= 2, "{r:?}");
}
