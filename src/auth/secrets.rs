//! The secrets a client holds (a password, its Basic form, tokens), so that
//! none of them survives in what a registry or token server sends back: a
//! server echoing the credentials it got into an error message must not get
//! them printed on the user's terminal.

use std::collections::VecDeque;

use parking_lot::RwLock;

use crate::Error;

/// How many secrets are remembered (the newest win); tokens come and go,
/// and a hostile token server must not grow the client.
const MAX_SECRETS: usize = 256;
/// Secrets shorter than this are not searched for: a one-letter password
/// would turn every message into asterisks, and says nothing anyway.
const MIN_LEN: usize = 4;
/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "<redacted>";
/// Where a message cuts server text short: `text::quote` ends a quote it
/// cut with this, and the parse errors of `auth::challenge` and
/// `pagination` start a window into a long header with [`WINDOW_START`].
/// A secret cut there shows only in part, and is searched for in part.
const CUT_END: &str = "\"… (";
const WINDOW_START: &str = "near \"";

#[derive(Debug, Default)]
pub(crate) struct Secrets {
    /// ASCII-lowercased: a secret shows in any letter case (a host name is
    /// shown lowercased), and is searched for so.
    known: RwLock<VecDeque<String>>,
}

impl Secrets {
    pub(crate) fn new() -> Secrets {
        Secrets::default()
    }

    /// Remembers a secret, and the form messages show it in when they
    /// quote a server's text (escaped: `"`, `\\`, `'`, non-printables).
    pub(crate) fn add(&self, secret: &str) {
        self.remember(secret);
        let escaped: String = secret.chars().flat_map(char::escape_debug).collect();
        if escaped != secret {
            self.remember(&escaped);
        }
    }

    fn remember(&self, secret: &str) {
        if secret.len() < MIN_LEN {
            return;
        }
        let secret = secret.to_ascii_lowercase();
        let mut known = self.known.write();
        if known.iter().any(|k| *k == secret) {
            return;
        }
        if known.len() >= MAX_SECRETS {
            known.pop_front();
        }
        known.push_back(secret);
    }

    /// `text` with every known secret replaced (in any letter case, and
    /// inside a percent-encoded URL), and every piece of one where the text
    /// was cut, or `None` when it holds none.
    pub(crate) fn scrub(&self, text: &str) -> Option<String> {
        let known = self.known.read();
        let cut = text.contains(CUT_END) || text.contains(WINDOW_START);
        let encoded = text.contains('%');
        let lower = text.to_ascii_lowercase();
        if !cut && !encoded && !known.iter().any(|k| lower.contains(k.as_str())) {
            return None;
        }
        // Longest first, so a secret that contains another goes whole.
        let mut by_len: Vec<&String> = known.iter().collect();
        by_len.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let mut out = text.to_string();
        for k in &by_len {
            out = replace_ignoring_case(&out, k);
        }
        if encoded {
            out = redact_encoded_words(&out, &by_len);
        }
        if cut {
            for k in &by_len {
                out = redact_cut_pieces(&out, k);
            }
        }
        (out != text).then_some(out)
    }

    /// `e` with every known secret removed from what it carries.
    pub(crate) fn scrub_error(&self, e: Error) -> Error {
        if self.known.read().is_empty() {
            return e;
        }
        e.map_text(&|t| self.scrub(t))
    }
}

/// `text` with every occurrence of `lower` (lowercase) replaced, letter
/// case ignored. ASCII lowercasing keeps every byte offset, so the places
/// found in the lowercased text are the places in `text`.
fn replace_ignoring_case(text: &str, lower: &str) -> String {
    let folded = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in folded.match_indices(lower) {
        out.push_str(&text[last..i]);
        out.push_str(REDACTED);
        last = i + lower.len();
    }
    out.push_str(&text[last..]);
    out
}

