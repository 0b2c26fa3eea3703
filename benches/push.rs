//! The write path beside the tools people use, on real loopback registries:
//!
//! * a 256 MiB blob pushed by `Client::push_blob` (digest given, and
//!   computed while sending), beside `curl -T` of the same file to an
//!   upload URL of the same registry (one `PUT ?digest=`), interleaved;
//! * a copy of a 4-layer image (4 × 64 MiB random layers) between two
//!   registries by `Client::copy` (in a child process, like `regc copy`),
//!   beside `skopeo copy docker://… docker://…`, each into a fresh empty
//!   registry (so neither finds blobs there, and skopeo's blob cache
//!   cannot mount them), timed with `/usr/bin/time` (seconds, peak RSS).
//!
//! `cargo bench --bench push` prints; nothing is asserted on speed.
//! `REGC_BENCH_TINY=1` runs it once with small sizes (for `scripts/test`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use registry_client::{Client, CopyOptions, UploadOptions};
use serde_json::json;
use support::seed::{gzip_stored, tar_one_file};
use support::{media, sha256_digest, Registry};

const REPO: &str = "bench/copy";
const TAG: &str = "v1";

struct Sizes {
    blob: usize,
    layers: usize,
    layer: usize,
    runs: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-copy") {
        let (from, to) = (&args[i + 1], &args[i + 2]);
        let src = Client::builder(from).build().expect("client");
        let dst = Client::builder(to).build().expect("client");
        src.copy(REPO, TAG, &dst, REPO, &CopyOptions::new())
            .expect("copy");
        return;
    }
    let tiny = std::env::var_os("REGC_BENCH_TINY").is_some();
    let sizes = if tiny {
        Sizes {
            blob: 1 << 20,
            layers: 2,
            layer: 256 << 10,
            runs: 1,
        }
    } else {
        Sizes {
            blob: 256 << 20,
            layers: 4,
            layer: 64 << 20,
            runs: 5,
        }
    };
    blob_push(&sizes);
    image_copy(&sizes);
}

fn which(tool: &str) -> String {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "`{tool}` is needed (tests never skip)");
    tool.to_string()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Random bytes from the kernel, so nothing compresses or dedups.
fn random_file(path: &Path, len: usize) {
    let mut f = fs::File::create(path).expect("create");
    let mut urandom = fs::File::open("/dev/urandom").expect("urandom");
    std::io::copy(&mut std::io::Read::take(&mut urandom, len as u64), &mut f).expect("fill");
    f.flush().expect("flush");
}

