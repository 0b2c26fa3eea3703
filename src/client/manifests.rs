//! Manifests: fetch by tag or digest with the digest verified, and resolve
//! a tag to its digest.

use std::sync::Arc;

use crate::auth::scope::Scope;
use crate::digest::Digest;
use crate::http::{header, limits, Method};
use crate::manifest::media_type::ACCEPT_MANIFESTS;
use crate::manifest::Manifest;
use crate::reference::{validate_repository, Reference};
use crate::request::{Request, Response};
use crate::{Error, Result};

use super::cached::{manifest_cost, ManifestKey};
use super::{Client, ToReference};

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

impl Client {
    /// Fetches a manifest by tag or digest (text, [`Digest`] or
    /// [`Reference`]), verifying its digest.
    ///
    /// Every supported media type is accepted: Docker v2 schema 2, Docker
    /// manifest list, OCI image manifest and OCI image index.
    ///
    /// May answer from the response cache: by digest for as long as the
    /// entry stays (content cannot change); by tag for the builder's
    /// `cache_ttl`, or until [`manifest_digest`](Self::manifest_digest)
    /// sees the tag moved or [`invalidate_manifest`](Self::invalidate_manifest)
    /// drops it. Call it on [`uncached`](Self::uncached) to ask the registry.
    ///
    /// ```no_run
    /// use registry_client::manifest::Manifest;
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let m = c.get_manifest("app", "v1")?;
    /// if let Manifest::OciImage(image) = &m.manifest {
    ///     println!("{} layers", image.layers.len());
    /// }
    /// let same = c.get_manifest("app", &m.digest)?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn get_manifest(
        &self,
        repository: &str,
        reference: impl ToReference,
    ) -> Result<Arc<ManifestResponse>> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            let immutable = reference.is_digest();
            let key = ManifestKey {
                repository: repository.to_string(),
                reference: reference.clone(),
            };
            self.cached(key, || {
                let m = Arc::new(self.fetch_manifest(repository, &reference)?);
                let bytes = manifest_cost(&m);
                if !immutable {
                    // Content addressed: the same bytes serve a later fetch by digest.
                    let by_digest = ManifestKey {
                        repository: repository.to_string(),
                        reference: Reference::Digest(m.digest.clone()),
                    };
                    self.inner.cache.insert(by_digest, m.clone(), bytes, true);
                }
                Ok((m, bytes, immutable))
            })
        })())
    }

    fn fetch_manifest(&self, repository: &str, reference: &Reference) -> Result<ManifestResponse> {
        let what = manifest_what(repository, reference);
        let resp = self.send(&Request {
            accept: Some(ACCEPT_MANIFESTS),
            scope: Some(Scope::pull(repository)),
            limit: limits::MANIFEST,
            ..self.request(self.manifest_url(repository, reference)?, &what)
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
        Ok(ManifestResponse {
            digest,
            media_type: manifest.media_type().to_string(),
            size: resp.body.len() as u64,
            body: resp.body,
            manifest,
        })
    }

    /// The digest a tag or digest resolves to, by `HEAD` (falling back to
    /// an uncached `GET` when the registry sends no `Docker-Content-Digest`).
    ///
    /// By tag it always asks the registry, so a tag pushed again is seen at
    /// once; when the answer differs from the manifest cached for the tag,
    /// that entry is dropped, and the next [`get_manifest`](Self::get_manifest)
    /// by tag fetches the new one. By digest it answers from the cache when
    /// that manifest is cached (it cannot change), else asks.
    ///
    /// ```no_run
    /// let d = registry_client::Client::new("localhost:5000")?.manifest_digest("app", "v1")?;
    /// println!("{d}");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn manifest_digest(&self, repository: &str, reference: impl ToReference) -> Result<Digest> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            let key = ManifestKey {
                repository: repository.to_string(),
                reference,
            };
            if let Reference::Digest(d) = &key.reference {
                if self.read_cache && self.inner.cache.get(&key).is_some() {
                    return Ok(d.clone());
                }
            }
            let what = manifest_what(repository, &key.reference);
            let resp = self.send(&Request {
                method: Method::Head,
                accept: Some(ACCEPT_MANIFESTS),
                scope: Some(Scope::pull(repository)),
                limit: 0,
                ..self.request(self.manifest_url(repository, &key.reference)?, &what)
            })?;
            let digest = match (announced_digest(&resp)?, &key.reference) {
                (Some(got), Reference::Digest(want)) if &got != want => {
                    return Err(Error::digest_mismatch(want, got))
                }
                (Some(got), _) => got,
                (None, _) => {
                    return Ok(self
                        .uncached()
                        .get_manifest(repository, &key.reference)?
                        .digest
                        .clone())
                }
            };
            // The tag moved: what the cache holds for it is stale.
            self.inner.cache.remove_if(&key, |m| m.digest != digest);
            Ok(digest)
        })())
    }

    pub(super) fn manifest_url(&self, repository: &str, reference: &Reference) -> Result<url::Url> {
        self.url(&format!("v2/{repository}/manifests/{reference}"))
    }
}

/// `manifest repo:tag` or `manifest repo@digest`, for messages.
pub(super) fn manifest_what(repository: &str, reference: &Reference) -> String {
    format!("manifest {}", name_of(repository, reference))
}

/// `repo:tag` or `repo@digest`.
pub(super) fn name_of(repository: &str, reference: &Reference) -> String {
    match reference {
        Reference::Tag(t) => format!("{repository}:{t}"),
        Reference::Digest(d) => format!("{repository}@{d}"),
    }
}

/// The `Docker-Content-Digest` header, if any; a malformed one is an error,
/// since it is what the content is checked against.
pub(super) fn announced_digest(resp: &Response) -> Result<Option<Digest>> {
    match header(&resp.headers, "docker-content-digest") {
        None => Ok(None),
        Some(v) => Digest::parse(v.trim())
            .map(Some)
            .map_err(|e| Error::decode("Docker-Content-Digest header", e)),
    }
}
