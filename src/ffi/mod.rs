//! The C API (`include/registry_client.h`, generated from this module by
//! cbindgen): `extern "C"` functions over the Rust API, and the only place in
//! the crate with `unsafe` code.
//!
//! The rules every entry point follows:
//!
//! * Handles are opaque (`regc_config`, `regc_client`, `regc_string_list`,
//!   `regc_manifest`, `regc_blob`, `regc_reference`); every allocation the library returns has a free
//!   function, and freeing NULL does nothing.
//! * Output parameters come last and are written only on success (a few,
//!   documented as such, may be NULL when the caller does not want them:
//!   `Out::optional`).
//! * A NULL or non-UTF-8 argument gives `REGC_ERR_INVALID_ARGUMENT`, never a
//!   crash (`arg`, `arg_str`, `Out::new`: the one way pointers are checked).
//! * One panic boundary, `boundary`, wraps every entry point; a panic
//!   becomes `REGC_ERR_PANIC`, NULL, 0 or nothing.
//! * Functions returning a [`regc_status`] or creating a handle first clear
//!   this thread's last error, then record one on failure (message and HTTP
//!   status); accessors and free functions leave it alone.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use crate::Error;

pub mod blob;
pub mod client;
pub mod config;
pub mod errors;
pub mod pull;
pub mod reference;
pub mod values;
pub mod write;

pub use errors::regc_status;
pub(crate) use errors::{clear_last_error, record, set_last_error};

/// A C string of data (a tag, a digest); data with a NUL byte cannot be
/// handed to C faithfully, so it is a decode error rather than a panic or a
/// silently changed value.
pub(crate) fn c_string(text: String, what: &str) -> Result<CString, Error> {
    CString::new(text).map_err(|_| {
        Error::decode(
            what,
            "the value contains a NUL byte and cannot be returned as a C string",
        )
    })
}

// ---------------------------------------------------------------------------
// The panic boundary and its three shapes.

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// The one panic boundary: runs `f`, and if it panics records
/// `REGC_ERR_PANIC` as this thread's last error and returns `on_panic`.
/// Every `extern "C"` function of the crate goes through here (through
/// [`status`], [`create`] or [`query`]).
pub(crate) fn boundary<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(payload) => {
            let message = format!("panic in registry_client: {}", panic_message(&*payload));
            set_last_error(message, 0);
            on_panic
        }
    }
}

/// For functions returning a status: clears the last error, runs `f`,
/// records its error.
pub(crate) fn status(f: impl FnOnce() -> Result<(), Error>) -> regc_status {
    boundary(regc_status::REGC_ERR_PANIC, || {
        clear_last_error();
        match f() {
            Ok(()) => regc_status::REGC_OK,
            Err(e) => record(&e),
        }
    })
}

/// For functions returning a new handle or NULL: clears the last error, runs
/// `f`, records its error.
pub(crate) fn create<T>(f: impl FnOnce() -> Result<*mut T, Error>) -> *mut T {
    boundary(ptr::null_mut(), || {
        clear_last_error();
        match f() {
            Ok(p) => p,
            Err(e) => {
                record(&e);
                ptr::null_mut()
            }
        }
    })
}

/// For accessors and free functions: the last error is left alone (unless
/// there is a panic).
pub(crate) fn query<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    boundary(on_panic, f)
}

// ---------------------------------------------------------------------------
// The one way to check pointers.

fn invalid(message: String) -> Error {
    Error::invalid(message)
}

/// A reference from a pointer argument; NULL is `REGC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `p` must be NULL or point to a valid `T` that outlives `'a` and is not
/// mutated meanwhile.
pub(crate) unsafe fn arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller guarantees `p` is NULL or valid for 'a.
    unsafe { p.as_ref() }.ok_or_else(|| invalid(format!("argument `{name}` is NULL")))
}

/// A mutable reference from a pointer argument; NULL is
/// `REGC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `p` must be NULL or point to a valid `T` that outlives `'a`, used by no
/// one else meanwhile.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller guarantees `p` is NULL or valid and unaliased for 'a.
    unsafe { p.as_mut() }.ok_or_else(|| invalid(format!("argument `{name}` is NULL")))
}

