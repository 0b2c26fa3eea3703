//! `WWW-Authenticate` challenges (RFC 7235), such as
//! `Bearer realm="https://auth.example/token",service="registry",scope="repository:x:pull"`.

use crate::auth::scope::{self, Scope};
use crate::header_syntax;
use crate::{Error, Result};

/// One authentication challenge.
///
/// ```text
/// use registry_client::auth::challenge;
/// let c = &challenge::parse(
///     r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
/// ).unwrap()[0];
/// assert_eq!(c.scheme, "bearer");
/// assert_eq!(c.realm(), Some("https://auth.docker.io/token"));
/// assert_eq!(c.service(), Some("registry.docker.io"));
/// assert_eq!(c.scope(), Some("repository:samalba/my-app:pull,push"));
/// assert_eq!(c.param("SERVICE"), c.service());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme, lowercased (`bearer`, `basic`, …).
    pub scheme: String,
    /// The auth parameters in order: lowercased name, unescaped value.
    pub params: Vec<(String, String)>,
    /// The token68 form (`Negotiate abc==`), when used instead of
    /// parameters.
    pub token68: Option<String>,
}

impl Challenge {
    /// The value of parameter `name` (case-insensitive); the first one if
    /// the server repeated it.
    ///
    /// ```text
    /// use registry_client::auth::challenge::parse;
    /// let c = &parse(r#"Basic realm="Registry Realm""#).unwrap()[0];
    /// assert_eq!(c.param("Realm"), Some("Registry Realm"));
    /// assert_eq!(c.param("service"), None);
    /// ```
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `realm` parameter: for Bearer, the token endpoint URL.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// The `service` parameter: the audience to ask a token for.
    pub fn service(&self) -> Option<&str> {
        self.param("service")
    }

    /// The raw `scope` parameter (a space-separated list of scopes).
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }

    /// The `error` parameter, such as `invalid_token` or
    /// `insufficient_scope`.
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }

    /// The `scope` parameter parsed with [`scope::parse_list`]; empty when
    /// absent.
    ///
    /// ```text
    /// use registry_client::auth::{challenge::parse, scope::Scope};
    /// let c = &parse(r#"Bearer realm="r",scope="repository:a:pull registry:catalog:*""#).unwrap()[0];
    /// assert_eq!(c.scopes().unwrap(), [Scope::pull("a"), Scope::catalog()]);
    /// ```
    pub fn scopes(&self) -> Result<Vec<Scope>> {
        scope::parse_list(self.scope().unwrap_or(""))
    }

    /// Whether the scheme is `bearer`.
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    /// Whether the scheme is `basic`.
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

fn is_token68_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

