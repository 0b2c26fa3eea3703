//! Name resolution for the agent, with the address rule applied to what
//! is actually connected to.
//!
//! The registry's own host is always allowed, wherever it is. Any other
//! host (a token realm, a redirect target, a next page) is refused when it
//! resolves to an internal address (`address.rs`) while the registry
//! itself is not internal: a public registry must not steer the client, or
//! the credentials it sends a realm, into the client's own network. The
//! rule is applied to every address a name resolves to, in the resolver
//! ureq connects with, so there is no second lookup that could answer
//! differently (DNS rebinding).
//!
//! The proxies the client was configured with are exempt: a corporate
//! proxy on 10.x is normal, and the user, not a registry, named it. A
//! request that goes through a proxy is not resolved here (the proxy
//! resolves its target), so for it the rule is applied to what can be
//! judged without DNS: an IP literal ([`PolicyResolver::check_proxied`]).
//!
//! IP literals are never looked up, and answers are kept for a short while
//! so that a request on a pooled connection costs no lookup.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use url::Url;

use super::address::{is_internal_ip, is_internal_name};

/// How long a lookup's answer is used again.
const TTL: Duration = Duration::from_secs(30);
/// Names remembered at most (a registry naming a new host on every
/// redirect must not grow the client).
const MAX_NAMES: usize = 64;
/// Addresses ureq takes for one name.
const MAX_ADDRS: usize = 16;

/// Refusal to connect to an internal address for a public registry; the
/// `source()` of the I/O error ureq passes up.
#[derive(Debug)]
pub(crate) struct AddressRefused {
    host: String,
    addr: IpAddr,
}

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing to connect to {} ({}): a loopback or private address, named by a registry that is not on one",
            self.host, self.addr
        )
    }
}

impl std::error::Error for AddressRefused {}

impl AddressRefused {
    /// The refusal as the I/O error ureq passes up from a resolver.
    fn error(host: String, addr: IpAddr) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            AddressRefused { host, addr },
        )
    }
}

/// Why `host`, resolved to `addrs`, is internal: its first internal
/// address, or for a name that is internal by itself (`localhost`) its first
/// address at all (loopback when it resolved to none).
fn internal_address(host: &str, addrs: &[SocketAddr]) -> Option<IpAddr> {
    let by_address = addrs
        .iter()
        .map(SocketAddr::ip)
        .find(|ip| is_internal_ip(*ip));
    by_address.or_else(|| {
        is_internal_name(host).then(|| {
            addrs
                .first()
                .map_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), SocketAddr::ip)
        })
    })
}

/// A lookup's answer and when it was made.
type Looked = (Instant, Vec<SocketAddr>);

const UNKNOWN: u8 = 0;
const INTERNAL: u8 = 1;
const PUBLIC: u8 = 2;

pub(crate) struct PolicyResolver {
    /// The registry's host, lower case, without IPv6 brackets.
    registry_host: String,
    registry_port: u16,
    /// Whether the registry is internal: learnt when its name is resolved.
    registry: AtomicU8,
    /// Tests make a loopback registry count as public.
    registry_forced_public: bool,
    cache: Mutex<HashMap<(String, u16), Looked>>,
    /// Names answered without DNS.
    overrides: Vec<(String, IpAddr)>,
    /// The configured proxies (host, port): allowed wherever they are.
    proxies: Vec<(String, u16)>,
}

impl fmt::Debug for PolicyResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyResolver")
            .field("registry_host", &self.registry_host)
            .finish_non_exhaustive()
    }
}

fn bare_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

impl PolicyResolver {
    pub(crate) fn new(
        registry: &Url,
        forced_public: bool,
        overrides: Vec<(String, IpAddr)>,
        proxies: Vec<(String, u16)>,
    ) -> PolicyResolver {
        PolicyResolver {
            registry_host: bare_host(registry.host_str().unwrap_or("")),
            registry_port: registry.port_or_known_default().unwrap_or(443),
            registry: AtomicU8::new(UNKNOWN),
            registry_forced_public: forced_public,
            cache: Mutex::new(HashMap::new()),
            overrides,
            proxies: proxies
                .into_iter()
                .map(|(h, p)| (bare_host(&h), p))
                .collect(),
        }
    }

