//! Manifests, image indexes (manifest lists), descriptors and image configs,
//! in their Docker v2 schema 2 and OCI forms (image configs in `config.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::{self, Digest};
use crate::json::null_default;
use crate::platform::Platform;
use crate::text::quote;
use crate::{Error, Result};

mod config;

pub use config::{ContainerConfig, History, ImageConfig, RootFs};

/// Media types of manifests and configs.
pub mod media_type {
    /// Docker image manifest, schema 2.
    pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list (multi-platform), schema 2.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index (multi-platform).
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker schema 1 manifest (unsupported).
    pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    /// Signed Docker schema 1 manifest (unsupported).
    pub const DOCKER_MANIFEST_V1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

    /// The `Accept` header value for manifest requests: the four supported
    /// manifest types, comma-separated.
    ///
    /// ```
    /// use registry_client::manifest::media_type;
    /// assert_eq!(media_type::ACCEPT_MANIFESTS.split(", ").count(), 4);
    /// assert!(media_type::ACCEPT_MANIFESTS.contains(media_type::OCI_INDEX));
    /// ```
    pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
         application/vnd.docker.distribution.manifest.list.v2+json, \
         application/vnd.oci.image.manifest.v1+json, \
         application/vnd.docker.distribution.manifest.v2+json";
}

/// Whether `s` is a media type as the image-spec requires of a
/// descriptor's `mediaType`: `type/subtype`, each an RFC 6838 §4.2
/// restricted-name (a letter or digit, then up to 126 of letters, digits
/// and `!#$&-^_.+`), without parameters.
pub(crate) fn is_media_type(s: &str) -> bool {
    let restricted_name = |n: &str| {
        let b = n.as_bytes();
        !b.is_empty()
            && b.len() <= 127
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&c))
    };
    s.split_once('/')
        .is_some_and(|(t, sub)| restricted_name(t) && restricted_name(sub))
}

/// A descriptor's `mediaType`: absent or `null` is empty (a config or
/// layer may lack one); present, it must be a media type.
fn media_type_de<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let mt: Option<String> = Option::deserialize(d)?;
    match mt {
        Some(mt) if !is_media_type(&mt) => Err(serde::de::Error::custom(format_args!(
            "mediaType {} is not a media type (type/subtype, RFC 6838)",
            quote(&mt)
        ))),
        mt => Ok(mt.unwrap_or_default()),
    }
}

/// A descriptor's `urls`: each must be an absolute URL (RFC 3986), since a
/// client would download from it.
fn urls_de<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let urls: Vec<String> = null_default(d)?;
    if let Some((i, u)) = urls
        .iter()
        .enumerate()
        .find(|(_, u)| url::Url::parse(u).is_err())
    {
        return Err(serde::de::Error::custom(format_args!(
            "urls[{i}] {} is not an absolute URL",
            quote(u)
        )));
    }
    Ok(urls)
}

/// An index's `manifests`: each entry must state its media type, the only
/// way to tell a child image manifest from a child index.
fn index_entries_de<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<Descriptor>, D::Error> {
    let entries: Vec<Descriptor> = null_default(d)?;
    if let Some(i) = entries.iter().position(|e| e.media_type.is_empty()) {
        return Err(serde::de::Error::custom(format_args!(
            "manifests[{i}] has no mediaType (needed to tell an image manifest from an index)"
        )));
    }
    Ok(entries)
}

/// A reference to content: its media type, digest and size, as found in
/// manifests (`config`, `layers`, `subject`) and indexes (`manifests`).
///
/// `size` is required and must be a non-negative integer. `mediaType`,
/// when present, must be a media type (`type/subtype`, RFC 6838); it may
/// be absent (empty) except in an index's `manifests`. Each of `urls` must
/// be an absolute URL. The other optional fields default to empty and are
/// omitted when serializing if empty.
///
/// ```
/// use registry_client::manifest::Descriptor;
/// let d: Descriptor = serde_json::from_str(r#"{
///   "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
///   "digest": "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
///   "size": 32654
/// }"#).unwrap();
/// assert_eq!(d.size, 32654);
/// assert!(d.platform.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the referenced content; empty when absent.
    #[serde(
        default,
        deserialize_with = "media_type_de",
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    /// The digest of the referenced content.
    pub digest: Digest,
    /// The size in bytes of the referenced content.
    pub size: u64,
    /// Alternative download URLs (foreign layers), absolute.
    #[serde(
        default,
        deserialize_with = "urls_de",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// The platform, for entries of an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type, for artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// A single-platform image manifest (Docker v2 schema 2 or OCI).
///
/// ```
/// use registry_client::manifest::{Manifest, media_type};
/// let body = br#"{
///   "schemaVersion": 2,
///   "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
///              "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7", "size": 7023},
///   "layers": []
/// }"#;
/// let m = Manifest::parse(Some(media_type::OCI_MANIFEST), body).unwrap();
/// assert_eq!(m.as_image().unwrap().config.size, 7023);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type, when the document states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for OCI artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// The layer blobs, base layer first.
    #[serde(default, deserialize_with = "null_default")]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// A multi-platform index (Docker manifest list or OCI image index).
