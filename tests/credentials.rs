//! Credentials people already have, against the suite's real registries:
//! `auth.json` written by `skopeo login` (plain and TLS, per namespace),
//! Docker's `config.json` (`auths`, `identitytoken` exchanged with the
//! OAuth2 refresh-token grant at the token server, `credHelpers`,
//! `credsStore`), the real `docker-credential-pass` over `pass` and gpg,
//! and helper scripts that fail, hang, print garbage or too much.
//!
//! Every lookup runs in a throwaway home (`support::logins::Home`): the
//! machine's own logins are never read.

mod support;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use registry_client::{Client, ClientBuilder, CredentialProvider, ErrorKind, SystemCredentials};
use support::logins::Home;
use support::seed::{APP_TAG, DOCKER_APP, OCI_APP};
use support::{Auth, Registry, ALICE, BOB, WRONG_PASSWORD};

fn builder(reg: &Registry) -> ClientBuilder {
    let b = Client::builder(&reg.url())
        .timeout(Duration::from_secs(10))
        .max_retries(0);
    if reg.is_tls() {
        b.ca_certificate_file(reg.ca_pem_path())
    } else {
        b
    }
}

/// A client whose credentials come from `home` (plus `extra` variables).
fn client(reg: &Registry, home: &Home, extra: &[(&str, &std::path::Path)]) -> Client {
    builder(reg)
        .credentials(lookup(home, extra))
        .build()
        .unwrap()
}

fn lookup(home: &Home, extra: &[(&str, &std::path::Path)]) -> SystemCredentials {
    let mut env = home.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.into())));
    SystemCredentials::with_env(env).helper_timeout(Duration::from_secs(10))
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn write_json(path: &std::path::Path, value: serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, value.to_string()).unwrap();
}

/// Users the token server saw for requests naming `scope`.
fn token_users(reg: &Registry, scope: &str) -> Vec<Option<String>> {
    reg.token_server()
        .requests()
        .into_iter()
        .filter(|r| r.scopes.iter().any(|s| s == scope))
        .map(|r| r.user)
        .collect()
}

fn shown(e: &registry_client::Error) -> String {
    format!("{e} | {e:?}")
}

#[test]
fn skopeo_login_with_authfile_serves_a_basic_registry() {
    let reg = Registry::basic();
    let home = Home::new();
    let file = home.path("home").join("my-auth.json");
    home.skopeo_login(&reg, Some(&file), &ALICE, None);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains(&reg.host()), "{written}");

    // Without the file the registry says no...
    let e = builder(&reg)
        .credentials(lookup(&home, &[]))
        .build()
        .unwrap()
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    // ...with it, skopeo's login works.
    let c = client(&reg, &home, &[("REGISTRY_AUTH_FILE", &file)]);
    c.get_manifest(OCI_APP, APP_TAG).unwrap();
    assert_eq!(c.list_tags(OCI_APP).unwrap(), [APP_TAG]);
    assert!(!format!("{c:?}").contains(ALICE.password));
}

#[test]
fn skopeo_login_in_the_default_file_over_tls() {
    let reg = Registry::builder().auth(Auth::Basic).tls(true).start();
    let home = Home::new();
    // No --authfile: skopeo writes $XDG_RUNTIME_DIR/containers/auth.json.
    home.skopeo_login(&reg, None, &BOB, None);
    assert!(
        home.runtime_auth_json().is_file(),
        "{}",
        String::from_utf8_lossy(
            &std::process::Command::new("find")
                .arg(home.path(""))
                .output()
                .unwrap()
                .stdout
        )
    );
    let c = client(&reg, &home, &[]);
    c.get_manifest(DOCKER_APP, APP_TAG).unwrap();
}

