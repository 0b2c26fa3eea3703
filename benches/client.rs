//! Speed and memory of the client against a real registry on loopback,
//! each figure printed beside a baseline measured in the same process.
//!
//! `cargo bench --bench client` (nothing here is asserted; it prints).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Read;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use registry_client::Client;
use support::{seed, Registry, ALICE};

const MANIFEST_ROUNDS: u32 = 300;

fn per_op(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e6 / n as f64
}

fn time(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed()
}

/// Peak resident set size (VmHWM) in KiB, reset first when `reset`.
fn peak_rss_kib(reset: bool) -> u64 {
    if reset {
        // "5" resets the peak RSS counter (Linux 4.0+).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let reg = Registry::open();
    let url = reg.url();
    let manifest_url = format!("{url}/v2/{}/manifests/{}", seed::OCI_APP, seed::APP_TAG);
    // The same Accept the client sends, so both ask the registry the same question.
    let accept = registry_client::manifest::media_type::ACCEPT_MANIFESTS;

    println!("registry-client benchmarks against docker-registry on {url}\n");

    // 1. A manifest fetch: raw ureq (baseline) vs the client without cache.
    let agent = ureq::Agent::config_builder().build().new_agent();
    let baseline = time(MANIFEST_ROUNDS, || {
        let mut r = agent
            .get(&manifest_url)
            .header("Accept", accept)
            .call()
            .unwrap();
        let _ = r.body_mut().read_to_vec().unwrap();
    });
    let uncached = Client::builder(&url).cache_capacity(0).build().unwrap();
    let ours = time(MANIFEST_ROUNDS, || {
        uncached.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
    });
    println!("manifest GET, {MANIFEST_ROUNDS} rounds, one connection:");
    println!(
        "  raw ureq (baseline)         {:8.1} µs/op",
        per_op(baseline, MANIFEST_ROUNDS)
    );
    println!(
        "  client, cache off           {:8.1} µs/op   ratio {:.2}x baseline (parse + digest check)",
        per_op(ours, MANIFEST_ROUNDS),
        ours.as_secs_f64() / baseline.as_secs_f64()
    );

    // 2. The same call answered from the cache.
    let cached = Client::builder(&url).build().unwrap();
    cached.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
    let hits = 100_000;
    let hit_time = time(hits, || {
        cached.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
    });
    println!(
        "  client, cache hit           {:8.3} µs/op   {:.0}x faster than the network path",
        per_op(hit_time, hits),
        per_op(ours, MANIFEST_ROUNDS) / per_op(hit_time, hits)
    );
    println!("  cache stats: {:?}\n", cached.cache_stats());

    // 3. Token auth: many threads, one client, one token.
    let treg = Registry::token();
    treg.token_server().reset_counts();
    let client = Arc::new(
        Client::builder(&treg.url())
            .basic_auth(ALICE.name, ALICE.password)
            .cache_capacity(0)
            .build()
            .unwrap(),
    );
    let threads = 8;
    let per_thread = 50;
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let c = client.clone();
            thread::spawn(move || {
                for _ in 0..per_thread {
                    c.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = start.elapsed();
    let total = (threads * per_thread) as f64;
    println!("token registry, {threads} threads x {per_thread} manifest GETs, cache off:");
    println!(
        "  {:.0} req/s, token requests: {} (for {} manifest requests)\n",
        total / elapsed.as_secs_f64(),
        treg.token_server().total_requests(),
        total
    );

    // 4. A large blob: streamed through a 64 KiB buffer vs read whole.
    let big = Registry::open_empty();
    let size = 64usize << 20;
    let mut data = vec![0u8; size];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let digest = big.pusher(&["bench/blob"]).push_blob("bench/blob", &data);
    drop(data);
    let client = Client::builder(&big.url()).build().unwrap();

    let before = peak_rss_kib(true);
    let start = Instant::now();
    let n = client
        .blob("bench/blob", &digest)
        .unwrap()
        .copy_to(&mut std::io::sink())
        .unwrap();
    let stream_time = start.elapsed();
    let stream_peak = peak_rss_kib(false).saturating_sub(before);
    assert_eq!(n as usize, size);

    let before = peak_rss_kib(true);
    let start = Instant::now();
    let mut whole = Vec::new();
    let mut r = ureq::get(&format!("{}/v2/bench/blob/blobs/{digest}", big.url()))
        .call()
        .unwrap();
    r.body_mut().as_reader().read_to_end(&mut whole).unwrap();
    let whole_time = start.elapsed();
    let whole_peak = peak_rss_kib(false).saturating_sub(before);
    drop(whole);

    let mib = size as f64 / (1 << 20) as f64;
    println!("{mib:.0} MiB blob:");
    println!(
        "  read whole with raw ureq (baseline)  {:7.0} MiB/s  peak RSS +{:6} KiB",
        mib / whole_time.as_secs_f64(),
        whole_peak
    );
    println!(
        "  client stream + sha256 check         {:7.0} MiB/s  peak RSS +{:6} KiB  ({:.3}x the baseline's memory)",
        mib / stream_time.as_secs_f64(),
        stream_peak,
        stream_peak as f64 / whole_peak.max(1) as f64
    );
}
