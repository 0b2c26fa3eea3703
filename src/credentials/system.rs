//! [`SystemCredentials`]: the logins a user already made with `podman`,
//! `skopeo`, `buildah` or `docker`, looked up in the order containers/image
//! (podman, skopeo, buildah) uses.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::docker::{self, AuthFile, DOCKER_HUB_KEY};
use super::{helper, podman, Credential, CredentialProvider};
use crate::Result;

/// How long a helper may take unless told otherwise: the client's own
/// default timeout (not imported: `config` depends on this module).
const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Credentials from the files and helpers that `podman login`,
/// `skopeo login`, `buildah login` and `docker login` fill.
///
/// The files are read in the order containers/image (podman, skopeo,
/// buildah) reads them, the only tools that read both formats; Docker reads
/// only its own file, so a Docker-only user gets what Docker gets:
///
/// 1. `$REGISTRY_AUTH_FILE` — when it is set, that file **alone**, as with
///    `skopeo --authfile`;
/// 2. `$XDG_RUNTIME_DIR/containers/auth.json` (where `podman login` writes);
/// 3. `$XDG_CONFIG_HOME/containers/auth.json`, else
///    `~/.config/containers/auth.json`;
/// 4. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
///
/// The first file with something for the registry decides. In a file, a
/// `credHelpers` entry for the registry comes first (its helper is run as
/// `docker-credential-NAME get`), then — in Docker's file, as Docker does —
/// the `credsStore` helper, then the `auths` entry that best matches the
/// repository (`registry/namespace` keys, longest first; `auth`,
/// `username`/`password`, or an `identitytoken` exchanged for tokens).
/// Missing files are skipped; a file that cannot be read or parsed, and a
/// helper that is missing, fails, hangs past the timeout or answers
/// garbage, is an [`Auth`](crate::ErrorKind::Auth) error naming it. No
/// secret is ever shown.
///
/// [`ClientBuilder::credentials_from_system`](crate::ClientBuilder::credentials_from_system)
/// turns this on for a client.
///
/// ```
/// use registry_client::{CredentialProvider, SystemCredentials};
/// let dir = std::env::temp_dir().join("regc-doc-system-credentials");
/// std::fs::create_dir_all(&dir)?;
/// // "alice:wonderland", as `skopeo login --authfile` writes it.
/// std::fs::write(dir.join("auth.json"), r#"{"auths":{"localhost:5000":{"auth":"YWxpY2U6d29uZGVybGFuZA=="}}}"#)?;
/// let creds = SystemCredentials::with_env([("REGISTRY_AUTH_FILE", dir.join("auth.json"))]);
/// assert!(creds.credential("localhost:5000")?.is_some());
/// assert!(creds.credential("localhost:5001")?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SystemCredentials {
    /// `None`: the process environment. Else only these variables, which
    /// helpers also get.
    vars: Option<Arc<BTreeMap<String, OsString>>>,
    helper_timeout: Duration,
}

impl fmt::Debug for SystemCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemCredentials")
            .field("files", &self.files())
            .field("helper_timeout", &self.helper_timeout)
            .finish()
    }
}

impl Default for SystemCredentials {
    fn default() -> Self {
        SystemCredentials::new()
    }
}

