//! Blob uploads: the existence check, monolithic, streamed and chunked
//! uploads that resume after a dropped connection, cross-repository
//! mounts, and blob deletion.
//!
//! A blob of at most [`DEFAULT_CHUNK_SIZE`] bytes goes up in one `PUT`
//! (which the retry layer may resend). A larger one of known size is
//! streamed in one `PATCH` while the last 8 MiB sent are kept
//! (`stream.rs`); one of unknown size, or when the caller sets a chunk
//! size, goes in `PATCH`es of one chunk each, every chunk kept until the
//! registry has taken it (`session.rs`). Either way memory does not depend
//! on the blob's size, and when a connection drops the upload asks the
//! registry how far it got (`GET` on the session) and sends the rest from
//! there. Upload bodies are never resent by the retry layer: a blind retry
//! could append the same bytes twice.

mod session;
mod stream;

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use url::Url;

use crate::auth::scope::Scope;
use crate::digest::{Algorithm, Digest, Hasher};
use crate::http::{header, Method};
use crate::reference::validate_repository;
use crate::request::{Request, Response};
use crate::text::quote;
use crate::{Error, ErrorKind, Result};

use self::session::{Session, Upload};
use super::cached::BlobKey;
use super::manifests::announced_digest;
use super::{Client, ToDigest};

/// The largest blob sent in one `PUT`, and the chunk size of a blob of
/// unknown size.
pub const DEFAULT_CHUNK_SIZE: usize = 8 << 20;
/// The largest chunk held in memory, whatever the caller or the registry's
/// `OCI-Chunk-Min-Length` asks for.
pub const MAX_CHUNK_SIZE: usize = 64 << 20;
/// The smallest chunk a caller may ask for.
pub const MIN_CHUNK_SIZE: usize = 1 << 10;

type ProgressFn = dyn Fn(u64) + Send + Sync;

/// How to upload a blob: its digest and size when known, the chunk size,
/// a repository to mount it from, and a progress callback.
///
/// ```
/// use registry_client::UploadOptions;
/// let options = UploadOptions::new()
///     .digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?
///     .size(0)
///     .chunk_size(16 << 20)
///     .mount_from("team/base")
///     .progress(|sent| eprintln!("{sent} bytes sent"));
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Clone)]
pub struct UploadOptions {
    digest: Option<Digest>,
    size: Option<u64>,
    chunk_size: Option<usize>,
    mount_from: Option<String>,
    progress: Option<Arc<ProgressFn>>,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("chunk_size", &self.chunk_size)
            .field("mount_from", &self.mount_from)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions::new()
    }
}

impl UploadOptions {
    /// Digest computed while sending, size unknown, [`DEFAULT_CHUNK_SIZE`],
    /// no mount, no progress.
    ///
    /// ```
    /// let o = registry_client::UploadOptions::new();
    /// ```
    pub fn new() -> UploadOptions {
        UploadOptions {
            digest: None,
            size: None,
            chunk_size: None,
            mount_from: None,
            progress: None,
        }
    }

