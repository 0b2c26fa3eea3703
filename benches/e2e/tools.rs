//! What the rows run on: external tools, timing and peak RSS of child
//! processes, CPU and disk figures, this binary's child modes, seeding, the
//! counting relay and strace counts.

use std::fs;
use std::io::{self, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use registry_client::digest::Digest;
use registry_client::Client;
use serde_json::json;

use crate::support::seed::{gzip_stored, tar_one_file};
use crate::support::{media, sha256_digest, Registry};
use crate::*;

pub(crate) fn which(name: &str) -> PathBuf {
    if name.starts_with('/') {
        let p = PathBuf::from(name);
        assert!(p.is_file(), "the e2e benchmark needs `{name}`");
        return p;
    }
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("the e2e benchmark needs `{name}` (scripts/install-deps installs it)")
        })
}

/// Runs `cmd` to completion (stdout and stderr captured), fails loudly
/// unless it exits 0, and returns its wall time and stdout.
pub(crate) fn timed(cmd: &mut Command, what: &str) -> (f64, String) {
    let started = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{cmd:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What `/usr/bin/time` saw of a child.
pub(crate) struct Usage {
    pub(crate) wall: f64,
    pub(crate) peak_mib: f64,
    /// User + system CPU seconds.
    pub(crate) cpu: f64,
}

/// Runs `inner` under `/usr/bin/time`: its usage and its stdout.
pub(crate) fn timed_rss(inner: &Command, stats: &Path, what: &str) -> (Usage, String) {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%e %M %U %S", "-o"]).arg(stats);
    cmd.arg(inner.get_program()).args(inner.get_args());
    let (wall, stdout) = timed(&mut cmd, what);
    let text = fs::read_to_string(stats).expect("/usr/bin/time output");
    let f: Vec<f64> = text
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(f64::NAN))
        .collect();
    assert!(
        f.len() == 4 && f.iter().all(|v| v.is_finite()),
        "/usr/bin/time output: {text:?}"
    );
    let usage = Usage {
        wall,
        peak_mib: f[1] / 1024.0,
        cpu: f[2] + f[3],
    };
    (usage, stdout)
}

/// CPU seconds (user + system) a process has used so far, from
/// `/proc/PID/stat` (clock ticks, 100 per second on Linux).
pub(crate) fn cpu_seconds(pid: &str) -> f64 {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &text[text.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

/// Writes `bytes` to a new file in `dir` in 1 MiB writes and syncs it:
/// the seconds the disk takes to keep that much (what a pull that makes
/// its blobs durable cannot go below).
pub(crate) fn disk_floor(dir: &Path, bytes: usize) -> f64 {
    let path = dir.join("disk-floor");
    let chunk = noise(1 << 20, 7);
    let t = Instant::now();
    let mut f = fs::File::create(&path).expect("disk floor file");
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).expect("disk floor write");
        left -= n;
    }
    f.sync_all().expect("disk floor sync");
    drop(f);
    let secs = t.elapsed().as_secs_f64();
    fs::remove_file(&path).expect("disk floor clean up");
    secs
}

/// How many cores this process gets right now: the same in-memory hashing
/// on one thread, then on as many threads as there are cores, a few times;
/// the cores' worth of work done per second, median. On an idle machine it
/// is the core count; other work on it (another session's build) lowers it.
pub(crate) fn cores_available(bytes: usize) -> f64 {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let data = noise(bytes, 3);
    let hash = || {
        std::hint::black_box(Digest::sha256(std::hint::black_box(&data)));
    };
    let mut got = Samples::default();
    for _ in 0..3 {
        let t = Instant::now();
        hash();
        let one = t.elapsed().as_secs_f64();
        let t = Instant::now();
        thread::scope(|s| {
            for _ in 0..cores {
                s.spawn(hash);
            }
        });
        got.push(cores as f64 * one / t.elapsed().as_secs_f64());
    }
    got.median()
}

pub(crate) fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The target directory (`target/` or `$CARGO_TARGET_DIR`): this binary
/// lives in `<target>/<profile>/deps/`.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors()
        .nth(3)
        .expect("bench binary in <target>/<profile>/deps")
        .to_path_buf()
}

