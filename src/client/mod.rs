//! The public API: [`Client`], a thin facade over one file per kind of
//! operation — `ping`, `catalog` (catalog and tags), `manifests`, `blobs`,
//! `image` — each with its result types beside it.
//!
//! Every request the operations make goes through the three private methods
//! at the end of this file (`send`, `open`, `probe`): the one door to the
//! transport. Every cached answer goes through [`Client::cached`].
//!
//! What the cache holds and for how long: content addressed by digest
//! (manifests, config blobs) is immutable and kept until evicted; answers
//! about names (a tag's manifest, tag lists, catalog pages) expire after the
//! builder's `cache_ttl`. `manifest_digest` by tag always asks the registry.
//! [`Client::uncached`] skips cache reads for one call or many;
//! `invalidate_*` drop what a write changed.

mod args;
mod blob_pipeline;
mod blobs;
mod builder;
mod cached;
mod catalog;
mod copy;
mod image;
mod manifest_writes;
mod manifests;
mod ping;
mod pull;
mod referrers;
mod transfer;
mod upload;

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use ureq::http::HeaderMap;
use url::Url;

use crate::cache::{Cache, CacheStats, Kind};
use crate::config::Config;
use crate::http::{self, limits, Method};
use crate::reference::Reference;
use crate::request::{Payload, Request, Response, Transport};
use crate::{Error, Result};

pub use args::{ToDigest, ToReference};
pub use blobs::BlobRange;
pub use blobs::BlobReader;
pub use builder::ClientBuilder;
pub use catalog::Pages;
pub use copy::{CopyOptions, CopyReport};
pub use image::{ImageInfo, LayerInfo, RepositoryInfo};
pub use manifest_writes::PutManifest;
pub use manifests::ManifestResponse;
pub use ping::PingInfo;
pub use pull::{PullOptions, PullProgress, PullReport, DEFAULT_PULL_JOBS, MAX_PULL_JOBS};
pub use referrers::Referrers;
pub use upload::{
    BlobSource, PushedBlob, UploadOptions, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE,
};

use cached::{BlobKey, ManifestKey, PageKey, Shelves};
use catalog::Listing;

/// A registry client: cheap to clone, `Send + Sync`; clones share one
/// connection pool, token cache and response cache.
///
/// ```no_run
/// use registry_client::Client;
///
/// let client = Client::builder("registry.example.com").basic_auth("alice", "secret").build()?;
/// for tag in client.list_tags("library/alpine")? {
///     println!("{tag}");
/// }
/// let m = client.get_manifest("library/alpine", "latest")?;
/// println!("{} {} {} bytes", m.digest, m.media_type, m.size);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// False for an [`uncached`](Client::uncached) view.
    read_cache: bool,
}

struct Inner {
    config: Config,
    transport: Transport,
    cache: Cache<Shelves>,
    /// For a loopback registry named without a scheme, the way to it over
    /// plain http, should it not speak TLS.
    fallback: Option<Fallback>,
}

/// The plain-http side of a loopback registry named without a scheme
/// (`config::registry_base`): tried once a TLS handshake is answered in
/// plain HTTP, then used for everything.
struct Fallback {
    /// The client's settings with an `http://` base.
    config: Config,
    /// Built when first needed: its own token cache, since the realm rules
    /// differ for an http registry.
    transport: OnceLock<Transport>,
    /// [`UNKNOWN`], [`TLS`] or [`PLAIN`].
    state: AtomicU8,
}

const UNKNOWN: u8 = 0;
const TLS: u8 = 1;
const PLAIN: u8 = 2;

impl Fallback {
    fn new(config: &Config) -> Fallback {
        let mut plain = config.clone();
        // https → http is a change `Url` allows; the port stays as given.
        // (`host` alone means 443 over https and 80 over http.)
        let _ = plain.base.set_scheme("http");
        plain.plain_http_fallback = false;
        Fallback {
            config: plain,
            transport: OnceLock::new(),
            state: AtomicU8::new(UNKNOWN),
        }
    }

    fn is_plain(&self) -> bool {
        self.state.load(Ordering::Acquire) == PLAIN
    }

    fn transport(&self) -> &Transport {
        self.transport.get_or_init(|| Transport::new(&self.config))
    }

    /// `url` on the plain-http origin when it is on the https one.
    fn rewrite(&self, tls_base: &Url, url: &Url) -> Url {
        if url.origin() != tls_base.origin() {
            return url.clone();
        }
        let mut plain = url.clone();
        let _ = plain.set_scheme("http");
        let _ = plain.set_port(self.config.base.port());
        plain
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("registry", &self.registry_url().as_str())
            .field("credentials", &self.inner.config.credentials)
            .field("read_cache", &self.read_cache)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client for `registry` (`host[:port]`, or a URL;
    /// https unless `http://` is given).
    ///
    /// ```
    /// let client = registry_client::Client::builder("http://127.0.0.1:5000").build()?;
    /// assert_eq!(client.registry_url().as_str(), "http://127.0.0.1:5000/");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn builder(registry: &str) -> ClientBuilder {
        ClientBuilder::new(registry)
    }

    /// An anonymous client with default settings.
    ///
    /// ```
    /// let client = registry_client::Client::new("ghcr.io")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn new(registry: &str) -> Result<Client> {
        ClientBuilder::new(registry).build()
    }

