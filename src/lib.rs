//! A blocking, thread-safe client for the Docker Registry HTTP API v2 (the
//! OCI Distribution protocol).
//!
//! ```no_run
//! use registry_client::Client;
//!
//! let client = Client::builder("registry.example.com")
//!     .basic_auth("alice", "secret")
//!     .build()?;
//! for repo in client.list_repositories()? {
//!     println!("{repo}: {:?}", client.list_tags(&repo)?);
//! }
//! let info = client.image_info("library/alpine", "latest", None)?;
//! println!("{}/{} {} bytes", info.os, info.architecture, info.size);
//! # Ok::<(), registry_client::Error>(())
//! ```
//!
//! One [`Client`] is `Send + Sync` and cheap to clone; clones share the
//! connection pool, the token cache and the response cache.
//!
//! Every request goes down one path of layers, each depending only on the
//! one below (ARCHITECTURE.md in the repository draws them):
//!
//! ```text
//! operations (Client)  build a request, read a checked answer, use the cache
//! auth                 credentials from a CredentialProvider; Basic or Bearer
//!                      tokens per scope, fetched through the layer below
//! resilience           retries with backoff and Retry-After; circuit breaker per host
//! http                 one exchange on a pooled ureq agent: redirects under origin
//!                      rules, an address-checked resolver, size caps on every body
//! ```
//!
//! Errors are one [`Error`] with a stable [`ErrorKind`]; what a server said
//! is kept, and every secret the client holds is scrubbed from it.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod client;
mod config;
mod credentials;
mod error;

pub(crate) mod auth;
pub mod clock;
pub mod digest;
// Private: the C API is the header's, not part of the Rust docs; its
// `#[no_mangle]` functions are exported from the cdylib and staticlib all
// the same.
#[allow(unsafe_code)]
mod ffi;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod header_syntax;
pub(crate) mod http;
pub(crate) mod json;
pub mod layout;
pub mod manifest;
pub mod pagination;
pub mod platform;
#[cfg(test)]
mod proptests;
pub mod reference;
mod registries;
pub(crate) mod request;
pub(crate) mod resilience;
pub(crate) mod singleflight;
pub(crate) mod text;

pub use cache::CacheStats;
pub use client::ClientBuilder;
pub use client::{
    BlobRange, PullOptions, PullProgress, PullReport, DEFAULT_PULL_JOBS, MAX_PULL_JOBS,
};
pub use client::{
    BlobReader, Client, ImageInfo, LayerInfo, ManifestResponse, Pages, PingInfo, RepositoryInfo,
    ToDigest, ToReference,
};
pub use client::{
    BlobSource, CopyOptions, CopyReport, PushedBlob, PutManifest, Referrers, UploadOptions,
    DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE,
};
pub use config::{
    DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_MAX_BYTES, DEFAULT_CACHE_TTL, DEFAULT_COOLDOWN,
    DEFAULT_FAILURE_THRESHOLD, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY, DEFAULT_RETRY_DELAY,
    DEFAULT_TIMEOUT,
};
pub use config::{DEFAULT_MAX_LIST_BYTES, DEFAULT_MAX_LIST_ITEMS};
pub use credentials::{Credential, CredentialProvider, SystemCredentials};
pub use digest::Digest;
pub use error::{Diagnostic, Error, ErrorKind, Result};
pub use manifest::Manifest;
pub use pagination::Page;
pub use platform::Platform;
pub use reference::{ImageReference, Reference};
pub use registries::{Registries, DEFAULT_MAX_CLIENTS};

/// The README's code is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
