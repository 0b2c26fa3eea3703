//! The settings every layer of a client reads: validated once by the
//! builder (`client/builder.rs`), then shared. Defaults live here too.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::clock::Clock;
use crate::credentials::CredentialProvider;
use crate::{Error, Result};

/// Validated settings shared by every part of a client.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// `scheme://host[:port]/[prefix/]`, always ending in `/`.
    pub base: Url,
    pub credentials: Arc<dyn CredentialProvider>,
    /// Tests make a loopback registry count as a public one, to show what
    /// the address rules refuse (see `http::resolve`).
    pub registry_is_public: bool,
    /// Host names answered without DNS (tests stand in for a DNS answer).
    pub resolve: Vec<(String, std::net::IpAddr)>,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    pub verify_tls: bool,
    /// DER certificates trusted in addition to the system's roots.
    pub extra_roots: Vec<Vec<u8>>,
    pub user_agent: String,
    pub cache_capacity: usize,
    pub cache_max_bytes: usize,
    pub cache_ttl: Duration,
    pub page_size: Option<usize>,
    pub failure_threshold: u32,
    pub cooldown: Duration,
    pub clock: Arc<dyn Clock>,
    // Listing bounds (see `ClientBuilder::max_list_items`).
    pub max_list_items: usize,
    pub max_list_bytes: usize,
    /// `base` is https on a loopback host named without a scheme: a TLS
    /// handshake answered in plain HTTP switches to `http://` (see
    /// [`registry_base`]).
    pub plain_http_fallback: bool,
    // Proxies (see `http::proxy`).
    pub proxy: ProxySetting,
    /// Tests send loopback through the proxy too.
    pub proxy_loopback: bool,
}

/// What the builder says about proxies (`http::proxy` applies it).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxySetting {
    /// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (the default).
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Off,
    /// This proxy for every host but loopback.
    Url(String),
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxySetting::FromEnv => f.write_str("FromEnv"),
            ProxySetting::Off => f.write_str("Off"),
            // Never the credentials a proxy URL may carry.
            ProxySetting::Url(u) => match Url::parse(u) {
                Ok(url) => write!(f, "Url({})", crate::text::redact_url(&url)),
                Err(_) => f.write_str("Url(..)"),
            },
        }
    }
}

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default base delay of the exponential backoff.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Default cap on one backoff delay (and on an honoured `Retry-After`).
pub const DEFAULT_MAX_RETRY_DELAY: Duration = Duration::from_secs(30);
/// Default time a cached tag, listing or manifest-by-tag stays fresh.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
/// Default number of cached responses.
pub const DEFAULT_CACHE_CAPACITY: usize = 256;
/// Default bound on the bytes held by the cache.
pub const DEFAULT_CACHE_MAX_BYTES: usize = 64 << 20;
/// Default consecutive failures that open the circuit breaker.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;
/// Default time the circuit stays open before a probe.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(60);

// Listing bounds.

/// Default bound on the names one listing holds at once.
pub const DEFAULT_MAX_LIST_ITEMS: usize = 1_000_000;
/// Default bound on the bytes the names of one listing take at once.
pub const DEFAULT_MAX_LIST_BYTES: usize = 64 << 20;

/// The DER certificates in PEM data; other items (keys) are skipped.
pub(crate) fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    CertificateDer::pem_slice_iter(pem)
        .filter_map(|c| c.ok())
        .map(|c| c.to_vec())
        .collect()
}

