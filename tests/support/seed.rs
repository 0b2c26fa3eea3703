//! The shared seed: registry storage built once (per target dir) and served
//! read-only by every seeded registry. Facts to compare against are the
//! constants below; digests are NOT constants (compute them at test time with
//! [`skopeo_raw_manifest`] + [`super::sha256_hex`]).
//!
//! Layout of `$CARGO_TARGET_TMPDIR/registry-seed-v2/` ([`SEED_VERSION`]):
//! * `storage/` — distribution storage root (`docker/registry/v2/...`)
//! * `oci-layout/` — the umoci OCI layout `oci/app` and `docker/app` came from (tag `v1`)
//! * `COMPLETE` — written before the atomic rename that publishes the dir

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::http::{sha256_digest, Pusher};
use super::media;
use super::registry::{Registry, Storage};
use super::tools::{require_tool, run, DOCKER_REGISTRY};
use super::{Auth, User, ALICE};

/// Name of the seed directory under `CARGO_TARGET_TMPDIR`; bump when the content changes.
pub const SEED_VERSION: &str = "registry-seed-v2";

/// OCI image (umoci-built, pushed by skopeo as OCI).
pub const OCI_APP: &str = "oci/app";
/// Docker v2 schema 2 image (same image, pushed by skopeo `--format v2s2`).
pub const DOCKER_APP: &str = "docker/app";
/// Tag of [`OCI_APP`] and [`DOCKER_APP`].
pub const APP_TAG: &str = "v1";

/// OCI image index with [`PLATFORMS`].
pub const MULTI_OCI: &str = "multi/oci";
/// Docker manifest list with [`PLATFORMS`].
pub const MULTI_DOCKER: &str = "multi/docker";
/// Tag of [`MULTI_OCI`] and [`MULTI_DOCKER`].
pub const MULTI_TAG: &str = "latest";

/// One OCI image tagged [`MANY_TAGS_COUNT`] times: `t00` … `t24`.
pub const MANY_TAGS: &str = "many/tags";
pub const MANY_TAGS_COUNT: usize = 25;

/// `repos/r00` … `repos/r29`, one tiny OCI image tagged `latest` each.
pub const EXTRA_REPO_PREFIX: &str = "repos/r";
pub const EXTRA_REPO_COUNT: usize = 30;
pub const EXTRA_REPO_TAG: &str = "latest";

/// Small OCI image, anonymously pullable on token registries.
pub const PUBLIC_HELLO: &str = "public/hello";
pub const PUBLIC_HELLO_TAG: &str = "latest";

/// Manifest media type of each single-image repository pushed by raw HTTP
/// ([`MANY_TAGS`], `repos/*`, [`PUBLIC_HELLO`]).
pub const SMALL_IMAGE_MEDIA_TYPE: &str = media::OCI_MANIFEST;

// Image config of oci/app:v1 and docker/app:v1.
pub const APP_ARCHITECTURE: &str = "amd64";
pub const APP_OS: &str = "linux";
pub const APP_AUTHOR: &str = "Registry Client Tests <tests@example.org>";
pub const APP_ENTRYPOINT: &[&str] = &["/bin/app"];
pub const APP_CMD: &[&str] = &["--serve"];
pub const APP_ENV: &[&str] = &["PATH=/usr/bin", "APP_MODE=test"];
pub const APP_WORKING_DIR: &str = "/srv";
pub const APP_USER: &str = "1000:1000";
pub const APP_LABELS: &[(&str, &str)] = &[
    ("org.example.team", "registry"),
    ("org.example.version", "1.0"),
];
/// Files added to the app's (single) layer: (path in rootfs, content).
pub const APP_FILES: &[(&str, &str)] = &[
    ("bin/app", "#!/bin/sh\necho registry-client test app\n"),
    ("srv/data.txt", "hello from the registry-client fixture\n"),
];
/// Number of layers of the app image.
pub const APP_LAYER_COUNT: usize = 1;

/// A platform of the multi-arch images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: &'static str,
    pub architecture: &'static str,
    pub variant: Option<&'static str>,
}

/// `os/arch[/variant]`, e.g. `linux/arm64/v8`.
impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Platforms of [`MULTI_OCI`] and [`MULTI_DOCKER`], in manifest order.
pub const PLATFORMS: &[Platform] = &[
    Platform {
        os: "linux",
        architecture: "amd64",
        variant: None,
    },
    Platform {
        os: "linux",
        architecture: "arm64",
        variant: Some("v8"),
    },
];

