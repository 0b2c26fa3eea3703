//! Names of images: a full [`ImageReference`] (registry, repository, tag
//! and/or digest, as people type them), and its last part, the
//! [`Reference`] (a tag or a digest) a manifest is asked for by.

mod image;

pub use image::{ImageReference, DEFAULT_TAG, DOCKER_HUB, DOCKER_HUB_API, DOCKER_HUB_LEGACY};

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::text::quote;
use crate::{Error, Result};

/// The longest repository name the spec allows, slashes included.
pub const MAX_REPOSITORY_LEN: usize = 255;

/// The longest tag the spec allows.
pub const MAX_TAG_LEN: usize = 128;

/// Checks one path component: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
/// Returns why it is invalid.
pub(crate) fn check_component(c: &str) -> std::result::Result<(), &'static str> {
    check_component_at(c).map_err(|(_, why)| why)
}

/// As [`check_component`], with the byte offset in `c` where the problem
/// is (for errors that point at a position).
pub(crate) fn check_component_at(c: &str) -> std::result::Result<(), (usize, &'static str)> {
    let b = c.as_bytes();
    if b.is_empty() {
        return Err((0, "empty path component"));
    }
    if let Some((at, &bad)) = b.iter().enumerate().find(|(_, &x)| {
        !(x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'_' | b'-'))
    }) {
        return Err((
            at,
            if bad.is_ascii_uppercase() {
                "uppercase letters are not allowed"
            } else {
                "only lowercase letters, digits, '.', '_', '-' and '/' are allowed"
            },
        ));
    }
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) {
        return Err((
            0,
            "a path component must start with a lowercase letter or digit",
        ));
    }
    if !alnum(b[b.len() - 1]) {
        return Err((
            b.len() - 1,
            "a path component must end with a lowercase letter or digit",
        ));
    }
    // Check every run of separators between alphanumerics.
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&x| x == b'-');
        if !ok {
            return Err((
                start,
                "invalid separator: use one '.', one or two '_', or dashes",
            ));
        }
    }
    Ok(())
}

/// Validates a repository name such as `library/ubuntu`.
///
/// Components match `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*` and are
/// separated by `/`; the whole name is at most 255 characters. Otherwise
/// [`Error::InvalidInput`] naming the value and the reason.
///
/// ```
/// use registry_client::reference::validate_repository;
/// assert!(validate_repository("library/ubuntu").is_ok());
/// assert!(validate_repository("my-org/my__app.v2").is_ok());
/// assert!(validate_repository("Library/Ubuntu").is_err());
/// assert!(validate_repository("a//b").is_err());
/// ```
pub fn validate_repository(name: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("invalid repository name {}: {why}", quote(name)));
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > MAX_REPOSITORY_LEN {
        return Err(bad(&format!(
            "longer than {MAX_REPOSITORY_LEN} characters ({})",
            name.len()
        )));
    }
    for component in name.split('/') {
        check_component(component).map_err(|why| {
            if component.is_empty() {
                bad(why)
            } else {
                bad(&format!("{why} (in {})", quote(component)))
            }
        })?;
    }
    Ok(())
}

/// Validates a tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
///
/// ```
/// use registry_client::reference::validate_tag;
/// assert!(validate_tag("v1.2.3-rc_1").is_ok());
/// assert!(validate_tag("_private").is_ok());
/// assert!(validate_tag(".hidden").is_err());
/// assert!(validate_tag(&"a".repeat(129)).is_err());
/// ```
pub fn validate_tag(tag: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid(format!("invalid tag {}: {why}", quote(tag)));
    let Some(first) = tag.chars().next() else {
        return Err(bad("empty"));
    };
    if tag.len() > MAX_TAG_LEN {
        return Err(bad(&format!(
            "longer than {MAX_TAG_LEN} characters ({})",
            tag.len()
        )));
    }
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return Err(bad("must start with a letter, digit or '_'"));
    }
    if let Some(c) = tag
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(bad(&format!(
            "{:?} is not allowed (only letters, digits, '.', '_' and '-')",
            c
        )));
    }
    Ok(())
}

/// What a manifest is asked for by: a tag or a digest.
///
/// ```
/// use registry_client::reference::Reference;
/// let r: Reference = "latest".parse().unwrap();
/// assert!(matches!(r, Reference::Tag(_)));
/// let d = format!("sha256:{}", "0".repeat(64));
/// let r = Reference::parse(&d).unwrap();
/// assert!(r.is_digest());
/// assert_eq!(r.to_string(), d);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A validated tag such as `latest`.
    Tag(String),
    /// A content digest.
    Digest(Digest),
}

