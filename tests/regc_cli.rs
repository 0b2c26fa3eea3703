//! The `regc` example binary against real registries.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/images.rs"]
mod images;
#[path = "support/regc.rs"]
mod regc_bin;
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use regc_bin::regc_path;
use serde_json::Value;
use support::seed::{
    self, APP_TAG, DOCKER_APP, MANY_TAGS, MULTI_DOCKER, MULTI_OCI, MULTI_TAG, OCI_APP, PLATFORMS,
};
use support::{sha256_hex, skopeo_raw_manifest, Registry, ALICE, WRONG_PASSWORD};

/// A home directory with no logins in it, for every regc run.
fn empty_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(regc_path());
    // regc reads the docker/podman logins by default: none, unless a test
    // gives its own file (an empty home, no other place to look).
    cmd.args(args)
        .env("HOME", empty_home())
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("REGC_REGISTRY")
        .env_remove("REGC_USERNAME")
        .env_remove("REGC_PASSWORD")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn regc");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().expect("wait regc")
}

/// Runs regc against `reg` and expects success; returns stdout.
fn ok(reg: &Registry, args: &[&str]) -> Vec<u8> {
    let url = reg.url();
    let mut all = vec!["--registry", url.as_str(), "--retries", "0"];
    all.extend_from_slice(args);
    let out = run(&all, &[], None);
    assert_success(&out, args);
    out.stdout
}

fn assert_success(out: &Output, args: &[&str]) {
    assert!(
        out.status.success(),
        "regc {args:?}: {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn lines(b: &[u8]) -> Vec<String> {
    text(b).lines().map(str::to_string).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn ping_text_and_json() {
    let reg = Registry::open();
    let out = text(&ok(&reg, &["ping"]));
    assert_eq!(
        out.trim_end(),
        format!("{}/ OK (registry/2.0, auth required: no)", reg.url())
    );
    let v: Value = serde_json::from_slice(&ok(&reg, &["--json", "ping"])).unwrap();
    assert_eq!(v["api_version"], "registry/2.0");
    assert_eq!(v["auth_required"], false);
    assert_eq!(v["registry"], format!("{}/", reg.url()));
}

#[test]
fn catalog_and_tags() {
    let reg = Registry::open();
    let all = seed::all_repositories();
    assert_eq!(lines(&ok(&reg, &["catalog"])), all);
    assert_eq!(lines(&ok(&reg, &["--page-size", "7", "catalog"])), all);
    assert_eq!(lines(&ok(&reg, &["--page-size=5", "catalog"])), all);
    let v: Vec<String> = serde_json::from_slice(&ok(&reg, &["--json", "catalog"])).unwrap();
    assert_eq!(v, all);

    let mut tags = lines(&ok(&reg, &["tags", MANY_TAGS]));
    tags.sort();
    assert_eq!(tags, seed::many_tags());
    let v: Vec<String> = serde_json::from_slice(&ok(&reg, &["--json", "tags", OCI_APP])).unwrap();
    assert_eq!(v, [APP_TAG]);
}

#[test]
fn manifest_bytes_hash_to_digest() {
    let reg = Registry::open();
    for (repo, tag) in [
        (OCI_APP, APP_TAG),
        (DOCKER_APP, APP_TAG),
        (MULTI_OCI, MULTI_TAG),
        (MULTI_DOCKER, MULTI_TAG),
    ] {
        let body = ok(&reg, &["manifest", repo, tag]);
        assert!(body == skopeo_raw_manifest(&reg, repo, tag), "{repo}:{tag}");
        let digest = text(&ok(&reg, &["digest", repo, tag]));
        assert_eq!(
            digest.trim_end(),
            format!("sha256:{}", sha256_hex(&body)),
            "{repo}:{tag}"
        );
        // The digest fetches the same bytes.
        assert!(ok(&reg, &["manifest", repo, digest.trim_end()]) == body);
        let v: Value = serde_json::from_slice(&ok(&reg, &["--json", "digest", repo, tag])).unwrap();
        assert_eq!(v["digest"], digest.trim_end());
    }
}

#[test]
fn inspect_json() {
    let reg = Registry::open();
    let raw = skopeo_raw_manifest(&reg, OCI_APP, APP_TAG);
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    let v: Value =
        serde_json::from_slice(&ok(&reg, &["inspect", "--json", OCI_APP, APP_TAG])).unwrap();
    assert_eq!(v["digest"], format!("sha256:{}", sha256_hex(&raw)));
    assert_eq!(v["media_type"], support::media::OCI_MANIFEST);
    assert_eq!(v["architecture"], seed::APP_ARCHITECTURE);
    assert_eq!(v["os"], seed::APP_OS);
    assert_eq!(v["variant"], Value::Null);
    assert_eq!(v["author"], seed::APP_AUTHOR);
    // Flat, as regc_image_info_json gives it: one shape for ImageInfo.
    assert_eq!(v["config_digest"], manifest["config"]["digest"]);
    assert_eq!(v["entrypoint"], serde_json::json!(seed::APP_ENTRYPOINT));
    assert_eq!(v["cmd"], serde_json::json!(seed::APP_CMD));
    assert_eq!(v["env"], serde_json::json!(seed::APP_ENV));
    assert_eq!(v["working_dir"], seed::APP_WORKING_DIR);
    assert_eq!(v["user"], seed::APP_USER);
    assert!(v.get("config").is_none(), "{v}");
    for (k, val) in seed::APP_LABELS {
        assert_eq!(v["labels"][k], *val, "label {k}");
    }
    assert_eq!(
        v["labels"].as_object().unwrap().len(),
        seed::APP_LABELS.len()
    );
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), seed::APP_LAYER_COUNT);
    assert_eq!(layers[0]["digest"], manifest["layers"][0]["digest"]);
    assert_eq!(layers[0]["size"], manifest["layers"][0]["size"]);
    assert_eq!(
        v["size"].as_u64().unwrap(),
        manifest["config"]["size"].as_u64().unwrap()
            + manifest["layers"][0]["size"].as_u64().unwrap()
    );

    // Text output names the same digest and platform.
    let t = text(&ok(&reg, &["inspect", OCI_APP, APP_TAG]));
    assert!(t.contains(v["digest"].as_str().unwrap()), "{t}");
    assert!(t.contains("platform:     linux/amd64"), "{t}");
}

