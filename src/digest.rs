//! Content digests (`sha256:<hex>`), hashing and streaming verification.
//!
//! A [`Digest`] is always syntactically valid and of a supported
//! [`Algorithm`]: [`Digest::parse`] rejects everything else, so code that
//! holds a `Digest` never has to re-check it. Digests of other, well-formed
//! algorithms are refused with [`Error::Unsupported`].

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::text::quote;
use crate::{Error, Result};

/// A supported digest algorithm.
///
/// ```
/// use registry_client::digest::Algorithm;
/// assert_eq!(Algorithm::Sha256.as_str(), "sha256");
/// assert_eq!(Algorithm::Sha512.hex_len(), 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, the algorithm every registry uses.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name as written in a digest (`sha256`, `sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The number of hex characters of a digest of this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated content digest such as `sha256:6c3c62…`.
///
/// Displays, serializes and deserializes as its string form; deserializing
/// validates like [`Digest::parse`].
///
/// ```
/// use registry_client::digest::{Algorithm, Digest};
/// let d = Digest::sha256(b"hello");
/// assert_eq!(d.algorithm(), Algorithm::Sha256);
/// assert_eq!(
///     d.to_string(),
///     "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
/// );
/// assert_eq!(Digest::parse(d.as_str()).unwrap(), d);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// The whole `algorithm:hex` string.
    full: String,
    algorithm: Algorithm,
}

