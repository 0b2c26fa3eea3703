//! Raw HTTP helpers on `ureq` 3 (no `registry_client`), digests, challenges, JWTs.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::User;

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>` digest of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

/// `Basic base64(user:password)` header value.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// `Basic ...` for a fixture user.
pub fn basic_auth_user(user: &User) -> String {
    basic_auth(user.name, user.password)
}

/// An agent that never turns statuses into errors and does not follow redirects.
/// `ca_pem`: extra root to trust (the TLS registry's CA); `None` = platform roots.
pub fn agent(ca_pem: Option<&[u8]>) -> ureq::Agent {
    let mut cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)));
    if let Some(pem) = ca_pem {
        let cert = ureq::tls::Certificate::from_pem(pem)
            .expect("fixture: CA PEM")
            .to_owned();
        cfg = cfg.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
                .build(),
        );
    }
    cfg.build().new_agent()
}

/// A fully read HTTP response.
#[derive(Clone, Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "fixture: response (status {}) is not JSON: {e}: {}",
                self.status,
                self.text()
            )
        })
    }
}

fn finish(
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    what: &str,
) -> Result<RawResponse, ureq::Error> {
    let mut resp = resp?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_else(|e| panic!("fixture: reading body of {what}: {e}"));
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// `GET url` with extra headers; transport errors are returned, statuses are not errors.
pub fn try_get(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<RawResponse, ureq::Error> {
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.call(), url)
}

/// `GET url`, panicking on transport errors.
pub fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> RawResponse {
    try_get(agent, url, headers).unwrap_or_else(|e| panic!("fixture: GET {url}: {e}"))
}

/// `HEAD url`, panicking on transport errors.
pub fn head(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> RawResponse {
    let mut req = agent.head(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.call(), url).unwrap_or_else(|e| panic!("fixture: HEAD {url}: {e}"))
}

/// Request with a body (`PUT`/`POST`/`PATCH`), panicking on transport errors.
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut req = match method {
        "PUT" => agent.put(url),
        "POST" => agent.post(url),
        "PATCH" => agent.patch(url),
        other => panic!("fixture: send() does not do {other}"),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.send(body), url).unwrap_or_else(|e| panic!("fixture: {method} {url}: {e}"))
}

/// `DELETE url`, panicking on transport errors.
pub fn delete(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> RawResponse {
    let mut req = agent.delete(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.call(), url).unwrap_or_else(|e| panic!("fixture: DELETE {url}: {e}"))
}

/// Minimal registry pusher over raw HTTP (monolithic uploads).
pub struct Pusher<'a> {
    pub agent: &'a ureq::Agent,
    /// `http(s)://host:port`
    pub base: String,
    /// `Authorization` value, if any.
    pub authorization: Option<String>,
}

impl Pusher<'_> {
    fn auth_headers(&self) -> Vec<(&str, &str)> {
        match &self.authorization {
            Some(a) => vec![("Authorization", a.as_str())],
            None => vec![],
        }
    }

    /// Opens an upload session (`POST`): the URL that completes it with
    /// the blob `digest` (its `Location`, absolute, with `digest=` added).
    pub fn upload_url(&self, repo: &str, digest: &str) -> String {
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let resp = send(self.agent, "POST", &url, &self.auth_headers(), b"");
        assert_eq!(
            resp.status,
            202,
            "fixture: start upload to {repo}: {}",
            resp.text()
        );
        let location = resp
            .header("location")
            .expect("fixture: upload without Location");
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_string()
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        format!("{location}{sep}digest={digest}")
    }

    /// Uploads a blob (`POST` then `PUT ?digest=`), returns its digest.
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256_digest(data);
        let put_url = self.upload_url(repo, &digest);
        let mut headers = self.auth_headers();
        headers.push(("Content-Type", "application/octet-stream"));
        let resp = send(self.agent, "PUT", &put_url, &headers, data);
        assert_eq!(
            resp.status,
            201,
            "fixture: finish upload to {repo}: {}",
            resp.text()
        );
        digest
    }

    /// `PUT /v2/<repo>/manifests/<reference>`, returns the manifest digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        data: &[u8],
    ) -> String {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let mut headers = self.auth_headers();
        headers.push(("Content-Type", media_type));
        let resp = send(self.agent, "PUT", &url, &headers, data);
        assert_eq!(
            resp.status,
            201,
            "fixture: put manifest {repo}:{reference}: {}",
            resp.text()
        );
        let digest = sha256_digest(data);
        if let Some(d) = resp.header("docker-content-digest") {
            assert_eq!(d, digest, "fixture: registry digest differs from ours");
        }
        digest
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased scheme (`bearer`, `basic`).
    pub scheme: String,
    /// Parameters (lowercased names).
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses one challenge like `Bearer realm="..",service="..",scope=".."`.
pub fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() || chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n)
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    }
}

/// Fetches a token by hand from a realm (`GET realm?service=..&scope=..`).
/// Returns the raw response (status 200 → `json()["token"]`).
pub fn fetch_token_raw(
    agent: &ureq::Agent,
    realm: &str,
    service: &str,
    scopes: &[&str],
    user: Option<(&str, &str)>,
) -> RawResponse {
    let mut url = format!("{realm}?service={}", query_escape(service));
    for s in scopes {
        url.push_str("&scope=");
        url.push_str(&query_escape(s));
    }
    let auth = user.map(|(u, p)| basic_auth(u, p));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    get(agent, &url, &headers)
}

/// Like [`fetch_token_raw`] but asserts 200 and returns the token.
pub fn fetch_token(
    agent: &ureq::Agent,
    realm: &str,
    service: &str,
    scopes: &[&str],
    user: Option<&User>,
) -> String {
    let resp = fetch_token_raw(
        agent,
        realm,
        service,
        scopes,
        user.map(|u| (u.name, u.password)),
    );
    assert_eq!(resp.status, 200, "fixture: token fetch: {}", resp.text());
    resp.json()["token"]
        .as_str()
        .expect("fixture: token response without token")
        .to_string()
}

/// Decodes (without verifying) the claims of a JWT.
pub fn jwt_claims(token: &str) -> serde_json::Value {
    jwt_part(token, 1)
}

/// Decodes (without verifying) the header of a JWT.
pub fn jwt_header(token: &str) -> serde_json::Value {
    jwt_part(token, 0)
}

fn jwt_part(token: &str, idx: usize) -> serde_json::Value {
    let part = token
        .split('.')
        .nth(idx)
        .unwrap_or_else(|| panic!("fixture: not a JWT: {token}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("fixture: JWT part {idx} not base64url: {e}"));
    serde_json::from_slice(&bytes).expect("fixture: JWT part is not JSON")
}

/// Percent-encodes a query component (unreserved characters kept).
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
