//! [`BlobReader::copy_to`](super::BlobReader::copy_to) for a blob of some
//! size: hashing runs on its own thread while the caller's thread reads the
//! next bytes and writes the last ones, so a download costs about what its
//! hashing costs instead of hashing plus reading plus writing.
//!
//! The caller's thread reads the body into one of [`BUFFERS`] reused
//! buffers of [`CHUNK`] bytes (filled by as many reads as it takes, so the
//! hasher gets large pieces), writes it to `out`, and hands it to the
//! hasher, which gives it back once hashed. Memory stays at
//! `BUFFERS × CHUNK` whatever the blob's size. The body and `out` never
//! leave the caller's thread; the hasher owns only the hash state, so an
//! error on either side ends the other at once (a closed channel) and the
//! hasher thread is joined before returning.

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::thread;

use url::Url;

use crate::digest::Digest;
use crate::http::body_read_error;
use crate::{Error, Result};

/// Bytes handed to the hasher at a time.
pub(super) const CHUNK: usize = 256 << 10;
/// Buffers in flight: one being read, the others being hashed or queued.
const BUFFERS: usize = 4;
/// Below this announced size the blob is copied on the caller's thread
/// alone: starting a thread costs more than the overlap saves.
pub(super) const MIN_SIZE: u64 = 1 << 20;