/// `t00` … `t24`.
pub fn many_tags() -> Vec<String> {
    (0..MANY_TAGS_COUNT).map(|i| format!("t{i:02}")).collect()
}

/// `repos/r00` … `repos/r29`.
pub fn extra_repos() -> Vec<String> {
    (0..EXTRA_REPO_COUNT)
        .map(|i| format!("{EXTRA_REPO_PREFIX}{i:02}"))
        .collect()
}

/// Every repository of the seed, sorted as `_catalog` lists them.
pub fn all_repositories() -> Vec<String> {
    let mut v: Vec<String> = [
        OCI_APP,
        DOCKER_APP,
        MULTI_OCI,
        MULTI_DOCKER,
        MANY_TAGS,
        PUBLIC_HELLO,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra_repos());
    v.sort();
    v
}

/// `created` of the small raw-HTTP images' configs.
pub const SMALL_IMAGE_CREATED: &str = "2024-01-01T00:00:00Z";

/// Content of the single file (`/hello.txt`) of a small raw-HTTP image;
/// distinct per repository/platform so every image has distinct blobs.
pub fn small_image_file(label: &str) -> String {
    format!("registry-client fixture image: {label}\n")
}

/// The seed directory (built on first use, shared across processes and runs).
pub fn seed_dir() -> PathBuf {
    static SEED: OnceLock<PathBuf> = OnceLock::new();
    SEED.get_or_init(ensure_seed).clone()
}

/// The registry storage root of the seed.
pub fn seed_storage() -> PathBuf {
    seed_dir().join("storage")
}

/// The umoci OCI layout of the app image (tag `v1`); read-only, copy it before
/// modifying. Handy for `skopeo copy oci:<layout>:v1 docker://...` in push tests.
pub fn seed_oci_layout() -> PathBuf {
    seed_dir().join("oci-layout")
}

fn ensure_seed() -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let final_dir = base.join(SEED_VERSION);
    if final_dir.join("COMPLETE").is_file() {
        return final_dir;
    }
    if final_dir.exists() {
        panic!(
            "fixture: {} exists but has no COMPLETE marker (not made by this fixture?); delete it",
            final_dir.display()
        );
    }
    // Check tools before spending time.
    for t in ["skopeo", "umoci", "openssl"] {
        require_tool(t);
    }
    require_tool(DOCKER_REGISTRY);

    fs::create_dir_all(&base).expect("fixture: create CARGO_TARGET_TMPDIR");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tmp = base.join(format!("{SEED_VERSION}.tmp-{}-{nanos}", std::process::id()));
    let guard = RemoveOnDrop(tmp.clone());
    let started = Instant::now();
    build_seed(&tmp);
    let took = started.elapsed();
    fs::write(
        tmp.join("COMPLETE"),
        format!("built by pid {} in {took:?}\n", std::process::id()),
    )
    .expect("fixture: write COMPLETE");
    match fs::rename(&tmp, &final_dir) {
        Ok(()) => {
            std::mem::forget(guard);
            eprintln!("fixture: built seed {} in {took:?}", final_dir.display());
        }
        Err(e) => {
            // Lost the race against another test binary: use the winner's.
            if !final_dir.join("COMPLETE").is_file() {
                panic!(
                    "fixture: cannot publish seed {} → {}: {e}",
                    tmp.display(),
                    final_dir.display()
                );
            }
            drop(guard);
        }
    }
    final_dir
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn build_seed(dir: &Path) {
    let storage = dir.join("storage");
    fs::create_dir_all(&storage).expect("fixture: create seed storage");
    let layout = dir.join("oci-layout");
    build_app_layout(dir, &layout);

    let reg = Registry::builder()
        .auth(Auth::None)
        .storage(Storage::Dir(storage))
        .start();

    // oci/app:v1 (OCI) and docker/app:v1 (Docker v2 schema 2) via skopeo.
    let skopeo = require_tool("skopeo");
    let src = format!("oci:{}:{APP_TAG}", layout.display());
    run(
        Command::new(&skopeo).args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            &src,
            &format!("docker://{}/{OCI_APP}:{APP_TAG}", reg.host()),
        ]),
        "skopeo copy (OCI)",
    );
    run(
        Command::new(&skopeo).args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--format",
            "v2s2",
            "--dest-tls-verify=false",
            &src,
            &format!("docker://{}/{DOCKER_APP}:{APP_TAG}", reg.host()),
        ]),
        "skopeo copy (v2s2)",
    );

    let pusher = reg.pusher(&[]);

    // multi/oci:latest and multi/docker:latest.
    for (repo, docker) in [(MULTI_OCI, false), (MULTI_DOCKER, true)] {
        let mut entries = Vec::new();
        for p in PLATFORMS {
            let img = push_small_image(
                &pusher,
                repo,
                None,
                Some(p),
                &format!("{repo} {}", p),
                docker,
            );
            let mut platform = json!({"architecture": p.architecture, "os": p.os});
            if let Some(v) = p.variant {
                platform["variant"] = json!(v);
            }
            entries.push(json!({
                "mediaType": img.media_type,
                "digest": img.digest,
                "size": img.manifest.len(),
                "platform": platform,
            }));
        }
        let media_type = if docker {
            media::DOCKER_MANIFEST_LIST
        } else {
            media::OCI_INDEX
        };
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": entries,
        });
        let bytes = serde_json::to_vec_pretty(&index).unwrap();
        pusher.push_manifest(repo, MULTI_TAG, media_type, &bytes);
    }

    // many/tags:t00..t24 (one image).
    let img = push_small_image(&pusher, MANY_TAGS, None, None, MANY_TAGS, false);
    for tag in many_tags() {
        pusher.push_manifest(MANY_TAGS, &tag, &img.media_type, &img.manifest);
    }

    // repos/r00..r29.
    for repo in extra_repos() {
        push_small_image(&pusher, &repo, Some(EXTRA_REPO_TAG), None, &repo, false);
    }

    // public/hello:latest.
    push_small_image(
        &pusher,
        PUBLIC_HELLO,
        Some(PUBLIC_HELLO_TAG),
        None,
        PUBLIC_HELLO,
        false,
    );
    drop(reg);
}

