//! Which proxy, if any, carries a request: the conventions of curl and Go's
//! `httpproxy`, so that a client behaves like the tools next to it.
//!
//! - `HTTP_PROXY` carries plain-http URLs, `HTTPS_PROXY` https ones (each
//!   also in lower case; the upper-case form wins, as in Go). `ALL_PROXY`
//!   is the fallback for both, as in curl. When `REQUEST_METHOD` is set (a
//!   CGI program) `HTTP_PROXY` is ignored: a request's `Proxy:` header would
//!   otherwise choose the proxy ("httpoxy").
//! - `NO_PROXY` (or `no_proxy`): comma-separated; `*` for every host; an IP
//!   address or a CIDR range for IP literals; a domain name for itself and
//!   its subdomains, `.example.com` or `*.example.com` for subdomains only;
//!   any entry may carry a `:port`.
//! - Loopback (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`) never goes
//!   through a proxy, as in Go.
//! - A proxy URL without a scheme is `http://`; `https://` proxies are
//!   spoken to over TLS. Other schemes (SOCKS) are not supported and say so.
//! - The builder can name the proxy itself (for every host but loopback;
//!   the environment is then not read) or turn proxies off.
//!
//! ureq tunnels every request through the proxy with `CONNECT`, plain http
//! included, and lets the proxy resolve the target's name.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use crate::config::ProxySetting;
use crate::text::quote;
use crate::{Error, Result};

/// One proxy, ready for ureq, with what an error message may show of it.
#[derive(Clone)]
pub(crate) struct ProxyTarget {
    pub(crate) proxy: ureq::Proxy,
    /// `scheme://host:port`, never the credentials.
    pub(crate) shown: String,
    /// Where it was set: `HTTPS_PROXY`, `the builder's proxy`, ….
    pub(crate) source: String,
    /// Host (lower case, no brackets) and port, for the resolver's
    /// exemption from the address rule.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl fmt::Debug for ProxyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.shown, self.source)
    }
}

impl fmt::Display for ProxyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy {} (from {})", self.shown, self.source)
    }
}

/// A proxy setting as read: usable, or the reason it is not (told when a
/// request would use it, so that a bad `ALL_PROXY` does not break a client
/// that only talks to loopback).
type Slot = Option<std::result::Result<ProxyTarget, String>>;

/// The proxies of one client, decided once when it is built.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proxies {
    http: Slot,
    https: Slot,
    no_proxy: Vec<NoProxyEntry>,
    /// Tests send loopback through the proxy too.
    loopback_too: bool,
}

