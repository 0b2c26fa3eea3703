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
//! connection pool and the token cache. Every request goes through one path
//! (`transport`): circuit breaker, retry loop, authentication (anonymous,
//! Basic, Bearer tokens per scope), HTTP with size caps on every body.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod blob;
mod client;
mod config;
mod error;

pub mod auth;
pub mod cache;
pub mod clock;
pub mod digest;
#[allow(unsafe_code)]
pub mod ffi;
pub(crate) mod header_syntax;
pub mod manifest;
pub mod pagination;
pub mod platform;
pub mod reference;
pub(crate) mod singleflight;
pub(crate) mod text;
pub(crate) mod transport;

pub use blob::BlobReader;
pub use client::{Client, ImageInfo, LayerInfo, ManifestResponse, Pages, PingInfo, RepositoryInfo};
pub use config::{
    ClientBuilder, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_MAX_BYTES, DEFAULT_CACHE_TTL,
    DEFAULT_COOLDOWN, DEFAULT_FAILURE_THRESHOLD, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_RETRY_DELAY, DEFAULT_TIMEOUT,
};
pub use digest::Digest;
pub use error::{Diagnostic, Error, ErrorKind, Result};
pub use manifest::Manifest;
pub use pagination::Page;
pub use platform::Platform;
pub use reference::Reference;

/// The README's code is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