impl Reference {
    /// Parses a tag or, when the text contains `:`, a digest.
    ///
    /// Errors are [`Error::InvalidInput`], or [`Error::Unsupported`] for a
    /// well-formed digest of an unsupported algorithm.
    ///
    /// ```
    /// use registry_client::{reference::Reference, ErrorKind};
    /// assert_eq!(Reference::parse("v1").unwrap().as_str(), "v1");
    /// assert_eq!(Reference::parse("bad tag").unwrap_err().kind(), ErrorKind::InvalidInput);
    /// assert_eq!(Reference::parse("sha256:xyz").unwrap_err().kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn parse(s: &str) -> Result<Reference> {
        if s.contains(':') {
            Digest::parse(s).map(Reference::Digest)
        } else {
            validate_tag(s)?;
            Ok(Reference::Tag(s.to_owned()))
        }
    }

    /// The reference as it goes in a URL: the tag, or `algorithm:hex`.
    ///
    /// ```
    /// use registry_client::reference::Reference;
    /// assert_eq!(Reference::parse("latest").unwrap().as_str(), "latest");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Reference::Tag(t) => t,
            Reference::Digest(d) => d.as_str(),
        }
    }

    /// Whether this is a digest.
    ///
    /// ```
    /// use registry_client::reference::Reference;
    /// assert!(!Reference::parse("latest").unwrap().is_digest());
    /// ```
    pub fn is_digest(&self) -> bool {
        matches!(self, Reference::Digest(_))
    }

    /// The digest, when this is one.
    ///
    /// ```
    /// use registry_client::{digest::Digest, reference::Reference};
    /// let d = Digest::sha256(b"x");
    /// assert_eq!(Reference::from(d.clone()).digest(), Some(&d));
    /// ```
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Reference::Digest(d) => Some(d),
            Reference::Tag(_) => None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Reference> {
        Reference::parse(s)
    }
}

impl From<Digest> for Reference {
    fn from(d: Digest) -> Reference {
        Reference::Digest(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn repository_valid() {
        for n in [
            "a",
            "0",
            "library/ubuntu",
            "a/b/c/d/e",
            "my-app",
            "my--app",
            "my---app",
            "my_app",
            "my__app",
            "my.app",
            "a.b-c_d__e",
            "0abc/1-2/x.y",
        ] {
            validate_repository(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        let max = format!("{}/{}", "a".repeat(127), "b".repeat(127));
        assert_eq!(max.len(), 255);
        validate_repository(&max).unwrap();
    }

    #[test]
    fn repository_invalid() {
        let long = "a".repeat(256);
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("/", "empty path component"),
            ("a/", "empty path component"),
            ("/a", "empty path component"),
            ("a//b", "empty path component"),
            ("Ubuntu", "uppercase"),
            ("a b", "only lowercase"),
            ("a:b", "only lowercase"),
            ("ünïcode", "only lowercase"),
            ("-a", "start"),
            ("_a", "start"),
            ("a-", "end"),
            ("a.", "end"),
            ("a..b", "separator"),
            ("a___b", "separator"),
            ("a._b", "separator"),
            ("a.-b", "separator"),
            ("a\0b", "only lowercase"),
            (&long, "longer than 255"),
        ];
        for (n, why) in cases {
            let e = validate_repository(n).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            let m = e.to_string();
            assert!(m.contains(why), "{n:?}: {m}");
            assert!(m.contains("invalid repository name"), "{m}");
            assert!(m.len() < 300, "{m}");
        }
        // the bad value is named
        let m = validate_repository("Foo/bar").unwrap_err().to_string();
        assert!(m.contains("\"Foo/bar\""), "{m}");
        let m = validate_repository(&"x/".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(m.len() < 300, "{m}");
    }

    #[test]
    fn tags() {
        for t in ["latest", "v1.0", "_x", "1", "A-b_c.d", &"a".repeat(128)] {
            validate_tag(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
        for t in [
            "",
            ".x",
            "-x",
            "a b",
            "a/b",
            "a:b",
            "tag\n",
            "é",
            &"a".repeat(129),
            &"a".repeat(1 << 20),
        ] {
            let e = validate_tag(t).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{t:.40}");
            assert!(e.to_string().len() < 300);
        }
    }

    #[test]
    fn references() {
        let r = Reference::parse("latest").unwrap();
        assert_eq!(r, Reference::Tag("latest".into()));
        assert_eq!(r.as_str(), "latest");
        assert!(r.digest().is_none());
        let d = Digest::sha256(b"abc");
        let r: Reference = d.as_str().parse().unwrap();
        assert_eq!(r, Reference::Digest(d.clone()));
        assert_eq!(r.digest(), Some(&d));
        assert_eq!(r.to_string(), d.to_string());
        assert_eq!(Reference::from(d.clone()), r);
        assert_eq!(
            Reference::parse("").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            Reference::parse("md5:abcdef").unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            Reference::parse("foo:bar:baz").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            Reference::parse(":").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