/// Builds the app image with umoci into `layout` (tag `v1`).
fn build_app_layout(dir: &Path, layout: &Path) {
    let umoci = require_tool("umoci");
    let l = layout.display().to_string();
    let bundle = dir.join("bundle");
    let b = bundle.display().to_string();
    run(
        Command::new(&umoci).args(["init", "--layout", &l]),
        "umoci init",
    );
    run(
        Command::new(&umoci).args(["new", "--image", &format!("{l}:base")]),
        "umoci new",
    );
    // --rootless: no chown/mknod needed (works as root and non-root alike).
    run(
        Command::new(&umoci).args(["unpack", "--rootless", "--image", &format!("{l}:base"), &b]),
        "umoci unpack",
    );
    let rootfs = bundle.join("rootfs");
    for (path, content) in APP_FILES {
        let p = rootfs.join(path);
        fs::create_dir_all(p.parent().unwrap()).expect("fixture: mkdir in rootfs");
        fs::write(&p, content).expect("fixture: write rootfs file");
    }
    run(
        Command::new(&umoci).args(["repack", "--image", &format!("{l}:{APP_TAG}"), &b]),
        "umoci repack",
    );
    let mut args: Vec<String> = vec![
        "config".into(),
        "--image".into(),
        format!("{l}:{APP_TAG}"),
        "--architecture".into(),
        APP_ARCHITECTURE.into(),
        "--os".into(),
        APP_OS.into(),
        "--author".into(),
        APP_AUTHOR.into(),
        "--config.workingdir".into(),
        APP_WORKING_DIR.into(),
        "--config.user".into(),
        APP_USER.into(),
    ];
    for e in APP_ENTRYPOINT {
        args.push("--config.entrypoint".into());
        args.push(e.to_string());
    }
    for c in APP_CMD {
        // `=` form: the value starts with `--`.
        args.push(format!("--config.cmd={c}"));
    }
    for e in APP_ENV {
        args.push("--config.env".into());
        args.push(e.to_string());
    }
    for (k, v) in APP_LABELS {
        args.push("--config.label".into());
        args.push(format!("{k}={v}"));
    }
    run(Command::new(&umoci).args(&args), "umoci config");
    // Drop the helper tag and the unpacked bundle; keep the layout small.
    run(
        Command::new(&umoci).args(["rm", "--image", &format!("{l}:base")]),
        "umoci rm",
    );
    run(
        Command::new(&umoci).args(["gc", "--layout", &l]),
        "umoci gc",
    );
    fs::remove_dir_all(&bundle).expect("fixture: remove bundle");
}

/// A small image pushed by raw HTTP.
#[derive(Clone, Debug)]
pub struct PushedImage {
    pub media_type: String,
    pub manifest: Vec<u8>,
    pub digest: String,
    pub config: Vec<u8>,
    pub layer: Vec<u8>,
}