impl Proxies {
    /// Proxies from a setting; `env` reads an environment variable (tests
    /// pass a map instead of the process environment).
    pub(crate) fn new(
        setting: &ProxySetting,
        loopback_too: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Proxies> {
        let mut proxies = Proxies {
            loopback_too,
            ..Proxies::default()
        };
        match setting {
            ProxySetting::Off => {}
            ProxySetting::Url(url) => {
                // The caller's own value: a bad one fails the build.
                let target =
                    parse_proxy(url, "the builder's proxy setting").map_err(Error::invalid)?;
                proxies.http = Some(Ok(target.clone()));
                proxies.https = Some(Ok(target));
            }
            ProxySetting::FromEnv => {
                let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
                let pick = |names: &[&str]| -> Slot {
                    names.iter().find_map(|name| {
                        let value = get(name)?;
                        Some(parse_proxy(&value, name))
                    })
                };
                let cgi = get("REQUEST_METHOD").is_some();
                proxies.http = if cgi {
                    pick(&["http_proxy", "ALL_PROXY", "all_proxy"])
                } else {
                    pick(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
                };
                proxies.https = pick(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]);
                if let Some(list) = get("NO_PROXY").or_else(|| get("no_proxy")) {
                    proxies.no_proxy = list.split(',').filter_map(NoProxyEntry::parse).collect();
                }
            }
        }
        Ok(proxies)
    }

    /// Proxies that fail every request they would carry, with this reason
    /// (a setting that could not be read).
    pub(crate) fn broken(why: String) -> Proxies {
        Proxies {
            http: Some(Err(why.clone())),
            https: Some(Err(why)),
            ..Proxies::default()
        }
    }

    /// Every proxy a request may go through (the resolver lets them be
    /// anywhere, a corporate proxy on 10.x included).
    pub(crate) fn targets(&self) -> Vec<(String, u16)> {
        [&self.http, &self.https]
            .into_iter()
            .filter_map(|slot| match slot {
                Some(Ok(t)) => Some((t.host.clone(), t.port)),
                _ => None,
            })
            .collect()
    }

    /// The proxy for `url`: `None` for a direct connection, an error when
    /// the proxy that applies is unusable.
    pub(crate) fn for_url(&self, url: &Url) -> Result<Option<&ProxyTarget>> {
        let slot = match url.scheme() {
            "http" => &self.http,
            "https" => &self.https,
            _ => return Ok(None),
        };
        let Some(slot) = slot else { return Ok(None) };
        let Some(host) = url.host() else {
            return Ok(None);
        };
        let port = url.port_or_known_default().unwrap_or(0);
        if !self.loopback_too && is_loopback(&host) {
            return Ok(None);
        }
        if self.no_proxy.iter().any(|e| e.matches(&host, port)) {
            return Ok(None);
        }
        match slot {
            Ok(target) => Ok(Some(target)),
            Err(why) => Err(Error::invalid(why.clone())),
        }
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Parses a proxy URL; the error names where it came from, never its
/// credentials.
fn parse_proxy(value: &str, source: &str) -> std::result::Result<ProxyTarget, String> {
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let bad = |why: &str| {
        let shown = Url::parse(&with_scheme)
            .map(|u| shown(&u))
            .unwrap_or_else(|_| "a value that is not a URL".to_string());
        format!("{source}: proxy {shown} cannot be used: {why}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(bad(&format!(
                "scheme {} is not supported (use http:// or https://)",
                quote(other)
            )))
        }
    }
    let host = match url.host() {
        Some(Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(bad("it has no host")),
    };
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a proxy URL has no path, query or fragment"));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let proxy = ureq::Proxy::new(url.as_str()).map_err(|e| bad(&e.to_string()))?;
    Ok(ProxyTarget {
        proxy,
        shown: shown(&url),
        source: source.to_string(),
        host,
        port,
    })
}

/// `scheme://host:port` of a proxy URL.
fn shown(url: &Url) -> String {
    let host = match url.host() {
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// One `NO_PROXY` entry, as Go's `httpproxy` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyEntry {
    All,
    /// An address range (a single address is a full-length prefix).
    Net {
        net: IpAddr,
        bits: u8,
        port: Option<u16>,
    },
    /// `suffix` starts with a dot; `exact_too` also matches the name itself.
    Domain {
        suffix: String,
        exact_too: bool,
        port: Option<u16>,
    },
}

impl NoProxyEntry {
    fn parse(entry: &str) -> Option<NoProxyEntry> {
        let entry = entry.trim().to_ascii_lowercase();
        if entry.is_empty() {
            return None;
        }
        if entry == "*" {
            return Some(NoProxyEntry::All);
        }
        if let Some((addr, bits)) = entry.split_once('/') {
            let net: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            return (bits <= max).then_some(NoProxyEntry::Net {
                net,
                bits,
                port: None,
            });
        }
        if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            return Some(NoProxyEntry::Net {
                net: ip,
                bits,
                port: None,
            });
        }
        // host:port or [v6]:port
        let (host, port) = match entry.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                (h.to_string(), Some(p.parse::<u16>().ok()?))
            }
            _ => (entry.clone(), None),
        };
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            return Some(NoProxyEntry::Net {
                net: ip,
                bits,
                port,
            });
        }
        let host = host.trim_end_matches('.');
        let host = host.strip_prefix('*').unwrap_or(host);
        if host.is_empty() || host == "." {
            return None;
        }
        Some(match host.strip_prefix('.') {
            Some(_) => NoProxyEntry::Domain {
                suffix: host.to_string(),
                exact_too: false,
                port,
            },
            None => NoProxyEntry::Domain {
                suffix: format!(".{host}"),
                exact_too: true,
                port,
            },
        })
    }

    fn matches(&self, host: &Host<&str>, port: u16) -> bool {
        match self {
            NoProxyEntry::All => true,
            NoProxyEntry::Net { net, bits, port: p } => {
                let ip = match host {
                    Host::Ipv4(ip) => IpAddr::V4(*ip),
                    Host::Ipv6(ip) => IpAddr::V6(*ip),
                    Host::Domain(_) => return false,
                };
                p.is_none_or(|p| p == port) && in_net(ip, *net, *bits)
            }
            NoProxyEntry::Domain {
                suffix,
                exact_too,
                port: p,
            } => {
                let Host::Domain(name) = host else {
                    return false;
                };
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let hit = name.ends_with(suffix.as_str()) || (*exact_too && name == suffix[1..]);
                hit && p.is_none_or(|p| p == port)
            }
        }
    }
}

