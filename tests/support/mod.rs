//! Integration-test fixture: real `docker-registry` (distribution 2.8) processes,
//! an in-process token server, openssl-made PKI and a shared, pre-seeded storage.
//!
//! Use it from every `tests/*.rs` with `mod support;`. Nothing here uses the
//! `registry_client` crate: raw HTTP goes through `ureq`, images through skopeo/umoci.
//!
//! Quick tour:
//! * [`Registry::open`], [`Registry::basic`], [`Registry::token`], [`Registry::tls`]
//!   serve the shared seed read-only; the `*_empty` variants serve a fresh, writable,
//!   empty storage; [`Registry::builder`] combines auth × TLS × storage freely
//!   (including [`Storage::SeedCopy`], a private writable copy of the seed).
//! * Users: [`ALICE`] (admin), [`BOB`] (pull everything, push under `bob/`),
//!   anonymous (pull under `public/` on the token registry).
//! * Seed facts: [`seed`] module constants; digests are never hard-coded: compute
//!   them with [`skopeo_raw_manifest`] + [`sha256_hex`].
//! * Raw HTTP helpers: [`http`] module.
//!
//! Facts about distribution 2.8.2 / skopeo 1.9 / umoci 0.4.7 found while building this:
//! * Seed-backed registries run in maintenance read-only mode: any write
//!   (POST/PUT/PATCH/DELETE) is `405 Method Not Allowed` from the router, BEFORE
//!   auth — use `*_empty()` or [`Storage::SeedCopy`] to test pushes/deletes/401s on writes.
//! * `tags/list` is NOT sorted (storage order) and ignores `n`/`last`;
//!   `_catalog` is sorted and paginates with a relative `Link: </v2/_catalog?last=..&n=..>; rel="next"`.
//! * Token checks have a 60 s leeway on `exp`/`nbf`: an expired token keeps working
//!   for a minute (use [`TokenServer::issue_token_with_times`] to test expiry).
//!   The token cert's keyUsage is not checked; `iss`, `aud`, signature and the
//!   `x5c` chain against `rootcertbundle` are.
//! * A token without the needed action → 401 with a fresh `Bearer` challenge
//!   naming the scope (e.g. `scope="repository:oci/app:pull"`).
//! * Docker v2 manifests fetched without their type in `Accept` come back as
//!   signed schema 1 (other digest); OCI manifests need the OCI type in `Accept`
//!   (else 404 MANIFEST_UNKNOWN). A Docker manifest list fetched without the list
//!   type in `Accept` answers its linux/amd64 entry instead (schema 2 if accepted,
//!   else schema 1 — which needs a `history` in the image config, else 400).
//! * `oci/app` and `docker/app` share config and layer blobs (same bytes, only
//!   the media types in the manifests differ).
//! * The registry logs every 4xx at level=error even with `level: warn`
//!   ([`Registry::log`]).
#![allow(dead_code, unused_imports)]

pub mod http;
pub mod logins;
mod pki;
mod registry;
pub mod seed;
mod token_server;
mod tools;

pub use http::{sha256_digest, sha256_hex};
pub use registry::{Auth, Registry, RegistryBuilder, Storage};
pub use seed::{seed_dir, seed_oci_layout, skopeo_raw_config, skopeo_raw_manifest};
pub use token_server::{TokenRequest, TokenServer};

/// A user known to both the htpasswd file (basic registries) and the token server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User {
    pub name: &'static str,
    pub password: &'static str,
}

/// Admin: every action on every repository, plus `registry:catalog:*`.
pub const ALICE: User = User {
    name: "alice",
    password: "wonderland",
};

/// `pull` on every repository, `pull`+`push` only on repositories under `bob/`.
pub const BOB: User = User {
    name: "bob",
    password: "builder",
};

/// All users with a password.
pub const USERS: [User; 2] = [ALICE, BOB];

/// A password no user has.
pub const WRONG_PASSWORD: &str = "not-the-password";

/// `service` of the token registries (the JWT `aud`).
pub const TOKEN_SERVICE: &str = "registry.test";

/// `issuer` of the token registries (the JWT `iss`).
pub const TOKEN_ISSUER: &str = "registry-client-test-token-issuer";

/// Media types used by the seed.
pub mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// An `Accept` value naming every manifest type the seed uses (without it
    /// distribution 2.8 converts Docker v2 manifests to signed schema 1).
    pub const ACCEPT_ALL: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";
}

/// Deterministic pseudo-random bytes (xorshift64): content that does not
/// compress, the same for the same `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0u8; len];
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    data
}
