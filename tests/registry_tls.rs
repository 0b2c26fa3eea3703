//! TLS: a registry with a certificate from a test CA.

mod support;

use std::time::Duration;

use registry_client::{Client, Error, ErrorKind, Manifest};
use support::seed::{APP_TAG, MULTI_OCI, MULTI_TAG, OCI_APP};
use support::{sha256_hex, skopeo_raw_manifest, Registry};

fn builder(reg: &Registry) -> registry_client::ClientBuilder {
    Client::builder(&reg.url())
        .timeout(Duration::from_secs(10))
        .max_retries(0)
}

fn check_works(reg: &Registry, c: &Client) {
    assert_eq!(c.registry_url().scheme(), "https");
    let ping = c.ping().unwrap();
    assert_eq!(ping.api_version.as_deref(), Some("registry/2.0"));
    assert!(!ping.auth_required);
    let raw = skopeo_raw_manifest(reg, OCI_APP, APP_TAG);
    let m = c.get_manifest(OCI_APP, APP_TAG).unwrap();
    assert!(m.body == raw);
    assert_eq!(m.digest.to_string(), format!("sha256:{}", sha256_hex(&raw)));
    let m = c.get_manifest(MULTI_OCI, MULTI_TAG).unwrap();
    assert!(matches!(m.manifest, Manifest::OciIndex(_)));
    assert_eq!(c.list_tags(OCI_APP).unwrap(), [APP_TAG]);
}

#[test]
fn tls_with_ca_file_works() {
    let reg = Registry::tls();
    assert!(reg.url().starts_with("https://"));
    let c = builder(&reg)
        .ca_certificate_file(reg.ca_pem_path())
        .build()
        .unwrap();
    check_works(&reg, &c);
}

#[test]
fn tls_with_ca_pem_works() {
    let reg = Registry::tls();
    let c = builder(&reg)
        .ca_certificate_pem(&reg.ca_pem())
        .build()
        .unwrap();
    check_works(&reg, &c);
}

#[test]
fn tls_without_ca_is_a_certificate_error() {
    let reg = Registry::tls();
    let c = builder(&reg).build().unwrap();
    for e in [
        c.ping().unwrap_err(),
        c.get_manifest(OCI_APP, APP_TAG).unwrap_err(),
        c.list_tags(OCI_APP).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
        let msg = e.to_string();
        // What rustls says: "invalid peer certificate: UnknownIssuer".
        assert!(
            msg.contains("invalid peer certificate: UnknownIssuer"),
            "{msg}"
        );
        assert!(msg.contains(&reg.host()), "{msg}");
    }
}

/// A certificate the client does not trust will not become trusted on a
/// second attempt: it must not be retried, and the message should say it is
/// a TLS problem (as `transport/http.rs` intends with "TLS error with ...").
#[test]
fn tls_certificate_error_is_not_retried() {
    let reg = Registry::tls();
    let c = builder(&reg)
        .max_retries(2)
        .retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    let e = c.ping().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("TLS error with https://{}/v2/", reg.host())),
        "{msg}"
    );
    assert!(msg.contains("invalid peer certificate"), "{msg}");
    assert_eq!(e.attempts(), 1, "{msg}");
}

/// An `https://` client against a plain-HTTP registry: the handshake gets
/// an HTTP answer instead of a TLS record. A TLS connection error, named as
/// such, and not retried (the server will not start speaking TLS).
#[test]
fn https_client_against_plain_registry_is_a_tls_error() {
    let reg = Registry::open();
    let c = Client::builder(&format!("https://{}", reg.host()))
        .timeout(Duration::from_secs(5))
        .max_retries(2)
        .retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    for e in [
        c.ping().unwrap_err(),
        c.get_manifest(OCI_APP, APP_TAG).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Connection { status: None, .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("TLS error with https://{}/v2/", reg.host())),
            "{msg}"
        );
        // What rustls says of an HTTP answer to its ClientHello.
        assert!(msg.contains("InvalidContentType"), "{msg}");
        assert_eq!(e.attempts(), 1, "{msg}");
    }
}

#[test]
fn tls_without_verification_works() {
    let reg = Registry::tls();
    let c = builder(&reg).verify_tls(false).build().unwrap();
    check_works(&reg, &c);
}

fn plain_client_for(reg: &Registry) -> Client {
    Client::builder(&format!("http://{}", reg.host()))
        .timeout(Duration::from_secs(5))
        .max_retries(2)
        .retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap()
}

/// An `http://` client against a TLS registry: Go's TLS server answers the
/// plain request with `400 Bad Request` (body "Client sent an HTTP request
/// to an HTTPS server."). A registry error with that status, not retried.
#[test]
fn plain_http_client_against_tls_registry_fails() {
    let reg = Registry::tls();
    let c = plain_client_for(&reg);
    for e in [
        c.ping().unwrap_err(),
        c.get_manifest(OCI_APP, APP_TAG).unwrap_err(),
        c.list_tags(OCI_APP).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Registry { status: 400, .. }), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::Registry, "{e}");
        assert_eq!(e.http_status(), Some(400), "{e}");
        assert_eq!(e.attempts(), 1, "{e}");
    }
}

/// What the user is told in that case: the server's own line, and the fix.
#[test]
fn plain_http_client_against_tls_registry_is_told_the_server_speaks_https() {
    let reg = Registry::tls();
    let e = plain_client_for(&reg).ping().unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("HTTPS"), "{msg}");
    assert!(msg.contains("use an https:// URL"), "{msg}");
}