/// Whether `ip` is in `net/bits`.
fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, len) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (
            u128::from(u32::from(a)) << 96,
            u128::from(u32::from(b)) << 96,
            32,
        ),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let bits = u32::from(bits).min(len);
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - bits);
    (ip & mask) == (net & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Proxies {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::new(&ProxySetting::FromEnv, false, &|k| map.get(k).cloned()).unwrap()
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        p.for_url(&Url::parse(url).unwrap())
            .unwrap()
            .map(|t| format!("{} {}", t.shown, t.source))
    }

    #[test]
    fn each_scheme_has_its_variable() {
        let p = env(&[
            ("HTTPS_PROXY", "http://secure.proxy:3128"),
            ("HTTP_PROXY", "plain.proxy:8080"),
        ]);
        assert_eq!(
            via(&p, "https://r.example/v2/").as_deref(),
            Some("http://secure.proxy:3128 HTTPS_PROXY")
        );
        assert_eq!(
            via(&p, "http://r.example/v2/").as_deref(),
            Some("http://plain.proxy:8080 HTTP_PROXY")
        );
        // HTTPS_PROXY alone does not carry plain http.
        let p = env(&[("HTTPS_PROXY", "http://secure.proxy:3128")]);
        assert_eq!(via(&p, "http://r.example/v2/"), None);
        // Lower case works; upper case wins.
        let p = env(&[
            ("https_proxy", "http://low:1"),
            ("http_proxy", "http://lowh:2"),
        ]);
        assert_eq!(
            via(&p, "https://r.example/").as_deref(),
            Some("http://low:1 https_proxy")
        );
        assert_eq!(
            via(&p, "http://r.example/").as_deref(),
            Some("http://lowh:2 http_proxy")
        );
        let p = env(&[
            ("https_proxy", "http://low:1"),
            ("HTTPS_PROXY", "http://up:1"),
        ]);
        assert_eq!(
            via(&p, "https://r.example/").as_deref(),
            Some("http://up:1 HTTPS_PROXY")
        );
        // ALL_PROXY is the fallback; an empty value counts as unset.
        let p = env(&[("ALL_PROXY", "http://all:9"), ("HTTP_PROXY", "")]);
        assert_eq!(
            via(&p, "http://r.example/").as_deref(),
            Some("http://all:9 ALL_PROXY")
        );
        assert_eq!(
            via(&p, "https://r.example/").as_deref(),
            Some("http://all:9 ALL_PROXY")
        );
        // A CGI program ignores HTTP_PROXY (httpoxy), not http_proxy.
        let p = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]);
        assert_eq!(via(&p, "http://r.example/"), None);
    }

    #[test]
    fn loopback_is_never_proxied() {
        let p = env(&[("HTTPS_PROXY", "http://p:1"), ("HTTP_PROXY", "http://p:1")]);
        for url in [
            "http://127.0.0.1:5000/",
            "https://127.9.9.9/",
            "http://[::1]:5000/",
            "https://localhost:5443/",
            "http://LOCALHOST./",
            "http://reg.localhost:5000/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert_eq!(via(&p, url), None, "{url}");
        }
        assert!(via(&p, "http://10.0.0.1/").is_some());
        assert!(via(&p, "http://localhost.example/").is_some());
        let forced =
            Proxies::new(&ProxySetting::Url("http://p:1".into()), true, &|_| None).unwrap();
        assert!(via(&forced, "http://127.0.0.1:5000/").is_some());
    }

    #[test]
    fn no_proxy_as_go_reads_it() {
        let p = env(&[
            ("HTTPS_PROXY", "http://p:1"),
            (
                "no_proxy",
                " example.com, .sub.test,*.star.test, 10.0.0.0/8 ,192.168.1.1, [2001:db8::1], ports.test:8443, bad/99 ,",
            ),
        ]);
        let direct = [
            "https://example.com/",
            "https://a.example.com/",
            "https://EXAMPLE.COM./",
            "https://x.sub.test/",
            "https://x.star.test/",
            "https://10.2.3.4/",
            "https://192.168.1.1/",
            "https://[2001:db8::1]/",
            "https://ports.test:8443/",
        ];
        for url in direct {
            assert_eq!(via(&p, url), None, "{url}");
        }
        let proxied = [
            "https://notexample.com/",
            "https://sub.test/",
            "https://star.test/",
            "https://11.0.0.1/",
            "https://192.168.1.2/",
            "https://ports.test/",
            "https://example.org/",
        ];
        for url in proxied {
            assert!(via(&p, url).is_some(), "{url}");
        }
        let all = env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")]);
        assert_eq!(via(&all, "https://anything.example/"), None);
    }

    #[test]
    fn bad_proxies_are_named_without_secrets() {
        let p = env(&[("HTTPS_PROXY", "socks5://user:s3cret@sock:1080")]);
        let e = p
            .for_url(&Url::parse("https://r.example/").unwrap())
            .unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("HTTPS_PROXY") && s.contains("socks5://sock:1080"),
            "{s}"
        );
        assert!(!s.contains("s3cret"), "{s}");
        // Loopback is not affected by a broken variable.
        assert!(p
            .for_url(&Url::parse("https://127.0.0.1/").unwrap())
            .unwrap()
            .is_none());
        // The builder's own value fails the build.
        let e = Proxies::new(&ProxySetting::Url("ftp://x".into()), false, &|_| None).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{e}");
        // Credentials in a proxy URL are kept for ureq, not shown.
        let p = Proxies::new(
            &ProxySetting::Url("http://u:pw%40x@proxy.corp:3128".into()),
            false,
            &|_| None,
        )
        .unwrap();
        let t = p
            .for_url(&Url::parse("https://r.example/").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(t.proxy.password(), Some("pw@x"));
        assert!(!format!("{t} {t:?} {p:?}").contains("pw"), "{t:?}");
        assert_eq!(p.targets(), vec![("proxy.corp".to_string(), 3128); 2]);
    }
}
