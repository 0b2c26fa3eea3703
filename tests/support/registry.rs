//! A real `docker-registry` process per test.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::http::{self, basic_auth_user};
use super::pki::pki;
use super::seed;
use super::token_server::TokenServer;
use super::tools::{require_tool, run, DOCKER_REGISTRY};
use super::{ALICE, TOKEN_ISSUER, TOKEN_SERVICE, USERS};

/// How long a registry may take to answer `GET /v2/`.
const READY_DEADLINE: Duration = Duration::from_secs(20);
/// Start attempts (a free port may be taken between probing and binding).
const START_ATTEMPTS: usize = 5;

/// Authentication the registry requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No authentication.
    None,
    /// htpasswd (bcrypt) with [`super::USERS`].
    Basic,
    /// Token auth against an in-process [`TokenServer`].
    Token,
}

/// What the registry stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The shared seed, served READ-ONLY (distribution's maintenance read-only
    /// mode: writes answer `405 Method Not Allowed`, before any auth check).
    Seed,
    /// A private, writable copy of the seed (a few ms; for delete/mount tests).
    SeedCopy,
    /// A fresh, empty, writable storage.
    Empty,
    /// A given directory, writable (used to build the seed).
    Dir(PathBuf),
}

/// Options for [`Registry::builder`].
#[derive(Clone, Debug)]
pub struct RegistryBuilder {
    auth: Auth,
    tls: bool,
    storage: Storage,
    delete: bool,
}

impl RegistryBuilder {
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// Whether `storage.delete.enabled` is on (it is by default); off, the
    /// registry answers deletes `405 UNSUPPORTED`.
    pub fn delete(mut self, enabled: bool) -> Self {
        self.delete = enabled;
        self
    }

    /// Starts the registry (and its token server), panicking loudly on failure.
    pub fn start(self) -> Registry {
        Registry::start(self)
    }
}

/// A running `docker-registry`. Dropping it kills the process (by its `Child`)
/// and removes its temp dir (and stops its token server).
pub struct Registry {
    child: Child,
    port: u16,
    auth: Auth,
    tls: bool,
    storage: Storage,
    root: PathBuf,
    token_server: Option<TokenServer>,
    dir: TempDir,
    agent: ureq::Agent,
}

