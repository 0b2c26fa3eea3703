//! The write path from C: blob uploads (from a buffer or a read callback),
//! manifest put, tag, deletes, copy between two clients, referrers.

use std::ffi::{c_char, c_void};
use std::io::{self, Read};

use serde::Serialize;

use super::client::regc_client;
use super::pull::{jobs, outcome, regc_progress_fn, Callback};
use super::{arg, arg_bytes, arg_opt_str, arg_str, boundary, clear_last_error, regc_status};
use super::{status, Out};
use crate::manifest::Descriptor;
use crate::{CopyOptions, Error, Platform, UploadOptions};

/// Uploads the `len` bytes at `data` as a blob of `repository` (such as
/// "team/app") and writes its digest, such as "sha256:…", to `*out_digest`
/// (owned by the caller; free it with `regc_string_free()`). The digest is
/// computed first: a blob the repository has already is not sent again.
/// The bytes are only read, and may be freed once this returns.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (also `data` when `len` is
/// 0), non-UTF-8 or invalid argument, `REGC_ERR_AUTH` when the credentials
/// may not push there, or another failure; `*out_digest` is written only on
/// success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`: NULL or NUL-terminated;
/// `data`: NULL or `len` readable bytes; `out_digest`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_upload_buffer(
    client: *const regc_client,
    repository: *const c_char,
    data: *const u8,
    len: usize,
    out_digest: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, data) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_bytes(data, len, "data")?,
            )
        };
        let out = Out::new(out_digest, "out_digest")?;
        let pushed = client.client().push_blob_bytes(repository, data)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write_string(pushed.digest.to_string(), "digest") }
    })
}

/// A read callback for `regc_blob_upload_callback()`: writes up to `len`
/// bytes of the blob to `buf` and returns how many it wrote (1 to `len`),
/// 0 at the end of the blob, or a negative number for an error (the upload
/// then stops and fails with `REGC_ERR_IO`). Returning more than `len` is an
/// error too. Called on the thread that called
/// `regc_blob_upload_callback()`, only while that call runs, and not again
/// after it returned 0 or an error.
pub type regc_read_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, buf: *mut u8, len: usize) -> isize>;

/// The caller's read callback as a [`Read`]: its answers checked, its end
/// or error final.
struct CallbackReader {
    f: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> isize,
    user_data: *mut c_void,
    /// Set once the callback said 0 or failed: it is not called again.
    finished: Option<Result<(), String>>,
}

impl Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.finished {
            Some(Ok(())) => return Ok(0),
            Some(Err(why)) => return Err(io::Error::other(why.clone())),
            None => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: the caller of `regc_blob_upload_callback()` guarantees `f`
        // is a valid read callback for `user_data`; `buf` is `buf.len()`
        // writable, initialised bytes that live through the call.
        let answer = unsafe { (self.f)(self.user_data, buf.as_mut_ptr(), buf.len()) };
        let failure = match usize::try_from(answer) {
            Ok(0) => {
                self.finished = Some(Ok(()));
                return Ok(0);
            }
            Ok(n) if n <= buf.len() => return Ok(n),
            Ok(n) => format!(
                "the read callback returned {n}, more than the {} bytes it was given",
                buf.len()
            ),
            Err(_) => format!("the read callback reported an error ({answer})"),
        };
        self.finished = Some(Err(failure.clone()));
        // Not `Interrupted`: that kind is retried by readers.
        Err(io::Error::other(failure))
    }
}

