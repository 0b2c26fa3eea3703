//! Where a client's credentials come from: a [`CredentialProvider`] asked
//! for the registry's [`Credential`], so that a static password, a token,
//! anonymous access or the logins people already made with docker, podman
//! or skopeo ([`SystemCredentials`]) plug in the same way, without the
//! layers below knowing.
//!
//! `docker.rs` reads Docker's `config.json`, `podman.rs` the containers
//! `auth.json`, `helper.rs` runs `docker-credential-*` programs, and
//! `system.rs` decides the order.

mod docker;
mod helper;
mod podman;
mod system;

use std::fmt;

pub use system::SystemCredentials;

use crate::text::{check_header_value, quote};
use crate::{Error, Result};

/// Credentials for one registry.
///
/// `Debug` never shows the secret.
///
/// ```
/// use registry_client::Credential;
/// let c = Credential::basic("alice", "s3cret");
/// assert!(!format!("{c:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// Username and password (or an access token used as the password):
    /// answers Basic challenges and obtains Bearer tokens.
    Basic {
        /// The user name.
        username: String,
        /// The password or access token.
        password: String,
    },
    /// A ready bearer token sent with every request, with no token exchange.
    Bearer(String),
    /// An OAuth2 refresh token (Docker's `identitytoken`): exchanged at the
    /// registry's token realm for access tokens with a `refresh_token`
    /// grant. It answers Bearer challenges only.
    IdentityToken(String),
}

