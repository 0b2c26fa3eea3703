#![allow(dead_code)]
//! Small, valid OCI images for scripted (fault server) tests: a manifest
//! and config whose digests are right, and the response that serves it.
//! Include next to `fault.rs`:
//! `#[path = "support/fault.rs"] mod fault;` and
//! `#[path = "support/images.rs"] mod images;`.

use sha2::{Digest as _, Sha256};

use crate::fault::{respond, Step};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// A manifest with its config, all digests correct.
pub struct Image {
    pub manifest: String,
    pub digest: String,
    pub config: String,
    pub config_digest: String,
}

/// An image whose content depends on `label`; equal-length labels give
/// manifests of equal length.
pub fn image(label: &str) -> Image {
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": { "label": label }, "Cmd": ["/bin/app"] },
        "rootfs": { "type": "layers", "diff_ids": [sha256(label.as_bytes())] },
    })
    .to_string();
    let config_digest = sha256(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len() },
        "layers": [
            { "mediaType": OCI_LAYER, "digest": sha256(label.as_bytes()), "size": label.len() }
        ],
    })
    .to_string();
    Image {
        digest: sha256(manifest.as_bytes()),
        manifest,
        config,
        config_digest,
    }
}

/// A correct manifest response.
pub fn manifest_ok(img: &Image) -> Step {
    respond(
        200,
        &[
            ("Content-Type", OCI_MANIFEST),
            ("Docker-Content-Digest", &img.digest),
        ],
        img.manifest.clone(),
    )
}
