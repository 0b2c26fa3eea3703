//! What a hostile registry or token server can try, each against the
//! scripted server of `support/fault.rs` (a real registry does not do these
//! things): credentials steered into the client's own network, secrets
//! echoed back in error messages, redirects into the network, absurd token
//! lifetimes, error bodies trickled to outlive the timeout.
//!
//! The servers run on loopback, so a test makes the registry *count as*
//! public (`registry_counts_as_public`) and plays DNS with `resolve_to` (a
//! public-looking name answered with an internal address), then checks that
//! the same scenario goes through when the registry is internal, so the
//! refusal is the rule's and not a broken setup's.

#[path = "support/fault.rs"]
mod fault;
#[path = "support/images.rs"]
mod images;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use fault::*;
use images::*;
use registry_client::{Client, ClientBuilder, ErrorKind};

const REPO: &str = "team/app";
const USER: &str = "alice";
const PASSWORD: &str = "Pw-MARKER-7c1f9e";
/// base64("alice:Pw-MARKER-7c1f9e")
const BASIC_B64: &str = "YWxpY2U6UHctTUFSS0VSLTdjMWY5ZQ==";
const TOKEN: &str = "tok-MARKER-55aa17";
const LOOPBACK: &str = "127.0.0.1";

fn builder(url: &str) -> ClientBuilder {
    Client::builder(url)
        .max_retries(0)
        .timeout(Duration::from_secs(2))
        .circuit_breaker(0, Duration::from_secs(60))
}

fn tags_ok() -> Step {
    json(200, r#"{"name":"team/app","tags":["v1"]}"#)
}

fn loopback() -> IpAddr {
    LOOPBACK.parse().unwrap()
}

/// A registry that challenges for a token from `realm` and serves tags to
/// requests that carry one.
fn token_registry(realm: &str) -> FaultServer {
    let challenge = format!(r#"Bearer realm="{realm}",service="svc""#);
    FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", &challenge)],
        ),
        (Route::prefix("/v2/"), vec![tags_ok()]),
    ])
}