// ------------------------------------------------------------ child modes

/// This binary as a child, run under `REGC_BENCH_WRAP` when set (e.g.
/// `REGC_BENCH_WRAP="perf record -g -o FILE --" REGC_BENCH_ROWS=blob` to
/// profile the blob child; the figures then include the wrapper).
pub(crate) fn our_child(me: &Path) -> Command {
    let wrap = std::env::var("REGC_BENCH_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(me);
            c
        }
        None => Command::new(me),
    }
}

/// `--child-manifests URL REPO COUNT [CA]`: the Rust side of the curl and C
/// rows (and what strace watches): one client, cache off, tags `t0`… one
/// after another. Prints the manifest bytes received.
pub(crate) fn child_manifests(args: &[String]) {
    let [url, repo, count] = [&args[0], &args[1], &args[2]];
    let count: usize = count.parse().expect("count");
    let mut builder = Client::builder(url).cache_capacity(0);
    if let Some(ca) = args.get(3) {
        builder = builder.ca_certificate_file(ca);
    }
    let client = builder.build().expect("client");
    let mut bytes = 0;
    for i in 0..count {
        let m = client
            .get_manifest(repo, &format!("t{i}"))
            .expect("manifest");
        bytes += m.body.len();
    }
    println!("{bytes}");
}

/// `--child-blob URL REPO DIGEST`: streams the blob to a sink, verified;
/// prints the seconds it took and the bytes.
pub(crate) fn child_blob(args: &[String]) {
    let [url, repo, digest] = [&args[0], &args[1], &args[2]];
    let client = Client::builder(url).build().expect("client");
    let started = Instant::now();
    let n = client
        .blob(repo, digest.as_str())
        .expect("blob")
        .copy_to(&mut io::sink())
        .expect("blob copy");
    println!("{:.6} {n}", started.elapsed().as_secs_f64());
}

/// `--child-pull URL REPO TAG DIR`: `Client::pull` with default options.
pub(crate) fn child_pull(args: &[String]) {
    let [url, repo, tag, dir] = [&args[0], &args[1], &args[2], &args[3]];
    let client = Client::builder(url).build().expect("client");
    client
        .pull(
            repo,
            tag.as_str(),
            dir,
            &registry_client::PullOptions::new(),
        )
        .expect("pull");
}

// ------------------------------------------------------------------ seeding

/// Pushes `n` different OCI manifests `t0`… (one config, one layer, each
/// manifest with its own annotation).
pub(crate) fn seed_manifests(reg: &Registry, n: usize) {
    let pusher = reg.pusher(&[MANY]);
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = pusher.push_blob(MANY, config);
    let layer = gzip_stored(&tar_one_file("f", b"bench"));
    let layer_digest = pusher.push_blob(MANY, &layer);
    for i in 0..n {
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": media::OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": media::OCI_LAYER_GZIP, "digest": layer_digest, "size": layer.len()}],
            "annotations": {"bench.index": i.to_string()},
        }))
        .expect("manifest");
        pusher.push_manifest(MANY, &format!("t{i}"), media::OCI_MANIFEST, &manifest);
    }
}

