//! `regc_blob`: a blob streamed in constant memory, checked against its
//! digest as it is read.

use std::ffi::c_char;
use std::io::Read;

use super::client::regc_client;
use super::{arg, arg_bytes_mut, arg_mut, arg_str, free_handle, into_handle, query, regc_status};
use super::{status, Out};
use crate::{BlobReader, Error};

/// A blob being read. Made by `regc_blob_open()`, read with
/// `regc_blob_read()`, freed with `regc_blob_free()`. Not thread-safe: use
/// one blob from one thread at a time (the client it came from may be
/// shared freely, and may be freed before the blob).
pub struct regc_blob {
    reader: BlobReader,
}

/// Opens the blob `digest` (such as "sha256:…") of `repository` for reading
/// and writes the handle to `*out` (owned by the caller; free it with
/// `regc_blob_free()`). Redirects to storage hosts are followed without
/// credentials.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL, non-UTF-8 or invalid
/// argument, `REGC_ERR_NOT_FOUND` for a missing blob, or another failure;
/// `*out` is written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `digest`: NULL or
/// NUL-terminated; `out`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_open(
    client: *const regc_client,
    repository: *const c_char,
    digest: *const c_char,
    out: *mut *mut regc_blob,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, digest) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(digest, "digest")?,
            )
        };
        let out = Out::new(out, "out")?;
        let reader = client.client().blob(repository, digest)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write(into_handle(regc_blob { reader })) };
        Ok(())
    })
}

/// Reads up to `len` bytes of the blob into `buf` and writes how many were
/// read to `*out_read`; 0 means the end, reached only after the content was
/// found to match its digest (and announced length).
///
/// Returns `REGC_ERR_DIGEST_MISMATCH` when it does not, `REGC_ERR_CONNECTION`
/// or `REGC_ERR_TIMEOUT` when the transfer fails, `REGC_ERR_INVALID_ARGUMENT`
/// for a NULL argument; `*out_read` is written only on success. After an
/// error, further reads fail too.
///
/// # Safety
///
/// `blob`: NULL or a live blob used by no other thread; `buf`: NULL or `len`
/// writable bytes; `out_read`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_read(
    blob: *mut regc_blob,
    buf: *mut u8,
    len: usize,
    out_read: *mut usize,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (blob, buf) = unsafe { (arg_mut(blob, "blob")?, arg_bytes_mut(buf, len, "buf")?) };
        let out = Out::new(out_read, "out_read")?;
        let n = loop {
            match blob.reader.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::from_io(e)),
            }
        };
        // SAFETY: forwarded from the caller.
        unsafe { out.write(n) };
        Ok(())
    })
}

/// The blob's length as the registry announced it, or -1 when it did not
/// (or `blob` is NULL). Thread-safe for concurrent readers of `blob`.
///
/// # Safety
///
/// `blob` must be NULL or a live blob.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_size(blob: *const regc_blob) -> i64 {
    query(-1, || {
        // SAFETY: forwarded from the caller.
        unsafe { blob.as_ref() }
            .and_then(|b| b.reader.size())
            .and_then(|s| i64::try_from(s).ok())
            .unwrap_or(-1)
    })
}

/// Frees a blob, closing its connection. NULL does nothing.
///
/// # Safety
///
/// `blob` must be NULL or a blob from `regc_blob_open()`, not freed yet nor
/// in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_free(blob: *mut regc_blob) {
    // SAFETY: forwarded from the caller.
    query((), || unsafe { free_handle(blob) })
}
