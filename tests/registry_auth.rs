//! Authentication against real registries: anonymous, htpasswd Basic, token
//! (Bearer) auth with the fixture's token server, static bearer tokens, and
//! one client shared by many threads.

mod support;

use std::time::Duration;

use registry_client::{Client, ErrorKind, Manifest};
use support::seed::{self, APP_TAG, DOCKER_APP, MULTI_OCI, MULTI_TAG, OCI_APP, PUBLIC_HELLO};
use support::{sha256_hex, skopeo_raw_manifest, Registry, ALICE, BOB, WRONG_PASSWORD};

const PULL_OCI_APP: &str = "repository:oci/app:pull";

fn client(reg: &Registry) -> registry_client::ClientBuilder {
    Client::builder(&reg.url())
        .timeout(Duration::from_secs(10))
        .max_retries(0)
}

fn alice(reg: &Registry) -> Client {
    client(reg)
        .basic_auth(ALICE.name, ALICE.password)
        .build()
        .unwrap()
}

fn anonymous(reg: &Registry) -> Client {
    client(reg).build().unwrap()
}

/// `sha256:<hex>` of what skopeo says the registry serves.
fn expected_digest(reg: &Registry, repo: &str, reference: &str) -> String {
    format!(
        "sha256:{}",
        sha256_hex(&skopeo_raw_manifest(reg, repo, reference))
    )
}

#[test]
fn open_registry_works_anonymously() {
    let reg = Registry::open();
    let c = anonymous(&reg);
    let ping = c.ping().unwrap();
    assert!(!ping.auth_required, "{ping:?}");
    assert_eq!(ping.api_version.as_deref(), Some("registry/2.0"));
    let m = c.get_manifest(OCI_APP, APP_TAG).unwrap();
    assert_eq!(
        m.digest.to_string(),
        expected_digest(&reg, OCI_APP, APP_TAG)
    );
    assert_eq!(c.list_repositories().unwrap(), seed::all_repositories());
    assert_eq!(c.list_tags(OCI_APP).unwrap(), vec![APP_TAG.to_string()]);
}

#[test]
fn basic_registry_works_with_alice_and_bob() {
    let reg = Registry::basic();
    let want = expected_digest(&reg, DOCKER_APP, APP_TAG);
    for user in [ALICE, BOB] {
        let c = client(&reg)
            .basic_auth(user.name, user.password)
            .build()
            .unwrap();
        let ping = c.ping().unwrap();
        assert!(ping.auth_required, "{}: {ping:?}", user.name);
        assert_eq!(ping.api_version.as_deref(), Some("registry/2.0"));
        let m = c.get_manifest(DOCKER_APP, APP_TAG).unwrap();
        assert_eq!(m.digest.to_string(), want, "{}", user.name);
        assert_eq!(
            c.manifest_digest(DOCKER_APP, APP_TAG).unwrap().to_string(),
            want
        );
    }
    let c = alice(&reg);
    assert_eq!(c.list_repositories().unwrap(), seed::all_repositories());
}

#[test]
fn basic_registry_refuses_anonymous_and_wrong_password() {
    let reg = Registry::basic();

    let anon = anonymous(&reg);
    let ping = anon.ping().unwrap();
    assert!(ping.auth_required, "{ping:?}");
    let e = anon.get_manifest(OCI_APP, APP_TAG).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert_eq!(e.http_status(), Some(401), "{e}");

    let wrong = client(&reg)
        .basic_auth(ALICE.name, WRONG_PASSWORD)
        .build()
        .unwrap();
    for e in [
        wrong.get_manifest(OCI_APP, APP_TAG).unwrap_err(),
        wrong.list_tags(OCI_APP).unwrap_err(),
        wrong.list_repositories().unwrap_err(),
        wrong.ping().unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        assert_eq!(e.http_status(), Some(401), "{e}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains(WRONG_PASSWORD), "password leaked: {text}");
    }
    assert!(!format!("{wrong:?}").contains(WRONG_PASSWORD));
}

#[test]
fn token_registry_works_with_alice() {
    let reg = Registry::token();
    let c = alice(&reg);
    let ping = c.ping().unwrap();
    assert!(ping.auth_required, "{ping:?}");
    assert_eq!(ping.api_version.as_deref(), Some("registry/2.0"));

    let want = expected_digest(&reg, OCI_APP, APP_TAG);
    let m = c.get_manifest(OCI_APP, APP_TAG).unwrap();
    assert_eq!(m.digest.to_string(), want);
    assert!(matches!(m.manifest, Manifest::OciImage(_)));
    assert_eq!(c.list_repositories().unwrap(), seed::all_repositories());

    // The token server really issued tokens to alice.
    let reqs = reg.token_server().requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter()
            .all(|r| r.user.as_deref() == Some(ALICE.name) && r.status == 200),
        "{reqs:?}"
    );
    assert!(reg.token_server().requests_for_scope(PULL_OCI_APP) >= 1);
    assert!(reg.token_server().requests_for_scope("registry:catalog:*") >= 1);
}