/// Uploads a blob to `repository` whose bytes `read_cb` gives, called with
/// `user_data` (see `regc_read_fn`), and writes its digest to
/// `*out_digest` (owned by the caller; free it with `regc_string_free()`).
/// Memory stays constant whatever the blob's size: it is sent in one `PUT`
/// when it fits in a chunk (8 MiB), else in chunks that resume after a
/// dropped connection.
///
/// `expected_digest` ("sha256:…") may be NULL: the digest is then computed
/// while sending. When given, a blob the repository has already is not sent
/// (`read_cb` is not called), and content that does not match it is refused
/// and stores nothing.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `expected_digest`
/// and `user_data`), non-UTF-8 or invalid argument (also a NULL `read_cb`),
/// `REGC_ERR_IO` when `read_cb` reports an error or returns more than it was
/// asked for, `REGC_ERR_DIGEST_MISMATCH` or `REGC_ERR_REGISTRY` when the
/// content is not what `expected_digest` says, `REGC_ERR_AUTH`, or another
/// failure; an upload that fails is cancelled at the registry, and
/// `*out_digest` is written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `expected_digest`: NULL or
/// NUL-terminated; `read_cb`: NULL or a function safe to call with `user_data`;
/// `out_digest`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_upload_callback(
    client: *const regc_client,
    repository: *const c_char,
    read_cb: regc_read_fn,
    user_data: *mut c_void,
    expected_digest: *const c_char,
    out_digest: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, expected) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_opt_str(expected_digest, "expected_digest")?,
            )
        };
        let f = read_cb.ok_or_else(|| Error::invalid("argument `read_cb` is NULL"))?;
        let out = Out::new(out_digest, "out_digest")?;
        let mut options = UploadOptions::new();
        if let Some(d) = expected {
            options = options.digest(d)?;
        }
        let reader = CallbackReader {
            f,
            user_data,
            finished: None,
        };
        let pushed = client.client().push_blob(repository, reader, &options)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write_string(pushed.digest.to_string(), "digest") }
    })
}

/// Puts the `len` bytes at `body` as the manifest of `repository` at
/// `reference` (a tag such as "v1", or the body's own digest), with
/// `media_type` (such as "application/vnd.oci.image.manifest.v1+json") as
/// its content type, and writes its digest to `*out_digest` (owned by the
/// caller; free it with `regc_string_free()`). The bytes are sent as they
/// are and the registry must confirm their digest. A manifest with a
/// `subject` on a registry without the referrers API also updates the
/// referrers tag (`sha256-<hex>`), so that `regc_referrers()` finds it.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL, non-UTF-8 or invalid
/// argument (also a media type that is none), `REGC_ERR_DECODE` for a body
/// that is not JSON, `REGC_ERR_DIGEST_MISMATCH` when `reference` is a digest
/// the body does not have or the registry confirms another one,
/// `REGC_ERR_REGISTRY` when the registry refuses the manifest (a blob it
/// names is missing), `REGC_ERR_AUTH`, or another failure; `*out_digest` is
/// written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `reference`,
/// `media_type`: NULL or NUL-terminated; `body`: NULL or `len` readable
/// bytes; `out_digest`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_manifest_put(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    media_type: *const c_char,
    body: *const u8,
    len: usize,
    out_digest: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, reference, media_type, body) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(reference, "reference")?,
                arg_str(media_type, "media_type")?,
                arg_bytes(body, len, "body")?,
            )
        };
        let out = Out::new(out_digest, "out_digest")?;
        let put = client
            .client()
            .put_manifest(repository, reference, media_type, body)?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write_string(put.digest.to_string(), "digest") }
    })
}

/// Tags the manifest `repository` has at `reference` (a tag or digest) as
/// `new_tag` too: its exact bytes are put under the new name, so its digest
/// stays. When `out_digest` is not NULL, writes that digest to it (owned by
/// the caller; free it with `regc_string_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `out_digest`),
/// non-UTF-8 or invalid argument, `REGC_ERR_NOT_FOUND` when there is no
/// such manifest, `REGC_ERR_AUTH`, or another failure; `*out_digest` is
/// written only on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `reference`, `new_tag`:
/// NULL or NUL-terminated; `out_digest`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_tag(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    new_tag: *const c_char,
    out_digest: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, reference, new_tag) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(reference, "reference")?,
                arg_str(new_tag, "new_tag")?,
            )
        };
        let out = Out::optional(out_digest);
        let digest = client.client().tag(repository, reference, new_tag)?;
        match out {
            // SAFETY: forwarded from the caller.
            Some(out) => unsafe { out.write_string(digest.to_string(), "digest") },
            None => Ok(()),
        }
    })
}

