//! `regc_pull`: an image into an OCI image layout directory, with a
//! progress callback that may cancel.

use std::ffi::{c_char, c_int, c_void, CString};
use std::io;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::client::regc_client;
use super::{arg, arg_opt_str, arg_str, boundary, clear_last_error, record, regc_status};
use crate::{Error, ErrorKind, Platform, PullOptions, PullProgress, DEFAULT_PULL_JOBS};

/// A progress callback for `regc_pull()`: `digest` ("sha256:…", valid only
/// during the call) is the blob this call is about, `blob_done` of its
/// `blob_total` bytes are in hand, and `done` of the pull's `total` bytes
/// (every blob of the image, manifests included; a blob already in the
/// layout counts as done at once). `done` can go back when a registry
/// answers a resumed download with the whole blob.
///
/// Called from the pull's worker threads, possibly several at once: what
/// `user_data` points to must be safe to use from any thread (atomics or a
/// lock). It must not free the client nor call `regc_pull()` on the same
/// directory. Returning 0 goes on; any other value cancels the pull, which
/// then returns `REGC_ERR_CANCELLED` once the workers have stopped (a few
/// more calls may happen meanwhile).
pub type regc_progress_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        digest: *const c_char,
        blob_done: u64,
        blob_total: u64,
        done: u64,
        total: u64,
    ) -> c_int,
>;

/// The caller's callback and data, handed to the worker threads (of a
/// pull, or of a copy: `regc_copy()` takes the same callback).
pub(super) struct Callback {
    f: unsafe extern "C" fn(*mut c_void, *const c_char, u64, u64, u64, u64) -> c_int,
    user_data: *mut c_void,
    cancelled: AtomicBool,
}

// SAFETY: `regc_pull()` documents that the callback is called from other
// threads and that `user_data` must be usable from any thread; the pointer
// is only handed back to the callback, never dereferenced here.
unsafe impl Send for Callback {}
// SAFETY: as above; the only state of our own is an atomic.
unsafe impl Sync for Callback {}

impl Callback {
    /// The callback of a call, or `None` when it has none.
    pub(super) fn new(progress: regc_progress_fn, user_data: *mut c_void) -> Option<Arc<Callback>> {
        progress.map(|f| {
            Arc::new(Callback {
                f,
                user_data,
                cancelled: AtomicBool::new(false),
            })
        })
    }

    pub(super) fn call(&self, p: &PullProgress<'_>) -> ControlFlow<()> {
        // A digest is "algorithm:hex", never with a NUL byte; stop rather
        // than hand C a changed value if that ever fails.
        let Ok(digest) = CString::new(p.digest.as_str()) else {
            self.cancelled.store(true, Ordering::SeqCst);
            return ControlFlow::Break(());
        };
        // SAFETY: the caller of `regc_pull()` guarantees `f` is a valid
        // callback for `user_data`; `digest` lives through the call.
        let answer = unsafe {
            (self.f)(
                self.user_data,
                digest.as_ptr(),
                p.blob_done,
                p.blob_total,
                p.done,
                p.total,
            )
        };
        if answer == 0 {
            ControlFlow::Continue(())
        } else {
            self.cancelled.store(true, Ordering::SeqCst);
            ControlFlow::Break(())
        }
    }
}

/// Whether `e` is the pull's (or copy's) own "stopped by the progress
/// callback" error: local I/O interrupted.
fn is_interrupted(e: &Error) -> bool {
    e.kind() == ErrorKind::Io
        && std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<io::Error>())
            .is_some_and(|io| io.kind() == io::ErrorKind::Interrupted)
}

/// The status of a pull or copy made with `callback`: its error recorded,
/// and `REGC_ERR_CANCELLED` when the callback stopped it.
pub(super) fn outcome(result: Result<(), Error>, callback: Option<&Callback>) -> regc_status {
    match result {
        Ok(()) => regc_status::REGC_OK,
        Err(e) => {
            let status = record(&e);
            let cancelled = callback.is_some_and(|c| c.cancelled.load(Ordering::SeqCst));
            if cancelled && is_interrupted(&e) {
                regc_status::REGC_ERR_CANCELLED
            } else {
                status
            }
        }
    }
}

