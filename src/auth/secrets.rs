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

#[derive(Debug, Default)]
pub(crate) struct Secrets {
    known: RwLock<VecDeque<String>>,
}

impl Secrets {
    pub(crate) fn new() -> Secrets {
        Secrets::default()
    }

    /// Remembers a secret.
    pub(crate) fn add(&self, secret: &str) {
        if secret.len() < MIN_LEN {
            return;
        }
        let mut known = self.known.write();
        if known.iter().any(|k| k == secret) {
            return;
        }
        if known.len() >= MAX_SECRETS {
            known.pop_front();
        }
        known.push_back(secret.to_string());
    }

    /// `text` with every known secret replaced, or `None` when it holds
    /// none.
    pub(crate) fn scrub(&self, text: &str) -> Option<String> {
        let known = self.known.read();
        if !known.iter().any(|k| text.contains(k.as_str())) {
            return None;
        }
        // Longest first, so a secret that contains another goes whole.
        let mut by_len: Vec<&String> = known.iter().collect();
        by_len.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let mut out = text.to_string();
        for k in by_len {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), REDACTED);
            }
        }
        Some(out)
    }

    /// `e` with every known secret removed from what it carries.
    pub(crate) fn scrub_error(&self, e: Error) -> Error {
        if self.known.read().is_empty() {
            return e;
        }
        e.map_text(&|t| self.scrub(t))
    }
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
