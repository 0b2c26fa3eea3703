//! A blob of known size streamed in one `PATCH`, with the last bytes sent
//! kept so that a dropped connection can be resumed.
//!
//! One `PATCH` of the whole blob is what makes an upload as fast as
//! `curl -T`: on distribution 2.8, 32 `PATCH`es of 8 MiB take two to three
//! times as long as one of 256 MiB. The calling thread reads the source in
//! blocks, hashes them and keeps the last [`WINDOW`] bytes; a second thread
//! sends them as they come (through a short channel), so reading and
//! hashing overlap with sending. When the exchange fails, the registry says
//! how much it has, and a new `PATCH` sends the rest from there: from the
//! kept bytes, then on from the source. The registry cannot have lost more
//! than the kernel's buffers held, far less than the window.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::request::{Part, Payload};
use crate::{Error, Result};

use super::session::{read_full, Upload};

/// Bytes read from the source at a time.
const BLOCK: usize = 256 << 10;
/// Bytes sent last that are kept for a resume.
pub(super) const WINDOW: usize = 8 << 20;
/// Blocks on their way to the sending thread.
const IN_FLIGHT: usize = 4;

/// The last bytes read, as the blocks they came in.
struct Window {
    /// `(offset in the blob, bytes)`, oldest first.
    blocks: VecDeque<(u64, Part)>,
    kept: usize,
}

impl Window {
    fn new() -> Window {
        Window {
            blocks: VecDeque::new(),
            kept: 0,
        }
    }

    fn push(&mut self, offset: u64, part: Part) {
        self.kept += part.end - part.start;
        self.blocks.push_back((offset, part));
        while self.kept > WINDOW {
            match self.blocks.front() {
                Some((_, p)) if self.kept - (p.end - p.start) >= WINDOW => {
                    self.kept -= p.end - p.start;
                    self.blocks.pop_front();
                }
                _ => break,
            }
        }
    }

    /// The first offset still kept (`end` when nothing is).
    fn start(&self, end: u64) -> u64 {
        self.blocks.front().map_or(end, |(o, _)| *o)
    }

    /// The kept bytes from `offset` on.
    fn from(&self, offset: u64) -> Vec<Part> {
        let mut out = Vec::new();
        for (o, p) in &self.blocks {
            let len = (p.end - p.start) as u64;
            if o + len <= offset {
                continue;
            }
            let skip = offset.saturating_sub(*o) as usize;
            out.push(Part {
                bytes: p.bytes.clone(),
                start: p.start + skip,
                end: p.end,
            });
        }
        out
    }
}

/// The sending thread's side of the channel: the blocks, as one stream.
struct Blocks {
    rx: Receiver<Part>,
    current: Option<Part>,
}

impl Read for Blocks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(p) = &mut self.current {
                if p.start < p.end {
                    let n = buf.len().min(p.end - p.start);
                    buf[..n].copy_from_slice(&p.bytes[p.start..p.start + n]);
                    p.start += n;
                    return Ok(n);
                }
            }
            match self.rx.recv() {
                Ok(p) => self.current = Some(p),
                // The reading side is done (or gave up): the body ends.
                Err(_) => return Ok(0),
            }
        }
    }
}

impl Upload<'_> {
    /// Sends the blob of `size` bytes (more than nothing) in one `PATCH`,
    /// resumed as often as the retry budget allows.
    pub(super) fn stream(&mut self, source: &mut dyn Read, size: u64) -> Result<()> {
        let mut window = Window::new();
        loop {
            let from = self.sent;
            let (tx, rx) = sync_channel::<Part>(IN_FLIGHT);
            let body = Blocks { rx, current: None };
            let client = self.client;
            let what = self.what();
            let request =
                self.patch_request(&what, from, size - 1, Payload::stream(body, size - from));
            let (fed, outcome) = std::thread::scope(|s| {
                let sender = s.spawn(|| client.send(&request));
                let fed = self.feed(&mut window, from, source, size, &tx);
                drop(tx);
                let outcome = sender
                    .join()
                    .unwrap_or_else(|_| Err(Error::invalid("the upload's sending thread failed")));
                (fed, outcome)
            });
            fed?;
            let Some(error) = self.patched(outcome, size)? else {
                return Ok(());
            };
            let offset = self.resume_offset(error, window.start(self.read), self.read)?;
            self.sent = offset;
            if offset == size {
                return Ok(());
            }
        }
    }

    /// Feeds one `PATCH`: the kept bytes from `from`, then the rest of the
    /// source, block by block (hashed, counted, kept). Stops early, without
    /// an error, when the exchange no longer takes bytes; an error is the
    /// source's (a read failure, or a size other than announced).
    fn feed(
        &mut self,
        window: &mut Window,
        from: u64,
        source: &mut dyn Read,
        size: u64,
        tx: &SyncSender<Part>,
    ) -> Result<()> {
        for part in window.from(from) {
            if tx.send(part).is_err() {
                return Ok(());
            }
        }
        while self.read < size {
            let n = usize::try_from(size - self.read).map_or(BLOCK, |left| left.min(BLOCK));
            let mut block = vec![0u8; n];
            let got = read_full(source, &mut block)?;
            let last = got < n || self.read + n as u64 == size;
            let bytes: Arc<[u8]> = if got == n {
                block.into()
            } else {
                block[..got].into()
            };
            let offset = self.read;
            self.account(&bytes, last)?;
            let part = Part {
                end: bytes.len(),
                bytes,
                start: 0,
            };
            window.push(offset, part.clone());
            if tx.send(part).is_err() {
                return Ok(());
            }
        }
        // A source with more than announced is refused here, before the
        // commit.
        let mut more = [0u8; 1];
        if read_full(source, &mut more)? > 0 {
            self.account(&more, true)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(bytes: &[u8]) -> Part {
        Part {
            bytes: bytes.into(),
            start: 0,
            end: bytes.len(),
        }
    }

    #[test]
    fn the_window_keeps_at_least_its_size_and_resends_from_any_kept_offset() {
        let mut w = Window::new();
        let block = vec![7u8; BLOCK];
        let blocks = WINDOW / BLOCK + 3;
        for i in 0..blocks {
            w.push((i * BLOCK) as u64, part(&block));
        }
        let end = (blocks * BLOCK) as u64;
        assert!(w.kept >= WINDOW && w.kept < WINDOW + BLOCK, "{}", w.kept);
        assert_eq!(w.start(end), end - w.kept as u64);
        let from = end - 1000;
        let parts = w.from(from);
        let total: usize = parts.iter().map(|p| p.end - p.start).sum();
        assert_eq!(total, 1000);
        assert_eq!(w.from(end).len(), 0);
        assert_eq!(Window::new().start(5), 5);
    }

    #[test]
    fn blocks_read_as_one_stream_and_end_when_the_sender_does() {
        let (tx, rx) = sync_channel(2);
        let mut reader = Blocks { rx, current: None };
        std::thread::spawn(move || {
            for b in [&b"ab"[..], b"", b"cde"] {
                tx.send(part(b)).unwrap();
            }
        });
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcde");
    }
}