#[test]
fn per_namespace_logins_longest_match_first() {
    let reg = Registry::token();
    let home = Home::new();
    let file = home.path("home").join("auth.json");
    home.skopeo_login(&reg, Some(&file), &ALICE, None);
    home.skopeo_login(&reg, Some(&file), &BOB, Some("oci"));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        written["auths"][format!("{}/oci", reg.host())].is_object(),
        "{written}"
    );

    reg.token_server().reset_counts();
    let c = client(&reg, &home, &[("REGISTRY_AUTH_FILE", &file)]);
    c.get_manifest(OCI_APP, APP_TAG).unwrap();
    c.get_manifest(DOCKER_APP, APP_TAG).unwrap();
    assert_eq!(
        token_users(&reg, "repository:oci/app:pull"),
        [Some("bob".to_string())]
    );
    assert_eq!(
        token_users(&reg, "repository:docker/app:pull"),
        [Some("alice".to_string())]
    );
}

#[test]
fn docker_config_auths_in_every_spelling() {
    let reg = Registry::basic();
    let home = Home::new();
    let c = |home: &Home| client(&reg, home, &[]);
    for (key, entry) in [
        (
            format!("http://{}/v1/", reg.host()),
            serde_json::json!({"auth": b64("alice:wonderland")}),
        ),
        (
            reg.host(),
            serde_json::json!({"username": "bob", "password": "builder"}),
        ),
        (
            format!("https://{}", reg.host()),
            serde_json::json!({"auth": b64("bob:builder"), "email": "b@example.org"}),
        ),
    ] {
        write_json(
            &home.docker_config(),
            serde_json::json!({"auths": {key.clone(): entry}, "psFormat": "table"}),
        );
        c(&home)
            .get_manifest(OCI_APP, APP_TAG)
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    // A wrong password is refused, and shown nowhere.
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {"auth": b64(&format!("alice:{WRONG_PASSWORD}"))}}}),
    );
    let client = c(&home);
    let e = client.get_manifest(OCI_APP, APP_TAG).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!shown(&e).contains(WRONG_PASSWORD), "{}", shown(&e));
    assert!(!format!("{client:?}").contains(WRONG_PASSWORD));
}

#[test]
fn auth_json_comes_before_docker_config_and_registry_auth_file_alone() {
    let reg = Registry::token();
    let home = Home::new();
    home.skopeo_login(&reg, None, &BOB, None);
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {"auth": b64("alice:wonderland")}}}),
    );
    // podman's file first, as containers/image reads them.
    reg.token_server().reset_counts();
    client(&reg, &home, &[])
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap();
    assert_eq!(
        token_users(&reg, "repository:oci/app:pull"),
        [Some("bob".to_string())]
    );
    // Docker's file when podman's has nothing for the registry.
    std::fs::remove_file(home.runtime_auth_json()).unwrap();
    reg.token_server().reset_counts();
    client(&reg, &home, &[])
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap();
    assert_eq!(
        token_users(&reg, "repository:oci/app:pull"),
        [Some("alice".to_string())]
    );
    // $REGISTRY_AUTH_FILE is read alone (as `skopeo --authfile`): its
    // emptiness means anonymous, which may not pull oci/app.
    let empty = home.path("home").join("empty.json");
    std::fs::write(&empty, "{}").unwrap();
    let e = client(&reg, &home, &[("REGISTRY_AUTH_FILE", &empty)])
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
}

