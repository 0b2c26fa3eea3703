//! `regc`'s write commands (push, copy, tag, delete, referrers,
//! blob-upload) against real registries, each result read back by another
//! tool: skopeo, umoci, sha256sum or raw HTTP.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/regc.rs"]
mod regc_bin;
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use regc_bin::regc_path;
use serde_json::Value;
use support::http::get;
use support::seed::{self, APP_TAG, MULTI_OCI, MULTI_TAG, OCI_APP, PLATFORMS};
use support::{
    media, sha256_digest, skopeo_raw_manifest, Auth, Registry, Storage, User, ALICE, BOB,
};

/// A home directory with no logins in it, for every regc run.
fn empty_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// `regc ARGS` with only the credentials `env` gives (no login files).
fn regc(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(regc_path())
        .args(args)
        .env("HOME", empty_home())
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("REGC_REGISTRY")
        .env_remove("REGC_USERNAME")
        .env_remove("REGC_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("spawn regc")
}

fn as_user(u: User) -> [(&'static str, &'static str); 2] {
    [("REGC_USERNAME", u.name), ("REGC_PASSWORD", u.password)]
}

#[track_caller]
fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = regc(args, env);
    assert!(
        out.status.success(),
        "regc {args:?}: {:?}\nstderr: {}",
        out.status,
        stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[track_caller]
fn ok_json(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&all, env)).unwrap()
}

/// Runs regc expecting exit status `code`; returns stderr.
#[track_caller]
fn fails(code: i32, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = regc(args, env);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "{args:?}");
    stderr(&out)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// `GET url` as the admin, with every manifest type accepted: (status, body).
fn raw_get(reg: &Registry, repo: &str, path: &str) -> (u16, Vec<u8>) {
    let url = format!("{}/v2/{repo}/{path}", reg.url());
    let auth = reg.admin_authorization(&[repo]);
    let mut headers = vec![("Accept", media::ACCEPT_ALL)];
    if let Some(a) = auth.as_deref() {
        headers.push(("Authorization", a));
    }
    let resp = get(reg.agent(), &url, &headers);
    (resp.status, resp.body)
}

fn run_tool(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} (tests need it: scripts/install-deps): {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn umoci(args: &[&str]) {
    run_tool(Command::new("umoci").args(args), &format!("umoci {args:?}"));
}

/// An OCI layout built by umoci: image `v1`, two layers (one file each).
fn umoci_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("umoci-layout");
    let l = layout.to_str().unwrap();
    let image = format!("{l}:v1");
    umoci(&["init", "--layout", l]);
    umoci(&["new", "--image", &image]);
    for (i, (path, content)) in [
        ("etc/one.txt", "first layer\n"),
        ("srv/two.txt", "second\n"),
    ]
    .iter()
    .enumerate()
    {
        let bundle = dir.join(format!("bundle{i}"));
        let b = bundle.to_str().unwrap();
        umoci(&["unpack", "--rootless", "--image", &image, b]);
        let file = bundle.join("rootfs").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, content).unwrap();
        umoci(&["repack", "--image", &image, b]);
    }
    umoci(&["config", "--image", &image, "--config.cmd", "/bin/true"]);
    umoci(&["gc", "--layout", l]);
    layout
}

/// The digest `index.json` of a layout names first.
fn index_digest(layout: &Path) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The names of a layout's blobs.
fn blob_names(layout: &Path) -> BTreeSet<String> {
    std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// `skopeo copy` of `image` on `reg` into a new OCI layout `out` (tag `tag`).
fn skopeo_copy_out(reg: &Registry, image: &str, out: &Path, tag: &str) {
    run_tool(
        Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--src-tls-verify=false",
            ])
            .arg(format!("--src-creds={}:{}", ALICE.name, ALICE.password))
            .arg(format!("docker://{}/{image}", reg.host()))
            .arg(format!("oci:{}:{tag}", out.display())),
        "skopeo copy",
    );
}

