//! Proves the test fixture works, without the library.

mod support;

use std::net::TcpStream;
use std::time::Duration;

use support::http::{
    basic_auth, basic_auth_user, fetch_token, fetch_token_raw, get, head, jwt_claims, jwt_header,
    parse_challenge, send,
};
use support::seed::{self, PLATFORMS};
use support::{
    media, sha256_digest, sha256_hex, skopeo_raw_config, skopeo_raw_manifest, Auth, Registry,
    Storage, ALICE, BOB, TOKEN_ISSUER, TOKEN_SERVICE, WRONG_PASSWORD,
};

fn v2(reg: &Registry, auth: Option<&str>) -> u16 {
    let url = format!("{}/v2/", reg.url());
    let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
    get(reg.agent(), &url, &headers).status
}

#[test]
fn open_registry_answers_v2() {
    let reg = Registry::open();
    assert!(reg.url().starts_with("http://127.0.0.1:"));
    assert_eq!(reg.url(), format!("http://{}", reg.host()));
    let resp = get(reg.agent(), &format!("{}/v2/", reg.url()), &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
}

#[test]
fn basic_registry_checks_credentials() {
    let reg = Registry::basic();
    assert_eq!(v2(&reg, None), 401);
    let resp = get(reg.agent(), &format!("{}/v2/", reg.url()), &[]);
    let ch = parse_challenge(resp.header("www-authenticate").expect("challenge"));
    assert_eq!(ch.scheme, "basic");
    assert_eq!(v2(&reg, Some(&basic_auth_user(&ALICE))), 200);
    assert_eq!(v2(&reg, Some(&basic_auth_user(&BOB))), 200);
    assert_eq!(v2(&reg, Some(&basic_auth(ALICE.name, WRONG_PASSWORD))), 401);
    assert_eq!(v2(&reg, Some(&basic_auth("mallory", "x"))), 401);
}

#[test]
fn token_registry_full_flow() {
    let reg = Registry::token();
    let ts = reg.token_server();
    let agent = reg.agent();

    // Challenge.
    let resp = get(agent, &format!("{}/v2/", reg.url()), &[]);
    assert_eq!(resp.status, 401);
    let ch = parse_challenge(resp.header("www-authenticate").expect("challenge"));
    assert_eq!(ch.scheme, "bearer");
    let realm = ch.param("realm").expect("realm").to_string();
    assert_eq!(realm, ts.realm());
    assert_eq!(ch.param("service"), Some(TOKEN_SERVICE));

    // Manifest request challenge names the scope.
    let manifest_url = format!(
        "{}/v2/{}/manifests/{}",
        reg.url(),
        seed::OCI_APP,
        seed::APP_TAG
    );
    let resp = get(agent, &manifest_url, &[("Accept", media::OCI_MANIFEST)]);
    assert_eq!(resp.status, 401);
    let ch = parse_challenge(resp.header("www-authenticate").unwrap());
    assert_eq!(ch.param("scope"), Some("repository:oci/app:pull"));

    // Alice fetches a token by hand; the registry accepts it.
    ts.reset_counts();
    let scope = "repository:oci/app:pull";
    let token = fetch_token(agent, &realm, TOKEN_SERVICE, &[scope], Some(&ALICE));
    assert_eq!(ts.requests_for_scope(scope), 1);
    assert_eq!(ts.total_requests(), 1);
    let header = jwt_header(&token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5c"].as_array().unwrap().len(), 1);
    let claims = jwt_claims(&token);
    assert_eq!(claims["iss"], TOKEN_ISSUER);
    assert_eq!(claims["aud"], TOKEN_SERVICE);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        claims["access"],
        serde_json::json!([{"type":"repository","name":"oci/app","actions":["pull"]}])
    );
    let bearer = format!("Bearer {token}");
    let resp = get(
        agent,
        &manifest_url,
        &[("Accept", media::OCI_MANIFEST), ("Authorization", &bearer)],
    );
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), reg.log());
    assert_eq!(resp.header("content-type"), Some(media::OCI_MANIFEST));

    // The token is scoped: another repository is refused with a new challenge.
    let other = format!("{}/v2/{}/tags/list", reg.url(), seed::PUBLIC_HELLO);
    let resp = get(agent, &other, &[("Authorization", &bearer)]);
    assert_eq!(resp.status, 401);
    let ch = parse_challenge(resp.header("www-authenticate").unwrap());
    assert_eq!(ch.param("scope"), Some("repository:public/hello:pull"));

    // Anonymous: public/ is pullable, oci/app is not (empty actions).
    let anon = fetch_token(
        agent,
        &realm,
        TOKEN_SERVICE,
        &["repository:public/hello:pull"],
        None,
    );
    assert_eq!(jwt_claims(&anon)["sub"], "");
    let resp = get(
        agent,
        &format!("{}/v2/public/hello/manifests/latest", reg.url()),
        &[
            ("Accept", media::ACCEPT_ALL),
            ("Authorization", &format!("Bearer {anon}")),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let anon = fetch_token(agent, &realm, TOKEN_SERVICE, &[scope], None);
    assert_eq!(
        jwt_claims(&anon)["access"],
        serde_json::json!([{"type":"repository","name":"oci/app","actions":[]}])
    );
    let resp = get(
        agent,
        &manifest_url,
        &[
            ("Accept", media::OCI_MANIFEST),
            ("Authorization", &format!("Bearer {anon}")),
        ],
    );
    assert_eq!(resp.status, 401);

    // Wrong password → 401 JSON from the token server.
    let resp = fetch_token_raw(
        agent,
        &realm,
        TOKEN_SERVICE,
        &[scope],
        Some((ALICE.name, WRONG_PASSWORD)),
    );
    assert_eq!(resp.status, 401);
    assert!(resp.json()["errors"].is_array());
    assert_eq!(ts.requests_for_scope(scope), 3);
    assert_eq!(ts.total_requests(), 4);
    ts.reset_counts();
    assert_eq!(ts.total_requests(), 0);
    assert_eq!(ts.requests_for_scope(scope), 0);
}

#[test]
fn token_server_grants() {
    let reg = Registry::token();
    let ts = reg.token_server();
    let agent = reg.agent();
    let realm = ts.realm();
    let access = |user, scopes: &[&str]| {
        jwt_claims(&fetch_token(agent, &realm, TOKEN_SERVICE, scopes, user))["access"].clone()
    };
    use serde_json::json;
    // Bob: pull everywhere, push only under bob/.
    assert_eq!(
        access(Some(&BOB), &["repository:oci/app:pull,push"]),
        json!([{"type":"repository","name":"oci/app","actions":["pull"]}])
    );
    assert_eq!(
        access(Some(&BOB), &["repository:bob/x:pull,push"]),
        json!([{"type":"repository","name":"bob/x","actions":["pull","push"]}])
    );
    assert_eq!(
        access(Some(&BOB), &["registry:catalog:*"]),
        json!([{"type":"registry","name":"catalog","actions":[]}])
    );
    // Alice: everything; several scopes, repeated and space-separated.
    assert_eq!(
        access(
            Some(&ALICE),
            &[
                "repository:a/b:pull,push,delete registry:catalog:*",
                "repository:c:pull"
            ]
        ),
        json!([
            {"type":"repository","name":"a/b","actions":["pull","push","delete"]},
            {"type":"registry","name":"catalog","actions":["*"]},
            {"type":"repository","name":"c","actions":["pull"]}
        ])
    );
    // Response fields and configurable expires_in.
    ts.set_expires_in(120);
    let resp = fetch_token_raw(agent, &realm, TOKEN_SERVICE, &["repository:c:pull"], None);
    let body = resp.json();
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["token"], body["access_token"]);
    let issued_at = body["issued_at"].as_str().unwrap();
    assert!(
        issued_at.ends_with('Z') && issued_at.len() == 20,
        "{issued_at}"
    );
    let claims = jwt_claims(body["token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    // Catalog with alice's catalog token works on the registry.
    let t = fetch_token(
        agent,
        &realm,
        TOKEN_SERVICE,
        &["registry:catalog:*"],
        Some(&ALICE),
    );
    let resp = get(
        agent,
        &format!("{}/v2/_catalog", reg.url()),
        &[("Authorization", &format!("Bearer {t}"))],
    );
    assert_eq!(resp.status, 200);
    // Injected failures, then back to normal; the request log records them.
    ts.reset_counts();
    ts.fail_next(2, 503);
    let scope = ["repository:c:pull"];
    assert_eq!(
        fetch_token_raw(agent, &realm, TOKEN_SERVICE, &scope, None).status,
        503
    );
    assert_eq!(
        fetch_token_raw(agent, &realm, TOKEN_SERVICE, &scope, None).status,
        503
    );
    assert_eq!(
        fetch_token_raw(agent, &realm, TOKEN_SERVICE, &scope, None).status,
        200
    );
    let log = ts.requests();
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    assert_eq!(log[2].service.as_deref(), Some(TOKEN_SERVICE));
    assert_eq!(ts.requests_for_scope(scope[0]), 3);
    // Only GET /token is served.
    assert_eq!(
        get(agent, &format!("{}/other", ts.realm()), &[]).status,
        404
    );
    assert_eq!(
        send(agent, "POST", &realm, &[], b"grant_type=password").status,
        404
    );
}

#[test]
fn expired_token_is_refused() {
    let reg = Registry::token();
    let ts = reg.token_server();
    let scopes = ["repository:oci/app:pull"];
    let url = format!("{}/v2/oci/app/tags/list", reg.url());
    let ok = ts.issue_token(Some(&ALICE), &scopes);
    let status = |t: &str| {
        get(
            reg.agent(),
            &url,
            &[("Authorization", &format!("Bearer {t}"))],
        )
        .status
    };
    assert_eq!(status(&ok), 200);
    // distribution 2.8 has a 60 s leeway on exp/nbf.
    let recent = ts.issue_token_with_times(Some(&ALICE), &scopes, -100, -30);
    assert_eq!(status(&recent), 200);
    let expired = ts.issue_token_with_times(Some(&ALICE), &scopes, -3600, -90);
    assert_eq!(status(&expired), 401);
    let future = ts.issue_token_with_times(Some(&ALICE), &scopes, 120, 600);
    assert_eq!(status(&future), 401);
    // The signature is really checked.
    // (Flip a char in the middle: the last base64url char carries padding bits.)
    let sig_start = ok.rfind('.').unwrap() + 1;
    let i = sig_start + 10;
    let flipped = if &ok[i..=i] == "A" { "B" } else { "A" };
    let forged = format!("{}{flipped}{}", &ok[..i], &ok[i + 1..]);
    assert_eq!(status(&forged), 401);
    assert_eq!(ts.total_requests(), 0, "minted tokens are not counted");
}

#[test]
fn seed_catalog_pages_and_contents() {
    let reg = Registry::open();
    let agent = reg.agent();
    let mut repos = Vec::new();
    let mut next = Some(format!("{}/v2/_catalog?n=7", reg.url()));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = get(agent, &url, &[]);
        assert_eq!(resp.status, 200);
        pages += 1;
        for r in resp.json()["repositories"].as_array().unwrap() {
            repos.push(r.as_str().unwrap().to_string());
        }
        if let Some(link) = resp.header("link") {
            // `</v2/_catalog?last=..&n=7>; rel="next"` (relative)
            let target = link.split('>').next().unwrap().trim_start_matches('<');
            assert!(target.starts_with("/v2/_catalog?"), "{link}");
            next = Some(format!("{}{target}", reg.url()));
        }
    }
    assert!(pages > 3, "{pages} pages");
    assert_eq!(repos, seed::all_repositories());

    // Tags.
    let tags = get(agent, &format!("{}/v2/many/tags/tags/list", reg.url()), &[]).json();
    let mut tags: Vec<String> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    // distribution 2.8 lists tags in storage (directory) order, NOT sorted.
    tags.sort();
    assert_eq!(tags, seed::many_tags());
    for repo in seed::extra_repos() {
        let url = format!("{}/v2/{repo}/manifests/{}", reg.url(), seed::EXTRA_REPO_TAG);
        assert_eq!(
            head(agent, &url, &[("Accept", media::OCI_MANIFEST)]).status,
            200
        );
    }

    // Manifest media types.
    let cases = [
        (seed::OCI_APP, seed::APP_TAG, media::OCI_MANIFEST),
        (seed::DOCKER_APP, seed::APP_TAG, media::DOCKER_MANIFEST),
        (seed::MULTI_OCI, seed::MULTI_TAG, media::OCI_INDEX),
        (
            seed::MULTI_DOCKER,
            seed::MULTI_TAG,
            media::DOCKER_MANIFEST_LIST,
        ),
        (seed::MANY_TAGS, "t17", seed::SMALL_IMAGE_MEDIA_TYPE),
        (
            seed::PUBLIC_HELLO,
            seed::PUBLIC_HELLO_TAG,
            seed::SMALL_IMAGE_MEDIA_TYPE,
        ),
    ];
    for (repo, tag, mt) in cases {
        let resp = get(
            agent,
            &format!("{}/v2/{repo}/manifests/{tag}", reg.url()),
            &[("Accept", media::ACCEPT_ALL)],
        );
        assert_eq!(resp.status, 200, "{repo}:{tag}");
        assert_eq!(resp.header("content-type"), Some(mt), "{repo}:{tag}");
        // skopeo sees the same bytes; digest = sha256 of them.
        let raw = skopeo_raw_manifest(&reg, repo, tag);
        assert_eq!(raw, resp.body, "{repo}:{tag}");
        assert_eq!(
            resp.header("docker-content-digest"),
            Some(format!("sha256:{}", sha256_hex(&raw)).as_str())
        );
    }

    // OCI manifest without the OCI type in Accept → 404 MANIFEST_UNKNOWN.
    let resp = get(
        agent,
        &format!("{}/v2/oci/app/manifests/v1", reg.url()),
        &[("Accept", media::DOCKER_MANIFEST)],
    );
    assert_eq!(resp.status, 404);
    // A manifest list fetched without the list type in Accept → the
    // linux/amd64 entry instead (schema 2 if accepted, else schema 1).
    let resp = get(
        agent,
        &format!("{}/v2/multi/docker/manifests/latest", reg.url()),
        &[("Accept", media::DOCKER_MANIFEST)],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some(media::DOCKER_MANIFEST));
    let amd64 = get(
        agent,
        &format!("{}/v2/multi/docker/manifests/latest", reg.url()),
        &[("Accept", media::ACCEPT_ALL)],
    )
    .json()["manifests"][0]["digest"]
        .clone();
    assert_eq!(
        resp.header("docker-content-digest"),
        amd64.as_str(),
        "the amd64 child"
    );
    let resp = get(
        agent,
        &format!("{}/v2/multi/docker/manifests/latest", reg.url()),
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("application/vnd.docker.distribution.manifest.v1"));
    // Docker manifest without its type in Accept → converted to schema 1.
    let resp = get(
        agent,
        &format!("{}/v2/docker/app/manifests/v1", reg.url()),
        &[],
    );
    assert_eq!(resp.status, 200);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("application/vnd.docker.distribution.manifest.v1"));
}

