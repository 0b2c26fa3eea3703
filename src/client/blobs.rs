//! Blobs: streamed in constant memory and verified against their digest as
//! they are read ([`BlobReader`]), or read whole when small (image configs).

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use url::Url;

use crate::auth::scope::Scope;
use crate::digest::{Digest, VerifyingReader};
use crate::http::body_read_error;
use crate::reference::validate_repository;
use crate::request::Request;
use crate::text::quote;
use crate::{Error, Result};

use super::blob_pipeline;
use super::cached::{blob_cost, BlobKey};
use super::{Client, ToDigest};

impl Client {
    /// Opens a blob (its digest as text or a [`Digest`]) for streaming; the
    /// content is verified against the digest as it is read (see
    /// [`BlobReader`]). Redirects to storage hosts are followed without
    /// credentials. Never cached.
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let m = c.get_manifest("app", "v1")?;
    /// let layer = &m.manifest.as_image().unwrap().layers[0];
    /// let mut file = std::fs::File::create("layer.tar.gz").unwrap();
    /// let n = c.blob("app", &layer.digest)?.copy_to(&mut file)?;
    /// assert_eq!(n, layer.size);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn blob(&self, repository: &str, digest: impl ToDigest) -> Result<BlobReader> {
        self.scrub((|| {
            validate_repository(repository)?;
            let digest = digest.to_digest()?;
            let what = format!("blob {repository}@{digest}");
            let resp = self.open(&Request {
                scope: Some(Scope::pull(repository)),
                streaming: true,
                limit: u64::MAX,
                ..self.request(self.blob_url(repository, &digest)?, &what)
            })?;
            let size = resp
                .header("content-length")
                .and_then(|v| v.trim().parse().ok());
            let url = resp.url.clone();
            Ok(BlobReader::new(resp.into_reader(), digest, size, url))
        })())
    }

    /// A blob read whole (at most `limit` bytes) and verified; cached, as
    /// content by digest, until evicted.
    pub(super) fn small_blob(
        &self,
        repository: &str,
        digest: &Digest,
        limit: u64,
    ) -> Result<Arc<Vec<u8>>> {
        let key = BlobKey {
            repository: repository.to_string(),
            digest: digest.clone(),
        };
        self.cached(key, || {
            let what = format!("blob {repository}@{digest}");
            let resp = self.send(&Request {
                scope: Some(Scope::pull(repository)),
                limit,
                ..self.request(self.blob_url(repository, digest)?, &what)
            })?;
            digest.verify(&resp.body)?;
            let bytes = blob_cost(&resp.body);
            Ok((Arc::new(resp.body), bytes, true))
        })
    }

    /// Opens a blob from byte `offset` on, to resume a download that broke
    /// off: asks with `Range: bytes=offset-` (no `Range` for offset 0).
    /// A registry that honours it answers 206 and the part starts at
    /// `offset`; one that does not answers 200 with the whole blob, and the
    /// part starts at 0 ([`BlobRange::start`] says which). The bytes are
    /// not verified here: a digest covers the whole blob, so whoever joins
    /// the parts hashes what they keep (as [`pull`](Client::pull) does).
    ///
    /// ```no_run
    /// use std::io::Read;
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// let mut part = c.blob_range("app", d, 1024)?;
    /// if part.start() == 0 {
    ///     // The registry sent the whole blob: start over.
    /// }
    /// let mut rest = Vec::new();
    /// part.read_to_end(&mut rest).map_err(registry_client::Error::from_io)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn blob_range(
        &self,
        repository: &str,
        digest: impl ToDigest,
        offset: u64,
    ) -> Result<BlobRange> {
        self.scrub((|| {
            validate_repository(repository)?;
            let digest = digest.to_digest()?;
            let what = format!("blob {repository}@{digest}");
            let headers = if offset > 0 {
                vec![("Range", format!("bytes={offset}-"))]
            } else {
                Vec::new()
            };
            let resp = self.open(&Request {
                scope: Some(Scope::pull(repository)),
                streaming: true,
                limit: u64::MAX,
                headers,
                ..self.request(self.blob_url(repository, &digest)?, &what)
            })?;
            let length = match resp.header("content-length") {
                None => None,
                Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                    Error::decode(
                        format!("Content-Length of {what}"),
                        format!("not a byte count: {}", quote(v)),
                    )
                })?),
            };
            let (start, total) = if resp.status == 206 {
                let value = resp.header("content-range").ok_or_else(|| {
                    Error::registry(
                        206,
                        format!("partial content of {what} without Content-Range"),
                    )
                })?;
                let range = ContentRange::parse(value)
                    .map_err(|why| Error::decode(format!("Content-Range of {what}"), why))?;
                if range.start != offset {
                    return Err(Error::registry(
                        206,
                        format!(
                            "asked for {what} from byte {offset}, got a part from byte {}",
                            range.start
                        ),
                    ));
                }
                let part = range.len();
                if length.is_some_and(|n| n != part) {
                    return Err(Error::registry(
                        206,
                        format!(
                            "Content-Length of {what} disagrees with its Content-Range {}",
                            quote(value)
                        ),
                    ));
                }
                (range.start, range.total)
            } else {
                (0, length)
            };
            let url = resp.url.clone();
            Ok(BlobRange {
                reader: resp.into_reader(),
                start,
                total,
                url,
            })
        })())
    }

    pub(super) fn blob_url(&self, repository: &str, digest: &Digest) -> Result<Url> {
        self.url(&format!("v2/{repository}/blobs/{digest}"))
    }
}

