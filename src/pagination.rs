//! Paginated listings (`/v2/_catalog`, `/v2/<name>/tags/list`): the page
//! type, RFC 8288 `Link` header parsing and listing URLs.

use url::Url;

use crate::header_syntax::{self, excerpt, skip_ows, token_end};
use crate::text::{quote, redact_url};
use crate::{Error, Result};

/// One page of a catalog or tag listing.
///
/// ```
/// use registry_client::pagination::Page;
/// let page = Page {
///     items: vec!["a".into(), "b".into()],
///     next: Some("https://registry.example/v2/_catalog?n=2&last=b".into()),
///     page_size: Some(2),
///     last: None,
/// };
/// assert!(page.next.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The repository names or tags of this page, in the registry's order.
    pub items: Vec<String>,
    /// The absolute URL of the next page, from the response's `Link`
    /// header; `None` on the last page.
    pub next: Option<String>,
    /// The `n` (page size) that was asked for, if any. The registry may
    /// return fewer items.
    pub page_size: Option<usize>,
    /// The `last` query parameter that produced this page, if any.
    pub last: Option<String>,
}

const CONTEXT: &str = "pagination Link header";

fn malformed(header: &str, pos: usize, why: &str) -> Error {
    Error::decode(
        CONTEXT,
        format!("malformed header: {why} {}", excerpt(header, pos)),
    )
}

/// One parsed link-value: its target and relation types (lowercased).
#[derive(Debug, PartialEq)]
struct Link {
    target: String,
    rels: Vec<String>,
}

/// Parses one `Link` header value (a comma-separated list of link-values).
fn parse_links(h: &str) -> Result<Vec<Link>> {
    let b = h.as_bytes();
    let mut i = 0;
    let mut links = Vec::new();
    loop {
        // empty list elements are allowed: ", ,<a>; rel=next"
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] != b'<' {
            return Err(malformed(h, i, "expected '<' to start a link"));
        }
        let Some(len) = h[i + 1..].find('>') else {
            return Err(malformed(h, i, "unterminated '<'"));
        };
        let target = h[i + 1..i + 1 + len].trim();
        i += len + 2;
        let mut rel: Option<String> = None;
        loop {
            i = skip_ows(b, i);
            if i >= b.len() {
                break;
            }
            match b[i] {
                // the next link; the outer loop skips the comma
                b',' => break,
                b';' => i += 1,
                _ => return Err(malformed(h, i, "expected ';' or ',' after a link")),
            }
            i = skip_ows(b, i);
            if i >= b.len() || matches!(b[i], b',' | b';') {
                continue; // empty parameter
            }
            let start = i;
            i = token_end(b, i);
            if i == start {
                return Err(malformed(h, i, "expected a parameter name"));
            }
            let name = &h[start..i];
            i = skip_ows(b, i);
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                i = skip_ows(b, i);
                if i < b.len() && b[i] == b'"' {
                    let (v, next) = header_syntax::quoted_string(h, i)
                        .map_err(|e| malformed(h, e.at, e.why))?;
                    value = v;
                    i = next;
                } else {
                    let vs = i;
                    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b',' | b';' | b'"') {
                        i += 1;
                    }
                    if i == vs {
                        return Err(malformed(h, i, "parameter without a value after '='"));
                    }
                    value = h[vs..i].to_owned();
                }
            }
            // RFC 8288 §3.3: only the first rel parameter counts.
            if name.eq_ignore_ascii_case("rel") && rel.is_none() {
                rel = Some(value);
            }
        }
        let rels = rel
            .map(|r| {
                r.split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        links.push(Link {
            target: target.to_owned(),
            rels,
        });
    }
    Ok(links)
}

