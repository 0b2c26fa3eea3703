//! Keep it that way: a hostile registry or token server puts the client's
//! secrets back into what it answers, every way it can, and nothing the
//! library produces shows them — neither the Rust error (Display, Debug,
//! every `source()`) nor `regc`'s stdout and stderr (with and without
//! `--json`), run against the same server with `REGC_USERNAME` and
//! `REGC_PASSWORD`.
//!
//! Every scenario runs twice: with a plain marker password, and with one
//! holding `"` and `\`, which messages escape when they quote what a server
//! sent (so the escaped form must go too). A scenario that puts the secret
//! where a message shows it also checks that `<redacted>` took its place:
//! the echo did reach the message, and the test is not vacuous.
//!
//! The C API's `regc_last_error_message()` is checked by
//! `ffi-tests/test_secrets.c` (driven by `tests/ffi.rs`).

#[path = "support/fault.rs"]
mod fault;
#[path = "support/images.rs"]
mod images;
#[path = "support/markers.rs"]
mod markers;
#[path = "support/regc.rs"]
mod regc_bin;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use fault::*;
use markers::*;
use regc_bin::regc_path;
use registry_client::{Client, ClientBuilder, Error};
use serde_json::json;

const REPO: &str = "team/app";
/// A password that messages escape when they quote it.
const ESCAPED_PASSWORD: &str = r#"Pw"S3CRET\7c1f9e"#;
/// Where a quoted server text is cut (`text::quote`).
const QUOTE_CUT: usize = 64;
const REDACTED: &str = "<redacted>";

/// The secrets a client holds in one scenario, as a hostile server echoes
/// them (only those: a secret the client never had, it cannot know to take
/// out).
struct Echo {
    password: String,
    basic: String,
    /// The token the scripted realm hands out, when there is one.
    token: Option<String>,
    /// The client has only a static bearer token ([`MARKER_TOKEN`]).
    bearer: bool,
}

impl Echo {
    fn new(password: &str, s: &Scenario) -> Echo {
        Echo {
            password: password.to_string(),
            basic: basic_b64(MARKER_USER, password),
            token: s.realm_token.then(|| marker_token("realm")),
            bearer: matches!(s.creds, Creds::Bearer),
        }
    }

    /// Every secret of the run (also those this client does not hold: none
    /// may show).
    fn markers(&self) -> Markers {
        Markers::with_password(&self.password, &[marker_token("realm")])
    }

    /// The secrets this client holds.
    fn held(&self) -> Vec<String> {
        if self.bearer {
            return vec![MARKER_TOKEN.to_string()];
        }
        let mut held = vec![self.password.clone(), self.basic.clone()];
        held.extend(self.token.clone());
        held
    }

    /// Everything the client sent, in one sentence.
    fn sentence(&self) -> String {
        if self.bearer {
            return format!("you sent Bearer {MARKER_TOKEN}");
        }
        let mut said = format!("you sent Basic {} (password {})", self.basic, self.password);
        if let Some(t) = &self.token {
            said.push_str(&format!(" and then Bearer {t}"));
        }
        said
    }

    /// A registry error body with the secrets in code, message and detail.
    fn json_errors(&self) -> String {
        let held = self.held();
        json!({"errors": [{
            "code": held[0],
            "message": self.sentence(),
            "detail": {"held": held, held[0].clone(): "as a key"},
        }]})
        .to_string()
    }

    /// `filler` characters, then the password, so that a quote cut at
    /// [`QUOTE_CUT`] characters keeps all of the password but its last
    /// character.
    fn password_across_the_cut(&self) -> String {
        let n = self.password.chars().count();
        format!("{}{}", "x".repeat(QUOTE_CUT - (n - 1)), self.password)
    }
}

/// The operation a scenario fails.
#[derive(Clone, Copy, Debug)]
enum Op {
    Tags,
    Manifest,
}

impl Op {
    fn run(self, client: &Client) -> Result<(), Error> {
        match self {
            Op::Tags => client.list_tags(REPO).map(drop),
            Op::Manifest => client.get_manifest(REPO, "v1").map(drop),
        }
    }

    fn regc_args(self) -> Vec<&'static str> {
        match self {
            Op::Tags => vec!["tags", REPO],
            Op::Manifest => vec!["manifest", REPO, "v1"],
        }
    }
}

/// Which credentials the Rust client has (regc always has Basic ones: it
/// has no way to take a bearer token).
#[derive(Clone, Copy, Debug)]
enum Creds {
    Basic,
    Bearer,
}

