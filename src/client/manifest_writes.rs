//! Manifest writes: put a manifest by tag or digest, tag an existing one
//! (its exact bytes under another name), delete a manifest or a tag.

use std::sync::Arc;

use serde::Deserialize;

use crate::auth::scope::Scope;
use crate::digest::Digest;
use crate::http::{header, limits, Method};
use crate::manifest::{is_media_type, Descriptor};
use crate::reference::{validate_repository, validate_tag, Reference};
use crate::request::{Payload, Request};
use crate::text::quote;
use crate::{Error, Result};

use super::cached::{ManifestKey, PageKey};
use super::catalog::Listing;
use super::manifests::{announced_digest, manifest_what};
use super::{Client, ToReference};

/// What the registry did with a manifest [`Client::put_manifest`] sent.
///
/// ```no_run
/// let c = registry_client::Client::new("localhost:5000")?;
/// let m = c.get_manifest("app", "v1")?;
/// let put = c.put_manifest("app", "v1-copy", &m.media_type, &m.body)?;
/// assert_eq!(put.digest, m.digest);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutManifest {
    /// The digest of the bytes sent, which the registry confirmed.
    pub digest: Digest,
    /// The manifest's `subject`, when it has one.
    pub subject: Option<Digest>,
    /// Whether the registry said (`OCI-Subject`) that it indexed the
    /// subject for the referrers API; when it did not, the client updated
    /// the referrers tag (`sha256-<hex>`) instead.
    pub subject_indexed: bool,
}

/// The fields of a manifest a push reads: a referrer's descriptor comes
/// from them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Outline {
    #[serde(default)]
    pub subject: Option<Descriptor>,
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub config: Option<ConfigOutline>,
    #[serde(default)]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigOutline {
    #[serde(default)]
    pub media_type: Option<String>,
}