impl Credential {
    /// Username and password.
    ///
    /// ```
    /// let c = registry_client::Credential::basic("alice", "pw");
    /// assert!(matches!(c, registry_client::Credential::Basic { .. }));
    /// ```
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credential {
        Credential::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A ready bearer token.
    ///
    /// ```
    /// let c = registry_client::Credential::bearer("t0ken");
    /// assert!(!format!("{c:?}").contains("t0ken"));
    /// ```
    pub fn bearer(token: impl Into<String>) -> Credential {
        Credential::Bearer(token.into())
    }

    /// An OAuth2 refresh token, as `docker login` keeps it in
    /// `identitytoken`.
    ///
    /// ```
    /// let c = registry_client::Credential::identity_token("r3fresh");
    /// assert!(!format!("{c:?}").contains("r3fresh"));
    /// ```
    pub fn identity_token(token: impl Into<String>) -> Credential {
        Credential::IdentityToken(token.into())
    }

    /// The secrets this credential holds, to be scrubbed from what servers
    /// echo back.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Credential::Basic { password, .. } => vec![password],
            Credential::Bearer(t) | Credential::IdentityToken(t) => vec![t],
        }
    }

    /// Checks that the credential can be sent in a header: a user name
    /// without ':' or control characters, a token without spaces or
    /// control characters.
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Credential::Basic { username, password } => {
                // Sent base64-encoded (RFC 7617): any UTF-8 goes, but not
                // the ':' that ends the user name, nor control characters.
                if username.is_empty() {
                    return Err(Error::invalid("username is empty"));
                }
                if username.contains(':') {
                    return Err(Error::invalid(format!(
                        "username {} contains ':', which separates it from the password",
                        quote(username)
                    )));
                }
                if let Some(c) = username.chars().find(|c| c.is_control()) {
                    return Err(Error::invalid(format!(
                        "username {} contains the control character {}",
                        quote(username),
                        c.escape_debug()
                    )));
                }
                if let Some(c) = password.chars().find(|c| c.is_control()) {
                    // The password itself is never shown.
                    return Err(Error::invalid(format!(
                        "password contains the control character {}",
                        c.escape_debug()
                    )));
                }
                Ok(())
            }
            Credential::Bearer(token) => {
                if token.contains(' ') {
                    return Err(Error::invalid("bearer token contains a space"));
                }
                check_header_value("bearer token", token).map_err(Error::invalid)
            }
            Credential::IdentityToken(token) => {
                // Sent form-encoded, so any text goes; an empty one or one
                // with control characters is a broken file, not a token.
                if token.is_empty() {
                    return Err(Error::invalid("identity token is empty"));
                }
                if token.chars().any(char::is_control) {
                    return Err(Error::invalid(
                        "identity token contains a control character",
                    ));
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// A source of credentials, asked for the registry a client talks to
/// (`host[:port]`, as in the client's URL) and, through
/// [`credential_for`](Self::credential_for), for the repository a request
/// is about. A client asks once per repository and keeps the answer.
///
/// Implement it to plug in a keychain of your own; return `Ok(None)` for
/// anonymous access. An `Err` is reported as an [`Auth`](Error::Auth)
/// error by the request that needed the credentials. Every secret returned
/// is scrubbed from the client's errors.
///
/// ```
/// use registry_client::{Client, Credential, CredentialProvider, Result};
///
/// #[derive(Debug)]
/// struct FromEnv;
/// impl CredentialProvider for FromEnv {
///     fn credential(&self, _registry: &str) -> Result<Option<Credential>> {
///         Ok(std::env::var("MY_TOKEN").ok().map(Credential::bearer))
///     }
/// }
/// let client = Client::builder("localhost:5000").credentials(FromEnv).build()?;
/// # Ok::<(), registry_client::Error>(())
/// ```
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// The credentials for `registry`, or `None` for anonymous access.
    fn credential(&self, registry: &str) -> Result<Option<Credential>>;

    /// The credentials for `repository` (such as `team/app`) on
    /// `registry`, for sources that keep logins per namespace (podman's
    /// `auth.json`); `None` when the request is about no repository (the
    /// catalog, the version check). By default the registry's credentials.
    ///
    /// ```
    /// use registry_client::{Credential, CredentialProvider, Result};
    /// #[derive(Debug)]
    /// struct PerTeam;
    /// impl CredentialProvider for PerTeam {
    ///     fn credential(&self, _registry: &str) -> Result<Option<Credential>> {
    ///         Ok(None)
    ///     }
    ///     fn credential_for(&self, _registry: &str, repository: Option<&str>) -> Result<Option<Credential>> {
    ///         Ok(repository
    ///             .filter(|r| r.starts_with("team/"))
    ///             .map(|_| Credential::basic("team-bot", "pw")))
    ///     }
    /// }
    /// assert!(PerTeam.credential_for("r.example", Some("team/app"))?.is_some());
    /// assert!(PerTeam.credential_for("r.example", None)?.is_none());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    fn credential_for(
        &self,
        registry: &str,
        repository: Option<&str>,
    ) -> Result<Option<Credential>> {
        let _ = repository;
        self.credential(registry)
    }
}

/// The same answer for every registry: what `basic_auth`, `bearer_token`
/// and anonymous clients use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Static(pub(crate) Option<Credential>);

impl CredentialProvider for Static {
    fn credential(&self, _registry: &str) -> Result<Option<Credential>> {
        Ok(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(Credential::basic("alice", "pw with spaces")
            .validate()
            .is_ok());
        assert!(Credential::basic("a:b", "p").validate().is_err());
        assert!(Credential::basic("", "p").validate().is_err());
        assert!(Credential::basic("a\r\nX: y", "p").validate().is_err());
        assert!(Credential::basic("jürgen", "pässwört").validate().is_ok());
        assert!(Credential::basic("a", "p\nq").validate().is_err());
        assert!(Credential::bearer("tok-123").validate().is_ok());
        assert!(Credential::bearer("").validate().is_err());
        assert!(Credential::bearer("a b").validate().is_err());
        assert!(Credential::bearer("a\nb").validate().is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let s = format!(
            "{:?} {:?}",
            Credential::basic("alice", "s3cret-pw"),
            Static(Some(Credential::bearer("tok-123")))
        );
        assert!(s.contains("alice") && !s.contains("s3cret-pw") && !s.contains("tok-123"));
    }
}