/// Pushes an image of `layers` random layers; returns its manifest digest.
pub(crate) fn seed_image(reg: &Registry, layers: usize, layer_bytes: usize) -> String {
    let pusher = reg.pusher(&[IMAGE_REPO]);
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for i in 0..layers {
        let tar = tar_one_file(&format!("layer{i}.bin"), &noise(layer_bytes, i as u64 + 1));
        diff_ids.push(sha256_digest(&tar));
        let gz = gzip_stored(&tar);
        let d = pusher.push_blob(IMAGE_REPO, &gz);
        descriptors
            .push(json!({"mediaType": media::OCI_LAYER_GZIP, "digest": d, "size": gz.len()}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("config");
    let config_digest = pusher.push_blob(IMAGE_REPO, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    }))
    .expect("manifest");
    pusher.push_manifest(IMAGE_REPO, IMAGE_TAG, media::OCI_MANIFEST, &manifest)
}

// ---------------------------------------------------------- counting relay

/// A TCP relay that counts the connections it accepts: put in front of the
/// registry, it counts the client's TCP connections at the other end.
pub(crate) struct CountingRelay {
    pub(crate) port: u16,
    pub(crate) accepted: Arc<AtomicUsize>,
    pub(crate) stop: Arc<AtomicBool>,
}

impl CountingRelay {
    pub(crate) fn start(upstream: String) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay bind");
        let port = listener.local_addr().expect("relay addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                a.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for st in [&client, &server] {
                    let _ = st.set_read_timeout(Some(Duration::from_secs(60)));
                    let _ = st.set_nodelay(true);
                }
                let pipe = |mut from: TcpStream, mut to: TcpStream| {
                    thread::spawn(move || {
                        let _ = io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Write);
                    });
                };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                pipe(client, server);
                pipe(s2, c2);
            }
        });
        CountingRelay {
            port,
            accepted,
            stop,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for CountingRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

// ------------------------------------------------------------------ strace

/// System calls of a `--child-manifests` run under `strace -f`, by name,
/// plus the signs of a name lookup (files the resolver reads, DNS
/// sockets), and the threads created.
pub(crate) fn strace_counts(
    me: &Path,
    url: &str,
    ca: Option<&Path>,
    count: usize,
    file: &Path,
) -> Vec<(String, f64)> {
    let mut cmd = Command::new(which("strace"));
    cmd.args(["-f", "-qq", "-o"]).arg(file).arg(me).args([
        "--child-manifests",
        url,
        MANY,
        &count.to_string(),
    ]);
    if let Some(ca) = ca {
        cmd.arg(ca);
    }
    timed(&mut cmd, "strace of the manifest child");
    let text = fs::read_to_string(file).expect("strace output");
    let mut counts: std::collections::BTreeMap<String, f64> = Default::default();
    for line in text.lines() {
        // "PID  name(args…) = result" or "PID  name(args… <unfinished ...>".
        let rest = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        if rest.starts_with("<...") || rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        let Some(name) = rest
            .split('(')
            .next()
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        else {
            continue;
        };
        *counts.entry(name.to_string()).or_default() += 1.0;
        let lookup = (name == "openat"
            && [
                "/etc/hosts",
                "/etc/resolv.conf",
                "/etc/nsswitch.conf",
                "/etc/gai.conf",
            ]
            .iter()
            .any(|f| rest.contains(f)))
            || (name == "connect" && rest.contains("htons(53)"))
            || (name == "socket" && rest.contains("AF_NETLINK"));
        if lookup {
            *counts.entry(LOOKUP.into()).or_default() += 1.0;
        }
    }
    counts.into_iter().collect()
}

/// The pseudo-syscall counting signs of a name lookup.
pub(crate) const LOOKUP: &str = "<name lookup: resolver files, DNS or netlink>";

/// Per pooled request: (long run − short run) / extra requests.
pub(crate) fn per_request(
    short: &[(String, f64)],
    long: &[(String, f64)],
    extra: usize,
) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = long
        .iter()
        .map(|(name, n)| {
            let before = short
                .iter()
                .find(|(s, _)| s == name)
                .map_or(0.0, |(_, v)| *v);
            (name.clone(), (n - before) / extra as f64)
        })
        .filter(|(_, v)| v.abs() >= 0.005)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

pub(crate) fn count_of(per: &[(String, f64)], names: &[&str]) -> f64 {
    per.iter()
        .filter(|(n, _)| names.iter().any(|w| n == w))
        .map(|(_, v)| v)
        .sum()
}
