//! The public API: a thin layer that validates input, asks the transport,
//! decodes and verifies.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::auth::scope::Scope;
use crate::blob::BlobReader;
use crate::cache::{Cache, CacheStats};
use crate::config::{ClientBuilder, Config};
use crate::digest::Digest;
use crate::http::{header, limits, Method};
use crate::manifest::media_type::{self, ACCEPT_MANIFESTS};
use crate::manifest::{ImageConfig, ImageManifest, Manifest};
use crate::pagination::{list_url, next_link, Page};
use crate::platform::Platform;
use crate::reference::{validate_repository, Reference};
use crate::request::{Request, Response, Transport};
use crate::{Error, Result};

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
}

struct Inner {
    config: Config,
    transport: Transport,
    cache: Cache<CacheKey, Cached>,
    /// The registry part of every cache key.
    registry: Arc<str>,
}

/// What a cached response is filed under: registry, kind, repository,
/// reference (tag, digest or page URL) and the media types asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    registry: Arc<str>,
    kind: CacheKind,
    repository: String,
    reference: String,
    accept: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum CacheKind {
    Manifest,
    Page,
    Blob,
}

/// Cached values are shared, never copied, on a hit.
#[derive(Clone)]
enum Cached {
    Manifest(Arc<ManifestResponse>),
    Page(Arc<(Page, Option<Url>)>),
    Blob(Arc<Vec<u8>>),
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("registry", &self.inner.config.base.as_str())
            .field("credentials", &self.inner.config.credentials)
            .finish_non_exhaustive()
    }
}

/// What `GET /v2/` said.
///
/// ```no_run
/// let info = registry_client::Client::new("localhost:5000")?.ping()?;
/// println!("auth required: {}", info.auth_required);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PingInfo {
    /// The registry challenged for credentials.
    pub auth_required: bool,
    /// The `Docker-Distribution-API-Version` header (`registry/2.0`).
    pub api_version: Option<String>,
}

/// A manifest as served, with its verified digest.
///
/// ```no_run
/// let m = registry_client::Client::new("localhost:5000")?.get_manifest("app", "v1")?;
/// assert_eq!(m.size, m.body.len() as u64);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ManifestResponse {
    /// The digest of `body` (checked against the reference and
    /// `Docker-Content-Digest`).
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: String,
    /// Length of `body` in bytes.
    pub size: u64,
    /// The exact bytes served.
    pub body: Vec<u8>,
    /// The decoded manifest.
    pub manifest: Manifest,
}

/// One layer of an image.
///
/// ```
/// let l = registry_client::LayerInfo {
///     digest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
///     size: 0,
///     media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
/// };
/// assert_eq!(l.size, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// The layer's digest.
    pub digest: String,
    /// Compressed size in bytes.
    pub size: u64,
    /// The layer's media type.
    pub media_type: String,
}

/// What an image is, from its manifest and config blob.
///
/// ```no_run
/// let info = registry_client::Client::new("localhost:5000")?.image_info("app", "v1", None)?;
/// println!("{}/{} {} layers", info.os, info.architecture, info.layers.len());
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageInfo {
    /// Digest of the image manifest (of the platform's entry, for an index).
    pub digest: String,
    /// Media type of that manifest.
    pub media_type: String,
    /// Digest of the config blob.
    pub config_digest: String,
    /// CPU architecture (`amd64`, `arm64`, …).
    pub architecture: String,
    /// Operating system.
    pub os: String,
    /// CPU variant (`v8`, …).
    pub variant: Option<String>,
    /// Creation time (RFC 3339), as recorded.
    pub created: Option<String>,
    /// Author, as recorded.
    pub author: Option<String>,
    /// Config plus layers, in bytes.
    pub size: u64,
    /// Layers, base first.
    pub layers: Vec<LayerInfo>,
    /// Image labels.
    pub labels: BTreeMap<String, String>,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Default arguments.
    pub cmd: Vec<String>,
    /// Environment, `KEY=value`.
    pub env: Vec<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// User (and group) to run as.
    pub user: Option<String>,
}