#[test]
fn inspect_json_platform_of_index() {
    let reg = Registry::open();
    let index: Value =
        serde_json::from_slice(&skopeo_raw_manifest(&reg, MULTI_OCI, MULTI_TAG)).unwrap();
    for (i, p) in PLATFORMS.iter().enumerate() {
        let platform = p.to_string();
        let v: Value = serde_json::from_slice(&ok(
            &reg,
            &[
                "inspect",
                "--json",
                MULTI_OCI,
                MULTI_TAG,
                "--platform",
                &platform,
            ],
        ))
        .unwrap();
        assert_eq!(v["digest"], index["manifests"][i]["digest"], "{platform}");
        assert_eq!(v["architecture"], p.architecture);
        assert_eq!(v["os"], p.os);
        assert_eq!(v["variant"], serde_json::json!(p.variant));
        assert_eq!(v["media_type"], support::media::OCI_MANIFEST);
    }
    let url = reg.url();
    let out = run(
        &[
            "--registry",
            &url,
            "inspect",
            MULTI_OCI,
            MULTI_TAG,
            "--platform",
            "linux/riscv64",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: not_found:"), "{err}");
    assert!(err.contains("linux/arm64/v8"), "{err}");
}

#[test]
fn basic_auth_with_password_stdin_and_env() {
    let reg = Registry::basic();
    let url = reg.url();

    let args = [
        "--registry",
        &url,
        "--username",
        ALICE.name,
        "--password-stdin",
        "tags",
        OCI_APP,
    ];
    let out = run(&args, &[], Some(&format!("{}\n", ALICE.password)));
    assert_success(&out, &args);
    assert_eq!(lines(&out.stdout), [APP_TAG]);

    let out = run(
        &[
            "--registry",
            &url,
            "--username",
            ALICE.name,
            "--password-stdin",
            "--json",
            "ping",
        ],
        &[],
        Some(ALICE.password),
    );
    assert_success(&out, &["ping"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auth_required"], true);

    // Wrong password: exit 1, an auth error that does not show it.
    let out = run(
        &[
            "--registry",
            &url,
            "--username",
            ALICE.name,
            "--password-stdin",
            "tags",
            OCI_APP,
        ],
        &[],
        Some(&format!("{WRONG_PASSWORD}\n")),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: auth:"), "{err}");
    assert!(!err.contains(WRONG_PASSWORD), "{err}");
    assert!(out.stdout.is_empty());

    // No credentials at all.
    let out = run(&["--registry", &url, "tags", OCI_APP], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: auth:"), "{}", stderr(&out));

    // Everything from the environment.
    let env = [
        ("REGC_REGISTRY", url.as_str()),
        ("REGC_USERNAME", ALICE.name),
        ("REGC_PASSWORD", ALICE.password),
    ];
    let out = run(&["catalog"], &env, None);
    assert_success(&out, &["catalog"]);
    assert_eq!(lines(&out.stdout), seed::all_repositories());

    // A flag wins over the environment.
    let open = Registry::open();
    let open_url = open.url();
    let out = run(&["--registry", &open_url, "ping"], &env, None);
    assert_success(&out, &["ping"]);
    assert!(
        text(&out.stdout).starts_with(&open_url),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn tls_options() {
    let reg = Registry::tls();
    let url = reg.url();
    let ca = reg.ca_pem_path();
    let ca = ca.to_str().unwrap();
    let out = run(
        &["--registry", &url, "--ca-cert", ca, "tags", OCI_APP],
        &[],
        None,
    );
    assert_success(&out, &["--ca-cert"]);
    assert_eq!(lines(&out.stdout), [APP_TAG]);
    let out = run(
        &["--registry", &url, "--insecure", "tags", OCI_APP],
        &[],
        None,
    );
    assert_success(&out, &["--insecure"]);
    let out = run(
        &["--registry", &url, "--retries", "0", "tags", OCI_APP],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: connection:"), "{err}");
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn missing_repository_exits_1() {
    let reg = Registry::open();
    let url = reg.url();
    for args in [
        vec!["tags", "no/such-repo"],
        vec!["manifest", "no/such-repo", "v1"],
        vec!["digest", OCI_APP, "no-such-tag"],
        vec!["inspect", "no/such-repo", "v1"],
    ] {
        let mut all = vec!["--registry", url.as_str()];
        all.extend(args.iter().copied());
        let out = run(&all, &[], None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("error: not_found:"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Invalid input is an error (1), not usage (2).
    let out = run(&["--registry", &url, "tags", "Not/Valid"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: invalid_input:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_usage_exits_2() {
    let reg = Registry::open();
    let url = reg.url();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--registry", &url, "frobnicate"],
        vec!["--registry", &url],
        vec!["--registry", &url, "tags"],
        vec!["--registry", &url, "manifest"],
        vec!["--registry", &url, "manifest", OCI_APP, APP_TAG, "extra"],
        vec!["--registry", &url, "pull", OCI_APP],
        vec!["--registry", &url, "blob", OCI_APP],
        vec!["--registry", &url, "ping", "extra"],
        vec!["--registry", &url, "--page-size", "x", "catalog"],
        vec!["--registry", &url, "--page-size"],
        vec!["--registry", &url, "--retries", "-1", "ping"],
        vec!["--registry", &url, "--timeout", "0", "ping"],
        vec!["--registry", &url, "--bogus", "ping"],
        vec![
            "--registry",
            &url,
            "--platform",
            "linux/amd64",
            "tags",
            OCI_APP,
        ],
        vec!["--registry", &url, "--username", "alice", "ping"],
        vec!["ping"],
    ];
    for args in cases {
        let out = run(&args, &[], None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("usage: regc"),
            "{args:?}: {}",
            stderr(&out)
        );
        // The usage text keeps its lines (it is not escaped as one value).
        assert!(
            stderr(&out).lines().any(|l| l == "commands:"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn retry_flags_and_attempts_in_the_error_line() {
    let srv = fault::FaultServer::start_repeating(vec![fault::status(503)]);
    let started = std::time::Instant::now();
    let out = run(
        &[
            "--registry",
            &srv.url(),
            "--retries",
            "2",
            "--retry-delay-ms",
            "1",
            "--timeout",
            "2",
            "tags",
            "team/app",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: connection:"), "{err}");
    assert!(err.contains("after 3 attempts"), "{err}");
    assert_eq!(srv.request_count(), 3);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // One attempt: no count in the line.
    let srv = fault::FaultServer::start_repeating(vec![fault::status(503)]);
    let out = run(
        &[
            "--registry",
            &srv.url(),
            "--retries",
            "0",
            "tags",
            "team/app",
        ],
        &[],
        None,
    );
    let err = stderr(&out);
    assert!(
        err.starts_with("error: connection:") && !err.contains("attempts"),
        "{err}"
    );
    assert_eq!(srv.request_count(), 1);

    for bad in [
        ["--retries", "-1"],
        ["--timeout", "0"],
        ["--retry-delay-ms", "x"],
    ] {
        let out = run(
            &["--registry", &srv.url(), bad[0], bad[1], "catalog"],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// Number options out of range, not numbers, or too big for their type are
/// usage errors (exit 2 with the usage text), never a panic (exit 101); the
/// message names the option.
#[test]
fn bad_numbers_are_usage_errors_not_panics() {
    // Nothing is ever sent: parsing fails first.
    let url = fault::FaultServer::refused_url();
    let bad = [
        "1e300",
        "-1",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "18446744073709551616",
        "340282366920938463463374607431768211456",
        "1e-300",
        "",
        "0x10",
    ];
    for flag in ["--timeout", "--retries", "--retry-delay-ms", "--page-size"] {
        for value in bad {
            for args in [
                vec!["--registry", url.as_str(), flag, value, "catalog"],
                vec![
                    "--registry",
                    url.as_str(),
                    &format!("{flag}={value}"),
                    "catalog",
                ],
            ] {
                let out = run(&args, &[], None);
                let err = stderr(&out);
                assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
                assert!(err.contains("usage: regc"), "{args:?}: {err}");
                assert!(err.starts_with(&format!("regc: {flag}")), "{args:?}: {err}");
                assert!(!err.contains("panicked"), "{args:?}: {err}");
                assert!(out.stdout.is_empty(), "{args:?}");
            }
        }
    }
    // Too large for a sane run (a retry delay of u64::MAX ms would sleep
    // forever), and a page size of 0: usage errors as well.
    for (flag, value) in [
        ("--timeout", "1e15"),
        ("--timeout", "18446744073709551615"),
        ("--retry-delay-ms", "18446744073709551615"),
        ("--retries", "4294967295"),
        ("--page-size", "0"),
    ] {
        let out = run(&["--registry", &url, flag, value, "catalog"], &[], None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.starts_with(&format!("regc: {flag}")), "{err}");
    }
}

/// Limits are inclusive: the largest and smallest accepted values work.
#[test]
fn number_options_at_their_limits_are_accepted() {
    let srv = fault::FaultServer::start_repeating(vec![fault::json(
        200,
        r#"{"name":"team/app","tags":["v1"]}"#,
    )]);
    let url = srv.url();
    for args in [
        ["--timeout", "86400"],
        ["--timeout", "0.5"],
        ["--retries", "100"],
        ["--retry-delay-ms", "3600000"],
        ["--retry-delay-ms", "0"],
        ["--page-size", "1"],
        ["--page-size", "10000"],
    ] {
        let mut all = vec!["--registry", url.as_str()];
        all.extend(args);
        all.extend(["tags", "team/app"]);
        let out = run(&all, &[], None);
        assert_success(&out, &all);
        assert_eq!(lines(&out.stdout), ["v1"], "{all:?}");
    }
    // A 1 ns timeout is accepted (it then times out, or the refused
    // connection is reported): an error, not a usage error.
    let refused = fault::FaultServer::refused_url();
    let out = run(
        &[
            "--registry",
            &refused,
            "--retries",
            "0",
            "--timeout",
            "1e-9",
            "ping",
        ],
        &[],
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
}

// ---------------------------------------------------------------------------
// Terminal escape injection: what a registry sends is shown, not obeyed.
// ---------------------------------------------------------------------------

/// Sets the terminal title (OSC 0) when printed raw.
const TITLE: &str = "\u{1b}]0;pwned\u{7}";
/// Forges a line that looks like regc's own error report when printed raw.
const FORGED: &str = "ok\nerror: forged";
/// A C1 CSI (U+009B) and DEL, which serde_json leaves unescaped.
const C1_AND_DEL: &str = "red\u{9b}31m\u{7f}";
/// How regc shows [`TITLE`], [`FORGED`] and [`C1_AND_DEL`].
const TITLE_SHOWN: &str = "\\u{1b}]0;pwned\\u{7}";
const FORGED_SHOWN: &str = "ok\\nerror: forged";
const C1_AND_DEL_SHOWN: &str = "red\\u{9b}31m\\u{7f}";

/// No byte of `out` is a control character a terminal would act on (other
/// than the newline ending each line), and no line is a forged error.
fn assert_inert(out: &[u8], what: &str) {
    let shown = String::from_utf8_lossy(out);
    assert!(!out.contains(&0x1b), "{what}: raw ESC in {shown:?}");
    assert!(!out.contains(&0x7f), "{what}: raw DEL in {shown:?}");
    let text = std::str::from_utf8(out).unwrap_or_else(|e| panic!("{what}: {e}"));
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
        panic!("{what}: raw {c:?} in {shown:?}");
    }
    for line in text.lines() {
        assert!(!line.starts_with("error: forged"), "{what}: {shown:?}");
    }
}

fn run_against(srv: &fault::FaultServer, args: &[&str]) -> Output {
    let url = srv.url();
    let mut all = vec!["--registry", url.as_str(), "--retries", "0"];
    all.extend_from_slice(args);
    run(&all, &[], None)
}

#[test]
fn catalog_and_tags_escape_control_characters() {
    let names = [TITLE, FORGED, C1_AND_DEL, "plain"];
    let shown = [TITLE_SHOWN, FORGED_SHOWN, C1_AND_DEL_SHOWN, "plain"];
    let catalog = serde_json::json!({ "repositories": names }).to_string();
    let tags = serde_json::json!({ "name": "team/app", "tags": names }).to_string();
    let srv = fault::FaultServer::start_routed_repeating(vec![
        (
            fault::Route::prefix("/v2/_catalog"),
            vec![fault::json(200, &catalog)],
        ),
        (
            fault::Route::prefix("/v2/team/app/tags/"),
            vec![fault::json(200, &tags)],
        ),
    ]);
    for args in [&["catalog"][..], &["tags", "team/app"]] {
        let out = run_against(&srv, args);
        assert_success(&out, args);
        assert_inert(&out.stdout, &format!("{args:?} stdout"));
        assert_inert(&out.stderr, &format!("{args:?} stderr"));
        assert_eq!(lines(&out.stdout), shown, "{args:?}");

        // JSON stays JSON and says exactly what the registry sent, with
        // every control character escaped (DEL and C1 too).
        let mut json_args = vec!["--json"];
        json_args.extend_from_slice(args);
        let out = run_against(&srv, &json_args);
        assert_success(&out, &json_args);
        assert_inert(&out.stdout, &format!("{json_args:?} stdout"));
        let v: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v, names, "{json_args:?}");
    }
}

#[test]
fn inspect_escapes_control_characters() {
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "author": FORGED,
        "config": {
            "Labels": { TITLE: FORGED, "c1": C1_AND_DEL },
            "Env": [format!("PS1={TITLE}")],
            "Entrypoint": [FORGED],
            "Cmd": [TITLE],
            "WorkingDir": C1_AND_DEL,
            "User": TITLE,
        },
        "rootfs": { "type": "layers", "diff_ids": [] },
    })
    .to_string();
    let config_digest = images::sha256(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": images::OCI_MANIFEST,
        "config": { "mediaType": images::OCI_CONFIG, "digest": config_digest, "size": config.len() },
        "layers": [],
    })
    .to_string();
    let digest = images::sha256(manifest.as_bytes());
    let srv = fault::FaultServer::start_routed_repeating(vec![
        (
            fault::Route::prefix("/v2/team/app/manifests/"),
            vec![fault::respond(
                200,
                &[
                    ("Content-Type", images::OCI_MANIFEST),
                    ("Docker-Content-Digest", &digest),
                ],
                manifest.clone(),
            )],
        ),
        (
            fault::Route::prefix("/v2/team/app/blobs/"),
            vec![fault::respond(200, &[], config.clone())],
        ),
    ]);
    let args = ["inspect", "team/app", "v1"];
    let out = run_against(&srv, &args);
    assert_success(&out, &args);
    assert_inert(&out.stdout, "inspect stdout");
    assert_inert(&out.stderr, "inspect stderr");
    let t = text(&out.stdout);
    for want in [
        format!("author:       {FORGED_SHOWN}"),
        format!("label:        {TITLE_SHOWN}={FORGED_SHOWN}"),
        format!("label:        c1={C1_AND_DEL_SHOWN}"),
        format!("env:          PS1={TITLE_SHOWN}"),
        format!("working dir:  {C1_AND_DEL_SHOWN}"),
        format!("user:         {TITLE_SHOWN}"),
    ] {
        assert!(t.lines().any(|l| l == want), "no line {want:?} in:\n{t}");
    }
    // Each line is one field: nothing a value carried started a new one.
    for line in t.lines() {
        let field = line.split(':').next().unwrap();
        assert!(
            [
                "digest",
                "media type",
                "platform",
                "created",
                "author",
                "size",
                "entrypoint",
                "cmd",
                "working dir",
                "user",
                "env",
                "label",
                "layer"
            ]
            .contains(&field),
            "unexpected line {line:?} in:\n{t}"
        );
    }

    let args = ["--json", "inspect", "team/app", "v1"];
    let out = run_against(&srv, &args);
    assert_success(&out, &args);
    assert_inert(&out.stdout, "inspect --json stdout");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["author"], FORGED);
    assert_eq!(v["labels"][TITLE], FORGED);
    assert_eq!(v["working_dir"], C1_AND_DEL);

    // `manifest` writes the registry's bytes exactly, whatever they hold.
    let args = ["manifest", "team/app", "v1"];
    let out = run_against(&srv, &args);
    assert_success(&out, &args);
    assert!(out.stdout == manifest.as_bytes());
}

#[test]
fn registry_error_messages_are_escaped_on_stderr() {
    let body = serde_json::json!({
        "errors": [{
            "code": "MANIFEST_UNKNOWN",
            "message": format!("gone{TITLE}\n{FORGED}"),
            "detail": null,
        }]
    })
    .to_string();
    let srv = fault::FaultServer::start_repeating(vec![fault::json(404, &body)]);
    for args in [
        &["manifest", "team/app", "v1"][..],
        &["inspect", "team/app", "v1"],
        &["digest", "team/app", "v1"],
        &["tags", "team/app"],
        &["catalog"],
    ] {
        let out = run_against(&srv, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_inert(&out.stderr, &format!("{args:?} stderr"));
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("error: not_found:"), "{args:?}: {err}");
        // `digest` asks with HEAD: no body, so no message to show.
        if args[0] != "digest" {
            assert!(
                err.contains(&format!("gone{TITLE_SHOWN}\\n{FORGED_SHOWN}")),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn usage_errors_escape_what_the_user_typed() {
    let url = fault::FaultServer::refused_url();
    for args in [
        vec!["--registry", &url, "--x\u{1b}]0;pwned\u{7}", "ping"],
        vec!["--registry", &url, "--timeout", "1\nerror: forged", "ping"],
        vec!["--registry", &url, "frob\u{1b}[2J\nerror: forged"],
    ] {
        let out = run(&args, &[], None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_inert(&out.stderr, &format!("{args:?} stderr"));
        assert!(err.starts_with("regc: "), "{err}");
    }
}

// ---------------------------------------------------------------------------
// Help and version, references, blob, pull, system credentials, JSON errors
// ---------------------------------------------------------------------------

#[test]
fn help_and_version_go_to_stdout_with_exit_0() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["tags", "--help"],
        &["pull", "-h"],
        &["help", "blob"],
        &["--version"],
        &["-V"],
    ] {
        let out = run(args, &[], None);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
        let t = text(&out.stdout);
        if args[0] == "--version" || args[0] == "-V" {
            assert_eq!(t, format!("regc {}\n", env!("CARGO_PKG_VERSION")));
        } else {
            assert!(t.contains("Usage: regc"), "{args:?}: {t}");
        }
    }
    let t = text(&run(&["--help"], &[], None).stdout);
    for command in [
        "ping", "catalog", "tags", "manifest", "digest", "inspect", "blob", "pull",
    ] {
        assert!(
            t.lines().any(|l| l.trim_start().starts_with(command)),
            "{command}: {t}"
        );
    }
    assert!(text(&run(&["pull", "--help"], &[], None).stdout).contains("--all-platforms"));
    assert!(text(&run(&["blob", "--help"], &[], None).stdout).contains("--output"));

    // A closed stdout: no panic (101), no message about one.
    for args in [&["--version"][..], &["--help"]] {
        let mut child = Command::new(regc_path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_ne!(out.status.code(), Some(101), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn one_reference_instead_of_registry_repo_and_ref() {
    let reg = Registry::open();
    let host = reg.host();
    let raw = skopeo_raw_manifest(&reg, OCI_APP, APP_TAG);
    let digest = format!("sha256:{}", sha256_hex(&raw));
    let regc = |args: &[&str]| {
        let mut all = vec!["--retries", "0"];
        all.extend_from_slice(args);
        let out = run(&all, &[], None);
        assert_success(&out, args);
        out.stdout
    };
    assert_eq!(
        lines(&regc(&["tags", &format!("{host}/{OCI_APP}")])),
        [APP_TAG]
    );
    // A tag is ignored by tags.
    assert_eq!(
        lines(&regc(&["tags", &format!("{host}/{OCI_APP}:{APP_TAG}")])),
        [APP_TAG]
    );
    let by_tag = format!("{host}/{OCI_APP}:{APP_TAG}");
    let by_digest = format!("{host}/{OCI_APP}@{digest}");
    assert_eq!(text(&regc(&["digest", &by_tag])).trim_end(), digest);
    assert_eq!(text(&regc(&["digest", &by_digest])).trim_end(), digest);
    assert!(regc(&["manifest", &by_tag]) == raw);
    assert!(regc(&["manifest", &by_digest]) == raw);
    // The old form with a repository as a reference without tag.
    assert!(regc(&["manifest", &format!("{host}/{OCI_APP}"), APP_TAG]) == raw);

    // `localhost` is a registry name too, and --platform picks from an index.
    let index: Value =
        serde_json::from_slice(&skopeo_raw_manifest(&reg, MULTI_OCI, MULTI_TAG)).unwrap();
    let local = format!("localhost:{}/{MULTI_OCI}:{MULTI_TAG}", reg.port());
    for (i, p) in PLATFORMS.iter().enumerate() {
        let platform = p.to_string();
        let v: Value = serde_json::from_slice(&regc(&[
            "inspect",
            "--json",
            &local,
            "--platform",
            &platform,
        ]))
        .unwrap();
        assert_eq!(v["digest"], index["manifests"][i]["digest"], "{platform}");
    }

    // With --registry: repositories of it, in every form, and a reference
    // naming another registry still goes there.
    let url = reg.url();
    fn with<'a>(url: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--registry", url];
        all.extend_from_slice(args);
        all
    }
    for args in [
        with(&url, &["digest", &format!("{OCI_APP}:{APP_TAG}")]),
        with(&url, &["digest", &format!("{OCI_APP}@{digest}")]),
        with(&url, &["digest", OCI_APP, APP_TAG]),
        with(&url, &["digest", &by_tag]),
    ] {
        assert_eq!(text(&regc(&args)).trim_end(), digest, "{args:?}");
    }
    let other = Registry::open_empty();
    let out = run(&["--registry", &other.url(), "digest", &by_tag], &[], None);
    assert_success(&out, &["digest", &by_tag]);
    assert_eq!(text(&out.stdout).trim_end(), digest);
    // `latest` when there is no tag: not_found here.
    let out = run(&with(&url, &["digest", OCI_APP]), &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: not_found:"),
        "{}",
        stderr(&out)
    );

    // A TLS registry on loopback by reference: https, with the CA.
    let tls = Registry::tls();
    let ca = tls.ca_pem_path();
    let out = run(
        &[
            "--ca-cert",
            ca.to_str().unwrap(),
            "tags",
            &format!("{}/{OCI_APP}", tls.host()),
        ],
        &[],
        None,
    );
    assert_success(&out, &["tags", "tls"]);
    assert_eq!(lines(&out.stdout), [APP_TAG]);

    // A bad reference is invalid input (1); no registry at all is usage (2);
    // a tag twice is usage.
    let out = run(&["tags", &format!("{host}/Not/Valid")], &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: invalid_input:"),
        "{}",
        stderr(&out)
    );
    let out = run(&["ping"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["manifest", &by_tag, APP_TAG], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn blob_to_stdout_and_file_is_exact_and_verified() {
    let reg = Registry::open();
    let manifest: Value =
        serde_json::from_slice(&skopeo_raw_manifest(&reg, OCI_APP, APP_TAG)).unwrap();
    let image = format!("{}/{OCI_APP}:{APP_TAG}", reg.host());
    for d in [&manifest["layers"][0], &manifest["config"]] {
        let digest = d["digest"].as_str().unwrap();
        let size = d["size"].as_u64().unwrap();
        let out = run(&["blob", &image, digest], &[], None);
        assert_success(&out, &["blob", digest]);
        assert_eq!(out.stdout.len() as u64, size);
        assert_eq!(format!("sha256:{}", sha256_hex(&out.stdout)), digest);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("blob");
        let out = run(
            &["blob", &image, digest, "-o", file.to_str().unwrap()],
            &[],
            None,
        );
        assert_success(&out, &["blob", "-o"]);
        assert!(out.stdout.is_empty());
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(format!("sha256:{}", sha256_hex(&bytes)), digest);
        // Only the file: no temporary one left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    // Bytes that do not match the digest: exit 1, and no file at all.
    let wanted = format!("sha256:{}", sha256_hex(b"the right bytes"));
    let srv = fault::FaultServer::start_routed_repeating(vec![(
        fault::Route::prefix("/v2/team/app/blobs/"),
        vec![fault::respond(200, &[], "the wrong bytes".to_string())],
    )]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blob");
    let out = run(
        &[
            "--registry",
            &srv.url(),
            "--retries",
            "0",
            "blob",
            "team/app",
            &wanted,
            "--output",
            file.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A digest that is not one: invalid input.
    let out = run(&["blob", &image, "sha256:xyz"], &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: invalid_input:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn pull_by_reference_unpacks_with_umoci() {
    let reg = Registry::open();
    let original = format!(
        "sha256:{}",
        sha256_hex(&skopeo_raw_manifest(&reg, OCI_APP, APP_TAG))
    );
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let image = format!("{}/{OCI_APP}:{APP_TAG}", reg.host());
    let out = run(
        &["pull", &image, layout.to_str().unwrap(), "--jobs", "2"],
        &[],
        None,
    );
    assert_success(&out, &["pull"]);
    // stderr is not a terminal: no progress bar.
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    assert!(
        text(&out.stdout).contains(&original),
        "{}",
        text(&out.stdout)
    );
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], original.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        APP_TAG
    );
    let bundle = dir.path().join("bundle");
    let umoci = Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:{APP_TAG}", layout.display()))
        .arg(&bundle)
        .output()
        .expect("umoci (tests need it: scripts/install-deps)");
    assert!(umoci.status.success(), "{}", stderr(&umoci));
    for (path, content) in seed::APP_FILES {
        assert_eq!(
            std::fs::read_to_string(bundle.join("rootfs").join(path)).unwrap(),
            *content
        );
    }

    // Again: everything is there already. JSON says so.
    let out = run(
        &["--json", "pull", &image, layout.to_str().unwrap()],
        &[],
        None,
    );
    assert_success(&out, &["pull", "again"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["digest"], original.as_str());
    assert_eq!(v["blobs_fetched"], 0);
    assert_eq!(v["blobs_present"], 2 + seed::APP_LAYER_COUNT);

    // Every platform of an index, with --registry and a repository.
    let all = dir.path().join("all");
    let out = run(
        &[
            "--registry",
            &reg.url(),
            "--json",
            "pull",
            &format!("{MULTI_OCI}:{MULTI_TAG}"),
            all.to_str().unwrap(),
            "--all-platforms",
        ],
        &[],
        None,
    );
    assert_success(&out, &["pull", "--all-platforms"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["media_type"], support::media::OCI_INDEX);
    assert_eq!(v["manifests"].as_array().unwrap().len(), PLATFORMS.len());
    let index: Value =
        serde_json::from_slice(&std::fs::read(all.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["mediaType"],
        support::media::OCI_INDEX
    );

    for bad in [
        vec!["--jobs", "0"],
        vec!["--jobs", "65"],
        vec!["--platform", "linux/arm64", "--all-platforms"],
    ] {
        let mut args = vec!["pull", image.as_str(), all.to_str().unwrap()];
        args.extend(bad.iter().copied());
        let out = run(&args, &[], None);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
}

#[test]
fn credentials_from_an_auth_file_and_the_order_of_sources() {
    use base64::Engine as _;
    let reg = Registry::basic();
    let dir = tempfile::tempdir().unwrap();
    let auth_file = dir.path().join("auth.json");
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", ALICE.name, ALICE.password));
    std::fs::write(
        &auth_file,
        serde_json::json!({ "auths": { reg.host(): { "auth": auth } } }).to_string(),
    )
    .unwrap();
    let file_env = [("REGISTRY_AUTH_FILE", auth_file.to_str().unwrap())];
    let image = format!("{}/{OCI_APP}", reg.host());

    // By reference and by --registry: the file's login is used.
    let out = run(&["tags", &image], &file_env, None);
    assert_success(&out, &["tags", "auth file"]);
    assert_eq!(lines(&out.stdout), [APP_TAG]);
    let url = reg.url();
    let out = run(&["--registry", &url, "tags", OCI_APP], &file_env, None);
    assert_success(&out, &["--registry", "auth file"]);
    assert_eq!(lines(&out.stdout), [APP_TAG]);

    // Without the file: refused.
    let out = run(&["tags", &image], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: auth:"), "{}", stderr(&out));

    // The environment wins over the file, and --password-stdin over both.
    let wrong_env = [
        ("REGISTRY_AUTH_FILE", auth_file.to_str().unwrap()),
        ("REGC_USERNAME", ALICE.name),
        ("REGC_PASSWORD", WRONG_PASSWORD),
    ];
    let out = run(&["tags", &image], &wrong_env, None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: auth:"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(WRONG_PASSWORD));
    let out = run(
        &["--username", ALICE.name, "--password-stdin", "tags", &image],
        &wrong_env,
        Some(ALICE.password),
    );
    assert_success(&out, &["--password-stdin over env"]);
    assert_eq!(lines(&out.stdout), [APP_TAG]);
}

#[test]
fn json_errors_on_stderr() {
    let reg = Registry::open();
    let out = run(
        &["--json", "tags", &format!("{}/no/such-repo", reg.host())],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: Value = serde_json::from_str(&err).unwrap();
    assert_eq!(v["error"]["kind"], "not_found");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no/such-repo"),
        "{v}"
    );

    // Usage errors too, with exit 2; a value typed stays JSON, escaped.
    for args in [
        &["--json", "frob\u{1b}]0;x\u{7}"][..],
        &["--json", "--registry", "x", "--timeout", "0", "ping"],
        &["ping", "--json"],
    ] {
        let out = run(args, &[], None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_inert(&out.stderr, &format!("{args:?}"));
        let v: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(v["error"]["kind"], "usage", "{args:?}");
    }
    // Registry error messages with control characters stay one JSON line.
    let body = serde_json::json!({
        "errors": [{ "code": "NAME_UNKNOWN", "message": format!("gone{TITLE}\n{FORGED}") }]
    })
    .to_string();
    let srv = fault::FaultServer::start_repeating(vec![fault::json(404, &body)]);
    let out = run_against(&srv, &["--json", "tags", "team/app"]);
    assert_eq!(out.status.code(), Some(1));
    assert_inert(&out.stderr, "json error");
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains(FORGED),
        "{v}"
    );
}

/// With stderr on a terminal (a pty from util-linux `script`), pull draws a
/// progress bar there; `pull_by_reference_unpacks_with_umoci` shows it
/// stays quiet otherwise.
#[test]
fn pull_shows_a_progress_bar_on_a_terminal() {
    let reg = Registry::open();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let command = format!(
        "'{}' pull '{}/{OCI_APP}:{APP_TAG}' '{}' >/dev/null",
        regc_path().display(),
        reg.host(),
        layout.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", empty_home())
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) is needed for a pty");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}\n{}", stderr(&out));
    assert!(shown.contains("\r["), "{shown:?}");
    assert!(shown.contains("] 100% "), "{shown:?}");
    assert!(layout.join("index.json").is_file());
}

/// `--plain-http` is used for every registry it is given with: a TLS
/// registry asked in plain http refuses, where the same command over https
/// (the default, with its CA) works.
#[test]
fn plain_http_option_reaches_the_client() {
    let tls = Registry::tls();
    let ca = tls.ca_pem_path();
    let image = format!("{}/{OCI_APP}", tls.host());
    let base = ["--retries", "0", "--ca-cert", ca.to_str().unwrap()];
    let mut args = base.to_vec();
    args.extend(["tags", image.as_str()]);
    let out = run(&args, &[], None);
    assert_success(&out, &args);
    let mut args = base.to_vec();
    args.extend(["--plain-http", "--json", "tags", image.as_str()]);
    let out = run(&args, &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP request to an HTTPS server"),
        "{v}"
    );
}
