//! [`ClientBuilder`]: configuration of a client, validated into the
//! [`Config`] every layer reads.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::config::ProxySetting;
use crate::config::{
    pem_certificates, registry_base, Config, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_MAX_BYTES,
    DEFAULT_CACHE_TTL, DEFAULT_COOLDOWN, DEFAULT_FAILURE_THRESHOLD, DEFAULT_MAX_LIST_BYTES,
    DEFAULT_MAX_LIST_ITEMS, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY, DEFAULT_RETRY_DELAY,
    DEFAULT_TIMEOUT,
};
use crate::credentials::{Credential, CredentialProvider, Static, SystemCredentials};
use crate::text::check_header_value;
use crate::{Client, Error, Result};

/// Where the builder's credentials come from.
#[derive(Clone, Debug)]
enum Credentials {
    Static(Static),
    Provider(Arc<dyn CredentialProvider>),
}

#[derive(Clone)]
enum CaSource {
    Pem(Vec<u8>),
    File(PathBuf),
}

/// Builds a [`Client`]; start with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use registry_client::Client;
///
/// let client = Client::builder("registry.example.com:5000")
///     .basic_auth("alice", "secret")
///     .timeout(Duration::from_secs(10))
///     .max_retries(5)
///     .build()?;
/// assert_eq!(client.registry_url().as_str(), "https://registry.example.com:5000/");
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    registry: String,
    credentials: Credentials,
    /// Look in the docker/podman files when no credentials are given.
    from_system: bool,
    registry_is_public: bool,
    resolve: Vec<(String, std::net::IpAddr)>,
    timeout: Duration,
    max_retries: u32,
    retry_delay: Duration,
    max_retry_delay: Duration,
    verify_tls: bool,
    ca: Vec<CaSource>,
    user_agent: Option<String>,
    cache_capacity: usize,
    cache_max_bytes: usize,
    cache_ttl: Duration,
    page_size: Option<usize>,
    failure_threshold: u32,
    cooldown: Duration,
    clock: Option<Arc<dyn Clock>>,
    // Listing bounds.
    max_list_items: usize,
    max_list_bytes: usize,
    plain_http: bool,
    // Proxies.
    proxy: ProxySetting,
    proxy_loopback: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("registry", &self.registry)
            .field("credentials", &self.credentials)
            .field("from_system", &self.from_system)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_delay", &self.retry_delay)
            .field("verify_tls", &self.verify_tls)
            .field("extra_ca_certificates", &self.ca.len())
            .field("cache_capacity", &self.cache_capacity)
            .field("cache_ttl", &self.cache_ttl)
            .field("page_size", &self.page_size)
            .field("plain_http", &self.plain_http)
            .finish_non_exhaustive()
    }
}

/// Settings without a registry: a template for
/// [`Registries`](crate::Registries). Building it as it is fails (no
/// registry); [`Client::builder`] is the way to one client.
///
/// ```
/// use registry_client::ClientBuilder;
/// let template = ClientBuilder::default().max_retries(1);
/// assert!(template.build().is_err());
/// ```
impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder::new("")
    }
}

impl ClientBuilder {
    pub(crate) fn new(registry: &str) -> ClientBuilder {
        ClientBuilder {
            registry: registry.to_string(),
            credentials: Credentials::Static(Static(None)),
            from_system: false,
            registry_is_public: false,
            resolve: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
            max_retry_delay: DEFAULT_MAX_RETRY_DELAY,
            verify_tls: true,
            ca: Vec::new(),
            user_agent: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            cache_ttl: DEFAULT_CACHE_TTL,
            page_size: None,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            cooldown: DEFAULT_COOLDOWN,
            clock: None,
            max_list_items: DEFAULT_MAX_LIST_ITEMS,
            plain_http: false,
            max_list_bytes: DEFAULT_MAX_LIST_BYTES,
            proxy: ProxySetting::FromEnv,
            proxy_loopback: false,
        }
    }

