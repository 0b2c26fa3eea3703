//! Whether a token realm named by a challenge may be contacted.
//!
//! A registry names the URL we send credentials to, so a hostile or
//! compromised one could aim them anywhere: at plain http, or at services
//! on the client's own network. We refuse both unless the registry itself is
//! already there.

use url::Url;

use crate::http::address::is_internal_literal;
use crate::text::redact_url;
use crate::{Error, Result};

/// Checks `realm` against the registry it came from, before anything is
/// sent to it. A realm named by a host name is checked again, on the
/// addresses it resolves to, when it is connected to (`http::resolve`).
pub(crate) fn check_realm(registry: &Url, realm: &Url, sends_credentials: bool) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::auth(
            None,
            format!("refusing token realm {}: {why}", redact_url(realm)),
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
    if is_internal_literal(realm) && !is_internal_literal(registry) {
        return refuse("the realm is on a loopback or private address but the registry is not");
    }
    Ok(())
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
    fn public_realms_for_public_registries_pass_on_each_side_of_the_line() {
        // Just outside each internal range: public, so allowed.
        for realm in [
            "https://8.8.8.8/t",
            "https://1.0.0.0/t",
            "https://100.128.0.1/t",
            "https://100.63.255.255/t",
            "https://172.32.0.1/t",
            "https://[fec0::1]/t",
            "https://[2606:4700::1111]/t",
        ] {
            check_realm(&u("https://r.example/"), &u(realm), true)
                .unwrap_or_else(|e| panic!("{realm}: {e}"));
        }
        // Just inside: refused.
        for realm in [
            "https://0.0.0.0/t",
            "https://100.64.0.1/t",
            "https://100.127.255.255/t",
            "https://172.31.0.1/t",
            "https://[fe80::1]/t",
            "https://[febf::1]/t",
        ] {
            let e = check_realm(&u("https://r.example/"), &u(realm), true).unwrap_err();
            assert!(
                e.to_string().contains("loopback or private"),
                "{realm}: {e}"
            );
        }
    }

    #[test]
    fn the_realm_is_shown_without_query_or_userinfo() {
        let e = check_realm(
            &u("https://r.example/"),
            &u("ftp://u:p@a.example/t?account=alice"),
            true,
        )
        .unwrap_err();
        let s = e.to_string();
        assert!(!s.contains("alice") && !s.contains("u:p"), "{s}");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(check_realm(&u("https://r.example/"), &u("file:///etc/passwd"), false).is_err());
        assert!(check_realm(&u("https://r.example/"), &u("ftp://a.example/t"), false).is_err());
    }
}