#[test]
fn push_of_a_umoci_layout_comes_back_identical_through_skopeo() {
    let reg = Registry::basic_empty();
    let alice = as_user(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let layout = umoci_layout(dir.path());
    let digest = index_digest(&layout);
    let l = layout.to_str().unwrap();
    let image = format!("{}/pushed/app:v1", reg.host());

    let out = ok(&["push", l, &image, "--jobs", "2"], &alice);
    assert_eq!(
        out.trim_end(),
        format!(
            "{image} {digest} (3 blobs uploaded, 0 mounted, 0 already there, {} bytes uploaded)",
            blob_bytes(&layout, &digest)
        ),
    );
    // The registry has the manifest's exact bytes.
    let manifest = std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap();
    assert_eq!(skopeo_raw_manifest(&reg, "pushed/app", "v1"), manifest);

    // skopeo copies it out again into the same layout: same index digest,
    // the same blobs.
    let back = dir.path().join("skopeo-layout");
    skopeo_copy_out(&reg, "pushed/app:v1", &back, "v1");
    assert_eq!(index_digest(&back), digest);
    assert_eq!(blob_names(&back), blob_names(&layout));
    for name in blob_names(&layout) {
        assert_eq!(
            std::fs::read(back.join("blobs/sha256").join(&name)).unwrap(),
            std::fs::read(layout.join("blobs/sha256").join(&name)).unwrap(),
            "{name}"
        );
    }

    // Again, under the layout's name (no tag in the target): nothing sent.
    let repo_only = format!("{}/pushed/again", reg.host());
    let v = ok_json(&["push", l, &repo_only, "--ref-name", "v1"], &alice);
    assert_eq!(
        keys(&v),
        [
            "blobs_existing",
            "blobs_mounted",
            "blobs_uploaded",
            "bytes_uploaded",
            "destination",
            "digest",
            "manifests",
            "media_type",
            "reference",
            "registry",
            "repository",
            "source"
        ]
    );
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["reference"], "v1");
    assert_eq!(v["destination"], format!("{repo_only}:v1"));
    assert_eq!(v["repository"], "pushed/again");
    assert_eq!(v["source"], l);
    assert_eq!(v["media_type"], media::OCI_MANIFEST);
    assert_eq!(v["manifests"], serde_json::json!([digest]));
    // A new repository: the blobs are uploaded there too (a push from a
    // layout has no source repository to mount from).
    assert_eq!(v["blobs_uploaded"], 3);
    let v = ok_json(&["push", l, &image], &alice);
    assert_eq!(v["blobs_uploaded"], 0);
    assert_eq!(v["blobs_existing"], 3);
    assert_eq!(v["bytes_uploaded"], 0);

    // A name the layout does not have, a directory that is no layout.
    let err = fails(1, &["push", l, &image, "--ref-name", "nope"], &alice);
    assert!(err.starts_with("error: not_found:"), "{err}");
    let err = fails(1, &["push", dir.path().to_str().unwrap(), &image], &alice);
    assert!(err.starts_with("error: "), "{err}");
    fails(2, &["push", l, &image, "--jobs", "0"], &alice);
    fails(2, &["push", l], &alice);
}

/// The bytes of the blobs a manifest in `layout` names (config and layers).
fn blob_bytes(layout: &Path, digest: &str) -> u64 {
    let m: Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&m["config"]])
        .map(|d| d["size"].as_u64().unwrap())
        .sum()
}

