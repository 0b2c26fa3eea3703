//! The top layer of the request path: what to send with a request, and
//! what to do with a 401.
//!
//! `Authorizer::send` wraps the retry layer. The first request goes out
//! bare (or with a static bearer token). A 401's challenge tells which
//! scheme the registry wants; that is remembered, so later requests carry
//! Basic credentials or a cached token from the start, and one token serves
//! every request of its scope until it expires. Tokens are fetched through
//! the layer below (`Resilient`), never back up through this one.
//!
//! Credentials come from a `CredentialProvider`, asked once per repository
//! a request is about (per-namespace logins), the answers kept in a bounded
//! cache; every secret this layer sees is remembered in `Secrets` so that
//! what servers echo back can be scrubbed. An identity token (an OAuth2
//! refresh token) is exchanged at the token realm for access tokens.

pub(crate) mod basic;
pub(crate) mod challenge;
pub(crate) mod realm;
pub(crate) mod scope;
pub(crate) mod secrets;
pub(crate) mod token;

use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;
use url::Url;

use crate::config::Config;
use crate::credentials::{Credential, CredentialProvider};
use crate::http::{limits, Request, Response};
use crate::resilience::Resilient;
use crate::{Error, Result};

use self::challenge::Challenge;
use self::scope::Scope;
use self::secrets::Secrets;
use self::token::{Fetcher, Grant, TokenCache, TokenKey};

/// Repositories whose credentials are kept: one client rarely touches more,
/// and one that does asks its provider again.
const MAX_CREDENTIALS: usize = 64;

/// What the registry asked for, once it has said.
#[derive(Clone, Debug)]
enum Learned {
    Nothing,
    Basic,
    Bearer { realm: Url, service: Option<String> },
}

pub(crate) struct Authorizer {
    inner: Resilient,
    provider: Arc<dyn CredentialProvider>,
    /// The provider's answers, per repository (`None`: the registry).
    credentials: Mutex<LruCache<Option<String>, Option<Credential>>>,
    registry: Url,
    learned: Mutex<Learned>,
    tokens: TokenCache,
    secrets: Arc<Secrets>,
}

impl Authorizer {
    pub(crate) fn new(config: &Config, secrets: Arc<Secrets>) -> Authorizer {
        Authorizer {
            inner: Resilient::new(config),
            provider: config.credentials.clone(),
            credentials: Mutex::new(LruCache::new(
                NonZeroUsize::new(MAX_CREDENTIALS).expect("a positive bound"),
            )),
            registry: config.base.clone(),
            learned: Mutex::new(Learned::Nothing),
            tokens: TokenCache::new(),
            secrets,
        }
    }

    /// The layer below, for requests that must go out without credentials
    /// (the version check's first question).
    pub(crate) fn unauthenticated(&self) -> &Resilient {
        &self.inner
    }

    /// The credential for this registry as a whole.
    pub(crate) fn credential(&self) -> Result<Option<Credential>> {
        self.credential_for(None)
    }

    /// The credential for `repository` (or the registry), asked of the
    /// provider once and kept; its secrets are remembered for scrubbing.
    /// The lock is held while the provider answers, so that a helper
    /// program runs once however many threads ask.
    fn credential_for(&self, repository: Option<&str>) -> Result<Option<Credential>> {
        let key = repository.map(str::to_string);
        let mut cache = self.credentials.lock();
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let registry = registry_name(&self.registry);
        let c = self
            .provider
            .credential_for(&registry, repository)
            .map_err(|e| match e {
                e @ Error::Auth { .. } => e,
                other => Error::auth_caused(
                    None,
                    format!("cannot get credentials for {registry}"),
                    other,
                ),
            })?;
        if let Some(c) = &c {
            // Remembered before checking, so that the check's own message
            // cannot carry them either.
            for secret in c.secrets() {
                self.secrets.add(secret);
            }
            if let Credential::Basic { username, password } = c {
                let value = basic::header_value(username, password);
                self.secrets.add(value.trim_start_matches("Basic "));
            }
            c.validate()?;
        }
        cache.put(key, c.clone());
        Ok(c)
    }

    fn basic_value(&self, repository: Option<&str>) -> Result<Option<String>> {
        Ok(match self.credential_for(repository)? {
            Some(Credential::Basic { username, password }) => {
                Some(basic::header_value(&username, &password))
            }
            _ => None,
        })
    }

    /// What a token request presents: Basic credentials, a refresh token,
    /// or nothing.
    fn grant(&self, repository: Option<&str>) -> Result<Grant> {
        Ok(match self.credential_for(repository)? {
            Some(Credential::Basic { username, password }) => {
                Grant::Basic(basic::header_value(&username, &password))
            }
            Some(Credential::IdentityToken(token)) => Grant::RefreshToken(token),
            _ => Grant::Anonymous,
        })
    }

