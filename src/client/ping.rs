//! `GET /v2/`: does the registry speak API v2, and does it want credentials.

use serde::Serialize;

use crate::http::header;
use crate::Result;

use super::Client;

/// What `GET /v2/` said.
///
/// ```no_run
/// let info = registry_client::Client::new("localhost:5000")?.ping()?;
/// println!("auth required: {}", info.auth_required);
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PingInfo {
    /// The registry challenged for credentials.
    pub auth_required: bool,
    /// The `Docker-Distribution-API-Version` header (`registry/2.0`).
    pub api_version: Option<String>,
}

impl Client {
    /// Checks that the registry speaks API v2 (`GET /v2/`), authenticating
    /// when it asks and credentials are configured. Never cached.
    ///
    /// ```no_run
    /// let info = registry_client::Client::new("localhost:5000")?.ping()?;
    /// assert_eq!(info.api_version.as_deref(), Some("registry/2.0"));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn ping(&self) -> Result<PingInfo> {
        self.scrub((|| {
            let req = self.request(self.url("v2/")?, "API version check");
            // Asked bare first: whether the registry wants credentials is a fact
            // about it, not about the credentials this client holds.
            let (status, headers) = self.probe(&req.url, req.what)?;
            let auth_required = status == 401;
            if auth_required && self.has_credentials()? {
                // Then with the credentials, so bad ones are reported here.
                self.send(&req)?;
            }
            Ok(PingInfo {
                auth_required,
                api_version: header(&headers, "docker-distribution-api-version")
                    .map(str::to_string),
            })
        })())
    }
}