    /// The address rule for a request that a proxy carries: its target is
    /// not resolved here, so only an IP literal can be judged.
    pub(crate) fn check_proxied(&self, url: &Url, timeout: Duration) -> std::io::Result<()> {
        let host = bare_host(url.host_str().unwrap_or(""));
        let port = url.port_or_known_default().unwrap_or(443);
        if host == self.registry_host && port == self.registry_port {
            return Ok(());
        }
        let Ok(ip) = host.parse::<IpAddr>() else {
            return Ok(());
        };
        if is_internal_ip(ip) && !self.registry_is_internal(timeout) {
            return Err(AddressRefused::error(host, ip));
        }
        Ok(())
    }

    /// The addresses of `host:port`: a literal as it is, a name from the
    /// short-lived cache or a lookup bounded by `timeout`.
    fn lookup(&self, host: &str, port: u16, timeout: Duration) -> std::io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let pinned: Vec<SocketAddr> = self
            .overrides
            .iter()
            .filter(|(name, _)| name == host)
            .map(|(_, ip)| SocketAddr::new(*ip, port))
            .collect();
        if !pinned.is_empty() {
            return Ok(pinned);
        }
        let key = (host.to_string(), port);
        let now = Instant::now();
        if let Some((at, addrs)) = self.cache.lock().get(&key) {
            if now.duration_since(*at) < TTL {
                return Ok(addrs.clone());
            }
        }
        let addrs = lookup_with_timeout(host, port, timeout)?;
        let mut cache = self.cache.lock();
        if cache.len() >= MAX_NAMES {
            cache.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            if cache.len() >= MAX_NAMES {
                cache.clear();
            }
        }
        cache.insert(key, (now, addrs.clone()));
        Ok(addrs)
    }

    /// Whether the registry is internal, looking it up if not known yet.
    fn registry_is_internal(&self, timeout: Duration) -> bool {
        if self.registry_forced_public {
            return false;
        }
        match self.registry.load(Ordering::Relaxed) {
            INTERNAL => true,
            PUBLIC => false,
            _ => {
                let internal = is_internal_name(&self.registry_host)
                    || self
                        .lookup(&self.registry_host, self.registry_port, timeout)
                        .map(|a| internal_address(&self.registry_host, &a).is_some())
                        // Unknown: the rule cannot be applied against it.
                        .unwrap_or(true);
                self.learn(internal);
                internal
            }
        }
    }

    fn learn(&self, internal: bool) {
        let v = if internal { INTERNAL } else { PUBLIC };
        self.registry.store(v, Ordering::Relaxed);
    }
}

impl Resolver for PolicyResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(ureq::Error::BadUri(format!("{uri} has no host")));
        };
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let host = bare_host(authority.host());
        let limit: Duration = *timeout.after;
        let addrs = self.lookup(&host, port, limit)?;
        if self.proxies.iter().any(|(h, p)| *h == host && *p == port) {
            // A proxy the user configured: allowed wherever it is.
        } else if host == self.registry_host && port == self.registry_port {
            if !self.registry_forced_public && self.registry.load(Ordering::Relaxed) == UNKNOWN {
                self.learn(internal_address(&host, &addrs).is_some());
            }
        } else if !self.registry_is_internal(limit) {
            if let Some(addr) = internal_address(&host, &addrs) {
                return Err(ureq::Error::Io(AddressRefused::error(host, addr)));
            }
        }
        let family = config.ip_family();
        let mut out = self.empty();
        for addr in family.keep_wanted(addrs.into_iter()).take(MAX_ADDRS) {
            out.push(addr);
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}

/// The resolver shared between the agent and [`super::Http`] (which asks
/// it about requests a proxy carries).
#[derive(Debug, Clone)]
pub(crate) struct SharedResolver(pub(crate) Arc<PolicyResolver>);

impl Resolver for SharedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve(uri, config, timeout)
    }
}

