//! One function per row (or group of rows) of the table.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Instant;

use registry_client::digest::Digest;
use registry_client::manifest::media_type::ACCEPT_MANIFESTS;
use registry_client::Client;
use serde_json::{json, Value};

use crate::support::{seed, Registry, ALICE};
use crate::*;

/// 500 manifests, one process each side: our child vs one curl fetching the
/// same URLs with the same `Accept` over one connection.
pub(crate) fn manifests_vs_curl(
    sizes: &Sizes,
    me: &Path,
    reg: &Registry,
    ca: Option<PathBuf>,
    work: &Path,
) -> Vec<Row> {
    let n = sizes.manifests;
    let scheme = reg.scheme();
    let config = work.join(format!("curl-{scheme}.conf"));
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "url = \"{}/v2/{MANY}/manifests/t{i}\"\n",
            reg.url()
        ));
    }
    fs::write(&config, text).expect("curl config");
    let mut ours = Samples::default();
    let mut curl = Samples::default();
    let mut body_bytes = 0usize;
    for _ in 0..sizes.runs {
        let mut child = Command::new(me);
        child.args(["--child-manifests", &reg.url(), MANY, &n.to_string()]);
        if let Some(ca) = &ca {
            child.arg(ca);
        }
        let (secs, out) = timed(&mut child, "manifest child");
        body_bytes = out.trim().parse().expect("child output");
        ours.push(secs);

        let mut c = Command::new("curl");
        c.args([
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "300",
            "-H",
        ])
        .arg(format!("Accept: {ACCEPT_MANIFESTS}"))
        .arg("-K")
        .arg(&config);
        if let Some(ca) = &ca {
            c.arg("--cacert").arg(ca);
        }
        let (secs, out) = timed(&mut c, "curl");
        assert_eq!(out.len(), body_bytes, "curl got other bytes than we did");
        curl.push(secs);
    }
    let ratio = curl.median() / ours.median();
    let label = if ca.is_some() { "TLS" } else { "plain http" };
    vec![Row::at_least(
        &format!("{n} uncached manifest GETs, sequential, {label}"),
        ours.show("s"),
        format!("curl, one process: {}", curl.show("s")),
        ratio,
        1.0,
        json!({"ours_s": ours.json(), "curl_s": curl.json(), "bytes": body_bytes}),
    )]
}

/// System calls per pooled request, from two strace runs of the manifest
/// child (N and N + extra requests): IP literal and a name (`localhost`).
pub(crate) fn syscalls_per_request(
    sizes: &Sizes,
    me: &Path,
    reg: &Registry,
    tls: &Registry,
    work: &Path,
) -> Row {
    let short = 5;
    let long = short + sizes.syscall_requests;
    let mut results = Vec::new();
    let ca = tls.ca_pem_path();
    for (label, url, ca) in [
        ("IP literal", reg.url(), None),
        ("name", format!("http://localhost:{}", reg.port()), None),
        ("TLS", tls.url(), Some(ca.as_path())),
    ] {
        let a = strace_counts(me, &url, ca, short, &work.join("strace-short"));
        let b = strace_counts(me, &url, ca, long, &work.join("strace-long"));
        // The detector sees the one lookup a name costs (its first
        // connection), so a zero per request is not blindness.
        if label == "name" {
            assert!(
                count_of(&a, &[LOOKUP]) >= 1.0,
                "strace saw no name lookup for {url}: {a:?}"
            );
        }
        results.push((label, per_request(&a, &b, sizes.syscall_requests)));
    }
    let mut ours = Vec::new();
    let mut met = true;
    let mut data = serde_json::Map::new();
    for (label, per) in &results {
        let threads = count_of(per, &["clone", "clone3", "fork", "vfork"]);
        let lookups = count_of(per, &[LOOKUP]);
        let connects = count_of(per, &["connect"]);
        let total: f64 = per
            .iter()
            .filter(|(n, _)| !n.starts_with('<'))
            .map(|(_, v)| v)
            .sum();
        met &= threads < 0.01 && lookups < 0.01 && connects < 0.01;
        let top: Vec<String> = per
            .iter()
            .filter(|(n, _)| !n.starts_with('<'))
            .map(|(n, v)| format!("{n} {}", fmt_num(*v)))
            .collect();
        ours.push(format!(
            "{label}: {} syscalls ({}); threads {}, lookups {}, connects {}",
            fmt_num(total),
            top.join(", "),
            fmt_num(threads),
            fmt_num(lookups),
            fmt_num(connects)
        ));
        data.insert(
            label.to_string(),
            Value::Object(per.iter().map(|(n, v)| (n.clone(), json!(v))).collect()),
        );
    }
    data.insert(
        "method".into(),
        json!(format!(
            "strace -f of the manifest child with {short} and {long} requests; the difference / {}",
            sizes.syscall_requests
        )),
    );
    Row {
        figure: "syscalls per pooled request (strace -f, difference of two runs)".into(),
        ours: ours.join("<br>"),
        baseline: "—".into(),
        ratio: None,
        target: "no thread, no lookup, no connect".into(),
        met: Some(met),
        json: Value::Object(data),
    }
}