/// A repository's name and tags.
///
/// ```no_run
/// let r = registry_client::Client::new("localhost:5000")?.repository_info("app")?;
/// println!("{}: {:?}", r.name, r.tags);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RepositoryInfo {
    /// The repository name.
    pub name: String,
    /// Its tags, in the registry's order.
    pub tags: Vec<String>,
}

#[derive(Clone, Debug)]
enum Listing {
    Catalog,
    Tags(String),
}

/// The pages of a catalog or tag listing, fetched one at a time as the
/// iterator advances. A page the registry links to twice is an error, so
/// the iteration always ends.
///
/// ```no_run
/// let client = registry_client::Client::builder("localhost:5000").page_size(50).build()?;
/// for page in client.catalog_pages() {
///     let page = page?;
///     println!("{} repositories, more: {}", page.items.len(), page.next.is_some());
/// }
/// # Ok::<(), registry_client::Error>(())
/// ```
pub struct Pages {
    client: Client,
    listing: Listing,
    next: Option<Url>,
    seen: HashSet<String>,
    pending: Option<Error>,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("listing", &self.listing)
            .field("next", &self.next.as_ref().map(Url::as_str))
            .finish_non_exhaustive()
    }
}

/// At most this many pages per listing: a registry that invents new page
/// URLs forever must not keep a caller busy forever.
const MAX_PAGES: usize = 100_000;

