//! Where a client's credentials come from: a [`CredentialProvider`] asked
//! for the registry's [`Credential`], so that a static password, a token,
//! anonymous access or (later) the docker and podman files plug in the
//! same way, without the layers below knowing.

use std::fmt;

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
        }
    }
}

/// A source of credentials, asked once per client for the registry it
/// talks to (`host[:port]`, as in the client's URL).
///
/// Implement it to plug in a keychain of your own; return `Ok(None)` for
/// anonymous access. An `Err` is reported as an [`Auth`](Error::Auth)
/// error by the request that needed the credentials.
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
