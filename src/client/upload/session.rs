//! One upload session, from its first chunk to the `PUT` that completes
//! it: the source read one chunk at a time into one reused buffer, each
//! chunk kept until the registry has taken it, and a dropped exchange
//! resumed from the offset the registry reports.

use std::io::{self, Read};
use std::sync::Arc;

use url::Url;

use crate::auth::scope::Scope;
use crate::digest::{Digest, Hasher};
use crate::http::{header, Method};
use crate::request::{Part, Payload, Request, Response};
use crate::text::quote;
use crate::{Error, ErrorKind, Result};

use super::super::manifests::announced_digest;
use super::super::Client;
use super::stream::WINDOW;
use super::{BlobSource, PushedBlob, UploadOptions, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE};

pub(super) struct Session {
    pub location: Url,
    /// The registry's `OCI-Chunk-Min-Length`.
    pub min_chunk: Option<u64>,
}

/// One upload in progress.
pub(super) struct Upload<'a> {
    pub client: &'a Client,
    pub repository: &'a str,
    pub session: Session,
    pub options: &'a UploadOptions,
    /// Told the bytes sent after each chunk; an error stops the upload.
    pub progress: Option<&'a (dyn Fn(u64) -> Result<()> + Sync)>,
    /// Hashes what is read when the caller gave no digest.
    pub hasher: Option<Hasher>,
    /// Bytes read from the source.
    pub read: u64,
    /// Bytes the registry has taken.
    pub sent: u64,
    /// Resumes so far, across chunks.
    pub resumes: u32,
}

