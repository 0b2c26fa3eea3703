//! What pull and copy share: the worker pool that moves blobs several at a
//! time (largest first, the first failure stopping the others) and the
//! progress tracker the workers report to, which a caller's callback can
//! use to cancel.

use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::digest::Digest;
use crate::manifest::Descriptor;
use crate::text::quote;
use crate::{Error, Result};

use super::PullProgress;

/// A progress callback, as pull and copy take it.
pub(super) type ProgressFn = dyn Fn(&PullProgress<'_>) -> ControlFlow<()> + Send + Sync;

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `work` on every blob, `jobs` at a time, largest first. The first
/// failure stops the other workers (at their next chunk, through
/// `tracker`) and is returned; a cancelled tracker is an error too.
pub(super) fn in_parallel(
    blobs: &[Descriptor],
    jobs: usize,
    tracker: &Tracker<'_>,
    work: impl Fn(&Descriptor) -> Result<()> + Sync,
) -> Result<()> {
    let mut order: Vec<&Descriptor> = blobs.iter().collect();
    order.sort_by_key(|d| std::cmp::Reverse(d.size));
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(order.len()) {
            scope.spawn(|| loop {
                if tracker.stop.load(Ordering::SeqCst) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(d) = order.get(i) else {
                    return;
                };
                if let Err(e) = work(d) {
                    let mut first = lock(&failure);
                    // A worker stopped because another failed adds nothing.
                    if first.is_none() && !is_stopped(&e) {
                        *first = Some(e);
                    }
                    tracker.stop.store(true, Ordering::SeqCst);
                    return;
                }
            });
        }
    });
    if let Some(e) = lock(&failure).take() {
        return Err(e);
    }
    if tracker.cancelled.load(Ordering::SeqCst) {
        return Err(tracker.cancel_error());
    }
    Ok(())
}

/// Progress, shared by the workers, and the flags that stop them.
pub(super) struct Tracker<'a> {
    /// `pull` or `copy`, for messages.
    pub action: &'static str,
    pub name: &'a str,
    pub total: u64,
    pub done: AtomicU64,
    /// Set when a worker failed or the callback cancelled: the others stop
    /// at their next chunk.
    pub stop: AtomicBool,
    pub cancelled: AtomicBool,
    pub callback: Option<&'a ProgressFn>,
}

impl Tracker<'_> {
    /// `added` more bytes in hand, `blob_done` of `digest`'s `blob_total`;
    /// tells the callback. Fails when the pull is to stop.
    pub(super) fn advance(
        &self,
        digest: &Digest,
        blob_done: u64,
        blob_total: u64,
        added: u64,
    ) -> Result<()> {
        let done = self
            .done
            .fetch_add(added, Ordering::SeqCst)
            .saturating_add(added);
        if self.stop.load(Ordering::SeqCst) {
            return Err(self.stopped());
        }
        if let Some(f) = self.callback {
            let p = PullProgress {
                digest,
                blob_done,
                blob_total,
                done,
                total: self.total,
            };
            if f(&p).is_break() {
                self.cancelled.store(true, Ordering::SeqCst);
                self.stop.store(true, Ordering::SeqCst);
                return Err(self.cancel_error());
            }
        }
        Ok(())
    }

    /// `dropped` bytes no longer in hand.
    pub(super) fn back(&self, dropped: u64) {
        let _ = self
            .done
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| {
                Some(d.saturating_sub(dropped))
            });
    }

    pub(super) fn cancel_error(&self) -> Error {
        Error::io(
            format!("{} cancelled", self.action),
            io::Error::new(
                io::ErrorKind::Interrupted,
                format!(
                    "the progress callback stopped the {} of {}",
                    self.action,
                    quote(self.name)
                ),
            ),
        )
    }

    /// What a worker returns when it stops because of another's failure.
    fn stopped(&self) -> Error {
        if self.cancelled.load(Ordering::SeqCst) {
            self.cancel_error()
        } else {
            Error::io(
                format!("{} stopped", self.action),
                io::Error::other(Stopped),
            )
        }
    }
}

/// The marker of a worker stopped by another's failure.
#[derive(Debug)]
struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("another transfer failed")
    }
}

impl std::error::Error for Stopped {}

pub(super) fn is_stopped(e: &Error) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<io::Error>())
        .and_then(|e| e.get_ref())
        .is_some_and(|inner| inner.is::<Stopped>())
}