impl Registry {
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder {
            auth: Auth::None,
            tls: false,
            storage: Storage::Seed,
            delete: true,
        }
    }

    /// No auth, plain HTTP, seed (read-only).
    pub fn open() -> Registry {
        Self::builder().start()
    }

    /// htpasswd auth, plain HTTP, seed (read-only).
    pub fn basic() -> Registry {
        Self::builder().auth(Auth::Basic).start()
    }

    /// Token auth, plain HTTP, seed (read-only).
    pub fn token() -> Registry {
        Self::builder().auth(Auth::Token).start()
    }

    /// No auth, HTTPS (see [`Registry::ca_pem_path`]), seed (read-only).
    pub fn tls() -> Registry {
        Self::builder().tls(true).start()
    }

    /// No auth, plain HTTP, empty writable storage.
    pub fn open_empty() -> Registry {
        Self::builder().storage(Storage::Empty).start()
    }

    /// htpasswd auth, plain HTTP, empty writable storage.
    pub fn basic_empty() -> Registry {
        Self::builder()
            .auth(Auth::Basic)
            .storage(Storage::Empty)
            .start()
    }

    /// Token auth, plain HTTP, empty writable storage.
    pub fn token_empty() -> Registry {
        Self::builder()
            .auth(Auth::Token)
            .storage(Storage::Empty)
            .start()
    }

    /// No auth, HTTPS, empty writable storage.
    pub fn tls_empty() -> Registry {
        Self::builder().tls(true).storage(Storage::Empty).start()
    }

    fn start(opts: RegistryBuilder) -> Registry {
        let started = Instant::now();
        let bin = require_tool(DOCKER_REGISTRY);
        let dir = tempfile::Builder::new()
            .prefix("registry-fixture-")
            .tempdir()
            .expect("fixture: temp dir");
        let d = dir.path().to_path_buf();

        let (root, readonly) = match &opts.storage {
            Storage::Seed => (seed::seed_storage(), true),
            Storage::SeedCopy => {
                let root = d.join("storage");
                copy_dir(&seed::seed_storage(), &root);
                (root, false)
            }
            Storage::Empty => {
                let root = d.join("storage");
                fs::create_dir_all(&root).expect("fixture: create storage");
                (root, false)
            }
            Storage::Dir(p) => (p.clone(), false),
        };

        let mut auth_yaml = String::new();
        let token_server = match opts.auth {
            Auth::None => None,
            Auth::Basic => {
                fs::write(d.join("htpasswd"), htpasswd()).expect("fixture: write htpasswd");
                auth_yaml = format!(
                    "auth:\n  htpasswd:\n    realm: registry-test\n    path: {}\n",
                    d.join("htpasswd").display()
                );
                None
            }
            Auth::Token => {
                let ts = TokenServer::start(TOKEN_SERVICE, TOKEN_ISSUER);
                fs::write(d.join("token-root.pem"), &pki().token_cert_pem)
                    .expect("fixture: write token root");
                auth_yaml = format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    ts.realm(),
                    TOKEN_SERVICE,
                    TOKEN_ISSUER,
                    d.join("token-root.pem").display()
                );
                Some(ts)
            }
        };

        let mut tls_yaml = String::new();
        if opts.tls {
            let p = pki();
            fs::write(d.join("ca.pem"), &p.ca_pem).expect("fixture: write ca.pem");
            fs::write(d.join("server.pem"), &p.server_cert_pem).expect("fixture: write cert");
            fs::write(d.join("server.key"), &p.server_key_pem).expect("fixture: write key");
            // skopeo/containers-image: `--cert-dir` with the CA as `*.crt`.
            fs::create_dir_all(d.join("certs.d")).expect("fixture: certs.d");
            fs::write(d.join("certs.d").join("ca.crt"), &p.ca_pem).expect("fixture: ca.crt");
            tls_yaml = format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.pem").display(),
                d.join("server.key").display()
            );
        }
        let agent = http::agent(if opts.tls { Some(&pki().ca_pem) } else { None });
        let scheme = if opts.tls { "https" } else { "http" };

        let mut last_log = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port();
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: {delete}\n\
                 \x20 maintenance:\n    uploadpurging:\n      enabled: false\n    readonly:\n      enabled: {readonly}\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: registry-fixture-secret-{port}\n{tls_yaml}\
                 {auth_yaml}",
                root = root.display(),
                delete = opts.delete,
            );
            let config_path = d.join("config.yml");
            fs::write(&config_path, &config).expect("fixture: write config");
            let log_path = d.join("registry.log");
            let log = fs::File::create(&log_path).expect("fixture: create log");
            let log2 = log.try_clone().expect("fixture: clone log");
            let mut child = Command::new(&bin)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .unwrap_or_else(|e| panic!("fixture: cannot spawn {}: {e}", bin.display()));

            let url = format!("{scheme}://127.0.0.1:{port}/v2/");
            let deadline = Instant::now() + READY_DEADLINE;
            let ready = loop {
                if let Some(status) = child.try_wait().expect("fixture: try_wait") {
                    break Err(format!("exited with {status}"));
                }
                if let Ok(resp) = http::try_get(&agent, &url, &[]) {
                    if resp.status == 200 || resp.status == 401 {
                        // Make sure it was our process that answered.
                        if let Some(status) = child.try_wait().expect("fixture: try_wait") {
                            break Err(format!("exited with {status}"));
                        }
                        break Ok(());
                    }
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("no answer on {url} within {READY_DEADLINE:?}"));
                }
                std::thread::sleep(Duration::from_millis(15));
            };
            match ready {
                Ok(()) => {
                    if std::env::var_os("REGISTRY_FIXTURE_VERBOSE").is_some() {
                        eprintln!(
                            "fixture: registry {scheme}://127.0.0.1:{port} ({:?}, {:?}) up in {:?}",
                            opts.auth,
                            opts.storage,
                            started.elapsed()
                        );
                    }
                    return Registry {
                        child,
                        port,
                        auth: opts.auth,
                        tls: opts.tls,
                        storage: opts.storage,
                        root,
                        token_server,
                        dir,
                        agent,
                    };
                }
                Err(why) => {
                    last_log = fs::read_to_string(&log_path).unwrap_or_default();
                    // An exit (typically the port taken between probing and
                    // binding) is retried on another port; a hang is not.
                    let exited = why.starts_with("exited");
                    if exited && attempt < START_ATTEMPTS {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    panic!(
                        "\n\n*** REGISTRY TEST FIXTURE: docker-registry failed to start (attempt {attempt}): {why} ***\n\
                         --- config ---\n{config}\n--- registry log ---\n{last_log}\n"
                    );
                }
            }
        }
        panic!("fixture: docker-registry failed to start:\n{last_log}");
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.host())
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    pub fn auth(&self) -> Auth {
        self.auth
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Storage root directory served by this registry.
    pub fn storage_dir(&self) -> &Path {
        &self.root
    }

    /// Whether writes are refused (seed view).
    pub fn is_read_only(&self) -> bool {
        self.storage == Storage::Seed
    }

    /// PEM file of the CA that signed the TLS registry's certificate.
    /// Panics for a plain-HTTP registry.
    pub fn ca_pem_path(&self) -> PathBuf {
        assert!(self.tls, "fixture: ca_pem_path() on a non-TLS registry");
        self.dir.path().join("ca.pem")
    }

    /// The CA PEM bytes (TLS registries).
    pub fn ca_pem(&self) -> Vec<u8> {
        fs::read(self.ca_pem_path()).expect("fixture: read ca.pem")
    }

    /// Directory holding the CA as `ca.crt` (skopeo `--cert-dir`). TLS only.
    pub fn cert_dir(&self) -> PathBuf {
        assert!(self.tls, "fixture: cert_dir() on a non-TLS registry");
        self.dir.path().join("certs.d")
    }

    /// The token server (token registries). Panics for other kinds.
    pub fn token_server(&self) -> &TokenServer {
        self.token_server
            .as_ref()
            .expect("fixture: token_server() on a registry without token auth")
    }

    /// A raw `ureq` agent for this registry: statuses are not errors,
    /// redirects are not followed, the test CA is trusted for TLS registries.
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// `Authorization` value giving [`ALICE`] (admin) full access to `repos`
    /// (and the catalog): Basic for htpasswd, a minted Bearer token for token
    /// auth (not counted by the token server), `None` for open registries.
    pub fn admin_authorization(&self, repos: &[&str]) -> Option<String> {
        match self.auth {
            Auth::None => None,
            Auth::Basic => Some(basic_auth_user(&ALICE)),
            Auth::Token => {
                let mut scopes: Vec<String> = repos
                    .iter()
                    .map(|r| format!("repository:{r}:pull,push,delete"))
                    .collect();
                scopes.push("registry:catalog:*".to_string());
                let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
                let token = self.token_server().issue_token(Some(&ALICE), &refs);
                Some(format!("Bearer {token}"))
            }
        }
    }

    /// A raw pusher acting as ALICE for `repos`.
    pub fn pusher(&self, repos: &[&str]) -> http::Pusher<'_> {
        http::Pusher {
            agent: &self.agent,
            base: self.url(),
            authorization: self.admin_authorization(repos),
        }
    }

    /// The registry's log so far (stdout+stderr, level warn).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// PID of the registry process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The fixture's temp dir of this registry (config, log, certs).
    pub fn temp_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // token server and temp dir are dropped afterwards (field drop order).
    }
}

