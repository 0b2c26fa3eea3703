//! Authentication: what to send with a request, and what to do with a 401.
//!
//! The first request goes out bare (or with a static bearer token). A 401's
//! challenge tells which scheme the registry wants; that is remembered, so
//! later requests carry Basic credentials or a cached token from the start
//! and one token serves every request of its scope until it expires.

pub(crate) mod basic;
pub mod challenge;
pub(crate) mod realm;
pub mod scope;
pub(crate) mod token;

use std::sync::Arc;

use parking_lot::Mutex;
use url::Url;

use crate::clock::Clock;
use crate::config::{Config, Credentials};
use crate::transport::Transport;
use crate::{Error, Result};

use self::challenge::Challenge;
use self::scope::Scope;
use self::token::{TokenCache, TokenKey};

/// What the registry asked for, once it has said.
#[derive(Clone, Debug)]
enum Learned {
    Nothing,
    Basic,
    Bearer { realm: Url, service: Option<String> },
}

pub(crate) struct Auth {
    credentials: Credentials,
    registry: Url,
    learned: Mutex<Learned>,
    tokens: TokenCache,
    clock: Arc<dyn Clock>,
}

impl Auth {
    pub(crate) fn new(config: &Config) -> Auth {
        Auth {
            credentials: config.credentials.clone(),
            registry: config.base.clone(),
            learned: Mutex::new(Learned::Nothing),
            tokens: TokenCache::new(),
            clock: config.clock.clone(),
        }
    }

    fn basic_value(&self) -> Option<String> {
        match &self.credentials {
            Credentials::Basic { username, password } => {
                Some(basic::header_value(username, password))
            }
            _ => None,
        }
    }

    /// The `Authorization` value for a request needing `scope`, if any.
    pub(crate) fn authorization(
        &self,
        transport: &Transport,
        scope: Option<&Scope>,
    ) -> Result<Option<String>> {
        if let Credentials::Bearer(token) = &self.credentials {
            return Ok(Some(format!("Bearer {token}")));
        }
        let learned = self.learned.lock().clone();
        match learned {
            Learned::Nothing => Ok(None),
            Learned::Basic => Ok(self.basic_value()),
            Learned::Bearer { realm, service } => {
                let key = TokenKey {
                    realm: realm.to_string(),
                    service,
                    scope: scope.map(|s| s.to_string()).unwrap_or_default(),
                };
                let token = self.tokens.get(
                    transport,
                    &key,
                    self.basic_value().as_deref(),
                    &*self.clock,
                )?;
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// After a 401: the `Authorization` value to resend with, or `None`
    /// when there is nothing better to send than what was sent.
    pub(crate) fn on_unauthorized(
        &self,
        transport: &Transport,
        www_authenticate: &[String],
        scope: Option<&Scope>,
        sent: Option<&str>,
    ) -> Result<Option<String>> {
        if matches!(self.credentials, Credentials::Bearer(_)) {
            return Ok(None);
        }
        let challenges = challenge::parse_all(www_authenticate.iter().map(String::as_str))
            .map_err(|e| with_status(e, 401))?;
        let bearer = challenges.iter().find(|c| c.scheme == "bearer");
        let basic = challenges.iter().find(|c| c.scheme == "basic");
        if let Some(ch) = bearer {
            return self.answer_bearer(transport, ch, scope, sent).map(Some);
        }
        if basic.is_some() {
            *self.learned.lock() = Learned::Basic;
            return Ok(match (self.basic_value(), sent) {
                // Credentials were refused: sending them again won't help.
                (Some(_), Some(s)) if s.starts_with("Basic ") => None,
                (value, _) => value,
            });
        }
        Ok(None)
    }

    fn answer_bearer(
        &self,
        transport: &Transport,
        ch: &Challenge,
        scope: Option<&Scope>,
        sent: Option<&str>,
    ) -> Result<String> {
        let realm = ch.realm().ok_or_else(|| {
            Error::auth(Some(401), "Bearer challenge without a realm".to_string())
        })?;
        let realm = Url::parse(realm).map_err(|e| {
            Error::auth(
                Some(401),
                format!("Bearer challenge realm is not a URL: {e}"),
            )
        })?;
        realm::check_realm(&self.registry, &realm, self.basic_value().is_some())?;
        let service = ch.service().map(str::to_string);
        *self.learned.lock() = Learned::Bearer {
            realm: realm.clone(),
            service: service.clone(),
        };
        let ours = scope.map(|s| s.to_string()).unwrap_or_default();
        // A token that was refused for too little access: ask for what the
        // challenge names, together with what we need.
        let wanted = match (ch.error(), ch.scope()) {
            (Some("insufficient_scope"), Some(theirs)) => merge_scopes(&ours, theirs),
            (_, Some(theirs)) if ours.is_empty() => theirs.to_string(),
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
        let token = self.tokens.get(
            transport,
            &fetch_key,
            self.basic_value().as_deref(),
            &*self.clock,
        )?;
        if fetch_key != key {
            self.tokens.alias(&fetch_key, &key);
        }
        Ok(format!("Bearer {token}"))
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
    fn scopes_merge_without_repeats() {
        assert_eq!(
            merge_scopes("repository:a:pull", "repository:a:pull repository:b:pull"),
            "repository:a:pull repository:b:pull"
        );
        assert_eq!(merge_scopes("", "registry:catalog:*"), "registry:catalog:*");
    }
}