/// The servers of one scenario (kept alive while it runs) and the
/// registry's URL.
struct Setup {
    registry: String,
    _servers: Vec<FaultServer>,
}

impl Setup {
    fn one(srv: FaultServer) -> Setup {
        Setup {
            registry: srv.url(),
            _servers: vec![srv],
        }
    }
}

struct Scenario {
    name: &'static str,
    op: Op,
    creds: Creds,
    /// A realm hands out [`marker_token`]`("realm")`.
    realm_token: bool,
    /// The echo lands where the error shows it (so `<redacted>` must).
    shown: bool,
    /// Not run with [`ESCAPED_PASSWORD`]: the URL parser ends a host at its
    /// `\\`, so only a piece of it is shown, outside any cut (a piece of a
    /// secret is searched for only where a message cut it).
    plain_only: bool,
    start: fn(&Echo) -> Setup,
}

fn basic_challenge() -> Step {
    status(401).header("WWW-Authenticate", r#"Basic realm="registry""#)
}

/// A registry that asks for Basic credentials and answers requests that
/// carry some with `steps`.
fn basic_registry(steps: Vec<Step>) -> Setup {
    Setup::one(FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![basic_challenge()],
        ),
        (Route::prefix("/v2/"), steps),
    ]))
}

/// A registry that sends for a token from a realm answering `realm_steps`,
/// and answers requests that carry one with `steps`.
fn token_registry(realm_steps: Vec<Step>, steps: Vec<Step>) -> Setup {
    let realm = FaultServer::start_repeating(realm_steps);
    let challenge = format!(r#"Bearer realm="{}/token",service="svc""#, realm.url());
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", &challenge)],
        ),
        (Route::prefix("/v2/"), steps),
    ]);
    Setup {
        registry: registry.url(),
        _servers: vec![registry, realm],
    }
}

fn token_ok(e: &Echo) -> Step {
    let token = e.token.as_ref().expect("a scenario with a realm token");
    json(200, &json!({ "token": token }).to_string())
}

fn text(status_code: u16, body: &str) -> Step {
    respond(status_code, &[("Content-Type", "text/plain")], body)
}