/// A port the OS considered free a moment ago.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("fixture: bind 127.0.0.1:0");
    l.local_addr().expect("fixture: local_addr").port()
}

/// htpasswd file content for [`USERS`] (bcrypt, made once per process).
fn htpasswd() -> &'static str {
    static FILE: OnceLock<String> = OnceLock::new();
    FILE.get_or_init(|| {
        let bin = require_tool("htpasswd");
        let mut out = String::new();
        for u in USERS {
            // -C 4: cheapest bcrypt cost, the registry checks it on every request.
            let line = run(
                Command::new(&bin).args(["-nbB", "-C", "4", u.name, u.password]),
                "htpasswd",
            );
            out.push_str(String::from_utf8_lossy(&line).trim());
            out.push('\n');
        }
        out
    })
}

/// Recursive copy (regular files and directories; the registry storage has nothing else).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("fixture: mkdir {}: {e}", to.display()));
    for entry in
        fs::read_dir(from).unwrap_or_else(|e| panic!("fixture: read {}: {e}", from.display()))
    {
        let entry = entry.expect("fixture: dir entry");
        let ty = entry.file_type().expect("fixture: file type");
        let dest = to.join(entry.file_name());
        if ty.is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest)
                .unwrap_or_else(|e| panic!("fixture: copy {}: {e}", entry.path().display()));
        }
    }
}