/// Deletes the manifest `repository` has at `reference` (a tag is resolved
/// to its digest first, so the manifest and every tag on it go). When
/// `out_digest` is not NULL, writes the digest deleted to it (owned by the
/// caller; free it with `regc_string_free()`).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `out_digest`),
/// non-UTF-8 or invalid argument, `REGC_ERR_NOT_FOUND`,
/// `REGC_ERR_UNSUPPORTED` (HTTP 405) when the registry has deletion turned
/// off, `REGC_ERR_AUTH`, or another failure; `*out_digest` is written only
/// on success. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `reference`: NULL or
/// NUL-terminated; `out_digest`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_manifest_delete(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    out_digest: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, reference) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(reference, "reference")?,
            )
        };
        let out = Out::optional(out_digest);
        let digest = client.client().delete_manifest(repository, reference)?;
        match out {
            // SAFETY: forwarded from the caller.
            Some(out) => unsafe { out.write_string(digest.to_string(), "digest") },
            None => Ok(()),
        }
    })
}

/// Deletes the tag `tag` of `repository`, leaving the manifest (the
/// distribution spec's tag deletion, which not every registry has: one
/// without it gives `REGC_ERR_UNSUPPORTED` (HTTP 400 or 405), never a
/// silent success; `regc_manifest_delete()` removes a manifest with all its
/// tags).
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL, non-UTF-8 or invalid
/// argument (also a digest in place of a tag), `REGC_ERR_NOT_FOUND`, or
/// another failure. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `tag`: NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn regc_tag_delete(
    client: *const regc_client,
    repository: *const c_char,
    tag: *const c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, tag) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(tag, "tag")?,
            )
        };
        client.client().delete_tag(repository, tag)
    })
}

/// Deletes the blob `digest` ("sha256:…") of `repository`.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL, non-UTF-8 or invalid
/// argument, `REGC_ERR_NOT_FOUND`, `REGC_ERR_UNSUPPORTED` (HTTP 405) when
/// the registry has deletion turned off, `REGC_ERR_AUTH`, or another
/// failure. Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `digest`: NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn regc_blob_delete(
    client: *const regc_client,
    repository: *const c_char,
    digest: *const c_char,
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
        client.client().delete_blob(repository, digest)
    })
}