/// A blob's content as it arrives from the registry.
///
/// Reading it yields the bytes; at the end its digest (and the announced
/// length) are checked, and a mismatch is an `io::Error` of kind
/// `InvalidData` wrapping [`Error::DigestMismatch`]. Memory use does not
/// depend on the blob's size.
///
/// ```no_run
/// use std::io::Read;
/// let client = registry_client::Client::new("localhost:5000")?;
/// let mut blob = client.blob("app", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
/// let mut first = [0u8; 512];
/// let n = blob.read(&mut first).map_err(registry_client::Error::from_io)?;
/// # Ok::<(), registry_client::Error>(())
/// ```
pub struct BlobReader {
    inner: VerifyingReader<Box<dyn Read + Send>>,
    size: Option<u64>,
    url: Url,
}

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader")
            .field("digest", self.inner.expected())
            .field("size", &self.size)
            .field("read", &self.inner.bytes_read())
            .finish()
    }
}

impl BlobReader {
    pub(crate) fn new(
        body: Box<dyn Read + Send>,
        digest: Digest,
        size: Option<u64>,
        url: Url,
    ) -> BlobReader {
        BlobReader {
            inner: VerifyingReader::new(body, digest, size),
            size,
            url,
        }
    }

    /// The length the registry announced, if it did.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The digest the content is checked against.
    pub fn digest(&self) -> &Digest {
        self.inner.expected()
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.inner.bytes_read()
    }

    /// Copies the rest of the blob into `out` and returns the bytes copied,
    /// after the digest has been checked. Errors are this crate's.
    pub fn copy_to(mut self, out: &mut dyn Write) -> Result<u64> {
        // Untouched and not small: hashed on a second thread while the
        // next bytes arrive (blob_pipeline.rs).
        if self.inner.bytes_read() == 0
            && !self.inner.is_verified()
            && self.size.is_none_or(|n| n >= blob_pipeline::MIN_SIZE)
        {
            let digest = self.inner.expected().clone();
            let mut body = self.inner.into_inner();
            return blob_pipeline::copy_verified(&mut body, &digest, self.size, &self.url, out);
        }
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0u64;
        loop {
            let n = match self.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::from_io(e)),
            };
            out.write_all(&buf[..n])
                .map_err(|e| Error::io("cannot write blob", e))?;
            total += n as u64;
        }
    }
}