/// A big blob streamed to a sink, verified, in a child (its own time of
/// `blob` + `copy_to`, and its peak RSS), vs `Digest::sha256` of the same
/// bytes in memory.
pub(crate) fn blob_to_sink(sizes: &Sizes, me: &Path, reg: &Registry, work: &Path) -> Vec<Row> {
    let data = noise(sizes.blob_bytes, 0xB10B);
    let digest = reg.pusher(&[BLOB_REPO]).push_blob(BLOB_REPO, &data);
    let mib = sizes.blob_bytes as f64 / f64::from(1 << 20);
    let mut ours = Samples::default();
    let mut rss = Samples::default();
    let mut hash = Samples::default();
    let mut cpu = Samples::default();
    let mut registry_cpu = Samples::default();
    let mut cores_got = Samples::default();
    let mut curl = Samples::default();
    let registry = reg.pid().to_string();
    let url = format!("{}/v2/{BLOB_REPO}/blobs/{digest}", reg.url());
    for _ in 0..sizes.runs {
        let mut child = our_child(me);
        child.args(["--child-blob", &reg.url(), BLOB_REPO, &digest]);
        let before = cpu_seconds(&registry);
        let (usage, out) = timed_rss(&child, &work.join("time-blob"), "blob child");
        let registry_used = cpu_seconds(&registry) - before;
        registry_cpu.push(registry_used);
        // Cores busy for us on average: the child's and the registry's CPU
        // over the child's wall time.
        cores_got.push((usage.cpu + registry_used) / usage.wall);
        let peak = usage.peak_mib;
        cpu.push(usage.cpu);
        let mut f = out.split_whitespace();
        let secs: f64 = f.next().and_then(|s| s.parse().ok()).expect("child secs");
        let n: usize = f.next().and_then(|s| s.parse().ok()).expect("child bytes");
        assert_eq!(n, sizes.blob_bytes);
        ours.push(mib / secs);
        rss.push(peak);

        let t = Instant::now();
        let d = Digest::sha256(std::hint::black_box(&data));
        hash.push(mib / t.elapsed().as_secs_f64());
        assert_eq!(d.as_str(), digest);

        // What the registry and loopback deliver with no hashing at all.
        let (_, speed) = timed(
            Command::new("curl")
                .args(["--silent", "--show-error", "--fail", "--max-time", "300"])
                .args([
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{speed_download} %{size_download}",
                ])
                .arg(&url),
            "curl of the blob",
        );
        let mut f = speed.split_whitespace();
        let bytes_per_s: f64 = f.next().and_then(|s| s.parse().ok()).expect("curl speed");
        assert_eq!(
            f.next().and_then(|s| s.parse().ok()),
            Some(sizes.blob_bytes)
        );
        curl.push(bytes_per_s / f64::from(1 << 20));
    }
    let size = format!("{} MiB", sizes.blob_bytes >> 20);
    vec![
        Row::at_least(
            &format!("{size} blob to a sink, verified (throughput)"),
            format!(
                "{}, process CPU {}, registry CPU {}, {} busy",
                ours.show("MiB/s"),
                cpu.show("s"),
                registry_cpu.show("s"),
                cores_got.show("cores")
            ),
            format!(
                "in-memory Digest::sha256: {}; curl to /dev/null, no hashing: {}",
                hash.show("MiB/s"),
                curl.show("MiB/s")
            ),
            ours.median() / hash.median(),
            0.85,
            json!({"ours_mib_s": ours.json(), "sha256_mib_s": hash.json(), "child_cpu_s": cpu.json(),
                   "registry_cpu_s": registry_cpu.json(), "curl_mib_s": curl.json(),
                   "cores_busy": cores_got.json()}),
        ),
        Row {
            figure: format!("{size} blob to a sink: peak RSS of the process"),
            ours: rss.show("MiB"),
            baseline: "—".into(),
            ratio: Some(rss.median()),
            target: "≤ 16 MiB".into(),
            met: Some(rss.median() <= 16.0),
            json: json!({"peak_rss_mib": rss.json()}),
        },
    ]
}