/// A `&str` from a C string argument; NULL or non-UTF-8 is
/// `REGC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `p` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    match unsafe { arg_opt_str(p, name) }? {
        Some(s) => Ok(s),
        None => Err(invalid(format!("argument `{name}` is NULL"))),
    }
}

/// Like [`arg_str`], but NULL is `None`.
///
/// # Safety
///
/// As for [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and the caller guarantees a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|_| invalid(format!("argument `{name}` is not valid UTF-8")))
}

/// A byte slice from a pointer and a length; a NULL pointer is
/// `REGC_ERR_INVALID_ARGUMENT` (even with a length of 0).
///
/// # Safety
///
/// `p` must be NULL or point to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn arg_bytes<'a>(
    p: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Error> {
    if p.is_null() {
        return Err(invalid(format!("argument `{name}` is NULL")));
    }
    // SAFETY: not NULL, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A writable byte slice from a pointer and a length; a NULL pointer is
/// `REGC_ERR_INVALID_ARGUMENT` (even with a length of 0).
///
/// # Safety
///
/// `p` must be NULL or point to `len` writable bytes that outlive `'a`,
/// used by no one else meanwhile.
pub(crate) unsafe fn arg_bytes_mut<'a>(
    p: *mut u8,
    len: usize,
    name: &str,
) -> Result<&'a mut [u8], Error> {
    if p.is_null() {
        return Err(invalid(format!("argument `{name}` is NULL")));
    }
    // SAFETY: not NULL, and the caller guarantees `len` writable bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// An output parameter, checked for NULL before any work is done and written
/// only at the end, on success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Checks `p`; NULL is `REGC_ERR_INVALID_ARGUMENT`.
    pub(crate) fn new(p: *mut T, name: &str) -> Result<Out<T>, Error> {
        NonNull::new(p)
            .map(Out)
            .ok_or_else(|| invalid(format!("output argument `{name}` is NULL")))
    }

    /// An output parameter the caller may leave out: NULL is `None` (the
    /// result is then not written anywhere).
    pub(crate) fn optional(p: *mut T) -> Option<Out<T>> {
        NonNull::new(p).map(Out)
    }

    /// Writes the result (without reading or dropping what was there).
    ///
    /// # Safety
    ///
    /// The pointer given to [`Out::new`] must be valid for a write of `T`.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL, and the caller guarantees it is writable.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Moves `value` to the heap and hands it to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back and drops a handle made by [`into_handle`]; NULL does nothing.
///
/// # Safety
///
/// `p` must be NULL or come from [`into_handle`] with the same `T`, and not
/// have been freed.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: the caller guarantees `p` came from Box::into_raw and is live.
        drop(unsafe { Box::from_raw(p) });
    }
}

#[cfg(test)]
mod tests {
    use super::errors::*;
    use super::*;
    use crate::ErrorKind;

    // Every kind (`status_of` has no wildcard arm, so a new kind already
    // fails to compile there; list it here too).
    const KINDS: [ErrorKind; 13] = [
        ErrorKind::InvalidInput,
        ErrorKind::Auth,
        ErrorKind::NotFound,
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::Registry,
        ErrorKind::CircuitOpen,
        ErrorKind::DigestMismatch,
        ErrorKind::Decode,
        ErrorKind::TooLarge,
        ErrorKind::Unsupported,
        ErrorKind::Io,
    ];

    fn last_message() -> String {
        // SAFETY: regc_last_error_message never returns NULL.
        unsafe { CStr::from_ptr(regc_last_error_message()) }
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn status_numbers_are_the_error_kinds() {
        for kind in KINDS {
            let status = status_of(kind);
            assert_eq!(status as u32, kind as u32, "{kind:?}");
            let name = status_name(status).to_str().unwrap();
            let suffix = kind.as_str().to_ascii_uppercase();
            assert!(name.starts_with("REGC_ERR_"), "{name}");
            if kind != ErrorKind::InvalidInput {
                assert_eq!(name, format!("REGC_ERR_{suffix}"));
            }
        }
        assert_eq!(regc_status::REGC_ERR_PANIC as u32, 13);
        // The C-only statuses are no kind's: a new kind must take another
        // number (its own status then equals it, checked above).
        assert_eq!(regc_status::REGC_ERR_CANCELLED as u32, 15);
        // Distinct kinds, distinct statuses; none is success or a panic.
        let mut seen = std::collections::HashSet::new();
        for kind in KINDS {
            let status = status_of(kind);
            assert!(seen.insert(status as u32), "{kind:?} shares {status:?}");
            assert_ne!(status, regc_status::REGC_OK);
            assert_ne!(status, regc_status::REGC_ERR_PANIC);
            assert_ne!(status, regc_status::REGC_ERR_CANCELLED);
        }
    }

    fn name_of(n: u32) -> &'static str {
        // SAFETY: regc_status_name returns a static C string, never NULL.
        unsafe { CStr::from_ptr(regc_status_name(n)) }
            .to_str()
            .unwrap()
    }

