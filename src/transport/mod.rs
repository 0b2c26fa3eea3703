//! The request path: retry, breaker, HTTP.
pub(crate) mod breaker;
pub(crate) mod retry;
