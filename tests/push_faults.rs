//! The write path against faults a real registry will not produce, on the
//! scripted server: a connection dropped mid-chunk (resumed from the
//! offset the registry reports), an upload that cannot be resumed
//! (cancelled), a lost answer to the final `PUT`, a refused mount, a
//! registry's minimum chunk length, hostile `Range` and `Location` values,
//! a registry confirming another digest, a disabled delete, and the
//! referrers API itself (distribution 2.8 has none).

#[path = "support/fault.rs"]
mod fault;
#[path = "support/markers.rs"]
mod markers;

use std::time::Duration;

use fault::*;
use registry_client::{BlobSource, Client, ErrorKind, UploadOptions};
use sha2::{Digest as _, Sha256};

const REPO: &str = "team/app";
const UPLOAD: &str = "/v2/team/app/blobs/uploads/";
const SESSION: &str = "/v2/team/app/blobs/uploads/s1";

fn client(srv: &FaultServer) -> Client {
    Client::builder(&srv.url())
        .max_retries(3)
        .retry_delay(Duration::from_millis(1))
        .timeout(Duration::from_secs(2))
        .circuit_breaker(0, Duration::from_secs(60))
        .build()
        .unwrap()
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// `202` naming the session, with the registry's `Range`.
fn accepted(range: &str) -> Step {
    respond(202, &[("Location", SESSION), ("Range", range)], "")
}

fn created(digest: &str) -> Step {
    respond(
        201,
        &[
            ("Location", "/v2/team/app/blobs/x"),
            ("Docker-Content-Digest", digest),
        ],
        "",
    )
}

fn patches(srv: &FaultServer) -> Vec<RecordedRequest> {
    srv.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect()
}

#[test]
fn a_chunk_cut_off_mid_way_is_resumed_from_the_registrys_offset() {
    let blob = data(3000);
    let digest = sha256(&blob);
    let srv = FaultServer::start(vec![
        status(404),                                                     // HEAD: not there
        respond(202, &[("Location", SESSION)], ""),                      // POST
        accepted("0-1023"),                                              // PATCH 0-1023
        reset(),                                                         // PATCH 1024-2047: dropped
        respond(204, &[("Location", SESSION), ("Range", "0-1535")], ""), // GET status
        accepted("0-2047"),                                              // PATCH 1536-2047
        accepted("0-2999"),                                              // PATCH 2048-2999
        created(&digest),                                                // PUT ?digest
    ]);
    let options = UploadOptions::new()
        .digest(digest.as_str())
        .unwrap()
        .chunk_size(1024);
    let pushed = client(&srv)
        .push_blob(REPO, blob.as_slice(), &options)
        .unwrap();
    assert_eq!(pushed.digest.as_str(), digest);
    assert_eq!(pushed.source, BlobSource::Uploaded);
    let reqs = srv.requests();
    let shape: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.clone(), r.path().to_string()))
        .collect();
    assert_eq!(
        shape.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
        ["HEAD", "POST", "PATCH", "PATCH", "GET", "PATCH", "PATCH", "PUT"],
        "{shape:?}"
    );
    let ranges: Vec<&str> = reqs
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.header("content-range").unwrap())
        .collect();
    assert_eq!(ranges, ["0-1023", "1024-2047", "1536-2047", "2048-2999"]);
    // What arrived, with the 512 bytes the registry said it had kept,
    // is the blob.
    let p = patches(&srv);
    assert_eq!(p[0].body, &blob[..1024]);
    assert_eq!(p[2].body, &blob[1536..2048]);
    assert_eq!(p[3].body, &blob[2048..]);
    let put = reqs.last().unwrap();
    assert_eq!(
        put.query(),
        Some(format!("digest={}", digest.replace(':', "%3A")).as_str())
    );
    assert!(put.body.is_empty());
}

