//! Which addresses are "internal": loopback, private, link-local, shared
//! (CGNAT), unique-local or unspecified. A registry on the public internet
//! has no business sending the client there (a token realm, a redirect, a
//! next page), since that is where a cloud metadata service or an admin
//! interface listens.

use std::net::IpAddr;

use url::{Host, Url};

/// Whether `ip` is an internal address.
///
/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
pub(crate) fn is_internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (b & 0xc0) == 64) // shared address space 100.64/10
                || a == 0 // "this network" 0/8
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
        }
    }
}

/// Whether a host name is internal by its name alone (`localhost` and its
/// subdomains, RFC 6761).
pub(crate) fn is_internal_name(name: &str) -> bool {
    let d = name.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// Whether a URL's host is internal without looking it up: an internal IP
/// literal or an internal name. Names that need DNS are judged by the
/// resolver, on the addresses it connects to.
pub(crate) fn is_internal_literal(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => is_internal_ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_internal_ip(IpAddr::V6(ip)),
        Some(Host::Domain(d)) => is_internal_name(d),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal(s: &str) -> bool {
        is_internal_ip(s.parse().unwrap())
    }

    #[test]
    fn each_side_of_each_line() {
        // (inside, just outside) pairs for every range.
        for (inside, outside) in [
            ("127.0.0.1", "128.0.0.1"),
            ("127.255.255.255", "126.255.255.255"),
            ("10.0.0.0", "11.0.0.0"),
            ("10.255.255.255", "9.255.255.255"),
            ("172.16.0.0", "172.15.255.255"),
            ("172.31.255.255", "172.32.0.0"),
            ("192.168.0.0", "192.169.0.0"),
            ("192.168.255.255", "192.167.255.255"),
            ("169.254.169.254", "169.255.0.0"),
            ("169.254.0.0", "169.253.255.255"),
            ("100.64.0.0", "100.63.255.255"),
            ("100.127.255.255", "100.128.0.0"),
            ("0.0.0.0", "1.0.0.0"),
            ("0.1.2.3", "1.1.1.1"),
            ("::1", "::2"),
            ("fc00::1", "fe00::1"),
            ("fdff:ffff::1", "fbff::1"),
            ("fe80::1", "fec0::1"),
            ("febf:ffff::1", "fe7f::1"),
            ("::ffff:127.0.0.1", "::ffff:8.8.8.8"),
            ("::ffff:10.1.2.3", "::ffff:11.1.2.3"),
        ] {
            assert!(internal(inside), "{inside} is internal");
            assert!(!internal(outside), "{outside} is public");
        }
        assert!(internal("::"), ":: is unspecified");
        assert!(internal("255.255.255.255"));
        for public in ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "2001:db8::1"] {
            assert!(!internal(public), "{public}");
        }
    }

    #[test]
    fn names_and_literals() {
        assert!(is_internal_name("localhost"));
        assert!(is_internal_name("LOCALHOST."));
        assert!(is_internal_name("a.localhost"));
        assert!(!is_internal_name("localhost.example"));
        assert!(!is_internal_name("notlocalhost"));
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_internal_literal(&u("https://[::1]:5000/")));
        assert!(is_internal_literal(&u("https://10.0.0.1/")));
        assert!(!is_internal_literal(&u("https://8.8.8.8/")));
        assert!(!is_internal_literal(&u(
            "https://metadata.google.internal/"
        )));
    }
}