/// The blobs at once of a pull or copy: 0 means the default.
pub(super) fn jobs(jobs: u32) -> Result<usize, Error> {
    match jobs {
        0 => Ok(DEFAULT_PULL_JOBS),
        n => usize::try_from(n).map_err(|_| Error::invalid("jobs out of range")),
    }
}

/// Pulls `repository` at `reference` (a tag or digest) into the OCI image
/// layout at `dir` (made when missing; other images in it are kept), with
/// `index.json` naming the image by `reference`
/// (`org.opencontainers.image.ref.name`).
///
/// From an index, one platform is pulled: `platform` ("os/arch[/variant]",
/// such as "linux/arm64"), or the host's when it is NULL; with
/// `all_platforms` every entry and the index itself are pulled, and
/// `index.json` names the index (`platform` must then be NULL). `jobs` blobs
/// are fetched at once (1 to 64; 0 means the default, 4). Blobs are
/// verified (size and digest) before they get their name, a blob already in
/// the layout and valid is not fetched again (so pulling again after an
/// interruption fetches only what is missing), and a dropped connection is
/// resumed with `Range`.
///
/// `progress` (may be NULL) is called with `user_data` as bytes arrive,
/// **from the worker threads, possibly several at once**; see
/// `regc_progress_fn`. A non-zero answer cancels the pull: `regc_pull()`
/// returns `REGC_ERR_CANCELLED` after every worker has stopped; no callback
/// happens after `regc_pull()` returns.
///
/// Returns `REGC_ERR_INVALID_ARGUMENT` for a NULL (except `platform` and
/// `progress`), non-UTF-8 or invalid argument (also for `jobs` above 64, or a
/// platform together with `all_platforms`), `REGC_ERR_NOT_FOUND` (also for a
/// platform the image does not have), `REGC_ERR_CANCELLED`, `REGC_ERR_IO`
/// when the layout cannot be written, or another failure. Thread-safe (two
/// pulls into the same directory at once are not).
///
/// # Safety
///
/// `client`: NULL or a live client, not freed before this returns;
/// `repository`, `reference`, `dir`, `platform`: NULL or NUL-terminated;
/// `progress`: NULL or a function safe to call from any thread with
/// `user_data`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn regc_pull(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    dir: *const c_char,
    platform: *const c_char,
    all_platforms: bool,
    jobs: u32,
    progress: regc_progress_fn,
    user_data: *mut c_void,
) -> regc_status {
    boundary(regc_status::REGC_ERR_PANIC, || {
        clear_last_error();
        let callback = Callback::new(progress, user_data);
        // SAFETY: forwarded from the caller.
        let result = unsafe {
            pull(
                client,
                repository,
                reference,
                dir,
                platform,
                all_platforms,
                jobs,
                callback.clone(),
            )
        };
        outcome(result, callback.as_deref())
    })
}

/// `regc_pull()` once its callback is wrapped.
///
/// # Safety
///
/// As for `regc_pull()`.
#[allow(clippy::too_many_arguments)]
unsafe fn pull(
    client: *const regc_client,
    repository: *const c_char,
    reference: *const c_char,
    dir: *const c_char,
    platform: *const c_char,
    all_platforms: bool,
    jobs: u32,
    callback: Option<Arc<Callback>>,
) -> Result<(), Error> {
    // SAFETY: forwarded from the caller.
    let (client, repository, reference, dir, platform) = unsafe {
        (
            arg(client, "client")?,
            arg_str(repository, "repository")?,
            arg_str(reference, "reference")?,
            arg_str(dir, "dir")?,
            arg_opt_str(platform, "platform")?,
        )
    };
    let mut options = PullOptions::new().jobs(self::jobs(jobs)?);
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
    if let Some(cb) = callback {
        options = options.progress(move |p| cb.call(p));
    }
    client.client().pull(repository, reference, dir, &options)?;
    Ok(())
}
