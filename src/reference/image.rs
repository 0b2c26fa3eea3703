//! Image references as people type them: `ubuntu:22.04`,
//! `ghcr.io/org/app@sha256:…`, `localhost:5000/team/app:v1`.
//!
//! The grammar is Docker's (`distribution/reference`), which the
//! distribution spec's names, tags and digests are a part of:
//!
//! ```text
//! reference   := name [ ":" tag ] [ "@" digest ]
//! name        := [ domain "/" ] path
//! domain      := host [ ":" port ]
//! host        := domain-name | "[" IPv6 address "]"
//! domain-name := component ( "." component )*     component: [a-zA-Z0-9] ([a-zA-Z0-9-]* [a-zA-Z0-9])?
//! path        := path-component ( "/" path-component )*   (at most 255 characters)
//! path-component := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
//! tag         := [\w] [\w.-]{0,127}
//! ```
//!
//! and names are normalised as Docker normalises them: the first component
//! is a registry when it contains `.` or `:`, is `localhost`, or has upper
//! case letters; otherwise the registry is Docker Hub (`docker.io`, whose
//! older name `index.docker.io` means the same), where a one-component name
//! is an official image under `library/`.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::text::quote;
use crate::{Error, Result};

use super::{check_component_at, Reference, MAX_REPOSITORY_LEN, MAX_TAG_LEN};

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's older name, normalised to [`DOCKER_HUB`].
pub const DOCKER_HUB_LEGACY: &str = "index.docker.io";
/// The host Docker Hub's registry API answers on.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The tag a reference without tag or digest names.
pub const DEFAULT_TAG: &str = "latest";