/// Copies `src_repository` at `src_reference` (a tag or digest) as
/// `src_client` sees it to `dst_repository` through `dst_client` (the same
/// client, or one for another registry), and writes the digest of what is
/// now at the destination (the source's) to `*out_digest` (owned by the
/// caller; free it with `regc_string_free()`).
///
/// At the destination the image is tagged `dst_tag`, or, when that is NULL,
/// with the source's tag (a source named by digest is copied by digest).
/// Blobs the destination has are not sent; on the same registry they are
/// mounted; every manifest goes as the exact bytes the source had, children
/// before the index that lists them, so every digest stays the same. A copy
/// stopped half-way and started again sends only what is missing.
///
/// From an index, one platform is copied: `platform` ("os/arch[/variant]"),
/// or the host's when it is NULL; with `all_platforms` the whole index and
/// every manifest it lists (`platform` must then be NULL). `jobs` blobs go
/// at once (1 to 64; 0 means the default, 4).
///
/// `progress` (may be NULL) is called with `user_data` as bytes are sent,
/// **from the copy's worker threads, possibly several at once**, exactly as
/// for `regc_pull()` (see `regc_progress_fn`; `done` and `total` count the
/// bytes to send). A non-zero answer cancels the copy: `regc_copy()` returns
/// `REGC_ERR_CANCELLED` once every worker has stopped; no callback happens
/// after it returns.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `dst_tag`,
/// `platform`, `progress` and `user_data`), non-UTF-8 or invalid argument
/// (also `jobs` above 64, or a platform together with `all_platforms`),
/// `REGC_ERR_NOT_FOUND` (also for a platform the image does not have),
/// `REGC_ERR_AUTH` when either side refuses, `REGC_ERR_CANCELLED`, or another
/// failure; `*out_digest` is written only on success. Thread-safe.
///
/// # Safety
///
/// `src_client`, `dst_client`: NULL or live clients, not freed before this
/// returns; the strings: NULL or NUL-terminated; `progress`: NULL or a
/// function safe to call from any thread with `user_data`; `out_digest`:
/// NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn regc_copy(
    src_client: *const regc_client,
    src_repository: *const c_char,
    src_reference: *const c_char,
    dst_client: *const regc_client,
    dst_repository: *const c_char,
    dst_tag: *const c_char,
    platform: *const c_char,
    all_platforms: bool,
    jobs: u32,
    progress: regc_progress_fn,
    user_data: *mut c_void,
    out_digest: *mut *mut c_char,
) -> regc_status {
    boundary(regc_status::REGC_ERR_PANIC, || {
        clear_last_error();
        let callback = Callback::new(progress, user_data);
        let result = (|| {
            // SAFETY: forwarded from the caller.
            let (src, src_repository, src_reference, dst, dst_repository) = unsafe {
                (
                    arg(src_client, "src_client")?,
                    arg_str(src_repository, "src_repository")?,
                    arg_str(src_reference, "src_reference")?,
                    arg(dst_client, "dst_client")?,
                    arg_str(dst_repository, "dst_repository")?,
                )
            };
            // SAFETY: forwarded from the caller.
            let (dst_tag, platform) = unsafe {
                (
                    arg_opt_str(dst_tag, "dst_tag")?,
                    arg_opt_str(platform, "platform")?,
                )
            };
            let out = Out::new(out_digest, "out_digest")?;
            let mut options = CopyOptions::new().jobs(self::jobs(jobs)?);
            if let Some(t) = dst_tag {
                options = options.tag(t)?;
            }
            match (platform, all_platforms) {
                (Some(_), true) => {
                    return Err(Error::invalid(
                        "give either a platform or all_platforms, not both",
                    ))
                }
                (Some(p), false) => options = options.platform(Platform::parse(p)?),
                (None, true) => options = options.all_platforms(),
                (None, false) => {}
            }
            if let Some(cb) = callback.clone() {
                options = options.progress(move |p| cb.call(p));
            }
            let report = src.client().copy(
                src_repository,
                src_reference,
                dst.client(),
                dst_repository,
                &options,
            )?;
            // SAFETY: forwarded from the caller.
            unsafe { out.write_string(report.digest.to_string(), "digest") }
        })();
        outcome(result, callback.as_deref())
    })
}

/// What `regc_referrers()` hands over.
#[derive(Serialize)]
struct ReferrersJson<'a> {
    manifests: &'a [Descriptor],
    from_tag_schema: bool,
}