#[test]
fn an_upload_that_keeps_failing_gives_up_and_cancels_its_session() {
    let blob = data(2500);
    let srv = FaultServer::start_routed_repeating(vec![
        (
            Route::when(|r| r.method == "POST"),
            vec![respond(202, &[("Location", SESSION)], "")],
        ),
        (Route::when(|r| r.method == "PATCH"), vec![reset()]),
        (
            Route::when(|r| r.method == "GET"),
            vec![respond(
                204,
                &[("Location", SESSION), ("Range", "0--1")],
                "",
            )],
        ),
        (Route::when(|r| r.method == "DELETE"), vec![status(204)]),
    ]);
    let err = client(&srv)
        .push_blob(
            REPO,
            blob.as_slice(),
            &UploadOptions::new().chunk_size(1024),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    let reqs = srv.requests();
    // The first try and 3 resumes (max_retries), each after a status check.
    assert_eq!(reqs.iter().filter(|r| r.method == "PATCH").count(), 4);
    assert_eq!(reqs.iter().filter(|r| r.method == "GET").count(), 3);
    let last = reqs.last().unwrap();
    assert_eq!((last.method.as_str(), last.path()), ("DELETE", SESSION));
    assert!(reqs.iter().all(|r| r.method != "PUT"), "nothing committed");
}

#[test]
fn a_lost_answer_to_the_final_put_is_confirmed_by_the_blob_being_there() {
    let blob = data(100);
    let digest = sha256(&blob);
    let srv = FaultServer::start(vec![
        respond(202, &[("Location", SESSION)], ""),
        close_immediately(), // PUT: taken, answer lost
        json(
            404,
            r#"{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"gone"}]}"#,
        ),
        respond(200, &[("Content-Length", "100")], ""), // HEAD
    ]);
    let pushed = client(&srv)
        .push_blob(REPO, blob.as_slice(), &UploadOptions::new())
        .unwrap();
    assert_eq!(pushed.digest.as_str(), digest);
    let methods: Vec<String> = srv.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "PUT", "PUT", "HEAD"]);
}

#[test]
fn a_refused_mount_becomes_an_upload_in_the_session_it_opened() {
    let blob = data(10);
    let digest = sha256(&blob);
    let srv = FaultServer::start(vec![
        status(404),                                // HEAD
        respond(202, &[("Location", SESSION)], ""), // POST ?mount: refused
        created(&digest),                           // PUT with the bytes
    ]);
    let options = UploadOptions::new()
        .digest(digest.as_str())
        .unwrap()
        .mount_from("team/base");
    let pushed = client(&srv)
        .push_blob(REPO, blob.as_slice(), &options)
        .unwrap();
    assert_eq!(pushed.source, BlobSource::Uploaded);
    let reqs = srv.requests();
    let post = &reqs[1];
    assert_eq!(post.path(), UPLOAD);
    assert_eq!(
        post.query(),
        Some(format!("mount={}&from=team%2Fbase", digest.replace(':', "%3A")).as_str())
    );
    assert_eq!(reqs[2].method, "PUT");
    assert_eq!(reqs[2].path(), SESSION);
    assert_eq!(reqs[2].body, blob);
}

#[test]
fn the_registrys_minimum_chunk_length_is_honoured() {
    let blob = data(5000);
    let digest = sha256(&blob);
    let srv = FaultServer::start(vec![
        respond(
            202,
            &[("Location", SESSION), ("OCI-Chunk-Min-Length", "2048")],
            "",
        ),
        accepted("0-2047"),
        accepted("0-4095"),
        accepted("0-4999"),
        created(&digest),
    ]);
    client(&srv)
        .push_blob(
            REPO,
            blob.as_slice(),
            &UploadOptions::new().chunk_size(1024),
        )
        .unwrap();
    let sizes: Vec<usize> = patches(&srv).iter().map(|r| r.body.len()).collect();
    assert_eq!(sizes, [2048, 2048, 904]);
    // A minimum no client should hold in memory is refused, not obeyed.
    let srv = FaultServer::start(vec![
        respond(
            202,
            &[
                ("Location", SESSION),
                ("OCI-Chunk-Min-Length", "99999999999"),
            ],
            "",
        ),
        status(204),
    ]);
    let err = client(&srv)
        .push_blob(REPO, blob.as_slice(), &UploadOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
}

#[test]
fn hostile_ranges_and_locations_are_errors_not_panics_or_leaks() {
    let blob = data(3000);
    for range in ["0-18446744073709551615", "5-10", "garbage", "0-99999"] {
        let srv = FaultServer::start_routed_repeating(vec![
            (
                Route::when(|r| r.method == "POST"),
                vec![respond(202, &[("Location", SESSION)], "")],
            ),
            (Route::when(|r| r.method == "PATCH"), vec![accepted(range)]),
            (
                Route::when(|r| r.method == "GET"),
                vec![respond(204, &[("Range", range)], "")],
            ),
            (Route::when(|r| r.method == "DELETE"), vec![status(204)]),
        ]);
        let err = client(&srv)
            .push_blob(
                REPO,
                blob.as_slice(),
                &UploadOptions::new().chunk_size(1024),
            )
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode | ErrorKind::Registry),
            "{range}: {err}"
        );
        assert!(srv.requests().iter().all(|r| r.method != "PUT"), "{range}");
    }
    // A session on another host: nothing is sent there.
    let elsewhere = FaultServer::start_repeating(vec![status(202)]);
    let srv = FaultServer::start_repeating(vec![respond(
        202,
        &[("Location", &format!("{}/steal", elsewhere.url()))],
        "",
    )]);
    let err = client(&srv)
        .push_blob(REPO, blob.as_slice(), &UploadOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Registry, "{err}");
    assert!(err.to_string().contains("another host"), "{err}");
    assert_eq!(elsewhere.request_count(), 0);
}