#[test]
fn a_pull_only_user_cannot_push_and_nothing_is_written() {
    let reg = Registry::token_empty();
    let bob = as_user(BOB);
    let dir = tempfile::tempdir().unwrap();
    let layout = umoci_layout(dir.path());
    let l = layout.to_str().unwrap();
    let digest = index_digest(&layout);

    let image = format!("{}/alice/app:v1", reg.host());
    let err = fails(1, &["push", l, &image], &bob);
    assert!(err.starts_with("error: auth:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains(BOB.password), "{err}");
    let err = fails(1, &["--json", "push", l, &image], &bob);
    let v: Value = serde_json::from_str(&err).unwrap();
    assert_eq!(v["error"]["kind"], "auth", "{v}");
    let file = dir.path().join("blob");
    std::fs::write(&file, b"not for bob").unwrap();
    let err = fails(
        1,
        &[
            "blob-upload",
            &format!("{}/alice/blob", reg.host()),
            file.to_str().unwrap(),
        ],
        &bob,
    );
    assert!(err.starts_with("error: auth:"), "{err}");

    // Nothing at all was written.
    let (status, body) = raw_get(&reg, "alice/app", &format!("manifests/{digest}"));
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    for blob in blob_names(&layout) {
        let (status, _) = raw_get(&reg, "alice/app", &format!("blobs/sha256:{blob}"));
        assert_eq!(status, 404, "{blob}");
    }
    let (status, body) = raw_get(
        &reg,
        "alice/blob",
        &format!("blobs/{}", sha256_digest(b"not for bob")),
    );
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert_eq!(catalog(&reg), Vec::<String>::new());

    // Under bob/ he may push; copying from there to elsewhere is refused.
    let own = format!("{}/bob/app:v1", reg.host());
    let v = ok_json(&["push", l, &own], &bob);
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["blobs_uploaded"], 3);
    let err = fails(
        1,
        &["copy", &own, &format!("{}/alice/other", reg.host())],
        &bob,
    );
    assert!(err.starts_with("error: auth:"), "{err}");
    assert_eq!(catalog(&reg), ["bob/app"]);
}

/// The registry's repositories, by raw HTTP as the admin.
fn catalog(reg: &Registry) -> Vec<String> {
    let url = format!("{}/v2/_catalog", reg.url());
    let auth = reg.admin_authorization(&[]).unwrap();
    let resp = get(reg.agent(), &url, &[("Authorization", auth.as_str())]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    serde_json::from_value(resp.json()["repositories"].clone()).unwrap()
}

/// A `REGISTRY_AUTH_FILE` with one login per registry.
fn auth_file(dir: &Path, name: &str, logins: &[(&Registry, User)]) -> PathBuf {
    use base64::Engine as _;
    let auths: serde_json::Map<String, Value> = logins
        .iter()
        .map(|(reg, u)| {
            let auth = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", u.name, u.password));
            (reg.host(), serde_json::json!({ "auth": auth }))
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::json!({ "auths": auths }).to_string()).unwrap();
    path
}

#[test]
fn copy_between_two_registries_keeps_every_digest() {
    let src = Registry::token();
    let dst = Registry::token_empty();
    let dir = tempfile::tempdir().unwrap();
    // Each registry's own login: bob may read the source, only alice may
    // push to the destination.
    let file = auth_file(dir.path(), "auth.json", &[(&src, BOB), (&dst, ALICE)]);
    let env = [("REGISTRY_AUTH_FILE", file.to_str().unwrap())];
    let (s, d) = (src.host(), dst.host());

    // A whole index; no tag at the destination: the source's.
    let out = ok(
        &[
            "copy",
            &format!("{s}/{MULTI_OCI}:{MULTI_TAG}"),
            &format!("{d}/mirror/multi"),
            "--all-platforms",
            "--jobs",
            "3",
        ],
        &env,
    );
    let raw = skopeo_raw_manifest(&src, MULTI_OCI, MULTI_TAG);
    let index_digest = sha256_digest(&raw);
    assert!(
        out.starts_with(&format!("{d}/mirror/multi:{MULTI_TAG} {index_digest} (")),
        "{out}"
    );
    assert_eq!(skopeo_raw_manifest(&dst, "mirror/multi", MULTI_TAG), raw);
    let index: Value = serde_json::from_slice(&raw).unwrap();
    for entry in index["manifests"].as_array().unwrap() {
        let child = entry["digest"].as_str().unwrap();
        let copied = skopeo_raw_manifest(&dst, "mirror/multi", child);
        assert_eq!(sha256_digest(&copied), child);
    }

    // One image, to a tag of its own: JSON.
    let v = ok_json(
        &[
            "copy",
            &format!("{s}/{OCI_APP}:{APP_TAG}"),
            &format!("{d}/mirror/app:copied"),
        ],
        &env,
    );
    let raw = skopeo_raw_manifest(&src, OCI_APP, APP_TAG);
    assert_eq!(skopeo_raw_manifest(&dst, "mirror/app", "copied"), raw);
    assert_eq!(v["digest"], sha256_digest(&raw));
    assert_eq!(v["source"], format!("{s}/{OCI_APP}:{APP_TAG}"));
    assert_eq!(v["destination"], format!("{d}/mirror/app:copied"));
    assert_eq!(v["reference"], "copied");
    assert_eq!(v["registry"], format!("{}/", dst.url()));
    assert_eq!(v["blobs_uploaded"], 1 + seed::APP_LAYER_COUNT);
    assert_eq!(v["blobs_mounted"], 0);

    // One platform of the index: its image manifest, same digest.
    let arm = PLATFORMS[1];
    let platform = format!("{}/{}/{}", arm.os, arm.architecture, arm.variant.unwrap());
    let v = ok_json(
        &[
            "copy",
            &format!("{s}/{MULTI_OCI}:{MULTI_TAG}"),
            &format!("{d}/mirror/one:arm"),
            "--platform",
            &platform,
        ],
        &env,
    );
    let arm_digest = index["manifests"][1]["digest"].as_str().unwrap();
    assert_eq!(v["digest"], arm_digest);
    assert_eq!(
        sha256_digest(&skopeo_raw_manifest(&dst, "mirror/one", "arm")),
        arm_digest
    );

    // The logins the other way round: bob may not push there.
    let swapped = auth_file(dir.path(), "swapped.json", &[(&src, ALICE), (&dst, BOB)]);
    let err = fails(
        1,
        &[
            "copy",
            &format!("{s}/{OCI_APP}:{APP_TAG}"),
            &format!("{d}/mirror/refused"),
        ],
        &[("REGISTRY_AUTH_FILE", swapped.to_str().unwrap())],
    );
    assert!(err.starts_with("error: auth:"), "{err}");

    // Bad usage: a digest as destination, jobs out of range, both platform options.
    let source = format!("{s}/{OCI_APP}:{APP_TAG}");
    let by_digest = format!("{d}/mirror/app@{}", sha256_digest(&raw));
    for bad in [
        vec!["copy", source.as_str(), by_digest.as_str()],
        vec!["copy", source.as_str(), "x/y", "--jobs", "65"],
        vec![
            "copy",
            source.as_str(),
            "x/y",
            "--all-platforms",
            "--platform",
            "linux/amd64",
        ],
        vec!["copy", source.as_str()],
    ] {
        let err = fails(2, &bad, &env);
        assert!(err.contains("usage: regc"), "{bad:?}: {err}");
    }
}

#[test]
fn copy_within_one_registry_mounts_the_blobs() {
    let reg = Registry::builder()
        .auth(Auth::Token)
        .storage(Storage::SeedCopy)
        .start();
    let (h, url) = (reg.host(), reg.url());
    // By reference (a loopback registry named without a scheme, which the
    // client finds to be plain http on first use) and with --registry.
    for (args, tag) in [
        (
            vec![
                "copy".to_string(),
                format!("{h}/{OCI_APP}:{APP_TAG}"),
                format!("{h}/mirror/by-reference:by-reference"),
            ],
            "by-reference",
        ),
        (
            vec![
                "--registry".to_string(),
                url.clone(),
                "copy".to_string(),
                format!("{OCI_APP}:{APP_TAG}"),
                "mirror/by-name:by-name".to_string(),
            ],
            "by-name",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = ok_json(&args, &as_user(ALICE));
        assert_eq!(v["blobs_uploaded"], 0, "{tag}: {v}");
        assert_eq!(v["blobs_mounted"], 1 + seed::APP_LAYER_COUNT, "{tag}: {v}");
        assert_eq!(
            skopeo_raw_manifest(&reg, &format!("mirror/{tag}"), tag),
            skopeo_raw_manifest(&reg, OCI_APP, APP_TAG)
        );
        // The mount left the source as it was; a second copy finds the blobs.
        let again = ok_json(&args, &as_user(ALICE));
        assert_eq!(
            again["blobs_existing"],
            1 + seed::APP_LAYER_COUNT,
            "{again}"
        );
    }
}

#[test]
fn tag_then_delete_and_the_manifest_is_gone() {
    let reg = Registry::basic_empty();
    let alice = as_user(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let layout = umoci_layout(dir.path());
    let digest = index_digest(&layout);
    let h = reg.host();
    ok(
        &["push", layout.to_str().unwrap(), &format!("{h}/del/app:v1")],
        &alice,
    );

    let out = ok(&["tag", &format!("{h}/del/app:v1"), "stable"], &alice);
    assert_eq!(out, format!("{h}/del/app:stable {digest}\n"));
    assert_eq!(
        skopeo_raw_manifest(&reg, "del/app", "stable"),
        skopeo_raw_manifest(&reg, "del/app", "v1")
    );
    let v = ok_json(
        &["tag", &format!("{h}/del/app@{digest}"), "by-digest"],
        &alice,
    );
    assert_eq!(keys(&v), ["digest", "repository", "tag"]);
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["tag"], "by-digest");
    let err = fails(1, &["tag", &format!("{h}/del/app:v1"), "not a tag"], &alice);
    assert!(err.starts_with("error: invalid_input:"), "{err}");
    let err = fails(1, &["tag", &format!("{h}/del/app:missing"), "x"], &alice);
    assert!(err.starts_with("error: not_found:"), "{err}");

    // Tag deletion: distribution 2.8 has none, and says so (an error, and
    // the tag stays).
    let err = fails(
        1,
        &["delete", "--tag-only", &format!("{h}/del/app:stable")],
        &alice,
    );
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(raw_get(&reg, "del/app", "manifests/stable").0, 200);
    fails(
        2,
        &["delete", "--tag-only", &format!("{h}/del/app@{digest}")],
        &alice,
    );
    // No tag or digest: refused, not `latest` by default.
    let err = fails(2, &["delete", &format!("{h}/del/app")], &alice);
    assert!(err.contains("names no tag or digest"), "{err}");

    // A tag is resolved to its digest and the manifest deleted.
    let out = ok(&["delete", &format!("{h}/del/app:stable")], &alice);
    assert_eq!(out, format!("deleted {h}/del/app@{digest}\n"));
    for reference in [digest.as_str(), "v1", "stable", "by-digest"] {
        let (status, body) = raw_get(&reg, "del/app", &format!("manifests/{reference}"));
        assert_eq!(
            status,
            404,
            "{reference}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let err = fails(1, &["delete", &format!("{h}/del/app@{digest}")], &alice);
    assert!(err.starts_with("error: not_found:"), "{err}");

    // JSON, by digest.
    ok(
        &["push", layout.to_str().unwrap(), &format!("{h}/del/app:v2")],
        &alice,
    );
    let v = ok_json(&["delete", &format!("{h}/del/app@{digest}")], &alice);
    assert_eq!(keys(&v), ["digest", "repository"]);
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["repository"], "del/app");
    assert_eq!(raw_get(&reg, "del/app", "manifests/v2").0, 404);

    // A registry with deletion turned off: unsupported, and nothing gone.
    let nodelete = Registry::builder()
        .auth(Auth::Basic)
        .storage(Storage::Empty)
        .delete(false)
        .start();
    let image = format!("{}/keep/app:v1", nodelete.host());
    ok(&["push", layout.to_str().unwrap(), &image], &alice);
    let err = fails(1, &["delete", &image], &alice);
    assert!(err.starts_with("error: unsupported:"), "{err}");
    let err = fails(1, &["--json", "delete", &image], &alice);
    let v: Value = serde_json::from_str(&err).unwrap();
    assert_eq!(v["error"]["kind"], "unsupported");
    assert_eq!(raw_get(&nodelete, "keep/app", "manifests/v1").0, 200);
}

#[test]
fn referrers_come_from_the_tag_schema_on_distribution() {
    use registry_client::Client;
    let reg = Registry::basic_empty();
    let alice = as_user(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let layout = umoci_layout(dir.path());
    let subject = index_digest(&layout);
    let h = reg.host();
    let image = format!("{h}/ref/app:v1");
    ok(&["push", layout.to_str().unwrap(), &image], &alice);

    // No referrers yet.
    assert_eq!(ok(&["referrers", &image], &alice), "");
    let v = ok_json(&["referrers", &image], &alice);
    assert_eq!(v["referrers"], serde_json::json!([]));

    // An SBOM for it, pushed by the library (which keeps the tag schema's
    // index, as distribution 2.8 has no referrers API).
    let c = Client::builder(&reg.url())
        .basic_auth(ALICE.name, ALICE.password)
        .build()
        .unwrap();
    let empty = c.push_blob_bytes("ref/app", b"{}").unwrap().digest;
    let sbom = c
        .push_blob_bytes("ref/app", b"{\"sbom\":true}")
        .unwrap()
        .digest;
    let manifest = skopeo_raw_manifest(&reg, "ref/app", "v1");
    let artifact = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": sbom.as_str(), "size": 13}],
        "subject": {"mediaType": media::OCI_MANIFEST, "digest": subject, "size": manifest.len()},
        "annotations": {"org.example.kind": "sbom"}
    }))
    .unwrap();
    let artifact_digest = sha256_digest(&artifact);
    c.put_manifest(
        "ref/app",
        artifact_digest.as_str(),
        media::OCI_MANIFEST,
        &artifact,
    )
    .unwrap();

    let line = format!(
        "{artifact_digest} application/spdx+json {}\n",
        artifact.len()
    );
    assert_eq!(ok(&["referrers", &image], &alice), line);
    // By digest, and with the matching type: the same.
    let by_digest = format!("{h}/ref/app@{subject}");
    assert_eq!(ok(&["referrers", &by_digest], &alice), line);
    assert_eq!(
        ok(
            &[
                "referrers",
                &image,
                "--artifact-type",
                "application/spdx+json"
            ],
            &alice
        ),
        line
    );
    assert_eq!(
        ok(
            &[
                "referrers",
                &image,
                "--artifact-type",
                "application/vnd.other"
            ],
            &alice
        ),
        ""
    );
    let v = ok_json(&["referrers", &image], &alice);
    assert_eq!(keys(&v), ["from_tag_schema", "referrers", "subject"]);
    assert_eq!(v["subject"], subject.as_str());
    assert_eq!(v["from_tag_schema"], true);
    assert_eq!(
        v["referrers"],
        serde_json::json!([{
            "digest": artifact_digest,
            "media_type": media::OCI_MANIFEST,
            "artifact_type": "application/spdx+json",
            "size": artifact.len(),
            "annotations": {"org.example.kind": "sbom"},
        }])
    );
    // The fallback index is a real tag.
    let tag = format!("sha256-{}", &subject[7..]);
    let index: Value = serde_json::from_slice(&skopeo_raw_manifest(&reg, "ref/app", &tag)).unwrap();
    assert_eq!(index["manifests"][0]["digest"], artifact_digest.as_str());

    let err = fails(
        1,
        &["referrers", &image, "--artifact-type", "not a type"],
        &alice,
    );
    assert!(err.starts_with("error: invalid_input:"), "{err}");
    let err = fails(1, &["referrers", &format!("{h}/ref/app:missing")], &alice);
    assert!(err.starts_with("error: not_found:"), "{err}");
}

/// What the registry's referrers answer says goes through the escaping of
/// everything regc prints: no control character reaches the terminal.
#[test]
fn referrers_from_a_hostile_registry_are_escaped() {
    let subject = format!("sha256:{}", "a".repeat(64));
    let referrer = sha256_digest(b"referrer");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [{
            "mediaType": media::OCI_MANIFEST,
            "digest": referrer,
            "size": 10,
            "artifactType": "application/x\u{1b}]0;pwned\u{7}",
            "annotations": {"note": "ok\nerror: forged\u{1b}[31m\u{9b}"}
        }]
    })
    .to_string();
    let srv = fault::FaultServer::start_repeating(vec![fault::respond(
        200,
        &[("Content-Type", media::OCI_INDEX)],
        index,
    )]);
    let target = format!("team/app@{subject}");
    let base = ["--registry", &srv.url(), "--retries", "0"];
    for json in [false, true] {
        let mut args = base.to_vec();
        if json {
            args.push("--json");
        }
        args.extend(["referrers", target.as_str()]);
        let out = regc(&args, &[]);
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{args:?} {what}: {text:?}"
            );
            assert!(
                !text.lines().any(|l| l.starts_with("error: forged")),
                "{args:?} {what}: {text:?}"
            );
        }
        // Shown, escaped (the JSON still means the same strings).
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&referrer), "{text}");
        if json {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                v["referrers"][0]["annotations"]["note"],
                "ok\nerror: forged\u{1b}[31m\u{9b}"
            );
            assert_eq!(
                v["referrers"][0]["artifact_type"],
                "application/x\u{1b}]0;pwned\u{7}"
            );
        } else {
            assert!(
                text.contains("application/x\\u{1b}]0;pwned\\u{7}"),
                "{text}"
            );
        }
    }
}