///
/// ```
/// use registry_client::{manifest::Manifest, platform::Platform};
/// let body = br#"{"schemaVersion":2,"manifests":[{
///   "mediaType":"application/vnd.oci.image.manifest.v1+json",
///   "digest":"sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
///   "size":7143,"platform":{"architecture":"ppc64le","os":"linux"}}]}"#;
/// let m = Manifest::parse(None, body).unwrap();
/// let index = m.as_index().unwrap();
/// assert!(index.select(&Platform::parse("linux/ppc64le").unwrap()).is_some());
/// assert_eq!(index.platforms()[0].to_string(), "linux/ppc64le");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type, when the document states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The per-platform manifests; each states its media type.
    #[serde(default, deserialize_with = "index_entries_de")]
    pub manifests: Vec<Descriptor>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// The entry to pull for platform `want`, if any.
    ///
    /// Only entries with a platform are considered, and of those only the
    /// ones whose images run on `want` ([`Platform::matches`], containerd's
    /// rules). The best of them wins: an exact (normalized) match before an
    /// older compatible variant, in containerd's order (`arm/v7` before
    /// `arm/v6`; `amd64` before `386`); among equals, the first in the
    /// index.
    ///
    /// ```
    /// use registry_client::{manifest::ImageIndex, platform::Platform};
    /// let mt = "application/vnd.oci.image.manifest.v1+json";
    /// let index: ImageIndex = serde_json::from_str(&format!(r#"{{"schemaVersion":2,"manifests":[
    ///   {{"mediaType":"{mt}","size":1,"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111",
    ///    "platform":{{"os":"linux","architecture":"arm","variant":"v6"}}}},
    ///   {{"mediaType":"{mt}","size":1,"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222",
    ///    "platform":{{"os":"linux","architecture":"arm"}}}}]}}"#)).unwrap();
    /// // `arm` without variant is `arm/v7`
    /// let d = index.select(&Platform::parse("linux/arm/v7").unwrap()).unwrap();
    /// assert!(d.digest.hex().starts_with('2'));
    /// let d = index.select(&Platform::parse("linux/arm/v6").unwrap()).unwrap();
    /// assert!(d.digest.hex().starts_with('1'));
    /// assert!(index.select(&Platform::parse("linux/arm/v5").unwrap()).is_none());
    /// ```
    pub fn select(&self, want: &Platform) -> Option<&Descriptor> {
        let mut best: Option<(usize, &Descriptor)> = None;
        for d in &self.manifests {
            let Some(rank) = d.platform.as_ref().and_then(|p| want.preference(p)) else {
                continue;
            };
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, d));
            }
        }
        best.map(|(_, d)| d)
    }

    /// The platforms of the entries that state one, in order.
    ///
    /// ```
    /// use registry_client::manifest::ImageIndex;
    /// let index: ImageIndex = serde_json::from_str(r#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    /// assert!(index.platforms().is_empty());
    /// ```
    pub fn platforms(&self) -> Vec<Platform> {
        self.manifests
            .iter()
            .filter_map(|d| d.platform.clone())
            .collect()
    }
}

/// A parsed manifest of one of the four supported kinds.
///
/// Serializes as the inner document (not necessarily byte-identical to
/// what the registry sent, so never hash the re-serialized form).
///
/// ```
/// use registry_client::manifest::{Manifest, media_type};
/// let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}"#;
/// let m = Manifest::parse(Some("application/json"), body).unwrap();
/// assert!(m.is_index());
/// assert_eq!(m.media_type(), media_type::DOCKER_MANIFEST_LIST);
/// let json = serde_json::to_string(&m).unwrap();
/// assert!(json.contains("manifest.list"));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// Docker image manifest v2 schema 2.
    DockerV2(ImageManifest),
    /// Docker manifest list.
    DockerList(ImageIndex),
    /// OCI image manifest.
    OciImage(ImageManifest),
    /// OCI image index.
    OciIndex(ImageIndex),
}

impl Serialize for Manifest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Manifest::DockerV2(m) | Manifest::OciImage(m) => m.serialize(s),
            Manifest::DockerList(i) | Manifest::OciIndex(i) => i.serialize(s),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    DockerV2,
    DockerList,
    OciImage,
    OciIndex,
}

impl Kind {
    fn from_media_type(mt: &str) -> Option<Kind> {
        let mt = mt.trim();
        [
            (media_type::DOCKER_MANIFEST_V2, Kind::DockerV2),
            (media_type::DOCKER_MANIFEST_LIST, Kind::DockerList),
            (media_type::OCI_MANIFEST, Kind::OciImage),
            (media_type::OCI_INDEX, Kind::OciIndex),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(mt))
        .map(|(_, k)| k)
    }

    fn media_type(self) -> &'static str {
        match self {
            Kind::DockerV2 => media_type::DOCKER_MANIFEST_V2,
            Kind::DockerList => media_type::DOCKER_MANIFEST_LIST,
            Kind::OciImage => media_type::OCI_MANIFEST,
            Kind::OciIndex => media_type::OCI_INDEX,
        }
    }
}

fn is_schema1(mt: &str) -> bool {
    let mt = mt.trim();
    mt.eq_ignore_ascii_case(media_type::DOCKER_MANIFEST_V1)
        || mt.eq_ignore_ascii_case(media_type::DOCKER_MANIFEST_V1_SIGNED)
}

fn schema1_error() -> Error {
    Error::unsupported(
        "Docker schema 1 manifests are not supported (ask the registry for schema 2 or OCI)",
    )
}

/// The few fields needed to tell the manifest kind.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<serde_json::Value>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    config: Option<serde::de::IgnoredAny>,
}

fn decode_err(e: serde_json::Error) -> Error {
    Error::decode("manifest", e)
}

/// The error for a manifest body that serde refused: [`Error::Unsupported`]
/// when what it tripped on is a well-formed digest of an algorithm this
/// crate cannot verify (such as `sha1:…` as a layer digest: the manifest is
/// valid, the client just cannot use it), else [`Error::Decode`].
fn manifest_error(body: &[u8], e: serde_json::Error) -> Error {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) else {
        return decode_err(e);
    };
    let serde_message = e.to_string();
    let one = |name: &str| doc.get(name).map(|d| (name.to_owned(), d));
    let many = |name: &'static str| {
        doc.get(name)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
            .map(move |(i, d)| (format!("{name}[{i}]"), d))
    };
    let descriptors = one("config")
        .into_iter()
        .chain(one("subject"))
        .chain(many("layers"))
        .chain(many("manifests"));
    for (field, d) in descriptors {
        let Some(digest) = d.get("digest").and_then(|v| v.as_str()) else {
            continue;
        };
        // Only the digest serde failed on: another error elsewhere stays
        // a Decode error.
        if let Some(why) = digest::unsupported_reason(digest) {
            if serde_message.contains(&why) {
                return Error::unsupported(format!("manifest {field}.digest: {why}"));
            }
        }
    }
    decode_err(e)
}

/// Serde accepts a JSON array for a struct; manifests and configs must be
/// objects. Syntax errors keep serde's message (with line and column).
pub(super) fn require_object(context: &str, body: &[u8]) -> Result<()> {
    if body.trim_ascii_start().first() == Some(&b'{') {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| Error::decode(context, e))?;
    Err(Error::decode(context, "expected a JSON object"))
}