impl Read for BlobReader {
    /// Every error but `Interrupted` carries this crate's [`Error`] (with
    /// the blob's URL), for [`Error::from_io`] to recover.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted || carries_error(&e) {
                return e;
            }
            let kind = e.kind();
            io::Error::new(kind, body_read_error(e, &self.url))
        })
    }
}

/// Part of a blob, from [`Client::blob_range`]: the raw bytes from
/// [`start`](Self::start) on, unverified.
///
/// ```no_run
/// let c = registry_client::Client::new("localhost:5000")?;
/// let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// let part = c.blob_range("app", d, 0)?;
/// assert_eq!(part.start(), 0);
/// println!("{:?} bytes in all", part.total());
/// # Ok::<(), registry_client::Error>(())
/// ```
pub struct BlobRange {
    reader: Box<dyn Read + Send>,
    start: u64,
    total: Option<u64>,
    url: Url,
}

impl fmt::Debug for BlobRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobRange")
            .field("start", &self.start)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl BlobRange {
    /// The offset of the first byte read: the offset asked for (206), or 0
    /// when the registry sent the whole blob (200).
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The whole blob's length, when the registry said it (the total of
    /// `Content-Range`, or the `Content-Length` of a whole blob).
    pub fn total(&self) -> Option<u64> {
        self.total
    }
}

impl Read for BlobRange {
    /// Every error but `Interrupted` carries this crate's [`Error`] (with
    /// the blob's URL), for [`Error::from_io`] to recover.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted || carries_error(&e) {
                return e;
            }
            let kind = e.kind();
            io::Error::new(kind, body_read_error(e, &self.url))
        })
    }
}

/// A `Content-Range: bytes START-END/TOTAL` (or `/*`) header.
#[derive(Debug, PartialEq, Eq)]
struct ContentRange {
    start: u64,
    end: u64,
    total: Option<u64>,
}

impl ContentRange {
    fn parse(value: &str) -> std::result::Result<ContentRange, String> {
        let bad = |why: &str| format!("{why} in {}", quote(value));
        let rest = value
            .trim()
            .strip_prefix("bytes ")
            .ok_or_else(|| bad("not a byte range"))?;
        let (range, total) = rest
            .split_once('/')
            .ok_or_else(|| bad("no '/' before the total"))?;
        let (start, end) = range
            .split_once('-')
            .ok_or_else(|| bad("no '-' in the range"))?;
        let number = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("not a number"));
            }
            s.parse::<u64>().map_err(|_| bad("a number out of range"))
        };
        let start = number(start)?;
        let end = number(end)?;
        let total = match total {
            "*" => None,
            t => Some(number(t)?),
        };
        if end < start {
            return Err(bad("the range ends before it starts"));
        }
        if total.is_some_and(|t| end >= t) {
            return Err(bad("the range goes past the total"));
        }
        if end == u64::MAX {
            return Err(bad("a number out of range"));
        }
        Ok(ContentRange { start, end, total })
    }

    /// Bytes in the range (`end` is inclusive, and below `u64::MAX`).
    fn len(&self) -> u64 {
        self.end - self.start + 1
    }
}

fn carries_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse_and_bad_ones_say_why() {
        assert_eq!(
            ContentRange::parse("bytes 100-199/200").unwrap(),
            ContentRange {
                start: 100,
                end: 199,
                total: Some(200)
            }
        );
        assert_eq!(ContentRange::parse("bytes 0-0/*").unwrap().len(), 1);
        let max = format!("bytes 0-{}/*", u64::MAX);
        let over = format!("bytes 0-{}0/*", u64::MAX);
        for bad in [
            "",
            "bytes",
            "items 0-1/2",
            "bytes 0-1",
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes -1-2/3",
            "bytes +1-2/3",
            "bytes 1-2/x",
            max.as_str(),
            over.as_str(),
        ] {
            let e = ContentRange::parse(bad).unwrap_err();
            assert!(e.contains('"'), "{bad}: {e}");
        }
    }
}