    /// The blob's digest, when known: a blob the repository already has is
    /// not sent again, and the registry checks the content against it (a
    /// mismatch is an error and stores nothing). Without it the digest is
    /// computed while sending.
    ///
    /// ```
    /// let o = registry_client::UploadOptions::new()
    ///     .digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn digest(mut self, digest: impl ToDigest) -> Result<UploadOptions> {
        self.digest = Some(digest.to_digest()?);
        Ok(self)
    }

    /// The blob's size, when known: a source that gives more or fewer bytes
    /// is an error before anything is committed.
    ///
    /// ```
    /// let o = registry_client::UploadOptions::new().size(1024);
    /// ```
    pub fn size(mut self, size: u64) -> UploadOptions {
        self.size = Some(size);
        self
    }

    /// Sends the blob in `PATCH`es of this many bytes, between
    /// [`MIN_CHUNK_SIZE`] and [`MAX_CHUNK_SIZE`] (clamped), raised to the
    /// registry's `OCI-Chunk-Min-Length`; the upload's memory is one chunk.
    /// Without it, a blob of known size is streamed in one `PATCH`, which
    /// is faster (on distribution 2.8, 32 `PATCH`es of 8 MiB take two to
    /// three times as long as one of 256 MiB).
    ///
    /// ```
    /// let o = registry_client::UploadOptions::new().chunk_size(1 << 20);
    /// ```
    pub fn chunk_size(mut self, bytes: usize) -> UploadOptions {
        self.chunk_size = Some(bytes.clamp(MIN_CHUNK_SIZE, MAX_CHUNK_SIZE));
        self
    }

    /// Another repository on the same registry that may hold the blob: it
    /// is mounted from there (nothing sent) when the registry agrees, and
    /// uploaded when it does not. Needs [`digest`](Self::digest).
    ///
    /// ```
    /// let o = registry_client::UploadOptions::new().mount_from("library/alpine");
    /// ```
    pub fn mount_from(mut self, repository: impl Into<String>) -> UploadOptions {
        self.mount_from = Some(repository.into());
        self
    }

    /// Called with the bytes sent so far after each chunk the registry
    /// took.
    ///
    /// ```
    /// let o = registry_client::UploadOptions::new().progress(|n| eprintln!("{n}"));
    /// ```
    pub fn progress(mut self, f: impl Fn(u64) + Send + Sync + 'static) -> UploadOptions {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// How a blob came to be in the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlobSource {
    /// It was there already: nothing was sent.
    Existed,
    /// Mounted from another repository: nothing was sent.
    Mounted,
    /// Uploaded.
    Uploaded,
}

/// A blob in the repository after [`Client::push_blob`].
///
/// ```no_run
/// let c = registry_client::Client::new("localhost:5000")?;
/// let pushed = c.push_blob_bytes("app", b"hello")?;
/// println!("{} ({} bytes, {:?})", pushed.digest, pushed.size, pushed.source);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedBlob {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes (for a blob that existed or was mounted, the size
    /// the caller gave or the registry reported).
    pub size: u64,
    /// Whether it was sent, mounted or found.
    pub source: BlobSource,
}

impl Client {
    /// Whether `repository` has the blob: its size when it does (a `HEAD`),
    /// `None` when the registry answers 404. Never cached.
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// match c.blob_exists("app", d)? {
    ///     Some(size) => println!("there, {size} bytes"),
    ///     None => println!("not there"),
    /// }
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn blob_exists(&self, repository: &str, digest: impl ToDigest) -> Result<Option<u64>> {
        self.scrub((|| {
            validate_repository(repository)?;
            let digest = digest.to_digest()?;
            self.head_blob(repository, &digest)
        })())
    }

    fn head_blob(&self, repository: &str, digest: &Digest) -> Result<Option<u64>> {
        let what = format!("blob {repository}@{digest}");
        let resp = match self.send(&Request {
            method: Method::Head,
            scope: Some(Scope::pull(repository)),
            limit: 0,
            ..self.request(self.blob_url(repository, digest)?, &what)
        }) {
            Ok(resp) => resp,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let size = header(&resp.headers, "content-length")
            .ok_or_else(|| Error::decode(format!("HEAD of {what}"), "no Content-Length"))?;
        let size = size.trim().parse::<u64>().map_err(|_| {
            Error::decode(
                format!("Content-Length of {what}"),
                format!("not a byte count: {}", quote(size)),
            )
        })?;
        Ok(Some(size))
    }

    /// Uploads the bytes `source` gives to `repository` (see
    /// [`UploadOptions`]): skipped when the digest is given and the blob is
    /// there, mounted when `mount_from` is given and the registry agrees,
    /// else sent in one `PUT` when it fits in a chunk, or in chunks that
    /// resume where a dropped connection left them. Memory is one chunk.
    ///
    /// An upload that fails is cancelled at the registry (where it allows).
    ///
    /// ```no_run
    /// use registry_client::UploadOptions;
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// let file = std::fs::File::open("layer.tar.gz").unwrap();
    /// let pushed = c.push_blob("app", file, &UploadOptions::new())?;
    /// println!("{}", pushed.digest);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn push_blob(
        &self,
        repository: &str,
        source: impl Read,
        options: &UploadOptions,
    ) -> Result<PushedBlob> {
        self.scrub(self.push_blob_inner(repository, source, options))
    }