fn blob_push(sizes: &Sizes) {
    let curl = which("curl");
    let reg = Registry::open_empty();
    let work = tempfile::tempdir().expect("tempdir");
    let client = Client::builder(&reg.url()).build().expect("client");
    let mib = sizes.blob as f64 / (1 << 20) as f64;
    println!(
        "\n256 MiB-class blob push ({mib:.0} MiB random) to {}, {} runs each, interleaved",
        reg.url(),
        sizes.runs
    );
    let (mut ours_known, mut ours_hashed, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..sizes.runs {
        // A new file per run: the registry keeps every blob it got.
        let path = work.path().join(format!("blob{run}"));
        random_file(&path, sizes.blob);
        let digest = sha256_digest(&fs::read(&path).expect("read"));
        // curl -T to an upload URL the registry gave (one PUT).
        let repo = format!("bench/curl{run}");
        let resp = support::http::send(
            reg.agent(),
            "POST",
            &format!("{}/v2/{repo}/blobs/uploads/", reg.url()),
            &[],
            b"",
        );
        let location = resp.header("location").expect("Location").to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", reg.url())
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let t = Instant::now();
        let out = Command::new(&curl)
            .args(["-sS", "-f", "-o", "/dev/null", "-H"])
            .arg("Content-Type: application/octet-stream")
            .arg("-T")
            .arg(&path)
            .arg(&url)
            .output()
            .expect("curl");
        theirs.push(t.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Ours, digest given (as curl's URL has it).
        let options = UploadOptions::new()
            .digest(digest.as_str())
            .expect("digest")
            .size(sizes.blob as u64);
        let t = Instant::now();
        let pushed = client
            .push_blob(
                &format!("bench/known{run}"),
                fs::File::open(&path).expect("open"),
                &options,
            )
            .expect("push");
        ours_known.push(t.elapsed().as_secs_f64());
        assert_eq!(pushed.digest.as_str(), digest);
        // Ours, digest computed while sending.
        let t = Instant::now();
        let pushed = client
            .push_blob(
                &format!("bench/hashed{run}"),
                fs::File::open(&path).expect("open"),
                &UploadOptions::new().size(sizes.blob as u64),
            )
            .expect("push");
        ours_hashed.push(t.elapsed().as_secs_f64());
        assert_eq!(pushed.digest.as_str(), digest);
        fs::remove_file(&path).expect("rm");
    }
    let row = |name: &str, v: &mut Vec<f64>, base: f64| {
        let (min, max) = (
            v.iter().cloned().fold(f64::MAX, f64::min),
            v.iter().cloned().fold(0.0, f64::max),
        );
        let m = median(v);
        println!(
            "{name:<44} median {m:>7.3} s ({:>6.0} MiB/s)  min {min:.3}  max {max:.3}  ratio to curl {:.2}x",
            mib / m,
            base / m
        );
    };
    let base = median(&mut theirs.clone());
    row("curl -T (one PUT, digest in the URL)", &mut theirs, base);
    row("push_blob, digest given", &mut ours_known, base);
    row(
        "push_blob, digest computed while sending",
        &mut ours_hashed,
        base,
    );
}

/// Pushes a `layers`-layer image of random layers to `reg` by raw HTTP.
fn seed_image(reg: &Registry, sizes: &Sizes) -> String {
    let pusher = reg.pusher(&[REPO]);
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    let mut urandom = fs::File::open("/dev/urandom").expect("urandom");
    for i in 0..sizes.layers {
        let mut content = vec![0u8; sizes.layer];
        std::io::Read::read_exact(&mut urandom, &mut content).expect("random");
        let tar = tar_one_file(&format!("layer{i}.bin"), &content);
        diff_ids.push(sha256_digest(&tar));
        let gz = gzip_stored(&tar);
        let d = pusher.push_blob(REPO, &gz);
        layers.push(json!({"mediaType": media::OCI_LAYER_GZIP, "digest": d, "size": gz.len()}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .expect("json");
    let config_d = pusher.push_blob(REPO, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config_d, "size": config.len()},
        "layers": layers
    }))
    .expect("json");
    pusher.push_manifest(REPO, TAG, media::OCI_MANIFEST, &manifest)
}

fn image_copy(sizes: &Sizes) {
    let skopeo = which("skopeo");
    let time = Path::new("/usr/bin/time");
    assert!(
        time.is_file(),
        "/usr/bin/time (Debian package `time`) is needed"
    );
    let src = Registry::open_empty();
    let digest = seed_image(&src, sizes);
    println!(
        "\ncopy of {REPO}:{TAG} ({} layers of {} MiB, {digest}) between two registries, {} runs each, interleaved",
        sizes.layers,
        sizes.layer >> 20,
        sizes.runs
    );
    let me = std::env::current_exe().expect("current_exe");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut ours_rss, mut theirs_rss) = (Vec::new(), Vec::new());
    for _ in 0..sizes.runs {
        for tool in ["ours", "skopeo"] {
            let dst = Registry::open_empty();
            let mut cmd = Command::new(time);
            cmd.args(["-f", "%e %M"]);
            if tool == "ours" {
                cmd.arg(&me).args(["--child-copy", &src.url(), &dst.url()]);
            } else {
                cmd.arg(&skopeo).args([
                    "copy",
                    "-q",
                    "--src-tls-verify=false",
                    "--dest-tls-verify=false",
                    &format!("docker://{}/{REPO}:{TAG}", src.host()),
                    &format!("docker://{}/{REPO}:{TAG}", dst.host()),
                ]);
            }
            let out = cmd.output().expect("run");
            assert!(
                out.status.success(),
                "{tool}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().expect("time output");
            let mut f = last.split_whitespace();
            let secs: f64 = f.next().and_then(|s| s.parse().ok()).expect("seconds");
            let kib: f64 = f.next().and_then(|s| s.parse().ok()).expect("KiB");
            let raw = support::skopeo_raw_manifest(&dst, REPO, TAG);
            assert_eq!(sha256_digest(&raw), digest, "{tool} changed the digest");
            if tool == "ours" {
                ours.push(secs);
                ours_rss.push(kib / 1024.0);
            } else {
                theirs.push(secs);
                theirs_rss.push(kib / 1024.0);
            }
        }
    }
    let (o, t) = (median(&mut ours), median(&mut theirs));
    let (or, tr) = (median(&mut ours_rss), median(&mut theirs_rss));
    println!(
        "{:<34} median {o:>6.2} s  peak RSS {or:>6.1} MiB  (runs {ours:?})",
        "Client::copy (child process)"
    );
    println!(
        "{:<34} median {t:>6.2} s  peak RSS {tr:>6.1} MiB  (runs {theirs:?})",
        "skopeo copy docker:// docker://"
    );
    println!(
        "ours is {:.2}x skopeo's speed, {:.2}x its peak RSS; both wrote {digest}",
        t / o,
        or / tr
    );
}