impl SystemCredentials {
    /// The lookup under the process environment (`HOME`,
    /// `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`,
    /// `DOCKER_CONFIG`, and `PATH` for helpers).
    ///
    /// ```
    /// let creds = registry_client::SystemCredentials::new();
    /// # let _ = creds;
    /// ```
    pub fn new() -> SystemCredentials {
        SystemCredentials {
            vars: None,
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// The lookup under these variables instead of the process environment
    /// (a variable not given is unset); helpers run with them added to the
    /// process environment. For tools that keep several logins apart, and
    /// for tests.
    ///
    /// ```
    /// use registry_client::SystemCredentials;
    /// let creds = SystemCredentials::with_env([("HOME", "/home/ci"), ("XDG_RUNTIME_DIR", "/run/user/1000")]);
    /// assert_eq!(creds.files()[0].to_str(), Some("/run/user/1000/containers/auth.json"));
    /// ```
    pub fn with_env<I, K, V>(vars: I) -> SystemCredentials
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<OsString>,
    {
        SystemCredentials {
            vars: Some(Arc::new(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// How long a credential helper may take before it is stopped (default
    /// 30 s; a client built with `credentials_from_system` uses its own
    /// timeout).
    ///
    /// ```
    /// let creds = registry_client::SystemCredentials::new()
    ///     .helper_timeout(std::time::Duration::from_secs(5));
    /// # let _ = creds;
    /// ```
    pub fn helper_timeout(mut self, timeout: Duration) -> SystemCredentials {
        self.helper_timeout = timeout;
        self
    }

    /// The files consulted, in order (whether they exist or not).
    ///
    /// ```
    /// let creds = registry_client::SystemCredentials::with_env([("DOCKER_CONFIG", "/cfg")]);
    /// assert_eq!(creds.files(), [std::path::PathBuf::from("/cfg/config.json")]);
    /// ```
    pub fn files(&self) -> Vec<PathBuf> {
        self.sources().into_iter().map(|(p, _)| p).collect()
    }

    /// A variable, unset when empty (as the tools treat it).
    fn var(&self, name: &str) -> Option<String> {
        let v = match &self.vars {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var_os(name),
        }?;
        let v = v.into_string().ok()?;
        (!v.is_empty()).then_some(v)
    }

    /// The files, each with whether it is Docker's (which alone honours
    /// `credsStore`).
    fn sources(&self) -> Vec<(PathBuf, bool)> {
        let var = |n: &str| self.var(n);
        let (auth_files, explicit) = podman::auth_paths(&var);
        let mut all: Vec<(PathBuf, bool)> = auth_files.into_iter().map(|p| (p, false)).collect();
        if !explicit {
            if let Some(p) = docker::config_path(&var) {
                all.push((p, true));
            }
        }
        all
    }

    fn helper_env(&self) -> Vec<(OsString, OsString)> {
        match &self.vars {
            Some(vars) => vars
                .iter()
                .filter(|(k, _)| !k.is_empty() && !k.contains(['=', '\0']))
                .map(|(k, v)| (OsString::from(k), v.clone()))
                .collect(),
            None => Vec::new(),
        }
    }

    fn run_helper(&self, name: &str, registry: &str) -> Result<Option<Credential>> {
        // Docker files Docker Hub's logins under its v1 URL.
        let server = if docker::is_docker_hub(registry) {
            DOCKER_HUB_KEY
        } else {
            registry
        };
        helper::get(name, server, self.helper_timeout, &self.helper_env())
    }

    fn lookup(&self, registry: &str, repository: Option<&str>) -> Result<Option<Credential>> {
        for (path, is_docker) in self.sources() {
            let Some(file) = AuthFile::read(&path)? else {
                continue;
            };
            let helper = file
                .helper_for(registry)
                .or_else(|| file.store().filter(|_| is_docker));
            if let Some(name) = helper {
                if let Some(c) = self.run_helper(name, registry)? {
                    return checked(c, || format!("credential helper docker-credential-{name}"));
                }
            }
            if let Some(c) = file.entry_for(registry, repository)? {
                return checked(c, || format!("credentials file {}", path.display()));
            }
        }
        Ok(None)
    }
}

/// `c` if it can be sent, else an `Auth` error naming where it came from
/// (the check's message shows no secret).
fn checked(c: Credential, source: impl Fn() -> String) -> Result<Option<Credential>> {
    match c.validate() {
        Ok(()) => Ok(Some(c)),
        Err(e) => Err(crate::Error::auth(
            None,
            format!("{}: unusable credentials: {e}", source()),
        )),
    }
}

impl CredentialProvider for SystemCredentials {
    fn credential(&self, registry: &str) -> Result<Option<Credential>> {
        self.lookup(registry, None)
    }

    fn credential_for(
        &self,
        registry: &str,
        repository: Option<&str>,
    ) -> Result<Option<Credential>> {
        self.lookup(registry, repository)
    }
}