    fn fetcher<'a>(&'a self, grant: &'a Grant) -> Fetcher<'a> {
        Fetcher {
            inner: &self.inner,
            grant,
            secrets: &self.secrets,
        }
    }

    /// Sends `req`, which needs `scopes` (none for the version check; two
    /// repositories for a cross-repository mount), with the credentials the registry
    /// asked for, answering one challenge. A 401 from another origin (a
    /// redirect target) is not answered, and a request whose body cannot be
    /// sent again is not resent.
    pub(crate) fn send(&self, req: &mut Request, scopes: &[Scope]) -> Result<Response> {
        if req.url.origin() != self.registry.origin() {
            // Credentials only ever go to the registry itself (an upload
            // session may continue on another host the registry named).
            return self.inner.send(req);
        }
        let scope = scope_string(scopes);
        let repository = repository_of(scopes);
        let sent = self.authorization(&scope, repository)?;
        if let Some(value) = &sent {
            req.set_header("Authorization", value.clone());
        }
        let mut resp = self.inner.send(req)?;
        if resp.status != 401 || resp.url.origin() != req.url.origin() {
            return Ok(resp);
        }
        let challenges: Vec<String> = resp
            .header_all("www-authenticate")
            .into_iter()
            .map(str::to_string)
            .collect();
        // Read (it is small) so the connection can be reused, and kept for
        // the error should the challenge lead nowhere.
        let body = resp.prefix(limits::ERROR_BODY);
        let resp = resp.with_read_body(body);
        if !req.body.is_replayable() {
            return Ok(resp);
        }
        match self.on_unauthorized(&challenges, &scope, repository, sent.as_deref())? {
            Some(next) => {
                req.set_header("Authorization", next);
                self.inner.send(req)
            }
            // Nothing better to send: the 401 is the answer.
            None => Ok(resp),
        }
    }