    /// [`push_blob`](Self::push_blob) of bytes in memory, with their digest
    /// computed first (so a blob already there is not sent).
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let pushed = c.push_blob_bytes("app", br#"{"architecture":"amd64"}"#)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn push_blob_bytes(&self, repository: &str, bytes: &[u8]) -> Result<PushedBlob> {
        let options = UploadOptions {
            digest: Some(Digest::sha256(bytes)),
            size: Some(bytes.len() as u64),
            ..UploadOptions::new()
        };
        self.push_blob(repository, bytes, &options)
    }

    /// Mounts the blob `digest` from the repository `from` into
    /// `repository` on the same registry, without sending it: `true` when
    /// the registry did, `false` when it declined (the upload session it
    /// opened instead is cancelled).
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// if !c.mount_blob("app", d, "base")? {
    ///     // upload it instead
    /// }
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn mount_blob(&self, repository: &str, digest: impl ToDigest, from: &str) -> Result<bool> {
        self.scrub((|| {
            validate_repository(repository)?;
            validate_repository(from)?;
            let digest = digest.to_digest()?;
            match self.start_upload(repository, Some((&digest, from)))? {
                Started::Mounted => Ok(true),
                Started::Session(s) => {
                    self.cancel_upload(repository, &s);
                    Ok(false)
                }
            }
        })())
    }

