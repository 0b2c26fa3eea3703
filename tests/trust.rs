//! The system's trust store: a client built with no CA of its own trusts
//! what `SSL_CERT_FILE` / `SSL_CERT_DIR` name (or the platform store), as
//! curl, Go and OpenSSL do; `ca_certificate_*` adds to it.
//!
//! Environment variables are the whole process's, so each case runs this
//! very test again in a child process with its own environment; the child
//! lists a repository of the suite's TLS registry and prints the outcome.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use registry_client::Client;
use support::Registry;

/// Runs this test in a child with `env` (SSL_CERT_* removed first); the
/// child builds a client for `url` (adding `extra_ca` when given) and lists
/// `oci/app`.
fn child(url: &str, env: &[(&str, &str)], extra_ca: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "trust_follows_the_system_store",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env_remove("SSL_CERT_FILE")
    .env_remove("SSL_CERT_DIR")
    .env("REGC_TRUST_CHILD_URL", url)
    .envs(env.iter().copied());
    if let Some(ca) = extra_ca {
        cmd.env("REGC_TRUST_CHILD_CA", ca);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child {env:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, o)| o.to_string()))
        .unwrap_or_else(|| panic!("child {env:?} printed no outcome: {stdout}"))
}

fn run_child(url: &str) {
    let mut b = Client::builder(url)
        .timeout(Duration::from_secs(10))
        .max_retries(0);
    if let Ok(ca) = std::env::var("REGC_TRUST_CHILD_CA") {
        b = b.ca_certificate_file(ca);
    }
    let started = Instant::now();
    let outcome = match b.build() {
        Ok(c) => {
            let built = started.elapsed();
            match c.list_tags("oci/app") {
                Ok(tags) => format!("ok {} (client built in {built:?})", tags.join(",")),
                Err(e) => format!("err {e}"),
            }
        }
        Err(e) => format!("err {e}"),
    };
    println!("\nOUTCOME {outcome}");
}

#[test]
fn trust_follows_the_system_store() {
    if let Ok(url) = std::env::var("REGC_TRUST_CHILD_URL") {
        return run_child(&url);
    }
    let reg = Registry::tls();
    let url = reg.url();
    let ca = reg.ca_pem_path();
    let ca = ca.to_str().unwrap();
    // The system store does not hold the test CA: UnknownIssuer, as before.
    let out = child(&url, &[], None);
    assert!(
        out.starts_with("err ") && out.contains("UnknownIssuer"),
        "{out}"
    );
    // SSL_CERT_FILE names it: trusted (ignored before: only the bundled
    // Mozilla roots were used).
    let out = child(&url, &[("SSL_CERT_FILE", ca)], None);
    assert!(out.starts_with("ok v1"), "{out}");
    eprintln!("SSL_CERT_FILE: {out}");
    // SSL_CERT_DIR names a directory holding it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(ca, dir.path().join("test-ca.pem")).unwrap();
    let out = child(
        &url,
        &[("SSL_CERT_DIR", dir.path().to_str().unwrap())],
        None,
    );
    assert!(out.starts_with("ok v1"), "{out}");
    // The builder's CA adds to the system's roots.
    let out = child(&url, &[], Some(ca));
    assert!(out.starts_with("ok v1"), "{out}");
    eprintln!("system store + ca_certificate_file: {out}");
    // And SSL_CERT_FILE pointing at another CA does not trust this one.
    let out = child(
        &url,
        &[("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")],
        None,
    );
    assert!(out.contains("UnknownIssuer"), "{out}");
}
