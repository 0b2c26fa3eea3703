//! Pieces of HTTP header syntax (RFC 9110 §5.6) shared by the parsers of
//! `WWW-Authenticate` ([`crate::auth::challenge`]) and `Link`
//! ([`crate::pagination`]): tokens, optional whitespace, quoted strings, and
//! where-in-the-header excerpts for their error messages. One copy, so the
//! two parsers cannot drift apart.

use crate::text::quote;

/// Whether `c` may appear in a `token` (RFC 9110 §5.6.2 `tchar`).
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// The index after the run of `tchar`s starting at `j` (`j` itself when
/// there is none).
pub(crate) fn token_end(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && is_tchar(b[j]) {
        j += 1;
    }
    j
}

/// The index after the optional whitespace (spaces and tabs) starting at
/// `j`.
pub(crate) fn skip_ows(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    j
}

/// A syntax error inside a header: where (a byte offset) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Byte offset in the header value.
    pub(crate) at: usize,
    /// What is wrong, for the message.
    pub(crate) why: &'static str,
}

/// Parses the quoted-string that opens at `h[open] == b'"'`; returns the
/// unescaped value and the index after the closing quote.
///
/// Backslash escapes any character (quoted-pair); control characters other
/// than tab are refused, escaped or not; non-ASCII text (obs-text) is kept.
pub(crate) fn quoted_string(h: &str, open: usize) -> Result<(String, usize), SyntaxError> {
    let control = |at: usize| SyntaxError {
        at,
        why: "control character in quoted string",
    };
    let mut out = String::new();
    let body = open + 1;
    let mut chars = h.get(body..).unwrap_or("").char_indices();
    while let Some((off, c)) = chars.next() {
        let c = match c {
            '"' => return Ok((out, body + off + 1)),
            '\\' => match chars.next() {
                Some((off, e)) if e.is_control() && e != '\t' => return Err(control(body + off)),
                Some((_, e)) => e,
                None => break,
            },
            c if c.is_control() && c != '\t' => return Err(control(body + off)),
            c => c,
        };
        out.push(c);
    }
    Err(SyntaxError {
        at: open,
        why: "unterminated quoted string",
    })
}

/// Where in header `h` a problem at byte `at` is, for a message: the whole
/// header (escaped) when it is short, else the byte offset and a short
/// excerpt from a little before it (so a huge header, which may carry
/// secrets, is never copied whole into an error).
pub(crate) fn excerpt(h: &str, at: usize) -> String {
    const WHOLE_UP_TO: usize = 200;
    if h.len() <= WHOLE_UP_TO {
        return format!("in \"{}\"", h.escape_debug());
    }
    let mut start = at.saturating_sub(20).min(h.len());
    while !h.is_char_boundary(start) {
        start -= 1;
    }
    format!("at byte {at}, near {}", quote(&h[start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchars() {
        for c in b"!#$%&'*+-.^_`|~azAZ09" {
            assert!(is_tchar(*c), "{}", *c as char);
        }
        for c in b" \t\"(),/:;<=>?@[\\]{}\x7f\x00" {
            assert!(!is_tchar(*c), "{}", *c as char);
        }
        assert!(!is_tchar(0xc3));
        assert_eq!(token_end(b"abc=d", 0), 3);
        assert_eq!(token_end(b"abc", 1), 3);
        assert_eq!(token_end(b"=", 0), 0);
        assert_eq!(token_end(b"", 0), 0);
        assert_eq!(skip_ows(b" \t x", 0), 3);
        assert_eq!(skip_ows(b"x ", 1), 2);
        assert_eq!(skip_ows(b"", 0), 0);
    }

    #[test]
    fn quoted_strings() {
        let q = |h: &str| quoted_string(h, 0);
        assert_eq!(q(r#""""#), Ok((String::new(), 2)));
        assert_eq!(q(r#""a, b; c" rest"#), Ok(("a, b; c".into(), 9)));
        assert_eq!(q(r#""he\"\l\lo""#), Ok((r#"he"llo"#.into(), 11)));
        assert_eq!(q(r#""a\\b""#), Ok((r"a\b".into(), 6)));
        assert_eq!(q("\"tab\there\""), Ok(("tab\there".into(), 10)));
        assert_eq!(q("\"ünï ✓\""), Ok(("ünï ✓".into(), "\"ünï ✓\"".len())));
        // opening quote not at 0
        assert_eq!(quoted_string(r#"x="v";"#, 2), Ok(("v".into(), 5)));
        for (h, at, why) in [
            ("\"", 0, "unterminated"),
            ("\"abc", 0, "unterminated"),
            ("\"abc\\", 0, "unterminated"),
            ("\"abc\\\"", 0, "unterminated"),
            ("\"a\u{1}b\"", 2, "control"),
            ("\"a\\\u{1}b\"", 3, "control"),
            ("\"ü\u{7f}\"", 3, "control"),
        ] {
            let e = q(h).unwrap_err();
            assert_eq!(e.at, at, "{h:?}");
            assert!(e.why.contains(why), "{h:?}: {}", e.why);
        }
        // an index past the end is an unterminated string, not a panic
        assert_eq!(quoted_string("\"", 5).unwrap_err().at, 5);
    }

    #[test]
    fn excerpts() {
        assert_eq!(excerpt("a\"b", 1), r#"in "a\"b""#);
        let short = "x".repeat(200);
        assert_eq!(excerpt(&short, 150), format!("in \"{short}\""));
        let long = format!("{}SECRET{}", "a".repeat(100), "b".repeat(200));
        let e = excerpt(&long, 110);
        assert!(e.starts_with("at byte 110, near \"aaaaaaaaaaSECRET"), "{e}");
        assert!(e.len() < 120, "{e}");
        // multi-byte characters around the position do not panic
        let uni = "é".repeat(300);
        for at in [0, 1, 21, 599, 600, 10_000] {
            assert!(excerpt(&uni, at).starts_with(&format!("at byte {at}, near")));
        }
        // inside a character, the excerpt starts at that character's first
        // byte (backwards), so it keeps the character it points into
        assert_eq!(
            excerpt(&uni, 21),
            format!("at byte 21, near \"{}\"… (600 bytes)", "é".repeat(64))
        );
        assert_eq!(
            excerpt(&uni, 23),
            format!("at byte 23, near \"{}\"… (598 bytes)", "é".repeat(64))
        );
    }
}
