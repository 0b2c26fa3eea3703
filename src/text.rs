//! Text for messages: quoting what a caller or a server sent, and showing
//! URLs without what must not be shown. One copy of each, used everywhere an
//! error is built.

use url::Url;

/// Quotes caller or server supplied text for an error message: escaped, and
/// cut after 64 characters so that huge input never ends up in a message.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::from("\"");
    let mut chars = s.chars();
    for c in chars.by_ref().take(MAX) {
        out.extend(c.escape_debug());
    }
    out.push('"');
    if chars.next().is_some() {
        out.push_str(&format!("… ({} bytes)", s.len()));
    }
    out
}

/// Where to point a user: scheme, host, port and path; never userinfo,
/// query or fragment (a token endpoint's query could name an account, an
/// upload URL's query can carry a signature).
pub(crate) fn redact_url(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path());
    out
}

/// Why `value` cannot be sent as the value of an HTTP header, if it cannot:
/// control characters (CR and LF above all: header injection) and non-ASCII
/// are refused; an empty value too.
pub(crate) fn check_header_value(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if let Some(c) = value
        .chars()
        .find(|&c| c != ' ' && c != '\t' && !c.is_ascii_graphic())
    {
        return Err(format!(
            "{what} contains {} which cannot be sent in an HTTP header",
            c.escape_debug()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote("a\u{1b}b"), "\"a\\u{1b}b\"");
        let long = "x".repeat(100);
        let q = quote(&long);
        assert!(q.starts_with(&format!("\"{}\"", "x".repeat(64))), "{q}");
        assert!(q.ends_with("(100 bytes)"), "{q}");
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
        // cut by characters, counted in bytes
        let q = quote(&"é".repeat(1000));
        assert!(q.ends_with("… (2000 bytes)"), "{q}");
        assert!(q.chars().count() < 100);
        assert_eq!(quote(&"x".repeat(64)), format!("\"{}\"", "x".repeat(64)));
    }

    #[test]
    fn urls_lose_userinfo_and_query() {
        let u = Url::parse("https://u:p@h.example:8443/v2/t?scope=a&account=b#f").unwrap();
        assert_eq!(redact_url(&u), "https://h.example:8443/v2/t");
        let u = Url::parse("http://[::1]/x").unwrap();
        assert_eq!(redact_url(&u), "http://[::1]/x");
    }

    #[test]
    fn header_values() {
        assert!(check_header_value("user agent", "my-tool/1.0 (x)").is_ok());
        for bad in ["", "a\r\nX-Evil: 1", "a\nb", "a\u{0}b", "caf\u{e9}"] {
            assert!(check_header_value("user agent", bad).is_err(), "{bad:?}");
        }
    }
}