struct Parser<'a> {
    h: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, at: usize, why: &str) -> Error {
        Error::auth(
            None,
            format!(
                "malformed WWW-Authenticate header: {why} {}",
                header_syntax::excerpt(self.h, at)
            ),
        )
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) -> bool {
        let j = header_syntax::skip_ows(self.b, self.i);
        let moved = j > self.i;
        self.i = j;
        moved
    }

    /// The index after the whitespace and commas starting at `j`: empty
    /// list elements, which RFC 7230's `#rule` allows anywhere in a list.
    fn skip_empty_elements(&self, mut j: usize) -> usize {
        while j < self.b.len() && matches!(self.b[j], b' ' | b'\t' | b',') {
            j += 1;
        }
        j
    }

    /// Whether an auth-param (`token BWS "=" BWS value`) starts at `j`.
    fn param_starts_at(&self, j: usize) -> bool {
        let end = header_syntax::token_end(self.b, j);
        if end == j {
            return false;
        }
        let k = header_syntax::skip_ows(self.b, end);
        if self.b.get(k) != Some(&b'=') {
            return false;
        }
        // `abc==` is a token68, not a parameter `abc` with value `=`; so is
        // a trailing `abc=`.
        let v = header_syntax::skip_ows(self.b, k + 1);
        !matches!(self.b.get(v), None | Some(b'=') | Some(b','))
    }

    fn quoted(&mut self) -> Result<String> {
        let (value, next) =
            header_syntax::quoted_string(self.h, self.i).map_err(|e| self.err(e.at, e.why))?;
        self.i = next;
        Ok(value)
    }

    /// Parses `name BWS = BWS value` at the current position.
    fn param(&mut self) -> Result<(String, String)> {
        let start = self.i;
        let end = header_syntax::token_end(self.b, start);
        let name = self.h[start..end].to_ascii_lowercase();
        self.i = header_syntax::skip_ows(self.b, end);
        if self.peek() != Some(b'=') {
            return Err(self.err(self.i, "expected '=' after parameter name"));
        }
        self.i += 1;
        self.skip_ws();
        let value = if self.peek() == Some(b'"') {
            self.quoted()?
        } else {
            // Lenient: a bare value is anything up to whitespace or ','
            // (RFC 7235 says token; some servers send bare URLs).
            let vs = self.i;
            while let Some(c) = self.peek() {
                if matches!(c, b' ' | b'\t' | b',') {
                    break;
                }
                if c == b'"' || c.is_ascii_control() {
                    return Err(self.err(self.i, "unexpected character in parameter value"));
                }
                self.i += 1;
            }
            if self.i == vs {
                return Err(self.err(vs, &format!("parameter {name:?} has no value")));
            }
            // The same rule as in a quoted string: no control character,
            // C1 (U+0080..U+009F) included.
            if let Some((off, _)) = self.h[vs..self.i]
                .char_indices()
                .find(|(_, c)| c.is_control())
            {
                return Err(self.err(vs + off, "unexpected character in parameter value"));
            }
            self.h[vs..self.i].to_owned()
        };
        Ok((name, value))
    }

    fn challenges(mut self) -> Result<Vec<Challenge>> {
        let mut out = Vec::new();
        loop {
            self.i = self.skip_empty_elements(self.i);
            let Some(c) = self.peek() else { break };
            let start = self.i;
            let end = header_syntax::token_end(self.b, start);
            if end == start {
                let why = if c == b'=' {
                    "'=' without a parameter name".to_string()
                } else {
                    "expected an auth scheme".to_string()
                };
                return Err(self.err(start, &why));
            }
            if self.b.get(end) == Some(&b'=') {
                return Err(self.err(
                    start,
                    &format!(
                        "missing auth scheme before parameter {:?}",
                        &self.h[start..end]
                    ),
                ));
            }
            self.i = end;
            let mut challenge = Challenge {
                scheme: self.h[start..end].to_ascii_lowercase(),
                params: Vec::new(),
                token68: None,
            };
            let had_ws = self.skip_ws();
            match self.peek() {
                None => {
                    out.push(challenge);
                    break;
                }
                Some(b',') => {
                    // Empty list elements may open the parameter list
                    // (`scheme , realm=x`); otherwise the comma ends a
                    // challenge without parameters.
                    let j = self.skip_empty_elements(self.i);
                    if !self.param_starts_at(j) {
                        out.push(challenge);
                        continue;
                    }
                    self.i = j;
                }
                Some(_) if !had_ws => {
                    return Err(self.err(self.i, "unexpected character after auth scheme"));
                }
                Some(_) => {}
            }
            if self.param_starts_at(self.i) {
                loop {
                    let p = self.param()?;
                    challenge.params.push(p);
                    self.skip_ws();
                    match self.peek() {
                        None => break,
                        Some(b',') => {
                            self.i = self.skip_empty_elements(self.i);
                            if !self.param_starts_at(self.i) {
                                break; // end, or the next challenge
                            }
                        }
                        Some(_) => {
                            return Err(self.err(self.i, "expected ',' after a parameter"));
                        }
                    }
                }
            } else {
                let ts = self.i;
                while self.peek().is_some_and(is_token68_char) {
                    self.i += 1;
                }
                if self.i == ts {
                    let why = if self.peek() == Some(b'=') {
                        "'=' without a parameter name"
                    } else {
                        "expected parameters or a token68"
                    };
                    return Err(self.err(ts, why));
                }
                while self.peek() == Some(b'=') {
                    self.i += 1;
                }
                challenge.token68 = Some(self.h[ts..self.i].to_owned());
                self.skip_ws();
                if !matches!(self.peek(), None | Some(b',')) {
                    return Err(self.err(self.i, "expected ',' after a token68"));
                }
            }
            out.push(challenge);
        }
        Ok(out)
    }
}