/// Turns what a user types (`host`, `host:port`, `http://host:port/prefix`)
/// into the base URL, defaulting to https.
pub(crate) fn parse_registry_url(input: &str) -> Result<Url> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Error::invalid("registry URL is empty"));
    }
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| Error::invalid(format!("registry URL {input:?} is not valid: {e}")))?;
    match url.scheme() {
        "https" | "http" => {}
        other => {
            return Err(Error::invalid(format!(
                "registry URL scheme {other:?} is not supported (use https or http)"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!(
            "registry URL {input:?} has no host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "registry URL must not carry credentials; use basic_auth",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(
            "registry URL must not have a query or fragment",
        ));
    }
    // Docker Hub's API lives on another host than its name.
    if matches!(url.host_str(), Some("docker.io" | "index.docker.io")) {
        url.set_host(Some("registry-1.docker.io")).ok();
    }
    let mut path = url.path().trim_end_matches('/').to_string();
    if path.ends_with("/v2") || path == "v2" {
        path.truncate(path.len() - 3);
    }
    url.set_path(&format!("{path}/"));
    Ok(url)
}

/// The base URL for the registry a user named, and whether a TLS
/// handshake answered in plain HTTP may switch it to http.
///
/// The scheme rules, as Docker and go-containerregistry have them:
/// - an explicit `https://` or `http://` is used as given;
/// - with `plain_http` (the caller asked), http;
/// - else https, and on a loopback host (`localhost`, `127.0.0.0/8`,
///   `[::1]`) a registry that turns out not to speak TLS is reached over
///   plain http: traffic that never leaves the machine has nothing for TLS
///   to protect, and local registries are commonly run without it.
pub(crate) fn registry_base(input: &str, plain_http: bool) -> Result<(Url, bool)> {
    let trimmed = input.trim();
    if trimmed.contains("://") {
        return Ok((parse_registry_url(trimmed)?, false));
    }
    if plain_http {
        return Ok((parse_registry_url(&format!("http://{trimmed}"))?, false));
    }
    let url = parse_registry_url(trimmed)?;
    let fallback = is_loopback_host(&url);
    Ok((url, fallback))
}

/// Whether the URL's host is `localhost`, in `127.0.0.0/8` or `::1`, by its
/// text alone (no lookup).
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_rules() {
        let base = |s: &str, plain: bool| {
            let (url, fallback) = registry_base(s, plain).unwrap();
            (url.to_string(), fallback)
        };
        // Loopback without a scheme: https first, plain http when it is not TLS.
        for host in [
            "localhost:5000",
            "LOCALHOST:5000",
            "127.0.0.1:5000",
            "127.9.8.7",
            "[::1]:5000",
        ] {
            let (url, fallback) = base(host, false);
            assert!(url.starts_with("https://") && fallback, "{host}: {url}");
        }
        // Other hosts: https only, unless asked.
        for host in [
            "registry.example.com",
            "10.0.0.1:5000",
            "[::2]:5000",
            "localhost.example.com",
            "docker.io",
        ] {
            assert!(!base(host, false).1, "{host}");
            assert!(base(host, false).0.starts_with("https://"), "{host}");
            let (url, fallback) = base(host, true);
            assert!(url.starts_with("http://") && !fallback, "{host}: {url}");
        }
        assert_eq!(base("r.example:443", true).0, "http://r.example:443/");
        // An explicit scheme is used as given.
        assert_eq!(
            base("https://127.0.0.1:5000", false),
            ("https://127.0.0.1:5000/".into(), false)
        );
        assert_eq!(
            base("https://127.0.0.1:5000", true),
            ("https://127.0.0.1:5000/".into(), false)
        );
        assert_eq!(
            base("http://r.example", false),
            ("http://r.example/".into(), false)
        );
        assert!(registry_base("ftp://x", true).is_err());
        assert!(registry_base("", true).is_err());
    }

    #[test]
    fn registry_urls() {
        let ok = |s: &str| parse_registry_url(s).unwrap().to_string();
        assert_eq!(ok("registry.example.com"), "https://registry.example.com/");
        assert_eq!(ok("localhost:5000"), "https://localhost:5000/");
        assert_eq!(ok("http://127.0.0.1:5000"), "http://127.0.0.1:5000/");
        assert_eq!(ok("https://r.example/v2/"), "https://r.example/");
        assert_eq!(ok("https://r.example/mirror/"), "https://r.example/mirror/");
        assert_eq!(ok("docker.io"), "https://registry-1.docker.io/");
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://u:p@host",
            "https://host/?q=1",
            "http://[::1",
            "https://host#frag",
        ] {
            let e = parse_registry_url(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
