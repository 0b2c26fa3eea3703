//! Authentication: challenges, scopes, tokens.
pub mod challenge;
pub mod scope;
