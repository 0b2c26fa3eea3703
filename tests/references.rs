//! Image references against the suite's real registries: a loopback
//! registry named without a scheme is reached whether it speaks TLS or
//! plain http, a TLS handshake meeting plain http says so, and one
//! `Registries` set serves several registries to many threads.

mod support;

use std::time::Duration;

use registry_client::{Client, ClientBuilder, ErrorKind, ImageReference, Manifest, Registries};
use support::seed::{APP_TAG, MULTI_OCI, MULTI_TAG, OCI_APP, PUBLIC_HELLO, PUBLIC_HELLO_TAG};
use support::{sha256_hex, skopeo_raw_manifest, Registry, ALICE};

fn builder(registry: &str) -> ClientBuilder {
    Client::builder(registry)
        .timeout(Duration::from_secs(10))
        .max_retries(0)
}

fn expected_digest(reg: &Registry, repo: &str, tag: &str) -> String {
    format!(
        "sha256:{}",
        sha256_hex(&skopeo_raw_manifest(reg, repo, tag))
    )
}

/// References to `reg` without a scheme: by `127.0.0.1:PORT` and
/// `localhost:PORT`.
fn references(reg: &Registry, repo: &str, tag: &str) -> Vec<ImageReference> {
    ["127.0.0.1", "localhost"]
        .iter()
        .map(|host| {
            format!("{host}:{}/{repo}:{tag}", reg.port())
                .parse()
                .unwrap()
        })
        .collect()
}

/// What a client made from `r` does with it: manifest, tags, image info
/// (which reads the config blob), the version check.
fn check_reference(reg: &Registry, c: &Client, r: &ImageReference) {
    let m = c.get_manifest(r.repository(), r).unwrap();
    assert_eq!(
        m.digest.to_string(),
        expected_digest(reg, r.repository(), r.tag().unwrap()),
        "{r}"
    );
    assert!(c
        .list_tags(r.repository())
        .unwrap()
        .contains(&r.tag().unwrap().to_string()));
    let info = c.image_info(r.repository(), r, None).unwrap();
    assert_eq!(info.digest, m.digest);
    assert_eq!(
        c.ping().unwrap().api_version.as_deref(),
        Some("registry/2.0")
    );
    // By digest, from the same reference with its digest.
    let by_digest = r.with_reference(m.digest.clone().into());
    assert_eq!(
        c.get_manifest(by_digest.repository(), &by_digest)
            .unwrap()
            .digest,
        m.digest
    );
}

#[test]
fn plain_loopback_registry_from_a_reference_without_scheme() {
    let reg = Registry::open();
    assert_eq!(reg.scheme(), "http");
    for r in references(&reg, OCI_APP, APP_TAG) {
        let c = builder(r.registry()).build().unwrap();
        // https until the registry shows it does not speak TLS.
        assert_eq!(c.registry_url().scheme(), "https");
        check_reference(&reg, &c, &r);
        assert_eq!(c.registry_url().scheme(), "http", "{r}");
        assert_eq!(c.registry_url().port(), Some(reg.port()));
    }
    // The first call of a fresh client may be any operation, a listing too.
    let r = &references(&reg, MULTI_OCI, MULTI_TAG)[1];
    let c = builder(r.registry()).build().unwrap();
    assert!(c
        .list_tags(r.repository())
        .unwrap()
        .contains(&MULTI_TAG.to_string()));
    let m = c.get_manifest(r.repository(), r).unwrap();
    assert!(matches!(m.manifest, Manifest::OciIndex(_)));
}

#[test]
fn tls_loopback_registry_from_a_reference_without_scheme() {
    let reg = Registry::tls();
    assert_eq!(reg.scheme(), "https");
    for r in references(&reg, OCI_APP, APP_TAG) {
        let c = builder(r.registry())
            .ca_certificate_file(reg.ca_pem_path())
            .build()
            .unwrap();
        check_reference(&reg, &c, &r);
        // It spoke TLS: it stays https.
        assert_eq!(c.registry_url().scheme(), "https", "{r}");
    }
    // A certificate problem is not taken for plain http.
    let r = &references(&reg, OCI_APP, APP_TAG)[0];
    let e = builder(r.registry())
        .build()
        .unwrap()
        .get_manifest(r.repository(), r)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(!e.to_string().contains("plain HTTP"), "{e}");
}

#[test]
fn credentials_and_tokens_after_the_switch_to_plain_http() {
    // Basic: the credentials go with the request once it is on http.
    let basic = Registry::basic();
    let r = &references(&basic, OCI_APP, APP_TAG)[0];
    let c = builder(r.registry())
        .basic_auth(ALICE.name, ALICE.password)
        .build()
        .unwrap();
    assert!(c.ping().unwrap().auth_required);
    check_reference(&basic, &c, r);
    assert_eq!(c.registry_url().scheme(), "http");
    // Token: the realm is plain http on loopback, as the registry now is.
    let token = Registry::token();
    let r = &references(&token, PUBLIC_HELLO, PUBLIC_HELLO_TAG)[1];
    let c = builder(r.registry()).build().unwrap();
    let m = c.get_manifest(r.repository(), r).unwrap();
    assert_eq!(
        m.digest.to_string(),
        expected_digest(&token, PUBLIC_HELLO, PUBLIC_HELLO_TAG)
    );
    let c = builder(r.registry())
        .basic_auth(ALICE.name, ALICE.password)
        .build()
        .unwrap();
    let r = &references(&token, OCI_APP, APP_TAG)[0];
    check_reference(&token, &c, r);
}

