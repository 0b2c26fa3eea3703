//! `regc_status`, this thread's last error, the version.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

use super::query;
use crate::{Error, ErrorKind};

/// The result of a C API call: `REGC_OK`, or what went wrong. The numbers
/// 1 to 12 and 14 are those of the Rust `ErrorKind`; 13 (a panic) and 15 (a
/// cancelled pull) exist in C only. `regc_last_error_message()` tells the
/// details.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum regc_status {
    /// Success.
    REGC_OK = 0,
    /// A NULL or non-UTF-8 argument, or a bad URL, repository name,
    /// reference, platform or setting.
    REGC_ERR_INVALID_ARGUMENT = 1,
    /// Authentication failed: 401 or 403, or the token server refused.
    REGC_ERR_AUTH = 2,
    /// 404: the repository, manifest, tag or platform does not exist.
    REGC_ERR_NOT_FOUND = 3,
    /// Network, DNS, TLS or 5xx failure.
    REGC_ERR_CONNECTION = 4,
    /// A connect, read or overall deadline passed.
    REGC_ERR_TIMEOUT = 5,
    /// 429 Too Many Requests.
    REGC_ERR_RATE_LIMITED = 6,
    /// Any other unexpected HTTP status.
    REGC_ERR_REGISTRY = 7,
    /// The circuit breaker for the host is open; no request was sent.
    REGC_ERR_CIRCUIT_OPEN = 8,
    /// Content did not hash to the digest it was asked or announced by.
    REGC_ERR_DIGEST_MISMATCH = 9,
    /// A response could not be decoded.
    REGC_ERR_DECODE = 10,
    /// A response body exceeded its size cap.
    REGC_ERR_TOO_LARGE = 11,
    /// A valid but unsupported thing, such as a schema 1 manifest.
    REGC_ERR_UNSUPPORTED = 12,
    /// The library panicked (a bug); the call had no effect beyond that.
    REGC_ERR_PANIC = 13,
    /// Writing received content to the caller's destination failed.
    REGC_ERR_IO = 14,
    /// The progress callback asked to stop (`regc_pull()`); what was
    /// complete stays, and pulling again resumes.
    REGC_ERR_CANCELLED = 15,
}

/// The one mapping from the Rust error kinds to C status codes (same
/// numbers). `ErrorKind` is `#[non_exhaustive]` for other crates only; in
/// this crate the match is exhaustive, so a new kind fails to compile here
/// until it is given a status.
pub(crate) fn status_of(kind: ErrorKind) -> regc_status {
    use regc_status::*;
    match kind {
        ErrorKind::InvalidInput => REGC_ERR_INVALID_ARGUMENT,
        ErrorKind::Auth => REGC_ERR_AUTH,
        ErrorKind::NotFound => REGC_ERR_NOT_FOUND,
        ErrorKind::Connection => REGC_ERR_CONNECTION,
        ErrorKind::Timeout => REGC_ERR_TIMEOUT,
        ErrorKind::RateLimited => REGC_ERR_RATE_LIMITED,
        ErrorKind::Registry => REGC_ERR_REGISTRY,
        ErrorKind::CircuitOpen => REGC_ERR_CIRCUIT_OPEN,
        ErrorKind::DigestMismatch => REGC_ERR_DIGEST_MISMATCH,
        ErrorKind::Decode => REGC_ERR_DECODE,
        ErrorKind::TooLarge => REGC_ERR_TOO_LARGE,
        ErrorKind::Unsupported => REGC_ERR_UNSUPPORTED,
        ErrorKind::Io => REGC_ERR_IO,
    }
}

impl regc_status {
    /// Every status, in numeric order (the numbers are 0 to 15 with no gap,
    /// checked at compile time below).
    pub(crate) const ALL: [regc_status; 16] = {
        use regc_status::*;
        [
            REGC_OK,
            REGC_ERR_INVALID_ARGUMENT,
            REGC_ERR_AUTH,
            REGC_ERR_NOT_FOUND,
            REGC_ERR_CONNECTION,
            REGC_ERR_TIMEOUT,
            REGC_ERR_RATE_LIMITED,
            REGC_ERR_REGISTRY,
            REGC_ERR_CIRCUIT_OPEN,
            REGC_ERR_DIGEST_MISMATCH,
            REGC_ERR_DECODE,
            REGC_ERR_TOO_LARGE,
            REGC_ERR_UNSUPPORTED,
            REGC_ERR_PANIC,
            REGC_ERR_IO,
            REGC_ERR_CANCELLED,
        ]
    };

    /// The status with this number, if there is one. C hands over a plain
    /// integer: turning it into the Rust enum without this check would be
    /// undefined behaviour for any number that is not a variant.
    pub(crate) fn from_u32(n: u32) -> Option<regc_status> {
        usize::try_from(n)
            .ok()
            .and_then(|i| regc_status::ALL.get(i))
            .copied()
    }
}