#[test]
fn token_registry_bob_pulls_but_wrong_password_is_auth() {
    let reg = Registry::token();
    let bob = client(&reg)
        .basic_auth(BOB.name, BOB.password)
        .build()
        .unwrap();
    assert_eq!(
        bob.manifest_digest(DOCKER_APP, APP_TAG)
            .unwrap()
            .to_string(),
        expected_digest(&reg, DOCKER_APP, APP_TAG)
    );

    let wrong = client(&reg)
        .basic_auth(ALICE.name, WRONG_PASSWORD)
        .build()
        .unwrap();
    let e = wrong.get_manifest(OCI_APP, APP_TAG).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let text = format!("{e} {e:?}");
    assert!(!text.contains(WRONG_PASSWORD), "password leaked: {text}");
    // The token server was asked (and said no) rather than the client
    // giving up on its own.
    let reqs = reg.token_server().requests();
    assert!(reqs.iter().any(|r| r.status == 401), "{reqs:?}");
}

#[test]
fn token_registry_anonymous_pulls_public_only() {
    let reg = Registry::token();
    let want = expected_digest(&reg, PUBLIC_HELLO, seed::PUBLIC_HELLO_TAG);
    reg.token_server().reset_counts();
    let anon = anonymous(&reg);
    let ping = anon.ping().unwrap();
    assert!(ping.auth_required, "{ping:?}");

    let m = anon
        .get_manifest(PUBLIC_HELLO, seed::PUBLIC_HELLO_TAG)
        .unwrap();
    assert_eq!(m.digest.to_string(), want);
    assert_eq!(
        anon.list_tags(PUBLIC_HELLO).unwrap(),
        vec![seed::PUBLIC_HELLO_TAG.to_string()]
    );

    for e in [
        anon.get_manifest(OCI_APP, APP_TAG).unwrap_err(),
        anon.manifest_digest(OCI_APP, APP_TAG).unwrap_err(),
        anon.list_tags(OCI_APP).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    }
    // Anonymous token requests, none with a user.
    let reqs = reg.token_server().requests();
    assert!(!reqs.is_empty());
    assert!(reqs.iter().all(|r| r.user.is_none()), "{reqs:?}");
}

#[test]
fn static_bearer_token_works() {
    let reg = Registry::token();
    let want = expected_digest(&reg, OCI_APP, APP_TAG);
    reg.token_server().reset_counts();
    let token = reg
        .token_server()
        .issue_token(Some(&ALICE), &[PULL_OCI_APP, "repository:multi/oci:pull"]);
    let c = client(&reg).bearer_token(&token).build().unwrap();
    let ping = c.ping().unwrap();
    assert_eq!(ping.api_version.as_deref(), Some("registry/2.0"));
    let m = c.get_manifest(OCI_APP, APP_TAG).unwrap();
    assert_eq!(m.digest.to_string(), want);
    let m = c.get_manifest(MULTI_OCI, MULTI_TAG).unwrap();
    assert!(matches!(m.manifest, Manifest::OciIndex(_)));
    // Static token: the client never asks the token server.
    assert_eq!(reg.token_server().total_requests(), 0);
    // A repository the token does not cover is refused, as Auth.
    let e = c.get_manifest(DOCKER_APP, APP_TAG).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!format!("{e} {e:?} {c:?}").contains(&token));
    assert_eq!(reg.token_server().total_requests(), 0);
}