/// `Client::pull` (child) vs `skopeo copy docker://… oci:…`: time and peak RSS.
pub(crate) fn pull_vs_skopeo(sizes: &Sizes, me: &Path, reg: &Registry, work: &Path) -> Vec<Row> {
    let digest = seed_image(reg, sizes.layers, sizes.layer_bytes);
    let mut ours = Samples::default();
    let mut ours_rss = Samples::default();
    let mut sk = Samples::default();
    let mut sk_rss = Samples::default();
    let mut floor = Samples::default();
    let mut ours_cpu = Samples::default();
    let mut sk_cpu = Samples::default();
    let stats = work.join("time-pull");
    for run in 0..sizes.runs {
        floor.push(disk_floor(work, sizes.layers * sizes.layer_bytes));
        for side in ["ours", "skopeo"] {
            let dir = work.join(format!("pull-{side}-{run}"));
            let mut cmd;
            if side == "ours" {
                cmd = our_child(me);
                cmd.arg("--child-pull")
                    .args([reg.url().as_str(), IMAGE_REPO, IMAGE_TAG])
                    .arg(&dir);
            } else {
                cmd = Command::new(which("skopeo"));
                cmd.args([
                    "--insecure-policy",
                    "--command-timeout=300s",
                    "copy",
                    "--quiet",
                    "--src-tls-verify=false",
                ])
                .arg(format!("docker://{}/{IMAGE_REPO}:{IMAGE_TAG}", reg.host()))
                .arg(format!("oci:{}:{IMAGE_TAG}", dir.display()));
            }
            let (usage, _) = timed_rss(&cmd, &stats, side);
            let (secs, peak) = (usage.wall, usage.peak_mib);
            // Both wrote the same image under the tag.
            let index: Value =
                serde_json::from_slice(&fs::read(dir.join("index.json")).expect("index.json"))
                    .expect("index.json");
            let named = index["manifests"].as_array().and_then(|m| {
                m.iter()
                    .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == IMAGE_TAG)
            });
            assert_eq!(
                named.and_then(|d| d["digest"].as_str()),
                Some(digest.as_str()),
                "{side} wrote another image"
            );
            fs::remove_dir_all(&dir).expect("clean up");
            if side == "ours" {
                ours.push(secs);
                ours_rss.push(peak);
                ours_cpu.push(usage.cpu);
            } else {
                sk.push(secs);
                sk_rss.push(peak);
                sk_cpu.push(usage.cpu);
            }
        }
    }
    let what = format!(
        "pull of {}×{} MiB image to an OCI layout",
        sizes.layers,
        sizes.layer_bytes >> 20
    );
    vec![
        Row::at_least(
            &format!("{what}: time"),
            format!("{}, CPU {}", ours.show("s"), ours_cpu.show("s")),
            format!(
                "skopeo copy: {}, CPU {}; disk floor (same bytes written + fsync): {}",
                sk.show("s"),
                sk_cpu.show("s"),
                floor.show("s")
            ),
            sk.median() / ours.median(),
            3.0,
            json!({"ours_s": ours.json(), "skopeo_s": sk.json(), "disk_floor_s": floor.json(),
                   "ours_cpu_s": ours_cpu.json(), "skopeo_cpu_s": sk_cpu.json(),
                   "best_possible_ratio": sk.median() / floor.median()}),
        ),
        Row::at_least(
            &format!("{what}: peak RSS (skopeo's / ours)"),
            ours_rss.show("MiB"),
            format!("skopeo copy: {}", sk_rss.show("MiB")),
            sk_rss.median() / ours_rss.median(),
            3.0,
            json!({"ours_mib": ours_rss.json(), "skopeo_mib": sk_rss.json()}),
        ),
    ]
}