    /// Deletes the blob `digest` from `repository`. A registry with
    /// deletion turned off answers 405: an [`Error::Unsupported`].
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// c.delete_blob("app", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn delete_blob(&self, repository: &str, digest: impl ToDigest) -> Result<()> {
        self.scrub((|| {
            validate_repository(repository)?;
            let digest = digest.to_digest()?;
            let what = format!("blob {repository}@{digest}");
            self.send(&Request {
                method: Method::Delete,
                scope: Some(Scope::delete(repository)),
                ..self.request(self.blob_url(repository, &digest)?, &what)
            })?;
            self.inner.cache.remove(&BlobKey {
                repository: repository.to_string(),
                digest,
            });
            Ok(())
        })())
    }

    fn push_blob_inner(
        &self,
        repository: &str,
        source: impl Read,
        options: &UploadOptions,
    ) -> Result<PushedBlob> {
        let mut source = Some(source);
        let progress = options.progress.as_deref().map(|f| {
            move |sent: u64| {
                f(sent);
                Ok(())
            }
        });
        self.push_blob_with(
            repository,
            options,
            progress
                .as_ref()
                .map(|f| f as &(dyn Fn(u64) -> Result<()> + Sync)),
            &mut || match source.take() {
                Some(s) => Ok(Box::new(s) as Box<dyn Read + '_>),
                None => Err(Error::invalid("the blob's source was used already")),
            },
        )
    }

    /// The upload behind [`push_blob`](Self::push_blob), for copies too:
    /// the source is only opened once the blob is found to be missing and
    /// not mountable, and `progress` (bytes sent so far) can stop it.
    pub(super) fn push_blob_with<'s>(
        &self,
        repository: &str,
        options: &UploadOptions,
        progress: Option<&(dyn Fn(u64) -> Result<()> + Sync)>,
        open: &mut dyn FnMut() -> Result<Box<dyn Read + 's>>,
    ) -> Result<PushedBlob> {
        validate_repository(repository)?;
        if let Some(from) = &options.mount_from {
            validate_repository(from)?;
            if options.digest.is_none() {
                return Err(Error::invalid(
                    "a mount needs the blob's digest (UploadOptions::digest)",
                ));
            }
        }
        if let Some(digest) = &options.digest {
            if let Some(size) = self.head_blob(repository, digest)? {
                return Ok(PushedBlob {
                    digest: digest.clone(),
                    size,
                    source: BlobSource::Existed,
                });
            }
        }
        let mount = match (&options.digest, &options.mount_from) {
            (Some(d), Some(from)) if from != repository => Some((d, from.as_str())),
            _ => None,
        };
        let session = match self.start_upload(repository, mount)? {
            Started::Mounted => {
                let digest = options.digest.clone().expect("a mount has a digest");
                return Ok(PushedBlob {
                    size: options.size.unwrap_or(0),
                    digest,
                    source: BlobSource::Mounted,
                });
            }
            Started::Session(s) => s,
        };
        let mut upload = Upload {
            client: self,
            repository,
            session,
            options,
            progress,
            hasher: match &options.digest {
                Some(_) => None,
                None => Some(Hasher::new(Algorithm::Sha256)),
            },
            read: 0,
            sent: 0,
            resumes: 0,
        };
        let outcome = open().and_then(|mut source| upload.run(&mut source));
        if outcome.is_err() {
            self.cancel_upload(repository, &upload.session);
        }
        outcome
    }

    /// Opens an upload session (`POST`), or mounts the blob when `mount`
    /// names it and the repository to take it from.
    fn start_upload(&self, repository: &str, mount: Option<(&Digest, &str)>) -> Result<Started> {
        let mut url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        if let Some((digest, from)) = mount {
            url.query_pairs_mut()
                .append_pair("mount", digest.as_str())
                .append_pair("from", from);
        }
        let what = format!("upload to {repository}");
        let resp = self.send(&Request {
            method: Method::Post,
            scope: Some(Scope::push(repository)),
            also: mount.map(|(_, from)| Scope::pull(from)),
            ..self.request(url, &what)
        })?;
        match resp.status {
            201 if mount.is_some() => {
                if let (Some((want, _)), Some(got)) = (mount, announced_digest(&resp)?) {
                    if &got != want {
                        return Err(Error::digest_mismatch(want, got));
                    }
                }
                Ok(Started::Mounted)
            }
            202 => {
                let location = self.upload_location(&resp, &what)?;
                let min_chunk = match header(&resp.headers, "oci-chunk-min-length") {
                    None => None,
                    Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                        Error::decode(
                            format!("OCI-Chunk-Min-Length of {what}"),
                            format!("not a byte count: {}", quote(v)),
                        )
                    })?),
                };
                Ok(Started::Session(Session {
                    location,
                    min_chunk,
                }))
            }
            other => Err(Error::registry(
                other,
                format!("unexpected answer to the start of the {what}"),
            )),
        }
    }

    /// The session URL a response names in `Location`: relative or
    /// absolute, on the registry's origin or the one that answered (where
    /// the registry redirected to). No credentials go anywhere else.
    fn upload_location(&self, resp: &Response, what: &str) -> Result<Url> {
        let value = header(&resp.headers, "location")
            .ok_or_else(|| Error::registry(resp.status, format!("{what}: no Location")))?;
        let url = resp.url.join(value.trim()).map_err(|e| {
            Error::decode(
                format!("Location of {what}"),
                format!("{e}: {}", quote(value)),
            )
        })?;
        let registry = &self.config().base;
        if url.origin() != registry.origin() && url.origin() != resp.url.origin() {
            return Err(Error::registry(
                resp.status,
                format!(
                    "{what}: the registry named a session on another host ({})",
                    crate::text::redact_url(&url)
                ),
            ));
        }
        Ok(url)
    }

    /// Cancels an upload session; its failure changes nothing for the
    /// caller (the registry expires sessions on its own).
    fn cancel_upload(&self, repository: &str, session: &Session) {
        let what = format!("upload to {repository}");
        let _ = self.send(&Request {
            method: Method::Delete,
            scope: Some(Scope::push(repository)),
            ..self.request(session.location.clone(), &what)
        });
    }
}

enum Started {
    Mounted,
    Session(Session),
}