// `ALL[i]` is the status numbered `i`, so that `from_u32` can index it.
const _: () = {
    let mut i = 0;
    while i < regc_status::ALL.len() {
        assert!(regc_status::ALL[i] as usize == i);
        i += 1;
    }
};

/// What `regc_status_name()` answers for a number that is no status.
pub(crate) const UNKNOWN_STATUS: &CStr = c"unknown status";

/// The name of a status. Exhaustive (no wildcard arm), so a new status fails
/// to compile here until it is named.
pub(crate) fn status_name(status: regc_status) -> &'static CStr {
    use regc_status::*;
    match status {
        REGC_OK => c"REGC_OK",
        REGC_ERR_INVALID_ARGUMENT => c"REGC_ERR_INVALID_ARGUMENT",
        REGC_ERR_AUTH => c"REGC_ERR_AUTH",
        REGC_ERR_NOT_FOUND => c"REGC_ERR_NOT_FOUND",
        REGC_ERR_CONNECTION => c"REGC_ERR_CONNECTION",
        REGC_ERR_TIMEOUT => c"REGC_ERR_TIMEOUT",
        REGC_ERR_RATE_LIMITED => c"REGC_ERR_RATE_LIMITED",
        REGC_ERR_REGISTRY => c"REGC_ERR_REGISTRY",
        REGC_ERR_CIRCUIT_OPEN => c"REGC_ERR_CIRCUIT_OPEN",
        REGC_ERR_DIGEST_MISMATCH => c"REGC_ERR_DIGEST_MISMATCH",
        REGC_ERR_DECODE => c"REGC_ERR_DECODE",
        REGC_ERR_TOO_LARGE => c"REGC_ERR_TOO_LARGE",
        REGC_ERR_UNSUPPORTED => c"REGC_ERR_UNSUPPORTED",
        REGC_ERR_PANIC => c"REGC_ERR_PANIC",
        REGC_ERR_IO => c"REGC_ERR_IO",
        REGC_ERR_CANCELLED => c"REGC_ERR_CANCELLED",
    }
}

struct LastError {
    message: CString,
    http_status: u16,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

pub(crate) fn clear_last_error() {
    // `try_with`: during thread teardown the slot may be gone; nothing to do then.
    let _ = LAST_ERROR.try_with(|slot| slot.borrow_mut().take());
}

pub(crate) fn set_last_error(message: String, http_status: u16) {
    let message = c_string_lossy(message);
    let _ = LAST_ERROR.try_with(|slot| {
        *slot.borrow_mut() = Some(LastError {
            message,
            http_status,
        })
    });
}

/// Records `err` as this thread's last error and returns its status.
pub(crate) fn record(err: &Error) -> regc_status {
    set_last_error(err.to_string(), err.http_status().unwrap_or(0));
    status_of(err.kind())
}

/// A C string from text that should not contain NUL; any NUL becomes U+FFFD
/// (used only for messages, never for data).
fn c_string_lossy(text: String) -> CString {
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    };
    CString::new(text).unwrap_or_default()
}

/// This thread's last error message: "" when the last call that clears it
/// (any call returning a `regc_status` or creating a handle) succeeded.
///
/// The string is owned by the library and stays valid until this thread's
/// next call that returns a `regc_status` or creates a handle; copy it to
/// keep it. Never NULL. Per thread: errors on other threads do not show here.
#[no_mangle]
pub extern "C" fn regc_last_error_message() -> *const c_char {
    query(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|slot| match &*slot.borrow() {
                Some(e) => e.message.as_ptr(),
                None => c"".as_ptr(),
            })
            .unwrap_or(c"".as_ptr())
    })
}

/// The HTTP status behind this thread's last error (404, 401, 500, …), or 0
/// when there was none (no error, or a failure without an HTTP answer).
/// Per thread, like `regc_last_error_message()`.
#[no_mangle]
pub extern "C" fn regc_last_error_http_status() -> u16 {
    query(0, || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ref().map_or(0, |e| e.http_status))
            .unwrap_or(0)
    })
}

/// The name of a status, such as "REGC_ERR_NOT_FOUND"; "unknown status"
/// for a number that is no `regc_status` value (any number may be passed).
/// The string is static (never freed, never NULL). Thread-safe.
#[no_mangle]
pub extern "C" fn regc_status_name(status: u32) -> *const c_char {
    // An integer, not `regc_status`: a C enum can hold any number, and a Rust
    // enum holding one that is not a variant is undefined behaviour.
    query(UNKNOWN_STATUS.as_ptr(), || {
        regc_status::from_u32(status)
            .map_or(UNKNOWN_STATUS, status_name)
            .as_ptr()
    })
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the crate version contains a NUL byte"),
    };

/// The library's version, such as "0.1.0" (the same as the header's
/// `REGC_VERSION` when header and library match). Static: never freed,
/// never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn regc_version() -> *const c_char {
    query(VERSION.as_ptr(), || VERSION.as_ptr())
}