/// Parses one `WWW-Authenticate` header value into its challenges.
///
/// Follows RFC 7235: several comma-separated challenges, case-insensitive
/// schemes and parameter names, quoted values with backslash escapes (which
/// may contain commas), optional whitespace, empty list elements (RFC 7230
/// `#rule`: `scheme , realm=x, ,`), and the token68 form. Bare
/// parameter values are accepted up to the next whitespace or comma. Empty
/// input gives an empty list. Malformed input gives [`Error::Auth`] with a
/// message starting `malformed WWW-Authenticate header:` (quoting at most
/// a short excerpt of a long header).
///
/// ```text
/// use registry_client::{auth::challenge::parse, ErrorKind};
/// let cs = parse(r#"Bearer realm="https://a/token",service="reg",scope="repository:x:pull", Basic realm="r""#).unwrap();
/// assert_eq!(cs.len(), 2);
/// assert_eq!(cs[1].scheme, "basic");
/// assert_eq!(parse(r#"Bearer realm="x"#).unwrap_err().kind(), ErrorKind::Auth);
/// ```
pub fn parse(header_value: &str) -> Result<Vec<Challenge>> {
    Parser {
        h: header_value,
        b: header_value.as_bytes(),
        i: 0,
    }
    .challenges()
}

/// Parses several `WWW-Authenticate` header lines; the challenges of all of
/// them, in order. Any malformed line fails the whole parse.
///
/// ```text
/// use registry_client::auth::challenge::parse_all;
/// let cs = parse_all([r#"Basic realm="r""#, r#"Bearer realm="https://a/token""#]).unwrap();
/// assert_eq!(cs.len(), 2);
/// assert!(cs[1].is_bearer());
/// ```
pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Challenge>> {
    let mut out = Vec::new();
    for v in values {
        out.extend(parse(v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn docker_hub() {
        let cs = parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        )
        .unwrap();
        assert_eq!(cs.len(), 1);
        let c = &cs[0];
        assert!(c.is_bearer() && !c.is_basic());
        assert_eq!(
            params(c),
            [
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:samalba/my-app:pull,push"),
            ]
        );
        assert_eq!(c.token68, None);
        assert_eq!(c.scopes().unwrap()[0].actions, ["pull", "push"]);
    }

    #[test]
    fn several_challenges() {
        let cs = parse(
            r#"Bearer realm="https://a/token",service="reg",scope="repository:x:pull", Basic realm="r""#,
        )
        .unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].scope(), Some("repository:x:pull"));
        assert_eq!(cs[1].scheme, "basic");
        assert_eq!(cs[1].realm(), Some("r"));
        assert!(cs[1].is_basic() && !cs[1].is_bearer());

        let cs = parse(r#"Negotiate, Basic realm="x", NTLM"#).unwrap();
        let schemes: Vec<&str> = cs.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["negotiate", "basic", "ntlm"]);
        assert!(cs[0].params.is_empty());
    }

    #[test]
    fn quoting_and_whitespace() {
        let cs = parse(
            "  BEARER   Realm = \"https://a/token?x=1,y=2\" ,\tService=reg ,, error=\"invalid_token\", error_description=\"say \\\"hi\\\" \\\\ ok\"  ",
        )
        .unwrap();
        assert_eq!(cs.len(), 1);
        let c = &cs[0];
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.realm(), Some("https://a/token?x=1,y=2"));
        assert_eq!(c.service(), Some("reg"));
        assert_eq!(c.error(), Some("invalid_token"));
        assert_eq!(c.param("error_description"), Some(r#"say "hi" \ ok"#));
        // empty quoted value, non-ASCII inside quotes
        let c = &parse(r#"Basic realm="", charset="ÜTF-8 ✓""#).unwrap()[0];
        assert_eq!(c.realm(), Some(""));
        assert_eq!(c.param("charset"), Some("ÜTF-8 ✓"));
    }

    #[test]
    fn bare_values() {
        let c = &parse("Bearer realm=https://auth.example/token,service=registry.example:5000")
            .unwrap()[0];
        assert_eq!(c.realm(), Some("https://auth.example/token"));
        assert_eq!(c.service(), Some("registry.example:5000"));
    }

    #[test]
    fn token68() {
        let cs = parse("Negotiate YIIC+wYJKoZIhvcSAQICAQBuggLqMIIC5qADAgEFoQMCAQ6iBwMFACAAAACjggEKYYIBBjCCAQKgAwIBBaEJGwdFWEFNUExFoh4wHKADAgECoRUwExsESFRUUBsLZXhhbXBsZS5jb20=, Basic realm=\"r\"").unwrap();
        assert_eq!(cs.len(), 2);
        assert!(cs[0].token68.as_deref().unwrap().ends_with("ZS5jb20="));
        assert!(cs[0].params.is_empty());
        let c = &parse("Custom abc==").unwrap()[0];
        assert_eq!(c.token68.as_deref(), Some("abc=="));
        let c = &parse("Custom abc=").unwrap()[0];
        assert_eq!(c.token68.as_deref(), Some("abc="));
        let c = &parse("Custom a/b+c~d").unwrap()[0];
        assert_eq!(c.token68.as_deref(), Some("a/b+c~d"));
    }

    #[test]
    fn empty_input() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse(" , ,").unwrap().is_empty());
        assert!(parse_all(Vec::<&str>::new()).unwrap().is_empty());
    }

    #[test]
    fn repeated_params_first_wins() {
        let c = &parse(r#"Bearer realm="a", realm="b""#).unwrap()[0];
        assert_eq!(c.realm(), Some("a"));
        assert_eq!(c.params.len(), 2);
    }

    /// Empty list elements (RFC 7230 `#rule`) around and between the
    /// parameters: `scheme , realm=fblthp, foo=bar,` (vectors of Dart's
    /// http_parser, which distribution and containerd also accept).
    #[test]
    fn empty_list_elements() {
        for h in [
            "scheme , realm=fblthp, foo=bar,",
            "scheme ,realm=fblthp,foo=bar",
            "scheme , , realm=fblthp ,, foo=bar , ,",
            "scheme realm=fblthp, , foo=bar",
            "scheme realm=fblthp, foo=bar, ,",
            "scheme,realm=fblthp, foo=bar",
            "  scheme\t \trealm\t = \tfblthp\t, \tfoo\t =\tbar\t",
        ] {
            let cs = parse(h).unwrap_or_else(|e| panic!("{h:?}: {e}"));
            assert_eq!(cs.len(), 1, "{h:?}");
            assert_eq!(cs[0].scheme, "scheme");
            assert_eq!(
                params(&cs[0]),
                [("realm", "fblthp"), ("foo", "bar")],
                "{h:?}"
            );
        }
        // an empty list element before the next challenge still ends this one
        let cs = parse("scheme1 , , scheme2 realm=x, , Basic , realm=y").unwrap();
        let schemes: Vec<&str> = cs.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["scheme1", "scheme2", "basic"]);
        assert!(cs[0].params.is_empty());
        assert_eq!(cs[1].realm(), Some("x"));
        assert_eq!(cs[2].realm(), Some("y"));
        let cs = parse("scheme1 realm=fblthp, foo=bar, scheme2 realm=asdfg, baz=bang").unwrap();
        assert_eq!(params(&cs[0]), [("realm", "fblthp"), ("foo", "bar")]);
        assert_eq!(params(&cs[1]), [("realm", "asdfg"), ("baz", "bang")]);
    }

    /// Vectors of distribution's and containerd's challenge parsers, and
    /// of Dart's http_parser where RFC 7235 agrees with it.
    #[test]
    fn reference_vectors() {
        let c = &parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",other=fun,slashed="he\"\l\lo""#,
        )
        .unwrap()[0];
        assert_eq!(c.realm(), Some("https://auth.example.com/token"));
        assert_eq!(c.service(), Some("registry.example.com"));
        assert_eq!(c.param("other"), Some("fun"));
        assert_eq!(c.param("slashed"), Some(r#"he"llo"#));

        let c = &parse(
            r#"Bearer realm="https://auth.example.io/token",empty="",service="registry.example.io",scope="repository:library/hello-world:pull,push""#,
        )
        .unwrap()[0];
        assert_eq!(c.param("empty"), Some(""));
        assert_eq!(c.service(), Some("registry.example.io"));
        let c = &parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:foo/bar:pull,push repository:foo/baz:pull repository:foo/foo:push""#,
        )
        .unwrap()[0];
        assert_eq!(c.scopes().unwrap().len(), 3);

        let c = &parse(r#"scheme realm="fblthp, foo=bar", baz="qux""#).unwrap()[0];
        assert_eq!(params(c), [("realm", "fblthp, foo=bar"), ("baz", "qux")]);
        let c = &parse("ScHeMe ReAlM=FbLtHp").unwrap()[0];
        assert_eq!(c.scheme, "scheme");
        assert_eq!(params(c), [("realm", "FbLtHp")]);
        // Dart refuses `scheme realm` and `scheme realm=`; RFC 7235 reads
        // them as a token68.
        assert_eq!(
            parse("scheme realm").unwrap()[0].token68.as_deref(),
            Some("realm")
        );
        assert_eq!(
            parse("scheme realm=").unwrap()[0].token68.as_deref(),
            Some("realm=")
        );
        for h in [
            "scheme realm, foo=bar",
            "scheme realm=fblthp foo",
            "scheme realm=fblthp, foo=bar baz",
        ] {
            assert_eq!(parse(h).unwrap_err().kind(), ErrorKind::Auth, "{h}");
        }
    }

    #[test]
    fn malformed() {
        let cases = [
            (
                r#"Bearer realm="unterminated"#,
                "unterminated quoted string",
            ),
            (
                r#"Bearer realm="ends with backslash\"#,
                "unterminated quoted string",
            ),
            (r#"realm="x""#, "missing auth scheme"),
            (r#"Bearer ="x""#, "'=' without a parameter name"),
            (r#"Bearer realm="a", ="x""#, "'=' without a parameter name"),
            (r#"="x""#, "'=' without a parameter name"),
            (r#"Bearer realm="a" service="b""#, "expected ','"),
            (r#"Bearer realm="a"x"#, "expected ','"),
            (r#"Bearer realm=, service="b""#, "missing auth scheme"),
            ("Bearer realm=a\"b", "unexpected character"),
            ("Bearer realm=\"a\u{7}b\"", "control character"),
            // Found by the property tests: a C1 control in a bare value was
            // accepted, though the same text quoted was not.
            ("Bearer service=a\u{85}b", "unexpected character"),
            ("Bearer realm=a\u{1}b", "unexpected character"),
            (r#"Bearer"realm""#, "unexpected character after auth scheme"),
            (
                "Bëarer realm=\"x\"",
                "unexpected character after auth scheme",
            ),
            ("ü", "expected an auth scheme"),
            (r#""quoted""#, "expected an auth scheme"),
            ("Negotiate abc== def", "expected ',' after a token68"),
            ("Basic ;", "expected parameters or a token68"),
        ];
        for (h, why) in cases {
            let e = parse(h).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Auth, "{h}");
            assert_eq!(e.http_status(), None);
            let m = e.to_string();
            assert!(
                m.starts_with("authentication failed: malformed WWW-Authenticate header: "),
                "{m}"
            );
            assert!(m.contains(why), "{h}: {m}");
        }
    }

    #[test]
    fn long_headers_are_not_echoed() {
        let secretish = "x".repeat(5000);
        let h = format!(r#"Bearer realm="https://a/token",service="{secretish}"#);
        let m = parse(&h).unwrap_err().to_string();
        assert!(m.len() < 400, "{}", m.len());
        assert!(m.contains("at byte"), "{m}");
        // multi-byte characters near the error position do not panic
        let h = format!("Bearer realm=\"{}", "é".repeat(3000));
        assert!(parse(&h).is_err());
        let h = format!("Bearer realm=\"{}\" junk", "é".repeat(3000));
        let m = parse(&h).unwrap_err().to_string();
        assert!(m.len() < 400);
        // huge valid header parses fine
        let h = format!(r#"Bearer realm="{secretish}""#);
        assert_eq!(parse(&h).unwrap()[0].realm().unwrap().len(), 5000);
        // many challenges
        let h = "Basic realm=\"r\", ".repeat(10_000);
        assert_eq!(parse(&h).unwrap().len(), 10_000);
    }

    #[test]
    fn several_lines() {
        let cs = parse_all([
            r#"Bearer realm="https://a/token",service="reg""#,
            "",
            r#"Basic realm="r", Negotiate"#,
        ])
        .unwrap();
        assert_eq!(cs.len(), 3);
        assert!(parse_all([r#"Basic realm="r""#, r#"Bearer realm="x"#]).is_err());
    }

    #[test]
    fn scopes_from_challenge() {
        let c = &parse(r#"Bearer realm="r""#).unwrap()[0];
        assert!(c.scopes().unwrap().is_empty());
        let c = &parse(r#"Bearer realm="r",scope="repository:a:pull bad""#).unwrap()[0];
        assert_eq!(c.scopes().unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

/// The examples in this module's docs, run as tests (the module is
/// private, so rustdoc does not run them).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn doc_example_1() {
        use crate::auth::challenge;
        let c = &challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        ).unwrap()[0];
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.realm(), Some("https://auth.docker.io/token"));
        assert_eq!(c.service(), Some("registry.docker.io"));
        assert_eq!(c.scope(), Some("repository:samalba/my-app:pull,push"));
        assert_eq!(c.param("SERVICE"), c.service());
    }

    #[test]
    fn doc_example_2() {
        use crate::auth::challenge::parse;
        let c = &parse(r#"Basic realm="Registry Realm""#).unwrap()[0];
        assert_eq!(c.param("Realm"), Some("Registry Realm"));
        assert_eq!(c.param("service"), None);
    }

    #[test]
    fn doc_example_3() {
        use crate::auth::{challenge::parse, scope::Scope};
        let c =
            &parse(r#"Bearer realm="r",scope="repository:a:pull registry:catalog:*""#).unwrap()[0];
        assert_eq!(c.scopes().unwrap(), [Scope::pull("a"), Scope::catalog()]);
    }

    #[test]
    fn doc_example_4() {
        use crate::{auth::challenge::parse, ErrorKind};
        let cs = parse(r#"Bearer realm="https://a/token",service="reg",scope="repository:x:pull", Basic realm="r""#).unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[1].scheme, "basic");
        assert_eq!(
            parse(r#"Bearer realm="x"#).unwrap_err().kind(),
            ErrorKind::Auth
        );
    }

    #[test]
    fn doc_example_5() {
        use crate::auth::challenge::parse_all;
        let cs = parse_all([r#"Basic realm="r""#, r#"Bearer realm="https://a/token""#]).unwrap();
        assert_eq!(cs.len(), 2);
        assert!(cs[1].is_bearer());
    }
}