/// Copies `body` to `out` and checks it against `expected` (and
/// `expected_len`) at the end, hashing on a second thread; returns the
/// bytes copied. The checks and their errors are [`VerifyingReader`]'s
/// (`crate::digest`): a digest or length mismatch is
/// [`Error::DigestMismatch`], a read failure names `url`.
///
/// [`VerifyingReader`]: crate::digest::VerifyingReader
pub(super) fn copy_verified(
    body: &mut dyn Read,
    expected: &Digest,
    expected_len: Option<u64>,
    url: &Url,
    out: &mut dyn Write,
) -> Result<u64> {
    let (to_hash, hash_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(BUFFERS);
    let (free_tx, free_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    let hasher = expected.hasher();
    thread::scope(|scope| {
        let hashing = thread::Builder::new()
            .name("regc-blob-hash".into())
            .spawn_scoped(scope, move || {
                let mut hasher = hasher;
                // Ends when the reading side drops its sender: at the end
                // of the blob, or at once on an error there.
                for (buf, n) in hash_rx {
                    hasher.update(&buf[..n]);
                    // The reader may have stopped; the buffer just goes.
                    let _ = free_tx.send(buf);
                }
                hasher.finish()
            })
            .map_err(|e| Error::io("cannot start the blob hashing thread", e))?;
        let copied = copy_chunks(body, expected_len, url, out, &to_hash, &free_rx);
        drop(to_hash);
        let actual = hashing.join().map_err(|_| {
            Error::io(
                "blob hashing thread failed",
                io::Error::other("the hashing thread panicked"),
            )
        })?;
        let total = copied.map_err(|e| e.into_error(expected, expected_len))?;
        let len_ok = expected_len.is_none_or(|want| want == total);
        if actual != *expected || !len_ok {
            let actual = match expected_len {
                Some(_) => format!("{actual} ({total} bytes)"),
                None => actual.to_string(),
            };
            return Err(Error::digest_mismatch(
                expected_label(expected, expected_len),
                actual,
            ));
        }
        Ok(total)
    })
}

/// How the reading side stopped early.
enum Stop {
    Failed(Error),
    /// More bytes than announced: at least this many.
    TooLong(u64),
}

impl Stop {
    fn into_error(self, expected: &Digest, expected_len: Option<u64>) -> Error {
        match self {
            Stop::Failed(e) => e,
            Stop::TooLong(read) => Error::digest_mismatch(
                expected_label(expected, expected_len),
                format!(
                    "more than {} bytes (at least {read})",
                    expected_len.unwrap_or(0)
                ),
            ),
        }
    }
}

fn expected_label(expected: &Digest, expected_len: Option<u64>) -> String {
    match expected_len {
        Some(n) => format!("{expected} ({n} bytes)"),
        None => expected.to_string(),
    }
}

/// The caller's side: read a chunk, write it, pass it to the hasher, take
/// a free buffer (a new one while fewer than [`BUFFERS`] exist).
fn copy_chunks(
    body: &mut dyn Read,
    expected_len: Option<u64>,
    url: &Url,
    out: &mut dyn Write,
    to_hash: &mpsc::SyncSender<(Vec<u8>, usize)>,
    free: &mpsc::Receiver<Vec<u8>>,
) -> std::result::Result<u64, Stop> {
    let hasher_gone = || {
        Stop::Failed(Error::io(
            "blob hashing thread failed",
            io::Error::other("the hashing thread stopped"),
        ))
    };
    let mut made = 0;
    let mut total = 0u64;
    loop {
        let mut buf = if made < BUFFERS {
            made += 1;
            vec![0u8; CHUNK]
        } else {
            free.recv().map_err(|_| hasher_gone())?
        };
        let n = fill(body, &mut buf).map_err(|e| Stop::Failed(read_error(e, url)))?;
        if n == 0 {
            return Ok(total);
        }
        total = total.checked_add(n as u64).ok_or(Stop::TooLong(u64::MAX))?;
        if let Some(want) = expected_len {
            if total > want {
                return Err(Stop::TooLong(total));
            }
        }
        out.write_all(&buf[..n])
            .map_err(|e| Stop::Failed(Error::io("cannot write blob", e)))?;
        to_hash.send((buf, n)).map_err(|_| hasher_gone())?;
    }
}

/// Reads until `buf` is full or the body ends; the bytes read.
fn fill(body: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match body.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k.min(buf.len() - n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A body read failure, as [`BlobReader`](super::BlobReader)'s `read`
/// reports it: this crate's error when the reader already carried one,
/// else the failure naming the blob's URL.
fn read_error(e: io::Error, url: &Url) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        Error::from_io(e)
    } else {
        body_read_error(e, url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn url() -> Url {
        Url::parse("http://registry.test/v2/a/blobs/x").unwrap()
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// A reader that hands out at most `step` bytes per read, with an
    /// `Interrupted` now and then.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        calls: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 5 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn copies_and_verifies_blobs_of_every_shape() {
        // Empty, smaller than a chunk, exactly chunks, chunks and a bit,
        // more than BUFFERS chunks (buffers come back and are reused).
        for len in [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            3 * CHUNK + 17,
            (BUFFERS + 3) * CHUNK + 5,
        ] {
            let blob = data(len);
            let digest = Digest::sha256(&blob);
            for step in [1 << 20, 4096, 1000] {
                if len > 2 * CHUNK && step < 4096 {
                    continue;
                }
                for announced in [Some(len as u64), None] {
                    let mut out = Vec::new();
                    let mut body = Trickle {
                        data: &blob,
                        step,
                        calls: 0,
                    };
                    let n = copy_verified(&mut body, &digest, announced, &url(), &mut out)
                        .unwrap_or_else(|e| panic!("{len} {step} {announced:?}: {e}"));
                    assert_eq!(n, len as u64);
                    assert!(out == blob, "{len} {step} {announced:?}");
                }
            }
        }
    }

    #[test]
    fn a_wrong_digest_or_length_is_a_mismatch_naming_both() {
        let blob = data(CHUNK * 2 + 3);
        let other = Digest::sha256(b"something else");
        let mut out = Vec::new();
        let e = copy_verified(&mut &blob[..], &other, None, &url(), &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");
        let text = e.to_string();
        assert!(text.contains(other.as_str()), "{text}");
        assert!(text.contains(Digest::sha256(&blob).as_str()), "{text}");

        let right = Digest::sha256(&blob);
        let len = blob.len() as u64;
        // Shorter than announced: the right bytes, but not all of them.
        let e = copy_verified(
            &mut &blob[..],
            &right,
            Some(len + 1),
            &url(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");
        assert!(e.to_string().contains(&format!("({len} bytes)")), "{e}");
        // Longer than announced: stopped as soon as it goes past.
        let e =
            copy_verified(&mut &blob[..], &right, Some(10), &url(), &mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");
        assert!(e.to_string().contains("more than 10 bytes"), "{e}");
    }

    #[test]
    fn blob_readers_copy_through_the_pipeline_or_the_loop_and_both_verify() {
        use super::super::BlobReader;
        let reader = |blob: &[u8], digest: &Digest, size: Option<u64>| {
            let body: Box<dyn Read + Send> = Box::new(io::Cursor::new(blob.to_vec()));
            BlobReader::new(body, digest.clone(), size, url())
        };
        // Large and untouched (the pipeline), small (the loop), and large
        // but partly read already (the loop, going on from where it is).
        for len in [MIN_SIZE as usize + CHUNK + 9, 1000] {
            let blob = data(len);
            let right = Digest::sha256(&blob);
            let wrong = Digest::sha256(b"other");
            for size in [Some(len as u64), None] {
                let mut out = Vec::new();
                assert_eq!(
                    reader(&blob, &right, size).copy_to(&mut out).unwrap(),
                    len as u64
                );
                assert!(out == blob);
                let e = reader(&blob, &wrong, size)
                    .copy_to(&mut Vec::new())
                    .unwrap_err();
                assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");

                let mut started = reader(&blob, &right, size);
                let mut head = [0u8; 10];
                started.read_exact(&mut head).unwrap();
                let mut out = head.to_vec();
                assert_eq!(started.copy_to(&mut out).unwrap(), len as u64 - 10);
                assert!(out == blob);
                let mut started = reader(&blob, &wrong, size);
                started.read_exact(&mut head).unwrap();
                let e = started.copy_to(&mut Vec::new()).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::DigestMismatch, "{e}");
            }
        }
    }

    #[test]
    fn read_and_write_failures_are_reported_and_end_the_hasher() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
                }
                let n = self.0.min(buf.len());
                self.0 -= n;
                buf[..n].fill(1);
                Ok(n)
            }
        }
        let d = Digest::sha256(b"x");
        let e =
            copy_verified(&mut Broken(CHUNK * 3), &d, None, &url(), &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("registry.test"), "{e}");
        assert_ne!(e.kind(), ErrorKind::DigestMismatch, "{e}");

        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let blob = data(CHUNK * 3);
        let e = copy_verified(
            &mut &blob[..],
            &Digest::sha256(&blob),
            None,
            &url(),
            &mut Full,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("cannot write blob"), "{e}");
    }
}