#[test]
fn first_calls_from_many_threads_at_once() {
    let reg = Registry::open();
    let expected = expected_digest(&reg, OCI_APP, APP_TAG);
    for round in 0..5 {
        let r = &references(&reg, OCI_APP, APP_TAG)[round % 2];
        // A low breaker threshold: the TLS handshakes that find out the
        // registry is plain must not shut anyone out.
        let c = builder(r.registry())
            .circuit_breaker(2, Duration::from_secs(60))
            .build()
            .unwrap();
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (c, barrier, expected) = (&c, &barrier, &expected);
                s.spawn(move || {
                    barrier.wait();
                    let m = c.uncached().get_manifest(r.repository(), r).unwrap();
                    assert_eq!(&m.digest.to_string(), expected);
                });
            }
        });
        assert_eq!(c.registry_url().scheme(), "http");
    }
}

#[test]
fn tls_meeting_plain_http_says_so_and_names_the_fix() {
    let reg = Registry::open();
    // An explicit https:// is used as given: no fallback, and the error says why.
    let c = builder(&format!("https://127.0.0.1:{}", reg.port()))
        .build()
        .unwrap();
    let e = c.get_manifest(OCI_APP, APP_TAG).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let m = e.to_string();
    assert!(m.contains("plain HTTP, not TLS"), "{m}");
    assert!(
        m.contains("plain_http(true)") && m.contains("http://"),
        "{m}"
    );
    // What rustls said stays, for searching.
    assert!(m.contains("InvalidContentType"), "{m}");
    assert_eq!(e.attempts(), 1, "not retried: {e}");
    assert_eq!(c.registry_url().scheme(), "https");

    // A host that is not loopback by name gets https only, whatever it
    // resolves to…
    let named = format!("registry.test:{}", reg.port());
    let c = builder(&named)
        .resolve_to("registry.test", "127.0.0.1".parse().unwrap())
        .build()
        .unwrap();
    let e = c.list_tags(OCI_APP).unwrap_err();
    assert!(e.to_string().contains("plain_http(true)"), "{e}");
    // …unless the caller asks for plain http.
    let c = builder(&named)
        .resolve_to("registry.test", "127.0.0.1".parse().unwrap())
        .plain_http(true)
        .build()
        .unwrap();
    assert_eq!(c.registry_url().scheme(), "http");
    assert!(c.list_tags(OCI_APP).unwrap().contains(&APP_TAG.to_string()));

    // The other way round: plain http asked of a TLS registry. Its answer
    // (Go's 400 for an HTTP request on a TLS port) is what the error shows.
    let tls = Registry::tls();
    let c = builder(&format!("127.0.0.1:{}", tls.port()))
        .plain_http(true)
        .build()
        .unwrap();
    let e = c.get_manifest(OCI_APP, APP_TAG).unwrap_err();
    assert_eq!(e.http_status(), Some(400), "{e}");
    assert!(
        e.to_string().contains("HTTP request to an HTTPS server"),
        "{e}"
    );
}

#[test]
fn registries_serve_two_registries_to_many_threads() {
    let plain = Registry::open();
    let tls = Registry::tls();
    let set = Registries::new(
        ClientBuilder::default()
            .timeout(Duration::from_secs(10))
            .max_retries(1)
            .ca_certificate_file(tls.ca_pem_path()),
    )
    .unwrap();
    let refs: Vec<(ImageReference, String)> = vec![
        (
            format!("127.0.0.1:{}/{OCI_APP}:{APP_TAG}", plain.port())
                .parse()
                .unwrap(),
            expected_digest(&plain, OCI_APP, APP_TAG),
        ),
        (
            format!("localhost:{}/{MULTI_OCI}:{MULTI_TAG}", tls.port())
                .parse()
                .unwrap(),
            expected_digest(&tls, MULTI_OCI, MULTI_TAG),
        ),
        (
            format!("127.0.0.1:{}/{MULTI_OCI}:{MULTI_TAG}", plain.port())
                .parse()
                .unwrap(),
            expected_digest(&plain, MULTI_OCI, MULTI_TAG),
        ),
        (
            format!("localhost:{}/{OCI_APP}:{APP_TAG}", tls.port())
                .parse()
                .unwrap(),
            expected_digest(&tls, OCI_APP, APP_TAG),
        ),
    ];
    std::thread::scope(|s| {
        for t in 0..8 {
            let (set, refs) = (&set, &refs);
            s.spawn(move || {
                for i in 0..20 {
                    let (r, digest) = &refs[(t + i) % refs.len()];
                    let m = set.get_manifest(r).unwrap_or_else(|e| panic!("{r}: {e}"));
                    assert_eq!(&m.digest.to_string(), digest, "{r}");
                    assert_eq!(&set.manifest_digest(r).unwrap().to_string(), digest);
                }
            });
        }
    });
    // One client per registry, each on the scheme its registry speaks.
    assert_eq!(set.len(), 2, "{set:?}");
    assert_eq!(
        set.client(&refs[0].0).unwrap().registry_url().scheme(),
        "http"
    );
    assert_eq!(
        set.client(&refs[1].0).unwrap().registry_url().scheme(),
        "https"
    );
    let tags = set.list_tags(&refs[0].0).unwrap();
    assert!(tags.contains(&APP_TAG.to_string()));
}
