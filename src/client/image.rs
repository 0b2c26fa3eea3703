//! What an image is (from its manifest and config blob) and what a
//! repository holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::http::limits;
use crate::manifest::media_type;
use crate::manifest::{ImageConfig, ImageManifest, Manifest};
use crate::platform::Platform;
use crate::reference::Reference;
use crate::{Error, Result};

use super::manifests::{manifest_what, name_of};
use super::{Client, ToReference};

/// One layer of an image.
///
/// ```
/// let l = registry_client::LayerInfo {
///     digest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?,
///     size: 0,
///     media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
/// };
/// assert_eq!(l.size, 0);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// The layer's digest.
    pub digest: Digest,
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
    pub digest: Digest,
    /// Media type of that manifest.
    pub media_type: String,
    /// Digest of the config blob.
    pub config_digest: Digest,
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

impl Client {
    /// Describes an image from its manifest and config blob. For an index
    /// or manifest list, `platform` picks the entry (default: linux and the
    /// host's architecture); for a single image, a given `platform` must
    /// match it.
    ///
    /// Answers from the response cache as [`get_manifest`](Self::get_manifest)
    /// does (a tag for the builder's `cache_ttl`, content by digest until
    /// evicted); call it on [`uncached`](Self::uncached) to ask the registry.
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
        reference: impl ToReference,
        platform: Option<&Platform>,
    ) -> Result<ImageInfo> {
        self.scrub((|| {
            let reference = reference.to_reference()?;
            let name = name_of(repository, &reference);
            let top = self.get_manifest(repository, &reference)?;
            let (manifest, image) = match &top.manifest {
                Manifest::DockerV2(m) | Manifest::OciImage(m) => (top.clone(), m.clone()),
                Manifest::DockerList(index) | Manifest::OciIndex(index) => {
                    let want = platform.cloned().unwrap_or_else(Platform::host);
                    let entry = index
                        .select(&want)
                        .ok_or_else(|| not_found(&want, &name, &index.platforms()))?;
                    let child = self.get_manifest(repository, &entry.digest)?;
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
                let have = config.platform();
                if !want.matches(&have) {
                    return Err(not_found(want, &name, &[have]));
                }
            }
            let size = total_size(&image).ok_or_else(|| {
                Error::decode(
                    manifest_what(repository, &Reference::Digest(manifest.digest.clone())),
                    "the config and layer sizes add up to more than 2^64 - 1 bytes",
                )
            })?;
            let layers = image
                .layers
                .iter()
                .map(|l| LayerInfo {
                    digest: l.digest.clone(),
                    size: l.size,
                    media_type: l.media_type.clone(),
                })
                .collect();
            let c = config.config;
            Ok(ImageInfo {
                digest: manifest.digest.clone(),
                media_type: manifest.media_type.clone(),
                config_digest: image.config.digest.clone(),
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
        })())
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
        let bytes = self.small_blob(repository, &image.config.digest, limits::CONFIG_BLOB)?;
        ImageConfig::parse(&bytes)
    }

    /// A repository's name and all its tags, as [`list_tags`](Self::list_tags)
    /// gives them (possibly from the response cache).
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

/// Config plus layers; `None` past `u64::MAX` (only a lying manifest).
fn total_size(image: &ImageManifest) -> Option<u64> {
    image
        .layers
        .iter()
        .try_fold(image.config.size, |sum, l| sum.checked_add(l.size))
}

fn not_found(want: &Platform, name: &str, available: &[Platform]) -> Error {
    let available: Vec<String> = available.iter().map(Platform::to_string).collect();
    Error::not_found(format!(
        "platform {want} in {name} (available: {})",
        if available.is_empty() {
            "none".to_string()
        } else {
            available.join(", ")
        }
    ))
}
