//! The end-to-end benchmark of issue 11: every figure beside its baseline,
//! measured in the same run against the suite's real registries
//! (docker-registry 2.8 on loopback, plain http and TLS with the test CA).
//!
//! `cargo bench --bench e2e` prints one table and writes it, with every
//! sample, the load average and the syscall counts, as JSON to
//! `<target dir>/e2e-bench.json`. Each row runs its own side and its
//! baseline alternately, `RUNS` times, and shows the median (min–max).
//! `REGC_BENCH_TINY=1` runs every row once with tiny sizes (what
//! `scripts/test` does so the benchmark cannot rot); it judges nothing and
//! writes `e2e-bench-tiny.json`. `REGC_BENCH_ROWS=curl,syscalls,blob,pull,
//! upload,threads,cache,c,tokens` (any of them) runs only those rows and
//! writes `e2e-bench-partial.json`.
//!
//! Processes: the curl, skopeo and C baselines are separate processes, so
//! our side of those rows is a separate process too (this binary re-run
//! with `--child-*`), timed the same way, from spawn to exit. Peak RSS is
//! `/usr/bin/time`'s maximum resident set size of that child.
//!
//! Needs: docker-registry, curl, skopeo, strace, cc, /usr/bin/time (missing
//! tools fail loudly).

mod rows;
mod stats;
#[path = "../../tests/support/mod.rs"]
mod support;
mod tools;
mod upload;

pub(crate) use rows::*;
pub(crate) use stats::*;
pub(crate) use support::noise;
pub(crate) use tools::*;
pub(crate) use upload::*;

use std::fs;
use std::thread;
use std::time::Instant;

use serde_json::json;
use support::{Registry, Storage};

/// Repository holding the N different manifests (tags `t0`…).
pub(crate) const MANY: &str = "bench/many";
/// Repository of the big blob.
pub(crate) const BLOB_REPO: &str = "bench/blob";
/// Repository of the multi-layer image.
pub(crate) const IMAGE_REPO: &str = "bench/layers";
pub(crate) const IMAGE_TAG: &str = "v1";

/// Sizes: the issue's, or tiny ones that only prove the bench still runs.
pub(crate) struct Sizes {
    pub(crate) tiny: bool,
    pub(crate) runs: usize,
    pub(crate) manifests: usize,
    pub(crate) blob_bytes: usize,
    pub(crate) layers: usize,
    pub(crate) layer_bytes: usize,
    pub(crate) threads: usize,
    pub(crate) ops: usize,
    pub(crate) hits: usize,
    /// Extra requests of the long strace run over the short one.
    pub(crate) syscall_requests: usize,
}

