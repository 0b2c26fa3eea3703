//! What the library hands to C: lists of strings, manifests, strings.

use std::ffi::{c_char, CString};
use std::ptr;
use std::sync::Arc;

use super::{c_string, free_handle, query, Out};
use crate::{Error, ManifestResponse};

/// A list of strings (repository names, tags), in the registry's order.
/// Returned by `regc_list_repositories()` and `regc_list_tags()`, owned by
/// the caller, freed with `regc_string_list_free()`. Immutable: may be read
/// from many threads at once.
pub struct regc_string_list {
    items: Vec<CString>,
}

impl regc_string_list {
    pub(crate) fn new(items: Vec<String>, what: &str) -> Result<regc_string_list, Error> {
        let items = items
            .into_iter()
            .map(|s| c_string(s, what))
            .collect::<Result<_, _>>()?;
        Ok(regc_string_list { items })
    }
}

/// The number of strings in `list`; 0 when `list` is NULL. Thread-safe.
///
/// # Safety
///
/// `list` must be NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn regc_string_list_len(list: *const regc_string_list) -> usize {
    // SAFETY: forwarded from the caller.
    query(0, || unsafe { list.as_ref() }.map_or(0, |l| l.items.len()))
}

/// The string at `index` (from 0), or NULL when `list` is NULL or `index` is
/// past the end. The string belongs to the list: it stays valid until the
/// list is freed; do not free it. Thread-safe.
///
/// # Safety
///
/// `list` must be NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn regc_string_list_get(
    list: *const regc_string_list,
    index: usize,
) -> *const c_char {
    query(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        unsafe { list.as_ref() }
            .and_then(|l| l.items.get(index))
            .map_or(ptr::null(), |s| s.as_ptr())
    })
}

/// Frees a list and its strings. NULL does nothing.
///
/// # Safety
///
/// `list` must be NULL or a list from this library, not freed yet nor in
/// use by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_string_list_free(list: *mut regc_string_list) {
    // SAFETY: forwarded from the caller.
    query((), || unsafe { free_handle(list) })
}

/// A manifest exactly as the registry served it, with its verified digest.
/// Returned by `regc_get_manifest()`, owned by the caller, freed with
/// `regc_manifest_free()`. Immutable: may be read from many threads at once.
pub struct regc_manifest {
    digest: CString,
    media_type: CString,
    response: Arc<ManifestResponse>,
}

impl regc_manifest {
    pub(crate) fn new(response: Arc<ManifestResponse>) -> Result<regc_manifest, Error> {
        Ok(regc_manifest {
            digest: c_string(response.digest.to_string(), "manifest digest")?,
            media_type: c_string(response.media_type.clone(), "manifest media type")?,
            response,
        })
    }
}

/// The manifest's digest, such as "sha256:…" (checked against the bytes).
/// NULL when `manifest` is NULL. The string belongs to the manifest: valid
/// until it is freed; do not free it. Thread-safe.
///
/// # Safety
///
/// `manifest` must be NULL or a live manifest.
#[no_mangle]
pub unsafe extern "C" fn regc_manifest_digest(manifest: *const regc_manifest) -> *const c_char {
    // SAFETY: forwarded from the caller.
    query(ptr::null(), || {
        unsafe { manifest.as_ref() }.map_or(ptr::null(), |m| m.digest.as_ptr())
    })
}

/// The manifest's media type, such as
/// "application/vnd.oci.image.manifest.v1+json". NULL when `manifest` is
/// NULL. The string belongs to the manifest: valid until it is freed; do not
/// free it. Thread-safe.
///
/// # Safety
///
/// `manifest` must be NULL or a live manifest.
#[no_mangle]
pub unsafe extern "C" fn regc_manifest_media_type(manifest: *const regc_manifest) -> *const c_char {
    // SAFETY: forwarded from the caller.
    query(ptr::null(), || {
        unsafe { manifest.as_ref() }.map_or(ptr::null(), |m| m.media_type.as_ptr())
    })
}

/// The manifest's exact bytes (not NUL-terminated); their length is written
/// to `*len`. Returns NULL and writes nothing when `manifest` or `len` is
/// NULL. The bytes belong to the manifest: valid until it is freed; do not
/// free them. Thread-safe.
///
/// # Safety
///
/// `manifest` must be NULL or a live manifest; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_manifest_body(
    manifest: *const regc_manifest,
    len: *mut usize,
) -> *const u8 {
    query(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let Some(m) = (unsafe { manifest.as_ref() }) else {
            return ptr::null();
        };
        if len.is_null() {
            return ptr::null();
        }
        let body = &m.response.body;
        // SAFETY: not NULL, and the caller guarantees it is writable.
        unsafe { len.write(body.len()) };
        body.as_ptr()
    })
}

/// Frees a manifest. NULL does nothing.
///
/// # Safety
///
/// `manifest` must be NULL or a manifest from `regc_get_manifest()`, not
/// freed yet nor in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_manifest_free(manifest: *mut regc_manifest) {
    // SAFETY: forwarded from the caller.
    query((), || unsafe { free_handle(manifest) })
}

impl Out<*mut c_char> {
    /// Hands `s` to C as a string the caller frees with
    /// `regc_string_free()`, written to the output (`what` names it in
    /// the error for an interior NUL).
    ///
    /// # Safety
    ///
    /// As [`Out::write`].
    pub(crate) unsafe fn write_string(self, s: String, what: &str) -> Result<(), Error> {
        let s = c_string(s, what)?.into_raw();
        // SAFETY: forwarded from the caller.
        unsafe { self.write(s) };
        Ok(())
    }
}

/// Frees a string the library returned (`regc_resolve_digest()`,
/// `regc_image_info_json()`). NULL does nothing. Never pass it a string the
/// library did not allocate, nor one owned by a handle.
///
/// # Safety
///
/// `s` must be NULL or a string returned by this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn regc_string_free(s: *mut c_char) {
    query((), || {
        if !s.is_null() {
            // SAFETY: the caller guarantees `s` came from CString::into_raw.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}