#[test]
fn a_registry_confirming_another_digest_is_an_error() {
    let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let other = sha256(b"other");
    let srv = FaultServer::start(vec![respond(201, &[("Docker-Content-Digest", &other)], "")]);
    let err = client(&srv)
        .put_manifest(REPO, "v1", "application/vnd.oci.image.index.v1+json", body)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    let sent = &srv.requests()[0];
    assert_eq!(sent.method, "PUT");
    assert_eq!(sent.body, body);
    assert_eq!(
        sent.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
}

#[test]
fn a_delete_the_registry_does_not_allow_is_unsupported_with_what_it_said() {
    let d = sha256(b"x");
    let srv = FaultServer::start(vec![json(
        405,
        r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
    )]);
    let err = client(&srv).delete_manifest(REPO, d.as_str()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert_eq!(err.http_status(), Some(405));
    assert!(err.to_string().contains("UNSUPPORTED"), "{err}");
    assert_eq!(srv.requests()[0].method, "DELETE");
}

fn referrer(n: u8, artifact_type: &str) -> String {
    format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":10,"artifactType":"{artifact_type}"}}"#,
        format!("{n:02x}").repeat(32)
    )
}

#[test]
fn the_referrers_api_is_followed_across_pages_and_filtered() {
    let subject = sha256(b"subject");
    let page1 = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{},{}]}}"#,
        referrer(1, "application/spdx+json"),
        referrer(2, "application/vnd.cyclonedx+json")
    );
    let page2 = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        referrer(3, "application/spdx+json")
    );
    let path = format!("/v2/{REPO}/referrers/{subject}");
    let next = format!("<{path}?page=2>; rel=\"next\"");
    let srv = FaultServer::start(vec![
        respond(
            200,
            &[
                ("Content-Type", "application/vnd.oci.image.index.v1+json"),
                ("Link", &next),
            ],
            page1.clone(),
        ),
        respond(
            200,
            &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
            page2.clone(),
        ),
        // The filter, not applied by the registry: applied here.
        respond(
            200,
            &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
            page1.clone(),
        ),
    ]);
    let c = client(&srv);
    let all = c.referrers(REPO, subject.as_str(), None).unwrap();
    assert!(!all.from_tag_schema);
    assert_eq!(all.descriptors.len(), 3);
    let spdx = c
        .referrers(REPO, subject.as_str(), Some("application/spdx+json"))
        .unwrap();
    assert_eq!(spdx.descriptors.len(), 1);
    assert_eq!(spdx.descriptors[0].digest.hex(), "01".repeat(32));
    let reqs = srv.requests();
    assert_eq!(reqs[0].path(), path);
    assert_eq!(reqs[1].query(), Some("page=2"));
    assert_eq!(
        reqs[2].query(),
        Some("artifactType=application%2Fspdx%2Bjson")
    );
    assert_eq!(
        reqs[0].header("accept"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    // A registry that says it filtered is believed.
    let srv = FaultServer::start(vec![respond(
        200,
        &[("OCI-Filters-Applied", "artifactType")],
        page1,
    )]);
    let kept = client(&srv)
        .referrers(REPO, subject.as_str(), Some("application/spdx+json"))
        .unwrap();
    assert_eq!(kept.descriptors.len(), 2);
}

#[test]
fn a_tag_is_deleted_alone_where_the_registry_supports_it() {
    let srv = FaultServer::start(vec![status(202)]);
    client(&srv).delete_tag(REPO, "old").unwrap();
    let sent = &srv.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path()),
        ("DELETE", "/v2/team/app/manifests/old")
    );
}