impl Sizes {
    fn from_env() -> Sizes {
        let tiny = std::env::var_os("REGC_BENCH_TINY").is_some_and(|v| v != "0" && !v.is_empty());
        if tiny {
            Sizes {
                tiny,
                runs: 1,
                manifests: 20,
                blob_bytes: 4 << 20,
                layers: 4,
                layer_bytes: 1 << 20,
                threads: 8,
                ops: 40,
                hits: 2_000,
                syscall_requests: 10,
            }
        } else {
            Sizes {
                tiny,
                runs: 5,
                manifests: 500,
                blob_bytes: 256 << 20,
                layers: 4,
                layer_bytes: 64 << 20,
                threads: 8,
                ops: 1_000,
                hits: 200_000,
                syscall_requests: 200,
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    for (flag, run) in [
        ("--child-manifests", child_manifests as fn(&[String])),
        ("--child-blob", child_blob),
        ("--child-pull", child_pull),
    ] {
        if let Some(i) = args.iter().position(|a| a == flag) {
            run(&args[i + 1..]);
            return;
        }
    }
    let sizes = Sizes::from_env();
    for tool in ["curl", "skopeo", "strace", "cc", "/usr/bin/time"] {
        which(tool);
    }
    let me = std::env::current_exe().expect("current_exe");
    let work = tempfile::Builder::new()
        .prefix("regc-e2e-")
        .tempdir()
        .expect("tempdir");
    let load_before = loadavg();
    let cores_before = cores_available(if sizes.tiny { 1 << 20 } else { 64 << 20 });
    let started = Instant::now();

    // The registries: plain http (writable, seeded here), and TLS over the
    // same storage.
    let plain = Registry::open_empty();
    seed_manifests(&plain, sizes.manifests);
    let tls = Registry::builder()
        .tls(true)
        .storage(Storage::Dir(plain.storage_dir().to_path_buf()))
        .start();
    eprintln!(
        "e2e: registries {} and {}, {} manifests seeded, {} run(s) per row{}",
        plain.url(),
        tls.url(),
        sizes.manifests,
        sizes.runs,
        if sizes.tiny {
            " (tiny: nothing judged)"
        } else {
            ""
        }
    );

    // `REGC_BENCH_ROWS=blob,pull` runs only those groups (all by default).
    let only = std::env::var("REGC_BENCH_ROWS").unwrap_or_default();
    let wanted = |group: &str| only.is_empty() || only.split(',').any(|g| g.trim() == group);
    let mut rows = Vec::new();
    if wanted("curl") {
        rows.extend(manifests_vs_curl(&sizes, &me, &plain, None, work.path()));
        rows.extend(manifests_vs_curl(
            &sizes,
            &me,
            &tls,
            Some(tls.ca_pem_path()),
            work.path(),
        ));
    }
    if wanted("syscalls") {
        rows.push(syscalls_per_request(&sizes, &me, &plain, &tls, work.path()));
    }
    if wanted("blob") {
        rows.extend(blob_to_sink(&sizes, &me, &plain, work.path()));
    }
    if wanted("pull") {
        rows.extend(pull_vs_skopeo(&sizes, &me, &plain, work.path()));
    }
    if wanted("upload") {
        rows.push(upload_vs_curl(&sizes, &plain, work.path()));
    }
    if wanted("threads") {
        rows.push(threads_vs_sequential(&sizes, &plain));
    }
    if wanted("cache") {
        rows.extend(cache_hits(&sizes, &plain));
    }
    if wanted("c") {
        rows.push(c_api(&sizes, &me, &plain, work.path()));
    }
    if wanted("tokens") {
        rows.push(tokens_and_connections(&sizes));
    }

    let load_after = loadavg();
    let cores_after = cores_available(if sizes.tiny { 1 << 20 } else { 64 << 20 });
    let cores = format!(
        "{} before, {} after (of {})",
        fmt_num(cores_before),
        fmt_num(cores_after),
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    print_table(&rows, &sizes, &load_before, &load_after, &cores);
    let out = target_dir().join(if sizes.tiny {
        "e2e-bench-tiny.json"
    } else if !only.is_empty() {
        "e2e-bench-partial.json"
    } else {
        "e2e-bench.json"
    });
    let doc = json!({
        "tiny": sizes.tiny,
        "runs": sizes.runs,
        "load_before": load_before,
        "load_after": load_after,
        "cores_available_before": cores_before,
        "cores_available_after": cores_after,
        "seconds": started.elapsed().as_secs_f64(),
        "rows": rows.iter().map(|r| json!({
            "figure": r.figure, "ours": r.ours, "baseline": r.baseline,
            "ratio": r.ratio, "target": r.target, "met": r.met, "data": r.json,
        })).collect::<Vec<_>>(),
    });
    fs::write(
        &out,
        serde_json::to_string_pretty(&doc).expect("json") + "\n",
    )
    .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    println!("\nwritten to {}", out.display());
}

fn print_table(rows: &[Row], sizes: &Sizes, before: &str, after: &str, cores: &str) {
    println!(
        "\nregistry-client e2e benchmark: median (min–max) of {} run(s) per figure (the C API \
         row twice that); load average {before} before, {after} after; cores available to \
         this process (parallel hashing): {cores}{}\n",
        sizes.runs,
        if sizes.tiny {
            "; TINY sizes, nothing judged"
        } else {
            ""
        }
    );
    println!("| figure | this project | baseline, same run | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let met = match (r.met, sizes.tiny) {
            (_, true) | (None, _) => "—",
            (Some(true), _) => "yes",
            (Some(false), _) => "**no**",
        };
        let ratio = r.ratio.map_or("—".to_string(), |v| format!("{v:.2}"));
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.figure, r.ours, r.baseline, ratio, r.target, met
        );
    }
}