#[test]
fn blob_upload_streams_a_file_and_prints_its_digest() {
    let reg = Registry::token_empty();
    let alice = as_user(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let repo = format!("{}/up/blobs", reg.host());

    // Larger than one chunk (8 MiB): sent in several.
    let file = dir.path().join("big.bin");
    write_pattern(&file, (9 << 20) + 12345);
    let sha = run_tool(Command::new("sha256sum").arg(&file), "sha256sum");
    let sha = String::from_utf8(sha).unwrap();
    let hex = sha.split_whitespace().next().unwrap();
    let out = ok(&["blob-upload", &repo, file.to_str().unwrap()], &alice);
    assert_eq!(out, format!("sha256:{hex}\n"));
    let (status, body) = raw_get(&reg, "up/blobs", &format!("blobs/sha256:{hex}"));
    assert_eq!(status, 200);
    assert!(body == std::fs::read(&file).unwrap());

    // From stdin, JSON; the tag of the reference is ignored.
    let small = b"a small blob from stdin\n";
    let mut child = Command::new(regc_path())
        .args(["--json", "blob-upload", &format!("{repo}:ignored"), "-"])
        .env("HOME", empty_home())
        .env("REGC_USERNAME", ALICE.name)
        .env("REGC_PASSWORD", ALICE.password)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), small).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys(&v), ["digest", "size", "source"]);
    assert_eq!(v["digest"], sha256_digest(small));
    assert_eq!(v["size"], small.len());
    assert_eq!(v["source"], "uploaded");
    let (status, body) = raw_get(&reg, "up/blobs", &format!("blobs/{}", sha256_digest(small)));
    assert_eq!((status, body.as_slice()), (200, &small[..]));

    // An empty file is a blob too.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let out = ok(&["blob-upload", &repo, empty.to_str().unwrap()], &alice);
    assert_eq!(out.trim_end(), sha256_digest(b""));

    let missing = dir.path().join("missing");
    let err = fails(
        1,
        &["blob-upload", &repo, missing.to_str().unwrap()],
        &alice,
    );
    assert!(err.starts_with("error: io:"), "{err}");
    let err = fails(
        2,
        &["blob-upload", &repo, dir.path().to_str().unwrap()],
        &alice,
    );
    assert!(err.contains("is a directory"), "{err}");
    fails(2, &["blob-upload", &repo], &alice);
}