/// A full image reference: registry, repository, and a tag, a digest or
/// both.
///
/// Parsed with [`FromStr`] / [`ImageReference::parse`] and normalised as
/// Docker does; [`Display`](fmt::Display) writes the fully qualified form,
/// which parses back to the same value.
///
/// ```
/// use registry_client::ImageReference;
///
/// let r: ImageReference = "ubuntu".parse()?;
/// assert_eq!(r.registry(), "docker.io");
/// assert_eq!(r.repository(), "library/ubuntu");
/// assert_eq!(r.to_string(), "docker.io/library/ubuntu");
/// assert_eq!(r.with_default_tag().to_string(), "docker.io/library/ubuntu:latest");
/// assert_eq!(r.reference().as_str(), "latest");
///
/// let r: ImageReference = "localhost:5000/team/app:v1".parse()?;
/// assert_eq!((r.registry(), r.repository(), r.tag()), ("localhost:5000", "team/app", Some("v1")));
///
/// let e = "docker.io/Library/ubuntu".parse::<ImageReference>().unwrap_err();
/// assert!(e.to_string().contains("position 11"), "{e}");
/// # Ok::<(), registry_client::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageReference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl ImageReference {
    /// Parses and normalises a reference. Errors are
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) saying what is
    /// wrong and at which position (counted in characters from 1), or
    /// [`Unsupported`](crate::ErrorKind::Unsupported) for a well-formed
    /// digest of an algorithm this crate does not verify.
    ///
    /// ```
    /// use registry_client::{ImageReference, ErrorKind};
    /// let r = ImageReference::parse("index.docker.io/alpine:3.19")?;
    /// assert_eq!(r.to_string(), "docker.io/library/alpine:3.19");
    /// let e = ImageReference::parse("app//x").unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidInput);
    /// assert!(e.to_string().contains("empty path component at position 5"), "{e}");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<ImageReference> {
        Parser { input }.parse()
    }

    /// A reference from parts already separate: `registry` (`host[:port]`,
    /// normalised like a parsed one), `repository` and a tag or digest.
    ///
    /// ```
    /// use registry_client::{ImageReference, Reference};
    /// let r = ImageReference::new("127.0.0.1:5000", "app", Reference::parse("v1")?)?;
    /// assert_eq!(r.to_string(), "127.0.0.1:5000/app:v1");
    /// assert!(ImageReference::new("no/slash/allowed", "app", Reference::parse("v1")?).is_err());
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn new(registry: &str, repository: &str, reference: Reference) -> Result<ImageReference> {
        if registry.contains('/') {
            return Err(Error::invalid(format!(
                "invalid registry {}: expected host[:port]",
                quote(registry)
            )));
        }
        let text = format!("{registry}/{repository}");
        let parser = Parser { input: &text };
        parser.domain(0, registry)?;
        parser.path(registry.len() + 1, repository)?;
        let (registry, repository) = normalise(registry, repository);
        let mut r = ImageReference {
            registry,
            repository,
            tag: None,
            digest: None,
        };
        match reference {
            Reference::Tag(t) => r.tag = Some(t),
            Reference::Digest(d) => r.digest = Some(d),
        }
        Ok(r)
    }

    /// The registry as named in references (`docker.io`, `ghcr.io`,
    /// `localhost:5000`, `[::1]:5000`): what credentials are looked up by.
    ///
    /// ```
    /// let r: registry_client::ImageReference = "[::1]:5000/app".parse()?;
    /// assert_eq!(r.registry(), "[::1]:5000");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The `host[:port]` the registry API answers on: the registry, except
    /// `registry-1.docker.io` for Docker Hub.
    ///
    /// ```
    /// let r: registry_client::ImageReference = "alpine".parse()?;
    /// assert_eq!(r.api_host(), "registry-1.docker.io");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The repository within the registry (`library/ubuntu`).
    ///
    /// ```
    /// let r: registry_client::ImageReference = "ghcr.io/org/app:v1".parse()?;
    /// assert_eq!(r.repository(), "org/app");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, when one was given.
    ///
    /// ```
    /// let r: registry_client::ImageReference = "app".parse()?;
    /// assert_eq!(r.tag(), None);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when one was given.
    ///
    /// ```
    /// let d = format!("sha256:{}", "a".repeat(64));
    /// let r: registry_client::ImageReference = format!("app:v1@{d}").parse()?;
    /// assert_eq!(r.digest().unwrap().as_str(), d);
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What a manifest is asked for by: the digest when there is one (it
    /// wins over a tag given with it, as in Docker), else the tag, else
    /// `latest`.
    ///
    /// ```
    /// let r: registry_client::ImageReference = "app".parse()?;
    /// assert_eq!(r.reference().as_str(), "latest");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn reference(&self) -> Reference {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Reference::Digest(d.clone()),
            (None, Some(t)) => Reference::Tag(t.clone()),
            (None, None) => Reference::Tag(DEFAULT_TAG.to_string()),
        }
    }

    /// This reference with the tag `latest` when it has neither tag nor
    /// digest (Docker's `TagNameOnly`).
    ///
    /// ```
    /// let r: registry_client::ImageReference = "user/app".parse()?;
    /// assert_eq!(r.with_default_tag().to_string(), "docker.io/user/app:latest");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn with_default_tag(&self) -> ImageReference {
        let mut r = self.clone();
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(DEFAULT_TAG.to_string());
        }
        r
    }

    /// The same repository with another tag or digest (and only that).
    ///
    /// ```
    /// use registry_client::{Digest, ImageReference};
    /// let r: ImageReference = "ghcr.io/org/app:v1".parse()?;
    /// let d = Digest::sha256(b"x");
    /// assert_eq!(r.with_reference(d.clone().into()).to_string(), format!("ghcr.io/org/app@{d}"));
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn with_reference(&self, reference: Reference) -> ImageReference {
        let (tag, digest) = match reference {
            Reference::Tag(t) => (Some(t), None),
            Reference::Digest(d) => (None, Some(d)),
        };
        ImageReference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag,
            digest,
        }
    }

    /// The name without the tag or digest: `registry/repository`.
    ///
    /// ```
    /// let r: registry_client::ImageReference = "redis:7".parse()?;
    /// assert_eq!(r.name(), "docker.io/library/redis");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The short form Docker shows: without `docker.io/`, and without
    /// `library/` for official images.
    ///
    /// ```
    /// let r: registry_client::ImageReference = "docker.io/library/redis:7".parse()?;
    /// assert_eq!(r.familiar(), "redis:7");
    /// let r: registry_client::ImageReference = "localhost:5000/redis".parse()?;
    /// assert_eq!(r.familiar(), "localhost:5000/redis");
    /// # Ok::<(), registry_client::Error>(())
    /// ```
    pub fn familiar(&self) -> String {
        let name = if self.registry == DOCKER_HUB {
            match self.repository.strip_prefix("library/") {
                // Alone, 64 hex characters would read as an image ID.
                Some(rest) if rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    self.name()
                }
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.repository.clone(),
            }
        } else {
            self.name()
        };
        let mut out = name;
        self.write_suffix(&mut out);
        out
    }

    fn write_suffix(&self, out: &mut String) {
        if let Some(t) = &self.tag {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(d.as_str());
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.write_suffix(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for ImageReference {
    type Err = Error;

    fn from_str(s: &str) -> Result<ImageReference> {
        ImageReference::parse(s)
    }
}

/// Whether the text before the first `/` names a registry (Docker's rule).
fn is_registry(first: &str) -> bool {
    first == "localhost"
        || first.contains(['.', ':'])
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

/// Docker Hub's registry under its one name, and its one-component
/// repositories under `library/`.
fn normalise(registry: &str, path: &str) -> (String, String) {
    let registry = if registry == DOCKER_HUB_LEGACY {
        DOCKER_HUB
    } else {
        registry
    };
    let repository = if registry == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_string()
    };
    (registry.to_string(), repository)
}

struct Parser<'a> {
    input: &'a str,
}

impl Parser<'_> {
    /// An error about the character at byte offset `at`.
    fn error(&self, at: usize, why: impl fmt::Display) -> Error {
        Error::invalid(format!(
            "invalid image reference {}: {why} at position {}",
            quote(self.input),
            self.position(at)
        ))
    }

    /// 1-based character position of byte offset `at`.
    fn position(&self, at: usize) -> usize {
        let at = at.min(self.input.len());
        // Offsets always sit on a char boundary (they come from ASCII
        // delimiters or char iteration); fall back to the byte offset.
        self.input
            .get(..at)
            .map_or(at, |s| s.chars().count())
            .saturating_add(1)
    }

    fn parse(&self) -> Result<ImageReference> {
        let s = self.input;
        if s.is_empty() {
            return Err(Error::invalid("invalid image reference \"\": empty"));
        }
        if let Some((i, c)) = s
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || c.is_control())
        {
            return Err(self.error(i, format_args!("{:?} is not allowed", c)));
        }
        // name [":" tag] ["@" digest]
        let (name_tag, digest) = match s.find('@') {
            Some(at) => (&s[..at], Some((at + 1, &s[at + 1..]))),
            None => (s, None),
        };
        let digest = match digest {
            Some((at, d)) => Some(self.digest(at, d)?),
            None => None,
        };
        let path_start = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[path_start..].rfind(':') {
            Some(i) => {
                let colon = path_start + i;
                (
                    &name_tag[..colon],
                    Some(self.tag(colon + 1, &name_tag[colon + 1..])?),
                )
            }
            None => (name_tag, None),
        };
        if name.is_empty() {
            return Err(self.error(0, "missing repository name"));
        }
        // A 64-hex name is an image ID, not a name (as in Docker).
        if name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(self.error(
                0,
                "a 64-character hexadecimal string is an image ID, not a repository name",
            ));
        }
        if name.starts_with('[') && !name.contains('/') {
            return Err(self.error(
                name.len(),
                "an IPv6 registry must be followed by '/' and a repository",
            ));
        }
        let (registry, path, path_at) = match name.split_once('/') {
            Some((first, rest)) if is_registry(first) => {
                self.domain(0, first)?;
                (first, rest, first.len() + 1)
            }
            _ => (DOCKER_HUB, name, 0),
        };
        self.path(path_at, path)?;
        let (registry, repository) = normalise(registry, path);
        Ok(ImageReference {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// `host[:port]`, the host a domain name or a bracketed IPv6 address.
    fn domain(&self, at: usize, d: &str) -> Result<()> {
        if d.is_empty() {
            return Err(self.error(at, "empty registry name"));
        }
        let (host, port) = if let Some(rest) = d.strip_prefix('[') {
            let Some(close) = rest.find(']') else {
                return Err(self.error(at, "'[' without a closing ']' in the registry"));
            };
            let addr = &rest[..close];
            if addr.is_empty()
                || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
                || addr.parse::<std::net::Ipv6Addr>().is_err()
            {
                return Err(self.error(
                    at + 1,
                    format_args!("{} is not an IPv6 address", quote(addr)),
                ));
            }
            let after = &rest[close + 1..];
            match after.strip_prefix(':') {
                Some(p) => (&d[..close + 2], Some((at + close + 3, p))),
                None if after.is_empty() => (d, None),
                None => {
                    return Err(self.error(
                        at + close + 2,
                        "only a ':port' may follow an IPv6 address in the registry",
                    ))
                }
            }
        } else {
            match d.split_once(':') {
                Some((h, p)) => (h, Some((at + h.len() + 1, p))),
                None => (d, None),
            }
        };
        if !host.starts_with('[') {
            if host.is_empty() {
                return Err(self.error(at, "empty registry host"));
            }
            let mut offset = at;
            for label in host.split('.') {
                self.domain_label(offset, label)?;
                offset += label.len() + 1;
            }
        }
        if let Some((p_at, port)) = port {
            if port.is_empty() {
                return Err(self.error(p_at, "empty port after ':' in the registry"));
            }
            if let Some(i) = port.bytes().position(|b| !b.is_ascii_digit()) {
                return Err(self.error(p_at + i, "the registry's port must be a number"));
            }
            if port.parse::<u16>().is_err() {
                return Err(self.error(p_at, "the registry's port is above 65535"));
            }
        }
        Ok(())
    }

    fn domain_label(&self, at: usize, label: &str) -> Result<()> {
        let b = label.as_bytes();
        if b.is_empty() {
            return Err(self.error(at, "empty label in the registry's host name"));
        }
        if let Some(i) = b
            .iter()
            .position(|&x| !(x.is_ascii_alphanumeric() || x == b'-'))
        {
            return Err(self.error(
                at + i,
                "only letters, digits, '-' and '.' are allowed in a registry host name",
            ));
        }
        if b[0] == b'-' {
            return Err(self.error(at, "a host name label must not start with '-'"));
        }
        if b[b.len() - 1] == b'-' {
            return Err(self.error(at + b.len() - 1, "a host name label must not end with '-'"));
        }
        Ok(())
    }

    /// The repository path, at byte offset `at` of the input.
    fn path(&self, at: usize, path: &str) -> Result<()> {
        if path.len() > MAX_REPOSITORY_LEN {
            return Err(self.error(
                at + MAX_REPOSITORY_LEN,
                format_args!(
                    "repository name is longer than {MAX_REPOSITORY_LEN} characters ({})",
                    path.len()
                ),
            ));
        }
        let mut offset = at;
        for component in path.split('/') {
            if let Err((i, why)) = check_component_at(component) {
                return Err(self.error(offset + i, why));
            }
            offset += component.len() + 1;
        }
        Ok(())
    }

    /// A tag at byte offset `at`.
    fn tag<'t>(&self, at: usize, tag: &'t str) -> Result<&'t str> {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let Some(first) = tag.chars().next() else {
            return Err(self.error(at, "empty tag after ':'"));
        };
        if !word(first) {
            return Err(self.error(at, "a tag must start with a letter, digit or '_'"));
        }
        if let Some((i, c)) = tag
            .char_indices()
            .find(|&(_, c)| !(word(c) || c == '.' || c == '-'))
        {
            return Err(self.error(
                at + i,
                format_args!(
                    "{c:?} is not allowed in a tag (only letters, digits, '.', '_' and '-')"
                ),
            ));
        }
        if tag.len() > MAX_TAG_LEN {
            return Err(self.error(
                at + MAX_TAG_LEN,
                format_args!(
                    "tag is longer than {MAX_TAG_LEN} characters ({})",
                    tag.len()
                ),
            ));
        }
        Ok(tag)
    }

    /// A digest at byte offset `at`.
    fn digest(&self, at: usize, d: &str) -> Result<Digest> {
        if d.is_empty() {
            return Err(self.error(at, "empty digest after '@'"));
        }
        Digest::parse(d).map_err(|e| {
            let why = match &e {
                Error::InvalidInput { message, .. } => message.clone(),
                other => other.to_string(),
            };
            let message = format!(
                "invalid image reference {}: bad digest at position {}: {why}",
                quote(self.input),
                self.position(at)
            );
            if e.kind() == crate::ErrorKind::Unsupported {
                Error::unsupported(message)
            } else {
                Error::invalid(message)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const D: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn parse(s: &str) -> ImageReference {
        ImageReference::parse(s).unwrap_or_else(|e| panic!("{s:.80}: {e}"))
    }

    /// Every value parses back from its own text.
    fn round_trips(r: &ImageReference) {
        assert_eq!(&parse(&r.to_string()), r, "{r}");
        assert_eq!(&parse(&r.familiar()), r, "{r}");
    }

    /// `distribution/reference`'s `TestReferenceParse` vectors, as Docker's
    /// normalising parser (`ParseDockerRef`) reads them: input, registry,
    /// repository, tag, digest.
    #[test]
    fn docker_reference_vectors() {
        let long_path = format!("{}a", "a/".repeat(127));
        let long_repo = "a".repeat(255);
        // input, registry, repository, tag, digest
        type Case<'a> = (String, &'a str, String, Option<&'a str>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            (
                "test_com".into(),
                "docker.io",
                "library/test_com".into(),
                None,
                None,
            ),
            (
                "test.com:tag".into(),
                "docker.io",
                "library/test.com".into(),
                Some("tag"),
                None,
            ),
            (
                "test.com:5000".into(),
                "docker.io",
                "library/test.com".into(),
                Some("5000"),
                None,
            ),
            (
                "test.com/repo:tag".into(),
                "test.com",
                "repo".into(),
                Some("tag"),
                None,
            ),
            (
                "test:5000/repo".into(),
                "test:5000",
                "repo".into(),
                None,
                None,
            ),
            (
                "test:5000/repo:tag".into(),
                "test:5000",
                "repo".into(),
                Some("tag"),
                None,
            ),
            (
                format!("test:5000/repo@{D}"),
                "test:5000",
                "repo".into(),
                None,
                Some(D),
            ),
            (
                format!("test:5000/repo:tag@{D}"),
                "test:5000",
                "repo".into(),
                Some("tag"),
                Some(D),
            ),
            (
                "lowercase:Uppercase".into(),
                "docker.io",
                "library/lowercase".into(),
                Some("Uppercase"),
                None,
            ),
            (
                format!("{long_path}:tag-puts-this-over-max"),
                "docker.io",
                long_path.clone(),
                Some("tag-puts-this-over-max"),
                None,
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux".into(),
                "sub-dom1.foo.com",
                "bar/baz/quux".into(),
                None,
                None,
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
                "sub-dom1.foo.com",
                "bar/baz/quux".into(),
                Some("some-long-tag"),
                None,
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
                "b.gcr.io",
                "test.example.com/my-app".into(),
                Some("test.example.com"),
                None,
            ),
            (
                "xn--n3h.com/myimage:xn--n3h.com".into(),
                "xn--n3h.com",
                "myimage".into(),
                Some("xn--n3h.com"),
                None,
            ),
            (
                format!("xn--7o8h.com/myimage:xn--7o8h.com@{D}"),
                "xn--7o8h.com",
                "myimage".into(),
                Some("xn--7o8h.com"),
                Some(D),
            ),
            (
                "foo_bar.com:8080".into(),
                "docker.io",
                "library/foo_bar.com".into(),
                Some("8080"),
                None,
            ),
            (
                "foo/foo_bar.com:8080".into(),
                "docker.io",
                "foo/foo_bar.com".into(),
                Some("8080"),
                None,
            ),
            (
                "192.168.1.1".into(),
                "docker.io",
                "library/192.168.1.1".into(),
                None,
                None,
            ),
            (
                "192.168.1.1:tag".into(),
                "docker.io",
                "library/192.168.1.1".into(),
                Some("tag"),
                None,
            ),
            (
                "192.168.1.1:5000".into(),
                "docker.io",
                "library/192.168.1.1".into(),
                Some("5000"),
                None,
            ),
            (
                "192.168.1.1/repo".into(),
                "192.168.1.1",
                "repo".into(),
                None,
                None,
            ),
            (
                "192.168.1.1:5000/repo".into(),
                "192.168.1.1:5000",
                "repo".into(),
                None,
                None,
            ),
            (
                "192.168.1.1:5000/repo:5050".into(),
                "192.168.1.1:5000",
                "repo".into(),
                Some("5050"),
                None,
            ),
            (
                "[2001:db8::1]/repo".into(),
                "[2001:db8::1]",
                "repo".into(),
                None,
                None,
            ),
            (
                "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
                "[2001:db8:1:2:3:4:5:6]",
                "repo".into(),
                Some("tag"),
                None,
            ),
            (
                "[2001:db8::1]:5000/repo".into(),
                "[2001:db8::1]:5000",
                "repo".into(),
                None,
                None,
            ),
            (
                "[2001:db8::1]:5000/repo:tag".into(),
                "[2001:db8::1]:5000",
                "repo".into(),
                Some("tag"),
                None,
            ),
            (
                format!("[2001:db8::1]:5000/repo@{D}"),
                "[2001:db8::1]:5000",
                "repo".into(),
                None,
                Some(D),
            ),
            (
                format!("[2001:db8::1]:5000/repo:tag@{D}"),
                "[2001:db8::1]:5000",
                "repo".into(),
                Some("tag"),
                Some(D),
            ),
            (
                "[2001:db8::]:5000/repo".into(),
                "[2001:db8::]:5000",
                "repo".into(),
                None,
                None,
            ),
            (
                "[::1]:5000/repo".into(),
                "[::1]:5000",
                "repo".into(),
                None,
                None,
            ),
            (
                format!("example.com/{long_repo}:tag"),
                "example.com",
                long_repo.clone(),
                Some("tag"),
                None,
            ),
        ];
        for (input, registry, repository, tag, digest) in &cases {
            let r = parse(input);
            assert_eq!(r.registry(), *registry, "{input}");
            assert_eq!(r.repository(), repository, "{input}");
            assert_eq!(r.tag(), *tag, "{input}");
            assert_eq!(r.digest().map(Digest::as_str), *digest, "{input}");
            // Docker's `String()` of a parsed reference is its input, qualified.
            let mut expected = format!("{registry}/{repository}");
            if let Some(t) = tag {
                expected = format!("{expected}:{t}");
            }
            if let Some(d) = digest {
                expected = format!("{expected}@{d}");
            }
            assert_eq!(r.to_string(), expected, "{input}");
            if input.starts_with(&format!("{registry}/")) {
                assert_eq!(&r.to_string(), input);
            }
            round_trips(&r);
        }
    }

    /// `TestValidateReferenceName` and `TestValidateRemoteName`: names
    /// Docker accepts.
    #[test]
    fn docker_valid_names() {
        let names = [
            "docker/docker",
            "library/debian",
            "debian",
            "localhost/library/debian",
            "localhost/debian",
            "LOCALDOMAIN/library/debian",
            "LOCALDOMAIN/debian",
            "docker.io/docker/docker",
            "docker.io/library/debian",
            "docker.io/debian",
            "index.docker.io/docker/docker",
            "index.docker.io/library/debian",
            "index.docker.io/debian",
            "127.0.0.1:5000/docker/docker",
            "127.0.0.1:5000/library/debian",
            "127.0.0.1:5000/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker-rules/docker",
            "docker---rules/docker",
            "doc/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
        ];
        for n in names {
            round_trips(&parse(n));
        }
    }

    /// Names Docker refuses, with what the error says and where.
    #[test]
    fn docker_invalid_names() {
        let long_ns = format!("{}/docker", "this_is_not_a_valid_namespace".repeat(9));
        let domain_long = format!("domain/{}:tag", "a".repeat(256));
        let cases: Vec<(String, &str, Option<usize>)> = vec![
            ("".into(), "empty", None),
            (":justtag".into(), "missing repository name", Some(1)),
            (format!("@{D}"), "missing repository name", Some(1)),
            (
                "repo@sha256:ffffffffffffffffffffffffffffffffff".into(),
                "bad digest",
                Some(6),
            ),
            ("Uppercase:tag".into(), "uppercase", Some(1)),
            (
                "test:5000/Uppercase/lowercase:tag".into(),
                "uppercase",
                Some(11),
            ),
            ("docker.io/docker/Docker".into(), "uppercase", Some(18)),
            ("docker/Docker".into(), "uppercase", Some(8)),
            (domain_long, "longer than 255", Some(256)),
            (long_ns, "longer than 255", Some(256)),
            ("aa/asdf$$^/aa".into(), "only lowercase", Some(8)),
            ("[2001:db8::1]".into(), "not allowed in a tag", Some(13)),
            ("[2001:db8::1]:5000".into(), "followed by '/'", Some(14)),
            ("[2001:db8::1]:tag".into(), "followed by '/'", Some(14)),
            ("[fc00::1]".into(), "not allowed in a tag", Some(9)),
            ("[fc00::1]:5000".into(), "followed by '/'", Some(10)),
            ("[fe80::1%eth0]:5000/repo".into(), "not an IPv6", Some(2)),
            (
                "[fe80::1%@invalidzone]:5000/repo".into(),
                "bad digest",
                Some(11),
            ),
            (
                "[2001:db8:3:4::192.0.2.33]:5000/debian".into(),
                "not an IPv6",
                Some(2),
            ),
            (
                "fc00::1:5000/debian".into(),
                "port must be a number",
                Some(6),
            ),
            (
                "https://github.com/docker/docker".into(),
                "empty port",
                Some(7),
            ),
            ("-docker".into(), "must start", Some(1)),
            ("-docker/docker".into(), "must start", Some(1)),
            (
                "-docker.io/docker/docker".into(),
                "must not start with '-'",
                Some(1),
            ),
            ("docker-/docker".into(), "must end", Some(7)),
            ("-docker-/docker".into(), "must start", Some(1)),
            ("____/____".into(), "must start", Some(1)),
            ("_docker/_docker".into(), "must start", Some(1)),
            // With a '.', the first component is a registry's host name.
            ("dock..er/docker".into(), "empty label", Some(6)),
            ("dock_.er/docker".into(), "only letters, digits", Some(5)),
            ("dock-.er/docker".into(), "must not end with '-'", Some(5)),
            ("r.io/dock..er/docker".into(), "separator", Some(10)),
            ("r.io/dock_.er/docker".into(), "separator", Some(10)),
            ("r.io/dock-.er/docker".into(), "separator", Some(10)),
            ("docker/".into(), "empty path component", Some(8)),
            ("docker///docker".into(), "empty path component", Some(8)),
            (
                "docker.io/docker///docker".into(),
                "empty path component",
                Some(18),
            ),
            ("app:".into(), "empty tag", Some(5)),
            ("app@".into(), "empty digest", Some(5)),
            ("app:.v1".into(), "must start", Some(5)),
            (
                format!("app:{}", "t".repeat(129)),
                "longer than 128",
                Some(133),
            ),
            ("app:v1!".into(), "not allowed in a tag", Some(7)),
            ("app: v1".into(), "' ' is not allowed", Some(5)),
            ("host:99999/app".into(), "above 65535", Some(6)),
            ("host:5x/app".into(), "port must be a number", Some(7)),
            ("[::1]x/app".into(), "only a ':port' may follow", Some(6)),
            ("[::1]:/app".into(), "empty port", Some(7)),
            ("[::1]:5x/app".into(), "port must be a number", Some(8)),
            ("[::1]:99999/app".into(), "above 65535", Some(7)),
            ("my..host.com/app".into(), "empty label", Some(4)),
            ("my_host.com/app".into(), "only letters, digits", Some(3)),
            ("ünïcode".into(), "only lowercase", Some(1)),
            (
                "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a".into(),
                "image ID",
                Some(1),
            ),
        ];
        for (input, why, at) in &cases {
            let e = ImageReference::parse(input).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{input}: {e}");
            let m = e.to_string();
            assert!(m.contains(why), "{input}: {m}");
            if let Some(at) = at {
                assert!(
                    m.contains(&format!("position {at}:"))
                        || m.ends_with(&format!("position {at}")),
                    "{input}: {m}"
                );
            }
            assert!(m.len() < 400, "{m}");
        }
        // A well-formed digest of an algorithm not verified here.
        let e = ImageReference::parse(&format!("validname@invaliddigest:{}", "f".repeat(64)))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("position 11"), "{e}");
    }

    /// `TestParseRepositoryInfo`: familiar, full and ambiguous spellings of
    /// one name agree.
    #[test]
    fn docker_repository_info() {
        let cases: &[(&str, &str, &str, &[&str], &str)] = &[
            ("fooo", "localhost/fooo", "localhost/fooo", &[], "localhost"),
            (
                "fooo/bar",
                "localhost/fooo/bar",
                "localhost/fooo/bar",
                &[],
                "localhost",
            ),
            (
                "fooo",
                "LOCALDOMAIN/fooo",
                "LOCALDOMAIN/fooo",
                &[],
                "LOCALDOMAIN",
            ),
            (
                "fooo/bar",
                "fooo/bar",
                "docker.io/fooo/bar",
                &["index.docker.io/fooo/bar"],
                "docker.io",
            ),
            (
                "library/ubuntu",
                "ubuntu",
                "docker.io/library/ubuntu",
                &["library/ubuntu"],
                "docker.io",
            ),
            (
                "nonlibrary/ubuntu",
                "nonlibrary/ubuntu",
                "docker.io/nonlibrary/ubuntu",
                &[],
                "docker.io",
            ),
            (
                "other/library",
                "other/library",
                "docker.io/other/library",
                &[],
                "docker.io",
            ),
            (
                "private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                &[],
                "127.0.0.1:8000",
            ),
            (
                "privatebase",
                "example.com:8000/privatebase",
                "example.com:8000/privatebase",
                &[],
                "example.com:8000",
            ),
            (
                "library/ubuntu-12.04-base",
                "ubuntu-12.04-base",
                "docker.io/library/ubuntu-12.04-base",
                &["index.docker.io/library/ubuntu-12.04-base"],
                "docker.io",
            ),
            (
                "library/foo",
                "foo",
                "docker.io/library/foo",
                &["docker.io/foo"],
                "docker.io",
            ),
            (
                "library/foo/bar",
                "library/foo/bar",
                "docker.io/library/foo/bar",
                &[],
                "docker.io",
            ),
            (
                "store/foo/bar",
                "store/foo/bar",
                "docker.io/store/foo/bar",
                &[],
                "docker.io",
            ),
            ("bar", "Foo/bar", "Foo/bar", &[], "Foo"),
            ("bar", "FOO/bar", "FOO/bar", &[], "FOO"),
        ];
        for (remote, familiar, full, ambiguous, domain) in cases {
            for s in [*familiar, *full].iter().chain(ambiguous.iter()) {
                let r = parse(s);
                assert_eq!(r.repository(), *remote, "{s}");
                assert_eq!(r.registry(), *domain, "{s}");
                assert_eq!(r.to_string(), *full, "{s}");
                assert_eq!(r.familiar(), *familiar, "{s}");
                round_trips(&r);
            }
        }
    }

    #[test]
    fn docker_hub_normalisation() {
        let r = parse("ubuntu");
        assert_eq!(
            r.with_default_tag().to_string(),
            "docker.io/library/ubuntu:latest"
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.reference(), Reference::Tag("latest".into()));
        assert_eq!(parse("user/app").to_string(), "docker.io/user/app");
        assert_eq!(
            parse("index.docker.io/user/app"),
            parse("docker.io/user/app")
        );
        assert_eq!(parse("localhost:5000/app").api_host(), "localhost:5000");
        // Tag and digest: the digest names the manifest.
        let r = parse(&format!("busybox:latest@{D}"));
        assert_eq!(r.reference().as_str(), D);
        assert_eq!(r.tag(), Some("latest"));
        assert_eq!(r.with_default_tag(), r);
        assert_eq!(
            r.to_string(),
            format!("docker.io/library/busybox:latest@{D}")
        );
        round_trips(&r);
    }

    #[test]
    fn built_from_parts() {
        let v1 = Reference::parse("v1").unwrap();
        let r = ImageReference::new("docker.io", "ubuntu", v1.clone()).unwrap();
        assert_eq!(r.to_string(), "docker.io/library/ubuntu:v1");
        let r = ImageReference::new("myhost", "team/app", v1.clone()).unwrap();
        assert_eq!((r.registry(), r.repository()), ("myhost", "team/app"));
        assert_eq!(r.to_string(), "myhost/team/app:v1");
        for (reg, repo) in [
            ("", "app"),
            ("a/b", "app"),
            ("h", "App"),
            ("h", "app:v1"),
            ("h", "a@b"),
        ] {
            let e = ImageReference::new(reg, repo, v1.clone()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{reg} {repo}");
        }
        let d = Digest::sha256(b"x");
        let r = r.with_reference(d.clone().into());
        assert_eq!((r.tag(), r.digest()), (None, Some(&d)));
    }

    /// `with_default_tag` adds `latest` only when there is neither tag
    /// nor digest; `familiar` drops `library/` unless what is left alone
    /// would read as an image ID (64 hex characters, both conditions).
    #[test]
    fn default_tag_and_familiar_edges() {
        assert_eq!(parse("redis:7").with_default_tag().tag(), Some("7"));
        let by_digest = parse(&format!("redis@{D}"));
        assert_eq!(by_digest.with_default_tag(), by_digest);
        assert_eq!(by_digest.with_default_tag().tag(), None);
        assert_eq!(parse("docker.io/library/abc").familiar(), "abc");
        let long = "g".repeat(64);
        assert_eq!(parse(&format!("library/{long}")).familiar(), long);
        let id = "a".repeat(64);
        assert_eq!(
            parse(&format!("library/{id}")).familiar(),
            format!("docker.io/library/{id}")
        );
        // the shortest IPv6 registry, with a port
        assert_eq!(parse("[::]:5000/app").registry(), "[::]:5000");
        // a tag of exactly the longest length
        let t128 = "t".repeat(128);
        assert_eq!(parse(&format!("app:{t128}")).tag(), Some(t128.as_str()));
    }

    #[test]
    fn hostile_input_is_bounded() {
        for s in [
            "a".repeat(1 << 20),
            "a/".repeat(1 << 18),
            format!("{}:tag", "x.".repeat(1 << 18)),
            "@".repeat(10_000),
            ":".repeat(10_000),
            "[".repeat(10_000) + "/a",
        ] {
            let e = ImageReference::parse(&s).unwrap_err();
            assert!(e.to_string().len() < 400, "{e}");
        }
    }
}