/// A tag list whose `Link` header is `link`.
fn tags_with_link(link: &str) -> Step {
    json(200, r#"{"name":"team/app","tags":["v1"]}"#).header("Link", link)
}

/// A manifest body without `mediaType`, `manifests` or `config`, served as
/// `content_type`.
fn manifest_typed(content_type: &str) -> Step {
    respond(
        200,
        &[("Content-Type", content_type)],
        r#"{"schemaVersion":2}"#,
    )
}

/// A malformed `WWW-Authenticate` (a stray token after a parameter) over
/// 200 bytes, so that the message shows only a window from 20 bytes before
/// where parsing stopped: inside the Basic value quoted just before.
fn long_malformed_challenge(e: &Echo) -> String {
    format!(
        r#"Bearer realm="http://127.0.0.1:1/token",service="{}",scope="{}" stray"#,
        "s".repeat(200),
        e.basic,
    )
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "JSON error body on 401",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                Setup::one(FaultServer::start_repeating(vec![json(
                    401,
                    &e.json_errors(),
                )
                .header("WWW-Authenticate", r#"Basic realm="r""#)]))
            },
        },
        Scenario {
            name: "JSON error body on 403",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![json(403, &e.json_errors())]),
        },
        Scenario {
            name: "JSON error body on 404",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![json(404, &e.json_errors())]),
        },
        Scenario {
            name: "JSON error body on 429",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![json(429, &e.json_errors())]),
        },
        Scenario {
            name: "JSON error body on 500",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![json(500, &e.json_errors())]),
        },
        Scenario {
            name: "plain-text error body on 400",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![text(400, &e.sentence())]),
        },
        Scenario {
            name: "plain-text error body on 403 (not shown)",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| basic_registry(vec![text(403, &e.sentence())]),
        },
        Scenario {
            name: "plain-text error body cut in the middle of the password",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![text(400, &e.password_across_the_cut())]),
        },
        Scenario {
            name: "malformed WWW-Authenticate holding the secrets",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                let header = format!(r#"Bearer realm="{}",error="{}"#, e.basic, e.password);
                Setup::one(FaultServer::start_repeating(vec![
                    status(401).header("WWW-Authenticate", &header)
                ]))
            },
        },
        Scenario {
            name: "long malformed WWW-Authenticate, its window starting inside the Basic value",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                Setup::one(FaultServer::start_repeating(vec![
                    status(401).header("WWW-Authenticate", &long_malformed_challenge(e))
                ]))
            },
        },
        Scenario {
            name: "token endpoint's JSON error body",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| token_registry(vec![json(401, &e.json_errors())], vec![status(500)]),
        },
        Scenario {
            name: "token endpoint's plain-text error body",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| token_registry(vec![text(400, &e.sentence())], vec![status(500)]),
        },
        Scenario {
            name: "token endpoint's truncated JSON holding the secrets",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| {
                let body = json!({ "token": e.sentence() }).to_string();
                token_registry(vec![json(200, &body[..body.len() - 3])], vec![status(500)])
            },
        },
        Scenario {
            name: "token endpoint's token that is not header-safe, holding the secrets",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| {
                let body = json!({ "token": e.sentence() }).to_string();
                token_registry(vec![json(200, &body)], vec![status(500)])
            },
        },
        Scenario {
            name: "token endpoint's token of the wrong type next to the secrets",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| {
                let body =
                    json!({ "token": [e.password, e.basic], "access_token": {"x": e.basic} })
                        .to_string();
                token_registry(vec![json(200, &body)], vec![status(500)])
            },
        },
        Scenario {
            name: "registry echoing the token from the realm",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: true,
            plain_only: false,
            shown: true,
            start: |e| token_registry(vec![token_ok(e)], vec![json(403, &e.json_errors())]),
        },
        Scenario {
            name: "redirect to a bad URL holding the password",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| basic_registry(vec![redirect(307, &format!("http://[{}]/x", e.password))]),
        },
        Scenario {
            name: "redirect to a long bad URL, cut in the middle of the password",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                let at = e.password_across_the_cut();
                basic_registry(vec![redirect(307, &format!("http://[{}]", &at[8..]))])
            },
        },
        Scenario {
            name: "malformed Link header holding the secrets",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                basic_registry(vec![tags_with_link(&format!(
                    "</v2/team/app/tags/list?last={}&b={}; rel=\"next\"",
                    e.password, e.basic
                ))])
            },
        },
        Scenario {
            name: "Link to a bad URL holding the password",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                basic_registry(vec![tags_with_link(&format!(
                    "<http://[{}]/v2/>; rel=\"next\"",
                    e.password
                ))])
            },
        },
        Scenario {
            name: "Links to next pages holding the password, in a loop",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| {
                // tags/list → ?last=PW → ?last=PWx2 → ?last=PW again.
                let last: String =
                    url::form_urlencoded::byte_serialize(e.password.as_bytes()).collect();
                let to = |q: &str| format!("</v2/team/app/tags/list?last={q}>; rel=\"next\"");
                let has = |what: &'static str| {
                    Route::when(move |r| r.query().is_some_and(|q| q.contains(what)))
                };
                Setup::one(FaultServer::start_routed_repeating(vec![
                    (
                        Route::when(|r| !r.has_header("authorization")),
                        vec![basic_challenge()],
                    ),
                    (has("x2"), vec![tags_with_link(&to(&last))]),
                    (
                        has("last="),
                        vec![tags_with_link(&to(&format!("{last}x2")))],
                    ),
                    (Route::prefix("/v2/"), vec![tags_with_link(&to(&last))]),
                ]))
            },
        },
        Scenario {
            name: "Links to next pages with the password in their path, in a loop",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                // tags/list → …/PW/a → …/PW/b → …/PW/a again.
                let page = |p: &str| {
                    let mut u = url::Url::parse("http://h/v2/team/app/tags/list/").unwrap();
                    u.path_segments_mut().unwrap().push(&e.password).push(p);
                    format!("<{}>; rel=\"next\"", u.path())
                };
                Setup::one(FaultServer::start_routed_repeating(vec![
                    (
                        Route::when(|r| !r.has_header("authorization")),
                        vec![basic_challenge()],
                    ),
                    (
                        Route::when(|r| r.path().ends_with("/a")),
                        vec![tags_with_link(&page("b"))],
                    ),
                    (Route::prefix("/v2/"), vec![tags_with_link(&page("a"))]),
                ]))
            },
        },
        Scenario {
            name: "Link to another host named by the password",
            op: Op::Tags,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: true,
            shown: true,
            start: |e| {
                basic_registry(vec![tags_with_link(&format!(
                    "<http://{}.example/v2/>; rel=\"next\"",
                    e.password
                ))])
            },
        },
        Scenario {
            name: "manifest Content-Type naming an unknown vendor type with the password",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                basic_registry(vec![manifest_typed(&format!(
                    "application/vnd.{}+json",
                    e.password
                ))])
            },
        },
        Scenario {
            name: "manifest Content-Type that is no manifest type, with the secrets",
            op: Op::Manifest,
            creds: Creds::Basic,
            realm_token: false,
            plain_only: false,
            shown: false,
            start: |e| {
                basic_registry(vec![manifest_typed(&format!(
                    "text/plain; p={}; b={}",
                    e.password, e.basic
                ))])
            },
        },
        Scenario {
            name: "Basic challenge after a static bearer token, echoing it",
            op: Op::Tags,
            creds: Creds::Bearer,
            realm_token: false,
            plain_only: false,
            shown: true,
            start: |e| {
                Setup::one(FaultServer::start_repeating(vec![json(
                    401,
                    &e.json_errors(),
                )
                .header("WWW-Authenticate", r#"Basic realm="r""#)]))
            },
        },
    ]
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder(url)
        .max_retries(0)
        .timeout(Duration::from_secs(5))
        .circuit_breaker(0, Duration::from_secs(60))
        .cache_capacity(0)
}

/// Runs every scenario with `password`; returns the failures.
fn run_all(password: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for s in scenarios() {
        if s.plain_only && password != MARKER_PASSWORD {
            continue;
        }
        let echo = Echo::new(password, &s);
        let markers = echo.markers();
        let setup = (s.start)(&echo);
        let b = builder(&setup.registry);
        let client = match s.creds {
            Creds::Basic => b.basic_auth(MARKER_USER, password),
            Creds::Bearer => b.bearer_token(MARKER_TOKEN),
        }
        .build()
        .unwrap();
        let check = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let err = s.op.run(&client).expect_err("the scenario must fail");
            eprintln!("{} ({password:?}): {err}", s.name);
            markers.assert_error_clean("error", &err);
            if s.shown {
                assert!(
                    err.to_string().contains(REDACTED),
                    "no {REDACTED} in: {err}"
                );
            }
            // regc takes no bearer token.
            if matches!(s.creds, Creds::Basic) {
                for json in [false, true] {
                    check_regc(&markers, &s, &setup.registry, password, json);
                }
            }
        }));
        if let Err(panic) = check {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{} (password {password:?}): {why}", s.name));
        }
    }
    failures
}