impl Upload<'_> {
    pub(super) fn what(&self) -> String {
        format!("upload to {}", self.repository)
    }

    fn chunk_size(&self) -> Result<usize> {
        let min = self.session.min_chunk.unwrap_or(0);
        if min > MAX_CHUNK_SIZE as u64 {
            return Err(Error::unsupported(format!(
                "the registry asks for upload chunks of at least {min} bytes, more than the \
                 {MAX_CHUNK_SIZE} this client holds in memory"
            )));
        }
        let chosen = self.options.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
        Ok(chosen.max(min as usize))
    }

    pub fn run(&mut self, source: &mut dyn Read) -> Result<PushedBlob> {
        if let (None, Some(size)) = (self.options.chunk_size, self.options.size) {
            if size > WINDOW as u64 {
                // Known and large: one streamed PATCH (`stream.rs`).
                self.stream(source, size)?;
                let digest = self.finish_digest()?;
                self.commit(&digest, Payload::Empty)?;
                self.report()?;
                return self.done(digest);
            }
        }
        // No bigger than the blob (and a byte, to see a source that gives
        // more) when its size is known: a small blob costs a small buffer.
        let size = self.options.size.map_or(usize::MAX, |n| {
            usize::try_from(n).unwrap_or(usize::MAX).saturating_add(1)
        });
        let mut chunks = Chunks::new(source, self.chunk_size()?.min(size));
        let (len, last) = chunks.next()?;
        self.account(&chunks.buf[..len], last)?;
        if last {
            // It fits in one chunk: one PUT, which may be sent again.
            let bytes: Arc<[u8]> = chunks.buf[..len].into();
            let digest = self.finish_digest()?;
            self.commit(&digest, Payload::Bytes(bytes))?;
            self.sent = self.read;
            self.report()?;
            return self.done(digest);
        }
        let mut len = len;
        loop {
            let chunk = chunks.buf.clone();
            self.patch(chunk, len)?;
            self.report()?;
            if chunks.ended {
                break;
            }
            let (n, last) = chunks.next()?;
            self.account(&chunks.buf[..n], last)?;
            if n == 0 {
                break;
            }
            len = n;
        }
        let digest = self.finish_digest()?;
        self.commit(&digest, Payload::Empty)?;
        self.done(digest)
    }

    fn done(&self, digest: Digest) -> Result<PushedBlob> {
        Ok(PushedBlob {
            digest,
            size: self.sent,
            source: BlobSource::Uploaded,
        })
    }

    fn report(&self) -> Result<()> {
        match self.progress {
            Some(progress) => progress(self.sent),
            None => Ok(()),
        }
    }

    /// Hashes bytes read from the source and checks the total against the
    /// size the caller gave: more is an error at once, less once the
    /// source has ended (`last`), before those bytes are sent.
    pub(super) fn account(&mut self, bytes: &[u8], last: bool) -> Result<()> {
        if let Some(h) = &mut self.hasher {
            h.update(bytes);
        }
        self.read = self
            .read
            .checked_add(bytes.len() as u64)
            .ok_or_else(|| Error::invalid("the blob's size overflows"))?;
        match self.options.size {
            Some(size) if self.read > size => Err(Error::invalid(format!(
                "the blob's source gave more than the {size} bytes announced"
            ))),
            Some(size) if last && self.read < size => Err(Error::invalid(format!(
                "the blob's source gave {} bytes, not the {size} announced",
                self.read
            ))),
            _ => Ok(()),
        }
    }

    fn finish_digest(&mut self) -> Result<Digest> {
        if let Some(size) = self.options.size {
            if self.read != size {
                return Err(Error::invalid(format!(
                    "the blob's source gave {} bytes, not the {size} announced",
                    self.read
                )));
            }
        }
        match (self.hasher.take(), &self.options.digest) {
            (Some(h), _) => Ok(h.finish()),
            (None, Some(d)) => Ok(d.clone()),
            (None, None) => Err(Error::invalid("an upload without a digest")),
        }
    }

    /// Sends `len` bytes of `chunk` as the next part of the upload; when the
    /// exchange fails, asks the registry how much it has and sends the rest
    /// from there, within the client's retry budget.
    fn patch(&mut self, chunk: Arc<[u8]>, len: usize) -> Result<()> {
        let what = self.what();
        let chunk_start = self.sent;
        let chunk_end = chunk_start
            .checked_add(len as u64)
            .ok_or_else(|| Error::invalid("the blob's size overflows"))?;
        let mut from = chunk_start;
        loop {
            // `from` lies within the chunk: checked where it is set.
            let part = Part {
                bytes: chunk.clone(),
                start: (from - chunk_start) as usize,
                end: len,
            };
            let outcome = self.client.send(&self.patch_request(
                &what,
                from,
                chunk_end - 1,
                Payload::Once(part),
            ));
            let Some(error) = self.patched(outcome, chunk_end)? else {
                return Ok(());
            };
            let offset = self.resume_offset(error, chunk_start, chunk_end)?;
            if offset == chunk_end {
                self.sent = chunk_end;
                return Ok(());
            }
            from = offset;
        }
    }

    /// The `PATCH` of bytes `from..=last` of the blob.
    pub(super) fn patch_request<'w>(
        &self,
        what: &'w str,
        from: u64,
        last: u64,
        body: Payload,
    ) -> Request<'w> {
        Request {
            method: Method::Patch,
            scope: Some(Scope::push(self.repository)),
            headers: vec![
                ("Content-Type", "application/octet-stream".to_string()),
                ("Content-Range", format!("{from}-{last}")),
            ],
            body,
            ..self.client.request(self.session.location.clone(), what)
        }
    }

    /// What a `PATCH` that should leave the registry with `end` bytes came
    /// to: `None` when it did (the upload is then at `end`); the error when
    /// asking the registry how far it got may help; an error that ends the
    /// upload as `Err`.
    pub(super) fn patched(&mut self, outcome: Result<Response>, end: u64) -> Result<Option<Error>> {
        let what = self.what();
        let resp = match outcome {
            Ok(resp) => resp,
            Err(e) if resumable(&e) => return Ok(Some(e)),
            Err(e) => return Err(e),
        };
        self.follow_location(&resp)?;
        match header(&resp.headers, "range").map(parse_range).transpose() {
            Ok(Some(next)) if next != end => Ok(Some(Error::registry(
                resp.status,
                format!("{what}: the registry has {next} bytes, {end} were sent"),
            ))),
            Ok(_) => {
                self.sent = end;
                Ok(None)
            }
            Err(why) => Ok(Some(Error::decode(format!("Range of {what}"), why))),
        }
    }

    /// After `error`, within the retry budget: the offset the registry has
    /// (its upload status), which must lie between `kept` (the first byte
    /// the client can still send) and `held` (the last it read), else the
    /// upload cannot go on.
    pub(super) fn resume_offset(&mut self, error: Error, kept: u64, held: u64) -> Result<u64> {
        if self.resumes >= self.client.config().max_retries {
            return Err(error);
        }
        self.resumes += 1;
        let offset = self.status()?;
        if offset < kept || offset > held {
            return Err(Error::registry(
                416,
                format!(
                    "{}: the registry has {offset} bytes, the client can resend from {kept} to \
                     {held}",
                    self.what()
                ),
            ));
        }
        Ok(offset)
    }

    /// Moves the session to the `Location` a response names, if any.
    fn follow_location(&mut self, resp: &Response) -> Result<()> {
        if header(&resp.headers, "location").is_some() {
            self.session.location = self.client.upload_location(resp, &self.what())?;
        }
        Ok(())
    }

    /// Asks the registry how many bytes of the upload it has.
    fn status(&mut self) -> Result<u64> {
        let what = self.what();
        let resp = self.client.send(&Request {
            scope: Some(Scope::push(self.repository)),
            ..self.client.request(self.session.location.clone(), &what)
        })?;
        self.follow_location(&resp)?;
        match header(&resp.headers, "range") {
            None => Ok(0),
            Some(v) => parse_range(v).map_err(|why| Error::decode(format!("Range of {what}"), why)),
        }
    }

    /// Completes the upload (`PUT ?digest=`), with the last bytes when the
    /// blob is sent whole.
    fn commit(&mut self, digest: &Digest, body: Payload) -> Result<()> {
        let what = self.what();
        let mut url = self.session.location.clone();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let outcome = self.client.send(&Request {
            method: Method::Put,
            scope: Some(Scope::push(self.repository)),
            headers: vec![("Content-Type", "application/octet-stream".to_string())],
            body,
            ..self.client.request(url, &what)
        });
        match outcome {
            Ok(resp) => match announced_digest(&resp)? {
                Some(got) if &got != digest => Err(Error::digest_mismatch(digest, got)),
                _ => Ok(()),
            },
            // An earlier attempt may have completed the upload, its answer
            // lost: then the session is gone and the blob is there.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                match self.client.head_blob(self.repository, digest)? {
                    Some(_) => Ok(()),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// Failures after which asking the registry how far the upload got, and
/// going on from there, can help.
fn resumable(e: &Error) -> bool {
    crate::http::failure::is_transient(e)
        || matches!(e.http_status(), Some(401 | 416 | 429 | 500..=599))
}

/// A source read one chunk at a time into one buffer, reused when no
/// request holds it any more.
struct Chunks<'a> {
    source: &'a mut dyn Read,
    buf: Arc<[u8]>,
    /// A byte read past the last full chunk, to learn whether it was the
    /// last.
    carry: Option<u8>,
    ended: bool,
}

impl<'a> Chunks<'a> {
    fn new(source: &'a mut dyn Read, size: usize) -> Chunks<'a> {
        Chunks {
            source,
            buf: std::iter::repeat_n(0u8, size).collect(),
            carry: None,
            ended: false,
        }
    }

    /// Fills the buffer: the bytes in it, and whether the source ended.
    fn next(&mut self) -> Result<(usize, bool)> {
        if self.ended {
            return Ok((0, true));
        }
        if Arc::get_mut(&mut self.buf).is_none() {
            // A request still holds the last chunk (it cannot after a
            // completed exchange; this is only a fallback).
            self.buf = std::iter::repeat_n(0u8, self.buf.len()).collect();
        }
        let buf = Arc::get_mut(&mut self.buf).expect("a buffer no one else holds");
        let mut n = 0;
        if let Some(b) = self.carry.take() {
            buf[0] = b;
            n = 1;
        }
        n += read_full(self.source, &mut buf[n..])?;
        if n < buf.len() {
            self.ended = true;
            return Ok((n, true));
        }
        let mut ahead = [0u8; 1];
        if read_full(self.source, &mut ahead)? == 0 {
            self.ended = true;
            return Ok((n, true));
        }
        self.carry = Some(ahead[0]);
        Ok((n, false))
    }
}

/// The offset after a `Range: 0-<last>` (the next byte the registry
/// wants). `0-0` is read as nothing received (distribution says `0-0` for
/// both 0 and 1 bytes; resending one byte too many is refused with a 416,
/// not stored twice), and `0--1` as nothing.
fn parse_range(value: &str) -> std::result::Result<u64, String> {
    let v = value.trim();
    let v = v.strip_prefix("bytes=").unwrap_or(v);
    let (first, last) = v
        .split_once('-')
        .ok_or_else(|| format!("not a byte range: {}", quote(value)))?;
    if first != "0" {
        return Err(format!(
            "a range that does not start at 0: {}",
            quote(value)
        ));
    }
    if last == "-1" || last == "0" {
        return Ok(0);
    }
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("not a byte range: {}", quote(value)));
    }
    let last: u64 = last
        .parse()
        .map_err(|_| format!("not a byte range: {}", quote(value)))?;
    last.checked_add(1)
        .ok_or_else(|| format!("a range past any size: {}", quote(value)))
}

