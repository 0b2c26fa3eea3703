//! The one error type of the crate.
//!
//! Every failure is an [`Error`]; [`Error::kind`] gives a stable [`ErrorKind`]
//! (also the C API's status code). No message ever carries a credential or a
//! token: the places that build errors only ever see URLs without userinfo,
//! status codes and what the registry said.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One entry of a registry's `{"errors":[{"code","message","detail"}]}` body.
///
/// ```
/// use registry_client::Diagnostic;
/// let d = Diagnostic { code: "MANIFEST_UNKNOWN".into(), message: "manifest unknown".into(), detail: None };
/// assert_eq!(d.to_string(), "MANIFEST_UNKNOWN: manifest unknown");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The spec's error code, such as `NAME_UNKNOWN` or `DENIED`.
    #[serde(default)]
    pub code: String,
    /// Human-readable text from the registry.
    #[serde(default)]
    pub message: String,
    /// Unstructured detail, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code.is_empty(), self.message.is_empty()) {
            (false, false) => write!(f, "{}: {}", self.code, self.message),
            (false, true) => f.write_str(&self.code),
            (true, _) => f.write_str(&self.message),
        }
    }
}

/// Parses a registry error body; anything that is not the spec's shape gives
/// an empty list (the status code still tells what happened).
pub(crate) fn parse_diagnostics(body: &[u8]) -> Vec<Diagnostic> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<Diagnostic>,
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

fn join(d: &[Diagnostic]) -> String {
    if d.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    format!(" ({})", parts.join("; "))
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// Everything that can go wrong.
///
/// ```
/// use registry_client::{Client, Error, ErrorKind};
/// let err = Client::builder("ftp://example.com").build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert!(matches!(err, Error::InvalidInput { .. }));
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from the caller: a URL, name, reference, platform or setting.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong.
        message: String,
    },
    /// 401 or 403, or the token endpoint refused, failed or was refused by us.
    #[error("authentication failed: {message}{}", join(.diagnostics))]
    Auth {
        /// The HTTP status, when one was received.
        status: Option<u16>,
        /// What failed.
        message: String,
        /// What the registry said.
        diagnostics: Vec<Diagnostic>,
    },
    /// 404: the repository, manifest, blob or tag does not exist.
    #[error("not found: {what}{}", join(.diagnostics))]
    NotFound {
        /// What was asked for.
        what: String,
        /// What the registry said (`NAME_UNKNOWN`, `MANIFEST_UNKNOWN`, …).
        diagnostics: Vec<Diagnostic>,
    },
    /// Network, DNS, TLS or 5xx failure.
    #[error("connection error: {message}{}{}", join(.diagnostics), attempts_suffix(*.attempts))]
    Connection {
        /// What failed.
        message: String,
        /// The HTTP status for a 5xx.
        status: Option<u16>,
        /// What the registry said, for a 5xx.
        diagnostics: Vec<Diagnostic>,
        /// Attempts made before giving up.
        attempts: u32,
    },
    /// A connect, read or overall deadline passed.
    #[error("timed out: {message}{}", attempts_suffix(*.attempts))]
    Timeout {
        /// Which deadline.
        message: String,
        /// Attempts made before giving up.
        attempts: u32,
    },
    /// 429 Too Many Requests.
    #[error("rate limited{}{}{}", .retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default(), join(.diagnostics), attempts_suffix(*.attempts))]
    RateLimited {
        /// The registry's `Retry-After`, when given.
        retry_after: Option<Duration>,
        /// What the registry said.
        diagnostics: Vec<Diagnostic>,
        /// Attempts made before giving up.
        attempts: u32,
    },
    /// Any other unexpected HTTP status.
    #[error("registry answered HTTP {status}{}", join(.diagnostics))]
    Registry {
        /// The HTTP status.
        status: u16,
        /// What the registry said.
        diagnostics: Vec<Diagnostic>,
    },
    /// The circuit breaker for this host is open; no request was sent.
    #[error("circuit open for {host}: too many consecutive failures, retry in {}ms", .retry_in.as_millis())]
    CircuitOpen {
        /// The registry host.
        host: String,
        /// Time until a probe is allowed.
        retry_in: Duration,
    },
    /// Content did not hash to the digest it was asked or announced by.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest asked for or announced.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A response could not be decoded.
    #[error("cannot decode {context}: {message}")]
    Decode {
        /// What was being decoded.
        context: String,
        /// Why it failed.
        message: String,
    },
    /// A response body exceeded its size cap.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// Writing received content to the caller's sink failed.
    #[error("I/O error: {message}")]
    Io {
        /// What failed.
        message: String,
    },
    /// A valid but unsupported thing, such as a schema 1 manifest.
    #[error("unsupported: {message}")]
    Unsupported {
        /// What is not supported.
        message: String,
    },
}