/// `n` bytes that do not repeat in short runs, written in pieces.
fn write_pattern(path: &Path, n: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..n / 8 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f.write_all(&x.to_le_bytes()).unwrap();
    }
    f.write_all(&vec![7u8; n % 8]).unwrap();
    f.flush().unwrap();
}

/// A blob more than twice the memory regc may use on it: the file
/// is streamed (peak RSS measured by python3's `getrusage`).
#[test]
fn blob_upload_memory_stays_flat() {
    const SIZE: usize = 96 << 20;
    const MAX_RSS_KIB: u64 = 40 << 10;
    let reg = Registry::open_empty();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("large.bin");
    write_pattern(&file, SIZE);
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:])\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n\
                  sys.exit(r.returncode)";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(regc_path())
        .args(["blob-upload", &format!("{}/up/large", reg.host())])
        .arg(&file)
        .env("HOME", empty_home())
        .stdin(Stdio::null())
        .output()
        .expect("python3 (tests need it: scripts/install-deps)");
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let rss: u64 = err.trim().parse().unwrap_or_else(|_| panic!("{err}"));
    assert!(
        rss < MAX_RSS_KIB,
        "peak RSS {rss} KiB for a {SIZE}-byte blob"
    );
    let digest = String::from_utf8(out.stdout).unwrap();
    let (status, _) = raw_get(&reg, "up/large", &format!("blobs/{}", digest.trim_end()));
    assert_eq!(status, 200);
}