    pub(crate) fn from_config(config: Config) -> Result<Client> {
        let transport = Transport::new(&config);
        let fallback = config.plain_http_fallback.then(|| Fallback::new(&config));
        let cache = Cache::new(
            config.cache_capacity,
            config.cache_max_bytes,
            config.cache_ttl,
            config.clock.clone(),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                cache,
                fallback,
            }),
            read_cache: true,
        })
    }

    /// A view of this client that never answers from the response cache:
    /// every call through it asks the registry, and what it gets still
    /// refreshes the cache for everyone else. Cheap (it shares everything
    /// with `self`); its clones, and the [`Pages`] it makes, are uncached
    /// too. To turn the cache off for good, build with `cache_capacity(0)`.
    ///
    /// ```no_run
    /// let client = registry_client::Client::new("localhost:5000")?;
    /// let cached = client.get_manifest("app", "v1")?;
    /// // Someone pushed `app:v1` again: ask the registry, not the cache.
    /// let fresh = client.uncached().get_manifest("app", "v1")?;
    /// // …and the next cached call sees the new manifest too.
    /// assert_eq!(client.get_manifest("app", "v1")?.digest, fresh.digest);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn uncached(&self) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            read_cache: false,
        }
    }

    /// Counters and size of the response cache (shared by every clone and
    /// view of this client).
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// assert_eq!(c.cache_stats().entries, 0);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Drops every cached response (tokens are kept).
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// c.clear_cache();
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn clear_cache(&self) {
        self.inner.cache.clear()
    }

    /// Forgets the cached manifest of `repository` at `reference`, after a
    /// write changed it: for a tag, what the tag pointed to; for a digest,
    /// that manifest and every cached tag that pointed to it (deleting a
    /// manifest removes its tags). An invalid name or reference has nothing
    /// cached, and nothing happens.
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// // After pushing a new manifest as app:v1 by other means:
    /// c.invalidate_manifest("app", "v1");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn invalidate_manifest(&self, repository: &str, reference: impl ToReference) {
        let Ok(reference) = reference.to_reference() else {
            return;
        };
        let cache = &self.inner.cache;
        match reference {
            // The manifest itself is among those with its digest.
            Reference::Digest(d) => {
                cache.remove_where(|k: &ManifestKey, m| k.repository == repository && m.digest == d)
            }
            tag => cache.remove(&ManifestKey {
                repository: repository.to_string(),
                reference: tag,
            }),
        }
    }

    /// Forgets every cached answer about `repository`'s tags: its tag list
    /// and the manifests fetched by tag (those fetched by digest stay: they
    /// cannot change).
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// c.invalidate_tags("app");
    /// assert_eq!(c.cache_stats().entries, 0);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn invalidate_tags(&self, repository: &str) {
        let cache = &self.inner.cache;
        cache.remove_where(
            |k: &PageKey, _| matches!(&k.listing, Listing::Tags(r) if r == repository),
        );
        cache.remove_where(|k: &ManifestKey, _| {
            k.repository == repository && !k.reference.is_digest()
        });
    }

    /// Forgets everything cached about `repository` (manifests, tags,
    /// blobs) and the catalog, which lists it: for after a repository was
    /// created or deleted.
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// c.invalidate_repository("app");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn invalidate_repository(&self, repository: &str) {
        let cache = &self.inner.cache;
        cache.remove_where(|k: &PageKey, _| match &k.listing {
            Listing::Tags(r) => r == repository,
            Listing::Catalog => true,
        });
        cache.remove_where(|k: &ManifestKey, _| k.repository == repository);
        cache.remove_where(|k: &BlobKey, _| k.repository == repository);
    }

    /// The registry's base URL. For a registry on `localhost`,
    /// `127.0.0.0/8` or `[::1]` named without a scheme, https until the
    /// registry is found not to speak TLS, http from then on.
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// assert_eq!(c.registry_url().scheme(), "https");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn registry_url(&self) -> &Url {
        &self.config().base
    }

    /// The settings in use: those for plain http once a loopback registry
    /// turned out not to speak TLS.
    fn config(&self) -> &Config {
        match &self.inner.fallback {
            Some(f) if f.is_plain() => &f.config,
            _ => &self.inner.config,
        }
    }

    /// The transport in use (see [`config`](Self::config)).
    fn transport(&self) -> &Transport {
        match &self.inner.fallback {
            Some(f) if f.is_plain() => f.transport(),
            _ => &self.inner.transport,
        }
    }

    /// Whether there are credentials to offer (asking the provider).
    fn has_credentials(&self) -> Result<bool> {
        self.transport().has_credentials()
    }

    /// The value cached under `key`, or the one `fetch` returns (as `(value,
    /// bytes charged, immutable)`), which is then cached; an uncached view
    /// always fetches.
    fn cached<K: Kind<Shelves>>(
        &self,
        key: K,
        fetch: impl FnOnce() -> Result<(K::Value, usize, bool)>,
    ) -> Result<K::Value> {
        if self.read_cache {
            self.inner.cache.get_or_insert_with(&key, fetch)
        } else {
            self.inner.cache.refresh_with(key, fetch)
        }
    }

    /// `path` under the registry's base URL.
    fn url(&self, path: &str) -> Result<Url> {
        self.config()
            .base
            .join(path)
            .map_err(|e| Error::invalid(format!("cannot build URL for {path}: {e}")))
    }

    /// A `GET` of `url`: no `Accept`, no scope, an error-sized body cap.
    /// Operations fill in the rest.
    fn request<'a>(&self, url: Url, what: &'a str) -> Request<'a> {
        Request {
            method: Method::Get,
            url,
            accept: None,
            scope: None,
            also: None,
            streaming: false,
            limit: limits::ERROR_BODY,
            what,
            headers: Vec::new(),
            body: Payload::Empty,
        }
    }

    // The transport, as the operations see it: nothing else below calls it.

    /// Sends `req` and reads the success body whole (within `req.limit`).
    fn send(&self, req: &Request<'_>) -> Result<Response> {
        self.route(&req.url, |t, url| match url {
            None => t.send(req),
            Some(url) => t.send(&Request {
                url,
                scope: req.scope.clone(),
                also: req.also.clone(),
                headers: req.headers.clone(),
                body: req.body.clone(),
                ..*req
            }),
        })
    }

    /// Sends `req` and returns the success response with its body unread
    /// (and the URL it came from after redirects).
    fn open(&self, req: &Request<'_>) -> Result<http::Response> {
        self.route(&req.url, |t, url| match url {
            None => t.open(req),
            Some(url) => t.open(&Request {
                url,
                scope: req.scope.clone(),
                also: req.also.clone(),
                headers: req.headers.clone(),
                body: req.body.clone(),
                ..*req
            }),
        })
    }

    /// Runs `go` on the transport for `url`: the client's own, or for a
    /// loopback registry named without a scheme that turned out to speak
    /// plain http, the http one with `url` moved to http (the `Some` URL).
    /// The first TLS handshake such a registry answers in plain HTTP
    /// decides it, and the exchange is sent again over http: nothing
    /// reached the server (the handshake failed before any request).
    fn route<T>(&self, url: &Url, go: impl Fn(&Transport, Option<Url>) -> Result<T>) -> Result<T> {
        let Some(f) = &self.inner.fallback else {
            return go(&self.inner.transport, None);
        };
        let tls_base = &self.inner.config.base;
        match f.state.load(Ordering::Acquire) {
            PLAIN => go(f.transport(), Some(f.rewrite(tls_base, url))),
            TLS => go(&self.inner.transport, None),
            _ => match go(&self.inner.transport, None) {
                // Or another thread found out while this one tried TLS
                // (its failure may be the TLS side's breaker, opened by
                // the handshakes that found out).
                Err(e) if http::failure::is_plain_http_reply(&e) || f.is_plain() => {
                    f.state.store(PLAIN, Ordering::Release);
                    go(f.transport(), Some(f.rewrite(tls_base, url)))
                }
                Err(e) => Err(e),
                Ok(v) => {
                    // A TLS exchange went through: TLS it is.
                    let _ =
                        f.state
                            .compare_exchange(UNKNOWN, TLS, Ordering::AcqRel, Ordering::Acquire);
                    Ok(v)
                }
            },
        }
    }

    /// `r` with every secret the client holds removed from its error: the
    /// last step of every operation, so that text a server sent (what its
    /// error body said, a header quoted in a parse error) never carries a
    /// password or token back to the caller.
    fn scrub<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| {
            let e = self.inner.transport.scrub(e);
            match self.inner.fallback.as_ref().and_then(|f| f.transport.get()) {
                Some(plain) => plain.scrub(e),
                None => e,
            }
        })
    }

    /// Asks `url` without credentials: the status and headers.
    fn probe(&self, url: &Url, what: &str) -> Result<(u16, HeaderMap)> {
        self.route(url, |t, moved| t.probe(moved.as_ref().unwrap_or(url), what))
    }
}