/// Reads until `buf` is full or the source ends: the bytes read.
pub(super) fn read_full(source: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match source.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A source that is itself a registry blob or a layout file
            // carries this crate's error (a digest mismatch, a timeout).
            Err(e) if e.get_ref().is_some_and(|i| i.is::<Error>()) => {
                return Err(Error::from_io(e))
            }
            Err(e) => return Err(Error::io("cannot read the blob to upload", e)),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_give_the_next_offset_and_refuse_what_is_not_one() {
        for (v, next) in [
            ("0-0", 0),
            ("0--1", 0),
            ("0-1", 2),
            ("bytes=0-1023", 1024),
            (" 0-99 ", 100),
            ("0-18446744073709551614", u64::MAX),
        ] {
            assert_eq!(parse_range(v), Ok(next), "{v}");
        }
        for v in [
            "",
            "0",
            "1-5",
            "0-",
            "0-x",
            "0-18446744073709551615",
            "-0-5",
            "0-+5",
        ] {
            assert!(parse_range(v).is_err(), "{v:?}");
        }
    }

    /// A reader that gives one byte per read.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.is_empty()) {
                (Some((b, rest)), false) => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn chunks_cover_the_source_exactly_and_know_the_last_one() {
        let data: Vec<u8> = (0..100u8).collect();
        for len in [0usize, 1, 9, 10, 11, 19, 20, 21, 100] {
            let mut source = Trickle(&data[..len]);
            let mut chunks = Chunks::new(&mut source, 10);
            let mut got = Vec::new();
            let mut sizes = Vec::new();
            loop {
                let (n, last) = chunks.next().unwrap();
                got.extend_from_slice(&chunks.buf[..n]);
                sizes.push(n);
                if last {
                    break;
                }
                assert_eq!(n, 10, "only the last chunk is short");
            }
            assert_eq!(got, &data[..len], "{len}");
            // A full last chunk is known to be last without an empty one.
            let expected = if len == 0 { 1 } else { len.div_ceil(10) };
            assert_eq!(sizes.len(), expected, "{len}: {sizes:?}");
            assert_eq!(chunks.next().unwrap(), (0, true));
        }
    }

    #[test]
    fn a_chunk_still_held_by_a_request_is_not_overwritten() {
        let data = [1u8; 25];
        let mut source = &data[..];
        let mut chunks = Chunks::new(&mut source, 10);
        chunks.next().unwrap();
        let held = chunks.buf.clone();
        chunks.next().unwrap();
        assert!(!Arc::ptr_eq(&held, &chunks.buf));
        let free = chunks.buf.as_ptr();
        chunks.next().unwrap();
        assert_eq!(chunks.buf.as_ptr(), free, "an unheld buffer is reused");
    }
}
