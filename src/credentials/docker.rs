//! Docker's `config.json`, whose format the containers `auth.json` shares:
//! `auths` entries (`auth` = base64 `user:password`, or `username` and
//! `password`, or an `identitytoken`), `credHelpers` per registry and, in
//! Docker's file only, a default `credsStore`.
//!
//! Keys are matched the way Docker and containers/image match them: with
//! or without `http(s)://`, a URL's path (`/v1/`) ignored, Docker Hub known
//! by all its names, and — an extension containers/image also makes for
//! Docker's file — `registry/namespace` keys, the longest match first.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;

use super::Credential;
use crate::text::quote;
use crate::{Error, Result};

/// The most of a credentials file that is read: real ones are a few KiB.
pub(crate) const MAX_FILE_BYTES: u64 = 4 << 20;

/// The name every tool files Docker Hub's credentials under.
pub(crate) const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// Docker Hub's host, as keys are compared.
const DOCKER_HUB: &str = "index.docker.io";

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub(crate) fn config_path(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = var("DOCKER_CONFIG") {
        return Some(Path::new(&dir).join("config.json"));
    }
    var("HOME").map(|home| Path::new(&home).join(".docker").join("config.json"))
}

// No `Debug`: these hold secrets.
#[derive(Deserialize, Default)]
struct Raw {
    #[serde(default)]
    auths: Option<BTreeMap<String, Option<RawEntry>>>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

/// One credentials file, read and parsed.
pub(crate) struct AuthFile {
    path: PathBuf,
    raw: Raw,
}

impl AuthFile {
    /// Reads `path`: `None` when there is no such file; an error naming the
    /// file when it cannot be read, is too large or is not such a file.
    pub(crate) fn read(path: &Path) -> Result<Option<AuthFile>> {
        let shown = path.display();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::auth_caused(
                    None,
                    format!("cannot read credentials file {shown}: {e}"),
                    e,
                ))
            }
        };
        let mut bytes = Vec::new();
        // One byte past the cap tells "too large" from "exactly the cap".
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                Error::auth_caused(
                    None,
                    format!("cannot read credentials file {shown}: {e}"),
                    e,
                )
            })?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::auth(
                None,
                format!(
                    "credentials file {shown} is larger than {} MiB; not reading it",
                    MAX_FILE_BYTES >> 20
                ),
            ));
        }
        AuthFile::parse(path, &bytes).map(Some)
    }

    /// Parses the bytes of the file at `path`. The JSON error names a line
    /// and column, never the text around it (which may be a password).
    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<AuthFile> {
        // An empty file is what some tools leave after a logout.
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(AuthFile {
                path: path.to_path_buf(),
                raw: Raw::default(),
            });
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| {
            Error::auth(
                None,
                format!(
                    "credentials file {} is not valid: {} at line {}, column {}",
                    path.display(),
                    match e.classify() {
                        serde_json::error::Category::Io => "cannot be read",
                        serde_json::error::Category::Syntax => "malformed JSON",
                        serde_json::error::Category::Data => "unexpected content",
                        serde_json::error::Category::Eof => "JSON ends too early",
                    },
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Ok(AuthFile {
            path: path.to_path_buf(),
            raw,
        })
    }

    /// The `credHelpers` entry for `registry`, if any.
    pub(crate) fn helper_for(&self, registry: &str) -> Option<&str> {
        let want = normalize_host(registry);
        let helpers = self.raw.cred_helpers.as_ref()?;
        best_key(helpers.keys().map(String::as_str), registry, &want, None)
            .and_then(|k| helpers.get(k))
            .map(String::as_str)
            .filter(|h| !h.is_empty())
    }

    /// The `credsStore` helper, if one is set.
    pub(crate) fn store(&self) -> Option<&str> {
        self.raw.creds_store.as_deref().filter(|s| !s.is_empty())
    }

    /// The credential the `auths` entry best matching `registry` (and
    /// `repository`, when namespaced keys are honoured) holds; `None` when
    /// there is no entry or it is empty (the mark `docker login` leaves
    /// when a helper keeps the secret).
    pub(crate) fn entry_for(
        &self,
        registry: &str,
        repository: Option<&str>,
    ) -> Result<Option<Credential>> {
        let Some(auths) = &self.raw.auths else {
            return Ok(None);
        };
        let want = normalize_host(registry);
        let Some(key) = best_key(
            auths.keys().map(String::as_str),
            registry,
            &want,
            repository,
        ) else {
            return Ok(None);
        };
        match auths.get(key) {
            Some(Some(entry)) => self.decode(key, entry),
            _ => Ok(None),
        }
    }

    fn decode(&self, key: &str, e: &RawEntry) -> Result<Option<Credential>> {
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        if let Some(token) = nonempty(&e.identitytoken) {
            return Ok(Some(Credential::IdentityToken(token)));
        }
        if let Some(token) = nonempty(&e.registrytoken) {
            return Ok(Some(Credential::Bearer(token)));
        }
        if let Some(auth) = nonempty(&e.auth) {
            // Never the value itself in an error: it is the password.
            let bad = |why: &str| {
                Error::auth(
                    None,
                    format!(
                        "credentials file {}: the \"auth\" of {} {why}",
                        self.path.display(),
                        quote(key)
                    ),
                )
            };
            let decoded = STANDARD
                .decode(auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8 text"))?;
            // Without a ':' Docker skips the entry; so do we.
            let Some((user, password)) = decoded.split_once(':') else {
                return Ok(None);
            };
            return Ok(Some(Credential::basic(user, password.trim_matches('\0'))));
        }
        match (nonempty(&e.username), &e.password) {
            (Some(user), Some(password)) => Ok(Some(Credential::basic(user, password.as_str()))),
            _ => Ok(None),
        }
    }
}

/// Whether `registry` is Docker Hub, under any of its names.
pub(crate) fn is_docker_hub(registry: &str) -> bool {
    normalize_host(registry) == DOCKER_HUB
}

/// A registry name (`host[:port]`) as keys are compared: lower case, and
/// every name of Docker Hub the same.
fn normalize_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => DOCKER_HUB.to_string(),
        _ => host,
    }
}

/// A key split into its normalized host and, for a scheme-less
/// `host/namespace` key, the namespace. A URL's path (`/v1/`) is not a
/// namespace.
fn parse_key(key: &str) -> (String, Option<&str>) {
    let (rest, had_scheme) = match key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    {
        Some(rest) => (rest, true),
        None => (key, false),
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_matches('/');
    let namespace = (!had_scheme && !path.is_empty()).then_some(path);
    (normalize_host(host), namespace)
}

/// The key that best serves `repository` on `registry` (whose normalized
/// host is `want`): the longest namespace containing the repository, else
/// a registry-wide key — the one spelled exactly like the registry first,
/// then one without a scheme, then the first in order.
fn best_key<'a>(
    keys: impl Iterator<Item = &'a str>,
    registry: &str,
    want: &str,
    repository: Option<&str>,
) -> Option<&'a str> {
    let mut best: Option<(&'a str, (usize, bool, bool))> = None;
    for key in keys {
        let (host, namespace) = parse_key(key);
        if host != want {
            continue;
        }
        let depth = match (namespace, repository) {
            (None, _) => 0,
            (Some(ns), Some(repo))
                if repo == ns
                    || (repo.starts_with(ns) && repo.as_bytes().get(ns.len()) == Some(&b'/')) =>
            {
                ns.len() + 1
            }
            _ => continue,
        };
        let rank = (depth, key == registry, !key.contains("://"));
        if best.is_none_or(|(_, r)| rank > r) {
            best = Some((key, rank));
        }
    }
    best.map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> AuthFile {
        AuthFile::parse(Path::new("/t/config.json"), json.as_bytes()).unwrap()
    }

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn keys_match_as_docker_matches_them() {
        let f = file(&format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{}"}},
                "http://localhost:5000/v2/": {{"auth": "{}"}},
                "ghcr.io": {{"username": "u", "password": "p-ghcr"}},
                "https://ghcr.io": {{"auth": "{}"}},
                "quay.io/team": {{"auth": "{}"}},
                "quay.io/team/app": {{"auth": "{}"}},
                "quay.io": {{"auth": "{}"}}
            }}}}"#,
            b64("hub:p-hub"),
            b64("lh:p-lh"),
            b64("other:p-other"),
            b64("team:p-team"),
            b64("app:p-app"),
            b64("quay:p-quay"),
        ));
        let user = |reg: &str, repo: Option<&str>| match f.entry_for(reg, repo).unwrap() {
            Some(Credential::Basic { username, .. }) => Some(username),
            other => panic!("{reg}: {other:?}"),
        };
        for hub in ["registry-1.docker.io", "docker.io", "index.docker.io"] {
            assert_eq!(user(hub, Some("library/ubuntu")).as_deref(), Some("hub"));
        }
        assert_eq!(user("localhost:5000", None).as_deref(), Some("lh"));
        // The exact spelling wins over the same host with a scheme.
        assert_eq!(user("ghcr.io", None).as_deref(), Some("u"));
        // Longest namespace first, on component boundaries only.
        assert_eq!(user("quay.io", Some("team/app")).as_deref(), Some("app"));
        assert_eq!(user("quay.io", Some("team/app/x")).as_deref(), Some("app"));
        assert_eq!(user("quay.io", Some("team/apple")).as_deref(), Some("team"));
        assert_eq!(user("quay.io", Some("teams/x")).as_deref(), Some("quay"));
        assert_eq!(user("quay.io", None).as_deref(), Some("quay"));
        assert!(f.entry_for("localhost:5001", None).unwrap().is_none());
        assert!(f.entry_for("localhost", None).unwrap().is_none());
    }

    #[test]
    fn entries_decode_into_credentials() {
        let f = file(&format!(
            r#"{{"auths": {{
                "a.io": {{"auth": "{}"}},
                "b.io": {{"identitytoken": "refresh-me", "username": "<token>"}},
                "c.io": {{}},
                "d.io": {{"auth": "{}"}},
                "e.io": {{"auth": "***"}},
                "f.io": null,
                "g.io": {{"registrytoken": "bearer-tok"}}
            }}, "credHelpers": {{"h.io": "pass", "https://index.docker.io/v1/": "hub"}},
            "credsStore": "secretservice", "psFormat": "x"}}"#,
            b64("alice:pw:with:colons\0"),
            b64("no-colon"),
        ));
        assert_eq!(
            f.entry_for("a.io", None).unwrap(),
            Some(Credential::basic("alice", "pw:with:colons"))
        );
        assert_eq!(
            f.entry_for("b.io", None).unwrap(),
            Some(Credential::identity_token("refresh-me"))
        );
        assert_eq!(f.entry_for("c.io", None).unwrap(), None);
        assert_eq!(f.entry_for("d.io", None).unwrap(), None);
        let e = f.entry_for("e.io", None).unwrap_err().to_string();
        assert!(e.contains("/t/config.json") && e.contains("e.io") && !e.contains("***"));
        assert_eq!(f.entry_for("f.io", None).unwrap(), None);
        assert_eq!(
            f.entry_for("g.io", None).unwrap(),
            Some(Credential::bearer("bearer-tok"))
        );
        assert_eq!(f.helper_for("h.io"), Some("pass"));
        assert_eq!(f.helper_for("docker.io"), Some("hub"));
        assert_eq!(f.helper_for("a.io"), None);
        assert_eq!(f.store(), Some("secretservice"));
    }

    #[test]
    fn malformed_files_are_errors_naming_the_file_not_the_secret() {
        for bad in [
            r#"{"auths": {"a.io": {"auth": "c2VjcmV0LXB3"#,
            r#"{"auths": ["secret-pw"]}"#,
            r#"secret-pw"#,
            r#"{"auths": {"a.io": {"auth": 5}}}"#,
        ] {
            let e = AuthFile::parse(Path::new("/t/config.json"), bad.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{bad}"));
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("/t/config.json"), "{shown}");
            assert!(
                !shown.contains("secret-pw") && !shown.contains("c2VjcmV0"),
                "{shown}"
            );
            assert_eq!(e.kind(), crate::ErrorKind::Auth);
        }
        assert!(AuthFile::parse(Path::new("/t/x"), b"  \n").is_ok());
    }

    #[test]
    fn files_missing_unreadable_or_huge() {
        let dir = tempfile::tempdir().unwrap();
        assert!(AuthFile::read(&dir.path().join("none.json"))
            .unwrap()
            .is_none());
        // A directory where the file should be cannot be read.
        let e = AuthFile::read(dir.path()).err().unwrap().to_string();
        assert!(e.contains(&dir.path().display().to_string()), "{e}");
        let big = dir.path().join("big.json");
        let mut text = String::from(r#"{"auths": {"#);
        while text.len() as u64 <= MAX_FILE_BYTES {
            text.push_str(&format!(r#""h{}.io": {{}},"#, text.len()));
        }
        text.push_str(r#""z.io": {}}}"#);
        std::fs::write(&big, text).unwrap();
        let e = AuthFile::read(&big).err().unwrap().to_string();
        assert!(e.contains("big.json") && e.contains("larger"), "{e}");
    }
}
