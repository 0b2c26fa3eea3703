//! Blobs streamed in constant memory, verified against their digest as
//! they are read.

use std::fmt;
use std::io::{self, Read, Write};

use url::Url;

use crate::digest::{Digest, VerifyingReader};
use crate::http::body_read_error;
use crate::Error;

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
    pub fn copy_to(mut self, out: &mut dyn Write) -> Result<u64, Error> {
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

fn carries_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Error>())
}