/// `[a-z0-9]+(?:[+._-][a-z0-9]+)*` (OCI image-spec algorithm grammar).
fn is_algorithm_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut prev_sep = false;
    for &c in b {
        if is_lower_alnum(c) {
            prev_sep = false;
        } else if matches!(c, b'+' | b'.' | b'_' | b'-') {
            if prev_sep {
                return false;
            }
            prev_sep = true;
        } else {
            return false;
        }
    }
    true
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-zA-Z0-9=_-]+` (OCI image-spec encoded grammar, a superset of hex).
fn is_encoded_syntax(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'))
}

/// Why a string is not a usable digest, before it becomes an [`Error`]:
/// the deserializer passes the message through serde, and
/// [`unsupported_reason`] recognizes it there.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParseError {
    /// Not a digest at all, or a malformed one of a known algorithm.
    Invalid(String),
    /// A well-formed digest of an algorithm this crate cannot verify.
    Unsupported(String),
}

impl ParseError {
    fn message(&self) -> &str {
        match self {
            ParseError::Invalid(m) | ParseError::Unsupported(m) => m,
        }
    }
}

fn parse_digest(s: &str) -> std::result::Result<Digest, ParseError> {
    let invalid = |why: &str| ParseError::Invalid(format!("invalid digest {}: {why}", quote(s)));
    let Some((alg, hex)) = s.split_once(':') else {
        return Err(invalid("expected <algorithm>:<hex>"));
    };
    if alg.is_empty() {
        return Err(invalid("missing algorithm before ':'"));
    }
    if hex.is_empty() {
        return Err(invalid("missing hex after ':'"));
    }
    let Some(algorithm) = Algorithm::from_name(alg) else {
        if is_algorithm_syntax(alg) && is_encoded_syntax(hex) {
            return Err(ParseError::Unsupported(format!(
                "digest algorithm {} is not supported (only sha256 and sha512)",
                quote(alg)
            )));
        }
        return Err(invalid("malformed algorithm or encoded part"));
    };
    if let Some(bad) = hex
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        if bad.is_ascii_hexdigit() {
            return Err(invalid("hex must be lowercase"));
        }
        return Err(invalid(&format!("{bad:?} is not a hex digit")));
    }
    if hex.len() != algorithm.hex_len() {
        return Err(invalid(&format!(
            "{algorithm} needs {} hex characters, got {}",
            algorithm.hex_len(),
            hex.len()
        )));
    }
    Ok(Digest {
        full: s.to_owned(),
        algorithm,
    })
}

/// When `s` is a well-formed digest of an unsupported algorithm, the
/// message its deserialization failed with (so a caller holding a serde
/// error can tell "unsupported" from "malformed"); otherwise `None`.
pub(crate) fn unsupported_reason(s: &str) -> Option<String> {
    match parse_digest(s) {
        Err(ParseError::Unsupported(m)) => Some(m),
        _ => None,
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0x0f)] as char);
    }
    s
}

impl Digest {
    /// Parses `algorithm:hex`.
    ///
    /// The hex part must be lowercase and of the algorithm's exact length
    /// (64 for sha256, 128 for sha512). A well-formed digest of another
    /// algorithm (such as `sha384:…` or `blake3:…`) gives
    /// [`Error::Unsupported`]; anything else [`Error::InvalidInput`].
    ///
    /// ```
    /// use registry_client::{digest::Digest, ErrorKind};
    /// let hex = "a".repeat(64);
    /// assert!(Digest::parse(&format!("sha256:{hex}")).is_ok());
    /// assert_eq!(Digest::parse("sha256:ABC").unwrap_err().kind(), ErrorKind::InvalidInput);
    /// assert_eq!(Digest::parse("blake3:abcd").unwrap_err().kind(), ErrorKind::Unsupported);
    /// ```
    pub fn parse(s: &str) -> Result<Digest> {
        parse_digest(s).map_err(|e| match e {
            ParseError::Invalid(m) => Error::invalid(m),
            ParseError::Unsupported(m) => Error::unsupported(m),
        })
    }

    /// The SHA-256 digest of `bytes`.
    ///
    /// ```
    /// use registry_client::digest::Digest;
    /// assert!(Digest::sha256(b"").as_str().starts_with("sha256:e3b0c442"));
    /// ```
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest::compute(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` with `algorithm`.
    ///
    /// ```
    /// use registry_client::digest::{Algorithm, Digest};
    /// let d = Digest::compute(Algorithm::Sha512, b"abc");
    /// assert_eq!(d.hex().len(), 128);
    /// ```
    pub fn compute(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }

    /// The algorithm.
    ///
    /// ```
    /// use registry_client::digest::{Algorithm, Digest};
    /// assert_eq!(Digest::sha256(b"x").algorithm(), Algorithm::Sha256);
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex part, after the `:`.
    ///
    /// ```
    /// use registry_client::digest::Digest;
    /// assert_eq!(Digest::sha256(b"x").hex().len(), 64);
    /// ```
    pub fn hex(&self) -> &str {
        &self.full[self.algorithm.as_str().len() + 1..]
    }

    /// The whole `algorithm:hex` string.
    ///
    /// ```
    /// use registry_client::digest::Digest;
    /// assert!(Digest::sha256(b"x").as_str().starts_with("sha256:"));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// Checks that `bytes` hash to this digest; otherwise
    /// [`Error::DigestMismatch`].
    ///
    /// ```
    /// use registry_client::{digest::Digest, ErrorKind};
    /// let d = Digest::sha256(b"hello");
    /// assert!(d.verify(b"hello").is_ok());
    /// assert_eq!(d.verify(b"hullo").unwrap_err().kind(), ErrorKind::DigestMismatch);
    /// ```
    pub fn verify(&self, bytes: &[u8]) -> Result<()> {
        let actual = Digest::compute(self.algorithm, bytes);
        if actual == *self {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                expected: self.full.clone(),
                actual: actual.full,
            })
        }
    }

    /// A streaming [`Hasher`] of this digest's algorithm.
    ///
    /// ```
    /// use registry_client::digest::Digest;
    /// let d = Digest::sha256(b"hello world");
    /// let mut h = d.hasher();
    /// h.update(b"hello ");
    /// h.update(b"world");
    /// assert_eq!(h.finish(), d);
    /// ```
    pub fn hasher(&self) -> Hasher {
        Hasher::new(self.algorithm)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Digest> {
        Digest::parse(s)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.full
    }
}

/// A digest equals its `algorithm:hex` text (results carry `Digest`s where
/// callers often hold strings).
///
/// ```
/// let d = registry_client::Digest::sha256(b"");
/// assert_eq!(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// assert_ne!(d, String::from("sha256:00"));
/// ```
impl PartialEq<str> for Digest {
    fn eq(&self, other: &str) -> bool {
        self.full == other
    }
}

impl PartialEq<&str> for Digest {
    fn eq(&self, other: &&str) -> bool {
        self.full == *other
    }
}