/// The same manifests fetched by `threads` threads sharing one client vs
/// one thread (each side a new client, cache off, connections included).
pub(crate) fn threads_vs_sequential(sizes: &Sizes, reg: &Registry) -> Row {
    let n = sizes.manifests;
    let threads = sizes.threads;
    let mut seq = Samples::default();
    let mut par = Samples::default();
    // CPU seconds per run, this process and the registry together.
    let mut par_cpu = Samples::default();
    let mut registry_cpu = Samples::default();
    let url = reg.url();
    let registry = reg.pid().to_string();
    let cpu = || (cpu_seconds("self"), cpu_seconds(&registry));
    for _ in 0..sizes.runs {
        let t = Instant::now();
        let client = Client::builder(&url).cache_capacity(0).build().unwrap();
        for i in 0..n {
            client.get_manifest(MANY, &format!("t{i}")).unwrap();
        }
        seq.push(t.elapsed().as_secs_f64());

        let c0 = cpu();
        let t = Instant::now();
        let client = Client::builder(&url).cache_capacity(0).build().unwrap();
        thread::scope(|s| {
            for k in 0..threads {
                let client = &client;
                s.spawn(move || {
                    for i in (k..n).step_by(threads) {
                        client.get_manifest(MANY, &format!("t{i}")).unwrap();
                    }
                });
            }
        });
        par.push(t.elapsed().as_secs_f64());
        let c1 = cpu();
        par_cpu.push((c1.0 - c0.0) + (c1.1 - c0.1));
        registry_cpu.push(c1.1 - c0.1);
    }
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    // With every core busy, the threads cannot finish before the CPU time
    // the work takes (client + registry) spread over the cores.
    let floor = par_cpu.median() / cores as f64;
    Row::at_least(
        &format!("{n} manifests, {threads} threads sharing one client"),
        par.show("s"),
        format!(
            "sequential: {}; CPU (client + registry) of the threaded run: {} (registry {}) \
             = {} µs per request, so ≥ {} s on {cores} cores (best ratio {})",
            seq.show("s"),
            par_cpu.show("s"),
            registry_cpu.show("s"),
            fmt_num(par_cpu.median() * 1e6 / n as f64),
            fmt_num(floor),
            fmt_num(seq.median() / floor)
        ),
        seq.median() / par.median(),
        1.5,
        json!({"threads_s": par.json(), "sequential_s": seq.json(), "cpu_s": par_cpu.json(), "registry_cpu_s": registry_cpu.json(),
               "cores": cores, "best_possible_ratio": seq.median() / floor}),
    )
}