/// With stderr on a terminal (a pty from util-linux `script`), push draws
/// a progress bar there as pull does; the other tests show it stays quiet
/// otherwise (their stderr is empty on success).
#[test]
fn push_and_copy_show_a_progress_bar_on_a_terminal() {
    let reg = Registry::open_empty();
    let dir = tempfile::tempdir().unwrap();
    let layout = umoci_layout(dir.path());
    let h = reg.host();
    let quiet = regc(
        &[
            "push",
            layout.to_str().unwrap(),
            &format!("{h}/bar/quiet:v1"),
        ],
        &[],
    );
    assert!(
        quiet.status.success() && quiet.stderr.is_empty(),
        "{}",
        stderr(&quiet)
    );
    for command in [
        format!("push '{}' '{h}/bar/app:v1'", layout.display()),
        format!("copy '{h}/bar/app:v1' '{h}/bar/copy:v1'"),
    ] {
        let line = format!("'{}' {command} >/dev/null", regc_path().display());
        let out = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("HOME", empty_home())
            .stdin(Stdio::null())
            .output()
            .expect("script (util-linux) is needed for a pty");
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command}: {shown}\n{}", stderr(&out));
        assert!(shown.contains("\r["), "{command}: {shown:?}");
        assert!(shown.contains("] 100% "), "{command}: {shown:?}");
    }
    assert_eq!(
        skopeo_raw_manifest(&reg, "bar/copy", "v1"),
        skopeo_raw_manifest(&reg, "bar/app", "v1")
    );
}