#[test]
fn seed_app_config_and_platforms() {
    let reg = Registry::open();
    for (repo, config_mt) in [
        (seed::OCI_APP, media::OCI_CONFIG),
        (seed::DOCKER_APP, media::DOCKER_CONFIG),
    ] {
        let manifest: serde_json::Value =
            serde_json::from_slice(&skopeo_raw_manifest(&reg, repo, seed::APP_TAG)).unwrap();
        assert_eq!(manifest["config"]["mediaType"], config_mt);
        assert_eq!(
            manifest["layers"].as_array().unwrap().len(),
            seed::APP_LAYER_COUNT
        );
        let digest = manifest["config"]["digest"].as_str().unwrap();
        let blob = get(
            reg.agent(),
            &format!("{}/v2/{repo}/blobs/{digest}", reg.url()),
            &[],
        );
        assert_eq!(blob.status, 200);
        assert_eq!(sha256_digest(&blob.body), digest);
        assert_eq!(blob.body, skopeo_raw_config(&reg, repo, seed::APP_TAG));
        let c = blob.json();
        assert_eq!(c["architecture"], seed::APP_ARCHITECTURE);
        assert_eq!(c["os"], seed::APP_OS);
        assert_eq!(c["author"], seed::APP_AUTHOR);
        let cfg = &c["config"];
        assert_eq!(cfg["Entrypoint"], serde_json::json!(seed::APP_ENTRYPOINT));
        assert_eq!(cfg["Cmd"], serde_json::json!(seed::APP_CMD));
        assert_eq!(cfg["Env"], serde_json::json!(seed::APP_ENV));
        assert_eq!(cfg["WorkingDir"], seed::APP_WORKING_DIR);
        assert_eq!(cfg["User"], seed::APP_USER);
        for (k, v) in seed::APP_LABELS {
            assert_eq!(cfg["Labels"][k], *v);
        }
    }
    for (repo, child_mt) in [
        (seed::MULTI_OCI, media::OCI_MANIFEST),
        (seed::MULTI_DOCKER, media::DOCKER_MANIFEST),
    ] {
        let index: serde_json::Value =
            serde_json::from_slice(&skopeo_raw_manifest(&reg, repo, seed::MULTI_TAG)).unwrap();
        let entries = index["manifests"].as_array().unwrap();
        assert_eq!(entries.len(), PLATFORMS.len());
        for (e, p) in entries.iter().zip(PLATFORMS) {
            assert_eq!(e["mediaType"], child_mt);
            assert_eq!(e["platform"]["os"], p.os);
            assert_eq!(e["platform"]["architecture"], p.architecture);
            assert_eq!(e["platform"]["variant"].as_str(), p.variant);
            // Child manifest by digest and its config declare the platform.
            let digest = e["digest"].as_str().unwrap();
            let child: serde_json::Value =
                serde_json::from_slice(&skopeo_raw_manifest(&reg, repo, digest)).unwrap();
            let cd = child["config"]["digest"].as_str().unwrap();
            let config = get(
                reg.agent(),
                &format!("{}/v2/{repo}/blobs/{cd}", reg.url()),
                &[],
            )
            .json();
            assert_eq!(config["architecture"], p.architecture);
            assert_eq!(config["os"], p.os);
            assert_eq!(config["variant"].as_str(), p.variant);
        }
        assert_ne!(entries[0]["digest"], entries[1]["digest"]);
    }
}