#[test]
fn identity_token_is_exchanged_with_the_refresh_token_grant() {
    let reg = Registry::token();
    let home = Home::new();
    let refresh = reg.token_server().issue_refresh_token(&BOB);
    // What `docker login` keeps for an OAuth2 login.
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {"auth": b64("bob:"), "identitytoken": refresh}}}),
    );
    reg.token_server().reset_counts();
    let c = client(&reg, &home, &[]);
    c.get_manifest(OCI_APP, APP_TAG).unwrap();
    c.get_manifest(OCI_APP, APP_TAG).unwrap();
    let posts: Vec<_> = reg
        .token_server()
        .requests()
        .into_iter()
        .filter(|r| r.grant.is_some())
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let p = &posts[0];
    assert_eq!(p.grant.as_deref(), Some("refresh_token"));
    assert_eq!(p.client_id.as_deref(), Some("registry-client"));
    assert_eq!(p.user.as_deref(), Some("bob"));
    assert_eq!(p.scopes, ["repository:oci/app:pull"]);
    assert_eq!(p.status, 200);
    // No GET with the refresh token's user: it was the only grant used.
    assert!(reg
        .token_server()
        .requests()
        .iter()
        .all(|r| r.grant.is_some() || r.user.is_none()));

    // A helper answering with the "<token>" user gives an identity token.
    home.helper_script(
        "tok",
        &format!(
            "echo '{{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"{refresh}\"}}'"
        ),
    );
    write_json(
        &home.docker_config(),
        serde_json::json!({"credHelpers": {reg.host(): "tok"}}),
    );
    reg.token_server().reset_counts();
    client(&reg, &home, &[])
        .get_manifest(DOCKER_APP, APP_TAG)
        .unwrap();
    assert!(reg
        .token_server()
        .requests()
        .iter()
        .any(|r| r.grant.as_deref() == Some("refresh_token") && r.user.as_deref() == Some("bob")));

    // A refresh token the server does not know: an auth error, and the
    // server's echo of it is scrubbed.
    let stale = format!("{refresh}-revoked");
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {"identitytoken": stale}}}),
    );
    let e = client(&reg, &home, &[])
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let text = shown(&e);
    assert!(text.contains("unknown refresh token"), "{text}");
    assert!(!text.contains(&stale) && !text.contains(&refresh), "{text}");
}

#[test]
fn docker_credential_pass_through_cred_helpers_and_creds_store() {
    let reg = Registry::basic();
    let mut home = Home::new();
    home.init_pass();
    home.pass_store(&reg.host(), &ALICE);

    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {}, "credHelpers": {reg.host(): "pass"}}),
    );
    let c = client(&reg, &home, &[]);
    c.get_manifest(OCI_APP, APP_TAG).unwrap();
    assert!(!format!("{c:?}").contains(ALICE.password));

    // The default store, with the empty mark `docker login` leaves.
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {}}, "credsStore": "pass"}),
    );
    client(&reg, &home, &[])
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap();
    // A registry pass knows nothing of: anonymous.
    assert!(lookup(&home, &[])
        .credential("127.0.0.1:1")
        .unwrap()
        .is_none());
}

#[test]
fn broken_helpers_are_auth_errors_naming_them() {
    let reg = Registry::basic();
    let home = Home::new();
    home.helper_script("fails", "echo 'keychain locked: try again' >&2; exit 3");
    home.helper_script("hangs", "exec sleep 60");
    home.helper_script("garbage", "echo 'SECRET-GARBAGE not json'");
    home.helper_script("huge", "exec head -c 1048576 /dev/zero");
    home.helper_script(
        "colon",
        "echo '{\"Username\":\"a:b\",\"Secret\":\"s3cret-colon\"}'",
    );
    home.helper_script(
        "unset",
        "echo '{\"Username\":\"\",\"Secret\":\"s3cret-no-user\"}'",
    );
    home.helper_script(
        "notfound",
        "echo 'credentials not found in native keychain'; exit 1",
    );
    let cases: [(&str, &str); 7] = [
        ("colon", "contains ':'"),
        ("fails", "keychain locked"),
        ("hangs", "did not answer"),
        ("garbage", "not the credential-helper JSON"),
        ("huge", "more than 64 KiB"),
        ("unset", "without a user name"),
        ("absent", "not installed"),
    ];
    for (name, says) in cases {
        write_json(
            &home.docker_config(),
            serde_json::json!({"credHelpers": {reg.host(): name}}),
        );
        let c = builder(&reg)
            .credentials(lookup(&home, &[]).helper_timeout(Duration::from_secs(2)))
            .build()
            .unwrap();
        let started = Instant::now();
        let e = c.get_manifest(OCI_APP, APP_TAG).unwrap_err();
        let text = shown(&e);
        assert_eq!(e.kind(), ErrorKind::Auth, "{name}: {text}");
        assert!(
            text.contains(&format!("docker-credential-{name}")) && text.contains(says),
            "{name}: {text}"
        );
        for secret in ["SECRET-GARBAGE", "s3cret-no-user", "s3cret-colon"] {
            assert!(!text.contains(secret), "{name}: {text}");
        }
        assert!(started.elapsed() < Duration::from_secs(8), "{name}");
    }
    // "Not found" is no error: anonymous, so the registry's own 401.
    write_json(
        &home.docker_config(),
        serde_json::json!({"credHelpers": {reg.host(): "notfound"}}),
    );
    assert!(lookup(&home, &[])
        .credential(&reg.host())
        .unwrap()
        .is_none());
    // The client's timeout bounds a helper when the builder turns the lookup on.
    write_json(
        &home.docker_config(),
        serde_json::json!({"credHelpers": {reg.host(): "hangs"}}),
    );
    let started = Instant::now();
    let e = lookup(&home, &[])
        .helper_timeout(Duration::from_millis(300))
        .credential(&reg.host())
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{e}");
}