    /// Username and password (or a personal access token as the password),
    /// used for Basic challenges and to obtain Bearer tokens.
    ///
    /// ```
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("u", "p").build()?;
    /// assert!(!format!("{c:?}").contains("\"p\""));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.credentials = Credentials::Static(Static(Some(Credential::basic(username, password))));
        self
    }

    /// A ready bearer token sent with every request (no token exchange).
    ///
    /// ```
    /// let c = registry_client::Client::builder("localhost:5000").bearer_token("t0ken").build()?;
    /// assert!(!format!("{c:?}").contains("t0ken"));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.credentials = Credentials::Static(Static(Some(Credential::bearer(token))));
        self
    }

    /// Credentials from a provider of your own (a keychain, a secret
    /// store), asked once per client; replaces `basic_auth` and
    /// `bearer_token`.
    ///
    /// ```
    /// use registry_client::{Client, Credential, CredentialProvider, Result};
    /// #[derive(Debug)]
    /// struct Vault;
    /// impl CredentialProvider for Vault {
    ///     fn credential(&self, registry: &str) -> Result<Option<Credential>> {
    ///         Ok(Some(Credential::basic("ci", format!("token-for-{registry}"))))
    ///     }
    /// }
    /// let c = Client::builder("localhost:5000").credentials(Vault).build()?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn credentials(mut self, provider: impl CredentialProvider + 'static) -> Self {
        self.credentials = Credentials::Provider(Arc::new(provider));
        self
    }

    /// When no credentials are given to the builder (`basic_auth`,
    /// `bearer_token`, `credentials`, in any order of calls), uses the
    /// logins already made with podman, skopeo, buildah or docker: their
    /// `auth.json` and `config.json` files and credential helpers, as
    /// [`SystemCredentials`] describes; anonymous when they have nothing for
    /// the registry. Helpers get the client's [`timeout`](Self::timeout).
    ///
    /// ```
    /// let c = registry_client::Client::builder("localhost:5000")
    ///     .credentials_from_system()
    ///     .build()?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn credentials_from_system(mut self) -> Self {
        self.from_system = true;
        self
    }

    /// Answers lookups of `host` with `addr` instead of asking DNS, as
    /// curl's `--resolve` does; tests use it to play a DNS server that
    /// answers a public-looking name with an internal address.
    #[doc(hidden)]
    pub fn resolve_to(mut self, host: &str, addr: std::net::IpAddr) -> Self {
        self.resolve.push((host.to_ascii_lowercase(), addr));
        self
    }

    /// Treats the registry as one on the public internet even when it is on
    /// loopback, so that tests can show what the address rules refuse.
    #[doc(hidden)]
    pub fn registry_counts_as_public(mut self, public: bool) -> Self {
        self.registry_is_public = public;
        self
    }

    /// Deadline for one HTTP exchange, body included (default 30 s).
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").timeout(std::time::Duration::from_secs(5));
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries after the first attempt (default 3).
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").max_retries(0);
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Base delay of the exponential backoff (default 1 s): retry `n` waits
    /// about `delay × 2ⁿ`.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").retry_delay(std::time::Duration::from_millis(100));
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Cap on a single backoff delay and on an honoured `Retry-After`
    /// (default 30 s).
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").max_retry_delay(std::time::Duration::from_secs(5));
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = delay;
        self
    }

    /// Whether to verify the server's TLS certificate (default true).
    /// Turning it off is for tests only.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").verify_tls(false);
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn verify_tls(mut self, verify: bool) -> Self {
        self.verify_tls = verify;
        self
    }

    /// Trusts the CA certificates in this PEM data, besides the system's
    /// roots (see [`ca_certificate_file`](Self::ca_certificate_file)).
    ///
    /// ```
    /// let err = registry_client::Client::builder("localhost:5000")
    ///     .ca_certificate_pem(b"not a certificate")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), registry_client::ErrorKind::InvalidInput);
    /// ```
    pub fn ca_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.ca.push(CaSource::Pem(pem.to_vec()));
        self
    }

    /// Trusts the CA certificates in this PEM file, read when the client is
    /// built, besides the system's roots: those of the platform's store
    /// (`/etc/ssl/certs` on Linux, the keychain on macOS, the Windows
    /// store), or of the files `SSL_CERT_FILE` and `SSL_CERT_DIR` name when
    /// they are set, as OpenSSL-based tools read them. When the system has
    /// no roots at all, the bundled Mozilla roots are used instead.
    ///
    /// ```
    /// let err = registry_client::Client::builder("localhost:5000")
    ///     .ca_certificate_file("/nonexistent/ca.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("/nonexistent/ca.pem"));
    /// ```
    pub fn ca_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca.push(CaSource::File(path.into()));
        self
    }

    /// The `User-Agent` header (default `registry-client/<version>`).
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").user_agent("my-tool/1.0");
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(user_agent.to_string());
        self
    }

    /// How many responses the cache holds (default 256); 0 turns it off.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").cache_capacity(0);
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// Bound on the bytes the cache holds (default 64 MiB).
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").cache_max_bytes(1 << 20);
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn cache_max_bytes(mut self, bytes: usize) -> Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// How long mutable cached responses (tags, listings, manifests by tag)
    /// stay fresh (default 5 minutes). Content fetched by digest never goes
    /// stale.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").cache_ttl(std::time::Duration::from_secs(30));
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Items asked for per page of a listing (`n`); by default the
    /// registry's own page size.
    ///
    /// ```
    /// let err = registry_client::Client::builder("localhost:5000").page_size(0).build().unwrap_err();
    /// assert_eq!(err.kind(), registry_client::ErrorKind::InvalidInput);
    /// ```
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Circuit breaker: after `failure_threshold` consecutive failed
    /// attempts (connection errors, timeouts, 5xx) on one host, calls fail at
    /// once for `cooldown`, then one probe is let through. A threshold of 0
    /// turns the breaker off. Default: 5 failures, 60 s.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000")
    ///     .circuit_breaker(3, std::time::Duration::from_secs(10));
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn circuit_breaker(mut self, failure_threshold: u32, cooldown: Duration) -> Self {
        self.failure_threshold = failure_threshold;
        self.cooldown = cooldown;
        self
    }

    /// The clock behind timeouts of cached entries and tokens, the breaker's
    /// cooldown and retry sleeps; tests inject a
    /// `ManualClock` (cargo feature `test-util`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use registry_client::clock::SystemClock;
    /// let b = registry_client::Client::builder("localhost:5000").clock(Arc::new(SystemClock));
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// ```
    /// use registry_client::{Client, ErrorKind};
    /// assert!(Client::builder("http://127.0.0.1:5000").build().is_ok());
    /// assert_eq!(Client::builder("ftp://x").build().unwrap_err().kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn build(self) -> Result<Client> {
        Client::from_config(self.into_config()?)
    }

    // Listing bounds.

    /// Most names one listing holds at once (default 1 000 000): the whole
    /// listing for `list_repositories` and `list_tags`, one page for
    /// `catalog_pages`, `tag_pages` and `catalog_page`, which keep no past
    /// page. Past it, the call fails with
    /// [`TooLarge`](crate::ErrorKind::TooLarge). Must be at least 1.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").max_list_items(10_000);
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn max_list_items(mut self, items: usize) -> Self {
        self.max_list_items = items;
        self
    }

    /// Most bytes the names of one listing take at once (default 64 MiB),
    /// counting each name's length plus the 24 bytes of the `String`
    /// holding it; held over the same span as
    /// [`max_list_items`](Self::max_list_items). Past it, the call fails
    /// with [`TooLarge`](crate::ErrorKind::TooLarge). Must be at least 1.
    ///
    /// ```
    /// let b = registry_client::Client::builder("localhost:5000").max_list_bytes(8 << 20);
    /// # b.build()?; Ok::<(), registry_client::Error>(())
    /// ```
    pub fn max_list_bytes(mut self, bytes: usize) -> Self {
        self.max_list_bytes = bytes;
        self
    }

    /// Reaches a registry named without a scheme over plain http instead of
    /// https (default false). Registries on `localhost`, `127.0.0.0/8` or
    /// `[::1]` need no option: when they do not speak TLS, plain http is
    /// used for them anyway. A URL with `http://` or `https://` is used as
    /// given, whatever this says.
    ///
    /// ```
    /// use registry_client::Client;
    /// let c = Client::builder("registry.internal:5000").plain_http(true).build()?;
    /// assert_eq!(c.registry_url().as_str(), "http://registry.internal:5000/");
    /// let c = Client::builder("https://registry.internal:5000").plain_http(true).build()?;
    /// assert_eq!(c.registry_url().scheme(), "https");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn plain_http(mut self, plain_http: bool) -> Self {
        self.plain_http = plain_http;
        self
    }

    /// This builder's settings for another registry: what a
    /// [`Registries`](crate::Registries) set makes each client from.
    pub(crate) fn for_registry(&self, registry: &str) -> ClientBuilder {
        ClientBuilder {
            registry: registry.to_string(),
            ..self.clone()
        }
    }

    /// Whether the credentials are the same for every registry (given to
    /// `basic_auth` or `bearer_token`), rather than looked up per registry.
    pub(crate) fn has_fixed_credentials(&self) -> bool {
        matches!(&self.credentials, Credentials::Static(Static(Some(_))))
    }

    // Proxies.

    /// The proxy for every registry, token and redirect host but loopback
    /// (`http://host:port`, or `https://…` for TLS to the proxy, with
    /// optional `user:password@`), or `None` for no proxy at all. Without
    /// this call the environment decides, as curl and Go do:
    /// `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for plain http (both also
    /// in lower case; `ALL_PROXY` as the fallback), `NO_PROXY` for the
    /// hosts reached directly; loopback is always reached directly. Errors
    /// a proxy causes name it and where it was set.
    ///
    /// ```
    /// use registry_client::{Client, ErrorKind};
    /// let c = Client::builder("registry.example.com")
    ///     .proxy(Some("http://proxy.corp.example:3128"))
    ///     .build()?;
    /// let direct = Client::builder("registry.example.com").proxy(None).build()?;
    /// let err = Client::builder("registry.example.com")
    ///     .proxy(Some("socks5://proxy:1080"))
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn proxy(mut self, proxy: Option<&str>) -> Self {
        self.proxy = match proxy {
            Some(url) => ProxySetting::Url(url.to_string()),
            None => ProxySetting::Off,
        };
        self
    }

    /// Sends loopback hosts through the proxy too, so that tests can show
    /// a proxy at work with the registries they start on 127.0.0.1.
    #[doc(hidden)]
    pub fn proxy_loopback(mut self, through_proxy: bool) -> Self {
        self.proxy_loopback = through_proxy;
        self
    }

    pub(crate) fn into_config(self) -> Result<Config> {
        let (base, plain_http_fallback) = registry_base(&self.registry, self.plain_http)?;
        if self.timeout.is_zero() {
            return Err(Error::invalid("timeout must be greater than zero"));
        }
        if self.page_size == Some(0) {
            return Err(Error::invalid("page size must be at least 1"));
        }
        if let Credentials::Static(Static(Some(c))) = &self.credentials {
            c.validate()?;
        }
        if let Some(ua) = &self.user_agent {
            check_header_value("user agent", ua).map_err(Error::invalid)?;
        }
        if self.max_list_items == 0 || self.max_list_bytes == 0 {
            return Err(Error::invalid("listing bounds must be at least 1"));
        }
        // A proxy given here must be usable (one from the environment is
        // judged when a request would use it).
        if let ProxySetting::Url(_) = &self.proxy {
            crate::http::proxy::Proxies::new(&self.proxy, false, &|_| None)?;
        }
        let mut extra_roots = Vec::new();
        for source in &self.ca {
            let (pem, origin) = match source {
                CaSource::Pem(p) => (p.clone(), "PEM data".to_string()),
                CaSource::File(path) => (
                    std::fs::read(path).map_err(|e| {
                        Error::invalid(format!(
                            "cannot read CA certificate file {}: {e}",
                            path.display()
                        ))
                    })?,
                    path.display().to_string(),
                ),
            };
            let certs = pem_certificates(&pem);
            if certs.is_empty() {
                return Err(Error::invalid(format!(
                    "no PEM certificate found in {origin}"
                )));
            }
            extra_roots.extend(certs);
        }
        Ok(Config {
            base,
            credentials: match self.credentials {
                // Explicit credentials win over the files.
                Credentials::Static(Static(None)) if self.from_system => {
                    Arc::new(SystemCredentials::new().helper_timeout(self.timeout))
                }
                Credentials::Static(s) => Arc::new(s),
                Credentials::Provider(p) => p,
            },
            registry_is_public: self.registry_is_public,
            resolve: self.resolve,
            timeout: self.timeout,
            max_retries: self.max_retries,
            retry_delay: self.retry_delay,
            max_retry_delay: self.max_retry_delay.max(self.retry_delay),
            verify_tls: self.verify_tls,
            extra_roots,
            user_agent: self
                .user_agent
                .unwrap_or_else(|| format!("registry-client/{}", env!("CARGO_PKG_VERSION"))),
            cache_capacity: self.cache_capacity,
            cache_max_bytes: self.cache_max_bytes,
            cache_ttl: self.cache_ttl,
            page_size: self.page_size,
            failure_threshold: self.failure_threshold,
            cooldown: self.cooldown,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            max_list_items: self.max_list_items,
            max_list_bytes: self.max_list_bytes,
            plain_http_fallback,
            proxy: self.proxy,
            proxy_loopback: self.proxy_loopback,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let b = ClientBuilder::new("localhost").basic_auth("alice", "s3cret-pw");
        let s = format!("{b:?}");
        assert!(s.contains("alice") && !s.contains("s3cret-pw"), "{s}");
        let c = b.clone().into_config().unwrap();
        assert!(!format!("{c:?}").contains("s3cret-pw"));
        let t = ClientBuilder::new("localhost").bearer_token("tok-123");
        assert!(!format!("{t:?}").contains("tok-123"));
    }

    #[test]
    fn rejects_bad_settings() {
        let e = |b: ClientBuilder| b.into_config().unwrap_err().kind();
        use crate::ErrorKind::InvalidInput;
        assert_eq!(
            e(ClientBuilder::new("h").timeout(Duration::ZERO)),
            InvalidInput
        );
        assert_eq!(
            e(ClientBuilder::new("h").basic_auth("a:b", "p")),
            InvalidInput
        );
        assert_eq!(
            e(ClientBuilder::new("h").bearer_token("a\nb")),
            InvalidInput
        );
        assert_eq!(
            e(ClientBuilder::new("h").ca_certificate_pem(b"junk")),
            InvalidInput
        );
        assert_eq!(
            e(ClientBuilder::new("h").user_agent("x\r\nX-Evil: 1")),
            InvalidInput
        );
        assert_eq!(e(ClientBuilder::new("h").bearer_token("")), InvalidInput);
    }
}