impl Manifest {
    /// Parses a manifest body, given the response's `Content-Type`.
    ///
    /// The kind is taken from the Content-Type (parameters stripped, case
    /// ignored) when it is one of the four supported types; otherwise from
    /// the body's `mediaType`; otherwise from the body's shape (`manifests`
    /// → OCI index, `config` → OCI image manifest).
    ///
    /// Errors: schema 1 (by media type or `schemaVersion: 1`) and other
    /// media types → [`Error::Unsupported`]; a Content-Type and `mediaType`
    /// that disagree, malformed JSON or a wrong shape → [`Error::Decode`]
    /// (context `manifest`, with serde's line and column).
    ///
    /// ```
    /// use registry_client::{manifest::{Manifest, media_type}, ErrorKind};
    /// let e = Manifest::parse(Some(media_type::DOCKER_MANIFEST_V1_SIGNED), b"{}").unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::Unsupported);
    /// let e = Manifest::parse(None, b"{\"schemaVersion\": 2,").unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::Decode);
    /// ```
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Manifest> {
        let header = content_type.map(|ct| ct.split(';').next().unwrap_or("").trim());
        if header.is_some_and(is_schema1) {
            return Err(schema1_error());
        }
        let header_kind = header.and_then(Kind::from_media_type);

        require_object("manifest", body)?;
        let probe: Probe = serde_json::from_slice(body).map_err(decode_err)?;
        if probe
            .schema_version
            .as_ref()
            .is_some_and(|v| v.as_u64() == Some(1))
        {
            return Err(schema1_error());
        }
        let body_mt = probe
            .media_type
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let body_kind = match body_mt {
            Some(mt) if is_schema1(mt) => return Err(schema1_error()),
            Some(mt) => match Kind::from_media_type(mt) {
                Some(k) => Some(k),
                None if header_kind.is_some() => None,
                None => {
                    return Err(Error::unsupported(format!(
                        "manifest media type {} is not supported",
                        quote(mt)
                    )))
                }
            },
            None => None,
        };

        let kind = match (header_kind, body_kind) {
            (Some(h), Some(b)) if h != b => {
                return Err(Error::decode(
                    "manifest",
                    format!(
                        "Content-Type {} disagrees with the body's mediaType {}",
                        h.media_type(),
                        b.media_type()
                    ),
                ))
            }
            (Some(h), _) => {
                if let Some(mt) = body_mt.filter(|_| body_kind.is_none()) {
                    return Err(Error::decode(
                        "manifest",
                        format!(
                            "Content-Type {} disagrees with the body's mediaType {}",
                            h.media_type(),
                            quote(mt)
                        ),
                    ));
                }
                h
            }
            (None, Some(b)) => b,
            (None, None) => match (probe.manifests.is_some(), probe.config.is_some()) {
                (true, false) => Kind::OciIndex,
                (false, true) => Kind::OciImage,
                (true, true) => {
                    return Err(Error::decode(
                        "manifest",
                        "no media type, and both `manifests` and `config` are present",
                    ))
                }
                (false, false) => {
                    if let Some(h) = header.filter(|h| {
                        h.get(..16)
                            .is_some_and(|p| p.eq_ignore_ascii_case("application/vnd."))
                    }) {
                        return Err(Error::unsupported(format!(
                            "manifest media type {} is not supported",
                            quote(h)
                        )));
                    }
                    let what = match header {
                        Some(h) if !h.is_empty() => format!(
                            "Content-Type {} is not a manifest type, and the body has neither \
                             mediaType, `manifests` nor `config`",
                            quote(h)
                        ),
                        _ => "the body has neither mediaType, `manifests` nor `config`".into(),
                    };
                    return Err(Error::decode("manifest", what));
                }
            },
        };

        let check_version = |v: u32| {
            if v == 2 {
                Ok(())
            } else {
                Err(Error::unsupported(format!(
                    "manifest schemaVersion {v} is not supported"
                )))
            }
        };
        Ok(match kind {
            Kind::DockerV2 | Kind::OciImage => {
                let m: ImageManifest =
                    serde_json::from_slice(body).map_err(|e| manifest_error(body, e))?;
                check_version(m.schema_version)?;
                if kind == Kind::DockerV2 {
                    Manifest::DockerV2(m)
                } else {
                    Manifest::OciImage(m)
                }
            }
            Kind::DockerList | Kind::OciIndex => {
                let i: ImageIndex =
                    serde_json::from_slice(body).map_err(|e| manifest_error(body, e))?;
                check_version(i.schema_version)?;
                if kind == Kind::DockerList {
                    Manifest::DockerList(i)
                } else {
                    Manifest::OciIndex(i)
                }
            }
        })
    }