impl PartialEq<String> for Digest {
    fn eq(&self, other: &String) -> bool {
        &self.full == other
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.full)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Digest, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        // The bare message, which `unsupported_reason` gives again.
        parse_digest(&s).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[derive(Clone)]
enum HasherInner {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

/// Incremental hashing of content arriving in pieces.
///
/// ```
/// use registry_client::digest::{Algorithm, Digest, Hasher};
/// let mut h = Hasher::new(Algorithm::Sha256);
/// h.update(b"ab");
/// h.update(b"c");
/// assert_eq!(h.finish(), Digest::sha256(b"abc"));
/// ```
#[derive(Clone)]
pub struct Hasher {
    inner: HasherInner,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Hasher {
        let inner = match algorithm {
            Algorithm::Sha256 => HasherInner::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => HasherInner::Sha512(sha2::Sha512::new()),
        };
        Hasher { inner }
    }

    /// The algorithm in use.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            HasherInner::Sha256(_) => Algorithm::Sha256,
            HasherInner::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Feeds more content.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.inner {
            HasherInner::Sha256(h) => h.update(bytes),
            HasherInner::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self.inner {
            HasherInner::Sha256(h) => (Algorithm::Sha256, hex_encode(&h.finalize())),
            HasherInner::Sha512(h) => (Algorithm::Sha512, hex_encode(&h.finalize())),
        };
        Digest {
            full: format!("{algorithm}:{hex}"),
            algorithm,
        }
    }
}

#[derive(Debug)]
enum State {
    Reading(Hasher),
    Verified,
    Failed { expected: String, actual: String },
}

/// A reader that hashes everything read through it and checks the digest
/// (and optionally the length) when the inner reader reaches EOF.
///
/// On a mismatch, the read that hits EOF — or the read that goes past
/// `expected_len` — fails with an [`io::Error`] of kind
/// [`io::ErrorKind::InvalidData`] whose inner error is
/// [`Error::DigestMismatch`]; every later read fails the same way. Only
/// when `read` has returned `Ok(0)` has the content been verified.
///
/// ```
/// use std::io::Read;
/// use registry_client::{digest::{Digest, VerifyingReader}, Error};
///
/// let blob = b"layer bytes".to_vec();
/// let mut ok = VerifyingReader::new(&blob[..], Digest::sha256(&blob), Some(blob.len() as u64));
/// let mut out = Vec::new();
/// ok.read_to_end(&mut out).unwrap();
/// assert_eq!(out, blob);
///
/// let mut bad = VerifyingReader::new(&b"tampered"[..], Digest::sha256(&blob), None);
/// let err = bad.read_to_end(&mut Vec::new()).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
/// let inner = err.into_inner().unwrap().downcast::<Error>().unwrap();
/// assert!(matches!(*inner, Error::DigestMismatch { .. }));
/// ```
#[derive(Debug)]
pub struct VerifyingReader<R: Read> {
    inner: R,
    expected: Digest,
    expected_len: Option<u64>,
    read: u64,
    state: State,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`, expecting its content to hash to `expected` and, when
    /// given, to be exactly `expected_len` bytes long.
    pub fn new(inner: R, expected: Digest, expected_len: Option<u64>) -> VerifyingReader<R> {
        let hasher = expected.hasher();
        VerifyingReader {
            inner,
            expected,
            expected_len,
            read: 0,
            state: State::Reading(hasher),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Whether EOF was reached and the content matched.
    pub fn is_verified(&self) -> bool {
        matches!(self.state, State::Verified)
    }

    /// The digest being checked against.
    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn expected_label(&self) -> String {
        match self.expected_len {
            Some(n) => format!("{} ({n} bytes)", self.expected),
            None => self.expected.to_string(),
        }
    }

    fn fail(&mut self, actual: String) -> io::Error {
        let expected = self.expected_label();
        self.state = State::Failed {
            expected: expected.clone(),
            actual: actual.clone(),
        };
        mismatch(expected, actual)
    }
}

fn mismatch(expected: String, actual: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        Error::DigestMismatch { expected, actual },
    )
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.state {
            State::Verified => return Ok(0),
            State::Failed { expected, actual } => {
                return Err(mismatch(expected.clone(), actual.clone()))
            }
            State::Reading(_) => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            let State::Reading(hasher) = std::mem::replace(&mut self.state, State::Verified) else {
                return Ok(0);
            };
            let actual = hasher.finish();
            let len_ok = self.expected_len.is_none_or(|want| want == self.read);
            if actual != self.expected || !len_ok {
                let label = if self.expected_len.is_some() {
                    format!("{actual} ({} bytes)", self.read)
                } else {
                    actual.to_string()
                };
                return Err(self.fail(label));
            }
            return Ok(0);
        }
        let n = n.min(buf.len());
        self.read = self.read.saturating_add(n as u64);
        if let Some(want) = self.expected_len {
            if self.read > want {
                let actual = format!("more than {want} bytes (at least {})", self.read);
                return Err(self.fail(actual));
            }
        }
        if let State::Reading(hasher) = &mut self.state {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const HELLO: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    const EMPTY_256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn known_vectors() {
        assert_eq!(Digest::sha256(b"hello").as_str(), HELLO);
        assert_eq!(Digest::sha256(b"").as_str(), EMPTY_256);
        assert_eq!(
            Digest::compute(Algorithm::Sha512, b"abc").hex(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn parse_roundtrip() {
        let d = Digest::parse(HELLO).unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.hex(), &HELLO[7..]);
        assert_eq!(d.to_string(), HELLO);
        assert_eq!(HELLO.parse::<Digest>().unwrap(), d);
        let s512 = format!("sha512:{}", "0".repeat(128));
        assert_eq!(Digest::parse(&s512).unwrap().algorithm(), Algorithm::Sha512);
    }

    #[test]
    fn parse_rejects_invalid() {
        let cases = [
            "".to_string(),
            ":".to_string(),
            "sha256".to_string(),
            "sha256:".to_string(),
            format!(":{}", "a".repeat(64)),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("sha256:{}", "a".repeat(65)),
            format!("sha256:{}g", "a".repeat(63)),
            format!("SHA256:{}", "a".repeat(64)),
            format!("sha256:{}:", "a".repeat(64)),
            format!("sha256: {}", "a".repeat(63)),
            format!("sha512:{}", "a".repeat(64)),
            format!("sha256:{}é", "a".repeat(62)),
            "sha256:\u{0}".to_string(),
            "a..b:abc".to_string(),
            "-sha:abc".to_string(),
            "blake3:a b".to_string(),
            "x".repeat(1 << 20),
        ];
        for c in &cases {
            let e = Digest::parse(c).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{c:.80}");
            // messages never carry huge input
            assert!(e.to_string().len() < 300, "{}", e);
        }
        let e = Digest::parse(&format!("sha256:{}", "A".repeat(64))).unwrap_err();
        assert!(e.to_string().contains("lowercase"), "{e}");
        let e = Digest::parse("sha256:abc").unwrap_err();
        assert!(e.to_string().contains("64"), "{e}");
    }

    #[test]
    fn parse_unsupported_algorithms() {
        for c in [
            "sha384:abcd",
            "blake3:ABCD",
            "multihash+base58:QmRZ",
            "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
        ] {
            let e = Digest::parse(c).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{c}");
        }
    }

    #[test]
    fn unsupported_reasons() {
        let sha1 = format!("sha1:{}", "a".repeat(40));
        let why = unsupported_reason(&sha1).unwrap();
        assert!(why.contains("\"sha1\""), "{why}");
        // the deserializer fails with exactly that message
        let e = serde_json::from_str::<Digest>(&format!("\"{sha1}\"")).unwrap_err();
        assert!(e.to_string().starts_with(&why), "{e}");
        for not in [HELLO, "sha1:", "sha1:a b", "SHA1:abc", "sha256:abc", "x"] {
            assert_eq!(unsupported_reason(not), None, "{not}");
        }
    }

    #[test]
    fn verify_and_mismatch() {
        let d = Digest::parse(HELLO).unwrap();
        d.verify(b"hello").unwrap();
        match d.verify(b"world").unwrap_err() {
            Error::DigestMismatch { expected, actual } => {
                assert_eq!(expected, HELLO);
                assert_eq!(actual, Digest::sha256(b"world").to_string());
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn serde_roundtrip_and_validation() {
        let d = Digest::sha256(b"x");
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(j, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&j).unwrap(), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:nothex\"").is_err());
        assert!(serde_json::from_str::<Digest>("42").is_err());
        // escaped strings (not borrowable) also work
        let esc = format!("\"sha256\\u003a{}\"", d.hex());
        assert_eq!(serde_json::from_str::<Digest>(&esc).unwrap(), d);
    }

    /// The small accessors and comparisons (their doc examples are not
    /// part of the library's unit tests).
    #[test]
    fn accessors_and_comparisons() {
        assert_eq!(Algorithm::Sha256.to_string(), "sha256");
        assert_eq!(Algorithm::Sha512.to_string(), "sha512");
        assert_eq!(Algorithm::Sha256.hex_len(), 64);
        assert_eq!(Algorithm::Sha512.hex_len(), 128);
        let d = Digest::sha256(b"hello");
        let other = Digest::sha256(b"world");
        assert!(d == *HELLO);
        assert!(d != *other.as_str());
        assert!(d == HELLO);
        assert!(d != other.as_str());
        let (same, different) = (HELLO.to_owned(), other.to_string());
        assert!(d == same);
        assert!(d != different);
        assert_eq!(AsRef::<str>::as_ref(&d), HELLO);
        let h = Hasher::new(Algorithm::Sha512);
        assert!(format!("{h:?}").contains("Sha512"), "{h:?}");
        let r = VerifyingReader::new(&b"hello"[..], d.clone(), None);
        assert_eq!(r.expected(), &d);
        assert_eq!(r.into_inner(), b"hello");
    }

    #[test]
    fn hasher_streams() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let mut h = Hasher::new(alg);
            assert_eq!(h.algorithm(), alg);
            for chunk in data.chunks(777) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), Digest::compute(alg, &data));
        }
    }

    /// A reader yielding at most `chunk` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn inner_error(e: io::Error) -> Error {
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        *e.into_inner().unwrap().downcast::<Error>().unwrap()
    }

    #[test]
    fn verifying_reader_ok() {
        let data = vec![7u8; 10_000];
        let d = Digest::sha256(&data);
        for len in [None, Some(10_000)] {
            let mut r = VerifyingReader::new(
                Trickle {
                    data: &data,
                    chunk: 333,
                },
                d.clone(),
                len,
            );
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, data);
            assert!(r.is_verified());
            assert_eq!(r.bytes_read(), 10_000);
            // reads after EOF keep returning 0
            assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);
        }
    }

    #[test]
    fn verifying_reader_empty_buffer_is_not_eof() {
        let d = Digest::sha256(b"abc");
        let mut r = VerifyingReader::new(&b"abc"[..], d, None);
        assert_eq!(r.read(&mut []).unwrap(), 0);
        assert!(!r.is_verified());
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn verifying_reader_digest_mismatch() {
        let d = Digest::sha256(b"expected");
        let mut r = VerifyingReader::new(&b"other"[..], d.clone(), None);
        let e = inner_error(r.read_to_end(&mut Vec::new()).unwrap_err());
        assert!(matches!(e, Error::DigestMismatch { ref expected, .. } if d == *expected));
        // sticky
        let e2 = inner_error(r.read(&mut [0u8; 4]).unwrap_err());
        assert_eq!(e2.to_string(), e.to_string());
        assert!(!r.is_verified());
    }

    #[test]
    fn verifying_reader_short_and_long() {
        let data = b"0123456789";
        let d = Digest::sha256(data);
        // right digest, wrong announced length (too short content)
        let mut r = VerifyingReader::new(&data[..], d.clone(), Some(11));
        let e = inner_error(r.read_to_end(&mut Vec::new()).unwrap_err());
        assert!(e.to_string().contains("(11 bytes)"), "{e}");
        assert!(e.to_string().contains("(10 bytes)"), "{e}");
        // more than expected: fails as soon as the excess arrives
        let mut r = VerifyingReader::new(&data[..], d.clone(), Some(4));
        let mut buf = [0u8; 3];
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        let e = inner_error(r.read(&mut buf).unwrap_err());
        assert!(e.to_string().contains("more than 4 bytes"), "{e}");
        // zero expected length
        let mut r = VerifyingReader::new(&b""[..], Digest::sha256(b""), Some(0));
        assert_eq!(r.read_to_end(&mut Vec::new()).unwrap(), 0);
        assert!(r.is_verified());
    }

    #[test]
    fn verifying_reader_propagates_io_errors() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let mut r = VerifyingReader::new(Broken, Digest::sha256(b""), None);
        let e = r.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        assert!(!r.is_verified());
    }
}
