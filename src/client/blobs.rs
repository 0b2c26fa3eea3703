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
use crate::{Error, Result};

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

    fn blob_url(&self, repository: &str, digest: &Digest) -> Result<Url> {
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