/// The stable category of an [`Error`]; its numeric value is the C API's
/// `regc_status`.
///
/// ```
/// use registry_client::ErrorKind;
/// assert_eq!(ErrorKind::NotFound.as_str(), "not_found");
/// assert_eq!(ErrorKind::NotFound as u32, 3);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorKind {
    /// See [`Error::InvalidInput`].
    InvalidInput = 1,
    /// See [`Error::Auth`].
    Auth = 2,
    /// See [`Error::NotFound`].
    NotFound = 3,
    /// See [`Error::Connection`].
    Connection = 4,
    /// See [`Error::Timeout`].
    Timeout = 5,
    /// See [`Error::RateLimited`].
    RateLimited = 6,
    /// See [`Error::Registry`].
    Registry = 7,
    /// See [`Error::CircuitOpen`].
    CircuitOpen = 8,
    /// See [`Error::DigestMismatch`].
    DigestMismatch = 9,
    /// See [`Error::Decode`].
    Decode = 10,
    /// See [`Error::TooLarge`].
    TooLarge = 11,
    /// See [`Error::Unsupported`].
    Unsupported = 12,
    // 13 is the C API's REGC_ERR_PANIC.
    /// See [`Error::Io`].
    Io = 14,
}

impl ErrorKind {
    /// A short snake_case name, stable across versions.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Registry => "registry",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::DigestMismatch => "digest_mismatch",
            ErrorKind::Decode => "decode",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Io => "io",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The stable category of this error.
    ///
    /// ```
    /// use registry_client::{Error, ErrorKind};
    /// let e = Error::Unsupported { message: "schema 1".into() };
    /// assert_eq!(e.kind(), ErrorKind::Unsupported);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Connection { .. } => ErrorKind::Connection,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Registry { .. } => ErrorKind::Registry,
            Error::CircuitOpen { .. } => ErrorKind::CircuitOpen,
            Error::DigestMismatch { .. } => ErrorKind::DigestMismatch,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// The HTTP status behind this error, when there was one.
    ///
    /// ```
    /// use registry_client::Error;
    /// let e = Error::Registry { status: 418, diagnostics: vec![] };
    /// assert_eq!(e.http_status(), Some(418));
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Auth { status, .. } | Error::Connection { status, .. } => *status,
            Error::NotFound { .. } => Some(404),
            Error::RateLimited { .. } => Some(429),
            Error::Registry { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What the registry said in its error body, if anything.
    ///
    /// ```
    /// use registry_client::Error;
    /// assert!(Error::Timeout { message: "read".into(), attempts: 1 }.diagnostics().is_empty());
    /// ```
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Auth { diagnostics, .. }
            | Error::NotFound { diagnostics, .. }
            | Error::Connection { diagnostics, .. }
            | Error::RateLimited { diagnostics, .. }
            | Error::Registry { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }

    /// How many attempts were made before this error was returned (1 when
    /// the error is not one that is retried).
    ///
    /// ```
    /// use registry_client::Error;
    /// assert_eq!(Error::Timeout { message: "read".into(), attempts: 4 }.attempts(), 4);
    /// ```
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Connection { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::RateLimited { attempts, .. } => (*attempts).max(1),
            _ => 1,
        }
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Connection { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::RateLimited { attempts, .. } => *attempts = n,
            _ => {}
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    pub(crate) fn decode(context: impl Into<String>, message: impl fmt::Display) -> Error {
        Error::Decode {
            context: context.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Error {
        Error::Unsupported {
            message: message.into(),
        }
    }

    pub(crate) fn connection(message: impl Into<String>) -> Error {
        Error::Connection {
            message: message.into(),
            status: None,
            diagnostics: Vec::new(),
            attempts: 1,
        }
    }

    pub(crate) fn auth(status: Option<u16>, message: impl Into<String>) -> Error {
        Error::Auth {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_parse_and_show() {
        let d = parse_diagnostics(
            br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]}"#,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "NAME_UNKNOWN");
        let e = Error::NotFound {
            what: "repository x".into(),
            diagnostics: d,
        };
        assert_eq!(
            e.to_string(),
            "not found: repository x (NAME_UNKNOWN: repository name not known to registry)"
        );
        assert!(parse_diagnostics(b"<html>").is_empty());
        assert!(parse_diagnostics(br#"{"errors":"nope"}"#).is_empty());
    }

    #[test]
    fn attempts_show_only_when_retried() {
        let mut e = Error::connection("connection refused");
        assert_eq!(e.to_string(), "connection error: connection refused");
        e.set_attempts(4);
        assert_eq!(e.attempts(), 4);
        assert_eq!(
            e.to_string(),
            "connection error: connection refused after 4 attempts"
        );
    }
}