/// Finds the `rel="next"` target in a response's `Link` headers and
/// resolves it against `request_url`.
///
/// Several headers and several links per header are accepted; `rel` may be
/// quoted or bare and hold several space-separated relation types, compared
/// case-insensitively. The target must have the same scheme, host and port
/// as `request_url`, and must not be `request_url` itself (which would loop
/// forever). Errors are [`Error::Decode`] with context
/// `pagination Link header`. No `next` link gives `Ok(None)`.
pub(crate) fn next_link<'a>(
    link_headers: impl IntoIterator<Item = &'a str>,
    request_url: &Url,
) -> Result<Option<Url>> {
    let mut found: Option<String> = None;
    for h in link_headers {
        for link in parse_links(h)? {
            if found.is_none() && link.rels.iter().any(|r| r == "next") {
                found = Some(link.target);
            }
        }
    }
    let Some(target) = found else {
        return Ok(None);
    };
    let mut next = request_url.join(&target).map_err(|e| {
        Error::decode(
            CONTEXT,
            format!("next link {} is not a valid URL: {e}", quote(&target)),
        )
    })?;
    next.set_fragment(None);
    if next.scheme() != request_url.scheme()
        || next.host_str() != request_url.host_str()
        || next.port_or_known_default() != request_url.port_or_known_default()
    {
        return Err(Error::decode(
            CONTEXT,
            format!(
                "next link {} leaves the registry (the page came from {}); refusing to follow it",
                redact_url(&next),
                redact_url(request_url)
            ),
        ));
    }
    let mut current = request_url.clone();
    current.set_fragment(None);
    if next == current {
        return Err(Error::decode(
            CONTEXT,
            "next link points to the page just fetched; refusing to loop",
        ));
    }
    Ok(Some(next))
}

