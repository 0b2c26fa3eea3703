//! An image's config blob: platform, run settings, root filesystem and
//! history, in its Docker and OCI forms.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::json::null_default;
use crate::platform::Platform;
use crate::{Error, Result};

use super::require_object;

/// An image's config blob (Docker `application/vnd.docker.container.image.v1+json`
/// or OCI `application/vnd.oci.image.config.v1+json`).
///
/// Missing or `null` fields decode as empty or `None`.
///
/// ```
/// use registry_client::manifest::ImageConfig;
/// let c = ImageConfig::parse(br#"{"architecture":"amd64","os":"linux",
///   "config":{"Env":["PATH=/usr/bin"],"Cmd":["sh"],"Labels":null}}"#).unwrap();
/// assert_eq!(c.config.cmd.as_deref(), Some(&["sh".to_string()][..]));
/// assert!(c.config.labels.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    /// CPU architecture (Go naming).
    #[serde(default, deserialize_with = "null_default")]
    pub architecture: String,
    /// Operating system.
    #[serde(default, deserialize_with = "null_default")]
    pub os: String,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The OS version, for Windows images.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features, such as `win32k`.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// Creation time, RFC 3339, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Default run settings.
    #[serde(default, deserialize_with = "null_default")]
    pub config: ContainerConfig,
    /// Layer diff IDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<RootFs>,
    /// Build history, oldest first.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<History>,
}

impl ImageConfig {
    /// Parses a config blob; errors are [`Error::Decode`] with context
    /// `image config`.
    ///
    /// ```
    /// use registry_client::{manifest::ImageConfig, ErrorKind};
    /// assert_eq!(ImageConfig::parse(b"[").unwrap_err().kind(), ErrorKind::Decode);
    /// assert_eq!(ImageConfig::parse(b"{}").unwrap().os, "");
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig> {
        require_object("image config", bytes)?;
        serde_json::from_slice(bytes).map_err(|e| Error::decode("image config", e))
    }

    /// The platform this config states: OS, architecture, variant, OS
    /// version and features, as sent (an empty variant is none). Use this,
    /// not the fields one by one, to match a config against a wanted
    /// [`Platform`].
    ///
    /// ```
    /// use registry_client::{manifest::ImageConfig, platform::Platform};
    /// let c = ImageConfig::parse(br#"{"architecture":"arm","os":"linux"}"#).unwrap();
    /// assert_eq!(c.platform().to_string(), "linux/arm");
    /// assert!(Platform::parse("linux/arm/v7").unwrap().matches(&c.platform()));
    /// let c = ImageConfig::parse(br#"{"architecture":"amd64","os":"windows",
    ///   "os.version":"10.0.17763.1879","os.features":["win32k"]}"#).unwrap();
    /// assert_eq!(c.platform().os_version.as_deref(), Some("10.0.17763.1879"));
    /// ```
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
        }
    }
}

fn ports_de<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let m: Option<BTreeMap<String, serde::de::IgnoredAny>> = Option::deserialize(d)?;
    Ok(m.map(|m| m.into_keys().collect()).unwrap_or_default())
}

fn ports_ser<S: Serializer>(ports: &[String], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(ports.len()))?;
    for p in ports {
        m.serialize_entry(p, &serde_json::Map::new())?;
    }
    m.end()
}

/// The default run settings of an image (the config's `config` object),
/// with Docker's capitalized JSON names.
///
/// ```
/// use registry_client::manifest::ContainerConfig;
/// let c: ContainerConfig = serde_json::from_str(
///     r#"{"ExposedPorts":{"80/tcp":{},"443/tcp":{}},"Entrypoint":null,"WorkingDir":""}"#,
/// ).unwrap();
/// assert_eq!(c.exposed_ports, vec!["443/tcp", "80/tcp"]);
/// assert_eq!(c.entrypoint, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// The user (and group) to run as.
    #[serde(rename = "User", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Environment, `NAME=value` entries.
    #[serde(
        rename = "Env",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    /// Entrypoint.
    #[serde(
        rename = "Entrypoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entrypoint: Option<Vec<String>>,
    /// Default arguments.
    #[serde(rename = "Cmd", default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Working directory.
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    /// Labels.
    #[serde(
        rename = "Labels",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Exposed ports such as `80/tcp`, sorted (JSON: an object whose keys
    /// are the ports).
    #[serde(
        rename = "ExposedPorts",
        default,
        deserialize_with = "ports_de",
        serialize_with = "ports_ser",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub exposed_ports: Vec<String>,
    /// The signal that stops the container.
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_signal: Option<String>,
}

/// The config's `rootfs`: the layers' uncompressed digests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub kind: String,
    /// Digests of the uncompressed layers, as sent.
    #[serde(default, deserialize_with = "null_default")]
    pub diff_ids: Vec<String>,
}

/// One entry of the config's build history.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct History {
    /// When, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The build instruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether this step produced no layer.
    #[serde(default, deserialize_with = "null_default")]
    pub empty_layer: bool,
}