/// Pushes a one-layer image (file `/hello.txt` with [`small_image_file`]`(label)`),
/// OCI or Docker v2 schema 2 media types, tagged `tag` (or by digest if `None`).
/// Usable from tests too (e.g. with [`Registry::pusher`]).
pub fn push_small_image(
    pusher: &Pusher<'_>,
    repo: &str,
    tag: Option<&str>,
    platform: Option<&Platform>,
    label: &str,
    docker: bool,
) -> PushedImage {
    let p = platform.copied().unwrap_or(PLATFORMS[0]);
    let tar = tar_one_file("hello.txt", small_image_file(label).as_bytes());
    let diff_id = sha256_digest(&tar);
    let layer = gzip_stored(&tar);
    // `created` + `history`: distribution 2.8 needs a history to down-convert
    // to schema 1 (a manifest list fetched without list types in Accept).
    let mut config = json!({
        "created": SMALL_IMAGE_CREATED,
        "architecture": p.architecture,
        "os": p.os,
        "config": {"Cmd": ["/hello"], "Labels": {"org.example.fixture": label}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": SMALL_IMAGE_CREATED, "created_by": "fixture: ADD hello.txt /"}],
    });
    if let Some(v) = p.variant {
        config["variant"] = json!(v);
    }
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = pusher.push_blob(repo, &config);
    let layer_digest = pusher.push_blob(repo, &layer);
    let (mt, config_mt, layer_mt) = if docker {
        (
            media::DOCKER_MANIFEST,
            media::DOCKER_CONFIG,
            media::DOCKER_LAYER_GZIP,
        )
    } else {
        (
            media::OCI_MANIFEST,
            media::OCI_CONFIG,
            media::OCI_LAYER_GZIP,
        )
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": {"mediaType": config_mt, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": layer_mt, "digest": layer_digest, "size": layer.len()}],
    });
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap();
    let digest = sha256_digest(&manifest);
    pusher.push_manifest(repo, tag.unwrap_or(&digest), mt, &manifest);
    PushedImage {
        media_type: mt.to_string(),
        manifest,
        digest,
        config,
        layer,
    }
}

/// A ustar archive with one regular file (mode 0644, mtime 0).
pub fn tar_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    assert!(name.len() < 100);
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |h: &mut [u8; 512], off: usize, len: usize, v: u64| {
        let s = format!("{v:0w$o}\0", w = len - 1);
        h[off..off + len].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, 0o644);
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, content.len() as u64);
    octal(&mut h, 136, 12, 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// gzip with stored (uncompressed) deflate blocks: valid, deterministic, no deps.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(65_535).peekable();
    if data.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `skopeo inspect --raw` of `repo:reference` (or `repo@sha256:..`) on `reg`,
/// as ALICE on authenticated registries, trusting the CA on TLS ones.
pub fn skopeo_raw_manifest(reg: &Registry, repo: &str, reference: &str) -> Vec<u8> {
    skopeo_inspect(reg, repo, reference, Some(&ALICE), &["--raw"])
}

/// `skopeo inspect --raw --config`: the config blob of the image (for an index,
/// of the entry matching the host platform).
pub fn skopeo_raw_config(reg: &Registry, repo: &str, reference: &str) -> Vec<u8> {
    skopeo_inspect(reg, repo, reference, Some(&ALICE), &["--raw", "--config"])
}

/// `skopeo inspect <extra> docker://...` with explicit credentials (`None`: anonymous).
pub fn skopeo_inspect(
    reg: &Registry,
    repo: &str,
    reference: &str,
    user: Option<&User>,
    extra: &[&str],
) -> Vec<u8> {
    let skopeo = require_tool("skopeo");
    let sep = if reference.contains(':') { '@' } else { ':' };
    let image = format!("docker://{}/{repo}{sep}{reference}", reg.host());
    let mut cmd = Command::new(skopeo);
    cmd.arg("inspect").args(extra);
    if reg.is_tls() {
        cmd.arg("--cert-dir").arg(reg.cert_dir());
    } else {
        cmd.arg("--tls-verify=false");
    }
    match (reg.auth(), user) {
        (Auth::None, _) | (_, None) => {
            cmd.arg("--no-creds");
        }
        (_, Some(u)) => {
            cmd.arg("--creds").arg(format!("{}:{}", u.name, u.password));
        }
    }
    cmd.arg(&image);
    run(&mut cmd, &format!("skopeo inspect {image}"))
}