    /// The media type of this kind of manifest.
    ///
    /// ```
    /// use registry_client::manifest::{Manifest, media_type};
    /// let m = Manifest::parse(None, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    /// assert_eq!(m.media_type(), media_type::OCI_INDEX);
    /// ```
    pub fn media_type(&self) -> &'static str {
        match self {
            Manifest::DockerV2(_) => media_type::DOCKER_MANIFEST_V2,
            Manifest::DockerList(_) => media_type::DOCKER_MANIFEST_LIST,
            Manifest::OciImage(_) => media_type::OCI_MANIFEST,
            Manifest::OciIndex(_) => media_type::OCI_INDEX,
        }
    }

    /// Whether this is a multi-platform index or list.
    ///
    /// ```
    /// use registry_client::manifest::Manifest;
    /// let m = Manifest::parse(None, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    /// assert!(m.is_index());
    /// ```
    pub fn is_index(&self) -> bool {
        matches!(self, Manifest::DockerList(_) | Manifest::OciIndex(_))
    }

    /// The image manifest, when this is one.
    ///
    /// ```
    /// use registry_client::manifest::Manifest;
    /// let m = Manifest::parse(None, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    /// assert!(m.as_image().is_none());
    /// ```
    pub fn as_image(&self) -> Option<&ImageManifest> {
        match self {
            Manifest::DockerV2(m) | Manifest::OciImage(m) => Some(m),
            _ => None,
        }
    }

    /// The index, when this is one.
    ///
    /// ```
    /// use registry_client::manifest::Manifest;
    /// let m = Manifest::parse(None, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    /// assert!(m.as_index().unwrap().manifests.is_empty());
    /// ```
    pub fn as_index(&self) -> Option<&ImageIndex> {
        match self {
            Manifest::DockerList(i) | Manifest::OciIndex(i) => Some(i),
            _ => None,
        }
    }

    /// Pretty-printed JSON of the parsed document, for display.
    ///
    /// ```
    /// use registry_client::manifest::Manifest;
    /// let m = Manifest::parse(None, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    /// assert!(m.to_json_pretty().contains("\"schemaVersion\": 2"));
    /// ```
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const DOCKER_V2: &str = r#"{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 7023,
      "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 32654,
         "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 73109,
         "digest": "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736",
         "urls": ["https://mcr.microsoft.com/v2/windows/blobs/sha256:ec4b"]
      }
   ]
}"#;

    const DOCKER_LIST: &str = r#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 7143,
      "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
      "platform": { "architecture": "ppc64le", "os": "linux" }
    },
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 7682,
      "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
      "platform": { "architecture": "amd64", "os": "linux", "features": ["sse4"] }
    }
  ]
}"#;

    const OCI_MANIFEST_NO_MT: &str = r#"{
  "schemaVersion": 2,
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      "size": 32654
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    "size": 1234
  },
  "annotations": { "com.example.key1": "value1" }
}"#;

    const OCI_INDEX: &str = r#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
      "size": 1000,
      "platform": { "architecture": "amd64", "os": "linux", "variant": "v3" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
      "size": 1000,
      "platform": { "architecture": "amd64", "os": "linux" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
      "size": 1000,
      "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
      "size": 1000,
      "platform": { "architecture": "arm", "os": "linux", "variant": "v6" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:5555555555555555555555555555555555555555555555555555555555555555",
      "size": 566,
      "annotations": {
        "vnd.docker.reference.digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
        "vnd.docker.reference.type": "attestation-manifest"
      },
      "platform": { "architecture": "unknown", "os": "unknown" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:6666666666666666666666666666666666666666666666666666666666666666",
      "size": 1000
    }
  ],
  "annotations": { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" }
}"#;

    const SCHEMA1_SIGNED: &str = r#"{
   "schemaVersion": 1,
   "name": "hello-world",
   "tag": "latest",
   "architecture": "amd64",
   "fsLayers": [
      { "blobSum": "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef" }
   ],
   "history": [ { "v1Compatibility": "{\"id\":\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\"}" } ],
   "signatures": [
      {
         "header": { "jwk": { "crv": "P-256", "kty": "EC" }, "alg": "ES256" },
         "signature": "XREm0L8WNn27Ga_iE_vRnTxVMhhYY0Zst_FfkKopg6gWSoTOZTuW4rK0fg_IqnKkEKlbSSGtBx5MHRqGvF-6Vw",
         "protected": "eyJmb3JtYXRMZW5ndGgiOjY2MjgsImZvcm1hdFRhaWwiOiJDbjAiLCJ0aW1lIjoiMjAxNS0wNC0wOFQxODo1Mjo1OVoifQ"
      }
   ]
}"#;

    const DOCKER_CONFIG_NULLS: &str = r#"{
  "architecture": "amd64",
  "config": {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": false,
    "ExposedPorts": null,
    "Tty": false,
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["/hello"],
    "Image": "sha256:b9935d4e8431fb1a7f0989304ec86b3329a99a25f5efdc7f09f3f8c41434ca6d",
    "Volumes": null,
    "WorkingDir": "",
    "Entrypoint": null,
    "OnBuild": null,
    "Labels": null
  },
  "container": "8746661ca3c2f06ea7f5b5ba5c7b8e6e2e1e6c8a1a1a1a1a1a1a1a1a1a1a1a1a",
  "created": "2023-05-02T16:49:27.18728235Z",
  "docker_version": "20.10.23",
  "history": [
    { "created": "2023-05-02T16:49:26.939592771Z", "created_by": "/bin/sh -c #(nop) COPY file:201f8f1849e89d53be9f6aa76937f5e209d745abfd15a8552fcf2ba45ab267f9 in / " },
    { "created": "2023-05-02T16:49:27.18728235Z", "created_by": "/bin/sh -c #(nop)  CMD [\"/hello\"]", "empty_layer": true }
  ],
  "os": "linux",
  "rootfs": {
    "type": "layers",
    "diff_ids": ["sha256:01bb4fce3eb1b56b05adf99504dafd31907a5aadac736e36b27595c8b92f07f1"]
  }
}"#;

    fn image(m: &Manifest) -> &ImageManifest {
        m.as_image().expect("image manifest")
    }

    #[test]
    fn docker_v2() {
        for ct in [
            Some(media_type::DOCKER_MANIFEST_V2),
            Some("Application/VND.docker.distribution.manifest.v2+JSON; charset=utf-8"),
            Some("application/json"),
            Some("application/octet-stream"),
            Some(""),
            None,
        ] {
            let m = Manifest::parse(ct, DOCKER_V2.as_bytes()).unwrap();
            assert!(matches!(m, Manifest::DockerV2(_)), "{ct:?}");
            assert_eq!(m.media_type(), media_type::DOCKER_MANIFEST_V2);
            assert!(!m.is_index());
            assert!(m.as_index().is_none());
            let im = image(&m);
            assert_eq!(im.config.media_type, media_type::DOCKER_CONFIG);
            assert_eq!(im.layers.len(), 2);
            assert_eq!(im.layers[1].urls.len(), 1);
            assert_eq!(im.layers.iter().map(|l| l.size).sum::<u64>(), 32654 + 73109);
        }
    }

    #[test]
    fn docker_list_and_select() {
        let m = Manifest::parse(
            Some(media_type::DOCKER_MANIFEST_LIST),
            DOCKER_LIST.as_bytes(),
        )
        .unwrap();
        assert!(matches!(m, Manifest::DockerList(_)));
        assert!(m.is_index());
        let idx = m.as_index().unwrap();
        let plats: Vec<String> = idx.platforms().iter().map(|p| p.to_string()).collect();
        assert_eq!(plats, ["linux/ppc64le", "linux/amd64"]);
        let d = idx
            .select(&Platform::parse("linux/amd64").unwrap())
            .unwrap();
        assert_eq!(d.size, 7682);
        assert!(idx
            .select(&Platform::parse("linux/arm64").unwrap())
            .is_none());
        assert!(idx
            .select(&Platform::parse("windows/amd64").unwrap())
            .is_none());
    }

    #[test]
    fn oci_manifest_without_media_type() {
        let m = Manifest::parse(None, OCI_MANIFEST_NO_MT.as_bytes()).unwrap();
        assert!(matches!(m, Manifest::OciImage(_)));
        let im = image(&m);
        assert_eq!(im.media_type, None);
        assert!(im.subject.is_some());
        assert_eq!(im.annotations["com.example.key1"], "value1");
        // with the header too
        let m2 = Manifest::parse(
            Some(media_type::OCI_MANIFEST),
            OCI_MANIFEST_NO_MT.as_bytes(),
        )
        .unwrap();
        assert_eq!(m, m2);
        // header says Docker v2: taken from the header, the body has no mediaType
        let m3 = Manifest::parse(
            Some(media_type::DOCKER_MANIFEST_V2),
            OCI_MANIFEST_NO_MT.as_bytes(),
        )
        .unwrap();
        assert!(matches!(m3, Manifest::DockerV2(_)));
    }

    #[test]
    fn oci_index_select() {
        let m = Manifest::parse(Some(media_type::OCI_INDEX), OCI_INDEX.as_bytes()).unwrap();
        assert!(matches!(m, Manifest::OciIndex(_)));
        let idx = m.as_index().unwrap();
        let sel = |s: &str| {
            idx.select(&Platform::parse(s).unwrap())
                .map(|d| d.digest.hex().chars().next().unwrap())
        };
        // amd64/v3 is first, but plain amd64 is preferred when no variant is asked
        assert_eq!(sel("linux/amd64"), Some('2'));
        assert_eq!(sel("linux/amd64/v3"), Some('1'));
        assert_eq!(sel("linux/arm64"), Some('3'));
        assert_eq!(sel("linux/arm64/v8"), Some('3'));
        // only arm/v6 exists: it is the fallback for plain arm (= arm/v7)
        assert_eq!(sel("linux/arm"), Some('4'));
        assert_eq!(sel("linux/arm/v7"), Some('4'));
        assert_eq!(sel("linux/arm/v5"), None);
        // amd64/v3 would not run on plain amd64
        assert_eq!(sel("linux/amd64/v2"), Some('2'));
        assert_eq!(sel("linux/x86_64"), Some('2'));
        assert_eq!(sel("linux/aarch64"), Some('3'));
        assert_eq!(sel("linux/s390x"), None);
        // the entry without platform is not listed
        assert_eq!(idx.platforms().len(), 5);
        assert_eq!(idx.manifests[4].annotations.len(), 2);
    }

    /// Issue: an index whose arm entry has no variant (containerd's
    /// `arm/v7`) had no match for `linux/arm/v7`.
    #[test]
    fn select_follows_containerd() {
        let entry = |n: u8, platform: &str| {
            format!(
                r#"{{"mediaType":"{}","size":1,"digest":"sha256:{}","platform":{platform}}}"#,
                media_type::OCI_MANIFEST,
                n.to_string().repeat(64)
            )
        };
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{},{},{},{},{},{}]}}"#,
            entry(1, r#"{"os":"linux","architecture":"arm","variant":"v5"}"#),
            entry(2, r#"{"os":"linux","architecture":"arm","variant":"v6"}"#),
            entry(3, r#"{"os":"linux","architecture":"arm"}"#),
            entry(4, r#"{"os":"linux","architecture":"386"}"#),
            entry(5, r#"{"os":"linux","architecture":"amd64","variant":"v2"}"#),
            entry(6, r#"{"os":"linux","architecture":"arm","variant":"v7"}"#),
        );
        let m = Manifest::parse(None, body.as_bytes()).unwrap();
        let idx = m.as_index().unwrap();
        let sel = |s: &str| {
            idx.select(&Platform::parse(s).unwrap())
                .map(|d| d.digest.hex().chars().next().unwrap())
        };
        // best match first, then the first of equals in index order
        assert_eq!(sel("linux/arm/v7"), Some('3'));
        assert_eq!(sel("linux/arm"), Some('3'));
        assert_eq!(sel("linux/armhf"), Some('3'));
        assert_eq!(sel("linux/arm/v8"), Some('3'));
        assert_eq!(sel("linux/arm64"), Some('3'));
        assert_eq!(sel("linux/arm/v6"), Some('2'));
        assert_eq!(sel("linux/armel"), Some('2'));
        assert_eq!(sel("linux/arm/v5"), Some('1'));
        assert_eq!(sel("linux/arm/v4"), None);
        assert_eq!(sel("linux/amd64/v3"), Some('5'));
        assert_eq!(sel("linux/amd64"), Some('4'));
        assert_eq!(sel("linux/386"), Some('4'));
        assert_eq!(sel("windows/arm"), None);
    }

    #[test]
    fn index_detected_by_shape() {
        let body = OCI_INDEX.replace(
            r#""mediaType": "application/vnd.oci.image.index.v1+json","#,
            "",
        );
        assert_ne!(body, OCI_INDEX);
        let m = Manifest::parse(Some("text/plain"), body.as_bytes()).unwrap();
        assert!(matches!(m, Manifest::OciIndex(_)));
    }

    #[test]
    fn schema1_is_unsupported() {
        for ct in [
            Some(media_type::DOCKER_MANIFEST_V1_SIGNED),
            Some(media_type::DOCKER_MANIFEST_V1),
            Some("application/json"),
            None,
        ] {
            let e = Manifest::parse(ct, SCHEMA1_SIGNED.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{ct:?}");
            assert!(e.to_string().contains("schema 1"), "{e}");
        }
        // by media type in the body
        let e = Manifest::parse(
            None,
            br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("schema 1"), "{e}");
        // by media type in the header alone (signed or not), the body
        // saying nothing
        for ct in [
            media_type::DOCKER_MANIFEST_V1_SIGNED,
            media_type::DOCKER_MANIFEST_V1,
        ] {
            let e = Manifest::parse(Some(ct), b"{}").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{ct}");
            assert!(e.to_string().contains("schema 1"), "{ct}: {e}");
        }
        // even with a header that claims v2
        let e = Manifest::parse(
            Some(media_type::DOCKER_MANIFEST_V2),
            SCHEMA1_SIGNED.as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn unknown_types() {
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json","blobs":[]}"#;
        let e = Manifest::parse(None, body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(
            e.to_string()
                .contains("application/vnd.oci.artifact.manifest.v1+json"),
            "{e}"
        );
        // schemaVersion 3
        let e = Manifest::parse(None, br#"{"schemaVersion":3,"manifests":[]}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        // an unknown vendor type in the header, nothing recognizable in the body
        let e = Manifest::parse(
            Some("application/vnd.oci.artifact.manifest.v1+json"),
            br#"{"blobs":[]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("artifact.manifest"), "{e}");
        // non-ASCII header does not panic
        assert!(Manifest::parse(Some("applicatïon/vnd.ü"), b"{}").is_err());
        assert!(Manifest::parse(Some("ü;ü"), b"{}").is_err());
        // nothing recognizable
        let e = Manifest::parse(Some("text/html"), br#"{"hello":"world"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert!(e.to_string().contains("text/html"), "{e}");
        // an empty Content-Type is not named as one
        for ct in [Some(""), Some(" ; charset=utf-8"), None] {
            let e = Manifest::parse(ct, br#"{"hello":"world"}"#).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode);
            let m = e.to_string();
            assert!(m.contains("the body has neither"), "{ct:?}: {m}");
            assert!(!m.contains("Content-Type"), "{ct:?}: {m}");
        }
        let e = Manifest::parse(None, br#"{"schemaVersion":2,"manifests":[],"config":{}}"#)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
    }

    #[test]
    fn header_body_disagreement() {
        let e = Manifest::parse(Some(media_type::OCI_INDEX), DOCKER_V2.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let m = e.to_string();
        assert!(m.contains("disagrees"), "{m}");
        // both sides are named
        assert!(
            m.contains(&format!(
                "Content-Type {} disagrees with the body's mediaType {}",
                media_type::OCI_INDEX,
                media_type::DOCKER_MANIFEST_V2
            )),
            "{m}"
        );
        let body = br#"{"schemaVersion":2,"mediaType":"application/x-other","manifests":[]}"#;
        let e = Manifest::parse(Some(media_type::OCI_INDEX), body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let m = e.to_string();
        assert!(m.contains(media_type::OCI_INDEX), "{m}");
        assert!(m.contains("\"application/x-other\""), "{m}");
    }

    #[test]
    fn malformed_json() {
        let cases: &[&[u8]] = &[
            b"",
            b"   ",
            b"{",
            b"[]",
            b"null",
            b"42",
            b"{\"schemaVersion\":2,}",
            b"\xff\xfe",
            b"{\"mediaType\": 5}",
            b"[2, \"application/vnd.oci.image.index.v1+json\", []]",
        ];
        for body in cases {
            let e = Manifest::parse(Some(media_type::OCI_MANIFEST), body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{body:?}");
            assert!(e.to_string().starts_with("cannot decode manifest:"), "{e}");
        }
        let e = Manifest::parse(None, b"{\n  \"schemaVersion\": 2,\n  oops\n}").unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
    }

    #[test]
    fn bad_shapes() {
        let neg = DOCKER_V2.replace("\"size\": 7023", "\"size\": -1");
        let e = Manifest::parse(None, neg.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert!(e.to_string().contains("-1"), "{e}");
        let nosize = DOCKER_V2.replace("\"size\": 7023,", "");
        let e = Manifest::parse(None, nosize.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("size"), "{e}");
        let frac = DOCKER_V2.replace("\"size\": 7023", "\"size\": 1.5");
        assert_eq!(
            Manifest::parse(None, frac.as_bytes()).unwrap_err().kind(),
            ErrorKind::Decode
        );
        let huge = DOCKER_V2.replace("\"size\": 7023", "\"size\": 99999999999999999999999");
        assert_eq!(
            Manifest::parse(None, huge.as_bytes()).unwrap_err().kind(),
            ErrorKind::Decode
        );
        let baddigest = DOCKER_V2.replace("sha256:b5b2", "sha256:XXXX");
        let e = Manifest::parse(None, baddigest.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert!(e.to_string().contains("digest"), "{e}");
        let noconfig = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[]}"#;
        assert_eq!(
            Manifest::parse(None, noconfig).unwrap_err().kind(),
            ErrorKind::Decode
        );
        let noversion = br#"{"manifests":[]}"#;
        assert_eq!(
            Manifest::parse(None, noversion).unwrap_err().kind(),
            ErrorKind::Decode
        );
    }

    /// Issue: index entries without a media type, or with `""` or
    /// `"invalid"`, were accepted, so a child manifest could not be told
    /// from a child index; `urls: ["value"]` was accepted too.
    #[test]
    fn descriptors_follow_the_schema() {
        let entry_mt = r#""mediaType": "application/vnd.oci.image.manifest.v1+json","#;
        let first = OCI_INDEX.find(entry_mt).unwrap();
        let with_entry_mt = |replacement: &str| {
            let mut body = OCI_INDEX.to_string();
            body.replace_range(first..first + entry_mt.len(), replacement);
            body
        };
        for (replacement, why) in [
            ("", "manifests[0] has no mediaType"),
            (r#""mediaType": null,"#, "manifests[0] has no mediaType"),
            (r#""mediaType": "","#, r#"mediaType "" is not a media type"#),
            (
                r#""mediaType": "invalid","#,
                r#"mediaType "invalid" is not"#,
            ),
            (r#""mediaType": "application/","#, "is not a media type"),
            (r#""mediaType": "/json","#, "is not a media type"),
            (r#""mediaType": "a/b/c","#, "is not a media type"),
            (
                r#""mediaType": "text/plain; charset=utf-8","#,
                "is not a media type",
            ),
            (
                r#""mediaType": " application/json","#,
                "is not a media type",
            ),
            (r#""mediaType": ".a/b","#, "is not a media type"),
            (r#""mediaType": "appliçation/json","#, "is not a media type"),
        ] {
            let body = with_entry_mt(replacement);
            assert_ne!(body, OCI_INDEX);
            for ct in [None, Some(media_type::OCI_INDEX)] {
                let e = Manifest::parse(ct, body.as_bytes()).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Decode, "{replacement}");
                assert!(e.to_string().contains(why), "{replacement}: {e}");
            }
        }
        // the same in a layer, config or subject
        for (from, to) in [
            ("application/vnd.oci.image.layer.v1.tar+gzip", "tar+gzip"),
            ("application/vnd.oci.image.config.v1+json", ""),
            // the subject
            ("application/vnd.oci.image.manifest.v1+json", "invalid"),
        ] {
            let body = OCI_MANIFEST_NO_MT.replace(from, to);
            assert_ne!(body, OCI_MANIFEST_NO_MT);
            let e = Manifest::parse(None, body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{to}");
            assert!(e.to_string().contains("is not a media type"), "{e}");
        }
        // but a layer or config may lack one, and a manifest may have no layers
        let body = OCI_MANIFEST_NO_MT
            .replace(
                r#""mediaType": "application/vnd.oci.image.layer.v1.tar+gzip","#,
                "",
            )
            .replace(
                r#""mediaType": "application/vnd.oci.image.config.v1+json","#,
                "",
            );
        let m = Manifest::parse(None, body.as_bytes()).unwrap();
        assert_eq!(image(&m).layers[0].media_type, "");
        assert_eq!(image(&m).config.media_type, "");
        let body = br#"{"schemaVersion":2,"artifactType":"application/vnd.example+type","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        let m = Manifest::parse(Some(media_type::OCI_MANIFEST), body).unwrap();
        assert!(image(&m).layers.is_empty());
        // unusual but valid media types
        for mt in [
            "application/vnd.cncf.helm.config.v1+json",
            "A0/b!#$&-^_.+",
            "x/y",
        ] {
            let d = format!(
                r#"{{"mediaType":"{mt}","size":1,"digest":"{}"}}"#,
                Digest::sha256(b"")
            );
            assert_eq!(
                serde_json::from_str::<Descriptor>(&d).unwrap().media_type,
                mt
            );
        }
        let long = format!("a/{}", "b".repeat(127));
        assert!(is_media_type(&long));
        assert!(!is_media_type(&format!("{long}b")));

        // urls must be absolute URLs
        let urls = |list: &str| {
            DOCKER_V2.replace(
                r#"["https://mcr.microsoft.com/v2/windows/blobs/sha256:ec4b"]"#,
                list,
            )
        };
        for bad in [
            r#"["value"]"#,
            r#"["/relative/path"]"#,
            r#"["https://ok.example/x", "value"]"#,
            r#"["http://"]"#,
            r#"[""]"#,
        ] {
            let e = Manifest::parse(None, urls(bad).as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{bad}");
            assert!(e.to_string().contains("is not an absolute URL"), "{e}");
            assert!(e.to_string().contains("urls["), "{e}");
        }
        let m = Manifest::parse(
            None,
            urls(r#"["https://a.example/x", "http://b.example:8080/y?z=1"]"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(image(&m).layers[1].urls.len(), 2);
    }

    /// Issue: a well-formed digest of another algorithm inside a manifest
    /// was a Decode error, not Unsupported.
    #[test]
    fn unsupported_digest_algorithms_in_manifests() {
        let sha1 = format!("sha1:{}", "a".repeat(40));
        let md5 = format!("md5:{}", "b".repeat(32));
        let layer = "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f";
        let config = "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7";
        let entry = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";
        for (doc, from, to, field) in [
            (DOCKER_V2, layer, &sha1, "layers[0].digest"),
            (DOCKER_V2, config, &md5, "config.digest"),
            (DOCKER_LIST, entry, &sha1, "manifests[1].digest"),
            (OCI_MANIFEST_NO_MT, entry, &md5, "subject.digest"),
        ] {
            let body = doc.replace(from, to);
            assert_ne!(body, doc);
            let e = Manifest::parse(None, body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            let m = e.to_string();
            assert!(m.contains(field), "{m}");
            assert!(m.contains(to.split(':').next().unwrap()), "{m}");
        }
        // malformed digests stay Decode errors
        for bad in ["sha1:", "SHA1:abc", "sha1:a b", "sha256:abc", ":abc"] {
            let body = DOCKER_V2.replace(layer, bad);
            let e = Manifest::parse(None, body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{bad}: {e}");
        }
        // an earlier error is reported, not a later unsupported digest
        let body = DOCKER_V2
            .replace("\"size\": 32654", "\"size\": -1")
            .replace(layer, &sha1);
        let e = Manifest::parse(None, body.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
        assert!(e.to_string().contains("-1"), "{e}");
        // diff_ids of a config are plain strings
        let c = ImageConfig::parse(
            format!(r#"{{"rootfs":{{"type":"layers","diff_ids":["{sha1}"]}}}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(c.rootfs.unwrap().diff_ids, [sha1]);
    }

    #[test]
    fn hostile_bodies() {
        // deep nesting: serde_json's recursion limit gives an error, no stack overflow
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = Manifest::parse(None, deep.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let deep_in_field = format!(
            r#"{{"schemaVersion":2,"manifests":[],"annotations":{{"x":{}}}}}"#,
            "[".repeat(100_000)
        );
        assert!(Manifest::parse(None, deep_in_field.as_bytes()).is_err());
        // a huge unknown media type is not echoed in full
        let long = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}"}}"#,
            "x".repeat(100_000)
        );
        let e = Manifest::parse(None, long.as_bytes()).unwrap_err();
        assert!(e.to_string().len() < 300);
        // non-ASCII values
        let uni = OCI_MANIFEST_NO_MT.replace("value1", "välüe ✓ 😀");
        let m = Manifest::parse(None, uni.as_bytes()).unwrap();
        assert_eq!(image(&m).annotations["com.example.key1"], "välüe ✓ 😀");
    }

    #[test]
    fn nulls_in_manifests() {
        let body = br#"{"schemaVersion":2,"manifests":null,"annotations":null}"#;
        let m = Manifest::parse(Some(media_type::OCI_INDEX), body).unwrap();
        assert!(m.as_index().unwrap().manifests.is_empty());
        let body = br#"{"schemaVersion":2,"config":{"mediaType":null,"size":0,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","urls":null,"annotations":null,"platform":null},"layers":null}"#;
        let m = Manifest::parse(None, body).unwrap();
        assert!(image(&m).layers.is_empty());
    }

    #[test]
    fn serialize_roundtrip() {
        for (ct, body) in [
            (None, DOCKER_V2),
            (None, DOCKER_LIST),
            (None, OCI_MANIFEST_NO_MT),
            (None, OCI_INDEX),
        ] {
            let m = Manifest::parse(ct, body.as_bytes()).unwrap();
            let json = serde_json::to_vec(&m).unwrap();
            let again = Manifest::parse(Some(m.media_type()), &json).unwrap();
            assert_eq!(again, m);
            assert!(m.to_json_pretty().contains("schemaVersion"));
        }
        // empty optional fields are omitted
        let m = Manifest::parse(None, OCI_MANIFEST_NO_MT.as_bytes()).unwrap();
        let v = serde_json::to_value(&m).unwrap();
        assert!(v.get("mediaType").is_none());
        assert!(v["layers"][0].get("urls").is_none());
        assert!(v["layers"][0].get("annotations").is_none());
        assert!(v["layers"][0].get("platform").is_none());
    }

    #[test]
    fn accept_header() {
        let parts: Vec<&str> = media_type::ACCEPT_MANIFESTS
            .split(',')
            .map(str::trim)
            .collect();
        assert_eq!(parts.len(), 4);
        for mt in [
            media_type::DOCKER_MANIFEST_V2,
            media_type::DOCKER_MANIFEST_LIST,
            media_type::OCI_MANIFEST,
            media_type::OCI_INDEX,
        ] {
            assert!(parts.contains(&mt));
        }
    }

    #[test]
    fn docker_config_with_nulls() {
        let c = ImageConfig::parse(DOCKER_CONFIG_NULLS.as_bytes()).unwrap();
        assert_eq!(c.architecture, "amd64");
        assert_eq!(c.os, "linux");
        assert_eq!(c.platform().to_string(), "linux/amd64");
        assert_eq!(c.config.user.as_deref(), Some(""));
        assert_eq!(c.config.env.len(), 1);
        assert_eq!(c.config.cmd, Some(vec!["/hello".to_string()]));
        assert_eq!(c.config.entrypoint, None);
        assert!(c.config.labels.is_empty());
        assert!(c.config.exposed_ports.is_empty());
        assert_eq!(c.config.stop_signal, None);
        assert_eq!(c.history.len(), 2);
        assert!(c.history[1].empty_layer);
        assert!(!c.history[0].empty_layer);
        let rootfs = c.rootfs.as_ref().unwrap();
        assert_eq!(rootfs.kind, "layers");
        assert_eq!(rootfs.diff_ids.len(), 1);
        // serializes back with Docker names
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["config"]["Cmd"][0], "/hello");
        let again: ImageConfig = serde_json::from_value(v).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn oci_config_full() {
        let body = br#"{
          "created": "2015-10-31T22:22:56.015925234Z",
          "author": "Alyssa P. Hacker <alyspdev@example.com>",
          "architecture": "arm64", "variant": "v8", "os": "linux",
          "config": {
            "User": "alice",
            "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a"],
            "Entrypoint": ["/bin/my-app-binary"],
            "Cmd": ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
            "Volumes": {"/var/job-result-data": {}},
            "WorkingDir": "/home/alice",
            "Labels": {"com.example.project.git.url": "https://example.com/project.git"},
            "StopSignal": "SIGTERM"
          },
          "rootfs": {"diff_ids": ["sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1"], "type": "layers"},
          "history": [{"created": "2015-10-31T22:22:54.690851953Z", "created_by": "/bin/sh -c #(nop) ADD file in /"}]
        }"#;
        let c = ImageConfig::parse(body).unwrap();
        assert_eq!(c.platform().to_string(), "linux/arm64/v8");
        assert_eq!(c.config.user.as_deref(), Some("alice"));
        assert_eq!(c.config.exposed_ports, ["53/udp", "8080/tcp"]);
        assert_eq!(c.config.working_dir.as_deref(), Some("/home/alice"));
        assert_eq!(c.config.stop_signal.as_deref(), Some("SIGTERM"));
        assert_eq!(c.config.entrypoint.as_ref().unwrap().len(), 1);
        assert_eq!(c.config.labels.len(), 1);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v["config"]["ExposedPorts"]["8080/tcp"],
            serde_json::json!({})
        );
    }

    #[test]
    fn config_platform() {
        let c = ImageConfig::parse(
            br#"{"architecture":"amd64","os":"windows","variant":"",
                 "os.version":"10.0.17763.1879","os.features":["win32k"]}"#,
        )
        .unwrap();
        let p = c.platform();
        assert_eq!(p.to_string(), "windows/amd64");
        assert_eq!(p.variant, None);
        assert_eq!(p.os_version.as_deref(), Some("10.0.17763.1879"));
        assert_eq!(p.os_features, ["win32k"]);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["os.version"], "10.0.17763.1879");
        assert_eq!(serde_json::from_value::<ImageConfig>(v).unwrap(), c);
        let c = ImageConfig::parse(br#"{"architecture":"arm","os":"linux","os.features":null}"#)
            .unwrap();
        assert!(c.platform().os_features.is_empty());
        assert!(Platform::parse("linux/arm/v7")
            .unwrap()
            .matches(&c.platform()));
    }

    #[test]
    fn config_errors() {
        for body in [
            &b""[..],
            b"[",
            b"[]",
            b"{\"config\": 5}",
            b"{\"history\": {}}",
            b"\xff",
        ] {
            let e = ImageConfig::parse(body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode);
            assert!(
                e.to_string().starts_with("cannot decode image config:"),
                "{e}"
            );
        }
        let c = ImageConfig::parse(br#"{"config":null,"history":null,"rootfs":null}"#).unwrap();
        assert_eq!(c, ImageConfig::default());
    }
}