    #[test]
    fn every_status_has_its_own_name_and_round_trips() {
        let mut names = std::collections::HashSet::new();
        for status in regc_status::ALL {
            let n = status as u32;
            assert_eq!(regc_status::from_u32(n), Some(status));
            let name = name_of(n);
            assert_eq!(name, status_name(status).to_str().unwrap());
            assert_eq!(name, format!("{status:?}"), "the name is the constant's");
            assert!(names.insert(name), "{name} twice");
        }
        assert_eq!(names.len(), regc_status::ALL.len());
        // Every number from 0 up to the last status is one.
        assert_eq!(
            regc_status::ALL.len(),
            regc_status::REGC_ERR_CANCELLED as usize + 1
        );
        assert_eq!(name_of(15), "REGC_ERR_CANCELLED");
    }

    #[test]
    fn a_number_that_is_no_status_has_a_fixed_name() {
        let past_the_end = regc_status::ALL.len() as u32;
        for n in [past_the_end, 999, i32::MAX as u32, (-1i32) as u32, u32::MAX] {
            assert_eq!(regc_status::from_u32(n), None, "{n}");
            assert_eq!(name_of(n), "unknown status", "{n}");
        }
        // Asking for a name leaves the last error alone.
        set_last_error("earlier".into(), 500);
        name_of(999);
        assert_eq!(last_message(), "earlier");
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let s = status(|| panic!("boom {}", 42));
        assert_eq!(s, regc_status::REGC_ERR_PANIC);
        assert_eq!(last_message(), "panic in registry_client: boom 42");
        let p: *mut u8 = create(|| panic!("static boom"));
        assert!(p.is_null());
        assert_eq!(last_message(), "panic in registry_client: static boom");
        assert_eq!(query(7usize, || panic!("x")), 7);
        assert_eq!(status(|| Ok(())), regc_status::REGC_OK);
        assert_eq!(last_message(), "");
        assert_eq!(regc_last_error_http_status(), 0);
    }

    #[test]
    fn errors_are_recorded_per_thread() {
        let s = status(|| {
            Err(Error::NotFound {
                what: "x".into(),
                diagnostics: vec![],
            })
        });
        assert_eq!(s, regc_status::REGC_ERR_NOT_FOUND);
        assert_eq!(regc_last_error_http_status(), 404);
        std::thread::spawn(|| {
            assert_eq!(last_message(), "");
            assert_eq!(regc_last_error_http_status(), 0);
        })
        .join()
        .unwrap();
        assert_eq!(last_message(), "not found: x");
    }

    #[test]
    fn nul_bytes_never_panic() {
        set_last_error("a\0b".into(), 0);
        assert_eq!(last_message(), "a\u{FFFD}b");
        let e = c_string("t\0g".into(), "tag").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
    }

    #[test]
    fn pointer_checks() {
        // SAFETY: NULL and valid C strings only.
        unsafe {
            let e = arg_str(ptr::null(), "repository").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().contains("`repository` is NULL"));
            let bad = [0xffu8, 0];
            let e = arg_str(bad.as_ptr().cast(), "tag").unwrap_err();
            assert!(e.to_string().contains("not valid UTF-8"));
            assert_eq!(arg_opt_str(ptr::null(), "p").unwrap(), None);
            assert_eq!(arg_str(c"ok".as_ptr(), "p").unwrap(), "ok");
            assert!(arg::<u8>(ptr::null(), "x").is_err());
        }
        assert!(Out::<u8>::new(ptr::null_mut(), "out").is_err());
    }

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: static C string.
        let v = unsafe { CStr::from_ptr(regc_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