#[test]
fn tls_registry_serves_https_with_test_ca() {
    let reg = Registry::tls();
    assert!(reg.url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(reg.ca_pem_path()).unwrap();
    let cert = ureq::tls::Certificate::from_pem(&pem).unwrap().to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
                .build(),
        )
        .build()
        .new_agent();
    let resp = get(&agent, &format!("{}/v2/", reg.url()), &[]);
    assert_eq!(resp.status, 200);
    // localhost is in the certificate too.
    let resp = get(
        &agent,
        &format!("https://localhost:{}/v2/", reg.port()),
        &[],
    );
    assert_eq!(resp.status, 200);
    // Without the CA: refused.
    let plain = support::http::agent(None);
    assert!(support::http::try_get(&plain, &format!("{}/v2/", reg.url()), &[]).is_err());
    // skopeo with --cert-dir sees the seed.
    let raw = skopeo_raw_manifest(&reg, seed::OCI_APP, seed::APP_TAG);
    assert!(!raw.is_empty());
}

#[test]
fn drop_stops_the_registry() {
    let reg = Registry::token();
    let addr = reg.host();
    let token_addr = reg.token_server().addr();
    let tmp = reg.temp_dir().to_path_buf();
    assert!(TcpStream::connect(&addr).is_ok());
    drop(reg);
    assert!(
        TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).is_err(),
        "registry still listening after drop"
    );
    assert!(TcpStream::connect_timeout(&token_addr, Duration::from_secs(1)).is_err());
    assert!(!tmp.exists());
}