#[test]
fn ping_with_static_bearer_token_reports_auth_required() {
    // The token registry requires authentication; a client configured with a
    // ready token is never challenged, but the registry still requires auth.
    let reg = Registry::token();
    let token = reg
        .token_server()
        .issue_token(Some(&ALICE), &[PULL_OCI_APP]);
    let c = client(&reg).bearer_token(&token).build().unwrap();
    let ping = c.ping().unwrap();
    assert!(
        ping.auth_required,
        "a token registry requires auth, ping said {ping:?}"
    );
}

#[test]
fn one_token_request_serves_many_operations() {
    let reg = Registry::token();
    let c = alice(&reg);
    let ts = reg.token_server();
    let want = expected_digest(&reg, OCI_APP, APP_TAG);
    ts.reset_counts();
    for _ in 0..3 {
        assert_eq!(
            c.get_manifest(OCI_APP, APP_TAG).unwrap().digest.to_string(),
            want
        );
        assert_eq!(c.list_tags(OCI_APP).unwrap(), vec![APP_TAG.to_string()]);
        assert_eq!(
            c.manifest_digest(OCI_APP, APP_TAG).unwrap().to_string(),
            want
        );
        let info = c.image_info(OCI_APP, APP_TAG, None).unwrap();
        assert_eq!(info.digest, want);
        assert_eq!(
            c.get_manifest(OCI_APP, &want).unwrap().digest.to_string(),
            want
        );
    }
    assert_eq!(
        ts.requests_for_scope(PULL_OCI_APP),
        1,
        "{:?}",
        ts.requests()
    );
    assert_eq!(ts.total_requests(), 1, "{:?}", ts.requests());

    // Another repository needs (exactly) one more token.
    c.get_manifest(DOCKER_APP, APP_TAG).unwrap();
    c.list_tags(DOCKER_APP).unwrap();
    assert_eq!(ts.requests_for_scope("repository:docker/app:pull"), 1);
    assert_eq!(ts.requests_for_scope(PULL_OCI_APP), 1);
    assert_eq!(ts.total_requests(), 2, "{:?}", ts.requests());
}

#[test]
fn client_is_send_sync_clone() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<Client>();
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<registry_client::Error>();
}

#[test]
fn eight_threads_share_one_client_on_token_registry() {
    let reg = Registry::token();
    let repos: Vec<(&str, &str)> = vec![
        (OCI_APP, APP_TAG),
        (DOCKER_APP, APP_TAG),
        (MULTI_OCI, MULTI_TAG),
        (seed::MULTI_DOCKER, MULTI_TAG),
        (PUBLIC_HELLO, seed::PUBLIC_HELLO_TAG),
    ];
    let expected: Vec<(String, String, Vec<u8>)> = repos
        .iter()
        .map(|(r, t)| {
            let raw = skopeo_raw_manifest(&reg, r, t);
            (r.to_string(), t.to_string(), raw)
        })
        .collect();
    let c = alice(&reg);
    reg.token_server().reset_counts();
    std::thread::scope(|s| {
        for i in 0..8 {
            let c = c.clone();
            let expected = &expected;
            s.spawn(move || {
                for round in 0..3 {
                    for k in 0..expected.len() {
                        let (repo, tag, raw) = &expected[(i + k + round) % expected.len()];
                        let m = c.get_manifest(repo, tag).unwrap_or_else(|e| {
                            panic!("thread {i}: {repo}:{tag}: {e}");
                        });
                        assert_eq!(&m.body, raw, "thread {i}: {repo}:{tag}");
                        assert_eq!(m.digest.to_string(), format!("sha256:{}", sha256_hex(raw)));
                    }
                }
            });
        }
    });
    // Concurrent first requests for one scope share a single token fetch.
    let ts = reg.token_server();
    for (repo, _) in &repos {
        let scope = format!("repository:{repo}:pull");
        assert_eq!(
            ts.requests_for_scope(&scope),
            1,
            "{scope}: {:?}",
            ts.requests()
        );
    }
}
