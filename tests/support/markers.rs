//! Marker secrets, and the one check of whether something the library
//! produced shows any of them: for `tests/faults.rs` (every fault, with
//! credentials) and `tests/secrets.rs` (servers that echo the secrets).
//!
//! A secret shows when it appears whole, escaped the way messages quote
//! server text (`escape_debug`, JSON), or as a piece long enough to matter
//! (a message that quotes only the first 64 characters of what a server
//! sent, or a window around a parse error, can cut a secret in two).
#![allow(dead_code)]

use std::error::Error as StdError;

use base64::Engine;

/// Not a secret: error messages may name the user.
pub const MARKER_USER: &str = "marker-user";
/// Every marker secret contains this, so that a piece of one is found too.
pub const MARK: &str = "S3CRET";
pub const MARKER_PASSWORD: &str = "Pw-S3CRET-7c1f9e";
/// A static bearer token, and the token realms hand out.
pub const MARKER_TOKEN: &str = "tok-S3CRET-55aa17";

/// The shortest piece of a secret that counts as showing it.
pub const PIECE: usize = 6;

/// A token value carrying the marker, distinct per `name`.
pub fn marker_token(name: &str) -> String {
    format!("{name}-{MARK}-tk")
}

/// What Basic authentication sends for `user:password` (without `Basic `).
pub fn basic_b64(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// The secrets a test must never see again.
#[derive(Clone, Debug)]
pub struct Markers {
    secrets: Vec<String>,
}

impl Markers {
    /// The marker password, its Basic form for `MARKER_USER`, the marker
    /// token, and `tokens`.
    pub fn new<S: AsRef<str>>(tokens: &[S]) -> Markers {
        Markers::with_password(MARKER_PASSWORD, tokens)
    }

    /// As [`Markers::new`] with another password.
    pub fn with_password<S: AsRef<str>>(password: &str, tokens: &[S]) -> Markers {
        let mut secrets = vec![
            password.to_string(),
            basic_b64(MARKER_USER, password),
            MARKER_TOKEN.to_string(),
        ];
        secrets.extend(tokens.iter().map(|t| t.as_ref().to_string()));
        Markers { secrets }
    }

    /// The first secret (or piece of one) `text` shows, if any.
    /// Letter case does not matter: a host name is shown lowercased.
    pub fn shown_in(&self, text: &str) -> Option<String> {
        let text = &text.to_ascii_lowercase();
        if text.contains(&MARK.to_ascii_lowercase()) {
            return Some(MARK.to_string());
        }
        for secret in &self.secrets {
            let escaped: String = secret.chars().flat_map(char::escape_debug).collect();
            let json = serde_json::to_string(secret).unwrap();
            for form in [secret.as_str(), escaped.as_str(), json.trim_matches('"')] {
                let form = &form.to_ascii_lowercase();
                if let Some(piece) = piece_of(form, text) {
                    return Some(piece);
                }
            }
        }
        None
    }

    /// Panics, naming `what`, when `text` shows a secret.
    pub fn assert_clean(&self, what: &str, text: &str) {
        if let Some(piece) = self.shown_in(text) {
            panic!("{what} shows the secret {piece:?}:\n{text}");
        }
    }

    /// Checks `err`'s Display, its Debug and every error of its `source()`
    /// chain (Display and Debug).
    pub fn assert_error_clean(&self, what: &str, err: &(dyn StdError + 'static)) {
        self.assert_clean(&format!("{what}: Display"), &err.to_string());
        self.assert_clean(&format!("{what}: Debug"), &format!("{err:?}"));
        let mut depth = 0;
        let mut next = err.source();
        while let Some(cause) = next {
            depth += 1;
            assert!(depth < 64, "{what}: a source() chain that does not end");
            self.assert_clean(&format!("{what}: source {depth}"), &cause.to_string());
            self.assert_clean(
                &format!("{what}: source {depth} Debug"),
                &format!("{cause:?}"),
            );
            next = cause.source();
        }
    }
}

/// A piece of `secret` (at least [`PIECE`] bytes, or all of a shorter one)
/// found in `text`.
fn piece_of(secret: &str, text: &str) -> Option<String> {
    if secret.len() <= PIECE {
        return text.contains(secret).then(|| secret.to_string());
    }
    let starts = secret.char_indices().map(|(i, _)| i);
    for start in starts {
        let Some(end) = (start + PIECE..=secret.len()).find(|&e| secret.is_char_boundary(e)) else {
            break;
        };
        let piece = &secret[start..end];
        if text.contains(piece) {
            return Some(piece.to_string());
        }
    }
    None
}
