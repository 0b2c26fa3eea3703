//! Time and peak RSS of `Client::pull` of a multi-layer image (4 × 16 MiB
//! random layers, pushed by raw HTTP to a real registry on loopback), side
//! by side with `skopeo copy docker://… oci:…` of the same image, a few runs
//! each. Each pull runs in its own process under `/usr/bin/time`, so the
//! figures are that process's own (this program re-runs itself with
//! `--child-pull` for ours).
//!
//! `cargo bench --bench pull` (nothing here is asserted on speed; it prints).

#[path = "../tests/support/mod.rs"]
mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use registry_client::{Client, PullOptions};
use serde_json::{json, Value};
use support::seed::{gzip_stored, tar_one_file};
use support::{media, sha256_digest, Registry};

const LAYERS: usize = 4;
const LAYER_BYTES: usize = 16 << 20;
const RUNS: usize = 3;
const REPO: &str = "bench/layers";
const TAG: &str = "v1";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-pull") {
        let [url, dir, jobs] = [&args[i + 1], &args[i + 2], &args[i + 3]];
        let client = Client::builder(url).build().expect("client");
        let options = PullOptions::new().jobs(jobs.parse().expect("jobs"));
        client.pull(REPO, TAG, dir, &options).expect("pull");
        return;
    }
    let time = Path::new("/usr/bin/time");
    assert!(
        time.is_file(),
        "/usr/bin/time (Debian package `time`) is needed"
    );
    let skopeo = which("skopeo");

    let reg = Registry::open_empty();
    let digest = push_image(&reg);
    println!(
        "image {REPO}:{TAG} ({digest}): {LAYERS} layers of {} MiB on {}",
        LAYER_BYTES >> 20,
        reg.url()
    );
    println!(
        "{:<28} {:>4} {:>9} {:>13}",
        "tool", "run", "seconds", "peak RSS MiB"
    );
    let me = std::env::current_exe().expect("current_exe");
    let work = tempfile::tempdir().expect("tempdir");
    for run in 1..=RUNS {
        let cases: Vec<(&str, Command)> = vec![
            ("registry-client pull, 4 jobs", {
                let mut c = Command::new(&me);
                c.args(["--child-pull", &reg.url()]);
                c
            }),
            ("registry-client pull, 1 job", {
                let mut c = Command::new(&me);
                c.args(["--child-pull", &reg.url()]);
                c
            }),
            ("skopeo copy docker:// oci:", {
                let mut c = Command::new(&skopeo);
                c.args([
                    "--insecure-policy",
                    "copy",
                    "--quiet",
                    "--src-tls-verify=false",
                ])
                .arg(format!("docker://{}/{REPO}:{TAG}", reg.host()));
                c
            }),
        ];
        for (i, (name, inner)) in cases.into_iter().enumerate() {
            let dir = work.path().join(format!("run{run}-{i}"));
            let stats = work.path().join("time.txt");
            let mut cmd = Command::new(time);
            cmd.args(["-f", "%e %M", "-o"]).arg(&stats);
            cmd.arg(inner.get_program()).args(inner.get_args());
            if name.starts_with("skopeo") {
                cmd.arg(format!("oci:{}:{TAG}", dir.display()));
            } else {
                cmd.arg(&dir)
                    .arg(if name.ends_with("1 job") { "1" } else { "4" });
            }
            let out = cmd.output().expect("run");
            assert!(
                out.status.success(),
                "{name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = fs::read_to_string(&stats).expect("time output");
            let mut fields = text.split_whitespace();
            let secs: f64 = fields.next().and_then(|s| s.parse().ok()).expect("seconds");
            let kib: f64 = fields.next().and_then(|s| s.parse().ok()).expect("rss");
            // Both wrote the same image: the same manifest under the tag.
            let index: Value =
                serde_json::from_slice(&fs::read(dir.join("index.json")).expect("index.json"))
                    .expect("index.json");
            let named = index["manifests"]
                .as_array()
                .and_then(|m| {
                    m.iter()
                        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == TAG)
                })
                .map(|d| d["digest"].as_str().unwrap_or("").to_string());
            assert_eq!(named.as_deref(), Some(digest.as_str()), "{name}");
            println!("{name:<28} {run:>4} {secs:>9.2} {:>13.1}", kib / 1024.0);
            fs::remove_dir_all(&dir).expect("clean up");
        }
    }
}

fn which(name: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("`{name}` is needed"))
}

/// Pushes the image by raw HTTP; returns its manifest digest.
fn push_image(reg: &Registry) -> String {
    let pusher = reg.pusher(&[REPO]);
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for i in 0..LAYERS {
        let mut data = vec![0u8; LAYER_BYTES];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1);
        for chunk in data.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let tar = tar_one_file(&format!("layer{i}.bin"), &data);
        diff_ids.push(sha256_digest(&tar));
        let gz = gzip_stored(&tar);
        let d = pusher.push_blob(REPO, &gz);
        layers.push(json!({"mediaType": media::OCI_LAYER_GZIP, "digest": d, "size": gz.len()}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("config");
    let config_digest = pusher.push_blob(REPO, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": layers,
    }))
    .expect("manifest");
    pusher.push_manifest(REPO, TAG, media::OCI_MANIFEST, &manifest)
}