/// `text` with every word (between spaces) that holds a secret once
/// percent-decoded replaced whole: a URL a server wrote, the secret
/// encoded in it (`Pw%22S3CRET`, or every character as `%XX`).
fn redact_encoded_words(text: &str, known: &[&String]) -> String {
    let words: Vec<String> = text
        .split(' ')
        .map(|w| {
            if !w.contains('%') {
                return w.to_string();
            }
            let decoded = percent_decode(w).to_ascii_lowercase();
            if known.iter().any(|k| decoded.contains(k.as_str())) {
                REDACTED.to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    words.join(" ")
}

/// `%XX` decoded; anything else (a `%` not followed by two hex digits, or
/// bytes that are not UTF-8) kept as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` without the pieces of `secret` (lowercase) that touch a cut: the
/// end of a quote cut short (`…Pw-S3CR"… (80 bytes)`), the start of a
/// window into a header (`near "CRET-7c1f…`). Pieces shorter than
/// [`MIN_LEN`] stay.
fn redact_cut_pieces(text: &str, secret: &str) -> String {
    let mut out = text.to_string();
    // Before each cut end: the longest tail of the text inside `secret`.
    let mut from = 0;
    while let Some(p) = out[from..].find(CUT_END).map(|p| p + from) {
        let lower = out.to_ascii_lowercase();
        let start = lower[..p]
            .char_indices()
            .map(|(i, _)| i)
            .filter(|&i| i + secret.len() >= p && p - i >= MIN_LEN)
            .find(|&i| secret.contains(&lower[i..p]));
        from = match start {
            Some(i) => {
                out.replace_range(i..p, REDACTED);
                i + REDACTED.len() + CUT_END.len()
            }
            None => p + CUT_END.len(),
        };
    }
    // After each window start: the longest head of the text inside `secret`.
    let mut from = 0;
    while let Some(p) = out[from..]
        .find(WINDOW_START)
        .map(|p| p + from + WINDOW_START.len())
    {
        let lower = out.to_ascii_lowercase();
        let end = lower[p..]
            .char_indices()
            .map(|(i, c)| p + i + c.len_utf8())
            .take_while(|&e| secret.contains(&lower[p..e]))
            .last()
            .filter(|&e| e - p >= MIN_LEN);
        if let Some(e) = end {
            out.replace_range(p..e, REDACTED);
        }
        from = p;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_known_secret_and_nothing_else() {
        let s = Secrets::new();
        s.add("hunter22");
        s.add("aHVudGVyMjI=");
        s.add("abc"); // too short to search for
        assert_eq!(s.scrub("nothing here abc"), None);
        assert_eq!(
            s.scrub("pw hunter22 basic aHVudGVyMjI= again hunter22")
                .unwrap(),
            "pw <redacted> basic <redacted> again <redacted>"
        );
    }

    #[test]
    fn escaped_and_cut_secrets_go_too() {
        let s = Secrets::new();
        s.add(r#"pa"ss\word-42"#);
        s.add("dG9rZW4tc2VjcmV0LXZhbHVl");
        // As `text::quote` shows it: escaped.
        assert_eq!(
            s.scrub(r#"said "pa\"ss\\word-42""#).unwrap(),
            r#"said "<redacted>""#
        );
        // Cut short by a quote, or starting a window into a header.
        assert_eq!(
            s.scrub(r#"body "xxxxdG9rZW4tc2Vj"… (90 bytes) and near "LXZhbHVl, x""#)
                .unwrap(),
            r#"body "xxxx<redacted>"… (90 bytes) and near "<redacted>, x""#
        );
        // Pieces shorter than MIN_LEN, and text that is no piece, stay.
        assert_eq!(s.scrub(r#""xxxxxVl"… (90 bytes) near "Vl x""#), None);
    }

    #[test]
    fn secrets_in_another_case_or_percent_encoded_go_too() {
        let s = Secrets::new();
        s.add(r#"Pw"S3cret"#);
        assert_eq!(
            s.scrub("points to http://pw\"s3cret.example").unwrap(),
            "points to http://<redacted>.example"
        );
        assert_eq!(
            s.scrub("links to http://h/v2/a/Pw%22S3cr%65t/b again")
                .unwrap(),
            "links to <redacted> again"
        );
        assert_eq!(s.scrub("100% sure, %zz"), None);
    }

    #[test]
    fn bounded() {
        let s = Secrets::new();
        for i in 0..(MAX_SECRETS * 3) {
            s.add(&format!("token-{i:06}"));
        }
        assert_eq!(s.known.read().len(), MAX_SECRETS);
        assert!(s
            .scrub(&format!("token-{:06}", MAX_SECRETS * 3 - 1))
            .is_some());
    }

    #[test]
    fn errors_lose_secrets_in_every_field() {
        let s = Secrets::new();
        s.add("tok-SECRET-1");
        let body = br#"{"errors":[{"code":"DENIED","message":"credential Bearer tok-SECRET-1","detail":{"sent":["tok-SECRET-1"]}}]}"#;
        let e = Error::from_status(403, body, "manifest a:b", None, 1);
        let e = s.scrub_error(e);
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("tok-SECRET-1"), "{shown}");
        assert!(shown.contains(REDACTED), "{shown}");
    }
}
