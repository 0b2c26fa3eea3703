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

/// What a server said in a body that is not the spec's JSON, when it is a
/// short line of text (Go's "Client sent an HTTP request to an HTTPS
/// server.", a proxy's complaint): quoted, escaped and cut, plus the fix
/// when it says the port speaks TLS.
fn plain_text_reason(body: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(body) else {
        return String::new();
    };
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.is_empty() || line.starts_with('<') || line.starts_with('{') {
        return String::new();
    }
    let mut reason = crate::text::quote(line);
    if line.contains("HTTPS server") {
        reason.push_str(" (the registry speaks HTTPS: use an https:// URL)");
    }
    reason
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

/// A boxed cause, kept as an error's `source()`.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong.
///
/// Match on [`Error::kind`] for a stable category; the variants carry the
/// details, and may gain fields (they are `#[non_exhaustive]`, so match them
/// with `..`). The underlying error, when there is one (an I/O error, a TLS
/// failure, a JSON syntax error), is the [`source`](std::error::Error::source).
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
    #[non_exhaustive]
    InvalidInput {
        /// What was wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
    /// 401 or 403, or the token endpoint refused, failed or was refused by us.
    #[error("authentication failed: {message}{}", join(.diagnostics))]
    #[non_exhaustive]
    Auth {
        /// The HTTP status, when one was received.
        status: Option<u16>,
        /// What failed.
        message: String,
        /// What the registry said.
        diagnostics: Vec<Diagnostic>,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
    /// 404: the repository, manifest, blob or tag does not exist.
    #[error("not found: {what}{}", join(.diagnostics))]
    #[non_exhaustive]
    NotFound {
        /// What was asked for.
        what: String,
        /// What the registry said (`NAME_UNKNOWN`, `MANIFEST_UNKNOWN`, …).
        diagnostics: Vec<Diagnostic>,
    },
    /// Network, DNS, TLS or 5xx failure.
    #[error("connection error: {message}{}{}", join(.diagnostics), attempts_suffix(*.attempts))]
    #[non_exhaustive]
    Connection {
        /// What failed.
        message: String,
        /// The HTTP status for a 5xx.
        status: Option<u16>,
        /// What the registry said, for a 5xx.
        diagnostics: Vec<Diagnostic>,
        /// Attempts made before giving up.
        attempts: u32,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
    /// A connect, read or overall deadline passed.
    #[error("timed out: {message}{}", attempts_suffix(*.attempts))]
    #[non_exhaustive]
    Timeout {
        /// Which deadline.
        message: String,
        /// Attempts made before giving up.
        attempts: u32,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
    /// 429 Too Many Requests.
    #[error("rate limited{}{}{}", .retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default(), join(.diagnostics), attempts_suffix(*.attempts))]
    #[non_exhaustive]
    RateLimited {
        /// The registry's `Retry-After`, when given.
        retry_after: Option<Duration>,
        /// What the registry said.
        diagnostics: Vec<Diagnostic>,
        /// Attempts made before giving up.
        attempts: u32,
    },
    /// Any other unexpected HTTP status, or an answer that breaks the
    /// protocol (a redirect loop, a redirect without `Location`).
    #[error("registry answered HTTP {status}{}{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) }, join(.diagnostics))]
    #[non_exhaustive]
    Registry {
        /// The HTTP status.
        status: u16,
        /// What is wrong with the answer, when the status alone does not say.
        message: String,
        /// What the registry said.
        diagnostics: Vec<Diagnostic>,
    },
    /// The circuit breaker for this host is open; no request was sent.
    #[error("circuit open for {host}: too many consecutive failures, retry in {}ms", .retry_in.as_millis())]
    #[non_exhaustive]
    CircuitOpen {
        /// The registry host.
        host: String,
        /// Time until a probe is allowed.
        retry_in: Duration,
    },
    /// Content did not hash to the digest it was asked or announced by.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    #[non_exhaustive]
    DigestMismatch {
        /// The digest asked for or announced.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A response could not be decoded.
    #[error("cannot decode {context}: {message}")]
    #[non_exhaustive]
    Decode {
        /// What was being decoded.
        context: String,
        /// Why it failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
    /// A response body exceeded its size cap, or a listing its bound.
    #[error("{what} exceeds the limit of {limit} {unit}")]
    #[non_exhaustive]
    TooLarge {
        /// What was being read.
        what: String,
        /// The cap.
        limit: u64,
        /// What the cap counts: `bytes`, or `names` for a listing.
        unit: &'static str,
    },
    /// Local I/O failed (writing received content to the caller's sink).
    #[error("I/O error: {message}")]
    #[non_exhaustive]
    Io {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
    /// A valid but unsupported thing, such as a schema 1 manifest.
    #[error("unsupported: {message}")]
    #[non_exhaustive]
    Unsupported {
        /// What is not supported.
        message: String,
        /// The registry's status, when it said so (405 for a write it
        /// does not allow).
        status: Option<u16>,
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
    /// use registry_client::{Client, ErrorKind};
    /// let e = Client::builder("ftp://x").build().unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidInput);
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
    /// let e = registry_client::Client::builder("ftp://x").build().unwrap_err();
    /// assert_eq!(e.http_status(), None);
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Auth { status, .. } | Error::Connection { status, .. } => *status,
            Error::NotFound { .. } => Some(404),
            Error::RateLimited { .. } => Some(429),
            Error::Registry { status, .. } => Some(*status),
            Error::Unsupported { status, .. } => *status,
            _ => None,
        }
    }

    /// What the registry said in its error body, if anything.
    ///
    /// ```
    /// let e = registry_client::Client::builder("ftp://x").build().unwrap_err();
    /// assert!(e.diagnostics().is_empty());
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
    /// let e = registry_client::Client::builder("ftp://x").build().unwrap_err();
    /// assert_eq!(e.attempts(), 1);
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
            source: None,
        }
    }

    pub(crate) fn invalid_caused(message: impl Into<String>, cause: impl Into<Cause>) -> Error {
        Error::InvalidInput {
            message: message.into(),
            source: Some(cause.into()),
        }
    }

    pub(crate) fn decode(context: impl Into<String>, message: impl fmt::Display) -> Error {
        Error::Decode {
            context: context.into(),
            message: message.to_string(),
            source: None,
        }
    }

    /// A decode error whose cause (a JSON syntax error) stays reachable.
    pub(crate) fn decode_caused(
        context: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Decode {
            context: context.into(),
            message: cause.to_string(),
            source: Some(Box::new(cause)),
        }
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Error {
        Error::Unsupported {
            message: message.into(),
            status: None,
        }
    }

    /// What a registry answered `status` to, because it does not do it.
    pub(crate) fn unsupported_by(status: u16, message: impl Into<String>) -> Error {
        Error::Unsupported {
            message: message.into(),
            status: Some(status),
        }
    }

    pub(crate) fn connection(message: impl Into<String>) -> Error {
        Error::Connection {
            message: message.into(),
            status: None,
            diagnostics: Vec::new(),
            attempts: 1,
            source: None,
        }
    }

    pub(crate) fn connection_caused(message: impl Into<String>, cause: impl Into<Cause>) -> Error {
        Error::Connection {
            message: message.into(),
            status: None,
            diagnostics: Vec::new(),
            attempts: 1,
            source: Some(cause.into()),
        }
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Error {
        Error::Timeout {
            message: message.into(),
            attempts: 1,
            source: None,
        }
    }

    pub(crate) fn timeout_caused(message: impl Into<String>, cause: impl Into<Cause>) -> Error {
        Error::Timeout {
            message: message.into(),
            attempts: 1,
            source: Some(cause.into()),
        }
    }

    pub(crate) fn auth(status: Option<u16>, message: impl Into<String>) -> Error {
        Error::Auth {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
            source: None,
        }
    }

    /// An auth failure with what the server said.
    pub(crate) fn auth_said(
        status: Option<u16>,
        message: impl Into<String>,
        diagnostics: Vec<Diagnostic>,
    ) -> Error {
        Error::Auth {
            status,
            message: message.into(),
            diagnostics,
            source: None,
        }
    }

    pub(crate) fn auth_caused(
        status: Option<u16>,
        message: impl Into<String>,
        cause: impl Into<Cause>,
    ) -> Error {
        Error::Auth {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
            source: Some(cause.into()),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Error {
        Error::NotFound {
            what: what.into(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn too_large(what: impl Into<String>, limit: u64) -> Error {
        Error::TooLarge {
            what: what.into(),
            limit,
            unit: "bytes",
        }
    }

    /// Too many of something that is not bytes (names in a listing).
    pub(crate) fn too_many(what: impl Into<String>, limit: u64, unit: &'static str) -> Error {
        Error::TooLarge {
            what: what.into(),
            limit,
            unit,
        }
    }

    /// An answer that breaks the protocol, with what is wrong with it.
    pub(crate) fn registry(status: u16, message: impl Into<String>) -> Error {
        Error::Registry {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn circuit_open(host: impl Into<String>, retry_in: Duration) -> Error {
        Error::CircuitOpen {
            host: host.into(),
            retry_in,
        }
    }

    pub(crate) fn digest_mismatch(expected: impl fmt::Display, actual: impl fmt::Display) -> Error {
        Error::DigestMismatch {
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }

    /// Local I/O failed: `message` says what was being done.
    pub(crate) fn io(message: impl Into<String>, cause: std::io::Error) -> Error {
        Error::Io {
            message: format!("{}: {cause}", message.into()),
            source: Some(Box::new(cause)),
        }
    }

    /// Maps a non-2xx status to an error, with what the registry said in
    /// `body`: the one place a status becomes an error.
    pub(crate) fn from_status(
        status: u16,
        body: &[u8],
        what: &str,
        retry_after: Option<Duration>,
        attempts: u32,
    ) -> Error {
        let diagnostics = parse_diagnostics(body);
        match status {
            401 | 403 => Error::Auth {
                status: Some(status),
                message: format!(
                    "{} {what}",
                    if status == 401 {
                        "unauthorized for"
                    } else {
                        "access denied to"
                    }
                ),
                diagnostics,
                source: None,
            },
            404 => Error::NotFound {
                what: what.to_string(),
                diagnostics,
            },
            429 => Error::RateLimited {
                retry_after,
                diagnostics,
                attempts,
            },
            500..=599 => Error::Connection {
                message: format!("server error HTTP {status} for {what}"),
                status: Some(status),
                diagnostics,
                attempts,
                source: None,
            },
            _ if status == 405 || diagnostics.iter().any(|d| d.code == "UNSUPPORTED") => {
                let said: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
                let said = if said.is_empty() {
                    plain_text_reason(body)
                } else {
                    said.join("; ")
                };
                Error::Unsupported {
                    message: format!(
                        "the registry does not allow this for {what} (HTTP {status}{}{said})",
                        if said.is_empty() { "" } else { ": " }
                    ),
                    status: Some(status),
                }
            }
            _ => Error::Registry {
                status,
                message: if diagnostics.is_empty() {
                    plain_text_reason(body)
                } else {
                    String::new()
                },
                diagnostics,
            },
        }
    }

    /// Recovers this crate's error from an `io::Error` returned by a
    /// [`BlobReader`](crate::BlobReader) (a digest mismatch, a timeout, a
    /// reset connection); any other `io::Error` becomes a timeout or
    /// connection error.
    ///
    /// ```
    /// use registry_client::{Error, ErrorKind};
    /// let e = Error::from_io(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
    /// assert_eq!(e.kind(), ErrorKind::Timeout);
    /// ```
    pub fn from_io(e: std::io::Error) -> Error {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            return match e.into_inner().map(|b| b.downcast::<Error>()) {
                Some(Ok(inner)) => *inner,
                _ => Error::connection("blob read failed"),
            };
        }
        match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                Error::timeout_caused(format!("blob read: {e}"), e)
            }
            _ => Error::connection_caused(format!("blob read: {e}"), e),
        }
    }

    /// Rewrites every text this error carries from a server (messages,
    /// what the registry said, its details) through `f`: how secrets a
    /// server echoed back are removed before anyone sees the error.
    pub(crate) fn map_text(mut self, f: &dyn Fn(&str) -> Option<String>) -> Error {
        let fix = |s: &mut String| {
            if let Some(new) = f(s) {
                *s = new;
            }
        };
        let fix_all = |d: &mut Vec<Diagnostic>| {
            for d in d {
                fix(&mut d.code);
                fix(&mut d.message);
                if let Some(detail) = &mut d.detail {
                    map_json_text(detail, f);
                }
            }
        };
        match &mut self {
            Error::InvalidInput { message, .. }
            | Error::Timeout { message, .. }
            | Error::Io { message, .. }
            | Error::Unsupported { message, .. } => fix(message),
            Error::Auth {
                message,
                diagnostics,
                ..
            }
            | Error::Connection {
                message,
                diagnostics,
                ..
            }
            | Error::Registry {
                message,
                diagnostics,
                ..
            } => {
                fix(message);
                fix_all(diagnostics);
            }
            Error::NotFound { what, diagnostics } => {
                fix(what);
                fix_all(diagnostics);
            }
            Error::RateLimited { diagnostics, .. } => fix_all(diagnostics),
            Error::Decode {
                context, message, ..
            } => {
                fix(context);
                fix(message);
            }
            Error::TooLarge { what, .. } => fix(what),
            Error::CircuitOpen { host, .. } => fix(host),
            Error::DigestMismatch { expected, actual } => {
                fix(expected);
                fix(actual);
            }
        }
        // A cause's own text cannot be rewritten: drop a cause that
        // carries what `f` would change.
        let cause_text = std::error::Error::source(&self).map(|s| s.to_string());
        if cause_text.is_some_and(|t| f(&t).is_some()) {
            match &mut self {
                Error::InvalidInput { source, .. }
                | Error::Auth { source, .. }
                | Error::Connection { source, .. }
                | Error::Timeout { source, .. }
                | Error::Decode { source, .. }
                | Error::Io { source, .. } => *source = None,
                _ => {}
            }
        }
        self
    }
}

/// Local I/O (a file, a pipe) becomes [`Error::Io`], keeping the
/// `io::Error` as its source; an `io::Error` that carries this crate's
/// error (as a [`BlobReader`](crate::BlobReader)'s do) gives that error
/// back, so `?` on a blob read keeps its kind.
///
/// ```
/// use registry_client::{Error, ErrorKind};
/// fn save() -> Result<(), Error> {
///     std::fs::File::open("/nonexistent/dir/file")?;
///     Ok(())
/// }
/// assert_eq!(save().unwrap_err().kind(), ErrorKind::Io);
/// ```
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            return Error::from_io(e);
        }
        Error::Io {
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

fn map_json_text(v: &mut serde_json::Value, f: &dyn Fn(&str) -> Option<String>) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(new) = f(s) {
                *s = new;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| map_json_text(i, f)),
        serde_json::Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if let Some(new_key) = f(&k) {
                    if let Some(mut value) = map.remove(&k) {
                        map_json_text(&mut value, f);
                        map.insert(new_key, value);
                    }
                } else if let Some(value) = map.get_mut(&k) {
                    map_json_text(value, f);
                }
            }
        }
        _ => {}
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