/// Lists the referrers of the manifest `digest` ("sha256:…") of
/// `repository` (the manifests whose `subject` it is), only those of
/// `artifact_type` when that is not NULL, and writes them as a JSON object
/// to `*out_json` (owned by the caller; free it with `regc_string_free()`):
/// `{"manifests": [descriptors], "from_tag_schema": bool}`, each descriptor
/// as OCI writes them ("mediaType", "digest", "size", and "artifactType" and
/// "annotations" when there are some). The registry's referrers API is
/// used, every page; a registry without it (404) is asked for the referrers
/// tag (`sha256-<hex>`) instead, and "from_tag_schema" is then true. No such
/// tag means no referrers: an empty list, not an error.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `artifact_type`),
/// non-UTF-8 or invalid argument (also an artifact type that is no media
/// type), or another failure; `*out_json` is written only on success.
/// Thread-safe.
///
/// # Safety
///
/// `client`: NULL or a live client; `repository`, `digest`,
/// `artifact_type`: NULL or NUL-terminated; `out_json`: NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn regc_referrers(
    client: *const regc_client,
    repository: *const c_char,
    digest: *const c_char,
    artifact_type: *const c_char,
    out_json: *mut *mut c_char,
) -> regc_status {
    status(|| {
        // SAFETY: forwarded from the caller.
        let (client, repository, digest, artifact_type) = unsafe {
            (
                arg(client, "client")?,
                arg_str(repository, "repository")?,
                arg_str(digest, "digest")?,
                arg_opt_str(artifact_type, "artifact_type")?,
            )
        };
        let out = Out::new(out_json, "out_json")?;
        let found = client
            .client()
            .referrers(repository, digest, artifact_type)?;
        let json = serde_json::to_string(&ReferrersJson {
            manifests: &found.descriptors,
            from_tag_schema: found.from_tag_schema,
        })
        .map_err(|e| Error::decode_caused("referrers as JSON", e))?;
        // SAFETY: forwarded from the caller.
        unsafe { out.write_string(json, "referrers JSON") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    /// What the test callback does: give `left` bytes of 7s at most
    /// `piece` at a time, then answer `end` (0, or an error).
    struct Script {
        left: usize,
        piece: usize,
        end: isize,
        calls: usize,
    }

    unsafe extern "C" fn scripted(user_data: *mut c_void, buf: *mut u8, len: usize) -> isize {
        // SAFETY: the tests pass a live `Script`; `buf` has `len` bytes.
        let s = unsafe { &mut *user_data.cast::<Script>() };
        s.calls += 1;
        if s.left == 0 {
            return s.end;
        }
        let n = s.left.min(s.piece).min(len);
        // SAFETY: as above.
        unsafe { ptr::write_bytes(buf, 7, n) };
        s.left -= n;
        n as isize
    }

    fn reader(script: &mut Script) -> CallbackReader {
        CallbackReader {
            f: scripted,
            user_data: (script as *mut Script).cast(),
            finished: None,
        }
    }

    #[test]
    fn a_callback_is_read_to_its_end_and_not_called_after_it() {
        let mut script = Script {
            left: 10,
            piece: 4,
            end: 0,
            calls: 0,
        };
        let mut r = reader(&mut script);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, vec![7u8; 10]);
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert_eq!(r.read(&mut []).unwrap(), 0);
        drop(r);
        assert_eq!(script.calls, 4, "3 pieces and the end, nothing after");
    }

    #[test]
    fn a_negative_answer_is_an_error_that_stays_and_is_not_retried() {
        for end in [-1, -42, isize::MIN] {
            let mut script = Script {
                left: 3,
                piece: 3,
                end,
                calls: 0,
            };
            let mut r = reader(&mut script);
            let mut buf = [0u8; 8];
            assert_eq!(r.read(&mut buf).unwrap(), 3);
            let e = r.read(&mut buf).unwrap_err();
            assert_ne!(e.kind(), io::ErrorKind::Interrupted);
            assert_eq!(
                e.to_string(),
                format!("the read callback reported an error ({end})")
            );
            let again = r.read(&mut buf).unwrap_err();
            assert_eq!(again.to_string(), e.to_string());
            drop(r);
            assert_eq!(script.calls, 2);
        }
    }

    #[test]
    fn an_answer_past_the_buffer_is_an_error() {
        let mut script = Script {
            left: 100,
            piece: 100,
            end: 0,
            calls: 0,
        };
        // The callback writes only `len` bytes but claims more.
        unsafe extern "C" fn liar(user_data: *mut c_void, buf: *mut u8, len: usize) -> isize {
            // SAFETY: forwarded.
            unsafe { scripted(user_data, buf, len) };
            len as isize + 1
        }
        let mut r = CallbackReader {
            f: liar,
            user_data: (&mut script as *mut Script).cast(),
            finished: None,
        };
        let mut buf = [0u8; 16];
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the read callback returned 17, more than the 16 bytes it was given"
        );
        assert!(r.read(&mut buf).is_err());
        drop(r);
        assert_eq!(script.calls, 1);
    }

    #[test]
    fn null_arguments_are_refused_before_anything_else() {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: NULL and valid pointers only.
        let s = unsafe {
            regc_blob_upload_callback(
                ptr::null(),
                c"a/b".as_ptr(),
                Some(scripted),
                ptr::null_mut(),
                ptr::null(),
                &mut out,
            )
        };
        assert_eq!(s, regc_status::REGC_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
        // SAFETY: as above.
        let s = unsafe {
            regc_referrers(
                ptr::null(),
                c"a/b".as_ptr(),
                c"sha256:x".as_ptr(),
                ptr::null(),
                &mut out,
            )
        };
        assert_eq!(s, regc_status::REGC_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
    }
}