fn assert_shows_no_secret(what: &str, text: &str) {
    for secret in [PASSWORD, BASIC_B64, TOKEN] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

#[test]
fn credentials_never_reach_a_realm_whose_name_resolves_inside() {
    let realm = FaultServer::start_repeating(vec![json(200, &format!(r#"{{"token":"{TOKEN}"}}"#))]);
    let realm_url = format!("http://realm.example.test:{}/token", realm.port());
    let registry = token_registry(&realm_url);
    let client = builder(&registry.url())
        .basic_auth(USER, PASSWORD)
        .registry_counts_as_public(true)
        .resolve_to("realm.example.test", loopback())
        .build()
        .unwrap();
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(err.to_string().contains("refusing token realm"), "{err}");
    assert!(err.to_string().contains("loopback or private"), "{err}");
    assert_eq!(realm.request_count(), 0, "the realm was contacted");

    // The same scenario with a registry that is internal itself: allowed,
    // and the credentials do go to the realm.
    let client = builder(&registry.url())
        .basic_auth(USER, PASSWORD)
        .resolve_to("realm.example.test", loopback())
        .build()
        .unwrap();
    assert_eq!(client.list_tags(REPO).unwrap(), ["v1"]);
    let sent = realm.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Basic {BASIC_B64}").as_str())
    );
}

#[test]
fn a_public_registry_cannot_redirect_the_client_inside() {
    let img = image("redirected");
    let target = FaultServer::start_repeating(vec![respond(200, &[], img.config.clone())]);
    let location = format!("http://storage.example.test:{}/blob", target.port());
    let registry = FaultServer::start_repeating(vec![redirect(307, &location)]);
    let client = builder(&registry.url())
        .registry_counts_as_public(true)
        .resolve_to("storage.example.test", loopback())
        .build()
        .unwrap();
    let err = client
        .blob(REPO, img.config_digest.as_str())
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.to_string().contains("refusing to connect"), "{err}");
    assert_eq!(err.attempts(), 1, "a refusal is not retried: {err}");
    assert_eq!(target.request_count(), 0);

    // Internal registry: the redirect is followed.
    let client = builder(&registry.url())
        .resolve_to("storage.example.test", loopback())
        .build()
        .unwrap();
    let mut sink = Vec::new();
    client
        .blob(REPO, img.config_digest.as_str())
        .unwrap()
        .copy_to(&mut sink)
        .unwrap();
    assert_eq!(sink, img.config.as_bytes());
    assert_eq!(target.request_count(), 1);
}

#[test]
fn secrets_a_registry_echoes_are_scrubbed_from_errors() {
    // Basic: the registry refuses and quotes what it got.
    let echo = format!(
        r#"{{"errors":[{{"code":"DENIED","message":"credential Basic {BASIC_B64} (user {USER}, password {PASSWORD})","detail":{{"got":"{PASSWORD}"}}}}]}}"#
    );
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", r#"Basic realm="r""#)],
        ),
        (Route::prefix("/v2/"), vec![json(403, &echo)]),
    ]);
    let client = builder(&registry.url())
        .basic_auth(USER, PASSWORD)
        .build()
        .unwrap();
    let err = client.list_tags(REPO).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_shows_no_secret("Display", &err.to_string());
    assert_shows_no_secret("Debug", &format!("{err:?}"));
    assert!(err.to_string().contains("<redacted>"), "{err}");
    // What is not secret stays: the user is told who was refused.
    assert!(err.to_string().contains(USER), "{err}");

    // Bearer: a token from the realm, echoed by the registry.
    let realm = FaultServer::start_repeating(vec![json(200, &format!(r#"{{"token":"{TOKEN}"}}"#))]);
    let challenge = format!(r#"Bearer realm="{}/token",service="svc""#, realm.url());
    let echo = format!(
        r#"{{"errors":[{{"code":"DENIED","message":"credential Bearer {TOKEN} is not good enough"}}]}}"#
    );
    let registry = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| !r.has_header("authorization")),
            vec![status(401).header("WWW-Authenticate", &challenge)],
        ),
        (Route::prefix("/v2/"), vec![json(403, &echo)]),
    ]);
    let client = builder(&registry.url())
        .basic_auth(USER, PASSWORD)
        .build()
        .unwrap();
    let err = client.get_manifest(REPO, "v1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_shows_no_secret("Display", &err.to_string());
    assert_shows_no_secret("Debug", &format!("{err:?}"));
    assert!(err.to_string().contains("<redacted>"), "{err}");
}

#[test]
fn an_absurd_token_lifetime_neither_panics_nor_pins_the_token() {
    for expires in ["18446744073709551615", "1e19", "1e308"] {
        let realm = FaultServer::start_repeating(vec![json(
            200,
            &format!(r#"{{"token":"{TOKEN}","expires_in":{expires}}}"#),
        )]);
        let registry = token_registry(&format!("{}/token", realm.url()));
        let client = builder(&registry.url()).cache_capacity(0).build().unwrap();
        assert_eq!(client.list_tags(REPO).unwrap(), ["v1"], "{expires}");
        assert_eq!(client.list_tags(REPO).unwrap(), ["v1"], "{expires}");
        assert_eq!(realm.request_count(), 1, "{expires}: one token, reused");
    }
}

#[test]
fn a_trickled_error_body_does_not_outlive_the_timeout() {
    let img = image("trickle");
    for status in [404u16, 401, 302] {
        // The head, one byte of a 64 KiB body, then nothing for far longer
        // than the client's timeout.
        let registry = FaultServer::start_repeating(vec![stall_body(
            status,
            &[("Content-Type", "application/json")],
            "{",
            Duration::from_secs(30),
        )
        .declared_len(64 << 10)]);
        let client = builder(&registry.url())
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = client
            .blob(REPO, img.config_digest.as_str())
            .map(|_| ())
            .unwrap_err();
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(4),
            "HTTP {status}: took {took:?}: {err}"
        );
    }
}