#[test]
fn broken_files_are_errors_naming_the_file() {
    let reg = Registry::basic();
    let home = Home::new();
    let check = |what: &str| {
        let e = client(&reg, &home, &[])
            .get_manifest(OCI_APP, APP_TAG)
            .unwrap_err();
        let text = shown(&e);
        assert_eq!(e.kind(), ErrorKind::Auth, "{what}: {text}");
        assert!(text.contains("config.json"), "{what}: {text}");
        assert!(!text.contains("d29uZGVy"), "{what}: {text}");
        text
    };
    std::fs::write(
        home.docker_config(),
        r#"{"auths": {"x": {"auth": "d29uZGVy"#,
    )
    .unwrap();
    check("truncated");
    std::fs::write(
        home.docker_config(),
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"@@@\"}}}}}}",
            reg.host()
        ),
    )
    .unwrap();
    check("bad base64");
    std::fs::remove_file(home.docker_config()).unwrap();
    std::fs::create_dir(home.docker_config()).unwrap();
    check("a directory");
    std::fs::remove_dir(home.docker_config()).unwrap();
    let mut big = String::from("{\"auths\": {");
    while big.len() < (5 << 20) {
        big.push_str(&format!("\"h{}.example\": {{}},", big.len()));
    }
    big.push_str("\"z\": {}}}");
    std::fs::write(home.docker_config(), big).unwrap();
    assert!(check("huge").contains("larger than"));
}

#[test]
fn the_builder_reads_the_environment_and_explicit_credentials_win() {
    let reg = Registry::basic();
    let home = Home::new();
    // The only test reading the process environment: pointed at the
    // throwaway home, so no login of the machine's own is read.
    std::env::remove_var("REGISTRY_AUTH_FILE");
    for (k, v) in home.env() {
        std::env::set_var(k, v);
    }
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {"auth": b64(&format!("alice:{WRONG_PASSWORD}"))}}}),
    );
    // The file is read (its wrong password is refused)...
    let e = builder(&reg)
        .credentials_from_system()
        .build()
        .unwrap()
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!shown(&e).contains(WRONG_PASSWORD));
    // ...but explicit credentials win, whatever the order of the calls.
    builder(&reg)
        .credentials_from_system()
        .basic_auth(BOB.name, BOB.password)
        .build()
        .unwrap()
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap();
    builder(&reg)
        .basic_auth(BOB.name, BOB.password)
        .credentials_from_system()
        .build()
        .unwrap()
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap();
    // And the right login in the file works.
    write_json(
        &home.docker_config(),
        serde_json::json!({"auths": {reg.host(): {"auth": b64("alice:wonderland")}}}),
    );
    builder(&reg)
        .credentials_from_system()
        .build()
        .unwrap()
        .get_manifest(OCI_APP, APP_TAG)
        .unwrap();
}