/// A system lookup that gives up after `timeout`. The lookup itself cannot
/// be interrupted, so it runs on its own thread; it is only needed for a
/// name that is not cached.
fn lookup_with_timeout(
    host: &str,
    port: u16,
    timeout: Duration,
) -> std::io::Result<Vec<SocketAddr>> {
    let target = format!("{host}:{port}");
    if timeout.is_zero() || timeout >= Duration::from_secs(3600 * 24 * 365) {
        return Ok(target.to_socket_addrs()?.collect());
    }
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("registry-client-dns".into())
        .spawn(move || {
            let _ = tx.send(target.to_socket_addrs().map(|a| a.collect::<Vec<_>>()));
        })?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("looking up {host} took longer than {timeout:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(r: &PolicyResolver, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = url.parse().unwrap();
        let config = ureq::config::Config::default();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_secs(5),
            reason: ureq::Timeout::Resolve,
            ..NextTimeout::default()
        };
        r.resolve(&uri, &config, timeout).map(|a| a.to_vec())
    }

    #[test]
    fn literals_are_not_looked_up_and_the_registry_is_always_allowed() {
        let r = PolicyResolver::new(
            &Url::parse("http://127.0.0.1:5000/").unwrap(),
            false,
            vec![],
            vec![],
        );
        let a = resolve(&r, "http://127.0.0.1:5000/v2/").unwrap();
        assert_eq!(a, vec!["127.0.0.1:5000".parse().unwrap()]);
        // An internal registry may send us anywhere internal.
        resolve(&r, "http://10.0.0.1:80/").unwrap();
        resolve(&r, "http://localhost:9/").unwrap();
    }

    #[test]
    fn a_public_registry_cannot_send_us_inside() {
        // A registry that counts as public (as a test can make a loopback
        // one count).
        let r = PolicyResolver::new(
            &Url::parse("http://127.0.0.1:5000/").unwrap(),
            true,
            vec![(
                "metadata.example.test".into(),
                "169.254.169.254".parse().unwrap(),
            )],
            vec![],
        );
        resolve(&r, "http://127.0.0.1:5000/v2/").unwrap();
        for inside in [
            "http://127.0.0.1:5001/",
            "http://10.1.2.3/",
            "http://[::1]:80/",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:5000/",
            // A public-looking name that DNS answers with an internal address.
            "http://metadata.example.test/",
        ] {
            let e = resolve(&r, inside).unwrap_err();
            let ureq::Error::Io(io) = e else {
                panic!("{inside}: {e}")
            };
            assert!(io.get_ref().unwrap().is::<AddressRefused>(), "{inside}");
        }
        resolve(&r, "http://8.8.8.8/").unwrap();
        resolve(&r, "https://[2606:4700::1111]/").unwrap();
    }

    #[test]
    fn a_configured_proxy_may_be_internal_and_proxied_literals_are_judged() {
        // A public registry (as a test makes a loopback one count), with a
        // corporate proxy on 10.x.
        let r = PolicyResolver::new(
            &Url::parse("https://127.0.0.1:5000/").unwrap(),
            true,
            vec![],
            vec![("10.20.30.40".into(), 3128), ("Proxy.Corp".into(), 8080)],
        );
        resolve(&r, "http://10.20.30.40:3128/").unwrap();
        // Another port of the same host is not the proxy.
        assert!(resolve(&r, "http://10.20.30.40:3129/").is_err());
        let t = Duration::from_secs(5);
        let refused = r
            .check_proxied(&Url::parse("http://169.254.169.254/x").unwrap(), t)
            .unwrap_err();
        assert!(refused.get_ref().unwrap().is::<AddressRefused>());
        r.check_proxied(&Url::parse("https://127.0.0.1:5000/v2/").unwrap(), t)
            .unwrap();
        r.check_proxied(&Url::parse("https://auth.example.com/token").unwrap(), t)
            .unwrap();
        r.check_proxied(&Url::parse("https://8.8.8.8/").unwrap(), t)
            .unwrap();
        // An internal registry may send us anywhere.
        let inside = PolicyResolver::new(
            &Url::parse("https://127.0.0.1:5000/").unwrap(),
            false,
            vec![],
            vec![],
        );
        inside
            .check_proxied(&Url::parse("http://10.1.1.1/").unwrap(), t)
            .unwrap();
    }

    #[test]
    fn answers_are_cached_and_bounded() {
        let r = PolicyResolver::new(
            &Url::parse("http://127.0.0.1:5000/").unwrap(),
            false,
            vec![],
            vec![],
        );
        for port in 0..(MAX_NAMES as u16 * 2) {
            resolve(&r, &format!("http://localhost:{}/", 1000 + port)).unwrap();
        }
        assert!(r.cache.lock().len() <= MAX_NAMES);
    }
}