#[test]
fn seed_view_is_read_only_and_empty_is_writable() {
    let reg = Registry::open();
    let url = format!("{}/v2/scratch/blobs/uploads/", reg.url());
    assert_eq!(send(reg.agent(), "POST", &url, &[], b"").status, 405);

    let reg = Registry::open_empty();
    let resp = get(reg.agent(), &format!("{}/v2/_catalog", reg.url()), &[]);
    assert_eq!(resp.json()["repositories"], serde_json::json!([]));
    let img = seed::push_small_image(&reg.pusher(&[]), "scratch/one", Some("x"), None, "x", false);
    let raw = skopeo_raw_manifest(&reg, "scratch/one", "x");
    assert_eq!(raw, img.manifest);
}

#[test]
fn token_empty_and_seed_copy_are_writable() {
    let reg = Registry::token_empty();
    let pusher = reg.pusher(&["bob/app"]);
    seed::push_small_image(&pusher, "bob/app", Some("v1"), None, "bob", true);
    assert_eq!(
        skopeo_raw_manifest(&reg, "bob/app", "v1"),
        get(
            reg.agent(),
            &format!("{}/v2/bob/app/manifests/v1", reg.url()),
            &[
                ("Accept", media::DOCKER_MANIFEST),
                (
                    "Authorization",
                    &reg.admin_authorization(&["bob/app"]).unwrap()
                )
            ]
        )
        .body
    );

    let reg = Registry::builder()
        .auth(Auth::Basic)
        .storage(Storage::SeedCopy)
        .start();
    let auth = basic_auth_user(&ALICE);
    let digest = sha256_digest(&skopeo_raw_manifest(&reg, seed::OCI_APP, seed::APP_TAG));
    let url = format!("{}/v2/{}/manifests/{digest}", reg.url(), seed::OCI_APP);
    assert_eq!(
        support::http::delete(reg.agent(), &url, &[("Authorization", &auth)]).status,
        202
    );
    assert_eq!(
        head(
            reg.agent(),
            &url,
            &[("Authorization", &auth), ("Accept", media::OCI_MANIFEST)]
        )
        .status,
        404
    );
}
