//! Referrers: the manifests whose `subject` is a given manifest, from the
//! referrers API (`GET /v2/<name>/referrers/<digest>`), or, on a registry
//! without it (404), from the referrers tag schema: an index tagged
//! `<alg>-<hex>` that pushing clients keep up to date.

use std::collections::BTreeMap;

use crate::auth::scope::Scope;
use crate::digest::Digest;
use crate::http::{header, limits};
use crate::manifest::media_type::OCI_INDEX;
use crate::manifest::{Descriptor, ImageIndex};
use crate::pagination::next_link;
use crate::reference::{validate_repository, Reference};
use crate::request::Request;
use crate::text::quote;
use crate::{Error, ErrorKind, Result};

use super::{Client, ToDigest};

/// Pages of the referrers API followed at most (each a whole index).
const MAX_PAGES: usize = 1000;

/// The referrers of a manifest, from [`Client::referrers`].
///
/// ```no_run
/// let c = registry_client::Client::new("localhost:5000")?;
/// let d = c.manifest_digest("app", "v1")?;
/// for r in c.referrers("app", &d, None)?.descriptors {
///     println!("{} {:?}", r.digest, r.artifact_type);
/// }
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Referrers {
    /// One descriptor per referrer.
    pub descriptors: Vec<Descriptor>,
    /// Whether they came from the referrers tag schema (the registry has
    /// no referrers API).
    pub from_tag_schema: bool,
}

impl Client {
    /// Lists the referrers of the manifest `digest` in `repository`, only
    /// those of `artifact_type` when given (filtered here when the registry
    /// did not). Pages of the referrers API are followed by `Link`; a
    /// registry answering 404 to the API is asked for the referrers tag
    /// (`sha256-<hex>`) instead, and no such tag means no referrers.
    /// Never cached.
    ///
    /// ```no_run
    /// let c = registry_client::Client::new("localhost:5000")?;
    /// let d = c.manifest_digest("app", "v1")?;
    /// let sboms = c.referrers("app", &d, Some("application/spdx+json"))?;
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn referrers(
        &self,
        repository: &str,
        digest: impl ToDigest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers> {
        self.scrub((|| {
            validate_repository(repository)?;
            let digest = digest.to_digest()?;
            if let Some(t) = artifact_type {
                if !crate::manifest::is_media_type(t) {
                    return Err(Error::invalid(format!(
                        "not an artifact type: {}",
                        quote(t)
                    )));
                }
            }
            let (mut descriptors, filtered, from_tag_schema) =
                match self.referrers_api(repository, &digest, artifact_type) {
                    Ok((d, filtered)) => (d, filtered, false),
                    Err(e) if e.kind() == ErrorKind::NotFound => (
                        self.tag_schema_index(repository, &digest)?.manifests,
                        false,
                        true,
                    ),
                    Err(e) => return Err(e),
                };
            if let (Some(t), false) = (artifact_type, filtered) {
                descriptors.retain(|d| d.artifact_type.as_deref() == Some(t));
            }
            Ok(Referrers {
                descriptors,
                from_tag_schema,
            })
        })())
    }

    /// The referrers API, every page: the descriptors, and whether the
    /// registry applied the `artifactType` filter.
    fn referrers_api(
        &self,
        repository: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<(Vec<Descriptor>, bool)> {
        let what = format!("referrers of {repository}@{digest}");
        let mut url = self.url(&format!("v2/{repository}/referrers/{digest}"))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let mut all = Vec::new();
        let mut filtered = true;
        for _ in 0..MAX_PAGES {
            let resp = self.send(&Request {
                accept: Some(OCI_INDEX),
                scope: Some(Scope::pull(repository)),
                limit: limits::MANIFEST,
                ..self.request(url.clone(), &what)
            })?;
            let index: ImageIndex = serde_json::from_slice(&resp.body)
                .map_err(|e| Error::decode_caused(what.clone(), e))?;
            let total = all.len().saturating_add(index.manifests.len());
            if total > self.config().max_list_items {
                return Err(Error::too_many(
                    what,
                    self.config().max_list_items as u64,
                    "referrers",
                ));
            }
            all.extend(index.manifests);
            filtered &= artifact_type.is_none()
                || header(&resp.headers, "oci-filters-applied")
                    .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            let links = resp
                .headers
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok());
            match next_link(links, &resp.url)? {
                Some(next) => url = next,
                None => return Ok((all, filtered)),
            }
        }
        Err(Error::too_many(what, MAX_PAGES as u64, "pages"))
    }

    /// The index under the referrers tag of `digest`; an empty one when
    /// there is no such tag.
    pub(super) fn tag_schema_index(&self, repository: &str, digest: &Digest) -> Result<ImageIndex> {
        match self
            .uncached()
            .get_manifest(repository, &referrers_tag(digest)?)
        {
            Ok(m) => match m.manifest.as_index() {
                Some(index) => Ok(index.clone()),
                None => Err(Error::decode(
                    format!("referrers tag of {repository}@{digest}"),
                    "not an index",
                )),
            },
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(empty_index()),
            Err(e) => Err(e),
        }
    }

    /// Adds `entry` to the referrers tag index of `subject` (the schema a
    /// registry without the referrers API relies on clients to keep).
    pub(super) fn add_referrer(
        &self,
        repository: &str,
        subject: &Digest,
        entry: Descriptor,
    ) -> Result<()> {
        let mut index = self.tag_schema_index(repository, subject)?;
        if index.manifests.iter().any(|d| d.digest == entry.digest) {
            return Ok(());
        }
        index.manifests.push(entry);
        let body =
            serde_json::to_vec(&index).map_err(|e| Error::decode_caused("referrers index", e))?;
        self.put_manifest_bytes(repository, &referrers_tag(subject)?, OCI_INDEX, &body)?;
        Ok(())
    }
}

/// `sha256-<hex>`: the referrers tag of a digest.
fn referrers_tag(digest: &Digest) -> Result<Reference> {
    Reference::parse(&format!("{}-{}", digest.algorithm().as_str(), digest.hex()))
}

fn empty_index() -> ImageIndex {
    ImageIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX.to_string()),
        manifests: Vec::new(),
        annotations: BTreeMap::new(),
    }
}