#[test]
fn a_source_giving_more_or_less_than_announced_is_refused_before_the_commit() {
    let cases = [
        (0u64, 1usize),
        (0, 5000),
        (10, 11),
        (10, 9),
        (3000, 3001),
        (3000, 5000),
        (3000, 2999),
    ];
    for (announced, given) in cases {
        let blob = data(given);
        let range = |r: &'static str| {
            Route::when(move |req: &RecordedRequest| {
                req.method == "PATCH"
                    && req
                        .header("content-range")
                        .is_some_and(|v| v.starts_with(r))
            })
        };
        let srv = FaultServer::start_routed_repeating(vec![
            (
                Route::when(|r| r.method == "POST"),
                vec![respond(202, &[("Location", SESSION)], "")],
            ),
            (range("0-"), vec![accepted("0-1023")]),
            (range("1024-"), vec![accepted("0-2047")]),
            (range("2048-"), vec![accepted("0-3071")]),
            (Route::when(|r| r.method == "DELETE"), vec![status(204)]),
        ]);
        let options = UploadOptions::new().size(announced).chunk_size(1024);
        let err = client(&srv)
            .push_blob(REPO, blob.as_slice(), &options)
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidInput,
            "{announced}/{given}: {err}"
        );
        let reqs = srv.requests();
        assert!(
            reqs.iter().all(|r| r.method != "PUT"),
            "{announced}/{given}"
        );
        assert_eq!(
            reqs.last().unwrap().method,
            "DELETE",
            "{announced}/{given}: cancelled"
        );
    }
}

#[test]
fn a_streamed_upload_resumes_from_the_bytes_it_kept() {
    let blob = data(12 << 20);
    let digest = sha256(&blob);
    let srv = FaultServer::start(vec![
        respond(202, &[("Location", SESSION)], ""), // POST
        status(500),                                // PATCH (whole blob): failed
        respond(204, &[("Location", SESSION), ("Range", "0-4194303")], ""),
        accepted(&format!("0-{}", blob.len() - 1)), // PATCH from 4 MiB
        created(&digest),
    ]);
    let options = UploadOptions::new().size(blob.len() as u64);
    let pushed = client(&srv)
        .push_blob(REPO, blob.as_slice(), &options)
        .unwrap();
    assert_eq!(pushed.digest.as_str(), digest);
    let p = patches(&srv);
    assert_eq!(p.len(), 2);
    assert_eq!(
        p[0].header("content-range"),
        Some(format!("0-{}", blob.len() - 1).as_str())
    );
    assert_eq!(p[0].body, blob, "one PATCH carries the whole blob");
    assert_eq!(
        p[1].header("content-range"),
        Some(format!("4194304-{}", blob.len() - 1).as_str())
    );
    assert_eq!(p[1].body, &blob[4 << 20..]);
    // A registry that lost more than the client keeps: an error, and the
    // session is cancelled.
    let srv = FaultServer::start(vec![
        respond(202, &[("Location", SESSION)], ""),
        status(500),
        respond(204, &[("Location", SESSION), ("Range", "0-1023")], ""),
        status(204), // DELETE
    ]);
    let err = client(&srv)
        .push_blob(REPO, blob.as_slice(), &options)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Registry, "{err}");
    assert_eq!(srv.requests().last().unwrap().method, "DELETE");
}

#[test]
fn what_a_registry_echoes_back_during_a_push_never_shows_a_secret() {
    use markers::*;
    let secrets = Markers::new::<&str>(&[]);
    let basic = basic_b64(MARKER_USER, MARKER_PASSWORD);
    let echo = format!(
        r#"{{"errors":[{{"code":"DENIED","message":"you sent Basic {basic} with {MARKER_PASSWORD}"}}]}}"#
    );
    let challenge = r#"Basic realm="registry""#;
    let blob = data(3000);
    // Each write step answers with the echo once the credentials are known.
    for failing in ["POST", "PATCH", "PUT", "DELETE"] {
        let echo = echo.clone();
        let srv = FaultServer::start_routed_repeating(vec![
            (
                Route::when(|r| !r.has_header("authorization")),
                vec![status(401).header("WWW-Authenticate", challenge)],
            ),
            (
                Route::when(move |r| r.method == failing),
                vec![json(400, &echo)],
            ),
            (
                Route::when(|r| r.method == "POST"),
                vec![respond(202, &[("Location", SESSION)], "")],
            ),
            (
                Route::when(|r| r.method == "PATCH"),
                vec![accepted("0-2999")],
            ),
            (Route::when(|r| r.method == "HEAD"), vec![status(404)]),
        ]);
        let c = Client::builder(&srv.url())
            .basic_auth(MARKER_USER, MARKER_PASSWORD)
            .max_retries(0)
            .build()
            .unwrap();
        let chunked = UploadOptions::new().chunk_size(1024).size(3000);
        let err = match failing {
            "DELETE" => c.delete_manifest(REPO, sha256(b"x").as_str()).unwrap_err(),
            "PATCH" => c.push_blob(REPO, blob.as_slice(), &chunked).unwrap_err(),
            _ => c
                .push_blob(REPO, blob.as_slice(), &UploadOptions::new())
                .unwrap_err(),
        };
        assert_eq!(err.http_status(), Some(400), "{failing}: {err}");
        secrets.assert_error_clean(failing, &err);
        assert!(!err.diagnostics().is_empty(), "{failing}: {err}");
    }
}
