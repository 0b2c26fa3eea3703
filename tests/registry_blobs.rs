//! Blobs streamed from a real registry, verified as they are read.

#[path = "support/fault.rs"]
mod fault;
mod support;

use std::io::Read;
use std::time::Duration;

use registry_client::{Client, Error, ErrorKind};
use support::{seed, sha256_digest, Registry, ALICE};

fn client_for(reg: &Registry) -> Client {
    Client::builder(&reg.url()).max_retries(0).build().unwrap()
}

#[test]
fn every_layer_and_config_of_an_image_streams_and_verifies() {
    let reg = Registry::open();
    let client = client_for(&reg);
    let m = client.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
    let image = m.manifest.as_image().expect("an image manifest");
    let mut descriptors = image.layers.clone();
    descriptors.push(image.config.clone());
    for d in descriptors {
        let blob = client.blob(seed::OCI_APP, d.digest.as_str()).unwrap();
        assert_eq!(blob.size(), Some(d.size));
        let mut out = Vec::new();
        let n = blob.copy_to(&mut out).unwrap();
        assert_eq!(n, d.size);
        assert_eq!(sha256_digest(&out), d.digest.as_str());
    }
}

#[test]
fn blobs_need_and_get_a_token_on_the_token_registry() {
    let reg = Registry::token();
    let anonymous = client_for(&reg);
    let authed = Client::builder(&reg.url())
        .basic_auth(ALICE.name, ALICE.password)
        .max_retries(0)
        .build()
        .unwrap();
    let m = authed.get_manifest(seed::OCI_APP, seed::APP_TAG).unwrap();
    let config = &m.manifest.as_image().unwrap().config;
    let err = anonymous
        .blob(seed::OCI_APP, config.digest.as_str())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let mut bytes = Vec::new();
    authed
        .blob(seed::OCI_APP, config.digest.as_str())
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(sha256_digest(&bytes), config.digest.as_str());
}

#[test]
fn a_large_blob_streams_through_a_small_buffer() {
    let reg = Registry::open_empty();
    // 24 MiB of incompressible bytes (xorshift), pushed by raw HTTP.
    let mut data = vec![0u8; 24 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let digest = reg.pusher(&["big/blob"]).push_blob("big/blob", &data);
    let client = client_for(&reg);
    let mut blob = client.blob("big/blob", &digest).unwrap();
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    let mut mismatch = None;
    loop {
        let n = blob.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if mismatch.is_none() && buf[..n] != data[total..total + n] {
            mismatch = Some(total);
        }
        total += n;
    }
    assert_eq!(total, data.len());
    assert_eq!(mismatch, None);
    assert_eq!(blob.bytes_read(), data.len() as u64);
}

#[test]
fn a_missing_blob_is_not_found_with_the_registry_code() {
    let reg = Registry::open();
    let err = client_for(&reg)
        .blob(
            seed::OCI_APP,
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.diagnostics()[0].code, "BLOB_UNKNOWN");
}

#[test]
fn bad_digests_are_refused_before_any_request() {
    let server = fault::FaultServer::start(vec![]);
    let client = Client::builder(&server.url()).build().unwrap();
    for bad in ["sha256:abc", "md5:0123", "", "sha256:ZZ"] {
        let err = client.blob("app", bad).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "{bad}: {err}"
        );
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn content_that_does_not_match_its_digest_fails_at_the_end() {
    let body = b"not what you asked for".to_vec();
    let server = fault::FaultServer::start(vec![fault::respond(
        200,
        &[("Content-Type", "application/octet-stream")],
        body.clone(),
    )]);
    let client = Client::builder(&server.url())
        .max_retries(0)
        .build()
        .unwrap();
    let wanted = sha256_digest(b"something else");
    let err = client
        .blob("app", &wanted)
        .unwrap()
        .copy_to(&mut Vec::new())
        .unwrap_err();
    match err {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert!(expected.starts_with(&wanted), "{expected}");
            assert!(actual.starts_with(&sha256_digest(&body)), "{actual}");
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
}

#[test]
fn a_body_cut_short_is_a_connection_error_not_a_hang() {
    let server = fault::FaultServer::start(vec![fault::partial_body(
        200,
        &[("Content-Type", "application/octet-stream")],
        1000,
        b"only a little".to_vec(),
    )]);
    let client = Client::builder(&server.url())
        .timeout(Duration::from_secs(2))
        .max_retries(0)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client
        .blob("app", &sha256_digest(b"x"))
        .unwrap()
        .copy_to(&mut Vec::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    // The message names the server the blob came from.
    assert!(
        err.to_string()
            .contains(&format!("127.0.0.1:{}", server.port())),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn read_errors_recovered_with_from_io_name_the_server() {
    // The path the C API takes: `Read`, then `Error::from_io`.
    let server = fault::FaultServer::start(vec![fault::partial_body(
        200,
        &[("Content-Type", "application/octet-stream")],
        1000,
        b"only a little".to_vec(),
    )]);
    let client = Client::builder(&server.url())
        .timeout(Duration::from_secs(2))
        .max_retries(0)
        .build()
        .unwrap();
    let mut blob = client.blob("app", &sha256_digest(b"x")).unwrap();
    let io_err = blob.read_to_end(&mut Vec::new()).unwrap_err();
    let err = Error::from_io(io_err);
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("127.0.0.1:{}", server.port())),
        "{err}"
    );
}
