//! `regc_reference`: an image reference as people type it
//! (`ubuntu:22.04`, `ghcr.io/org/app@sha256:…`, `localhost:5000/team/app:v1`),
//! parsed and normalised as Docker does (the Rust `ImageReference`).

use std::ffi::{c_char, CString};
use std::ptr;

use super::{arg_str, c_string, free_handle, into_handle, query, regc_status, status, Out};
use crate::reference::ImageReference;
use crate::Error;

/// A parsed image reference. Made by `regc_reference_parse()`, read with the
/// `regc_reference_*()` accessors, freed by `regc_reference_free()`.
/// Immutable: may be read from many threads at once.
pub struct regc_reference {
    pub(crate) reference: ImageReference,
    registry: CString,
    repository: CString,
    tag: Option<CString>,
    digest: Option<CString>,
    target: CString,
    text: CString,
}

impl regc_reference {
    fn new(reference: ImageReference) -> Result<regc_reference, Error> {
        Ok(regc_reference {
            registry: c_string(reference.registry().to_string(), "registry")?,
            repository: c_string(reference.repository().to_string(), "repository")?,
            tag: reference
                .tag()
                .map(|t| c_string(t.to_string(), "tag"))
                .transpose()?,
            digest: reference
                .digest()
                .map(|d| c_string(d.to_string(), "digest"))
                .transpose()?,
            target: c_string(reference.reference().as_str().to_string(), "reference")?,
            text: c_string(reference.to_string(), "reference")?,
            reference,
        })
    }
}

/// Parses `text`, an image reference in Docker's grammar
/// (`[registry[:port]/]path[:tag][@digest]`), normalised as Docker
/// normalises it: `ubuntu` is `docker.io/library/ubuntu`, `index.docker.io`
/// is `docker.io`; the first component is a registry when it contains `.`
/// or `:` or is `localhost`. Writes the reference to `*out` (owned by the
/// caller; free it with `regc_reference_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` when an argument is NULL or not
/// UTF-8, or when `text` is not a valid reference (the message says what is
/// wrong and at which position); `*out` is written only on success.
/// Thread-safe.
///
/// # Safety
///
/// `text`: NULL or NUL-terminated; `out`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_parse(
    text: *const c_char,
    out: *mut *mut regc_reference,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let text = unsafe { arg_str(text, "text") }?;
        let out = Out::new(out, "out")?;
        let reference = regc_reference::new(ImageReference::parse(text)?)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write(into_handle(reference)) };
        Ok(())
    })
}

/// Reads one string of a live reference, or NULL for a NULL reference.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
unsafe fn field(
    reference: *const regc_reference,
    f: impl FnOnce(&regc_reference) -> *const c_char,
) -> *const c_char {
    query(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        unsafe { reference.as_ref() }.map_or(ptr::null(), f)
    })
}

/// The registry, such as "docker.io", "ghcr.io" or "localhost:5000" (what
/// `regc_config_new_for_reference()` connects to; Docker Hub's API host is
/// `registry-1.docker.io`). NULL when `reference` is NULL. The string
/// belongs to the reference: valid until it is freed; do not free it.
/// Thread-safe.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_registry(
    reference: *const regc_reference,
) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(reference, |r| r.registry.as_ptr()) }
}

/// The repository within the registry, such as "library/ubuntu" (what the
/// client functions take as `repository`). NULL when `reference` is NULL.
/// Owned by the reference, like `regc_reference_registry()`'s string.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_repository(
    reference: *const regc_reference,
) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(reference, |r| r.repository.as_ptr()) }
}

/// The tag as written, such as "22.04", or NULL when the reference has none
/// (no default is filled in) or `reference` is NULL. Owned by the
/// reference, like `regc_reference_registry()`'s string.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_tag(reference: *const regc_reference) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(reference, |r| {
            r.tag.as_ref().map_or(ptr::null(), |t| t.as_ptr())
        })
    }
}

/// The digest as written, such as "sha256:…", or NULL when the reference
/// has none or `reference` is NULL. Owned by the reference, like
/// `regc_reference_registry()`'s string.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_digest(reference: *const regc_reference) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        field(reference, |r| {
            r.digest.as_ref().map_or(ptr::null(), |d| d.as_ptr())
        })
    }
}

/// What to fetch: the digest when there is one, else the tag, else
/// "latest" (what the client functions take as `reference`). NULL when
/// `reference` is NULL. Owned by the reference, like
/// `regc_reference_registry()`'s string.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_tag_or_digest(
    reference: *const regc_reference,
) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(reference, |r| r.target.as_ptr()) }
}

/// The whole normalised reference, such as "docker.io/library/ubuntu:22.04"
/// (registry, repository, then the tag and digest it has; "ubuntu" gives
/// "docker.io/library/ubuntu"). NULL when `reference` is NULL. Owned by the
/// reference, like `regc_reference_registry()`'s string.
///
/// # Safety
///
/// `reference` must be NULL or a live reference.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_string(reference: *const regc_reference) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { field(reference, |r| r.text.as_ptr()) }
}

/// Frees a reference and its strings. NULL does nothing.
///
/// # Safety
///
/// `reference` must be NULL or a reference from `regc_reference_parse()`,
/// not freed yet nor in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_reference_free(reference: *mut regc_reference) {
    // SAFETY: forwarded from the caller.
    query((), || unsafe { free_handle(reference) })
}