impl Client {
    /// Puts `body` as the manifest of `repository` at `reference` (a tag,
    /// or the body's own digest), with `media_type` as its
    /// `Content-Type`. The bytes are sent as they are: the registry must
    /// confirm their digest (`Docker-Content-Digest`), else the call fails.
    ///
    /// A manifest with a `subject` is a referrer: when the registry does
    /// not say it indexed it (`OCI-Subject`), the referrers tag schema's
    /// index (`sha256-<hex of the subject>`) is updated, as the
    /// distribution spec asks of clients. Cached answers about the tag and
    /// the repository's tag list are dropped.
    ///
    /// ```no_run
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// let body = std::fs::read("manifest.json").unwrap();
    /// let put = c.put_manifest("app", "v2", "application/vnd.oci.image.manifest.v1+json", &body)?;
    /// println!("{}", put.digest);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: impl ToReference,
        media_type: &str,
        body: &[u8],
    ) -> Result<PutManifest> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            let outline = check_manifest(media_type, body)?;
            let put = self.put_manifest_bytes(repository, &reference, media_type, body)?;
            let subject = outline.subject.as_ref().map(|s| s.digest.clone());
            let mut result = PutManifest {
                digest: put.0,
                subject,
                subject_indexed: put.1,
            };
            if let (Some(subject), false) = (&outline.subject, result.subject_indexed) {
                let entry = referrer_descriptor(media_type, body, &result.digest, &outline);
                self.add_referrer(repository, &subject.digest, entry)?;
            }
            result.subject_indexed = result.subject_indexed || result.subject.is_none();
            Ok(result)
        })())
    }

    /// The `PUT` itself: the digest the registry confirmed, and whether it
    /// answered `OCI-Subject`.
    pub(super) fn put_manifest_bytes(
        &self,
        repository: &str,
        reference: &Reference,
        media_type: &str,
        body: &[u8],
    ) -> Result<(Digest, bool)> {
        let digest = match reference {
            Reference::Digest(d) => {
                d.verify(body)?;
                d.clone()
            }
            Reference::Tag(_) => Digest::sha256(body),
        };
        let what = manifest_what(repository, reference);
        let resp = self.send(&Request {
            method: Method::Put,
            scope: Some(Scope::push(repository)),
            headers: vec![("Content-Type", media_type.to_string())],
            body: Payload::Bytes(Arc::from(body)),
            ..self.request(self.manifest_url(repository, reference)?, &what)
        })?;
        match announced_digest(&resp)? {
            Some(got) if got != digest => {
                // Whatever the registry stored under the tag is not what
                // was sent; forget what the cache says about it.
                self.forget_manifest_write(repository, reference);
                return Err(Error::digest_mismatch(&digest, got));
            }
            _ => {}
        }
        let indexed = match header(&resp.headers, "oci-subject") {
            None => false,
            Some(v) => {
                Digest::parse(v.trim()).map_err(|e| {
                    Error::decode(
                        format!("OCI-Subject of {what}"),
                        format!("{e}: {}", quote(v)),
                    )
                })?;
                true
            }
        };
        self.forget_manifest_write(repository, reference);
        Ok((digest, indexed))
    }

    /// Tags the manifest `repository` has at `reference` as `tag` too: its
    /// exact bytes are put under the new name (never re-serialized), so the
    /// digest stays. Returns that digest.
    ///
    /// ```no_run
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// let d = c.tag("app", "v1", "stable")?;
    /// assert_eq!(c.manifest_digest("app", "stable")?, d);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn tag(&self, repository: &str, reference: impl ToReference, tag: &str) -> Result<Digest> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            let tag = tag_reference(tag)?;
            let m = self.uncached().get_manifest(repository, &reference)?;
            let (digest, _) = self.put_manifest_bytes(repository, &tag, &m.media_type, &m.body)?;
            if digest != m.digest {
                return Err(Error::digest_mismatch(&m.digest, digest));
            }
            Ok(digest)
        })())
    }

    /// Deletes the manifest `repository` has at `reference` (a tag is
    /// resolved to its digest first, so the manifest and every tag on it
    /// go). Returns the digest deleted. A registry with deletion turned
    /// off answers 405: an [`Error::Unsupported`].
    ///
    /// ```no_run
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// let gone = c.delete_manifest("app", "v1")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn delete_manifest(&self, repository: &str, reference: impl ToReference) -> Result<Digest> {
        self.scrub((|| {
            validate_repository(repository)?;
            let reference = reference.to_reference()?;
            let digest = match &reference {
                Reference::Digest(d) => d.clone(),
                tag => self.manifest_digest(repository, tag)?,
            };
            let by_digest = Reference::Digest(digest.clone());
            self.delete(repository, &by_digest)?;
            self.invalidate_manifest(repository, &by_digest);
            self.forget_manifest_write(repository, &reference);
            Ok(digest)
        })())
    }

    /// Deletes the tag `tag` of `repository`, leaving the manifest (the
    /// distribution spec's tag deletion, which not every registry has: one
    /// without it answers 400 or 405, an error, never a silent success).
    ///
    /// ```no_run
    /// let c = registry_client::Client::builder("localhost:5000").basic_auth("alice", "secret").build()?;
    /// c.delete_tag("app", "old")?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn delete_tag(&self, repository: &str, tag: &str) -> Result<()> {
        self.scrub((|| {
            validate_repository(repository)?;
            let tag = tag_reference(tag)?;
            self.delete(repository, &tag).map_err(|e| match e {
                // distribution before 3.0 reads the tag as a digest.
                Error::Registry { status: 400, .. }
                    if e.diagnostics().iter().any(|d| d.code == "DIGEST_INVALID") =>
                {
                    Error::unsupported_by(
                        400,
                        format!(
                            "the registry cannot delete the tag {repository}:{} alone; \
                             delete the manifest by digest instead",
                            tag.as_str()
                        ),
                    )
                }
                e => e,
            })?;
            self.forget_manifest_write(repository, &tag);
            Ok(())
        })())
    }

    fn delete(&self, repository: &str, reference: &Reference) -> Result<()> {
        let what = manifest_what(repository, reference);
        self.send(&Request {
            method: Method::Delete,
            scope: Some(Scope::delete(repository)),
            ..self.request(self.manifest_url(repository, reference)?, &what)
        })?;
        Ok(())
    }

    /// Drops what a write to `repository` at `reference` made stale: the
    /// manifest cached under that name, the tag list, and the catalog (the
    /// repository may be new).
    fn forget_manifest_write(&self, repository: &str, reference: &Reference) {
        let cache = &self.inner.cache;
        cache.remove(&ManifestKey {
            repository: repository.to_string(),
            reference: reference.clone(),
        });
        cache.remove_where(|k: &PageKey, _| match &k.listing {
            Listing::Tags(r) => r == repository,
            Listing::Catalog => true,
        });
    }
}

/// Checks what is about to be put: a media type, a size the registry must
/// accept, and JSON whose `subject` (if any) is a descriptor.
fn check_manifest(media_type: &str, body: &[u8]) -> Result<Outline> {
    if !is_media_type(media_type) {
        return Err(Error::invalid(format!(
            "not a media type: {}",
            quote(media_type)
        )));
    }
    if body.len() as u64 > limits::MANIFEST {
        return Err(Error::too_large("manifest to put", limits::MANIFEST));
    }
    serde_json::from_slice(body).map_err(|e| Error::decode_caused("manifest to put", e))
}

/// The descriptor of a referrer, as the referrers index lists it: its
/// artifact type is its `artifactType`, else its config's media type.
pub(super) fn referrer_descriptor(
    media_type: &str,
    body: &[u8],
    digest: &Digest,
    outline: &Outline,
) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: digest.clone(),
        size: body.len() as u64,
        urls: Vec::new(),
        annotations: outline.annotations.clone().unwrap_or_default(),
        platform: None,
        artifact_type: outline
            .artifact_type
            .clone()
            .or_else(|| outline.config.as_ref().and_then(|c| c.media_type.clone())),
    }
}

/// A tag, as a reference (text with a `:` is no tag).
fn tag_reference(tag: &str) -> Result<Reference> {
    validate_tag(tag)?;
    Ok(Reference::Tag(tag.to_string()))
}