/// The URL of a listing (`v2/_catalog` or `v2/<name>/tags/list`) under
/// `base`, which may have a path prefix, with `n` and `last` as encoded
/// query parameters. Any query or fragment of `base` is dropped.
pub(crate) fn list_url(base: &Url, path: &str, n: Option<usize>, last: Option<&str>) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    let full = format!("{prefix}/{}", path.trim_start_matches('/'));
    url.set_path(&full);
    url.set_query(None);
    url.set_fragment(None);
    if n.is_some() || last.is_some() {
        let mut q = url.query_pairs_mut();
        if let Some(n) = n {
            q.append_pair("n", &n.to_string());
        }
        if let Some(last) = last {
            q.append_pair("last", last);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn next(headers: &[&str], req: &str) -> Result<Option<String>> {
        next_link(headers.iter().copied(), &u(req)).map(|o| o.map(|u| u.to_string()))
    }

    const REQ: &str = "https://reg.example/v2/_catalog?n=2";

    #[test]
    fn spec_example() {
        assert_eq!(
            next(
                &[r#"<https://reg.example/v2/_catalog?n=2&last=b>; rel="next""#],
                REQ
            )
            .unwrap()
            .as_deref(),
            Some("https://reg.example/v2/_catalog?n=2&last=b")
        );
    }

    #[test]
    fn relative_and_variants() {
        let want = Some("https://reg.example/v2/_catalog?last=b&n=2".to_string());
        for h in [
            r#"</v2/_catalog?last=b&n=2>; rel="next""#,
            r#"</v2/_catalog?last=b&n=2>; rel=next"#,
            r#"</v2/_catalog?last=b&n=2>;rel=NEXT"#,
            r#"</v2/_catalog?last=b&n=2> ; REL = "next""#,
            r#"</v2/_catalog?last=b&n=2>; rel="prev next""#,
            r#"</v2/_catalog?last=b&n=2>; title="a, b; c"; rel="next""#,
            r#"</v2/_catalog?n=0>; rel="prev", </v2/_catalog?last=b&n=2>; rel="next""#,
            r#"</v2/_catalog?last=b&n=2>; rel="next", </v2/_catalog?n=9>; rel="next""#,
            r#"  ,, </v2/_catalog?last=b&n=2>; rel="next"; ; ,"#,
            r#"<_catalog?last=b&n=2>; rel="next""#,
            r#"<?last=b&n=2>; rel="next""#,
            r#"<https://REG.example:443/v2/_catalog?last=b&n=2>; rel="next""#,
            r#"</v2/_catalog?last=b&n=2#frag>; rel="next""#,
            r#"</v2/_catalog?last=b&n=2>; anchor; rel="next""#,
            "</v2/_catalog?last=b&n=2>;\trel=\"n\\ext\"",
        ] {
            assert_eq!(next(&[h], REQ).unwrap(), want, "{h}");
        }
    }

    #[test]
    fn several_headers() {
        let got = next(
            &[
                r#"</v2/_catalog?n=0>; rel="first""#,
                r#"</v2/_catalog?last=z>; rel="next""#,
            ],
            REQ,
        )
        .unwrap();
        assert_eq!(
            got.as_deref(),
            Some("https://reg.example/v2/_catalog?last=z")
        );
    }

    #[test]
    fn no_next() {
        for h in [
            "",
            "   ",
            r#"</v2/_catalog?n=0>; rel="prev""#,
            r#"</v2/_catalog?last=b>"#,
            r#"</v2/_catalog?last=b>; rel="nextpage""#,
            r#"</v2/_catalog?last=b>; rev="next""#,
            // only the first rel counts
            r#"</v2/_catalog?last=b>; rel="prev"; rel="next""#,
        ] {
            assert_eq!(next(&[h], REQ).unwrap(), None, "{h}");
        }
        assert_eq!(next(&[], REQ).unwrap(), None);
    }

    #[test]
    fn malformed_headers() {
        let long = format!("<{}", "x".repeat(10_000));
        for h in [
            "https://reg.example/v2/_catalog; rel=next",
            "<https://reg.example/v2/_catalog; rel=next",
            r#"</a>; rel="next"#,
            r#"</a>; rel="next\"#,
            r#"</a>; rel=; x=y"#,
            r#"</a>; =next"#,
            r#"</a> rel=next"#,
            r#"</a>; rel="next" junk"#,
            "</a>; rel=\"ne\u{1}xt\"",
            "</a>; rél=next",
            &long,
        ] {
            let e = next(&[h], REQ).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{h:.60}");
            let m = e.to_string();
            assert!(
                m.starts_with("cannot decode pagination Link header:"),
                "{m}"
            );
            assert!(m.len() < 400, "{m}");
        }
        // a malformed header fails even if another has a next link
        assert!(next(&[r#"</a>; rel="next""#, "garbage"], REQ).is_err());
    }

    /// A header that ends inside a link-param: every index past the end
    /// must be caught, not read.
    #[test]
    fn ends_inside_a_parameter() {
        // valueless parameters are allowed (RFC 8288 `link-param`)
        for h in [
            "</a>;",
            "</a>; ",
            "</a>; rel",
            "</a>; rel ",
            "</a>;rel",
            "</a>; rel\t",
            "</a>",
            "</a> ",
            "</a>,",
        ] {
            assert_eq!(next(&[h], REQ).unwrap(), None, "{h:?}");
        }
        for (h, at, why) in [
            ("</a>; rel=", 10, "without a value"),
            ("</a>; rel= ", 11, "without a value"),
            ("</a>; rel=\t", 11, "without a value"),
            ("</a>;rel=", 9, "without a value"),
            ("</a>; rel=\"", 10, "unterminated quoted string"),
            ("</a>; rel=\"next", 10, "unterminated quoted string"),
            ("</a>; rel=\"next\\", 10, "unterminated quoted string"),
            ("</a>; rel=\"next\\\"", 10, "unterminated quoted string"),
            ("</a>; =", 6, "expected a parameter name"),
            ("<", 0, "unterminated '<'"),
            ("</a", 0, "unterminated '<'"),
            ("</a>; rel=next, <", 16, "unterminated '<'"),
        ] {
            let e = next(&[h], REQ).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{h:?}");
            let m = e.to_string();
            assert!(m.contains(why), "{h:?}: {m}");
            // after 200 bytes of empty list elements, the position is shown
            let padded = format!("{}{h}", ", ".repeat(100));
            let m = next(&[&padded], REQ).unwrap_err().to_string();
            assert!(
                m.contains(&format!("at byte {}", at + 200)),
                "{padded:?}: {m}"
            );
        }
    }

    #[test]
    fn cross_origin_refused() {
        for h in [
            r#"<https://evil.example/v2/_catalog?last=b>; rel="next""#,
            r#"<http://reg.example/v2/_catalog?last=b>; rel="next""#,
            r#"<https://reg.example:8443/v2/_catalog?last=b>; rel="next""#,
            r#"<//evil.example/v2/_catalog>; rel="next""#,
            r#"<https://user:pw@evil.example/>; rel="next""#,
        ] {
            let e = next(&[h], REQ).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{h}");
            let m = e.to_string();
            assert!(m.contains("refusing"), "{m}");
            assert!(!m.contains("pw"), "{m}");
        }
        // explicit default port is the same origin
        assert!(next(
            &[r#"<http://reg.example:80/v2/_catalog?last=b>; rel="next""#],
            "http://reg.example/v2/_catalog"
        )
        .unwrap()
        .is_some());
        // non-default port kept
        assert_eq!(
            next(
                &[r#"</v2/x/tags/list?last=b>; rel="next""#],
                "http://localhost:5000/v2/x/tags/list"
            )
            .unwrap()
            .as_deref(),
            Some("http://localhost:5000/v2/x/tags/list?last=b")
        );
    }

    #[test]
    fn invalid_or_looping_targets() {
        let e = next(&[r#"<http://[::1>; rel="next""#], REQ).unwrap_err();
        assert!(e.to_string().contains("not a valid URL"), "{e}");
        let e = next(&[r#"<>; rel="next""#], REQ).unwrap_err();
        assert!(e.to_string().contains("loop"), "{e}");
        let e = next(&[r#"<?n=2>; rel="next""#], REQ).unwrap_err();
        assert!(e.to_string().contains("loop"), "{e}");
    }

    #[test]
    fn non_ascii() {
        let got = next(&[r#"</v2/_catalog?last=é>; rel="next"; title="ünï""#], REQ).unwrap();
        assert_eq!(
            got.as_deref(),
            Some("https://reg.example/v2/_catalog?last=%C3%A9")
        );
    }

    #[test]
    fn list_urls() {
        let base = u("https://reg.example");
        assert_eq!(
            list_url(&base, "/v2/_catalog", None, None).as_str(),
            "https://reg.example/v2/_catalog"
        );
        assert_eq!(
            list_url(&base, "v2/_catalog", Some(50), None).as_str(),
            "https://reg.example/v2/_catalog?n=50"
        );
        assert_eq!(
            list_url(&base, "/v2/library/ubuntu/tags/list", Some(2), Some("b")).as_str(),
            "https://reg.example/v2/library/ubuntu/tags/list?n=2&last=b"
        );
        let prefixed = u("http://localhost:5000/mirror/?x=1#f");
        assert_eq!(
            list_url(&prefixed, "/v2/_catalog", None, Some("a&b=c d/é")).as_str(),
            "http://localhost:5000/mirror/v2/_catalog?last=a%26b%3Dc+d%2F%C3%A9"
        );
        let prefixed = u("https://h/a/b");
        assert_eq!(
            list_url(&prefixed, "/v2/x/tags/list", Some(0), None).as_str(),
            "https://h/a/b/v2/x/tags/list?n=0"
        );
        // round trip of the encoded last
        let url = list_url(&base, "/v2/_catalog", None, Some("a&b=c"));
        let last: Vec<_> = url.query_pairs().collect();
        assert_eq!(last[0].1, "a&b=c");
    }

    #[test]
    fn page_is_plain_data() {
        let p = Page::default();
        assert_eq!(p.clone(), p);
        assert!(p.items.is_empty() && p.next.is_none());
    }
}
