//! A blocking, thread-safe client for the Docker Registry HTTP API v2 (OCI Distribution).
#![forbid(unsafe_code)]

mod error;

pub mod auth;
pub mod cache;
pub mod clock;
pub mod digest;
pub mod manifest;
pub mod pagination;
pub mod platform;
pub mod reference;
pub(crate) mod singleflight;
pub(crate) mod transport;

pub use error::{Diagnostic, Error, ErrorKind, Result};