#[test]
fn echoed_secrets_are_in_no_error_and_no_regc_output() {
    let mut failures = run_all(MARKER_PASSWORD);
    failures.extend(run_all(ESCAPED_PASSWORD));
    assert!(
        failures.is_empty(),
        "{} scenario(s) show a secret:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The check itself finds a secret whole, escaped, and cut.
#[test]
fn markers_find_whole_escaped_and_cut_secrets() {
    let m = Markers::with_password("Pw\"S3CRET\\7c1f9e", &["tok-9f8e7d6c5b"]);
    assert!(m.shown_in("nothing here, <redacted>").is_none());
    assert!(m.shown_in("said \"Pw\\\"S3CR\"… (90 bytes)").is_some());
    assert!(
        m.shown_in("near \"9e,,,=\"").is_none(),
        "shorter than a piece"
    );
    assert!(m.shown_in("near \"7d6c5b\"").is_some());
    let b64 = basic_b64(MARKER_USER, "Pw\"S3CRET\\7c1f9e");
    assert!(m.shown_in(&format!("x {}", &b64[10..18])).is_some());
}

// ---------------------------------------------------------------------------
// regc
// ---------------------------------------------------------------------------

fn regc(registry: &str, password: &str, json: bool, op: Op) -> Output {
    let mut args = vec!["--registry", registry, "--retries", "0", "--timeout", "5"];
    if json {
        args.push("--json");
    }
    args.extend(op.regc_args());
    Command::new(regc_path())
        .args(&args)
        .env_remove("REGC_REGISTRY")
        .env("REGC_USERNAME", MARKER_USER)
        .env("REGC_PASSWORD", password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run regc")
}

fn check_regc(markers: &Markers, s: &Scenario, registry: &str, password: &str, json: bool) {
    let out = regc(registry, password, json, s.op);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let what = format!("regc {:?} (--json: {json})", s.op);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    // One line on stderr: `error: …`, or under --json a JSON object.
    let prefix = if json { "{\"error\":" } else { "error: " };
    assert!(stderr.starts_with(prefix), "{what}: {stderr}");
    markers.assert_clean(&format!("{what} stdout"), &stdout);
    markers.assert_clean(&format!("{what} stderr"), &stderr);
    if s.shown {
        assert!(
            stderr.contains(REDACTED),
            "{what}: no {REDACTED} in: {stderr}"
        );
    }
}