impl Iterator for Pages {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Result<Page>> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        let url = self.next.take()?;
        match self.client.fetch_page(&self.listing, &url) {
            Ok((page, next)) => {
                if let Some(next) = next {
                    if self.seen.len() >= MAX_PAGES {
                        self.pending = Some(Error::decode(
                            "pagination",
                            format!("more than {MAX_PAGES} pages"),
                        ));
                    } else if !self.seen.insert(next.to_string()) {
                        self.pending = Some(Error::decode(
                            "pagination Link header",
                            format!("the registry links to {next} again (a loop)"),
                        ));
                    } else {
                        self.next = Some(next);
                    }
                }
                Some(Ok(page))
            }
            Err(e) => Some(Err(e)),
        }
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
        let cache = Cache::new(
            config.cache_capacity,
            config.cache_max_bytes,
            config.cache_ttl,
            config.clock.clone(),
        );
        let registry: Arc<str> = Arc::from(config.base.as_str());
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                cache,
                registry,
            }),
        })
    }

    fn key(
        &self,
        kind: CacheKind,
        repository: &str,
        reference: &str,
        accept: &'static str,
    ) -> CacheKey {
        CacheKey {
            registry: self.inner.registry.clone(),
            kind,
            repository: repository.to_string(),
            reference: reference.to_string(),
            accept,
        }
    }

    /// Counters and size of the response cache.
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

    /// The registry's base URL.
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// assert_eq!(c.registry_url().scheme(), "https");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn registry_url(&self) -> &Url {
        &self.inner.config.base
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.inner
            .config
            .base
            .join(path)
            .map_err(|e| Error::invalid(format!("cannot build URL for {path}: {e}")))
    }

    fn send(&self, req: &Request<'_>) -> Result<Response> {
        self.inner.transport.send(req)
    }

    /// Checks that the registry speaks API v2 (`GET /v2/`), authenticating
    /// when it asks and credentials are configured.
    ///
    /// ```no_run
    /// let info = registry_client::Client::new("localhost:5000")?.ping()?;
    /// assert_eq!(info.api_version.as_deref(), Some("registry/2.0"));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn ping(&self) -> Result<PingInfo> {
        let url = self.url("v2/")?;
        let what = "API version check";
        // Asked bare first: whether the registry wants credentials is a fact
        // about it, not about the credentials this client holds.
        let (status, headers) = self.inner.transport.probe(&url, what)?;
        let auth_required = status == 401;
        let anonymous = !self.inner.transport.has_credentials()?;
        if auth_required && !anonymous {
            // Then with the credentials, so bad ones are reported here.
            self.send(&Request {
                method: Method::Get,
                url,
                accept: None,
                scope: None,
                streaming: false,
                limit: limits::ERROR_BODY,
                what,
            })?;
        }
        Ok(PingInfo {
            auth_required,
            api_version: header(&headers, "docker-distribution-api-version").map(str::to_string),
        })
    }

    /// Every repository in the registry, following pagination.
    ///
    /// ```no_run
    /// let repos = registry_client::Client::new("localhost:5000")?.list_repositories()?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn list_repositories(&self) -> Result<Vec<String>> {
        collect(self.catalog_pages())
    }

    /// The catalog page by page.
    ///
    /// ```no_run
    /// let first = registry_client::Client::new("localhost:5000")?.catalog_pages().next();
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn catalog_pages(&self) -> Pages {
        self.pages(Listing::Catalog, "v2/_catalog")
    }

    /// Every tag of `repository`, following pagination.
    ///
    /// ```no_run
    /// let tags = registry_client::Client::new("localhost:5000")?.list_tags("app")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn list_tags(&self, repository: &str) -> Result<Vec<String>> {
        collect(self.tag_pages(repository)?)
    }

    /// The tags of `repository` page by page.
    ///
    /// ```
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// assert!(c.tag_pages("Not/Valid").is_err());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn tag_pages(&self, repository: &str) -> Result<Pages> {
        validate_repository(repository)?;
        Ok(self.pages(
            Listing::Tags(repository.to_string()),
            &format!("v2/{repository}/tags/list"),
        ))
    }

    /// One page of the catalog: up to `n` names after `last`.
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let page = c.catalog_page(Some(10), None)?;
    /// let second = c.catalog_page(Some(10), page.items.last().map(String::as_str))?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn catalog_page(&self, n: Option<usize>, last: Option<&str>) -> Result<Page> {
        if n == Some(0) {
            return Err(Error::invalid("page size must be at least 1"));
        }
        let url = list_url(&self.inner.config.base, "v2/_catalog", n, last);
        self.fetch_page(&Listing::Catalog, &url).map(|(p, _)| p)
    }

    fn pages(&self, listing: Listing, path: &str) -> Pages {
        let first = list_url(
            &self.inner.config.base,
            path,
            self.inner.config.page_size,
            None,
        );
        let mut seen = HashSet::new();
        seen.insert(first.to_string());
        Pages {
            client: self.clone(),
            listing,
            next: Some(first),
            seen,
            pending: None,
        }
    }

    fn fetch_page(&self, listing: &Listing, url: &Url) -> Result<(Page, Option<Url>)> {
        let repository = match listing {
            Listing::Catalog => "",
            Listing::Tags(repo) => repo.as_str(),
        };
        let key = self.key(
            CacheKind::Page,
            repository,
            url.as_str(),
            "application/json",
        );
        let cached = self.inner.cache.get_or_insert_with(&key, || {
            let page = self.fetch_page_uncached(listing, url)?;
            let bytes = page.0.items.iter().map(|i| i.len() + 24).sum::<usize>() + 256;
            Ok::<_, Error>((Cached::Page(Arc::new(page)), bytes, false))
        })?;
        match cached {
            Cached::Page(p) => Ok((*p).clone()),
            _ => unreachable_kind(),
        }
    }

    fn fetch_page_uncached(&self, listing: &Listing, url: &Url) -> Result<(Page, Option<Url>)> {
        let (scope, what) = match listing {
            Listing::Catalog => (Scope::catalog(), "catalog".to_string()),
            Listing::Tags(repo) => (Scope::pull(repo), format!("tags of repository {repo}")),
        };
        let resp = self.send(&Request {
            method: Method::Get,
            url: url.clone(),
            accept: Some("application/json"),
            scope: Some(scope),
            streaming: false,
            limit: limits::LIST_PAGE,
            what: &what,
        })?;
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            repositories: Option<Vec<String>>,
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let body: Body =
            serde_json::from_slice(&resp.body).map_err(|e| Error::decode(what.clone(), e))?;
        let items = match listing {
            Listing::Catalog => body.repositories,
            Listing::Tags(_) => body.tags,
        }
        .unwrap_or_default();
        // Checked against the page we asked for, not where a redirect led:
        // a next page is only ever fetched from the registry itself.
        let next = next_link(
            resp.headers
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>(),
            url,
        )?;
        let query = |key: &str| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let page = Page {
            items,
            next: next.as_ref().map(|u| u.to_string()),
            page_size: query("n").and_then(|n| n.parse().ok()),
            last: query("last"),
        };
        Ok((page, next))
    }

    /// Fetches a manifest by tag or digest, verifying its digest.
    ///
    /// Every supported media type is accepted: Docker v2 schema 2, Docker
    /// manifest list, OCI image manifest and OCI image index.
    ///
    /// ```no_run
    /// use registry_client::manifest::Manifest;
    /// let m = registry_client::Client::new("localhost:5000")?.get_manifest("app", "v1")?;
    /// if let Manifest::OciImage(image) = &m.manifest {
    ///     println!("{} layers", image.layers.len());
    /// }
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn get_manifest(&self, repository: &str, reference: &str) -> Result<Arc<ManifestResponse>> {
        validate_repository(repository)?;
        let reference = Reference::parse(reference)?;
        let key = self.key(
            CacheKind::Manifest,
            repository,
            reference.as_str(),
            ACCEPT_MANIFESTS,
        );
        let cached = self.inner.cache.get_or_insert_with(&key, || {
            let m = self.fetch_manifest(repository, &reference)?;
            let size = m.body.len() * 2 + 256;
            if !reference.is_digest() {
                // Content addressed: the same bytes serve a later fetch by digest.
                let by_digest = self.key(
                    CacheKind::Manifest,
                    repository,
                    m.digest.as_str(),
                    ACCEPT_MANIFESTS,
                );
                self.inner
                    .cache
                    .insert(by_digest, Cached::Manifest(m.clone()), size, true);
            }
            Ok::<_, Error>((Cached::Manifest(m), size, reference.is_digest()))
        })?;
        match cached {
            Cached::Manifest(m) => Ok(m),
            _ => unreachable_kind(),
        }
    }

    fn fetch_manifest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<Arc<ManifestResponse>> {
        let what = manifest_what(repository, reference);
        let resp = self.send(&Request {
            method: Method::Get,
            url: self.url(&format!("v2/{repository}/manifests/{reference}"))?,
            accept: Some(ACCEPT_MANIFESTS),
            scope: Some(Scope::pull(repository)),
            streaming: false,
            limit: limits::MANIFEST,
            what: &what,
        })?;
        let announced = announced_digest(&resp)?;
        if let Reference::Digest(d) = reference {
            d.verify(&resp.body)?;
        }
        // Hashed again only when the header names another digest than the
        // one just checked.
        if let Some(d) = announced
            .as_ref()
            .filter(|&d| reference.digest() != Some(d))
        {
            d.verify(&resp.body)?;
        }
        let digest = match (reference, announced) {
            (Reference::Digest(d), _) => d.clone(),
            (_, Some(d)) => d,
            _ => Digest::sha256(&resp.body),
        };
        let manifest = Manifest::parse(header(&resp.headers, "content-type"), &resp.body)?;
        Ok(Arc::new(ManifestResponse {
            digest,
            media_type: manifest.media_type().to_string(),
            size: resp.body.len() as u64,
            body: resp.body,
            manifest,
        }))
    }

    /// The digest a tag or digest resolves to, by `HEAD` (falling back to
    /// `GET` when the registry sends no `Docker-Content-Digest`).
    ///
    /// ```no_run
    /// let d = registry_client::Client::new("localhost:5000")?.manifest_digest("app", "v1")?;
    /// println!("{d}");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn manifest_digest(&self, repository: &str, reference: &str) -> Result<Digest> {
        validate_repository(repository)?;
        let parsed = Reference::parse(reference)?;
        let key = self.key(
            CacheKind::Manifest,
            repository,
            parsed.as_str(),
            ACCEPT_MANIFESTS,
        );
        if let Some(Cached::Manifest(m)) = self.inner.cache.get(&key) {
            return Ok(m.digest.clone());
        }
        let what = manifest_what(repository, &parsed);
        let resp = self.send(&Request {
            method: Method::Head,
            url: self.url(&format!("v2/{repository}/manifests/{parsed}"))?,
            accept: Some(ACCEPT_MANIFESTS),
            scope: Some(Scope::pull(repository)),
            streaming: false,
            limit: 0,
            what: &what,
        })?;
        match (announced_digest(&resp)?, &parsed) {
            (Some(got), Reference::Digest(want)) if &got != want => Err(Error::DigestMismatch {
                expected: want.to_string(),
                actual: got.to_string(),
            }),
            (Some(got), _) => Ok(got),
            (None, _) => Ok(self.get_manifest(repository, reference)?.digest.clone()),
        }
    }

    /// Fetches a blob whole (at most `limit` bytes) and verifies its digest.
    fn get_small_blob(
        &self,
        repository: &str,
        digest: &Digest,
        limit: u64,
    ) -> Result<Arc<Vec<u8>>> {
        let key = self.key(CacheKind::Blob, repository, digest.as_str(), "");
        let cached = self.inner.cache.get_or_insert_with(&key, || {
            let body = self.fetch_small_blob(repository, digest, limit)?;
            let size = body.len() + 128;
            Ok::<_, Error>((Cached::Blob(Arc::new(body)), size, true))
        })?;
        match cached {
            Cached::Blob(b) => Ok(b),
            _ => unreachable_kind(),
        }
    }

    fn fetch_small_blob(&self, repository: &str, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let what = format!("blob {repository}@{digest}");
        let resp = self.send(&Request {
            method: Method::Get,
            url: self.url(&format!("v2/{repository}/blobs/{digest}"))?,
            accept: None,
            scope: Some(Scope::pull(repository)),
            streaming: false,
            limit,
            what: &what,
        })?;
        digest.verify(&resp.body)?;
        Ok(resp.body)
    }

    /// Describes an image from its manifest and config blob. For an index
    /// or manifest list, `platform` picks the entry (default: linux and the
    /// host's architecture).
    ///
    /// ```no_run
    /// use registry_client::platform::Platform;
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let arm = Platform::parse("linux/arm64/v8")?;
    /// let info = c.image_info("multi", "latest", Some(&arm))?;
    /// assert_eq!(info.architecture, "arm64");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn image_info(
        &self,
        repository: &str,
        reference: &str,
        platform: Option<&Platform>,
    ) -> Result<ImageInfo> {
        let top = self.get_manifest(repository, reference)?;
        let (manifest, image) = match &top.manifest {
            Manifest::DockerV2(m) | Manifest::OciImage(m) => (top.clone(), m.clone()),
            Manifest::DockerList(index) | Manifest::OciIndex(index) => {
                let want = platform.cloned().unwrap_or_else(Platform::host);
                let entry = index.select(&want).ok_or_else(|| {
                    let available: Vec<String> =
                        index.platforms().iter().map(|p| p.to_string()).collect();
                    Error::NotFound {
                        what: format!(
                            "platform {want} in {repository}:{reference} (available: {})",
                            if available.is_empty() {
                                "none".to_string()
                            } else {
                                available.join(", ")
                            }
                        ),
                        diagnostics: Vec::new(),
                    }
                })?;
                let child = self.get_manifest(repository, entry.digest.as_str())?;
                let image = match &child.manifest {
                    Manifest::DockerV2(m) | Manifest::OciImage(m) => m.clone(),
                    _ => {
                        return Err(Error::unsupported(format!(
                            "{repository}@{} is an index inside an index",
                            entry.digest
                        )))
                    }
                };
                (child, image)
            }
        };
        let config = self.image_config(repository, &image)?;
        if let (Some(want), false) = (platform, top.manifest.is_index()) {
            let have = Platform {
                os: config.os.clone(),
                architecture: config.architecture.clone(),
                variant: config.variant.clone(),
                os_version: None,
                os_features: Vec::new(),
            };
            if !want.matches(&have) {
                return Err(Error::NotFound {
                    what: format!(
                        "platform {want} in {repository}:{reference} (available: {have})"
                    ),
                    diagnostics: Vec::new(),
                });
            }
        }
        let layers: Vec<LayerInfo> = image
            .layers
            .iter()
            .map(|l| LayerInfo {
                digest: l.digest.to_string(),
                size: l.size,
                media_type: l.media_type.clone(),
            })
            .collect();
        let size = image.config.size + layers.iter().map(|l| l.size).sum::<u64>();
        let c = config.config;
        Ok(ImageInfo {
            digest: manifest.digest.to_string(),
            media_type: manifest.media_type.clone(),
            config_digest: image.config.digest.to_string(),
            architecture: config.architecture,
            os: config.os,
            variant: config.variant,
            created: config.created,
            author: config.author,
            size,
            layers,
            labels: c.labels,
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env,
            working_dir: c.working_dir.filter(|w| !w.is_empty()),
            user: c.user.filter(|u| !u.is_empty()),
        })
    }

    fn image_config(&self, repository: &str, image: &ImageManifest) -> Result<ImageConfig> {
        let media = image.config.media_type.as_str();
        if !media.is_empty()
            && media != media_type::DOCKER_CONFIG
            && media != media_type::OCI_CONFIG
        {
            return Err(Error::unsupported(format!(
                "config media type {media} is not an image configuration"
            )));
        }
        let bytes = self.get_small_blob(repository, &image.config.digest, limits::CONFIG_BLOB)?;
        ImageConfig::parse(&bytes)
    }

    /// Opens a blob for streaming; the content is verified against `digest`
    /// as it is read (see [`BlobReader`]). Redirects to storage hosts are
    /// followed without credentials.
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let m = c.get_manifest("app", "v1")?;
    /// let layer = &m.manifest.as_image().unwrap().layers[0];
    /// let mut file = std::fs::File::create("layer.tar.gz").unwrap();
    /// let n = c.blob("app", layer.digest.as_str())?.copy_to(&mut file)?;
    /// assert_eq!(n, layer.size);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn blob(&self, repository: &str, digest: &str) -> Result<BlobReader> {
        validate_repository(repository)?;
        let digest = Digest::parse(digest)?;
        let what = format!("blob {repository}@{digest}");
        let resp = self.inner.transport.open(&Request {
            method: Method::Get,
            url: self.url(&format!("v2/{repository}/blobs/{digest}"))?,
            accept: None,
            scope: Some(Scope::pull(repository)),
            streaming: true,
            limit: u64::MAX,
            what: &what,
        })?;
        let size = resp
            .header("content-length")
            .and_then(|v| v.trim().parse().ok());
        let url = resp.url.clone();
        Ok(BlobReader::new(resp.into_reader(), digest, size, url))
    }

    /// A repository's name and all its tags.
    ///
    /// ```no_run
    /// let info = registry_client::Client::new("localhost:5000")?.repository_info("app")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn repository_info(&self, repository: &str) -> Result<RepositoryInfo> {
        Ok(RepositoryInfo {
            name: repository.to_string(),
            tags: self.list_tags(repository)?,
        })
    }
}

/// Keys of different kinds never collide, so a key always holds its kind.
fn unreachable_kind<T>() -> Result<T> {
    Err(Error::decode(
        "response cache",
        "entry of an unexpected kind",
    ))
}

fn collect(pages: Pages) -> Result<Vec<String>> {
    let mut all = Vec::new();
    for page in pages {
        all.extend(page?.items);
    }
    Ok(all)
}

fn manifest_what(repository: &str, reference: &Reference) -> String {
    match reference {
        Reference::Tag(t) => format!("manifest {repository}:{t}"),
        Reference::Digest(d) => format!("manifest {repository}@{d}"),
    }
}

/// The `Docker-Content-Digest` header, if any; a malformed one is an error,
/// since it is what the content is checked against.
fn announced_digest(resp: &Response) -> Result<Option<Digest>> {
    match header(&resp.headers, "docker-content-digest") {
        None => Ok(None),
        Some(v) => Digest::parse(v.trim())
            .map(Some)
            .map_err(|e| Error::decode("Docker-Content-Digest header", e)),
    }
}