    /// The `Authorization` value for a request needing `scope`, if any.
    fn authorization(&self, scope: &str, repository: Option<&str>) -> Result<Option<String>> {
        if let Some(Credential::Bearer(token)) = self.credential_for(repository)? {
            return Ok(Some(format!("Bearer {token}")));
        }
        let learned = self.learned.lock().clone();
        match learned {
            Learned::Nothing => Ok(None),
            Learned::Basic => self.basic_value(repository),
            Learned::Bearer { realm, service } => {
                let key = TokenKey {
                    realm: realm.to_string(),
                    service,
                    scope: scope.to_string(),
                };
                let grant = self.grant(repository)?;
                let token = self.tokens.get(&self.fetcher(&grant), &key)?;
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// After a 401: the `Authorization` value to resend with, or `None`
    /// when there is nothing better to send than what was sent.
    fn on_unauthorized(
        &self,
        www_authenticate: &[String],
        scope: &str,
        repository: Option<&str>,
        sent: Option<&str>,
    ) -> Result<Option<String>> {
        if matches!(
            self.credential_for(repository)?,
            Some(Credential::Bearer(_))
        ) {
            return Ok(None);
        }
        let challenges = challenge::parse_all(www_authenticate.iter().map(String::as_str))
            .map_err(|e| with_status(e, 401))?;
        let bearer = challenges.iter().find(|c| c.is_bearer());
        let basic = challenges.iter().find(|c| c.is_basic());
        if let Some(ch) = bearer {
            return self.answer_bearer(ch, scope, repository, sent).map(Some);
        }
        if basic.is_some() {
            *self.learned.lock() = Learned::Basic;
            return Ok(match (self.basic_value(repository)?, sent) {
                // Credentials were refused: sending them again won't help.
                (Some(_), Some(s)) if s.starts_with("Basic ") => None,
                (value, _) => value,
            });
        }
        Ok(None)
    }

    fn answer_bearer(
        &self,
        ch: &Challenge,
        scope: &str,
        repository: Option<&str>,
        sent: Option<&str>,
    ) -> Result<String> {
        let realm = ch.realm().ok_or_else(|| {
            Error::auth(Some(401), "Bearer challenge without a realm".to_string())
        })?;
        let realm = Url::parse(realm)
            .map_err(|e| Error::auth_caused(Some(401), "Bearer challenge realm is not a URL", e))?;
        let grant = self.grant(repository)?;
        realm::check_realm(&self.registry, &realm, grant.sends_secret())?;
        let service = ch.service().map(str::to_string);
        *self.learned.lock() = Learned::Bearer {
            realm: realm.clone(),
            service: service.clone(),
        };
        let ours = scope.to_string();
        // A token that was refused for too little access: ask for what the
        // challenge names, together with what we need.
        // The challenge's scopes are checked against the scope grammar
        // before a token server is asked for them: a registry cannot make
        // the client send it text of its choosing.
        let theirs = scope_string(&ch.scopes().map_err(|e| with_status(e, 401))?);
        let wanted = match ch.error() {
            Some("insufficient_scope") if !theirs.is_empty() => merge_scopes(&ours, &theirs),
            _ if ours.is_empty() => theirs,
            _ => ours.clone(),
        };
        let key = TokenKey {
            realm: realm.to_string(),
            service,
            scope: ours,
        };
        if let Some(refused) = sent.and_then(|s| s.strip_prefix("Bearer ")) {
            self.tokens.invalidate(&key, refused);
        }
        // Cached under our own scope, so the next request of this kind
        // reuses it.
        let fetch_key = TokenKey {
            scope: wanted,
            ..key.clone()
        };
        let token = self.tokens.get(&self.fetcher(&grant), &fetch_key)?;
        if fetch_key != key {
            self.tokens
                .alias(&fetch_key, &key, self.inner.clock().now());
        }
        Ok(format!("Bearer {token}"))
    }
}

/// The scopes a request needs, as a token request names them: each once,
/// space-separated, in order.
fn scope_string(scopes: &[Scope]) -> String {
    let mut all: Vec<String> = Vec::with_capacity(scopes.len());
    for s in scopes.iter().map(Scope::to_string) {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    all.join(" ")
}

/// The repository a request is about, for per-namespace credentials: the
/// first repository scope's (a mount's target comes first).
fn repository_of(scopes: &[Scope]) -> Option<&str> {
    scopes
        .iter()
        .find(|s| s.resource_type == "repository" || s.resource_type.starts_with("repository("))
        .map(|s| s.name.as_str())
}

/// `host[:port]` of a registry URL, as credential stores name registries.
fn registry_name(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    }
}

/// Our scopes plus the ones a challenge asks for, without repeats.
fn merge_scopes(ours: &str, theirs: &str) -> String {
    let mut all: Vec<&str> = Vec::new();
    for s in ours.split(' ').chain(theirs.split(' ')) {
        if !s.is_empty() && !all.contains(&s) {
            all.push(s);
        }
    }
    all.join(" ")
}

fn with_status(mut e: Error, status: u16) -> Error {
    if let Error::Auth { status: s, .. } = &mut e {
        *s = Some(status);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_asked_once_per_repository_and_kept_bounded() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        #[derive(Debug, Default)]
        struct Counting(AtomicUsize, Mutex<Vec<Option<String>>>);
        #[derive(Debug)]
        struct Provider(Arc<Counting>);
        impl CredentialProvider for Provider {
            fn credential(&self, _: &str) -> Result<Option<Credential>> {
                unreachable!("asked through credential_for")
            }
            fn credential_for(
                &self,
                registry: &str,
                repository: Option<&str>,
            ) -> Result<Option<Credential>> {
                assert_eq!(registry, "127.0.0.1:5000");
                self.0 .0.fetch_add(1, Ordering::SeqCst);
                self.0 .1.lock().push(repository.map(str::to_string));
                Ok(Some(Credential::identity_token(format!(
                    "refresh-{}",
                    repository.unwrap_or("-")
                ))))
            }
        }
        let counting = Arc::new(Counting::default());
        let config = crate::client::ClientBuilder::new("http://127.0.0.1:5000")
            .credentials(Provider(counting.clone()))
            .into_config()
            .unwrap();
        let secrets = Arc::new(Secrets::new());
        let a = Authorizer::new(&config, secrets.clone());
        for _ in 0..3 {
            a.credential_for(Some("team/app")).unwrap();
            a.credential().unwrap();
        }
        assert_eq!(counting.0.load(Ordering::SeqCst), 2);
        assert_eq!(*counting.1.lock(), [Some("team/app".into()), None]);
        // Identity tokens are secrets too.
        assert!(secrets.scrub("echo refresh-team/app").is_some());
        for i in 0..(MAX_CREDENTIALS * 2) {
            a.credential_for(Some(&format!("r/{i}"))).unwrap();
        }
        assert_eq!(a.credentials.lock().len(), MAX_CREDENTIALS);
        // Pushed out: asked again.
        a.credential_for(Some("team/app")).unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 3 + MAX_CREDENTIALS * 2);
    }

    #[test]
    fn the_request_names_the_repository() {
        assert_eq!(repository_of(&[Scope::catalog()]), None);
        assert_eq!(
            repository_of(&[Scope::catalog(), Scope::pull("a/b"), Scope::pull("c")]),
            Some("a/b")
        );
    }

    #[test]
    fn scopes_merge_without_repeats() {
        assert_eq!(
            merge_scopes("repository:a:pull", "repository:a:pull repository:b:pull"),
            "repository:a:pull repository:b:pull"
        );
        assert_eq!(merge_scopes("", "registry:catalog:*"), "registry:catalog:*");
    }

    #[test]
    fn registry_names() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(registry_name(&u("https://ghcr.io/")), "ghcr.io");
        assert_eq!(
            registry_name(&u("http://127.0.0.1:5000/")),
            "127.0.0.1:5000"
        );
    }
}