/// `get_manifest` answered from the cache: one thread's latency, and the
/// throughput of 8 threads over one thread's.
pub(crate) fn cache_hits(sizes: &Sizes, reg: &Registry) -> Vec<Row> {
    let client = Client::builder(&reg.url()).build().unwrap();
    let hits = sizes.hits;
    let threads = sizes.threads;
    let tags: Vec<String> = (0..threads).map(|i| format!("t{i}")).collect();
    for tag in &tags {
        client.get_manifest(MANY, tag.as_str()).unwrap();
    }
    let mut one = Samples::default();
    let mut scaling = Samples::default();
    let mut own_key_scaling = Samples::default();
    // Cores the threads were running on, on average (CPU over wall time).
    let mut hit_cores = Samples::default();
    // CPU nanoseconds per hit, one thread and all threads: more on all
    // threads is spinning on a lock or a cache line passed between cores;
    // threads that queue asleep cost no CPU, and show as fewer cores busy.
    let mut one_cpu = Samples::default();
    let mut all_cpu = Samples::default();
    let run = |tag: &str| {
        let cpu = thread_cpu_ns();
        for _ in 0..hits {
            std::hint::black_box(client.get_manifest(MANY, tag).unwrap());
        }
        thread_cpu_ns() - cpu
    };
    for _ in 0..sizes.runs {
        let t = Instant::now();
        let cpu = run("t0");
        let single = t.elapsed().as_secs_f64();
        one.push(single * 1e6 / hits as f64);
        one_cpu.push(cpu / hits as f64);

        // Every thread on the same manifest, then each on its own.
        for same in [true, false] {
            let t = Instant::now();
            let cpu: f64 = thread::scope(|s| {
                let handles: Vec<_> = tags
                    .iter()
                    .map(|tag| {
                        let tag = if same { "t0" } else { tag.as_str() };
                        s.spawn(move || run(tag))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            let all = t.elapsed().as_secs_f64();
            // Hits per second of all threads over one thread's.
            let ratio = (threads * hits) as f64 / all / (hits as f64 / single);
            if same {
                scaling.push(ratio);
                all_cpu.push(cpu / (threads * hits) as f64);
                hit_cores.push(cpu / 1e9 / all);
            } else {
                own_key_scaling.push(ratio);
            }
        }
    }
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    vec![
        Row {
            figure: "cache hit get_manifest, one thread".into(),
            ours: one.show("µs"),
            baseline: "—".into(),
            ratio: Some(one.median()),
            target: "≤ 1 µs".into(),
            met: Some(one.median() <= 1.0),
            json: json!({"us_per_hit": one.json()}),
        },
        Row::at_least(
            &format!(
                "cache hits, {threads} threads on one manifest: throughput over one thread's ({cores} cores)"
            ),
            scaling.show("×"),
            format!(
                "1 thread; CPU per hit: 1 thread {}, {threads} threads {} with {} busy; \
                 {threads} threads each on its own manifest: {}",
                one_cpu.show("ns"),
                all_cpu.show("ns"),
                hit_cores.show("cores"),
                own_key_scaling.show("×")
            ),
            scaling.median(),
            // Scaling cannot pass the core count; 3/4 of it is the target.
            0.75 * cores.min(threads) as f64,
            json!({"scaling": scaling.json(), "own_key_scaling": own_key_scaling.json(), "cores": cores,
                   "cores_busy": hit_cores.json(),
                   "cpu_ns_per_hit_one": one_cpu.json(), "cpu_ns_per_hit_all": all_cpu.json()}),
        ),
    ]
}

/// CPU time of the calling thread so far, in nanoseconds
/// (`/proc/thread-self/schedstat`).
pub(crate) fn thread_cpu_ns() -> f64 {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat")
}

/// The C API from a C program vs the same work through Rust (both child
/// processes, timed from spawn to exit).
pub(crate) fn c_api(sizes: &Sizes, me: &Path, reg: &Registry, work: &Path) -> Row {
    let deps = me.parent().expect("deps dir");
    let lib = deps.join("libregistry_client.a");
    assert!(
        lib.is_file(),
        "{} not found (cargo builds it with the bench)",
        lib.display()
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let exe = work.join("e2e_manifests");
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root.join("include"))
        .arg("-o")
        .arg(&exe)
        .arg(root.join("benches/e2e/manifests.c"))
        .arg(&lib)
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ]);
    timed(&mut cc, "cc benches/e2e/manifests.c");
    let n = sizes.manifests.to_string();
    let mut c = Samples::default();
    let mut rust = Samples::default();
    // Twice the runs: a 3 % difference is what this row looks for, and a
    // run is short.
    for _ in 0..sizes.runs * 2 {
        let (secs, out) = timed(
            Command::new(&exe).args([reg.url().as_str(), MANY, &n]),
            "C driver",
        );
        let c_bytes: usize = out
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("C driver output");
        c.push(secs);
        let (secs, out) = timed(
            Command::new(me).args(["--child-manifests", &reg.url(), MANY, &n]),
            "manifest child",
        );
        assert_eq!(out.trim().parse::<usize>().ok(), Some(c_bytes));
        rust.push(secs);
    }
    Row::at_least(
        &format!("C API, {n} manifests from C"),
        c.show("s"),
        format!("through Rust: {}", rust.show("s")),
        rust.median() / c.median(),
        0.97,
        json!({"c_s": c.json(), "rust_s": rust.json()}),
    )
}

/// Token requests at the token server and TCP connections at a counting
/// relay in front of the registry, for `ops` sequential operations on one
/// repository (manifest GETs and digest HEADs alternately, cache off).
pub(crate) fn tokens_and_connections(sizes: &Sizes) -> Row {
    let reg = Registry::token();
    let relay = CountingRelay::start(reg.host());
    let client = Client::builder(&relay.url())
        .basic_auth(ALICE.name, ALICE.password)
        .cache_capacity(0)
        .build()
        .unwrap();
    reg.token_server().reset_counts();
    for i in 0..sizes.ops {
        if i % 2 == 0 {
            client.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
        } else {
            client
                .manifest_digest(seed::OCI_APP, seed::APP_TAG)
                .unwrap();
        }
    }
    let tokens = reg.token_server().total_requests();
    let connections = relay.accepted.load(Ordering::SeqCst);
    Row {
        figure: format!(
            "{} operations on one repository (token registry): token requests; TCP connections",
            sizes.ops
        ),
        ours: format!("{tokens}; {connections}"),
        baseline: "—".into(),
        ratio: None,
        target: "1; 1".into(),
        met: Some(tokens == 1 && connections == 1),
        json: json!({"token_requests": tokens, "tcp_connections": connections, "operations": sizes.ops}),
    }
}
