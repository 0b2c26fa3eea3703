//! Whether a token realm named by a challenge may be contacted.
//!
//! A registry names the URL we send credentials to, so a hostile or
//! compromised one could aim them anywhere: at plain http, or at services
//! on the client's own network. We refuse both unless the registry itself is
//! already there.

use std::net::IpAddr;

use url::{Host, Url};

use crate::{Error, Result};

/// Checks `realm` against the registry it came from.
pub(crate) fn check_realm(registry: &Url, realm: &Url, sends_credentials: bool) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::auth(
            None,
            format!(
                "refusing token realm {}://{}{}: {why}",
                realm.scheme(),
                realm.host_str().unwrap_or(""),
                realm.path()
            ),
        ))
    };
    match realm.scheme() {
        "https" => {}
        "http" if registry.scheme() == "http" => {}
        "http" if !sends_credentials => {}
        "http" => {
            return refuse("credentials are only sent over https to a registry reached over https")
        }
        _ => return refuse("the realm is not an http(s) URL"),
    }
    if realm.host_str().is_none_or(str::is_empty) {
        return refuse("the realm has no host");
    }
    if is_internal(realm) && !is_internal(registry) {
        return refuse("the realm is on a loopback or private address but the registry is not");
    }
    Ok(())
}

/// Loopback, private, link-local or unspecified: addresses a public
/// registry has no business sending us to.
fn is_internal(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => internal_ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => internal_ip(IpAddr::V6(ip)),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

fn internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // CGNAT 100.64/10
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn https_realms_on_public_hosts_pass() {
        check_realm(
            &u("https://r.example/"),
            &u("https://auth.example/token"),
            true,
        )
        .unwrap();
        check_realm(
            &u("http://r.example/"),
            &u("http://auth.example/token"),
            true,
        )
        .unwrap();
    }

    #[test]
    fn http_realm_for_https_registry_only_without_credentials() {
        let e =
            check_realm(&u("https://r.example/"), &u("http://auth.example/t"), true).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Auth);
        assert!(e.to_string().contains("only sent over https"), "{e}");
        check_realm(&u("https://r.example/"), &u("http://auth.example/t"), false).unwrap();
    }

    #[test]
    fn internal_realms_need_an_internal_registry() {
        for realm in [
            "https://127.0.0.1/t",
            "https://localhost:8080/t",
            "https://10.1.2.3/t",
            "https://192.168.0.1/t",
            "https://169.254.169.254/latest",
            "https://[::1]/t",
            "https://[fd00::1]/t",
            "https://[::ffff:127.0.0.1]/t",
        ] {
            let e = check_realm(&u("https://r.example/"), &u(realm), false).unwrap_err();
            assert!(
                e.to_string().contains("loopback or private"),
                "{realm}: {e}"
            );
            check_realm(&u("http://127.0.0.1:5000/"), &u(realm), true).unwrap();
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(check_realm(&u("https://r.example/"), &u("file:///etc/passwd"), false).is_err());
        assert!(check_realm(&u("https://r.example/"), &u("ftp://a.example/t"), false).is_err());
    }
}
